/*
** ft_report_frag_json.c — the "fragmentation" object of the JSON report
** (reporter/report.schema.json, $defs/fragmentation). Unrounded numbers:
** bytes and counts as integers, times in ns since the trace started, the
** kernel's indices as the numbers debugfs prints (value / 1000), a part the
** trace has no data for as null.
*/
#include <math.h>

#include "ft_report.h"
#include "ft_report_frag.h"

static size_t top_n(const ft_report *r, size_t n) {
  return r->opts->top > 0 && (size_t)r->opts->top < n ? (size_t)r->opts->top : n;
}

static void opt_int(ft_json *j, const char *key, int64_t v) {
  if (v < 0) ft_json_null(j, key);
  else ft_json_int(j, key, v);
}

static void zone_snap(ft_json *j, const char *key, const ft_rf_snap *s, int norders, int64_t page_size) {
  if (s->t_ns < 0) {
    ft_json_null(j, key);
    return;
  }
  ft_json_object(j, key);
  ft_json_int(j, "t_ns", s->t_ns);
  ft_json_int(j, "free_pages", s->free_pages);
  ft_json_int(j, "largest_block_bytes", s->largest_bytes);
  ft_json_int(j, "largest_order", s->largest_order);
  ft_json_array(j, "orders");
  for (int o = 0; o < norders; o++) {
    ft_json_object(j, NULL);
    ft_json_int(j, "order", o);
    ft_json_int(j, "block_bytes", page_size << o);
    ft_json_int(j, "free_blocks", s->free_blocks[o]);
    ft_json_num(j, "unusable_index", s->unusable[o] / 1000.0);
    ft_json_num(j, "fragmentation_index", s->fragidx[o] / 1000.0);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
}

static void mem(ft_json *j, const char *key, const ft_rf_mem *m) {
  if (m->t_ns < 0) {
    ft_json_null(j, key);
    return;
  }
  ft_json_object(j, key);
  ft_json_int(j, "t_ns", m->t_ns);
  const char *names[] = {"total", "used", "free", "shared", "buff_cache", "available", "slab", "sreclaimable", "sunreclaim",
                         "anon_huge_pages", "hugepages_total", "hugepages_free", "hugepages_rsvd", "hugepages_surp",
                         "hugepage_size"};
  const int64_t v[] = {m->total, m->used, m->free, m->shared, m->buff_cache, m->available, m->slab, m->sreclaimable,
                       m->sunreclaim, m->anon_huge, m->huge_total, m->huge_free, m->huge_rsvd, m->huge_surp, m->huge_size};
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) opt_int(j, names[i], v[i]);
  ft_json_end(j);
}

static void psnap(ft_json *j, const char *key, const ft_rf_psnap *s) {
  if (s->t_ns < 0) {
    ft_json_null(j, key);
    return;
  }
  ft_json_object(j, key);
  ft_json_int(j, "t_ns", s->t_ns);
  ft_json_int(j, "rss_bytes", s->rss);
  opt_int(j, "pss_bytes", s->pss);
  ft_json_int(j, "live_bytes", s->live);
  ft_json_int(j, "gap_bytes", s->gap);
  ft_json_num(j, "ratio", s->ratio); /* null when infinite: a live heap of 0 */
  opt_int(j, "arena_free_bytes", s->arena_free);
  opt_int(j, "arena_top_bytes", s->arena_top);
  opt_int(j, "pss_t_ns", s->pss_t_ns);
  opt_int(j, "arena_t_ns", s->arena_t_ns);
  ft_json_end(j);
}

static void series(ft_json *j, const char *key, const int64_t *v) {
  ft_json_array(j, key);
  for (int k = 0; k < FT_RF_POINTS; k++) opt_int(j, NULL, v[k]);
  ft_json_end(j);
}

static void site(ft_json *j, const ft_report *r, int si) { ft_json_str(j, "site", ft_site_label(&r->sites[si])); }


/* One correlation ranking (with RSS growth, or with shrinking high-order
** free memory): the same fields, only the name of the window count differs. */
static void corr_array(ft_json *j, const ft_report *r, const char *name, const char *windows_key,
                       const ft_rf_corr *corr, size_t n) {
  ft_json_array(j, name);
  for (size_t i = 0; i < top_n(r, n); i++) {
    ft_json_object(j, NULL);
    ft_json_int(j, "rank", (int64_t)i + 1);
    site(j, r, corr[i].site);
    ft_json_num(j, "rho", corr[i].rho);
    ft_json_int(j, "windows", corr[i].windows);
    ft_json_int(j, windows_key, corr[i].growth_windows);
    ft_json_end(j);
  }
  ft_json_end(j);
}

static void sites(ft_json *j, const ft_report *r, const ft_frag_report *f) {
  ft_json_object(j, "sites");
  opt_int(j, "window_ns", f->has_windows ? f->window_ns : -1);
  ft_json_int(j, "long_lived_ns", f->long_ns);
  ft_json_array(j, "churn");
  for (size_t i = 0; i < top_n(r, f->nchurn); i++) {
    const ft_rf_churn *x = &f->churn[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "rank", (int64_t)i + 1);
    site(j, r, x->site);
    ft_json_num(j, "peak_allocs_per_s", x->peak_rate);
    ft_json_int(j, "peak_allocations", x->peak_allocs);
    ft_json_int(j, "peak_bytes", x->peak_bytes);
    ft_json_int(j, "peak_window_ns", x->peak_window_ns);
    ft_json_int(j, "windows", x->windows);
    ft_json_end(j);
  }
  ft_json_end(j);
  corr_array(j, r, "correlation", "growth_windows", f->corr, f->ncorr);
  if (f->has_buddy) ft_json_int(j, "buddy_high_order", f->ref_order);
  else ft_json_null(j, "buddy_high_order");
  corr_array(j, r, "buddy_correlation", "shrink_windows", f->bcorr, f->nbcorr);
  ft_json_array(j, "lifetime_mix");
  for (size_t i = 0; i < top_n(r, f->nmix); i++) {
    const ft_rf_mix *x = &f->mix[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "rank", (int64_t)i + 1);
    site(j, r, x->site);
    ft_json_int(j, "allocations", x->allocations);
    ft_json_int(j, "short_lived", x->short_lived);
    ft_json_int(j, "long_lived", x->long_lived);
    ft_json_num(j, "short_lived_pct", x->short_pct);
    ft_json_num(j, "long_lived_pct", x->long_pct);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_array(j, "pinning");
  for (size_t i = 0; i < top_n(r, f->npins); i++) {
    const ft_rf_pin *x = &f->pins[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "rank", (int64_t)i + 1);
    site(j, r, x->site);
    ft_json_int(j, "pinned_bytes", x->pinned_bytes);
    ft_json_int(j, "pages", x->pages);
    ft_json_int(j, "blocks", x->blocks);
    ft_json_int(j, "live_bytes", x->bytes);
    ft_json_int(j, "typical_size", x->typical_size);
    ft_json_end(j);
  }
  ft_json_end(j);
  opt_int(j, "pinned_total_bytes", f->has_pinning ? f->pinned_total : -1);
  ft_json_end(j);
}

static void findings(ft_json *j, const ft_report *r, const ft_frag_report *f) {
  static const char *const scopes[] = {"site", "process", "host", "clear"};
  int program = 0;
  for (int i = 0; i < f->nfindings; i++) program += f->findings[i].scope != FT_FIND_SYSTEM;
  ft_json_bool(j, "all_clear", program == 0);
  ft_json_array(j, "findings");
  for (int i = 0; i < f->nfindings; i++) {
    const ft_finding *x = &f->findings[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "rank", i + 1);
    ft_json_str(j, "rule", x->rule);
    ft_json_str(j, "scope", scopes[x->scope]);
    ft_json_int(j, "severity", x->severity);
    ft_json_str(j, "site", x->site >= 0 ? ft_site_label(&r->sites[x->site]) : NULL);
    opt_int(j, "pid", x->pid);
    ft_json_str(j, "text", x->text);
    ft_json_array(j, "advice");
    for (int k = 0; k < x->nadvice; k++) ft_json_str(j, NULL, x->advice[k]);
    ft_json_end(j);
    ft_json_end(j);
  }
  ft_json_end(j);
}

void ft_report_frag_json(const ft_report *r, const ft_frag_report *f, ft_json *j) {
  ft_json_object(j, "fragmentation");
  ft_json_object(j, "sources");
  ft_json_bool(j, "buddyinfo", f->has_buddy);
  ft_json_bool(j, "meminfo", f->has_meminfo);
  ft_json_bool(j, "vmstat", f->has_vmstat);
  ft_json_bool(j, "process_samples", f->has_psamples);
  ft_json_bool(j, "smaps", f->has_smaps);
  ft_json_bool(j, "mallinfo", f->has_mallinfo);
  ft_json_bool(j, "site_windows", f->has_windows);
  ft_json_bool(j, "lifetime_mix", f->has_mix);
  ft_json_bool(j, "pinning", f->has_pinning);
  ft_json_end(j);
  ft_json_array(j, "notes");
  for (int i = 0; i < f->nnotes; i++) ft_json_str(j, NULL, f->notes[i]);
  ft_json_end(j);
  ft_json_int(j, "page_size", f->page_size);
  ft_json_int(j, "ref_order", f->ref_order);
  findings(j, r, f);
  ft_json_object(j, "memory");
  mem(j, "start", &f->mem_start);
  mem(j, "end", &f->mem_end);
  ft_json_end(j);
  ft_json_object(j, "vmstat");
  ft_json_int(j, "span_ns", (int64_t)llround(f->sys_span_s * 1e9));
  ft_json_array(j, "counters");
  for (int i = 0; i < f->ncounters; i++) {
    ft_json_object(j, NULL);
    ft_json_str(j, "key", f->counters[i].key);
    ft_json_int(j, "delta", f->counters[i].delta);
    ft_json_num(j, "per_s", f->counters[i].per_s);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_end(j);
  ft_json_array(j, "zones");
  for (int i = 0; i < f->nzones; i++) {
    const ft_rf_zone *z = &f->zones[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "node", z->node);
    ft_json_str(j, "zone", z->zone);
    ft_json_int(j, "orders", z->norders);
    ft_json_int(j, "samples", z->nsamples);
    ft_json_bool(j, "empty", z->empty);
    ft_json_int(j, "largest_min_bytes", z->largest_min);
    ft_json_int(j, "largest_min_ns", z->largest_min_ns);
    ft_json_int(j, "largest_max_bytes", z->largest_max);
    series(j, "largest_series", z->largest_series);
    zone_snap(j, "start", &z->start, z->norders, f->page_size);
    zone_snap(j, "worst", &z->worst, z->norders, f->page_size);
    zone_snap(j, "end", &z->end, z->norders, f->page_size);
    ft_json_end(j);
  }
  ft_json_end(j);
  ft_json_array(j, "processes");
  for (size_t i = 0; i < f->nprocs; i++) {
    const ft_rf_proc *p = &f->procs[i];
    ft_json_object(j, NULL);
    ft_json_int(j, "pid", p->pid);
    ft_json_int(j, "samples", p->nsamples);
    ft_json_int(j, "threads", p->threads);
    ft_json_int(j, "inherited_live_bytes", p->inherited_live);
    ft_json_str(j, "allocator", p->allocator[0] ? p->allocator : "glibc");
    psnap(j, "start", &p->start);
    psnap(j, "heap_peak", &p->heap_peak);
    psnap(j, "gap_peak", &p->gap_peak);
    psnap(j, "end", &p->end);
    ft_json_int(j, "series_start_ns", p->series_lo);
    ft_json_int(j, "series_step_ns", p->series_w);
    series(j, "rss_series", p->rss_series);
    series(j, "live_series", p->live_series);
    ft_json_end(j);
  }
  ft_json_end(j);
  sites(j, r, f);
  ft_json_end(j);
}
