/*
** test_report.c — `fragtrace report` and `fragtrace query` on traces of
** tests/progs/report_sites.c (sites of known counts, sizes, leaks, peak and
** relative rates) and tests/progs/forker.c (two processes): exact numbers
** and ranks, the text of the deterministic sections, every gate tripped and
** not, suppressions, --skip, --stacks, windows, the markdown shape, the JSON
** against reporter/report.schema.json, and bad inputs (exit 2, one line).
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_itest.h"

#ifndef FT_SOURCE_DIR
#error FT_SOURCE_DIR must name the source tree (for reporter/report.schema.json)
#endif

static char db[512];     /* the trace of report_sites */
static long long pid;    /* its process */
static int line_of[16];  /* source lines of its sites, by enum below */
enum { L_LEAK_BIG, L_CACHE_FILL, L_CHURN, L_RELAY, L_HOLD, L_XMALLOC, L_WRAPPED, L_MAP, L_PEAK };
static const char *const site_fn[] = {"leak_big", "cache_fill", "churn_site", "relay_site", "hold_site",
                                      "my_xmalloc", "wrapped_site", "map_site", "peak_site"};

/* "function (report_sites.c:LINE)" of a site. */
static const char *label(int site) { return ft_fmt("%s (report_sites.c:%d)", site_fn[site], line_of[site]); }

static int setup(void **state) {
  (void)state;
  snprintf(db, sizeof db, "%s", ft_tmp_path("report_sites.db"));
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("report_sites")));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  sqlite3 *d = ft_db_open(db);
  pid = ft_q_int(d, "SELECT pid FROM processes");
  for (int i = L_LEAK_BIG; i <= L_PEAK; i++)
    line_of[i] = (int)ft_q_int(d, "SELECT min(line) FROM call_sites WHERE function = '%s' AND file LIKE '%%report_sites.c'",
                               site_fn[i]);
  /* The wrapper's caller is one frame out: its line is the call of my_xmalloc. */
  line_of[L_WRAPPED] = (int)ft_q_int(d, "SELECT min(c.line) FROM call_sites c JOIN call_sites w ON w.stack_id = c.stack_id "
                                        "AND w.depth = c.depth - 1 WHERE w.function = 'my_xmalloc' AND c.function = 'wrapped_site'");
  sqlite3_close(d);
  return 0;
}

/* Run fragtrace with args; returns its status. */
static int fragtrace(ft_run *r, const char *const argv[]) { return ft_run_cmd(r, NULL, argv); }

/* Exactly one "fragtrace: ..." line on stderr and nothing on stdout. */
static void expect_input_error(const ft_run *r, const char *what) {
  if (r->status != 2) fail_msg("%s: exit %d, expected 2; stderr:\n%s", what, r->status, r->err);
  if (ft_count_lines(r->err) != 1 || strncmp(r->err, "fragtrace: ", 11) != 0)
    fail_msg("%s: expected one 'fragtrace:' line on stderr, got:\n%s", what, r->err);
  if (r->out[0]) fail_msg("%s: expected nothing on stdout, got:\n%s", what, r->out);
}

/* ---- JSON through SQLite's json_extract ---------------------------------- */

static sqlite3 *jdb;

static sqlite3_stmt *jq(const char *json, const char *path) {
  if (!jdb && sqlite3_open(":memory:", &jdb) != SQLITE_OK) fail_msg("sqlite3_open");
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(jdb, "SELECT json_extract(?1, ?2), json_type(?1, ?2)", -1, &q, NULL) != SQLITE_OK)
    fail_msg("json_extract: %s", sqlite3_errmsg(jdb));
  sqlite3_bind_text(q, 1, json, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_ROW) fail_msg("json_extract %s: %s", path, sqlite3_errmsg(jdb));
  if (sqlite3_column_type(q, 1) == SQLITE_NULL) fail_msg("JSON has no %s", path);
  return q;
}

static long long js_int(const char *json, const char *path) {
  sqlite3_stmt *q = jq(json, path);
  long long v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

static double js_num(const char *json, const char *path) {
  sqlite3_stmt *q = jq(json, path);
  double v = sqlite3_column_double(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* The text (or "null") at path, in the ring of ft_fmt buffers. */
static const char *js_str(const char *json, const char *path) {
  sqlite3_stmt *q = jq(json, path);
  const char *v = sqlite3_column_type(q, 0) == SQLITE_NULL ? "null" : ft_fmt("%s", sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return v;
}

/* The JSON report for these extra options (status checked against want). */
static char *json_report(int want, const char *const extra[]) {
  const char *args[64] = {FT_BIN, "report", db, "--format", "json"};
  int n = 5;
  for (int i = 0; extra && extra[i]; i++) args[n++] = extra[i];
  args[n] = NULL;
  ft_run r;
  fragtrace(&r, args);
  ft_expect_status(&r, want);
  char *out = r.out;
  r.out = NULL;
  ft_run_free(&r);
  return out;
}

/* ---- the numbers -------------------------------------------------------------- */

static void test_summary_numbers(void **state) {
  (void)state;
  char *j = json_report(0, NULL);
  ft_expect_eq("version", js_int(j, "$.version"), 1);
  assert_string_equal(js_str(j, "$.source"), "summary_tables");
  ft_expect_eq("allocations", js_int(j, "$.summary.allocations"), 20763);
  ft_expect_eq("frees", js_int(j, "$.summary.frees"), 20755);
  ft_expect_eq("bytes", js_int(j, "$.summary.bytes"), 5701740);
  ft_expect_eq("leaked", js_int(j, "$.summary.leaked"), 8);
  ft_expect_eq("leaked_bytes", js_int(j, "$.summary.leaked_bytes"), 5900);
  /* churn 20000, the last relay, the last hold, 50 wrapped, the mapping, the last peak block */
  ft_expect_eq("temporary", js_int(j, "$.summary.temporary"), 20054);
  ft_expect_eq("mmap_count", js_int(j, "$.summary.mmap_count"), 1);
  ft_expect_eq("mmap_bytes", js_int(j, "$.summary.mmap_bytes"), 65536);
  ft_expect_eq("peak_live_bytes", js_int(j, "$.summary.peak_live_bytes"), 4 * 1048576 + 5900);
  ft_expect_eq("peak_live_blocks", js_int(j, "$.summary.peak_live_blocks"), 12);
  ft_expect_eq("peak_live_pid", js_int(j, "$.summary.peak_live_pid"), pid);
  ft_expect_eq("events_dropped", js_int(j, "$.summary.events_dropped"), 0);
  ft_expect_eq("the process", js_int(j, "$.summary.processes[0].pid"), pid);
  ft_expect_true("one process", strstr(j, "\"proc\": 2") == NULL);
  /* Short-lived at the trace's 1 ms depends on scheduling: it must agree with SQL. */
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("short_lived = SQL", js_int(j, "$.summary.short_lived"),
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE lifetime_ns < 1000000"));
  ft_expect_eq("peak time = SQL", js_int(j, "$.summary.peak_live_ns"), ft_q_int(d, "SELECT peak_live_ns FROM process_stats"));
  sqlite3_close(d);
  free(j);
  /* Below 100 ms every lifetime of churn, relay, wrapped and the mapping is
  ** short, no hold or peak block is (they are kept >= 120 ms). */
  j = json_report(0, FT_ARGV("--short-lived", "100ms"));
  ft_expect_eq("short_lived < 100ms", js_int(j, "$.summary.short_lived"), 20000 + 500 + 50 + 1);
  ft_expect_eq("short_lived_ns", js_int(j, "$.summary.short_lived_ns"), 100000000);
  ft_expect_eq("churn site short-lived", js_int(j, "$.churn.sites[0].short_lived"), 20000);
  ft_expect_eq("hold site short-lived", js_int(j, "$.churn.sites[2].short_lived"), 0);
  free(j);
}

static void test_churn_ranks(void **state) {
  (void)state;
  char *j = json_report(0, FT_ARGV("--short-lived", "100ms"));
  /* Only three sites make 100 allocations; their rates differ by orders of magnitude. */
  ft_expect_eq("sites ranked", js_int(j, "$.churn.sites_ranked"), 3);
  static const struct {
    int site;
    long long allocs, bytes, temporary, max_live;
  } want[] = {{L_CHURN, 20000, 1280000, 20000, 64}, {L_RELAY, 500, 128000, 1, 512}, {L_HOLD, 200, 25600, 1, 25600}};
  for (int i = 0; i < 3; i++) {
    assert_string_equal(js_str(j, ft_fmt("$.churn.sites[%d].site.function", i)), site_fn[want[i].site]);
    assert_string_equal(js_str(j, ft_fmt("$.churn.sites[%d].site.label", i)), label(want[i].site));
    ft_expect_eq("rank", js_int(j, ft_fmt("$.churn.sites[%d].rank", i)), i + 1);
    ft_expect_eq(ft_fmt("%s allocations", site_fn[want[i].site]), js_int(j, ft_fmt("$.churn.sites[%d].allocations", i)), want[i].allocs);
    ft_expect_eq(ft_fmt("%s bytes", site_fn[want[i].site]), js_int(j, ft_fmt("$.churn.sites[%d].bytes", i)), want[i].bytes);
    ft_expect_eq(ft_fmt("%s temporary", site_fn[want[i].site]), js_int(j, ft_fmt("$.churn.sites[%d].temporary", i)), want[i].temporary);
    ft_expect_eq(ft_fmt("%s max_live", site_fn[want[i].site]), js_int(j, ft_fmt("$.churn.sites[%d].max_live_bytes", i)), want[i].max_live);
    ft_expect_eq(ft_fmt("%s turnover", site_fn[want[i].site]),
                 (long long)js_num(j, ft_fmt("$.churn.sites[%d].turnover", i)), want[i].bytes / want[i].max_live);
    /* The rate is (n - 1) over the span from the first to the last allocation. */
    double rate = js_num(j, ft_fmt("$.churn.sites[%d].allocs_per_s", i));
    double span = (double)js_int(j, ft_fmt("$.churn.sites[%d].active_ns", i)) / 1e9;
    ft_expect_true("rate = (n-1)/span", rate > 0 && rate * span > want[i].allocs - 1.01 && rate * span < want[i].allocs - 0.99);
  }
  /* Every freed block of a site is in its lifetime histogram. */
  sqlite3_stmt *q = NULL;
  if (!jdb) sqlite3_open(":memory:", &jdb);
  sqlite3_prepare_v2(jdb, "SELECT sum(json_extract(value, '$.count')) FROM json_each(?1, ?2)", -1, &q, NULL);
  for (int i = 0; i < 3; i++) {
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, j, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, ft_fmt("$.churn.sites[%d].lifetimes", i), -1, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    ft_expect_eq("lifetime histogram total", sqlite3_column_int64(q, 0), want[i].allocs);
  }
  sqlite3_finalize(q);
  /* Fewer than --min-allocs: not ranked; lowering it ranks more sites. */
  free(j);
  j = json_report(0, FT_ARGV("--min-allocs", "2"));
  ft_expect_eq("sites ranked with --min-allocs 2", js_int(j, "$.churn.sites_ranked"), 7);
  free(j);
}

/* The text of one section (from its "== Name ==" line to the next). */
static char *section(const char *out, const char *name) {
  const char *s = strstr(out, ft_fmt("== %s ==", name));
  if (!s) fail_msg("no section %s in:\n%s", name, out);
  const char *e = strstr(s + 3, "\n== ");
  return strndup(s, e ? (size_t)(e - s + 1) : strlen(s));
}

static void test_text_sections(void **state) {
  (void)state;
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  assert_string_equal(strtok(strdup(r.out), "\n"), ft_fmt("fragtrace report: %s", db));
  char *s = section(r.out, "Summary");
  static const char *const lines[] = {"  allocations             20,763\n", "  frees                   20,755\n",
                                      "  bytes allocated         5.4 MiB (5,701,740)\n",
                                      "  leaked                  8 blocks, 5.8 KiB (5,900)\n",
                                      "  temporary               20,054 (96.6%)\n",
                                      "  mmap                    1 mapping, 64.0 KiB (65,536)\n",
                                      "  events dropped          0\n"};
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
    if (!strstr(s, lines[i])) fail_msg("summary lacks '%s':\n%s", lines[i], s);
  ft_expect_true("peak line", strstr(s, "  peak live heap          4.0 MiB (4,200,204) in 12 blocks at ") != NULL);
  free(s);
  s = section(r.out, "Leaks");
  /* The rule is as wide as the widest row. */
  size_t l1 = strlen(label(L_LEAK_BIG)), l2 = strlen(label(L_CACHE_FILL));
  size_t width = 1 + 2 + 6 + 2 + 7 + 2 + 5 + 2 + (l1 > l2 ? l1 : l2);
  char rule[256];
  memset(rule, '-', width);
  rule[width] = 0;
  const char *want = ft_fmt("== Leaks ==\n"
                "  8 blocks, 5.8 KiB (5,900) never freed, in 2 sites (2 shown)\n"
                "\n"
                "  #  blocks    bytes  share  site\n"
                "  %s\n"
                "  1       5  4.9 KiB  84.7%%  %s\n"
                "  2       3    900 B  15.3%%  %s\n"
                "\n",
                rule, label(L_LEAK_BIG), label(L_CACHE_FILL));
  assert_string_equal(s, want);
  free(s);
  s = section(r.out, "Peak");
  ft_expect_true("peak sites",
                 strstr(s, ft_fmt("  1  4.0 MiB       4  99.9%%  %s\n  2  4.9 KiB       5   0.1%%  %s\n  3    900 B       3   0.0%%  %s\n",
                                  label(L_PEAK), label(L_LEAK_BIG), label(L_CACHE_FILL))) != NULL);
  char axis[80] = "      0 +";
  memset(axis + 9, '-', 64);
  strcpy(axis + 73, ">\n");
  ft_expect_true("chart axis: 64 columns", strstr(s, axis) != NULL);
  ft_expect_true("chart legend", strstr(s, ft_fmt("':' live heap of pid %lld, '#' its peak (4.0 MiB at ", pid)) != NULL);
  free(s);
  s = section(r.out, "Sizes");
  ft_expect_true("overall sizes",
                 strstr(s, "    32 B .. 64 B                     50    2.3 KiB  #\n"
                           "    64 B .. 128 B                20,000    1.2 MiB  ########################################\n"
                           "    128 B .. 256 B                  200   25.0 KiB  #\n"
                           "    256 B .. 512 B                  503  125.9 KiB  #\n"
                           "    512 B .. 1.0 KiB                  5    4.9 KiB  #\n"
                           "    1.0 KiB .. 2.0 KiB                0        0 B\n") != NULL);
  ft_expect_true("sizes ranked by allocations",
                 strstr(s, ft_fmt("  #1 %s: 20,000 allocations of 64 B .. 64 B\n", label(L_CHURN))) != NULL &&
                     strstr(s, ft_fmt("  #8 %s: 1 allocation of 64.0 KiB .. 64.0 KiB\n", label(L_MAP))) != NULL);
  free(s);
  s = section(r.out, "Churn");
  /* Rates vary by machine; the order does not. */
  const char *a = strstr(s, label(L_CHURN)), *b = strstr(s, label(L_RELAY)), *c = strstr(s, label(L_HOLD));
  ft_expect_true("churn order", a && b && c && a < b && b < c);
  ft_expect_true("no unranked sites", strstr(s, label(L_LEAK_BIG)) == NULL);
  free(s);
  ft_expect_true("no gates section without gates", strstr(r.out, "== Gates ==") == NULL);
  ft_run_free(&r);
  /* --section picks, --top cuts. */
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--section", "leaks", "--top", "1"));
  ft_expect_status(&r, 0);
  ft_expect_true("only leaks", strstr(r.out, "== Summary ==") == NULL && strstr(r.out, "== Leaks ==") != NULL);
  ft_expect_true("top 1", strstr(r.out, "(1 shown)") && !strstr(r.out, label(L_CACHE_FILL)));
  ft_run_free(&r);
}

static void test_leak_and_peak_sites(void **state) {
  (void)state;
  char *j = json_report(0, FT_ARGV("--section", "leaks,peak,sizes"));
  ft_expect_true("no summary object", strstr(j, "\"summary\"") == NULL);
  ft_expect_eq("leak sites", js_int(j, "$.leaks.sites_total"), 2);
  assert_string_equal(js_str(j, "$.leaks.sites[0].site.function"), "leak_big");
  ft_expect_eq("leak_big blocks", js_int(j, "$.leaks.sites[0].leaked"), 5);
  ft_expect_eq("leak_big bytes", js_int(j, "$.leaks.sites[0].leaked_bytes"), 5000);
  ft_expect_eq("leak_big line", js_int(j, "$.leaks.sites[0].site.line"), line_of[L_LEAK_BIG]);
  assert_string_equal(js_str(j, "$.leaks.sites[1].site.function"), "cache_fill");
  ft_expect_eq("cache_fill bytes", js_int(j, "$.leaks.sites[1].leaked_bytes"), 900);
  ft_expect_eq("peak bytes", js_int(j, "$.peak.bytes"), 4200204);
  ft_expect_eq("peak sites", js_int(j, "$.peak.sites_total"), 3);
  assert_string_equal(js_str(j, "$.peak.sites[0].site.function"), "peak_site");
  ft_expect_eq("peak_site at peak", js_int(j, "$.peak.sites[0].peak_bytes"), 4194304);
  ft_expect_eq("peak_site blocks", js_int(j, "$.peak.sites[0].peak_blocks"), 4);
  ft_expect_eq("chart columns", js_int(j, "$.peak.chart[63].to_ns") > 0, 1);
  static const long long buckets[][3] = {{5, 50, 2400}, {6, 20000, 1280000}, {7, 200, 25600}, {8, 503, 128900},
                                         {9, 5, 5000},  {16, 1, 65536},      {20, 4, 4194304}};
  for (int i = 0; i < 7; i++) {
    ft_expect_eq("size bucket", js_int(j, ft_fmt("$.sizes.overall[%d].bucket", i)), buckets[i][0]);
    ft_expect_eq("size count", js_int(j, ft_fmt("$.sizes.overall[%d].count", i)), buckets[i][1]);
    ft_expect_eq("size bytes", js_int(j, ft_fmt("$.sizes.overall[%d].bytes", i)), buckets[i][2]);
  }
  free(j);
}

/* The scan of allocation_rows (what a window uses) agrees with the summaries. */
static void test_scan_equals_summaries(void **state) {
  (void)state;
  const char *secs[] = {"--section", "summary,churn,leaks,sizes", "--top", "0", "--min-allocs", "1", NULL};
  char *fast = json_report(0, secs);
  char *slow = json_report(0, (const char *const[]){"--since", "0", secs[0], secs[1], secs[2], secs[3], secs[4], secs[5], NULL});
  assert_string_equal(js_str(slow, "$.source"), "allocation_rows");
  char *f = strstr(fast, "\"source\""), *s = strstr(slow, "\"source\"");
  assert_non_null(f);
  assert_non_null(s);
  /* Identical after the source line. */
  assert_string_equal(strchr(f, '\n'), strchr(s, '\n'));
  free(fast);
  free(slow);
  fast = json_report(0, FT_ARGV("--section", "peak"));
  slow = json_report(0, FT_ARGV("--section", "peak", "--since", "0"));
  assert_string_equal(js_str(fast, "$.peak.sites"), js_str(slow, "$.peak.sites"));
  ft_expect_eq("peak time", js_int(fast, "$.peak.t_ns"), js_int(slow, "$.peak.t_ns"));
  free(fast);
  free(slow);
}

static void test_window(void **state) {
  (void)state;
  sqlite3 *d = ft_db_open(db);
  /* One process: trace time is process time. */
  long long churn0 = ft_q_int(d, "SELECT min(a.t_alloc_ns) FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id "
                                 "AND c.depth = 0 WHERE c.function = 'churn_site'");
  long long relay0 = ft_q_int(d, "SELECT min(a.t_alloc_ns) FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id "
                                 "AND c.depth = 0 WHERE c.function = 'relay_site'");
  sqlite3_close(d);
  char since[32], until[32];
  snprintf(since, sizeof since, "%lldns", churn0);
  snprintf(until, sizeof until, "%lldns", relay0);
  char *j = json_report(0, FT_ARGV("--since", since, "--until", until));
  ft_expect_eq("window allocations", js_int(j, "$.summary.allocations"), 20000);
  ft_expect_eq("window bytes", js_int(j, "$.summary.bytes"), 1280000);
  ft_expect_eq("window leaks", js_int(j, "$.summary.leaked"), 0);
  /* The leaks made before the window are live in it, plus one churn block. */
  ft_expect_eq("window peak", js_int(j, "$.summary.peak_live_bytes"), 5900 + 64);
  ft_expect_eq("window peak blocks", js_int(j, "$.summary.peak_live_blocks"), 9);
  ft_expect_eq("window peak at the first churn block", js_int(j, "$.summary.peak_live_ns"), churn0);
  ft_expect_eq("window sites", js_int(j, "$.churn.sites_ranked"), 1);
  ft_expect_eq("window runtime", js_int(j, "$.summary.runtime_ns"), relay0 - churn0);
  free(j);
  j = json_report(0, FT_ARGV("--until", since));
  ft_expect_eq("before churn", js_int(j, "$.summary.allocations"), 8);
  ft_expect_eq("before churn leaked", js_int(j, "$.summary.leaked_bytes"), 5900);
  free(j);
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--since", since, "--section", "summary"));
  ft_expect_status(&r, 0);
  ft_expect_true("window line", strstr(r.out, "window: allocations made from ") != NULL);
  ft_run_free(&r);
}

/* ---- gates ------------------------------------------------------------------- */

static void gate(const char *const opts[], int want, const char *stderr_want) {
  const char *args[32] = {FT_BIN, "report", db, "--section", "summary"};
  int n = 5;
  for (int i = 0; opts[i]; i++) args[n++] = opts[i];
  args[n] = NULL;
  ft_run r;
  fragtrace(&r, args);
  if (r.status != want) fail_msg("%s: exit %d, expected %d; stderr:\n%s", opts[0], r.status, want, r.err);
  if (!stderr_want) {
    ft_expect_no_stderr(&r);
  } else {
    if (ft_count_lines(r.err) != 1) fail_msg("%s: expected one line on stderr, got:\n%s", opts[0], r.err);
    if (strncmp(r.err, stderr_want, strlen(stderr_want)) != 0)
      fail_msg("%s: stderr\n%s\nexpected to start with\n%s", opts[0], r.err, stderr_want);
    ft_expect_true("report still printed", strstr(r.out, "== Gates ==") != NULL && strstr(r.out, "FAILED") != NULL);
  }
  ft_run_free(&r);
}

static void test_gates(void **state) {
  (void)state;
  gate(FT_ARGV("--fail-on-leaks"), 1,
       ft_fmt("fragtrace: gate --fail-on-leaks: 5900 bytes (5.8 KiB) in 8 blocks leaked, 5.8 KiB over the 0 B allowed; "
              "largest: %s, 5 blocks, 4.9 KiB\n",
              label(L_LEAK_BIG)));
  gate(FT_ARGV("--fail-on-leaks=5900"), 0, NULL);
  gate(FT_ARGV("--fail-on-leaks=5899"), 1, "fragtrace: gate --fail-on-leaks: 5900 bytes (5.8 KiB) in 8 blocks leaked, 1 B over");
  gate(FT_ARGV("--fail-on-leaks=1KiB"), 1, "fragtrace: gate --fail-on-leaks: 5900 bytes (5.8 KiB) in 8 blocks leaked, 4.8 KiB over the 1.0 KiB allowed");
  gate(FT_ARGV("--max-peak", "4200204"), 0, NULL);
  gate(FT_ARGV("--max-peak", "4MiB"), 1,
       ft_fmt("fragtrace: gate --max-peak: peak live heap 4200204 bytes (4.0 MiB), 5.8 KiB over the limit of 4.0 MiB, pid %lld at ", pid));
  gate(FT_ARGV("--max-churn", "1G"), 0, NULL);
  gate(FT_ARGV("--max-churn", "100k"), 1, ft_fmt("fragtrace: gate --max-churn: %s allocates ", label(L_CHURN)));
  gate(FT_ARGV("--max-short-lived", "100"), 0, NULL);
  gate(FT_ARGV("--max-short-lived", "50%"), 1, "fragtrace: gate --max-short-lived: ");
  /* Every tripped gate has its line. */
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--fail-on-leaks", "--max-peak", "1MiB", "--max-churn", "1G", "--format", "json"));
  ft_expect_status(&r, 1);
  ft_expect_eq("two lines", ft_count_lines(r.err), 2);
  ft_expect_true("peak blamed on peak_site", strstr(r.err, ft_fmt("largest there: %s, 4.0 MiB", label(L_PEAK))) != NULL);
  ft_expect_eq("churn gate passed", js_int(r.out, "$.gates[2].tripped"), 0);
  assert_string_equal(js_str(r.out, "$.gates[0].gate"), "fail-on-leaks");
  ft_expect_eq("leak gate value", js_int(r.out, "$.gates[0].value"), 5900);
  ft_expect_eq("leak gate tripped", js_int(r.out, "$.gates[0].tripped"), 1);
  assert_string_equal(js_str(r.out, "$.gates[1].site"), label(L_PEAK));
  ft_run_free(&r);
  /* The short-lived gate names the site with the most short-lived blocks. */
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--short-lived", "100ms", "--max-short-lived", "90", "--section", "summary"));
  ft_expect_status(&r, 1);
  assert_string_equal(r.err, ft_fmt("fragtrace: gate --max-short-lived: 99.0%% of allocations lived less than 100.0 ms "
                                    "(20551 of 20763), 9.0 points over the limit of 90.0%%; most: %s, 20000 (100%% of its allocations)\n",
                                    label(L_CHURN)));
  ft_run_free(&r);
}

/* ---- suppressions, --skip, --stacks ------------------------------------------ */

static void test_suppressions(void **state) {
  (void)state;
  const char *supp = ft_tmp_path("report.supp");
  ft_write_file(supp, "# as for LSan\nleak:cache_fill\nleak:^nothing_matches$\n");
  char *j = json_report(0, FT_ARGV("--suppressions", supp));
  ft_expect_eq("leaked after suppression", js_int(j, "$.summary.leaked"), 5);
  ft_expect_eq("leaked bytes after suppression", js_int(j, "$.summary.leaked_bytes"), 5000);
  ft_expect_eq("suppressed", js_int(j, "$.leaks.suppressed.blocks"), 3);
  ft_expect_eq("suppressed bytes", js_int(j, "$.leaks.suppressed.bytes"), 900);
  assert_string_equal(js_str(j, "$.leaks.suppressed.suppressions[0].pattern"), "cache_fill");
  ft_expect_eq("first pattern's bytes", js_int(j, "$.leaks.suppressed.suppressions[0].bytes"), 900);
  ft_expect_eq("second pattern's bytes", js_int(j, "$.leaks.suppressed.suppressions[1].bytes"), 0);
  ft_expect_eq("leak sites", js_int(j, "$.leaks.sites_total"), 1);
  free(j);
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--section", "leaks", "--suppressions", supp));
  ft_expect_status(&r, 0);
  ft_expect_true("suppressed lines",
                 strstr(r.out, "  Suppressed: 3 blocks, 900 B (900) by 2 suppressions\n\n"
                               "  blocks  bytes  suppression\n"
                               "  -------------------------------------\n"
                               "       3  900 B  leak:cache_fill\n"
                               "       0    0 B  leak:^nothing_matches$\n") != NULL);
  ft_run_free(&r);
  /* A file matches any frame: this one suppresses every leak, and the gate passes. */
  ft_write_file(supp, "leak:report_sites.c\n");
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--section", "leaks", "--suppressions", supp, "--fail-on-leaks"));
  ft_expect_status(&r, 0);
  ft_expect_true("all suppressed", strstr(r.out, "0 blocks, 0 B (0) never freed, in 0 sites") != NULL);
  ft_run_free(&r);
  /* So does the module (the program's path). */
  ft_write_file(supp, "leak:*/report_sites$\n");
  j = json_report(0, FT_ARGV("--suppressions", supp));
  ft_expect_eq("module suppressed", js_int(j, "$.leaks.suppressed.blocks"), 8);
  free(j);
  ft_write_file(supp, "leak:ok\nfrobnicate:x\n");
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--suppressions", supp));
  expect_input_error(&r, "bad suppressions");
  ft_expect_true("names the line", strstr(r.err, "report.supp:2:") != NULL);
  ft_run_free(&r);
}

static void test_skip_and_stacks(void **state) {
  (void)state;
  char *j = json_report(0, FT_ARGV("--section", "sizes", "--top", "0"));
  ft_expect_true("wrapper is the site", strstr(j, ft_fmt("\"label\": \"%s\"", label(L_XMALLOC))) != NULL);
  free(j);
  j = json_report(0, FT_ARGV("--section", "sizes", "--top", "0", "--skip", "my_xmalloc"));
  ft_expect_true("caller is the site with --skip", strstr(j, ft_fmt("\"label\": \"%s\"", label(L_WRAPPED))) != NULL);
  ft_expect_true("wrapper gone", strstr(j, ft_fmt("\"label\": \"%s\"", label(L_XMALLOC))) == NULL);
  free(j);
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--section", "leaks", "--stacks"));
  ft_expect_status(&r, 0);
  ft_expect_true("stack printed",
                 strstr(r.out, ft_fmt("  #1 %s\n  >  0  %s\n     1  main (report_sites.c:", label(L_LEAK_BIG), label(L_LEAK_BIG))) != NULL);
  ft_run_free(&r);
  j = json_report(0, FT_ARGV("--section", "leaks", "--stacks"));
  assert_string_equal(js_str(j, "$.leaks.sites[0].site.frames[1].function"), "main");
  ft_expect_eq("site frame", js_int(j, "$.leaks.sites[0].site.site_frame"), 0);
  free(j);
}

/* ---- formats ------------------------------------------------------------------ */

static void test_markdown(void **state) {
  (void)state;
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, "--format", "markdown", "--fail-on-leaks=1MiB"));
  ft_expect_status(&r, 0);
  const char *o = r.out;
  ft_expect_true("title", strncmp(o, "# fragtrace report: ", 20) == 0);
  static const char *const parts[] = {"\n## Summary\n\n| measure | value |\n|---|---|\n| processes | 1 (pid ",
                                      "\n## Churn\n", "\n## Leaks\n", "\n## Peak\n", "\n## Sizes\n", "\n## Gates\n",
                                      "| gate | limit | value | result |\n|---|---:|---:|---|\n| --fail-on-leaks | 1.0 MiB | 5.8 KiB | ok |\n",
                                      "<details><summary>Lifetimes of #1 churn\\_site (report\\_sites.c:"};
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
    if (!strstr(o, parts[i])) fail_msg("markdown lacks '%s'", parts[i]);
  ft_expect_true("leak row", strstr(o, ft_fmt("| 1 | 5 | 4.9 KiB | 84.7%% | leak\\_big (report\\_sites.c:%d) |\n", line_of[L_LEAK_BIG])) != NULL);
  /* Code fences come in pairs; every table row has as many cells as its header. */
  int fences = 0;
  for (const char *p = o; (p = strstr(p, "```")); p += 3) fences++;
  ft_expect_true("fences paired", fences > 0 && fences % 2 == 0);
  ft_run_free(&r);
}

static void test_json_schema(void **state) {
  (void)state;
  if (system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") != 0) {
    print_message("skipping JSON Schema validation: /usr/bin/python3 has no jsonschema (Debian python3-jsonschema)\n");
    skip();
  }
  const char *supp = ft_tmp_path("schema.supp");
  ft_write_file(supp, "leak:cache_fill\n");
  const char *const variants[][12] = {
      {NULL},
      {"--stacks", "--suppressions", supp, "--fail-on-leaks", "--max-peak", "1MiB", "--max-churn", "1k", "--max-short-lived", "1", NULL},
      {"--since", "100ms", "--until", "300ms", "--top", "0", NULL},
      {"--section", "leaks", "--pid", ft_fmt("%lld", pid), NULL},
  };
  for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
    char *j = json_report(i == 1 ? 1 : 0, variants[i]);
    const char *path = ft_tmp_path(ft_fmt("report_%zu.json", i));
    ft_write_file(path, j);
    free(j);
    ft_run r;
    ft_run_cmd(&r, NULL,
               FT_ARGV("/usr/bin/python3", "-c",
                       "import json, sys, jsonschema\n"
                       "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\n",
                       path, FT_SOURCE_DIR "/reporter/report.schema.json"));
    if (r.status != 0) fail_msg("variant %zu does not validate:\n%s", i, r.err);
    ft_run_free(&r);
  }
}

/* ---- processes ----------------------------------------------------------------- */

static void test_pid(void **state) {
  (void)state;
  const char *fdb = ft_tmp_path("report_forker.db");
  ft_run r;
  ft_record(&r, fdb, NULL, NULL, FT_ARGV(ft_prog("forker")));
  ft_expect_status(&r, 0);
  long long child = ft_kv(r.out, "child");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", fdb, "--format", "json", "--pid", ft_fmt("%lld", child)));
  ft_expect_status(&r, 0);
  ft_expect_eq("child allocations", js_int(r.out, "$.summary.allocations"), 3);
  ft_expect_eq("child bytes", js_int(r.out, "$.summary.bytes"), 3 * 7171);
  ft_expect_eq("child leaked", js_int(r.out, "$.summary.leaked_bytes"), 7171);
  ft_expect_eq("child unmatched frees", js_int(r.out, "$.summary.unmatched_frees"), 1);
  ft_expect_eq("one process", js_int(r.out, "$.summary.processes[0].pid"), child);
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", fdb, "--section", "summary"));
  ft_expect_status(&r, 0);
  ft_expect_true("two processes", strstr(r.out, "  processes               2\n") != NULL);
  ft_expect_true("process table", strstr(r.out, ft_fmt("\n  %lld", child)) != NULL || strstr(r.out, ft_fmt(" %lld ", child)) != NULL);
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", fdb, "--pid", "999999999"));
  expect_input_error(&r, "unknown pid");
  ft_run_free(&r);
}

/* ---- bad inputs ----------------------------------------------------------------- */

static void copy_file(const char *from, const char *to, long bytes) {
  char *cmd = NULL;
  if (bytes < 0) assert_true(asprintf(&cmd, "cp '%s' '%s'", from, to) > 0);
  else assert_true(asprintf(&cmd, "head -c %ld '%s' > '%s'", bytes, from, to) > 0);
  assert_int_equal(system(cmd), 0);
  free(cmd);
}

static void test_bad_inputs(void **state) {
  (void)state;
  ft_run r;
  const char *missing = ft_tmp_path("no_such_trace.db");
  unlink(missing);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", missing));
  expect_input_error(&r, "missing file");
  ft_run_free(&r);
  const char *empty = ft_tmp_path("empty.db");
  ft_write_file(empty, "");
  fragtrace(&r, FT_ARGV(FT_BIN, "report", empty));
  expect_input_error(&r, "empty file");
  ft_run_free(&r);
  const char *text = ft_tmp_path("not_sqlite.db");
  ft_write_file(text, "this is not a database, just some text that is long enough to have a header\n"
                      "and a second line of it, to be sure it is longer than one hundred bytes.\n");
  fragtrace(&r, FT_ARGV(FT_BIN, "report", text));
  expect_input_error(&r, "not SQLite");
  ft_run_free(&r);
  struct stat st;
  assert_int_equal(stat(db, &st), 0);
  const char *half = ft_tmp_path("truncated.db");
  copy_file(db, half, (long)st.st_size / 2);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", half));
  expect_input_error(&r, "truncated trace");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "query", half, "SELECT count(*) FROM allocations"));
  expect_input_error(&r, "query of a truncated trace");
  ft_run_free(&r);
  const char *v2 = ft_tmp_path("schema_v2.db");
  copy_file(db, v2, -1);
  sqlite3 *d = NULL;
  assert_int_equal(sqlite3_open(v2, &d), SQLITE_OK);
  assert_int_equal(sqlite3_exec(d, "UPDATE meta SET value = '2' WHERE key = 'schema_version'", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(d);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", v2));
  expect_input_error(&r, "schema version 2");
  ft_expect_true("says newer", strstr(r.err, "newer") != NULL);
  ft_run_free(&r);
  const char *other = ft_tmp_path("other.db");
  unlink(other);
  assert_int_equal(sqlite3_open(other, &d), SQLITE_OK);
  assert_int_equal(sqlite3_exec(d, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(d);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", other));
  expect_input_error(&r, "SQLite but not a trace");
  ft_run_free(&r);
  /* Usage errors. */
  static const char *const bad[][4] = {
      {"--top", "x"},          {"--format", "xml"},      {"--section", "summary,bogus"}, {"--since", "5"},
      {"--until", "-1s"},      {"--short-lived", "1"},   {"--max-peak", "lots"},        {"--max-churn", "fast"},
      {"--max-short-lived", "101"}, {"--fail-on-leaks=x"}, {"--pid", "abc"},             {"--no-such-option"},
      {"--since", "2s", "--until", "1s"}, {"--top"},      {"--suppressions", "/nonexistent/file.supp"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    const char *args[8] = {FT_BIN, "report", db};
    int n = 3;
    for (int k = 0; k < 4 && bad[i][k]; k++) args[n++] = bad[i][k];
    args[n] = NULL;
    fragtrace(&r, args);
    expect_input_error(&r, ft_fmt("report %s %s", bad[i][0], bad[i][1] ? bad[i][1] : ""));
    ft_run_free(&r);
  }
  fragtrace(&r, FT_ARGV(FT_BIN, "report"));
  expect_input_error(&r, "no file");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", db, db));
  expect_input_error(&r, "two files");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "report", "--help"));
  ft_expect_status(&r, 0);
  ft_expect_true("help", strstr(r.out, "--fail-on-leaks[=BYTES]") != NULL);
  ft_run_free(&r);
}

/* ---- query and the schema's views ------------------------------------------------- */

static void test_query(void **state) {
  (void)state;
  ft_run r;
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db, "SELECT count(*) AS n, sum(size) AS bytes FROM allocations; SELECT NULL AS x, 'a\tb' AS y"));
  ft_expect_status(&r, 0);
  assert_string_equal(r.out, "n\tbytes\n20763\t5701740\nx\ty\n\ta\\tb\n");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db, "DELETE FROM meta"));
  expect_input_error(&r, "writing query");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db, "SELEKT 1"));
  expect_input_error(&r, "bad SQL");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db));
  expect_input_error(&r, "no SQL");
  ft_run_free(&r);
  /* The views give the report's numbers. */
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db,
                        "SELECT function, allocations, bytes, leaked, leaked_bytes, temporary FROM site_summary "
                        "WHERE function IN ('churn_site', 'leak_big', 'peak_site') ORDER BY function"));
  ft_expect_status(&r, 0);
  assert_string_equal(r.out, "function\tallocations\tbytes\tleaked\tleaked_bytes\ttemporary\n"
                             "churn_site\t20000\t1280000\t0\t0\t20000\n"
                             "leak_big\t5\t5000\t5\t5000\t0\n"
                             "peak_site\t4\t4194304\t0\t0\t1\n");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db, "SELECT function, count(*), sum(size) FROM leaks GROUP BY function ORDER BY 3 DESC"));
  ft_expect_status(&r, 0);
  assert_string_equal(r.out, "function\tcount(*)\tsum(size)\nleak_big\t5\t5000\ncache_fill\t3\t900\n");
  ft_run_free(&r);
  fragtrace(&r, FT_ARGV(FT_BIN, "query", db,
                        "SELECT count(*), sum(temporary) FROM lifetimes WHERE function = 'churn_site'; "
                        "SELECT sum(count) FROM site_lifetime_hist h JOIN site_summary s USING (stack_id) WHERE s.function = 'relay_site'"));
  ft_expect_status(&r, 0);
  assert_string_equal(r.out, "count(*)\tsum(temporary)\n20000\t20000\nsum(count)\n500\n");
  ft_run_free(&r);
}

static int teardown(void **state) {
  (void)state;
  sqlite3_close(jdb);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_summary_numbers),   cmocka_unit_test(test_churn_ranks),
      cmocka_unit_test(test_text_sections),     cmocka_unit_test(test_leak_and_peak_sites),
      cmocka_unit_test(test_scan_equals_summaries), cmocka_unit_test(test_window),
      cmocka_unit_test(test_gates),             cmocka_unit_test(test_suppressions),
      cmocka_unit_test(test_skip_and_stacks),   cmocka_unit_test(test_markdown),
      cmocka_unit_test(test_json_schema),       cmocka_unit_test(test_pid),
      cmocka_unit_test(test_bad_inputs),        cmocka_unit_test(test_query),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
