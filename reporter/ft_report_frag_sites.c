/*
** ft_report_frag_sites.c — per-call-site attribution of the fragmentation
** section, from the importer's attribution tables (schema/v1.sql,
** "Fragmentation attribution"): site_windows, site_lifetime_mix, pinning and
** pinning_totals, plus process_samples and buddyinfo_samples for the
** correlations. Stacks are added up into the report's sites
** (ft_report.sites), so --skip and --stacks hold.
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
**                FT_CORR_MIN_WINDOWS spans. The same against the
**                shrinkage of the host's free memory in high orders
**                (buddyinfo orders >= the 2 MiB order, ref_order, every
**                node and zone added up) over the spans between buddyinfo
**                samples: host-wide, so other programs move it too.
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

/* A sampled series (t_ns in one image's own time base, value) to compare
** allocations with. */
typedef struct series_pt {
  int64_t t, v;
} series_pt;

/* Spans of a sampled series for the correlation (pts in time order, the
** image's own time base): from one sample to the first sample at least
** window_ns later, so a span holds whole windows whichever of the two
** intervals is longer. The series' growth over a span is set against the
** allocations of the windows that start in it: growth caused in a window is
** only seen at the next sample, so comparing per window would credit it to
** the window the sample falls in. span_of[w] is window w's span or -1
** (outside the sampled time); growth[k] is span k's growth. Returns the
** number of spans. */
static size_t spans_of(const series_pt *pts, size_t npts, int64_t window_ns, int64_t *span_of, size_t nwin,
                       double *growth) {
  for (size_t w = 0; w < nwin; w++) span_of[w] = -1;
  size_t n = 0;
  if (npts == 0) return 0;
  int64_t t0 = pts[0].t, v0 = pts[0].v;
  for (size_t i = 1; i < npts && n < nwin; i++) {
    int64_t t = pts[i].t, v = pts[i].v;
    if (t - t0 < window_ns) continue;
    /* Windows starting in [t0, t): the first is ceil(t0 / window_ns); host
    ** samples can predate the image (negative times), its windows cannot. */
    int any = 0;
    int64_t w = t0 > 0 ? (t0 + window_ns - 1) / window_ns : 0;
    for (; w * window_ns < t && (size_t)w < nwin; w++) {
      span_of[w] = (int64_t)n;
      any = 1;
    }
    if (any) growth[n++] = (double)(v - v0);
    t0 = t;
    v0 = v;
  }
  return n;
}

/* The rows of a (t_ns, value) query with ?1 bound to bind, in *out
** (malloc'd); the count, or (size_t)-1 out of memory or on an SQL error. */
static size_t read_series(sqlite3 *db, const char *sql, int64_t bind, int64_t shift, series_pt **out) {
  *out = NULL;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return 0; /* an older trace */
  sqlite3_bind_int64(q, 1, bind);
  size_t n = 0, cap = 0;
  int st;
  while ((st = sqlite3_step(q)) == SQLITE_ROW) {
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 256;
      series_pt *x = realloc(*out, nc * sizeof *x);
      if (!x) break;
      *out = x;
      cap = nc;
    }
    (*out)[n++] = (series_pt){sqlite3_column_int64(q, 0) + shift, sqlite3_column_int64(q, 1)};
  }
  sqlite3_finalize(q);
  if (st != SQLITE_DONE) {
    free(*out);
    *out = NULL;
    return (size_t)-1;
  }
  return n;
}

/* One image's RSS, less the recorder's own memory as in the process table. */
static size_t rss_series(ft_report *r, int64_t proc, series_pt **out) {
  return read_series(r->db,
                     "SELECT t_ns, max(rss_bytes - coalesce(shim_bytes, 0), 0) FROM process_samples WHERE proc = ?1 "
                     "ORDER BY t_ns",
                     proc, 0, out);
}

/* Free memory in high orders (orders >= f->ref_order: blocks of 2 MiB or
** more, all nodes and zones added up) of the host sampler's buddyinfo,
** negated so that its growth is the high orders' shrinkage, in the time
** base of image p. */
static size_t buddy_series(ft_report *r, const ft_frag_report *f, const ft_proc_info *p, series_pt **out) {
  *out = NULL;
  if (!f->has_buddy || f->sys_proc < 0) return 0;
  int64_t sys_offset = 0;
  for (size_t i = 0; i < r->nprocs; i++)
    if (r->procs[i].proc == f->sys_proc) sys_offset = r->procs[i].offset_ns;
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT t_ns, -sum(free_blocks << page_order) * %lld FROM buddyinfo_samples WHERE proc = ?1 "
           "AND page_order >= %d GROUP BY t_ns ORDER BY t_ns",
           (long long)f->page_size, f->ref_order);
  return read_series(r->db, sql, f->sys_proc, sys_offset - p->offset_ns, out);
}

/* One (site, window) of an image: site_windows rows of the site's stacks added up. */
typedef struct win_row {
  int site;
  int64_t window, allocs, bytes;
} win_row;

static int add_corr(ft_rf_corr **list, size_t *len, int site, double rho, int64_t windows, int64_t growth_windows) {
  ft_rf_corr *n = realloc(*list, (*len + 1) * sizeof *n);
  if (!n) return -1;
  *list = n;
  (*list)[(*len)++] = (ft_rf_corr){.site = site, .rho = rho, .windows = windows, .growth_windows = growth_windows};
  return 0;
}

/* A correlation for one site: its allocations per span (span_of) against
** growth, when both have FT_CORR_MIN_WINDOWS points. */
static int site_corr(ft_rf_corr **list, size_t *len, const ft_rf_churn *c, const win_row *rows, size_t nrows,
                     const int64_t *span_of, const double *growth, size_t nspans, double *x, double *scratch,
                     rank_item *idx) {
  if (nspans < FT_CORR_MIN_WINDOWS || c->windows < FT_CORR_MIN_WINDOWS) return 0;
  int64_t grew = 0;
  for (size_t k = 0; k < nspans; k++) {
    x[k] = 0;
    if (growth[k] > 0) grew++;
  }
  for (size_t k = 0; k < nrows; k++)
    if (span_of[rows[k].window] >= 0) x[span_of[rows[k].window]] += (double)rows[k].allocs;
  return add_corr(list, len, c->site, spearman(x, growth, nspans, scratch, idx), (int64_t)nspans, grew);
}

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
  int64_t *span_rss = malloc(nwin * sizeof *span_rss), *span_buddy = malloc(nwin * sizeof *span_buddy);
  double *g_rss = malloc(nwin * sizeof *g_rss), *g_buddy = malloc(nwin * sizeof *g_buddy), *x = NULL, *scratch = NULL;
  series_pt *pts = NULL;
  rank_item *idx = NULL;
  sqlite3_stmt *q = NULL;
  if (!span_rss || !span_buddy || !g_rss || !g_buddy) {
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
  size_t npts = rss_series(r, p->proc, &pts);
  if (npts == (size_t)-1) {
    fail_sql(r->db, err, errlen, "reading process_samples");
    goto out;
  }
  size_t ns_rss = spans_of(pts, npts, f->window_ns, span_rss, nwin, g_rss);
  free(pts);
  npts = buddy_series(r, f, p, &pts);
  if (npts == (size_t)-1) {
    fail_sql(r->db, err, errlen, "reading buddyinfo_samples");
    goto out;
  }
  size_t ns_buddy = spans_of(pts, npts, f->window_ns, span_buddy, nwin, g_buddy);
  size_t most = (ns_rss > ns_buddy ? ns_rss : ns_buddy) + 1;
  x = malloc(most * sizeof *x);
  scratch = malloc(2 * most * sizeof *scratch);
  idx = malloc(most * sizeof *idx);
  if (!x || !scratch || !idx) {
    oom(err, errlen);
    goto out;
  }
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
    if (site_corr(&f->corr, &f->ncorr, &c, rows + i, j - i, span_rss, g_rss, ns_rss, x, scratch, idx) != 0 ||
        site_corr(&f->bcorr, &f->nbcorr, &c, rows + i, j - i, span_buddy, g_buddy, ns_buddy, x, scratch, idx) != 0) {
      oom(err, errlen);
      goto out;
    }
    i = j;
  }
  rc = 0;
out:
  sqlite3_finalize(q);
  free(rows);
  free(pts);
  free(span_rss);
  free(span_buddy);
  free(g_rss);
  free(g_buddy);
  free(x);
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
    qsort(f->bcorr, f->nbcorr, sizeof *f->bcorr, cmp_corr);
  }
  if (load_mix(r, f, err, errlen) != 0 || load_pins(r, f, err, errlen) != 0) return -1;
  qsort(f->mix, f->nmix, sizeof *f->mix, cmp_mix);
  qsort(f->pins, f->npins, sizeof *f->pins, cmp_pin);
  return 0;
}
