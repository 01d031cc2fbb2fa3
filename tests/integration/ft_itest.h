/*
** ft_itest.h — harness of the integration tests (tests/integration/test_*.c).
**
** The tests run the programs of tests/progs (and a few system programs) under the shim,
** through `fragtrace record` or plain LD_PRELOAD, and assert exact numbers
** from the resulting SQLite trace. Each test binary is compiled with:
**   FT_BIN    the fragtrace CLI
**   FT_SHIM   libfragtrace.so
**   FT_PROGS  the directory of the built test programs
**   FT_TMP    a scratch directory (created on demand by ft_tmp_path)
**
** Every helper that can go wrong fails the current cmocka test with a
** message saying what it was doing (the command line, the SQL), so test
** bodies stay a list of facts about the trace.
*/
#ifndef FT_ITEST_H
#define FT_ITEST_H

#include <setjmp.h> /* cmocka needs these before it */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <sys/types.h>

/* What a finished command did. out/err are its whole stdout and stderr
** (NUL-terminated, malloc'd); free with ft_run_free. */
typedef struct ft_run {
  pid_t pid;        /* the child we started */
  int status;       /* exit code, or 128+N when killed by signal N; -1 if not run */
  int signaled;     /* 1 when it died of a signal */
  double seconds;   /* wall time from start to exit */
  char *out, *err;  /* captured output */
  char out_path[512], err_path[512]; /* where the output was captured while running */
} ft_run;

/* Environment changes for a command: "NAME=VALUE" sets, "NAME" alone unsets.
** Every command also starts with LD_PRELOAD and all FRAGTRACE_* variables
** of the test's own environment removed, so the tests do not depend on how
** they are run. Lists are NULL-terminated; NULL means no changes. */

/* Start argv[0] (searched in PATH) with the changed environment; stdout and
** stderr go to files in FT_TMP, stdin is /dev/null. Fails the test if it
** cannot fork. The result must be collected with ft_wait. */
void ft_start(ft_run *r, const char *const env[], const char *const argv[]);

/* ft_start in directory cwd (NULL: the test's own). */
void ft_start_in(ft_run *r, const char *cwd, const char *const env[], const char *const argv[]);

/* Wait for a command started with ft_start, up to timeout_s seconds (then
** it is SIGKILLed and the test fails), and read its output. */
void ft_wait(ft_run *r, double timeout_s);

/* ft_start + ft_wait with a 120 s timeout. Returns r->status. */
int ft_run_cmd(ft_run *r, const char *const env[], const char *const argv[]);

/* ft_run_cmd in directory cwd (NULL: the test's own). */
int ft_run_cmd_in(ft_run *r, const char *cwd, const char *const env[], const char *const argv[]);

/* Release out/err. */
void ft_run_free(ft_run *r);

/* Run `FT_BIN record -q -o db [opts...] -- argv...` (db removed first, and
** its spill directories). opts may be NULL. Returns the exit status. */
int ft_record(ft_run *r, const char *db, const char *const env[], const char *const opts[],
              const char *const argv[]);

/* FT_TMP "/" name, in a static ring of 64 buffers shared by ft_tmp_path,
** ft_prog, ft_fmt and ft_q_str: a result stays valid for the next 63 calls
** of any of them (copy it when a loop makes more). Creates FT_TMP. */
const char *ft_tmp_path(const char *name);

/* FT_PROGS "/" name, same buffer rules as ft_tmp_path. */
const char *ft_prog(const char *name);

/* printf into the static ring of buffers (see ft_tmp_path). */
const char *ft_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Number of lines in s (a last line without '\n' counts). */
int ft_count_lines(const char *s);

/* The integer after "key=" in s (e.g. ft_kv(out, "pid")), failing the test
** when it is missing. Values may be decimal or 0x-hex. */
long long ft_kv(const char *s, const char *key);

/* Remove a file if it exists; unlink every "<path>.*" spill leftover too. */
void ft_remove(const char *path);

/* Whether path exists (lstat). */
int ft_exists(const char *path);

/* Permission bits of path (st_mode & 07777); fails the test if it is missing. */
int ft_mode(const char *path);

/* Number of directory entries in dir whose name starts with prefix and ends
** with suffix (either may be ""). */
int ft_count_files(const char *dir, const char *prefix, const char *suffix);

/* Whole contents of a file (malloc'd, NUL-terminated), NULL if unreadable. */
char *ft_read_file(const char *path);

/* Write a whole file (fails the test on error). */
void ft_write_file(const char *path, const char *text);

/* ---- the trace ---- */

/* Open a trace read-only; fails the test when it cannot be opened or is not a
** trace (no `allocations` view). Close with sqlite3_close. */
sqlite3 *ft_db_open(const char *path);

/* The single integer a query yields (printf-style SQL). Fails the test, with
** the SQL, on an SQL error, no row, or NULL. */
long long ft_q_int(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like ft_q_int, but a NULL result (or no row) yields if_null. */
long long ft_q_int_or(sqlite3 *db, long long if_null, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The single text value a query yields, in the static ring of buffers (see
** ft_tmp_path); NULL result -> "(null)". Fails like ft_q_int on
** SQL errors and when there is no row. */
const char *ft_q_str(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Dump the result of a query to stderr (diagnostics for a failing test). */
void ft_q_dump(sqlite3 *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shorthands. */
#define FT_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define FT_ENV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* assert_int_equal with a printed label: cmocka's own message only shows
** the numbers, and a trace test compares many numbers. */
#define ft_expect_eq(label, got, want)                                                      \
  do {                                                                                      \
    long long g_ = (long long)(got), w_ = (long long)(want);                                \
    if (g_ != w_) fail_msg("%s: got %lld, expected %lld", (label), g_, w_);                 \
  } while (0)

#define ft_expect_true(label, cond)                                                         \
  do {                                                                                      \
    if (!(cond)) fail_msg("%s: expected %s", (label), #cond);                               \
  } while (0)

/* Fail the test with the command's captured stderr when it did not exit
** with the expected status. */
void ft_expect_status(const ft_run *r, int want);

/* Fail the test, showing what was written, when the command wrote anything
** to stderr. */
void ft_expect_no_stderr(const ft_run *r);

#endif
