/*
** ft_sources.h — reading the sampler's text sources (/proc/buddyinfo,
** pagetypeinfo, meminfo, vmstat, slabinfo, /proc/self/smaps_rollup) on a
** per-source schedule, and handing each snapshot to a sink as one spill
** chunk (preload/ft_format.h). Shared by the shim's sampler thread
** (ft_sampler.c) and `fragtrace sample` (reporter/cmd_sample.c), so both
** produce the same chunks.
**
** No malloc and no stdio: memory comes from ft_os_alloc (ft_prim.h), so it
** may run inside a traced process. Parsing is the importer's job.
*/
#ifndef FT_SOURCES_H
#define FT_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "ft_config.h"
#include "ft_format.h"

/* Receives one chunk: payload a then b (either may be empty). */
typedef void (*ft_src_sink)(void *ctx, uint32_t type, const void *a, size_t alen, const void *b, size_t blen);

typedef struct ft_sources {
  uint32_t interval_ms[FT_SRC_MAX + 1]; /* per enum ft_source_id; 0 = off */
  uint64_t next_ns[FT_SRC_MAX + 1];     /* due time, ns since start_mono */
  uint8_t noted[FT_SRC_MAX + 1];        /* an FT_CHUNK_SOURCE was written */
  uint8_t dead[FT_SRC_MAX + 1];         /* missing or unreadable: stop trying */
  uint64_t last_ns[FT_SRC_MAX + 1];     /* last read, ns since start_mono; UINT64_MAX never */
  char proc_dir[FT_PATH_MAX];           /* "/proc" unless overridden (system sources only) */
  uint64_t start_mono;                  /* time zero of the chunks (CLOCK_MONOTONIC ns) */
  char *buf;                            /* read buffer from ft_os_alloc, grown as needed */
  size_t cap;
} ft_sources;

/* Prepare s: intervals from the config's sample_ms (buddyinfo),
** sys_sample_ms (meminfo, vmstat), pagetypeinfo_ms, slabinfo_ms and smaps_ms
** (0 disables smaps, e.g. for `fragtrace sample`). Everything is due at once. */
void ft_sources_init(ft_sources *s, const ft_config *cfg, int with_smaps, uint64_t start_mono);

/* Release the read buffer. */
void ft_sources_fini(ft_sources *s);

/* Read every source due at now_mono and sink its chunk; the first attempt of
** each source (and each disabled source, on the first call) also sinks an
** FT_CHUNK_SOURCE note. Returns the next due time (CLOCK_MONOTONIC ns), or
** UINT64_MAX when nothing is left to read. */
uint64_t ft_sources_run(ft_sources *s, uint64_t now_mono, ft_src_sink sink, void *ctx);

/* For a last ft_sources_run when sampling stops. ft_sources_stale: whether
** a source of the kind asked for (process: smaps_rollup; else the system
** ones) that is on and alive was not read within fresh_ns of now_mono.
** ft_sources_due_now: make every such source due now. The caller decides
** for a whole kind at once, so sources on one interval keep equal counts. */
int ft_sources_stale(const ft_sources *s, uint64_t now_mono, uint64_t fresh_ns, int process);
void ft_sources_due_now(ft_sources *s, int process);

/* The fresh_ns of the shim's and `fragtrace sample`'s last pass: a source
** read this recently already samples the end. */
#define FT_SOURCES_FINAL_FRESH_NS (5 * 1000000u)

/* Sink one FT_CHUNK_SOURCE note (detail: NUL-terminated, may be NULL). */
void ft_sources_note(ft_src_sink sink, void *ctx, uint32_t source, uint32_t status, int err,
                     uint32_t interval_ms, const char *detail);

/* Advance *next by interval after a read at now; never into the past, so a
** sampler that fell behind does not burst. Returns the new *next. */
uint64_t ft_sources_advance(uint64_t *next, uint64_t now, uint64_t interval_ns);

#endif
