/*
** ft_report_scan.c — the report's statistics computed from allocation_rows,
** for what the importer's summary tables cannot answer: a time window
** (--since/--until), a short-lived threshold other than the trace's, or a
** trace written before the summary tables existed.
**
** The definitions are those of the summary tables (schema/README.md), so a
** whole-trace scan gives the same numbers:
**   - one pass over the rows in id order (allocation order within an image):
**     counters, histograms, `temporary` (a row's thread's next allocation is
**     known when that thread's next row arrives), and the live heap: frees
**     wait in a min-heap by free time and are applied before any allocation
**     at or after their instant, so the state at t is "t_alloc <= t < t_free".
**     If an image's rows are not in time order (the importer does not
**     promise it), its live heap is replayed from a query sorted by time.
**   - a query for what was live at each image's peak.
** Memory: the min-heap holds the blocks live at one instant; nothing is kept
** per row.
**
** The window selects allocations *made* in [since, until) for the counters;
** the live heap, the peak and each site's own maximum are those of the
** instants in the window (blocks allocated before it count while live).
**
** Byte-sampled traces (issue 5): every count and byte sum adds the rows'
** weights (allocation_rows.weight, NULL = 1), as the summary tables do.
** During the pass all of them are kept in fixed point (units of
** 2^-FT_WEIGHT_SHIFT, exact: the stored weights are multiples of that) and
** rounded once at the end, so a whole-trace scan still equals the tables.
*/
#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ft_import_frag.h" /* FT_WEIGHT_SHIFT, ft_weight_round */
#include "ft_report.h"

#define NONE INT64_MAX

typedef struct pend { /* a free that has not happened yet */
  int64_t t, size; /* size: weighted bytes, fixed point */
  int64_t w;       /* the row's weight, fixed point */
  int64_t stack; /* index into r->stacks, -1 when the row has none */
} pend;

typedef struct pstate { /* one selected image during the pass */
  ft_proc_info *p;
  int64_t lo, hi;       /* window in the image's time base, hi NONE when open */
  int64_t b, n;         /* live bytes and blocks (fixed point) */
  int entered;          /* the state at lo has been observed */
  int has_peak;
  int64_t peak_b, peak_t, peak_n;
  pend *heap;
  size_t nheap, capheap;
  int64_t last_t;       /* of the previous allocation: detects rows out of time order */
  int unsorted;
  int64_t min_id, max_id;
  /* chart: columns of [clo, chi) */
  int64_t clo, chi, cw;
  int cur;
  int64_t col[FT_CHART_SLICES];
} pstate;

typedef struct thr { /* a thread's row waiting for that thread's next allocation */
  int has;
  int64_t t_free;      /* NONE when never freed */
  int same_thread;     /* freed by the allocating thread */
  int64_t stack;       /* index into r->stacks or -1 */
  int64_t w;           /* the row's weight, fixed point */
  int counted;         /* in the window (its temporary counts) */
  int proc;            /* index into the pstate array */
} thr;

typedef struct scan {
  ft_report *r;
  int only_short;
  pstate *ps;
  size_t nps;
  int *proc_of_thread;   /* thread key -> pstate index, -1 unselected */
  int64_t nthreads;
  thr *threads;
  int64_t *stack_of_id;  /* stack_id - id_base -> index into r->stacks, -1 */
  int64_t id_base, nids;
  int64_t *stack_live;   /* per r->stacks entry, during the event pass (fixed point) */
  int has_weight;        /* allocation_rows has the weight column (traces before issue 5 do not) */
  char *err;
  size_t errlen;
} scan;

/* ---- the min-heap of pending frees ---------------------------------------- */

static int heap_push(pstate *ps, pend e) {
  if (ps->nheap == ps->capheap) {
    size_t n = ps->capheap ? ps->capheap * 2 : 1024;
    pend *h = realloc(ps->heap, n * sizeof *h);
    if (!h) return -1;
    ps->heap = h;
    ps->capheap = n;
  }
  size_t i = ps->nheap++;
  while (i > 0 && ps->heap[(i - 1) / 2].t > e.t) {
    ps->heap[i] = ps->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  ps->heap[i] = e;
  return 0;
}

static pend heap_pop(pstate *ps) {
  assert(ps->nheap > 0);
  pend top = ps->heap[0], last = ps->heap[--ps->nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= ps->nheap) break;
    if (c + 1 < ps->nheap && ps->heap[c + 1].t < ps->heap[c].t) c++;
    if (ps->heap[c].t >= last.t) break;
    ps->heap[i] = ps->heap[c];
    i = c;
  }
  if (ps->nheap > 0) ps->heap[i] = last;
  return top;
}

/* ---- the live heap over time -------------------------------------------- */

/* Observe the state at the window's start (once): the peak and every
** site's maximum may be blocks allocated before the window. */
static void enter_window(scan *s, pstate *ps) {
  if (ps->entered) return;
  ps->entered = 1;
  if (ps->b > 0 && (!ps->has_peak || ps->b > ps->peak_b)) {
    ps->has_peak = 1;
    ps->peak_b = ps->b;
    ps->peak_t = ps->lo;
    ps->peak_n = ps->n;
  }
  for (size_t i = 0; i < s->r->nstacks; i++) {
    ft_stack_stats *st = &s->r->stacks[i];
    if (st->proc == ps->p->proc && s->stack_live[i] > st->max_live_bytes) st->max_live_bytes = s->stack_live[i];
  }
}

/* Move the chart to the column of instant t: columns passed over hold the
** state at their start (nothing happened in them). */
static void chart_to(pstate *ps, int64_t t) {
  if (ps->cw <= 0 || t < ps->clo) return;
  int64_t k = (t - ps->clo) / ps->cw;
  if (k >= FT_CHART_SLICES) k = FT_CHART_SLICES - 1;
  while (ps->cur < k) ps->col[++ps->cur] = ps->b;
}

/* An event at instant t is about to be applied. */
static void before_event(scan *s, pstate *ps, int64_t t) {
  if (t >= ps->lo) enter_window(s, ps);
  chart_to(ps, t);
}

/* Apply the frees due at or before t (all of them before allocations at t). */
static void apply_frees(scan *s, pstate *ps, int64_t t) {
  while (ps->nheap > 0 && ps->heap[0].t <= t && ps->heap[0].t < ps->hi) {
    pend e = heap_pop(ps);
    before_event(s, ps, e.t);
    ps->b -= e.size;
    ps->n -= e.w;
    if (e.stack >= 0) s->stack_live[e.stack] -= e.size;
  }
}

/* Apply an allocation at t (frees due by t already applied) of weight w
** (fixed point) and size bytes. */
static int apply_alloc(scan *s, pstate *ps, int64_t t, int64_t w, int64_t size, int64_t lifetime, int64_t stack) {
  if (t >= ps->hi) return 0;
  before_event(s, ps, t);
  size *= w; /* weighted bytes from here on */
  ps->b += size;
  ps->n += w;
  if (stack >= 0) s->stack_live[stack] += size;
  if (t >= ps->lo) {
    /* Within an instant the frees came first, so from here on the state
    ** only grows: its first maximum is reached at this instant. */
    if (!ps->has_peak || ps->b > ps->peak_b) {
      ps->has_peak = 1;
      ps->peak_b = ps->b;
      ps->peak_t = t;
      ps->peak_n = ps->n;
    }
    if (stack >= 0 && s->stack_live[stack] > s->r->stacks[stack].max_live_bytes)
      s->r->stacks[stack].max_live_bytes = s->stack_live[stack];
    if (ps->cw > 0 && ps->cur >= 0 && ps->b > ps->col[ps->cur]) ps->col[ps->cur] = ps->b;
  }
  if (lifetime != NONE) return heap_push(ps, (pend){t + lifetime, size, w, stack});
  return 0;
}

/* After the last row: the frees left inside the window, the columns after
** the last event. */
static void finish_events(scan *s, pstate *ps) {
  apply_frees(s, ps, NONE - 1);
  enter_window(s, ps);
  if (ps->cw > 0) chart_to(ps, ps->chi - 1);
}

static void reset_events(scan *s, pstate *ps) {
  ps->b = ps->n = 0;
  ps->entered = ps->has_peak = 0;
  ps->nheap = 0;
  ps->cur = -1;
  memset(ps->col, 0, sizeof ps->col);
  for (size_t i = 0; i < s->r->nstacks; i++)
    if (s->r->stacks[i].proc == ps->p->proc) {
      s->stack_live[i] = 0;
      s->r->stacks[i].max_live_bytes = 0;
    }
}

/* ---- the rows ------------------------------------------------------------- */

static int sql_fail(scan *s, const char *what) {
  snprintf(s->err, s->errlen, "%s: %s", what, sqlite3_errmsg(s->r->db));
  return -1;
}

/* Decide the temporary flag of thread th's waiting row, now that the
** thread's next allocation (at next_t, NONE for none) is known. */
static void settle_thread(scan *s, thr *w, int64_t next_t) {
  if (!w->has) return;
  w->has = 0;
  if (!w->counted || w->t_free == NONE || !w->same_thread || next_t < w->t_free) return;
  ft_proc_info *p = s->ps[w->proc].p;
  p->temporary += w->w;
  if (w->stack >= 0) s->r->stacks[w->stack].temporary += w->w;
}

static int64_t stack_index(const scan *s, sqlite3_stmt *q, int col) {
  if (sqlite3_column_type(q, col) == SQLITE_NULL) return -1;
  int64_t id = sqlite3_column_int64(q, col) - s->id_base;
  return id >= 0 && id < s->nids ? s->stack_of_id[id] : -1;
}

/* Fixed-point weight of a row from its weight column (NULL: 1). The stored
** weights are multiples of 2^-FT_WEIGHT_SHIFT, so this is exact. */
static int64_t weight_fx(sqlite3_stmt *q, int col) {
  if (sqlite3_column_type(q, col) == SQLITE_NULL) return (int64_t)FT_WEIGHT_ONE;
  double w = sqlite3_column_double(q, col) * (double)FT_WEIGHT_ONE;
  return w >= 1.0 && w < 9e18 ? (int64_t)(w + 0.5) : (int64_t)FT_WEIGHT_ONE;
}

/* A fixed-point sum rounded to the nearest integer (non-negative sums). */
static int64_t unfix(int64_t v) { return v > 0 ? (int64_t)ft_weight_round((uint64_t)v) : 0; }

/* The pass in id order. */
static int pass_rows(scan *s) {
  ft_report *r = s->r;
  sqlite3_stmt *q = NULL;
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT id, kind_thread, size, t_alloc, lifetime, free_thread, stack_id, %s FROM allocation_rows %s "
           "ORDER BY id",
           s->has_weight ? "weight" : "NULL", s->only_short ? "WHERE lifetime < ?1" : "");
  if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK) return sql_fail(s, "reading allocations");
  if (s->only_short) sqlite3_bind_int64(q, 1, r->short_lived_ns);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(q, 0), kt = sqlite3_column_int64(q, 1);
    int64_t thread = kt >> 3;
    if (thread < 0 || thread >= s->nthreads || s->proc_of_thread[thread] < 0) continue;
    pstate *ps = &s->ps[s->proc_of_thread[thread]];
    ft_proc_info *p = ps->p;
    int64_t size = sqlite3_column_int64(q, 2), t = sqlite3_column_int64(q, 3);
    int freed = sqlite3_column_type(q, 4) != SQLITE_NULL;
    int64_t life = freed ? sqlite3_column_int64(q, 4) : NONE;
    int64_t stack = stack_index(s, q, 6);
    int64_t wt = weight_fx(q, 7), wb = wt * size;
    int counted = t >= ps->lo && t < ps->hi;
    if (s->only_short) { /* the query kept only freed rows below the threshold */
      if (counted) {
        p->short_lived += wt;
        if (stack >= 0) r->stacks[stack].short_lived += wt;
      }
      continue;
    }
    thr *w = &s->threads[thread];
    settle_thread(s, w, t);
    *w = (thr){1, freed ? t + life : NONE, sqlite3_column_type(q, 5) == SQLITE_NULL, stack, wt, counted,
               s->proc_of_thread[thread]};
    if (id < ps->min_id) ps->min_id = id;
    if (id > ps->max_id) ps->max_id = id;
    if (counted) {
      int shrt = freed && life < r->short_lived_ns;
      int mmap = (kt & 7) == 4;
      p->allocations += wt;
      p->bytes += wb;
      p->frees += freed ? wt : 0;
      p->leaked += freed ? 0 : wt;
      p->leaked_bytes += freed ? 0 : wb;
      p->short_lived += shrt ? wt : 0;
      p->mmap_count += mmap ? wt : 0;
      p->mmap_bytes += mmap ? wb : 0;
      if (stack >= 0) {
        ft_stack_stats *st = &r->stacks[stack];
        if (st->allocations == 0) {
          st->min_size = st->max_size = size;
          st->first_alloc_ns = st->last_alloc_ns = t;
        }
        st->allocations += wt;
        st->bytes += wb;
        st->frees += freed ? wt : 0;
        st->leaked += freed ? 0 : wt;
        st->leaked_bytes += freed ? 0 : wb;
        st->short_lived += shrt ? wt : 0;
        if (size < st->min_size) st->min_size = size;
        if (size > st->max_size) st->max_size = size;
        if (t < st->first_alloc_ns) st->first_alloc_ns = t;
        if (t > st->last_alloc_ns) st->last_alloc_ns = t;
        ft_report_add_hist(r, (size_t)stack, 0, ft_hist_bucket(size), wt, wb);
        if (freed) ft_report_add_hist(r, (size_t)stack, 1, ft_hist_bucket(life), wt, 0);
      }
    }
    if (ps->unsorted) continue;
    if (t < ps->last_t) {
      ps->unsorted = 1; /* replayed from a sorted query after this pass */
      continue;
    }
    ps->last_t = t;
    apply_frees(s, ps, t);
    if (apply_alloc(s, ps, t, wt, size, life, stack) != 0) {
      sqlite3_finalize(q);
      snprintf(s->err, s->errlen, "out of memory");
      return -1;
    }
  }
  if (rc != SQLITE_DONE) {
    sql_fail(s, "reading allocations");
    sqlite3_finalize(q);
    return -1;
  }
  sqlite3_finalize(q);
  for (int64_t i = 0; i < s->nthreads; i++) settle_thread(s, &s->threads[i], NONE);
  return 0;
}

/* Replay the live heap of an image whose rows were not in time order. */
static int replay_sorted(scan *s, pstate *ps) {
  reset_events(s, ps);
  sqlite3_stmt *q = NULL;
  char sql[192];
  snprintf(sql, sizeof sql,
           "SELECT size, t_alloc, lifetime, stack_id, %s FROM allocation_rows "
           "WHERE id BETWEEN ?1 AND ?2 ORDER BY t_alloc, id",
           s->has_weight ? "weight" : "NULL");
  if (sqlite3_prepare_v2(s->r->db, sql, -1, &q, NULL) != SQLITE_OK) return sql_fail(s, "reading allocations");
  sqlite3_bind_int64(q, 1, ps->min_id);
  sqlite3_bind_int64(q, 2, ps->max_id);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(q, 1);
    int64_t life = sqlite3_column_type(q, 2) == SQLITE_NULL ? NONE : sqlite3_column_int64(q, 2);
    apply_frees(s, ps, t);
    if (apply_alloc(s, ps, t, weight_fx(q, 4), sqlite3_column_int64(q, 0), life, stack_index(s, q, 3)) != 0) {
      sqlite3_finalize(q);
      snprintf(s->err, s->errlen, "out of memory");
      return -1;
    }
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_fail(s, "reading allocations");
  return 0;
}

/* What was live at each image's peak, per stack; and the peak RSS in the window. */
static int at_peaks(scan *s) {
  ft_report *r = s->r;
  sqlite3_stmt *q = NULL, *rss = NULL;
  int rc = -1;
  /* Weighted sums rounded by SQL: exact (see the file comment). */
  char sql[320];
  snprintf(sql, sizeof sql,
           "SELECT stack_id, CAST(round(sum(%s * size)) AS INTEGER), CAST(round(sum(%s)) AS INTEGER) "
           "FROM allocation_rows WHERE id BETWEEN ?1 AND ?2 AND t_alloc <= ?3 "
           "AND (lifetime IS NULL OR t_alloc + lifetime > ?3) GROUP BY stack_id",
           s->has_weight ? "coalesce(weight, 1.0)" : "1", s->has_weight ? "coalesce(weight, 1.0)" : "1");
  if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(r->db,
                         "SELECT t_ns, rss_bytes FROM process_samples WHERE proc = ?1 AND t_ns >= ?2 AND t_ns < ?3 "
                         "ORDER BY t_ns",
                         -1, &rss, NULL) != SQLITE_OK) {
    sql_fail(s, "reading the peak");
    goto out;
  }
  for (size_t i = 0; i < s->nps; i++) {
    pstate *ps = &s->ps[i];
    ft_proc_info *p = ps->p;
    p->peak_live_bytes = ps->has_peak ? unfix(ps->peak_b) : 0;
    p->peak_live_ns = ps->has_peak ? ps->peak_t : -1;
    p->peak_live_allocations = ps->has_peak ? unfix(ps->peak_n) : 0;
    if (ps->has_peak && ps->min_id <= ps->max_id) {
      sqlite3_reset(q);
      sqlite3_bind_int64(q, 1, ps->min_id);
      sqlite3_bind_int64(q, 2, ps->max_id);
      sqlite3_bind_int64(q, 3, ps->peak_t);
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t k = stack_index(s, q, 0);
        if (k < 0) continue;
        r->stacks[k].live_at_peak_bytes = sqlite3_column_int64(q, 1);
        r->stacks[k].live_at_peak_count = sqlite3_column_int64(q, 2);
      }
      if (rc != SQLITE_DONE) {
        sql_fail(s, "reading the peak");
        rc = -1;
        goto out;
      }
    }
    p->peak_rss_bytes = p->peak_rss_ns = -1;
    sqlite3_reset(rss);
    sqlite3_bind_int64(rss, 1, p->proc);
    sqlite3_bind_int64(rss, 2, ps->lo);
    sqlite3_bind_int64(rss, 3, ps->hi);
    while ((rc = sqlite3_step(rss)) == SQLITE_ROW)
      if (sqlite3_column_int64(rss, 1) > p->peak_rss_bytes) {
        p->peak_rss_bytes = sqlite3_column_int64(rss, 1);
        p->peak_rss_ns = sqlite3_column_int64(rss, 0);
      }
    if (rc != SQLITE_DONE) {
      sql_fail(s, "reading samples");
      rc = -1;
      goto out;
    }
  }
  rc = 0;
out:
  sqlite3_finalize(q);
  sqlite3_finalize(rss);
  return rc;
}

/* Thread -> image and stack_id -> stack maps. */
static int build_maps(scan *s) {
  ft_report *r = s->r;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT thread, proc FROM threads ORDER BY thread", -1, &q, NULL) != SQLITE_OK)
    return sql_fail(s, "reading threads");
  int64_t maxt = -1;
  while (sqlite3_step(q) == SQLITE_ROW)
    if (sqlite3_column_int64(q, 0) > maxt) maxt = sqlite3_column_int64(q, 0);
  s->nthreads = maxt + 1;
  s->proc_of_thread = malloc((size_t)(s->nthreads ? s->nthreads : 1) * sizeof *s->proc_of_thread);
  s->threads = calloc((size_t)(s->nthreads ? s->nthreads : 1), sizeof *s->threads);
  if (!s->proc_of_thread || !s->threads) {
    sqlite3_finalize(q);
    snprintf(s->err, s->errlen, "out of memory");
    return -1;
  }
  for (int64_t i = 0; i < s->nthreads; i++) s->proc_of_thread[i] = -1;
  sqlite3_reset(q);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(q, 0), proc = sqlite3_column_int64(q, 1);
    if (t < 0) continue;
    for (size_t i = 0; i < s->nps; i++)
      if (s->ps[i].p->proc == proc) s->proc_of_thread[t] = (int)i;
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return sql_fail(s, "reading threads");
  s->id_base = r->nstacks ? r->stacks[0].stack_id : 0;
  s->nids = r->nstacks ? r->stacks[r->nstacks - 1].stack_id - s->id_base + 1 : 0;
  s->stack_of_id = malloc((size_t)(s->nids ? s->nids : 1) * sizeof *s->stack_of_id);
  s->stack_live = calloc(r->nstacks ? r->nstacks : 1, sizeof *s->stack_live);
  if (!s->stack_of_id || !s->stack_live) {
    snprintf(s->err, s->errlen, "out of memory");
    return -1;
  }
  for (int64_t i = 0; i < s->nids; i++) s->stack_of_id[i] = -1;
  for (size_t i = 0; i < r->nstacks; i++) s->stack_of_id[r->stacks[i].stack_id - s->id_base] = (int64_t)i;
  return 0;
}

/* Round the fixed-point sums of the pass (see the file comment). */
static void unfix_all(scan *s) {
  ft_report *r = s->r;
  for (size_t i = 0; i < r->nprocs; i++) {
    ft_proc_info *p = &r->procs[i];
    p->short_lived = unfix(p->short_lived);
    if (s->only_short) continue;
    int64_t *f[] = {&p->allocations, &p->frees,      &p->bytes,      &p->leaked,    &p->leaked_bytes,
                    &p->temporary,   &p->mmap_count, &p->mmap_bytes};
    for (size_t k = 0; k < sizeof f / sizeof *f; k++) *f[k] = unfix(*f[k]);
    for (int k = 0; k < FT_CHART_SLICES; k++) p->chart_live[k] = unfix(p->chart_live[k]);
  }
  for (size_t i = 0; i < r->nstacks; i++) {
    ft_stack_stats *st = &r->stacks[i];
    st->short_lived = unfix(st->short_lived);
    if (s->only_short) continue;
    int64_t *f[] = {&st->allocations, &st->bytes,     &st->frees,      &st->leaked,
                    &st->leaked_bytes, &st->temporary, &st->max_live_bytes};
    for (size_t k = 0; k < sizeof f / sizeof *f; k++) *f[k] = unfix(*f[k]);
  }
  if (s->only_short) return; /* the histograms came from the summary tables */
  for (int b = 0; b < FT_HIST_BUCKETS; b++) {
    r->size_count[b] = unfix(r->size_count[b]);
    r->size_bytes[b] = unfix(r->size_bytes[b]);
  }
  for (size_t i = 0; i < r->nsites; i++) {
    ft_site *x = &r->sites[i];
    for (int b = 0; b < FT_HIST_BUCKETS; b++) {
      if (x->life_hist) x->life_hist[b] = unfix(x->life_hist[b]);
      if (x->size_count) x->size_count[b] = unfix(x->size_count[b]);
      if (x->size_bytes) x->size_bytes[b] = unfix(x->size_bytes[b]);
    }
  }
}

/* Whether allocation_rows has the weight column (traces before issue 5 do not). */
static int has_weight_column(sqlite3 *db) {
  sqlite3_stmt *q = NULL;
  int has = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('allocation_rows') WHERE name = 'weight'", -1,
                               &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW;
  sqlite3_finalize(q);
  return has;
}

int ft_report_scan(ft_report *r, int only_short_lived, char *err, size_t errlen) {
  scan s = {.r = r, .only_short = only_short_lived, .err = err, .errlen = errlen,
            .has_weight = has_weight_column(r->db)};
  int rc = -1;
  s.ps = calloc(r->nprocs ? r->nprocs : 1, sizeof *s.ps);
  if (!s.ps) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  s.nps = r->nprocs;
  for (size_t i = 0; i < r->nprocs; i++) {
    pstate *ps = &s.ps[i];
    ft_proc_info *p = &r->procs[i];
    ps->p = p;
    /* The window is in trace time; each image counts from its own start. */
    ps->lo = r->window_lo - p->offset_ns;
    if (ps->lo < 0) ps->lo = 0;
    ps->hi = r->window_hi < 0 ? NONE : r->window_hi - p->offset_ns;
    if (ps->hi < ps->lo) ps->hi = ps->lo;
    ps->last_t = INT64_MIN;
    ps->min_id = INT64_MAX;
    ps->max_id = INT64_MIN;
    ps->cur = -1;
    ps->clo = ps->lo;
    ps->chi = p->end_ns + 1 < ps->hi ? p->end_ns + 1 : ps->hi;
    ps->cw = ps->chi > ps->clo ? (ps->chi - ps->clo + FT_CHART_SLICES - 1) / FT_CHART_SLICES : 0;
    if (only_short_lived) p->short_lived = 0;
    else {
      p->allocations = p->frees = p->bytes = p->leaked = p->leaked_bytes = 0;
      p->temporary = p->short_lived = p->mmap_count = p->mmap_bytes = 0;
    }
  }
  for (size_t i = 0; i < r->nstacks; i++) {
    ft_stack_stats *st = &r->stacks[i];
    if (only_short_lived) st->short_lived = 0;
    else {
      int64_t id = st->stack_id, proc = st->proc;
      int site = st->site, supp = st->suppressed_by;
      memset(st, 0, sizeof *st);
      st->stack_id = id;
      st->proc = proc;
      st->site = site;
      st->suppressed_by = supp;
    }
  }
  if (build_maps(&s) != 0 || pass_rows(&s) != 0) goto out;
  if (!only_short_lived) {
    for (size_t i = 0; i < s.nps; i++) {
      pstate *ps = &s.ps[i];
      if (ps->unsorted && replay_sorted(&s, ps) != 0) goto out;
      finish_events(&s, ps);
    }
    if (at_peaks(&s) != 0) goto out;
    /* Keep the chart of every image: the caller picks the peak's. */
    for (size_t i = 0; i < s.nps; i++) {
      pstate *ps = &s.ps[i];
      ps->p->has_chart = ps->cw > 0;
      ps->p->chart_lo = ps->clo;
      ps->p->chart_w = ps->cw;
      memcpy(ps->p->chart_live, ps->col, sizeof ps->col);
    }
  }
  unfix_all(&s);
  rc = 0;
out:
  for (size_t i = 0; i < s.nps; i++) free(s.ps[i].heap);
  free(s.ps);
  free(s.proc_of_thread);
  free(s.threads);
  free(s.stack_of_id);
  free(s.stack_live);
  return rc;
}
