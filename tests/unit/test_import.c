/*
** test_import.c — the importer on hand-made spill files: each test builds
** spills byte by byte (header, chunks, events), imports them into a fresh
** trace and checks exact rows through SQL. Times are small integers so the
** expected rows can be read off the event lists.
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
#include <math.h>
#include <sqlite3.h>
#include <unistd.h>

#include "ft_db.h"
#include "ft_format.h"
#include "ft_import.h"
#include "ft_pack.h"
#include "ft_spill.h"

#define PG 4096u

/* ---- spill builder: tests/unit/ft_spillbuild.h ----------------------------- */

#include "ft_spillbuild.h"

#define EV(t, type, a, n, s) ((ft_event){FT_EV_MAKE((t), (type)), (a), (n), (s)})
#define MALLOC(t, a, n) EV(t, FT_EV_MALLOC, a, n, 0)
#define FREE(t, a) EV(t, FT_EV_FREE, a, 0, 0)
#define MMAP(t, a, n) EV(t, FT_EV_MMAP, a, n, 0)
#define MUNMAP(t, a, n) EV(t, FT_EV_MUNMAP, a, n, 0)

/* ---- fixture: a temp dir with a fresh trace ------------------------------ */

typedef struct fx {
  char dir[64];
  char db_path[128];
  sqlite3 *db;
  char paths[16][160];
  int npaths;
  ft_import_stats st;
  char err[512];
} fx;

static int rm_cb(const char *p, const struct stat *s, int f, struct FTW *w) {
  (void)s, (void)f, (void)w;
  return remove(p);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  strcpy(f->dir, "/tmp/ft_imp_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->db_path, sizeof f->db_path, "%s/trace.db", f->dir);
  char err[256];
  if (ft_db_create(f->db_path, &f->db, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  sqlite3_close(f->db);
  nftw(f->dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* Write the builder's bytes (the first `keep` of them, all when keep is 0)
** to a new spill file of the fixture; returns its path. */
static const char *fx_write(fx *f, sb *s, size_t keep) {
  assert_true(f->npaths < 16);
  char *p = f->paths[f->npaths++], name[160];
  /* via a local buffer: gcc cannot tell that f->dir and p do not overlap */
  snprintf(name, sizeof name, "%s/spill.%d", f->dir, f->npaths);
  memcpy(p, name, sizeof name);
  FILE *fp = fopen(p, "wb");
  assert_non_null(fp);
  size_t len = keep ? keep : s->n;
  assert_int_equal(fwrite(s->b, 1, len, fp), len);
  fclose(fp);
  return p;
}

/* Import every spill written so far, expecting success. */
static void fx_import(fx *f) {
  const char *p[16];
  for (int i = 0; i < f->npaths; i++) p[i] = f->paths[i];
  int rc = ft_import_spills(f->db, p, (size_t)f->npaths, &f->st, f->err, sizeof f->err);
  if (rc != 0) fprintf(stderr, "import: %s\n", f->err);
  assert_int_equal(rc, 0);
}

/* First column of the first row of sql as an integer; -1 for NULL/no row. */
static long long q_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  long long v = -1;
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* First column of the first row of sql as text, in a static buffer ("NULL"). */
static const char *q_str(sqlite3 *db, const char *sql) {
  static char buf[8192];
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
  strcpy(buf, "NULL");
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
    snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return buf;
}

/* The allocations of process `proc` (0: all) as one line per row:
** "id kind tid 0xaddr size t_alloc t_free free_tid stack" ('-' for NULL),
** rows separated by " | ". */
static const char *rows_of(sqlite3 *db, int proc) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT group_concat(line, ' | ') FROM (SELECT id || ' ' || kind || ' ' || tid || ' ' || "
           "printf('0x%%x', address) || ' ' || size || ' ' || t_alloc_ns || ' ' || IFNULL(t_free_ns, '-') || "
           "' ' || IFNULL(free_tid, '-') || ' ' || IFNULL(stack_id, '-') AS line "
           "FROM allocations WHERE %d = 0 OR proc = %d ORDER BY id)",
           proc, proc);
  return q_str(db, sql);
}

static long long anomalies(sqlite3 *db) {
  return q_int(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'anomalies'");
}

/* ---- summary tables --------------------------------------------------------- */

/* One result set as text: column names, then one line per row with typed
** values ("i:", "r:", "t:", NULL), so 1 and 1.0 or 0 and NULL differ. */
static char *dump_rows(sqlite3 *db, const char *sql) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s\n-> %s", sql, sqlite3_errmsg(db));
  sb out = {0};
  char buf[128];
  int nc = sqlite3_column_count(q);
  for (int i = 0; i < nc; i++) {
    snprintf(buf, sizeof buf, "%s%s", i ? " " : "", sqlite3_column_name(q, i));
    sb_put(&out, buf, strlen(buf));
  }
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    sb_put(&out, "\n", 1);
    for (int i = 0; i < nc; i++) {
      switch (sqlite3_column_type(q, i)) {
      case SQLITE_INTEGER: snprintf(buf, sizeof buf, "i:%lld", (long long)sqlite3_column_int64(q, i)); break;
      case SQLITE_FLOAT: snprintf(buf, sizeof buf, "r:%.17g", sqlite3_column_double(q, i)); break;
      case SQLITE_NULL: snprintf(buf, sizeof buf, "NULL"); break;
      default: snprintf(buf, sizeof buf, "t:%.100s", (const char *)sqlite3_column_text(q, i)); break;
      }
      sb_put(&out, i ? " " : "", i ? 1 : 0);
      sb_put(&out, buf, strlen(buf));
    }
  }
  if (rc != SQLITE_DONE) fail_msg("%s\n-> %s", sql, sqlite3_errmsg(db));
  sqlite3_finalize(q);
  sb_put(&out, "", 1);
  return (char *)out.b;
}

/* schema/README.md, read once. */
static const char *readme(void) {
  static char *text;
  if (text) return text;
  FILE *fp = fopen(FT_FIXTURES "/../../schema/README.md", "rb");
  assert_non_null(fp);
  sb s = {0};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, fp)) > 0) sb_put(&s, buf, n);
  fclose(fp);
  sb_put(&s, "", 1);
  return text = (char *)s.b;
}

/* Every summary table equals, row for row and column for column, what the
** query documented for it in schema/README.md returns (the ```sql blocks
** that start with "-- equivalent of: TABLE"). */
static void check_summaries(sqlite3 *db) {
  static const char *const tables[] = {"process_stats", "site_stats", "site_lifetime_hist", "site_size_hist",
                                       "heap_timeline", "site_windows"};
  enum { NTABLES = sizeof tables / sizeof *tables };
  static const char mark[] = "```sql\n-- equivalent of: ";
  int seen[NTABLES] = {0};
  for (const char *p = strstr(readme(), mark); p; p = strstr(p, mark)) {
    const char *name = p + strlen(mark), *nl = strchr(name, '\n');
    const char *sql = p + strlen("```sql\n"), *end = strstr(sql, "\n```");
    assert_non_null(nl);
    assert_non_null(end);
    int t = -1;
    for (int i = 0; i < NTABLES; i++)
      if ((size_t)(nl - name) == strlen(tables[i]) && !strncmp(name, tables[i], (size_t)(nl - name))) t = i;
    if (t < 0) fail_msg("README documents an unknown summary table: %.*s", (int)(nl - name), name);
    seen[t]++;
    char *doc_sql = strndup(sql, (size_t)(end - sql)), table_sql[128];
    /* Every table's primary key is its first column, or its first two. */
    snprintf(table_sql, sizeof table_sql, "SELECT * FROM %s ORDER BY 1, 2", tables[t]);
    char *want = dump_rows(db, doc_sql), *got = dump_rows(db, table_sql);
    if (strcmp(want, got) != 0)
      fail_msg("%s differs from its documented query\n-- query:\n%.3000s\n-- table:\n%.3000s", tables[t], want, got);
    /* comparing empty tables proves nothing: every image has these rows */
    if (t == 0 || t == 4) assert_non_null(strchr(got, '\n'));
    free(want);
    free(got);
    free(doc_sql);
    p = end;
  }
  for (int i = 0; i < NTABLES; i++)
    if (seen[i] != 1) fail_msg("README has %d queries for %s", seen[i], tables[i]);
}

/* ---- tests ---------------------------------------------------------------- */

/* malloc/free/leak, one thread, plus process-level facts. */
static void test_simple(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  sb_chunk(&s, FT_CHUNK_CMDLINE, 0, "prog\0a b\0c\0", 11);
  sb_chunk(&s, FT_CHUNK_EXE, 0, "/usr/bin/prog", 13);
  sb_u64(&s, FT_CHUNK_THREAD, 100, 3);
  SB_EVENTS(&s, 100, MALLOC(10, 0x1000, 16), MALLOC(20, 0x2000, 32), FREE(30, 0x1000), FREE(35, 0x9999));
  sb_u64(&s, FT_CHUNK_DROPPED, 0, 5);
  sb_u64(&s, FT_CHUNK_DROPPED, 0, 7);
  sb_exit(&s, 40, 3);
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0),
                      "1 malloc 100 0x1000 16 10 30 100 - | 2 malloc 100 0x2000 32 20 - - -");
  assert_int_equal(f->st.processes, 1);
  assert_int_equal(f->st.threads, 1);
  assert_int_equal(f->st.allocations, 2);
  assert_int_equal(f->st.frees, 1);
  assert_int_equal(f->st.unmatched_frees, 1);
  assert_int_equal(f->st.events_dropped, 7);
  assert_int_equal(f->st.truncated_files, 0);
  assert_string_equal(q_str(f->db, "SELECT proc||' '||pid||' '||ppid||' '||IFNULL(parent_proc,'-')||' '||"
                                   "IFNULL(exec_from,'-')||' '||exe||' '||cmdline||' '||start_unix_ns||' '||"
                                   "end_ns||' '||ended_by||' '||page_size||' '||exit_status||' '||"
                                   "events_dropped||' '||unmatched_frees||' '||stack_depth FROM processes"),
                      "1 100 1 - - /usr/bin/prog prog a b c 5000 40 exit 4096 3 7 1 64");
  assert_string_equal(q_str(f->db, "SELECT thread||' '||proc||' '||pid||' '||tid FROM threads"), "1 1 100 100");
  /* free_thread is NULL when the allocating thread freed */
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM allocation_rows WHERE free_thread IS NOT NULL"), 0);
  assert_int_equal(q_int(f->db, "SELECT kind_thread FROM allocation_rows WHERE id = 1"), 0 | (1 << 3));
  assert_string_equal(q_str(f->db, "SELECT value FROM meta WHERE key = 'command'"), "prog a b c");
  assert_int_equal(anomalies(f->db), 0);
  assert_true(q_int(f->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'imported_unix_ns'") > 0);
  check_summaries(f->db);
  free(s.b);
}

/* calloc and memalign keep their kinds. */
static void test_kinds(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 100, EV(10, FT_EV_CALLOC, 0x1000, 64, 0), EV(20, FT_EV_MEMALIGN, 0x4000, 4096, 0),
            FREE(30, 0x4000), FREE(31, 0x1000));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0),
                      "1 calloc 100 0x1000 64 10 31 100 - | 2 memalign 100 0x4000 4096 20 30 100 -");
  check_summaries(f->db);
  free(s.b);
}

/* realloc chain: FREE(old) + REALLOC(new) pairs, one row per block, the
** previous one ended at the realloc instant; in-place growth too. */
static void test_realloc_chain(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 100, MALLOC(1, 0xa000, 10), FREE(2, 0xa000), EV(3, FT_EV_REALLOC, 0xb000, 20, 0),
            FREE(4, 0xb000), EV(5, FT_EV_REALLOC, 0xc000, 30, 0), FREE(6, 0xc000),
            EV(7, FT_EV_REALLOC, 0xc000, 40, 0));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 100 0xa000 10 1 2 100 - | "
                                         "2 realloc 100 0xb000 20 3 4 100 - | "
                                         "3 realloc 100 0xc000 30 5 6 100 - | "
                                         "4 realloc 100 0xc000 40 7 - - -");
  assert_int_equal(anomalies(f->db), 0);
  check_summaries(f->db);
  free(s.b);
}

/* A block freed by another thread records that thread. */
static void test_cross_thread_free(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 101, MALLOC(10, 0x1000, 8), MALLOC(11, 0x2000, 8), FREE(12, 0x2000));
  SB_EVENTS(&s, 102, FREE(20, 0x1000));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 101 0x1000 8 10 20 102 - | 2 malloc 101 0x2000 8 11 12 101 -");
  /* thread keys: 101 -> 1, 102 -> 2; only the cross-thread free stores its thread */
  assert_string_equal(q_str(f->db, "SELECT group_concat(IFNULL(free_thread,'-'), ',') FROM "
                                   "(SELECT free_thread FROM allocation_rows ORDER BY id)"),
                      "2,-");
  assert_int_equal(f->st.threads, 2);
  check_summaries(f->db);
  free(s.b);
}

/* Address reuse across threads when the chunk of the later events was
** written first, and thread streams split over several chunks. */
static void test_reuse_out_of_order(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 200, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 202, FREE(20, 0x1000));                 /* B: frees A's block */
  SB_EVENTS(&s, 201, MALLOC(10, 0x1000, 16));           /* A: allocated it earlier */
  SB_EVENTS(&s, 202, MALLOC(25, 0x3000, 8));            /* B */
  SB_EVENTS(&s, 201, MALLOC(30, 0x1000, 24), FREE(40, 0x1000)); /* A: reuses it */
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 201 0x1000 16 10 20 202 - | "
                                         "2 malloc 202 0x3000 8 25 - - - | "
                                         "3 malloc 201 0x1000 24 30 40 201 -");
  /* thread keys follow first appearance in time, not in the file */
  assert_string_equal(q_str(f->db, "SELECT group_concat(thread||'='||tid, ',') FROM threads"), "1=201,2=202");
  assert_int_equal(f->st.unmatched_frees, 0);
  assert_int_equal(anomalies(f->db), 0);
  check_summaries(f->db);
  free(s.b);
}

/* Same-timestamp tie between free(X) on one thread and malloc(X) on
** another, in every order the merge can meet them (see ft_import.c). */
static void test_reuse_tie(void **state) {
  fx *f = *state;
  sb s = {0};
  /* pid 300: the allocating thread A (301) sorts first, so the merge meets
  ** A's malloc(X)@50 while X is live and B's free(X)@50 is B's head. */
  sb_header(&s, 300, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 302, MALLOC(20, 0x9000, 8), FREE(50, 0x1000));
  SB_EVENTS(&s, 301, MALLOC(10, 0x1000, 16), MALLOC(50, 0x1000, 32));
  fx_write(f, &s, 0);
  /* pid 400: the freeing thread B (402) sorts first: the merge meets the
  ** free first, no rule needed; A's chunk is written first. */
  sb_header(&s, 400, 1, 2000, 6000, 0, 0);
  SB_EVENTS(&s, 401, MALLOC(10, 0x1000, 16), MALLOC(50, 0x1000, 32));
  SB_EVENTS(&s, 402, MALLOC(5, 0x9000, 8), FREE(50, 0x1000));
  fx_write(f, &s, 0);
  /* pid 500: the other direction: B (502, sorts first) frees at 50 the
  ** block A allocates at 50 (allocated, handed over, freed in one tick). */
  sb_header(&s, 500, 1, 3000, 7000, 0, 0);
  SB_EVENTS(&s, 502, MALLOC(1, 0x9000, 8), FREE(50, 0x1000));
  SB_EVENTS(&s, 501, MALLOC(5, 0x5000, 8), MALLOC(50, 0x1000, 32));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 1), "1 malloc 301 0x1000 16 10 50 302 - | "
                                         "2 malloc 302 0x9000 8 20 - - - | "
                                         "3 malloc 301 0x1000 32 50 - - -");
  assert_string_equal(rows_of(f->db, 2), "4 malloc 402 0x9000 8 5 - - - | "
                                         "5 malloc 401 0x1000 16 10 50 402 - | "
                                         "6 malloc 401 0x1000 32 50 - - -");
  assert_string_equal(rows_of(f->db, 3), "7 malloc 502 0x9000 8 1 - - - | "
                                         "8 malloc 501 0x5000 8 5 - - - | "
                                         "9 malloc 501 0x1000 32 50 50 502 -");
  assert_int_equal(f->st.unmatched_frees, 0);
  assert_int_equal(anomalies(f->db), 0);
  check_summaries(f->db);
  free(s.b);
}

/* A same-instant chain the merge meets in an impossible order: A's
** malloc(X)@50 while X is live; B first allocates Z, then frees X, both at
** 50. Consistent events at the instant go first, so B's free still precedes
** A's malloc. */
static void test_tie_chain(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 102, MALLOC(20, 0x9000, 8), MALLOC(50, 0x7000, 4), FREE(50, 0x1000));
  SB_EVENTS(&s, 101, MALLOC(10, 0x1000, 16), MALLOC(50, 0x1000, 32));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 101 0x1000 16 10 50 102 - | "
                                         "2 malloc 102 0x9000 8 20 - - - | "
                                         "3 malloc 102 0x7000 4 50 - - - | "
                                         "4 malloc 101 0x1000 32 50 - - -");
  assert_int_equal(f->st.unmatched_frees, 0);
  assert_int_equal(anomalies(f->db), 0);
  check_summaries(f->db);
  free(s.b);
}

/* Without a tie, an allocation over a live block ends the old row (an
** anomaly), and a free of an unknown address is counted per process. */
static void test_anomaly(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 101, MALLOC(10, 0x1000, 16), MALLOC(20, 0x1000, 32), FREE(30, 0x2000));
  SB_EVENTS(&s, 102, FREE(20, 0x4000));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 101 0x1000 16 10 20 101 - | 2 malloc 101 0x1000 32 20 - - -");
  assert_int_equal(anomalies(f->db), 1);
  assert_int_equal(q_int(f->db, "SELECT unmatched_frees FROM processes"), 2);
  check_summaries(f->db);
  free(s.b);
}

/* munmap of the middle of a mapping leaves two remnant rows; a munmap
** spanning two mappings ends both; lengths round up to pages; munmap never
** touches heap rows. */
static void test_munmap_partial(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  const uint64_t ip[4] = {0x401000, 0x402000, 0x403000, 0};
  SB_EVENTS(&s, 100, EV(0, FT_EV_STACK, 0, 3, 0xabc), ((ft_event){ip[0], ip[1], ip[2], ip[3]}),
            EV(10, FT_EV_MMAP, 0x10000, 5 * PG, 0xabc), MUNMAP(20, 0x12000, PG),
            MMAP(30, 0x100000, 2 * PG), MMAP(31, 0x104000, 2 * PG - 100), MUNMAP(40, 0x101000, 3 * PG + 1),
            MUNMAP(50, 0x100000, PG), MALLOC(60, 0x200000, 64), MUNMAP(70, 0x200000, PG));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 mmap 100 0x10000 20480 10 20 100 1 | "
                                         "2 mmap 100 0x10000 8192 20 - - 1 | "
                                         "3 mmap 100 0x13000 8192 20 - - 1 | "
                                         "4 mmap 100 0x100000 8192 30 40 100 - | "
                                         "5 mmap 100 0x104000 8192 31 40 100 - | "
                                         "6 mmap 100 0x100000 4096 40 50 100 - | "
                                         "7 mmap 100 0x105000 4096 40 - - - | "
                                         "8 malloc 100 0x200000 64 60 - - -");
  assert_string_equal(q_str(f->db, "SELECT group_concat(depth||':'||printf('0x%x', ip), ',') FROM "
                                   "(SELECT * FROM stack_frames ORDER BY depth)"),
                      "0:0x401000,1:0x402000,2:0x403000");
  check_summaries(f->db);
  free(s.b);
}

/* A remnant is owned by the thread that mapped it, even when another
** thread punched the hole. */
static void test_munmap_other_thread(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 101, MMAP(10, 0x10000, 3 * PG));
  SB_EVENTS(&s, 102, MUNMAP(20, 0x10000, PG));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 mmap 101 0x10000 12288 10 20 102 - | "
                                         "2 mmap 101 0x11000 8192 20 - - -");
  check_summaries(f->db);
  free(s.b);
}

/* MAP_FIXED over a live mapping replaces the overlap. */
static void test_map_fixed(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 100, MMAP(10, 0x400000, 4 * PG), MMAP(20, 0x401000, PG), MUNMAP(30, 0x400000, 4 * PG));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 mmap 100 0x400000 16384 10 20 100 - | "
                                         "2 mmap 100 0x400000 4096 20 30 100 - | "
                                         "3 mmap 100 0x402000 8192 20 30 100 - | "
                                         "4 mmap 100 0x401000 4096 20 30 100 -");
  assert_int_equal(anomalies(f->db), 0);
  check_summaries(f->db);
  free(s.b);
}

/* munmap(M) on B and mmap returning M on A at the same instant: the unmap
** went first (else the new mapping would be ended by it at once). */
static void test_mmap_tie(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 102, MALLOC(20, 0x9000, 8), MUNMAP(50, 0x500000, PG));
  SB_EVENTS(&s, 101, MMAP(10, 0x500000, PG), MMAP(50, 0x500000, PG));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 mmap 101 0x500000 4096 10 50 102 - | "
                                         "2 malloc 102 0x9000 8 20 - - - | "
                                         "3 mmap 101 0x500000 4096 50 - - -");
  check_summaries(f->db);
  free(s.b);
}

/* Same stack hash from two threads is one stack; another image's copy of
** the hash is its own stack (addresses only mean something per image). */
static void test_stack_dedup(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  const ft_event stack5[] = {EV(0, FT_EV_STACK, 0, 5, 0x51), {1, 2, 3, 4}, {5, 0, 0, 0}};
  const ft_event stack2[] = {EV(0, FT_EV_STACK, 0, 2, 0x52), {7, 8, 0, 0}};
  ft_event a[8];
  memcpy(a, stack5, sizeof stack5);
  a[3] = EV(10, FT_EV_MALLOC, 0x1000, 8, 0x51);
  memcpy(&a[4], stack2, sizeof stack2);
  a[6] = EV(12, FT_EV_MALLOC, 0x2000, 8, 0x52);
  sb_events(&s, 101, a, 7);
  ft_event b[4];
  memcpy(b, stack5, sizeof stack5);
  b[3] = EV(11, FT_EV_MALLOC, 0x3000, 8, 0x51);
  sb_events(&s, 102, b, 4);
  fx_write(f, &s, 0);
  sb_header(&s, 101, 1, 2000, 6000, 0, 0);
  sb_events(&s, 103, b, 4);
  fx_write(f, &s, 0);
  fx_import(f);
  assert_int_equal(f->st.stacks, 3);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 101 0x1000 8 10 - - 1 | "
                                         "2 malloc 102 0x3000 8 11 - - 1 | "
                                         "3 malloc 101 0x2000 8 12 - - 2 | "
                                         "4 malloc 103 0x3000 8 11 - - 3");
  assert_string_equal(q_str(f->db, "SELECT group_concat(stack_id||':'||proc||':'||depth, ',') FROM stacks"),
                      "1:1:5,2:1:2,3:2:5");
  assert_string_equal(q_str(f->db, "SELECT group_concat(ip, ',') FROM "
                                   "(SELECT ip FROM stack_frames WHERE stack_id = 1 ORDER BY depth)"),
                      "1,2,3,4,5");
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM stack_frames"), 12);
  check_summaries(f->db);
  free(s.b);
}

/* Fork children link to the exact parent image, exec'd images to the image
** they replaced; files come in any order. */
static void test_fork_exec(void **state) {
  fx *f = *state;
  sb s = {0};
  /* D: pid 302, plain child of pid 300 started after the exec: parent = P2 */
  sb_header(&s, 302, 300, 1700, 10700, 0, 0);
  sb_exit(&s, 5, 0);
  fx_write(f, &s, 0);
  /* P2: pid 300 after execve, started at 1600 */
  sb_header(&s, 300, 1, 1600, 10600, 0, 0);
  SB_EVENTS(&s, 300, MALLOC(10, 0x1000, 8));
  fx_write(f, &s, 0);
  /* C: pid 301 forked by P1 (start 1000) at 1200 */
  sb_header(&s, 301, 300, 1200, 10200, FT_FLAG_FORKED, 1000);
  SB_EVENTS(&s, 301, FREE(5, 0x1000));
  sb_exit(&s, 9, 3);
  fx_write(f, &s, 0);
  /* P1: pid 300, execs at t=500 (absolute 1500) */
  sb_header(&s, 300, 1, 1000, 10000, 0, 0);
  SB_EVENTS(&s, 300, MALLOC(10, 0x1000, 8));
  sb_u64(&s, FT_CHUNK_EXEC, 0, 500);
  sb_sample(&s, 400, 1, 1);
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(q_str(f->db, "SELECT group_concat(proc||':'||pid||':'||IFNULL(parent_proc,'-')||':'||"
                                   "IFNULL(exec_from,'-')||':'||ended_by||':'||IFNULL(exit_status,'-')||':'||"
                                   "end_ns||':'||unmatched_frees, ' ') FROM processes"),
                      "1:300:-:-:exec:-:500:0 2:301:1:-:exit:3:9:1 3:300:-:1:unknown:-:10:0 "
                      "4:302:3:-:exit:0:5:0");
  assert_int_equal(ft_import_set_exit_status(f->db, 300, 137), 0);
  assert_int_equal(q_int(f->db, "SELECT exit_status FROM processes WHERE proc = 3"), 137);
  assert_int_equal(q_int(f->db, "SELECT exit_status FROM processes WHERE proc = 1"), -1);
  assert_int_equal(ft_import_set_exit_status(f->db, 999, 1), -1);
  check_summaries(f->db);
  free(s.b);
}

/* A spill cut in the middle of its last chunk keeps everything before it;
** an empty spill (killed before its header) is skipped. */
static void test_truncated(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 100, MALLOC(10, 0x1000, 8), FREE(20, 0x1000));
  SB_EVENTS(&s, 100, MALLOC(30, 0x2000, 8));
  size_t whole = s.n;
  SB_EVENTS(&s, 100, MALLOC(40, 0x3000, 8), MALLOC(50, 0x4000, 8));
  fx_write(f, &s, whole + (s.n - whole) / 2);
  sb empty = {0};
  fx_write(f, &empty, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 100 0x1000 8 10 20 100 - | 2 malloc 100 0x2000 8 30 - - -");
  assert_int_equal(f->st.truncated_files, 2);
  assert_int_equal(f->st.processes, 1);
  assert_string_equal(q_str(f->db, "SELECT ended_by||':'||end_ns FROM processes"), "unknown:30");

  /* the reader itself */
  ft_spill sp;
  char err[256];
  assert_int_equal(ft_spill_reader_open(&sp, f->paths[0], err, sizeof err), 0);
  assert_int_equal(sp.truncated, 1);
  assert_int_equal(sp.nchunks, 2);
  assert_int_equal(sp.end, whole);
  ft_spill_iter it;
  ft_spill_chunk ch;
  int k = 0;
  ft_spill_iter_init(&it, &sp);
  while (ft_spill_iter_next(&it, &ch)) {
    assert_int_equal(ch.type, FT_CHUNK_EVENTS);
    assert_int_equal(ch.tid, 100);
    k++;
  }
  assert_int_equal(k, 2);
  ft_spill_reader_close(&sp);
  assert_int_equal(ft_spill_reader_open(&sp, f->paths[1], err, sizeof err), 1);
  free(s.b);
}

/* Not a spill: the import fails with the file named and writes nothing. */
static void test_bad_spill(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_EVENTS(&s, 100, MALLOC(10, 0x1000, 8));
  fx_write(f, &s, 0);
  s.b[0] = 'X';
  const char *bad = fx_write(f, &s, 0);
  const char *p[2] = {f->paths[0], bad};
  assert_int_equal(ft_import_spills(f->db, p, 2, &f->st, f->err, sizeof f->err), -1);
  assert_non_null(strstr(f->err, bad));
  assert_non_null(strstr(f->err, "magic"));
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM processes"), 0);
  /* an unknown chunk type ends the readable part like a truncation */
  s.b[0] = 'F';
  sb_chunk(&s, 99, 0, "x", 1);
  SB_EVENTS(&s, 100, MALLOC(20, 0x2000, 8));
  p[0] = fx_write(f, &s, 0);
  assert_int_equal(ft_import_spills(f->db, p, 1, &f->st, f->err, sizeof f->err), 0);
  assert_int_equal(f->st.truncated_files, 1);
  assert_int_equal(f->st.allocations, 1);
  free(s.b);
}

/* process_samples.live_bytes/live_allocations: rows with
** t_alloc <= t < t_free, mappings included, samples in any order. */
static void test_live_bytes(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  sb_sample(&s, 30, 111, 222);
  sb_sample(&s, 5, 1, 2);
  SB_EVENTS(&s, 100, MALLOC(10, 0x1000, 100), MALLOC(20, 0x2000, 200), MMAP(25, 0x10000, 2 * PG),
            FREE(30, 0x1000), MALLOC(30, 0x3000, 50));
  SB_EVENTS(&s, 101, MUNMAP(40, 0x10000, PG), MALLOC(45, 0x4000, 1), FREE(45, 0x4000));
  uint64_t ts[] = {10, 20, 25, 29, 40, 45, 100};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) sb_sample(&s, ts[i], 1000 + i, 2000 + i);
  sb_sample(&s, 100, 9, 9); /* duplicate time: the first one wins */
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||live_bytes||':'||live_allocations, ' ') "
                                   "FROM (SELECT * FROM process_samples ORDER BY t_ns)"),
                      "5:0:0 10:100:1 20:300:2 25:8492:3 29:8492:3 30:8442:3 40:4346:3 45:4346:3 100:4346:3");
  assert_string_equal(q_str(f->db, "SELECT rss_bytes||':'||vm_bytes||':'||proc||':'||pid FROM process_samples "
                                   "WHERE t_ns = 30"),
                      "111:222:1:100");
  assert_int_equal(q_int(f->db, "SELECT rss_bytes FROM process_samples WHERE t_ns = 100"), 1006);
  /* cross-check the sweep against the definition, in SQL */
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM process_samples s WHERE live_bytes != "
                                "(SELECT IFNULL(SUM(size), 0) FROM allocations a WHERE a.proc = s.proc "
                                "AND a.t_alloc_ns <= s.t_ns AND (a.t_free_ns IS NULL OR s.t_ns < a.t_free_ns))"),
                   0);
  check_summaries(f->db);
  free(s.b);
}

/* Packed event chunks (as the shim writes them) import exactly like raw
** ones, mixed within one thread, stacks included. */
static void test_packed(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 200, 1, 1000, 5000, 0, 0);
  SB_PACKED(&s, 202, FREE(20, 0x1000));
  SB_PACKED(&s, 201, EV(0, FT_EV_STACK, 0, 5, 0x51), ((ft_event){0x401000, 0x401100, 0x3fff00, 0x500000}),
            ((ft_event){0x7fffffff0000, 0, 0, 0}), EV(10, FT_EV_MALLOC, 0x1000, 16, 0x51));
  SB_EVENTS(&s, 202, EV(25, FT_EV_MALLOC, 0x3000, 8, 0x51));
  SB_PACKED(&s, 201, EV(30, FT_EV_CALLOC, 0x1000, 24, 0x51), FREE(40, 0x1000), MMAP(41, 0x10000, 3 * PG),
            MUNMAP(42, 0x11000, PG));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 201 0x1000 16 10 20 202 1 | "
                                         "2 malloc 202 0x3000 8 25 - - 1 | "
                                         "3 calloc 201 0x1000 24 30 40 201 1 | "
                                         "4 mmap 201 0x10000 12288 41 42 201 - | "
                                         "5 mmap 201 0x10000 4096 42 - - - | "
                                         "6 mmap 201 0x12000 4096 42 - - -");
  assert_string_equal(q_str(f->db, "SELECT group_concat(printf('0x%x', ip), ',') FROM "
                                   "(SELECT ip FROM stack_frames WHERE stack_id = 1 ORDER BY depth)"),
                      "0x401000,0x401100,0x3fff00,0x500000,0x7fffffff0000");
  assert_int_equal(f->st.truncated_files, 0);
  check_summaries(f->db);
  free(s.b);
}

/* A packed chunk that does not decode ends the readable part of the spill. */
static void test_packed_malformed(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  SB_PACKED(&s, 100, MALLOC(10, 0x1000, 8));
  const uint8_t bad[] = {0x05, 0x01, 0x02}; /* event type 5 does not exist */
  sb_chunk(&s, FT_CHUNK_EVENTS_PACKED, 100, bad, sizeof bad);
  SB_PACKED(&s, 100, MALLOC(20, 0x2000, 8));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 100 0x1000 8 10 - - -");
  assert_int_equal(f->st.truncated_files, 1);
  ft_spill sp;
  char err[256];
  assert_int_equal(ft_spill_reader_open(&sp, f->paths[0], err, sizeof err), 0);
  assert_string_equal(sp.why, "malformed packed events");
  ft_spill_reader_close(&sp);
  free(s.b);
}

/* FT_FLAG_TSC: events are matched in ticks and stored in ns through the
** clock pairs: linear between pairs from the implied (0, 0), the overall
** rate after the last one; a pair that would make time run backwards is
** dropped. Samples (ns) see the converted rows. */
static void test_tsc_clock(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, FT_FLAG_TSC, 0);
  /* ticks -> ns: [0,1000] x0.3; [1000,3000] x0.35; after 3000: x(1000/3000) */
  SB_EVENTS(&s, 100, MALLOC(100, 0x1000, 10), FREE(2000, 0x1000), MALLOC(2001, 0x2000, 20),
            MALLOC(2002, 0x3000, 30), FREE(3000, 0x2000));
  sb_clock(&s, 1000, 300);
  sb_clock(&s, 2500, 100); /* noise: ns went backwards */
  sb_clock(&s, 3000, 1000);
  SB_EVENTS(&s, 101, FREE(6000, 0x3000));
  sb_sample(&s, 649, 1, 1);
  sb_sample(&s, 650, 1, 1);
  fx_write(f, &s, 0);
  fx_import(f);
  /* 100 -> 30; 2000 -> 300+1000*0.35 = 650; 2001 -> 650.35; 2002 -> 650.7;
  ** 3000 -> 1000; 6000 -> 1000 + 3000/3 = 2000 */
  assert_string_equal(rows_of(f->db, 0), "1 malloc 100 0x1000 10 30 650 100 - | "
                                         "2 malloc 100 0x2000 20 650 1000 100 - | "
                                         "3 malloc 100 0x3000 30 650 2000 101 -");
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||live_bytes||':'||live_allocations, ' ') "
                                   "FROM (SELECT * FROM process_samples ORDER BY t_ns)"),
                      "649:10:1 650:50:2");
  assert_int_equal(q_int(f->db, "SELECT end_ns FROM processes"), 2000);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM meta WHERE key = 'clock_estimated'"), 0);
  check_summaries(f->db);
  free(s.b);
}

/* A TSC image killed before its first clock pair still imports, with an
** estimated rate, and says so. */
static void test_tsc_no_pairs(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, FT_FLAG_TSC, 0);
  SB_EVENTS(&s, 100, MALLOC(1000, 0x1000, 10), MALLOC(2000, 0x2000, 20), FREE(3000, 0x1000));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_int_equal(f->st.allocations, 2);
  assert_int_equal(q_int(f->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'clock_estimated'"), 1);
  assert_int_equal(q_int(f->db, "SELECT t_alloc_ns < t_free_ns AND t_free_ns > (SELECT t_alloc_ns FROM "
                                "allocations WHERE id = 2) FROM allocations WHERE id = 1"),
                   1);
  check_summaries(f->db);
  free(s.b);
}

/* shim_bytes comes from the sample; a sample written before the field
** existed (24 bytes) stores NULL. */
static void test_sample_shim_bytes(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  sb_sample(&s, 10, 1, 2);
  ft_sample old = {.t_ns = 20, .rss_bytes = 3, .vm_bytes = 4};
  sb_chunk(&s, FT_CHUNK_SAMPLE, 0, &old, offsetof(ft_sample, shim_bytes));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||rss_bytes||':'||vm_bytes||':'||"
                                   "IFNULL(shim_bytes, '-'), ' ') FROM "
                                   "(SELECT * FROM process_samples ORDER BY t_ns)"),
                      "10:1:2:4096 20:3:4:-");
  check_summaries(f->db);
  free(s.b);
}

/* buddyinfo snapshots become one row per (node, zone, order); maps
** snapshots give the union of file-backed mappings, first one wins. */
static void test_snapshots(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  sb_text(&s, FT_CHUNK_BUDDYINFO, 10,
          "Node 0, zone      DMA      1      1      0      0      2      1      1      0      1      1      3 \n"
          "Node 0, zone    DMA32      7      6      5      4      3      2      1      0      0      1    100 \n"
          "Node 0, zone   Normal   1234    567     89     10      9      8      7      6      5      4     42 \n");
  sb_text(&s, FT_CHUNK_BUDDYINFO, 20,
          "Node 0, zone      DMA      0      1      0      0      2      1      1      0      1      1      3 \n");
  sb_text(&s, FT_CHUNK_MAPS, 15,
          "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234 /usr/bin/prog\n"
          "55d0c0a02000-55d0c0a08000 r-xp 00002000 08:01 1234 /usr/bin/prog\n"
          "55d0c1000000-55d0c1021000 rw-p 00000000 00:00 0 [heap]\n"
          "7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
          "7f1000000000-7f1000100000 r-xp 00028000 08:01 99 /lib/x86_64-linux-gnu/libc.so.6\n");
  sb_text(&s, FT_CHUNK_MAPS, 25,
          "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234 /usr/bin/other\n"
          "7f2000000000-7f2000001000 r--p 00000000 08:01 77 /tmp/my lib.so (deleted)\n");
  fx_write(f, &s, 0);
  fx_import(f);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM buddyinfo_samples"), 44);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM buddyinfo_samples WHERE t_ns = 10"), 33);
  assert_int_equal(q_int(f->db, "SELECT free_blocks FROM buddyinfo_samples WHERE t_ns = 10 AND zone = 'Normal' "
                                "AND page_order = 0"),
                   1234);
  assert_int_equal(q_int(f->db, "SELECT free_blocks FROM buddyinfo_samples WHERE t_ns = 10 AND zone = 'DMA32' "
                                "AND page_order = 10"),
                   100);
  assert_string_equal(q_str(f->db, "SELECT group_concat(DISTINCT proc||':'||node) FROM buddyinfo_samples"),
                      "1:0");
  assert_string_equal(
      q_str(f->db, "SELECT group_concat(printf('%x-%x %x %s', start, \"end\", file_offset, path)||"
                   "IFNULL(build_id, ''), ' | ') FROM (SELECT * FROM mappings WHERE proc = 1 AND pid = 100 "
                   "ORDER BY start)"),
      "55d0c0a00000-55d0c0a02000 0 /usr/bin/prog | 55d0c0a02000-55d0c0a08000 2000 /usr/bin/prog | "
      "7f1000000000-7f1000100000 28000 /lib/x86_64-linux-gnu/libc.so.6 | "
      "7f2000000000-7f2000001000 0 /tmp/my lib.so (deleted)");
  check_summaries(f->db);
  free(s.b);
}

/* Importing in two steps (and through ft_db_open_append) continues every
** key where the trace left off. */
static void test_append(void **state) {
  fx *f = *state;
  sb s = {0};
  const ft_event st[] = {EV(0, FT_EV_STACK, 0, 1, 0x77), {42, 0, 0, 0}};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  sb_chunk(&s, FT_CHUNK_CMDLINE, 0, "first\0", 6);
  sb_events(&s, 100, st, 2);
  SB_EVENTS(&s, 100, EV(10, FT_EV_MALLOC, 0x1000, 8, 0x77));
  fx_write(f, &s, 0);
  fx_import(f);
  sqlite3_close(f->db);
  char err[256];
  assert_int_equal(ft_db_open_append(f->db_path, &f->db, err, sizeof err), 0);
  f->npaths = 0;
  sb_header(&s, 101, 100, 2000, 6000, 0, 0);
  sb_chunk(&s, FT_CHUNK_CMDLINE, 0, "second\0", 7);
  sb_events(&s, 101, st, 2);
  SB_EVENTS(&s, 101, EV(10, FT_EV_MALLOC, 0x1000, 8, 0x77), MALLOC(11, 0x2000, 8), MALLOC(12, 0x2000, 8));
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(rows_of(f->db, 0), "1 malloc 100 0x1000 8 10 - - 1 | 2 malloc 101 0x1000 8 10 - - 2 | "
                                         "3 malloc 101 0x2000 8 11 12 101 - | 4 malloc 101 0x2000 8 12 - - -");
  assert_string_equal(q_str(f->db, "SELECT group_concat(proc||':'||IFNULL(parent_proc,'-'), ' ') FROM processes"),
                      "1:- 2:1");
  assert_string_equal(q_str(f->db, "SELECT group_concat(thread||':'||proc, ' ') FROM threads"), "1:1 2:2");
  assert_string_equal(q_str(f->db, "SELECT value FROM meta WHERE key = 'command'"), "first");
  assert_int_equal(anomalies(f->db), 1); /* summed over imports */
  check_summaries(f->db);
  free(s.b);
}

#define S1 0xa1 /* stack hashes */
#define S2 0xa2
#define SITE(t, type, a, n, s) EV(t, type, a, n, s)

/* Every summary column on a trace small enough to work out by hand
** (schema/README.md has the definitions): two threads with cross-thread
** frees, ties of frees and allocations, a realloc in place, a
** zero-lifetime block, a lost stack, a partial munmap by the other thread,
** duplicate samples; an image whose slices hold several instants; an image
** without allocations; and a short_lived_ns the trace already had. */
static void test_summaries(void **state) {
  fx *f = *state;
  sb s = {0};
  const ft_event stk[] = {EV(0, FT_EV_STACK, 0, 1, S1), {0x401000, 0, 0, 0}, EV(0, FT_EV_STACK, 0, 1, S2),
                          {0x402000, 0, 0, 0}};
  sb_header(&s, 100, 1, 1000, 5000, 0, 0);
  sb_events(&s, 101, stk, 4);
  SB_EVENTS(&s, 101, SITE(10, FT_EV_MALLOC, 0x1000, 100, S1), FREE(20, 0x1000),
            SITE(30, FT_EV_MALLOC, 0x2000, 1000, S1), SITE(40, FT_EV_MALLOC, 0x3000, 5, S2), FREE(50, 0x2000),
            SITE(70, FT_EV_MALLOC, 0x5000, 2000, S2), FREE(80, 0x3000), SITE(90, FT_EV_MALLOC, 0x7000, 2500, S1),
            FREE(100, 0x7000), SITE(100, FT_EV_REALLOC, 0x7000, 3000, S1), SITE(110, FT_EV_MALLOC, 0x9000, 0, S2),
            FREE(110, 0x9000), SITE(140, FT_EV_MALLOC, 0xa000, 64, S1), SITE(150, FT_EV_MMAP, 0x100000, 3 * PG, S2));
  SB_EVENTS(&s, 102, MALLOC(50, 0x4000, 2000), FREE(60, 0x4000), SITE(80, FT_EV_MALLOC, 0x6000, 3, S1),
            FREE(90, 0x5000), FREE(120, 0x7000), FREE(130, 0x6000), MUNMAP(160, 0x101000, PG));
  sb_sample(&s, 55, 1000, 1);
  sb_sample(&s, 125, 5000, 1);
  sb_sample(&s, 125, 9000, 1); /* same instant: not stored, not the peak */
  sb_sample(&s, 180, 5000, 1);
  sb_exit(&s, 200, 0);
  fx_write(f, &s, 0);
  /* pid 200: end 5000, slices of 6 ns; a free at the peak instant (1001:
  ** that block is not live at the peak); a lifetime of exactly 15 ns (not
  ** short-lived) */
  sb_header(&s, 200, 1, 2000, 6000, 0, 0);
  SB_EVENTS(&s, 201, SITE(990, FT_EV_MALLOC, 0x500, 7, S1), SITE(1000, FT_EV_MALLOC, 0x1000, 10, S1), SITE(1001, FT_EV_MALLOC, 0x2000, 20, S1),
            FREE(1001, 0x500), FREE(1003, 0x2000), FREE(1004, 0x1000), SITE(1005, FT_EV_MALLOC, 0x3000, 5, S1),
            SITE(1010, FT_EV_MALLOC, 0x4000, 25, S1), FREE(1025, 0x4000));
  sb_exit(&s, 5000, 0);
  fx_write(f, &s, 0);
  /* pid 300: nothing allocated */
  sb_header(&s, 300, 1, 3000, 7000, 0, 0);
  sb_exit(&s, 7, 0);
  fx_write(f, &s, 0);
  assert_int_equal(sqlite3_exec(f->db, "INSERT INTO meta VALUES ('short_lived_ns', '15')", NULL, NULL, NULL),
                   SQLITE_OK);
  fx_import(f);
  assert_string_equal(q_str(f->db, "SELECT value FROM meta WHERE key = 'short_lived_ns'"), "15");
  assert_string_equal(rows_of(f->db, 1), "1 malloc 101 0x1000 100 10 20 101 1 | "
                                         "2 malloc 101 0x2000 1000 30 50 101 1 | "
                                         "3 malloc 101 0x3000 5 40 80 101 2 | "
                                         "4 malloc 102 0x4000 2000 50 60 102 - | "
                                         "5 malloc 101 0x5000 2000 70 90 102 2 | "
                                         "6 malloc 102 0x6000 3 80 130 102 1 | "
                                         "7 malloc 101 0x7000 2500 90 100 101 1 | "
                                         "8 realloc 101 0x7000 3000 100 120 102 1 | "
                                         "9 malloc 101 0x9000 0 110 110 101 2 | "
                                         "10 malloc 101 0xa000 64 140 - - 1 | "
                                         "11 mmap 101 0x100000 12288 150 160 102 2 | "
                                         "12 mmap 101 0x100000 4096 160 - - 2 | "
                                         "13 mmap 101 0x102000 4096 160 - - 2");
  /* Live heap: 10:100 20:0 30:1000 40:1005 50:2005 60:5 70:2005 (not a new
  ** maximum) 80:2003 90:2503 (frees first: never 4503) 100:3003 110:3003
  ** 120:3 130:0 140:64 150:12352 160:8256. Temporary: rows 1 (A's next
  ** allocation at 30 >= 20), 4 (B's next at 80), 6 (B's last), 7 (realloc
  ** at the free's instant), 9 (zero lifetime); not 2 (row 3 came at 40 <
  ** 50) nor 3 (row 5). Short-lived (< 15 ns): rows 1, 4, 7, 9, 11. */
  assert_string_equal(q_str(f->db, "SELECT group_concat(x, ' | ') FROM (SELECT proc||' '||allocations||' '||"
                                   "frees||' '||bytes||' '||leaked||' '||leaked_bytes||' '||temporary||' '||"
                                   "short_lived||' '||mmap_count||' '||mmap_bytes||' '||peak_live_bytes||' '||"
                                   "IFNULL(peak_live_ns,'-')||' '||peak_live_allocations||' '||"
                                   "IFNULL(peak_rss_bytes,'-')||' '||IFNULL(peak_rss_ns,'-') AS x "
                                   "FROM process_stats ORDER BY proc)"),
                      "1 13 10 31152 3 8256 5 5 3 20480 12352 150 2 5000 125 | "
                      "2 5 4 67 1 5 2 3 0 0 30 1001 2 - - | "
                      "3 0 0 0 0 0 0 0 0 0 0 - 0 - -");
  /* S1 (id 1) live: 10:100 ... 90:2503 100:3003; at the peak (150) row 10.
  ** S2 (id 2) live: 40:5 70:2005 80:2000 90:0 150:12288 160:8192; at the
  ** peak row 11. Image 2's S1 (id 3) is its own site. */
  assert_string_equal(q_str(f->db, "SELECT group_concat(x, ' | ') FROM (SELECT stack_id||' '||proc||' '||"
                                   "allocations||' '||bytes||' '||frees||' '||leaked||' '||leaked_bytes||' '||"
                                   "temporary||' '||short_lived||' '||min_size||' '||max_size||' '||"
                                   "first_alloc_ns||' '||last_alloc_ns||' '||max_live_bytes||' '||"
                                   "max_live_ns||' '||live_at_peak_bytes||' '||live_at_peak_count AS x "
                                   "FROM site_stats ORDER BY stack_id)"),
                      "1 1 6 6667 5 1 64 3 2 3 3000 10 140 3003 100 64 1 | "
                      "2 1 6 22485 4 2 8192 1 2 0 12288 40 160 12288 150 12288 1 | "
                      "3 2 5 67 4 1 5 2 3 5 25 990 1010 30 1001 30 2");
  assert_string_equal(q_str(f->db, "SELECT group_concat(stack_id||':'||bucket||'='||count, ' ') FROM "
                                   "(SELECT * FROM site_lifetime_hist ORDER BY 1, 2)"),
                      "1:3=2 1:4=2 1:5=1 2:0=1 2:3=1 2:4=1 2:5=1 3:1=1 3:2=1 3:3=2");
  assert_string_equal(q_str(f->db, "SELECT group_concat(stack_id||':'||bucket||'='||count||'/'||bytes, ' ') FROM "
                                   "(SELECT * FROM site_size_hist ORDER BY 1, 2)"),
                      "1:1=1/3 1:6=2/164 1:9=1/1000 1:11=2/5500 "
                      "2:0=1/0 2:2=1/5 2:10=1/2000 2:12=2/8192 2:13=1/12288 "
                      "3:2=2/12 3:3=1/10 3:4=2/45");
  /* Image 1 ends at 200: slices of 1 ns, a point for every ns. */
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM heap_timeline WHERE proc = 1"), 201);
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||live_bytes||'/'||live_allocations, ' ') FROM "
                                   "(SELECT * FROM heap_timeline WHERE proc = 1 AND t_ns IN (0, 9, 10, 89, 90, "
                                   "150, 159, 160, 200) ORDER BY t_ns)"),
                      "0:0/0 9:0/0 10:100/1 89:2003/2 90:2503/2 150:12352/2 159:12352/2 160:8256/3 200:8256/3");
  /* Image 2: slices of 6 ns. [996, 1002) peaks at 1001; [1002, 1008)
  ** starts with the 30 bytes carried in; [1008, 1014) reaches 30 again at
  ** 1010 (the peak stays at 1001: the first instant). */
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||live_bytes||'/'||live_allocations, ' ') FROM "
                                   "(SELECT * FROM heap_timeline WHERE proc = 2 AND t_ns BETWEEN 990 AND 1010 "
                                   "ORDER BY t_ns)"),
                      "990:7/1 1001:30/2 1002:30/2 1010:30/2");
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM heap_timeline WHERE proc = 2"), 5000 / 6 + 1 + 1);
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||live_bytes, ' ') FROM "
                                   "(SELECT * FROM heap_timeline WHERE proc = 2 AND t_ns >= 4990 ORDER BY t_ns)"),
                      "4992:5 4998:5 5000:5");
  /* Image 3: nothing, every ns of its 7 */
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||live_bytes, ' ') FROM "
                                   "(SELECT * FROM heap_timeline WHERE proc = 3 ORDER BY t_ns)"),
                      "0:0 1:0 2:0 3:0 4:0 5:0 6:0 7:0");
  check_summaries(f->db);
  free(s.b);
}

/* xorshift64 for the random traces. */
static uint64_t rnd(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Append a MODE chunk: byte sampling with mean n bytes (0: full capture). */
static void sb_mode(sb *s, uint64_t n, uint64_t seed, uint32_t flags) {
  ft_mode m = {.sample_bytes = n, .seed = seed, .max_size = 0, .flags = flags, .control_signal = 0};
  sb_chunk(s, FT_CHUNK_MODE, 0, &m, sizeof m);
}

/* Four random images written as spills of fixture f (see
** test_summaries_random). sample_bytes > 0 marks them byte-sampled (the
** events are the same: any recorded trace is a possible sample), and
** max_shift bounds the large sizes at 2^max_shift. */
static void random_images(fx *f, sb *sp, uint64_t sample_bytes, unsigned max_shift) {
  sb s = *sp;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  enum { NT = 3, NEV = 3000 };
  for (int img = 0; img < 4; img++) {
    ft_event *ev[NT];
    size_t nev[NT] = {0};
    for (int t = 0; t < NT; t++) ev[t] = calloc(NEV, sizeof **ev);
    uint64_t live[512], maps[64], now = 0, next_addr = 0x10000;
    size_t nlive = 0, nmaps = 0;
    sb_header(&s, 100 + img, 1, 1000 + (uint64_t)img, 5000 + (uint64_t)img,
              sample_bytes ? FT_FLAG_SAMPLED : 0, 0);
    if (sample_bytes) sb_mode(&s, sample_bytes, 7, 0);
    for (int i = 0; i < NEV; i++) {
      now += rnd(&x) % 4 == 0 ? rnd(&x) % (img == 3 ? 100000 : 7) : 0;
      int t = (int)(rnd(&x) % NT);
      uint64_t r = rnd(&x), hash = (uint64_t[]){0, S1, S2, 0xa3, 0xa4}[r % 5];
      unsigned what = (unsigned)(r >> 8) % 16;
      /* few distinct sizes, so that maxima repeat (the first one counts) */
      uint64_t size = (r >> 16) % 5 == 0   ? 0
                      : (r >> 20) % 9 == 0 ? (uint64_t)1 << (r >> 24) % (max_shift + 1)
                                           : 8 * ((r >> 24) % 4);
      ft_event *e = &ev[t][nev[t]++];
      if (what < 6 && nlive < 512) {
        live[nlive++] = next_addr;
        *e = EV(now, what % 4, next_addr, size, hash);
        next_addr += 0x100;
      } else if (what < 12 && nlive) {
        size_t k = rnd(&x) % nlive;
        *e = FREE(now, live[k]);
        live[k] = live[--nlive];
      } else if (what < 14 && nmaps < 64) {
        maps[nmaps++] = 0x40000000 + (uint64_t)i * 16 * PG;
        *e = EV(now, FT_EV_MMAP, maps[nmaps - 1], (1 + r % 8) * PG, hash);
      } else if (nmaps) {
        size_t k = rnd(&x) % nmaps;
        *e = MUNMAP(now, maps[k] + (r >> 40) % 8 * PG, (1 + (r >> 50) % 3) * PG);
        if ((r >> 60) % 2) maps[k] = maps[--nmaps];
      } else {
        *e = FREE(now, 0xdead); /* unmatched */
      }
      if (i % 500 == 0) sb_sample(&s, now / 2 * 2, rnd(&x) % 4 * 1000, 1); /* times repeat */
    }
    for (int t = 0; t < NT; t++) {
      size_t half = nev[t] / 2;
      sb_events(&s, 1000 * img + t + 1, ev[t], half);
      sb_packed(&s, 1000 * img + t + 1, ev[t] + half, nev[t] - half);
      free(ev[t]);
    }
    sb_exit(&s, now + (uint64_t)img * 13, 0);
    fx_write(f, &s, 0);
  }
  *sp = s;
}

/* Random traces: threads allocating (all kinds, sizes from 0 to 2^40, four
** stacks and none), freeing their own and others' blocks, mapping and
** unmapping pieces, at a clock that often does not move (ties within and
** across threads); samples with repeated times; several images. The
** summary tables must equal their documented queries. */
static void test_summaries_random(void **state) {
  fx *f = *state;
  sb s = {0};
  random_images(f, &s, 0, 40);
  fx_import(f);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM process_stats"), 4);
  /* the traces are what the test means them to be: ties, all cases */
  assert_true(q_int(f->db, "SELECT sum(temporary) FROM process_stats") > 100);
  assert_true(q_int(f->db, "SELECT count(*) FROM allocations WHERE lifetime_ns = 0") > 50);
  assert_true(q_int(f->db, "SELECT count(*) FROM allocations WHERE stack_id IS NULL") > 100);
  assert_true(q_int(f->db, "SELECT count(*) FROM allocations WHERE free_tid <> tid") > 100);
  assert_true(q_int(f->db, "SELECT max(bucket) FROM site_size_hist") >= 30);
  assert_true(q_int(f->db, "SELECT sum(mmap_count) FROM process_stats") > 100);
  check_summaries(f->db);
  free(s.b);
}

/* The weight the importer must give a heap row of size n sampled with mean
** N: 1/p rounded to a multiple of 1/4096 (schema/README.md). */
static double want_weight(uint64_t n, uint64_t N) {
  double p = -expm1(-(double)(n ? n : 1) / (double)N);
  return floor(4096.0 / p + 0.5) / 4096.0;
}

/* Byte-sampled random traces: heap rows carry weights (mmap rows none),
** every summary table is the weighted sum its documented query computes,
** the estimates are not the row counts, and no pinning is computed. */
static void test_summaries_sampled(void **state) {
  fx *f = *state;
  sb s = {0};
  random_images(f, &s, 1000, 28);
  fx_import(f);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM processes WHERE sample_bytes = 1000 AND seed = 7"), 4);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM allocation_rows WHERE (kind_thread & 7) = 4 "
                                "AND weight IS NOT NULL"), 0);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM allocation_rows WHERE (kind_thread & 7) <> 4 "
                                "AND weight IS NULL"), 0);
  /* weights as documented, exactly */
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT size, weight FROM allocation_rows WHERE weight IS NOT NULL",
                                      -1, &q, NULL), SQLITE_OK);
  int n = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    uint64_t size = (uint64_t)sqlite3_column_int64(q, 0);
    if (sqlite3_column_double(q, 1) != want_weight(size, 1000))
      fail_msg("size %llu: weight %.17g, want %.17g", (unsigned long long)size, sqlite3_column_double(q, 1),
               want_weight(size, 1000));
    n++;
  }
  sqlite3_finalize(q);
  assert_true(n > 1000);
  /* the estimates are weighted: far more allocations than rows */
  assert_true(q_int(f->db, "SELECT sum(allocations) FROM process_stats") >
              10 * q_int(f->db, "SELECT count(*) FROM allocation_rows"));
  assert_true(q_int(f->db, "SELECT sum(allocations) FROM site_windows") >
              10 * q_int(f->db, "SELECT count(*) FROM allocation_rows WHERE stack_id IS NOT NULL"));
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM pinning_totals"), 0);
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM pinning"), 0);
  check_summaries(f->db);
  free(s.b);
}

/* Production-mode chunks: MODE into processes, TOTALS into heap_totals
** (exact, the later of equal times), CONTROL into recording_control, STOP
** ends the image's recording, usable_live_bytes of samples from the latest
** totals; frees of blocks allocated while paused stay unmatched. */
static void test_production_chunks(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 300, 1, 1000, 5000, FT_FLAG_SAMPLED, 0);
  ft_mode m = {.sample_bytes = 4096, .seed = 42, .max_size = 1 << 20, .flags = FT_MODE_START_PAUSED,
               .control_signal = 12};
  sb_chunk(&s, FT_CHUNK_MODE, 0, &m, sizeof m);
  const ft_control ctl[] = {{0, FT_CTL_PAUSE, FT_CTLSRC_START},   {50, FT_CTL_RESUME, FT_CTLSRC_DELAY},
                            {60, FT_CTL_FLUSH, FT_CTLSRC_SIGNAL}, {90, FT_CTL_STOP, FT_CTLSRC_DURATION},
                            {91, 9, 1}};
  const ft_totals tot[] = {{30, 10, 2, 1000, 1100, 200, 0, 0, 0, 0},
                           {60, 20, 4, 3000, 3300, 400, 1, 0, 0, 0},
                           {60, 21, 5, 3100, 3400, 500, 2, 1, 3, 0}, /* same time, later: wins */
                           {90, 30, 6, 5000, 5600, 600, 3, 1, 4, 0}};
  sb_chunk(&s, FT_CHUNK_CONTROL, 0, &ctl[0], sizeof *ctl);
  sb_sample(&s, 20, 100, 200);
  sb_chunk(&s, FT_CHUNK_TOTALS, 0, &tot[0], sizeof *tot);
  sb_sample(&s, 40, 100, 200);
  sb_chunk(&s, FT_CHUNK_CONTROL, 0, &ctl[1], sizeof *ctl);
  SB_EVENTS(&s, 300, MALLOC(55, 0x1000, 64), MALLOC(56, 0x2000, 1 << 20), MMAP(57, 0x40000000, PG),
            FREE(70, 0x1000), FREE(75, 0x9999));
  sb_chunk(&s, FT_CHUNK_TOTALS, 0, &tot[1], sizeof *tot);
  sb_chunk(&s, FT_CHUNK_TOTALS, 0, &tot[2], sizeof *tot);
  sb_chunk(&s, FT_CHUNK_CONTROL, 0, &ctl[2], sizeof *ctl);
  sb_sample(&s, 60, 100, 200);
  sb_chunk(&s, FT_CHUNK_TOTALS, 0, &tot[3], sizeof *tot);
  sb_chunk(&s, FT_CHUNK_CONTROL, 0, &ctl[3], sizeof *ctl);
  sb_chunk(&s, FT_CHUNK_CONTROL, 0, &ctl[4], sizeof *ctl); /* unknown action: an anomaly */
  sb_sample(&s, 100, 100, 200);
  sb_exit(&s, 120, 0);
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(q_str(f->db, "SELECT sample_bytes||' '||seed||' '||max_size||' '||start_paused||' '||"
                                   "control_signal||' '||ended_by||' '||exit_status||' '||end_ns||' '||"
                                   "unmatched_frees FROM processes"),
                      "4096 42 1048576 1 12 stop 0 120 1");
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||allocations||':'||frees||':'||bytes||':'||"
                                   "usable_live_bytes||':'||sampled||':'||untracked||':'||thinned, ' ') "
                                   "FROM (SELECT * FROM heap_totals ORDER BY t_ns)"),
                      "30:10:2:1000:900:0:0:0 60:21:5:3100:2900:2:1:3 90:30:6:5000:5000:3:1:4");
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||action||':'||source, ' ') "
                                   "FROM (SELECT * FROM recording_control ORDER BY rowid)"),
                      "0:pause:start 50:resume:delay 60:flush:signal 90:stop:duration");
  assert_int_equal(anomalies(f->db), 1);
  assert_string_equal(q_str(f->db, "SELECT group_concat(t_ns||':'||IFNULL(usable_live_bytes,'-'), ' ') "
                                   "FROM (SELECT * FROM process_samples ORDER BY t_ns)"),
                      "20:- 40:900 60:2900 100:5000");
  /* weights: 64 B sampled with p = 1 - exp(-1/64); 1 MiB certainly (1.0); mmap rows NULL */
  double w64 = want_weight(64, 4096);
  char want[128];
  snprintf(want, sizeof want, "%.17g 1.0 -", w64);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT weight FROM allocation_rows ORDER BY id", -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_true(sqlite3_column_double(q, 0) == w64);
  assert_true(w64 > 64.0 && w64 < 65.0);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_true(sqlite3_column_type(q, 0) == SQLITE_FLOAT && sqlite3_column_double(q, 0) == 1.0);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_type(q, 0), SQLITE_NULL);
  sqlite3_finalize(q);
  /* estimates: round(w64 + 1 + 1) allocations, bytes round(64 w64) + 1 MiB + one page */
  assert_int_equal(q_int(f->db, "SELECT allocations FROM process_stats"), (long long)floor(w64 + 2 + 0.5));
  assert_int_equal(q_int(f->db, "SELECT bytes FROM process_stats"),
                   (long long)floor(64 * w64 + 0.5) + (1 << 20) + PG);
  assert_int_equal(q_int(f->db, "SELECT frees FROM process_stats"), (long long)floor(w64 + 0.5));
  assert_int_equal(q_int(f->db, "SELECT live_allocations FROM process_samples WHERE t_ns = 60"),
                   (long long)floor(w64 + 2 + 0.5));
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM pinning_totals"), 0);
  check_summaries(f->db);
  free(s.b);
}

/* A MODE chunk in full capture: mode columns, no weights, pinning computed. */
static void test_mode_full(void **state) {
  fx *f = *state;
  sb s = {0};
  sb_header(&s, 301, 1, 1000, 5000, 0, 0);
  sb_mode(&s, 0, 99, 0);
  SB_EVENTS(&s, 301, MALLOC(5, 0x1000, 64), FREE(6, 0x1000), MALLOC(7, 0x2000, 64));
  sb_exit(&s, 10, 0);
  fx_write(f, &s, 0);
  fx_import(f);
  assert_string_equal(q_str(f->db, "SELECT IFNULL(sample_bytes,'-')||' '||seed||' '||IFNULL(max_size,'-')||' '||"
                                   "start_paused||' '||IFNULL(control_signal,'-')||' '||ended_by FROM processes"),
                      "- 99 - 0 - exit");
  assert_int_equal(q_int(f->db, "SELECT count(*) FROM allocation_rows WHERE weight IS NOT NULL"), 0);
  assert_string_equal(q_str(f->db, "SELECT group_concat(weight) FROM allocations"), "1.0,1.0");
  assert_int_equal(q_int(f->db, "SELECT allocations FROM process_stats"), 2);
  assert_true(q_int(f->db, "SELECT count(*) FROM pinning_totals") > 0);
  check_summaries(f->db);
  free(s.b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_simple, setup, teardown),
      cmocka_unit_test_setup_teardown(test_kinds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_realloc_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cross_thread_free, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reuse_out_of_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reuse_tie, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tie_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_anomaly, setup, teardown),
      cmocka_unit_test_setup_teardown(test_munmap_partial, setup, teardown),
      cmocka_unit_test_setup_teardown(test_munmap_other_thread, setup, teardown),
      cmocka_unit_test_setup_teardown(test_map_fixed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mmap_tie, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stack_dedup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fork_exec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_spill, setup, teardown),
      cmocka_unit_test_setup_teardown(test_live_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
      cmocka_unit_test_setup_teardown(test_packed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_packed_malformed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tsc_clock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tsc_no_pairs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sample_shim_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_append, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summaries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summaries_random, setup, teardown),
      cmocka_unit_test_setup_teardown(test_summaries_sampled, setup, teardown),
      cmocka_unit_test_setup_teardown(test_production_chunks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mode_full, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
