/*
** ft_itest.c — harness of the integration tests (see ft_itest.h).
*/
#define _GNU_SOURCE
#include "ft_itest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RING 64
#define BUFSZ 8192

static char *ring_buf(void) {
  static char bufs[RING][BUFSZ];
  static unsigned next;
  return bufs[next++ % RING];
}

const char *ft_fmt(const char *fmt, ...) {
  char *b = ring_buf();
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b, BUFSZ, fmt, ap);
  va_end(ap);
  if (n < 0 || n >= BUFSZ) fail_msg("ft_fmt: result too long (format %s)", fmt);
  return b;
}

static void ensure_tmp(void) {
  static int made;
  if (!made) {
    if (mkdir(FT_TMP, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", FT_TMP, strerror(errno));
    made = 1;
  }
}

const char *ft_tmp_path(const char *name) {
  ensure_tmp();
  return ft_fmt("%s/%s", FT_TMP, name);
}

const char *ft_prog(const char *name) { return ft_fmt("%s/%s", FT_PROGS, name); }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *cmdline_of(const char *const argv[]) {
  static char buf[BUFSZ];
  size_t n = 0;
  buf[0] = 0;
  for (int i = 0; argv[i] && n + 4 < sizeof buf; i++) {
    int k = snprintf(buf + n, sizeof buf - n, "%s%s", i ? " " : "", argv[i]);
    if (k < 0) break;
    n += (size_t)k;
    if (n >= sizeof buf) n = sizeof buf - 1;
  }
  return buf;
}

/* In the child: the environment of a test command. */
static void apply_env(const char *const env[]) {
  /* Drop what the test's own environment might carry. Collect names first:
  ** unsetenv edits environ while we walk it. */
  char names[64][128];
  int nn = 0;
  for (char **e = environ; e && *e && nn < 64; e++) {
    if (strncmp(*e, "FRAGTRACE_", 10) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0) continue;
    const char *eq = strchr(*e, '=');
    size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
    if (len >= sizeof names[0]) continue;
    memcpy(names[nn], *e, len);
    names[nn++][len] = 0;
  }
  for (int i = 0; i < nn; i++) unsetenv(names[i]);
  for (int i = 0; env && env[i]; i++) {
    const char *eq = strchr(env[i], '=');
    if (!eq) {
      unsetenv(env[i]);
      continue;
    }
    char name[256];
    size_t len = (size_t)(eq - env[i]);
    if (len >= sizeof name) _exit(120);
    memcpy(name, env[i], len);
    name[len] = 0;
    setenv(name, eq + 1, 1);
  }
}

void ft_start(ft_run *r, const char *const env[], const char *const argv[]) { ft_start_in(r, NULL, env, argv); }

void ft_start_in(ft_run *r, const char *cwd, const char *const env[], const char *const argv[]) {
  static unsigned seq;
  memset(r, 0, sizeof *r);
  r->status = -1;
  ensure_tmp(); /* (no ring buffers used here: callers may hold some) */
  snprintf(r->out_path, sizeof r->out_path, "%s/run.%d.%u.out", FT_TMP, (int)getpid(), seq);
  snprintf(r->err_path, sizeof r->err_path, "%s/run.%d.%u.err", FT_TMP, (int)getpid(), seq);
  seq++;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) fail_msg("fork: %s", strerror(errno));
  if (pid == 0) {
    setpgid(0, 0); /* its own group, so a timeout can kill the whole tree */
    int in = open("/dev/null", O_RDONLY);
    int out = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(r->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(121);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    close(in);
    close(out);
    close(err);
    apply_env(env);
    if (cwd && chdir(cwd) != 0) {
      dprintf(2, "ft_start: cannot chdir to %s: %s\n", cwd, strerror(errno));
      _exit(122);
    }
    execvp(argv[0], (char *const *)argv);
    dprintf(2, "ft_start: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  setpgid(pid, pid);
  r->pid = pid;
  r->seconds = now_s(); /* start time until ft_wait */
  print_message("[ run      ] %s%s%s%s\n", cwd ? "(in " : "", cwd ? cwd : "", cwd ? ") " : "", cmdline_of(argv));
}

void ft_wait(ft_run *r, double timeout_s) {
  double t0 = r->seconds, deadline = t0 + timeout_s;
  int st = 0;
  for (;;) {
    pid_t w = waitpid(r->pid, &st, WNOHANG);
    if (w == r->pid) break;
    if (w < 0 && errno != EINTR) fail_msg("waitpid %d: %s", (int)r->pid, strerror(errno));
    if (now_s() > deadline) {
      kill(-r->pid, SIGKILL);
      kill(r->pid, SIGKILL);
      waitpid(r->pid, &st, 0);
      fail_msg("command (pid %d) still running after %.0f s: killed", (int)r->pid, timeout_s);
    }
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  r->seconds = now_s() - t0;
  r->signaled = WIFSIGNALED(st);
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r->out = ft_read_file(r->out_path);
  r->err = ft_read_file(r->err_path);
  if (!r->out) r->out = strdup("");
  if (!r->err) r->err = strdup("");
  unlink(r->out_path);
  unlink(r->err_path);
}

int ft_run_cmd(ft_run *r, const char *const env[], const char *const argv[]) {
  return ft_run_cmd_in(r, NULL, env, argv);
}

int ft_run_cmd_in(ft_run *r, const char *cwd, const char *const env[], const char *const argv[]) {
  ft_start_in(r, cwd, env, argv);
  ft_wait(r, 120);
  return r->status;
}

void ft_run_free(ft_run *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

void ft_expect_status(const ft_run *r, int want) {
  if (r->status != want)
    fail_msg("exit status %d, expected %d\n--- stdout:\n%s\n--- stderr:\n%s", r->status, want,
             r->out ? r->out : "", r->err ? r->err : "");
}

void ft_expect_no_stderr(const ft_run *r) {
  if (r->err && r->err[0]) fail_msg("unexpected output on stderr:\n%s", r->err);
}

int ft_record(ft_run *r, const char *db, const char *const env[], const char *const opts[],
              const char *const argv[]) {
  const char *args[256];
  int n = 0;
  args[n++] = FT_BIN;
  args[n++] = "record";
  args[n++] = "-q";
  args[n++] = "-o";
  args[n++] = db;
  for (int i = 0; opts && opts[i] && n < 200; i++) args[n++] = opts[i];
  args[n++] = "--";
  for (int i = 0; argv[i] && n < 255; i++) args[n++] = argv[i];
  args[n] = NULL;
  ft_remove(db);
  return ft_run_cmd(r, env, args);
}

int ft_count_lines(const char *s) {
  int n = 0;
  const char *p = s;
  for (; *p; p++)
    if (*p == '\n') n++;
  if (p > s && p[-1] != '\n') n++;
  return n;
}

long long ft_kv(const char *s, const char *key) {
  size_t kl = strlen(key);
  for (const char *p = s; (p = strstr(p, key)); p++) {
    if ((p == s || p[-1] == ' ' || p[-1] == '\n') && p[kl] == '=') {
      char *end;
      errno = 0;
      long long v = strtoll(p + kl + 1, &end, 0);
      if (errno == 0 && end != p + kl + 1) return v;
    }
  }
  fail_msg("no '%s=' in the program's output:\n%s", key, s);
  return 0;
}

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      struct dirent *e;
      while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        remove_tree(sub);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

void ft_remove(const char *path) {
  remove_tree(path);
  /* "<path>.spill.XXXXXX" directories and "<path>.<pid>-*.ftspill" files, and
  ** SQLite's -journal/-wal leftovers. */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  const char *base = path;
  if (slash) {
    *slash = 0;
    base = slash + 1;
  } else {
    strcpy(dir, ".");
  }
  DIR *d = opendir(dir);
  if (!d) return;
  size_t bl = strlen(base);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strncmp(e->d_name, base, bl) != 0) continue;
    char c = e->d_name[bl];
    if (c != '.' && c != '-') continue;
    char sub[4096];
    /* A path that does not fit is not one of ours: leave it. */
    if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub) continue;
    remove_tree(sub);
  }
  closedir(d);
}

int ft_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

int ft_mode(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) fail_msg("stat %s: %s", path, strerror(errno));
  return (int)(st.st_mode & 07777);
}

int ft_count_files(const char *dir, const char *prefix, const char *suffix) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  size_t pl = strlen(prefix), sl = strlen(suffix);
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < pl + sl || strncmp(e->d_name, prefix, pl) != 0) continue;
    if (strcmp(e->d_name + len - sl, suffix) != 0) continue;
    n++;
  }
  closedir(d);
  return n;
}

char *ft_read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  size_t k;
  while (b && (k = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += k;
    if (cap - n < 2) {
      char *g = realloc(b, cap * 2);
      if (!g) {
        free(b);
        b = NULL;
        break;
      }
      b = g;
      cap *= 2;
    }
  }
  fclose(f);
  if (b) b[n] = 0;
  return b;
}

void ft_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("cannot write %s: %s", path, strerror(errno));
  size_t n = strlen(text);
  if (fwrite(text, 1, n, f) != n || fclose(f) != 0) fail_msg("cannot write %s", path);
}

/* ---- the trace ---- */

sqlite3 *ft_db_open(const char *path) {
  sqlite3 *db = NULL;
  if (!ft_exists(path)) fail_msg("trace %s does not exist", path);
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    const char *m = db ? sqlite3_errmsg(db) : "out of memory";
    fail_msg("cannot open trace %s: %s", path, m);
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM allocations", -1, &q, NULL) != SQLITE_OK ||
      sqlite3_step(q) != SQLITE_ROW) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    sqlite3_close(db);
    fail_msg("%s is not a readable trace: %s", path, msg);
  }
  sqlite3_finalize(q);
  return db;
}

/* Prepare and step once; on any failure report the SQL and fail the test.
** Returns the statement positioned on its first row, or NULL (no row). */
static sqlite3_stmt *q_first(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    fail_msg("SQL error: %s\n  in: %s", msg, sql);
  }
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) return q;
  if (rc != SQLITE_DONE) {
    char msg[512];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    fail_msg("SQL error: %s\n  in: %s", msg, sql);
  }
  sqlite3_finalize(q);
  return NULL;
}

static long long q_int_v(sqlite3 *db, int null_ok, long long if_null, const char *fmt, va_list ap) {
  char *sql = sqlite3_vmprintf(fmt, ap);
  if (!sql) fail_msg("out of memory");
  char copy[BUFSZ];
  snprintf(copy, sizeof copy, "%s", sql);
  sqlite3_free(sql);
  sqlite3_stmt *q = q_first(db, copy);
  if (!q) {
    if (null_ok) return if_null;
    fail_msg("SQL returned no row: %s", copy);
  }
  if (sqlite3_column_type(q, 0) == SQLITE_NULL) {
    sqlite3_finalize(q);
    if (null_ok) return if_null;
    fail_msg("SQL returned NULL: %s", copy);
  }
  long long v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

long long ft_q_int(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  long long v = q_int_v(db, 0, 0, fmt, ap);
  va_end(ap);
  return v;
}

long long ft_q_int_or(sqlite3 *db, long long if_null, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  long long v = q_int_v(db, 1, if_null, fmt, ap);
  va_end(ap);
  return v;
}

const char *ft_q_str(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  if (!sql) fail_msg("out of memory");
  char copy[BUFSZ];
  snprintf(copy, sizeof copy, "%s", sql);
  sqlite3_free(sql);
  sqlite3_stmt *q = q_first(db, copy);
  if (!q) fail_msg("SQL returned no row: %s", copy);
  char *b = ring_buf();
  const unsigned char *t = sqlite3_column_text(q, 0);
  snprintf(b, BUFSZ, "%s", t ? (const char *)t : "(null)");
  sqlite3_finalize(q);
  return b;
}

void ft_q_dump(sqlite3 *db, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  if (!sql) return;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
    print_error("dump: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_free(sql);
    return;
  }
  print_error("-- %s\n", sql);
  sqlite3_free(sql);
  int rows = 0;
  while (sqlite3_step(q) == SQLITE_ROW && rows++ < 200) {
    int nc = sqlite3_column_count(q);
    char line[2048];
    size_t n = 0;
    line[0] = 0;
    for (int i = 0; i < nc && n < sizeof line - 2; i++) {
      const unsigned char *t = sqlite3_column_text(q, i);
      int k = snprintf(line + n, sizeof line - n, "%s%s", i ? "|" : "", t ? (const char *)t : "NULL");
      if (k < 0) break;
      n += (size_t)k;
      if (n >= sizeof line) n = sizeof line - 1;
    }
    print_error("   %s\n", line);
  }
  sqlite3_finalize(q);
}
