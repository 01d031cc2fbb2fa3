/*
** test_sampling.c — byte sampling is unbiased within its documented error
** (issue 5; schema/README.md, "Production mode").
**
** tests/progs/sampled_sites makes known numbers of allocations of known
** sizes at four sites. It is recorded K times with --sample-bytes N and the
** seeds 1..K. For a site of n blocks of size s each recorded with
** p = 1 - exp(-s/N), the estimate (rounded sum of the rows' weights 1/p) has
** standard deviation sigma = sqrt(n (1-p)/p) for the count and s times that
** for bytes (mixed sizes: the variances add). Asserted, per site:
**   - every run: |estimate - truth| <= 5 sigma + slack;
**   - the mean over the K runs: |mean - truth| <= 5 sigma / sqrt(K) + slack;
** slack = 1 (the estimate is rounded once) + truth / 8192 (the stored
** weight is 1/p rounded to 1/4096: at most 2^-13 of a weight >= 1).
** A 5 sigma miss has probability below 6e-7 per comparison, about 1e-4 over
** the whole test, for any seeds. The process totals (heap_totals) do not
** depend on sampling: exact in every run.
** Also: recording started late (--delay) and stopped early (--duration) is
** in the trace and the report; the report, its JSON (schema-validated), the
** scan over allocation_rows, the folded export and the gates all use the
** weighted estimates.
*/
#include "ft_itest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_BYTES 65536 /* --sample-bytes */
#define K_RUNS 30     /* seeds 1..K */

/* The program's sites (tests/progs/sampled_sites.c). */
typedef struct site {
  const char *function;
  double count, bytes;       /* truth */
  double var_count, var_bytes; /* variance of the estimates */
  double sum_count, sum_bytes; /* estimates added up over the runs */
} site;

/* p(s) = 1 - exp(-s/N): the probability that a block of s bytes is recorded. */
static double p_of(double s) { return -expm1(-s / N_BYTES); }

/* Add n blocks of s bytes to a site's truth and variance. */
static void add_blocks(site *x, double n, double s) {
  double p = p_of(s);
  x->count += n;
  x->bytes += n * s;
  x->var_count += n * (1 - p) / p;
  x->var_bytes += n * (1 - p) / p * s * s;
}

static void init_sites(site *s) {
  memset(s, 0, 4 * sizeof *s);
  s[0].function = "site_small";
  add_blocks(&s[0], 200000, 64);
  s[1].function = "site_page";
  add_blocks(&s[1], 20000, 4096);
  s[2].function = "site_huge";
  add_blocks(&s[2], 50, 1 << 20);
  s[3].function = "site_mixed";
  for (int k = 0; k < 10; k++) add_blocks(&s[3], 3000, 16 << k);
}

/* The estimate of a site in a trace: site_stats of the stacks whose
** innermost frame is the site's function. */
static void estimate(sqlite3 *db, const char *function, long long *count, long long *bytes) {
  *count = ft_q_int_or(db, 0,
                       "SELECT sum(s.allocations) FROM site_stats s JOIN call_sites c "
                       "ON c.stack_id = s.stack_id AND c.depth = 0 WHERE c.function = '%s'",
                       function);
  *bytes = ft_q_int_or(db, 0,
                       "SELECT sum(s.bytes) FROM site_stats s JOIN call_sites c "
                       "ON c.stack_id = s.stack_id AND c.depth = 0 WHERE c.function = '%s'",
                       function);
}

/* |got - want| within k sigma plus the slack of the file comment. */
static void within(const char *what, const char *function, int seed, double got, double want, double sigma,
                   double k) {
  double bound = k * sigma + 1 + want / 8192;
  if (fabs(got - want) > bound)
    fail_msg("%s of %s (seed %d): estimate %.1f, truth %.0f, |diff| %.1f > bound %.1f (sigma %.1f)", what, function,
             seed, got, want, fabs(got - want), bound, sigma);
}

/* The exact totals of the run's only image: every allocation of the
** program, whatever was sampled. */
static void exact_totals(sqlite3 *db, const site *s) {
  double n = 0, b = 0;
  for (int i = 0; i < 4; i++) n += s[i].count, b += s[i].bytes;
  const char *last = "FROM heap_totals WHERE t_ns = (SELECT max(t_ns) FROM heap_totals)";
  ft_expect_eq("heap_totals.allocations", ft_q_int(db, "SELECT allocations %s", last), (long long)n);
  ft_expect_eq("heap_totals.frees", ft_q_int(db, "SELECT frees %s", last), (long long)n);
  ft_expect_eq("heap_totals.bytes", ft_q_int(db, "SELECT bytes %s", last), (long long)b);
  ft_expect_eq("heap_totals.usable_live_bytes (everything freed)", ft_q_int(db, "SELECT usable_live_bytes %s", last),
               0);
  /* sampled counts the recorded allocations: the heap rows of the trace */
  ft_expect_eq("heap_totals.sampled", ft_q_int(db, "SELECT sampled %s", last),
               ft_q_int(db, "SELECT count(*) FROM allocation_rows WHERE (kind_thread & 7) <> 4"));
  ft_expect_eq("heap_totals.untracked", ft_q_int(db, "SELECT untracked %s", last), 0);
  ft_expect_eq("heap_totals.thinned", ft_q_int(db, "SELECT thinned %s", last), 0);
}

/* K seeds: per-run and mean estimates within their error, exact totals. */
static void test_estimates(void **state) {
  (void)state;
  site s[4];
  init_sites(s);
  long long rows = 0;
  for (int seed = 1; seed <= K_RUNS; seed++) {
    const char *db = ft_tmp_path("sampling.db");
    ft_run r;
    ft_record(&r, db, NULL, FT_ARGV("--sample-bytes", ft_fmt("%d", N_BYTES), "--seed", ft_fmt("%d", seed)),
              FT_ARGV(ft_prog("sampled_sites")));
    ft_expect_status(&r, 0);
    ft_run_free(&r);
    sqlite3 *t = ft_db_open(db);
    ft_expect_eq("processes.sample_bytes", ft_q_int(t, "SELECT sample_bytes FROM processes"), N_BYTES);
    ft_expect_eq("processes.seed", ft_q_int(t, "SELECT seed FROM processes"), seed);
    /* frees are written only for recorded blocks: all of them match */
    ft_expect_eq("processes.unmatched_frees", ft_q_int(t, "SELECT unmatched_frees FROM processes"), 0);
    ft_expect_eq("pinning rows of a sampled image", ft_q_int(t, "SELECT count(*) FROM pinning_totals"), 0);
    /* heap rows weigh 1/p exactly as documented (64 B rows: 1/p(64)) */
    double w = ft_q_int(t, "SELECT CAST(weight * 4096 AS INTEGER) FROM allocation_rows r JOIN call_sites c "
                           "ON c.stack_id = r.stack_id AND c.depth = 0 WHERE c.function = 'site_small' LIMIT 1");
    ft_expect_eq("weight of a 64-byte row, in 1/4096", w, (long long)floor(4096 / p_of(64) + 0.5));
    /* 1 MiB blocks: p = 1 - exp(-16), every one is recorded */
    ft_expect_eq("site_huge rows", ft_q_int(t, "SELECT count(*) FROM allocation_rows WHERE size = 1048576"), 50);
    for (int i = 0; i < 4; i++) {
      long long c, b;
      estimate(t, s[i].function, &c, &b);
      within("count", s[i].function, seed, (double)c, s[i].count, sqrt(s[i].var_count), 5);
      within("bytes", s[i].function, seed, (double)b, s[i].bytes, sqrt(s[i].var_bytes), 5);
      s[i].sum_count += (double)c;
      s[i].sum_bytes += (double)b;
    }
    exact_totals(t, s);
    rows += ft_q_int(t, "SELECT count(*) FROM allocation_rows");
    sqlite3_close(t);
  }
  for (int i = 0; i < 4; i++) {
    within("mean count", s[i].function, 0, s[i].sum_count / K_RUNS, s[i].count, sqrt(s[i].var_count / K_RUNS), 5);
    within("mean bytes", s[i].function, 0, s[i].sum_bytes / K_RUNS, s[i].bytes, sqrt(s[i].var_bytes / K_RUNS), 5);
  }
  /* sampling did sample: about 2,100 rows per run of 250,050 allocations */
  if (rows > K_RUNS * 5000LL || rows < K_RUNS * 1000LL) fail_msg("%lld rows over %d runs", rows, K_RUNS);
}

/* Recording started late (--delay): the control records are in the trace
** and the report, the totals stay exact, and the report says the counts
** are estimates. */
static void test_delay_and_report(void **state) {
  (void)state;
  site s[4];
  init_sites(s);
  const char *db = ft_tmp_path("sampling_delay.db");
  ft_run r;
  /* the program sleeps 300 ms after its first loop; recording starts at 100 ms */
  ft_record(&r, db, NULL, FT_ARGV("--sample-bytes", "64K", "--seed", "7", "--delay", "100ms"),
            FT_ARGV(ft_prog("sampled_sites"), "300"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  sqlite3 *t = ft_db_open(db);
  ft_expect_eq("processes.start_paused", ft_q_int(t, "SELECT start_paused FROM processes"), 1);
  assert_string_equal(ft_q_str(t, "SELECT group_concat(action || '/' || source, ' ') FROM "
                                  "(SELECT * FROM recording_control ORDER BY t_ns, rowid)"),
                      "pause/start resume/delay");
  long long resumed = ft_q_int(t, "SELECT t_ns FROM recording_control WHERE action = 'resume'");
  if (resumed < 100000000LL || resumed >= 400000000LL) fail_msg("resumed at %lld ns", resumed);
  exact_totals(t, s);
  /* what ran after the resume is estimated as usual */
  long long c, b;
  estimate(t, "site_small", &c, &b);
  within("count", "site_small", 7, (double)c, s[0].count, sqrt(s[0].var_count), 5);
  sqlite3_close(t);

  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--section", "summary"));
  ft_expect_status(&r, 0);
  if (!strstr(r.out, "sampled: 1 allocation per 65536 bytes on average; per-site counts and bytes are estimates"))
    fail_msg("no sampling line:\n%s", r.out);
  if (!strstr(r.out, "exact totals            250,050 allocations, 250,050 frees, 187.2 MiB (196,252,800) requested"))
    fail_msg("no exact totals:\n%s", r.out);
  if (!strstr(r.out, "  recording               paused 0 ns .. ")) fail_msg("no recording line:\n%s", r.out);
  if (!strstr(r.out, " (start, delay)")) fail_msg("no pause sources:\n%s", r.out);
  ft_run_free(&r);
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--section", "summary", "--format", "json"));
  ft_expect_status(&r, 0);
  const char *sm = strstr(r.out, "\"sampling\": {");
  if (!sm || !strstr(sm, "\"estimates\": true") || !strstr(sm, "\"sample_bytes\": 65536") ||
      !strstr(r.out, "\"exact_totals\": {"))
    fail_msg("no sampling object or exact totals:\n%.2000s", r.out);
  const char *json = ft_tmp_path("sampling_report.json");
  ft_write_file(json, r.out);
  ft_run_free(&r);
  if (system("/usr/bin/python3 -c 'import jsonschema' 2>/dev/null") == 0) {
    ft_run_cmd(&r, NULL,
               FT_ARGV("/usr/bin/python3", "-c",
                       "import json, sys, jsonschema\n"
                       "jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))\n",
                       json, FT_SOURCE_DIR "/reporter/report.schema.json"));
    if (r.status != 0) fail_msg("the sampled report does not validate:\n%s", r.err);
    ft_run_free(&r);
  }

  /* The scan over allocation_rows (--since 0) weighs rows as the importer
  ** did: the same report, after the source line. */
  ft_run fast, slow;
  ft_run_cmd(&fast, NULL,
             FT_ARGV(FT_BIN, "report", db, "--format", "json", "--section", "summary,churn,leaks,sizes", "--top", "0",
                     "--min-allocs", "1"));
  ft_run_cmd(&slow, NULL,
             FT_ARGV(FT_BIN, "report", db, "--format", "json", "--section", "summary,churn,leaks,sizes", "--top", "0",
                     "--min-allocs", "1", "--since", "0"));
  ft_expect_status(&fast, 0);
  ft_expect_status(&slow, 0);
  const char *f = strstr(fast.out, "\"source\""), *sl = strstr(slow.out, "\"source\"");
  assert_non_null(f);
  assert_non_null(sl);
  assert_string_equal(strchr(f, '\n'), strchr(sl, '\n'));
  ft_run_free(&fast);
  ft_run_free(&slow);

  /* Exports scale rows by their weights: folded allocations per site are
  ** the site_stats estimates. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "export", db, "--format", "folded", "--weight", "allocations", "-o", "-"));
  ft_expect_status(&r, 0);
  t = ft_db_open(db);
  for (int i = 0; i < 4; i++) {
    long long c, bytes;
    estimate(t, s[i].function, &c, &bytes);
    if (c == 0) continue; /* site_page ran before the resume: no rows */
    const char *want = ft_fmt(";%s %lld\n", s[i].function, c);
    if (!strstr(r.out, want)) fail_msg("folded export lacks '%s':\n%s", want, r.out);
  }
  sqlite3_close(t);
  ft_run_free(&r);

  /* A gate judges the estimates and says so. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--section", "summary", "--max-short-lived", "50"));
  ft_expect_status(&r, 1);
  if (!strstr(r.err, "(estimated from a byte-sampled trace)\n")) fail_msg("gate line:\n%s", r.err);
  ft_run_free(&r);
}

/* Recording stopped by --duration: the stop is in the trace (ended_by,
** recording_control), the report says so, and the totals are those at the
** stop (the first loop, 20000 x 4 KiB, runs before the program's sleep). */
static void test_stop_report(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sampling_stop.db");
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--sample-bytes", "64K", "--duration", "100ms"),
            FT_ARGV(ft_prog("sampled_sites"), "400"));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  sqlite3 *t = ft_db_open(db);
  assert_string_equal(ft_q_str(t, "SELECT ended_by FROM processes"), "stop");
  assert_string_equal(ft_q_str(t, "SELECT group_concat(action || '/' || source, ' ') FROM recording_control"),
                      "stop/duration");
  const char *last = "FROM heap_totals WHERE t_ns = (SELECT max(t_ns) FROM heap_totals)";
  ft_expect_eq("allocations at the stop", ft_q_int(t, "SELECT allocations %s", last), 20000);
  ft_expect_eq("bytes at the stop", ft_q_int(t, "SELECT bytes %s", last), 20000LL * 4096);
  sqlite3_close(t);
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db, "--section", "summary"));
  ft_expect_status(&r, 0);
  if (!strstr(r.out, "  recording               stopped at ") || !strstr(r.out, " (duration): untraced afterwards\n"))
    fail_msg("no stop line:\n%s", r.out);
  if (!strstr(r.out, "  exact totals            20,000 allocations, 20,000 frees, 78.1 MiB (81,920,000) requested\n"))
    fail_msg("no exact totals:\n%s", r.out);
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_estimates),
      cmocka_unit_test(test_delay_and_report),
      cmocka_unit_test(test_stop_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
