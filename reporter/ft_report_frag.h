/*
** ft_report_frag.h — the `fragmentation` section of `fragtrace report`:
** the host's memory (buddyinfo, meminfo, vmstat) and each process's own
** fragmentation (RSS against the live heap) over the run, the call sites
** to blame, and a ranked list of findings with advice.
**   ft_report_frag_data.c    trace -> this model (sample and summary tables only)
**   ft_report_frag_sites.c   per-site attribution: churn windows, lifetime
**                            mix, pinning, correlation with RSS growth and
**                            with the host's high-order free memory shrinking
**   ft_report_frag_find.c    the findings rules (documented thresholds)
**   ft_report_frag_render.c  text and markdown
**   ft_report_frag_json.c    JSON (the "fragmentation" object of report.schema.json)
**
** Every source is optional: a table that is missing (an older trace) or
** empty (source unreadable, a `fragtrace sample` file without allocations)
** leaves its part marked absent, and the section says so instead of failing.
** Times are ns since the trace started (the first image's start).
*/
#ifndef FT_REPORT_FRAG_H
#define FT_REPORT_FRAG_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "ft_fmt.h"

struct ft_report;
struct ft_site;

/* Buddy orders kept per zone: as many as the /proc parsers accept
** (x86-64 prints 11, arm64 with 64 KiB pages 14). */
#define FT_RF_MAX_ORDERS 32
/* Points of each over-time series (sparklines, JSON series). */
#define FT_RF_POINTS 32
/* Largest block the report calls "huge-page sized": the 2 MiB THP size. */
#define FT_RF_HUGE_BYTES (2 * 1024 * 1024)

/* One buddyinfo snapshot of one zone, with the kernel's indices per order
** (both scaled by 1000 as mm/vmstat.c prints them; fragmentation index
** -1000 means an allocation of that order would succeed). */
typedef struct ft_rf_snap {
  int64_t t_ns;                          /* -1: no snapshot */
  int64_t free_blocks[FT_RF_MAX_ORDERS];
  int64_t free_pages;
  int largest_order;                     /* -1: no free block */
  int64_t largest_bytes;
  int unusable[FT_RF_MAX_ORDERS];
  int fragidx[FT_RF_MAX_ORDERS];
} ft_rf_snap;

typedef struct ft_rf_zone {
  int64_t node;
  char zone[32];
  int norders;                           /* orders seen in the trace */
  int64_t nsamples;
  int empty;                             /* no free page in any snapshot */
  ft_rf_snap start, worst, end;   /* worst: highest unusable index at ref_order */
  int64_t largest_min, largest_min_ns, largest_max;
  int64_t largest_series[FT_RF_POINTS];/* minimum of each time slice; -1 none */
} ft_rf_zone;

/* What `free -h` prints, from one meminfo snapshot (bytes; -1 unknown). */
typedef struct ft_rf_mem {
  int64_t t_ns;                          /* -1: no snapshot */
  int64_t total, used, free, shared, buff_cache, available;
  int64_t slab, sreclaimable, sunreclaim, anon_huge;
  int64_t huge_total, huge_free, huge_rsvd, huge_surp, huge_size; /* counts; size in bytes */
} ft_rf_mem;

/* A /proc/vmstat counter over the run. */
typedef struct ft_rf_counter {
  const char *key;
  int64_t delta;
  double per_s;
} ft_rf_counter;

#define FT_RF_COUNTERS 12

/* The process's own fragmentation at one sampler instant. "RSS" here is the
** process's RSS less the recorder's own memory (process_samples.shim_bytes),
** so that tracing does not inflate the gap. */
typedef struct ft_rf_psnap {
  int64_t t_ns;                          /* -1: none */
  int64_t rss, live, gap;                /* gap = rss - live */
  double ratio;                          /* rss / live; INFINITY when live is 0 and rss > 0 */
  int64_t pss;                           /* nearest smaps_rollup sample at or before, -1 none */
  int64_t arena_free, arena_top;         /* mallinfo2 fordblks and keepcost, -1 none */
  /* When those were sampled (trace time, -1 none): their sources run at a
  ** lower rate, so a value can predate the instant by up to an interval. */
  int64_t pss_t_ns, arena_t_ns;
} ft_rf_psnap;

typedef struct ft_rf_proc {
  int64_t proc, pid;
  int64_t nsamples;
  ft_rf_psnap start, heap_peak, gap_peak, end;
  int64_t rss_series[FT_RF_POINTS], live_series[FT_RF_POINTS]; /* max per slice; -1 none */
  int64_t series_lo, series_w;           /* slices of series_w ns from series_lo (trace time) */
  int64_t threads;                       /* threads that allocated */
  /* A fork child's RSS includes the heap it inherited, which the trace
  ** attributes to the parent: the parent's live heap at the fork (the larger
  ** of its samples around it) is added to every live value of the child, an
  ** upper bound (the child may free inherited blocks), so a gap is never
  ** overstated. 0 for other images. */
  int64_t inherited_live;
  char allocator[64];                    /* malloc's library when it is not glibc's ("" glibc or unknown) */
} ft_rf_proc;

/* Per-site attribution (ft_report_frag_sites.c). Sites are indexes into
** ft_report.sites. */
typedef struct ft_rf_churn {
  int site;
  int64_t peak_allocs, peak_bytes;       /* in its busiest window */
  int64_t peak_window_ns;                /* start of that window */
  double peak_rate;                      /* allocations/s in it */
  int64_t windows;                       /* windows with allocations */
} ft_rf_churn;

typedef struct ft_rf_mix {
  int site;
  int64_t allocations, short_lived, long_lived; /* long: lived >= long_ns or never freed */
  double short_pct, long_pct;
} ft_rf_mix;

typedef struct ft_rf_pin {
  int site;
  int64_t blocks, bytes;                 /* live blocks on the pinned pages */
  int64_t pages, pinned_bytes;           /* resident pages held, their size less the live data */
  int64_t typical_size;                  /* bytes / blocks */
} ft_rf_pin;

typedef struct ft_rf_corr {
  int site;
  double rho;                            /* Spearman rank correlation, -1..1 */
  int64_t windows;                       /* spans between RSS samples compared (JSON "windows") */
  int64_t growth_windows;                /* of those, spans where RSS grew */
} ft_rf_corr;

typedef enum ft_finding_scope { FT_FIND_SITE, FT_FIND_PROCESS, FT_FIND_SYSTEM, FT_FIND_CLEAR } ft_finding_scope;

#define FT_RF_MAX_FINDINGS 16
#define FT_RF_MAX_ADVICE 6

typedef struct ft_finding {
  const char *rule;                      /* stable identifier: "pinning", "heap-gap", ... */
  ft_finding_scope scope;
  int severity;                          /* 1 high, 2 medium, 3 low */
  double impact;                         /* bytes wasted, or a rate: orders findings of one severity */
  int site;                              /* index into ft_report.sites, or -1 */
  int64_t pid;                           /* -1: not about one process */
  char text[512];                        /* the finding in plain words with its numbers */
  const char *advice[FT_RF_MAX_ADVICE];/* static strings: mitigations that fit */
  int nadvice;
} ft_finding;

typedef enum ft_rf_at { FT_RF_AT_END, FT_RF_AT_PEAK } ft_rf_at;

typedef struct ft_frag_report {
  /* What the trace has: 0 absent (no table or no rows). */
  int has_buddy, has_meminfo, has_vmstat, has_psamples, has_smaps, has_mallinfo;
  int has_windows, has_pinning, has_mix;
  char notes[8][160];                    /* sources noted unreadable/missing in sample_sources */
  int nnotes;

  int64_t page_size;
  int ref_order;                         /* the order of a 2 MiB block (capped): "worst" and the findings use it */
  int64_t sys_proc;                      /* image whose sampler gave the host samples; -1 none */
  int64_t sys_lo_ns, sys_hi_ns;          /* host sampling span, trace time */

  ft_rf_zone *zones;
  int nzones;
  ft_rf_mem mem_start, mem_end;
  ft_rf_counter counters[FT_RF_COUNTERS];
  int ncounters;
  double sys_span_s;

  ft_rf_proc *procs;
  size_t nprocs;

  int64_t window_ns;                     /* site_windows width, 0 when absent */
  int64_t long_ns;                       /* "long-lived" threshold of the mix */
  ft_rf_churn *churn;
  size_t nchurn;
  ft_rf_mix *mix;
  size_t nmix;
  ft_rf_pin *pins;
  size_t npins;
  int64_t pinned_total;                  /* bytes of pinned pages not holding live data, all sites */
  ft_rf_corr *corr;                      /* with RSS growth, by rho descending */
  size_t ncorr;
  /* With the shrinkage of the host's free memory in orders >= ref_order
  ** (growth_windows: spans where it shrank), by rho descending. */
  ft_rf_corr *bcorr;
  size_t nbcorr;

  ft_finding findings[FT_RF_MAX_FINDINGS];
  int nfindings;
} ft_frag_report;

/* Whether the trace has host or process samples (buddyinfo, meminfo, vmstat,
** RSS): the default section list includes the section only then. A trace
** recorded with every sampler off still gets it with --section fragmentation
** (its pinning and churn windows do not need samples). */
int ft_report_frag_available(sqlite3 *db);

/* Load the section for r's selected processes into a new model (*out).
** Absent sources are marked, never errors; -1 only on an SQL error or out
** of memory, with a one-line message in err. */
int ft_report_frag_load(struct ft_report *r, ft_frag_report **out, char *err, size_t errlen);

/* ft_report_frag_sites.c: the attribution tables for r's sites. Same error rules. */
int ft_report_frag_sites(struct ft_report *r, ft_frag_report *f, char *err, size_t errlen);

/* ft_report_frag_find.c: derive f->findings from the model (deterministic). */
void ft_report_frag_findings(const struct ft_report *r, ft_frag_report *f);

void ft_report_frag_free(ft_frag_report *f);

/* The process (and instant) --max-frag-ratio judges: the largest ratio at
** `at` among processes with samples, or NULL. */
const ft_rf_proc *ft_report_frag_gate_proc(const ft_frag_report *f, ft_rf_at at, const ft_rf_psnap **snap);

/* ft_report_frag_render.c: the section as text or markdown. */
void ft_report_frag_render(const struct ft_report *r, const ft_frag_report *f, FILE *out, ft_style style);

/* ft_report_frag_json.c: the "fragmentation" object (key included). */
void ft_report_frag_json(const struct ft_report *r, const ft_frag_report *f, ft_json *j);

#endif
