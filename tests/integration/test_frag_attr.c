/*
** test_frag_attr.c — fragmentation attribution (issue 4) on the examples
** (examples/pinned_heap.c, pool.c, seed_churn.c): each is recorded and the
** importer's site_windows / pinning / pinning_totals are checked with SQL
** for the exact expected ranking and values.
*/
#define _GNU_SOURCE
#include <string.h>

#include "ft_itest.h"

/* BUILD/examples/<name>: FT_BIN is BUILD/bin/fragtrace. */
static const char *example(const char *name) {
  const char *bin = FT_BIN;
  const char *slash = strrchr(bin, '/');
  int dir = (int)(slash - bin); /* BUILD/bin */
  while (dir > 0 && bin[dir - 1] != '/') dir--;
  return ft_fmt("%.*sexamples/%s", dir, bin, name);
}

/* Record an example into FT_TMP/<name>.db and open it. */
static sqlite3 *record_example(const char *name, const char *const argv_tail[]) {
  const char *db = ft_tmp_path(ft_fmt("frag_%s.db", name));
  const char *argv[8] = {example(name)};
  for (int i = 0; argv_tail && argv_tail[i] && i < 6; i++) argv[i + 1] = argv_tail[i];
  ft_run r;
  ft_record(&r, db, NULL, NULL, argv);
  ft_expect_status(&r, 0);
  ft_run_free(&r);
  return ft_db_open(db);
}

/* pinned_heap 8192: 8192 cache entries of 40 B stay live between the freed
** 4000 B buffers. At the end, at the system page size, cache_insert is the
** only (hence first) pinning site, every entry counts, and since nothing
** else is live on those pages its pinned bytes are exactly
**   pages * page_size - 8192 * 40,
** with pages the distinct pages its blocks overlap (computed from the rows). */
static void test_pinned_heap(void **state) {
  (void)state;
  sqlite3 *d = record_example("pinned_heap", FT_ARGV("8192", "300"));
  long long ps = ft_q_int(d, "SELECT page_size FROM processes");
  long long sid = ft_q_int(d, "SELECT stack_id FROM site_summary WHERE function = 'cache_insert'");
  const char *top = "SELECT %s FROM pinning_sites WHERE instant = 'end' AND page_size = %lld "
                    "ORDER BY pinned_bytes DESC, stack_id LIMIT 1";
  ft_expect_true("cache_insert ranks first in pinning",
                 strcmp(ft_q_str(d, top, "function", ps), "cache_insert") == 0);
  ft_expect_eq("its blocks", ft_q_int(d, top, "blocks", ps), 8192);
  ft_expect_eq("its live bytes", ft_q_int(d, top, "live_bytes", ps), 8192 * 40);
  long long pages = ft_q_int(d,
                             "SELECT count(*) FROM (SELECT address / %lld AS p FROM allocations WHERE stack_id = %lld "
                             "UNION SELECT (address + size - 1) / %lld FROM allocations WHERE stack_id = %lld)",
                             ps, sid, ps, sid);
  ft_expect_true("entries spread over at least half as many pages", 2 * pages >= 8192);
  ft_expect_eq("its pages", ft_q_int(d, top, "pages", ps), pages);
  ft_expect_eq("pinned = pages * page_size - live", ft_q_int(d, top, "pinned_bytes", ps), pages * ps - 8192 * 40);
  ft_expect_eq("the totals are its numbers",
               ft_q_int(d, "SELECT pinned_bytes FROM pinning_totals WHERE instant = 'end' AND page_size = %lld", ps),
               pages * ps - 8192 * 40);
  /* 2 MiB pages and the largest-gap sample: cache_insert first as well. */
  ft_expect_true("first at 2 MiB",
                 strcmp(ft_q_str(d, top, "function", 2097152LL), "cache_insert") == 0);
  ft_expect_true("first at the RSS-gap sample",
                 strcmp(ft_q_str(d,
                                 "SELECT function FROM pinning_sites WHERE instant = 'rss_gap' AND page_size = %lld "
                                 "ORDER BY pinned_bytes DESC LIMIT 1",
                                 ps),
                        "cache_insert") == 0);
  ft_expect_eq("request_buffer pins nothing (all freed)",
               ft_q_int(d, "SELECT count(*) FROM pinning_sites WHERE function = 'request_buffer'"), 0);
  sqlite3_close(d);
}

/* pool: preallocated objects reused without malloc. No page pins at any
** instant or page size; its only site allocates in at most two windows
** (the start-up burst) of a run of many. */
static void test_pool(void **state) {
  (void)state;
  sqlite3 *d = record_example("pool", NULL);
  ft_expect_eq("no pinning rows", ft_q_int(d, "SELECT count(*) FROM pinning"), 0);
  ft_expect_eq("no pinning pages", ft_q_int(d, "SELECT coalesce(sum(pages), 0) FROM pinning_totals"), 0);
  ft_expect_eq("pool_init allocated the 4096 objects",
               ft_q_int(d, "SELECT sum(w.allocations) FROM site_windows w JOIN site_summary s USING (stack_id) "
                           "WHERE s.function = 'pool_init'"),
               4096);
  ft_expect_true("allocations in at most 2 windows",
                 ft_q_int(d, "SELECT count(*) FROM site_windows WHERE allocations > 0") <= 2);
  long long nwin = ft_q_int(d, "SELECT p.end_ns / CAST(m.value AS INTEGER) FROM processes p, meta m "
                               "WHERE m.key = 'window_ns'");
  ft_expect_true("the run spans at least 10 windows", nwin >= 10);
  sqlite3_close(d);
}

/* seed_churn: alloc_buffer (10 KiB .. 5 MiB, 32 per round, 40 rounds)
** ranks first in windowed churn by allocations and by bytes per window;
** the run has at least 20 windows (window_ns chosen for it). */
static void test_seed_churn(void **state) {
  (void)state;
  sqlite3 *d = record_example("seed_churn", NULL);
  ft_expect_true("at least 20 windows",
                 ft_q_int(d, "SELECT p.end_ns / CAST(m.value AS INTEGER) FROM processes p, meta m "
                             "WHERE m.key = 'window_ns'") >= 20);
  ft_expect_true("first by bytes in a window",
                 strcmp(ft_q_str(d, "SELECT s.function FROM site_windows w JOIN site_summary s USING (stack_id) "
                                    "GROUP BY w.stack_id ORDER BY max(w.bytes) DESC LIMIT 1"),
                        "alloc_buffer") == 0);
  ft_expect_true("first by allocations per second in its busiest window",
                 strcmp(ft_q_str(d, "SELECT s.function FROM site_window_rates r JOIN site_summary s USING (stack_id) "
                                    "GROUP BY r.stack_id ORDER BY max(r.allocs_per_s) DESC LIMIT 1"),
                        "alloc_buffer") == 0);
  ft_expect_eq("every buffer counted in the windows",
               ft_q_int(d, "SELECT sum(w.allocations) FROM site_windows w JOIN site_summary s USING (stack_id) "
                           "WHERE s.function = 'alloc_buffer'"),
               40 * 32);
  ft_expect_eq("and every free",
               ft_q_int(d, "SELECT sum(w.frees) FROM site_windows w JOIN site_summary s USING (stack_id) "
                           "WHERE s.function = 'alloc_buffer'"),
               40 * 32);
  ft_expect_eq("windows agree with site_stats",
               ft_q_int(d, "SELECT sum(w.bytes) - (SELECT sum(bytes) FROM site_stats) FROM site_windows w"), 0);
  sqlite3_close(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pinned_heap),
      cmocka_unit_test(test_pool),
      cmocka_unit_test(test_seed_churn),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
