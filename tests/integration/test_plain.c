/*
** test_plain.c — the shim preloaded by hand (no `fragtrace record`): the
** trace is written at exit through FRAGTRACE_OUTPUT; failures to write it
** cost one warning line and never change what the program does; bad
** settings warn and fall back to defaults; trace files are private (0600).
*/
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_itest.h"

#define PRELOAD "LD_PRELOAD=" FT_SHIM

/* The first line of s, in a ring buffer. */
static const char *first_line(const char *s) {
  const char *nl = strchr(s, '\n');
  return ft_fmt("%.*s", nl ? (int)(nl - s) : (int)strlen(s), s);
}

static void expect_one_warning(const ft_run *r, const char *mentions) {
  if (ft_count_lines(r->err) != 1 || strncmp(r->err, "fragtrace:", 10) != 0)
    fail_msg("expected exactly one 'fragtrace:' line on stderr, got:\n%s", r->err);
  if (mentions && !strstr(r->err, mentions))
    fail_msg("the warning does not mention '%s': %s", mentions, first_line(r->err));
}

static void test_plain_output(void **state) {
  (void)state;
  umask(0); /* the trace is 0600 whatever the umask allows */
  ft_remove(ft_tmp_path("plain"));
  ft_run r;
  ft_run_cmd(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", ft_tmp_path("plain.%p.db"))),
             FT_ARGV(ft_prog("hello"), "4"));
  ft_expect_status(&r, 4);
  long long pid = ft_kv(r.out, "pid");
  assert_string_equal(r.out, ft_fmt("hello pid=%lld\n", pid));
  ft_expect_no_stderr(&r);
  const char *db = ft_tmp_path(ft_fmt("plain.%lld.db", pid));
  ft_expect_true("trace written at exit", ft_exists(db));
  ft_expect_eq("trace mode", ft_mode(db), 0600);
  ft_expect_eq("spills left behind", ft_count_files(FT_TMP, ft_fmt("plain.%lld.db.", pid), ".ftspill"), 0);
  ft_expect_eq("any spill left behind", ft_count_files(FT_TMP, "plain.", ".ftspill"), 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("processes", ft_q_int(d, "SELECT count(*) FROM processes"), 1);
  ft_expect_eq("pid", ft_q_int(d, "SELECT pid FROM processes"), pid);
  ft_expect_eq("exit_status (from exit itself)", ft_q_int(d, "SELECT exit_status FROM processes"), 4);
  ft_expect_eq("6161 rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"), 2);
  ft_expect_eq("6161 live", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161 AND t_free_ns IS NULL"), 1);
  ft_expect_eq("symbolized", ft_q_int(d, "SELECT count(*) FROM call_sites c JOIN allocations a ON a.stack_id = c.stack_id "
                                         "AND c.depth = 0 WHERE a.size = 6161 AND c.function = 'main'"), 2);
  sqlite3_close(d);
  ft_remove(db);
  ft_run_free(&r);
}

static void test_record_mode_0600(void **state) {
  (void)state;
  umask(0);
  const char *db = ft_tmp_path("mode.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("hello")));
  ft_expect_status(&r, 0);
  ft_expect_eq("record -o trace mode", ft_mode(db), 0600);
  ft_expect_eq("spill directories left", ft_count_files(FT_TMP, "mode.db.spill", ""), 0);
  ft_run_free(&r);
}

static void test_unwritable_output(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, FT_ENV(PRELOAD, "FRAGTRACE_OUTPUT=/nonexistent/dir/x.db"), FT_ARGV(ft_prog("hello"), "6"));
  ft_expect_status(&r, 6);
  expect_one_warning(&r, NULL);
  ft_expect_eq("stdout unchanged", strncmp(r.out, "hello pid=", 10), 0);
  ft_expect_eq("stdout lines", ft_count_lines(r.out), 1);
  ft_run_free(&r);
}

static void test_symlink_refused(void **state) {
  (void)state;
  const char *link = ft_tmp_path("planted.db"), *target = ft_tmp_path("planted_target.txt");
  ft_remove(link);
  ft_write_file(target, "precious\n");
  assert_int_equal(symlink(target, link), 0);
  ft_run r;
  ft_run_cmd(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", link)), FT_ARGV(ft_prog("hello")));
  ft_expect_status(&r, 0);
  expect_one_warning(&r, "symlink");
  ft_expect_eq("stdout lines", ft_count_lines(r.out), 1);
  char *now = ft_read_file(target);
  assert_non_null(now);
  assert_string_equal(now, "precious\n");
  free(now);
  struct stat st;
  assert_int_equal(lstat(link, &st), 0);
  ft_expect_true("still a symlink", S_ISLNK(st.st_mode));
  ft_expect_eq("spills next to the link", ft_count_files(FT_TMP, "planted.db.", ""), 0);
  ft_run_free(&r);

  /* A dangling link: its target must not be created either. */
  unlink(target);
  ft_run_cmd(&r, FT_ENV(PRELOAD, ft_fmt("FRAGTRACE_OUTPUT=%s", link)), FT_ARGV(ft_prog("hello")));
  ft_expect_status(&r, 0);
  expect_one_warning(&r, "symlink");
  ft_expect_true("dangling target not created", !ft_exists(target));
  unlink(link);
  ft_run_free(&r);
}

static void test_bad_depth(void **state) {
  (void)state;
  const char *db = ft_tmp_path("baddepth.db");
  ft_run r;
  ft_record(&r, db, FT_ENV("FRAGTRACE_DEPTH=abc"), NULL, FT_ARGV(ft_prog("deep")));
  ft_expect_status(&r, 0);
  expect_one_warning(&r, "FRAGTRACE_DEPTH");
  assert_string_equal(r.out, "calls=20\n");
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("stack_depth", ft_q_int(d, "SELECT stack_depth FROM processes"), 64);
  /* 20 calls of descend + main + libc's start: more than 20 frames kept. */
  long long depth = ft_q_int(d, "SELECT s.depth FROM allocations a JOIN stacks s ON s.stack_id = a.stack_id "
                                "WHERE a.size = 5151");
  ft_expect_true(ft_fmt("deep stack has > 20 frames (%lld)", depth), depth > 20 && depth <= 64);
  ft_expect_eq("frames of the deep stack",
               ft_q_int(d, "SELECT count(*) FROM stack_frames f JOIN allocations a ON a.stack_id = f.stack_id "
                           "WHERE a.size = 5151"), depth);
  ft_expect_eq("descend frames",
               ft_q_int(d, "SELECT count(*) FROM call_sites c JOIN allocations a ON a.stack_id = c.stack_id "
                           "WHERE a.size = 5151 AND c.function = 'descend'"), 20);
  sqlite3_close(d);
  ft_run_free(&r);
}

static void test_depth_2(void **state) {
  (void)state;
  const char *db = ft_tmp_path("depth2.db");
  ft_run r;
  ft_record(&r, db, FT_ENV("FRAGTRACE_DEPTH=2"), NULL, FT_ARGV(ft_prog("deep")));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("stack_depth", ft_q_int(d, "SELECT stack_depth FROM processes"), 2);
  ft_expect_eq("stacks deeper than 2", ft_q_int(d, "SELECT count(*) FROM stacks WHERE depth > 2"), 0);
  ft_expect_eq("frames deeper than 2", ft_q_int(d, "SELECT count(*) FROM stack_frames WHERE depth >= 2"), 0);
  ft_expect_eq("the deep stack has exactly 2 frames",
               ft_q_int(d, "SELECT s.depth FROM allocations a JOIN stacks s ON s.stack_id = a.stack_id "
                           "WHERE a.size = 5151"), 2);
  ft_expect_eq("both frames are descend",
               ft_q_int(d, "SELECT count(*) FROM call_sites c JOIN allocations a ON a.stack_id = c.stack_id "
                           "WHERE a.size = 5151 AND c.function = 'descend'"), 2);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* The largest depth, 256, on a stack deeper than that: exactly 256 frames,
** all of them descend. */
static void test_depth_256(void **state) {
  (void)state;
  const char *db = ft_tmp_path("depth256.db");
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--depth", "256"), FT_ARGV(ft_prog("deep"), "300"));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("stack_depth", ft_q_int(d, "SELECT stack_depth FROM processes"), 256);
  ft_expect_eq("frames of the deep stack",
               ft_q_int(d, "SELECT s.depth FROM allocations a JOIN stacks s ON s.stack_id = a.stack_id "
                           "WHERE a.size = 5151"), 256);
  ft_expect_eq("descend frames",
               ft_q_int(d, "SELECT count(*) FROM call_sites c JOIN allocations a ON a.stack_id = c.stack_id "
                           "WHERE a.size = 5151 AND c.function = 'descend'"), 256);
  ft_expect_eq("frame depths 0..255",
               ft_q_int(d, "SELECT max(c.depth) FROM call_sites c JOIN allocations a ON a.stack_id = c.stack_id "
                           "WHERE a.size = 5151"), 255);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* Every bad value warns once, by name, and the program still runs traced. */
static void test_bad_values(void **state) {
  (void)state;
  static const char *const bad[] = {"FRAGTRACE_DEPTH=0",       "FRAGTRACE_DEPTH=257",  "FRAGTRACE_FLUSH_MS=-5",
                                    "FRAGTRACE_SAMPLE_MS=1e3", "FRAGTRACE_MMAP=yes",   "FRAGTRACE_BUFFER_KB=1",
                                    "FRAGTRACE_LOSSY=2",       "FRAGTRACE_OUTPUT=%z.db"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *db = ft_tmp_path("badvalue.db");
    ft_run r;
    ft_record(&r, db, FT_ENV(bad[i]), NULL, FT_ARGV(ft_prog("hello"), "2"));
    ft_expect_status(&r, 2);
    const char *name = ft_fmt("%.*s", (int)(strchr(bad[i], '=') - bad[i]), bad[i]);
    expect_one_warning(&r, name);
    sqlite3 *d = ft_db_open(db);
    ft_expect_eq(ft_fmt("6161 rows with %s", bad[i]), ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 6161"),
                 2);
    ft_expect_eq("stack_depth", ft_q_int(d, "SELECT stack_depth FROM processes"), 64);
    sqlite3_close(d);
    ft_run_free(&r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_output),    cmocka_unit_test(test_record_mode_0600),
      cmocka_unit_test(test_unwritable_output), cmocka_unit_test(test_symlink_refused),
      cmocka_unit_test(test_bad_depth),       cmocka_unit_test(test_depth_2),
      cmocka_unit_test(test_depth_256),       cmocka_unit_test(test_bad_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
