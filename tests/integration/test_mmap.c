/*
** test_mmap.c — mmap/munmap/mremap rows (tests/progs/mmaps.c): partial
** unmaps split rows into remnants, an unmap spanning two mappings ends both,
** mremap ends the old row and starts a new one; FRAGTRACE_MMAP=0 and
** `record --no-mmap` record no mappings at all.
*/
#define _GNU_SOURCE
#include <string.h>

#include "ft_itest.h"

/* Row id of the first mmap row at address a of the given size in pages
** allocated at or after `since`: each case of the program starts after the
** one before it, and the kernel may give a later case the address (and
** size) of an earlier case's mapping. Fails the test (after a dump) when
** there is none. */
static long long map_row_since(sqlite3 *d, long long a, long long pages, long long ps, long long since) {
  const char *where = ft_fmt("kind = 'mmap' AND address = %lld AND size = %lld AND t_alloc_ns >= %lld", a,
                             pages * ps, since);
  if (ft_q_int(d, "SELECT count(*) FROM allocations WHERE %s", where) == 0) {
    ft_q_dump(d, "SELECT id, address, size, t_alloc_ns, t_free_ns, stack_id FROM allocations WHERE kind = 'mmap'");
    fail_msg("no mmap row at %#llx of %lld pages since %lld ns", a, pages, since);
  }
  return ft_q_int(d, "SELECT id FROM allocations WHERE %s ORDER BY t_alloc_ns, id LIMIT 1", where);
}

static long long map_row(sqlite3 *d, long long a, long long pages, long long ps) {
  return map_row_since(d, a, pages, ps, 0);
}

static long long col(sqlite3 *d, const char *c, long long id) {
  return ft_q_int(d, "SELECT %s FROM allocations WHERE id = %lld", c, id);
}

static int is_null(sqlite3 *d, const char *c, long long id) {
  return (int)ft_q_int(d, "SELECT %s IS NULL FROM allocations WHERE id = %lld", c, id);
}

static void test_mmap_rows(void **state) {
  (void)state;
  const char *db = ft_tmp_path("mmaps.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("mmaps")));
  ft_expect_status(&r, 0);
  long long ps = ft_kv(r.out, "page"), w = ft_kv(r.out, "whole"), x = ft_kv(r.out, "x"), y = ft_kv(r.out, "y");
  long long g = ft_kv(r.out, "grow"), h = ft_kv(r.out, "grown");
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("page_size", ft_q_int(d, "SELECT page_size FROM processes"), ps);
  ft_expect_eq("the control malloc", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7777"), 1);

  /* 1. 10 pages, hole at [4,6): the row ends, two 4-page remnants begin
  ** exactly then, with the original's stack and thread. */
  long long whole = map_row(d, w, 10, ps);
  long long lo = map_row(d, w, 4, ps), hi = map_row(d, w + 6 * ps, 4, ps);
  ft_expect_true("the 10-page row ended", !is_null(d, "t_free_ns", whole));
  for (int i = 0; i < 2; i++) {
    long long rem = i ? hi : lo;
    ft_expect_eq(ft_fmt("remnant %d starts when the original ends", i), col(d, "t_alloc_ns", rem),
                 col(d, "t_free_ns", whole));
    ft_expect_eq(ft_fmt("remnant %d stack", i), col(d, "stack_id", rem), col(d, "stack_id", whole));
    ft_expect_eq(ft_fmt("remnant %d tid", i), col(d, "tid", rem), col(d, "tid", whole));
  }
  ft_expect_true("low remnant unmapped", !is_null(d, "t_free_ns", lo));
  ft_expect_true("high remnant still mapped at exit", is_null(d, "t_free_ns", hi));
  ft_expect_eq("rows of map_whole's stack: the original and two remnants",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE stack_id = %lld", col(d, "stack_id", whole)), 3);

  /* 2. x = [0,3) and y = [3,6) adjacent, from two call sites; munmap of
  ** [2,4) ends both and leaves [0,2) (x's stack) and [4,6) (y's stack). */
  ft_expect_eq("y right after x", y, x + 3 * ps);
  long long rx = map_row(d, x, 3, ps), ry = map_row(d, y, 3, ps);
  ft_expect_true("x and y from different stacks", col(d, "stack_id", rx) != col(d, "stack_id", ry));
  ft_expect_eq("x and y end at the same instant", col(d, "t_free_ns", rx), col(d, "t_free_ns", ry));
  long long xr = map_row(d, x, 2, ps), yr = map_row(d, x + 4 * ps, 2, ps);
  ft_expect_eq("x remnant stack", col(d, "stack_id", xr), col(d, "stack_id", rx));
  ft_expect_eq("y remnant stack", col(d, "stack_id", yr), col(d, "stack_id", ry));
  ft_expect_eq("x remnant begins at the split", col(d, "t_alloc_ns", xr), col(d, "t_free_ns", rx));
  ft_expect_eq("y remnant begins at the split", col(d, "t_alloc_ns", yr), col(d, "t_free_ns", ry));
  ft_expect_true("both remnants unmapped", !is_null(d, "t_free_ns", xr) && !is_null(d, "t_free_ns", yr));
  ft_expect_eq("rows of x's and y's stacks: two originals, two remnants",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE stack_id IN (%lld, %lld)", col(d, "stack_id", rx),
                        col(d, "stack_id", ry)), 4);

  /* 3. mremap 2 -> 8 pages: old row ends, an 8-page row starts no earlier. */
  long long t3 = col(d, "t_free_ns", rx); /* case 3 begins after case 2's split */
  long long og = map_row_since(d, g, 2, ps, t3), ng = map_row_since(d, h, 8, ps, t3);
  ft_expect_true("old mapping ended", !is_null(d, "t_free_ns", og));
  ft_expect_true("old row ended no later than the new began", col(d, "t_free_ns", og) <= col(d, "t_alloc_ns", ng));
  ft_expect_true("new row id after the old", ng > og);
  ft_expect_true("grown mapping unmapped", !is_null(d, "t_free_ns", ng));

  /* 4. MAP_FIXED over page 1 of 4: the 4-page row ends as the new page
  ** begins; remnants [0,1) and [2,4) carry the old stack; all three end
  ** together at the final munmap. */
  long long f = ft_kv(r.out, "fix");
  long long t4 = col(d, "t_free_ns", og); /* case 4 begins after case 3's mremap */
  long long base = map_row_since(d, f, 4, ps, t4), over = map_row_since(d, f + ps, 1, ps, t4);
  long long fl = map_row_since(d, f, 1, ps, t4), fr = map_row_since(d, f + 2 * ps, 2, ps, t4);
  ft_expect_eq("fixed row begins when the old row ends", col(d, "t_alloc_ns", over), col(d, "t_free_ns", base));
  ft_expect_true("fixed row from its own call site", col(d, "stack_id", over) != col(d, "stack_id", base));
  for (int i = 0; i < 2; i++) {
    long long rem = i ? fr : fl;
    ft_expect_eq(ft_fmt("fixed remnant %d stack", i), col(d, "stack_id", rem), col(d, "stack_id", base));
    ft_expect_eq(ft_fmt("fixed remnant %d begins at the replacement", i), col(d, "t_alloc_ns", rem),
                 col(d, "t_free_ns", base));
    ft_expect_eq(ft_fmt("fixed remnant %d ends with the final munmap", i), col(d, "t_free_ns", rem),
                 col(d, "t_free_ns", over));
  }
  ft_expect_true("final munmap ended them", !is_null(d, "t_free_ns", over));

  /* 5. mremap shrink in place: 6-page row ends, 2-page row at the same address. */
  long long s = ft_kv(r.out, "shrink");
  long long t5 = col(d, "t_alloc_ns", over); /* case 5 begins after case 4's MAP_FIXED */
  long long big = map_row_since(d, s, 6, ps, t5), small = map_row_since(d, s, 2, ps, t5);
  ft_expect_true("shrunk row after the old one", small > big && col(d, "t_free_ns", big) <= col(d, "t_alloc_ns", small));
  ft_expect_true("shrunk mapping unmapped", !is_null(d, "t_free_ns", small));
  ft_expect_eq("no 4-page remnant of the shrink",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'mmap' AND address = %lld AND t_alloc_ns >= %lld",
                        s + 2 * ps, t5), 0);

  /* Mapping rows never end before they begin; nothing unmatched. */
  ft_expect_eq("mmap rows ending before they begin",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'mmap' AND t_free_ns < t_alloc_ns"), 0);
  ft_expect_eq("mmap rows not page aligned",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'mmap' AND (address %% %lld != 0 OR "
                           "size %% %lld != 0)", ps, ps), 0);
  ft_expect_eq("live mmap rows at exit",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'mmap' AND t_free_ns IS NULL"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

static void check_no_mmap(const char *db) {
  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("mmap rows", ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'mmap'"), 0);
  ft_expect_eq("the control malloc", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7777"), 1);
  ft_expect_eq("control malloc freed",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 7777 AND t_free_ns IS NOT NULL"), 1);
  sqlite3_close(d);
}

static void test_mmap_off_env(void **state) {
  (void)state;
  const char *db = ft_tmp_path("mmaps_off.db");
  ft_run r;
  ft_record(&r, db, FT_ENV("FRAGTRACE_MMAP=0"), NULL, FT_ARGV(ft_prog("mmaps")));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  check_no_mmap(db);
  ft_run_free(&r);
}

static void test_mmap_off_option(void **state) {
  (void)state;
  const char *db = ft_tmp_path("mmaps_nommap.db");
  ft_run r;
  ft_record(&r, db, NULL, FT_ARGV("--no-mmap"), FT_ARGV(ft_prog("mmaps")));
  ft_expect_status(&r, 0);
  check_no_mmap(db);
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mmap_rows),
      cmocka_unit_test(test_mmap_off_env),
      cmocka_unit_test(test_mmap_off_option),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
