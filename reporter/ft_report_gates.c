/*
** ft_report_gates.c — the CI gates of `fragtrace report`. Each gate gives a
** result (limit, measured value, whether it tripped, the site to blame) and
** one line saying which site and by how much; cmd_report.c prints the lines
** of tripped gates on stderr and exits 1.
*/
#include <stdio.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_frag.h"

static ft_gate_result *add(ft_report *r, const char *gate, double limit, double value, int tripped) {
  ft_gate_result *g = &r->gates[r->ngates++];
  memset(g, 0, sizeof *g);
  g->gate = gate;
  g->limit = limit;
  g->value = value;
  g->tripped = tripped;
  return g;
}

/* --fail-on-leaks: leaked bytes after suppressions above the limit. */
static void gate_leaks(ft_report *r) {
  const ft_report_opts *o = r->opts;
  ft_gate_result *g = add(r, "fail-on-leaks", (double)o->fail_on_leaks, (double)r->leaked_bytes,
                          r->leaked_bytes > o->fail_on_leaks);
  char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP];
  g->site = r->nleak ? &r->sites[r->leak_rank[0]] : NULL;
  int n = snprintf(g->message, sizeof g->message, "--fail-on-leaks: %lld bytes (%s) in %lld blocks leaked, %s over the %s allowed",
                   (long long)r->leaked_bytes, ft_fmt_bytes(a, sizeof a, (double)r->leaked_bytes), (long long)r->leaked,
                   ft_fmt_bytes(b, sizeof b, (double)(r->leaked_bytes - o->fail_on_leaks)),
                   ft_fmt_bytes(c, sizeof c, (double)o->fail_on_leaks));
  if (g->site && n > 0 && (size_t)n < sizeof g->message)
    snprintf(g->message + n, sizeof g->message - (size_t)n, "; largest: %s, %lld blocks, %s", ft_site_label(g->site),
             (long long)g->site->leaked, ft_fmt_bytes(d, sizeof d, (double)g->site->leaked_bytes));
}

/* --max-peak: the largest live heap of any selected process. */
static void gate_peak(ft_report *r) {
  const ft_report_opts *o = r->opts;
  const ft_proc_info *p = r->peak_proc;
  int64_t v = p ? p->peak_live_bytes : 0;
  ft_gate_result *g = add(r, "max-peak", (double)o->max_peak, (double)v, v > o->max_peak);
  g->site = r->npeak ? &r->sites[r->peak_rank[0]] : NULL;
  char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP], e[FT_FMT_CAP];
  int n = snprintf(g->message, sizeof g->message, "--max-peak: peak live heap %lld bytes (%s), %s over the limit of %s",
                   (long long)v, ft_fmt_bytes(a, sizeof a, (double)v), ft_fmt_bytes(b, sizeof b, (double)(v - o->max_peak)),
                   ft_fmt_bytes(c, sizeof c, (double)o->max_peak));
  if (p && n > 0 && (size_t)n < sizeof g->message)
    n += snprintf(g->message + n, sizeof g->message - (size_t)n, ", pid %lld at %s", (long long)p->pid,
                  ft_fmt_duration(d, sizeof d, (double)p->peak_live_ns));
  if (g->site && n > 0 && (size_t)n < sizeof g->message)
    snprintf(g->message + n, sizeof g->message - (size_t)n, "; largest there: %s, %s", ft_site_label(g->site),
             ft_fmt_bytes(e, sizeof e, (double)g->site->peak_bytes));
}

/* --max-churn: the ranked site with the highest allocation rate. */
static void gate_churn(ft_report *r) {
  const ft_report_opts *o = r->opts;
  const ft_site *top = r->nchurn ? &r->sites[r->churn_rank[0]] : NULL;
  double v = top ? top->rate : 0;
  ft_gate_result *g = add(r, "max-churn", o->max_churn, v, v > o->max_churn);
  g->site = top;
  size_t over = 0;
  for (size_t i = 0; i < r->nchurn; i++)
    if (r->sites[r->churn_rank[i]].rate > o->max_churn) over++;
  char a[FT_FMT_CAP], b[FT_FMT_CAP];
  if (!top) {
    snprintf(g->message, sizeof g->message, "--max-churn: no site with %lld or more allocations",
             (long long)o->min_allocs);
    return;
  }
  int n = snprintf(g->message, sizeof g->message, "--max-churn: %s allocates %s/s, %.1fx the limit of %s/s",
                   ft_site_label(top), ft_fmt_si(a, sizeof a, v), o->max_churn > 0 ? v / o->max_churn : 0.0,
                   ft_fmt_si(b, sizeof b, o->max_churn));
  if (over > 1 && n > 0 && (size_t)n < sizeof g->message)
    snprintf(g->message + n, sizeof g->message - (size_t)n, " (and %zu more sites over it)", over - 1);
}

/* --max-short-lived: the short-lived share of all allocations. */
static void gate_short(ft_report *r) {
  const ft_report_opts *o = r->opts;
  double pct = r->allocations ? 100.0 * (double)r->short_lived / (double)r->allocations : 0;
  ft_gate_result *g = add(r, "max-short-lived", o->max_short_lived, pct, pct > o->max_short_lived);
  const ft_site *most = NULL;
  for (size_t i = 0; i < r->nsites; i++)
    if (r->sites[i].short_lived > 0 && (!most || r->sites[i].short_lived > most->short_lived)) most = &r->sites[i];
  g->site = most;
  char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP];
  int n = snprintf(g->message, sizeof g->message,
                   "--max-short-lived: %s of allocations lived less than %s (%lld of %lld), %.1f points over the limit of %s",
                   ft_fmt_pct(a, sizeof a, pct), ft_fmt_duration(b, sizeof b, (double)r->short_lived_ns),
                   (long long)r->short_lived, (long long)r->allocations, pct - o->max_short_lived,
                   ft_fmt_pct(c, sizeof c, o->max_short_lived));
  if (most && n > 0 && (size_t)n < sizeof g->message)
    snprintf(g->message + n, sizeof g->message - (size_t)n, "; most: %s, %lld (%s of its allocations)", ft_site_label(most),
             (long long)most->short_lived, ft_fmt_pct(d, sizeof d, 100.0 * (double)most->short_lived / (double)most->allocations));
}

/* --max-frag-ratio: RSS (less the recorder's own memory) / live heap of the
** worst process, at its last sample or where its gap peaked. A live heap
** of 0 with any RSS is an infinite ratio: memory kept for nothing. */
static void gate_frag(ft_report *r) {
  const ft_report_opts *o = r->opts;
  const ft_rf_psnap *s = NULL;
  const ft_rf_proc *p = ft_report_frag_gate_proc(r->frag, (ft_rf_at)o->frag_ratio_at, &s);
  double v = s ? s->ratio : 0;
  ft_gate_result *g = add(r, "max-frag-ratio", o->max_frag_ratio, v, p && v > o->max_frag_ratio);
  const char *at = o->frag_ratio_at == FT_RF_AT_PEAK ? "where its RSS gap peaked" : "at its last sample";
  if (!p) {
    snprintf(g->message, sizeof g->message, "--max-frag-ratio: no process with RSS samples");
    return;
  }
  char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP];
  snprintf(g->message, sizeof g->message,
           "--max-frag-ratio: pid %lld holds %s of RSS for a live heap of %s %s (%s): ratio %.2f, over the limit of %g; "
           "gap %s",
           (long long)p->pid, ft_fmt_bytes(a, sizeof a, (double)s->rss), ft_fmt_bytes(b, sizeof b, (double)s->live), at,
           ft_fmt_duration(c, sizeof c, (double)s->t_ns), v, o->max_frag_ratio, ft_fmt_bytes(d, sizeof d, (double)s->gap));
}

int ft_report_gates(ft_report *r) {
  const ft_report_opts *o = r->opts;
  r->ngates = 0;
  if (o->fail_on_leaks >= 0) gate_leaks(r);
  if (o->max_peak >= 0) gate_peak(r);
  if (o->max_churn >= 0) gate_churn(r);
  if (o->max_short_lived >= 0) gate_short(r);
  if (o->max_frag_ratio >= 0 && r->frag) gate_frag(r);
  int tripped = 0;
  for (int i = 0; i < r->ngates; i++) {
    ft_gate_result *g = &r->gates[i];
    tripped += g->tripped;
    /* Byte sampling: the gates judged estimates (README, Gates); say so on
    ** the one line a CI log shows. The frag ratio reads samples, not rows. */
    if (g->tripped && r->nsampled > 0 && strcmp(g->gate, "max-frag-ratio") != 0) {
      size_t len = strlen(g->message);
      snprintf(g->message + len, sizeof g->message - len, " (estimated from a byte-sampled trace)");
    }
  }
  return tripped;
}
