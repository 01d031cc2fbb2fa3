/*
** ft_sites.c — call sites of a trace (see ft_sites.h): one query loads every
** stack with its frames and symbols; strings are interned, so a trace with
** many stacks through the same functions stays small in memory.
*/
#include "ft_sites.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string interning ---------------------------------------------------- */

typedef struct intern {
  char **slots; /* open addressing, power-of-two size */
  size_t cap, used;
} intern;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The interned copy of s (NULL stays NULL); NULL on out-of-memory. */
static const char *intern_str(intern *in, const char *s, int *oom) {
  if (!s) return NULL;
  if (in->used * 2 >= in->cap) {
    size_t ncap = in->cap ? in->cap * 2 : 1024;
    char **n = calloc(ncap, sizeof *n);
    if (!n) {
      *oom = 1;
      return NULL;
    }
    for (size_t i = 0; i < in->cap; i++)
      if (in->slots[i]) {
        size_t j = hash_str(in->slots[i]) & (ncap - 1);
        while (n[j]) j = (j + 1) & (ncap - 1);
        n[j] = in->slots[i];
      }
    free(in->slots);
    in->slots = n;
    in->cap = ncap;
  }
  size_t j = hash_str(s) & (in->cap - 1);
  while (in->slots[j]) {
    if (!strcmp(in->slots[j], s)) return in->slots[j];
    j = (j + 1) & (in->cap - 1);
  }
  if (!(in->slots[j] = strdup(s))) {
    *oom = 1;
    return NULL;
  }
  in->used++;
  return in->slots[j];
}

static void intern_free(intern *in) {
  for (size_t i = 0; i < in->cap; i++) free(in->slots[i]);
  free(in->slots);
}

/* ---- the loaded trace ----------------------------------------------------- */

struct ft_sites {
  ft_stack_info *stacks; /* sorted by stack_id */
  size_t nstacks;
  ft_frame *frames;      /* all frames, stacks point into it */
  size_t nframes;
  intern strings;
};

static const char *base_name(const char *path) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  return slash ? slash + 1 : path;
}

int ft_frame_is_wrapper(const ft_frame *f) {
  static const char *const modules[] = {"libc.so", "libc-", "ld-linux", "libstdc++.so", "libfragtrace.so",
                                        "libgcc_s.so"};
  static const char *const functions[] = {"malloc", "calloc", "realloc", "reallocarray", "free",
                                          "posix_memalign", "aligned_alloc", "memalign", "valloc",
                                          "pvalloc", "mmap", "mmap64", "mremap"};
  const char *m = base_name(f->module);
  if (m)
    for (size_t i = 0; i < sizeof modules / sizeof *modules; i++)
      if (!strncmp(m, modules[i], strlen(modules[i]))) return 1;
  if (f->function) {
    if (!strncmp(f->function, "operator new", 12) || !strncmp(f->function, "operator delete", 15)) return 1;
    for (size_t i = 0; i < sizeof functions / sizeof *functions; i++)
      if (!strcmp(f->function, functions[i])) return 1;
  }
  return 0;
}

const char *ft_frame_label(const ft_frame *f, char *buf, size_t cap) {
  if (f->function && f->file && f->line > 0)
    snprintf(buf, cap, "%s (%s:%d)", f->function, base_name(f->file), f->line);
  else if (f->function && f->module)
    snprintf(buf, cap, "%s (%s)", f->function, base_name(f->module));
  else if (f->function)
    snprintf(buf, cap, "%s", f->function);
  else if (f->module)
    snprintf(buf, cap, "0x%" PRIx64 " (%s)", f->ip, base_name(f->module));
  else
    snprintf(buf, cap, "0x%" PRIx64, f->ip);
  return buf;
}

/* Identity of a frame that survives a rebuild: names and lines, never addresses. */
static const char *frame_key(const ft_frame *f, char *buf, size_t cap) {
  if (f->function)
    snprintf(buf, cap, "%s|%s:%d", f->function, f->file ? base_name(f->file) : base_name(f->module) ? base_name(f->module) : "?",
             f->line);
  else
    snprintf(buf, cap, "?|%s", f->module ? base_name(f->module) : "?");
  return buf;
}

static int matches_skip(const ft_frame *f, const char *const *skip, int nskip) {
  if (!f->function) return 0;
  for (int i = 0; i < nskip; i++)
    if (fnmatch(skip[i], f->function, 0) == 0) return 1;
  return 0;
}

/* Choose each stack's site frame and make its label and key. */
static int finish_stacks(ft_sites *s, const char *const *skip, int nskip) {
  int oom = 0;
  char buf[4096];
  for (size_t i = 0; i < s->nstacks && !oom; i++) {
    ft_stack_info *st = &s->stacks[i];
    st->site = 0;
    for (int k = 0; k < st->nframes; k++)
      if (!ft_frame_is_wrapper(&st->frames[k]) && !matches_skip(&st->frames[k], skip, nskip)) {
        st->site = k;
        break;
      }
    if (st->nframes == 0) {
      st->label = intern_str(&s->strings, "(no stack)", &oom);
      st->key = st->label;
      continue;
    }
    st->label = intern_str(&s->strings, ft_frame_label(&st->frames[st->site], buf, sizeof buf), &oom);
    st->key = intern_str(&s->strings, frame_key(&st->frames[st->site], buf, sizeof buf), &oom);
  }
  return oom ? -1 : 0;
}

ft_sites *ft_sites_load(sqlite3 *db, const char *const *skip, int nskip, char *err, size_t errlen) {
  static const char sql[] =
      "SELECT s.stack_id, s.proc, f.ip, y.function, y.file, y.line, y.module "
      "FROM stacks s LEFT JOIN stack_frames f ON f.stack_id = s.stack_id "
      "LEFT JOIN symbols y ON y.proc = s.proc AND y.ip = f.ip "
      "ORDER BY s.stack_id, f.depth";
  ft_sites *s = calloc(1, sizeof *s);
  sqlite3_stmt *q = NULL;
  if (!s) goto oom;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "reading stacks: %s", sqlite3_errmsg(db));
    ft_sites_free(s);
    return NULL;
  }
  size_t cap_st = 0, cap_fr = 0;
  int oom = 0, rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(q, 0);
    if (s->nstacks == 0 || s->stacks[s->nstacks - 1].stack_id != id) {
      if (s->nstacks == cap_st) {
        cap_st = cap_st ? cap_st * 2 : 256;
        ft_stack_info *n = realloc(s->stacks, cap_st * sizeof *n);
        if (!n) goto oom;
        s->stacks = n;
      }
      ft_stack_info *st = &s->stacks[s->nstacks++];
      memset(st, 0, sizeof *st);
      st->stack_id = id;
      st->proc = sqlite3_column_int64(q, 1);
      st->frames = (const ft_frame *)(uintptr_t)s->nframes; /* an index until frames stop moving */
    }
    if (sqlite3_column_type(q, 2) == SQLITE_NULL) continue; /* a stack with no frames */
    if (s->nframes == cap_fr) {
      cap_fr = cap_fr ? cap_fr * 2 : 4096;
      ft_frame *n = realloc(s->frames, cap_fr * sizeof *n);
      if (!n) goto oom;
      s->frames = n;
    }
    ft_frame *f = &s->frames[s->nframes++];
    f->ip = (uint64_t)sqlite3_column_int64(q, 2);
    f->function = intern_str(&s->strings, (const char *)sqlite3_column_text(q, 3), &oom);
    f->file = intern_str(&s->strings, (const char *)sqlite3_column_text(q, 4), &oom);
    f->line = sqlite3_column_int(q, 5);
    f->module = intern_str(&s->strings, (const char *)sqlite3_column_text(q, 6), &oom);
    if (oom) goto oom;
    s->stacks[s->nstacks - 1].nframes++;
  }
  if (rc != SQLITE_DONE) {
    snprintf(err, errlen, "reading stacks: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    ft_sites_free(s);
    return NULL;
  }
  sqlite3_finalize(q);
  q = NULL;
  for (size_t i = 0; i < s->nstacks; i++) s->stacks[i].frames = s->frames + (uintptr_t)s->stacks[i].frames;
  if (finish_stacks(s, skip, nskip) != 0) goto oom;
  return s;
oom:
  snprintf(err, errlen, "out of memory reading stacks");
  sqlite3_finalize(q);
  ft_sites_free(s);
  return NULL;
}

const ft_stack_info *ft_sites_stack(const ft_sites *s, int64_t stack_id) {
  size_t lo = 0, hi = s->nstacks;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->stacks[mid].stack_id < stack_id) lo = mid + 1;
    else hi = mid;
  }
  return lo < s->nstacks && s->stacks[lo].stack_id == stack_id ? &s->stacks[lo] : NULL;
}

const ft_stack_info *ft_sites_all(const ft_sites *s, size_t *n) {
  *n = s->nstacks;
  return s->stacks;
}

void ft_sites_free(ft_sites *s) {
  if (!s) return;
  free(s->stacks);
  free(s->frames);
  intern_free(&s->strings);
  free(s);
}
