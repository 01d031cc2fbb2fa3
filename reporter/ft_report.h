/*
** ft_report.h — the data model of `fragtrace report` and the modules that
** fill and print it:
**   ft_report_data.c   options -> model: processes, per-stack statistics
**                      (from the importer's summary tables: the fast path),
**                      aggregation of stacks into call sites, rankings
**   ft_report_scan.c   the same statistics computed with SQL over
**                      allocation_rows (a time window, another short-lived
**                      threshold, traces without summary tables)
**   ft_report_supp.c   LSan-style leak suppressions
**   ft_report_gates.c  the CI gates
**   ft_report_chart.c  the heap-over-time chart and histogram bars
**   ft_report_render.c text and markdown output
**   ft_report_json.c   JSON output (reporter/report.schema.json)
**   ft_report_frag*.c  the fragmentation section (ft_report_frag.h)
**
** The model is complete before anything is printed, so an error while
** reading the trace prints one line and no half report.
*/
#ifndef FT_REPORT_H
#define FT_REPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ft_sites.h"

/* Version of the JSON layout (report.schema.json); bumped on any change
** that is not a pure addition. */
#define FT_REPORT_JSON_VERSION 1

/* Log2 histogram buckets: bucket b holds [2^b, 2^(b+1)), b = 0 also 0. */
#define FT_HIST_BUCKETS 64

/* Columns of the heap-over-time chart (and points of its JSON series). */
#define FT_CHART_SLICES 64

enum {
  FT_SEC_SUMMARY = 1,
  FT_SEC_CHURN = 2,
  FT_SEC_LEAKS = 4,
  FT_SEC_PEAK = 8,
  FT_SEC_SIZES = 16,
  FT_SEC_FRAG = 32,  /* fragmentation (ft_report_frag.h) */
  FT_SEC_ALL = 63,
  FT_SEC_DEFAULTED = 1024 /* cmd_report.c only: no --section given */
};

typedef enum ft_report_format { FT_REPORT_TEXT, FT_REPORT_JSON, FT_REPORT_MARKDOWN, FT_REPORT_HTML } ft_report_format;

typedef struct ft_report_opts {
  const char *path;
  unsigned sections;         /* FT_SEC_* bits */
  ft_report_format format;
  int64_t top;               /* rows per ranking; 0 = all */
  int64_t pid;               /* -1: every process */
  int64_t since_ns, until_ns; /* -1: unbounded; ns since the first process started */
  int64_t short_lived_ns;    /* -1: the trace's meta.short_lived_ns */
  int64_t min_allocs;        /* sites with fewer allocations get no churn rank */
  const char *const *skip;   /* --skip patterns (fnmatch) */
  int nskip;
  int stacks;                /* group and print by whole stack */
  const char *suppressions;  /* LSan-style file, or NULL */
  /* Gates; negative = off. */
  int64_t fail_on_leaks;     /* leaked bytes allowed after suppressions */
  int64_t max_peak;          /* bytes */
  double max_churn;          /* allocations per second of any site */
  double max_short_lived;    /* percent of all allocations */
  double max_frag_ratio;     /* RSS / live heap of any process */
  int frag_ratio_at;         /* ft_rf_at: at the end (default) or where the gap peaked */
} ft_report_opts;

/* Statistics of one stack (one row of site_stats, or its computed twin). */
typedef struct ft_stack_stats {
  int64_t stack_id, proc;
  int64_t allocations, bytes, frees, leaked, leaked_bytes, temporary, short_lived;
  int64_t min_size, max_size;
  int64_t first_alloc_ns, last_alloc_ns; /* ns since the trace started */
  int64_t max_live_bytes;
  int64_t live_at_peak_bytes, live_at_peak_count;
  int suppressed_by;                     /* index of the matching suppression, or -1 */
  int site;                              /* index into ft_report.sites, or -1 */
} ft_stack_stats;

/* A call site (or with --stacks a whole stack): its stacks added up. */
typedef struct ft_site {
  const char *key;                       /* grouping identity */
  const ft_stack_info *stack;            /* the stack with the most allocations (frames, label) */
  int nstacks;
  int64_t allocations, bytes, frees, leaked, leaked_bytes, temporary, short_lived;
  int64_t suppressed, suppressed_bytes;  /* leaks of this site that suppressions hid */
  int64_t min_size, max_size;
  int64_t first_alloc_ns, last_alloc_ns;
  int64_t max_live_bytes;                /* sum of its stacks' own maxima */
  int64_t peak_bytes, peak_count;        /* live at the peak (peak process only) */
  double rate;                           /* allocations/s over its active period; 0 below 2 allocations */
  double bytes_rate;                     /* bytes/s over the same period */
  double turnover;                       /* bytes / max_live_bytes; 0 when that is 0 */
  int64_t *life_hist;                    /* FT_HIST_BUCKETS counts, NULL when empty */
  int64_t *size_count, *size_bytes;      /* FT_HIST_BUCKETS each, NULL when empty */
} ft_site;

/* The exact counters of heap_totals (issue 5), as of an image's last row,
** or summed over images. */
typedef struct ft_exact_totals {
  int64_t allocations, frees, bytes, usable_live_bytes, sampled, untracked, thinned;
} ft_exact_totals;

/* One recording_control row (issue 5). */
typedef struct ft_ctl_rec {
  int64_t t_ns;     /* the image's own time base */
  char action[8];   /* pause, resume, flush, stop */
  char source[12];  /* start, signal, delay, duration; "" unknown */
} ft_ctl_rec;

typedef struct ft_proc_info {
  int64_t proc, pid, ppid;
  char *exe, *cmdline, *ended_by;
  int64_t start_unix_ns, offset_ns;      /* offset: start - the trace's first start */
  int64_t end_ns;                        /* own time base; 0 unknown */
  int64_t exit_status;                   /* -1 unknown */
  int64_t events_dropped, unmatched_frees;
  int64_t allocations, frees, bytes, leaked, leaked_bytes, temporary, short_lived;
  int64_t mmap_count, mmap_bytes;
  int64_t peak_live_bytes, peak_live_ns, peak_live_allocations; /* ns: -1 when no peak */
  int64_t peak_rss_bytes, peak_rss_ns;   /* -1 when no samples */
  int64_t sample_bytes;                  /* byte sampling mean N; 0 = full capture */
  int has_totals;                        /* totals: the image's last heap_totals row */
  ft_exact_totals totals;
  ft_ctl_rec *ctl;                       /* its recording_control rows, in time order */
  size_t nctl;
  /* The live heap in FT_CHART_SLICES columns of chart_w ns from chart_lo
  ** (own time base): the maximum in each, -1 where nothing is known. */
  int has_chart;
  int64_t chart_lo, chart_w;
  int64_t chart_live[FT_CHART_SLICES];
} ft_proc_info;

/* One column of the heap chart: the maximum in [t0, t1) of the peak process. */
typedef struct ft_slice {
  int64_t t0_ns, t1_ns;                  /* process time base */
  int64_t live_bytes;                    /* -1 when the trace has no point there */
  int64_t rss_bytes;                     /* -1 when no sample there */
} ft_slice;

typedef struct ft_gate_result {
  const char *gate;                      /* "fail-on-leaks", ... */
  double limit, value;
  int tripped;
  const ft_site *site;                   /* the site the message names, or NULL */
  char message[512];                     /* one line, without "fragtrace: " */
} ft_gate_result;

typedef struct ft_report {
  const ft_report_opts *opts;
  sqlite3 *db;
  ft_sites *sites_db;
  char *command, *fragtrace_version;
  int64_t schema_version;
  int64_t short_lived_ns;                /* in effect */
  int exact_source;                      /* 0: summary tables, 1: computed from allocation_rows */
  int64_t window_lo, window_hi;          /* ns since trace start; hi -1 unbounded */

  ft_proc_info *procs;                   /* the selected processes */
  size_t nprocs;
  ft_stack_stats *stacks;                /* selected processes' stacks, by stack_id */
  size_t nstacks;
  ft_site *sites;
  size_t nsites;

  /* Totals over the selected processes. */
  int64_t runtime_ns;
  int64_t allocations, frees, bytes, leaked, leaked_bytes, temporary, short_lived;
  int64_t mmap_count, mmap_bytes, events_dropped, unmatched_frees;
  int64_t suppressed, suppressed_bytes;
  /* Production mode (issue 5): sampled images make every count and byte
  ** above an estimate (schema/README.md, "Production mode"). */
  int nsampled;                          /* selected images that were byte-sampled */
  int64_t sample_bytes;                  /* their common N; -1 when they differ; 0 when none */
  int ntotals;                           /* selected images with heap_totals */
  ft_exact_totals totals;                /* summed over those */
  int64_t nctl;                          /* recording_control rows of the selected images */
  const ft_proc_info *peak_proc;         /* largest peak_live_bytes, NULL when no allocations */
  const ft_proc_info *rss_proc;          /* largest peak_rss_bytes, NULL without samples */
  int64_t size_count[FT_HIST_BUCKETS], size_bytes[FT_HIST_BUCKETS];
  ft_slice chart[FT_CHART_SLICES];
  int nchart;                            /* 0 when there is no peak process */

  /* Rankings: indexes into sites, best first, all of them (top is applied when printing). */
  size_t *churn_rank, nchurn;            /* sites with >= min_allocs allocations, by rate */
  size_t *leak_rank, nleak;              /* sites with unsuppressed leaks, by bytes */
  size_t *peak_rank, npeak;              /* sites live at the peak, by bytes */
  size_t *size_rank, nsize;              /* sites by allocations */

  /* Suppressions: patterns and what each one hid. */
  char **supp_patterns;
  int64_t *supp_count, *supp_bytes;
  int nsupp;

  ft_gate_result gates[5];
  int ngates;

  /* The fragmentation section, loaded when selected or gated on; NULL otherwise. */
  struct ft_frag_report *frag;
} ft_report;

/* Load everything the options ask for from the open trace. 0, or -1 with a
** one-line message in err (the trace path is not part of it). */
int ft_report_load(ft_report *r, sqlite3 *db, const ft_report_opts *o, char *err, size_t errlen);

void ft_report_free(ft_report *r);

/* ft_report_scan.c: fill r->stacks, the processes' statistics, their peaks
** and r->chart by SQL over allocation_rows, honouring the window and
** short-lived threshold; only_short_lived recomputes only the short-lived
** counts (the rest came from the summary tables). 0 or -1 with err. */
int ft_report_scan(ft_report *r, int only_short_lived, char *err, size_t errlen);

/* Index of a stack_id in r->stacks, or -1. */
int64_t ft_report_stack_index(const ft_report *r, int64_t stack_id);

/* Add count values (and bytes, for sizes) to bucket of the size histogram
** (lifetime 0) or lifetime histogram (lifetime 1) of the site of
** r->stacks[stack], and for sizes to the overall one. */
void ft_report_add_hist(ft_report *r, size_t stack, int lifetime, int bucket, int64_t count, int64_t bytes);

/* Log2 bucket of a non-negative value (0 and 1 -> 0). */
int ft_hist_bucket(int64_t v);

/* ft_report_supp.c: load leak:PATTERN lines from path into r. 0, or -1 with
** "path:line: reason" in err. */
int ft_supp_load(ft_report *r, const char *path, char *err, size_t errlen);

/* Whether pattern matches s as LSan matches a suppression: a substring
** match where '*' matches anything, '^' anchors at the start and '$' at
** the end. A NULL or empty s never matches. */
int ft_supp_match(const char *pattern, const char *s);

/* Index of the first suppression matching any frame of st (function, file
** or module), or -1. */
int ft_supp_find(const ft_report *r, const ft_stack_info *st);

/* ft_report_gates.c: evaluate the gates the options ask for into r->gates.
** Returns the number that tripped. */
int ft_report_gates(ft_report *r);

/* ft_report_chart.c: the heap chart of r (rows lines of the plot, then the
** axis and legend; every line starts with indent), into out. */
void ft_report_chart(const ft_report *r, FILE *out, int rows, const char *indent);

/* A bar of '#' of width proportional to value/max (at most width, at least
** 1 for a positive value), into buf. */
const char *ft_report_bar(char *buf, size_t cap, double value, double max, int width);

/* ft_report_render.c: the text or markdown report. */
void ft_report_render(const ft_report *r, FILE *out, ft_report_format fmt);
/* The sentences the text report prints, for the other renderers (HTML) to
** say the same thing in the same words. An image's recording periods
** (recording_control): paused intervals with what paused and resumed them,
** flushes, the stop; "" when it has none. */
void ft_report_recording_text(const ft_proc_info *p, char *buf, size_t cap);
/* --max-size (ft_follow.c): which allocation rows were thinned, and that the
** summaries are whole; "" when none were. */
void ft_report_thinning_text(const ft_report *r, char *buf, size_t cap);

/* ft_report_json.c: the JSON report. */
void ft_report_json(const ft_report *r, FILE *out);

/* Label of a site as printed ("function (file:line)"). */
const char *ft_site_label(const ft_site *s);

#endif
