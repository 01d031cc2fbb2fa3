/*
** test_db.c — trace creation and opening: files are 0600, never written
** through a symlink, and read-only opens reject anything that is not a
** fragtrace trace of a known schema version with a one-line message.
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

typedef struct fx {
  char dir[64];
  char path[128];
  char err[512];
} fx;

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
  (void)s, (void)f, (void)w;
  return remove(p);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/ft_db_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/trace.db", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* Write len bytes of data to path (replacing it). */
static void write_file(const char *path, const void *data, size_t len) {
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(data, 1, len, fp), len);
  fclose(fp);
}

/* The message is one line and mentions the path. */
static void assert_one_line(const fx *f) {
  assert_non_null(strstr(f->err, f->path));
  assert_null(strchr(f->err, '\n'));
}

static void test_create_mode_and_meta(void **state) {
  fx *f = *state;
  mode_t old = umask(0); /* the file must be 0600 whatever the umask */
  sqlite3 *db;
  int rc = ft_db_create(f->path, &db, f->err, sizeof f->err);
  umask(old);
  assert_int_equal(rc, 0);
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT (SELECT value FROM meta WHERE key='schema_version'), "
                                      "(SELECT value FROM meta WHERE key='fragtrace_version'), "
                                      "(SELECT CAST(value AS INTEGER) FROM meta WHERE key='created_unix_ns'), "
                                      "(SELECT count(*) FROM alloc_kinds)",
                                      -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "1");
  assert_string_equal((const char *)sqlite3_column_text(q, 1), FT_VERSION);
  assert_true(sqlite3_column_int64(q, 2) > 1600000000LL * 1000000000LL);
  assert_int_equal(sqlite3_column_int(q, 3), 5);
  sqlite3_finalize(q);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 65536);
  sqlite3_finalize(q);
  sqlite3_close(db);
  /* and it opens read-only */
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), 0);
  sqlite3_close(db);
}

/* An existing regular file we own is replaced (fresh mode 0600), and a
** stale hot journal next to it is removed rather than replayed. */
static void test_create_replaces_own_file(void **state) {
  fx *f = *state;
  write_file(f->path, "old contents", 12);
  assert_int_equal(chmod(f->path, 0644), 0);
  char j[160];
  snprintf(j, sizeof j, "%s-journal", f->path);
  write_file(j, "junk", 4);
  sqlite3 *db;
  assert_int_equal(ft_db_create(f->path, &db, f->err, sizeof f->err), 0);
  sqlite3_close(db);
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(access(j, F_OK), -1);
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), 0);
  sqlite3_close(db);
}

static void test_create_refuses_symlink(void **state) {
  fx *f = *state;
  char target[160];
  snprintf(target, sizeof target, "%s/victim", f->dir);
  write_file(target, "precious", 8);
  assert_int_equal(symlink(target, f->path), 0);
  sqlite3 *db = (sqlite3 *)1;
  assert_int_equal(ft_db_create(f->path, &db, f->err, sizeof f->err), -1);
  assert_null(db);
  assert_non_null(strstr(f->err, "refusing to write through symlink"));
  assert_one_line(f);
  /* the target is untouched and the link still there */
  char buf[16] = {0};
  FILE *fp = fopen(target, "rb");
  assert_non_null(fp);
  assert_int_equal(fread(buf, 1, sizeof buf, fp), 8);
  fclose(fp);
  assert_string_equal(buf, "precious");
  struct stat st;
  assert_int_equal(lstat(f->path, &st), 0);
  assert_true(S_ISLNK(st.st_mode));
  /* appending refuses too, even a dangling link */
  assert_int_equal(ft_db_open_append(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "symlink"));
  unlink(target);
  assert_int_equal(ft_db_create(f->path, &db, f->err, sizeof f->err), -1);
  assert_int_equal(access(target, F_OK), -1);
}

static void test_create_refuses_directory(void **state) {
  fx *f = *state;
  assert_int_equal(mkdir(f->path, 0700), 0);
  sqlite3 *db;
  assert_int_equal(ft_db_create(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "not a regular file"));
  assert_one_line(f);
}

static void test_readonly_missing_and_empty(void **state) {
  fx *f = *state;
  sqlite3 *db = (sqlite3 *)1;
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_null(db);
  assert_one_line(f);
  write_file(f->path, "", 0);
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "empty file"));
  assert_one_line(f);
}

static void test_readonly_random_bytes(void **state) {
  fx *f = *state;
  unsigned char junk[8192];
  srand(42);
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)rand();
  write_file(f->path, junk, sizeof junk);
  sqlite3 *db;
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "not a SQLite database"));
  assert_one_line(f);
  /* short text file too */
  write_file(f->path, "hello\n", 6);
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "not a SQLite database"));
  assert_one_line(f);
}

/* Run sql on a plain SQLite database at path. */
static void make_sqlite(const char *path, const char *sql) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static void test_readonly_not_a_trace(void **state) {
  fx *f = *state;
  make_sqlite(f->path, "CREATE TABLE t(x)");
  sqlite3 *db;
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "not a fragtrace trace"));
  assert_one_line(f);
  /* appending to it is refused as well, and it is left alone */
  assert_int_equal(ft_db_open_append(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "not a fragtrace trace"));
  unlink(f->path);
  make_sqlite(f->path, "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)");
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "not a fragtrace trace"));
  assert_one_line(f);
}

static void test_readonly_newer_schema(void **state) {
  fx *f = *state;
  sqlite3 *db;
  assert_int_equal(ft_db_create(f->path, &db, f->err, sizeof f->err), 0);
  assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = '2' WHERE key = 'schema_version'", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "schema version 2 is newer"));
  assert_one_line(f);
  assert_int_equal(ft_db_open_append(f->path, &db, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, "schema version 2 is newer"));
}

/* open_append creates a missing trace (0600, schema loaded) and reopens an
** existing one. */
static void test_open_append(void **state) {
  fx *f = *state;
  sqlite3 *db;
  assert_int_equal(ft_db_open_append(f->path, &db, f->err, sizeof f->err), 0);
  assert_int_equal(sqlite3_exec(db, "INSERT INTO meta VALUES ('x', 'y')", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(ft_db_open_append(f->path, &db, f->err, sizeof f->err), 0);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM meta", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 4);
  sqlite3_finalize(q);
  /* the appender keeps the default rollback journal */
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "delete");
  sqlite3_finalize(q);
  sqlite3_close(db);
  /* an empty file (e.g. `touch trace.db`) becomes a trace */
  unlink(f->path);
  write_file(f->path, "", 0);
  assert_int_equal(ft_db_open_append(f->path, &db, f->err, sizeof f->err), 0);
  sqlite3_close(db);
  assert_int_equal(ft_db_open_readonly(f->path, &db, f->err, sizeof f->err), 0);
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_mode_and_meta, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_replaces_own_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_refuses_symlink, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_refuses_directory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_readonly_missing_and_empty, setup, teardown),
      cmocka_unit_test_setup_teardown(test_readonly_random_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_readonly_not_a_trace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_readonly_newer_schema, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_append, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
