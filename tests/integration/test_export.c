/*
** test_export.c — `fragtrace export` on traces of tests/progs/growth.c
** (four call sites with known sizes, see that file) and forker.c: exact
** folded stacks for every --weight, massif output read back by valgrind's
** ms_print, the pprof profile read back by `go tool pprof`, the same
** numbers with and without the importer's summary tables, and bad inputs
** (exit 2, one line, no output file left behind).
**
** Frames outside main (_start, libc's start-up) are named differently
** with and without libc's debug symbols, so stacks are compared from main
** on; addresses (ASLR) and line numbers (edits of growth.c) are masked in
** massif's tree.
*/
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_itest.h"

/* growth.c's numbers with N = 10 */
#define GROW_N 10
#define PEAK_BYTES (1 + 4 * 3000 + GROW_N * 1000 + 777)

static char growth_db[512];

/* Record growth.c once for all tests of this file. */
static int setup(void **state) {
  (void)state;
  snprintf(growth_db, sizeof growth_db, "%s", ft_tmp_path("export_growth.db"));
  ft_run r;
  ft_record(&r, growth_db, NULL, NULL, FT_ARGV(ft_prog("growth"), "10"));
  int ok = r.status == 0;
  ft_run_free(&r);
  return ok ? 0 : -1;
}

/* Run `fragtrace export growth_db ARGS... -o -` and return its stdout
** (malloc'd), failing the test unless it exits 0 without stderr. */
static char *export_stdout(const char *db, const char *const *args) {
  const char *argv[32];
  int n = 0;
  argv[n++] = FT_BIN;
  argv[n++] = "export";
  argv[n++] = db;
  for (int i = 0; args[i]; i++) argv[n++] = args[i];
  argv[n++] = "-o";
  argv[n++] = "-";
  argv[n] = NULL;
  ft_run r;
  ft_run_cmd(&r, NULL, argv);
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  char *out = r.out;
  r.out = NULL;
  ft_run_free(&r);
  return out;
}

/* Each line of folded output from its frame "main" on (what comes before
** main is libc's start-up). */
static char *from_main(const char *s) {
  char *out = malloc(strlen(s) + 1), *o = out;
  while (*s) {
    const char *eol = strchr(s, '\n');
    size_t len = eol ? (size_t)(eol - s) : strlen(s);
    const char *m = NULL;
    for (const char *p = s; p < s + len; p++)
      if (!strncmp(p, "main", 4) && (p == s || p[-1] == ';') && (p[4] == ';' || p[4] == ' ')) {
        m = p;
        break;
      }
    if (!m) m = s;
    memcpy(o, m, (size_t)(s + len - m));
    o += s + len - m;
    *o++ = '\n';
    s += len + (eol ? 1 : 0);
  }
  *o = 0;
  return out;
}

/* Massif output with code addresses as 0xADDR and source lines as L. */
static char *mask(const char *s) {
  char *out = malloc(strlen(s) + 1), *o = out;
  while (*s) {
    if (s[0] == '0' && s[1] == 'x' && isxdigit((unsigned char)s[2])) {
      memcpy(o, "0xADDR", 6);
      o += 6;
      for (s += 2; isxdigit((unsigned char)*s);) s++;
    } else if (s[0] == '.' && s[1] == 'c' && s[2] == ':' && isdigit((unsigned char)s[3])) {
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

static void expect_folded(const char *db, const char *weight, const char *want) {
  char *out = export_stdout(db, FT_ARGV("--format", "folded", "--weight", weight));
  char *got = from_main(out);
  if (strcmp(got, want) != 0) fail_msg("--weight %s:\n%s\nexpected:\n%s", weight, got, want);
  free(got);
  free(out);
}

static void test_folded_weights(void **state) {
  (void)state;
  expect_folded(growth_db, "allocations",
                "main 1\nmain;churn_site 10\nmain;grow_site 10\nmain;leak_site 1\nmain;steady_site 4\n");
  expect_folded(growth_db, "bytes",
                "main 1\nmain;churn_site 640\nmain;grow_site 10000\nmain;leak_site 777\nmain;steady_site 12000\n");
  expect_folded(growth_db, "leaked", "main;leak_site 777\n");
  expect_folded(growth_db, "peak", "main 1\nmain;grow_site 10000\nmain;leak_site 777\nmain;steady_site 12000\n");
  /* --skip: grow_site counts as an allocation wrapper, its caller is the site */
  char *out = export_stdout(growth_db, FT_ARGV("--format", "folded", "--skip", "grow_*"));
  char *got = from_main(out);
  assert_string_equal(got, "main 10001\nmain;churn_site 640\nmain;leak_site 777\nmain;steady_site 12000\n");
  free(got);
  free(out);
}

/* A trace without summary tables (as older importers wrote) gives the same
** numbers, computed from the rows. */
static void test_without_summaries(void **state) {
  (void)state;
  const char *copy = ft_tmp_path("export_growth_nosum.db");
  ft_remove(copy);
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", growth_db, copy);
  assert_int_equal(system(cmd), 0);
  sqlite3 *d;
  assert_int_equal(sqlite3_open(copy, &d), SQLITE_OK);
  /* (absent tables are fine too: DROP only what exists) */
  static const char *const tables[] = {"process_stats", "site_stats", "heap_timeline"};
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", tables[i]);
    assert_int_equal(sqlite3_exec(d, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  sqlite3_close(d);
  static const char *const weights[] = {"allocations", "bytes", "leaked", "peak"};
  for (size_t i = 0; i < sizeof weights / sizeof *weights; i++) {
    char *a = export_stdout(growth_db, FT_ARGV("--format", "folded", "--weight", weights[i]));
    char *b = export_stdout(copy, FT_ARGV("--format", "folded", "--weight", weights[i]));
    if (strcmp(a, b) != 0) fail_msg("--weight %s with summaries:\n%s\nwithout:\n%s", weights[i], a, b);
    free(a);
    free(b);
  }
  for (int unit = 0; unit < 2; unit++) {
    const char *u = unit ? "ms" : "B";
    char *a = export_stdout(growth_db, FT_ARGV("--format", "massif", "--time-unit", u));
    char *b = export_stdout(copy, FT_ARGV("--format", "massif", "--time-unit", u));
    /* the time axis may come from heap_timeline's finer slices: compare the peak snapshot */
    const char *pa = strstr(a, "heap_tree=peak"), *pb = strstr(b, "heap_tree=peak");
    assert_non_null(pa);
    assert_non_null(pb);
    const char *ea = strstr(pa, "#-----------"), *eb = strstr(pb, "#-----------");
    size_t la = ea ? (size_t)(ea - pa) : strlen(pa), lb = eb ? (size_t)(eb - pb) : strlen(pb);
    if (la != lb || memcmp(pa, pb, la) != 0) fail_msg("massif peak, time unit %s, differs:\n%s\n---\n%s", u, pa, pb);
    free(a);
    free(b);
  }
  ft_remove(copy);
}

/* n with thousands separators, as ms_print writes it. */
static void commify(char *buf, long long n) {
  if (n >= 1000) {
    commify(buf, n / 1000);
    sprintf(buf + strlen(buf), ",%03lld", n % 1000);
  } else {
    sprintf(buf, "%lld", n);
  }
}

static void test_massif(void **state) {
  (void)state;
  const char *out = ft_tmp_path("export_growth.massif");
  ft_remove(out);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "export", growth_db, "--format", "massif", "-o", out));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_run_free(&r);
  ft_expect_eq("output mode", ft_mode(out) & 0600, 0600);
  char *text = ft_read_file(out);
  assert_non_null(text);
  char *m = mask(text);
  /* The header, the start, and the peak snapshot with its exact tree: a
  ** short run has bytes allocated as its time axis. */
  ft_expect_true("header", !strncmp(m, "desc: fragtrace export (pid ", 28));
  ft_expect_true("cmd", strstr(m, ft_fmt("\ncmd: %s 10\ntime_unit: B\n", ft_prog("growth"))) != NULL);
  ft_expect_true("first snapshot empty at 0",
                 strstr(m, "#-----------\nsnapshot=0\n#-----------\ntime=0\nmem_heap_B=0\nmem_heap_extra_B=0\n"
                           "mem_stacks_B=0\nheap_tree=empty\n") != NULL);
  const char *peak = strstr(m, "heap_tree=peak\n");
  assert_non_null(peak);
  const char *want_peak = ft_fmt(
      "time=%d\nmem_heap_B=%d\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=peak\n"
      "n4: %d (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
      " n1: 12000 0xADDR: steady_site (growth.c:L)\n"
      "  n0: 12000 0xADDR: main (growth.c:L)\n"
      " n1: 10000 0xADDR: grow_site (growth.c:L)\n"
      "  n0: 10000 0xADDR: main (growth.c:L)\n"
      " n1: 777 0xADDR: leak_site (growth.c:L)\n"
      "  n0: 777 0xADDR: main (growth.c:L)\n"
      " n0: 1 in 1 place, below massif's threshold (1.00%%)\n"
      "#-----------\n",
      PEAK_BYTES + 640, PEAK_BYTES, PEAK_BYTES);
  const char *tstart = peak;
  while (tstart > m && strncmp(tstart, "time=", 5) != 0) tstart--;
  if (strncmp(tstart, want_peak, strlen(want_peak)) != 0)
    fail_msg("peak snapshot:\n%.*s\nexpected:\n%s", (int)strlen(want_peak), tstart, want_peak);
  /* The last snapshot is detailed: what is left is the leak. */
  const char *last = strrchr(m, '#');
  assert_non_null(last);
  ft_expect_true("last snapshot: the leak",
                 strstr(last, "mem_heap_B=777\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=detailed\n"
                              "n1: 777 (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n"
                              " n1: 777 0xADDR: leak_site (growth.c:L)\n"
                              "  n0: 777 0xADDR: main (growth.c:L)\n") != NULL);
  free(m);
  free(text);

  if (access("/usr/bin/ms_print", X_OK) != 0) {
    print_message("[  SKIPPED ] ms_print not installed (Debian package valgrind): not read back\n");
    return;
  }
  ft_run_cmd(&r, NULL, FT_ARGV("ms_print", out));
  ft_expect_status(&r, 0);
  const char *detailed = strstr(r.out, "Detailed snapshots: [");
  ft_expect_true("ms_print: the peak is a detailed snapshot",
                 detailed && strstr(detailed, " (peak)") && strstr(detailed, " (peak)") < strchr(detailed, '\n'));
  char peak_c[32];
  commify(peak_c, PEAK_BYTES);
  ft_expect_true("ms_print: peak total",
                 strstr(r.out, ft_fmt("100.00%% (%sB) (heap allocation functions)", peak_c)) != NULL);
  char *ms = mask(r.out);
  ft_expect_true("ms_print: the top site", strstr(ms, "->52.68% (12,000B) 0xADDR: steady_site (growth.c:L)") != NULL);
  ft_expect_true("ms_print: the peak's total in the snapshot list",
                 strstr(ms, ft_fmt("%16s %16s", peak_c, peak_c)) != NULL);
  free(ms);
  ft_run_free(&r);

  /* --time-unit ms is read too */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "export", growth_db, "--format", "massif", "--time-unit", "ms", "-o", out));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  ft_run_cmd(&r, NULL, FT_ARGV("ms_print", out));
  ft_expect_status(&r, 0);
  ft_expect_true("ms_print --time-unit ms", strstr(r.out, "time(ms)") != NULL);
  ft_run_free(&r);
  ft_remove(out);
}

/* A `go tool pprof -top` line: "FLAT FLAT% SUM% CUM CUM% NAME". */
static int top_line(const char *out, const char *name, const char *flat) {
  for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
    char f[64], n[256];
    if (sscanf(l, " %63s %*s %*s %*s %*s %255s", f, n) == 2 && !strcmp(n, name)) return !strcmp(f, flat);
  }
  return 0;
}

static void test_pprof(void **state) {
  (void)state;
  const char *out = ft_tmp_path("export_growth.pb.gz");
  ft_remove(out);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "export", growth_db, "--format", "pprof", "-o", out));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_run_free(&r);
  char *gz = ft_read_file(out);
  assert_non_null(gz);
  ft_expect_true("gzip magic", (unsigned char)gz[0] == 0x1f && (unsigned char)gz[1] == 0x8b);
  free(gz);
  if (system("command -v go >/dev/null 2>&1") != 0) {
    print_message("[  SKIPPED ] go not installed (Debian package golang-go): profile not read back\n");
    return;
  }
  const char *env[] = {ft_fmt("HOME=%s", FT_TMP), ft_fmt("PPROF_TMPDIR=%s", FT_TMP), NULL};
  ft_run_cmd(&r, env, FT_ARGV("go", "tool", "pprof", "-top", "-sample_index=alloc_space", out));
  ft_expect_status(&r, 0);
  ft_expect_true("alloc_space: steady_site first",
                 strstr(r.out, "      flat  flat%   sum%        cum   cum%\n    12000B 51.24% 51.24%     12000B 51.24%  "
                               "steady_site\n") != NULL);
  ft_expect_true("alloc_space: grow_site", top_line(r.out, "grow_site", "10000B"));
  ft_expect_true("alloc_space: churn_site", top_line(r.out, "churn_site", "640B"));
  ft_expect_true("alloc_space: total", strstr(r.out, ft_fmt("Total samples = %dB", PEAK_BYTES + 640)) != NULL);
  ft_run_free(&r);
  ft_run_cmd(&r, env, FT_ARGV("go", "tool", "pprof", "-top", "-sample_index=alloc_objects", out));
  ft_expect_status(&r, 0);
  ft_expect_true("alloc_objects: churn_site", top_line(r.out, "churn_site", "10"));
  ft_expect_true("alloc_objects: steady_site", top_line(r.out, "steady_site", "4"));
  ft_run_free(&r);
  /* inuse = still live at the end: the leak only */
  ft_run_cmd(&r, env, FT_ARGV("go", "tool", "pprof", "-top", "-sample_index=inuse_space", out));
  ft_expect_status(&r, 0);
  ft_expect_true("inuse_space: the leak", top_line(r.out, "leak_site", "777B"));
  ft_expect_true("inuse_space: total", strstr(r.out, "Total samples = 777B") != NULL);
  ft_run_free(&r);
  ft_run_cmd(&r, env, FT_ARGV("go", "tool", "pprof", "-traces", "-sample_index=alloc_space", out));
  ft_expect_status(&r, 0);
  ft_expect_true("traces: site then main", strstr(r.out, "   11.72kB   steady_site\n             main\n") != NULL);
  ft_run_free(&r);
  ft_remove(out);
}

/* An output that is not a regular file is written in place, never
** replaced (a rename over /dev/null would replace the device): here a
** symlink stays a symlink and its target gets the export. */
static void test_output_in_place(void **state) {
  (void)state;
  const char *target = ft_tmp_path("export_target.folded"), *link = ft_tmp_path("export_link.folded");
  ft_remove(target);
  ft_remove(link);
  ft_write_file(target, "old contents, longer than the export will be ......................................\n"
                        "......................................................................................\n");
  assert_int_equal(symlink(target, link), 0);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded", "--weight", "leaked", "-o", link));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  struct stat st;
  assert_int_equal(lstat(link, &st), 0);
  ft_expect_true("still a symlink", S_ISLNK(st.st_mode));
  char *text = ft_read_file(target);
  assert_non_null(text);
  char *fm = from_main(text);
  assert_string_equal(fm, "main;leak_site 777\n");
  free(fm);
  free(text);
  ft_expect_eq("no temporary files left", ft_count_files(FT_TMP, "export_link.folded.", ""), 0);
  ft_remove(link);
  ft_remove(target);
}

/* Several processes: each stack starts with its process. */
static void test_folded_processes(void **state) {
  (void)state;
  const char *db = ft_tmp_path("export_forker.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("forker")));
  ft_expect_status(&r, 0);
  long long parent = ft_kv(r.out, "parent"), child = ft_kv(r.out, "child");
  ft_run_free(&r);
  char *out = export_stdout(db, FT_ARGV("--format", "folded", "--weight", "allocations"));
  /* forker: the parent mallocs 3131 twice, 3232 once and stdout's buffer; the child 7171 three times */
  const char *lines[2] = {ft_fmt("forker (pid %lld);", parent), ft_fmt("forker (pid %lld);", child)};
  const char *l1 = out, *l2 = strchr(out, '\n');
  assert_non_null(l2);
  l2++;
  if (parent > child) {
    const char *t = l1;
    l1 = l2;
    l2 = t;
  }
  ft_expect_true("parent's line", !strncmp(l1, lines[0], strlen(lines[0])));
  ft_expect_true("child's line", !strncmp(l2, lines[1], strlen(lines[1])));
  ft_expect_eq("lines", ft_count_lines(out), 2);
  char *fm = from_main(out);
  assert_string_equal(fm, parent < child ? "main 4\nmain 3\n" : "main 3\nmain 4\n");
  free(fm);
  free(out);
  /* --pid selects one process: no process frame then */
  out = export_stdout(db, FT_ARGV("--format", "folded", "--weight", "bytes", "--pid", ft_fmt("%lld", child)));
  fm = from_main(out);
  assert_string_equal(fm, "main 21513\n");
  ft_expect_true("no process frame", strncmp(out, "forker (pid", 11) != 0);
  free(fm);
  free(out);
  /* massif: the process with the highest peak, the child */
  out = export_stdout(db, FT_ARGV("--format", "massif"));
  const char *want = ft_fmt("desc: fragtrace export (pid %lld;", child);
  ft_expect_true("massif: the child", !strncmp(out, want, strlen(want)));
  free(out);
  ft_remove(db);
}

/* Exit 2, exactly one line on stderr, and no output file. */
static void expect_refused(const char *const argv[], const char *what, const char *out) {
  ft_run r;
  ft_run_cmd(&r, NULL, argv);
  if (r.status != 2) fail_msg("%s: status %d, expected 2\n%s", what, r.status, r.err);
  if (ft_count_lines(r.err) != 1 || strncmp(r.err, "fragtrace: ", 11) != 0)
    fail_msg("%s: expected one line on stderr, got:\n%s", what, r.err);
  if (r.out[0]) fail_msg("%s: unexpected stdout:\n%s", what, r.out);
  if (out && ft_exists(out)) fail_msg("%s: left %s behind", what, out);
  ft_run_free(&r);
}

static void test_bad_inputs(void **state) {
  (void)state;
  const char *out = ft_tmp_path("export_bad.out");
  ft_remove(out);
  const char *empty = ft_tmp_path("export_empty.db"), *junk = ft_tmp_path("export_junk.db");
  const char *newer = ft_tmp_path("export_newer.db"), *trunc = ft_tmp_path("export_trunc.db");
  ft_write_file(empty, "");
  ft_write_file(junk, "this is not a trace\n");
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s' && head -c 16384 '%s' > '%s'", growth_db, newer, growth_db, trunc);
  assert_int_equal(system(cmd), 0);
  sqlite3 *d;
  assert_int_equal(sqlite3_open(newer, &d), SQLITE_OK);
  assert_int_equal(sqlite3_exec(d, "UPDATE meta SET value = '2' WHERE key = 'schema_version'", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(d);
  const char *inputs[] = {empty, junk, newer, trunc, ft_tmp_path("export_missing.db")};
  const char *const formats[] = {"massif", "folded", "pprof"};
  for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++)
    for (size_t f = 0; f < 3; f++)
      expect_refused(FT_ARGV(FT_BIN, "export", inputs[i], "--format", formats[f], "-o", out),
                     ft_fmt("%s as %s", inputs[i], formats[f]), out);
  /* usage */
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "-o", out), "no --format", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "svg", "-o", out), "unknown format", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded"), "no -o", out);
  expect_refused(FT_ARGV(FT_BIN, "export", "--format", "folded", "-o", out), "no trace", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "massif", "--weight", "bytes", "-o", out),
                 "--weight with massif", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded", "--weight", "heavy", "-o", out),
                 "unknown weight", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded", "--pid", "x1", "-o", out), "bad pid",
                 out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded", "--pid", "1", "-o", out),
                 "pid not in the trace", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded", "--frobnicate", "-o", out),
                 "unknown option", out);
  expect_refused(FT_ARGV(FT_BIN, "export", growth_db, "--format", "folded", "-o", ft_tmp_path("no/such/dir/x")),
                 "unwritable output", NULL);
  ft_remove(empty);
  ft_remove(junk);
  ft_remove(newer);
  ft_remove(trunc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_folded_weights), cmocka_unit_test(test_without_summaries),
      cmocka_unit_test(test_massif),         cmocka_unit_test(test_pprof),
      cmocka_unit_test(test_folded_processes), cmocka_unit_test(test_output_in_place),
      cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
