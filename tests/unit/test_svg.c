/*
** test_svg.c — reporter/ft_svg.c, the SVG toolkit of the HTML report:
** escaping (C++ names are full of < and >, symbol names need not be
** UTF-8), truncation by code points, tick labels in human units, and the
** shapes' structure (a NaN breaks a line, equal heat cells merge, a band
** is drawn only where it is open, a span is clamped to the plot).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "ft_svg.h"

/* A memory FILE and its text. */
typedef struct mem {
  char *s;
  size_t n;
  FILE *f;
} mem;

static void mem_open(mem *m) {
  m->s = NULL;
  m->n = 0;
  m->f = open_memstream(&m->s, &m->n);
  assert_non_null(m->f);
}

static const char *mem_text(mem *m) {
  fflush(m->f);
  return m->s;
}

static void mem_close(mem *m) {
  fclose(m->f);
  free(m->s);
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

static void test_escape(void **state) {
  (void)state;
  mem m;
  mem_open(&m);
  ft_html_esc(m.f, "std::vector<int>::push_back(x) && a=\"b\" 'c'");
  assert_string_equal(mem_text(&m), "std::vector&lt;int&gt;::push_back(x) &amp;&amp; a=&quot;b&quot; &#39;c&#39;");
  mem_close(&m);
  /* Invalid UTF-8 (a stray continuation byte, an overlong '/', a lone
  ** surrogate) becomes U+FFFD per byte; valid multi-byte text passes;
  ** control characters become spaces. */
  mem_open(&m);
  ft_html_esc(m.f, "a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d µs\x01\n");
  assert_string_equal(mem_text(&m), "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                                    "d µs  ");
  mem_close(&m);
  mem_open(&m);
  ft_html_esc(m.f, NULL);
  assert_string_equal(mem_text(&m) ? mem_text(&m) : "", "");
  mem_close(&m);
}

static void test_truncate(void **state) {
  (void)state;
  static const struct {
    const char *in;
    size_t max;
    const char *want;
  } cases[] = {
      {"abcdef", 3, "abc…"}, {"abc", 3, "abc"}, {"µµµµ", 2, "µµ…"}, {"a<b", 2, "a&lt;…"}, {"", 0, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mem m;
    mem_open(&m);
    ft_html_esc_trunc(m.f, cases[i].in, cases[i].max);
    const char *got = mem_text(&m);
    if (strcmp(got ? got : "", cases[i].want) != 0)
      fail_msg("truncating \"%s\" to %zu: got \"%s\", expected \"%s\"", cases[i].in, cases[i].max, got, cases[i].want);
    mem_close(&m);
  }
}

static void test_ticks(void **state) {
  (void)state;
  char b[64];
  assert_string_equal(ft_svg_tick_label(b, sizeof b, 2 * 1048576.0, 1048576.0, FT_SVG_BYTES), "2 MiB");
  assert_string_equal(ft_svg_tick_label(b, sizeof b, 1.5 * 1048576.0, 0.5 * 1048576.0, FT_SVG_BYTES), "1.5 MiB");
  assert_string_equal(ft_svg_tick_label(b, sizeof b, 1.5e6, 5e5, FT_SVG_NS), "1.5 ms");
  assert_string_equal(ft_svg_tick_label(b, sizeof b, 5e5, 5e5, FT_SVG_NS), "500 µs");
  assert_string_equal(ft_svg_tick_label(b, sizeof b, 0, 2e9, FT_SVG_NS), "0 s");
  assert_string_equal(ft_svg_tick_label(b, sizeof b, 250000, 50000, FT_SVG_COUNT), "250k");
}

static void test_shapes(void **state) {
  (void)state;
  mem m;
  mem_open(&m);
  ft_svg_plot p = {.out = m.f, .width = 100, .height = 50, .left = 10, .right = 0, .top = 0, .bottom = 10,
                   .x0 = 0, .x1 = 3, .y0 = 0, .y1 = 4};
  /* A NaN breaks the line: two subpaths in one path. */
  double x[] = {0, 1, 2, 3}, y[] = {1, NAN, 2, 3};
  ft_svg_line(&p, x, y, 4, 0, "live");
  const char *t = mem_text(&m);
  assert_int_equal(count(t, "<path class=\"live\""), 1);
  assert_int_equal(count(t, "M"), 2);
  /* Data to viewBox: the plot area is x 10..100, y 0..40 (top down). */
  assert_true(fabs(ft_svg_x(&p, 0) - 10) < 1e-9 && fabs(ft_svg_x(&p, 3) - 100) < 1e-9);
  assert_true(fabs(ft_svg_y(&p, 0) - 40) < 1e-9 && fabs(ft_svg_y(&p, 4) - 0) < 1e-9);
  assert_true(fabs(ft_svg_y(&p, 99) - 0) < 1e-9); /* clamped */
  mem_close(&m);

  /* Heat: equal neighbours merge, a negative cell is not drawn. */
  mem_open(&m);
  p.out = m.f;
  double edges[] = {0, 1, 2, 3, 4}, v[] = {0, 0.01, 0.5, -1};
  p.x1 = 4;
  ft_svg_heat(&p, edges, 4, v, 1, 20, NULL);
  assert_int_equal(count(mem_text(&m), "<rect"), 2);
  mem_close(&m);

  /* Band: drawn in the runs where hi > lo, one path each. */
  mem_open(&m);
  p.out = m.f;
  double bx[] = {0, 1, 2, 3, 4}, lo[] = {1, 1, 1, 1, 1}, hi[] = {2, 3, 1, 2, 2};
  ft_svg_band(&p, bx, lo, hi, 5, "gap", "tip <1>");
  t = mem_text(&m);
  assert_int_equal(count(t, "<g class=\"gap\">"), 1);
  assert_int_equal(count(t, "<path d="), 2);
  assert_non_null(strstr(t, "<title>tip &lt;1&gt;</title>"));
  mem_close(&m);

  /* Span: clamped to the plot, a rect the plot's height, a label where it fits. */
  mem_open(&m);
  p.out = m.f;
  p.x0 = 0, p.x1 = 3; /* x 10..100: 30 per unit */
  ft_svg_vspan(&p, 1, 9, "paused", "paused", "from 1 to <9>");
  t = mem_text(&m);
  assert_non_null(strstr(t, "<g class=\"paused\"><title>from 1 to &lt;9&gt;</title>"
                            "<rect x=\"40.0\" y=\"0.0\" width=\"60.0\" height=\"40.0\"/>"
                            "<text x=\"43.0\" y=\"36.0\">paused</text></g>\n"));
  mem_close(&m);
  mem_open(&m);
  p.out = m.f;
  ft_svg_vspan(&p, 2.9, 3.0, "paused", "too narrow", NULL); /* 3 units wide: no label */
  ft_svg_vspan(&p, 5, 7, "paused", NULL, NULL);           /* right of the plot: nothing */
  ft_svg_vspan(&p, 2, 2, "paused", NULL, NULL);           /* empty: nothing */
  t = mem_text(&m);
  assert_int_equal(count(t, "<rect"), 1);
  assert_int_equal(count(t, "<text"), 0);
  mem_close(&m);

  /* Nothing open: nothing drawn. */
  mem_open(&m);
  p.out = m.f;
  ft_svg_band(&p, bx, hi, lo, 2, "gap", NULL);
  assert_true(mem_text(&m) == NULL || mem_text(&m)[0] == 0);
  mem_close(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape),
      cmocka_unit_test(test_truncate),
      cmocka_unit_test(test_ticks),
      cmocka_unit_test(test_shapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
