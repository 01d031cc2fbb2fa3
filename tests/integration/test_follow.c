/*
** test_follow.c — `fragtrace record` while the program runs (issue 5):
** the production-mode options reaching the shim, a trace bounded by
** --max-size whose summaries stay exact, a trace readable (and reported on)
** while the program still runs (--live), and the fixed window of follow
** mode. Counts come from tests/progs/follow_churn.c, which knows them.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ft_itest.h"

static void expect_one_line(const ft_run *r) {
  if (ft_count_lines(r->err) != 1 || strncmp(r->err, "fragtrace:", 10) != 0)
    fail_msg("expected exactly one 'fragtrace:' line on stderr, got:\n%s", r->err);
}

/* Sleep ms milliseconds. */
static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Bad values: refused before anything runs, one line, status 125, no trace. */
static void test_bad_options(void **state) {
  (void)state;
  static const char *const bad[][2] = {
      {"--max-size", "0"},       {"--max-size", "4X"},     {"--max-size", "-1"},  {"--sample-bytes", "1Q"},
      {"--seed", "x"},           {"--seed", "-3"},         {"--delay", "5 min"},  {"--duration", "0"},
      {"--duration", "10days"},  {"--signal", "KILL"},     {"--signal", "RTMIN+999"}, {"--commit-ms", "5"},
      {"--window-ms", "0"},      {"--window-ms", "99999999"}};
  const char *db = ft_tmp_path("follow_bad.db");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ft_remove(db);
    ft_run r;
    ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record", "-o", db, bad[i][0], bad[i][1], "--", "true"));
    if (r.status != 125) fail_msg("%s %s: status %d, stderr:\n%s", bad[i][0], bad[i][1], r.status, r.err);
    expect_one_line(&r);
    ft_expect_true("no trace", !ft_exists(db));
    ft_run_free(&r);
  }
  /* The limit from the environment is checked the same way. */
  ft_run r;
  ft_run_cmd(&r, FT_ENV("FRAGTRACE_MAX_SIZE=lots"), FT_ARGV(FT_BIN, "record", "-o", db, "--", "true"));
  ft_expect_status(&r, 125);
  expect_one_line(&r);
  ft_run_free(&r);
}

/* Every option reaches the shim as the documented variable (the program
** prints its environment); --max-size and FRAGTRACE_MAX_SIZE do not. */
static void test_options_reach_shim(void **state) {
  (void)state;
  const char *db = ft_tmp_path("follow_env.db");
  ft_run r;
  ft_record(&r, db, FT_ENV("FRAGTRACE_MAX_SIZE=9M"),
            FT_ARGV("--sample-bytes", "4K", "--seed", "42", "--paused", "--delay", "1500ms", "--duration", "2m",
                    "--signal", "USR2", "--max-size", "8MiB"),
            FT_ARGV("sh", "-c",
                    "echo sb=$FRAGTRACE_SAMPLE_BYTES seed=$FRAGTRACE_SEED paused=$FRAGTRACE_PAUSED "
                    "delay=$FRAGTRACE_DELAY_MS dur=$FRAGTRACE_DURATION_MS sig=$FRAGTRACE_SIGNAL "
                    "max=${FRAGTRACE_MAX_SIZE:-1}"));
  ft_expect_status(&r, 0);
  ft_expect_eq("sample bytes", ft_kv(r.out, "sb"), 4096);
  ft_expect_eq("seed", ft_kv(r.out, "seed"), 42);
  ft_expect_eq("paused", ft_kv(r.out, "paused"), 1);
  ft_expect_eq("delay", ft_kv(r.out, "delay"), 1500);
  ft_expect_eq("duration", ft_kv(r.out, "dur"), 120000);
  ft_expect_eq("signal", ft_kv(r.out, "sig"), SIGUSR2);
  ft_expect_eq("max size not passed", ft_kv(r.out, "max"), 1);
  ft_run_free(&r);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("meta max_size", ft_q_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'max_size'"),
               8 << 20);
  /* Follow mode fixes the window: 1 s unless --window-ms says otherwise. */
  ft_expect_eq("window", ft_q_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'window_ns'"),
               1000000000);
  sqlite3_close(d);
  ft_record(&r, db, NULL, FT_ARGV("--window-ms", "250"), FT_ARGV(ft_prog("follow_churn"), "churn", "3000"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  d = ft_db_open(db);
  ft_expect_eq("window", ft_q_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'window_ns'"),
               250000000);
  ft_expect_eq("windows sum to the site's count",
               ft_q_int(d, "SELECT sum(w.allocations) FROM site_windows w JOIN site_stats s USING (stack_id) "
                           "WHERE s.min_size = 4321 AND s.max_size = 4321"),
               3000);
  sqlite3_close(d);
}

/* --max-size 4M on a run whose full trace is many times bigger: the file
** stays under the limit, the oldest freed rows are gone (and said so),
** every live row and every summary is exact. */
static void test_bounded(void **state) {
  (void)state;
  const long n = 1500000;
  const char *db = ft_fmt("%s", ft_tmp_path("follow_bounded.db"));
  char dbp[512];
  snprintf(dbp, sizeof dbp, "%s", db);
  ft_run r;
  ft_record(&r, dbp, NULL, FT_ARGV("--max-size", "4M"), FT_ARGV(ft_prog("follow_churn"), "churn", "1500000"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  struct stat st;
  assert_int_equal(stat(dbp, &st), 0);
  if (st.st_size > 4 << 20) fail_msg("trace is %lld bytes, over --max-size 4M", (long long)st.st_size);
  sqlite3 *d = ft_db_open(dbp);
  const char *churn = "min_size = 4321 AND max_size = 4321", *keep = "min_size = 777 AND max_size = 777";
  ft_expect_eq("churn allocations", ft_q_int(d, "SELECT sum(allocations) FROM site_stats WHERE %s", churn), n);
  ft_expect_eq("churn frees", ft_q_int(d, "SELECT sum(frees) FROM site_stats WHERE %s", churn), n);
  ft_expect_eq("churn bytes", ft_q_int(d, "SELECT sum(bytes) FROM site_stats WHERE %s", churn), n * 4321);
  ft_expect_eq("keep allocations", ft_q_int(d, "SELECT sum(allocations) FROM site_stats WHERE %s", keep),
               n / 1000);
  ft_expect_eq("keep leaked", ft_q_int(d, "SELECT sum(leaked) FROM site_stats WHERE %s", keep), n / 1000);
  ft_expect_eq("window sums stay exact",
               ft_q_int(d, "SELECT sum(w.allocations) FROM site_windows w JOIN site_stats s USING (stack_id) "
                           "WHERE s.%s",
                        churn),
               n);
  /* Live rows (the leaks) are never thinned. */
  ft_expect_eq("leak rows kept", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 777 AND lifetime_ns IS NULL"),
               n / 1000);
  long long rows = ft_q_int(d, "SELECT count(*) FROM allocation_rows");
  long long all = ft_q_int(d, "SELECT sum(allocations) FROM process_stats");
  long long thinned = ft_q_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thinned_rows'");
  ft_expect_eq("rows kept + thinned = all rows", rows + thinned, all);
  ft_expect_eq("thinning table = meta",
               ft_q_int(d, "SELECT sum(rows_deleted) FROM thinning WHERE what = 'allocation_rows'"), thinned);
  ft_expect_true("a full trace would be several times the limit", thinned > 4 * rows);
  /* Oldest first: every row kept that was freed comes after every thinned one. */
  ft_expect_true("oldest thinned first",
                 ft_q_int(d, "SELECT min(id) FROM allocation_rows WHERE lifetime IS NOT NULL") >
                     ft_q_int(d, "SELECT max(last_id) FROM thinning WHERE what = 'allocation_rows'"));
  sqlite3_close(d);
  /* The report says what was thinned. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", dbp));
  ft_expect_status(&r, 0);
  if (!strstr(r.out, "thinned")) fail_msg("report does not mention the thinning:\n%s", r.out);
  ft_run_free(&r);
}

/* Read an integer from a file, -1 when it is not there yet. */
static long read_int_file(const char *path) {
  char *s = ft_read_file(path);
  long v = s ? atol(s) : -1;
  free(s);
  return v;
}

/* --live: while the program waits, the trace at the output holds what it
** allocated so far, and `fragtrace report` works on it. */
static void test_live_report(void **state) {
  (void)state;
  char dir[512], db[512];
  snprintf(dir, sizeof dir, "%s", ft_tmp_path("follow_live.d"));
  snprintf(db, sizeof db, "%s", ft_tmp_path("follow_live.db"));
  mkdir(dir, 0755);
  char ready[600], go[600];
  snprintf(ready, sizeof ready, "%s/ready", dir);
  snprintf(go, sizeof go, "%s/go", dir);
  unlink(ready);
  unlink(go);
  ft_remove(db);
  ft_run rec;
  ft_start(&rec, NULL,
           FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--live", "--commit-ms", "100", "--",
                   ft_prog("follow_churn"), "wait", dir, "50"));
  long pid = -1;
  for (int i = 0; i < 2000 && (pid = read_int_file(ready)) <= 0; i++) nap_ms(10);
  ft_expect_true("program ready", pid > 0);
  /* A commit comes within a drain (100 ms) and a commit interval. */
  long long got = -1;
  for (int i = 0; i < 300 && got != 50; i++) {
    nap_ms(50);
    if (!ft_exists(db)) continue;
    sqlite3 *d = NULL;
    if (sqlite3_open_v2(db, &d, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
      sqlite3_stmt *q;
      if (sqlite3_prepare_v2(d, "SELECT count(*) FROM allocations WHERE size = 5555", -1, &q, NULL) ==
              SQLITE_OK &&
          sqlite3_step(q) == SQLITE_ROW)
        got = sqlite3_column_int64(q, 0);
      sqlite3_finalize(q);
    }
    sqlite3_close(d);
  }
  ft_expect_eq("allocations so far, while the program runs", got, 50);
  ft_expect_true("program still running", kill((pid_t)pid, 0) == 0);
  ft_run rep;
  ft_run_cmd(&rep, NULL, FT_ARGV(FT_BIN, "report", db));
  ft_expect_status(&rep, 0);
  ft_expect_true("report has content", strlen(rep.out) > 0);
  ft_run_free(&rep);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("nothing after the wait yet", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6666"), 0);
  sqlite3_close(d);
  ft_write_file(go, "go\n");
  ft_wait(&rec, 60);
  ft_expect_status(&rec, 0);
  ft_run_free(&rec);
  d = ft_db_open(db);
  ft_expect_eq("final: before the wait", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5555"), 50);
  ft_expect_eq("final: after the wait", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6666"), 3);
  ft_expect_eq("one process", ft_q_int(d, "SELECT count(*) FROM processes"), 1);
  sqlite3_close(d);
  ft_expect_true("no side file left", !ft_exists(ft_fmt("%s.live", db)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_options_reach_shim),
      cmocka_unit_test(test_bounded),
      cmocka_unit_test(test_live_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
