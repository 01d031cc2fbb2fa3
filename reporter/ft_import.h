/*
** ft_import.h — turn spill files written by the shim into the SQLite trace.
** Restores the global order of each image's per-thread event streams by
** timestamp, matches frees to allocations (including cross-thread frees and
** immediate address reuse), splits mmap rows on partial munmap, links fork
** children and exec'd images to their parents, and fills process_samples'
** live heap and the summary tables (process_stats, site_stats, the site
** histograms, heap_timeline; defined in schema/README.md) from the matched
** rows.
*/
#ifndef FT_IMPORT_H
#define FT_IMPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ft_import_stats {
  long processes;
  long threads;
  long long allocations;      /* rows written to allocation_rows */
  long long frees;            /* rows with a lifetime */
  long long unmatched_frees;  /* frees of addresses never seen allocated (e.g. inherited over fork) */
  long long events_dropped;
  long stacks;
  int truncated_files;        /* spills that ended in a partial chunk (killed process) */
} ft_import_stats;

/* Import n spill files into db (opened by ft_db_create/ft_db_open_append),
** all in one transaction. Files may come from several processes and
** images; order does not matter. Returns 0, or -1 with a one-line message. */
int ft_import_spills(sqlite3 *db, const char *const *paths, size_t n,
                     ft_import_stats *st, char *err, size_t errlen);

/* ---- Follow mode: importing spills while they grow (fragtrace record
** --live/--max-size/--duration). Each poll imports, per spill, the chunks
** appended since the last poll up to the image's last drain boundary (a
** CLOCK, TOTALS, CONTROL, EXEC or EXIT chunk; in images without TSC, the
** end) as one epoch, in one transaction: rows are written in the epoch
** they are made (a live one with lifetime NULL, updated in the epoch it is
** freed; live rows also stay in memory for matching), and the summary
** tables of each image are rewritten from running state, so a reader sees
** a consistent trace after every commit. The final
** poll reads every complete chunk and ends the images (leaks, peaks).
** The merge stops at a watermark, the image's clock pair before its last
** one: every ring was drained after that instant, so nothing stamped before
** it can still come (a thread that stamped an event just after its ring was
** drained and handed the block to a thread drained later is the case this
** waits for); the rest waits for the next epoch. Late events (a thread
** preempted between stamping and publishing for a whole drain interval, or
** images without TSC, which have no pairs) are applied anyway and counted
** in meta `late_events`. Per-site window,
** histogram and total aggregates are exact; heap_timeline uses slices of
** window_ns; pinning is computed at the end only (no 'rss_gap'). ---- */

typedef struct ft_follow_import ft_follow_import;

/* Start following into db (a trace opened read-write, no transaction open).
** window_ns: the fixed site_windows width (written to meta). epoch_bytes:
** the most spill bytes one poll takes from a spill when its drains allow
** (0: 8 MiB); what a poll adds to the trace grows with it. punch: give
** the consumed part of each spill back to the file system (fallocate
** PUNCH_HOLE). Returns 0, or -1 with err. */
int ft_import_follow_open(ft_follow_import **out, sqlite3 *db, uint64_t window_ns, size_t epoch_bytes, int punch,
                          char *err, size_t errlen);

/* Import what the spills at paths (every spill of the recording, any
** order, new ones included) gained since the last poll, and commit; at
** most about epoch_bytes of each spill per call. final: the processes are gone
** (or stopped recording): read everything and end every image. Returns 0
** (done; when final, the images are ended), 1 when a spill holds more
** than this call took (call again; a final call has not ended the images
** yet), or -1 with err (the trace keeps its last commit). */
int ft_import_follow_poll(ft_follow_import *f, const char *const *paths, size_t n, int final, char *err,
                          size_t errlen);

/* Totals so far: rows, images, ...; *late gets the late events, *punch_failed
** 1 when the file system could not punch holes (spills kept their size). */
void ft_import_follow_stats(const ft_follow_import *f, ft_import_stats *st, long long *late, int *punch_failed);

/* Free everything (the trace is left as the last poll committed it). */
void ft_import_follow_close(ft_follow_import *f);

/* Record the exit status of the image with this pid that ended last and has
** none yet (used by `fragtrace record` for the direct child, where wait()
** knows about signals). */
int ft_import_set_exit_status(sqlite3 *db, int pid, int status);

#endif
