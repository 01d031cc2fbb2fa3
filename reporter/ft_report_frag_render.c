/*
** ft_report_frag_render.c — the fragmentation section as text or markdown:
** the host (free -h, compaction, buddy zones), the processes (RSS against
** the live heap), the sites to blame, and the findings with advice. Every
** absent source gets one sentence saying so; nothing here fails.
*/
#include <math.h>
#include <string.h>

#include "ft_frag.h"
#include "ft_report.h"
#include "ft_report_frag.h"

#define CAP FT_FMT_CAP

typedef struct out {
  FILE *f;
  ft_style style;
  int after_table; /* text: the last thing printed was a table, which ends without a blank line */
} out;

static void heading(out *o, const char *title, int level) {
  o->after_table = 0;
  if (o->style == FT_STYLE_MARKDOWN) fprintf(o->f, "\n%s %s\n\n", level == 1 ? "##" : "###", title);
  else if (level == 1) fprintf(o->f, "\n== %s ==\n", title);
  else fprintf(o->f, "\n  -- %s --\n", title);
}

static void para(out *o, const char *text) {
  if (o->style == FT_STYLE_MARKDOWN) {
    ft_md_escape(o->f, text);
    fputs("\n\n", o->f);
  } else {
    /* A paragraph right under a table would read as its last row. */
    if (o->after_table) fputc('\n', o->f);
    o->after_table = 0;
    fprintf(o->f, "  %s\n", text);
  }
}

static void table(out *o, ft_table *t) {
  if (!t) return;
  if (o->style == FT_STYLE_TEXT) fputc('\n', o->f);
  ft_table_print(t, o->f, o->style, o->style == FT_STYLE_TEXT ? "  " : NULL);
  if (o->style == FT_STYLE_MARKDOWN) fputc('\n', o->f);
  else o->after_table = 1;
  ft_table_free(t);
}

static size_t top_n(const ft_report *r, size_t n) {
  return r->opts->top > 0 && (size_t)r->opts->top < n ? (size_t)r->opts->top : n;
}

static const char *bytes_or(char *b, int64_t v) { return v < 0 ? "-" : ft_fmt_bytes(b, CAP, (double)v); }

/* A sparkline of v[0..n) scaled to [0, max] (eight levels, ' ' for -1). */
static const char *spark(char *buf, size_t cap, const int64_t *v, int n, double max, int log_scale) {
  static const char *const lv[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  size_t len = 0;
  buf[0] = 0;
  for (int i = 0; i < n && len + 4 < cap; i++) {
    const char *c = " ";
    if (v[i] >= 0) {
      double x = log_scale ? (v[i] > 0 ? log2((double)v[i]) : 0) : (double)v[i];
      int k = max > 0 ? (int)(x / max * 7.0 + 0.5) : 0;
      c = lv[k < 0 ? 0 : k > 7 ? 7 : k];
    }
    len += (size_t)snprintf(buf + len, cap - len, "%s", c);
  }
  return buf;
}

static const char *idx_str(char *buf, int v) { return ft_frag_index_str(v, buf, CAP); }

/* ---- host ---------------------------------------------------------------------------- */

static void mem_row(ft_table *t, const char *name, int64_t a, int64_t b, int count) {
  char x[CAP], y[CAP];
  if (a < 0 && b < 0) return;
  if (count) {
    snprintf(x, sizeof x, "%lld", (long long)a);
    snprintf(y, sizeof y, "%lld", (long long)b);
  }
  ft_table_row(t, (const char *[]){name, count ? x : bytes_or(x, a), count ? y : bytes_or(y, b)});
}

static void host_memory(out *o, const ft_frag_report *f) {
  heading(o, "Host memory (what free -h showed)", 2);
  if (!f->has_meminfo) {
    para(o, "No /proc/meminfo samples in this trace (an older trace, or the source was off or unreadable).");
    return;
  }
  char a[CAP], b[CAP], line[256];
  if (f->mem_start.t_ns == f->mem_end.t_ns)
    snprintf(line, sizeof line, "At the only sample (%s: the run was shorter than the meminfo interval); used = total - "
                                "available, buff/cache = Buffers + Cached + SReclaimable, as procps-ng 4's free computes them.",
             ft_fmt_duration(a, sizeof a, (double)f->mem_start.t_ns));
  else
    snprintf(line, sizeof line, "At the first sample (%s) and the last (%s); used = total - available, buff/cache = "
                                "Buffers + Cached + SReclaimable, as procps-ng 4's free computes them.",
             ft_fmt_duration(a, sizeof a, (double)f->mem_start.t_ns), ft_fmt_duration(b, sizeof b, (double)f->mem_end.t_ns));
  para(o, line);
  ft_table *t = ft_table_new(3, (const char *[]){"meminfo", "start", "end"}, "lrr");
  if (!t) return;
  const ft_rf_mem *s = &f->mem_start, *e = &f->mem_end;
  mem_row(t, "total", s->total, e->total, 0);
  mem_row(t, "used", s->used, e->used, 0);
  mem_row(t, "free", s->free, e->free, 0);
  mem_row(t, "shared", s->shared, e->shared, 0);
  mem_row(t, "buff/cache", s->buff_cache, e->buff_cache, 0);
  mem_row(t, "available", s->available, e->available, 0);
  mem_row(t, "Slab", s->slab, e->slab, 0);
  mem_row(t, "SReclaimable", s->sreclaimable, e->sreclaimable, 0);
  mem_row(t, "SUnreclaim", s->sunreclaim, e->sunreclaim, 0);
  mem_row(t, "AnonHugePages", s->anon_huge, e->anon_huge, 0);
  mem_row(t, "HugePages_Total", s->huge_total, e->huge_total, 1);
  mem_row(t, "HugePages_Free", s->huge_free, e->huge_free, 1);
  mem_row(t, "HugePages_Rsvd", s->huge_rsvd, e->huge_rsvd, 1);
  mem_row(t, "HugePages_Surp", s->huge_surp, e->huge_surp, 1);
  mem_row(t, "Hugepagesize", s->huge_size, e->huge_size, 0);
  table(o, t);
}

static void host_vmstat(out *o, const ft_frag_report *f) {
  heading(o, "Compaction and huge pages", 2);
  if (!f->has_vmstat) {
    para(o, "No /proc/vmstat samples in this trace.");
    return;
  }
  char a[CAP], line[256];
  if (f->sys_span_s <= 0) {
    /* One sample has no increase: rates of 0 would claim a quiet host. */
    para(o, "One /proc/vmstat sample only (the run was shorter than its interval): no rates.");
    return;
  }
  snprintf(line, sizeof line, "Counter increase between the first and last /proc/vmstat sample (%s), per second.",
           ft_fmt_duration(a, sizeof a, f->sys_span_s * 1e9));
  para(o, line);
  if (f->ncounters == 0) {
    para(o, "This kernel prints none of the compaction, THP or migration counters.");
    return;
  }
  ft_table *t = ft_table_new(3, (const char *[]){"counter", "events", "per second"}, "lrr");
  if (!t) return;
  for (int i = 0; i < f->ncounters; i++) {
    char n[CAP], ps[CAP];
    snprintf(ps, sizeof ps, "%.2f", f->counters[i].per_s);
    ft_table_row(t, (const char *[]){f->counters[i].key, ft_fmt_int(n, sizeof n, f->counters[i].delta), ps});
  }
  table(o, t);
}

static void host_zones(out *o, const ft_frag_report *f) {
  heading(o, "Free blocks per zone (buddyinfo)", 2);
  if (!f->has_buddy) {
    para(o, "No /proc/buddyinfo samples in this trace.");
    return;
  }
  char a[CAP], b[CAP], c[CAP], d[CAP], line[512];
  snprintf(line, sizeof line,
           "Largest free block of every node and zone (page size %s, orders from the trace), its minimum over time in "
           "%d slices from %s to %s; 'worst' is the sample where most free memory could not serve a %s block.",
           ft_fmt_bytes(a, sizeof a, (double)f->page_size), FT_RF_POINTS, ft_fmt_duration(b, sizeof b, (double)f->sys_lo_ns),
           ft_fmt_duration(c, sizeof c, (double)f->sys_hi_ns), ft_fmt_bytes(d, sizeof d, (double)(f->page_size << f->ref_order)));
  para(o, line);
  ft_table *t = ft_table_new(7, (const char *[]){"node", "zone", "samples", "start", "min (at)", "end", "largest block over time"},
                             "rlrrrrl");
  if (!t) return;
  for (int i = 0; i < f->nzones; i++) {
    const ft_rf_zone *z = &f->zones[i];
    char node[CAP], n[CAP], s[CAP], m[2 * CAP + 8], e[CAP], sp[FT_RF_POINTS * 4 + 1], mt[CAP];
    snprintf(node, sizeof node, "%lld", (long long)z->node);
    snprintf(m, sizeof m, "%s (%s)", ft_fmt_bytes(mt, sizeof mt, (double)z->largest_min),
             ft_fmt_duration(a, sizeof a, (double)z->largest_min_ns));
    ft_table_row(t, (const char *[]){node, z->zone, ft_fmt_int(n, sizeof n, z->nsamples),
                                     ft_fmt_bytes(s, sizeof s, (double)z->start.largest_bytes), m,
                                     ft_fmt_bytes(e, sizeof e, (double)z->end.largest_bytes),
                                     z->empty ? "(empty zone)"
                                              : spark(sp, sizeof sp, z->largest_series, FT_RF_POINTS,
                                                      (double)(z->norders > 1 ? z->norders - 1 : 1) +
                                                          log2((double)f->page_size), 1)});
  }
  table(o, t);
  for (int i = 0; i < f->nzones; i++) {
    const ft_rf_zone *z = &f->zones[i];
    if (z->empty) continue;
    snprintf(line, sizeof line,
             "Node %lld, zone %s: free blocks and the kernel's unusable free space index / fragmentation index per order "
             "(start %s, worst %s, end %s)",
             (long long)z->node, z->zone, ft_fmt_duration(a, sizeof a, (double)z->start.t_ns),
             ft_fmt_duration(b, sizeof b, (double)z->worst.t_ns), ft_fmt_duration(c, sizeof c, (double)z->end.t_ns));
    para(o, line);
    ft_table *u = ft_table_new(11, (const char *[]){"order", "block", "free start", "free worst", "free end", "unusable start",
                                                    "unusable worst", "unusable end", "frag start", "frag worst", "frag end"},
                               "rrrrrrrrrrr");
    if (!u) return;
    for (int k = 0; k < z->norders; k++) {
      char ord[CAP], blk[CAP], f0[CAP], f1[CAP], f2[CAP], u0[CAP], u1[CAP], u2[CAP], x0[CAP], x1[CAP], x2[CAP];
      snprintf(ord, sizeof ord, "%d", k);
      ft_table_row(u, (const char *[]){ord, ft_fmt_bytes(blk, sizeof blk, (double)(f->page_size << k)),
                                       ft_fmt_int(f0, sizeof f0, z->start.free_blocks[k]),
                                       ft_fmt_int(f1, sizeof f1, z->worst.free_blocks[k]),
                                       ft_fmt_int(f2, sizeof f2, z->end.free_blocks[k]), idx_str(u0, z->start.unusable[k]),
                                       idx_str(u1, z->worst.unusable[k]), idx_str(u2, z->end.unusable[k]),
                                       idx_str(x0, z->start.fragidx[k]), idx_str(x1, z->worst.fragidx[k]),
                                       idx_str(x2, z->end.fragidx[k])});
    }
    table(o, u);
  }
}

/* ---- processes ------------------------------------------------------------------------- */

static void psnap_row(ft_table *t, const char *pid, const char *what, const ft_rf_psnap *s) {
  if (s->t_ns < 0) return;
  char tm[CAP], rss[CAP], pss[CAP], live[CAP], gap[CAP], ratio[CAP], af[CAP];
  if (isinf(s->ratio)) snprintf(ratio, sizeof ratio, "inf");
  else snprintf(ratio, sizeof ratio, "%.2f", s->ratio);
  ft_table_row(t, (const char *[]){pid, what, ft_fmt_duration(tm, sizeof tm, (double)s->t_ns), ft_fmt_bytes(rss, sizeof rss, (double)s->rss),
                                   bytes_or(pss, s->pss), ft_fmt_bytes(live, sizeof live, (double)s->live),
                                   ft_fmt_bytes(gap, sizeof gap, (double)s->gap), ratio, bytes_or(af, s->arena_free)});
}

static void processes(out *o, const ft_report *r, const ft_frag_report *f) {
  heading(o, "Process memory against the live heap", 2);
  if (!f->has_psamples) {
    para(o, "No RSS samples of the selected processes (recorded with --sample-ms 0, or a `fragtrace sample` file "
            "without a traced program).");
    return;
  }
  para(o, "RSS less the recorder's own memory, its Pss (smaps_rollup), the live heap fragtrace counts, the gap between "
          "them and their ratio, and the free bytes in glibc's arenas (mallinfo2), at the first sample, the heap's peak, "
          "the gap's peak and the last sample. Pss and arena free come from the latest sample of their own, slower "
          "source at or before each instant ('-': none yet), so they can lag behind RSS.");
  ft_table *t = ft_table_new(9, (const char *[]){"pid", "instant", "time", "RSS", "Pss", "live heap", "gap", "ratio", "arena free"},
                             "rlrrrrrrr");
  if (!t) return;
  size_t n = top_n(r, f->nprocs);
  for (size_t i = 0; i < n; i++) {
    const ft_rf_proc *p = &f->procs[i];
    char pid[CAP];
    snprintf(pid, sizeof pid, "%lld", (long long)p->pid);
    psnap_row(t, pid, "start", &p->start);
    psnap_row(t, "", "heap peak", &p->heap_peak);
    psnap_row(t, "", "gap peak", &p->gap_peak);
    psnap_row(t, "", "end", &p->end);
  }
  table(o, t);
  if (o->style == FT_STYLE_MARKDOWN) fputs("```\n", o->f);
  else fputc('\n', o->f);
  o->after_table = 0;
  for (size_t i = 0; i < n; i++) {
    const ft_rf_proc *p = &f->procs[i];
    double max = 0;
    for (int k = 0; k < FT_RF_POINTS; k++) max = fmax(max, fmax((double)p->rss_series[k], (double)p->live_series[k]));
    char s1[FT_RF_POINTS * 4 + 1], s2[FT_RF_POINTS * 4 + 1], m[CAP];
    const char *ind = o->style == FT_STYLE_TEXT ? "  " : "";
    char pid[CAP];
    int w = snprintf(pid, sizeof pid, "pid %lld", (long long)p->pid);
    fprintf(o->f, "%s%s  RSS  %s  (0 .. %s over the run)\n", ind, pid,
            spark(s1, sizeof s1, p->rss_series, FT_RF_POINTS, max, 0), ft_fmt_bytes(m, sizeof m, max));
    fprintf(o->f, "%s%*s  live %s\n", ind, w, "", spark(s2, sizeof s2, p->live_series, FT_RF_POINTS, max, 0));
  }
  if (o->style == FT_STYLE_MARKDOWN) fputs("```\n", o->f);
}

/* ---- sites ----------------------------------------------------------------------------- */

/* A correlation ranking as a table: rank, rho, spans, the spans where the
** series moved (its column titled moved), site. */
static void corr_table(out *o, const ft_report *r, const char *moved, const ft_rf_corr *list, size_t n) {
  ft_table *t = ft_table_new(5, (const char *[]){"#", "rho", "spans", moved, "site"}, "rrrrl");
  for (size_t i = 0; t && i < top_n(r, n); i++) {
    const ft_rf_corr *x = &list[i];
    char k[CAP], rho[CAP], a[CAP], b[CAP];
    snprintf(k, sizeof k, "%zu", i + 1);
    snprintf(rho, sizeof rho, "%.2f", x->rho);
    ft_table_row(t, (const char *[]){k, rho, ft_fmt_int(a, sizeof a, x->windows), ft_fmt_int(b, sizeof b, x->growth_windows),
                                     ft_site_label(&r->sites[x->site])});
  }
  table(o, t);
}

static void sites(out *o, const ft_report *r, const ft_frag_report *f) {
  heading(o, "Call sites to blame", 2);
  char a[CAP], b[CAP], c[CAP], d[CAP], line[512];
  if (!f->has_windows) {
    para(o, "No per-window churn (site_windows) in this trace.");
  } else if (f->nchurn > 0) {
    snprintf(line, sizeof line, "Churn: each site's busiest window of %s.", ft_fmt_duration(a, sizeof a, (double)f->window_ns));
    para(o, line);
    ft_table *t = ft_table_new(6, (const char *[]){"#", "peak allocs/s", "allocations", "bytes", "window at", "site"}, "rrrrrl");
    for (size_t i = 0; t && i < top_n(r, f->nchurn); i++) {
      const ft_rf_churn *x = &f->churn[i];
      char k[CAP];
      snprintf(k, sizeof k, "%zu", i + 1);
      ft_table_row(t, (const char *[]){k, ft_fmt_si(a, sizeof a, x->peak_rate), ft_fmt_int(b, sizeof b, x->peak_allocs),
                                       ft_fmt_bytes(c, sizeof c, (double)x->peak_bytes),
                                       ft_fmt_duration(d, sizeof d, (double)x->peak_window_ns), ft_site_label(&r->sites[x->site])});
    }
    table(o, t);
  }
  if (f->has_windows) {
    if (f->ncorr == 0) {
      para(o, "Correlation with RSS growth: too few RSS samples or active sites to rank.");
    } else {
      para(o, "Correlation: Spearman's rank correlation of each site's allocations with its process's RSS growth over "
              "the spans between RSS samples (1: its churn rises exactly when RSS grows).");
      corr_table(o, r, "spans RSS grew", f->corr, f->ncorr);
    }
    /* Without host samples the buddyinfo part already says so. */
    if (f->has_buddy && f->nbcorr == 0) {
      para(o, "Correlation with the host's high-order free memory: too few buddyinfo samples or active sites to rank.");
    } else if (f->has_buddy) {
      snprintf(line, sizeof line,
               "Correlation: Spearman's rank correlation of each site's allocations with the shrinkage of the host's free "
               "memory in blocks of %s or more (buddyinfo orders >= %d, all nodes and zones) over the spans between "
               "buddyinfo samples (host-wide: other programs move it too).",
               ft_fmt_bytes(a, sizeof a, (double)(f->page_size << f->ref_order)), f->ref_order);
      para(o, line);
      corr_table(o, r, "spans they shrank", f->bcorr, f->nbcorr);
    }
  }
  if (!f->has_mix) {
    para(o, "No lifetime mix (site_lifetime_mix) in this trace.");
  } else if (f->nmix == 0) {
    para(o, "Lifetime mix: no site has both >= 10% short-lived and >= 10% long-lived allocations.");
  } else {
    snprintf(line, sizeof line, "Lifetime mix: sites with >= 10%% of allocations short-lived (< %s) and >= 10%% living %s or "
                                "longer (or never freed).",
             ft_fmt_duration(a, sizeof a, (double)r->short_lived_ns), ft_fmt_duration(b, sizeof b, (double)f->long_ns));
    para(o, line);
    ft_table *t = ft_table_new(5, (const char *[]){"#", "allocations", "short-lived", "long-lived", "site"}, "rrrrl");
    for (size_t i = 0; t && i < top_n(r, f->nmix); i++) {
      const ft_rf_mix *x = &f->mix[i];
      char k[CAP];
      snprintf(k, sizeof k, "%zu", i + 1);
      ft_table_row(t, (const char *[]){k, ft_fmt_int(a, sizeof a, x->allocations), ft_fmt_pct(b, sizeof b, x->short_pct),
                                       ft_fmt_pct(c, sizeof c, x->long_pct), ft_site_label(&r->sites[x->site])});
    }
    table(o, t);
  }
  if (!f->has_pinning) {
    /* The importer skips pinning for byte-sampled images (schema/README.md). */
    para(o, r->nsampled > 0 ? "No pinning data: pinning needs every live block, and a byte-sampled trace records "
                              "only some."
                            : "No pinning data in this trace.");
  } else if (f->npins == 0) {
    para(o, "Pinning: no live block keeps an otherwise free page resident.");
  } else {
    snprintf(line, sizeof line, "Pinning: free bytes of %s pages kept resident by the sites' live blocks (at the largest RSS "
                                "gap, else at the end); %s in all.",
             ft_fmt_bytes(a, sizeof a, (double)f->page_size), ft_fmt_bytes(b, sizeof b, (double)f->pinned_total));
    para(o, line);
    ft_table *t = ft_table_new(6, (const char *[]){"#", "pinned", "pages", "blocks", "typical size", "site"}, "rrrrrl");
    for (size_t i = 0; t && i < top_n(r, f->npins); i++) {
      const ft_rf_pin *x = &f->pins[i];
      char k[CAP];
      snprintf(k, sizeof k, "%zu", i + 1);
      ft_table_row(t, (const char *[]){k, ft_fmt_bytes(a, sizeof a, (double)x->pinned_bytes), ft_fmt_int(b, sizeof b, x->pages),
                                       ft_fmt_int(c, sizeof c, x->blocks), ft_fmt_bytes(d, sizeof d, (double)x->typical_size),
                                       ft_site_label(&r->sites[x->site])});
    }
    table(o, t);
  }
}

/* ---- findings ---------------------------------------------------------------------------- */

static const char *const severity_name[] = {"", "high", "medium", "low"};

static void findings(out *o, const ft_frag_report *f) {
  heading(o, "Findings and advice", 2);
  int program = 0;
  for (int i = 0; i < f->nfindings; i++) program += f->findings[i].scope != FT_FIND_SYSTEM;
  /* A host-only file (fragtrace sample) has no program to clear. */
  int has_program = f->has_psamples || f->nchurn > 0 || f->npins > 0 || f->nmix > 0;
  if (program == 0 && has_program)
    para(o, "All clear: no fragmentation finding for the program (rules and thresholds: README, Fragmentation).");
  else if (program == 0)
    para(o, f->nfindings ? "No program data in this trace (host samples only): host findings below."
                         : "No program data in this trace (host samples only), and no host finding.");
  for (int i = 0; i < f->nfindings; i++) {
    const ft_finding *x = &f->findings[i];
    const char *scope = x->scope == FT_FIND_SYSTEM ? "host" : x->scope == FT_FIND_PROCESS ? "process" : "site";
    if (o->style == FT_STYLE_MARKDOWN) {
      fprintf(o->f, "%d. **%s** (%s, %s): ", i + 1, severity_name[x->severity], x->rule, scope);
      ft_md_escape(o->f, x->text);
      fputc('\n', o->f);
      for (int k = 0; k < x->nadvice; k++) {
        fputs("   - ", o->f);
        ft_md_escape(o->f, x->advice[k]);
        fputc('\n', o->f);
      }
    } else {
      fprintf(o->f, "\n  %d. [%s] %s (%s): %s\n", i + 1, severity_name[x->severity], x->rule, scope, x->text);
      for (int k = 0; k < x->nadvice; k++) fprintf(o->f, "     - %s\n", x->advice[k]);
    }
  }
  if (o->style == FT_STYLE_MARKDOWN && f->nfindings) fputc('\n', o->f);
}

void ft_report_frag_render(const ft_report *r, const ft_frag_report *f, FILE *fp, ft_style style) {
  out o = {fp, style, 0};
  heading(&o, "Fragmentation", 1);
  if (!f) return;
  for (int i = 0; i < f->nnotes; i++) {
    char line[200];
    snprintf(line, sizeof line, "not sampled: %s", f->notes[i]);
    para(&o, line);
  }
  findings(&o, f);
  host_memory(&o, f);
  host_vmstat(&o, f);
  host_zones(&o, f);
  processes(&o, r, f);
  sites(&o, r, f);
}
