/*
** ft_follow.h — the parts of `fragtrace record`'s follow mode (--live,
** --max-size, --duration) that are not the importer itself
** (ft_import_follow_*, ft_import.h):
**   - Tailing spills: every spill of the recording directory is read chunk
**     header by chunk header as it grows (only complete chunks), noting the
**     control and lifecycle chunks the recorder acts on: FT_CHUNK_CONTROL
**     FLUSH (commit now) and STOP (recording ended for good, the image runs
**     on untraced), EXIT and EXEC (the image is gone).
**   - Bounding (--max-size): after each commit, while the file's pages in
**     use are over 70 % of the limit, the freed allocation rows are thinned
**     by doubling k: only the rows whose id hashes to 0 mod k stay, each
**     weighted k (allocation_rows.weight), and the importer writes the
**     freed rows of later epochs 1 in k the same way (meta thin_keep), so
**     the rows stay a uniform, unbiased sample of the whole run. When the
**     freed rows alone cannot do it (a live heap of many blocks), the live
**     rows get their own factor the same way (meta thin_keep_live, weight
**     k_live); summaries, samples and totals are never thinned; if that is
**     still not enough, every other old process/buddyinfo sample goes. What was left out is recorded in the `thinning` table and meta
**     keys (schema/README.md) and `fragtrace report` says so.
*/
#ifndef FT_FOLLOW_H
#define FT_FOLLOW_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* ---- tailing spills ---- */

typedef struct ft_tail {
  char *path;
  int fd;                 /* -1 until the file has a whole header */
  uint64_t off;           /* offset of the first chunk not yet scanned */
  int32_t pid;            /* from the header */
  unsigned flushes;       /* FT_CTL_FLUSH chunks seen */
  int stopped;            /* FT_CTL_STOP seen: recording of the image ended */
  int gone;               /* EXIT or EXEC seen: the image ended */
  int bad;                /* not a spill we can read: ignored from then on */
} ft_tail;

typedef struct ft_tails {
  char *dir;
  uint64_t bytes;         /* chunk bytes scanned so far, all spills */
  ft_tail *t;
  size_t n, cap;
} ft_tails;

/* Start tailing the spills of dir (none yet is fine). Returns 0 or -1 (OOM). */
int ft_tails_init(ft_tails *ts, const char *dir);

/* Pick up new spills of the directory and scan the complete chunks appended
** to every spill since the last call. *grew gets 1 when any spill gained a
** chunk, *flushed 1 when a FLUSH control chunk arrived. Returns 0 or -1
** (out of memory; the directory vanishing is not an error). */
int ft_tails_poll(ft_tails *ts, int *grew, int *flushed);

/* Whether every image seen ended its recording (STOP) or ended (EXIT,
** EXEC), and at least one STOP was seen: --duration is over. */
int ft_tails_all_stopped(const ft_tails *ts);

/* Close every file and free the list. */
void ft_tails_free(ft_tails *ts);

/* ---- bounding a trace ---- */

/* Whether freed allocation row id stays when freed rows are kept 1 in k (k
** a power of two): its hashed id is 0 mod k. A hash (splitmix64's
** finaliser), not id % k, so no allocation pattern that repeats every few
** ids lines up with the choice (a loop allocating at two sites in turn
** would keep only one site); and the rows kept at 2k are a subset of those
** kept at k, so doubling k only deletes rows. The importer (ft_import.c)
** and the SQL function ft_thin_keep(id, k) of ft_thin_trace use this. */
static inline int ft_thin_keeps(int64_t id, uint64_t k) {
  uint64_t x = (uint64_t)id;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (x & (k - 1)) == 0;
}

typedef struct ft_thin_stats {
  long long rows_deleted;    /* allocation rows deleted now */
  uint64_t keep;             /* freed rows are kept 1 in keep from now on (meta thin_keep; 1 = all) */
  uint64_t keep_live;        /* live rows are kept 1 in keep_live (meta thin_keep_live; 1 = all) */
  long long samples_deleted; /* process and buddyinfo sample rows deleted now */
  uint64_t size_before, size_after; /* file bytes in use (pages - free pages) * page size */
} ft_thin_stats;

/* Bring the trace db (open read-write, no transaction open) under max_size
** bytes: when its pages in use exceed 70 % of max_size, double the 1-in-k
** factor of freed allocation rows (meta thin_keep) and delete the freed
** rows it no longer keeps (the rest get weight k; the table is rewritten
** in id order so the pages are full again), then old samples, until under
** 55 %, and record that in `thinning` and meta. final: also VACUUM (with
** 4 KiB pages unless in WAL mode) so the file itself shrinks to what is
** left; between commits the freed pages are reused instead. Returns 0
** (also when nothing needed deleting, and when even deleting everything
** allowed leaves it too big: *st says what happened), or -1 with err. */
int ft_thin_trace(sqlite3 *db, uint64_t max_size, int final, ft_thin_stats *st, char *err, size_t errlen);

/* Bytes the trace's pages in use take: (page_count - freelist_count) * page_size. */
int64_t ft_trace_used_bytes(sqlite3 *db);

#endif
