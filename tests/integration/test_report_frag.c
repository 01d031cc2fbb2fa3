/*
** test_report_frag.c — the fragmentation section of `fragtrace report` on
** the examples (examples/pinned_heap.c, seed_churn.c, pool.c), a
** `fragtrace sample` file and traces recorded without samples: the culprit
** of each example ranks first and gets its finding and advice, the pool is
** all clear, --max-frag-ratio trips exactly at the trace's own ratio (read
** with SQL, so the test is exact on any machine) at the end and at the gap's
** peak, absent sources are sentences and not errors, the JSON validates
** against reporter/report.schema.json, and the kernel's two fragmentation
** indices shown for buddyinfo samples are recomputed here from the rows.
** examples/rss_grower.c checks the correlation with RSS growth, and a copy
** of its trace with rewritten buddyinfo rows the one with the high orders'
** shrinkage, exactly; examples/mixed_lifetimes.c the lifetime mix.
*/
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_itest.h"

#if !defined(FT_SOURCE_DIR) || !defined(FT_EXAMPLES)
#error FT_SOURCE_DIR and FT_EXAMPLES must name the source tree and the built examples
#endif

/* The traces, recorded once by setup (names unique to this test: FT_TMP is
** shared by tests running in parallel). */
static char db_pin[512], db_churn[512], db_pool[512], db_nosample[512], db_off[512], db_host[512], db_grow[512], db_mix[512];

static const char *example(const char *name) { return ft_fmt("%s/%s", FT_EXAMPLES, name); }

static void record(char *db, size_t cap, const char *name, const char *const opts[], const char *prog) {
  snprintf(db, cap, "%s", ft_tmp_path(name));
  ft_run r;
  ft_record(&r, db, NULL, opts, FT_ARGV(example(prog)));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
}

static int setup(void **state) {
  (void)state;
  record(db_pin, sizeof db_pin, "frag_pinned_heap.db", NULL, "pinned_heap");
  /* Samples every 20 ms: the gap's peak must catch a moment between two
  ** batches (buffers freed), which 100 ms samples of a 1 s run can miss. */
  record(db_churn, sizeof db_churn, "frag_seed_churn.db", FT_ARGV("--sample-ms", "20"), "seed_churn");
  record(db_pool, sizeof db_pool, "frag_pool.db", NULL, "pool");
  /* RSS every 20 ms: two samples per 10 ms window's neighbours, many spans per phase. */
  record(db_mix, sizeof db_mix, "frag_mixed_lifetimes.db", NULL, "mixed_lifetimes");
  record(db_grow, sizeof db_grow, "frag_rss_grower.db", FT_ARGV("--sample-ms", "20"), "rss_grower");
  record(db_nosample, sizeof db_nosample, "frag_nosample.db", FT_ARGV("--sample-ms", "0"), "pinned_heap");
  record(db_off, sizeof db_off, "frag_off.db",
         FT_ARGV("--sample-ms", "0", "--sys-sample-ms", "0", "--smaps-ms", "0", "--mallinfo-ms", "0", "--slabinfo-ms", "0"),
         "pinned_heap");
  snprintf(db_host, sizeof db_host, "%s", ft_tmp_path("frag_host.db"));
  ft_remove(db_host);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "sample", "-q", "-o", db_host, "--interval", "50ms", "--duration", "300ms"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  return 0;
}

/* ---- running the report --------------------------------------------------------- */

/* `fragtrace report db args...`: stdout (malloc'd), the status checked
** against want; stderr into *err when err is not NULL (else it must be empty
** for status 0). */
static char *report(const char *db, int want, char **err, const char *const args[]) {
  const char *argv[64] = {FT_BIN, "report", db};
  int n = 3;
  for (int i = 0; args && args[i] && n < 63; i++) argv[n++] = args[i];
  argv[n] = NULL;
  ft_run r;
  ft_run_cmd(&r, NULL, argv);
  ft_expect_status(&r, want);
  if (!err && want == 0) ft_expect_no_stderr(&r);
  char *out = r.out;
  r.out = NULL;
  if (err) {
    *err = r.err;
    r.err = NULL;
  }
  ft_run_free(&r);
  return out;
}

static char *frag_json(const char *db) { return report(db, 0, NULL, FT_ARGV("--section", "fragmentation", "--format", "json", "--top", "0")); }

static char *frag_text(const char *db) { return report(db, 0, NULL, FT_ARGV("--section", "fragmentation", "--top", "0")); }

/* ---- JSON through SQLite's JSON functions ------------------------------------------ */

static sqlite3 *jdb;

/* Prepare a query over the JSON document bound as ?1. */
static sqlite3_stmt *jprep(const char *json, const char *sql) {
  if (!jdb && sqlite3_open(":memory:", &jdb) != SQLITE_OK) fail_msg("sqlite3_open");
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(jdb, sql, -1, &q, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(jdb));
  sqlite3_bind_text(q, 1, json, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(q) != SQLITE_ROW) fail_msg("%s: no row (%s)", sql, sqlite3_errmsg(jdb));
  return q;
}

/* The integer a query over the JSON yields; NULL fails the test. */
static long long jint(const char *json, const char *sql) {
  sqlite3_stmt *q = jprep(json, sql);
  if (sqlite3_column_type(q, 0) == SQLITE_NULL) fail_msg("%s: NULL", sql);
  long long v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

static double jnum(const char *json, const char *sql) {
  sqlite3_stmt *q = jprep(json, sql);
  if (sqlite3_column_type(q, 0) == SQLITE_NULL) fail_msg("%s: NULL", sql);
  double v = sqlite3_column_double(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* The text a query over the JSON yields ("null" for NULL), in the ft_fmt ring. */
static const char *jstr(const char *json, const char *sql) {
  sqlite3_stmt *q = jprep(json, sql);
  const char *v = sqlite3_column_type(q, 0) == SQLITE_NULL ? "null" : ft_fmt("%s", sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return v;
}

/* Findings matching an SQL condition on `f` (one finding object). */
#define FINDINGS(cond) "SELECT count(*) FROM json_each(?1, '$.fragmentation.findings') e WHERE " cond
#define F(path) "json_extract(e.value, '" path "')"

/* "function (file.c:LINE)" of an example's site, the line from the trace. */
static const char *site_label(const char *db, const char *fn, const char *file) {
  sqlite3 *d = ft_db_open(db);
  long long line = ft_q_int(d, "SELECT min(line) FROM call_sites WHERE function = '%s' AND file LIKE '%%%s'", fn, file);
  sqlite3_close(d);
  return ft_fmt("%s (%s:%lld)", fn, file, line);
}

/* ---- the examples ------------------------------------------------------------------- */

/* pinned_heap: cache_insert's 40-byte entries keep the freed 4000-byte
** buffers' pages resident. */
static void test_pinned_heap(void **state) {
  (void)state;
  const char *culprit = site_label(db_pin, "cache_insert", "pinned_heap.c");
  char *j = frag_json(db_pin);
  ft_expect_eq("pinning source", jint(j, "SELECT json_extract(?1, '$.fragmentation.sources.pinning')"), 1);
  assert_string_equal(jstr(j, "SELECT json_extract(?1, '$.fragmentation.sites.pinning[0].site')"), culprit);
  /* Its numbers are the importer's, added up over the site's stacks at the
  ** instant the report documents (the largest RSS gap, else the end). */
  sqlite3 *d = ft_db_open(db_pin);
  const char *where = ft_fmt(
      "page_size = (SELECT page_size FROM processes) AND instant = (SELECT CASE WHEN count(*) > 0 THEN 'rss_gap' ELSE "
      "'end' END FROM pinning_totals WHERE instant = 'rss_gap')");
  char w[512];
  snprintf(w, sizeof w, "%s", where);
  ft_expect_eq("pinned bytes = SQL", jint(j, "SELECT json_extract(?1, '$.fragmentation.sites.pinning[0].pinned_bytes')"),
               ft_q_int(d, "SELECT sum(pinned_bytes) FROM pinning_sites WHERE function = 'cache_insert' AND %s", w));
  ft_expect_eq("blocks = SQL", jint(j, "SELECT json_extract(?1, '$.fragmentation.sites.pinning[0].blocks')"),
               ft_q_int(d, "SELECT sum(blocks) FROM pinning_sites WHERE function = 'cache_insert' AND %s", w));
  assert_string_equal(ft_q_str(d, "SELECT function FROM pinning_sites WHERE %s GROUP BY function ORDER BY sum(pinned_bytes) "
                                  "DESC LIMIT 1", w),
                      "cache_insert");
  sqlite3_close(d);
  /* The pinning finding names it, with the advice that fits pinned pages,
  ** and is the first finding about a site. */
  ft_expect_eq("pinning finding",
               jint(j, ft_fmt(FINDINGS(F("$.rule") " = 'pinning' AND " F("$.site") " = '%s' AND EXISTS (SELECT 1 FROM "
                                                                        "json_each(e.value, '$.advice') a WHERE a.value LIKE "
                                                                        "'separate long-lived from short-lived%%')"),
                              culprit)),
               1);
  assert_string_equal(jstr(j, "SELECT json_extract(e.value, '$.site') FROM json_each(?1, '$.fragmentation.findings') e "
                              "WHERE json_extract(e.value, '$.scope') = 'site' ORDER BY e.key LIMIT 1"),
                      culprit);
  ft_expect_eq("not all clear", jint(j, "SELECT json_extract(?1, '$.fragmentation.all_clear')"), 0);
  free(j);
  /* The text says it in the words. */
  char *t = frag_text(db_pin);
  if (!strstr(t, ft_fmt("pinning (site): %s — ", culprit)) || !strstr(t, " of otherwise free heap on "))
    fail_msg("text lacks the pinning finding:\n%s", t);
  if (!strstr(t, "\n     - separate long-lived from short-lived allocations")) fail_msg("text lacks the advice:\n%s", t);
  const char *table = strstr(t, "\n  Pinning: ");
  if (!table || !strstr(table, ft_fmt("\n  1  ")) || !strstr(table, culprit)) fail_msg("pinning table:\n%s", t);
  free(t);
}

/* seed_churn: alloc_buffer's 10 KiB .. 5 MiB buffers, released in batches. */
static void test_seed_churn(void **state) {
  (void)state;
  const char *culprit = site_label(db_churn, "alloc_buffer", "seed_churn.c");
  char c[256];
  snprintf(c, sizeof c, "%s", culprit);
  const char *steady = site_label(db_churn, "add_record", "seed_churn.c");
  char *j = frag_json(db_churn);
  assert_string_equal(jstr(j, "SELECT json_extract(?1, '$.fragmentation.sites.churn[0].site')"), c);
  long long found = jint(j, ft_fmt(FINDINGS(F("$.rule") " = 'varying-size' AND " F("$.site") " = '%s' AND EXISTS (SELECT 1 "
                                                                              "FROM json_each(e.value, '$.advice') a WHERE "
                                                                              "a.value LIKE 'preallocate one buffer%%')"),
                                   c));
  if (found != 1) {
    sqlite3 *d = ft_db_open(db_churn);
    ft_q_dump(d, "SELECT t_ns, rss_bytes, shim_bytes, live_bytes FROM process_samples ORDER BY t_ns");
    sqlite3_close(d);
    fail_msg("no varying-size finding for %s:\n%s", c, j);
  }
  assert_string_equal(jstr(j, "SELECT json_extract(e.value, '$.site') FROM json_each(?1, '$.fragmentation.findings') e "
                              "WHERE json_extract(e.value, '$.scope') = 'site' ORDER BY e.key LIMIT 1"),
                      c);
  /* The steady bookkeeping site is not blamed. */
  ft_expect_eq("add_record not flagged", jint(j, ft_fmt(FINDINGS(F("$.site") " = '%s'"), steady)), 0);
  free(j);
}

/* pool: one burst of allocations, reused through a free list. */
static void test_pool_all_clear(void **state) {
  (void)state;
  char *j = frag_json(db_pool);
  ft_expect_eq("sampled", jint(j, "SELECT json_extract(?1, '$.fragmentation.sources.process_samples')"), 1);
  ft_expect_eq("all clear", jint(j, "SELECT json_extract(?1, '$.fragmentation.all_clear')"), 1);
  ft_expect_eq("no program finding", jint(j, FINDINGS(F("$.scope") " <> 'host'")), 0);
  free(j);
  char *t = frag_text(db_pool);
  if (!strstr(t, "\n  All clear: no fragmentation finding for the program")) fail_msg("not all clear:\n%s", t);
  free(t);
}

/* mixed_lifetimes: conn_buffer's 1000 buffers, every 4th parked for 1.15 s
** (> 2^30 ns) and the rest freed at once; parse_header's all freed at once.
** Exactly conn_buffer is `mixed` in site_lifetime_mix, with 250 long-lived,
** and exactly it gets the lifetime-mix finding, with its advice. */
static void test_lifetime_mix(void **state) {
  (void)state;
  sqlite3 *d = ft_db_open(db_mix);
  const char *mixed = "SELECT %s FROM site_lifetime_mix m JOIN call_sites c ON c.stack_id = m.stack_id AND c.depth = 0 "
                      "WHERE m.mixed";
  ft_expect_eq("one mixed stack", ft_q_int(d, mixed, "count(*)"), 1);
  assert_string_equal(ft_q_str(d, mixed, "c.function"), "conn_buffer");
  ft_expect_eq("its long-lived", ft_q_int(d, mixed, "m.long_count"), 250);
  ft_expect_eq("all of it", ft_q_int(d, mixed, "m.allocations"), 1000);
  ft_expect_eq("parse_header not mixed",
               ft_q_int(d, "SELECT count(*) FROM site_lifetime_mix m JOIN call_sites c ON c.stack_id = m.stack_id "
                           "AND c.depth = 0 WHERE c.function = 'parse_header' AND m.mixed"),
               0);
  sqlite3_close(d);
  const char *culprit = site_label(db_mix, "conn_buffer", "mixed_lifetimes.c");
  char c[256];
  snprintf(c, sizeof c, "%s", culprit);
  char *j = frag_json(db_mix);
  ft_expect_eq("one lifetime-mix finding", jint(j, FINDINGS(F("$.rule") " = 'lifetime-mix'")), 1);
  ft_expect_eq("on conn_buffer, with its advice",
               jint(j, ft_fmt(FINDINGS(F("$.rule") " = 'lifetime-mix' AND " F("$.site") " = '%s' AND EXISTS (SELECT 1 "
                                                                                 "FROM json_each(e.value, '$.advice') a "
                                                                                 "WHERE a.value LIKE 'separate long-lived%%')"),
                              c)),
               1);
  ft_expect_eq("its numbers in words",
               jint(j, FINDINGS(F("$.rule") " = 'lifetime-mix' AND " F("$.text") " LIKE '%% 75%% of its 1,000 allocations "
                                                                           "lived less than 1.0 ms and 25%% 1.07 s or longer%%'")),
               1);
  ft_expect_eq("parse_header not flagged", jint(j, FINDINGS(F("$.site") " LIKE 'parse_header (%%'")), 0);
  ft_expect_eq("the mix list is conn_buffer alone",
               jint(j, "SELECT json_array_length(?1, '$.fragmentation.sites.lifetime_mix')"), 1);
  assert_string_equal(jstr(j, "SELECT json_extract(?1, '$.fragmentation.sites.lifetime_mix[0].site')"), c);
  free(j);
}

/* ---- correlation ---------------------------------------------------------------------- */

/* rss_grower: grow_set allocates only in the phases where RSS grows,
** steady_churn at the same pace throughout. grow_set ranks first in the
** correlation with RSS growth, and steady_churn gets no finding. */
static void test_rss_correlation(void **state) {
  (void)state;
  char *j = frag_json(db_grow);
  const char *first = jstr(j, "SELECT json_extract(?1, '$.fragmentation.sites.correlation[0].site')");
  if (strncmp(first, "grow_set (", 10) != 0) fail_msg("grow_set not first in the RSS correlation:\n%s", j);
  double rho = jnum(j, "SELECT json_extract(?1, '$.fragmentation.sites.correlation[0].rho')");
  double steady = jnum(j, "SELECT json_extract(e.value, '$.rho') FROM json_each(?1, '$.fragmentation.sites.correlation') e "
                          "WHERE json_extract(e.value, '$.site') LIKE 'steady_churn (%'");
  if (!(rho > steady)) fail_msg("grow_set %.3f not above steady_churn %.3f", rho, steady);
  ft_expect_eq("steady_churn not flagged", jint(j, FINDINGS(F("$.site") " LIKE 'steady_churn (%%'")), 0);
  free(j);
}

/* The buddyinfo half on a known series: a copy of the rss_grower trace whose
** buddyinfo_samples are rewritten every 50 ms (proc time base), two nodes
** with the same counts. High orders (>= the report's buddy_high_order) hold
** C - sign * (grow_set's allocations so far) blocks each, so per span the
** high orders shrink by exactly sign * grow_set's allocations in it; lower
** orders move the other way, and must not count. sign +1: grow_set's rho is
** 1 and it ranks first; sign -1: -1 and last. Spans and shrinking spans are
** counted here from site_windows. */
static void buddy_case(int sign) {
  const char *copy = ft_tmp_path(ft_fmt("frag_rss_grower_buddy%d.db", sign > 0 ? 1 : 0));
  ft_remove(copy);
  sqlite3 *src = ft_db_open(db_grow);
  char *e = NULL;
  if (sqlite3_exec(src, ft_fmt("VACUUM INTO '%s'", copy), NULL, NULL, &e) != SQLITE_OK) fail_msg("VACUUM INTO: %s", e);
  sqlite3_close(src);
  char *j0 = frag_json(copy);
  long long high = jint(j0, "SELECT json_extract(?1, '$.fragmentation.sites.buddy_high_order')");
  free(j0);
  sqlite3 *d = NULL;
  if (sqlite3_open(copy, &d) != SQLITE_OK) fail_msg("open %s", copy);
  const long long step = 50000000; /* 5 windows of 10 ms */
  const char *sql = ft_fmt(
      "DELETE FROM buddyinfo_samples;"
      "CREATE TEMP TABLE grow AS SELECT w.window, sum(w.allocations) AS n FROM site_windows w "
      "  JOIN site_summary s USING (stack_id) WHERE s.function = 'grow_set' GROUP BY w.window;"
      "CREATE TEMP TABLE ts AS WITH RECURSIVE k(t) AS (SELECT 0 UNION ALL SELECT t + %lld FROM k "
      "  WHERE t + %lld <= (SELECT end_ns FROM processes)) SELECT t FROM k;"
      "INSERT INTO buddyinfo_samples SELECT 1, ts.t, node.v, 'Normal', o.v, "
      "  CASE WHEN o.v >= %lld THEN 1000000 - %d * c.cum ELSE 100000 + %d * 1000 * c.cum END "
      "FROM ts JOIN (SELECT ts.t AS t, (SELECT coalesce(sum(n), 0) FROM grow g "
      "  WHERE g.window * CAST((SELECT value FROM meta WHERE key = 'window_ns') AS INTEGER) < ts.t) AS cum FROM ts) c "
      "  ON c.t = ts.t, (SELECT 0 AS v UNION ALL SELECT 1) node, "
      "  (WITH RECURSIVE r(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM r WHERE v < 10) SELECT v FROM r) o;",
      step, step, high, sign, sign);
  if (sqlite3_exec(d, sql, NULL, NULL, &e) != SQLITE_OK) fail_msg("rewrite: %s", e);
  long long spans = ft_q_int(d, "SELECT count(*) - 1 FROM ts");
  long long shrank = ft_q_int(d, "SELECT count(DISTINCT g.window / 5) FROM grow g WHERE g.n > 0 AND "
                                 "g.window / 5 < (SELECT count(*) - 1 FROM ts)");
  sqlite3_close(d);
  char *j = frag_json(copy);
  const char *at = sign > 0 ? "0" : "#-1";
  const char *site = jstr(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.sites.buddy_correlation[%s].site')", at));
  if (strncmp(site, "grow_set (", 10) != 0) fail_msg("grow_set not at [%s] of the buddy correlation:\n%s", at, j);
  double rho = jnum(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.sites.buddy_correlation[%s].rho')", at));
  if (fabs(rho - sign) > 1e-9) fail_msg("grow_set's rho %.12f, expected %d", rho, sign);
  ft_expect_eq("spans", jint(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.sites.buddy_correlation[%s].windows')", at)),
               spans);
  ft_expect_eq("spans the high orders shrank",
               jint(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.sites.buddy_correlation[%s].shrink_windows')", at)),
               sign > 0 ? shrank : 0);
  free(j);
  char *t = report(copy, 0, NULL, FT_ARGV("--section", "fragmentation", "--top", "0"));
  if (!strstr(t, ft_fmt("buddyinfo orders >= %lld, all nodes and zones", high))) fail_msg("no buddy correlation text:\n%s", t);
  free(t);
}

static void test_buddy_correlation(void **state) {
  (void)state;
  buddy_case(1);
  buddy_case(-1);
}

/* ---- --max-frag-ratio ---------------------------------------------------------------- */

/* libm-free helpers (the integration tests link only cmocka and SQLite). */
static long long round_ll(double x) { return x >= 0 ? (long long)(x + 0.5) : -(long long)(-x + 0.5); }
static double min_d(double a, double b) { return a < b ? a : b; }

/* The largest double below a positive finite v: the limit just under it. */
static double just_below(double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  bits--;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* RSS less the recorder's memory over the live heap, as the report computes
** it, at the last sample (peak 0) or where RSS - live heap was largest
** (peak 1, the earliest such sample); INFINITY for a live heap of 0. */
static double sql_ratio(const char *db, int peak) {
  sqlite3 *d = ft_db_open(db);
  sqlite3_stmt *q = NULL;
  const char *sql = ft_fmt("SELECT max(rss_bytes - coalesce(shim_bytes, 0), 0) * 1.0 / nullif(live_bytes, 0) "
                           "FROM process_samples ORDER BY %s LIMIT 1",
                           peak ? "max(rss_bytes - coalesce(shim_bytes, 0), 0) - live_bytes DESC, t_ns" : "t_ns DESC");
  if (sqlite3_prepare_v2(d, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) fail_msg("%s", sql);
  double v = sqlite3_column_type(q, 0) == SQLITE_NULL ? INFINITY : sqlite3_column_double(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(d);
  return v;
}

/* The gate at limit (printed exactly) and instant `at` (NULL: the default). */
static void frag_gate(const char *db, double limit, const char *at, int want) {
  char lim[64];
  snprintf(lim, sizeof lim, "%.17g", limit);
  const char *args[12] = {"--section", "summary", "--format", "json", "--max-frag-ratio", lim};
  int n = 6;
  if (at) {
    args[n++] = "--frag-ratio-at";
    args[n++] = at;
  }
  args[n] = NULL;
  char *err = NULL;
  char *j = report(db, want, &err, args);
  if (want) {
    if (ft_count_lines(err) != 1 || strncmp(err, "fragtrace: gate --max-frag-ratio: pid ", 38) != 0)
      fail_msg("limit %s at %s: expected one gate line, got:\n%s", lim, at ? at : "(default)", err);
  } else if (err[0]) {
    fail_msg("limit %s at %s: nothing expected on stderr, got:\n%s", lim, at ? at : "(default)", err);
  }
  assert_string_equal(jstr(j, "SELECT json_extract(?1, '$.gates[0].gate')"), "max-frag-ratio");
  ft_expect_eq("tripped", jint(j, "SELECT json_extract(?1, '$.gates[0].tripped')"), want);
  free(j);
  free(err);
}

/* Trips just below the trace's ratio at `at`, not at it (the limit is inclusive). */
static void gate_boundary(const char *db, const char *at) {
  double v = sql_ratio(db, at && !strcmp(at, "peak"));
  if (isinf(v)) {
    frag_gate(db, 1e9, at, 1); /* memory held for no live heap at all */
    return;
  }
  char *j = report(db, 0, NULL, FT_ARGV("--section", "summary", "--format", "json", "--max-frag-ratio", "1e9", "--frag-ratio-at",
                                        at ? at : "end"));
  double shown = jnum(j, "SELECT json_extract(?1, '$.gates[0].value')");
  if (shown - v > 1e-9 * v || v - shown > 1e-9 * v) fail_msg("gate value %.17g, SQL says %.17g", shown, v);
  free(j);
  if (v < 1) { /* limits below 1 are refused: nothing can trip */
    frag_gate(db, 1, at, 0);
    return;
  }
  frag_gate(db, v, at, 0);
  double below = just_below(v);
  if (below >= 1) frag_gate(db, below, at, 1);
}

static void test_frag_gate(void **state) {
  (void)state;
  gate_boundary(db_pin, NULL);
  gate_boundary(db_pin, "end");
  gate_boundary(db_pin, "peak");
  gate_boundary(db_churn, "end");
  gate_boundary(db_churn, "peak");
  /* Between the two instants' ratios only the larger one trips: --frag-ratio-at matters. */
  double e = sql_ratio(db_churn, 0), p = sql_ratio(db_churn, 1);
  if (isfinite(e) && isfinite(p) && e != p && min_d(e, p) >= 1) {
    frag_gate(db_churn, min_d(e, p), "end", e > p);
    frag_gate(db_churn, min_d(e, p), "peak", p > e);
  }
  /* Bad values and a gate that cannot be judged: exit 2, one line. */
  static const char *const bad[][4] = {{"--max-frag-ratio", "0.5"}, {"--max-frag-ratio", "x"}, {"--frag-ratio-at", "middle"}};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *err = NULL;
    free(report(db_pin, 2, &err, FT_ARGV(bad[i][0], bad[i][1])));
    if (ft_count_lines(err) != 1) fail_msg("%s %s: expected one line, got:\n%s", bad[i][0], bad[i][1], err);
    free(err);
  }
  const char *unsampled[] = {db_nosample, db_host};
  for (size_t i = 0; i < 2; i++) {
    char *err = NULL;
    free(report(unsampled[i], 2, &err, FT_ARGV("--max-frag-ratio", "2")));
    if (ft_count_lines(err) != 1 || !strstr(err, "no RSS samples")) fail_msg("unsampled trace:\n%s", err);
    free(err);
  }
}

/* ---- host-only and sample-less traces ----------------------------------------------------- */

static void expect_in(const char *text, const char *part, int want) {
  if ((strstr(text, part) != NULL) != want) fail_msg("expected %s'%s' in:\n%s", want ? "" : "no ", part, text);
}

/* `fragtrace sample`: the host's part of the section, no process. */
static void test_sample_file(void **state) {
  (void)state;
  char *t = frag_text(db_host);
  expect_in(t, "\n== Fragmentation ==\n", 1);
  expect_in(t, "-- Free blocks per zone (buddyinfo) --", 1);
  expect_in(t, "largest block over time", 1);
  expect_in(t, "\n  total  ", 1);
  expect_in(t, "No /proc/buddyinfo samples", 0);
  expect_in(t, "No /proc/meminfo samples", 0);
  expect_in(t, "No /proc/vmstat samples", 0);
  expect_in(t, "No RSS samples of the selected processes", 1);
  expect_in(t, "\n  No program data in this trace (host samples only)", 1);
  expect_in(t, "All clear", 0);
  free(t);
  char *j = frag_json(db_host);
  sqlite3 *d = ft_db_open(db_host);
  ft_expect_eq("zones", jint(j, "SELECT json_array_length(?1, '$.fragmentation.zones')"),
               ft_q_int(d, "SELECT count(*) FROM (SELECT DISTINCT node, zone FROM buddyinfo_samples)"));
  ft_expect_eq("samples of the first zone", jint(j, "SELECT json_extract(?1, '$.fragmentation.zones[0].samples')"),
               ft_q_int(d, "SELECT count(DISTINCT t_ns) FROM buddyinfo_samples WHERE node = %lld AND zone = '%s'",
                        jint(j, "SELECT json_extract(?1, '$.fragmentation.zones[0].node')"),
                        jstr(j, "SELECT json_extract(?1, '$.fragmentation.zones[0].zone')")));
  ft_expect_eq("vmstat span", jint(j, "SELECT json_extract(?1, '$.fragmentation.vmstat.span_ns')"),
               ft_q_int(d, "SELECT max(t_ns) - min(t_ns) FROM vmstat_samples"));
  ft_expect_eq("MemTotal at the end", jint(j, "SELECT json_extract(?1, '$.fragmentation.memory.end.total')"),
               ft_q_int(d, "SELECT value FROM meminfo_samples WHERE key = 'MemTotal' ORDER BY t_ns DESC LIMIT 1"));
  ft_expect_eq("MemAvailable at the start", jint(j, "SELECT json_extract(?1, '$.fragmentation.memory.start.available')"),
               ft_q_int(d, "SELECT value FROM meminfo_samples WHERE key = 'MemAvailable' ORDER BY t_ns LIMIT 1"));
  sqlite3_close(d);
  ft_expect_eq("no processes", jint(j, "SELECT json_array_length(?1, '$.fragmentation.processes')"), 0);
  ft_expect_eq("all clear", jint(j, "SELECT json_extract(?1, '$.fragmentation.all_clear')"), 1);
  free(j);
  /* The default sections include it: the file has samples. */
  char *all = report(db_host, 0, NULL, FT_ARGV("--format", "json"));
  ft_expect_eq("default sections", jint(all, "SELECT count(*) FROM json_each(?1, '$.options.sections') WHERE value = 'fragmentation'"), 1);
  free(all);
}

/* Sources off: one sentence each, exit 0. */
static void test_absent_sources(void **state) {
  (void)state;
  char *t = frag_text(db_nosample);
  expect_in(t, "No /proc/buddyinfo samples in this trace.", 1);
  expect_in(t, "No RSS samples of the selected processes", 1);
  free(t);
  t = frag_text(db_off);
  expect_in(t, "No /proc/meminfo samples in this trace", 1);
  expect_in(t, "No /proc/vmstat samples in this trace.", 1);
  expect_in(t, "No /proc/buddyinfo samples in this trace.", 1);
  expect_in(t, "No RSS samples of the selected processes", 1);
  free(t);
  char *j = frag_json(db_off);
  ft_expect_eq("no buddyinfo", jint(j, "SELECT json_extract(?1, '$.fragmentation.sources.buddyinfo')"), 0);
  ft_expect_eq("no meminfo", jint(j, "SELECT json_extract(?1, '$.fragmentation.sources.meminfo')"), 0);
  ft_expect_eq("memory start null", jint(j, "SELECT json_type(?1, '$.fragmentation.memory.start') = 'null'"), 1);
  ft_expect_eq("no zones", jint(j, "SELECT json_array_length(?1, '$.fragmentation.zones')"), 0);
  free(j);
  /* Nothing sampled: the default report leaves the section out. */
  t = report(db_off, 0, NULL, NULL);
  expect_in(t, "== Fragmentation ==", 0);
  free(t);
  char *md = report(db_off, 0, NULL, FT_ARGV("--section", "fragmentation", "--format", "markdown"));
  expect_in(md, "\n## Fragmentation\n", 1);
  free(md);
}

static void test_markdown(void **state) {
  (void)state;
  char *md = report(db_pin, 0, NULL, FT_ARGV("--format", "markdown"));
  expect_in(md, "\n## Fragmentation\n", 1);
  expect_in(md, "\n### Findings and advice\n", 1);
  expect_in(md, "(pinning, site): cache\\_insert (pinned\\_heap.c:", 1);
  expect_in(md, "\n   - separate long-lived from short-lived allocations", 1);
  int fences = 0;
  for (const char *p = md; (p = strstr(p, "```")); p += 3) fences++;
  ft_expect_true("fences paired", fences % 2 == 0);
  free(md);
}

/* ---- JSON Schema ---------------------------------------------------------------------- */

static void test_json_schema(void **state) {
  (void)state;
  if (system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") != 0) {
    print_message("skipping JSON Schema validation: /usr/bin/python3 has no jsonschema (Debian python3-jsonschema)\n");
    skip();
  }
  const char *dbs[] = {db_pin, db_churn, db_pool, db_nosample, db_off, db_host};
  for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++)
    for (int v = 0; v < 2; v++) {
      char *j = v ? report(dbs[i], 0, NULL, FT_ARGV("--format", "json")) : frag_json(dbs[i]);
      const char *path = ft_tmp_path(ft_fmt("frag_report_%zu_%d.json", i, v));
      ft_write_file(path, j);
      free(j);
      ft_run r;
      ft_run_cmd(&r, NULL,
                 FT_ARGV("/usr/bin/python3", "-c",
                         "import json, sys, jsonschema\n"
                         "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\n",
                         path, FT_SOURCE_DIR "/reporter/report.schema.json"));
      if (r.status != 0) fail_msg("%s (variant %d) does not validate:\n%s", dbs[i], v, r.err);
      ft_run_free(&r);
    }
}

/* ---- the kernel's indices, recomputed ------------------------------------------------------ */

/* mm/vmstat.c's unusable_free_index and __fragmentation_index (×1000, integer
** arithmetic), written out again here from the kernel source, independently
** of reporter/ft_frag.c. */
static void kernel_indices(const long long *nfree, int norders, int order, long long *free_pages, int *unusable, int *fragidx) {
  long long pages = 0, total = 0, suitable = 0;
  for (int o = 0; o < norders; o++) {
    pages += nfree[o] << o;
    total += nfree[o];
    if (o >= order) suitable += nfree[o] << (o - order);
  }
  *free_pages = pages;
  *unusable = pages == 0 ? 1000 : (int)((pages - (suitable << order)) * 1000 / pages);
  if (total == 0) *fragidx = 0;
  else if (suitable > 0) *fragidx = -1000;
  else *fragidx = (int)(1000 - (1000 + pages * 1000 / (1LL << order)) / total);
}

/* The free counts of one zone at one sample (orders beyond the trace's are 0). */
static int zone_counts(sqlite3 *d, long long t, long long node, const char *zone, long long *nfree, int cap) {
  memset(nfree, 0, (size_t)cap * sizeof *nfree);
  int n = 0;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(d, "SELECT page_order, free_blocks FROM buddyinfo_samples WHERE t_ns = ?1 AND node = ?2 AND zone = ?3",
                         -1, &q, NULL) != SQLITE_OK)
    fail_msg("buddyinfo_samples: %s", sqlite3_errmsg(d));
  sqlite3_bind_int64(q, 1, t);
  sqlite3_bind_int64(q, 2, node);
  sqlite3_bind_text(q, 3, zone, -1, SQLITE_TRANSIENT);
  while (sqlite3_step(q) == SQLITE_ROW) {
    int o = sqlite3_column_int(q, 0);
    if (o < 0 || o >= cap) fail_msg("order %d", o);
    nfree[o] = sqlite3_column_int64(q, 1);
    if (o + 1 > n) n = o + 1;
  }
  sqlite3_finalize(q);
  return n;
}

/* Every order of the start, worst and end samples of every zone shown. The
** traces have one image, so trace time is the sampler's own time. */
static void check_indices(const char *db) {
  enum { CAP = 64 };
  char *j = frag_json(db);
  sqlite3 *d = ft_db_open(db);
  long long page = jint(j, "SELECT json_extract(?1, '$.fragmentation.page_size')");
  int ref = (int)jint(j, "SELECT json_extract(?1, '$.fragmentation.ref_order')");
  long long nzones = jint(j, "SELECT json_array_length(?1, '$.fragmentation.zones')");
  ft_expect_true("zones shown", nzones > 0);
  int checked = 0, succeed = 0;
  for (long long z = 0; z < nzones; z++) {
    long long node = jint(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.zones[%lld].node')", z));
    char zone[64];
    snprintf(zone, sizeof zone, "%s", jstr(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.zones[%lld].zone')", z)));
    static const char *const snaps[] = {"start", "worst", "end"};
    for (size_t s = 0; s < 3; s++) {
      const char *base = ft_fmt("$.fragmentation.zones[%lld].%s", z, snaps[s]);
      char b[128];
      snprintf(b, sizeof b, "%s", base);
      long long t = jint(j, ft_fmt("SELECT json_extract(?1, '%s.t_ns')", b));
      long long nfree[CAP];
      int norders = zone_counts(d, t, node, zone, nfree, CAP);
      ft_expect_eq("orders shown", jint(j, ft_fmt("SELECT json_array_length(?1, '%s.orders')", b)), norders);
      int largest = -1;
      for (int o = 0; o < norders; o++)
        if (nfree[o] > 0) largest = o;
      ft_expect_eq("largest block", jint(j, ft_fmt("SELECT json_extract(?1, '%s.largest_block_bytes')", b)),
                   largest < 0 ? 0 : page << largest);
      for (int o = 0; o < norders; o++) {
        long long pages;
        int unusable, fragidx;
        kernel_indices(nfree, norders, o, &pages, &unusable, &fragidx);
        const char *at = ft_fmt("%s zone %s order %d", snaps[s], zone, o);
        char what[128];
        snprintf(what, sizeof what, "%s", at);
        ft_expect_eq(what, jint(j, ft_fmt("SELECT json_extract(?1, '%s.free_pages')", b)), pages);
        ft_expect_eq(what, jint(j, ft_fmt("SELECT json_extract(?1, '%s.orders[%d].free_blocks')", b, o)), nfree[o]);
        ft_expect_eq(what, round_ll(1000 * jnum(j, ft_fmt("SELECT json_extract(?1, '%s.orders[%d].unusable_index')", b, o))),
                     unusable);
        ft_expect_eq(what, round_ll(1000 * jnum(j, ft_fmt("SELECT json_extract(?1, '%s.orders[%d].fragmentation_index')", b, o))),
                     fragidx);
        checked++;
        succeed += fragidx == -1000;
      }
    }
    /* 'worst': the sample with the highest unusable index at the reference
    ** order (ties: the smaller largest block, then the earlier sample). */
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(d, "SELECT DISTINCT t_ns FROM buddyinfo_samples WHERE node = ?1 AND zone = ?2 ORDER BY t_ns", -1, &q,
                           NULL) != SQLITE_OK)
      fail_msg("%s", sqlite3_errmsg(d));
    sqlite3_bind_int64(q, 1, node);
    sqlite3_bind_text(q, 2, zone, -1, SQLITE_TRANSIENT);
    long long worst_t = -1, worst_u = -1, worst_big = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
      long long t = sqlite3_column_int64(q, 0), nfree[CAP], pages;
      int norders = zone_counts(d, t, node, zone, nfree, CAP), unusable, fragidx, largest = -1;
      for (int o = 0; o < norders; o++)
        if (nfree[o] > 0) largest = o;
      int o = ref < norders ? ref : norders - 1;
      kernel_indices(nfree, norders, o, &pages, &unusable, &fragidx);
      long long big = largest < 0 ? 0 : page << largest;
      if (worst_t < 0 || unusable > worst_u || (unusable == worst_u && big < worst_big)) {
        worst_t = t;
        worst_u = unusable;
        worst_big = big;
      }
    }
    sqlite3_finalize(q);
    ft_expect_eq("worst sample", jint(j, ft_fmt("SELECT json_extract(?1, '$.fragmentation.zones[%lld].worst.t_ns')", z)), worst_t);
  }
  ft_expect_true("orders checked", checked > 0);
  ft_expect_true("some order would succeed (-1000)", succeed > 0);
  sqlite3_close(d);
  free(j);
}

static void test_kernel_indices(void **state) {
  (void)state;
  check_indices(db_host);
  check_indices(db_pin);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pinned_heap),     cmocka_unit_test(test_seed_churn),  cmocka_unit_test(test_pool_all_clear),
      cmocka_unit_test(test_frag_gate),       cmocka_unit_test(test_sample_file), cmocka_unit_test(test_absent_sources),
      cmocka_unit_test(test_markdown),        cmocka_unit_test(test_json_schema), cmocka_unit_test(test_kernel_indices),
      cmocka_unit_test(test_rss_correlation), cmocka_unit_test(test_buddy_correlation), cmocka_unit_test(test_lifetime_mix),
  };
  int rc = cmocka_run_group_tests(tests, setup, NULL);
  if (jdb) sqlite3_close(jdb);
  return rc;
}
