/*
** test_sites.c — reporter/ft_sites.c on a hand-made trace: which frame of a
** stack is its call site (allocation wrappers in libc, libstdc++'s operator
** new and --skip patterns are passed over), labels and cross-trace keys.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ft_db.h"
#include "ft_sites.h"

static sqlite3 *make_trace(void) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, ft_schema_v1_sql, NULL, NULL, NULL), SQLITE_OK);
  static const char rows[] =
      "INSERT INTO processes(proc, pid, start_unix_ns, page_size) VALUES (1, 100, 0, 4096);"
      /* 1: strdup in libc, through the user's xmalloc, from caller */
      "INSERT INTO stacks VALUES (1, 1, 3), (2, 1, 2), (3, 1, 1), (4, 1, 2), (5, 1, 1), (6, 1, 0);"
      "INSERT INTO stack_frames VALUES (1, 0, 4096), (1, 1, 4112), (1, 2, 4128),"
      /* 2: operator new in libstdc++, from Widget::make */
      " (2, 0, 8192), (2, 1, 8208),"
      /* 3: nothing known about the address */
      " (3, 0, 4660),"
      /* 4: only wrappers: the innermost frame stands for the site */
      " (4, 0, 4096), (4, 1, 12288),"
      /* 5: a function without line information */
      " (5, 0, 16384);"
      "INSERT INTO symbols VALUES"
      " (1, 100, 4096, 'strdup', NULL, NULL, '/usr/lib/x86_64-linux-gnu/libc.so.6'),"
      " (1, 100, 4112, 'my_xmalloc', '/src/util/a.c', 10, '/bin/prog'),"
      " (1, 100, 4128, 'caller', '/src/a.c', 20, '/bin/prog'),"
      " (1, 100, 8192, 'operator new(unsigned long)', NULL, NULL, '/usr/lib/x86_64-linux-gnu/libstdc++.so.6'),"
      " (1, 100, 8208, 'Widget::make()', '/src/w.cpp', 5, '/bin/prog'),"
      " (1, 100, 12288, 'malloc', NULL, NULL, '/usr/lib/libfragtrace.so'),"
      " (1, 100, 16384, 'plugin_init', NULL, NULL, '/opt/lib/libplugin.so');";
  char *msg = NULL;
  if (sqlite3_exec(db, rows, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s", msg);
  return db;
}

static void test_sites_default(void **state) {
  (void)state;
  sqlite3 *db = make_trace();
  char err[256];
  ft_sites *s = ft_sites_load(db, NULL, 0, err, sizeof err);
  assert_non_null(s);
  size_t n;
  const ft_stack_info *all = ft_sites_all(s, &n);
  assert_int_equal(n, 6);
  for (size_t i = 1; i < n; i++) assert_true(all[i - 1].stack_id < all[i].stack_id);
  const ft_stack_info *st = ft_sites_stack(s, 1);
  assert_int_equal(st->nframes, 3);
  assert_int_equal(st->site, 1); /* strdup in libc is a wrapper */
  assert_string_equal(st->label, "my_xmalloc (a.c:10)");
  assert_string_equal(st->key, "my_xmalloc|a.c:10");
  assert_string_equal(st->frames[2].function, "caller");
  assert_int_equal(st->frames[2].line, 20);
  st = ft_sites_stack(s, 2);
  assert_int_equal(st->site, 1);
  assert_string_equal(st->label, "Widget::make() (w.cpp:5)");
  st = ft_sites_stack(s, 3);
  assert_int_equal(st->site, 0);
  assert_string_equal(st->label, "0x1234");
  st = ft_sites_stack(s, 4);
  assert_int_equal(st->site, 0);
  assert_string_equal(st->label, "strdup (libc.so.6)");
  st = ft_sites_stack(s, 5);
  assert_string_equal(st->label, "plugin_init (libplugin.so)");
  assert_string_equal(st->key, "plugin_init|libplugin.so:0");
  st = ft_sites_stack(s, 6);
  assert_int_equal(st->nframes, 0);
  assert_string_equal(st->label, "(no stack)");
  assert_null(ft_sites_stack(s, 7));
  assert_null(ft_sites_stack(s, 0));
  /* Labels and keys are interned: equal strings are one pointer. */
  assert_ptr_equal(ft_sites_stack(s, 1)->frames[0].module, ft_sites_stack(s, 4)->frames[0].module);
  ft_sites_free(s);
  sqlite3_close(db);
}

static void test_sites_skip(void **state) {
  (void)state;
  sqlite3 *db = make_trace();
  char err[256];
  const char *const skip[] = {"my_x*", "Widget::*"};
  ft_sites *s = ft_sites_load(db, skip, 2, err, sizeof err);
  assert_non_null(s);
  const ft_stack_info *st = ft_sites_stack(s, 1);
  assert_int_equal(st->site, 2);
  assert_string_equal(st->label, "caller (a.c:20)");
  /* Everything skipped: the innermost frame stands for the site. */
  st = ft_sites_stack(s, 2);
  assert_int_equal(st->site, 0);
  ft_sites_free(s);
  sqlite3_close(db);
}

static void test_frame_helpers(void **state) {
  (void)state;
  char buf[128];
  ft_frame f = {0xabc, "f", "/x/y.c", 7, "/lib/m.so"};
  assert_string_equal(ft_frame_label(&f, buf, sizeof buf), "f (y.c:7)");
  f.line = 0;
  assert_string_equal(ft_frame_label(&f, buf, sizeof buf), "f (m.so)");
  f.function = NULL;
  assert_string_equal(ft_frame_label(&f, buf, sizeof buf), "0xabc (m.so)");
  assert_int_equal(ft_frame_is_wrapper(&(ft_frame){0, "malloc", NULL, 0, "/bin/p"}), 1);
  assert_int_equal(ft_frame_is_wrapper(&(ft_frame){0, "operator new[](unsigned long)", NULL, 0, NULL}), 1);
  assert_int_equal(ft_frame_is_wrapper(&(ft_frame){0, "xmalloc", NULL, 0, "/bin/p"}), 0);
  assert_int_equal(ft_frame_is_wrapper(&(ft_frame){0, "g_malloc", NULL, 0, "/usr/lib/libglib-2.0.so.0"}), 0);
  assert_int_equal(ft_frame_is_wrapper(&(ft_frame){0, NULL, NULL, 0, "/lib/x86_64-linux-gnu/libc.so.6"}), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sites_default),
      cmocka_unit_test(test_sites_skip),
      cmocka_unit_test(test_frame_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
