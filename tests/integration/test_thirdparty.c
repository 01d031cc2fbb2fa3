/*
** test_thirdparty.c — a real program we did not write: Debian's sqlite3 CLI
** running a script (create a table, 20000 inserts in one transaction, a
** query, drop) under `fragtrace record`. We cannot know its exact
** allocations, but the trace must be consistent with itself: every free
** matched, no row freed before it was made, live-heap samples equal to what
** the rows say.
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_itest.h"

#define ROWS 20000

static const char *find_sqlite3(void) {
  static const char *const cands[] = {"/usr/bin/sqlite3", "/bin/sqlite3", "/usr/local/bin/sqlite3"};
  for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
    if (access(cands[i], X_OK) == 0) return cands[i];
  return NULL;
}

static void test_sqlite3_cli(void **state) {
  (void)state;
  const char *cli = find_sqlite3();
  if (!cli) skip();
  const char *script = ft_tmp_path("sqlite_script.sql");
  const char *work = ft_tmp_path("sqlite_work.sqlite");
  ft_remove(work);
  size_t cap = (size_t)ROWS * 80 + 4096, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  n += (size_t)snprintf(text + n, cap - n, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);\nBEGIN;\n");
  for (int i = 0; i < ROWS; i++)
    n += (size_t)snprintf(text + n, cap - n, "INSERT INTO t(name, v) VALUES ('row-%d-%x', %d.5);\n", i, i * 2654435761u, i);
  n += (size_t)snprintf(text + n, cap - n,
                        "COMMIT;\nSELECT count(*), sum(length(name)) FROM t WHERE v > 100;\nDROP TABLE t;\n");
  ft_write_file(script, text);
  free(text);

  const char *db = ft_tmp_path("sqlite3cli.db");
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--sample-ms", "10"), FT_ARGV(cli, work, ft_fmt(".read %s", script)));
  ft_expect_status(&r, 0);
  ft_expect_true(ft_fmt("query result (%s)", r.out), strncmp(r.out, "19900|", 6) == 0);
  print_message("[          ] sqlite3 CLI recorded in %.2f s\n", r.seconds);

  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("processes", ft_q_int(d, "SELECT count(*) FROM processes"), 1);
  long long p = ft_q_int(d, "SELECT proc FROM processes");
  ft_expect_eq("exit_status", ft_q_int(d, "SELECT exit_status FROM processes"), 0);
  ft_expect_eq("unmatched_frees", ft_q_int(d, "SELECT unmatched_frees FROM processes"), 0);
  ft_expect_eq("events_dropped", ft_q_int(d, "SELECT events_dropped FROM processes"), 0);
  ft_expect_eq("anomalies", ft_q_int_or(d, 0, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'anomalies'"), 0);
  long long allocs = ft_q_int(d, "SELECT count(*) FROM allocations");
  long long frees = ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns IS NOT NULL");
  print_message("[          ] %lld allocations, %lld freed\n", allocs, frees);
  ft_expect_true(ft_fmt("more than 10000 allocations (%lld)", allocs), allocs > 10000);
  ft_expect_true("frees <= allocations", frees <= allocs);
  ft_expect_eq("rows freed before made", ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns < t_alloc_ns"), 0);
  ft_expect_eq("lifetime = t_free - t_alloc",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE lifetime_ns IS NOT t_free_ns - t_alloc_ns"), 0);
  ft_expect_eq("freed rows without free_tid",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns IS NOT NULL AND free_tid IS NULL"), 0);
  ft_expect_eq("rows of unknown stacks",
               ft_q_int(d, "SELECT count(*) FROM allocations a LEFT JOIN stacks s ON s.stack_id = a.stack_id "
                           "WHERE a.stack_id IS NOT NULL AND s.stack_id IS NULL"), 0);
  ft_expect_eq("rows allocated after the process ended",
               ft_q_int(d, "SELECT count(*) FROM allocations a, processes p WHERE a.t_alloc_ns > p.end_ns "
                           "OR a.t_free_ns > p.end_ns"), 0);
  /* Heap rows never overlap at one address. */
  ft_expect_eq("overlapping heap rows",
               ft_q_int(d, "SELECT count(*) FROM (SELECT t_alloc_ns, LAG(id) OVER w AS prev_id, LAG(t_free_ns) OVER w "
                           "AS prev_free FROM allocations WHERE kind != 'mmap' "
                           "WINDOW w AS (PARTITION BY address ORDER BY t_alloc_ns, id)) "
                           "WHERE prev_id IS NOT NULL AND (prev_free IS NULL OR prev_free > t_alloc_ns)"), 0);
  /* Samples: present, sane, and the live heap they report is the rows'. */
  long long samples = ft_q_int(d, "SELECT count(*) FROM process_samples WHERE proc = %lld", p);
  ft_expect_true(ft_fmt("process samples (%lld)", samples), samples >= 2);
  ft_expect_eq("negative live_bytes", ft_q_int(d, "SELECT count(*) FROM process_samples WHERE live_bytes < 0"), 0);
  ft_expect_eq("samples without rss", ft_q_int(d, "SELECT count(*) FROM process_samples WHERE rss_bytes <= 0"), 0);
  static const char live_sql[] =
      "SELECT s.live_bytes - (SELECT coalesce(sum(a.size), 0) FROM allocations a WHERE a.proc = s.proc "
      "AND a.t_alloc_ns <= s.t_ns AND (a.t_free_ns IS NULL OR a.t_free_ns > s.t_ns)) FROM process_samples s "
      "WHERE s.proc = %lld ORDER BY s.t_ns DESC LIMIT 1";
  static const char count_sql[] =
      "SELECT s.live_allocations - (SELECT count(*) FROM allocations a WHERE a.proc = s.proc "
      "AND a.t_alloc_ns <= s.t_ns AND (a.t_free_ns IS NULL OR a.t_free_ns > s.t_ns)) FROM process_samples s "
      "WHERE s.proc = %lld ORDER BY s.t_ns DESC LIMIT 1";
  ft_expect_eq("last sample's live_bytes minus the rows live then", ft_q_int(d, live_sql, p), 0);
  ft_expect_eq("last sample's live_allocations minus the rows live then", ft_q_int(d, count_sql, p), 0);
  /* And every sample (a middle one tests the sweep, not just the end state). */
  ft_expect_eq("samples whose live_bytes disagree with the rows",
               ft_q_int(d, "SELECT count(*) FROM process_samples s WHERE s.proc = %lld AND s.live_bytes != "
                           "(SELECT coalesce(sum(a.size), 0) FROM allocations a WHERE a.proc = s.proc "
                           "AND a.t_alloc_ns <= s.t_ns AND (a.t_free_ns IS NULL OR a.t_free_ns > s.t_ns))", p), 0);
  ft_expect_true("some sample saw a live heap",
                 ft_q_int(d, "SELECT max(live_bytes) FROM process_samples WHERE proc = %lld", p) > 0);
  ft_expect_true("buddyinfo samples", ft_q_int(d, "SELECT count(*) FROM buddyinfo_samples") > 0);
  /* sqlite3 is symbolized: some frames resolve to sqlite3 functions. */
  ft_expect_true("frames in libsqlite3 with names",
                 ft_q_int(d, "SELECT count(*) FROM call_sites WHERE module GLOB '*libsqlite3*' AND function GLOB 'sqlite3*'") > 0);
  sqlite3_close(d);
  ft_remove(work);
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sqlite3_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
