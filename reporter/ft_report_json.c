/*
** ft_report_json.c — the report as JSON for machines, in the layout of
** reporter/report.schema.json (version FT_REPORT_JSON_VERSION). Every number
** of the text report is here, unrounded: bytes and counts as integers,
** times in ns, rates per second, percentages 0..100.
*/
#include <math.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_frag.h"

static double pct(int64_t part, int64_t whole) { return whole > 0 ? 100.0 * (double)part / (double)whole : 0; }

static size_t top_n(const ft_report *r, size_t n) {
  return r->opts->top > 0 && (size_t)r->opts->top < n ? (size_t)r->opts->top : n;
}

static void opt_int(ft_json *j, const char *key, int64_t v) {
  if (v < 0) ft_json_null(j, key);
  else ft_json_int(j, key, v);
}

static void frame(ft_json *j, const ft_frame *f) {
  char lb[4096];
  ft_json_object(j, NULL);
  ft_json_str(j, "label", ft_frame_label(f, lb, sizeof lb));
  ft_json_str(j, "function", f->function);
  ft_json_str(j, "file", f->file);
  if (f->line > 0) ft_json_int(j, "line", f->line);
  else ft_json_null(j, "line");
  ft_json_str(j, "module", f->module);
  ft_json_int(j, "ip", (int64_t)f->ip);
  ft_json_end(j);
}

/* The site's identity and, with --stacks, its whole stack. */
static void site_id(ft_json *j, const ft_report *r, const ft_site *s) {
  ft_json_object(j, "site");
  ft_json_str(j, "label", ft_site_label(s));
  const ft_frame *f = s->stack && s->stack->nframes > 0 ? &s->stack->frames[s->stack->site] : NULL;
  ft_json_str(j, "function", f ? f->function : NULL);
  ft_json_str(j, "file", f ? f->file : NULL);
  if (f && f->line > 0) ft_json_int(j, "line", f->line);
  else ft_json_null(j, "line");
  ft_json_str(j, "module", f ? f->module : NULL);
  ft_json_int(j, "stacks", s->nstacks);
  if (r->opts->stacks && s->stack) {
    ft_json_int(j, "site_frame", s->stack->site);
    ft_json_array(j, "frames");
    for (int i = 0; i < s->stack->nframes; i++) frame(j, &s->stack->frames[i]);
    ft_json_end(j);
  }
  ft_json_end(j);
}

static void hist(ft_json *j, const char *key, const int64_t *count, const int64_t *bytes, int is_time) {
  ft_json_array(j, key);
  for (int b = 0; count && b < FT_HIST_BUCKETS; b++) {
    if (count[b] == 0) continue;
    ft_json_object(j, NULL);
    ft_json_int(j, "bucket", b);
    ft_json_int(j, is_time ? "from_ns" : "from_bytes", b == 0 ? 0 : (int64_t)1 << b);
    ft_json_num(j, is_time ? "to_ns" : "to_bytes", ldexp(1, b + 1));
    ft_json_int(j, "count", count[b]);
    if (bytes) ft_json_int(j, "bytes", bytes[b]);
    ft_json_end(j);
  }
  ft_json_end(j);
}

/* Everything known about a site: one layout in every section. */
static void site_stats(ft_json *j, const ft_report *r, const ft_site *s, size_t rank) {
  ft_json_int(j, "rank", (int64_t)rank);
  site_id(j, r, s);
  ft_json_int(j, "allocations", s->allocations);
  ft_json_int(j, "bytes", s->bytes);
  ft_json_int(j, "frees", s->frees);
  ft_json_int(j, "leaked", s->leaked);
  ft_json_int(j, "leaked_bytes", s->leaked_bytes);
  ft_json_int(j, "suppressed", s->suppressed);
  ft_json_int(j, "suppressed_bytes", s->suppressed_bytes);
  ft_json_int(j, "temporary", s->temporary);
  ft_json_num(j, "temporary_pct", pct(s->temporary, s->allocations));
  ft_json_int(j, "short_lived", s->short_lived);
  ft_json_num(j, "short_lived_pct", pct(s->short_lived, s->allocations));
  ft_json_int(j, "min_size", s->min_size);
  ft_json_int(j, "max_size", s->max_size);
  ft_json_int(j, "first_alloc_ns", s->first_alloc_ns);
  ft_json_int(j, "last_alloc_ns", s->last_alloc_ns);
  ft_json_int(j, "active_ns", s->last_alloc_ns - s->first_alloc_ns);
  ft_json_num(j, "allocs_per_s", s->rate);
  ft_json_num(j, "bytes_per_s", s->bytes_rate);
  ft_json_int(j, "max_live_bytes", s->max_live_bytes);
  ft_json_num(j, "turnover", s->turnover);
  ft_json_int(j, "peak_bytes", s->peak_bytes);
  ft_json_int(j, "peak_blocks", s->peak_count);
}

/* heap_totals counters (issue 5) under key, or null when has is 0. */
static void exact_totals(ft_json *j, const char *key, int has, const ft_exact_totals *t) {
  if (!has) {
    ft_json_null(j, key);
    return;
  }
  ft_json_object(j, key);
  ft_json_int(j, "allocations", t->allocations);
  ft_json_int(j, "frees", t->frees);
  ft_json_int(j, "bytes", t->bytes);
  ft_json_int(j, "usable_live_bytes", t->usable_live_bytes);
  ft_json_int(j, "sampled", t->sampled);
  ft_json_int(j, "untracked", t->untracked);
  ft_json_int(j, "thinned", t->thinned);
  ft_json_end(j);
}

static void summary(ft_json *j, const ft_report *r) {
  ft_json_object(j, "summary");
  ft_json_int(j, "runtime_ns", r->runtime_ns);
  ft_json_int(j, "allocations", r->allocations);
  ft_json_int(j, "frees", r->frees);
  ft_json_int(j, "bytes", r->bytes);
  const ft_proc_info *p = r->peak_proc;
  ft_json_int(j, "peak_live_bytes", p ? p->peak_live_bytes : 0);
  opt_int(j, "peak_live_ns", p ? p->peak_live_ns : -1);
  ft_json_int(j, "peak_live_blocks", p ? p->peak_live_allocations : 0);
  opt_int(j, "peak_live_pid", p ? p->pid : -1);
  const ft_proc_info *q = r->rss_proc;
  opt_int(j, "peak_rss_bytes", q ? q->peak_rss_bytes : -1);
  opt_int(j, "peak_rss_ns", q ? q->peak_rss_ns : -1);
  opt_int(j, "peak_rss_pid", q ? q->pid : -1);
  ft_json_int(j, "leaked", r->leaked);
  ft_json_int(j, "leaked_bytes", r->leaked_bytes);
  ft_json_int(j, "suppressed", r->suppressed);
  ft_json_int(j, "suppressed_bytes", r->suppressed_bytes);
  ft_json_int(j, "short_lived_ns", r->short_lived_ns);
  ft_json_int(j, "short_lived", r->short_lived);
  ft_json_num(j, "short_lived_pct", pct(r->short_lived, r->allocations));
  ft_json_int(j, "temporary", r->temporary);
  ft_json_num(j, "temporary_pct", pct(r->temporary, r->allocations));
  ft_json_int(j, "mmap_count", r->mmap_count);
  ft_json_int(j, "mmap_bytes", r->mmap_bytes);
  ft_json_int(j, "events_dropped", r->events_dropped);
  ft_json_int(j, "unmatched_frees", r->unmatched_frees);
  exact_totals(j, "exact_totals", r->ntotals > 0, &r->totals);
  ft_json_array(j, "recording");
  for (size_t i = 0; i < r->nprocs; i++)
    for (size_t k = 0; k < r->procs[i].nctl; k++) {
      const ft_ctl_rec *c = &r->procs[i].ctl[k];
      ft_json_object(j, NULL);
      ft_json_int(j, "proc", r->procs[i].proc);
      ft_json_int(j, "pid", r->procs[i].pid);
      ft_json_int(j, "t_ns", c->t_ns);
      ft_json_str(j, "action", c->action);
      ft_json_str(j, "source", c->source[0] ? c->source : NULL);
      ft_json_end(j);
    }
  ft_json_end(j);
  ft_json_array(j, "processes");
  for (size_t i = 0; i < r->nprocs; i++) {
    const ft_proc_info *x = &r->procs[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "proc", x->proc);
    ft_json_int(j, "pid", x->pid);
    opt_int(j, "ppid", x->ppid);
    ft_json_str(j, "exe", x->exe);
    ft_json_str(j, "cmdline", x->cmdline);
    ft_json_int(j, "start_unix_ns", x->start_unix_ns);
    ft_json_int(j, "runtime_ns", x->end_ns);
    ft_json_str(j, "ended_by", x->ended_by);
    opt_int(j, "exit_status", x->exit_status);
    ft_json_int(j, "allocations", x->allocations);
    ft_json_int(j, "frees", x->frees);
    ft_json_int(j, "bytes", x->bytes);
    ft_json_int(j, "leaked", x->leaked);
    ft_json_int(j, "leaked_bytes", x->leaked_bytes);
    ft_json_int(j, "temporary", x->temporary);
    ft_json_int(j, "short_lived", x->short_lived);
    ft_json_int(j, "mmap_count", x->mmap_count);
    ft_json_int(j, "mmap_bytes", x->mmap_bytes);
    ft_json_int(j, "peak_live_bytes", x->peak_live_bytes);
    opt_int(j, "peak_live_ns", x->peak_live_ns);
    ft_json_int(j, "peak_live_blocks", x->peak_live_allocations);
    opt_int(j, "peak_rss_bytes", x->peak_rss_bytes);
    opt_int(j, "peak_rss_ns", x->peak_rss_ns);
    ft_json_int(j, "events_dropped", x->events_dropped);
    ft_json_int(j, "unmatched_frees", x->unmatched_frees);
    opt_int(j, "sample_bytes", x->sample_bytes > 0 ? x->sample_bytes : -1);
    exact_totals(j, "exact_totals", x->has_totals, &x->totals);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
}

static void churn(ft_json *j, const ft_report *r) {
  ft_json_object(j, "churn");
  ft_json_int(j, "min_allocs", r->opts->min_allocs);
  ft_json_int(j, "sites_ranked", (int64_t)r->nchurn);
  ft_json_array(j, "sites");
  for (size_t i = 0; i < top_n(r, r->nchurn); i++) {
    const ft_site *s = &r->sites[r->churn_rank[i]];
    ft_json_object(j, NULL);
    site_stats(j, r, s, i + 1);
    hist(j, "lifetimes", s->life_hist, NULL, 1);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
}

static void leaks(ft_json *j, const ft_report *r) {
  ft_json_object(j, "leaks");
  ft_json_int(j, "blocks", r->leaked);
  ft_json_int(j, "bytes", r->leaked_bytes);
  ft_json_int(j, "sites_total", (int64_t)r->nleak);
  ft_json_array(j, "sites");
  for (size_t i = 0; i < top_n(r, r->nleak); i++) {
    const ft_site *s = &r->sites[r->leak_rank[i]];
    ft_json_object(j, NULL);
    site_stats(j, r, s, i + 1);
    ft_json_num(j, "share_pct", pct(s->leaked_bytes, r->leaked_bytes));
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_object(j, "suppressed");
  ft_json_int(j, "blocks", r->suppressed);
  ft_json_int(j, "bytes", r->suppressed_bytes);
  ft_json_array(j, "suppressions");
  for (int i = 0; i < r->nsupp; i++) {
    ft_json_object(j, NULL);
    ft_json_str(j, "pattern", r->supp_patterns[i]);
    ft_json_int(j, "blocks", r->supp_count[i]);
    ft_json_int(j, "bytes", r->supp_bytes[i]);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
  ft_json_end(j);
}

static void peak(ft_json *j, const ft_report *r) {
  const ft_proc_info *p = r->peak_proc;
  ft_json_object(j, "peak");
  opt_int(j, "pid", p ? p->pid : -1);
  opt_int(j, "proc", p ? p->proc : -1);
  opt_int(j, "t_ns", p ? p->peak_live_ns : -1);
  ft_json_int(j, "bytes", p ? p->peak_live_bytes : 0);
  ft_json_int(j, "blocks", p ? p->peak_live_allocations : 0);
  opt_int(j, "peak_rss_bytes", p ? p->peak_rss_bytes : -1);
  ft_json_int(j, "sites_total", (int64_t)r->npeak);
  ft_json_array(j, "sites");
  for (size_t i = 0; p && i < top_n(r, r->npeak); i++) {
    const ft_site *s = &r->sites[r->peak_rank[i]];
    ft_json_object(j, NULL);
    site_stats(j, r, s, i + 1);
    ft_json_num(j, "share_pct", pct(s->peak_bytes, p->peak_live_bytes));
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_array(j, "chart");
  for (int i = 0; i < r->nchart; i++) {
    ft_json_object(j, NULL);
    ft_json_int(j, "from_ns", r->chart[i].t0_ns);
    ft_json_int(j, "to_ns", r->chart[i].t1_ns);
    opt_int(j, "live_bytes", r->chart[i].live_bytes);
    opt_int(j, "rss_bytes", r->chart[i].rss_bytes);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
}

static void sizes(ft_json *j, const ft_report *r) {
  ft_json_object(j, "sizes");
  hist(j, "overall", r->size_count, r->size_bytes, 0);
  ft_json_array(j, "sites");
  for (size_t i = 0; i < top_n(r, r->nsize); i++) {
    const ft_site *s = &r->sites[r->size_rank[i]];
    ft_json_object(j, NULL);
    site_stats(j, r, s, i + 1);
    hist(j, "sizes", s->size_count, s->size_bytes, 0);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
}

static void gates(ft_json *j, const ft_report *r) {
  ft_json_array(j, "gates");
  for (int i = 0; i < r->ngates; i++) {
    const ft_gate_result *g = &r->gates[i];
    ft_json_object(j, NULL);
    ft_json_str(j, "gate", g->gate);
    ft_json_num(j, "limit", g->limit);
    ft_json_num(j, "value", g->value);
    ft_json_bool(j, "tripped", g->tripped);
    ft_json_str(j, "site", g->site ? ft_site_label(g->site) : NULL);
    ft_json_str(j, "message", g->tripped ? g->message : NULL);
    ft_json_end(j);
  }
  ft_json_end(j);
}

void ft_report_json(const ft_report *r, FILE *out) {
  static const char *const names[] = {"summary", "churn", "leaks", "peak", "sizes", "fragmentation"};
  const ft_report_opts *o = r->opts;
  ft_json j;
  ft_json_init(&j, out);
  ft_json_object(&j, NULL);
  ft_json_str(&j, "format", "fragtrace-report");
  ft_json_int(&j, "version", FT_REPORT_JSON_VERSION);
  ft_json_str(&j, "fragtrace_version", FT_VERSION);
  ft_json_object(&j, "trace");
  ft_json_str(&j, "path", o->path);
  ft_json_int(&j, "schema_version", r->schema_version);
  ft_json_str(&j, "command", r->command);
  ft_json_str(&j, "written_by", r->fragtrace_version);
  ft_json_end(&j);
  ft_json_str(&j, "source", r->exact_source ? "allocation_rows" : "summary_tables");
  /* Byte sampling (issue 5): counts and bytes below are then estimates. */
  ft_json_object(&j, "sampling");
  ft_json_bool(&j, "estimates", r->nsampled > 0);
  ft_json_int(&j, "sampled_processes", r->nsampled);
  opt_int(&j, "sample_bytes", r->sample_bytes > 0 ? r->sample_bytes : -1);
  ft_json_end(&j);
  ft_json_object(&j, "options");
  ft_json_array(&j, "sections");
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (o->sections & (1u << i)) ft_json_str(&j, NULL, names[i]);
  ft_json_end(&j);
  ft_json_int(&j, "top", o->top);
  opt_int(&j, "pid", o->pid);
  ft_json_int(&j, "since_ns", r->window_lo);
  opt_int(&j, "until_ns", r->window_hi);
  ft_json_int(&j, "short_lived_ns", r->short_lived_ns);
  ft_json_int(&j, "min_allocs", o->min_allocs);
  ft_json_array(&j, "skip");
  for (int i = 0; i < o->nskip; i++) ft_json_str(&j, NULL, o->skip[i]);
  ft_json_end(&j);
  ft_json_bool(&j, "stacks", o->stacks);
  ft_json_str(&j, "suppressions", o->suppressions);
  ft_json_end(&j);
  if (o->sections & FT_SEC_SUMMARY) summary(&j, r);
  if (o->sections & FT_SEC_CHURN) churn(&j, r);
  if (o->sections & FT_SEC_LEAKS) leaks(&j, r);
  if (o->sections & FT_SEC_PEAK) peak(&j, r);
  if (o->sections & FT_SEC_SIZES) sizes(&j, r);
  if ((o->sections & FT_SEC_FRAG) && r->frag) ft_report_frag_json(r, r->frag, &j);
  gates(&j, r);
  ft_json_end(&j);
}
