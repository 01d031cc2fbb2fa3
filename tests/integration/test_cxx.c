/* test_cxx.c — C++ new/delete are recorded through libstdc++'s calls to
** malloc, and C++ call sites come out demangled with file:line. */
#include <string.h>

#include "ft_itest.h"

static void new_delete_and_vector_growth(void **state) {
  (void)state;
  ft_run r;
  const char *db = ft_tmp_path("cxx.db");
  ft_expect_status(&r, ft_record(&r, db, NULL, NULL, FT_ARGV(ft_prog("widgets"))));
  ft_expect_status(&r, 0);
  long long new_line = ft_kv(r.out, "new_line");
  sqlite3 *t = ft_db_open(db);
  /* sizeof(Widget) = 44: 100 news, 99 deletes, the 43rd one leaked. */
  ft_expect_eq("Widget allocations", ft_q_int(t, "SELECT count(*) FROM allocations WHERE size = 44"), 100);
  ft_expect_eq("Widget leaks", ft_q_int(t, "SELECT count(*) FROM allocations WHERE size = 44 AND t_free_ns IS NULL"), 1);
  /* std::vector<int> doubling to 1000 elements: 4, 8, ..., 4096 bytes, each
  ** freed when the next is made, the last freed at the end of main. */
  ft_expect_eq("vector buffers", ft_q_int(t, "SELECT count(*) FROM allocations WHERE size IN "
                                              "(4,8,16,32,64,128,256,512,1024,2048,4096) AND kind = 'malloc'"
                                              " AND t_free_ns IS NOT NULL AND stack_id IN (SELECT stack_id FROM"
                                              " call_sites WHERE function LIKE '%%vector%%')"),
               11);
  /* depth 0 is operator new in libstdc++; the caller is our demangled function. */
  const char *site = ft_q_str(t, "SELECT function FROM call_sites WHERE depth = 0 AND stack_id ="
                                 " (SELECT stack_id FROM allocations WHERE size = 44 LIMIT 1)");
  ft_expect_true("operator new at depth 0", strstr(site, "operator new") != NULL);
  ft_expect_eq("caller symbolized", ft_q_int(t, "SELECT count(*) FROM call_sites WHERE depth = 1 AND stack_id ="
                                                " (SELECT stack_id FROM allocations WHERE size = 44 LIMIT 1)"
                                                " AND function = 'shop::make_widget(int)'"
                                                " AND file LIKE '%%widgets.cpp' AND line = %lld", new_line),
               1);
  sqlite3_close(t);
  ft_run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(new_delete_and_vector_growth)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
