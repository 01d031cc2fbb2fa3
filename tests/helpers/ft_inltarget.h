/*
** ft_inltarget.h — shared by the inline helpers ft_inltarget.c and
** ft_inltarget_cxx.cpp (run by unit_symbolize): an allocation-like function
** that captures its return address, a record of the inline chain each call
** site expects, the output format, and ft_inl_leaf, an always_inline
** function defined here so that its code's file (this header) differs from
** the file it is inlined into. Output:
**
**   pid <pid>
**   frame <hex ip> <file> <line> <function>      (the symbols row expected)
**   inline <file> <line> <function>              (its inline_frames, level 1 up)
**   maps
**   <the /proc/self/maps text>
**
** file is a base name; function is the rest of the line (C++ names have
** spaces).
*/
#ifndef FT_INLTARGET_H
#define FT_INLTARGET_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A call site: its return address and, innermost first, the function,
** file and line each level of the chain is at. */
typedef struct ft_inl_level {
  const char *file, *function;
  int line;
} ft_inl_level;

typedef struct ft_inl_site {
  uintptr_t ip;
  int n;
  ft_inl_level lv[8];
} ft_inl_site;

/* noipa: no clone, no IPA-changed convention: a plain call, whose return
** address is in the (inlined) caller's code. */
#if defined(__GNUC__) && !defined(__clang__)
#define FT_INL_OPAQUE __attribute__((noinline, noipa))
#else
#define FT_INL_OPAQUE __attribute__((noinline))
#endif

/* The allocation function of the sites: stores its return address in s. */
static FT_INL_OPAQUE void *ft_inl_alloc(size_t n, ft_inl_site *s) {
  s->ip = (uintptr_t)__builtin_return_address(0);
  return malloc(n);
}

/* Record the next level outward of s. Called on the line of the call it
** describes, after it: the chain's levels return innermost first. */
static inline void ft_inl_note(ft_inl_site *s, const char *file, int line, const char *function) {
  if (s->n < 8) {
    s->lv[s->n].file = file;
    s->lv[s->n].line = line;
    s->lv[s->n].function = function;
    s->n++;
  }
  __asm__ volatile("" : : "r"(s) : "memory"); /* no tail call, no reordering */
}

#define FT_INL_NOTE(s, function) ft_inl_note((s), __FILE__, __LINE__, (function))

/* Inlined into each caller, from this header. */
static inline __attribute__((always_inline)) void *ft_inl_leaf(size_t n, ft_inl_site *s) {
  void *p = ft_inl_alloc(n, s); FT_INL_NOTE(s, "ft_inl_leaf");
  return p;
}

static const char *ft_inl_base(const char *path) {
  const char *b = strrchr(path, '/');
  return b ? b + 1 : path;
}

/* Print the pid, the sites and the maps in the format above. */
static int ft_inl_report(const ft_inl_site *sites, int n) {
  printf("pid %ld\n", (long)getpid());
  for (int i = 0; i < n; i++) {
    const ft_inl_site *s = &sites[i];
    for (int j = 0; j < s->n; j++) {
      if (j == 0) printf("frame %" PRIxPTR " ", s->ip);
      else printf("inline ");
      printf("%s %d %s\n", ft_inl_base(s->lv[j].file), s->lv[j].line, s->lv[j].function);
    }
  }
  printf("maps\n");
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 1;
  char buf[4096];
  size_t k;
  while ((k = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, k, stdout);
  fclose(f);
  return 0;
}

#endif
