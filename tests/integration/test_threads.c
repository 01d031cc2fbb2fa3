/*
** test_threads.c — cross-thread frees under load (tests/progs/handoff.c):
** N threads each allocate M blocks that the next thread frees. The trace
** must have exactly N*M rows of the size, all freed by another thread, and
** never two rows live at the same address at once, although addresses are
** reused constantly. Run in a few shapes (more threads than cores, tiny
** rings that keep the threads waiting for the writer, lossy mode).
*/
#define _GNU_SOURCE
#include <string.h>

#include "ft_itest.h"

/* Rows at the same address whose lifetimes overlap, among heap rows: each
** row against the previous row at its address (allocation order). */
static const char overlap_sql[] =
    "SELECT count(*) FROM (SELECT t_alloc_ns, LAG(id) OVER w AS prev_id, LAG(t_free_ns) OVER w AS prev_free "
    "FROM allocations WHERE kind != 'mmap' AND pid = %lld "
    "WINDOW w AS (PARTITION BY address ORDER BY t_alloc_ns, id)) "
    "WHERE prev_id IS NOT NULL AND (prev_free IS NULL OR prev_free > t_alloc_ns)";

static void handoff(const char *name, int n, long m, long size, const char *const env[], int lossy) {
  const char *db = ft_tmp_path(ft_fmt("%s.db", name));
  ft_run r;
  ft_record(&r, db, env, NULL,
            FT_ARGV(ft_prog("handoff"), ft_fmt("%d", n), ft_fmt("%ld", m), ft_fmt("%ld", size)));
  ft_expect_status(&r, 0);
  ft_expect_eq("program's ok", ft_kv(r.out, "ok"), 1);
  print_message("[          ] %s: %d x %ld blocks of %ld bytes recorded in %.2f s\n", name, n, m, size, r.seconds);
  sqlite3 *d = ft_db_open(db);
  long long pid = ft_q_int(d, "SELECT pid FROM processes");
  long long dropped = ft_q_int(d, "SELECT events_dropped FROM processes");
  const char *rows = ft_fmt("FROM allocations WHERE size = %ld", size);
  if (lossy && dropped == 0) print_message("[          ] %s: nothing dropped: the exact checks apply\n", name);
  if (!lossy || dropped == 0) {
    ft_expect_eq("events_dropped", dropped, 0);
    ft_expect_eq("rows of the size", ft_q_int(d, "SELECT count(*) %s", rows), (long long)n * m);
    ft_expect_eq("allocating threads", ft_q_int(d, "SELECT count(DISTINCT tid) %s", rows), n);
    ft_expect_eq("threads with exactly M rows",
                 ft_q_int(d, "SELECT count(*) FROM (SELECT count(*) AS c %s GROUP BY tid) WHERE c = %ld", rows, m), n);
    ft_expect_eq("freed rows", ft_q_int(d, "SELECT count(*) %s AND t_free_ns IS NOT NULL", rows), (long long)n * m);
    ft_expect_eq("unmatched frees", ft_q_int(d, "SELECT unmatched_frees FROM processes"), 0);
    ft_expect_eq("anomalies", ft_q_int_or(d, 0, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'anomalies'"), 0);
  } else {
    /* Lossy: whatever was dropped is counted, the rest is still exact. */
    ft_expect_eq("rows + dropped >= N*M",
                 ft_q_int(d, "SELECT count(*) %s", rows) + dropped >= (long long)n * m, 1);
    ft_expect_true("rows <= N*M", ft_q_int(d, "SELECT count(*) %s", rows) <= (long long)n * m);
  }
  if (!lossy || dropped == 0) { /* (a dropped free makes the next allocation there end the row, in any thread) */
    ft_expect_eq("rows freed by their own thread (or no free_tid)",
                 ft_q_int(d, "SELECT count(*) %s AND t_free_ns IS NOT NULL AND (free_tid IS NULL OR free_tid = tid)",
                          rows), 0);
    ft_expect_eq("free_tid is one of the allocating threads",
                 ft_q_int(d, "SELECT count(*) %s AND free_tid NOT IN (SELECT DISTINCT tid %s)", rows, rows), 0);
  }
  ft_expect_eq("rows freed before allocated", ft_q_int(d, "SELECT count(*) %s AND t_free_ns < t_alloc_ns", rows), 0);
  long long overlaps = ft_q_int(d, overlap_sql, pid);
  if (overlaps) {
    ft_q_dump(d,
              "SELECT * FROM (SELECT id, address, tid, t_alloc_ns, t_free_ns, free_tid, LAG(id) OVER w AS prev_id, "
              "LAG(t_free_ns) OVER w AS prev_free FROM allocations WHERE kind != 'mmap' "
              "WINDOW w AS (PARTITION BY address ORDER BY t_alloc_ns, id)) "
              "WHERE prev_id IS NOT NULL AND (prev_free IS NULL OR prev_free > t_alloc_ns) LIMIT 10");
  }
  ft_expect_eq("overlapping lifetimes at one address", overlaps, 0);
  long long distinct = ft_q_int(d, "SELECT count(DISTINCT address) %s", rows);
  long long total = ft_q_int(d, "SELECT count(*) %s", rows);
  ft_expect_true("addresses were reused", distinct < total);
  print_message("[          ] %s: %lld rows at %lld distinct addresses, %lld dropped\n", name, total, distinct,
                dropped);
  sqlite3_close(d);
  ft_remove(db);
  ft_run_free(&r);
}

static void test_handoff_4x50000(void **state) {
  (void)state;
  handoff("handoff_4x50000", 4, 50000, 4242, NULL, 0);
}

/* 64 KiB rings (2048 events): the allocating threads fill them between two
** drains and must wait for the writer, losing nothing. */
static void test_handoff_small_rings(void **state) {
  (void)state;
  handoff("handoff_small_rings", 8, 15000, 4343, FT_ENV("FRAGTRACE_BUFFER_KB=64"), 0);
}

/* Frequent drains, two threads ping-ponging: the tightest reuse. */
static void test_handoff_pingpong(void **state) {
  (void)state;
  handoff("handoff_pingpong", 2, 60000, 4444, FT_ENV("FRAGTRACE_FLUSH_MS=1"), 0);
}

/* Lossy mode with tiny rings: drops are allowed, but counted, and what is
** kept is still consistent. */
static void test_handoff_lossy(void **state) {
  (void)state;
  handoff("handoff_lossy", 4, 20000, 4545, FT_ENV("FRAGTRACE_BUFFER_KB=64", "FRAGTRACE_LOSSY=1"), 1);
}

/* 200 short-lived threads in waves of 4: every thread's rows are there
** (their rings are drained after they exit, and reused by the next ones),
** including the free a pthread key destructor makes as the thread exits. */
static void test_short_lived_threads(void **state) {
  (void)state;
  const char *db = ft_tmp_path("shortthreads.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("shortthreads"), "50"));
  ft_expect_status(&r, 0);
  ft_expect_eq("threads made", ft_kv(r.out, "threads"), 200);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("threads in the trace", ft_q_int(d, "SELECT count(*) FROM threads"), 201);
  ft_expect_eq("distinct tids", ft_q_int(d, "SELECT count(DISTINCT tid) FROM threads"), 201);
  ft_expect_eq("2727 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2727"), 2000);
  ft_expect_eq("2727 freed", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2727 AND t_free_ns IS NOT NULL"),
               1000);
  ft_expect_eq("threads with 10 rows of 2727",
               ft_q_int(d, "SELECT count(*) FROM (SELECT tid, count(*) AS c FROM allocations WHERE size = 2727 "
                           "GROUP BY tid) WHERE c = 10"), 200);
  ft_expect_eq("2828 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2828"), 200);
  ft_expect_eq("2828 freed by their own thread at exit",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2828 AND free_tid = tid"), 200);
  ft_expect_eq("events_dropped", ft_q_int(d, "SELECT events_dropped FROM processes"), 0);
  ft_expect_eq("unmatched", ft_q_int(d, "SELECT unmatched_frees FROM processes"), 0);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* exit() from one thread while four others malloc/realloc/free without
** pause: status 6, no hang, and a consistent trace of what was recorded. */
static void test_exit_while_threads_allocate(void **state) {
  (void)state;
  const char *db = ft_tmp_path("exitbusy.db");
  for (int run = 0; run < 3; run++) {
    ft_run r;
    ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("exitbusy")));
    ft_expect_status(&r, 6);
    ft_expect_no_stderr(&r);
    sqlite3 *d = ft_db_open(db);
    ft_expect_eq("exit_status", ft_q_int(d, "SELECT exit_status FROM processes"), 6);
    assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes"), "exit");
    ft_expect_eq("unmatched frees", ft_q_int(d, "SELECT unmatched_frees FROM processes"), 0);
    ft_expect_eq("anomalies", ft_q_int_or(d, 0, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'anomalies'"), 0);
    long long a = ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5252");
    long long b = ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5353");
    ft_expect_true(ft_fmt("workers recorded (%lld)", a), a > 1000);
    /* Each 5353 row is the realloc of a 5252 row; at most one per worker in flight. */
    ft_expect_true(ft_fmt("5353 rows (%lld) vs 5252 rows (%lld)", b, a), b <= a && b >= a - 4);
    ft_expect_true("5252 rows live at exit <= 4",
                   ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5252 AND t_free_ns IS NULL") <= 4);
    ft_expect_true("5353 rows live at exit <= 4",
                   ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5353 AND t_free_ns IS NULL") <= 4);
    ft_expect_eq("5252 rows not ended by realloc in their own thread",
                 ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5252 AND free_tid != tid"), 0);
    sqlite3_close(d);
    ft_run_free(&r);
  }
  ft_remove(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handoff_4x50000),
      cmocka_unit_test(test_handoff_small_rings),
      cmocka_unit_test(test_handoff_pingpong),
      cmocka_unit_test(test_handoff_lossy),
      cmocka_unit_test(test_short_lived_threads),
      cmocka_unit_test(test_exit_while_threads_allocate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
