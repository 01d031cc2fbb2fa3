/*
** ft_export_data.c — a trace as the exports and diff read it (see
** ft_export_data.h).
**
** Without summary tables the numbers come from one pass over
** allocation_rows in rowid order: every image keeps its own sweep (a
** min-heap of the free times of its live blocks), since rows of one image
** are in allocation order (by t_alloc) but images need not be contiguous.
** An image whose rows turn out not to be sorted by t_alloc is swept again
** on its own with ORDER BY t_alloc (SQLite sorts it; never seen in
** practice, the importer writes rows in timestamp order). Memory is
** proportional to the live blocks, not to the trace.
**
** Byte-sampled traces (issue 5): every row counts with its weight
** (allocation_rows.weight, NULL = 1). The scans keep counts and bytes in
** fixed point (units of 2^-FT_WEIGHT_SHIFT; the stored weights are exact
** multiples) and round each total once at the end, as the importer's
** summary tables do, so both paths give the same numbers.
*/
#include "ft_export_data.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_db.h"
#include "ft_import_frag.h" /* FT_WEIGHT_ONE, ft_weight_round */

typedef struct inl {
  int64_t proc;
  uint64_t ip;
  int level;
  char *function, *file;
  int line;
} inl;

/* Pending free of a live block (the sweep's min-heap). */
typedef struct pend {
  int64_t t_free, size; /* size: weighted bytes, fixed point */
  int64_t w;            /* the row's weight, fixed point */
} pend;

/* Sweep state of one image. */
typedef struct sweep {
  pend *heap;
  size_t n, cap;
  int64_t t;           /* time of the allocation group being applied (when started) */
  int started;         /* a row was applied */
  int64_t live_b, live_n, alloc_b; /* fixed point */
  int unsorted;        /* rows went back in time: redo this image sorted */
  ft_xpoint *slices;   /* 2 * FT_X_SLICES, t_ns < 0 while empty (FT_X_TIMELINE only): */
                       /* [0, FT_X_SLICES) by time, then by bytes allocated */
  int64_t bytes_width; /* bytes allocated per slice of the second half; doubles as needed */
} sweep;

struct ft_xtrace {
  sqlite3 *db;
  ft_sites *sites;
  const ft_stack_info *stacks;
  size_t nstacks;
  ft_xstack *st; /* nstacks + 1 */
  ft_ximage *img;
  size_t nimg;
  int64_t short_lived_ns;
  char *command;
  int from_summaries;
  int64_t sample_bytes; /* see ft_xtrace_sample_bytes */
  int has_weight; /* allocation_rows has the weight column (traces before issue 5 do not) */
  unsigned flags;
  /* stack_id -> index: dense table over [id_lo, id_lo + nidx) */
  int64_t id_lo;
  uint32_t *idx;
  size_t nidx;
  /* thread key -> image index + 1 (0: not selected) */
  uint32_t *thr;
  size_t nthr;
  inl *inl;
  size_t ninl;
  ft_xmap *maps;
  uint64_t *map_base; /* per mapping: load base of its file (min start - offset) */
  size_t nmaps;
  ft_xframe *fbuf;
  size_t fcap;
  ft_xpoint **timeline; /* per image and axis (2 i + axis), compacted */
  size_t *ntimeline;
  int have_axis[2];     /* timeline holds this axis for every image */
};

/* ---- small helpers ---------------------------------------------------------- */

static char *dup_col(sqlite3_stmt *q, int col, int *oom) {
  const unsigned char *s = sqlite3_column_text(q, col);
  if (!s) return NULL;
  char *d = strdup((const char *)s);
  if (!d) *oom = 1;
  return d;
}

static int sql_fail(ft_xtrace *x, const char *what, char *err, size_t errlen) {
  snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(x->db));
  return -1;
}

static int table_exists(sqlite3 *db, const char *name) {
  sqlite3_stmt *q = NULL;
  int yes = 0;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &q, NULL) ==
      SQLITE_OK) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    yes = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return yes;
}

/* Index of stack_id among the stacks, nstacks when unknown (or NULL, read
** as -1). */
static size_t stack_index(const ft_xtrace *x, int64_t id) {
  if (id < x->id_lo || (uint64_t)(id - x->id_lo) >= x->nidx) return x->nstacks;
  return x->idx[id - x->id_lo];
}

/* The bulk read of allocation_rows. NULLs come as -1 (lifetimes and stack
** ids are never negative), which saves a call per column and row: each
** sqlite3_column_* call takes the connection's mutex. The last column is
** the row's weight (1.0 when NULL, or in traces without the column). */
#define ROWS_SQL_COLS "SELECT kind_thread >> 3, size, t_alloc, coalesce(lifetime, -1), coalesce(stack_id, -1), "
static const char *rows_sql(const ft_xtrace *x) {
  return x->has_weight ? ROWS_SQL_COLS "coalesce(weight, 1.0) FROM allocation_rows"
                       : ROWS_SQL_COLS "1.0 FROM allocation_rows";
}

/* Fixed-point weight of a stored weight (exact: see the file comment). */
static int64_t weight_fx(double w) {
  double f = w * (double)FT_WEIGHT_ONE;
  return f >= 1.0 && f < 9e18 ? (int64_t)(f + 0.5) : (int64_t)FT_WEIGHT_ONE;
}

/* A fixed-point sum rounded to the nearest integer (non-negative sums). */
static int64_t unfix(int64_t v) { return v > 0 ? (int64_t)ft_weight_round((uint64_t)v) : 0; }

/* Image index of a thread key, or -1 when it is not selected. */
static long image_of_thread(const ft_xtrace *x, int64_t thread) {
  if (thread < 0 || (uint64_t)thread >= x->nthr) return -1;
  return (long)x->thr[thread] - 1;
}

/* ---- loading ---------------------------------------------------------------- */

static int load_meta(ft_xtrace *x, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  int oom = 0;
  x->short_lived_ns = FT_SHORT_LIVED_NS_DEFAULT;
  if (sqlite3_prepare_v2(x->db, "SELECT key, value FROM meta WHERE key IN ('short_lived_ns', 'command')", -1, &q,
                         NULL) != SQLITE_OK)
    return sql_fail(x, "reading meta", err, errlen);
  while (sqlite3_step(q) == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(q, 0);
    if (!k) continue;
    if (!strcmp(k, "short_lived_ns") && sqlite3_column_int64(q, 1) > 0) x->short_lived_ns = sqlite3_column_int64(q, 1);
    if (!strcmp(k, "command") && !x->command) x->command = dup_col(q, 1, &oom);
  }
  sqlite3_finalize(q);
  if (oom) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  return 0;
}

static int load_images(ft_xtrace *x, int pid, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db,
                         "SELECT proc, pid, exe, cmdline, start_unix_ns, coalesce(end_ns, 0) FROM processes "
                         "WHERE ?1 = 0 OR pid = ?1 ORDER BY proc",
                         -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading processes", err, errlen);
  sqlite3_bind_int(q, 1, pid);
  size_t cap = 0;
  int oom = 0, rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (x->nimg == cap) {
      cap = cap ? cap * 2 : 8;
      ft_ximage *n = realloc(x->img, cap * sizeof *n);
      if (!n) {
        oom = 1;
        break;
      }
      x->img = n;
    }
    ft_ximage *m = &x->img[x->nimg++];
    memset(m, 0, sizeof *m);
    m->proc = sqlite3_column_int64(q, 0);
    m->pid = sqlite3_column_int(q, 1);
    m->exe = dup_col(q, 2, &oom);
    m->cmdline = dup_col(q, 3, &oom);
    m->start_unix_ns = sqlite3_column_int64(q, 4);
    m->end_ns = sqlite3_column_int64(q, 5);
    m->peak_ns = -1;
  }
  sqlite3_finalize(q);
  if (oom) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (rc != SQLITE_DONE) return sql_fail(x, "reading processes", err, errlen);
  if (x->nimg == 0) {
    if (pid) snprintf(err, errlen, "no process with pid %d in the trace", pid);
    else snprintf(err, errlen, "the trace has no processes");
    return -1;
  }
  return 0;
}

static long image_index(const ft_xtrace *x, int64_t proc) {
  size_t lo = 0, hi = x->nimg;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->img[mid].proc < proc) lo = mid + 1;
    else hi = mid;
  }
  return lo < x->nimg && x->img[lo].proc == proc ? (long)lo : -1;
}

/* Thread keys of the selected images -> image index + 1. */
static int load_threads(ft_xtrace *x, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db, "SELECT thread, proc FROM threads ORDER BY thread", -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading threads", err, errlen);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(q, 0);
    long i = image_index(x, sqlite3_column_int64(q, 1));
    if (i < 0 || t < 0) continue;
    /* Thread keys are handed out densely by the importer; a gap this large
    ** would be a foreign file. */
    if (t > ((int64_t)1 << 26)) {
      sqlite3_finalize(q);
      snprintf(err, errlen, "thread key %" PRId64 " out of range", t);
      return -1;
    }
    if ((uint64_t)t >= x->nthr) {
      size_t n = (size_t)t + 1 > x->nthr * 2 ? (size_t)t + 1 : x->nthr * 2;
      uint32_t *p = realloc(x->thr, n * sizeof *p);
      if (!p) {
        sqlite3_finalize(q);
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      memset(p + x->nthr, 0, (n - x->nthr) * sizeof *p);
      x->thr = p;
      x->nthr = n;
    }
    x->thr[t] = (uint32_t)i + 1;
  }
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? 0 : sql_fail(x, "reading threads", err, errlen);
}

static int load_stacks(ft_xtrace *x, const char *const *skip, int nskip, char *err, size_t errlen) {
  x->sites = ft_sites_load(x->db, skip, nskip, err, errlen);
  if (!x->sites) return -1;
  x->stacks = ft_sites_all(x->sites, &x->nstacks);
  x->st = calloc(x->nstacks + 1, sizeof *x->st);
  if (!x->st) goto oom;
  if (x->nstacks) {
    x->id_lo = x->stacks[0].stack_id;
    int64_t span = x->stacks[x->nstacks - 1].stack_id - x->id_lo + 1;
    assert(span >= (int64_t)x->nstacks); /* ids are sorted and distinct */
    if (span > ((int64_t)1 << 28)) {
      snprintf(err, errlen, "stack ids out of range");
      return -1;
    }
    x->nidx = (size_t)span;
    x->idx = malloc(x->nidx * sizeof *x->idx);
    if (!x->idx) goto oom;
    for (size_t i = 0; i < x->nidx; i++) x->idx[i] = (uint32_t)x->nstacks;
    for (size_t k = 0; k < x->nstacks; k++) x->idx[x->stacks[k].stack_id - x->id_lo] = (uint32_t)k;
  }
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
  return -1;
}

static int cmp_inl(const void *a, const void *b) {
  const inl *x = a, *y = b;
  if (x->proc != y->proc) return x->proc < y->proc ? -1 : 1;
  if (x->ip != y->ip) return x->ip < y->ip ? -1 : 1;
  return (x->level > y->level) - (x->level < y->level);
}

/* inline_frames of the selected images (absent in traces of older importers). */
static int load_inlines(ft_xtrace *x, char *err, size_t errlen) {
  if (!table_exists(x->db, "inline_frames")) return 0;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db, "SELECT proc, ip, level, function, file, line FROM inline_frames", -1, &q, NULL) !=
      SQLITE_OK)
    return sql_fail(x, "reading inline frames", err, errlen);
  size_t cap = 0;
  int oom = 0, rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t proc = sqlite3_column_int64(q, 0);
    if (image_index(x, proc) < 0) continue;
    if (x->ninl == cap) {
      cap = cap ? cap * 2 : 256;
      inl *n = realloc(x->inl, cap * sizeof *n);
      if (!n) {
        oom = 1;
        break;
      }
      x->inl = n;
    }
    inl *e = &x->inl[x->ninl++];
    e->proc = proc;
    e->ip = (uint64_t)sqlite3_column_int64(q, 1);
    e->level = sqlite3_column_int(q, 2);
    e->function = dup_col(q, 3, &oom);
    e->file = dup_col(q, 4, &oom);
    e->line = sqlite3_column_int(q, 5);
  }
  sqlite3_finalize(q);
  if (oom) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (rc != SQLITE_DONE) return sql_fail(x, "reading inline frames", err, errlen);
  qsort(x->inl, x->ninl, sizeof *x->inl, cmp_inl);
  return 0;
}

static int load_mappings(ft_xtrace *x, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db,
                         "SELECT proc, start, \"end\", file_offset, path, build_id FROM mappings "
                         "WHERE path IS NOT NULL ORDER BY proc, start",
                         -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading mappings", err, errlen);
  size_t cap = 0;
  int oom = 0, rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t proc = sqlite3_column_int64(q, 0);
    if (image_index(x, proc) < 0) continue;
    if (x->nmaps == cap) {
      cap = cap ? cap * 2 : 64;
      ft_xmap *n = realloc(x->maps, cap * sizeof *n);
      if (!n) {
        oom = 1;
        break;
      }
      x->maps = n;
    }
    ft_xmap *m = &x->maps[x->nmaps++];
    m->proc = proc;
    m->start = (uint64_t)sqlite3_column_int64(q, 1);
    m->end = (uint64_t)sqlite3_column_int64(q, 2);
    m->file_offset = (uint64_t)sqlite3_column_int64(q, 3);
    m->path = dup_col(q, 4, &oom);
    m->build_id = dup_col(q, 5, &oom);
  }
  sqlite3_finalize(q);
  if (oom) goto oom;
  if (rc != SQLITE_DONE) return sql_fail(x, "reading mappings", err, errlen);
  /* The load base of a file is where offset 0 would be mapped: the lowest
  ** start - offset of its mappings in the image. */
  x->map_base = calloc(x->nmaps ? x->nmaps : 1, sizeof *x->map_base);
  if (!x->map_base) goto oom;
  for (size_t i = 0; i < x->nmaps; i++) {
    uint64_t base = x->maps[i].start - x->maps[i].file_offset;
    for (size_t j = 0; j < x->nmaps; j++)
      if (x->maps[j].proc == x->maps[i].proc && !strcmp(x->maps[j].path, x->maps[i].path) &&
          x->maps[j].start - x->maps[j].file_offset < base)
        base = x->maps[j].start - x->maps[j].file_offset;
    x->map_base[i] = base;
  }
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
  return -1;
}

/* ---- numbers from the summary tables ------------------------------------------ */

/* Use process_stats/site_stats when every selected image has its row.
** Returns 1 when used, 0 when not available, -1 on error. */
static int load_summaries(ft_xtrace *x, char *err, size_t errlen) {
  if (!table_exists(x->db, "process_stats") || !table_exists(x->db, "site_stats")) return 0;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db,
                         "SELECT proc, allocations, bytes, leaked, leaked_bytes, short_lived, peak_live_bytes, "
                         "peak_live_ns, peak_live_allocations FROM process_stats",
                         -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading process_stats", err, errlen);
  size_t found = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    long i = image_index(x, sqlite3_column_int64(q, 0));
    if (i < 0) continue;
    ft_ximage *m = &x->img[i];
    m->allocations = sqlite3_column_int64(q, 1);
    m->bytes = sqlite3_column_int64(q, 2);
    m->leaked = sqlite3_column_int64(q, 3);
    m->leaked_bytes = sqlite3_column_int64(q, 4);
    m->short_lived = sqlite3_column_int64(q, 5);
    m->peak_bytes = sqlite3_column_int64(q, 6);
    m->peak_ns = sqlite3_column_type(q, 7) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 7);
    m->peak_count = sqlite3_column_int64(q, 8);
    found++;
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_fail(x, "reading process_stats", err, errlen);
  if (found != x->nimg) {
    for (size_t i = 0; i < x->nimg; i++) {
      ft_ximage *m = &x->img[i];
      m->allocations = m->bytes = m->leaked = m->leaked_bytes = m->short_lived = 0;
      m->peak_bytes = m->peak_count = 0;
      m->peak_ns = -1;
    }
    return 0;
  }
  if (sqlite3_prepare_v2(x->db,
                         "SELECT stack_id, proc, allocations, bytes, leaked, leaked_bytes, short_lived, "
                         "live_at_peak_bytes, live_at_peak_count FROM site_stats",
                         -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading site_stats", err, errlen);
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (image_index(x, sqlite3_column_int64(q, 1)) < 0) continue;
    ft_xstack *s = &x->st[sqlite3_column_type(q, 0) == SQLITE_NULL ? x->nstacks
                                                                    : stack_index(x, sqlite3_column_int64(q, 0))];
    s->allocations += sqlite3_column_int64(q, 2);
    s->bytes += sqlite3_column_int64(q, 3);
    s->leaked += sqlite3_column_int64(q, 4);
    s->leaked_bytes += sqlite3_column_int64(q, 5);
    s->short_lived += sqlite3_column_int64(q, 6);
    s->peak_bytes += sqlite3_column_int64(q, 7);
    s->peak_count += sqlite3_column_int64(q, 8);
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_fail(x, "reading site_stats", err, errlen);
  return 1;
}

/* ---- the sweep ---------------------------------------------------------------- */

static void heap_push(sweep *s, pend p) {
  size_t i = s->n++;
  while (i > 0) {
    size_t up = (i - 1) / 2;
    if (s->heap[up].t_free <= p.t_free) break;
    s->heap[i] = s->heap[up];
    i = up;
  }
  s->heap[i] = p;
}

static pend heap_pop(sweep *s) {
  assert(s->n > 0);
  pend top = s->heap[0], last = s->heap[--s->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->n) break;
    if (c + 1 < s->n && s->heap[c + 1].t_free < s->heap[c].t_free) c++;
    if (s->heap[c].t_free >= last.t_free) break;
    s->heap[i] = s->heap[c];
    i = c;
  }
  if (s->n > 0) s->heap[i] = last;
  return top;
}

/* Keep in *slot the higher of itself and p (the earlier on a tie). */
static void keep_max(ft_xpoint *slot, const ft_xpoint *p) {
  if (p->t_ns < 0) return;
  if (slot->t_ns < 0 || p->live_bytes > slot->live_bytes ||
      (p->live_bytes == slot->live_bytes && p->t_ns < slot->t_ns))
    *slot = *p;
}

/* The time slice of instant t in image m. */
static size_t time_slice(const ft_ximage *m, int64_t t) {
  int64_t end = m->end_ns > 0 ? m->end_ns : 1;
  int64_t k = t >= end ? FT_X_SLICES - 1 : (int64_t)((double)t / (double)end * FT_X_SLICES);
  return k < 0 ? 0 : k >= FT_X_SLICES ? FT_X_SLICES - 1 : (size_t)k;
}

/* The live heap of image m is live_b at instant t (all events at t applied). */
static void sw_eval(sweep *s, ft_ximage *m, int64_t t) {
  if (s->live_b > m->peak_bytes) {
    m->peak_bytes = s->live_b;
    m->peak_ns = t;
    m->peak_count = s->live_n;
  }
  if (!s->slices) return;
  ft_xpoint now = {.t_ns = t, .live_bytes = s->live_b, .live_count = s->live_n, .alloc_bytes = s->alloc_b};
  /* by time: the end is known, slices are fixed */
  keep_max(&s->slices[time_slice(m, t)], &now);
  /* by bytes allocated: the total is not known until the end, so when it
  ** outgrows the slices, pairs merge and the width doubles */
  ft_xpoint *b = s->slices + FT_X_SLICES;
  while (s->alloc_b / s->bytes_width >= FT_X_SLICES) {
    for (size_t j = 0; j < FT_X_SLICES / 2; j++) {
      ft_xpoint m2 = b[2 * j];
      keep_max(&m2, &b[2 * j + 1]);
      b[j] = m2;
    }
    for (size_t j = FT_X_SLICES / 2; j < FT_X_SLICES; j++) b[j] = (ft_xpoint){.t_ns = -1};
    s->bytes_width *= 2;
  }
  keep_max(&b[s->alloc_b / s->bytes_width], &now);
}

/* Apply the frees due strictly before t (evaluating after each instant),
** then those due at t (the allocation group at t is evaluated with them). */
static void sw_frees_until(sweep *s, ft_ximage *m, int64_t t, int final) {
  while (s->n > 0 && (s->heap[0].t_free < t || final)) {
    int64_t tf = s->heap[0].t_free;
    while (s->n > 0 && s->heap[0].t_free == tf) {
      pend p = heap_pop(s);
      s->live_b -= p.size;
      s->live_n -= p.w;
    }
    assert(s->live_b >= 0 && s->live_n >= 0);
    sw_eval(s, m, tf);
  }
  while (s->n > 0 && s->heap[0].t_free == t) {
    pend p = heap_pop(s);
    s->live_b -= p.size;
    s->live_n -= p.w;
  }
}

/* One row of image m, in allocation order, of weight w (fixed point).
** lifetime < 0: never freed. Returns -1 when out of memory. */
static int sw_row(sweep *s, ft_ximage *m, int64_t t_alloc, int64_t w, int64_t size, int64_t lifetime) {
  if (s->unsorted) return 0;
  if (s->started && t_alloc < s->t) {
    s->unsorted = 1;
    return 0;
  }
  if (!s->started || t_alloc != s->t) {
    if (s->started) sw_eval(s, m, s->t);
    sw_frees_until(s, m, t_alloc, 0);
    s->t = t_alloc;
    s->started = 1;
  }
  size *= w; /* weighted bytes from here on */
  s->alloc_b += size;
  if (lifetime == 0) return 0; /* live at no instant */
  s->live_b += size;
  s->live_n += w;
  if (lifetime > 0) {
    if (s->n == s->cap) {
      size_t cap = s->cap ? s->cap * 2 : 1024;
      pend *h = realloc(s->heap, cap * sizeof *h);
      if (!h) return -1;
      s->heap = h;
      s->cap = cap;
    }
    heap_push(s, (pend){t_alloc + lifetime, size, w});
  }
  return 0;
}

static void sw_finish(sweep *s, ft_ximage *m) {
  if (s->unsorted) return;
  if (s->started) sw_eval(s, m, s->t);
  sw_frees_until(s, m, 0, 1);
  m->peak_bytes = unfix(m->peak_bytes); /* the sweep's maximum, in fixed point until now */
  m->peak_count = unfix(m->peak_count);
}

static void sw_reset(sweep *s) {
  s->n = 0;
  s->t = 0;
  s->started = 0;
  s->live_b = s->live_n = s->alloc_b = 0;
  s->unsorted = 0;
  s->bytes_width = 1;
  if (s->slices)
    for (size_t k = 0; k < 2 * FT_X_SLICES; k++) s->slices[k] = (ft_xpoint){.t_ns = -1};
}

/* Sweep image i alone, its rows sorted by SQLite. */
static int sweep_sorted(ft_xtrace *x, sweep *s, size_t i, char *err, size_t errlen) {
  ft_ximage *m = &x->img[i];
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db,
                         x->has_weight ? "SELECT size, t_alloc, lifetime, coalesce(weight, 1.0) FROM allocation_rows "
                                         "WHERE (kind_thread >> 3) IN (SELECT thread FROM threads WHERE proc = ?1) "
                                         "ORDER BY t_alloc, id"
                                       : "SELECT size, t_alloc, lifetime, 1.0 FROM allocation_rows "
                                         "WHERE (kind_thread >> 3) IN (SELECT thread FROM threads WHERE proc = ?1) "
                                         "ORDER BY t_alloc, id",
                         -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading allocations", err, errlen);
  sqlite3_bind_int64(q, 1, m->proc);
  sw_reset(s);
  m->peak_bytes = m->peak_count = 0;
  m->peak_ns = -1;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t life = sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2);
    if (sw_row(s, m, sqlite3_column_int64(q, 1), weight_fx(sqlite3_column_double(q, 3)), sqlite3_column_int64(q, 0),
               life) != 0) {
      sqlite3_finalize(q);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_fail(x, "reading allocations", err, errlen);
  assert(!s->unsorted);
  sw_finish(s, m);
  return 0;
}

static void free_timelines(ft_xtrace *x) {
  for (size_t i = 0; x->timeline && i < 2 * x->nimg; i++) free(x->timeline[i]);
  free(x->timeline);
  free(x->ntimeline);
  x->timeline = NULL;
  x->ntimeline = NULL;
  x->have_axis[0] = x->have_axis[1] = 0;
}

/* Keep the non-empty slices of each image as its timeline. */
static int keep_timelines(ft_xtrace *x, sweep *sw) {
  free_timelines(x);
  x->timeline = calloc(2 * x->nimg, sizeof *x->timeline);
  x->ntimeline = calloc(2 * x->nimg, sizeof *x->ntimeline);
  if (!x->timeline || !x->ntimeline) return -1;
  for (size_t i = 0; i < 2 * x->nimg; i++) {
    const ft_xpoint *sl = sw[i / 2].slices + (i % 2) * FT_X_SLICES;
    x->timeline[i] = malloc(FT_X_SLICES * sizeof **x->timeline);
    if (!x->timeline[i]) return -1;
    for (size_t k = 0; k < FT_X_SLICES; k++)
      if (sl[k].t_ns >= 0) {
        ft_xpoint p = sl[k];
        p.live_bytes = unfix(p.live_bytes);
        p.live_count = unfix(p.live_count);
        p.alloc_bytes = unfix(p.alloc_bytes);
        x->timeline[i][x->ntimeline[i]++] = p;
      }
  }
  x->have_axis[FT_X_AXIS_TIME] = x->have_axis[FT_X_AXIS_BYTES] = 1;
  return 0;
}

/* Totals per image and stack, and with FT_X_PEAK or FT_X_TIMELINE the
** images' peaks (a sweep), with FT_X_TIMELINE their timelines, in one pass. */
static int scan_totals(ft_xtrace *x, char *err, size_t errlen) {
  int sweeping = (x->flags & (FT_X_PEAK | FT_X_TIMELINE)) != 0;
  sweep *sw = calloc(x->nimg, sizeof *sw);
  sqlite3_stmt *q = NULL;
  int ret = -1, rc;
  if (!sw) goto oom;
  for (size_t i = 0; i < x->nimg; i++) {
    if (x->flags & FT_X_TIMELINE) {
      sw[i].slices = malloc(2 * FT_X_SLICES * sizeof *sw[i].slices);
      if (!sw[i].slices) goto oom;
    }
    sw_reset(&sw[i]);
  }
  if (sqlite3_prepare_v2(x->db, rows_sql(x), -1, &q, NULL) != SQLITE_OK) {
    sql_fail(x, "reading allocations", err, errlen);
    goto out;
  }
  /* Totals in fixed point until the end of the pass (see the file comment). */
  for (size_t i = 0; i < x->nimg; i++) {
    ft_ximage *m = &x->img[i];
    m->allocations *= FT_WEIGHT_ONE, m->bytes *= FT_WEIGHT_ONE, m->leaked *= FT_WEIGHT_ONE;
    m->leaked_bytes *= FT_WEIGHT_ONE, m->short_lived *= FT_WEIGHT_ONE;
  }
  for (size_t k = 0; k <= x->nstacks; k++) {
    ft_xstack *s = &x->st[k];
    s->allocations *= FT_WEIGHT_ONE, s->bytes *= FT_WEIGHT_ONE, s->leaked *= FT_WEIGHT_ONE;
    s->leaked_bytes *= FT_WEIGHT_ONE, s->short_lived *= FT_WEIGHT_ONE;
  }
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    long i = image_of_thread(x, sqlite3_column_int64(q, 0));
    if (i < 0) continue;
    ft_ximage *m = &x->img[i];
    ft_xstack *s = &x->st[stack_index(x, sqlite3_column_int64(q, 4))];
    int64_t size = sqlite3_column_int64(q, 1), t = sqlite3_column_int64(q, 2);
    int64_t life = sqlite3_column_int64(q, 3);
    int64_t w = weight_fx(sqlite3_column_double(q, 5)), wb = w * size;
    int freed = life >= 0;
    int short_lived = freed && life < x->short_lived_ns;
    m->allocations += w, s->allocations += w;
    m->bytes += wb, s->bytes += wb;
    if (!freed) m->leaked += w, s->leaked += w, m->leaked_bytes += wb, s->leaked_bytes += wb;
    if (short_lived) m->short_lived += w, s->short_lived += w;
    if (sweeping && sw_row(&sw[i], m, t, w, size, life) != 0) goto oom;
  }
  if (rc != SQLITE_DONE) {
    sql_fail(x, "reading allocations", err, errlen);
    goto out;
  }
  sqlite3_finalize(q);
  q = NULL;
  for (size_t i = 0; i < x->nimg; i++) {
    ft_ximage *m = &x->img[i];
    m->allocations = unfix(m->allocations), m->bytes = unfix(m->bytes), m->leaked = unfix(m->leaked);
    m->leaked_bytes = unfix(m->leaked_bytes), m->short_lived = unfix(m->short_lived);
  }
  for (size_t k = 0; k <= x->nstacks; k++) {
    ft_xstack *s = &x->st[k];
    s->allocations = unfix(s->allocations), s->bytes = unfix(s->bytes), s->leaked = unfix(s->leaked);
    s->leaked_bytes = unfix(s->leaked_bytes), s->short_lived = unfix(s->short_lived);
  }
  for (size_t i = 0; sweeping && i < x->nimg; i++) {
    if (sw[i].unsorted) {
      if (sweep_sorted(x, &sw[i], i, err, errlen) != 0) goto out;
    } else {
      sw_finish(&sw[i], &x->img[i]);
    }
  }
  if ((x->flags & FT_X_TIMELINE) && keep_timelines(x, sw) != 0) goto oom;
  ret = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  sqlite3_finalize(q);
  for (size_t i = 0; sw && i < x->nimg; i++) {
    free(sw[i].heap);
    free(sw[i].slices);
  }
  free(sw);
  return ret;
}

/* Live bytes and counts per stack at per-image instants, in one pass.
** inst[i] (ninst[i] ascending) for image i; bytes[i]/counts[i] (either may
** be NULL) are ninst[i] * (nstacks + 1). */
static int scan_live(ft_xtrace *x, int64_t *const *inst, const size_t *ninst, int64_t *const *bytes,
                     int64_t *const *counts, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(x->db, rows_sql(x), -1, &q, NULL) != SQLITE_OK)
    return sql_fail(x, "reading allocations", err, errlen);
  size_t w = x->nstacks + 1;
  /* The caller's sums (zeros, normally) into fixed point for the pass. */
  for (size_t i = 0; i < x->nimg; i++)
    for (size_t j = 0; j < ninst[i] * w; j++) {
      if (bytes[i]) bytes[i][j] *= FT_WEIGHT_ONE;
      if (counts && counts[i]) counts[i][j] *= FT_WEIGHT_ONE;
    }
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    long i = image_of_thread(x, sqlite3_column_int64(q, 0));
    if (i < 0 || ninst[i] == 0) continue;
    int64_t t = sqlite3_column_int64(q, 2);
    const int64_t *in = inst[i];
    size_t lo = 0, hi = ninst[i];
    while (lo < hi) { /* first instant >= t_alloc */
      size_t mid = lo + (hi - lo) / 2;
      if (in[mid] < t) lo = mid + 1;
      else hi = mid;
    }
    if (lo == ninst[i]) continue;
    int64_t life = sqlite3_column_int64(q, 3);
    int64_t t_free = life >= 0 ? t + life : INT64_MAX;
    if (in[lo] >= t_free) continue;
    size_t k = stack_index(x, sqlite3_column_int64(q, 4));
    int64_t wt = weight_fx(sqlite3_column_double(q, 5)), size = wt * sqlite3_column_int64(q, 1);
    for (size_t j = lo; j < ninst[i] && in[j] < t_free; j++) {
      if (bytes[i]) bytes[i][j * w + k] += size;
      if (counts && counts[i]) counts[i][j * w + k] += wt;
    }
  }
  sqlite3_finalize(q);
  for (size_t i = 0; i < x->nimg; i++)
    for (size_t j = 0; j < ninst[i] * w; j++) {
      if (bytes[i]) bytes[i][j] = unfix(bytes[i][j]);
      if (counts && counts[i]) counts[i][j] = unfix(counts[i][j]);
    }
  return rc == SQLITE_DONE ? 0 : sql_fail(x, "reading allocations", err, errlen);
}

/* ft_xstack.peak_* : live per stack at each image's own peak. */
static int scan_peaks(ft_xtrace *x, char *err, size_t errlen) {
  size_t w = x->nstacks + 1;
  int64_t **inst = calloc(x->nimg, sizeof *inst), **b = calloc(x->nimg, sizeof *b), **c = calloc(x->nimg, sizeof *c);
  size_t *n = calloc(x->nimg, sizeof *n);
  int ret = -1;
  if (!inst || !b || !c || !n) goto oom;
  for (size_t i = 0; i < x->nimg; i++) {
    if (x->img[i].peak_ns < 0) continue;
    inst[i] = malloc(sizeof **inst);
    b[i] = calloc(w, sizeof **b);
    c[i] = calloc(w, sizeof **c);
    if (!inst[i] || !b[i] || !c[i]) goto oom;
    inst[i][0] = x->img[i].peak_ns;
    n[i] = 1;
  }
  if (scan_live(x, inst, n, b, c, err, errlen) != 0) goto out;
  for (size_t i = 0; i < x->nimg; i++)
    for (size_t k = 0; n[i] && k < w; k++) {
      x->st[k].peak_bytes += b[i][k];
      x->st[k].peak_count += c[i][k];
    }
  ret = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  for (size_t i = 0; i < x->nimg; i++) {
    if (inst) free(inst[i]);
    if (b) free(b[i]);
    if (c) free(c[i]);
  }
  free(inst);
  free(b);
  free(c);
  free(n);
  return ret;
}

/* The time axis from the importer's heap_timeline (finer slices than ours:
** the maximum of the points in each of our slices is that slice's maximum).
** Returns 1 when every image with allocations has points, 0 when not, -1 on
** error. */
static int load_heap_timeline(ft_xtrace *x, char *err, size_t errlen) {
  if (!x->from_summaries || !table_exists(x->db, "heap_timeline")) return 0;
  ft_xpoint *sl = malloc(x->nimg * FT_X_SLICES * sizeof *sl);
  sqlite3_stmt *q = NULL;
  int ret = -1, rc;
  if (!sl) goto oom;
  for (size_t k = 0; k < x->nimg * FT_X_SLICES; k++) sl[k] = (ft_xpoint){.t_ns = -1};
  if (sqlite3_prepare_v2(x->db, "SELECT proc, t_ns, live_bytes, live_allocations FROM heap_timeline", -1, &q,
                         NULL) != SQLITE_OK) {
    sql_fail(x, "reading heap_timeline", err, errlen);
    goto out;
  }
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    long i = image_index(x, sqlite3_column_int64(q, 0));
    if (i < 0) continue;
    ft_xpoint p = {.t_ns = sqlite3_column_int64(q, 1), .live_bytes = sqlite3_column_int64(q, 2),
                   .live_count = sqlite3_column_int64(q, 3)};
    keep_max(&sl[(size_t)i * FT_X_SLICES + time_slice(&x->img[i], p.t_ns)], &p);
  }
  if (rc != SQLITE_DONE) {
    sql_fail(x, "reading heap_timeline", err, errlen);
    goto out;
  }
  for (size_t i = 0; i < x->nimg; i++) {
    size_t n = 0;
    for (size_t k = 0; k < FT_X_SLICES; k++) n += sl[i * FT_X_SLICES + k].t_ns >= 0;
    if (n == 0 && x->img[i].allocations > 0) {
      ret = 0; /* incomplete: an older importer, or a foreign tool */
      goto out;
    }
  }
  free_timelines(x);
  x->timeline = calloc(2 * x->nimg, sizeof *x->timeline);
  x->ntimeline = calloc(2 * x->nimg, sizeof *x->ntimeline);
  if (!x->timeline || !x->ntimeline) goto oom;
  for (size_t i = 0; i < x->nimg; i++) {
    ft_xpoint *t = malloc(FT_X_SLICES * sizeof *t);
    if (!t) goto oom;
    x->timeline[2 * i] = t;
    for (size_t k = 0; k < FT_X_SLICES; k++)
      if (sl[i * FT_X_SLICES + k].t_ns >= 0) t[x->ntimeline[2 * i]++] = sl[i * FT_X_SLICES + k];
  }
  x->have_axis[FT_X_AXIS_TIME] = 1;
  ret = 1;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  sqlite3_finalize(q);
  free(sl);
  return ret;
}

/* Compute the totals again with the timelines: a second look at the rows
** when the first did not keep them. Per-stack peaks stay as they are. */
static int rescan_with_timelines(ft_xtrace *x, char *err, size_t errlen) {
  for (size_t i = 0; i < x->nimg; i++) {
    ft_ximage *m = &x->img[i];
    m->allocations = m->bytes = m->leaked = m->leaked_bytes = m->short_lived = 0;
    m->peak_bytes = m->peak_count = 0;
    m->peak_ns = -1;
  }
  for (size_t k = 0; k <= x->nstacks; k++) {
    ft_xstack *s = &x->st[k];
    s->allocations = s->bytes = s->leaked = s->leaked_bytes = s->short_lived = 0;
  }
  x->flags |= FT_X_TIMELINE;
  return scan_totals(x, err, errlen);
}

/* ---- public ----------------------------------------------------------------- */

ft_xtrace *ft_xtrace_open(const char *path, int pid, const char *const *skip, int nskip, unsigned flags,
                          char *err, size_t errlen) {
  ft_xtrace *x = calloc(1, sizeof *x);
  if (!x) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  x->flags = flags;
  if (ft_db_open_readonly(path, &x->db, err, errlen) != 0) {
    x->db = NULL;
    goto fail;
  }
  if (load_meta(x, err, errlen) != 0 || load_images(x, pid, err, errlen) != 0 || load_threads(x, err, errlen) != 0 ||
      load_stacks(x, skip, nskip, err, errlen) != 0 || load_inlines(x, err, errlen) != 0 ||
      load_mappings(x, err, errlen) != 0)
    goto fail;
  {
    sqlite3_stmt *q = NULL;
    x->has_weight = sqlite3_prepare_v2(x->db, "SELECT 1 FROM pragma_table_info('allocation_rows') WHERE name = 'weight'",
                                       -1, &q, NULL) == SQLITE_OK &&
                    sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    q = NULL;
    /* The selected images' sampling rates (traces before issue 5 have none). */
    if (x->has_weight &&
        sqlite3_prepare_v2(x->db, "SELECT sample_bytes FROM processes WHERE proc = ?1", -1, &q, NULL) == SQLITE_OK) {
      int n = 0;
      for (size_t i = 0; i < x->nimg; i++) {
        sqlite3_reset(q);
        sqlite3_bind_int64(q, 1, x->img[i].proc);
        if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_type(q, 0) == SQLITE_NULL) continue;
        int64_t nb = sqlite3_column_int64(q, 0);
        x->sample_bytes = n++ == 0 || x->sample_bytes == nb ? nb : -1;
      }
    }
    sqlite3_finalize(q);
  }
  int sum = load_summaries(x, err, errlen);
  if (sum < 0) goto fail;
  x->from_summaries = sum;
  if (!sum) {
    if (scan_totals(x, err, errlen) != 0) goto fail;
    if ((flags & FT_X_PEAK) && scan_peaks(x, err, errlen) != 0) goto fail;
  }
  return x;
fail:
  /* The database layer names the file; say it for the other failures too. */
  if (strncmp(err, path, strlen(path)) != 0) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", err);
    snprintf(err, errlen, "%s: %s", path, tmp);
  }
  ft_xtrace_close(x);
  return NULL;
}

void ft_xtrace_close(ft_xtrace *x) {
  if (!x) return;
  free_timelines(x);
  for (size_t i = 0; i < x->nimg; i++) {
    free(x->img[i].exe);
    free(x->img[i].cmdline);
  }
  for (size_t i = 0; i < x->ninl; i++) {
    free(x->inl[i].function);
    free(x->inl[i].file);
  }
  for (size_t i = 0; i < x->nmaps; i++) {
    free((char *)x->maps[i].path);
    free((char *)x->maps[i].build_id);
  }
  free(x->inl);
  free(x->maps);
  free(x->map_base);
  free(x->img);
  free(x->st);
  free(x->idx);
  free(x->thr);
  free(x->fbuf);
  free(x->command);
  ft_sites_free(x->sites);
  if (x->db) sqlite3_close(x->db);
  free(x);
}

const ft_ximage *ft_xtrace_images(const ft_xtrace *x, size_t *n) {
  *n = x->nimg;
  return x->img;
}

const ft_stack_info *ft_xtrace_stacks(const ft_xtrace *x, size_t *nstacks) {
  *nstacks = x->nstacks;
  return x->stacks;
}

const ft_xstack *ft_xtrace_stack_stats(const ft_xtrace *x) { return x->st; }

int64_t ft_xtrace_short_lived_ns(const ft_xtrace *x) { return x->short_lived_ns; }

const char *ft_xtrace_command(const ft_xtrace *x) { return x->command ? x->command : ""; }

int64_t ft_xtrace_sample_bytes(const ft_xtrace *x) { return x->sample_bytes; }

int ft_xtrace_timeline(ft_xtrace *x, size_t i, ft_xaxis axis, const ft_xpoint **pts, size_t *n, char *err,
                       size_t errlen) {
  assert(i < x->nimg);
  if (!x->have_axis[axis]) {
    int got = axis == FT_X_AXIS_TIME ? load_heap_timeline(x, err, errlen) : 0;
    if (got < 0) return -1;
    if (!got && rescan_with_timelines(x, err, errlen) != 0) return -1;
  }
  assert(x->have_axis[axis]);
  size_t j = 2 * i + (axis == FT_X_AXIS_BYTES);
  *n = x->ntimeline[j];
  *pts = x->timeline[j];
  return 0;
}

int ft_xtrace_live_at(ft_xtrace *x, size_t i, const int64_t *instants, size_t n, int64_t *out, char *err,
                      size_t errlen) {
  assert(i < x->nimg);
  for (size_t j = 1; j < n; j++) assert(instants[j - 1] <= instants[j]);
  int64_t **inst = calloc(x->nimg, sizeof *inst), **b = calloc(x->nimg, sizeof *b);
  size_t *ni = calloc(x->nimg, sizeof *ni);
  int ret = -1;
  if (!inst || !b || !ni) {
    snprintf(err, errlen, "out of memory");
  } else {
    inst[i] = (int64_t *)instants;
    b[i] = out;
    ni[i] = n;
    ret = scan_live(x, inst, ni, b, NULL, err, errlen);
  }
  free(inst);
  free(b);
  free(ni);
  return ret;
}

/* First inline_frames entry of (proc, ip), or NULL. */
static const inl *find_inl(const ft_xtrace *x, int64_t proc, uint64_t ip) {
  size_t lo = 0, hi = x->ninl;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const inl *e = &x->inl[mid];
    if (e->proc < proc || (e->proc == proc && e->ip < ip)) lo = mid + 1;
    else hi = mid;
  }
  return lo < x->ninl && x->inl[lo].proc == proc && x->inl[lo].ip == ip ? &x->inl[lo] : NULL;
}

const ft_xframe *ft_xtrace_frames(ft_xtrace *x, size_t k, size_t *n) {
  assert(k < x->nstacks);
  const ft_stack_info *st = &x->stacks[k];
  size_t used = 0;
  for (int d = st->site; d < st->nframes; d++) {
    const ft_frame *f = &st->frames[d];
    const inl *e = find_inl(x, st->proc, f->ip);
    size_t levels = 1;
    for (const inl *p = e; p && p < x->inl + x->ninl && p->proc == st->proc && p->ip == f->ip; p++) levels++;
    if (used + levels > x->fcap) {
      size_t cap = x->fcap ? x->fcap * 2 : 128;
      while (cap < used + levels) cap *= 2;
      ft_xframe *nb = realloc(x->fbuf, cap * sizeof *nb);
      if (!nb) break; /* out of memory: the stack is cut here rather than lost */
      x->fbuf = nb;
      x->fcap = cap;
    }
    x->fbuf[used++] = (ft_xframe){f->function, f->file, f->line, f->module, f->ip, 0};
    for (size_t l = 1; l < levels; l++, e++)
      x->fbuf[used++] = (ft_xframe){e->function, e->file, e->line, f->module, f->ip, e->level};
  }
  *n = used;
  return x->fbuf;
}

const ft_xmap *ft_xtrace_mappings(const ft_xtrace *x, size_t *n) {
  *n = x->nmaps;
  return x->maps;
}

const ft_xmap *ft_xtrace_mapping_of(const ft_xtrace *x, int64_t proc, uint64_t ip) {
  /* last mapping with (proc, start) <= (proc, ip) */
  size_t lo = 0, hi = x->nmaps;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const ft_xmap *m = &x->maps[mid];
    if (m->proc < proc || (m->proc == proc && m->start <= ip)) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return NULL;
  const ft_xmap *m = &x->maps[lo - 1];
  return m->proc == proc && ip >= m->start && ip < m->end ? m : NULL;
}

const char *ft_xframe_name(const ft_xtrace *x, int64_t proc, const ft_xframe *f, char *buf, size_t cap) {
  if (f->function) {
    snprintf(buf, cap, "%s", f->function);
    return buf;
  }
  const ft_xmap *m = ft_xtrace_mapping_of(x, proc, f->ip);
  if (m) {
    const char *slash = strrchr(m->path, '/');
    snprintf(buf, cap, "%s+0x%" PRIx64, slash ? slash + 1 : m->path, f->ip - x->map_base[m - x->maps]);
  } else {
    snprintf(buf, cap, "0x%" PRIx64, f->ip);
  }
  return buf;
}
