/*
** test_follow.c — `fragtrace record` while the program runs (issue 5):
** the production-mode options reaching the shim, a trace bounded by
** --max-size whose summaries stay exact and whose freed rows are a weighted
** 1-in-k sample of the whole run, a trace readable (and reported on)
** while the program still runs (--live), and the fixed window of follow
** mode. Counts come from tests/progs/follow_churn.c, which knows them.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* floor(sqrt(v)) (no libm). */
static long long isqrt(long long v) {
  long long r = 0;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

/* ft_thin_keeps (reporter/ft_follow.h), restated: whether freed row id is
** kept at 1 in k. */
static int thin_keeps(long long id, unsigned long long k) {
  unsigned long long x = (unsigned long long)id;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (x & (k - 1)) == 0;
}

/* --max-size 4M on a run whose full trace is many times bigger: the file
** stays under the limit all along; the freed rows kept are exactly those
** whose hashed id is 0 mod k (meta thin_keep), each weighted k, spread
** over the whole run, and their weights estimate the site's frees; what
** was left out is said (thinning table, meta, report); every live row and
** every summary is exact. */
static void test_bounded(void **state) {
  (void)state;
  const long n = 1500000;
  const char *db = ft_fmt("%s", ft_tmp_path("follow_bounded.db"));
  char dbp[512];
  snprintf(dbp, sizeof dbp, "%s", db);
  ft_run r;
  ft_remove(dbp);
  ft_start(&r, NULL,
           FT_ARGV(FT_BIN, "record", "-q", "-o", dbp, "--max-size", "4M", "--", ft_prog("follow_churn"), "churn",
                   "1500000"));
  /* The bound holds while recording, not only at the end. */
  struct stat st;
  long long biggest = 0;
  int looks = 0;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    /* WNOWAIT: it stays for ft_wait to collect */
    if (waitid(P_PID, (id_t)r.pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == r.pid) break;
    if (stat(dbp, &st) == 0) {
      looks++;
      if (st.st_size > biggest) biggest = st.st_size;
    }
    nap_ms(5);
  }
  ft_wait(&r, 300);
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  ft_expect_true("watched the trace grow", looks > 20);
  if (biggest > 4 << 20) fail_msg("trace reached %lld bytes while recording, over --max-size 4M", biggest);
  assert_int_equal(stat(dbp, &st), 0);
  if (st.st_size > 4 << 20) fail_msg("trace is %lld bytes, over --max-size 4M", (long long)st.st_size);
  ft_expect_true("no WAL left", !ft_exists(ft_fmt("%s-wal", dbp)));
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
  long long k = ft_q_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thin_keep'");
  ft_expect_eq("rows kept + left out = all rows", rows + thinned, all);
  ft_expect_eq("thinning table = meta",
               ft_q_int(d, "SELECT sum(rows_deleted) + sum(rows_unwritten) FROM thinning WHERE what = 'allocation_rows'"),
               thinned);
  ft_expect_eq("thinning table's last factor = meta", ft_q_int(d, "SELECT max(keep) FROM thinning"), k);
  ft_expect_true("a full trace would be several times the limit", thinned > 4 * rows);
  /* Most rows were never written at all (thinned at the source). */
  ft_expect_true("most left out unwritten",
                 ft_q_int(d, "SELECT sum(rows_unwritten) FROM thinning WHERE what = 'allocation_rows'") > thinned / 2);
  ft_expect_true("k is a power of two > 1", k > 1 && (k & (k - 1)) == 0);
  /* Every kept freed row is weighted k, and kept by its hashed id. */
  ft_expect_eq("freed rows weighted k",
               ft_q_int(d, "SELECT count(*) FROM allocation_rows WHERE lifetime IS NOT NULL AND weight IS NOT %lld", k),
               0);
  ft_expect_eq("live rows weigh 1",
               ft_q_int(d, "SELECT count(*) FROM allocation_rows WHERE lifetime IS NULL AND weight IS NOT NULL"), 0);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(d, "SELECT id FROM allocation_rows WHERE lifetime IS NOT NULL", -1, &q, NULL),
                   SQLITE_OK);
  long long kept = 0, unkept = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    if (thin_keeps(sqlite3_column_int64(q, 0), (unsigned long long)k)) kept++;
    else unkept++;
  }
  sqlite3_finalize(q);
  ft_expect_true("freed rows kept", kept > 0);
  ft_expect_eq("every kept freed row has a hashed id 0 mod k", unkept, 0);
  /* The weights estimate the site's n frees: the rows kept are those of
  ** the n freed whose hashed id is 0 mod k, about Binomial(n, 1/k) for a
  ** good hash, so k * kept is within 6 standard deviations,
  ** 6 sqrt(n k (1 - 1/k)) (0.2 % of n at k = 4, 1.5 % at k = 64). */
  long long est = ft_q_int(d, "SELECT CAST(sum(weight) AS INTEGER) FROM allocations WHERE size = 4321");
  long long bound = 6 * isqrt(n * (k - 1)) + 1; /* 6 sqrt(n k (1 - 1/k)) = 6 sqrt(n (k - 1)) */
  if (llabs(est - n) > bound)
    fail_msg("sum of weights %lld is off the %ld frees by more than %lld (k = %lld)", est, n, bound, k);
  /* A uniform sample of the whole run, not only its end: kept rows in its
  ** first and its last twentieth. */
  long long max_id = ft_q_int(d, "SELECT max(id) FROM allocation_rows");
  ft_expect_true("kept rows early in the run",
                 ft_q_int(d, "SELECT min(id) FROM allocation_rows WHERE size = 4321") < max_id / 20);
  ft_expect_true("kept rows late in the run",
                 ft_q_int(d, "SELECT max(id) FROM allocation_rows WHERE size = 4321") > max_id / 20 * 19);
  char want[64];
  snprintf(want, sizeof want, "kept 1 in %lld", k);
  sqlite3_close(d);
  /* The report says what was thinned. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", dbp));
  ft_expect_status(&r, 0);
  if (!strstr(r.out, "thinned") || !strstr(r.out, want))
    fail_msg("report does not say what was thinned (\"%s\"):\n%s", want, r.out);
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
** allocated so far, and `fragtrace report` works on it. The commit comes
** from --commit-ms, or (use_flush) only from `fragtrace ctl flush`: the
** shim's FLUSH chunk makes record commit at once. */
static void live_report(int use_flush) {
  char dir[512], db[512];
  snprintf(dir, sizeof dir, "%s", ft_tmp_path(use_flush ? "follow_flush.d" : "follow_live.d"));
  snprintf(db, sizeof db, "%s", ft_tmp_path(use_flush ? "follow_flush.db" : "follow_live.db"));
  mkdir(dir, 0755);
  char ready[600], go[600];
  snprintf(ready, sizeof ready, "%s/ready", dir);
  snprintf(go, sizeof go, "%s/go", dir);
  unlink(ready);
  unlink(go);
  ft_remove(db);
  ft_run rec;
  ft_start(&rec, NULL,
           FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--live", "--commit-ms", use_flush ? "3600000" : "100", "--",
                   ft_prog("follow_churn"), "wait", dir, "50"));
  long pid = -1;
  for (int i = 0; i < 2000 && (pid = read_int_file(ready)) <= 0; i++) nap_ms(10);
  ft_expect_true("program ready", pid > 0);
  if (use_flush) {
    ft_run ctl;
    ft_run_cmd(&ctl, NULL, FT_ARGV(FT_BIN, "ctl", "flush", ft_fmt("%ld", pid)));
    ft_expect_status(&ctl, 0);
    ft_run_free(&ctl);
  }
  /* A commit comes within a drain (100 ms) and a commit interval, or at
  ** once after the flush. */
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
  /* meta `command` comes at the end; meanwhile the process row names it */
  ft_expect_true("report names the command while recording", strstr(rep.out, "follow_churn wait ") != NULL);
  ft_run_free(&rep);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("nothing after the wait yet", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6666"), 0);
  ft_expect_eq("live rows are there as live", ft_q_int(d, "SELECT count(*) FROM leaks WHERE size = 5555"), 50);
  sqlite3_close(d);
  if (use_flush) { /* a flush also symbolizes what is there (just after its commit): a report has names */
    const char *fn = "";
    for (int i = 0; i < 200 && strcmp(fn, "main") != 0; i++) {
      nap_ms(50);
      d = ft_db_open(db);
      fn = ft_q_str(d, "SELECT c.function FROM call_sites c JOIN site_stats s USING (stack_id) "
                       "WHERE s.min_size = 5555 AND c.depth = 0");
      sqlite3_close(d);
    }
    assert_string_equal(fn, "main");
    ft_expect_true("program still running", kill((pid_t)pid, 0) == 0);
  }
  ft_write_file(go, "go\n");
  ft_wait(&rec, 60);
  ft_expect_status(&rec, 0);
  ft_run_free(&rec);
  d = ft_db_open(db);
  ft_expect_eq("final: before the wait", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5555"), 50);
  ft_expect_eq("final: after the wait", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6666"), 3);
  ft_expect_eq("one process", ft_q_int(d, "SELECT count(*) FROM processes"), 1);
  sqlite3_close(d);
  ft_expect_true("no WAL left", !ft_exists(ft_fmt("%s-wal", db)));
}

static void test_live_report(void **state) {
  (void)state;
  live_report(0);
}

static void test_flush_report(void **state) {
  (void)state;
  live_report(1);
}

/* --max-size smaller than the live set: freed rows alone cannot keep the
** trace under the limit, so the live rows are kept 1 in k_live too (weight
** k_live); the file stays under the limit while 200,000 blocks are live,
** the leak summary stays exact, the weighted leak rows estimate it, and the
** report says live rows were thinned. */
static void test_bounded_live_set(void **state) {
  (void)state;
  char dir[512], db[512], ready[600], go[600];
  snprintf(dir, sizeof dir, "%s", ft_tmp_path("follow_biglive.d"));
  snprintf(db, sizeof db, "%s", ft_tmp_path("follow_biglive.db"));
  mkdir(dir, 0755);
  snprintf(ready, sizeof ready, "%s/ready", dir);
  snprintf(go, sizeof go, "%s/go", dir);
  unlink(ready);
  unlink(go);
  ft_remove(db);
  const long long limit = 2 * 1024 * 1024, n = 200000;
  ft_run rec;
  ft_start(&rec, NULL,
           FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--max-size", "2M", "--commit-ms", "100", "--",
                   ft_prog("follow_churn"), "wait", dir, "200000"));
  long pid = -1;
  for (int i = 0; i < 3000 && (pid = read_int_file(ready)) <= 0; i++) nap_ms(10);
  ft_expect_true("program ready", pid > 0);
  /* Let a few commits (and thinning rounds) happen while all is live. */
  long long biggest = 0;
  for (int i = 0; i < 30; i++) {
    nap_ms(50);
    struct stat st;
    if (stat(db, &st) == 0 && st.st_size > biggest) biggest = st.st_size;
  }
  ft_write_file(go, "go\n");
  ft_wait(&rec, 120);
  ft_expect_status(&rec, 0);
  ft_run_free(&rec);
  struct stat st;
  ft_expect_true("trace exists", stat(db, &st) == 0);
  if (st.st_size > biggest) biggest = st.st_size;
  ft_expect_true(ft_fmt("trace stayed under the limit (largest seen %lld bytes)", biggest), biggest <= limit);
  sqlite3 *d = ft_db_open(db);
  long long kl = ft_q_int(d, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thin_keep_live'");
  ft_expect_true("live rows thinned", kl > 1 && (kl & (kl - 1)) == 0);
  ft_expect_eq("thinning names the live rows",
               ft_q_int(d, "SELECT count(*) > 0 FROM thinning WHERE what = 'live_allocation_rows'"), 1);
  ft_expect_eq("leak summary exact", ft_q_int(d, "SELECT sum(leaked) FROM site_stats WHERE min_size = 5555"), n);
  long long rows = ft_q_int(d, "SELECT count(*) FROM leaks WHERE size = 5555");
  ft_expect_true("fewer leak rows than leaks", rows < n);
  ft_expect_eq("every kept live row weighs k_live",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5555 AND t_free_ns IS NULL "
                           "AND weight != %lld", kl), 0);
  /* Uniform 1-in-k by a hash of the id: the weighted count is a binomial
  ** estimate, standard deviation sqrt(n (k - 1)). */
  double est = (double)rows * (double)kl, sd = sqrt((double)n * (double)(kl - 1));
  ft_expect_true(ft_fmt("weighted leak rows %.0f within 6 sd (%.0f) of %lld", est, sd, n),
                 fabs(est - (double)n) <= 6 * sd);
  sqlite3_close(d);
  ft_run rep;
  ft_run_cmd(&rep, NULL, FT_ARGV(FT_BIN, "report", db));
  ft_expect_status(&rep, 0);
  ft_expect_true("report says live rows were thinned",
                 strstr(rep.out, ft_fmt("live rows are kept 1 in %lld,", kl)) != NULL);
  ft_run_free(&rep);
}

/* --duration: the shim stops recording after it, record writes the trace
** and exits 0 while the program runs on untraced, and says its pid. */
static void test_duration(void **state) {
  (void)state;
  char dir[512], db[512], ready[600];
  snprintf(dir, sizeof dir, "%s", ft_tmp_path("follow_dur.d"));
  snprintf(db, sizeof db, "%s", ft_tmp_path("follow_dur.db"));
  mkdir(dir, 0755);
  snprintf(ready, sizeof ready, "%s/ready", dir);
  unlink(ready);
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--duration", "700ms"), FT_ARGV(ft_prog("follow_churn"), "forever", dir));
  ft_expect_status(&r, 0);
  long pid = read_int_file(ready);
  ft_expect_true("program started", pid > 0);
  ft_expect_eq("record names the program it leaves running", ft_kv(r.err, "pid"), pid);
  ft_expect_true("record ends long before the program", r.seconds < 60);
  int running = kill((pid_t)pid, 0) == 0;
  kill((pid_t)pid, SIGKILL); /* it would run for two minutes */
  ft_expect_true("the program still runs", running);
  ft_run_free(&r);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("one process, ended by stop",
               ft_q_int(d, "SELECT count(*) FROM processes WHERE ended_by = 'stop'"), 1);
  long long stop_t = ft_q_int(d, "SELECT t_ns FROM recording_control WHERE action = 'stop' AND source = 'duration'");
  ft_expect_true("stopped after about the duration", stop_t >= 700000000 && stop_t < 5000000000LL);
  long long n = ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 3333");
  ft_expect_true("recorded the churn until the stop", n >= 20);
  ft_expect_eq("every recorded row is in the summary",
               ft_q_int(d, "SELECT sum(allocations) FROM site_stats WHERE min_size = 3333"), n);
  ft_expect_true("nothing recorded after the stop",
                 ft_q_int(d, "SELECT max(t_alloc_ns) FROM allocations WHERE size = 3333") <= stop_t);
  sqlite3_close(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_options_reach_shim),
      cmocka_unit_test(test_bounded),
      cmocka_unit_test(test_bounded_live_set),
      cmocka_unit_test(test_live_report),
      cmocka_unit_test(test_flush_report),
      cmocka_unit_test(test_duration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
