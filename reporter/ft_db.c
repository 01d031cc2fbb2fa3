/*
** ft_db.c — creating and opening trace databases (see ft_db.h).
**
** Safety rules: a trace is created with open(O_EXCL|O_NOFOLLOW, 0600) before
** SQLite touches it, so it is never written through a symlink and never
** readable by others; an existing file is only replaced when it is a regular
** file we own. Stale -journal/-wal/-shm files next to a replaced trace are
** removed too: SQLite would otherwise "roll back" a hot journal of the old
** file into the new one.
**
** Pragmas: a fresh trace is bulk-loaded with synchronous=OFF and an in-memory
** journal (a crash leaves a half-written new file, which is no worse than no
** file). Appending to an existing trace keeps SQLite's default rollback
** journal so a crash mid-import cannot corrupt the data already there.
*/
#include "ft_db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Milliseconds an appender or reader waits for another process's import. */
#define FT_BUSY_TIMEOUT_MS 10000

/* Run sql on db; on failure write "<what>: <sqlite message>" to err. */
static int ft_exec(sqlite3 *db, const char *sql, const char *what, char *err, size_t errlen) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", what, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* Refuse anything at path that is not a regular file we may replace or
** extend: symlinks always, and (when must_own) files owned by someone else.
** Returns 0 when path is fine, 1 when it does not exist, -1 with err. */
static int ft_check_existing(const char *path, int must_own, char *err, size_t errlen) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT) return 1;
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (S_ISLNK(st.st_mode)) {
    snprintf(err, errlen, "%s: refusing to write through symlink", path);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: exists and is not a regular file", path);
    return -1;
  }
  if (must_own && st.st_uid != geteuid()) {
    snprintf(err, errlen, "%s: exists and is not owned by us; refusing to replace it", path);
    return -1;
  }
  return 0;
}

/* Remove path if it is a regular file we own (symlinks and others are an
** error); absent is fine. Returns 0 or -1 with err. */
static int ft_remove_owned(const char *path, char *err, size_t errlen) {
  int r = ft_check_existing(path, 1, err, errlen);
  if (r < 0) return -1;
  if (r == 0 && unlink(path) != 0 && errno != ENOENT) {
    snprintf(err, errlen, "%s: cannot remove: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* Create path as a new, empty, mode-0600 file, never following a symlink.
** Returns 0, or -1 with errno kept (EEXIST when someone else created it). */
static int ft_create_file(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  /* open's mode is filtered by the umask; be exact whatever it is. */
  if (fchmod(fd, 0600) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  close(fd);
  return 0;
}

/* Open path with SQLite using flags (callers that write add
** SQLITE_OPEN_NOFOLLOW); on failure close the handle and write the reason to
** err. */
static int ft_sqlite_open(const char *path, int flags, sqlite3 **out, char *err, size_t errlen) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(path, &db, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return -1;
  }
  sqlite3_extended_result_codes(db, 1);
  *out = db;
  return 0;
}

/* Load the schema and the creation meta rows if db is still empty. Runs
** under a write lock, so two processes racing to initialise the same new
** file do it once. Returns 0 or -1 with err. */
static int ft_init_schema(sqlite3 *db, const char *path, char *err, size_t errlen) {
  if (ft_exec(db, "BEGIN IMMEDIATE", path, err, errlen) != 0) return -1;
  sqlite3_stmt *st = NULL;
  int n = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (n < 0) {
    snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    goto fail;
  }
  if (n == 0) {
    if (ft_exec(db, ft_schema_v1_sql, "loading schema", err, errlen) != 0) goto fail;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO meta(key, value) VALUES ('schema_version', '%d'), "
             "('fragtrace_version', '%s'), ('created_unix_ns', '%lld')",
             FT_SCHEMA_VERSION, FT_VERSION, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if (ft_exec(db, sql, "writing meta", err, errlen) != 0) goto fail;
  }
  if (ft_exec(db, "COMMIT", path, err, errlen) != 0) goto fail;
  return 0;
fail:
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

/* Whether db has a table called name (errors count as no). */
static int ft_has_table(sqlite3 *db, const char *name) {
  sqlite3_stmt *st = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
  }
  sqlite3_finalize(st);
  return found;
}

/* Check that db is a fragtrace trace whose schema version we understand.
** Returns 0, or -1 with a one-line message naming path. */
static int ft_check_trace(sqlite3 *db, const char *path, char *err, size_t errlen) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL);
  if (rc != SQLITE_OK) {
    int primary = rc & 0xff;
    if (primary == SQLITE_NOTADB)
      snprintf(err, errlen, "%s: not a SQLite database", path);
    else if (primary == SQLITE_ERROR && !ft_has_table(db, "meta"))
      snprintf(err, errlen, "%s: not a fragtrace trace (no meta table)", path);
    else
      snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    if (rc == SQLITE_DONE)
      snprintf(err, errlen, "%s: not a fragtrace trace (no schema_version in meta)", path);
    else
      snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  const char *v = (const char *)sqlite3_column_text(st, 0);
  char *end = NULL;
  long ver = v ? strtol(v, &end, 10) : 0;
  int ok_num = v && end != v && *end == '\0' && ver >= 1;
  if (!ok_num)
    snprintf(err, errlen, "%s: not a fragtrace trace (bad schema_version '%s')", path, v ? v : "NULL");
  else if (ver > FT_SCHEMA_VERSION)
    snprintf(err, errlen, "%s: trace schema version %ld is newer than this fragtrace supports (%d)", path,
             ver, FT_SCHEMA_VERSION);
  sqlite3_finalize(st);
  return ok_num && ver <= FT_SCHEMA_VERSION ? 0 : -1;
}

int ft_db_create(const char *path, sqlite3 **out, char *err, size_t errlen) {
  *out = NULL;
  if (ft_remove_owned(path, err, errlen) != 0) return -1;
  /* SQLite names its side files "<db>-journal", "-wal" and "-shm". */
  static const char *const side[] = {"-journal", "-wal", "-shm"};
  for (size_t i = 0; i < sizeof side / sizeof side[0]; i++) {
    char p[4096 + 16];
    if ((size_t)snprintf(p, sizeof p, "%s%s", path, side[i]) >= sizeof p) {
      snprintf(err, errlen, "%s: path too long", path);
      return -1;
    }
    if (ft_remove_owned(p, err, errlen) != 0) return -1;
  }
  if (ft_create_file(path) != 0) {
    snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    return -1;
  }
  sqlite3 *db;
  if (ft_sqlite_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, &db, err, errlen) != 0) return -1;
  /* page_size only takes effect before the first table is created. */
  if (ft_exec(db,
              "PRAGMA page_size=65536; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; "
              "PRAGMA cache_size=-65536;",
              "setting pragmas", err, errlen) != 0 ||
      ft_init_schema(db, path, err, errlen) != 0) {
    sqlite3_close(db);
    return -1;
  }
  *out = db;
  return 0;
}

int ft_db_open_append(const char *path, sqlite3 **out, char *err, size_t errlen) {
  *out = NULL;
  int r = ft_check_existing(path, 0, err, errlen);
  if (r < 0) return -1;
  /* Several exiting processes may append at once: whoever creates the file
  ** wins, the others open what it created (ft_init_schema is idempotent). */
  if (r == 1 && ft_create_file(path) != 0) {
    if (errno != EEXIST) {
      snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
      return -1;
    }
    if (ft_check_existing(path, 0, err, errlen) != 0) return -1;
  }
  sqlite3 *db;
  if (ft_sqlite_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, &db, err, errlen) != 0) return -1;
  sqlite3_busy_timeout(db, FT_BUSY_TIMEOUT_MS);
  /* Default rollback journal on purpose (see the file comment). An empty
  ** file is one we (or a racing appender) just created: initialise it under
  ** a write lock, which is a no-op if the other process got there first. */
  struct stat st;
  int empty = stat(path, &st) == 0 && st.st_size == 0;
  if (ft_exec(db, "PRAGMA cache_size=-65536", "setting pragmas", err, errlen) != 0 ||
      (empty && (ft_exec(db, "PRAGMA page_size=65536", "setting pragmas", err, errlen) != 0 ||
                 ft_init_schema(db, path, err, errlen) != 0)) ||
      ft_check_trace(db, path, err, errlen) != 0) {
    sqlite3_close(db);
    return -1;
  }
  *out = db;
  return 0;
}

/* A trace cut short still opens, and may even answer the first queries: the
** database header says how long the file must be. Returns 0, or -1 with a
** message when the file is shorter. Files that are not SQLite pass (the
** open reports them). */
static int check_complete(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  unsigned char h[100];
  size_t n = fread(h, 1, sizeof h, f);
  struct stat st;
  int ok = fstat(fileno(f), &st) == 0;
  fclose(f);
  if (!ok || n < sizeof h || memcmp(h, "SQLite format 3", 16) != 0) return 0;
  uint32_t page = (uint32_t)h[16] << 8 | h[17];
  if (page == 1) page = 65536;
  uint32_t change = (uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 | (uint32_t)h[26] << 8 | h[27];
  uint32_t pages = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
  uint32_t valid = (uint32_t)h[92] << 24 | (uint32_t)h[93] << 16 | (uint32_t)h[94] << 8 | h[95];
  /* The size field is only meaningful when written by the last writer. */
  if (valid != change || pages == 0) return 0;
  uint64_t want = (uint64_t)pages * page;
  if ((uint64_t)st.st_size < want) {
    snprintf(err, errlen, "%s: truncated trace (%lld of %llu bytes)", path, (long long)st.st_size,
             (unsigned long long)want);
    return -1;
  }
  return 0;
}

int ft_db_open_readonly(const char *path, sqlite3 **out, char *err, size_t errlen) {
  *out = NULL;
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    return -1;
  }
  /* SQLite would happily treat an empty file as an empty database. */
  if (st.st_size == 0) {
    snprintf(err, errlen, "%s: empty file, not a fragtrace trace", path);
    return -1;
  }
  if (check_complete(path, err, errlen) != 0) return -1;
  sqlite3 *db;
  /* NOMUTEX: readers use a connection from one thread, and Debian's SQLite
  ** would otherwise lock on every column read (0.8 s per pass over 10M rows). */
  if (ft_sqlite_open(path, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, &db, err, errlen) != 0) return -1;
  sqlite3_busy_timeout(db, FT_BUSY_TIMEOUT_MS); /* an import may be committing */
  if (ft_check_trace(db, path, err, errlen) != 0) {
    sqlite3_close(db);
    return -1;
  }
  *out = db;
  return 0;
}
