/*
** test_html.c — `fragtrace report --format html` (issue 6).
**
** The page of examples/pinned_heap (RSS sampled every 20 ms) must be one
** self-contained file: no script, no URL, nothing to fetch; it must carry
** the findings, the summary's exact numbers, the charts (timeline, buddy
** orders and heat map when the host's buddyinfo was sampled, the four
** flame graphs) and the top pinning site. A trace without samples still
** gets a page that says what is missing. -o errors leave no file.
**
** Production mode (issue 5), asserted exactly: a byte-sampled trace
** recorded late (--delay) says its counts are estimates, shows the
** program's exact totals and the paused start in the text report's words
** and shaded on the timeline; a copy given a thinning round and untracked
** and unwritten counters says those; a trace started paused, resumed,
** flushed and stopped with `fragtrace ctl` shows the totals of its last
** heap_totals row and marks the flush and the stop. A trace of eleven
** processes gets eight timelines, the largest heap peak first, and a line
** naming the other three.
**
** In headless Chromium (when installed; skipped with a message otherwise)
** the page must load with no console message and no request of its own,
** and the run writes a screenshot, FT_TMP/html_report.png, for a person to
** look at. tests/tools/html_check.py drives Chromium; a page with a script
** error and an external image checks that the checker catches both. In
** headless Firefox (likewise optional) the page must load without a script
** error, into FT_TMP/html_report_firefox.png. Both screenshots must be PNGs
** 1280 px wide and not blank.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft_itest.h"

#if !defined(FT_SOURCE_DIR) || !defined(FT_EXAMPLES)
#error FT_SOURCE_DIR and FT_EXAMPLES must name the source tree and the built examples
#endif

static char db_pin[512], db_off[512], html_pin[512];

static int setup(void **state) {
  (void)state;
  ft_run r;
  snprintf(db_pin, sizeof db_pin, "%s", ft_tmp_path("html_pinned_heap.db"));
  ft_record(&r, db_pin, NULL, FT_ARGV("--sample-ms", "20"), FT_ARGV(FT_EXAMPLES "/pinned_heap"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  snprintf(db_off, sizeof db_off, "%s", ft_tmp_path("html_nosample.db"));
  ft_record(&r, db_off, NULL,
            FT_ARGV("--sample-ms", "0", "--sys-sample-ms", "0", "--smaps-ms", "0", "--mallinfo-ms", "0", "--slabinfo-ms", "0",
                    "--pagetypeinfo-ms", "0"),
            FT_ARGV(FT_EXAMPLES "/pinned_heap"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  /* The page the static and the browser tests look at. */
  snprintf(html_pin, sizeof html_pin, "%s", ft_tmp_path("html_pinned_heap.html"));
  unlink(html_pin);
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db_pin, "--format", "html", "-o", html_pin));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_expect_true("nothing on stdout with -o", r.out[0] == 0);
  ft_run_free(&r);
  return 0;
}

/* n with thousands separators, as the report prints counts. */
static const char *commas(long long n) {
  char digits[32], out[48];
  snprintf(digits, sizeof digits, "%lld", n);
  size_t len = strlen(digits), k = 0;
  for (size_t i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0) out[k++] = ',';
    out[k++] = digits[i];
  }
  out[k] = 0;
  return ft_fmt("%s", out);
}

static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* The text of the section with this id, up to the next <h2 (a copy). */
static char *section(const char *page, const char *id) {
  const char *start = strstr(page, ft_fmt("<h2 id=\"%s\">", id));
  if (!start) fail_msg("no section %s in the page", id);
  const char *end = strstr(start + 4, "<h2 ");
  size_t n = end ? (size_t)(end - start) : strlen(start);
  char *s = malloc(n + 1);
  assert_non_null(s);
  memcpy(s, start, n);
  s[n] = 0;
  return s;
}

/* The value and detail of the summary card labelled label ("" when it has
** no detail), as "VALUE|DETAIL"; NULL when the page has no such card. */
static const char *card_of(const char *page, const char *label) {
  const char *p = strstr(page, ft_fmt("<div class=\"card\"><span>%s</span><b>", label));
  if (!p) return NULL;
  p = strchr(p, '>') + 1;
  p = strstr(p, "<b>") + 3;
  const char *v_end = strstr(p, "</b>"), *end = strstr(p, "</div>");
  assert_true(v_end && end && v_end < end);
  const char *d = v_end + 4;
  if (strncmp(d, "<span>", 6) == 0) {
    const char *d_end = strstr(d, "</span>");
    return ft_fmt("%.*s|%.*s", (int)(v_end - p), p, (int)(d_end - d - 6), d + 6);
  }
  return ft_fmt("%.*s|", (int)(v_end - p), p);
}

/* The value of row key in a text report's summary table ("  key   value"),
** escaped as the page escapes it; NULL when there is no such row. */
static const char *text_row(const char *report, const char *key) {
  const char *p = strstr(report, ft_fmt("\n  %s  ", key));
  if (!p) return NULL;
  p += 3 + strlen(key);
  while (*p == ' ') p++;
  const char *e = strchr(p, '\n');
  char raw[2048];
  snprintf(raw, sizeof raw, "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
  /* The page escapes ' as &#39; (the only character of these lines it escapes). */
  char out[4096];
  size_t k = 0;
  for (const char *c = raw; *c && k + 8 < sizeof out; c++) {
    if (*c == '\'') k += (size_t)snprintf(out + k, sizeof out - k, "&#39;");
    else out[k++] = *c;
  }
  out[k] = 0;
  return ft_fmt("%s", out);
}

/* The text report (summary section) of a trace. */
static char *text_summary(const char *db) {
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--section", "summary"));
  ft_expect_status(&r, 0);
  char *s = strdup(r.out);
  ft_run_free(&r);
  return s;
}

/* Render db as HTML into a tmp file named name; the page's text. */
static char *render(const char *db, const char *name) {
  const char *out = ft_tmp_path(name);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--format", "html", "-o", out));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_run_free(&r);
  char *page = ft_read_file(out);
  assert_non_null(page);
  return page;
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  assert_non_null(in);
  assert_non_null(out);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

/* Nothing in the page may reach outside it. */
static void expect_self_contained(const char *page) {
  static const char *const banned[] = {"<script", "http://", "https://", "src=", "url(", "@import", "<link", "<iframe",
                                       "<object", "<embed", "@font-face", "xlink:href"};
  for (size_t i = 0; i < sizeof banned / sizeof *banned; i++)
    if (strstr(page, banned[i])) fail_msg("the page contains \"%s\": it must not load anything", banned[i]);
  /* The only links are the table of contents' own anchors. */
  for (const char *p = strstr(page, "href=\""); p; p = strstr(p + 1, "href=\""))
    if (p[6] != '#') fail_msg("a link that leaves the page: %.60s", p);
}

static void test_page(void **state) {
  (void)state;
  char *page = ft_read_file(html_pin);
  assert_non_null(page);
  sqlite3 *db = ft_db_open(db_pin);
  ft_expect_true("a whole HTML document", strncmp(page, "<!DOCTYPE html>\n<html", 21) == 0);
  ft_expect_true("ends the document", strstr(page, "</html>\n") == page + strlen(page) - 8);
  expect_self_contained(page);
  ft_expect_true("a policy that forbids loading anything",
                 strstr(page, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ") != NULL);

  /* Findings first: the pinning culprit with its advice. */
  char *find = section(page, "findings");
  ft_expect_true("findings before the summary", strstr(page, "id=\"findings\"") < strstr(page, "id=\"summary\""));
  ft_expect_true("a high finding", strstr(find, "<span class=\"sev sev1\">high</span>") != NULL);
  ft_expect_true("the pinning finding names cache_insert", strstr(find, "cache_insert (pinned_heap.c:") != NULL);
  ft_expect_true("the rule is named", strstr(find, "(pinning, site)") != NULL);
  ft_expect_true("advice listed", strstr(find, "<ul class=\"advice\"><li>") != NULL);
  free(find);

  /* Summary cards carry the trace's exact counts. */
  long long allocs = ft_q_int(db, "SELECT count(*) FROM allocation_rows");
  long long frees = ft_q_int(db, "SELECT count(*) FROM allocation_rows WHERE lifetime IS NOT NULL");
  const char *card = ft_fmt("<span>allocations</span><b>%s</b><span>%s frees</span>", commas(allocs), commas(frees));
  if (!strstr(page, card)) fail_msg("no card %s", card);
  long long bytes = ft_q_int(db, "SELECT sum(size) FROM allocation_rows");
  card = ft_fmt("<span>%s bytes</span>", commas(bytes));
  if (!strstr(page, card)) fail_msg("no bytes card %s", card);

  /* The timeline: its chart, the peak marked with the exact peak. */
  char *tl = section(page, "timeline");
  ft_expect_eq("one timeline chart", count_of(tl, "<svg class=\"chart timeline\""), 1);
  long long peak = ft_q_int(db, "SELECT peak_live_bytes FROM process_stats");
  long long peak_n = ft_q_int(db, "SELECT peak_live_allocations FROM process_stats");
  const char *tip = ft_fmt("(%s) live in %s blocks at", commas(peak), commas(peak_n));
  if (!strstr(tl, tip)) fail_msg("the peak mark's tip lacks \"%s\"", tip);
  ft_expect_eq("live heap line", count_of(tl, "<path class=\"live\""), 1);
  ft_expect_eq("RSS line", count_of(tl, "<path class=\"rss\""), 1);
  ft_expect_true("the gap shaded", strstr(tl, "<g class=\"gap\"><title>RSS above the live heap") != NULL);
  /* Pss: one dot per smaps sample (few in a 0.3 s run) or a line. */
  long long pss = ft_q_int(db, "SELECT count(*) FROM smaps_samples WHERE pss IS NOT NULL");
  if (pss > 0 && pss <= 24) ft_expect_eq("Pss dots", count_of(tl, "<circle class=\"pss\""), pss);
  free(tl);

  /* Call sites: the top pinning site first, with its sparkline and stack. */
  char *pin = section(page, "pinning");
  const char *row1 = strstr(pin, "<tr><td>1</td>");
  ft_expect_true("a first pinning row", row1 != NULL);
  const char *row_end = strstr(row1, "</tr>");
  const char *site = strstr(row1, "<summary title=\"");
  ft_expect_true("the top pinning site is cache_insert",
                 site && site < row_end && strstr(site, "cache_insert (pinned_heap.c:") &&
                     strstr(site, "cache_insert (pinned_heap.c:") < row_end);
  ft_expect_true("a rate sparkline in the row", strstr(row1, "<svg class=\"spark\"") < row_end);
  ft_expect_true("its whole stack", strstr(row1, "<ol class=\"stack\" start=\"0\"><li") < row_end);
  ft_expect_true("main in the stack", strstr(row1, ">main (pinned_heap.c:") && strstr(row1, ">main (pinned_heap.c:") < row_end);
  free(pin);
  char *churn = section(page, "churn");
  ft_expect_true("lifetime histograms", strstr(churn, "<svg class=\"bars\"") != NULL);
  free(churn);

  /* Flame graphs: one per weight, the root holding every allocation. */
  char *fl = section(page, "flame");
  ft_expect_eq("four flame graphs", count_of(fl, "<svg class=\"flamegraph\""), 4);
  ft_expect_eq("four weight buttons", count_of(fl, "<input type=\"radio\" name=\"fw\""), 4);
  const char *root = ft_fmt("<g><title>all: %s, 100%%</title>", commas(allocs));
  if (!strstr(fl, root)) fail_msg("no root frame \"%s\"", root);
  long long leaked = ft_q_int(db, "SELECT sum(size) FROM allocation_rows WHERE lifetime IS NULL");
  root = ft_fmt("(%s bytes), 100%%</title>", commas(leaked));
  if (!strstr(fl, root)) fail_msg("no leaked root \"%s\"", root);
  ft_expect_true("cache_insert in the flame graph", strstr(fl, "<title>cache_insert: ") != NULL);
  free(fl);

  /* The host charts, when the host's buddyinfo could be read. */
  long long zones = ft_q_int(db,
                             "SELECT count(*) FROM (SELECT node, zone FROM buddyinfo_samples GROUP BY node, zone "
                             "HAVING sum(free_blocks) > 0)");
  char *sys = section(page, "system");
  ft_expect_eq("a stacked order chart per zone with free memory", count_of(sys, "<svg class=\"chart buddy\""), zones);
  ft_expect_eq("a heat map per zone", count_of(sys, "<svg class=\"chart heat\""), zones);
  free(sys);

  /* Small: the page does not grow with the allocations. */
  ft_expect_true("under 1 MB", strlen(page) < 1000000);
  sqlite3_close(db);
  free(page);
}

static void test_no_samples(void **state) {
  (void)state;
  const char *out = ft_tmp_path("html_nosample.html");
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db_off, "--format", "html", "-o", out));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_run_free(&r);
  char *page = ft_read_file(out);
  assert_non_null(page);
  expect_self_contained(page);
  ft_expect_true("live heap still charted", strstr(page, "<svg class=\"chart timeline\"") != NULL);
  ft_expect_true("says RSS is missing", strstr(page, "No RSS samples in this trace") != NULL);
  ft_expect_true("no RSS line", strstr(page, "<path class=\"rss\"") == NULL);
  ft_expect_true("no host charts", strstr(page, "class=\"chart buddy\"") == NULL);
  ft_expect_true("flame graphs still there", strstr(page, "<svg class=\"flamegraph\"") != NULL);
  free(page);
}

static void test_output_errors(void **state) {
  (void)state;
  ft_run r;
  /* To stdout without -o. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db_pin, "--format", "html", "--section", "summary"));
  ft_expect_status(&r, 0);
  ft_expect_true("a page on stdout", strncmp(r.out, "<!DOCTYPE html>", 15) == 0);
  ft_run_free(&r);
  /* An unwritable -o: one line, status 2. */
  const char *bad = ft_tmp_path("no-such-dir/report.html");
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db_pin, "--format", "html", "-o", bad));
  ft_expect_status(&r, 2);
  ft_expect_eq("one line on stderr", ft_count_lines(r.err), 1);
  ft_expect_true("names the file", strstr(r.err, "no-such-dir/report.html") != NULL);
  ft_run_free(&r);
  /* A bad trace leaves no file behind. */
  const char *notrace = ft_tmp_path("html_not_a_trace.db");
  ft_write_file(notrace, "not sqlite\n");
  const char *out = ft_tmp_path("html_never.html");
  unlink(out);
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", notrace, "--format", "html", "-o", out));
  ft_expect_status(&r, 2);
  ft_expect_true("no output file", !ft_exists(out));
  ft_run_free(&r);
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db_pin, "--format", "pdf"));
  ft_expect_status(&r, 2);
  ft_expect_true("html among the formats", strstr(r.err, "html") != NULL);
  ft_run_free(&r);
}

/* The host charts of a known series: buddyinfo_samples and vmstat_samples
** of a copy of the trace rewritten so every number on the charts is known. */
static void test_host_series(void **state) {
  (void)state;
  const char *db = ft_tmp_path("html_host_series.db");
  copy_file(db_pin, db);
  sqlite3 *w = NULL;
  assert_int_equal(sqlite3_open(db, &w), SQLITE_OK);
  /* Zone Normal of node 0, two snapshots: 512 free pages of order 0 and one
  ** block of order 9. Unusable index: 0 for order 0, (1024 - 512) / 1024 =
  ** 0.5 for orders 1..9, 1 for order 10. vmstat: compact_stall +3 between
  ** 10 and 20 ms, thp_fault_fallback +2 between 10 and 30 ms. */
  const char *sql =
      "CREATE TEMP TABLE sp AS SELECT proc FROM processes LIMIT 1;"
      "DELETE FROM buddyinfo_samples; DELETE FROM vmstat_samples;"
      "WITH RECURSIVE o(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM o WHERE n < 10), t(ns) AS (VALUES (0), (10000000)) "
      "INSERT INTO buddyinfo_samples SELECT (SELECT proc FROM sp), ns, 0, 'Normal', n, "
      "CASE n WHEN 0 THEN 512 WHEN 9 THEN 1 ELSE 0 END FROM o, t;"
      "WITH x(t, k, v) AS (VALUES "
      "(10000000, 'compact_stall', 5), (20000000, 'compact_stall', 8), (30000000, 'compact_stall', 8), "
      "(10000000, 'thp_fault_fallback', 0), (30000000, 'thp_fault_fallback', 2), "
      "(10000000, 'pgfault', 1), (30000000, 'pgfault', 100)) "
      "INSERT INTO vmstat_samples SELECT (SELECT proc FROM sp), t, k, v FROM x;";
  char *err = NULL;
  if (sqlite3_exec(w, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("rewriting the samples: %s", err);
  long long page = ft_q_int(w, "SELECT page_size FROM processes LIMIT 1");
  sqlite3_close(w);
  const char *out = ft_tmp_path("html_host_series.html");
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--format", "html", "-o", out));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  char *page_text = ft_read_file(out);
  assert_non_null(page_text);
  char *sys = section(page_text, "system");
  ft_expect_eq("one zone", count_of(sys, "<svg class=\"chart buddy\""), 1);
  ft_expect_true("the zone named", strstr(sys, "<h3>Node 0, zone Normal <small>(2 snapshots)</small></h3>") != NULL);
  /* Heat map rows: one merged rect each, coloured by the index. */
  ft_expect_eq("order 0 at 0", count_of(sys, "fill=\"hsl(55,85%,94%)\""), 1);
  ft_expect_eq("orders 1..9 at 0.5", count_of(sys, "fill=\"hsl(28,85%,62%)\""), 9);
  ft_expect_eq("order 10 at 1", count_of(sys, "fill=\"hsl(0,85%,30%)\""), 1);
  /* Stacked areas: orders 0 and 9 only, with their block counts. */
  const char *order9 = page == 4096 ? "2.0 MiB" : page == 16384 ? "8.0 MiB" : page == 65536 ? "32.0 MiB" : NULL;
  if (order9) {
    const char *tip = ft_fmt("<title>order 9: free blocks of %s, 1 on average</title>", order9);
    if (!strstr(sys, tip)) fail_msg("no stacked area \"%s\"", tip);
  }
  ft_expect_true("order 0's area", strstr(sys, ", 512 on average</title>") != NULL);
  ft_expect_eq("two areas", count_of(sys, "<path fill=\"hsl("), 2);
  /* Events on both charts of the zone, with their counter and interval. */
  ft_expect_eq("compaction marks",
               count_of(sys, "<g class=\"ev compact\"><title>compact_stall +3 between 10.0 ms and 20.0 ms</title>"), 2);
  ft_expect_eq("THP marks",
               count_of(sys, "<g class=\"ev thp\"><title>thp_fault_fallback +2 between 10.0 ms and 30.0 ms</title>"), 2);
  ft_expect_eq("no other marks", count_of(sys, "<g class=\"ev "), 4);
  ft_expect_true("totals said", strstr(sys, "3 compaction stalls/failures (orange) and 2 THP fallbacks (purple)") != NULL);
  free(sys);
  free(page_text);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A card must exist with exactly this "VALUE|DETAIL". */
static void expect_card(const char *page, const char *label, const char *want) {
  const char *got = card_of(page, label);
  if (!got) fail_msg("no card \"%s\"", label);
  if (strcmp(got, want) != 0) fail_msg("card \"%s\": \"%s\", want \"%s\"", label, got, want);
}

/* The detail of a card (after the '|'). */
static const char *card_detail(const char *page, const char *label) {
  const char *c = card_of(page, label);
  if (!c) fail_msg("no card \"%s\"", label);
  return strchr(c, '|') + 1;
}

/* A byte-sampled trace whose recording started late (--delay):
** tests/progs/sampled_sites with a 300 ms sleep after its first loop, as
** test_sampling.c records it. The page says the counts are estimates,
** shows the program's exact totals (250,050 allocations and frees,
** 196,252,800 bytes, nothing live at the end), and the paused start in the
** text report's words and shaded on the timeline. A copy with a thinning
** round and untracked and unwritten counters says those too. */
static void test_sampled(void **state) {
  (void)state;
  const char *db = ft_tmp_path("html_sampled.db");
  ft_remove(db);
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--sample-bytes", "64K", "--seed", "7", "--delay", "100ms"),
            FT_ARGV(ft_prog("sampled_sites"), "300"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  char *page = render(db, "html_sampled.html");
  expect_self_contained(page);
  ft_expect_true("the sampling line",
                 strstr(page, "<p class=\"meta\">Sampled: 1 allocation per 65536 bytes on average; per-site counts "
                              "and bytes are estimates.</p>") != NULL);
  sqlite3 *t = ft_db_open(db);
  /* Estimates: the weighted sums of the summary tables. */
  long long allocs = ft_q_int(t, "SELECT sum(allocations) FROM process_stats");
  long long frees = ft_q_int(t, "SELECT sum(frees) FROM process_stats");
  long long bytes = ft_q_int(t, "SELECT sum(bytes) FROM process_stats");
  ft_expect_true("fewer rows than allocations", ft_q_int(t, "SELECT count(*) FROM allocation_rows") < allocs);
  const char *c = card_of(page, "allocations (est.)");
  if (!c || strcmp(c, ft_fmt("%s|%s frees (est.)", commas(allocs), commas(frees))) != 0)
    fail_msg("allocations card: %s", c ? c : "(none)");
  assert_string_equal(card_detail(page, "bytes allocated (est.)"), ft_fmt("%s bytes", commas(bytes)));
  ft_expect_true("no unlabelled allocations card", card_of(page, "allocations") == NULL);
  static const char *const est[] = {"peak live heap (est.)", "leaked (est.)", "short-lived (est.)", "temporary (est.)"};
  for (size_t i = 0; i < sizeof est / sizeof *est; i++)
    if (!card_of(page, est[i])) fail_msg("no card \"%s\"", est[i]);
  ft_expect_true("RSS is no estimate", card_of(page, "peak RSS") != NULL);
  ft_expect_true("the flame graph says so", strstr(page, "From a byte-sampled trace: every width and total is an estimate") != NULL);
  /* The exact totals: the program's own numbers. */
  expect_card(page, "allocations (exact)", "250,050|250,050 frees, paused and unsampled ones included");
  expect_card(page, "bytes requested (exact)", "187.2 MiB|196,252,800 bytes");
  expect_card(page, "live usable (exact)", "0 B|0 bytes at the end of recording");
  ft_expect_true("no untracked card", card_of(page, "untracked") == NULL);
  ft_expect_true("no unwritten card", card_of(page, "unwritten (max size)") == NULL);
  ft_expect_true("no thinning note", strstr(page, "<b>Thinned:</b>") == NULL);
  /* The recording line: the text report's, word for word. */
  char *text = text_summary(db);
  const char *rec = text_row(text, "recording");
  if (!rec || strncmp(rec, "paused 0 ns .. ", 15) != 0 || !strstr(rec, " (start, delay)"))
    fail_msg("text report's recording row: %s", rec ? rec : "(none)");
  const char *want = ft_fmt("<p class=\"mode\"><b>Recording:</b> %s.</p>", rec);
  if (!strstr(page, want)) fail_msg("no \"%s\" in the page", want);
  free(text);
  /* On the timeline: the paused start shaded, nothing else. */
  char *tl = section(page, "timeline");
  ft_expect_eq("one paused span", count_of(tl, "<g class=\"paused\"><title>recording paused from 0 ns (start) to "), 1);
  ft_expect_true("resumed by the delay", strstr(tl, " (delay): nothing recorded</title><rect ") != NULL);
  ft_expect_eq("no other span", count_of(tl, "<g class=\"paused\">") + count_of(tl, "<g class=\"untraced\">"), 1);
  ft_expect_eq("no flush or stop mark", count_of(tl, "<g class=\"ctl\">"), 0);
  ft_expect_true("legend", strstr(tl, "<span class=\"key paused\"><i></i>not recorded (paused or stopped)</span>") != NULL);
  free(tl);
  free(page);
  sqlite3_close(t);

  /* What the recorder left out: a thinning round and non-zero counters. */
  const char *db2 = ft_tmp_path("html_sampled_thinned.db");
  copy_file(db, db2);
  sqlite3 *w = NULL;
  assert_int_equal(sqlite3_open(db2, &w), SQLITE_OK);
  char *err = NULL;
  if (sqlite3_exec(w,
                   "INSERT INTO thinning(what, proc, t_ns, rows_deleted, first_id, last_id, before_t_ns) "
                   "SELECT 'allocation_rows', proc, end_ns, 12345, 1, 20000, 150000000 FROM processes;"
                   "UPDATE heap_totals SET untracked = 7, thinned = 9 WHERE t_ns = (SELECT max(t_ns) FROM heap_totals)",
                   NULL, NULL, &err) != SQLITE_OK)
    fail_msg("rewriting the copy: %s", err);
  sqlite3_close(w);
  page = render(db2, "html_sampled_thinned.html");
  expect_card(page, "untracked", "7|sampled allocations not recorded (the recorder&#39;s block table was full)");
  expect_card(page, "unwritten (max size)", "9|events not written (the spill reached its maximum size)");
  const char *thin = "12,345 freed allocation rows allocated up to 150.0 ms were thinned (--max-size); summaries, "
                     "windows and samples are complete";
  if (!strstr(page, ft_fmt("<p class=\"mode\"><b>Thinned:</b> %s.</p>", thin))) fail_msg("no thinning note");
  text = text_summary(db2);
  const char *row = text_row(text, "thinned");
  if (!row || strcmp(row, thin) != 0) fail_msg("the text report says \"%s\"", row ? row : "(nothing)");
  free(text);
  free(page);
}

/* Started paused (FRAGTRACE_PAUSED=1), resumed, flushed and stopped with
** `fragtrace ctl` while tests/progs/ctlwait runs: the page carries the
** exact totals of the last heap_totals row, the recording line of the
** text report, the paused start shaded and the flush and stop marked. */
static void test_recording_control(void **state) {
  (void)state;
  const char *db = ft_tmp_path("html_ctl.db");
  ft_remove(db);
  ft_run rec;
  ft_start(&rec, FT_ENV("FRAGTRACE_PAUSED=1"), FT_ARGV(FT_BIN, "record", "-q", "-o", db, "--", ft_prog("ctlwait"), "1.2"));
  int pid = 0;
  for (int i = 0; i < 200 && pid <= 0; i++) {
    char *out = ft_read_file(rec.out_path);
    const char *p = out ? strstr(out, "pid=") : NULL;
    pid = p ? atoi(p + 4) : 0;
    free(out);
    if (pid <= 0) sleep_ms(25);
  }
  if (pid <= 0) fail_msg("ctlwait did not print its pid");
  static const char *const actions[] = {"resume", "flush", "stop"};
  for (int i = 0; i < 3; i++) {
    sleep_ms(200);
    ft_run r;
    ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "ctl", actions[i], ft_fmt("%d", pid)));
    ft_expect_status(&r, 0);
    ft_run_free(&r);
  }
  ft_wait(&rec, 60);
  ft_expect_status(&rec, 0);
  ft_run_free(&rec);
  sqlite3 *t = ft_db_open(db);
  assert_string_equal(ft_q_str(t, "SELECT group_concat(action || '/' || source, ' ') FROM "
                                  "(SELECT * FROM recording_control ORDER BY t_ns, rowid)"),
                      "pause/start resume/signal flush/signal stop/signal");
  const char *last = "FROM heap_totals WHERE t_ns = (SELECT max(t_ns) FROM heap_totals)";
  long long a = ft_q_int(t, "SELECT allocations %s", last), f = ft_q_int(t, "SELECT frees %s", last);
  long long b = ft_q_int(t, "SELECT bytes %s", last), live = ft_q_int(t, "SELECT usable_live_bytes %s", last);
  ft_expect_true("rows only while recording", ft_q_int(t, "SELECT sum(allocations) FROM process_stats") < a);
  sqlite3_close(t);
  char *page = render(db, "html_ctl.html");
  expect_self_contained(page);
  ft_expect_true("no sampling line", strstr(page, "Sampled: ") == NULL);
  ft_expect_true("full capture: no estimates", strstr(page, "(est.)") == NULL);
  assert_string_equal(card_detail(page, "allocations (exact)"),
                      ft_fmt("%s frees, paused and unsampled ones included", commas(f)));
  if (!strstr(card_of(page, "allocations (exact)"), ft_fmt("%s|", commas(a)))) fail_msg("exact allocations");
  assert_string_equal(card_detail(page, "bytes requested (exact)"), ft_fmt("%s bytes", commas(b)));
  assert_string_equal(card_detail(page, "live usable (exact)"), ft_fmt("%s bytes at the end of recording", commas(live)));
  char *text = text_summary(db);
  const char *line = text_row(text, "recording");
  if (!line || strncmp(line, "paused 0 ns .. ", 15) != 0 || !strstr(line, " (start, signal); flushed at ") ||
      !strstr(line, " (signal); stopped at ") || !strstr(line, " (signal): untraced afterwards"))
    fail_msg("text report's recording row: %s", line ? line : "(none)");
  const char *want = ft_fmt("<p class=\"mode\"><b>Recording:</b> %s.</p>", line);
  if (!strstr(page, want)) fail_msg("no \"%s\" in the page", want);
  free(text);
  char *tl = section(page, "timeline");
  ft_expect_eq("the paused start", count_of(tl, "<g class=\"paused\"><title>recording paused from 0 ns (start) to "), 1);
  ft_expect_eq("one paused span", count_of(tl, "<g class=\"paused\">"), 1);
  ft_expect_eq("the flush", count_of(tl, "<g class=\"ctl\"><title>recording flushed at "), 1);
  ft_expect_eq("the stop", count_of(tl, "<g class=\"ctl\"><title>recording stopped at "), 1);
  ft_expect_true("the stop labelled", strstr(tl, " (signal)</title><line ") != NULL && strstr(tl, ">stop</text></g>") != NULL);
  free(tl);
  free(page);
}

/* tests/progs/forkstorm 10: eleven processes, so eight timelines, the
** largest heap peak first (ties: the larger RSS peak, then trace order),
** and one line naming the three left out. */
static void test_processes(void **state) {
  (void)state;
  const char *db = ft_tmp_path("html_forkstorm.db");
  ft_remove(db);
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("forkstorm"), "10"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  sqlite3 *t = ft_db_open(db);
  ft_expect_eq("eleven processes", ft_q_int(t, "SELECT count(*) FROM processes"), 11);
  const char *order = ft_q_str(t, "SELECT group_concat(pid, ' ') FROM (SELECT pid FROM processes JOIN process_stats "
                                  "USING (proc) ORDER BY peak_live_bytes DESC, coalesce(peak_rss_bytes, -1) DESC, proc)");
  char pids[256];
  snprintf(pids, sizeof pids, "%s", order);
  sqlite3_close(t);
  char *page = render(db, "html_forkstorm.html");
  char *tl = section(page, "timeline");
  ft_expect_eq("eight charts", count_of(tl, "<svg class=\"chart timeline\""), 8);
  ft_expect_eq("eight peaks marked", count_of(tl, "<g class=\"peak\">"), 8);
  ft_expect_true("says how many", strstr(tl, " 8 of 11 processes charted.</p>") != NULL);
  /* The headings in the expected order, then the rest in one line. */
  const char *at = tl;
  char *save = NULL;
  int k = 0;
  char rest[256] = "";
  for (char *pid = strtok_r(pids, " ", &save); pid; pid = strtok_r(NULL, " ", &save), k++) {
    if (k < 8) {
      const char *h = strstr(tl, ft_fmt("\">pid %s <code>", pid));
      if (!h || h < at) fail_msg("chart %d is not pid %s", k + 1, pid);
      at = h;
    } else {
      size_t len = strlen(rest);
      snprintf(rest + len, sizeof rest - len, "%s%s", k == 8 ? "pid " : ", ", pid);
    }
  }
  const char *note = ft_fmt("): %s.</p>", rest);
  const char *more = strstr(tl, "<p class=\"note\">3 more processes not charted (heap peaks up to ");
  if (!more || !strstr(more, note)) fail_msg("no line \"3 more processes ... %s\"", note);
  free(tl);
  free(page);
}

/* A browser: $env when set (and executable), else the first of names on PATH. */
static const char *find_browser(const char *env_name, const char *const *names, size_t nnames) {
  const char *env = getenv(env_name);
  if (env && *env) return access(env, X_OK) == 0 ? env : NULL;
  const char *path = getenv("PATH");
  if (!path) return NULL;
  for (size_t i = 0; i < nnames; i++) {
    char *copy = strdup(path), *save = NULL;
    for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
      const char *p = ft_fmt("%s/%s", d, names[i]);
      if (access(p, X_OK) == 0) {
        free(copy);
        return p;
      }
    }
    free(copy);
  }
  return NULL;
}

static const char *find_chromium(void) {
  static const char *const names[] = {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"};
  return find_browser("FT_CHROMIUM", names, sizeof names / sizeof *names);
}

static const char *find_firefox(void) {
  static const char *const names[] = {"firefox-esr", "firefox"};
  return find_browser("FT_FIREFOX", names, sizeof names / sizeof *names);
}

/* The checker's "png: W H INK" line: a screenshot 1280 px wide (the window
** the checker asks for), 2000 high, and not blank: the report's first
** screen has text, cards and a chart on more than 1 % of its pixels (a
** white page has none; the checker's one-word test page 0.04 %). */
static void expect_screenshot(const char *out, const char *browser) {
  const char *l = strstr(out, "\npng: ");
  int w = 0, h = 0;
  double ink = 0;
  if (!l || sscanf(l, "\npng: %d %d %lf", &w, &h, &ink) != 3) fail_msg("%s: no png line:\n%s", browser, out);
  ft_expect_eq("screenshot width", w, 1280);
  ft_expect_eq("screenshot height", h, 2000);
  if (!(ink > 0.01)) fail_msg("%s: the screenshot is blank (%.4f of its first screen inked)", browser, ink);
}

static void test_chromium(void **state) {
  (void)state;
  const char *chromium = find_chromium();
  if (!chromium) {
    fprintf(stderr, "test_html: Chromium not found (set FT_CHROMIUM or install chromium): browser checks skipped\n");
    skip();
  }
  char browser[512];
  snprintf(browser, sizeof browser, "%s", chromium);
  const char *checker = FT_SOURCE_DIR "/tests/tools/html_check.py";
  ft_run r;

  /* The checker itself: a page with a script error and an external image. */
  const char *badpage = ft_tmp_path("html_bad_page.html");
  ft_write_file(badpage, "<!DOCTYPE html><html><body><p>x</p><img src=\"http://example.invalid/a.png\">"
                         "<script>no_such_function();</script></body></html>\n");
  if (ft_run_cmd(&r, NULL, FT_ARGV("python3", checker, browser, badpage, ft_tmp_path("html_chk_bad"))) == 127) {
    fprintf(stderr, "test_html: python3 not found: browser checks skipped\n");
    ft_run_free(&r);
    skip();
  }
  ft_expect_status(&r, 0);
  ft_expect_true("the checker sees a script error", strstr(r.out, "console: \"Uncaught ReferenceError") != NULL);
  ft_expect_true("the checker sees an external request", strstr(r.out, "request: http://example.invalid/a.png") != NULL);
  ft_run_free(&r);

  /* The report. */
  char shot[512], dir[512];
  snprintf(shot, sizeof shot, "%s", ft_tmp_path("html_report.png"));
  snprintf(dir, sizeof dir, "%s", ft_tmp_path("html_chk"));
  unlink(shot);
  ft_run_cmd(&r, NULL, FT_ARGV("python3", checker, browser, html_pin, dir, shot));
  ft_expect_status(&r, 0);
  if (strstr(r.out, "console: ")) fail_msg("console messages while loading the report:\n%s", r.out);
  if (strstr(r.out, "request: ")) fail_msg("the report made requests:\n%s", r.out);
  fprintf(stderr, "test_html: %s", r.out);
  expect_screenshot(r.out, "chromium");
  ft_run_free(&r);
  char *dom = ft_read_file(ft_fmt("%s/dom.html", dir));
  assert_non_null(dom);
  /* What Chromium built from the page, not the file's text. */
  ft_expect_true("timeline chart in the DOM", strstr(dom, "<svg class=\"chart timeline\"") != NULL);
  ft_expect_true("flame graphs in the DOM", count_of(dom, "<svg class=\"flamegraph\"") == 4);
  ft_expect_true("findings in the DOM", strstr(dom, "<ol class=\"findings\">") != NULL);
  ft_expect_true("top site in the DOM", strstr(dom, "cache_insert (pinned_heap.c:") != NULL);
  free(dom);
  fprintf(stderr, "test_html: screenshot of the report: %s\n", shot);
}

/* The same page in headless Firefox (when installed; skipped otherwise): no
** script error or console message, and a non-blank screenshot of the
** expected size, FT_TMP/html_report_firefox.png. The checker's bad page
** shows that script errors are seen. */
static void test_firefox(void **state) {
  (void)state;
  const char *found = find_firefox();
  if (!found) {
    fprintf(stderr, "test_html: Firefox not found (set FT_FIREFOX or install firefox-esr): Firefox checks skipped\n");
    skip();
  }
  char browser[512], shot[512];
  snprintf(browser, sizeof browser, "%s", found);
  const char *checker = FT_SOURCE_DIR "/tests/tools/html_check.py";
  ft_run r;
  const char *badpage = ft_tmp_path("html_bad_page_ff.html");
  ft_write_file(badpage, "<!DOCTYPE html><html><body><p>x</p><script>no_such_function();</script></body></html>\n");
  if (ft_run_cmd(&r, NULL,
                 FT_ARGV("python3", checker, "--firefox", browser, badpage, ft_tmp_path("html_chk_ff"),
                         ft_tmp_path("html_bad_ff.png"))) == 127) {
    fprintf(stderr, "test_html: python3 not found: Firefox checks skipped\n");
    ft_run_free(&r);
    skip();
  }
  ft_expect_status(&r, 0);
  ft_expect_true("the checker sees a script error in Firefox",
                 strstr(r.out, "console: ReferenceError: no_such_function is not defined") != NULL);
  ft_run_free(&r);
  snprintf(shot, sizeof shot, "%s", ft_tmp_path("html_report_firefox.png"));
  ft_run_cmd(&r, NULL, FT_ARGV("python3", checker, "--firefox", browser, html_pin, ft_tmp_path("html_chk_ff"), shot));
  ft_expect_status(&r, 0);
  if (strstr(r.out, "console: ")) fail_msg("Firefox reported errors for the report:\n%s", r.out);
  fprintf(stderr, "test_html: firefox: %s", r.out);
  expect_screenshot(r.out, "firefox");
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_page),
      cmocka_unit_test(test_no_samples),
      cmocka_unit_test(test_output_errors),
      cmocka_unit_test(test_host_series),
      cmocka_unit_test(test_sampled),
      cmocka_unit_test(test_recording_control),
      cmocka_unit_test(test_processes),
      cmocka_unit_test(test_chromium),
      cmocka_unit_test(test_firefox),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
