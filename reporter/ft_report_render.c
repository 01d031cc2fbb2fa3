/*
** ft_report_render.c — the human-readable report: plain text for a terminal
** (aligned columns, human units) and GitHub-flavoured markdown for CI job
** summaries and comments (pipe tables, the chart and histograms in code
** blocks, per-site details folded in <details>). Both come from the same
** tables so they always say the same thing; only the framing differs.
*/
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_frag.h"

typedef struct doc {
  const ft_report *r;
  FILE *out;
  ft_style style;
} doc;

#define CAP FT_FMT_CAP
#define BAR_WIDTH 40

static void heading(doc *d, const char *title) {
  if (d->style == FT_STYLE_MARKDOWN) fprintf(d->out, "\n## %s\n\n", title);
  else fprintf(d->out, "\n== %s ==\n", title);
}

static void para(doc *d, const char *text) {
  if (d->style == FT_STYLE_MARKDOWN) {
    ft_md_escape(d->out, text);
    fputs("\n\n", d->out);
  } else {
    fprintf(d->out, "  %s\n", text);
  }
}

static void table(doc *d, ft_table *t) {
  if (!t) return;
  if (d->style == FT_STYLE_TEXT) fputc('\n', d->out);
  ft_table_print(t, d->out, d->style, d->style == FT_STYLE_TEXT ? "  " : NULL);
  if (d->style == FT_STYLE_MARKDOWN) fputc('\n', d->out);
  ft_table_free(t);
}

/* A block of preformatted lines: folded under a summary line in markdown. */
static void pre_begin(doc *d, const char *summary) {
  if (d->style == FT_STYLE_MARKDOWN) {
    if (summary) {
      fputs("<details><summary>", d->out);
      ft_md_escape(d->out, summary);
      fputs("</summary>\n\n", d->out);
    }
    fputs("```\n", d->out);
  } else {
    fputc('\n', d->out);
    if (summary) fprintf(d->out, "  %s\n", summary);
  }
}

static void pre_end(doc *d, int folded) {
  if (d->style == FT_STYLE_MARKDOWN) fputs(folded ? "```\n\n</details>\n\n" : "```\n\n", d->out);
}

static size_t top_n(const ft_report *r, size_t n) {
  return r->opts->top > 0 && (size_t)r->opts->top < n ? (size_t)r->opts->top : n;
}

static const char *pct(char *buf, int64_t part, int64_t whole) {
  return ft_fmt_pct(buf, CAP, whole > 0 ? 100.0 * (double)part / (double)whole : 0);
}

/* ---- summary ---------------------------------------------------------------- */

static void kv(ft_table *t, const char *k, const char *v) { ft_table_row(t, (const char *[]){k, v}); }

void ft_report_thinning_text(const ft_report *r, char *buf, size_t cap) {
  sqlite3_stmt *q = NULL;
  buf[0] = '\0';
  char a[CAP], b[CAP], k[CAP], kl[CAP];
  /* The live rows' own factor: only when freed rows alone could not keep
  ** the trace under its limit (a live heap of many blocks). */
  int64_t keep_live = 0, live_deleted = 0;
  /* Left out: the leaks the summaries count less the live rows kept (some
  ** were never written at all, so the rounds' counts fall short). */
  if (sqlite3_prepare_v2(r->db,
                         "SELECT (SELECT max(keep) FROM thinning WHERE what = 'live_allocation_rows'), "
                         "(SELECT sum(leaked) FROM site_stats) - (SELECT count(*) FROM allocation_rows "
                         "WHERE lifetime IS NULL AND stack_id IS NOT NULL)",
                         -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW) {
    keep_live = sqlite3_column_int64(q, 0);
    live_deleted = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  q = NULL;
  static const char live_why[] =
      "(the live heap alone passed the limit: leak rows are a weighted sample, site_stats.leaked stays exact)";
  char live_part[320];
  if (keep_live > 1)
    snprintf(live_part, sizeof live_part, "; live rows too, 1 in %s %s; summaries, windows and samples are complete",
             ft_fmt_int(kl, sizeof kl, keep_live), live_why);
  else
    snprintf(live_part, sizeof live_part, "; live rows, summaries, windows and samples are complete");
  /* Since the 1-in-k thinning (ft_follow.h): how many freed rows were left
  ** out and the factor the kept ones stand for. */
  if (sqlite3_prepare_v2(r->db,
                         "SELECT sum(rows_deleted) + sum(coalesce(rows_unwritten, 0)), max(keep) FROM thinning "
                         "WHERE what = 'allocation_rows' HAVING max(keep) IS NOT NULL",
                         -1, &q, NULL) == SQLITE_OK) {
    int found = sqlite3_step(q) == SQLITE_ROW; /* no row: no 1-in-k thinning */
    if (found && sqlite3_column_int64(q, 0) > 0)
      snprintf(buf, cap,
               "%s freed allocation rows were left out (--max-size): freed rows are kept 1 in %s, chosen by a "
               "hash of the id, their allocations.weight multiplied by %s%s",
               ft_fmt_int(a, sizeof a, sqlite3_column_int64(q, 0)), ft_fmt_int(k, sizeof k, sqlite3_column_int64(q, 1)),
               k, live_part);
    sqlite3_finalize(q);
    if (found) return;
  } else {
    sqlite3_finalize(q); /* a trace from before the keep column */
  }
  if (keep_live > 1) { /* no freed row to thin (a program that frees nothing): only live rows */
    snprintf(buf, cap,
             "%s live allocation rows were left out (--max-size): live rows are kept 1 in %s, chosen by a hash of "
             "the id, their allocations.weight multiplied by %s %s; summaries, windows and samples are complete",
             ft_fmt_int(a, sizeof a, live_deleted), ft_fmt_int(k, sizeof k, keep_live), k, live_why);
    return;
  }
  /* The oldest freed rows deleted (the thinning of earlier versions). */
  if (sqlite3_prepare_v2(r->db,
                         "SELECT sum(rows_deleted), max(before_t_ns) FROM thinning WHERE what = 'allocation_rows'",
                         -1, &q, NULL) != SQLITE_OK) { /* a trace without the table: never thinned */
    sqlite3_finalize(q);
    return;
  }
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) > 0) {
    snprintf(buf, cap,
             "%s freed allocation rows allocated up to %s were thinned (--max-size); summaries, windows and "
             "samples are complete",
             ft_fmt_int(a, sizeof a, sqlite3_column_int64(q, 0)),
             ft_fmt_duration(b, sizeof b, (double)sqlite3_column_int64(q, 1)));
  }
  sqlite3_finalize(q);
}

static void thinning_line(ft_table *t, const ft_report *r) {
  char line[512];
  ft_report_thinning_text(r, line, sizeof line);
  if (line[0]) kv(t, "thinned", line);
}

/* Append printf output to buf (of cap bytes, holding *len), truncating. */
static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
  if (*len >= cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
  va_end(ap);
  if (n > 0) *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

void ft_report_recording_text(const ft_proc_info *p, char *buf, size_t cap) {
  char a[CAP], b[CAP];
  size_t len = 0;
  buf[0] = '\0';
  int paused = 0;
  const ft_ctl_rec *open = NULL;
  for (size_t i = 0; i < p->nctl; i++) {
    const ft_ctl_rec *c = &p->ctl[i];
    const char *sep = len ? "; " : "";
    if (!strcmp(c->action, "pause")) {
      if (!paused) open = c;
      paused = 1;
    } else if (!strcmp(c->action, "resume") || !strcmp(c->action, "stop")) {
      if (paused)
        appendf(buf, cap, &len, "%spaused %s .. %s (%s, %s)", sep, ft_fmt_duration(a, sizeof a, (double)open->t_ns),
                ft_fmt_duration(b, sizeof b, (double)c->t_ns), open->source, c->source);
      paused = 0;
      if (!strcmp(c->action, "stop"))
        appendf(buf, cap, &len, "%sstopped at %s (%s): untraced afterwards", len ? "; " : "",
                ft_fmt_duration(a, sizeof a, (double)c->t_ns), c->source);
    } else {
      appendf(buf, cap, &len, "%s%s at %s (%s)", sep, !strcmp(c->action, "flush") ? "flushed" : c->action,
              ft_fmt_duration(a, sizeof a, (double)c->t_ns), c->source);
    }
  }
  if (paused)
    appendf(buf, cap, &len, "%spaused from %s to the end (%s)", len ? "; " : "",
            ft_fmt_duration(a, sizeof a, (double)open->t_ns), open->source);
}

/* Production mode rows of the summary (issue 5): the exact totals of
** heap_totals, what the recorder could not record, recording periods.
** Labels stay within the width of the widest older one ("short-lived (<
** 1.0 ms)"), so the table's columns do not move. */
static void mode_rows(ft_table *t, const ft_report *r) {
  char a[CAP], b[CAP], c[CAP], e[CAP], line[1024];
  if (r->ntotals > 0) {
    snprintf(line, sizeof line, "%s allocations, %s frees, %s (%s) requested", ft_fmt_int(a, sizeof a, r->totals.allocations),
             ft_fmt_int(b, sizeof b, r->totals.frees), ft_fmt_bytes(c, sizeof c, (double)r->totals.bytes),
             ft_fmt_int(e, sizeof e, r->totals.bytes));
    kv(t, "exact totals", line);
    snprintf(line, sizeof line, "%s (%s)", ft_fmt_bytes(a, sizeof a, (double)r->totals.usable_live_bytes),
             ft_fmt_int(b, sizeof b, r->totals.usable_live_bytes));
    kv(t, "live usable (exact)", line);
    if (r->totals.untracked > 0) {
      snprintf(line, sizeof line, "%s sampled allocations not recorded (the recorder's block table was full)",
               ft_fmt_int(a, sizeof a, r->totals.untracked));
      kv(t, "untracked", line);
    }
    if (r->totals.thinned > 0) {
      snprintf(line, sizeof line, "%s events not written (the spill reached its maximum size)",
               ft_fmt_int(a, sizeof a, r->totals.thinned));
      kv(t, "unwritten (max size)", line);
    }
  }
  for (size_t i = 0; i < r->nprocs; i++) {
    const ft_proc_info *p = &r->procs[i];
    if (!p->nctl) continue;
    char rec[768], label[64];
    ft_report_recording_text(p, rec, sizeof rec);
    if (r->nprocs > 1) snprintf(label, sizeof label, "recording pid %lld", (long long)p->pid);
    else snprintf(label, sizeof label, "recording");
    kv(t, label, rec);
  }
}

static void summary(doc *d) {
  const ft_report *r = d->r;
  char a[CAP], b[CAP], c[CAP], e[CAP], line[512];
  heading(d, "Summary");
  ft_table *t = ft_table_new(2, (const char *[]){"measure", "value"}, "ll");
  if (!t) return;
  if (r->nprocs == 1)
    snprintf(line, sizeof line, "1 (pid %lld)", (long long)r->procs[0].pid);
  else
    snprintf(line, sizeof line, "%zu", r->nprocs);
  kv(t, "processes", line);
  kv(t, "runtime", ft_fmt_duration(a, sizeof a, (double)r->runtime_ns));
  /* From sampled rows these are estimates (the exact totals follow). */
  int est = r->nsampled > 0;
  kv(t, est ? "allocations (est.)" : "allocations", ft_fmt_int(a, sizeof a, r->allocations));
  kv(t, est ? "frees (est.)" : "frees", ft_fmt_int(a, sizeof a, r->frees));
  snprintf(line, sizeof line, "%s (%s)", ft_fmt_bytes(a, sizeof a, (double)r->bytes), ft_fmt_int(b, sizeof b, r->bytes));
  kv(t, est ? "bytes allocated (est.)" : "bytes allocated", line);
  mode_rows(t, r);
  if (r->peak_proc) {
    const ft_proc_info *p = r->peak_proc;
    snprintf(line, sizeof line, "%s (%s) in %s blocks at %s, pid %lld", ft_fmt_bytes(a, sizeof a, (double)p->peak_live_bytes),
             ft_fmt_int(b, sizeof b, p->peak_live_bytes), ft_fmt_int(c, sizeof c, p->peak_live_allocations),
             ft_fmt_duration(e, sizeof e, (double)p->peak_live_ns), (long long)p->pid);
    kv(t, est ? "peak live heap (est.)" : "peak live heap", line);
  } else {
    kv(t, "peak live heap", "0 B");
  }
  if (r->rss_proc) {
    const ft_proc_info *p = r->rss_proc;
    snprintf(line, sizeof line, "%s (%s) at %s, pid %lld", ft_fmt_bytes(a, sizeof a, (double)p->peak_rss_bytes),
             ft_fmt_int(b, sizeof b, p->peak_rss_bytes), ft_fmt_duration(c, sizeof c, (double)p->peak_rss_ns),
             (long long)p->pid);
    kv(t, "peak RSS", line);
  } else {
    kv(t, "peak RSS", "no samples");
  }
  snprintf(line, sizeof line, "%s blocks, %s (%s)", ft_fmt_int(a, sizeof a, r->leaked),
           ft_fmt_bytes(b, sizeof b, (double)r->leaked_bytes), ft_fmt_int(c, sizeof c, r->leaked_bytes));
  kv(t, est ? "leaked (est.)" : "leaked", line);
  if (r->nsupp > 0) {
    snprintf(line, sizeof line, "%s blocks, %s (%s)", ft_fmt_int(a, sizeof a, r->suppressed),
             ft_fmt_bytes(b, sizeof b, (double)r->suppressed_bytes), ft_fmt_int(c, sizeof c, r->suppressed_bytes));
    kv(t, "leaks suppressed", line);
  }
  char label[64];
  snprintf(label, sizeof label, "short-lived (< %s)", ft_fmt_duration(a, sizeof a, (double)r->short_lived_ns));
  snprintf(line, sizeof line, "%s (%s)", ft_fmt_int(b, sizeof b, r->short_lived), pct(c, r->short_lived, r->allocations));
  kv(t, label, line);
  snprintf(line, sizeof line, "%s (%s)", ft_fmt_int(b, sizeof b, r->temporary), pct(c, r->temporary, r->allocations));
  kv(t, est ? "temporary (est.)" : "temporary", line);
  snprintf(line, sizeof line, "%s mapping%s, %s (%s)", ft_fmt_int(a, sizeof a, r->mmap_count), r->mmap_count == 1 ? "" : "s",
           ft_fmt_bytes(b, sizeof b, (double)r->mmap_bytes), ft_fmt_int(c, sizeof c, r->mmap_bytes));
  kv(t, "mmap", line);
  kv(t, "events dropped", ft_fmt_int(a, sizeof a, r->events_dropped));
  thinning_line(t, r);
  table(d, t);
  if (r->nprocs > 1) {
    ft_table *p = ft_table_new(9, (const char *[]){"pid", "ppid", "runtime", "allocations", "bytes", "peak heap",
                                                   "leaked", "exit", "command"},
                               "rrrrrrrll");
    if (!p) return;
    for (size_t i = 0; i < r->nprocs; i++) {
      const ft_proc_info *q = &r->procs[i];
      char pid[CAP], ppid[CAP], rt[CAP], al[CAP], by[CAP], pk[CAP], lk[CAP], ex[CAP];
      snprintf(pid, sizeof pid, "%lld", (long long)q->pid);
      snprintf(ppid, sizeof ppid, "%lld", (long long)q->ppid);
      if (q->exit_status >= 0) snprintf(ex, sizeof ex, "%lld", (long long)q->exit_status);
      else snprintf(ex, sizeof ex, "%s", q->ended_by ? q->ended_by : "?");
      ft_table_row(p, (const char *[]){pid, ppid, ft_fmt_duration(rt, sizeof rt, (double)q->end_ns),
                                       ft_fmt_int(al, sizeof al, q->allocations), ft_fmt_bytes(by, sizeof by, (double)q->bytes),
                                       ft_fmt_bytes(pk, sizeof pk, (double)q->peak_live_bytes),
                                       ft_fmt_bytes(lk, sizeof lk, (double)q->leaked_bytes), ex,
                                       q->cmdline ? q->cmdline : q->exe});
    }
    table(d, p);
  }
}

/* ---- per-site details --------------------------------------------------------- */

/* The frames of a site's stack, innermost first, the site frame marked. */
static void print_stack(doc *d, const ft_site *s, size_t rank) {
  char lb[4096], title[4200];
  snprintf(title, sizeof title, "#%zu %s", rank, ft_site_label(s));
  pre_begin(d, title);
  if (s->stack)
    for (int i = 0; i < s->stack->nframes; i++)
      fprintf(d->out, "%s%s %2d  %s\n", d->style == FT_STYLE_TEXT ? "  " : "", i == s->stack->site ? ">" : " ", i,
              ft_frame_label(&s->stack->frames[i], lb, sizeof lb));
  pre_end(d, 1);
}

static void print_stacks(doc *d, const size_t *rank, size_t n) {
  if (!d->r->opts->stacks) return;
  for (size_t i = 0; i < n; i++) print_stack(d, &d->r->sites[rank[i]], i + 1);
}

/* A log2 histogram as lines "range  count  [bytes]  bar". */
static void histogram(doc *d, const char *title, const int64_t *count, const int64_t *bytes, int is_time) {
  if (!count) return;
  int lo = -1, hi = -1;
  int64_t max = 0;
  for (int b = 0; b < FT_HIST_BUCKETS; b++)
    if (count[b] > 0) {
      if (lo < 0) lo = b;
      hi = b;
      if (count[b] > max) max = count[b];
    }
  if (lo < 0) return;
  pre_begin(d, title);
  ft_table *t = bytes ? ft_table_new(4, (const char *[]){"size", "allocations", "bytes", ""}, "lrrl")
                      : ft_table_new(3, (const char *[]){"lifetime", "count", ""}, "lrl");
  if (!t) return;
  for (int b = lo; b <= hi; b++) {
    char l0[CAP], l1[CAP], range[2 * CAP + 8], n[CAP], by[CAP], bar[BAR_WIDTH + 1];
    double v0 = b == 0 ? 0 : ldexp(1, b), v1 = ldexp(1, b + 1);
    if (is_time) snprintf(range, sizeof range, "%s .. %s", ft_fmt_duration(l0, sizeof l0, v0), ft_fmt_duration(l1, sizeof l1, v1));
    else snprintf(range, sizeof range, "%s .. %s", ft_fmt_bytes(l0, sizeof l0, v0), ft_fmt_bytes(l1, sizeof l1, v1));
    ft_report_bar(bar, sizeof bar, (double)count[b], (double)max, BAR_WIDTH);
    ft_fmt_int(n, sizeof n, count[b]);
    if (bytes) ft_table_row(t, (const char *[]){range, n, ft_fmt_bytes(by, sizeof by, (double)bytes[b]), bar});
    else ft_table_row(t, (const char *[]){range, n, bar});
  }
  /* Inside a code block the table is always plain text. */
  ft_table_print(t, d->out, FT_STYLE_TEXT, d->style == FT_STYLE_TEXT ? "    " : "");
  ft_table_free(t);
  pre_end(d, title != NULL);
}

/* ---- sections ------------------------------------------------------------------ */

static void churn(doc *d) {
  const ft_report *r = d->r;
  char a[CAP];
  heading(d, "Churn");
  size_t n = top_n(r, r->nchurn);
  char note[256];
  snprintf(note, sizeof note,
           "Sites by allocation rate over their active period (first to last allocation), %zu of %zu with at least %lld "
           "allocations; short-lived: < %s.",
           n, r->nchurn, (long long)r->opts->min_allocs, ft_fmt_duration(a, sizeof a, (double)r->short_lived_ns));
  para(d, note);
  if (n == 0) return;
  ft_table *t = ft_table_new(10, (const char *[]){"#", "allocs/s", "bytes/s", "allocations", "bytes", "active",
                                                  "turnover", "short-lived", "temporary", "site"},
                             "rrrrrrrrrl");
  if (!t) return;
  for (size_t i = 0; i < n; i++) {
    const ft_site *s = &r->sites[r->churn_rank[i]];
    char k[CAP], rate[CAP], br[CAP], al[CAP], by[CAP], act[CAP], to[CAP], sl[CAP], tp[CAP];
    snprintf(k, sizeof k, "%zu", i + 1);
    ft_fmt_si(rate, sizeof rate, s->rate);
    ft_fmt_bytes(br, sizeof br, s->bytes_rate);
    strcat(br, "/s");
    snprintf(to, sizeof to, "%.1f", s->turnover);
    ft_table_row(t, (const char *[]){k, rate, br, ft_fmt_int(al, sizeof al, s->allocations), ft_fmt_bytes(by, sizeof by, (double)s->bytes),
                                     ft_fmt_duration(act, sizeof act, (double)(s->last_alloc_ns - s->first_alloc_ns)), to,
                                     pct(sl, s->short_lived, s->allocations), pct(tp, s->temporary, s->allocations),
                                     ft_site_label(s)});
  }
  table(d, t);
  for (size_t i = 0; i < n; i++) {
    const ft_site *s = &r->sites[r->churn_rank[i]];
    char title[4200];
    snprintf(title, sizeof title, "Lifetimes of #%zu %s", i + 1, ft_site_label(s));
    histogram(d, title, s->life_hist, NULL, 1);
  }
  print_stacks(d, r->churn_rank, n);
}

static void leaks(doc *d) {
  const ft_report *r = d->r;
  char a[CAP], b[CAP], c[CAP], line[512];
  heading(d, "Leaks");
  size_t n = top_n(r, r->nleak);
  snprintf(line, sizeof line, "%s blocks, %s (%s) never freed, in %zu sites (%zu shown)", ft_fmt_int(a, sizeof a, r->leaked),
           ft_fmt_bytes(b, sizeof b, (double)r->leaked_bytes), ft_fmt_int(c, sizeof c, r->leaked_bytes), r->nleak, n);
  para(d, line);
  if (n > 0) {
    ft_table *t = ft_table_new(5, (const char *[]){"#", "blocks", "bytes", "share", "site"}, "rrrrl");
    if (!t) return;
    for (size_t i = 0; i < n; i++) {
      const ft_site *s = &r->sites[r->leak_rank[i]];
      char k[CAP], bl[CAP], by[CAP], sh[CAP];
      snprintf(k, sizeof k, "%zu", i + 1);
      ft_table_row(t, (const char *[]){k, ft_fmt_int(bl, sizeof bl, s->leaked), ft_fmt_bytes(by, sizeof by, (double)s->leaked_bytes),
                                       pct(sh, s->leaked_bytes, r->leaked_bytes), ft_site_label(s)});
    }
    table(d, t);
  }
  if (r->nsupp > 0) {
    snprintf(line, sizeof line, "Suppressed: %s blocks, %s (%s) by %d suppressions", ft_fmt_int(a, sizeof a, r->suppressed),
             ft_fmt_bytes(b, sizeof b, (double)r->suppressed_bytes), ft_fmt_int(c, sizeof c, r->suppressed_bytes), r->nsupp);
    if (d->style == FT_STYLE_TEXT) fputc('\n', d->out);
    para(d, line);
    ft_table *t = ft_table_new(3, (const char *[]){"blocks", "bytes", "suppression"}, "rrl");
    if (!t) return;
    for (int i = 0; i < r->nsupp; i++) {
      char bl[CAP], by[CAP], pat[600];
      snprintf(pat, sizeof pat, "leak:%s", r->supp_patterns[i]);
      ft_table_row(t, (const char *[]){ft_fmt_int(bl, sizeof bl, r->supp_count[i]),
                                       ft_fmt_bytes(by, sizeof by, (double)r->supp_bytes[i]), pat});
    }
    table(d, t);
  }
  print_stacks(d, r->leak_rank, n);
}

static void peak(doc *d) {
  const ft_report *r = d->r;
  char a[CAP], b[CAP], c[CAP], line[512];
  heading(d, "Peak");
  const ft_proc_info *p = r->peak_proc;
  if (!p) {
    para(d, "No allocations.");
    return;
  }
  size_t n = top_n(r, r->npeak);
  char e[CAP];
  snprintf(line, sizeof line, "%s (%s) live in %s blocks at %s in pid %lld, by site (%zu of %zu shown)",
           ft_fmt_bytes(a, sizeof a, (double)p->peak_live_bytes), ft_fmt_int(b, sizeof b, p->peak_live_bytes),
           ft_fmt_int(c, sizeof c, p->peak_live_allocations), ft_fmt_duration(e, sizeof e, (double)p->peak_live_ns),
           (long long)p->pid, n, r->npeak);
  para(d, line);
  if (n > 0) {
    ft_table *t = ft_table_new(5, (const char *[]){"#", "bytes", "blocks", "share", "site"}, "rrrrl");
    if (!t) return;
    for (size_t i = 0; i < n; i++) {
      const ft_site *s = &r->sites[r->peak_rank[i]];
      char k[CAP], bl[CAP], by[CAP], sh[CAP];
      snprintf(k, sizeof k, "%zu", i + 1);
      ft_table_row(t, (const char *[]){k, ft_fmt_bytes(by, sizeof by, (double)s->peak_bytes), ft_fmt_int(bl, sizeof bl, s->peak_count),
                                       pct(sh, s->peak_bytes, p->peak_live_bytes), ft_site_label(s)});
    }
    table(d, t);
  }
  if (r->nchart > 0) {
    pre_begin(d, NULL);
    ft_report_chart(r, d->out, 12, d->style == FT_STYLE_TEXT ? "  " : "");
    pre_end(d, 0);
  }
  print_stacks(d, r->peak_rank, n);
}

static void sizes(doc *d) {
  const ft_report *r = d->r;
  heading(d, "Sizes");
  para(d, "Allocations by requested size (log2 buckets), overall and for the sites that allocate most.");
  histogram(d, d->style == FT_STYLE_MARKDOWN ? NULL : "All allocations", r->size_count, r->size_bytes, 0);
  size_t n = top_n(r, r->nsize);
  for (size_t i = 0; i < n; i++) {
    const ft_site *s = &r->sites[r->size_rank[i]];
    char title[4200], a[CAP], b[CAP], mx[CAP];
    snprintf(title, sizeof title, "#%zu %s: %s allocation%s of %s .. %s", i + 1, ft_site_label(s),
             ft_fmt_int(a, sizeof a, s->allocations), s->allocations == 1 ? "" : "s", ft_fmt_bytes(b, sizeof b, (double)s->min_size),
             ft_fmt_bytes(mx, sizeof mx, (double)s->max_size));
    histogram(d, title, s->size_count, s->size_bytes, 0);
  }
}

static void gates(doc *d) {
  const ft_report *r = d->r;
  if (r->ngates == 0) return;
  heading(d, "Gates");
  ft_table *t = ft_table_new(4, (const char *[]){"gate", "limit", "value", "result"}, "lrrl");
  if (!t) return;
  for (int i = 0; i < r->ngates; i++) {
    const ft_gate_result *g = &r->gates[i];
    char name[64], lim[CAP], val[CAP];
    snprintf(name, sizeof name, "--%s", g->gate);
    if (!strcmp(g->gate, "max-churn")) {
      ft_fmt_si(lim, sizeof lim, g->limit);
      strcat(lim, "/s");
      ft_fmt_si(val, sizeof val, g->value);
      strcat(val, "/s");
    } else if (!strcmp(g->gate, "max-frag-ratio")) {
      snprintf(lim, sizeof lim, "%g", g->limit);
      if (isinf(g->value)) snprintf(val, sizeof val, "inf");
      else snprintf(val, sizeof val, "%.2f", g->value);
    } else if (!strcmp(g->gate, "max-short-lived")) {
      ft_fmt_pct(lim, sizeof lim, g->limit);
      ft_fmt_pct(val, sizeof val, g->value);
    } else {
      ft_fmt_bytes(lim, sizeof lim, g->limit);
      ft_fmt_bytes(val, sizeof val, g->value);
    }
    ft_table_row(t, (const char *[]){name, lim, val, g->tripped ? "FAILED" : "ok"});
  }
  table(d, t);
  for (int i = 0; i < r->ngates; i++)
    if (r->gates[i].tripped) para(d, r->gates[i].message);
}

void ft_report_render(const ft_report *r, FILE *out, ft_report_format fmt) {
  doc d = {r, out, fmt == FT_REPORT_MARKDOWN ? FT_STYLE_MARKDOWN : FT_STYLE_TEXT};
  char a[CAP], b[CAP], line[1024];
  if (d.style == FT_STYLE_MARKDOWN) {
    fputs("# fragtrace report: ", out);
    ft_md_escape(out, r->opts->path);
    fputs("\n\n", out);
  } else {
    fprintf(out, "fragtrace report: %s\n", r->opts->path);
  }
  snprintf(line, sizeof line, "command: %s", r->command ? r->command : "?");
  para(&d, line);
  if (r->window_lo > 0 || r->window_hi >= 0) {
    if (r->window_hi >= 0)
      snprintf(line, sizeof line, "window: allocations made from %s to %s after the trace started",
               ft_fmt_duration(a, sizeof a, (double)r->window_lo), ft_fmt_duration(b, sizeof b, (double)r->window_hi));
    else
      snprintf(line, sizeof line, "window: allocations made from %s after the trace started",
               ft_fmt_duration(a, sizeof a, (double)r->window_lo));
    para(&d, line);
  }
  if (r->nsampled > 0) {
    if (r->sample_bytes > 0)
      snprintf(line, sizeof line, "sampled: 1 allocation per %lld bytes on average%s; per-site counts and bytes are "
               "estimates", (long long)r->sample_bytes, r->nsampled < (int)r->nprocs ? " (some processes)" : "");
    else
      snprintf(line, sizeof line, "sampled: %d of %zu processes, at different rates; per-site counts and bytes are "
               "estimates", r->nsampled, r->nprocs);
    para(&d, line);
  }
  unsigned sec = r->opts->sections;
  if (sec & FT_SEC_SUMMARY) summary(&d);
  if (sec & FT_SEC_CHURN) churn(&d);
  if (sec & FT_SEC_LEAKS) leaks(&d);
  if (sec & FT_SEC_PEAK) peak(&d);
  if (sec & FT_SEC_SIZES) sizes(&d);
  if (sec & FT_SEC_FRAG) ft_report_frag_render(r, r->frag, out, d.style);
  gates(&d);
}
