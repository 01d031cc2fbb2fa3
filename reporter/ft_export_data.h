/*
** ft_export_data.h — what `fragtrace export` and `fragtrace diff` read from
** a trace: the selected process images with their totals and heap peak, the
** same numbers per call stack, the live heap over time, the live heap per
** stack at chosen instants, and each stack's frames outward from its site
** with inlined functions expanded.
**
** Numbers come from the importer's summary tables (process_stats,
** site_stats, heap_timeline) when the trace has them for every selected
** image; otherwise from one pass over allocation_rows (a second one for
** live bytes at instants, and for timelines the summaries cannot give).
** Both give the same numbers (tests/integration/test_export.c compares
** them); the definitions are schema/README.md's:
**   live at t     rows with t_alloc <= t < t_alloc + lifetime (never-freed
**                 rows stay live), all kinds;
**   peak          the maximum of live bytes over the image's run, at the
**                 first instant it was reached;
**   leaked        never freed;
**   short-lived   freed with lifetime < meta.short_lived_ns
**                 (FT_SHORT_LIVED_NS_DEFAULT when the trace has none).
*/
#ifndef FT_EXPORT_DATA_H
#define FT_EXPORT_DATA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "ft_sites.h"

/* The short-lived threshold for traces whose meta has no short_lived_ns. */
#define FT_SHORT_LIVED_NS_DEFAULT 1000000 /* 1 ms */

/* One process image of the selection. */
typedef struct ft_ximage {
  int64_t proc;
  int pid;
  char *exe, *cmdline;   /* NULL when unknown */
  int64_t start_unix_ns; /* zero of the image's times */
  int64_t end_ns;        /* last time recorded (0 when unknown) */
  int64_t allocations, bytes, leaked, leaked_bytes, short_lived;
  int64_t peak_bytes;    /* maximum of live bytes */
  int64_t peak_ns;       /* first instant of it; -1 when nothing was ever live */
  int64_t peak_count;    /* live allocations then */
} ft_ximage;

/* One call stack's numbers (over the selected images only). */
typedef struct ft_xstack {
  int64_t allocations, bytes, leaked, leaked_bytes, short_lived;
  int64_t peak_bytes, peak_count; /* live at its image's peak (with FT_X_PEAK) */
} ft_xstack;

/* One point of the live heap over time. */
typedef struct ft_xpoint {
  int64_t t_ns;
  int64_t live_bytes, live_count;
  int64_t alloc_bytes; /* bytes allocated up to and including t */
} ft_xpoint;

/* One logical frame: a physical frame, or a level of inlining in it. */
typedef struct ft_xframe {
  const char *function; /* NULL when unknown */
  const char *file;     /* NULL when unknown */
  int line;             /* 0 when unknown */
  const char *module;   /* NULL when unknown */
  uint64_t ip;          /* the physical frame's return address */
  int level;            /* 0 = the ip's own function; 1.. functions it was inlined into */
} ft_xframe;

typedef struct ft_xtrace ft_xtrace;

enum {
  FT_X_PEAK = 1,     /* fill ft_xstack.peak_bytes/peak_count */
  FT_X_TIMELINE = 2, /* if the rows are read anyway, keep the live heap over time (saves a pass
                     ** in ft_xtrace_timeline) */
};

/* Open the trace at path read-only and load the images of process `pid`
** (all images when pid is 0) with their totals, and the stacks (skip: the
** user's wrapper patterns, see ft_sites_load). Returns NULL with a one-line
** message in err that starts with path: not a trace, no such pid, SQL
** errors. */
ft_xtrace *ft_xtrace_open(const char *path, int pid, const char *const *skip, int nskip, unsigned flags,
                          char *err, size_t errlen);

void ft_xtrace_close(ft_xtrace *x);

/* The selected images, by proc. */
const ft_ximage *ft_xtrace_images(const ft_xtrace *x, size_t *n);

/* All stacks of the trace (ft_sites order) and their numbers over the
** selection; index nstacks of the numbers is rows without a stack. */
const ft_stack_info *ft_xtrace_stacks(const ft_xtrace *x, size_t *nstacks);
const ft_xstack *ft_xtrace_stack_stats(const ft_xtrace *x);

/* meta.short_lived_ns of the trace (or the default) in effect. */
int64_t ft_xtrace_short_lived_ns(const ft_xtrace *x);

/* meta.command, or "" */
const char *ft_xtrace_command(const ft_xtrace *x);

/* Byte sampling of the selected images (issue 5): their common mean N, -1
** when their rates differ, 0 when none was sampled. With N != 0 every count
** and byte total is an estimate (rows weighted by 1/p). */
int64_t ft_xtrace_sample_bytes(const ft_xtrace *x);

/* The live heap of image i over time: for each of at most FT_X_SLICES
** equal slices of the run holding an instant, the first instant of its
** maximum (so the exact peak is one of them); ascending times. Slices are
** of time ([0, end_ns] in equal parts; from heap_timeline when the trace
** has it) or of bytes allocated (equal parts of the total, for massif's
** time unit B; alloc_bytes is only filled for this axis). Reads the rows
** unless they were read with FT_X_TIMELINE. *pts stays valid until the
** next call. 0, or -1 with a message. */
#define FT_X_SLICES 98 /* even: pairs of slices merge */
typedef enum ft_xaxis { FT_X_AXIS_TIME, FT_X_AXIS_BYTES } ft_xaxis;
int ft_xtrace_timeline(ft_xtrace *x, size_t i, ft_xaxis axis, const ft_xpoint **pts, size_t *n, char *err,
                       size_t errlen);

/* Live bytes per stack of image i at each of instants[0..n) (ascending):
** out[j * (nstacks + 1) + k] for instant j and stack index k (nstacks:
** rows without a stack). out has n * (nstacks + 1) zeroed entries. One
** pass over allocation_rows. 0, or -1 with a message. */
int ft_xtrace_live_at(ft_xtrace *x, size_t i, const int64_t *instants, size_t n, int64_t *out, char *err,
                      size_t errlen);

/* Logical frames of stack k from its site outward (wrappers below the site
** left out), inlined functions expanded, innermost first; valid until the
** next call. */
const ft_xframe *ft_xtrace_frames(ft_xtrace *x, size_t k, size_t *n);

/* The name of a frame for flame graphs and pprof: the function, or
** "module+0xOFFSET" (offset from the module's load base) when it has no
** symbol, or "0xIP" when not even the module is known. */
const char *ft_xframe_name(const ft_xtrace *x, int64_t proc, const ft_xframe *f, char *buf, size_t cap);

/* A file-backed mapping of an image. */
typedef struct ft_xmap {
  int64_t proc;
  uint64_t start, end, file_offset;
  const char *path, *build_id; /* build_id NULL when unknown */
} ft_xmap;

/* All mappings of the selected images, by (proc, start). */
const ft_xmap *ft_xtrace_mappings(const ft_xtrace *x, size_t *n);

/* The mapping of image proc holding ip, or NULL. */
const ft_xmap *ft_xtrace_mapping_of(const ft_xtrace *x, int64_t proc, uint64_t ip);

#endif
