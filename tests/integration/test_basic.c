/*
** test_basic.c — the malloc family end to end: tests/progs/kinds.c under
** `fragtrace record` (kinds, sizes, the realloc chain, leaks, exit status),
** and tests/progs/callsite.c (call sites resolve to function, file, line).
*/
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ft_itest.h"

/* Distinctive sizes of kinds.c, except 17 (checked by address: small). */
#define KINDS_SIZES "10001,777,1017,100017,2001,2002,2003,2004,2005,3003,5005,4321,6006,5555,3145729,8181"

static void test_kinds(void **state) {
  (void)state;
  const char *db = ft_tmp_path("kinds.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("kinds")));
  ft_expect_status(&r, 3); /* record passes the program's own status on */
  ft_expect_no_stderr(&r);
  long long chain0 = ft_kv(r.out, "chain0"), chain1 = ft_kv(r.out, "chain1"), chain2 = ft_kv(r.out, "chain2");

  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("processes", ft_q_int(d, "SELECT count(*) FROM processes"), 1);
  long long pid = ft_q_int(d, "SELECT pid FROM processes");
  ft_expect_eq("processes.exit_status", ft_q_int(d, "SELECT exit_status FROM processes"), 3);
  assert_string_equal(ft_q_str(d, "SELECT ended_by FROM processes"), "exit");
  ft_expect_eq("processes.unmatched_frees (free(NULL) is not recorded)",
               ft_q_int(d, "SELECT unmatched_frees FROM processes"), 0);
  ft_expect_eq("processes.events_dropped", ft_q_int(d, "SELECT events_dropped FROM processes"), 0);
  ft_expect_eq("processes.stack_depth", ft_q_int(d, "SELECT stack_depth FROM processes"), 64);
  char exe[PATH_MAX];
  assert_non_null(realpath(ft_prog("kinds"), exe));
  assert_string_equal(ft_q_str(d, "SELECT exe FROM processes"), exe);
  ft_expect_true("cmdline names the program",
                 strstr(ft_q_str(d, "SELECT cmdline FROM processes"), "kinds") != NULL);
  /* Only the program's thread records: the shim's writer and sampler never do. */
  ft_expect_eq("threads", ft_q_int(d, "SELECT count(*) FROM threads"), 1);
  ft_expect_eq("thread tid = pid", ft_q_int(d, "SELECT tid FROM threads"), pid);

  /* Rows per kind over the distinctive sizes. */
  assert_string_equal(ft_q_str(d,
                                "SELECT group_concat(kind || ':' || n, ',') FROM (SELECT kind, count(*) AS n "
                                "FROM allocations WHERE size IN (" KINDS_SIZES ") GROUP BY kind ORDER BY kind)"),
                      "calloc:1,malloc:15,memalign:5,realloc:4");
  static const struct {
    long long size;
    const char *kind;
    int rows, freed;
  } want[] = {
      {10001, "malloc", 1, 1}, {777, "calloc", 1, 0},    {1017, "realloc", 1, 1},
      {100017, "realloc", 1, 1}, {2001, "memalign", 1, 1}, {2002, "memalign", 1, 1},
      {2003, "memalign", 1, 0}, {2004, "memalign", 1, 1}, {2005, "memalign", 1, 1},
      {3003, "realloc", 1, 1},  {5005, "realloc", 1, 1},  {4321, "malloc", 1, 0},
      {6006, "malloc", 1, 1},   {5555, "malloc", 10, 10}, {3145729, "malloc", 1, 1},
      {8181, "malloc", 1, 1},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    ft_expect_eq(ft_fmt("rows of size %lld", want[i].size),
                 ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = %lld", want[i].size), want[i].rows);
    ft_expect_eq(ft_fmt("%s rows of size %lld", want[i].kind, want[i].size),
                 ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = %lld AND kind = '%s'", want[i].size,
                          want[i].kind),
                 want[i].rows);
    ft_expect_eq(ft_fmt("freed rows of size %lld", want[i].size),
                 ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = %lld AND t_free_ns IS NOT NULL",
                          want[i].size),
                 want[i].freed);
  }
  /* Leaks are exactly the program's three. */
  assert_string_equal(ft_q_str(d, "SELECT group_concat(kind || ':' || size, ',') FROM (SELECT kind, size FROM "
                                  "allocations WHERE t_free_ns IS NULL AND size IN (" KINDS_SIZES
                                  ") ORDER BY size)"),
                      "calloc:777,memalign:2003,malloc:4321");
  /* Every freed row: free after alloc, freed by this thread, lifetime consistent. */
  ft_expect_eq("rows freed before allocated",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns < t_alloc_ns OR lifetime_ns < 0"), 0);
  ft_expect_eq("freed rows without free_tid",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns IS NOT NULL AND free_tid IS NULL"), 0);
  ft_expect_eq("rows freed by another thread",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE free_tid IS NOT NULL AND free_tid != tid"), 0);
  ft_expect_eq("live rows with a free_tid",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE t_free_ns IS NULL AND free_tid IS NOT NULL"), 0);
  ft_expect_eq("rows without a stack", ft_q_int(d, "SELECT count(*) FROM allocations WHERE stack_id IS NULL"), 0);
  ft_expect_eq("rows of another pid", ft_q_int(d, "SELECT count(*) FROM allocations WHERE pid != %lld", pid), 0);

  /* The realloc chain: malloc 17 -> realloc 1017 -> realloc 100017 -> free. */
  long long id0 = ft_q_int(d, "SELECT id FROM allocations WHERE address = %lld AND size = 17 AND kind = 'malloc'", chain0);
  long long id1 = ft_q_int(d, "SELECT id FROM allocations WHERE address = %lld AND size = 1017 AND kind = 'realloc'", chain1);
  long long id2 = ft_q_int(d, "SELECT id FROM allocations WHERE address = %lld AND size = 100017 AND kind = 'realloc'", chain2);
  ft_expect_true("chain rows in allocation order", id0 < id1 && id1 < id2);
  for (int i = 0; i < 2; i++) {
    long long old = i ? id1 : id0, nw = i ? id2 : id1;
    ft_expect_eq(ft_fmt("chain row %d ended no later than row %d began", i, i + 1),
                 ft_q_int(d, "SELECT o.t_free_ns <= n.t_alloc_ns FROM allocations o, allocations n "
                             "WHERE o.id = %lld AND n.id = %lld", old, nw), 1);
    ft_expect_eq(ft_fmt("chain row %d free_tid", i),
                 ft_q_int(d, "SELECT free_tid FROM allocations WHERE id = %lld", old), pid);
  }
  ft_expect_eq("chain end freed",
               ft_q_int(d, "SELECT t_free_ns IS NOT NULL FROM allocations WHERE id = %lld", id2), 1);
  ft_expect_eq("chain rows share the program's thread",
               ft_q_int(d, "SELECT count(DISTINCT tid) FROM allocations WHERE id IN (%lld,%lld,%lld)", id0, id1, id2), 1);

  /* reallocarray: NULL -> 3003 -> 5005. */
  ft_expect_eq("reallocarray old row ended before the new one",
               ft_q_int(d, "SELECT o.t_free_ns <= n.t_alloc_ns AND o.id < n.id FROM allocations o, allocations n "
                           "WHERE o.size = 3003 AND n.size = 5005"), 1);
  /* realloc(p, 0) frees p and makes no row. */
  ft_expect_eq("realloc rows of size 0",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'realloc' AND size = 0"), 0);

  /* Failed calls record nothing; big blocks are malloc rows, not mappings. */
  ft_expect_eq("rows of impossible sizes",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size > 1099511627776 OR size < 0"), 0);
  ft_expect_eq("mmap rows (libc's own mappings are not the program's)",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE kind = 'mmap'"), 0);
  ft_expect_eq("rows of size 100 (failed posix_memalign)",
               ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = 100 AND kind = 'memalign'"), 0);

  /* The aligned allocators honour their alignment (the trace has the real address). */
  ft_expect_eq("posix_memalign 64", ft_q_int(d, "SELECT address %% 64 FROM allocations WHERE size = 2001"), 0);
  ft_expect_eq("aligned_alloc 256", ft_q_int(d, "SELECT address %% 256 FROM allocations WHERE size = 2002"), 0);
  ft_expect_eq("memalign 512", ft_q_int(d, "SELECT address %% 512 FROM allocations WHERE size = 2003"), 0);
  ft_expect_eq("valloc page",
               ft_q_int(d, "SELECT a.address %% p.page_size FROM allocations a, processes p WHERE a.size = 2004"), 0);
  ft_expect_eq("pvalloc page",
               ft_q_int(d, "SELECT a.address %% p.page_size FROM allocations a, processes p WHERE a.size = 2005"), 0);

  /* The ten 5555-byte blocks: one stack, each live until the free loop. */
  ft_expect_eq("stacks of the 5555 rows",
               ft_q_int(d, "SELECT count(DISTINCT stack_id) FROM allocations WHERE size = 5555"), 1);
  ft_expect_eq("5555 rows all allocated before the first was freed",
               ft_q_int(d, "SELECT max(t_alloc_ns) <= min(t_free_ns) FROM allocations WHERE size = 5555"), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

static void test_call_site(void **state) {
  (void)state;
  const char *db = ft_tmp_path("callsite.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("callsite")));
  ft_expect_status(&r, 0);
  long long line = ft_kv(r.out, "line"), size = ft_kv(r.out, "size");
  char exe[PATH_MAX];
  assert_non_null(realpath(ft_prog("callsite"), exe));

  sqlite3 *d = ft_db_open(db);
  ft_expect_eq("rows of the leak", ft_q_int(d, "SELECT count(*) FROM allocations WHERE size = %lld", size), 1);
  long long sid = ft_q_int(d, "SELECT stack_id FROM allocations WHERE size = %lld", size);
  const char *where = ft_fmt("stack_id = %lld AND depth = 0", sid);
  if (strcmp(ft_q_str(d, "SELECT function FROM call_sites WHERE %s", where), "leak_here") != 0)
    ft_q_dump(d, "SELECT * FROM call_sites WHERE stack_id = %lld ORDER BY depth", sid);
  assert_string_equal(ft_q_str(d, "SELECT function FROM call_sites WHERE %s", where), "leak_here");
  const char *file = ft_q_str(d, "SELECT file FROM call_sites WHERE %s", where);
  static const char tail[] = "/tests/progs/callsite.c";
  size_t fl = strlen(file), tl = sizeof tail - 1;
  ft_expect_true(ft_fmt("file '%s' ends in %s", file, tail), fl >= tl && strcmp(file + fl - tl, tail) == 0);
  ft_expect_eq("line", ft_q_int(d, "SELECT line FROM call_sites WHERE %s", where), line);
  assert_string_equal(ft_q_str(d, "SELECT module FROM call_sites WHERE %s", where), exe);
  /* The caller of leak_here is main, in the same file. */
  assert_string_equal(ft_q_str(d, "SELECT function FROM call_sites WHERE stack_id = %lld AND depth = 1", sid),
                      "main");
  ft_expect_eq("stacks.depth = number of frames",
               ft_q_int(d, "SELECT s.depth = (SELECT count(*) FROM stack_frames f WHERE f.stack_id = s.stack_id) "
                           "FROM stacks s WHERE s.stack_id = %lld", sid), 1);
  sqlite3_close(d);
  ft_run_free(&r);
}

/* 4096 distinct stacks from two threads (tests/progs/paths.c): each stack
** is stored once, and its frames spell the n of its allocation (10000 + n
** bytes): frame 2k+1 is path_b when bit k of n is set, else path_a. */
static void test_many_stacks(void **state) {
  (void)state;
  const char *db = ft_tmp_path("paths.db");
  ft_run r;
  ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("paths")));
  ft_expect_status(&r, 0);
  ft_expect_no_stderr(&r);
  sqlite3 *d = ft_db_open(db);
  const char *rows = "allocations a WHERE a.size BETWEEN 10000 AND 14095";
  const char *frames = "allocations a JOIN call_sites c ON c.stack_id = a.stack_id WHERE a.size BETWEEN 10000 AND 14095";
  ft_expect_eq("rows", ft_q_int(d, "SELECT count(*) FROM %s", rows), 8192);
  ft_expect_eq("distinct sizes", ft_q_int(d, "SELECT count(DISTINCT size) FROM %s", rows), 4096);
  ft_expect_eq("distinct stacks", ft_q_int(d, "SELECT count(DISTINCT stack_id) FROM %s", rows), 4096);
  ft_expect_eq("sizes whose two rows share a stack",
               ft_q_int(d, "SELECT count(*) FROM (SELECT size FROM %s GROUP BY size HAVING count(DISTINCT stack_id) = 1 "
                           "AND count(DISTINCT tid) = 2)", rows), 4096);
  ft_expect_eq("stacks stored once",
               ft_q_int(d, "SELECT count(*) FROM stacks WHERE stack_id IN (SELECT stack_id FROM %s)", rows), 4096);
  ft_expect_eq("one depth for all of them",
               ft_q_int(d, "SELECT count(DISTINCT s.depth) FROM stacks s WHERE s.stack_id IN (SELECT stack_id FROM %s)",
                        rows), 1);
  ft_expect_eq("step frames (even depths up to 24)",
               ft_q_int(d, "SELECT count(*) FROM %s "
                           "AND c.depth %% 2 = 0 AND c.depth <= 24 AND c.function = 'step'", frames), 8192 * 13);
  ft_expect_eq("path frames that disagree with the size's bits",
               ft_q_int(d, "SELECT count(*) FROM %s "
                           "AND c.depth %% 2 = 1 AND c.depth < 24 AND c.function IS NOT "
                           "(CASE WHEN ((a.size - 10000) >> ((c.depth - 1) / 2)) & 1 THEN 'path_b' ELSE 'path_a' END)",
                        frames), 0);
  ft_expect_eq("path frames", ft_q_int(d, "SELECT count(*) FROM %s "
                                          "AND c.depth %% 2 = 1 AND c.depth < 24", frames), 8192 * 12);
  ft_expect_eq("thread_main at depth 25",
               ft_q_int(d, "SELECT count(*) FROM %s "
                           "AND c.depth = 25 AND c.function = 'thread_main'", frames), 8192);
  sqlite3_close(d);
  ft_remove(db);
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),
      cmocka_unit_test(test_call_site),
      cmocka_unit_test(test_many_stacks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
