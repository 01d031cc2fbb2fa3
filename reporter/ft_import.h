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

/* Record the exit status of the image with this pid that ended last and has
** none yet (used by `fragtrace record` for the direct child, where wait()
** knows about signals). */
int ft_import_set_exit_status(sqlite3 *db, int pid, int status);

#endif
