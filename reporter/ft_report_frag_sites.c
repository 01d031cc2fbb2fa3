/*
** ft_report_frag_sites.c — per-call-site attribution of the fragmentation
** section, from the importer's attribution tables (schema/v1.sql,
** "Fragmentation attribution"): site_windows, site_lifetime_mix, pinning and
** pinning_totals, plus process_samples for the correlation. Stacks are added
** up into the report's sites (ft_report.sites), so --skip and --stacks hold.
**
** Definitions (README, "Fragmentation"):
**   churn        a site's busiest window: most allocations in one window of
**                meta window_ns (stacks of the site in one image added up)
**   lifetime mix site_lifetime_mix's `mixed`: >= 10 % short-lived and >= 10 %
**                living 2^30 ns (~1.07 s) or more, or never freed
**   pinning      the site's share of the free bytes of pages (system page
**                size) it keeps resident, at the instant of the largest RSS
**                gap ('rss_gap'), else at the end
**   correlation  Spearman's rank correlation (ties get their mean rank)
**                between a site's allocations and its process's RSS growth
**                (RSS less the recorder's memory) over the spans between RSS
**                samples, each span from a sample to the first one at least
**                one window later, the site's allocations those of the
**                windows starting in the span; a site needs
**                FT_CORR_MIN_WINDOWS windows with allocations, the process
**                FT_CORR_MIN_WINDOWS spans.
** All of it is over the whole run, whatever --since/--until say.
*/
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ft_report.h"
#include "ft_report_frag.h"

/* Fewer points than this say nothing about co-movement. */
#define FT_CORR_MIN_WINDOWS 5

static int fail_sql(sqlite3 *db, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
  return -1;
}

static int oom(char *err, size_t errlen) {
  snprintf(err, errlen, "out of memory");
  return -1;
}

/* Site index of a stack of the selected images, or -1. */
static int site_of(const ft_report *r, int64_t stack_id, int64_t *proc) {
  int64_t k = ft_report_stack_index(r, stack_id);
  if (k < 0) return -1;
  if (proc) *proc = r->stacks[k].proc;
  return r->stacks[k].site;
}

static int64_t meta_int(sqlite3 *db, const char *key) {
  sqlite3_stmt *q = NULL;
  int64_t v = 0;
  if (sqlite3_prepare_v2(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1", -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  return v;
}

/* ---- churn windows and correlation ------------------------------------------------- */

/* A value and its position, for ranking. */
typedef struct rank_item {
  double v;
  size_t i;
} rank_item;

static int cmp_rank(const void *a, const void *b) {
  const rank_item *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Mean ranks (1-based) of v[0..n) into rk. qsort: a day-long run has
** thousands of spans, and every ranked site sorts them twice. */
static void ranks(const double *v, size_t n, double *rk, rank_item *idx) {
  for (size_t i = 0; i < n; i++) idx[i] = (rank_item){v[i], i};
  if (n) qsort(idx, n, sizeof *idx, cmp_rank);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && idx[j + 1].v == idx[i].v) j++;
    double mean = (double)(i + j) / 2.0 + 1.0;
    for (size_t k = i; k <= j; k++) rk[idx[k].i] = mean;
    i = j + 1;
  }
}

/* Spearman's rho of x and y (n points): Pearson's r of their ranks; 0 when
** either is constant. */
static double spearman(const double *x, const double *y, size_t n, double *scratch, rank_item *idx) {
  double *rx = scratch, *ry = scratch + n;
  ranks(x, n, rx, idx);
  ranks(y, n, ry, idx);
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) mx += rx[i], my += ry[i];
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

/* Spans of one image's RSS samples for the correlation (own time base):
** from one sample to the first sample at least window_ns later, so a span
** holds whole windows whichever of the two intervals is longer. RSS growth
** over a span is set against the allocations of the windows that start in
** it: growth caused in a window is only seen at the next sample, so
** comparing per window would credit it to the window the sample falls in.
** span_of[w] is window w's span or -1 (outside the sampled time);
** growth[k] is span k's RSS growth, RSS less the recorder's own memory as in
** the process table. Returns the number of spans. */
static size_t rss_spans(ft_report *r, int64_t proc, int64_t window_ns, int64_t *span_of, size_t nwin, double *growth) {
  for (size_t w = 0; w < nwin; w++) span_of[w] = -1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT t_ns, max(rss_bytes - coalesce(shim_bytes, 0), 0) FROM process_samples WHERE proc = ?1 "
                         "ORDER BY t_ns",
                         -1, &q, NULL) != SQLITE_OK)
    return 0;
  sqlite3_bind_int64(q, 1, proc);
  size_t n = 0;
  int64_t t0 = -1, rss0 = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(q, 0), rss = sqlite3_column_int64(q, 1);
    if (t0 < 0) {
      t0 = t;
      rss0 = rss;
      continue;
    }
    if (t - t0 < window_ns || n >= nwin) continue;
    /* Windows starting in [t0, t): the first is ceil(t0 / window_ns). */
    int any = 0;
    for (int64_t w = (t0 + window_ns - 1) / window_ns; w * window_ns < t && (size_t)w < nwin; w++) {
      span_of[w] = (int64_t)n;
      any = 1;
    }
    if (any) growth[n++] = (double)(rss - rss0);
    t0 = t;
    rss0 = rss;
  }
  sqlite3_finalize(q);
  return n;
}

static int add_corr(ft_frag_report *f, int site, double rho, int64_t windows, int64_t growth_windows) {
  ft_rf_corr *n = realloc(f->corr, (f->ncorr + 1) * sizeof *n);
  if (!n) return -1;
  f->corr = n;
  f->corr[f->ncorr++] = (ft_rf_corr){.site = site, .rho = rho, .windows = windows, .growth_windows = growth_windows};
  return 0;
}

/* One (site, window) of an image: site_windows rows of the site's stacks added up. */
typedef struct win_row {
  int site;
  int64_t window, allocs, bytes;
} win_row;

static int cmp_win(const void *a, const void *b) {
  const win_row *x = a, *y = b;
  if (x->site != y->site) return x->site < y->site ? -1 : 1;
  return x->window < y->window ? -1 : x->window > y->window;
}

/* Churn peaks and correlations of one image's sites. Sparse: memory follows
** the site_windows rows, not sites x windows (a day-long run has thousands
** of windows, a service thousands of sites). */
static int windows_of_proc(ft_report *r, ft_frag_report *f, const ft_proc_info *p, char *err, size_t errlen) {
  size_t nwin = (size_t)(p->end_ns / f->window_ns) + 1;
  win_row *rows = NULL;
  size_t nrows = 0, cap = 0;
  int rc = -1;
  int64_t *span_of = malloc(nwin * sizeof *span_of);
  double *growth = malloc(nwin * sizeof *growth), *x = NULL, *y = NULL, *scratch = NULL;
  rank_item *idx = NULL;
  sqlite3_stmt *q = NULL;
  if (!span_of || !growth) {
    oom(err, errlen);
    goto out;
  }
  if (sqlite3_prepare_v2(r->db,
                         "SELECT w.stack_id, w.window, w.allocations, w.bytes FROM site_windows w "
                         "JOIN stacks s ON s.stack_id = w.stack_id WHERE s.proc = ?1 AND w.allocations > 0",
                         -1, &q, NULL) != SQLITE_OK) {
    fail_sql(r->db, err, errlen, "reading site_windows");
    goto out;
  }
  sqlite3_bind_int64(q, 1, p->proc);
  int st;
  while ((st = sqlite3_step(q)) == SQLITE_ROW) {
    int si = site_of(r, sqlite3_column_int64(q, 0), NULL);
    int64_t w = sqlite3_column_int64(q, 1);
    if (si < 0 || w < 0 || (size_t)w >= nwin) continue;
    if (nrows == cap) {
      size_t nc = cap ? 2 * cap : 256;
      win_row *n = realloc(rows, nc * sizeof *n);
      if (!n) {
        oom(err, errlen);
        goto out;
      }
      rows = n;
      cap = nc;
    }
    rows[nrows++] = (win_row){si, w, sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3)};
  }
  if (st != SQLITE_DONE) {
    fail_sql(r->db, err, errlen, "reading site_windows");
    goto out;
  }
  /* Stacks of one site in one window become one row. */
  if (nrows) qsort(rows, nrows, sizeof *rows, cmp_win);
  size_t m = 0;
  for (size_t i = 0; i < nrows; i++) {
    if (m > 0 && rows[m - 1].site == rows[i].site && rows[m - 1].window == rows[i].window) {
      rows[m - 1].allocs += rows[i].allocs;
      rows[m - 1].bytes += rows[i].bytes;
    } else {
      rows[m++] = rows[i];
    }
  }
  nrows = m;
  size_t nspans = rss_spans(r, p->proc, f->window_ns, span_of, nwin, growth);
  x = malloc((nspans + 1) * sizeof *x);
  y = malloc((nspans + 1) * sizeof *y);
  scratch = malloc(2 * (nspans + 1) * sizeof *scratch);
  idx = malloc((nspans + 1) * sizeof *idx);
  if (!x || !y || !scratch || !idx) {
    oom(err, errlen);
    goto out;
  }
  int64_t growth_windows = 0;
  for (size_t k = 0; k < nspans; k++)
    if (growth[k] > 0) growth_windows++;
  for (size_t i = 0; i < nrows;) {
    size_t j = i;
    while (j < nrows && rows[j].site == rows[i].site) j++;
    /* rows[i..j): one site, windows ascending, so ties keep the earliest peak. */
    ft_rf_churn c = {.site = rows[i].site, .peak_window_ns = -1};
    for (size_t k = i; k < j; k++) {
      c.windows++;
      if (rows[k].allocs > c.peak_allocs) {
        c.peak_allocs = rows[k].allocs;
        c.peak_bytes = rows[k].bytes;
        c.peak_window_ns = rows[k].window * f->window_ns + p->offset_ns;
      }
    }
    c.peak_rate = (double)c.peak_allocs * 1e9 / (double)f->window_ns;
    ft_rf_churn *n = realloc(f->churn, (f->nchurn + 1) * sizeof *n);
    if (!n) {
      oom(err, errlen);
      goto out;
    }
    f->churn = n;
    f->churn[f->nchurn++] = c;
    if (nspans >= FT_CORR_MIN_WINDOWS && c.windows >= FT_CORR_MIN_WINDOWS) {
      for (size_t k = 0; k < nspans; k++) {
        x[k] = 0;
        y[k] = growth[k];
      }
      for (size_t k = i; k < j; k++)
        if (span_of[rows[k].window] >= 0) x[span_of[rows[k].window]] += (double)rows[k].allocs;
      if (add_corr(f, c.site, spearman(x, y, nspans, scratch, idx), (int64_t)nspans, growth_windows) != 0) {
        oom(err, errlen);
        goto out;
      }
    }
    i = j;
  }
  rc = 0;
out:
  sqlite3_finalize(q);
  free(rows);
  free(span_of);
  free(growth);
  free(x);
  free(y);
  free(scratch);
  free(idx);
  return rc;
}

static int cmp_churn(const void *a, const void *b) {
  const ft_rf_churn *x = a, *y = b;
  if (x->peak_allocs != y->peak_allocs) return x->peak_allocs > y->peak_allocs ? -1 : 1;
  return x->site - y->site;
}

static int cmp_corr(const void *a, const void *b) {
  const ft_rf_corr *x = a, *y = b;
  if (x->rho != y->rho) return x->rho > y->rho ? -1 : 1;
  return x->site - y->site;
}

/* ---- lifetime mix ------------------------------------------------------------------ */

static int load_mix(ft_report *r, ft_frag_report *f, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT stack_id, allocations, short_count, long_count FROM site_lifetime_mix", -1, &q,
                         NULL) != SQLITE_OK)
    return 0; /* an older trace */
  ft_rf_mix *acc = calloc(r->nsites ? r->nsites : 1, sizeof *acc);
  if (!acc) {
    sqlite3_finalize(q);
    return oom(err, errlen);
  }
  int s;
  while ((s = sqlite3_step(q)) == SQLITE_ROW) {
    int si = site_of(r, sqlite3_column_int64(q, 0), NULL);
    if (si < 0) continue;
    acc[si].allocations += sqlite3_column_int64(q, 1);
    acc[si].short_lived += sqlite3_column_int64(q, 2);
    acc[si].long_lived += sqlite3_column_int64(q, 3);
  }
  sqlite3_finalize(q);
  if (s != SQLITE_DONE) {
    free(acc);
    return fail_sql(r->db, err, errlen, "reading site_lifetime_mix");
  }
  f->has_mix = 1;
  f->mix = calloc(r->nsites ? r->nsites : 1, sizeof *f->mix);
  if (!f->mix) {
    free(acc);
    return oom(err, errlen);
  }
  for (size_t i = 0; i < r->nsites; i++) {
    ft_rf_mix m = acc[i];
    /* The view's `mixed`, over the site's stacks added up. */
    if (m.allocations <= 0 || 10 * m.short_lived < m.allocations || 10 * m.long_lived < m.allocations) continue;
    m.site = (int)i;
    m.short_pct = 100.0 * (double)m.short_lived / (double)m.allocations;
    m.long_pct = 100.0 * (double)m.long_lived / (double)m.allocations;
    f->mix[f->nmix++] = m;
  }
  free(acc);
  return 0;
}

static int cmp_mix(const void *a, const void *b) {
  const ft_rf_mix *x = a, *y = b;
  /* Most bimodal first: the smaller of the two shares. */
  double bx = fmin(x->short_pct, x->long_pct), by = fmin(y->short_pct, y->long_pct);
  if (bx != by) return bx > by ? -1 : 1;
  if (x->allocations != y->allocations) return x->allocations > y->allocations ? -1 : 1;
  return x->site - y->site;
}

/* ---- pinning ---------------------------------------------------------------------- */

static int load_pins(ft_report *r, ft_frag_report *f, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  /* Per image: the largest-gap instant when it was computed, else the end. */
  if (sqlite3_prepare_v2(r->db,
                         "SELECT p.stack_id, p.blocks, p.live_bytes, p.pages, p.pinned_bytes FROM pinning p "
                         "WHERE p.proc = ?1 AND p.page_size = ?2 AND p.instant = (SELECT CASE WHEN count(*) > 0 "
                         "THEN 'rss_gap' ELSE 'end' END FROM pinning_totals WHERE proc = ?1 AND instant = 'rss_gap')",
                         -1, &q, NULL) != SQLITE_OK)
    return 0; /* an older trace */
  sqlite3_stmt *t = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT pinned_bytes FROM pinning_totals WHERE proc = ?1 AND page_size = ?2 AND instant = "
                         "(SELECT CASE WHEN count(*) > 0 THEN 'rss_gap' ELSE 'end' END FROM pinning_totals "
                         "WHERE proc = ?1 AND instant = 'rss_gap')",
                         -1, &t, NULL) != SQLITE_OK) {
    sqlite3_finalize(q);
    return 0;
  }
  ft_rf_pin *acc = calloc(r->nsites ? r->nsites : 1, sizeof *acc);
  int rc = 0;
  if (!acc) rc = oom(err, errlen);
  for (size_t i = 0; rc == 0 && i < r->nprocs; i++) {
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, r->procs[i].proc);
    sqlite3_bind_int64(q, 2, f->page_size);
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
      int si = site_of(r, sqlite3_column_int64(q, 0), NULL);
      if (si < 0) continue;
      f->has_pinning = 1;
      acc[si].blocks += sqlite3_column_int64(q, 1);
      acc[si].bytes += sqlite3_column_int64(q, 2);
      acc[si].pages += sqlite3_column_int64(q, 3);
      acc[si].pinned_bytes += sqlite3_column_int64(q, 4);
    }
    if (s != SQLITE_DONE) rc = fail_sql(r->db, err, errlen, "reading pinning");
    sqlite3_reset(t);
    sqlite3_bind_int64(t, 1, r->procs[i].proc);
    sqlite3_bind_int64(t, 2, f->page_size);
    while (rc == 0 && sqlite3_step(t) == SQLITE_ROW) {
      f->has_pinning = 1;
      f->pinned_total += sqlite3_column_int64(t, 0);
    }
  }
  sqlite3_finalize(q);
  sqlite3_finalize(t);
  if (rc == 0 && !(f->pins = calloc(r->nsites ? r->nsites : 1, sizeof *f->pins))) rc = oom(err, errlen);
  for (size_t i = 0; rc == 0 && i < r->nsites; i++) {
    if (acc[i].pinned_bytes <= 0) continue;
    ft_rf_pin p = acc[i];
    p.site = (int)i;
    p.typical_size = p.blocks > 0 ? p.bytes / p.blocks : 0;
    f->pins[f->npins++] = p;
  }
  free(acc);
  return rc;
}

static int cmp_pin(const void *a, const void *b) {
  const ft_rf_pin *x = a, *y = b;
  if (x->pinned_bytes != y->pinned_bytes) return x->pinned_bytes > y->pinned_bytes ? -1 : 1;
  return x->site - y->site;
}

/* ---- entry point ---------------------------------------------------------------------- */

int ft_report_frag_sites(ft_report *r, ft_frag_report *f, char *err, size_t errlen) {
  f->long_ns = (int64_t)1 << 30; /* site_lifetime_mix's long-lived threshold */
  f->window_ns = meta_int(r->db, "window_ns");
  sqlite3_stmt *q = NULL;
  int has_table = sqlite3_prepare_v2(r->db, "SELECT 1 FROM site_windows LIMIT 1", -1, &q, NULL) == SQLITE_OK &&
                  sqlite3_step(q) == SQLITE_ROW;
  sqlite3_finalize(q);
  if (has_table && f->window_ns > 0) {
    f->has_windows = 1;
    for (size_t i = 0; i < r->nprocs; i++)
      if (windows_of_proc(r, f, &r->procs[i], err, errlen) != 0) return -1;
    /* A site in several images: keep its busiest window only. */
    qsort(f->churn, f->nchurn, sizeof *f->churn, cmp_churn);
    size_t n = 0;
    for (size_t i = 0; i < f->nchurn; i++) {
      int dup = 0;
      for (size_t k = 0; k < n && !dup; k++) dup = f->churn[k].site == f->churn[i].site;
      if (!dup) f->churn[n++] = f->churn[i];
    }
    f->nchurn = n;
    qsort(f->corr, f->ncorr, sizeof *f->corr, cmp_corr);
  }
  if (load_mix(r, f, err, errlen) != 0 || load_pins(r, f, err, errlen) != 0) return -1;
  qsort(f->mix, f->nmix, sizeof *f->mix, cmp_mix);
  qsort(f->pins, f->npins, sizeof *f->pins, cmp_pin);
  return 0;
}
