/*
** test_procparse.c — the /proc parsers on fixtures from several kernels and
** architectures (tests/fixtures/), asserting exact values, plus the malformed
** and edge-case inputs the parsers must reject or tolerate.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ft_procparse.h"

/* Read tests/fixtures/<name> into a malloc'd buffer (not NUL-terminated on
** purpose: the parsers take a length). */
static char *ft_read_fixture(const char *name, size_t *len) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", FT_FIXTURES, name);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  assert_true(n >= 0);
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static int ft_parse_str(const char *s, ft_buddy_row *rows, int max) {
  return ft_parse_buddyinfo(s, strlen(s), rows, max);
}

/* ---- buddyinfo ------------------------------------------------------------ */

static void test_buddy_x86_64(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("buddyinfo_x86_64.txt", &len);
  ft_buddy_row r[8];
  assert_int_equal(ft_parse_buddyinfo(t, len, r, 8), 3);
  assert_int_equal(r[0].node, 0);
  assert_string_equal(r[0].zone, "DMA");
  assert_int_equal(r[0].norders, 11);
  assert_int_equal(r[0].free_blocks[0], 0);
  assert_int_equal(r[0].free_blocks[8], 1);
  assert_int_equal(r[0].free_blocks[10], 3);
  assert_string_equal(r[1].zone, "DMA32");
  assert_int_equal(r[1].norders, 11);
  assert_int_equal(r[1].free_blocks[0], 1);
  assert_int_equal(r[1].free_blocks[10], 752);
  assert_string_equal(r[2].zone, "Normal");
  assert_int_equal(r[2].norders, 11);
  assert_int_equal(r[2].free_blocks[0], 514);
  assert_int_equal(r[2].free_blocks[1], 381);
  assert_int_equal(r[2].free_blocks[10], 191);
  free(t);
}

static void test_buddy_arm64_64k(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("buddyinfo_arm64_64k.txt", &len);
  ft_buddy_row r[4];
  assert_int_equal(ft_parse_buddyinfo(t, len, r, 4), 2);
  assert_int_equal(r[0].node, 0);
  assert_string_equal(r[0].zone, "DMA");
  assert_int_equal(r[0].norders, 14);
  assert_int_equal(r[0].free_blocks[0], 1411);
  assert_int_equal(r[0].free_blocks[12], 0);
  assert_int_equal(r[0].free_blocks[13], 3);
  assert_string_equal(r[1].zone, "Normal");
  assert_int_equal(r[1].norders, 14);
  assert_int_equal(r[1].free_blocks[0], 23151);
  assert_int_equal(r[1].free_blocks[11], 2);
  assert_int_equal(r[1].free_blocks[13], 41);
  assert_int_equal(r[1].free_blocks[14], 0); /* beyond norders: zeroed */
  free(t);
}

static void test_buddy_numa2(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("buddyinfo_numa2.txt", &len);
  ft_buddy_row r[8];
  assert_int_equal(ft_parse_buddyinfo(t, len, r, 8), 5);
  const int nodes[5] = {0, 0, 0, 1, 1};
  const char *zones[5] = {"DMA", "DMA32", "Normal", "Normal", "Movable"};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(r[i].node, nodes[i]);
    assert_string_equal(r[i].zone, zones[i]);
    assert_int_equal(r[i].norders, 11);
  }
  assert_int_equal(r[2].free_blocks[0], 31288);
  assert_int_equal(r[2].free_blocks[10], 2210);
  assert_int_equal(r[3].free_blocks[0], 19022);
  assert_int_equal(r[3].free_blocks[9], 3);
  assert_int_equal(r[3].free_blocks[10], 3998);
  assert_int_equal(r[4].free_blocks[0], 0);
  assert_int_equal(r[4].free_blocks[2], 1);
  assert_int_equal(r[4].free_blocks[10], 512);
  free(t);
}

static void test_buddy_zeros(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("buddyinfo_zeros.txt", &len);
  ft_buddy_row r[4];
  assert_int_equal(ft_parse_buddyinfo(t, len, r, 4), 3);
  for (int z = 0; z < 2; z++) {
    assert_int_equal(r[z].norders, 11);
    for (int o = 0; o < 11; o++) assert_int_equal(r[z].free_blocks[o], 0);
  }
  assert_string_equal(r[1].zone, "DMA32");
  assert_string_equal(r[2].zone, "Normal");
  assert_int_equal(r[2].free_blocks[0], 12);
  assert_int_equal(r[2].free_blocks[3], 1);
  assert_int_equal(r[2].free_blocks[4], 0);
  free(t);
}

static void test_buddy_malformed_fixture(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("buddyinfo_malformed.txt", &len);
  ft_buddy_row r[4];
  assert_int_equal(ft_parse_buddyinfo(t, len, r, 4), -1);
  free(t);
}

static void test_buddy_edges(void **state) {
  (void)state;
  ft_buddy_row r[4];

  /* No final newline, a blank final line, trailing spaces, tabs. */
  assert_int_equal(ft_parse_str("Node 0, zone   Normal    284    320", r, 4), 1);
  assert_int_equal(r[0].norders, 2);
  assert_int_equal(r[0].free_blocks[1], 320);
  assert_int_equal(ft_parse_str("Node 0, zone   Normal    284    320 \n\n", r, 4), 1);
  assert_int_equal(ft_parse_str("Node 0, zone   Normal    284    320    \n  \n", r, 4), 1);
  assert_int_equal(ft_parse_str("Node 3,\tzone\tNormal\t7\t8\n", r, 4), 1);
  assert_int_equal(r[0].node, 3);
  assert_int_equal(r[0].free_blocks[1], 8);

  /* Zone names of any case and length (up to the buffer). */
  assert_int_equal(ft_parse_str("Node 0, zone normal 1\nNode 0, zone HighMem 2\n", r, 4), 2);
  assert_string_equal(r[0].zone, "normal");
  assert_string_equal(r[1].zone, "HighMem");

  /* Counts wider than the %6lu padding, up to 64 bits. */
  assert_int_equal(ft_parse_str("Node 12, zone Normal 1234567 18446744073709551615\n", r, 4), 1);
  assert_int_equal(r[0].node, 12);
  assert_int_equal(r[0].free_blocks[0], 1234567);
  assert_true(r[0].free_blocks[1] == UINT64_MAX);

  /* Exactly FT_MAX_ORDERS counts is fine; one more is not. */
  char line[1024];
  int n = snprintf(line, sizeof line, "Node 0, zone Normal");
  for (int i = 0; i < FT_MAX_ORDERS; i++) n += snprintf(line + n, sizeof line - (size_t)n, " %d", i);
  assert_int_equal(ft_parse_str(line, r, 4), 1);
  assert_int_equal(r[0].norders, FT_MAX_ORDERS);
  assert_int_equal(r[0].free_blocks[FT_MAX_ORDERS - 1], FT_MAX_ORDERS - 1);
  snprintf(line + n, sizeof line - (size_t)n, " 99");
  assert_int_equal(ft_parse_str(line, r, 4), -1);

  /* Rows beyond max_rows are counted, not stored; rows may be NULL then. */
  memset(r, 0x5a, sizeof r);
  assert_int_equal(ft_parse_str("Node 0, zone A 1\nNode 0, zone B 2\nNode 0, zone C 3\n", r, 1), 3);
  assert_string_equal(r[0].zone, "A");
  assert_int_equal((unsigned char)r[1].zone[0], 0x5a);
  assert_int_equal(ft_parse_str("Node 0, zone A 1\nNode 0, zone B 2\n", NULL, 0), 2);
  /* ...but they are still validated. */
  assert_int_equal(ft_parse_str("Node 0, zone A 1\nNode 0, zone B x\n", r, 1), -1);

  /* Empty input, and a NUL ending the text before len. */
  assert_int_equal(ft_parse_buddyinfo("", 0, r, 4), 0);
  assert_int_equal(ft_parse_buddyinfo("\n", 1, r, 4), 0);
  assert_int_equal(ft_parse_buddyinfo("Node 0, zone A 1\n\0garbage", 26, r, 4), 1);

  /* Malformed lines. */
  const char *bad[] = {
    "Node 0, zone Normal\n",                 /* no counts */
    "Node 0, zone\n",                        /* no zone */
    "Node 0, zone 1 2 3\n",                  /* zone missing, counts shifted */
    "Node 0 zone Normal 1 2\n",              /* no comma */
    "Node x, zone Normal 1 2\n",             /* bad node */
    "Node -1, zone Normal 1 2\n",            /* negative node */
    "node 0, zone Normal 1 2\n",             /* not the kernel's word */
    "Node 0, zone Normal 1 -2\n",            /* signed count */
    "Node 0, zone Normal 1 +2\n",
    "Node 0, zone Normal 1 0x2\n",
    "Node 0, zone Normal 1 2.5\n",
    "Node 0, zone Normal 1 18446744073709551616\n", /* 2^64 */
    "Node 0, zone Normal 1 2\nNode 0, zone DMA 4 five\n",
    "Node 0, zone ThisZoneNameIsFarTooLongForTheBuffer 1\n",
    "Node 0, zone Normal 1 2\ngarbage\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (ft_parse_str(bad[i], r, 4) != -1) fail_msg("accepted malformed buddyinfo: %s", bad[i]);
  }
}

/* ---- statm ---------------------------------------------------------------- */

static void test_statm(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("statm_x86_64.txt", &len);
  uint64_t size = 0, rss = 0;
  assert_int_equal(ft_parse_statm(t, len, &size, &rss), 0);
  assert_int_equal(size, 622);
  assert_int_equal(rss, 326);
  free(t);

  const char *ok = "4294967296 1 2 3 0 5 0";
  assert_int_equal(ft_parse_statm(ok, strlen(ok), &size, &rss), 0);
  assert_true(size == 4294967296ULL);
  assert_int_equal(rss, 1);

  const char *bad[] = {
    "", "\n", "622 326", "622 326 299 1 0 89",   /* truncated reads */
    "622 326 299 1 0 89 0 7",                      /* extra field */
    "622 3x6 299 1 0 89 0", "-622 326 299 1 0 89 0",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (ft_parse_statm(bad[i], strlen(bad[i]), &size, &rss) != -1)
      fail_msg("accepted malformed statm: '%s'", bad[i]);
  }
}

/* ---- maps ----------------------------------------------------------------- */

static int ft_path_is(const ft_map_entry *e, const char *s) {
  return e->path != NULL && e->path_len == strlen(s) && memcmp(e->path, s, e->path_len) == 0;
}

static void test_maps_fixture(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("maps_x86_64.txt", &len);
  ft_map_entry e[64];
  int n = 0;
  for (const char *p = t; p < t + len;) {
    const char *nl = memchr(p, '\n', (size_t)(t + len - p));
    assert_non_null(nl);
    assert_true(n < 64);
    if (ft_parse_maps_line(p, (size_t)(nl - p), &e[n]) != 0)
      fail_msg("rejected maps line %d: %.*s", n + 1, (int)(nl - p), p);
    n++;
    p = nl + 1;
  }
  assert_int_equal(n, 26);

  /* 55b4b9ee7000-55b4b9ee8000 r--p 00000000 fe:00 10952895  /tmp/ftcap/cap */
  assert_true(e[0].start == 0x55b4b9ee7000ULL);
  assert_true(e[0].end == 0x55b4b9ee8000ULL);
  assert_string_equal(e[0].perms, "r--p");
  assert_int_equal(e[0].offset, 0);
  assert_int_equal(e[0].inode, 10952895);
  assert_true(ft_path_is(&e[0], "/tmp/ftcap/cap"));
  /* the text segment */
  assert_string_equal(e[1].perms, "r-xp");
  assert_int_equal(e[1].offset, 0x1000);
  /* [heap] */
  assert_true(ft_path_is(&e[5], "[heap]"));
  assert_string_equal(e[5].perms, "rw-p");
  assert_int_equal(e[5].inode, 0);
  /* anonymous: the line ends in "0 " */
  assert_true(e[6].start == 0x7f7eefd13000ULL);
  assert_null(e[6].path);
  assert_int_equal(e[6].path_len, 0);
  /* libc text */
  assert_string_equal(e[8].perms, "r-xp");
  assert_int_equal(e[8].offset, 0x26000);
  assert_true(ft_path_is(&e[8], "/usr/lib/x86_64-linux-gnu/libc.so.6"));
  /* a shared mapping of an unlinked file keeps " (deleted)" */
  assert_string_equal(e[13].perms, "rw-s");
  assert_true(ft_path_is(&e[13], "/tmp/ftcap/scratch.bin (deleted)"));
  /* spaces in the path */
  assert_string_equal(e[14].perms, "r--s");
  assert_true(ft_path_is(&e[14], "/tmp/ftcap/my data/table v2.bin"));
  assert_int_equal(e[14].inode, 10952893);
  /* [vdso] */
  assert_string_equal(e[18].perms, "r-xp");
  assert_true(ft_path_is(&e[18], "[vdso]"));
  /* [vsyscall], above 2^63 */
  assert_true(e[25].start == 0xffffffffff600000ULL);
  assert_true(e[25].end == 0xffffffffff601000ULL);
  assert_string_equal(e[25].perms, "--xp");
  assert_true(ft_path_is(&e[25], "[vsyscall]"));
  free(t);
}

static void test_maps_edges(void **state) {
  (void)state;
  ft_map_entry e;
  /* With its newline, and with the short 32-bit widths. */
  const char *l1 = "08048000-08049000 r-xp 00000000 08:01 1234       /bin/a b\n";
  assert_int_equal(ft_parse_maps_line(l1, strlen(l1), &e), 0);
  assert_true(e.start == 0x08048000 && e.end == 0x08049000);
  assert_true(ft_path_is(&e, "/bin/a b"));
  /* Anonymous without the trailing space; major:minor wider than 2 digits. */
  const char *l2 = "7f0000000000-7f0000001000 ---p 00000000 103:02 0";
  assert_int_equal(ft_parse_maps_line(l2, strlen(l2), &e), 0);
  assert_string_equal(e.perms, "---p");
  assert_null(e.path);
  /* memfd names */
  const char *l3 = "7f0000000000-7f0000001000 rw-s 00000000 00:01 2051 /memfd:ft ring (deleted)";
  assert_int_equal(ft_parse_maps_line(l3, strlen(l3), &e), 0);
  assert_true(ft_path_is(&e, "/memfd:ft ring (deleted)"));
  /* len shorter than the string: only the first len bytes count. */
  assert_int_equal(ft_parse_maps_line(l1, (size_t)(strchr(l1, '/') - l1) + 4, &e), 0);
  assert_true(ft_path_is(&e, "/bin"));

  const char *bad[] = {
    "",
    "08048000 r-xp 00000000 08:01 1234 /bin/a",            /* no range */
    "08048000-08049000 r-xp 00000000 08:01 /bin/a",         /* no inode */
    "08048000-08049000 rwzp 00000000 08:01 1234 /bin/a",    /* bad perms */
    "08048000-08049000 r-x 00000000 08:01 1234 /bin/a",     /* short perms */
    "08049000-08048000 r-xp 00000000 08:01 1234 /bin/a",    /* end < start */
    "0804g000-08049000 r-xp 00000000 08:01 1234 /bin/a",
    "08048000-08049000 r-xp 00000000 0801 1234 /bin/a",     /* bad dev */
    "08048000-08049000 r-xp 00000000 08:01 12x4 /bin/a",
    "08048000-08049000 r-xp",                               /* truncated */
    "123456789abcdef01-123456789abcdef02 r-xp 0 0:0 0",     /* > 64 bits */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (ft_parse_maps_line(bad[i], strlen(bad[i]), &e) != -1)
      fail_msg("accepted malformed maps line: '%s'", bad[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_buddy_x86_64),
    cmocka_unit_test(test_buddy_arm64_64k),
    cmocka_unit_test(test_buddy_numa2),
    cmocka_unit_test(test_buddy_zeros),
    cmocka_unit_test(test_buddy_malformed_fixture),
    cmocka_unit_test(test_buddy_edges),
    cmocka_unit_test(test_statm),
    cmocka_unit_test(test_maps_fixture),
    cmocka_unit_test(test_maps_edges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
