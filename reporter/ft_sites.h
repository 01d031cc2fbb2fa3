/*
** ft_sites.h — the call sites of a trace, for every report and export: each
** stack's frames with their symbols (inline-aware), and its *site*: the
** innermost frame outside allocation wrappers (the shim, libc, the C++
** runtime's operator new, and the user's own --skip patterns).
*/
#ifndef FT_SITES_H
#define FT_SITES_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ft_frame {
  uint64_t ip;          /* return address as unwound */
  const char *function; /* demangled, innermost inlined; NULL if unknown */
  const char *file;     /* source file, NULL if unknown */
  int line;             /* 0 if unknown */
  const char *module;   /* ELF path, NULL if unknown */
} ft_frame;

typedef struct ft_stack_info {
  int64_t stack_id;
  int64_t proc;
  int nframes;
  const ft_frame *frames; /* [0] innermost */
  int site;               /* index of the site frame in frames (0 when all are wrappers) */
  const char *label;      /* "function (file:line)", or "function (module)", or "module+0xoff" / "0xip" */
  const char *key;        /* identity across traces: "function@file:line" or "function@module", addresses never */
} ft_stack_info;

typedef struct ft_sites ft_sites;

/* Load every stack of the trace with its frames and symbols. Frames whose
** function matches one of skip[0..nskip) (fnmatch(3) patterns, e.g.
** "xmalloc" or "my_alloc_*") count as wrappers too. Returns NULL with a
** one-line message in err on failure. */
ft_sites *ft_sites_load(sqlite3 *db, const char *const *skip, int nskip, char *err, size_t errlen);

/* The stack with this id, or NULL when the trace has none. */
const ft_stack_info *ft_sites_stack(const ft_sites *s, int64_t stack_id);

/* All stacks, ordered by stack_id. */
const ft_stack_info *ft_sites_all(const ft_sites *s, size_t *n);

/* Label of one frame: "function (file:line)" and the like, into buf. */
const char *ft_frame_label(const ft_frame *f, char *buf, size_t cap);

/* Is this frame an allocation wrapper (without the user's --skip)? */
int ft_frame_is_wrapper(const ft_frame *f);

void ft_sites_free(ft_sites *s);

#endif
