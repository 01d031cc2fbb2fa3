/*
** ft_report_html_charts.c — the time charts of the HTML report:
**   a timeline per process (the largest heap peak first, at most
**   FT_HTML_MAX_TIMELINES, then one line naming the rest): its live heap
**   (heap_timeline, at most 1003 points), its RSS less the recorder's own
**   memory and the live heap at the same instants (process_samples), Pss
**   (smaps_samples), the gap between RSS and live heap shaded, the heap
**   peak marked, and what recording_control says: paused intervals and the
**   time after a stop shaded grey, flushes and the stop marked;
**   the host: for every node and zone with free memory, the free memory in
**   blocks of each buddy order over time (stacked), the kernel's unusable
**   free space index per order as a heat map (computed from buddyinfo with
**   ft_frag.c's integer formulas), and the instants where /proc/vmstat's
**   compaction stall/fail or THP fallback counters rose.
** Long runs are binned into at most MAX_COLS columns (mean free blocks per
** order, worst index per order), so a chart stays a few KB. A table that is
** missing or empty leaves a note instead of its chart.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_frag.h"
#include "ft_report.h"
#include "ft_report_frag.h"
#include "ft_report_html.h"
#include "ft_svg.h"

#define CAP FT_FMT_CAP
#define MAX_COLS 240   /* columns of a host chart: about 4 px each at full width */
#define MAX_ZONES 64   /* node x zone pairs: 16 NUMA nodes of 4 zones */
#define MAX_EVENTS 400 /* vmstat marks drawn; more would be a solid block anyway */

/* A growable array of doubles. */
typedef struct dvec {
  double *v;
  size_t n, cap;
} dvec;

static int dpush(dvec *d, double x) {
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 256;
    double *p = realloc(d->v, cap * sizeof *p);
    if (!p) return -1;
    d->v = p;
    d->cap = cap;
  }
  d->v[d->n++] = x;
  return 0;
}

/* Run a query with proc bound to ?1; NULL when the trace lacks the table. */
static sqlite3_stmt *query(const ft_report *r, const char *sql, int64_t proc) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK) {
    sqlite3_finalize(q);
    return NULL;
  }
  sqlite3_bind_int64(q, 1, proc);
  return q;
}

static void legend_item(FILE *out, const char *cls, const char *text) {
  fprintf(out, "<span class=\"key %s\"><i></i>", cls);
  ft_html_esc(out, text);
  fputs("</span>", out);
}

/* ---- timeline ------------------------------------------------------------------- */

#define SPARSE_PSS 24   /* Pss samples below which they are drawn as dots */
#define MAX_POINTS 2000  /* sampler points drawn per series: more than the chart has pixels */

/* Keep at most MAX_POINTS points of the series x, y (and the companion
** series z, which may be NULL): in each of MAX_POINTS equal runs of
** points the one with the largest y, so peaks survive. In place. */
static void thin(dvec *x, dvec *y, dvec *z) {
  if (x->n <= MAX_POINTS) return;
  size_t n = x->n, out = 0;
  for (size_t b = 0; b < MAX_POINTS; b++) {
    size_t lo = b * n / MAX_POINTS, hi = (b + 1) * n / MAX_POINTS, best = lo;
    for (size_t i = lo; i < hi; i++)
      if (y->v[i] > y->v[best]) best = i;
    x->v[out] = x->v[best];
    y->v[out] = y->v[best];
    if (z) z->v[out] = z->v[best];
    out++;
  }
  x->n = y->n = out;
  if (z) z->n = out;
}

/* The value of a step series (x ascending) at t: the last point at or
** before t; NaN before the first. */
static double step_at(const dvec *x, const dvec *y, double t, size_t *hint) {
  size_t i = *hint;
  while (i + 1 < x->n && x->v[i + 1] <= t) i++;
  *hint = i;
  return x->n && x->v[i] <= t ? y->v[i] : NAN;
}

/* The gap between RSS (linear between samples) and the live heap. The live
** heap's lower edge follows heap_timeline, which has far more points than
** the sampler, so the shading hugs the blue line; at the samples without
** a timeline (an older trace) it uses the sampler's own live_bytes. */
static void gap_band(const ft_svg_plot *pl, const dvec *st, const dvec *srss, const dvec *ht, const dvec *hl,
                     const dvec *slive, const char *tip) {
  if (ht->n == 0) {
    ft_svg_band(pl, st->v, slive->v, srss->v, st->n, "gap", tip);
    return;
  }
  size_t cap = st->n + ht->n, n = 0, i = 0, j = 0, hint = 0, k = 1; /* t only grows: k and hint too */
  double *x = malloc(cap * sizeof *x), *lo = malloc(cap * sizeof *lo), *hi = malloc(cap * sizeof *hi);
  if (!x || !lo || !hi) goto out;
  double t0 = st->v[0], t1 = st->v[st->n - 1];
  /* Merge the two time axes over the sampled span. */
  while (i < st->n || j < ht->n) {
    double t;
    if (j >= ht->n || (i < st->n && st->v[i] <= ht->v[j])) t = st->v[i++];
    else t = ht->v[j++];
    if (t < t0 || t > t1) continue;
    while (k < st->n && st->v[k] < t) k++;
    double rss = srss->v[0];
    if (st->n > 1) {
      double xa = st->v[k - 1], xb = st->v[k < st->n ? k : st->n - 1];
      double ya = srss->v[k - 1], yb = srss->v[k < st->n ? k : st->n - 1];
      rss = xb > xa ? ya + (yb - ya) * (t - xa) / (xb - xa) : yb;
    }
    x[n] = t;
    hi[n] = rss;
    lo[n] = step_at(ht, hl, t, &hint);
    if (isnan(lo[n])) lo[n] = 0;
    n++;
  }
  ft_svg_band(pl, x, lo, hi, n, "gap", tip);
out:
  free(x), free(lo), free(hi);
}

/* What recording_control says about one image, drawn on its chart: paused
** intervals and the time after a stop shaded grey (nothing was recorded
** there: a flat live heap means "not seen", not "no allocation"), flushes
** and the stop marked. Spans go under the lines (under=1), marks over
** them (under=0). Sets *spans and *marks when it drew any. */
static void ctl_marks(const ft_svg_plot *pl, const ft_proc_info *p, int under, int *spans, int *marks) {
  char a[CAP], b[CAP], tip[256];
  const ft_ctl_rec *open = NULL;
  for (size_t i = 0; i < p->nctl; i++) {
    const ft_ctl_rec *c = &p->ctl[i];
    double t = (double)c->t_ns;
    if (!strcmp(c->action, "pause")) {
      if (!open) open = c;
      continue;
    }
    int resume = !strcmp(c->action, "resume"), stop = !strcmp(c->action, "stop");
    if ((resume || stop) && open) {
      if (under) {
        snprintf(tip, sizeof tip, "recording paused from %s (%s) to %s (%s): nothing recorded",
                 ft_fmt_duration(a, sizeof a, (double)open->t_ns), open->source, ft_fmt_duration(b, sizeof b, t), c->source);
        ft_svg_vspan(pl, (double)open->t_ns, t, "paused", "paused", tip);
        *spans = 1;
      }
      open = NULL;
    }
    if (resume) continue;
    if (stop && under) {
      snprintf(tip, sizeof tip, "recording stopped at %s (%s): nothing recorded afterwards", ft_fmt_duration(a, sizeof a, t),
               c->source);
      ft_svg_vspan(pl, t, pl->x1, "untraced", "untraced", tip);
      *spans = 1;
    } else if (!under) {
      /* flush, stop, or an action this reporter does not know */
      const char *what = !strcmp(c->action, "flush") ? "flushed" : stop ? "stopped" : c->action;
      snprintf(tip, sizeof tip, "recording %s at %s (%s)", what, ft_fmt_duration(a, sizeof a, t), c->source);
      ft_svg_vmark(pl, t, "ctl", stop ? "stop" : NULL, tip);
      *marks = 1;
    }
  }
  if (open && under) {
    snprintf(tip, sizeof tip, "recording paused from %s (%s) to the end: nothing recorded",
             ft_fmt_duration(a, sizeof a, (double)open->t_ns), open->source);
    ft_svg_vspan(pl, (double)open->t_ns, pl->x1, "paused", "paused", tip);
    *spans = 1;
  }
}

/* Whether a process has anything to chart: allocations or RSS samples. */
static int chartable(const ft_proc_info *p) { return p->peak_live_bytes > 0 || p->peak_rss_bytes >= 0; }

/* Timeline order: the largest heap peak first, then the largest RSS, then
** trace order (proc), so the order is total and the tests can rebuild it. */
static int cmp_timeline(const void *x, const void *y) {
  const ft_proc_info *a = *(const ft_proc_info *const *)x, *b = *(const ft_proc_info *const *)y;
  if (a->peak_live_bytes != b->peak_live_bytes) return a->peak_live_bytes > b->peak_live_bytes ? -1 : 1;
  if (a->peak_rss_bytes != b->peak_rss_bytes) return a->peak_rss_bytes > b->peak_rss_bytes ? -1 : 1;
  return (a->proc > b->proc) - (a->proc < b->proc);
}

/* The chart of one process. multi: the trace has several, so a heading
** names it. */
static void proc_timeline(const ft_report *r, const ft_proc_info *p, FILE *out, int multi) {
  char a[CAP], b[CAP], c[CAP], line[512];
  dvec ht = {0}, hl = {0}, st = {0}, srss = {0}, slive = {0}, pt = {0}, pss = {0};
  int oom = 0;
  if (multi) {
    /* The anchor names the image (proc): the images of an exec share a pid. */
    fprintf(out, "<h3 class=\"proc\" id=\"timeline-%lld\">pid %lld <code>", (long long)p->proc, (long long)p->pid);
    ft_html_esc_trunc(out, p->cmdline && *p->cmdline ? p->cmdline : p->exe ? p->exe : "?", 120);
    fputs("</code> <small>", out);
    snprintf(line, sizeof line, "parent %lld, heap peak %s, peak RSS %s, ran %s", (long long)p->ppid,
             ft_fmt_bytes(a, sizeof a, (double)(p->peak_live_bytes > 0 ? p->peak_live_bytes : 0)),
             p->peak_rss_bytes >= 0 ? ft_fmt_bytes(b, sizeof b, (double)p->peak_rss_bytes) : "not sampled",
             ft_fmt_duration(c, sizeof c, (double)p->end_ns));
    ft_html_esc(out, line);
    fputs("</small></h3>\n", out);
  }
  sqlite3_stmt *q = query(r, "SELECT t_ns, live_bytes FROM heap_timeline WHERE proc = ?1 ORDER BY t_ns", p->proc);
  while (q && sqlite3_step(q) == SQLITE_ROW)
    oom |= dpush(&ht, (double)sqlite3_column_int64(q, 0)) | dpush(&hl, (double)sqlite3_column_int64(q, 1));
  sqlite3_finalize(q);
  if (ht.n == 0)
    /* A trace without heap_timeline: the report's own 64 slices, which
    ** only the peak process has. */
    for (int i = 0; i < r->nchart && p == r->peak_proc; i++)
      if (r->chart[i].live_bytes >= 0)
        oom |= dpush(&ht, (double)r->chart[i].t0_ns) | dpush(&hl, (double)r->chart[i].live_bytes);
  q = query(r,
            "SELECT t_ns, max(rss_bytes - coalesce(shim_bytes, 0), 0), live_bytes FROM process_samples WHERE proc = ?1 "
            "ORDER BY t_ns",
            p->proc);
  while (q && sqlite3_step(q) == SQLITE_ROW)
    oom |= dpush(&st, (double)sqlite3_column_int64(q, 0)) | dpush(&srss, (double)sqlite3_column_int64(q, 1)) |
           dpush(&slive, (double)sqlite3_column_int64(q, 2));
  sqlite3_finalize(q);
  q = query(r, "SELECT t_ns, pss FROM smaps_samples WHERE proc = ?1 AND pss IS NOT NULL ORDER BY t_ns", p->proc);
  while (q && sqlite3_step(q) == SQLITE_ROW)
    oom |= dpush(&pt, (double)sqlite3_column_int64(q, 0)) | dpush(&pss, (double)sqlite3_column_int64(q, 1));
  sqlite3_finalize(q);
  if (oom) {
    ft_html_para(out, "note", "Out of memory while reading the timeline.");
    goto done;
  }
  thin(&st, &srss, &slive);
  thin(&pt, &pss, NULL);

  if (!multi) {
    snprintf(line, sizeof line,
             "Process %lld (%s): live heap as the recorder saw it, RSS less the recorder's own memory, and Pss, "
             "over the process's run; shaded: RSS above the live heap, memory the process holds but does not use.",
             (long long)p->pid, p->exe ? p->exe : "?");
    ft_html_para(out, NULL, line);
  }
  double xmax = (double)p->end_ns, ymax = 0;
  const dvec *xs[] = {&ht, &st, &pt}, *ys[] = {&hl, &srss, &pss};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < xs[k]->n; i++) {
      xmax = fmax(xmax, xs[k]->v[i]);
      ymax = fmax(ymax, ys[k]->v[i]);
    }
  for (size_t i = 0; i < p->nctl; i++) xmax = fmax(xmax, (double)p->ctl[i].t_ns);
  ft_svg_plot pl = {.out = out, .width = 1000, .height = multi ? 244 : 304, .left = 64, .right = 12, .top = 14,
                    .bottom = 34, .x0 = 0, .x1 = xmax, .y0 = 0, .y1 = ymax * 1.08};
  snprintf(line, sizeof line, "Live heap, RSS and Pss over time, pid %lld", (long long)p->pid);
  ft_svg_begin(&pl, "chart timeline", line);
  ft_svg_axes(&pl, FT_SVG_NS, FT_SVG_BYTES, "time since the process started", NULL);
  int spans = 0, marks = 0;
  ctl_marks(&pl, p, 1, &spans, &marks);
  if (st.n > 0) {
    const ft_rf_proc *fp = NULL;
    for (size_t i = 0; r->frag && i < r->frag->nprocs; i++)
      if (r->frag->procs[i].proc == p->proc) fp = &r->frag->procs[i];
    if (fp && fp->gap_peak.t_ns >= 0)
      snprintf(line, sizeof line, "RSS above the live heap; largest gap %s", ft_fmt_bytes(a, sizeof a, (double)fp->gap_peak.gap));
    else
      snprintf(line, sizeof line, "RSS above the live heap");
    gap_band(&pl, &st, &srss, &ht, &hl, &slive, line);
  }
  ft_svg_line(&pl, ht.v, hl.v, ht.n, 1, "live");
  ft_svg_line(&pl, st.v, srss.v, st.n, 0, "rss");
  /* smaps_rollup is read seldom (1 s by default): a line between sparse
  ** samples would invent a trend, so few samples are dots. */
  if (pt.n > SPARSE_PSS) ft_svg_line(&pl, pt.v, pss.v, pt.n, 0, "pss");
  else
    for (size_t i = 0; i < pt.n; i++)
      fprintf(out, "<circle class=\"pss\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"/>\n", ft_svg_x(&pl, pt.v[i]),
              ft_svg_y(&pl, pss.v[i]));
  int peak = p->peak_live_ns >= 0 && p->peak_live_bytes > 0;
  if (peak) {
    snprintf(line, sizeof line, "heap peak %s", ft_fmt_bytes(a, sizeof a, (double)p->peak_live_bytes));
    char tip[256];
    snprintf(tip, sizeof tip, "heap peak: %s (%s) live in %s blocks at %s", ft_fmt_bytes(a, sizeof a, (double)p->peak_live_bytes),
             ft_fmt_int(b, sizeof b, p->peak_live_bytes), ft_fmt_int(c, sizeof c, p->peak_live_allocations),
             ft_fmt_duration(c, sizeof c, (double)p->peak_live_ns));
    ft_svg_vmark(&pl, (double)p->peak_live_ns, "peak", line, tip);
    fprintf(out, "<circle class=\"peakdot\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>\n", ft_svg_x(&pl, (double)p->peak_live_ns),
            ft_svg_y(&pl, (double)p->peak_live_bytes));
  }
  ctl_marks(&pl, p, 0, &spans, &marks);
  ft_svg_end(&pl);
  fputs("<p class=\"legend\">", out);
  legend_item(out, "live", "live heap");
  if (st.n) legend_item(out, "rss", "RSS less recorder");
  if (pt.n) legend_item(out, "pss", "Pss (recorder included)");
  if (st.n) legend_item(out, "gap", "fragmentation gap (RSS − live heap)");
  if (peak) legend_item(out, "peak", "heap peak");
  if (spans) legend_item(out, "paused", "not recorded (paused or stopped)");
  if (marks) legend_item(out, "ctl", "flush / stop");
  fputs("</p>\n", out);
  if (st.n == 0) ft_html_para(out, "note", "No RSS samples in this trace (recorded with --sample-ms 0): only the live heap is drawn.");
done:
  free(ht.v), free(hl.v), free(st.v), free(srss.v), free(slive.v), free(pt.v), free(pss.v);
}

/* pids of procs[from..to) as "pid A, B, C" into buf, at most 24 of them. */
static void pid_list(const ft_proc_info *const *procs, size_t from, size_t to, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = from; i < to && len + 32 < cap; i++) {
    if (i - from == 24) {
      snprintf(buf + len, cap - len, ", …");
      return;
    }
    int n = snprintf(buf + len, cap - len, "%s%lld", i == from ? "pid " : ", ", (long long)procs[i]->pid);
    if (n > 0) len += (size_t)n;
  }
}

void ft_html_timeline(const ft_report *r, FILE *out) {
  char a[CAP], list[512], line[1024];
  ft_html_heading(out, "timeline", "Memory over time");
  const ft_proc_info **order = r->nprocs ? malloc(r->nprocs * sizeof *order) : NULL;
  size_t n = 0;
  for (size_t i = 0; order && i < r->nprocs; i++)
    if (chartable(&r->procs[i])) order[n++] = &r->procs[i];
  if (n == 0) {
    ft_html_para(out, "note", order || !r->nprocs ? "No allocations and no RSS samples: nothing to chart."
                                                  : "Out of memory while reading the timeline.");
    free(order);
    return;
  }
  qsort(order, n, sizeof *order, cmp_timeline);
  size_t shown = n < FT_HTML_MAX_TIMELINES ? n : FT_HTML_MAX_TIMELINES;
  if (r->nprocs > 1) {
    snprintf(line, sizeof line,
             "One chart per process, the largest heap peak first, each in its own time since it started: live heap "
             "as the recorder saw it, RSS less the recorder's own memory, and Pss; shaded: RSS above the live heap, "
             "memory the process holds but does not use. %zu of %zu processes charted.",
             shown, r->nprocs);
    ft_html_para(out, NULL, line);
  }
  for (size_t i = 0; i < shown; i++) proc_timeline(r, order[i], out, r->nprocs > 1);
  if (n > shown) {
    pid_list(order, shown, n, list, sizeof list);
    snprintf(line, sizeof line, "%zu more process%s not charted (heap peaks up to %s): %s.", n - shown,
             n - shown == 1 ? "" : "es", ft_fmt_bytes(a, sizeof a, (double)order[shown]->peak_live_bytes), list);
    ft_html_para(out, "note", line);
  }
  if (n < r->nprocs) {
    /* The processes with nothing to chart, in trace order. */
    const ft_proc_info **rest = order; /* reuse: the charted ones are done */
    size_t k = 0;
    for (size_t i = 0; i < r->nprocs; i++)
      if (!chartable(&r->procs[i])) rest[k++] = &r->procs[i];
    pid_list(rest, 0, k, list, sizeof list);
    snprintf(line, sizeof line, "%zu process%s with no allocation and no RSS sample, not charted: %s.", k,
             k == 1 ? "" : "es", list);
    ft_html_para(out, "note", line);
  }
  free(order);
}

/* ---- the host ---------------------------------------------------------------------- */

typedef struct zone_cols {
  int64_t node;
  char zone[32];
  int norders;
  int64_t snaps;                   /* snapshots seen */
  double t0[MAX_COLS + 1];         /* time of each column's first snapshot; [ncols] the last time */
  double blocks[FT_RF_MAX_ORDERS][MAX_COLS]; /* sum of free blocks per order */
  double worst[FT_RF_MAX_ORDERS][MAX_COLS];  /* highest unusable index (0..1000), -1 none */
  int count[MAX_COLS];
  int64_t any_free;
} zone_cols;

typedef struct host {
  zone_cols *z[MAX_ZONES];
  int nz;
  int64_t nsnap;                   /* distinct snapshot times */
  int ncols;
  int64_t page_size;
  double ev_t[MAX_EVENTS];
  int ev_kind[MAX_EVENTS];         /* 0 compaction, 1 THP fallback */
  char ev_tip[MAX_EVENTS][96];
  int nev;
  int64_t compact_total, thp_total;
} host;

/* Add one finished snapshot of zone z (blocks per order) to its column. */
static void add_snapshot(host *h, zone_cols *z, double t, const uint64_t *blocks, int norders) {
  int col = (int)(z->snaps * h->ncols / (h->nsnap > 0 ? h->nsnap : 1));
  if (col >= h->ncols) col = h->ncols - 1;
  if (z->count[col] == 0) z->t0[col] = t;
  z->t0[h->ncols] = t;
  z->snaps++;
  z->count[col]++;
  if (norders > z->norders) z->norders = norders;
  ft_contig_info info;
  for (int o = 0; o < norders; o++) {
    z->blocks[o][col] += (double)blocks[o];
    z->any_free += (int64_t)blocks[o];
    ft_frag_fill(blocks, norders, (unsigned)o, &info);
    double u = ft_frag_unusable_index((unsigned)o, &info);
    if (u > z->worst[o][col]) z->worst[o][col] = u;
  }
}

static zone_cols *zone_get(host *h, int64_t node, const char *zone) {
  for (int i = 0; i < h->nz; i++)
    if (h->z[i]->node == node && !strcmp(h->z[i]->zone, zone)) return h->z[i];
  if (h->nz == MAX_ZONES) return NULL;
  zone_cols *z = calloc(1, sizeof *z);
  if (!z) return NULL;
  z->node = node;
  snprintf(z->zone, sizeof z->zone, "%s", zone);
  for (int o = 0; o < FT_RF_MAX_ORDERS; o++)
    for (int c = 0; c < MAX_COLS; c++) z->worst[o][c] = -1;
  h->z[h->nz++] = z;
  return z;
}

static void load_buddy(host *h, const ft_report *r, int64_t proc) {
  sqlite3_stmt *q = query(r, "SELECT count(DISTINCT t_ns) FROM buddyinfo_samples WHERE proc = ?1", proc);
  if (q && sqlite3_step(q) == SQLITE_ROW) h->nsnap = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  h->ncols = (int)(h->nsnap < MAX_COLS ? h->nsnap : MAX_COLS);
  if (h->ncols == 0) return;
  q = query(r,
            "SELECT t_ns, node, zone, page_order, free_blocks FROM buddyinfo_samples WHERE proc = ?1 "
            "ORDER BY node, zone, t_ns, page_order",
            proc);
  uint64_t blocks[FT_RF_MAX_ORDERS] = {0};
  int norders = 0;
  zone_cols *cur = NULL;
  double cur_t = -1;
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    double t = (double)sqlite3_column_int64(q, 0);
    int64_t node = sqlite3_column_int64(q, 1);
    const char *zone = (const char *)sqlite3_column_text(q, 2);
    int order = sqlite3_column_int(q, 3);
    if (!zone || order < 0 || order >= FT_RF_MAX_ORDERS) continue;
    if (!cur || cur->node != node || strcmp(cur->zone, zone) != 0 || t != cur_t) {
      if (cur && norders > 0) add_snapshot(h, cur, cur_t, blocks, norders);
      cur = zone_get(h, node, zone);
      if (!cur) break;
      cur_t = t;
      memset(blocks, 0, sizeof blocks);
      norders = 0;
    }
    blocks[order] = (uint64_t)sqlite3_column_int64(q, 4);
    if (order + 1 > norders) norders = order + 1;
  }
  if (cur && norders > 0) add_snapshot(h, cur, cur_t, blocks, norders);
  sqlite3_finalize(q);
}

/* The instants where a compaction or THP fallback counter rose between two
** samples (marked at the later one). */
static void load_events(host *h, const ft_report *r, int64_t proc) {
  sqlite3_stmt *q = query(r,
                          "SELECT key, t_ns, value FROM vmstat_samples WHERE proc = ?1 AND (key IN ('compact_stall', "
                          "'compact_fail') OR key LIKE 'thp%fallback%') ORDER BY key, t_ns",
                          proc);
  char prev_key[64] = "";
  int64_t prev_v = 0, prev_t = 0;
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    const char *key = (const char *)sqlite3_column_text(q, 0);
    int64_t t = sqlite3_column_int64(q, 1), v = sqlite3_column_int64(q, 2);
    if (!key) continue;
    if (!strcmp(key, prev_key) && v > prev_v) {
      int kind = strncmp(key, "compact", 7) == 0 ? 0 : 1;
      if (kind == 0) h->compact_total += v - prev_v;
      else h->thp_total += v - prev_v;
      if (h->nev < MAX_EVENTS) {
        char a[CAP], b[CAP];
        h->ev_t[h->nev] = (double)t;
        h->ev_kind[h->nev] = kind;
        snprintf(h->ev_tip[h->nev], sizeof h->ev_tip[0], "%s +%lld between %s and %s", key, (long long)(v - prev_v),
                 ft_fmt_duration(a, sizeof a, (double)prev_t), ft_fmt_duration(b, sizeof b, (double)t));
        h->nev++;
      }
    }
    snprintf(prev_key, sizeof prev_key, "%s", key);
    prev_v = v;
    prev_t = t;
  }
  sqlite3_finalize(q);
}

static void draw_events(const host *h, const ft_svg_plot *pl) {
  for (int i = 0; i < h->nev; i++)
    ft_svg_vmark(pl, h->ev_t[i], h->ev_kind[i] == 0 ? "ev compact" : "ev thp", NULL, h->ev_tip[i]);
}

/* Order o's colour: warm for small blocks (free memory that fragmentation
** left behind) to cool for the large ones (healthy free memory). */
static const char *order_colour(int o, int n, char *buf, size_t cap) {
  double f = n > 1 ? (double)o / (n - 1) : 0;
  snprintf(buf, cap, "hsl(%.0f,62%%,%.0f%%)", 10 + 205 * f, 56 - 10 * f);
  return buf;
}

/* The page size for heat_row_tip, which ft_svg_heat calls without context
** (the report is written by one thread). */
static int64_t heat_page_size;
static const char *heat_row_tip(int o, char *buf, size_t cap) {
  char a[CAP];
  snprintf(buf, cap, "order %d (%s blocks): share of free memory in smaller blocks, unusable for this order", o,
           ft_fmt_bytes(a, sizeof a, (double)(heat_page_size << o)));
  return buf;
}

static void zone_charts(const host *h, const zone_cols *z, FILE *out) {
  char a[CAP], title[160];
  int n = 0;
  while (n < h->ncols && z->count[n] > 0) n++;
  if (n == 0) return;
  double edges[MAX_COLS + 1];
  for (int i = 0; i < n; i++) edges[i] = z->t0[i];
  /* The last column ends at the last snapshot, or a little after a lone one. */
  edges[n] = z->t0[h->ncols] > edges[n - 1] ? z->t0[h->ncols] : edges[n - 1] + 1;
  if (n > 1 && edges[n] == edges[n - 1]) edges[n] = edges[n - 1] + (edges[n - 1] - edges[0]) / (n - 1);
  int no = z->norders;
  static double v[FT_RF_MAX_ORDERS * MAX_COLS]; /* 60 KB: static rather than on the stack */
  double ymax = 0;
  for (int c = 0; c < n; c++) {
    double tot = 0;
    for (int o = 0; o < no; o++) {
      v[(size_t)o * n + c] = z->blocks[o][c] / z->count[c] * (double)h->page_size * ldexp(1, o);
      tot += v[(size_t)o * n + c];
    }
    ymax = fmax(ymax, tot);
  }
  char tipbuf[FT_RF_MAX_ORDERS][96];
  const char *tips[FT_RF_MAX_ORDERS];
  for (int o = 0; o < no; o++) {
    double mean = 0;
    for (int c = 0; c < n; c++) mean += z->blocks[o][c] / z->count[c];
    snprintf(tipbuf[o], sizeof tipbuf[o], "order %d: free blocks of %s, %.0f on average", o,
             ft_fmt_bytes(a, sizeof a, (double)(h->page_size << o)), mean / n);
    tips[o] = tipbuf[o];
  }
  fprintf(out, "<h3>Node %lld, zone ", (long long)z->node);
  ft_html_esc(out, z->zone);
  fprintf(out, " <small>(%lld snapshots)</small></h3>\n<div class=\"pair\"><figure>", (long long)z->snaps);
  snprintf(title, sizeof title, "Free memory by buddy order, node %lld zone %s", (long long)z->node, z->zone);
  ft_svg_plot pl = {.out = out, .width = 600, .height = 240, .left = 64, .right = 10, .top = 12, .bottom = 30,
                    .x0 = edges[0], .x1 = edges[n], .y0 = 0, .y1 = ymax * 1.05};
  ft_svg_begin(&pl, "chart buddy", title);
  ft_svg_axes(&pl, FT_SVG_NS, FT_SVG_BYTES, NULL, NULL);
  ft_svg_stack(&pl, edges, (size_t)n, v, no, order_colour, tips);
  draw_events(h, &pl);
  ft_svg_end(&pl);
  fputs("<figcaption>Free memory in blocks of each order over time, stacked (the smallest blocks at the bottom)</figcaption>", out);
  fputs("<p class=\"legend\">", out);
  for (int o = 0; o < no; o++) {
    char c[64];
    fprintf(out, "<span class=\"key\"><i style=\"background:%s\"></i>%s</span>", order_colour(o, no, c, sizeof c),
            ft_fmt_bytes(a, sizeof a, (double)(h->page_size << o)));
  }
  fputs("</p></figure><figure>", out);
  for (int o = 0; o < no; o++)
    for (int c = 0; c < n; c++) v[(size_t)o * n + c] = z->worst[o][c] < 0 ? -1 : z->worst[o][c] / 1000.0;
  snprintf(title, sizeof title, "Unusable free space index per order, node %lld zone %s", (long long)z->node, z->zone);
  ft_svg_plot hm = {.out = out, .width = 600, .height = 240, .left = 64, .right = 10, .top = 12, .bottom = 30,
                    .x0 = edges[0], .x1 = edges[n], .y0 = 0, .y1 = no};
  ft_svg_begin(&hm, "chart heat", title);
  heat_page_size = h->page_size;
  ft_svg_heat(&hm, edges, (size_t)n, v, no, 20, heat_row_tip);
  /* Order labels instead of a numeric y axis. */
  fputs("<g class=\"axis\">", out);
  int every = no > 12 ? 2 : 1;
  for (int o = 0; o < no; o += every)
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", hm.left - 4, ft_svg_y(&hm, o + 0.5) + 3.5,
            ft_fmt_bytes(a, sizeof a, (double)(h->page_size << o)));
  fputs("</g>", out);
  ft_svg_axes(&hm, FT_SVG_NS, FT_SVG_NONE, NULL, NULL);
  draw_events(h, &hm);
  ft_svg_end(&hm);
  fputs("<figcaption>Unusable free space index per block size over time (0, pale: all free memory could serve that size; "
        "1, dark red: none of it could)</figcaption><p class=\"legend heatkey\">",
        out);
  for (int i = 0; i <= 4; i++) {
    char c[64];
    fprintf(out, "<span class=\"key\"><i style=\"background:%s\"></i>%.2f</span>", ft_svg_heat_colour(i / 4.0, c, sizeof c), i / 4.0);
  }
  fputs("</p></figure></div>\n", out);
}

void ft_html_system(const ft_report *r, FILE *out) {
  ft_html_heading(out, "system", "Host memory");
  const ft_frag_report *f = r->frag;
  if (!f || !f->has_buddy || f->sys_proc < 0) {
    ft_html_para(out, "note", f ? "No /proc/buddyinfo samples in this trace." : "No host samples in this trace.");
    return;
  }
  host *h = calloc(1, sizeof *h);
  if (!h) return;
  h->page_size = f->page_size > 0 ? f->page_size : 4096;
  load_buddy(h, r, f->sys_proc);
  load_events(h, r, f->sys_proc);
  char a[CAP], line[600];
  int64_t sys_pid = f->sys_proc; /* the pid when the sampler's image is among the selected ones */
  for (size_t i = 0; i < r->nprocs; i++)
    if (r->procs[i].proc == f->sys_proc) sys_pid = r->procs[i].pid;
  snprintf(line, sizeof line,
           "From /proc/buddyinfo (page size %s, %lld snapshots%s) as sampled by pid %lld; times since that process "
           "started. Free memory shifting to the lower orders means the host's free memory is fragmenting: the heat map "
           "turns red in the rows of the block sizes that can no longer be allocated.",
           ft_fmt_bytes(a, sizeof a, (double)h->page_size), (long long)h->nsnap,
           h->nsnap > h->ncols ? ", binned into columns: means of free blocks, worst index" : "", (long long)sys_pid);
  ft_html_para(out, NULL, line);
  if (h->compact_total || h->thp_total)
    snprintf(line, sizeof line,
             "Marked on the charts: %lld compaction stalls/failures (orange) and %lld THP fallbacks (purple) between "
             "/proc/vmstat samples; hover a mark for the counter and interval.",
             (long long)h->compact_total, (long long)h->thp_total);
  else
    snprintf(line, sizeof line, "%s",
             f->has_vmstat ? "No compaction stall or failure and no THP fallback between /proc/vmstat samples."
                           : "No /proc/vmstat samples: compaction and THP fallbacks are not marked.");
  ft_html_para(out, NULL, line);
  int shown = 0;
  for (int i = 0; i < h->nz; i++) {
    if (h->z[i]->any_free == 0) continue; /* a zone that never had a free page (empty DMA) says nothing */
    zone_charts(h, h->z[i], out);
    shown++;
  }
  if (!shown) ft_html_para(out, "note", "No zone had free memory in any snapshot.");
  for (int i = 0; i < h->nz; i++) free(h->z[i]);
  free(h);
}
