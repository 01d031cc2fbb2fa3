/*
** test_process.c — the process tree: fork (tests/progs/forker.c), exec
** (tests/progs/execer.c -> exec_target.c, and bash -> python3), and a
** traced program killed with SIGKILL (tests/progs/slowalloc.c).
*/
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft_itest.h"

static void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void test_fork(void **state) {
  (void)state;
  const char *db = ft_tmp_path("fork.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("forker")));
  ft_expect_status(&r, 0);
  long long parent = ft_kv(r.out, "parent"), child = ft_kv(r.out, "child");
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("processes", ft_q_int(d, "SELECT count(*) FROM processes"), 2);
  ft_expect_eq("parent image", ft_q_int(d, "SELECT count(*) FROM processes WHERE pid = %lld", parent), 1);
  ft_expect_eq("child image", ft_q_int(d, "SELECT count(*) FROM processes WHERE pid = %lld", child), 1);
  long long pproc = ft_q_int(d, "SELECT proc FROM processes WHERE pid = %lld", parent);
  long long cproc = ft_q_int(d, "SELECT proc FROM processes WHERE pid = %lld", child);
  ft_expect_true("parent's key comes first", pproc < cproc);
  ft_expect_eq("child's ppid", ft_q_int(d, "SELECT ppid FROM processes WHERE proc = %lld", cproc), parent);
  ft_expect_eq("child's parent_proc", ft_q_int(d, "SELECT parent_proc FROM processes WHERE proc = %lld", cproc), pproc);
  ft_expect_eq("parent has no parent_proc",
               ft_q_int(d, "SELECT parent_proc IS NULL FROM processes WHERE proc = %lld", pproc), 1);
  ft_expect_eq("child's exit_status", ft_q_int(d, "SELECT exit_status FROM processes WHERE proc = %lld", cproc), 7);
  ft_expect_eq("parent's exit_status", ft_q_int(d, "SELECT exit_status FROM processes WHERE proc = %lld", pproc), 0);
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes WHERE proc = %lld", cproc), "exit");
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes WHERE proc = %lld", pproc), "exit");
  /* Threads belong to their own process. */
  ft_expect_eq("child's threads", ft_q_int(d, "SELECT count(*) FROM threads WHERE proc = %lld", cproc), 1);
  ft_expect_eq("child's thread tid", ft_q_int(d, "SELECT tid FROM threads WHERE proc = %lld", cproc), child);
  ft_expect_eq("threads with the wrong pid",
               ft_q_int(d, "SELECT count(*) FROM threads t JOIN processes p ON p.proc = t.proc WHERE t.pid != p.pid"), 0);

  /* The child's rows: 7171 x3, two freed; none of the parent's sizes. */
  ft_expect_eq("7171 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7171"), 3);
  ft_expect_eq("7171 rows in the child",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7171 AND pid = %lld AND proc = %lld", child,
                        cproc), 3);
  ft_expect_eq("7171 rows freed",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7171 AND t_free_ns IS NOT NULL"), 2);
  ft_expect_eq("child rows of the parent's sizes",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE proc = %lld AND size IN (3131, 3232)", cproc), 0);
  /* The parent's rows: 3131 x2 (one freed before the fork, one live), 3232 once. */
  ft_expect_eq("3131 rows in the parent",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 3131 AND pid = %lld", parent), 2);
  ft_expect_eq("3131 live in the parent",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 3131 AND t_free_ns IS NULL"), 1);
  ft_expect_eq("3232 rows in the parent",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 3232 AND pid = %lld AND t_free_ns IS NOT NULL",
                        parent), 1);
  /* The child freed the inherited block: unknown to its own trace. */
  ft_expect_eq("child's unmatched frees",
               ft_q_int(d, "SELECT unmatched_frees FROM processes WHERE proc = %lld", cproc), 1);
  ft_expect_eq("parent's unmatched frees",
               ft_q_int(d, "SELECT unmatched_frees FROM processes WHERE proc = %lld", pproc), 0);
  /* Stacks are per image. */
  ft_expect_eq("child rows with a stack of another image",
               ft_q_int(d, "SELECT count(*) FROM allocations a JOIN stacks s ON s.stack_id = a.stack_id "
                           "WHERE s.proc != a.proc"), 0);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* 200 forks while three threads allocate: no child hangs or loses its rows,
** none inherits the parent's, each has its own status (exit or _exit). */
static void test_fork_while_threads_allocate(void **state) {
  (void)state;
  const char *db = ft_tmp_path("forkstorm.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("forkstorm"), "200"));
  ft_expect_status(&r, 0);
  ft_expect_eq("children", ft_kv(r.out, "children"), 200);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("processes", ft_q_int(d, "SELECT count(*) FROM processes"), 201);
  long long parent = ft_q_int(d, "SELECT proc FROM processes WHERE parent_proc IS NULL");
  ft_expect_eq("children of the parent", ft_q_int(d, "SELECT count(*) FROM processes WHERE parent_proc = %lld", parent),
               200);
  /* Keys follow start order, so child i is the i-th key after the parent. */
  ft_expect_eq("children with their own exit status",
               ft_q_int(d, "SELECT count(*) FROM (SELECT exit_status, ROW_NUMBER() OVER (ORDER BY proc) - 1 AS i "
                           "FROM processes WHERE parent_proc = %lld) WHERE exit_status = i %% 100", parent), 200);
  ft_expect_eq("children ended by exit",
               ft_q_int(d, "SELECT count(*) FROM processes WHERE parent_proc = %lld AND ended_by = 'exit'", parent), 200);
  ft_expect_eq("4747 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 4747"), 600);
  ft_expect_eq("children with exactly 3 rows of 4747 (one freed)",
               ft_q_int(d, "SELECT count(*) FROM (SELECT proc, count(*) AS c, count(t_free_ns) AS f FROM allocations "
                           "WHERE size = 4747 GROUP BY proc) WHERE c = 3 AND f = 1 AND proc != %lld", parent), 200);
  ft_expect_eq("worker rows in a child",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 4646 AND proc != %lld", parent), 0);
  ft_expect_eq("child rows of another thread than the child's",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE proc != %lld AND tid != pid", parent), 0);
  ft_expect_eq("unmatched frees", ft_q_int(d, "SELECT sum(unmatched_frees) FROM processes"), 0);
  ft_expect_eq("events dropped", ft_q_int(d, "SELECT sum(events_dropped) FROM processes"), 0);
  ft_expect_true("the workers allocated", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 4646") > 1000);
  ft_expect_eq("worker rows live at exit",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 4646 AND t_free_ns IS NULL"), 0);
  sqlite3_close(d);
  ft_remove(db);
  ft_run_free(&r);
}

static void test_exec(void **state) {
  (void)state;
  const char *db = ft_tmp_path("exec.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("execer"), ft_prog("exec_target")));
  ft_expect_status(&r, 5); /* exec_target's status */
  long long pid = ft_kv(r.out, "pid");
  ft_expect_eq("same pid after exec", ft_kv(strstr(r.out, "\n") + 1, "pid"), pid);
  char exe_a[PATH_MAX], exe_b[PATH_MAX];
  assert_non_null(realpath(ft_prog("execer"), exe_a));
  assert_non_null(realpath(ft_prog("exec_target"), exe_b));
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("images", ft_q_int(d, "SELECT count(*) FROM processes"), 2);
  ft_expect_eq("images with the pid", ft_q_int(d, "SELECT count(*) FROM processes WHERE pid = %lld", pid), 2);
  long long a = ft_q_int(d, "SELECT proc FROM processes WHERE exe = '%s'", exe_a);
  long long b = ft_q_int(d, "SELECT proc FROM processes WHERE exe = '%s'", exe_b);
  ft_expect_true("distinct proc keys, in order", a < b);
  ft_expect_eq("exec_from of the new image", ft_q_int(d, "SELECT exec_from FROM processes WHERE proc = %lld", b), a);
  ft_expect_eq("the first image has no exec_from",
               ft_q_int(d, "SELECT exec_from IS NULL FROM processes WHERE proc = %lld", a), 1);
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes WHERE proc = %lld", a), "exec");
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes WHERE proc = %lld", b), "exit");
  ft_expect_eq("exit_status of the new image", ft_q_int(d, "SELECT exit_status FROM processes WHERE proc = %lld", b), 5);
  ft_expect_eq("the replaced image has no exit status",
               ft_q_int(d, "SELECT exit_status IS NULL FROM processes WHERE proc = %lld", a), 1);
  ft_expect_true("cmdline of the new image",
                 strstr(ft_q_str(d, "SELECT cmdline FROM processes WHERE proc = %lld", b), "exec_target") != NULL);
  /* Rows go to the image that made them. */
  ft_expect_eq("1212 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 1212"), 3);
  ft_expect_eq("1212 rows in the first image",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 1212 AND proc = %lld", a), 3);
  ft_expect_eq("1212 freed", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 1212 AND t_free_ns IS NOT NULL"),
               1);
  ft_expect_eq("2323 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2323"), 4);
  ft_expect_eq("2323 rows in the new image",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2323 AND proc = %lld AND t_free_ns IS NOT NULL",
                        b), 4);
  ft_expect_eq("unmatched frees", ft_q_int(d, "SELECT sum(unmatched_frees) FROM processes"), 0);
  /* Symbols are per image too: each image's own main. */
  assert_string_equal(ft_q_str(d, "SELECT c.module FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id "
                                  "AND c.depth = 0 WHERE a.size = 1212 LIMIT 1"), exe_a);
  assert_string_equal(ft_q_str(d, "SELECT c.module FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id "
                                  "AND c.depth = 0 WHERE a.size = 2323 LIMIT 1"), exe_b);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* Short-lived processes end when they exit, not an interval later: a stop
** that reached the sampler during its first pass (which always runs) used to
** leave it asleep until its next sample, ~90 ms, and every exec'd /bin/true
** of a shell loop waited that long (ended at ~95 ms instead of ~5 ms). The
** exit record's time says when the final flush was done. */
static void test_short_lived_processes_exit_promptly(void **state) {
  (void)state;
  const char *db = ft_tmp_path("shortlived.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done"));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("ten /bin/true images",
               ft_q_int(d, "SELECT count(*) FROM processes WHERE exe LIKE '%%/true' AND ended_by = 'exit'"), 10);
  long long slow = ft_q_int(d, "SELECT count(*) FROM processes WHERE exe LIKE '%%/true' AND end_ns >= 60000000");
  if (slow > 2) ft_q_dump(d, "SELECT pid, exe, end_ns FROM processes");
  /* One or two may be slow on a loaded machine; the bug made all ten slow. */
  ft_expect_true("at most 2 of 10 short processes took 60 ms or more to end", slow <= 2);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* A failed execve is not the end of the image: the EXEC mark it left is
** followed by more allocations and then a successful exec. */
static void test_exec_failed_then_exec(void **state) {
  (void)state;
  const char *db = ft_tmp_path("exec_fail.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("execer"), "/nonexistent/program", ft_prog("exec_target")));
  ft_expect_status(&r, 5);
  ft_expect_eq("the first exec failed", ft_kv(r.out, "exec_failed"), 1);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("images", ft_q_int(d, "SELECT count(*) FROM processes"), 2);
  long long a = ft_q_int(d, "SELECT proc FROM processes WHERE exe GLOB '*/execer'");
  long long b = ft_q_int(d, "SELECT proc FROM processes WHERE exe GLOB '*/exec_target'");
  ft_expect_eq("exec_from", ft_q_int(d, "SELECT exec_from FROM processes WHERE proc = %lld", b), a);
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes WHERE proc = %lld", a), "exec");
  ft_expect_eq("1212 rows of the first image",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 1212 AND proc = %lld", a), 3);
  ft_expect_eq("1313 rows (after the failed exec) of the first image",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 1313 AND proc = %lld", a), 2);
  ft_expect_eq("1313 freed", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 1313 AND t_free_ns IS NOT NULL"),
               1);
  ft_expect_eq("2323 rows of the second image",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 2323 AND proc = %lld", b), 4);
  ft_expect_eq("unmatched frees", ft_q_int(d, "SELECT sum(unmatched_frees) FROM processes"), 0);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* bash -c with one command execs it (same pid); python3 is traced, with the
** bytearrays as heap rows (CPython asks malloc for 5555 + 1 bytes and
** some header, so look for a range). */
static void test_exec_python(void **state) {
  (void)state;
  if (access("/usr/bin/python3", X_OK) != 0 || access("/bin/bash", X_OK) != 0) skip();
  const char *db = ft_tmp_path("python.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL,
            FT_ARGV("bash", "-c", "python3 -c 'x=[bytearray(5555) for _ in range(10)]; print(len(x))'"));
  ft_expect_status(&r, 0);
  assert_string_equal(r.out, "10\n");
  sqlite3 *d = ft_db_open(db);
  long long py = ft_q_int_or(d, 0, "SELECT proc FROM processes WHERE exe GLOB '*/python3.[0-9]*' LIMIT 1");
  if (!py) ft_q_dump(d, "SELECT proc, pid, exe, cmdline, exec_from FROM processes");
  ft_expect_true("a python3 image", py != 0);
  ft_expect_eq("python3 exited 0", ft_q_int(d, "SELECT exit_status FROM processes WHERE proc = %lld", py), 0);
  ft_expect_true("python3 allocated a lot",
                 ft_q_int(d, "SELECT count(*) FROM allocations WHERE proc = %lld", py) > 1000);
  long long n = ft_q_int(d, "SELECT count(*) FROM allocations WHERE proc = %lld AND size BETWEEN 5556 AND 5700", py);
  if (n < 10) ft_q_dump(d, "SELECT size, kind, count(*) FROM allocations WHERE proc = %lld AND size BETWEEN 5000 AND 6000 "
                           "GROUP BY size, kind", py);
  ft_expect_true("the ten bytearrays", n >= 10);
  /* bash was traced too, and python3 replaced it (or a bash child). */
  long long bash = ft_q_int_or(d, 0, "SELECT proc FROM processes WHERE exe GLOB '*/bash' LIMIT 1");
  ft_expect_true("a bash image", bash != 0);
  ft_expect_eq("python3's exec_from is bash",
               ft_q_int(d, "SELECT count(*) FROM processes p JOIN processes q ON q.proc = p.exec_from "
                           "WHERE p.proc = %lld AND q.exe GLOB '*/bash'", py), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* Start `record -o db -- slowalloc pidfile` (db and pidfile removed first)
** and wait until the program wrote its pid there; returns that pid. */
static long start_slowalloc(ft_run *r, const char *db, const char *pidfile) {
  ft_remove(db);
  unlink(pidfile);
  ft_start(r, NULL, FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--", ft_prog("slowalloc"), pidfile));
  char *text = NULL;
  for (int i = 0; i < 1000 && !(text = ft_read_file(pidfile)); i++) sleep_s(0.01);
  if (!text) {
    kill(-r->pid, SIGKILL);
    ft_wait(r, 10);
    fail_msg("slowalloc wrote no pid file\n%s", r->err);
  }
  long target = strtol(text, NULL, 10);
  free(text);
  return target;
}

static void test_sigkill(void **state) {
  (void)state;
  const char *db = ft_tmp_path("kill.db");
  const char *pidfile = ft_tmp_path("kill.pid");
  ft_run r;
  long target = start_slowalloc(&r, db, pidfile);
  ft_expect_true("target is not record itself", target > 0 && target != r.pid);
  sleep_s(1.5);
  ft_expect_eq("kill", kill((pid_t)target, SIGKILL), 0);
  ft_wait(&r, 60);
  ft_expect_status(&r, 128 + SIGKILL);

  sqlite3 *d = ft_db_open(db);
  assert_string_equal(ft_q_str(d, "PRAGMA integrity_check"), "ok");
  ft_expect_eq("image", ft_q_int(d, "SELECT count(*) FROM processes WHERE pid = %ld", target), 1);
  ft_expect_eq("exit_status", ft_q_int(d, "SELECT exit_status FROM processes WHERE pid = %ld", target), 137);
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes WHERE pid = %ld", target), "unknown");
  /* The 8 blocks from before the pid file, 1.5 s before the kill. */
  ft_expect_eq("9191 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9191"), 8);
  ft_expect_eq("9191 rows live", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9191 AND t_free_ns IS NULL"),
               8);
  /* One 9292 block every 20 ms, each reported by the program once made:
  ** those of its first 0.5 s are long drained and must all be there; there
  ** can be no more rows than blocks it made. */
  int made = 0, early_made = 0;
  for (const char *p = r.out; (p = strstr(p, "t=")); p += 2) {
    made++;
    if (strtoll(p + 2, NULL, 10) < 500000000LL) early_made++;
  }
  ft_expect_true(ft_fmt("blocks made in the first 0.5 s (%d)", early_made), early_made >= 5);
  long long first = ft_q_int(d, "SELECT min(t_alloc_ns) FROM allocations WHERE size = 9292");
  long long early = ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9292 AND t_alloc_ns < %lld",
                             first + 600000000LL);
  long long total = ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9292");
  print_message("[          ] 9292 blocks: %d made (%d in 0.5 s), %lld rows (%lld in 0.6 s)\n", made, early_made,
                total, early);
  ft_expect_true("rows of the first 0.5 s all present", early >= early_made);
  ft_expect_true("no more rows than blocks", total <= made);
  ft_expect_eq("rows ending before they begin",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns < t_alloc_ns"), 0);
  sqlite3_close(d);
  unlink(pidfile);
  ft_run_free(&r);
}

/* SIGTERM to record itself reaches the command; what it recorded until
** then is imported, and record exits 128+15 like the command. */
static void test_sigterm_to_record(void **state) {
  (void)state;
  const char *db = ft_tmp_path("term.db");
  const char *pidfile = ft_tmp_path("term.pid");
  ft_run r;
  long target = start_slowalloc(&r, db, pidfile);
  sleep_s(0.3);
  ft_expect_eq("kill record", kill(r.pid, SIGTERM), 0);
  ft_wait(&r, 60);
  ft_expect_status(&r, 128 + SIGTERM);
  ft_expect_no_stderr(&r);
  sqlite3 *d = ft_db_open(db);
  assert_string_equal(ft_q_str(d, "PRAGMA integrity_check"), "ok");
  ft_expect_eq("exit_status", ft_q_int(d, "SELECT exit_status FROM processes WHERE pid = %ld", target), 143);
  ft_expect_eq("9191 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9191"), 8);
  ft_expect_true("9292 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9292") >= 5);
  sqlite3_close(d);
  unlink(pidfile);
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fork),
      cmocka_unit_test(test_fork_while_threads_allocate),
      cmocka_unit_test(test_exec),
      cmocka_unit_test(test_exec_failed_then_exec),
      cmocka_unit_test(test_short_lived_processes_exit_promptly),
      cmocka_unit_test(test_exec_python),
      cmocka_unit_test(test_sigkill),
      cmocka_unit_test(test_sigterm_to_record),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
