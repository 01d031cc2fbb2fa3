/*
** test_follow_import.c — the follow-mode importer (ft_import_follow_*,
** what `fragtrace record --live/--max-size` runs while the program writes)
** against batch import: the same spill, grown drain by drain with a poll
** after every drain, must give the same rows and the same exact summaries
** (process_stats, site_stats, the histograms, site_windows, heap_totals,
** process_samples, allocation_rows with their ids) as importing the whole
** file at once with the same window width. heap_timeline is left out: in
** follow mode its slices are windows, not 1/1000 of a run length nobody
** knows yet.
**
** The spills are random (several threads, all allocation kinds, cross-
** thread frees, ties, mappings cut by partial munmaps, stacks with and
** without frames, samples, totals) in TSC time with a clock pair after
** every drain, as the shim writes them; events are drained by time range,
** so no event is late and the comparison must be exact.
**
** With the trace already thinned to 1 in k (meta thin_keep, as
** `record --max-size` leaves it, ft_follow.h), the follow import writes
** only the freed rows whose hashed id is 0 mod k, weighted k: its rows must
** be exactly the batch rows so chosen and weighted, every live row, and
** every summary must still equal the batch import's.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_db.h"
#include "ft_follow.h"
#include "ft_format.h"
#include "ft_import.h"
#include "ft_pack.h"

#define PG 4096u
#define WINDOW_NS 1000000u

/* ---- spill builder: tests/unit/ft_spillbuild.h ----------------------------- */

#include "ft_spillbuild.h"

#define EV(t, type, a, n, s) ((ft_event){FT_EV_MAKE((t), (type)), (a), (n), (s)})

static uint64_t rnd(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* ns of tick t under the spill's clock: 5/3 ns per tick, pairs exact. */
static uint64_t tick_ns(uint64_t t) { return t * 5 / 3; }

/* A random TSC image of NT threads over ND drains; *bounds gets the file
** offset after each drain (its clock pair). */
static void random_spill(sb *s, uint64_t seed, uint64_t sample_bytes, size_t *bounds, int nd) {
  enum { NT = 3, PER = 400 };
  uint64_t x = seed, live[600], maps[64], next_addr = 0x10000, now = 0;
  size_t nlive = 0, nmaps = 0;
  sb_header(s, 100, 1, 1000, 5000, FT_FLAG_TSC | (sample_bytes ? FT_FLAG_SAMPLED : 0), 0);
  if (sample_bytes) {
    ft_mode m = {.sample_bytes = sample_bytes, .seed = 7};
    sb_chunk(s, FT_CHUNK_MODE, 0, &m, sizeof m);
  }
  static const char cmd[] = "prog\0arg";
  sb_chunk(s, FT_CHUNK_CMDLINE, 0, cmd, sizeof cmd);
  uint64_t allocs = 0, frees = 0;
  for (int d = 0; d < nd; d++) {
    ft_event ev[NT][PER * 2];
    size_t nev[NT] = {0};
    if (d == 0) { /* thread 1 brings the frames of stack 0xa1 before using it */
      ev[0][nev[0]++] = EV(0, FT_EV_STACK, 0, 2, 0xa1);
      ev[0][nev[0]++] = (ft_event){0x401000, 0x401200, 0, 0};
    }
    if (d == nd / 2) { /* stack 0xa2 gets its frames late, after being used */
      ev[1][nev[1]++] = EV(now, FT_EV_STACK, 0, 1, 0xa2);
      ev[1][nev[1]++] = (ft_event){0x402000, 0, 0, 0};
    }
    for (int i = 0; i < PER; i++) {
      now += rnd(&x) % 3 == 0 ? rnd(&x) % 60000 : 0; /* ties within and across threads */
      int t = (int)(rnd(&x) % NT);
      uint64_t r = rnd(&x), hash = (uint64_t[]){0, 0xa1, 0xa2, 0xa3}[r % 4];
      unsigned what = (unsigned)(r >> 8) % 16;
      uint64_t size = (r >> 16) % 7 == 0 ? 0 : (r >> 20) % 9 == 0 ? (uint64_t)1 << (r >> 24) % 22 : 16 * ((r >> 24) % 5);
      ft_event *e = &ev[t][nev[t]++];
      if (what < 7 && nlive < 600) {
        live[nlive++] = next_addr;
        *e = EV(now, what % 4, next_addr, size, hash);
        next_addr += 0x100;
        allocs++;
      } else if (what < 13 && nlive) {
        size_t k = rnd(&x) % nlive;
        *e = EV(now, FT_EV_FREE, live[k], 0, 0);
        live[k] = live[--nlive];
        frees++;
      } else if (what < 14 && nmaps < 64) {
        maps[nmaps++] = 0x40000000 + (uint64_t)(d * PER + i) * 16 * PG;
        *e = EV(now, FT_EV_MMAP, maps[nmaps - 1], (1 + r % 8) * PG, hash);
      } else if (nmaps) {
        size_t k = rnd(&x) % nmaps;
        *e = EV(now, FT_EV_MUNMAP, maps[k] + (r >> 40) % 8 * PG, (1 + (r >> 50) % 3) * PG, 0);
        if ((r >> 60) % 2) maps[k] = maps[--nmaps];
      } else {
        *e = EV(now, FT_EV_FREE, 0xdead, 0, 0); /* unmatched */
      }
      if (i == PER / 2) { /* the sampler writes as it goes, between drains */
        ft_sample smp = {.t_ns = tick_ns(now), .rss_bytes = 1000 * (uint64_t)(d + 1), .vm_bytes = 1, .shim_bytes = 4};
        sb_chunk(s, FT_CHUNK_SAMPLE, 0, &smp, sizeof smp);
      }
    }
    for (int t = 0; t < NT; t++)
      if (nev[t]) sb_packed(s, 10 + t, ev[t], nev[t]);
    now += 1 + rnd(&x) % 50; /* the drain ends after its events */
    if (d % 3 == 1) {
      ft_totals tot = {.t_ns = tick_ns(now), .allocs = allocs, .frees = frees, .usable_alloc = allocs * 32,
                       .usable_free = frees * 32, .sampled = allocs};
      sb_chunk(s, FT_CHUNK_TOTALS, 0, &tot, sizeof tot);
    }
    ft_clock_pair p = {now, tick_ns(now)};
    sb_chunk(s, FT_CHUNK_CLOCK, 0, &p, sizeof p);
    bounds[d] = s->n;
  }
  ft_exit ex = {.t_ns = tick_ns(now) + 10, .status = 0};
  sb_chunk(s, FT_CHUNK_EXIT, 0, &ex, sizeof ex);
  bounds[nd - 1] = s->n;
}

/* ---- fixture --------------------------------------------------------------- */

typedef struct fx {
  char dir[64];
} fx;

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
  (void)s, (void)f, (void)w;
  return remove(p);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/ft_fol_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* A fresh trace at path with meta window_ns preset (as `record` does). */
static sqlite3 *new_trace(const char *path) {
  sqlite3 *db;
  char err[256];
  if (ft_db_create(path, &db, err, sizeof err) != 0) fail_msg("%s", err);
  char sql[128];
  snprintf(sql, sizeof sql, "INSERT INTO meta(key, value) VALUES ('window_ns', '%u')", WINDOW_NS);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  return db;
}

static long long q_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  long long v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  return v;
}

/* Rows of table (columns cols, rows where `where`) that differ between
** main and attached b, both ways. */
static void expect_same_where(sqlite3 *db, const char *table, const char *cols, const char *where) {
  char sql[2048];
  snprintf(sql, sizeof sql,
           "SELECT (SELECT count(*) FROM (SELECT %s FROM main.%s WHERE %s EXCEPT SELECT %s FROM b.%s WHERE %s)) + "
           "(SELECT count(*) FROM (SELECT %s FROM b.%s WHERE %s EXCEPT SELECT %s FROM main.%s WHERE %s))",
           cols, table, where, cols, table, where, cols, table, where, cols, table, where);
  long long diff = q_int(db, sql);
  snprintf(sql, sizeof sql, "SELECT count(*) FROM main.%s", table);
  long long n = q_int(db, sql);
  if (diff != 0) fail_msg("%s: %lld rows differ between batch and follow (of %lld)", table, diff, n);
}

static void expect_same(sqlite3 *db, const char *table, const char *cols) { expect_same_where(db, table, cols, "1"); }

/* SQL ft_thin_keep(id, k): ft_thin_keeps. */
static void sql_thin_keep(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_result_int(cx, ft_thin_keeps(sqlite3_value_int64(argv[0]), (uint64_t)sqlite3_value_int64(argv[1])));
}

/* Batch and follow imports of one random spill give the same trace.
** backlog: the whole spill is there before the first poll, and polls take
** at most a few drains each (the epoch cap), returning 1 until done.
** keep > 1: the follow trace starts thinned to 1 in keep (see above). */
static void compare_modes(fx *f, uint64_t seed, uint64_t sample_bytes, int backlog, uint64_t keep) {
  enum { ND = 24 };
  sb s = {0};
  size_t bounds[ND];
  random_spill(&s, seed, sample_bytes, bounds, ND);
  char spill[128], batch[128], follow[128], grow[128], err[512];
  snprintf(spill, sizeof spill, "%s/whole.ftspill", f->dir);
  snprintf(grow, sizeof grow, "%s/grow.ftspill", f->dir);
  snprintf(batch, sizeof batch, "%s/batch.db", f->dir);
  snprintf(follow, sizeof follow, "%s/follow.db", f->dir);
  FILE *fp = fopen(spill, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(s.b, 1, s.n, fp), s.n);
  fclose(fp);
  sqlite3 *db = new_trace(batch);
  const char *p1[] = {spill};
  ft_import_stats st;
  if (ft_import_spills(db, p1, 1, &st, err, sizeof err) != 0) fail_msg("batch: %s", err);
  sqlite3_close(db);
  /* follow: the file grows drain by drain (and by half drains: a poll
  ** must stop at the last boundary), a poll after each */
  db = new_trace(follow);
  if (keep > 1) {
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('thin_keep', '%llu')",
             (unsigned long long)keep);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  ft_follow_import *fo;
  if (ft_import_follow_open(&fo, db, WINDOW_NS, backlog ? 8192 : 0, 1, err, sizeof err) != 0)
    fail_msg("open: %s", err);
  fp = fopen(grow, "wb");
  assert_non_null(fp);
  size_t done = 0;
  const char *p2[] = {grow};
  if (backlog) {
    assert_int_equal(fwrite(s.b, 1, s.n, fp), s.n);
    fflush(fp);
    int polls = 0, r;
    while ((r = ft_import_follow_poll(fo, p2, 1, 1, err, sizeof err)) == 1) polls++;
    if (r != 0) fail_msg("poll: %s", err);
    assert_true(polls >= 3); /* the cap cut the backlog into pieces */
  }
  for (int d = 0; d < ND && !backlog; d++) {
    size_t half = done + (bounds[d] - done) / 2;
    assert_int_equal(fwrite(s.b + done, 1, half - done, fp), half - done);
    fflush(fp);
    if (ft_import_follow_poll(fo, p2, 1, 0, err, sizeof err) != 0) fail_msg("poll: %s", err);
    assert_int_equal(fwrite(s.b + half, 1, bounds[d] - half, fp), bounds[d] - half);
    fflush(fp);
    done = bounds[d];
    if (ft_import_follow_poll(fo, p2, 1, 0, err, sizeof err) != 0) fail_msg("poll: %s", err);
    /* the trace is readable and consistent after every commit */
    assert_int_equal(q_int(db, "SELECT count(*) FROM processes"), 1);
  }
  fclose(fp);
  if (!backlog && ft_import_follow_poll(fo, p2, 1, 1, err, sizeof err) != 0) fail_msg("final poll: %s", err);
  ft_import_stats fst;
  long long late;
  int punch_failed;
  ft_import_follow_stats(fo, &fst, &late, &punch_failed);
  ft_import_follow_close(fo);
  assert_int_equal(late, 0);
  assert_int_equal(fst.processes, 1);
  assert_int_equal(fst.allocations, st.allocations);
  assert_int_equal(fst.frees, st.frees);
  /* the consumed part of the spill went back to the file system */
  struct stat sst;
  assert_int_equal(stat(grow, &sst), 0);
  if (!punch_failed) assert_true((size_t)sst.st_blocks * 512 < s.n / 2);
  char att[256];
  snprintf(att, sizeof att, "ATTACH '%s' AS b", batch);
  assert_int_equal(sqlite3_exec(db, att, NULL, NULL, NULL), SQLITE_OK);
  assert_true(q_int(db, "SELECT count(*) FROM b.allocation_rows") > 3000);
  assert_true(q_int(db, "SELECT count(*) FROM site_windows") > 20);
  if (keep > 1) {
    /* The batch rows the thinning keeps, weighted as it weights them. */
    assert_int_equal(sqlite3_create_function(db, "ft_thin_keep", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                             sql_thin_keep, NULL, NULL),
                     SQLITE_OK);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "CREATE TEMP VIEW kept AS SELECT id, kind_thread, address, size, t_alloc, lifetime, free_thread, "
             "stack_id, CASE WHEN lifetime IS NULL THEN weight ELSE coalesce(weight, 1.0) * %llu END AS weight "
             "FROM b.allocation_rows WHERE lifetime IS NULL OR ft_thin_keep(id, %llu)",
             (unsigned long long)keep, (unsigned long long)keep);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(q_int(db, "SELECT (SELECT count(*) FROM (SELECT * FROM main.allocation_rows EXCEPT "
                               "SELECT * FROM temp.kept)) + (SELECT count(*) FROM (SELECT * FROM temp.kept EXCEPT "
                               "SELECT * FROM main.allocation_rows))"),
                     0);
    long long left = q_int(db, "SELECT (SELECT count(*) FROM b.allocation_rows) - "
                               "(SELECT count(*) FROM main.allocation_rows)");
    assert_true(left > 1000); /* most freed rows were left out */
    assert_int_equal(q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thinned_rows'"), left);
    assert_int_equal(q_int(db, "SELECT sum(rows_deleted) + sum(rows_unwritten) FROM thinning "
                               "WHERE what = 'allocation_rows'"),
                     left);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM thinning WHERE keep IS NOT %llu", (unsigned long long)keep);
    assert_int_equal(q_int(db, sql), 0);
    /* rows written while live and not kept when freed were deleted again */
    assert_true(q_int(db, "SELECT sum(rows_deleted) FROM thinning") > 0);
  } else {
    expect_same(db, "allocation_rows", "*");
  }
  expect_same(db, "process_stats", "*");
  expect_same(db, "site_stats", "*");
  expect_same(db, "site_lifetime_hist", "*");
  expect_same(db, "site_size_hist", "*");
  expect_same(db, "site_windows", "*");
  expect_same(db, "heap_totals", "*");
  expect_same(db, "process_samples", "*");
  expect_same(db, "sample_sources", "*");
  /* pinning at the end: the live rows and the pages ever touched */
  expect_same_where(db, "pinning", "*", "instant = 'end'");
  expect_same_where(db, "pinning_totals", "*", "instant = 'end'");
  if (!sample_bytes) assert_true(q_int(db, "SELECT count(*) FROM pinning_totals WHERE instant = 'end'") == 2);
  assert_true(q_int(db, "SELECT samples FROM sample_sources WHERE source = 'statm'") >= 20);
  expect_same(db, "threads", "*");
  expect_same(db, "stacks", "*");
  expect_same(db, "stack_frames", "*");
  expect_same(db, "processes",
              "proc, pid, ppid, exe, cmdline, start_unix_ns, end_ns, ended_by, page_size, exit_status, "
              "events_dropped, unmatched_frees, stack_depth, sample_bytes, seed");
  sqlite3_close(db);
  free(s.b);
}

/* A thread that stamped malloc(X) just after its ring was drained hands X
** to another thread, which frees it and is drained first: the free is in
** an earlier drain than the malloc it follows. The watermark (the clock
** pair before the last) holds the free back until the malloc is there, so
** the rows match as in batch mode, with no late event and no unmatched
** free. */
static void test_follow_handoff_across_drains(void **state) {
  fx *f = *state;
  sb s = {0};
  size_t bounds[4];
  sb_header(&s, 100, 1, 1000, 5000, FT_FLAG_TSC, 0);
  ft_event a0[] = {EV(100, FT_EV_MALLOC, 0x1000, 64, 0xa1)};
  sb_packed(&s, 10, a0, 1);
  ft_clock_pair p = {150, 250};
  sb_chunk(&s, FT_CHUNK_CLOCK, 0, &p, sizeof p);
  bounds[0] = s.n;
  ft_event b1[] = {EV(220, FT_EV_FREE, 0x2000, 0, 0), EV(230, FT_EV_FREE, 0x1000, 0, 0)};
  sb_packed(&s, 11, b1, 2);
  p = (ft_clock_pair){300, 500};
  sb_chunk(&s, FT_CHUNK_CLOCK, 0, &p, sizeof p);
  bounds[1] = s.n;
  ft_event a2[] = {EV(200, FT_EV_MALLOC, 0x2000, 32, 0xa1), EV(350, FT_EV_MALLOC, 0x3000, 16, 0xa1)};
  sb_packed(&s, 10, a2, 2);
  p = (ft_clock_pair){400, 666};
  sb_chunk(&s, FT_CHUNK_CLOCK, 0, &p, sizeof p);
  bounds[2] = s.n;
  ft_exit ex = {.t_ns = 700, .status = 0};
  sb_chunk(&s, FT_CHUNK_EXIT, 0, &ex, sizeof ex);
  bounds[3] = s.n;
  char path[128], db_path[128], err[512];
  snprintf(path, sizeof path, "%s/h.ftspill", f->dir);
  snprintf(db_path, sizeof db_path, "%s/h.db", f->dir);
  sqlite3 *db = new_trace(db_path);
  ft_follow_import *fo;
  if (ft_import_follow_open(&fo, db, WINDOW_NS, 0, 1, err, sizeof err) != 0) fail_msg("open: %s", err);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  size_t done = 0;
  const char *pp[] = {path};
  for (int d = 0; d < 4; d++) {
    assert_int_equal(fwrite(s.b + done, 1, bounds[d] - done, fp), bounds[d] - done);
    fflush(fp);
    done = bounds[d];
    if (ft_import_follow_poll(fo, pp, 1, d == 3, err, sizeof err) != 0) fail_msg("poll: %s", err);
  }
  fclose(fp);
  ft_import_stats st;
  long long late;
  int punch_failed;
  ft_import_follow_stats(fo, &st, &late, &punch_failed);
  ft_import_follow_close(fo);
  assert_int_equal(late, 0);
  assert_int_equal(st.unmatched_frees, 0);
  assert_int_equal(q_int(db, "SELECT count(*) FROM allocation_rows"), 3);
  assert_int_equal(q_int(db, "SELECT count(*) FROM allocation_rows WHERE lifetime IS NULL"), 1);
  /* 0x2000: malloc at tick 200 (333 ns), free at 220 (366 ns): ns through the pairs (150,250)-(300,500) */
  assert_int_equal(q_int(db, "SELECT lifetime FROM allocation_rows WHERE address = 8192"), 366 - 333);
  assert_int_equal(q_int(db, "SELECT leaked FROM process_stats"), 1);
  sqlite3_close(db);
  free(s.b);
}

static void test_follow_equals_batch(void **state) { compare_modes(*state, 0x9e3779b97f4a7c15ull, 0, 0, 1); }

static void test_follow_equals_batch_seed2(void **state) { compare_modes(*state, 0x1234567887654321ull, 0, 0, 1); }

static void test_follow_equals_batch_sampled(void **state) {
  compare_modes(*state, 0x5555aaaa3333cccbull, 4096, 0, 1);
}

static void test_follow_backlog(void **state) { compare_modes(*state, 0x0f1e2d3c4b5a6978ull, 0, 1, 1); }

/* Thinned at the source: rows 1 in 4 (full capture) and 1 in 8 (sampled,
** the weights multiply); summaries as in batch. */
static void test_follow_thinned(void **state) { compare_modes(*state, 0x9e3779b97f4a7c15ull, 0, 0, 4); }

static void test_follow_thinned_sampled(void **state) { compare_modes(*state, 0x5555aaaa3333cccbull, 4096, 0, 8); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_follow_equals_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_follow_equals_batch_seed2, setup, teardown),
      cmocka_unit_test_setup_teardown(test_follow_equals_batch_sampled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_follow_backlog, setup, teardown),
      cmocka_unit_test_setup_teardown(test_follow_handoff_across_drains, setup, teardown),
      cmocka_unit_test_setup_teardown(test_follow_thinned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_follow_thinned_sampled, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
