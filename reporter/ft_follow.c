/*
** ft_follow.c — tailing spills while the program runs, and bounding a
** trace's size by thinning (see ft_follow.h).
**
** Tailing reads chunk headers with pread() from where the last poll
** stopped, so a poll costs one read per new chunk (a few per drain), never a
** rescan. A chunk counts once all of it (header, payload, padding) is in the
** file: the shim appends each chunk with one write(), so a partial chunk is
** one still being written, and the next poll sees it whole.
**
** Thinning keeps a uniform sample of the freed allocation rows of the whole
** run: when the file passes 70 % of the limit, the 1-in-k factor doubles,
** as many times at once as the excess asks (ft_thin_keeps: a hash of the id, so the rows kept at 2k are among those
** kept at k), the freed rows no longer kept are deleted and the others are
** weighted k (times their sampling weight), and from then on the importer
** writes freed rows 1 in k (meta thin_keep), so most are never written at
** all. Every freed row in the trace thus stands for k rows, and row-level
** queries over `allocations` summing weight are unbiased estimates over the
** whole run (deleting the oldest rows instead would leave the early run
** with no rows at all). Live rows (the leaks) are thinned only when the
** freed rows cannot bring the trace under its limit, by their own factor
** k_live (meta thin_keep_live; ft_thin_class), and every summary (process_stats,
** site_stats, histograms, site_windows, heap_timeline,
** process_samples.live_*, heap_totals) is computed from every event, so the
** summaries stay exact. The size is measured as the pages in use,
** (page_count - freelist_count) * page_size. Deleting every other row
** leaves b-tree pages half full (SQLite merges a page only below a third),
** so a round rewrites the table in id order, which packs the pages; the
** file is VACUUMed with 4 KiB pages at the end so what is left on disk is
** that. Between commits of a live recording nothing is VACUUMed: the next
** epoch's rows fill the pages the thinning freed.
*/
#include "ft_follow.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_format.h"

/* ------------------------------------------------------------------------ */
/* Tailing spills                                                            */

int ft_tails_init(ft_tails *ts, const char *dir) {
  memset(ts, 0, sizeof *ts);
  ts->dir = strdup(dir);
  return ts->dir ? 0 : -1;
}

/* Whether path is already followed. */
static int ft_tails_has(const ft_tails *ts, const char *path) {
  for (size_t i = 0; i < ts->n; i++)
    if (!strcmp(ts->t[i].path, path)) return 1;
  return 0;
}

/* Follow the spills of the directory not seen yet. Returns 0 or -1 (OOM). */
static int ft_tails_discover(ft_tails *ts) {
  DIR *d = opendir(ts->dir);
  if (!d) return 0; /* not there (yet, or any more): nothing to follow */
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 9 || strcmp(e->d_name + len - 8, ".ftspill") != 0) continue;
    size_t need = strlen(ts->dir) + len + 2;
    char *path = malloc(need);
    if (!path) {
      rc = -1;
      break;
    }
    snprintf(path, need, "%s/%s", ts->dir, e->d_name);
    if (ft_tails_has(ts, path)) {
      free(path);
      continue;
    }
    if (ts->n == ts->cap) {
      size_t nc = ts->cap ? 2 * ts->cap : 16;
      ft_tail *nt = realloc(ts->t, nc * sizeof *nt);
      if (!nt) {
        free(path);
        rc = -1;
        break;
      }
      ts->t = nt;
      ts->cap = nc;
    }
    ts->t[ts->n++] = (ft_tail){.path = path, .fd = -1};
  }
  closedir(d);
  return rc;
}

/* Open t and read its header once it is all there. Returns 1 when the
** header is read (now or before), 0 when not yet. */
static int ft_tail_header(ft_tail *t) {
  if (t->fd >= 0 && t->off) return 1;
  if (t->fd < 0) t->fd = open(t->path, O_RDONLY | O_CLOEXEC);
  if (t->fd < 0) return 0;
  ft_file_header h;
  ssize_t got = pread(t->fd, &h, sizeof h, 0);
  if (got < (ssize_t)sizeof h) return 0; /* still being written */
  if (memcmp(h.magic, FT_SPILL_MAGIC, 8) != 0 || h.version != FT_SPILL_VERSION ||
      h.header_size < sizeof h || h.header_size % 8) {
    t->bad = 1; /* the final import says what is wrong with it */
    return 0;
  }
  t->pid = h.pid;
  t->off = h.header_size;
  return 1;
}

/* Scan the complete chunks appended to t since the last call. */
static void ft_tail_scan(ft_tail *t, int *grew, int *flushed, uint64_t *bytes) {
  if (t->bad || !ft_tail_header(t)) return;
  struct stat st;
  if (fstat(t->fd, &st) != 0) return;
  uint64_t size = (uint64_t)st.st_size;
  while (t->off + sizeof(ft_chunk) <= size) {
    ft_chunk c;
    if (pread(t->fd, &c, sizeof c, (off_t)t->off) != (ssize_t)sizeof c) return;
    uint64_t whole = sizeof c + (((uint64_t)c.len + 7u) & ~(uint64_t)7u);
    if (t->off + whole > size) return; /* being written: next poll */
    if (c.type == 0 || c.type > FT_CHUNK_TYPE_MAX) { /* garbage: stop following this one */
      t->bad = 1;
      return;
    }
    if (c.type == FT_CHUNK_CONTROL && c.len >= sizeof(ft_control)) {
      ft_control k;
      if (pread(t->fd, &k, sizeof k, (off_t)(t->off + sizeof c)) != (ssize_t)sizeof k) return;
      if (k.action == FT_CTL_FLUSH) {
        t->flushes++;
        *flushed = 1;
      } else if (k.action == FT_CTL_STOP) {
        t->stopped = 1;
      }
    } else if (c.type == FT_CHUNK_EXIT || c.type == FT_CHUNK_EXEC) {
      t->gone = 1;
    }
    t->off += whole;
    *grew = 1;
    *bytes += whole;
  }
}

int ft_tails_poll(ft_tails *ts, int *grew, int *flushed) {
  *grew = *flushed = 0;
  if (ft_tails_discover(ts) != 0) return -1;
  for (size_t i = 0; i < ts->n; i++) ft_tail_scan(&ts->t[i], grew, flushed, &ts->bytes);
  return 0;
}

int ft_tails_all_stopped(const ft_tails *ts) {
  int any_stop = 0;
  for (size_t i = 0; i < ts->n; i++) {
    const ft_tail *t = &ts->t[i];
    if (t->bad) continue;
    if (!t->stopped && !t->gone) return 0;
    any_stop |= t->stopped;
  }
  return any_stop;
}

void ft_tails_free(ft_tails *ts) {
  for (size_t i = 0; i < ts->n; i++) {
    if (ts->t[i].fd >= 0) close(ts->t[i].fd);
    free(ts->t[i].path);
  }
  free(ts->t);
  free(ts->dir);
  memset(ts, 0, sizeof *ts);
}

/* ------------------------------------------------------------------------ */
/* Thinning                                                                  */

/* The single integer of a query (0 when no row or NULL), -1 on error. */
static int64_t ft_q1(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) return -1;
  int64_t v = 0;
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) v = sqlite3_column_int64(q, 0);
  else if (rc != SQLITE_DONE) v = -1;
  sqlite3_finalize(q);
  return v;
}

int64_t ft_trace_used_bytes(sqlite3 *db) {
  int64_t pages = ft_q1(db, "PRAGMA page_count"), fl = ft_q1(db, "PRAGMA freelist_count"),
          ps = ft_q1(db, "PRAGMA page_size");
  if (pages < 0 || fl < 0 || ps <= 0) return -1;
  return (pages - fl) * ps;
}

/* Run sql; on failure put "<what>: <message>" in err. 0 or -1. */
static int ft_fexec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen) {
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK) return 0;
  snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
  return -1;
}

#define FT_THIN_MAX_KEEP ((int64_t)1 << 40) /* k beyond which no freed row is left in practice */

/* SQL ft_thin_keep(id, k): ft_thin_keeps. */
static void ft_sql_thin_keep(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_result_int(cx, ft_thin_keeps(sqlite3_value_int64(argv[0]), (uint64_t)sqlite3_value_int64(argv[1])));
}

/* Keep the freed allocation rows 1 in k instead of 1 in from (powers of
** two, from < k) in one transaction: delete those ft_thin_keeps(id, k)
** drops, multiply the weight of the others by k / from, record a thinning
** row per process, and rewrite the table in id order so the pages the
** deleted rows leave are given back instead of half full. *deleted gets
** the rows deleted, *freed_left the freed rows kept. 0 or -1. */
static int ft_thin_double(sqlite3 *db, int live, uint64_t from, uint64_t k, int64_t *deleted, int64_t *freed_left,
                          char *err, size_t errlen) {
  assert(k > from && !(k & (k - 1)) && !(from & (from - 1)));
  /* The class thinned now: freed rows (meta thin_keep), or, once those
  ** cannot bring the trace under its limit, the live rows (thin_keep_live). */
  const char *cls = live ? "lifetime IS NULL" : "lifetime IS NOT NULL";
  const char *other = live ? "lifetime IS NOT NULL" : "lifetime IS NULL";
  char sql[2560];
  snprintf(sql, sizeof sql,
           "BEGIN IMMEDIATE;"
           /* One row per process: the rows' thread says which. t_ns: how far
           ** the process was imported when this ran. */
           "INSERT INTO thinning(what, proc, t_ns, rows_deleted, first_id, last_id, before_t_ns, keep, "
           " rows_unwritten) "
           " SELECT '%s', t.proc, (SELECT end_ns FROM processes p WHERE p.proc = t.proc), "
           "  count(*), min(a.id), max(a.id), max(a.t_alloc), %llu, 0 "
           " FROM allocation_rows a JOIN threads t ON t.thread = a.kind_thread >> 3 "
           " WHERE a.%s AND NOT ft_thin_keep(a.id, %llu) GROUP BY t.proc;"
           "CREATE TEMP TABLE ft_thin_kept AS SELECT * FROM allocation_rows "
           " WHERE %s OR ft_thin_keep(id, %llu) ORDER BY id;"
           "DELETE FROM allocation_rows;" /* no WHERE: SQLite frees the pages wholesale */
           "INSERT INTO allocation_rows(id, kind_thread, address, size, t_alloc, lifetime, free_thread, stack_id, "
           " weight) SELECT id, kind_thread, address, size, t_alloc, lifetime, free_thread, stack_id, "
           " CASE WHEN %s THEN weight ELSE coalesce(weight, 1.0) * %llu END "
           " FROM temp.ft_thin_kept ORDER BY id;",
           live ? "live_allocation_rows" : "allocation_rows", (unsigned long long)k, cls, (unsigned long long)k, other,
           (unsigned long long)k, other, (unsigned long long)(k / from));
  int64_t before = ft_q1(db, "SELECT count(*) FROM allocation_rows");
  if (before < 0 || ft_fexec(db, sql, "thinning allocation rows", err, errlen) != 0) goto fail;
  int64_t after = ft_q1(db, "SELECT count(*) FROM temp.ft_thin_kept");
  char q[128];
  snprintf(q, sizeof q, "SELECT count(*) FROM temp.ft_thin_kept WHERE %s", cls);
  *freed_left = ft_q1(db, q);
  if (after < 0 || *freed_left < 0) {
    snprintf(err, errlen, "thinning allocation rows: %s", sqlite3_errmsg(db));
    goto fail;
  }
  *deleted = before - after;
  char meta[160];
  snprintf(meta, sizeof meta,
           "DROP TABLE temp.ft_thin_kept; INSERT OR REPLACE INTO meta(key, value) VALUES ('%s', '%llu'); "
           "COMMIT",
           live ? "thin_keep_live" : "thin_keep", (unsigned long long)k);
  if (ft_fexec(db, meta, "thinning allocation rows", err, errlen) == 0) return 0;
fail:
  sqlite3_exec(db, "ROLLBACK; DROP TABLE IF EXISTS temp.ft_thin_kept", NULL, NULL, NULL);
  return -1;
}

/* Halve the older half of every process's process samples and buddyinfo
** snapshots (keep every other one), recording it. *deleted gets the sample
** rows deleted. 0 or -1. */
static int ft_thin_samples(sqlite3 *db, int64_t *deleted, char *err, size_t errlen) {
  /* Samples of a process numbered in time order; the odd ones of the first
  ** half go. buddyinfo snapshots are numbered by distinct t_ns. */
  static const char sql[] =
      "BEGIN IMMEDIATE;"
      "CREATE TEMP TABLE ft_thin_ps AS SELECT proc, t_ns FROM ("
      " SELECT proc, t_ns, row_number() OVER (PARTITION BY proc ORDER BY t_ns) AS rn,"
      "  count(*) OVER (PARTITION BY proc) AS n FROM process_samples)"
      " WHERE rn % 2 = 0 AND rn <= n / 2;"
      "CREATE TEMP TABLE ft_thin_bs AS SELECT proc, t_ns FROM ("
      " SELECT proc, t_ns, row_number() OVER (PARTITION BY proc ORDER BY t_ns) AS rn,"
      "  count(*) OVER (PARTITION BY proc) AS n FROM (SELECT DISTINCT proc, t_ns FROM buddyinfo_samples))"
      " WHERE rn % 2 = 0 AND rn <= n / 2;"
      "INSERT INTO thinning(what, proc, t_ns, rows_deleted, first_id, last_id, before_t_ns)"
      " SELECT 'process_samples', s.proc, (SELECT end_ns FROM processes p WHERE p.proc = s.proc), count(*),"
      "  NULL, NULL, max(s.t_ns) FROM ft_thin_ps s GROUP BY s.proc;"
      "INSERT INTO thinning(what, proc, t_ns, rows_deleted, first_id, last_id, before_t_ns)"
      " SELECT 'buddyinfo_samples', b.proc, (SELECT end_ns FROM processes p WHERE p.proc = b.proc),"
      "  (SELECT count(*) FROM buddyinfo_samples x WHERE x.proc = b.proc AND x.t_ns IN"
      "    (SELECT t_ns FROM ft_thin_bs y WHERE y.proc = b.proc)),"
      "  NULL, NULL, max(b.t_ns) FROM ft_thin_bs b GROUP BY b.proc;";
  if (ft_fexec(db, sql, "thinning samples", err, errlen) != 0) goto fail;
  int64_t n = ft_q1(db, "SELECT (SELECT count(*) FROM ft_thin_ps) + (SELECT count(*) FROM buddyinfo_samples x "
                        "WHERE (x.proc, x.t_ns) IN (SELECT proc, t_ns FROM ft_thin_bs))");
  if (n < 0 ||
      ft_fexec(db,
               "DELETE FROM process_samples WHERE (proc, t_ns) IN (SELECT proc, t_ns FROM ft_thin_ps);"
               "DELETE FROM buddyinfo_samples WHERE (proc, t_ns) IN (SELECT proc, t_ns FROM ft_thin_bs);"
               "DROP TABLE temp.ft_thin_ps; DROP TABLE temp.ft_thin_bs; COMMIT",
               "thinning samples", err, errlen) != 0)
    goto fail;
  *deleted = n;
  return 0;
fail:
  sqlite3_exec(db, "ROLLBACK; DROP TABLE IF EXISTS temp.ft_thin_ps; DROP TABLE IF EXISTS temp.ft_thin_bs", NULL,
               NULL, NULL);
  return -1;
}

/* Add v to integer meta key (creating it). 0 or -1. */
static int ft_meta_add_int(sqlite3 *db, const char *key, int64_t v, int replace) {
  char sql[256];
  if (replace)
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('%s', '%lld')", key, (long long)v);
  else
    snprintf(sql, sizeof sql,
             "INSERT INTO meta(key, value) VALUES ('%s', '%lld') ON CONFLICT(key) DO UPDATE SET value = "
             "CAST(CAST(value AS INTEGER) + %lld AS TEXT)",
             key, (long long)v, (long long)v);
  return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Raise the 1-in-k factor of one class of allocation rows (live = 0: freed
** rows, meta thin_keep; 1: live rows, thin_keep_live), doubling as many times
** at once as that class's share of the excess asks (each rewrite of the
** table costs its size in the WAL), until *size is under target or no row
** of the class is left. Bytes per row are learnt from each round (first
** guess: ~32 bytes with its share of the b-tree). 0 or -1. */
static int ft_thin_class(sqlite3 *db, int live, int64_t target, int64_t *sizep, int64_t *kp, double *bytes_per_rowp,
                         ft_thin_stats *st, char *err, size_t errlen) {
  int64_t size = *sizep, k = *kp;
  double bytes_per_row = *bytes_per_rowp;
  int64_t freed = ft_q1(db, live ? "SELECT count(*) FROM allocation_rows WHERE lifetime IS NULL"
                                 : "SELECT count(*) FROM allocation_rows WHERE lifetime IS NOT NULL");
  while (size > target && freed > 0 && k < FT_THIN_MAX_KEEP) {
    /* Keeping 1 in 2^j of the freed rows gives back about
    ** freed * (1 - 2^-j) rows' bytes. */
    double need = (double)(size - target), have = (double)freed * bytes_per_row;
    int j = 1;
    while (j < 40 && have * (1.0 - 1.0 / (double)((int64_t)1 << j)) < need && (k << j) < FT_THIN_MAX_KEEP) j++;
    /* This class cannot give back enough even if it were emptied: thin it
    ** by 16 at most and leave the rest to the next class (live rows, then
    ** samples), so k stays meaningful for the rows still to come. */
    int short_of_need = have * (1.0 - 1.0 / (double)((int64_t)1 << j)) < need;
    if (short_of_need && j > 4) j = 4;
    int64_t del = 0, left = 0;
    if (ft_thin_double(db, live, (uint64_t)k, (uint64_t)k << j, &del, &left, err, errlen) != 0) return -1;
    k <<= j;
    st->rows_deleted += del;
    /* The rewrite went through the WAL (while following): fold it back now,
    ** so rounds in a row do not pile their rewrites up in it. */
    sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    int64_t now = ft_trace_used_bytes(db);
    if (now < 0) {
      snprintf(err, errlen, "measuring the trace: %s", sqlite3_errmsg(db));
      return -1;
    }
    if (del > 0 && now < size) bytes_per_row = (double)(size - now) / (double)del;
    size = now;
    freed = left;
    if (short_of_need) break;
  }
  *sizep = size;
  *kp = k;
  *bytes_per_rowp = bytes_per_row;
  return 0;
}

int ft_thin_trace(sqlite3 *db, uint64_t max_size, int final, ft_thin_stats *st, char *err, size_t errlen) {
  memset(st, 0, sizeof *st);
  st->keep_live = 1;
  assert(max_size > 0);
  int64_t size = ft_trace_used_bytes(db);
  if (size < 0) {
    snprintf(err, errlen, "reading the page counts: %s", sqlite3_errmsg(db));
    return -1;
  }
  st->size_before = st->size_after = (uint64_t)size;
  if (ft_meta_add_int(db, "max_size", (int64_t)max_size, 1) != 0) {
    snprintf(err, errlen, "writing meta max_size: %s", sqlite3_errmsg(db));
    return -1;
  }
  int64_t k = ft_q1(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thin_keep'");
  if (k < 1 || (k & (k - 1))) k = 1;
  st->keep = (uint64_t)k;
  if ((uint64_t)size <= max_size / 10 * 7) return final ? ft_fexec(db, "VACUUM", "vacuum", err, errlen) : 0;
  /* Measure in small pages: a trace is written with 64 KiB pages (fast bulk
  ** loads), where a table's last page is mostly empty. (Not in WAL mode,
  ** where the page size is fixed: `record` converts a bounded trace to
  ** small pages before it starts.) */
  if (final && ft_q1(db, "PRAGMA page_size") > 4096 &&
      ft_fexec(db, "PRAGMA page_size=4096; VACUUM", "vacuum", err, errlen) != 0)
    return -1;
  const int64_t target = (int64_t)(max_size / 20 * 11);
  size = ft_trace_used_bytes(db);
  if (size < 0) {
    snprintf(err, errlen, "measuring the trace: %s", sqlite3_errmsg(db));
    return -1;
  }
  /* Raise k (doubling, as many times at once as the freed rows' share of
  ** the excess asks: each rewrite of the table costs its size in the WAL)
  ** until under the target or no freed row is left. Bytes per row are
  ** learnt from each round (first guess: what a freed row takes in full
  ** mode, ~32 bytes with its share of the b-tree). */
  if (sqlite3_create_function(db, "ft_thin_keep", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, ft_sql_thin_keep,
                              NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "registering ft_thin_keep: %s", sqlite3_errmsg(db));
    return -1;
  }
  double bytes_per_row = 32;
  if (ft_thin_class(db, 0, target, &size, &k, &bytes_per_row, st, err, errlen) != 0) return -1;
  /* Freed rows alone could not do it (a live heap of many blocks): the live
  ** rows go 1 in k_live too, their weights times k_live; leaks then are an
  ** estimate as well (site_stats.leaked stays exact). */
  int64_t kl = ft_q1(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thin_keep_live'");
  if (kl < 1 || (kl & (kl - 1))) kl = 1;
  if (size > target && ft_thin_class(db, 1, target, &size, &kl, &bytes_per_row, st, err, errlen) != 0) return -1;
  st->keep_live = (uint64_t)kl;
  st->keep = (uint64_t)k;
  /* Still too big with every freed row gone: halve the old samples, as
  ** long as that gives anything back. */
  while (size > target) {
    int64_t del = 0;
    if (ft_thin_samples(db, &del, err, errlen) != 0) return -1;
    if (del == 0) break;
    st->samples_deleted += del;
    size = ft_trace_used_bytes(db);
  }
  if ((st->rows_deleted && ft_meta_add_int(db, "thinned_rows", st->rows_deleted, 0) != 0) ||
      (st->samples_deleted && ft_meta_add_int(db, "thinned_samples", st->samples_deleted, 0) != 0)) {
    snprintf(err, errlen, "writing meta: %s", sqlite3_errmsg(db));
    return -1;
  }
  /* Give the deleted pages back to the file system (between commits they
  ** are reused by the next epoch's rows instead). */
  if (final && ft_fexec(db, "VACUUM", "vacuum", err, errlen) != 0) return -1;
  size = ft_trace_used_bytes(db);
  st->size_after = size < 0 ? 0 : (uint64_t)size;
  return 0;
}
