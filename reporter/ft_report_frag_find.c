/*
** ft_report_frag_find.c — the findings and advice of the fragmentation
** section: explicit rules with documented thresholds over the model that
** ft_report_frag_data.c and ft_report_frag_sites.c built. Deterministic:
** the same trace and options give the same findings in the same order.
**
** Rules (README, "Fragmentation", lists them for users):
**   heap-gap       a process's RSS (less the recorder's own memory) exceeds
**                  its live heap by >= FT_FIND_GAP_BYTES and >= FT_FIND_GAP_RATIO
**                  times at the instant the gap peaked
**   pinning        a site's live blocks keep >= FT_FIND_PIN_BYTES of otherwise
**                  free pages resident, and >= FT_FIND_PIN_SHARE of its
**                  process's peak gap when the process was sampled
**   lifetime-mix   a ranked site (--min-allocs) with >= FT_FIND_MIX_PCT % of
**                  its allocations short-lived and as many long-lived
**   varying-size   a ranked site whose sizes span >= FT_FIND_VARY_FACTOR x up
**                  to >= FT_FIND_LARGE_BYTES, allocating >= FT_FIND_VARY_SHARE
**                  of its process's bytes, in a process with a heap-gap finding
**                  or with rank correlation >= FT_FIND_RHO to RSS growth or
**                  >= FT_FIND_BUDDY_RHO to the host's high-order shrinkage
**   hot-fixed-size a site of one size allocating >= FT_FIND_HOT_RATE per second,
**                  >= FT_FIND_HOT_ALLOCS times, mostly (>= 50 %) short-lived;
**                  medium when one of the two correlations above holds
**   compaction     the host stalled in direct compaction or fell back from
**                  THP allocations >= FT_FIND_STALL_RATE times per second
**   host-fragmented  at the worst buddyinfo sample a zone had >= FT_FIND_HUGE_FREE
**                  huge-page-sized blocks' worth of free memory, yet an
**                  unusable free space index >= FT_FIND_UNUSABLE at the 2 MiB order
** Severity: 1 high, 2 medium, 3 low; findings sort by severity, then by
** impact (bytes, or events per second for the host), then rule name.
*/
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ft_report.h"
#include "ft_report_frag.h"

#define FT_FIND_GAP_BYTES (16 * 1024 * 1024) /* below this a gap is noise: code, stacks, libraries */
#define FT_FIND_GAP_RATIO 2.0                 /* RSS at least twice the live heap */
#define FT_FIND_GAP_HIGH_RATIO 4.0            /* ... four times: severity 1 */
#define FT_FIND_PIN_BYTES (4 * 1024 * 1024)
#define FT_FIND_PIN_SHARE 0.25
#define FT_FIND_MIX_PCT 20.0
#define FT_FIND_VARY_FACTOR 4
#define FT_FIND_LARGE_BYTES (128 * 1024)      /* glibc's default M_MMAP_THRESHOLD */
#define FT_FIND_VARY_SHARE 0.5
#define FT_FIND_RHO 0.5
#define FT_FIND_BUDDY_RHO 0.7                 /* host-wide series: other programs add noise */
#define FT_FIND_HOT_RATE 10000.0
#define FT_FIND_HOT_ALLOCS 10000
#define FT_FIND_STALL_RATE 1.0
#define FT_FIND_UNUSABLE 900                  /* the kernel's index x1000: 90 % of free memory unusable */
#define FT_FIND_HUGE_FREE 4                   /* free memory worth at least this many 2 MiB blocks */

/* Advice, shared by the rules (static strings, referenced by findings). */
static const char A_SEPARATE[] =
    "separate long-lived from short-lived allocations: give the long-lived blocks their own pool or arena, "
    "or allocate them up front, so short-lived buffers never share their pages";
static const char A_COMPACT[] =
    "after a burst, copy the survivors into a compact store (compaction by hand) so the freed pages can go back";
static const char A_TRIM[] =
    "let glibc return free memory: malloc_trim(0) after releasing big structures, or a lower M_TRIM_THRESHOLD "
    "(mallopt, or MALLOC_TRIM_THRESHOLD_=131072)";
static const char A_ARENA[] =
    "fewer malloc arenas strand less free memory between threads: MALLOC_ARENA_MAX=2 (or mallopt M_ARENA_MAX)";
static const char A_ALLOC[] =
    "try an allocator that segregates sizes and returns memory eagerly: jemalloc (dirty_decay_ms), tcmalloc or "
    "mimalloc, via LD_PRELOAD without rebuilding";
/* The same two mitigations when malloc is not glibc's (mallinfo2 skipped):
** glibc's knobs do nothing there, the allocator's own do. */
static const char A_JEMALLOC[] =
    "malloc here is jemalloc, which keeps freed pages for dirty_decay_ms (10 s by default) before giving them "
    "back: MALLOC_CONF=dirty_decay_ms:1000,background_thread:true returns them sooner, and fewer arenas "
    "(narenas:N) strand less free memory between threads";
static const char A_TCMALLOC[] =
    "malloc here is tcmalloc: raise TCMALLOC_RELEASE_RATE (or call MallocExtension::ReleaseFreeMemory) so free "
    "spans go back to the kernel";
static const char A_MIMALLOC[] =
    "malloc here is mimalloc: a shorter MIMALLOC_PURGE_DELAY returns freed pages sooner";
static const char A_OTHER_ALLOC[] =
    "malloc here is not glibc's, so malloc_trim and MALLOC_ARENA_MAX do not apply: look for the allocator's own "
    "setting for returning free memory";
static const char A_MMAP[] =
    "serve large buffers by mmap so a free returns them: a fixed M_MMAP_THRESHOLD (mallopt, or "
    "MALLOC_MMAP_THRESHOLD_=131072) also stops glibc raising the threshold after each free";
static const char A_PREALLOC[] =
    "preallocate one buffer of the largest size and reuse it, or round requests to a few size classes";
static const char A_POOL[] =
    "pool the fixed-size objects (a free list or slab of them), or preallocate them, instead of malloc/free per use";
static const char A_RESTART[] =
    "as a last resort, restart or reload the service periodically: it returns all memory, but hides the cause";
static const char A_THP[] =
    "transparent huge pages: set /sys/kernel/mm/transparent_hugepage/defrag to defer+madvise (or madvise) so "
    "faults do not stall in compaction; enabled=madvise limits THP to programs that ask";
static const char A_COMPACTION[] =
    "let the kernel compact in the background: vm.compaction_proactiveness (5.9+), or "
    "echo 1 > /proc/sys/vm/compact_memory before a large allocation";
static const char A_MINFREE[] =
    "raise vm.min_free_kbytes so the kernel keeps more memory, and larger blocks, free in reserve (test it: it "
    "takes memory from everything else)";
static const char A_REBOOT[] = "a reboot defragments the host's memory, until the workload fragments it again";

static ft_finding *add(ft_frag_report *f, const char *rule, ft_finding_scope scope, int severity, double impact) {
  if (f->nfindings >= FT_RF_MAX_FINDINGS) return NULL;
  ft_finding *x = &f->findings[f->nfindings++];
  memset(x, 0, sizeof *x);
  x->rule = rule;
  x->scope = scope;
  x->severity = severity;
  x->impact = impact;
  x->site = -1;
  x->pid = -1;
  return x;
}

static void advise(ft_finding *x, const char *a) {
  assert(x->nadvice < FT_RF_MAX_ADVICE);
  x->advice[x->nadvice++] = a;
}

/* The frag process of an image key, or NULL. */
static const ft_rf_proc *proc_of(const ft_frag_report *f, int64_t proc) {
  for (size_t i = 0; i < f->nprocs; i++)
    if (f->procs[i].proc == proc) return &f->procs[i];
  return NULL;
}

/* The advice on getting free memory back from malloc: glibc's knobs (trim,
** mmap threshold, arenas, another allocator) when malloc is glibc's, else the
** allocator's own setting. `mmap` and `arena` say which glibc knobs fit. */
static void advise_allocator(ft_finding *x, const ft_rf_proc *p, int mmap, int trim, int arena) {
  if (p && p->allocator[0]) {
    advise(x, strstr(p->allocator, "jemalloc")   ? A_JEMALLOC
              : strstr(p->allocator, "tcmalloc") ? A_TCMALLOC
              : strstr(p->allocator, "mimalloc") ? A_MIMALLOC
                                                 : A_OTHER_ALLOC);
    return;
  }
  if (mmap) advise(x, A_MMAP);
  if (trim) advise(x, A_TRIM);
  if (arena) advise(x, A_ARENA);
  advise(x, A_ALLOC);
}

/* Whether a process has a heap gap worth a finding at its gap peak. */
static int gap_found(const ft_rf_proc *p) {
  const ft_rf_psnap *s = &p->gap_peak;
  return s->t_ns >= 0 && s->gap >= FT_FIND_GAP_BYTES && s->ratio >= FT_FIND_GAP_RATIO;
}

/* Site scope: pinned bytes of all sites of r that pin. */
static int64_t pinned_in(const ft_frag_report *f, int site) {
  for (size_t i = 0; i < f->npins; i++)
    if (f->pins[i].site == site) return f->pins[i].pinned_bytes;
  return 0;
}

static void rule_gap(const ft_report *r, ft_frag_report *f) {
  (void)r;
  for (size_t i = 0; i < f->nprocs; i++) {
    const ft_rf_proc *p = &f->procs[i];
    if (!gap_found(p)) continue;
    const ft_rf_psnap *s = &p->gap_peak, *e = &p->end;
    ft_finding *x = add(f, "heap-gap", FT_FIND_PROCESS, s->ratio >= FT_FIND_GAP_HIGH_RATIO ? 1 : 2, (double)s->gap);
    if (!x) return;
    x->pid = p->pid;
    char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP], g[FT_FMT_CAP], h[FT_FMT_CAP];
    int n = snprintf(x->text, sizeof x->text,
                     "pid %lld holds %s of RSS for a live heap of %s at %s: %s more than the program uses (%.1fx); "
                     "at the end %s for %s",
                     (long long)p->pid, ft_fmt_bytes(a, sizeof a, (double)s->rss), ft_fmt_bytes(b, sizeof b, (double)s->live),
                     ft_fmt_duration(c, sizeof c, (double)s->t_ns), ft_fmt_bytes(d, sizeof d, (double)s->gap), s->ratio,
                     ft_fmt_bytes(g, sizeof g, (double)e->rss), ft_fmt_bytes(h, sizeof h, (double)e->live));
    /* mallinfo2 is sampled less often than RSS: say when, the heap may have changed since. */
    if (s->arena_free >= 0 && n > 0 && (size_t)n < sizeof x->text)
      snprintf(x->text + n, sizeof x->text - (size_t)n, "; glibc's arenas held %s free at %s (mallinfo2)",
               ft_fmt_bytes(a, sizeof a, (double)s->arena_free), ft_fmt_duration(b, sizeof b, (double)s->arena_t_ns));
    if (p->inherited_live > 0 && n > 0 && (size_t)n < sizeof x->text) {
      size_t m = strlen(x->text);
      snprintf(x->text + m, sizeof x->text - m, "; a fork child: its live heap counts up to %s inherited from its "
               "parent at fork", ft_fmt_bytes(a, sizeof a, (double)p->inherited_live));
    }
    /* The mitigations that fit the evidence: pinned pages need separation,
    ** free memory kept by malloc needs trimming or another allocator. */
    if ((double)f->pinned_total >= 0.5 * (double)s->gap) advise(x, A_SEPARATE);
    advise_allocator(x, p, 0, s->arena_free < 0 || (double)s->arena_free >= 0.5 * (double)s->gap, p->threads > 1);
    /* The gap did not recede by the end: the service will keep it. */
    if ((double)e->gap >= 0.9 * (double)s->gap) advise(x, A_RESTART);
  }
}

static void rule_pinning(const ft_report *r, ft_frag_report *f) {
  for (size_t i = 0; i < f->npins; i++) {
    const ft_rf_pin *pin = &f->pins[i];
    const ft_site *s = &r->sites[pin->site];
    if (pin->pinned_bytes < FT_FIND_PIN_BYTES) continue;
    /* The site's process: the one of its representative stack. */
    const ft_rf_proc *p = NULL;
    for (size_t k = 0; k < r->nstacks && !p; k++)
      if (r->stacks[k].site == pin->site) p = proc_of(f, r->stacks[k].proc);
    double share = p && p->gap_peak.gap > 0 ? (double)pin->pinned_bytes / (double)p->gap_peak.gap : 1.0;
    if (share < FT_FIND_PIN_SHARE) continue;
    ft_finding *x = add(f, "pinning", FT_FIND_SITE, share >= 0.5 ? 1 : 2, (double)pin->pinned_bytes);
    if (!x) return;
    x->site = pin->site;
    x->pid = p ? p->pid : -1;
    char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP];
    int n = snprintf(x->text, sizeof x->text, "%s — %s blocks of %s pin %s of otherwise free heap on %s pages",
                     ft_site_label(s), ft_fmt_int(a, sizeof a, pin->blocks), ft_fmt_bytes(b, sizeof b, (double)pin->typical_size),
                     ft_fmt_bytes(c, sizeof c, (double)pin->pinned_bytes), ft_fmt_int(d, sizeof d, pin->pages));
    if (p && p->gap_peak.gap > 0 && n > 0 && (size_t)n < sizeof x->text)
      snprintf(x->text + n, sizeof x->text - (size_t)n, " (%.0f%% of the process's RSS gap)", 100.0 * share);
    advise(x, A_SEPARATE);
    advise(x, A_COMPACT);
    advise_allocator(x, p, 0, 0, 0);
  }
}

static void rule_mix(const ft_report *r, ft_frag_report *f) {
  char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP];
  for (size_t i = 0; i < f->nmix; i++) {
    const ft_rf_mix *m = &f->mix[i];
    if (m->allocations < r->opts->min_allocs || m->short_pct < FT_FIND_MIX_PCT || m->long_pct < FT_FIND_MIX_PCT) continue;
    const ft_site *s = &r->sites[m->site];
    ft_finding *x = add(f, "lifetime-mix", FT_FIND_SITE, 2, (double)pinned_in(f, m->site));
    if (!x) return;
    x->site = m->site;
    snprintf(x->text, sizeof x->text,
             "%s mixes lifetimes: %.0f%% of its %s allocations lived less than %s and %.0f%% %s or longer (or were never "
             "freed), so its long-lived blocks sit between short-lived ones",
             ft_site_label(s), m->short_pct, ft_fmt_int(a, sizeof a, m->allocations),
             ft_fmt_duration(b, sizeof b, (double)r->short_lived_ns), m->long_pct,
             ft_fmt_duration(c, sizeof c, (double)f->long_ns)); /* its own buffer: a holds the count */
    advise(x, A_SEPARATE);
  }
}

/* A site's rank correlation in list (RSS growth or high-order shrinkage),
** or 0 when not computed. */
static double rho_in(const ft_rf_corr *list, size_t n, int site) {
  for (size_t i = 0; i < n; i++)
    if (list[i].site == site) return list[i].rho;
  return 0;
}

static double rho_of(const ft_frag_report *f, int site) { return rho_in(f->corr, f->ncorr, site); }

/* Whether a site's churn tracks the host's high orders shrinking: a higher
** bar than for RSS, the buddyinfo series being host-wide. */
static int buddy_tracks(const ft_frag_report *f, int site) { return rho_in(f->bcorr, f->nbcorr, site) >= FT_FIND_BUDDY_RHO; }

static void rule_varying(const ft_report *r, ft_frag_report *f) {
  for (size_t i = 0; i < r->nchurn; i++) {
    int si = (int)r->churn_rank[i];
    const ft_site *s = &r->sites[si];
    if (s->max_size < FT_FIND_LARGE_BYTES || s->max_size < FT_FIND_VARY_FACTOR * (s->min_size > 0 ? s->min_size : 1)) continue;
    /* Its process: bytes share and gap are judged there. */
    const ft_proc_info *pi = NULL;
    for (size_t k = 0; k < r->nstacks && !pi; k++)
      if (r->stacks[k].site == si)
        for (size_t j = 0; j < r->nprocs; j++)
          if (r->procs[j].proc == r->stacks[k].proc) pi = &r->procs[j];
    if (!pi || pi->bytes <= 0 || (double)s->bytes < FT_FIND_VARY_SHARE * (double)pi->bytes) continue;
    const ft_rf_proc *p = proc_of(f, pi->proc);
    double rho = rho_of(f, si);
    int buddy = buddy_tracks(f, si);
    if (!(p && gap_found(p)) && rho < FT_FIND_RHO && !buddy) continue;
    ft_finding *x = add(f, "varying-size", FT_FIND_SITE, p && gap_found(p) ? 1 : 2, p ? (double)p->gap_peak.gap : 0);
    if (!x) return;
    x->site = si;
    x->pid = pi->pid;
    char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP], e[FT_FMT_CAP];
    int n = snprintf(x->text, sizeof x->text,
                     "%s churns buffers of %s .. %s (%s allocations, %s/s, %.0f%% of its process's bytes): varying large "
                     "blocks leave holes that smaller requests split",
                     ft_site_label(s), ft_fmt_bytes(a, sizeof a, (double)s->min_size), ft_fmt_bytes(b, sizeof b, (double)s->max_size),
                     ft_fmt_int(c, sizeof c, s->allocations), ft_fmt_si(d, sizeof d, s->rate),
                     100.0 * (double)s->bytes / (double)pi->bytes);
    if (p && gap_found(p) && n > 0 && (size_t)n < sizeof x->text)
      n += snprintf(x->text + n, sizeof x->text - (size_t)n, "; RSS gap %s", ft_fmt_bytes(e, sizeof e, (double)p->gap_peak.gap));
    if (rho >= FT_FIND_RHO && n > 0 && (size_t)n < sizeof x->text)
      n += snprintf(x->text + n, sizeof x->text - (size_t)n, "; its churn rises with RSS (rank correlation %.2f)", rho);
    if (buddy && n > 0 && (size_t)n < sizeof x->text)
      snprintf(x->text + n, sizeof x->text - (size_t)n,
               "; its churn rises as the host's free 2 MiB blocks shrink (rank correlation %.2f)", rho_in(f->bcorr, f->nbcorr, si));
    advise(x, A_PREALLOC);
    advise_allocator(x, p, 1, 1, 0);
  }
}

static void rule_hot(const ft_report *r, ft_frag_report *f) {
  for (size_t i = 0; i < r->nchurn; i++) {
    int si = (int)r->churn_rank[i];
    const ft_site *s = &r->sites[si];
    if (s->rate < FT_FIND_HOT_RATE || s->allocations < FT_FIND_HOT_ALLOCS || s->min_size != s->max_size ||
        2 * s->short_lived < s->allocations)
      continue;
    double rho = rho_of(f, si);
    int buddy = buddy_tracks(f, si);
    ft_finding *x = add(f, "hot-fixed-size", FT_FIND_SITE, rho >= FT_FIND_RHO || buddy ? 2 : 3, s->rate);
    if (!x) return;
    x->site = si;
    char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP];
    snprintf(x->text, sizeof x->text,
             "%s allocates %s blocks of %s at %s/s, %.0f%% of them short-lived: a hot fixed-size site%s",
             ft_site_label(s), ft_fmt_int(a, sizeof a, s->allocations), ft_fmt_bytes(b, sizeof b, (double)s->min_size),
             ft_fmt_si(c, sizeof c, s->rate), 100.0 * (double)s->short_lived / (double)s->allocations,
             rho >= FT_FIND_RHO ? ", and its churn rises with RSS"
             : buddy          ? ", and its churn rises as the host's free 2 MiB blocks shrink"
                              : "");
    advise(x, A_POOL);
  }
}

static void rule_host(ft_frag_report *f) {
  double stalls = 0, fallbacks = 0;
  for (int i = 0; i < f->ncounters; i++) {
    if (!strcmp(f->counters[i].key, "compact_stall")) stalls = f->counters[i].per_s;
    if (!strcmp(f->counters[i].key, "thp_fault_fallback")) fallbacks = f->counters[i].per_s;
  }
  if (stalls >= FT_FIND_STALL_RATE || fallbacks >= FT_FIND_STALL_RATE) {
    ft_finding *x = add(f, "compaction", FT_FIND_SYSTEM, 2, stalls + fallbacks);
    if (x) {
      snprintf(x->text, sizeof x->text,
               "the host stalled in direct compaction %.1f times/s and fell back from huge pages %.1f times/s during "
               "the run: large contiguous blocks were scarce",
               stalls, fallbacks);
      advise(x, A_THP);
      advise(x, A_COMPACTION);
      advise(x, A_MINFREE);
    }
  }
  for (int i = 0; i < f->nzones; i++) {
    const ft_rf_zone *z = &f->zones[i];
    const ft_rf_snap *w = &z->worst;
    int o = f->ref_order < z->norders ? f->ref_order : z->norders - 1;
    if (z->empty || w->t_ns < 0 || o < 0) continue;
    if (w->free_pages * f->page_size < (int64_t)FT_FIND_HUGE_FREE * (f->page_size << o)) continue;
    if (w->unusable[o] < FT_FIND_UNUSABLE) continue;
    ft_finding *x = add(f, "host-fragmented", FT_FIND_SYSTEM, 3, (double)w->unusable[o]);
    if (!x) return;
    char a[FT_FMT_CAP], b[FT_FMT_CAP], c[FT_FMT_CAP], d[FT_FMT_CAP];
    snprintf(x->text, sizeof x->text,
             "node %lld zone %s: at %s, %.1f%% of its %s free memory could not serve a %s block (largest free block %s)",
             (long long)z->node, z->zone, ft_fmt_duration(a, sizeof a, (double)w->t_ns), w->unusable[o] / 10.0,
             ft_fmt_bytes(b, sizeof b, (double)(w->free_pages * f->page_size)),
             ft_fmt_bytes(c, sizeof c, (double)(f->page_size << o)), ft_fmt_bytes(d, sizeof d, (double)w->largest_bytes));
    advise(x, A_COMPACTION);
    advise(x, A_MINFREE);
    advise(x, A_THP);
    advise(x, A_REBOOT);
  }
}

static int cmp_finding(const void *a, const void *b) {
  const ft_finding *x = a, *y = b;
  if (x->severity != y->severity) return x->severity - y->severity;
  if (x->impact != y->impact) return x->impact > y->impact ? -1 : 1;
  int c = strcmp(x->rule, y->rule);
  if (c) return c;
  return x->site - y->site;
}

void ft_report_frag_findings(const ft_report *r, ft_frag_report *f) {
  f->nfindings = 0;
  rule_gap(r, f);
  rule_pinning(r, f);
  rule_varying(r, f);
  rule_mix(r, f);
  rule_hot(r, f);
  rule_host(f);
  qsort(f->findings, (size_t)f->nfindings, sizeof *f->findings, cmp_finding);
}
