/*
** test_fmt.c — reporter/ft_fmt.c (human units, the unit parsers, JSON
** escaping, tables) and the LSan-compatible suppression matcher of
** reporter/ft_report_supp.c.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ft_fmt.h"
#include "ft_report.h"

/* Run f(out) into a string (malloc'd). */
#define CAPTURE(var, code)                     \
  char *var = NULL;                            \
  do {                                         \
    size_t len_ = 0;                           \
    FILE *out = open_memstream(&var, &len_);   \
    assert_non_null(out);                      \
    code;                                      \
    fclose(out);                               \
  } while (0)

static void test_bytes(void **state) {
  (void)state;
  char b[FT_FMT_CAP];
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 0), "0 B");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 1023), "1023 B");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 1024), "1.0 KiB");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 1536), "1.5 KiB");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 1572864), "1.5 MiB");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 3.0 * 1073741824), "3.0 GiB");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, -2048), "-2.0 KiB");
  assert_string_equal(ft_fmt_bytes(b, sizeof b, 5.0 * 1125899906842624.0 * 1024), "5.0 EiB");
}

static void test_duration(void **state) {
  (void)state;
  char b[FT_FMT_CAP];
  assert_string_equal(ft_fmt_duration(b, sizeof b, 0), "0 ns");
  assert_string_equal(ft_fmt_duration(b, sizeof b, 850), "850 ns");
  assert_string_equal(ft_fmt_duration(b, sizeof b, 12500), "12.5 µs");
  assert_string_equal(ft_fmt_duration(b, sizeof b, 2.3e6), "2.3 ms");
  assert_string_equal(ft_fmt_duration(b, sizeof b, 1.5e9), "1.50 s");
  assert_string_equal(ft_fmt_duration(b, sizeof b, 120e9), "2.0 min");
  assert_string_equal(ft_fmt_duration(b, sizeof b, 5400e9), "1.5 h");
}

static void test_si_int_pct(void **state) {
  (void)state;
  char b[FT_FMT_CAP];
  assert_string_equal(ft_fmt_si(b, sizeof b, 950), "950");
  assert_string_equal(ft_fmt_si(b, sizeof b, 12.5), "12.5");
  assert_string_equal(ft_fmt_si(b, sizeof b, 12300), "12.3k");
  assert_string_equal(ft_fmt_si(b, sizeof b, 1.2e6), "1.2M");
  assert_string_equal(ft_fmt_si(b, sizeof b, 4e9), "4.0G");
  assert_string_equal(ft_fmt_int(b, sizeof b, 0), "0");
  assert_string_equal(ft_fmt_int(b, sizeof b, 999), "999");
  assert_string_equal(ft_fmt_int(b, sizeof b, 1000), "1,000");
  assert_string_equal(ft_fmt_int(b, sizeof b, 1234567), "1,234,567");
  assert_string_equal(ft_fmt_int(b, sizeof b, -1234567), "-1,234,567");
  assert_string_equal(ft_fmt_int(b, sizeof b, INT64_MIN), "-9,223,372,036,854,775,808");
  assert_string_equal(ft_fmt_pct(b, sizeof b, 0), "0%");
  assert_string_equal(ft_fmt_pct(b, sizeof b, 100), "100%");
  assert_string_equal(ft_fmt_pct(b, sizeof b, 12.54), "12.5%");
}

static void test_parse_duration(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int64_t ns;
  } ok[] = {{"0", 0},           {"250ms", 250000000}, {"2s", 2000000000}, {"1.5s", 1500000000},
            {"100us", 100000},  {"100µs", 100000},    {"7ns", 7},         {"2min", 120000000000LL}, {"10m", 600000000000LL},
            {"1h", 3600000000000LL}, {"0.5ms", 500000}, {".5s", 500000000}, {"0s", 0}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int64_t v = -1;
    if (ft_parse_duration(ok[i].in, &v) != 0) fail_msg("'%s' rejected", ok[i].in);
    if (v != ok[i].ns) fail_msg("'%s': %lld, expected %lld", ok[i].in, (long long)v, (long long)ok[i].ns);
  }
  static const char *const bad[] = {"", "5", "ms", "-1s", "1.5", "1 s", "1sec", "1e3ms", "nan", "inf", "1s ",
                                    "0x10ms", "99999999999999h", NULL};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t v = 0;
    if (ft_parse_duration(bad[i], &v) == 0) fail_msg("'%s' accepted as %lld", bad[i] ? bad[i] : "NULL", (long long)v);
  }
}

static void test_parse_size(void **state) {
  (void)state;
  static const struct {
    const char *in;
    int64_t bytes;
  } ok[] = {{"0", 0},          {"4096", 4096},           {"4096B", 4096},        {"64MiB", 64LL << 20},
            {"64M", 64LL << 20}, {"64MB", 64000000},      {"1.5GiB", 3LL << 29},   {"1K", 1024},
            {"1k", 1024},      {"1KB", 1000},           {"2TiB", 2LL << 40},     {"0.5KiB", 512}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int64_t v = -1;
    if (ft_parse_size(ok[i].in, &v) != 0) fail_msg("'%s' rejected", ok[i].in);
    if (v != ok[i].bytes) fail_msg("'%s': %lld, expected %lld", ok[i].in, (long long)v, (long long)ok[i].bytes);
  }
  static const char *const bad[] = {"", "MiB", "-1", "12 MiB", "12X", "1e6", "99999999999TiB", NULL};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int64_t v = 0;
    if (ft_parse_size(bad[i], &v) == 0) fail_msg("'%s' accepted", bad[i] ? bad[i] : "NULL");
  }
}

static void test_parse_si_pct_int(void **state) {
  (void)state;
  double d;
  assert_int_equal(ft_parse_si("100000", &d), 0);
  assert_true(d == 100000);
  assert_int_equal(ft_parse_si("250k", &d), 0);
  assert_true(d == 250000);
  assert_int_equal(ft_parse_si("1.5M/s", &d), 0);
  assert_true(d == 1500000);
  assert_int_equal(ft_parse_si("2G", &d), 0);
  assert_true(d == 2e9);
  assert_int_equal(ft_parse_si("1x", &d), -1);
  assert_int_equal(ft_parse_si("", &d), -1);
  assert_int_equal(ft_parse_si("-5", &d), -1);
  assert_int_equal(ft_parse_pct("5", &d), 0);
  assert_true(d == 5);
  assert_int_equal(ft_parse_pct("12.5%", &d), 0);
  assert_true(d == 12.5);
  assert_int_equal(ft_parse_pct("100", &d), 0);
  assert_int_equal(ft_parse_pct("100.1", &d), -1);
  assert_int_equal(ft_parse_pct("5%%", &d), -1);
  int64_t v;
  assert_int_equal(ft_parse_int("0", &v), 0);
  assert_int_equal(ft_parse_int("9223372036854775807", &v), 0);
  assert_true(v == INT64_MAX);
  assert_int_equal(ft_parse_int("9223372036854775808", &v), -1);
  assert_int_equal(ft_parse_int("12a", &v), -1);
  assert_int_equal(ft_parse_int("", &v), -1);
  assert_int_equal(ft_parse_int("-1", &v), -1);
}

static void test_json(void **state) {
  (void)state;
  CAPTURE(s, {
    ft_json j;
    ft_json_init(&j, out);
    ft_json_object(&j, NULL);
    ft_json_str(&j, "s", "a\"b\\c\n\t\x01 é");
    ft_json_int(&j, "i", -42);
    ft_json_num(&j, "n", 0.5);
    ft_json_num(&j, "whole", 3.0);
    ft_json_num(&j, "inf", 1.0 / 0.0);
    ft_json_bool(&j, "b", 1);
    ft_json_null(&j, "z");
    ft_json_array(&j, "a");
    ft_json_int(&j, NULL, 1);
    ft_json_str(&j, NULL, NULL);
    ft_json_end(&j);
    ft_json_array(&j, "empty");
    ft_json_end(&j);
    ft_json_end(&j);
  });
  assert_string_equal(s, "{\n"
                         "  \"s\": \"a\\\"b\\\\c\\n\\t\\u0001 é\",\n"
                         "  \"i\": -42,\n"
                         "  \"n\": 0.5,\n"
                         "  \"whole\": 3,\n"
                         "  \"inf\": null,\n"
                         "  \"b\": true,\n"
                         "  \"z\": null,\n"
                         "  \"a\": [\n"
                         "    1,\n"
                         "    null\n"
                         "  ],\n"
                         "  \"empty\": []\n"
                         "}\n");
  free(s);
  /* Bytes that are not UTF-8 (a file name can hold anything) still give valid JSON. */
  CAPTURE(t, ft_json_write_string(out, "\xff\xc3(\xe2\x82\xac\xed\xa0\x80"));
  assert_string_equal(t, "\"\\ufffd\\ufffd(\xe2\x82\xac\\ufffd\\ufffd\\ufffd\"");
  free(t);
}

static void test_table(void **state) {
  (void)state;
  ft_table *t = ft_table_new(3, (const char *[]){"#", "bytes", "site"}, "rrl");
  assert_non_null(t);
  ft_table_row(t, (const char *[]){"1", "1.5 µs", "main (a.c:1)"});
  ft_table_row(t, (const char *[]){"10", "12 B", "f|g"});
  assert_int_equal(ft_table_rows(t), 2);
  CAPTURE(text, ft_table_print(t, out, FT_STYLE_TEXT, "  "));
  assert_string_equal(text, "   #   bytes  site\n"
                            "  ------------------------\n"
                            "   1  1.5 µs  main (a.c:1)\n"
                            "  10    12 B  f|g\n");
  free(text);
  CAPTURE(md, ft_table_print(t, out, FT_STYLE_MARKDOWN, NULL));
  assert_string_equal(md, "| # | bytes | site |\n"
                          "|---:|---:|---|\n"
                          "| 1 | 1.5 µs | main (a.c:1) |\n"
                          "| 10 | 12 B | f\\|g |\n");
  free(md);
  ft_table_free(t);
  assert_int_equal(ft_utf8_width("µs"), 2);
}

static void test_supp_match(void **state) {
  (void)state;
  static const struct {
    const char *pattern, *s;
    int match;
  } cases[] = {
      {"cache_fill", "cache_fill", 1},     {"cache", "my_cache_fill", 1},   {"^cache", "my_cache_fill", 0},
      {"^my_", "my_cache_fill", 1},        {"fill$", "my_cache_fill", 1},   {"cache$", "my_cache_fill", 0},
      {"^my_cache_fill$", "my_cache_fill", 1}, {"my*fill", "my_cache_fill", 1}, {"fill*my", "my_cache_fill", 0},
      {"*", "anything", 1},                {"libfoo.so", "/usr/lib/libfoo.so.1", 1}, {"x", "", 0},
      {"x", NULL, 0},                      {"cache*$", "cache_fill", 1},     {"a$", "aba", 0},
      {"^/usr/lib/*libz", "/usr/lib/x86_64-linux-gnu/libz.so.1", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    if (ft_supp_match(cases[i].pattern, cases[i].s) != cases[i].match)
      fail_msg("pattern '%s' on '%s': expected %d", cases[i].pattern, cases[i].s ? cases[i].s : "NULL", cases[i].match);
}

static void test_supp_file(void **state) {
  (void)state;
  char path[] = "/tmp/ft_supp_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("# LSan suppressions\n\n  leak:cache_fill  \nleak:^/usr/lib/\r\n", f);
  fclose(f);
  ft_report r;
  memset(&r, 0, sizeof r);
  char err[256];
  assert_int_equal(ft_supp_load(&r, path, err, sizeof err), 0);
  assert_int_equal(r.nsupp, 2);
  assert_string_equal(r.supp_patterns[0], "cache_fill");
  assert_string_equal(r.supp_patterns[1], "^/usr/lib/");
  /* A frame matches by function, file or module; the first suppression wins. */
  ft_frame frames[2] = {{0x10, "helper", "/src/a.c", 3, "/usr/lib/libx.so"}, {0x20, "cache_fill", "/src/b.c", 9, "/bin/p"}};
  ft_stack_info st = {.stack_id = 1, .nframes = 2, .frames = frames};
  assert_int_equal(ft_supp_find(&r, &st), 1); /* frame 0's module, before frame 1's function */
  frames[0].module = "/opt/libx.so";
  assert_int_equal(ft_supp_find(&r, &st), 0);
  frames[1].function = "other";
  assert_int_equal(ft_supp_find(&r, &st), -1);
  for (int i = 0; i < r.nsupp; i++) free(r.supp_patterns[i]);
  free(r.supp_patterns);
  free(r.supp_count);
  free(r.supp_bytes);
  /* Anything but leak: is an error naming the line. */
  f = fopen(path, "w");
  fputs("leak:ok\nrace:foo\n", f);
  fclose(f);
  memset(&r, 0, sizeof r);
  assert_int_equal(ft_supp_load(&r, path, err, sizeof err), -1);
  assert_non_null(strstr(err, ":2: "));
  for (int i = 0; i < r.nsupp; i++) free(r.supp_patterns[i]);
  free(r.supp_patterns);
  free(r.supp_count);
  free(r.supp_bytes);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bytes),          cmocka_unit_test(test_duration),     cmocka_unit_test(test_si_int_pct),
      cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_parse_size),   cmocka_unit_test(test_parse_si_pct_int),
      cmocka_unit_test(test_json),           cmocka_unit_test(test_table),        cmocka_unit_test(test_supp_match),
      cmocka_unit_test(test_supp_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
