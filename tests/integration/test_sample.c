/*
** test_sample.c — the sampler's system and process sources (issue 4):
** `fragtrace sample` on its own (duration, Ctrl-C, sources that cannot be
** read), and `fragtrace record` with smaps_rollup and mallinfo2 beside a
** heap of known size (tests/progs/mallhold.c); the last samples taken when
** sampling stops (tests/progs/briefrun.c, --duration).
*/
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft_itest.h"

/* Snapshots (distinct times) of a host table in the trace. */
static long long snapshots(sqlite3 *d, const char *table) {
  return ft_q_int(d, "SELECT count(DISTINCT t_ns) FROM %s", table);
}

/* Every snapshot of meminfo has key, parsed to a value. */
static void expect_meminfo_key(sqlite3 *d, const char *key, long long snaps) {
  ft_expect_eq(key, ft_q_int(d, "SELECT count(*) FROM meminfo_samples WHERE key = '%s'", key), snaps);
}

static void test_sample_duration(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sample_dur.db");
  ft_remove(db);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "sample", "-q", "-o", db, "--interval", "50ms", "--duration", "300ms"));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  ft_expect_true("done in about the duration", r.seconds < 5);
  ft_expect_eq("spill removed", ft_count_files(FT_TMP, "sample_dur.db.", ".ftspill"), 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("one process: the sampler", ft_q_int(d, "SELECT count(*) FROM processes"), 1);
  ft_expect_eq("ended by exit", ft_q_int(d, "SELECT ended_by = 'exit' FROM processes"), 1);
  ft_expect_eq("no allocations", ft_q_int(d, "SELECT count(*) FROM allocations"), 0);
  long long m = snapshots(d, "meminfo_samples");
  ft_expect_true("meminfo snapshots >= 5", m >= 5 && m <= 7);
  ft_expect_true("vmstat snapshots >= 5", snapshots(d, "vmstat_samples") >= 5);
  ft_expect_true("buddyinfo snapshots >= 5", snapshots(d, "buddyinfo_samples") >= 5);
  /* The stop takes a last snapshot: the file covers the whole 300 ms, not
  ** only up to the last 50 ms tick (250 ms). */
  const long long near_end = 290000000;
  ft_expect_true("meminfo at the stop", ft_q_int(d, "SELECT max(t_ns) FROM meminfo_samples") >= near_end);
  ft_expect_true("buddyinfo at the stop", ft_q_int(d, "SELECT max(t_ns) FROM buddyinfo_samples") >= near_end);
  ft_expect_true("vmstat at the stop", ft_q_int(d, "SELECT max(t_ns) FROM vmstat_samples") >= near_end);
  /* What `free` needs, in bytes (kB x 1024) or counts (HugePages_*). */
  const char *keys[] = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Shmem", "Slab",
                        "SReclaimable", "SUnreclaim", "AnonHugePages", "HugePages_Total", "HugePages_Free",
                        "HugePages_Rsvd", "HugePages_Surp", "SwapTotal", "SwapFree"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) expect_meminfo_key(d, keys[i], m);
  char *mi = ft_read_file("/proc/meminfo");
  assert_non_null(mi);
  long long total_kb = strtoll(strstr(mi, "MemTotal:") + 9, NULL, 10);
  free(mi);
  ft_expect_eq("MemTotal in bytes", ft_q_int(d, "SELECT max(value) FROM meminfo_samples WHERE key = 'MemTotal'"),
               total_kb * 1024);
  ft_expect_true("kB fields are bytes", ft_q_int(d, "SELECT min(value %% 1024 = 0) FROM meminfo_samples "
                                                    "WHERE key IN ('MemFree', 'Cached')") == 1);
  ft_expect_eq("nr_free_pages kept", ft_q_int(d, "SELECT count(*) FROM vmstat_samples WHERE key = 'nr_free_pages'"),
               snapshots(d, "vmstat_samples"));
  ft_expect_eq("vmstat filtered", ft_q_int(d, "SELECT count(*) FROM vmstat_samples WHERE key = 'nr_dirty'"), 0);
  ft_expect_eq("sources noted once each", ft_q_int(d, "SELECT count(*) FROM sample_sources"),
               ft_q_int(d, "SELECT count(DISTINCT source) FROM sample_sources"));
  ft_expect_eq("meminfo ok", ft_q_int(d, "SELECT status = 'ok' AND samples = %lld FROM sample_sources "
                                         "WHERE source = 'meminfo'", m), 1);
  /* We run as root: pagetypeinfo and slabinfo are readable here. */
  if (geteuid() == 0) {
    ft_expect_true("pagetypeinfo rows", ft_q_int(d, "SELECT count(*) FROM pagetypeinfo_samples") > 0);
    ft_expect_true("pageblock rows", ft_q_int(d, "SELECT count(*) FROM pageblock_samples") > 0);
    ft_expect_true("slabinfo rows", ft_q_int(d, "SELECT count(*) FROM slabinfo_samples") > 0);
    ft_expect_eq("slab bytes", ft_q_int(d, "SELECT count(*) FROM slabinfo_samples s, processes p "
                                           "WHERE s.bytes <> s.num_slabs * s.pages_per_slab * p.page_size"), 0);
  }
  sqlite3_close(d);
  ft_run_free(&r);
  /* A host-only trace is a trace: report opens it. */
  ft_run_cmd(&r, NULL, FT_ARGV(FT_BIN, "report", db));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  ft_remove(db);
}

static void test_sample_sigint(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sample_int.db");
  ft_remove(db);
  ft_run r;
  ft_start(&r, NULL, FT_ARGV(FT_BIN, "sample", "-q", "-o", db, "--interval", "50ms"));
  struct timespec ts = {0, 200 * 1000000L};
  nanosleep(&ts, NULL);
  kill(r.pid, SIGINT);
  ft_wait(&r, 30);
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  long long m = snapshots(d, "meminfo_samples");
  ft_expect_true("samples until Ctrl-C", m >= 2 && m <= 8);
  ft_expect_eq("buddyinfo too", snapshots(d, "buddyinfo_samples"), m);
  ft_expect_eq("ended by exit", ft_q_int(d, "SELECT ended_by = 'exit' FROM processes"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
  /* SIGTERM the same. */
  ft_remove(db);
  ft_start(&r, NULL, FT_ARGV(FT_BIN, "sample", "-q", "-o", db, "--interval", "50ms"));
  nanosleep(&ts, NULL);
  kill(r.pid, SIGTERM);
  ft_wait(&r, 30);
  ft_expect_status(&r, 0);
  d = ft_db_open(db);
  ft_expect_true("samples until SIGTERM", snapshots(d, "meminfo_samples") >= 2);
  sqlite3_close(d);
  ft_run_free(&r);
  ft_remove(db);
}

/* FRAGTRACE_PROC_DIR points the system sources at a directory holding only
** meminfo (a fixture): the others are noted once as missing, meminfo's
** values are the fixture's exactly. */
static void test_sample_missing_sources(void **state) {
  (void)state;
  const char *dir = ft_tmp_path("fakeproc");
  const char *db = ft_tmp_path("sample_missing.db");
  ft_remove(db);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV("sh", "-c", ft_fmt("rm -rf '%s' && mkdir -p '%s' && cp '%s/tests/fixtures/"
                                                 "meminfo_arm64_4.19.txt' '%s/meminfo'", dir, dir, FT_SOURCE_DIR, dir)));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  ft_run_cmd(&r, FT_ENV(ft_fmt("FRAGTRACE_PROC_DIR=%s", dir)),
             FT_ARGV(FT_BIN, "sample", "-q", "-o", db, "--interval", "20ms", "--duration", "200ms"));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  sqlite3 *d = ft_db_open(db);
  const char *missing[] = {"buddyinfo", "pagetypeinfo", "vmstat", "slabinfo"};
  for (size_t i = 0; i < 4; i++)
    ft_expect_eq(missing[i], ft_q_int(d, "SELECT count(*) FROM sample_sources WHERE source = '%s' AND "
                                         "status = 'missing' AND samples = 0 AND detail LIKE '%%%s%%'",
                                      missing[i], missing[i]), 1);
  ft_expect_eq("no buddyinfo rows", ft_q_int(d, "SELECT count(*) FROM buddyinfo_samples"), 0);
  ft_expect_true("meminfo sampled", snapshots(d, "meminfo_samples") >= 5);
  ft_expect_eq("fixture MemTotal", ft_q_int(d, "SELECT DISTINCT value FROM meminfo_samples WHERE key = 'MemTotal'"),
               16496128LL * 1024);
  ft_expect_eq("fixture HugePages_Total (a count)",
               ft_q_int(d, "SELECT DISTINCT value FROM meminfo_samples WHERE key = 'HugePages_Total'"), 16);
  sqlite3_close(d);
  ft_run_free(&r);
  ft_remove(db);
}

/* An unreadable source (a directory where a file should be: open works,
** read fails) is 'unreadable', once; so is a file we may not open. */
static void test_sample_unreadable(void **state) {
  (void)state;
  const char *dir = ft_tmp_path("fakeproc2");
  const char *db = ft_tmp_path("sample_unreadable.db");
  ft_remove(db);
  ft_run r;
  ft_run_cmd(&r, NULL, FT_ARGV("sh", "-c", ft_fmt("rm -rf '%s' && mkdir -p '%s/slabinfo' && cp /proc/meminfo "
                                                 "/proc/vmstat /proc/buddyinfo '%s/'", dir, dir, dir)));
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  ft_run_cmd(&r, FT_ENV(ft_fmt("FRAGTRACE_PROC_DIR=%s", dir)),
             FT_ARGV(FT_BIN, "sample", "-q", "-o", db, "--interval", "20ms", "--duration", "100ms"));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("slabinfo unreadable", ft_q_int(d, "SELECT count(*) FROM sample_sources WHERE source = 'slabinfo' "
                                                  "AND status = 'unreadable' AND detail LIKE '%%slabinfo: nothing could be read'"), 1);
  ft_expect_eq("buddyinfo ok", ft_q_int(d, "SELECT count(*) FROM sample_sources WHERE source = 'buddyinfo' "
                                           "AND status = 'ok' AND samples >= 3"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
  ft_remove(db);
}

/* record: smaps_rollup and mallinfo2 of a program whose heap we know. */
static void test_record_process_sources(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sample_rec.db");
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--smaps-ms", "50", "--mallinfo-ms", "50", "--sys-sample-ms", "100"),
            FT_ARGV(ft_prog("mallhold")));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_true("smaps rows", ft_q_int(d, "SELECT count(*) FROM smaps_samples") >= 5);
  ft_expect_eq("smaps rss/pss/anonymous present",
               ft_q_int(d, "SELECT count(*) FROM smaps_samples WHERE rss IS NULL OR pss IS NULL OR "
                           "anonymous IS NULL OR private_dirty IS NULL"), 0);
  ft_expect_true("mallinfo rows", ft_q_int(d, "SELECT count(*) FROM mallinfo_samples") >= 5);
  ft_expect_eq("mallinfo ok", ft_q_int(d, "SELECT count(*) FROM sample_sources WHERE source = 'mallinfo' "
                                          "AND status = 'ok' AND detail LIKE '%%libc%%'"), 1);
  ft_expect_eq("smaps ok", ft_q_int(d, "SELECT count(*) FROM sample_sources WHERE source = 'smaps_rollup' "
                                       "AND status = 'ok'"), 1);
  ft_expect_true("meminfo rows", ft_q_int(d, "SELECT count(*) FROM meminfo_samples") > 0);
  /* While the 2048 blocks of 1000 B are held, mallinfo's in-use bytes cover
  ** them; checked at samples with no allocation event within 5 ms (so the
  ** snapshot and the recorded live set describe the same heap). */
  const char *live_at = "(SELECT coalesce(sum(size), 0) FROM allocations a WHERE a.kind <> 'mmap' AND "
                        "a.t_alloc_ns <= m.t_ns AND (a.t_free_ns IS NULL OR a.t_free_ns > m.t_ns))";
  const char *quiet = "NOT EXISTS (SELECT 1 FROM allocations a WHERE a.t_alloc_ns BETWEEN m.t_ns - 5000000 AND "
                      "m.t_ns + 5000000 OR a.t_free_ns BETWEEN m.t_ns - 5000000 AND m.t_ns + 5000000)";
  long long held = ft_q_int(d, "SELECT count(*) FROM mallinfo_samples m WHERE %s AND %s >= 2048000", quiet, live_at);
  ft_expect_true("samples while the heap is held", held >= 3);
  ft_expect_eq("in_use >= live heap", ft_q_int(d, "SELECT count(*) FROM mallinfo_samples m WHERE %s AND "
                                                  "m.in_use < %s", quiet, live_at), 0);
  ft_expect_eq("arena covers in_use + free",
               ft_q_int(d, "SELECT count(*) FROM mallinfo_samples WHERE arena <> in_use + free"), 0);
  sqlite3_close(d);
  ft_run_free(&r);
  ft_remove(db);
}

/* A run shorter than smaps_rollup's and mallinfo2's 1 s interval, recorded
** with the defaults: the sampler's final pass gives each a second sample,
** within 20 ms of the process's end; statm too ends near the end. */
static void test_record_final_samples(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sample_final.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("briefrun")));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  const long long near = 20000000;
  long long end = ft_q_int(d, "SELECT end_ns FROM processes");
  ft_expect_true("a short run", end < 200000000);
  ft_expect_true(">= 2 smaps samples", ft_q_int(d, "SELECT count(*) FROM smaps_samples") >= 2);
  ft_expect_true(">= 2 mallinfo samples", ft_q_int(d, "SELECT count(*) FROM mallinfo_samples") >= 2);
  const char *tables[] = {"smaps_samples", "mallinfo_samples", "process_samples"};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    long long last = ft_q_int(d, "SELECT max(t_ns) FROM %s", tables[i]);
    if (last > end || end - last > near) fail_msg("%s: last sample at %lld ns, the process ended at %lld", tables[i], last, end);
  }
  sqlite3_close(d);
  ft_run_free(&r);
  ft_remove(db);
}

/* Sources set to 0 are noted 'off'; no rows. */
static void test_record_sources_off(void **state) {
  (void)state;
  const char *db = ft_tmp_path("sample_off.db");
  ft_run r;
  ft_record(&r, db, NULL,
            FT_ARGV("--smaps-ms", "0", "--mallinfo-ms", "0", "--sys-sample-ms", "0", "--slabinfo-ms", "0",
                    "--pagetypeinfo-ms", "0"),
            FT_ARGV(ft_prog("hello"), "0"));
  ft_expect_status(&r, 0);
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("off sources", ft_q_int(d, "SELECT count(*) FROM sample_sources WHERE status = 'off' AND "
                                          "source IN ('smaps_rollup', 'mallinfo', 'meminfo', 'vmstat', "
                                          "'pagetypeinfo', 'slabinfo')"), 6);
  ft_expect_eq("no rows", ft_q_int(d, "SELECT (SELECT count(*) FROM smaps_samples) + (SELECT count(*) FROM "
                                      "mallinfo_samples) + (SELECT count(*) FROM meminfo_samples)"), 0);
  sqlite3_close(d);
  ft_run_free(&r);
  ft_remove(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sample_duration),
      cmocka_unit_test(test_sample_sigint),
      cmocka_unit_test(test_sample_missing_sources),
      cmocka_unit_test(test_sample_unreadable),
      cmocka_unit_test(test_record_process_sources),
      cmocka_unit_test(test_record_sources_off),
      cmocka_unit_test(test_record_final_samples),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
