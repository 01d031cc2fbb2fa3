/*
** ft_report_html_sites.c — the call-site tables of the HTML report: churn,
** leaks, peak and pinning, in the report's own rankings and --top. Every
** row carries
**   a sparkline of the site's allocation rate over the run (site_windows,
**   summed over the site's stacks, binned into SPARK_COLS columns of the
**   run; each image's windows are in its own time, so with several
**   processes the columns line up by time since each one started),
**   its lifetime histogram (the report's log2 buckets, never-freed blocks
**   not in it), and
**   the whole stack of the site's busiest stack: on hover (a title) and on
**   click (a <details> that needs no script and prints).
** Also the overall size histogram.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_frag.h"
#include "ft_report_html.h"
#include "ft_svg.h"

#define CAP FT_FMT_CAP
#define SPARK_COLS 40

typedef struct sites_ctx {
  const ft_report *r;
  FILE *out;
  double *spark;        /* SPARK_COLS per site, rates per second; NULL when site_windows is absent */
  double spark_col_ns;  /* time width of a column */
  int ncols;            /* columns used: SPARK_COLS, fewer when the run has fewer windows */
} sites_ctx;

static size_t top_n(const ft_report *r, size_t n) {
  return r->opts->top > 0 && (size_t)r->opts->top < n ? (size_t)r->opts->top : n;
}

/* Mark the sites the tables will show (churn, leaks, peak and pinning
** rankings up to --top) in want[]. */
static void wanted_sites(const ft_report *r, char *want) {
  const size_t *ranks[] = {r->churn_rank, r->leak_rank, r->peak_rank};
  size_t counts[] = {r->nchurn, r->nleak, r->npeak};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < top_n(r, counts[k]); i++) want[ranks[k][i]] = 1;
  if (r->frag)
    for (size_t i = 0; i < top_n(r, r->frag->npins); i++) want[r->frag->pins[i].site] = 1;
}

/* Fill c->spark from site_windows for the wanted sites. Leaves it NULL when
** the trace has no windows (an older trace). */
static void load_sparks(sites_ctx *c) {
  const ft_report *r = c->r;
  if (r->nsites == 0) return;
  sqlite3_stmt *q = NULL;
  int64_t window_ns = 0, maxw = -1;
  if (sqlite3_prepare_v2(r->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'window_ns'", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    window_ns = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  q = NULL;
  if (window_ns <= 0) return;
  char *want = calloc(r->nsites, 1);
  if (!want) return;
  wanted_sites(r, want);
  /* The selected images' last window sets the columns' span. */
  for (size_t i = 0; i < r->nprocs; i++) {
    int64_t w = r->procs[i].end_ns / window_ns;
    if (w > maxw) maxw = w;
  }
  if (sqlite3_prepare_v2(r->db, "SELECT stack_id, window, allocations FROM site_windows", -1, &q, NULL) != SQLITE_OK ||
      !(c->spark = calloc(r->nsites * SPARK_COLS, sizeof *c->spark))) {
    sqlite3_finalize(q);
    free(want);
    return;
  }
  double span = (double)(maxw + 1);
  /* Never more columns than windows: a column without a window of its own
  ** would read as a drop to zero. */
  c->ncols = maxw + 1 < SPARK_COLS ? (int)(maxw + 1) : SPARK_COLS;
  int any = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    int64_t si = ft_report_stack_index(r, sqlite3_column_int64(q, 0));
    if (si < 0) continue; /* a stack of an image not selected */
    int site = r->stacks[si].site;
    if (site < 0 || !want[site]) continue;
    int64_t w = sqlite3_column_int64(q, 1);
    int col = (int)((double)w / span * c->ncols);
    if (col >= c->ncols) col = c->ncols - 1;
    if (col < 0) col = 0;
    c->spark[(size_t)site * SPARK_COLS + (size_t)col] += (double)sqlite3_column_int64(q, 2);
    any = 1;
  }
  sqlite3_finalize(q);
  free(want);
  if (!any) {
    free(c->spark);
    c->spark = NULL;
    return;
  }
  c->spark_col_ns = span * (double)window_ns / c->ncols;
  for (size_t i = 0; i < r->nsites * SPARK_COLS; i++) c->spark[i] /= c->spark_col_ns / 1e9;
}

/* The sparkline cell of site s. */
static void spark_cell(const sites_ctx *c, int site) {
  fputs("<td class=\"viz\">", c->out);
  if (c->spark) {
    const double *v = &c->spark[(size_t)site * SPARK_COLS];
    double max = 0;
    int at = 0;
    for (int i = 0; i < c->ncols; i++)
      if (v[i] > max) max = v[i], at = i;
    char a[CAP], b[CAP], c2[CAP], tip[256];
    snprintf(tip, sizeof tip, "allocations per second over the run, in columns of %s; highest %s/s from %s",
             ft_fmt_duration(a, sizeof a, c->spark_col_ns), ft_fmt_si(b, sizeof b, max),
             ft_fmt_duration(c2, sizeof c2, c->spark_col_ns * at));
    ft_svg_spark(c->out, v, (size_t)c->ncols, 96, 20, tip);
  }
  fputs("</td>", c->out);
}

/* The lifetime histogram cell of site s: the buckets from the shortest to
** the longest lifetime seen. */
static void life_cell(const sites_ctx *c, const ft_site *s) {
  fputs("<td class=\"viz\">", c->out);
  if (s->life_hist) {
    int lo = -1, hi = -1;
    int64_t total = 0;
    for (int b = 0; b < FT_HIST_BUCKETS; b++)
      if (s->life_hist[b] > 0) {
        if (lo < 0) lo = b;
        hi = b;
        total += s->life_hist[b];
      }
    if (lo >= 0) {
      double v[FT_HIST_BUCKETS];
      char tipbuf[FT_HIST_BUCKETS][96];
      const char *tips[FT_HIST_BUCKETS];
      int n = hi - lo + 1;
      for (int i = 0; i < n; i++) {
        int b = lo + i;
        char a[CAP], bb[CAP], k[CAP];
        v[i] = (double)s->life_hist[b];
        snprintf(tipbuf[i], sizeof tipbuf[i], "lifetime %s .. %s: %s", ft_fmt_duration(a, sizeof a, b == 0 ? 0 : ldexp(1, b)),
                 ft_fmt_duration(bb, sizeof bb, ldexp(1, b + 1)), ft_fmt_int(k, sizeof k, s->life_hist[b]));
        tips[i] = tipbuf[i];
      }
      char a[CAP], bb[CAP], k[CAP], tip[160];
      snprintf(tip, sizeof tip, "lifetimes of %s freed blocks, %s .. %s (log2 buckets)", ft_fmt_int(k, sizeof k, total),
               ft_fmt_duration(a, sizeof a, lo == 0 ? 0 : ldexp(1, lo)), ft_fmt_duration(bb, sizeof bb, ldexp(1, hi + 1)));
      ft_svg_bars(c->out, v, (size_t)n, n * 5 < 40 ? 40 : n * 5, 20, tips, tip);
    }
  }
  fputs("</td>", c->out);
}

/* The site cell: its label, and its whole stack on hover and click. */
static void site_cell(const sites_ctx *c, const ft_site *s) {
  FILE *o = c->out;
  char buf[4096];
  const ft_stack_info *st = s->stack;
  fputs("<td class=\"site\">", o);
  if (!st || st->nframes == 0) {
    ft_html_esc(o, ft_site_label(s));
    fputs("</td>", o);
    return;
  }
  fputs("<details><summary title=\"", o);
  for (int i = 0; i < st->nframes; i++) {
    ft_html_esc(o, ft_frame_label(&st->frames[i], buf, sizeof buf));
    if (i + 1 < st->nframes) fputs("&#10;", o);
  }
  fputs("\">", o);
  ft_html_esc(o, ft_site_label(s));
  if (s->nstacks > 1) fprintf(o, " <small>(%d stacks)</small>", s->nstacks);
  fputs("</summary><ol class=\"stack\" start=\"0\">", o);
  for (int i = 0; i < st->nframes; i++) {
    fputs(i == st->site ? "<li class=\"at\">" : i < st->site ? "<li class=\"wrap\">" : "<li>", o);
    ft_html_esc(o, ft_frame_label(&st->frames[i], buf, sizeof buf));
    if (st->frames[i].module && st->frames[i].file) {
      fputs(" <small>", o);
      const char *slash = strrchr(st->frames[i].module, '/');
      ft_html_esc(o, slash ? slash + 1 : st->frames[i].module);
      fputs("</small>", o);
    }
    fputs("</li>", o);
  }
  fputs("</ol></details></td>", o);
}

static void td(FILE *o, const char *text) {
  fputs("<td>", o);
  ft_html_esc(o, text);
  fputs("</td>", o);
}

static void table_head(FILE *o, const char *const *cols, int n) {
  fputs("<div class=\"scroll\"><table class=\"sites\"><thead><tr>", o);
  for (int i = 0; i < n; i++) {
    fputs("<th>", o);
    ft_html_esc(o, cols[i]);
    fputs("</th>", o);
  }
  fputs("</tr></thead><tbody>\n", o);
}

static void table_end(FILE *o) { fputs("</tbody></table></div>\n", o); }

static const char *pct(char *buf, int64_t part, int64_t whole) {
  return ft_fmt_pct(buf, CAP, whole > 0 ? 100.0 * (double)part / (double)whole : 0);
}

static void churn(const sites_ctx *c) {
  const ft_report *r = c->r;
  FILE *o = c->out;
  char a[CAP], line[512];
  ft_html_heading(o, "churn", "Churn");
  size_t n = top_n(r, r->nchurn);
  snprintf(line, sizeof line,
           "Sites by allocation rate over their active period, %zu of %zu with at least %lld allocations; short-lived: "
           "< %s. Click a site for its whole stack.",
           n, r->nchurn, (long long)r->opts->min_allocs, ft_fmt_duration(a, sizeof a, (double)r->short_lived_ns));
  ft_html_para(o, NULL, line);
  if (n == 0) return;
  table_head(o, (const char *const[]){"#", "allocs/s", "bytes/s", "allocations", "bytes", "short-lived", "rate over time",
                                      "lifetimes", "site"},
             9);
  for (size_t i = 0; i < n; i++) {
    const ft_site *s = &r->sites[r->churn_rank[i]];
    char k[CAP], rate[CAP], br[CAP + 2], al[CAP], by[CAP], sl[CAP];
    snprintf(k, sizeof k, "%zu", i + 1);
    ft_fmt_bytes(br, CAP, s->bytes_rate);
    strcat(br, "/s");
    fputs("<tr>", o);
    td(o, k), td(o, ft_fmt_si(rate, sizeof rate, s->rate)), td(o, br), td(o, ft_fmt_int(al, sizeof al, s->allocations));
    td(o, ft_fmt_bytes(by, sizeof by, (double)s->bytes)), td(o, pct(sl, s->short_lived, s->allocations));
    spark_cell(c, (int)r->churn_rank[i]);
    life_cell(c, s);
    site_cell(c, s);
    fputs("</tr>\n", o);
  }
  table_end(o);
}

static void leaks(const sites_ctx *c) {
  const ft_report *r = c->r;
  FILE *o = c->out;
  char a[CAP], b[CAP], d[CAP], line[512];
  ft_html_heading(o, "leaks", "Leaks");
  size_t n = top_n(r, r->nleak);
  snprintf(line, sizeof line, "%s blocks, %s (%s bytes) never freed, in %zu sites (%zu shown).", ft_fmt_int(a, sizeof a, r->leaked),
           ft_fmt_bytes(b, sizeof b, (double)r->leaked_bytes), ft_fmt_int(d, sizeof d, r->leaked_bytes), r->nleak, n);
  ft_html_para(o, NULL, line);
  if (r->nsupp > 0) {
    snprintf(line, sizeof line, "Suppressions hid %s blocks, %s.", ft_fmt_int(a, sizeof a, r->suppressed),
             ft_fmt_bytes(b, sizeof b, (double)r->suppressed_bytes));
    ft_html_para(o, NULL, line);
  }
  if (n == 0) return;
  table_head(o, (const char *const[]){"#", "blocks", "bytes", "share", "rate over time", "lifetimes", "site"}, 7);
  for (size_t i = 0; i < n; i++) {
    const ft_site *s = &r->sites[r->leak_rank[i]];
    char k[CAP], bl[CAP], by[CAP], sh[CAP];
    snprintf(k, sizeof k, "%zu", i + 1);
    fputs("<tr>", o);
    td(o, k), td(o, ft_fmt_int(bl, sizeof bl, s->leaked)), td(o, ft_fmt_bytes(by, sizeof by, (double)s->leaked_bytes));
    td(o, pct(sh, s->leaked_bytes, r->leaked_bytes));
    spark_cell(c, (int)r->leak_rank[i]);
    life_cell(c, s);
    site_cell(c, s);
    fputs("</tr>\n", o);
  }
  table_end(o);
}

static void peak(const sites_ctx *c) {
  const ft_report *r = c->r;
  FILE *o = c->out;
  char a[CAP], b[CAP], d[CAP], line[512];
  ft_html_heading(o, "peak", "Peak");
  const ft_proc_info *p = r->peak_proc;
  if (!p) {
    ft_html_para(o, NULL, "No allocations.");
    return;
  }
  size_t n = top_n(r, r->npeak);
  snprintf(line, sizeof line, "%s live in %s blocks at %s in pid %lld, by site (%zu of %zu shown).",
           ft_fmt_bytes(a, sizeof a, (double)p->peak_live_bytes), ft_fmt_int(b, sizeof b, p->peak_live_allocations),
           ft_fmt_duration(d, sizeof d, (double)p->peak_live_ns), (long long)p->pid, n, r->npeak);
  ft_html_para(o, NULL, line);
  if (n == 0) return;
  table_head(o, (const char *const[]){"#", "bytes", "blocks", "share", "rate over time", "lifetimes", "site"}, 7);
  for (size_t i = 0; i < n; i++) {
    const ft_site *s = &r->sites[r->peak_rank[i]];
    char k[CAP], bl[CAP], by[CAP], sh[CAP];
    snprintf(k, sizeof k, "%zu", i + 1);
    fputs("<tr>", o);
    td(o, k), td(o, ft_fmt_bytes(by, sizeof by, (double)s->peak_bytes)), td(o, ft_fmt_int(bl, sizeof bl, s->peak_count));
    td(o, pct(sh, s->peak_bytes, p->peak_live_bytes));
    spark_cell(c, (int)r->peak_rank[i]);
    life_cell(c, s);
    site_cell(c, s);
    fputs("</tr>\n", o);
  }
  table_end(o);
}

static void pinning(const sites_ctx *c) {
  const ft_report *r = c->r;
  const ft_frag_report *f = r->frag;
  FILE *o = c->out;
  char a[CAP], b[CAP], line[512];
  ft_html_heading(o, "pinning", "Pinning");
  if (!f || !f->has_pinning) {
    ft_html_para(o, "note", "No pinning tables in this trace.");
    return;
  }
  size_t n = top_n(r, f->npins);
  snprintf(line, sizeof line,
           "Resident heap pages (%s) held by a few live bytes: %s of them are free memory the process cannot return, "
           "attributed to the sites of the live blocks on them (%zu sites, %zu shown).",
           ft_fmt_bytes(a, sizeof a, (double)f->page_size), ft_fmt_bytes(b, sizeof b, (double)f->pinned_total), f->npins, n);
  ft_html_para(o, NULL, line);
  if (n == 0) return;
  table_head(o, (const char *const[]){"#", "pinned", "pages", "live blocks", "typical size", "share", "rate over time",
                                      "lifetimes", "site"},
             9);
  for (size_t i = 0; i < n; i++) {
    const ft_rf_pin *p = &f->pins[i];
    const ft_site *s = &r->sites[p->site];
    char k[CAP], pb[CAP], pg[CAP], bl[CAP], ts[CAP], sh[CAP];
    snprintf(k, sizeof k, "%zu", i + 1);
    fputs("<tr>", o);
    td(o, k), td(o, ft_fmt_bytes(pb, sizeof pb, (double)p->pinned_bytes)), td(o, ft_fmt_int(pg, sizeof pg, p->pages));
    td(o, ft_fmt_int(bl, sizeof bl, p->blocks)), td(o, ft_fmt_bytes(ts, sizeof ts, (double)p->typical_size));
    td(o, pct(sh, p->pinned_bytes, f->pinned_total));
    spark_cell(c, p->site);
    life_cell(c, s);
    site_cell(c, s);
    fputs("</tr>\n", o);
  }
  table_end(o);
}

static void sizes(const sites_ctx *c) {
  const ft_report *r = c->r;
  FILE *o = c->out;
  ft_html_heading(o, "sizes", "Sizes");
  int lo = -1, hi = -1;
  for (int b = 0; b < FT_HIST_BUCKETS; b++)
    if (r->size_count[b] > 0) {
      if (lo < 0) lo = b;
      hi = b;
    }
  if (lo < 0) {
    ft_html_para(o, NULL, "No allocations.");
    return;
  }
  ft_html_para(o, NULL, "Allocations by requested size (log2 buckets): count (dark) and bytes (light), each scaled to its largest bucket.");
  int n = hi - lo + 1;
  double cnt[FT_HIST_BUCKETS], byt[FT_HIST_BUCKETS];
  double mc = 0, mb = 0;
  for (int i = 0; i < n; i++) {
    cnt[i] = (double)r->size_count[lo + i], byt[i] = (double)r->size_bytes[lo + i];
    mc = fmax(mc, cnt[i]), mb = fmax(mb, byt[i]);
  }
  ft_svg_plot pl = {.out = o, .width = 1000, .height = 200, .left = 64, .right = 12, .top = 10, .bottom = 30,
                    .x0 = 0, .x1 = n, .y0 = 0, .y1 = 1};
  ft_svg_begin(&pl, "chart sizes", "Allocations by size");
  double bw = (ft_svg_x(&pl, 1) - ft_svg_x(&pl, 0));
  for (int i = 0; i < n; i++) {
    char a[CAP], b[CAP], k[CAP], y[CAP];
    int bk = lo + i;
    double x = ft_svg_x(&pl, i);
    double hc = mc > 0 ? cnt[i] / mc : 0, hb = mb > 0 ? byt[i] / mb : 0;
    fprintf(o, "<g><title>%s .. %s: %s allocations, %s</title>", ft_fmt_bytes(a, sizeof a, bk == 0 ? 0 : ldexp(1, bk)),
            ft_fmt_bytes(b, sizeof b, ldexp(1, bk + 1)), ft_fmt_int(k, sizeof k, r->size_count[bk]),
            ft_fmt_bytes(y, sizeof y, (double)r->size_bytes[bk]));
    if (hc > 0)
      fprintf(o, "<rect class=\"cnt\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x + bw * 0.1, ft_svg_y(&pl, hc),
              bw * 0.4, ft_svg_y(&pl, 0) - ft_svg_y(&pl, hc));
    if (hb > 0)
      fprintf(o, "<rect class=\"byt\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", x + bw * 0.5, ft_svg_y(&pl, hb),
              bw * 0.4, ft_svg_y(&pl, 0) - ft_svg_y(&pl, hb));
    fprintf(o, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text></g>\n", x + bw / 2,
            pl.height - pl.bottom + 15, ft_fmt_bytes(a, sizeof a, bk == 0 ? 0 : ldexp(1, bk)));
  }
  fprintf(o, "<path class=\"frame\" d=\"M%.1f %.1fH%.1f\"/>", pl.left, ft_svg_y(&pl, 0), pl.width - pl.right);
  ft_svg_end(&pl);
}

void ft_html_sites(const ft_report *r, FILE *out) {
  sites_ctx c = {r, out, NULL, 0, 0};
  load_sparks(&c);
  unsigned sec = r->opts->sections;
  if (sec & FT_SEC_CHURN) churn(&c);
  if (sec & FT_SEC_LEAKS) leaks(&c);
  if (sec & FT_SEC_PEAK) peak(&c);
  if ((sec & FT_SEC_FRAG) && r->frag) pinning(&c);
  if (sec & FT_SEC_SIZES) sizes(&c);
  free(c.spark);
}
