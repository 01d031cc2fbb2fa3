/*
** test_diff.c — `fragtrace diff` on traces of tests/progs/growth.c, whose
** argument N changes how many blocks one site (grow_site) allocates and
** nothing else: recorded with N = 10 and N = 40 the diff must show exactly
** that site's growth and trip --fail-on-growth for it (and overall), never
** for the unchanged sites. Also: two runs of the same program (no change),
** two different programs (sites new and gone), --skip, the three formats,
** and bad inputs (exit 2, one line). Source lines in site names are masked
** (":L") so that edits of growth.c do not break the expected text. The
** traces classify lifetimes at 10 ms (see record), so the short-lived
** shares stay exact on a loaded machine.
*/
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_itest.h"

static char base_db[512], new_db[512], same_db[512], other_db[512];

/* The diff's short-lived threshold in these traces. growth.c frees its
** churn blocks at once (microseconds) and keeps every other block >= 20 ms
** (its sleep), but a loaded machine can preempt a churn block past the
** default 1 ms between its malloc and free: at 10 ms the split, hence the
** expected shares, no longer depend on scheduling. */
#define DIFF_SHORT_LIVED_NS "10000000"

/* Record argv into FT_TMP/name, then set its meta short_lived_ns (which
** `fragtrace diff` classifies lifetimes with) to DIFF_SHORT_LIVED_NS. */
static int record(char *path, size_t cap, const char *name, const char *const argv[]) {
  snprintf(path, cap, "%s", ft_tmp_path(name));
  ft_run r;
  ft_record(&r, path, NULL, NULL, argv);
  int ok = r.status == 0;
  ft_run_free(&r);
  sqlite3 *d = NULL;
  if (ok && sqlite3_open(path, &d) == SQLITE_OK)
    ok = sqlite3_exec(d, "UPDATE meta SET value = '" DIFF_SHORT_LIVED_NS "' WHERE key = 'short_lived_ns'", NULL, NULL,
                      NULL) == SQLITE_OK &&
         sqlite3_changes(d) == 1;
  else
    ok = 0;
  sqlite3_close(d);
  return ok;
}

static int setup(void **state) {
  (void)state;
  return record(base_db, sizeof base_db, "diff_base.db", FT_ARGV(ft_prog("growth"), "10")) &&
                 record(new_db, sizeof new_db, "diff_new.db", FT_ARGV(ft_prog("growth"), "40")) &&
                 record(same_db, sizeof same_db, "diff_same.db", FT_ARGV(ft_prog("growth"), "10")) &&
                 record(other_db, sizeof other_db, "diff_other.db", FT_ARGV(ft_prog("callsite")))
             ? 0
             : -1;
}

/* s with every ".c:DIGITS" as ".c:L" (malloc'd). */
static char *mask_lines(const char *s) {
  char *out = malloc(strlen(s) + 1), *o = out;
  while (*s) {
    if (s[0] == '.' && s[1] == 'c' && s[2] == ':' && isdigit((unsigned char)s[3])) {
      memcpy(o, ".c:L", 4);
      o += 4;
      for (s += 3; isdigit((unsigned char)*s);) s++;
    } else {
      *o++ = *s++;
    }
  }
  *o = 0;
  return out;
}

static void expect_text(const char *what, const char *got, const char *want) {
  char *m = mask_lines(got);
  if (strcmp(m, want) != 0) fail_msg("%s:\n%s\nexpected:\n%s", what, m, want);
  free(m);
}

/* The text of `diff base new` (the gate does not change it). */
static const char *growth_text(void) {
  return ft_fmt(
      "base: %s (%s 10; 1 process)\n"
      "new:  %s (%s 40; 1 process)\n"
      "\n"
      "Overall\n"
      "  metric               base       new      delta  delta %%\n"
      "  -------------------------------------------------------\n"
      "  allocations            26        56        +30  +115.4%%\n"
      "  bytes            22.9 KiB  52.2 KiB  +29.3 KiB  +128.1%%\n"
      "  leaked bytes        777 B     777 B        0 B       0%%\n"
      "  peak live bytes  22.2 KiB  51.5 KiB  +29.3 KiB  +131.7%%\n"
      "  short-lived         38.5%%     17.9%%   -20.6 pt\n"
      "\n"
      "Sites\n"
      "  1 of 5 sites changed, largest change of bytes first\n"
      "\n"
      "  site                     status   metric              base       new      delta  delta %%\n"
      "  ----------------------------------------------------------------------------------------\n"
      "  grow_site (growth.c:L)  changed  allocations           10        40        +30  +300.0%%\n"
      "                                    bytes            9.8 KiB  39.1 KiB  +29.3 KiB  +300.0%%\n"
      "                                    leaked bytes         0 B       0 B        0 B\n"
      "                                    peak live bytes  9.8 KiB  39.1 KiB  +29.3 KiB  +300.0%%\n"
      "                                    short-lived           0%%        0%%       0 pt\n",
      base_db, ft_prog("growth"), new_db, ft_prog("growth"));
}

static void test_growth_text(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "diff", base_db, new_db));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  expect_text("diff", r.out, growth_text());
  ft_run_free(&r);
}

static void test_growth_gate(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "diff", base_db, new_db, "--fail-on-growth", "50"));
  ft_expect_status(&r, 1);
  expect_text("report with the gate", r.out, growth_text());
  expect_text("gate lines", r.err,
              "fragtrace: gate --fail-on-growth 50.0%: overall: bytes +128.1%, 23418 -> 53418 bytes (22.9 KiB -> "
              "52.2 KiB)\n"
              "fragtrace: gate --fail-on-growth 50.0%: overall: peak live bytes +131.7%, 22778 -> 52778 bytes "
              "(22.2 KiB -> 51.5 KiB)\n"
              "fragtrace: gate --fail-on-growth 50.0%: grow_site (growth.c:L): bytes +300.0%, 10000 -> 40000 bytes "
              "(9.8 KiB -> 39.1 KiB)\n"
              "fragtrace: gate --fail-on-growth 50.0%: grow_site (growth.c:L): peak live bytes +300.0%, 10000 -> "
              "40000 bytes (9.8 KiB -> 39.1 KiB)\n");
  ft_run_free(&r);
  /* between the site's growth (300%) and the overall one: only the site trips */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "diff", base_db, new_db, "--fail-on-growth", "299.9%"));
  ft_expect_status(&r, 1);
  ft_expect_eq("gate lines at 299.9%", ft_count_lines(r.err), 2);
  ft_expect_true("only grow_site", strstr(r.err, "grow_site") && !strstr(r.err, "overall"));
  ft_run_free(&r);
  /* "more than": exactly 300% does not trip */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "diff", base_db, new_db, "--fail-on-growth=300"));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_run_free(&r);
}

/* Two runs of one program: nothing changed, and a 0% gate holds. */
static void test_same_program(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "diff", base_db, same_db, "--fail-on-growth", "0"));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  expect_text("same program", r.out,
              ft_fmt("base: %s (%s 10; 1 process)\n"
                     "new:  %s (%s 10; 1 process)\n"
                     "\n"
                     "Overall\n"
                     "  metric               base       new  delta  delta %%\n"
                     "  ---------------------------------------------------\n"
                     "  allocations            26        26      0       0%%\n"
                     "  bytes            22.9 KiB  22.9 KiB    0 B       0%%\n"
                     "  leaked bytes        777 B     777 B    0 B       0%%\n"
                     "  peak live bytes  22.2 KiB  22.2 KiB    0 B       0%%\n"
                     "  short-lived         38.5%%     38.5%%   0 pt\n"
                     "\n"
                     "Sites\n"
                     "  no site changed (5 sites in both)\n",
                     base_db, ft_prog("growth"), same_db, ft_prog("growth")));
  ft_run_free(&r);
}

/* Run python3 on the JSON diff, printing "name=value" facts to check. */
static char *json_facts(const char *const diff_args[], int want_status, const char *script) {
  const char *json = ft_tmp_path("diff.json");
  const char *argv[16];
  int n = 0;
  argv[n++] = FT_BIN;
  argv[n++] = "diff";
  for (int i = 0; diff_args[i]; i++) argv[n++] = diff_args[i];
  argv[n++] = "--format";
  argv[n++] = "json";
  argv[n] = NULL;
  ft_run r;
  ft_run_cmd(&r, NULL, argv);
  ft_expect_status(&r, want_status);
  ft_write_file(json, r.out);
  ft_run_free(&r);
  const char *py = ft_fmt("import json,sys\nd=json.load(open(sys.argv[1]))\n"
                          "site=lambda k: [s for s in d['sites'] if s['key'].startswith(k)]\n%s",
                          script);
  ft_run_cmd(&r, NULL, FT_ARGV("python3", "-c", py, json));
  ft_expect_status(&r, 0);
  char *out = r.out;
  r.out = NULL;
  ft_run_free(&r);
  return out;
}

static void test_json(void **state) {
  (void)state;
  char *f = json_facts(FT_ARGV(base_db, new_db, "--fail-on-growth", "50"), 1,
                       "g=site('grow_site|')[0]\n"
                       "print('version=%d' % d['fragtrace_diff_version'])\n"
                       "print('total=%d changed=%d' % (d['sites_total'], d['sites_changed']))\n"
                       "print('gbase=%d gnew=%d gdelta=%d' % (g['bytes']['base'], g['bytes']['new'], "
                       "g['bytes']['delta']))\n"
                       "print('gpeak=%d gallocs=%d' % (g['peak_bytes']['new'], g['allocations']['new']))\n"
                       "print('gpct=%d' % g['bytes']['delta_pct'])\n"
                       "print('changed_sites=%d' % len([s for s in d['sites'] if s['status'] == 'changed']))\n"
                       "print('steady_delta=%d' % site('steady_site|')[0]['bytes']['delta'])\n"
                       "print('churn_short=%d' % site('churn_site|')[0]['short_lived']['new'])\n"
                       "print('trips=%d' % len(d['gate']['tripped']))\n"
                       "print('overall_trips=%d' % len([t for t in d['gate']['tripped'] if t['site'] is None]))\n"
                       "print('opeak=%d' % d['overall']['peak_bytes']['new'])\n");
  static const struct {
    const char *key;
    long long want;
  } facts[] = {{"version", 1},        {"total", 5},        {"changed", 1},   {"gbase", 10000},
               {"gnew", 40000},       {"gdelta", 30000},   {"gpeak", 40000}, {"gallocs", 40},
               {"gpct", 300},         {"changed_sites", 1}, {"steady_delta", 0}, {"churn_short", 10},
               {"trips", 4},          {"overall_trips", 2}, {"opeak", 52778}};
  for (size_t i = 0; i < sizeof facts / sizeof *facts; i++) ft_expect_eq(facts[i].key, ft_kv(f, facts[i].key), facts[i].want);
  free(f);

  /* another program: growth's sites are gone, callsite's leak_here is new
  ** (and grows without bound: it trips the gate) */
  f = json_facts(FT_ARGV(base_db, other_db, "--fail-on-growth", "50"), 1,
                 "st=lambda k: site(k)[0]['status']\n"
                 "print('grow_gone=%d' % (st('grow_site|') == 'gone'))\n"
                 "print('leak_new=%d' % all(s['status'] == 'new' for s in site('leak_here|')))\n"
                 "print('leak_sites=%d' % len(site('leak_here|')))\n"
                 "print('new_pct_null=%d' % (site('leak_here|')[0]['bytes']['delta_pct'] is None))\n"
                 "print('trip_new=%d' % len([t for t in d['gate']['tripped'] if t['site'] and "
                 "t['site'].startswith('leak_here')]))\n");
  ft_expect_eq("grow_site gone", ft_kv(f, "grow_gone"), 1);
  ft_expect_eq("leak_here new", ft_kv(f, "leak_new"), 1);
  ft_expect_true("leak_here sites", ft_kv(f, "leak_sites") >= 1);
  ft_expect_eq("delta_pct of a new site", ft_kv(f, "new_pct_null"), 1);
  ft_expect_eq("gate lines of new sites", ft_kv(f, "trip_new"), 2 * ft_kv(f, "leak_sites"));
  free(f);
}

/* --skip: grow_site is a wrapper, the growth moves to its caller in main. */
static void test_skip(void **state) {
  (void)state;
  char *f = json_facts(FT_ARGV(base_db, new_db, "--skip", "grow_*"), 0,
                       "m=[s for s in site('main|') if s['status'] == 'changed']\n"
                       "print('main_changed=%d' % len(m))\n"
                       "print('main_delta=%d' % m[0]['bytes']['delta'])\n"
                       "print('grow_sites=%d' % len(site('grow_site|')))\n");
  ft_expect_eq("changed sites in main", ft_kv(f, "main_changed"), 1);
  ft_expect_eq("their growth", ft_kv(f, "main_delta"), 30000);
  ft_expect_eq("grow_site is no site", ft_kv(f, "grow_sites"), 0);
  free(f);
}

static void test_markdown_and_top(void **state) {
  (void)state;
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "diff", base_db, other_db, "--format", "markdown", "--top", "1"));
  ft_expect_status(&r, 0);
  char *m = mask_lines(r.out);
  ft_expect_true("heading", !strncmp(m, "## fragtrace diff\n", 18));
  ft_expect_true("overall table",
                 strstr(m, "| metric | base | new | delta | delta % |\n|---|---:|---:|---:|---:|\n"
                           "| allocations | 26 | 2 | -24 | -92.3% |\n") != NULL);
  /* --top 1: the largest change only, steady_site gone (12000 bytes) */
  ft_expect_true("top site",
                 strstr(m, "| steady\\_site (growth.c:L) | gone | allocations | 4 | - | -4 | -100% |\n") != NULL);
  ft_expect_true("one site shown", strstr(m, "grow\\_site") == NULL);
  ft_expect_true("the rest counted", strstr(m, "more changed sites: --top 0 shows all)\n") != NULL);
  free(m);
  ft_run_free(&r);
}

/* Exit 2, one line on stderr naming what is wrong, nothing on stdout. */
static void expect_refused(const char *const argv[], const char *what, const char *mention) {
  ft_run r;
  ft_run_cmd(&r, NULL, argv);
  if (r.status != 2) fail_msg("%s: status %d, expected 2\n%s", what, r.status, r.err);
  if (ft_count_lines(r.err) != 1 || strncmp(r.err, "fragtrace: ", 11) != 0)
    fail_msg("%s: expected one line on stderr, got:\n%s", what, r.err);
  if (mention && !strstr(r.err, mention)) fail_msg("%s: the line does not name %s:\n%s", what, mention, r.err);
  if (r.out[0]) fail_msg("%s: unexpected stdout:\n%s", what, r.out);
  ft_run_free(&r);
}

static void test_bad_inputs(void **state) {
  (void)state;
  const char *junk = ft_tmp_path("diff_junk.db"), *empty = ft_tmp_path("diff_empty.db");
  const char *missing = ft_tmp_path("diff_missing.db");
  ft_write_file(junk, "SQLite format 3 but not really\n");
  ft_write_file(empty, "");
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db), "one trace", NULL);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, missing), "missing NEW", missing);
  expect_refused(FT_ARGV(FT_BIN, "diff", missing, base_db), "missing BASE", missing);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, junk), "junk NEW", junk);
  expect_refused(FT_ARGV(FT_BIN, "diff", empty, base_db), "empty BASE", empty);
  expect_refused(FT_ARGV(FT_BIN, "diff", junk, empty), "both bad: the first is named", junk);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, same_db), "three traces", same_db);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, "--format", "xml"), "unknown format", "xml");
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, "--fail-on-growth", "lots"), "bad percentage", "lots");
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, "--fail-on-growth", "-5"), "negative percentage", NULL);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, "--top", "-1"), "bad --top", NULL);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, "--fail-on-growth"), "missing value", NULL);
  expect_refused(FT_ARGV(FT_BIN, "diff", base_db, new_db, "--colour"), "unknown option", "--colour");
  ft_remove(junk);
  ft_remove(empty);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_growth_text),  cmocka_unit_test(test_growth_gate),
      cmocka_unit_test(test_same_program), cmocka_unit_test(test_json),
      cmocka_unit_test(test_skip),         cmocka_unit_test(test_markdown_and_top),
      cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
