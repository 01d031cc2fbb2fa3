/*
** test_cli.c — `fragtrace record` failing before it runs anything, or
** failing to run the command: the documented exit statuses (125 fragtrace,
** 126 cannot execute, 127 not found), one line on stderr, no trace or spill
** directory left behind.
*/
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_itest.h"

static void expect_one_line(const ft_run *r) {
  if (ft_count_lines(r->err) != 1 || strncmp(r->err, "fragtrace:", 10) != 0)
    fail_msg("expected exactly one 'fragtrace:' line on stderr, got:\n%s", r->err);
}

static void test_no_command(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record"));
  ft_expect_status(&r, 125);
  expect_one_line(&r);
  ft_run_free(&r);
  const char *db = ft_tmp_path("nocmd.db");
  ft_remove(db);
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record", "-o", db, "--"));
  ft_expect_status(&r, 125);
  expect_one_line(&r);
  ft_expect_true("no trace", !ft_exists(db));
  ft_run_free(&r);
}

static void test_command_not_found(void **state) {
  (void)state;
  const char *db = ft_tmp_path("notfound.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV("/nonexistent/program"));
  ft_expect_status(&r, 127);
  expect_one_line(&r);
  ft_expect_true("no trace", !ft_exists(db));
  ft_expect_eq("no spill directory", ft_count_files(FT_TMP, "notfound.db.", ""), 0);
  ft_run_free(&r);
  /* Not found in PATH either. */
  ft_record(&r, db, NULL, NULL, FT_ARGV("fragtrace-no-such-command-xyz"));
  ft_expect_status(&r, 127);
  expect_one_line(&r);
  ft_run_free(&r);
}

static void test_command_not_executable(void **state) {
  (void)state;
  const char *db = ft_tmp_path("noexec.db");
  const char *script = ft_tmp_path("not_executable.sh");
  ft_write_file(script, "#!/bin/sh\nexit 0\n");
  chmod(script, 0644);
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(script));
  ft_expect_status(&r, 126);
  expect_one_line(&r);
  ft_expect_true("no trace", !ft_exists(db));
  ft_run_free(&r);
}

static void test_unwritable_output(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record", "-o", "/nonexistent/dir/x.db", "--", "true"));
  ft_expect_status(&r, 125);
  expect_one_line(&r);
  ft_run_free(&r);
}

static void test_bad_option_values(void **state) {
  (void)state;
  static const char *const bad[][2] = {{"--depth", "0"},       {"--depth", "300"},      {"--flush-ms", "x"},
                                       {"--sample-ms", "-1"},  {"--buffer-kb", "63"},   {"--buffer-kb", ""}};
  const char *db = ft_tmp_path("badopt.db");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ft_run r;
    ft_remove(db);
    ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record", "-o", db, bad[i][0], bad[i][1], "--", "true"));
    ft_expect_status(&r, 125);
    expect_one_line(&r);
    ft_expect_true(ft_fmt("%s names the option", bad[i][0]), strstr(r.err, bad[i][1][0] ? bad[i][1] : "''") != NULL);
    ft_expect_true("no trace", !ft_exists(db));
    ft_run_free(&r);
  }
}

/* The summary line without -q, and the exit status of a command killed by
** a signal (128 + N). */
static void test_summary_and_signal_status(void **state) {
  (void)state;
  const char *db = ft_tmp_path("summary.db");
  ft_remove(db);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record", "-o", db, "--", ft_prog("hello")));
  ft_expect_status(&r, 0);
  expect_one_line(&r);
  ft_expect_true("summary names the trace", strstr(r.err, db) != NULL);
  ft_expect_true("summary: one process", strstr(r.err, "1 process,") != NULL);
  ft_run_free(&r);
  ft_record(&r, db, NULL, NULL, FT_ARGV("sh", "-c", "kill -TERM $$"));
  ft_expect_status(&r, 128 + 15);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("exit_status of the killed shell", ft_q_int(d, "SELECT exit_status FROM processes"), 143);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* record -o through a symlink: refused before anything runs. */
static void test_output_symlink(void **state) {
  (void)state;
  const char *link = ft_tmp_path("cli_link.db"), *target = ft_tmp_path("cli_link_target.txt");
  unlink(link);
  ft_write_file(target, "precious\n");
  assert_int_equal(symlink(target, link), 0);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "record", "-o", link, "--", ft_prog("hello")));
  ft_expect_status(&r, 125);
  expect_one_line(&r);
  ft_expect_eq("the command did not run", ft_count_lines(r.out), 0);
  char *now = ft_read_file(target);
  assert_non_null(now);
  assert_string_equal(now, "precious\n");
  free(now);
  unlink(link);
  unlink(target);
  ft_run_free(&r);
}

/* --keep-spill keeps the raw spills; importing them again gives the same
** trace (rows, sizes, lifetimes, stacks, symbols). */
static void test_keep_spill_reimport(void **state) {
  (void)state;
  const char *db = ft_tmp_path("keep.db"), *again = ft_tmp_path("keep_again.db");
  ft_remove(again);
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--keep-spill"), FT_ARGV(ft_prog("forker")));
  ft_expect_status(&r, 0);
  ft_expect_eq("spill directories", ft_count_files(FT_TMP, "keep.db.spill.", ""), 1);
  /* find the directory and its spills */
  char dir[4096] = "";
  DIR *dd = opendir(FT_TMP);
  assert_non_null(dd);
  struct dirent *e;
  while ((e = readdir(dd)))
    if (strncmp(e->d_name, "keep.db.spill.", 14) == 0) snprintf(dir, sizeof dir, "%s/%s", FT_TMP, e->d_name);
  closedir(dd);
  ft_expect_eq("spills (parent and child)", ft_count_files(dir, "", ".ftspill"), 2);
  const char *args[16] = {FT_BIN, "import", "-q", "-o", again};
  int n = 5;
  char paths[2][4096];
  dd = opendir(dir);
  while ((e = readdir(dd)) && n < 7)
    if (strstr(e->d_name, ".ftspill")) {
      snprintf(paths[n - 5], sizeof paths[0], "%s/%s", dir, e->d_name);
      args[n] = paths[n - 5];
      n++;
    }
  closedir(dd);
  args[n] = NULL;
  ft_run imp;
  ft_run_cmd(&imp, NULL, args);
  ft_expect_status(&imp, 0);
  ft_expect_eq("spills still there without --remove", ft_count_files(dir, "", ".ftspill"), 2);
  static const char digest[] =
      "SELECT count(*) || '/' || sum(size) || '/' || count(t_free_ns) || '/' || sum(lifetime_ns) || '/' || "
      "count(DISTINCT stack_id) || '/' || group_concat(DISTINCT kind) FROM allocations";
  static const char procs[] =
      "SELECT group_concat(pid || ':' || ppid || ':' || coalesce(parent_proc, '-') || ':' || exit_status, ',') "
      "FROM (SELECT * FROM processes ORDER BY proc)";
  static const char syms[] = "SELECT count(*) || '/' || count(function) FROM call_sites";
  sqlite3 *a = ft_db_open(db), *b = ft_db_open(again);
  assert_string_equal(ft_q_str(a, digest), ft_q_str(b, digest));
  assert_string_equal(ft_q_str(a, syms), ft_q_str(b, syms));
  /* The exit status of record's direct child comes from waitpid: same here (0). */
  assert_string_equal(ft_q_str(a, procs), ft_q_str(b, procs));
  sqlite3_close(a);
  sqlite3_close(b);
  ft_remove(db);
  ft_remove(again);
  ft_run_free(&imp);
  ft_run_free(&r);
}

/* What a SIGKILL leaves: a spill cut anywhere. Importing any prefix of a
** spill works, keeps every complete chunk (rows never decrease as the cut
** moves later), and the whole file gives the recorded trace's rows. */
static void test_import_truncated_spill(void **state) {
  (void)state;
  char db[4096], cut[4096], out[4096]; /* own copies: the loop makes many ring-buffer calls */
  snprintf(db, sizeof db, "%s", ft_tmp_path("trunc_src.db"));
  snprintf(cut, sizeof cut, "%s", ft_tmp_path("trunc_cut.ftspill"));
  snprintf(out, sizeof out, "%s", ft_tmp_path("trunc_out.db"));
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--keep-spill"), FT_ARGV(ft_prog("kinds")));
  ft_expect_status(&r, 3);
  ft_run_free(&r);
  char path[4096] = "";
  DIR *dd = opendir(FT_TMP);
  assert_non_null(dd);
  struct dirent *e;
  char dir[4096] = "";
  while ((e = readdir(dd)))
    if (strncmp(e->d_name, "trunc_src.db.spill.", 19) == 0) snprintf(dir, sizeof dir, "%s/%s", FT_TMP, e->d_name);
  closedir(dd);
  dd = opendir(dir);
  assert_non_null(dd);
  while ((e = readdir(dd)))
    if (strstr(e->d_name, ".ftspill")) snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
  closedir(dd);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[1 << 22];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  ft_expect_true("spill read whole", len > 72 && len < sizeof buf);
  sqlite3 *d = ft_db_open(db);
  long long full = ft_q_int(d, "SELECT count(*) FROM allocations");
  sqlite3_close(d);
  long long prev = 0;
  for (int k = 0; k <= 24; k++) {
    size_t n = k == 24 ? len : (size_t)k * len / 24 + (size_t)k % 7; /* not only chunk boundaries */
    if (n > len) n = len;
    f = fopen(cut, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(f);
    ft_remove(out);
    ft_run imp;
    ft_run_cmd(&imp, NULL, FT_ARGV(FT_BIN, "import", "-q", "-o", out, cut));
    if (imp.status != 0) fail_msg("import of the first %zu of %zu bytes: status %d\n%s", n, len, imp.status, imp.err);
    d = ft_db_open(out);
    assert_string_equal(ft_q_str(d, "PRAGMA integrity_check"), "ok");
    long long rows = ft_q_int(d, "SELECT count(*) FROM allocations");
    if (rows < prev) fail_msg("%zu bytes give %lld rows, fewer than a shorter cut (%lld)", n, rows, prev);
    prev = rows;
    sqlite3_close(d);
    ft_run_free(&imp);
  }
  ft_expect_eq("the whole spill gives the recorded rows", prev, full);
  ft_remove(db);
  ft_remove(out);
  unlink(cut);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_command),          cmocka_unit_test(test_command_not_found),
      cmocka_unit_test(test_command_not_executable), cmocka_unit_test(test_unwritable_output),
      cmocka_unit_test(test_bad_option_values),   cmocka_unit_test(test_summary_and_signal_status),
      cmocka_unit_test(test_output_symlink),      cmocka_unit_test(test_keep_spill_reimport),
      cmocka_unit_test(test_import_truncated_spill),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
