/*
** test_robust.c — programs that do what real programs do and that a
** recorder easily gets wrong: close every descriptor, chdir away from a
** relative output path, exit with a status above 255, fork under plain
** LD_PRELOAD with one shared output, leave orphans behind, strip
** LD_PRELOAD from their environment, re-import what a killed run left,
** vfork, dlclose, end main with pthread_exit, unshare a user namespace,
** take signals with sigwait. Most of these reproduce a bug found while
** writing them (the test comment says what the shim must do).
*/
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_itest.h"

#define PRELOAD "LD_PRELOAD=" FT_SHIM

/* A program that closes all descriptors above 2 and opens files of its own
** must keep them: the shim may neither write its spill into them nor have
** libunwind close them (libunwind's memory validator keeps a pipe and
** "reopens" it, closing whatever now has its numbers). And the trace should
** still have the program's rows. */
static void test_program_closes_all_fds(void **state) {
  (void)state;
  const char *db = ft_tmp_path("fdclose.db");
  const char *prefix = ft_tmp_path("fdclose_out");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("fdclose"), prefix));
  /* What the program itself saw. */
  ft_expect_eq("program's write errors", ft_kv(r.out, "write_errors"), 0);
  ft_expect_eq("program's close errors", ft_kv(r.out, "close_errors"), 0);
  ft_expect_status(&r, 0);
  /* Its files hold exactly what it wrote. */
  char want[1024];
  size_t n = 0;
  for (int i = 0; i < 40; i++) n += (size_t)snprintf(want + n, sizeof want - n, "payload %d\n", i);
  for (int f = 0; f < 4; f++) {
    const char *path = ft_fmt("%s.%d", prefix, f);
    char *got = ft_read_file(path);
    assert_non_null(got);
    if (strcmp(got, want) != 0)
      fail_msg("%s: %zu bytes, expected the program's %zu (the recorder wrote into it or closed it)", path,
               strlen(got), n);
    free(got);
    unlink(path);
  }
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("3737 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 3737"), 4000);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* The default output "fragtrace.%p.db" is relative, and daemons chdir("/"):
** the trace must land where the path pointed when the program started. */
static void test_plain_relative_output_chdir(void **state) {
  (void)state;
  const char *dir = ft_tmp_path("reldir"), *away = ft_tmp_path("reldir/away");
  ft_remove(dir); /* a whole tree: leftovers of an earlier failed run */
  mkdir(dir, 0755);
  mkdir(away, 0755);
  ft_run r;
  ft_run_cmd_in(&r, dir, FT_ENV(PRELOAD, "FRAGTRACE_OUTPUT=rel.%p.db"), FT_ARGV(ft_prog("hello"), "0", "away"));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  long long pid = ft_kv(r.out, "pid");
  const char *db = ft_fmt("%s/rel.%lld.db", dir, pid);
  int where_it_should = ft_exists(db), in_away = ft_exists(ft_fmt("%s/rel.%lld.db", away, pid));
  int spills = ft_count_files(dir, "rel.", ".ftspill");
  if (!where_it_should)
    fail_msg("no trace at %s (a trace in the new cwd: %s; spills left in the old: %d)", db, in_away ? "yes" : "no",
             spills);
  ft_expect_eq("spills left behind", spills, 0);
  ft_expect_true("nothing in the new cwd", !in_away);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("6161 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"), 2);
  sqlite3_close(d);
  ft_remove(dir);
  ft_run_free(&r);
}

/* exit(259) is status 3 to the parent, exit(-1) is 255: the trace must say
** what the parent saw. (Under `record` the direct child's status comes from
** waitpid; a plain LD_PRELOAD run, or any other process of a recorded tree,
** has only what the shim saw.) */
static void test_exit_status_is_what_the_parent_sees(void **state) {
  (void)state;
  static const struct {
    const char *arg;
    int status;
  } cases[] = {{"259", 3}, {"-1", 255}, {"256", 0}};
  char wrong[1024] = "";
  size_t nw = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ft_remove(ft_tmp_path("status"));
    ft_run r;
    ft_run_cmd(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", ft_tmp_path("status.%p.db"))),
               FT_ARGV(ft_prog("hello"), cases[i].arg));
    ft_expect_status(&r, cases[i].status);
    const char *db = ft_tmp_path(ft_fmt("status.%lld.db", ft_kv(r.out, "pid")));
    sqlite3 *d = ft_db_open(db);
    const char *got = ft_q_str(d, "SELECT quote(exit_status) FROM processes");
    if (atoi(got) != cases[i].status || strcmp(got, "NULL") == 0)
      nw += (size_t)snprintf(wrong + nw, sizeof wrong - nw, "\n  plain LD_PRELOAD, exit(%s): exit_status %s, expected %d",
                             cases[i].arg, got, cases[i].status);
    sqlite3_close(d);
    ft_remove(db);
    ft_run_free(&r);
  }
  /* The same inside a recorded tree: hello is sh's child, not record's. */
  const char *db = ft_tmp_path("status_tree.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV("sh", "-c", ft_fmt("%s 259; exit 0", ft_prog("hello"))));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  const char *got = ft_q_str(d, "SELECT quote(exit_status) FROM processes WHERE exe GLOB '*/hello'");
  if (strcmp(got, "3") != 0)
    nw += (size_t)snprintf(wrong + nw, sizeof wrong - nw, "\n  recorded tree, exit(259) in sh's child: exit_status %s, "
                           "expected 3", got);
  sqlite3_close(d);
  ft_run_free(&r);
  if (nw) fail_msg("exit statuses differ from what the parent saw:%s", wrong);
}

/* Plain LD_PRELOAD, one output for parent and child (no %p): each process
** imports itself at exit, the child first. The trace must still link the
** child to its parent, as `record` does. */
static void test_plain_fork_shared_output(void **state) {
  (void)state;
  const char *db = ft_tmp_path("shared.db");
  ft_remove(db);
  ft_run r;
  ft_run_cmd(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", db)), FT_ARGV(ft_prog("forker")));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  long long parent = ft_kv(r.out, "parent"), child = ft_kv(r.out, "child");
  ft_expect_eq("spills left", ft_count_files(FT_TMP, "shared.db.", ".ftspill"), 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("processes", ft_q_int(d, "SELECT count(*) FROM processes"), 2);
  ft_expect_eq("7171 rows in the child",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7171 AND pid = %lld", child), 3);
  ft_expect_eq("3131 rows in the parent",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 3131 AND pid = %lld", parent), 2);
  ft_expect_eq("child's exit_status", ft_q_int(d, "SELECT exit_status FROM processes WHERE pid = %lld", child), 7);
  ft_expect_eq("child's ppid", ft_q_int(d, "SELECT ppid FROM processes WHERE pid = %lld", child), parent);
  ft_expect_eq("child's parent_proc",
               ft_q_int_or(d, -1, "SELECT parent_proc FROM processes WHERE pid = %lld", child),
               ft_q_int(d, "SELECT proc FROM processes WHERE pid = %lld", parent));
  sqlite3_close(d);
  ft_run_free(&r);
}

/* record waits for orphans (it is their subreaper): a grandchild that
** outlives its parent by half a second is in the trace, reparented. */
static void test_orphan_grandchild(void **state) {
  (void)state;
  const char *db = ft_tmp_path("orphan.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV("sh", "-c", ft_fmt("(sleep 0.5; exec %s 3) & exit 0", ft_prog("hello"))));
  ft_expect_status(&r, 0);
  ft_expect_true("record waited for the orphan", r.seconds >= 0.45);
  long long pid = ft_kv(r.out, "pid");
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("hello's image", ft_q_int(d, "SELECT count(*) FROM processes WHERE pid = %lld AND exe GLOB '*/hello'", pid),
               1);
  ft_expect_eq("hello's exit_status",
               ft_q_int(d, "SELECT exit_status FROM processes WHERE pid = %lld AND exe GLOB '*/hello'", pid), 3);
  ft_expect_eq("hello's rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161 AND pid = %lld", pid), 2);
  ft_expect_eq("hello replaced a traced sh of its pid",
               ft_q_int(d, "SELECT count(*) FROM processes p JOIN processes q ON q.proc = p.exec_from "
                           "WHERE p.pid = %lld AND p.exe GLOB '*/hello' AND q.pid = p.pid", pid), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* A program that removes LD_PRELOAD and FRAGTRACE_* before exec (env -u)
** is still traced after the exec: the shim puts them back. */
static void test_env_scrubbed_before_exec(void **state) {
  (void)state;
  const char *db = ft_tmp_path("scrubbed.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL,
            FT_ARGV("env", "-u", "LD_PRELOAD", "-u", "FRAGTRACE_SPILL_DIR", ft_prog("hello"), "9"));
  ft_expect_status(&r, 9);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("images", ft_q_int(d, "SELECT count(*) FROM processes"), 2);
  ft_expect_eq("hello traced", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"), 2);
  ft_expect_eq("hello's exec_from is env",
               ft_q_int(d, "SELECT count(*) FROM processes p JOIN processes q ON q.proc = p.exec_from "
                           "WHERE p.exe GLOB '*/hello' AND q.exe GLOB '*/env'"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* Plain LD_PRELOAD and SIGKILL: the spill stays, `fragtrace import --pid`
** converts it (and --remove deletes it). */
static void test_plain_killed_then_import(void **state) {
  (void)state;
  const char *db = ft_tmp_path("plainkill.db"), *pidfile = ft_tmp_path("plainkill.pid");
  ft_remove(db);
  unlink(pidfile);
  ft_run r;
  ft_start(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", db)), FT_ARGV(ft_prog("slowalloc"), pidfile));
  char *text = NULL;
  for (int i = 0; i < 1000 && !(text = ft_read_file(pidfile)); i++) usleep(10000);
  if (!text) {
    kill(r.pid, SIGKILL);
    ft_wait(&r, 10);
    fail_msg("no pid file\n%s", r.err);
  }
  free(text);
  usleep(500000);
  kill(r.pid, SIGKILL);
  ft_wait(&r, 10);
  ft_expect_status(&r, 128 + SIGKILL);
  ft_expect_true("no trace without an exit", !ft_exists(db));
  ft_expect_eq("the spill", ft_count_files(FT_TMP, ft_fmt("plainkill.db.%d-", (int)r.pid), ".ftspill"), 1);
  ft_run imp;
  ft_run_cmd(&imp, NULL, FT_ARGV(FT_BIN, "import", "-q", "--remove", "-o", db, "--pid", ft_fmt("%d", (int)r.pid)));
  ft_expect_status(&imp, 0);
  ft_expect_no_stderr(&imp);
  ft_expect_eq("spill removed", ft_count_files(FT_TMP, "plainkill.db.", ".ftspill"), 0);
  ft_expect_eq("trace mode", ft_mode(db), 0600);
  sqlite3 *d = ft_db_open(db);
  assert_string_equal(ft_q_str(d, "PRAGMA integrity_check"), "ok");
  ft_expect_eq("9191 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9191"), 8);
  ft_expect_true("9292 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 9292") >= 5);
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes"), "unknown");
  ft_expect_eq("exit_status unknown", ft_q_int_or(d, -1, "SELECT exit_status FROM processes"), -1);
  ft_expect_eq("symbolized", ft_q_int(d, "SELECT count(*) FROM call_sites c JOIN allocations a ON a.stack_id = c.stack_id "
                                         "AND c.depth = 0 WHERE a.size = 9191 AND c.function = 'main'"), 8);
  sqlite3_close(d);
  ft_remove(db);
  unlink(pidfile);
  ft_run_free(&imp);
  ft_run_free(&r);
}

/* Several processes exiting at once into one output: every one imports
** itself, they wait for each other's transactions, nothing is lost. */
static void test_plain_concurrent_imports(void **state) {
  (void)state;
  const char *db = ft_tmp_path("concurrent.db");
  ft_remove(db);
  const char *hello = ft_prog("hello");
  ft_run r;
  ft_run_cmd(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", db)),
             FT_ARGV("sh", "-c", ft_fmt("for i in 1 2 3 4 5 6 7 8; do %s & done; wait", hello)));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_expect_eq("stdout lines", ft_count_lines(r.out), 8);
  ft_expect_eq("spills left", ft_count_files(FT_TMP, "concurrent.db.", ".ftspill"), 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("hello images", ft_q_int(d, "SELECT count(*) FROM processes WHERE exe GLOB '*/hello'"), 8);
  ft_expect_eq("distinct hello pids", ft_q_int(d, "SELECT count(DISTINCT pid) FROM processes WHERE exe GLOB '*/hello'"),
               8);
  ft_expect_eq("6161 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"), 16);
  ft_expect_eq("6161 rows per hello image",
               ft_q_int(d, "SELECT count(*) FROM (SELECT proc, count(*) AS c FROM allocations WHERE size = 6161 "
                           "GROUP BY proc) WHERE c = 2"), 8);
  sqlite3_close(d);
  ft_remove(db);
  ft_run_free(&r);
}

/* vfork + execve, vfork + failing execve + _exit, posix_spawn, system():
** every started program is traced with its status and parent, and the
** parent's own thread goes on being traced after each of them. (A vfork
** child runs on its parent's thread, TLS included: whatever the shim's
** exec hook sets there and never gets to undo before a successful exec,
** the parent's thread finds set when it resumes.) */
static void test_vfork_spawn_system(void **state) {
  (void)state;
  const char *db = ft_tmp_path("spawner.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("spawner"), ft_prog("hello")));
  ft_expect_status(&r, 0);
  ft_expect_eq("program's checks", ft_kv(r.out, "ok"), 1);
  sqlite3 *d = ft_db_open(db);
  long long parent = ft_q_int(d, "SELECT proc FROM processes WHERE exe GLOB '*/spawner'");
  ft_expect_eq("hello images", ft_q_int(d, "SELECT count(*) FROM processes WHERE exe GLOB '*/hello'"), 3);
  assert_string_equal(ft_q_str(d, "SELECT group_concat(exit_status, ',') FROM (SELECT exit_status FROM processes "
                                  "WHERE exe GLOB '*/hello' ORDER BY proc)"),
                      "11,12,13");
  ft_expect_eq("vfork'd and spawned hellos are the spawner's children",
               ft_q_int(d, "SELECT count(*) FROM processes WHERE exe GLOB '*/hello' AND parent_proc = %lld", parent), 2);
  ft_expect_eq("hello rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"), 6);
  ft_expect_eq("the spawner's rows after each start",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5858 AND proc = %lld", parent), 4);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* The same through Python's subprocess (which uses vfork): the bytearrays
** made after subprocess.run are traced like those before it. */
static void test_python_subprocess(void **state) {
  (void)state;
  if (access("/usr/bin/python3", X_OK) != 0) skip();
  const char *db = ft_tmp_path("pysub.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL,
            FT_ARGV("/usr/bin/python3", "-c",
                    "import subprocess\n"
                    "a = [bytearray(7001) for _ in range(10)]\n"
                    "subprocess.run(['/bin/true'], check=True)\n"
                    "b = [bytearray(7011) for _ in range(10)]\n"));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  long long py = ft_q_int(d, "SELECT proc FROM processes WHERE exe GLOB '*/python3*' LIMIT 1");
  long long before = ft_q_int(d, "SELECT count(*) FROM allocations WHERE proc = %lld AND size BETWEEN 7002 AND 7010", py);
  long long after = ft_q_int(d, "SELECT count(*) FROM allocations WHERE proc = %lld AND size BETWEEN 7012 AND 7020", py);
  ft_expect_true(ft_fmt("bytearrays before subprocess.run (%lld)", before), before >= 10);
  ft_expect_true(ft_fmt("bytearrays after subprocess.run (%lld)", after), after >= 10);
  ft_expect_eq("true traced", ft_q_int(d, "SELECT count(*) FROM processes WHERE exe GLOB '*/true'"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* Frames in a dlopen'd library that is dlclose'd long before exit still
** resolve: the maps must have been captured while it was loaded. */
static void check_plugin(const char *name, const char *hold_ms, long long size) {
  const char *db = ft_tmp_path(ft_fmt("%s.db", name));
  const char *lib = ft_prog("libftplugin.so");
  char real[4096];
  assert_non_null(realpath(lib, real));
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("dlplugin"), lib, ft_fmt("%lld", size), hold_ms));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  const char *frame0 = ft_fmt("FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id AND c.depth = 0 "
                              "WHERE a.size = %lld", size);
  ft_expect_eq("rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = %lld", size), 1);
  const char *fn = ft_q_str(d, "SELECT c.function %s", frame0);
  const char *mod = ft_q_str(d, "SELECT c.module %s", frame0);
  if (strcmp(fn, "plugin_alloc") != 0 || strcmp(mod, real) != 0)
    fail_msg("library unloaded after %s ms: innermost frame is '%s' in '%s', expected plugin_alloc in %s", hold_ms, fn,
             mod, real);
  ft_expect_true("file", strstr(ft_q_str(d, "SELECT c.file %s", frame0), "ftplugin.c") != NULL);
  assert_string_equal(ft_q_str(d, "SELECT function FROM call_sites WHERE depth = 1 AND stack_id = "
                                  "(SELECT stack_id FROM allocations WHERE size = %lld)", size),
                      "main");
  sqlite3_close(d);
  ft_run_free(&r);
}

static void test_dlclose_after_a_while(void **state) {
  (void)state;
  check_plugin("plugin_held", "400", 3939);
}

static void test_dlclose_at_once(void **state) {
  (void)state;
  check_plugin("plugin_at_once", "0", 3940);
}

/* main() calling pthread_exit: glibc ends the process when the last thread
** ends, so the shim's own writer and sampler threads must not count as
** such, or the program never exits. */
static void test_main_pthread_exit(void **state) {
  (void)state;
  const char *db = ft_tmp_path("mainexit.db");
  ft_remove(db);
  ft_run r;
  ft_start(&r, NULL, FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--", ft_prog("mainexit")));
  ft_wait(&r, 8); /* fails (and kills it) if it hangs */
  ft_expect_status(&r, 0);
  ft_expect_eq("worker ran", ft_kv(r.out, "worker"), 1);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("main's row", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6363 AND tid = pid"), 1);
  ft_expect_eq("worker's row", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6464 AND tid != pid"), 1);
  ft_expect_eq("exit_status", ft_q_int(d, "SELECT exit_status FROM processes"), 0);
  sqlite3_close(d);
  ft_run_free(&r);

  /* Plain LD_PRELOAD: the same, and the trace is written at that exit. */
  const char *plain = ft_tmp_path("mainexit_plain.db");
  ft_remove(plain);
  ft_start(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", plain)), FT_ARGV(ft_prog("mainexit")));
  ft_wait(&r, 8);
  ft_expect_status(&r, 0);
  d = ft_db_open(plain);
  ft_expect_eq("rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size IN (6363, 6464)"), 2);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* unshare(CLONE_NEWUSER) needs a single-threaded process: the shim's own
** writer and sampler threads must not make `unshare --user` fail. */
static void test_unshare_user(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV("unshare", "--user", "true"));
  int works = r.status == 0;
  ft_run_free(&r);
  if (!works) skip(); /* no user namespaces here (or no unshare(1)) */
  const char *db = ft_tmp_path("unshare.db");
  ft_record(&r, db, NULL, NULL, FT_ARGV("unshare", "--user", ft_prog("hello"), "4"));
  ft_expect_status(&r, 4);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("hello traced", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"), 2);
  ft_expect_eq("hello's exec_from is unshare",
               ft_q_int(d, "SELECT count(*) FROM processes p JOIN processes q ON q.proc = p.exec_from "
                           "WHERE p.exe GLOB '*/hello' AND q.exe GLOB '*/unshare'"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* The sigwait() pattern: the program blocks SIGUSR1 and takes it with
** sigwait(). A process-directed signal goes to any thread that does not
** block it: the shim's threads must block every signal, or they receive it
** and the default action kills the program. */
static void test_sigwait_pattern(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sigwait.db");
  for (int run = 0; run < 5; run++) {
    ft_run r;
    ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("sigwaiter")));
    if (r.status != 0) fail_msg("run %d: exit status %d (128+%d), expected 0", run, r.status, r.status - 128);
    ft_expect_eq("signals taken", ft_kv(r.out, "got"), 20);
    sqlite3 *d = ft_db_open(db);
    ft_expect_eq("5959 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 5959"), 20);
    sqlite3_close(d);
    ft_run_free(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_program_closes_all_fds),
      cmocka_unit_test(test_plain_relative_output_chdir),
      cmocka_unit_test(test_exit_status_is_what_the_parent_sees),
      cmocka_unit_test(test_plain_fork_shared_output),
      cmocka_unit_test(test_orphan_grandchild),
      cmocka_unit_test(test_env_scrubbed_before_exec),
      cmocka_unit_test(test_plain_killed_then_import),
      cmocka_unit_test(test_plain_concurrent_imports),
      cmocka_unit_test(test_vfork_spawn_system),
      cmocka_unit_test(test_python_subprocess),
      cmocka_unit_test(test_dlclose_after_a_while),
      cmocka_unit_test(test_dlclose_at_once),
      cmocka_unit_test(test_main_pthread_exit),
      cmocka_unit_test(test_unshare_user),
      cmocka_unit_test(test_sigwait_pattern),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
