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


/* ---- the sampler's files (issue 4) ----------------------------------------- */

/* Find key in a meminfo/vmstat text; fails the test when absent. */
static uint64_t ft_kv_get(const char *text, size_t len, int vm, const char *key, int *kb) {
  size_t off = 0;
  ft_kv kv;
  int r;
  while ((r = vm ? ft_vmstat_next(text, len, &off, &kv) : ft_meminfo_next(text, len, &off, &kv)) != 0) {
    assert_int_equal(r, 1);
    if (kv.key_len == strlen(key) && memcmp(kv.key, key, kv.key_len) == 0) {
      if (kb) *kb = kv.kb;
      return kv.value;
    }
  }
  fail_msg("key %s not found", key);
  return 0;
}

static int ft_kv_count(const char *text, size_t len, int vm) {
  size_t off = 0;
  ft_kv kv;
  int n = 0, r;
  while ((r = vm ? ft_vmstat_next(text, len, &off, &kv) : ft_meminfo_next(text, len, &off, &kv)) == 1) n++;
  return r < 0 ? -1 : n;
}

/* x86_64, Linux 6.18: kB fields in bytes, HugePages_* counts, every line. */
static void test_meminfo_x86_64(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("meminfo_x86_64.txt", &len);
  int kb = -1;
  assert_int_equal(ft_kv_count(t, len, 0), 54);
  assert_int_equal(ft_kv_get(t, len, 0, "MemTotal", &kb), 24684092ull * 1024);
  assert_int_equal(kb, 1);
  assert_int_equal(ft_kv_get(t, len, 0, "MemAvailable", NULL), 24244068ull * 1024);
  assert_int_equal(ft_kv_get(t, len, 0, "Active(anon)", NULL), 1536ull * 1024);
  assert_int_equal(ft_kv_get(t, len, 0, "HugePages_Total", &kb), 0);
  assert_int_equal(kb, 0);
  assert_int_equal(ft_kv_get(t, len, 0, "Hugepagesize", NULL), 2048ull * 1024);
  assert_int_equal(ft_kv_get(t, len, 0, "DirectMap1G", NULL), 25165824ull * 1024);
  free(t);
}

/* arm64, Linux 4.19, 64K pages: CMA, 512M huge pages, counts without unit. */
static void test_meminfo_arm64(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("meminfo_arm64_4.19.txt", &len);
  int kb = -1;
  assert_int_equal(ft_kv_count(t, len, 0), 46);
  assert_int_equal(ft_kv_get(t, len, 0, "MemTotal", NULL), 16496128ull * 1024);
  assert_int_equal(ft_kv_get(t, len, 0, "VmallocTotal", NULL), 133143461888ull * 1024);
  assert_int_equal(ft_kv_get(t, len, 0, "CmaFree", NULL), 522240ull * 1024);
  assert_int_equal(ft_kv_get(t, len, 0, "HugePages_Total", &kb), 16);
  assert_int_equal(kb, 0);
  assert_int_equal(ft_kv_get(t, len, 0, "HugePages_Rsvd", NULL), 2);
  assert_int_equal(ft_kv_get(t, len, 0, "Hugepagesize", NULL), 524288ull * 1024);
  free(t);
}

static void test_meminfo_edges(void **state) {
  (void)state;
  static const char ok[] = "\nMemFree:  7 kB\n\nHugePages_Free:     3";
  assert_int_equal(ft_kv_count(ok, sizeof ok - 1, 0), 2);
  assert_int_equal(ft_kv_get(ok, sizeof ok - 1, 0, "HugePages_Free", NULL), 3);
  /* A cut read ("MemFree:" without a number), a stray unit, garbage. */
  static const char *bad[] = {"MemTotal: 1 kB\nMemFree:", "MemTotal: 1 MB\n", "MemTotal 1 kB\n",
                              "MemTotal: 12x kB\n", ": 5 kB\n", "MemTotal: -1 kB\n",
                              "MemTotal: 99999999999999999999 kB\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(ft_kv_count(bad[i], strlen(bad[i]), 0), -1);
  /* kB values that overflow 64 bits once in bytes are malformed too. */
  static const char big[] = "X: 18014398509481984 kB\n";
  assert_int_equal(ft_kv_count(big, sizeof big - 1, 0), -1);
  /* A malformed line can be skipped: *off is past it. */
  static const char mixed[] = "A: 1 kB\nB: ?\nC: 3\n";
  size_t off = 0;
  ft_kv kv;
  assert_int_equal(ft_meminfo_next(mixed, sizeof mixed - 1, &off, &kv), 1);
  assert_int_equal(ft_meminfo_next(mixed, sizeof mixed - 1, &off, &kv), -1);
  assert_int_equal(ft_meminfo_next(mixed, sizeof mixed - 1, &off, &kv), 1);
  assert_int_equal(kv.value, 3);
  assert_int_equal(ft_meminfo_next(mixed, sizeof mixed - 1, &off, &kv), 0);
}

static void test_vmstat(void **state) {
  (void)state;
  size_t len;
  char *t = ft_read_fixture("vmstat_x86_64.txt", &len);
  assert_int_equal(ft_kv_count(t, len, 1), 192);
  assert_int_equal(ft_kv_get(t, len, 1, "nr_free_pages", NULL), 2023018);
  assert_int_equal(ft_kv_get(t, len, 1, "compact_stall", NULL), 0);
  assert_int_equal(ft_kv_get(t, len, 1, "thp_fault_alloc", NULL), 0);
  free(t);
  /* 4.19 without THP: compaction counters only. */
  t = ft_read_fixture("vmstat_nothp_4.19.txt", &len);
  assert_int_equal(ft_kv_count(t, len, 1), 15);
  assert_int_equal(ft_kv_get(t, len, 1, "compact_stall", NULL), 12);
  assert_int_equal(ft_kv_get(t, len, 1, "compact_fail", NULL), 9);
  assert_int_equal(ft_kv_get(t, len, 1, "compact_success", NULL), 3);
  assert_int_equal(ft_kv_get(t, len, 1, "pgmigrate_fail", NULL), 3);
  assert_int_equal(ft_kv_get(t, len, 1, "pgmajfault", NULL), 77);
  free(t);
  static const char *bad[] = {"pgfault\n", "pgfault 1 2\n", "pgfault -3\n", "pgfault: 3\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(ft_kv_count(bad[i], strlen(bad[i]), 1), -1);
}

static void test_smaps_rollup(void **state) {
  (void)state;
  size_t len;
  ft_smaps m;
  char *t = ft_read_fixture("smaps_rollup_x86_64.txt", &len);
  assert_int_equal(ft_parse_smaps_rollup(t, len, &m), 0);
  assert_int_equal(m.bytes[FT_SMAPS_RSS], 1764 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PSS], 403 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PSS_ANON], 112 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PSS_FILE], 291 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_SHARED_CLEAN], 1608 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PRIVATE_CLEAN], 44 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PRIVATE_DIRTY], 112 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_ANONYMOUS], 112 * 1024);
  assert_int_equal(m.present, (1u << FT_SMAPS_NFIELDS) - 1); /* 6.18 prints all of ours (and more) */
  free(t);
  /* 4.14: no Pss_Anon/File/Shmem nor FilePmdMapped; swap in use. */
  t = ft_read_fixture("smaps_rollup_4.14.txt", &len);
  assert_int_equal(ft_parse_smaps_rollup(t, len, &m), 0);
  assert_int_equal(m.bytes[FT_SMAPS_RSS], 7208 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PSS], 2351 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_PRIVATE_DIRTY], 1904 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_SWAP], 64 * 1024);
  assert_int_equal(m.bytes[FT_SMAPS_SWAP_PSS], 64 * 1024);
  uint32_t absent = 1u << FT_SMAPS_PSS_ANON | 1u << FT_SMAPS_PSS_FILE | 1u << FT_SMAPS_PSS_SHMEM |
                    1u << FT_SMAPS_FILE_PMD_MAPPED;
  assert_int_equal(m.present, ((1u << FT_SMAPS_NFIELDS) - 1) & ~absent);
  free(t);
  /* Empty, header only, or a garbled field line: rejected. */
  static const char *bad[] = {"", "00400000-7ffc5e1ff000 ---p 00000000 00:00 0  [rollup]\n",
                              "00400000-7ffc5e1ff000 ---p 00000000 00:00 0  [rollup]\nRss: 4 kB\nPss 1 kB\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(ft_parse_smaps_rollup(bad[i], strlen(bad[i]), &m), -1);
}

/* Collect every row of a pagetypeinfo text; returns the count or -1. */
static int ft_pti_all(const char *t, size_t len, ft_pti_row *rows, int max, int *pb_order) {
  ft_pti_iter it;
  int n = 0, r;
  ft_pti_init(&it, t, len);
  while ((r = ft_pti_next(&it, &rows[n < max ? n : max - 1])) == 1) n++;
  *pb_order = it.pageblock_order;
  return r < 0 ? -1 : n;
}

static void test_pagetypeinfo_x86_64(void **state) {
  (void)state;
  size_t len;
  int pbo;
  static ft_pti_row rows[64];
  char *t = ft_read_fixture("pagetypeinfo_x86_64.txt", &len);
  assert_int_equal(ft_pti_all(t, len, rows, 64, &pbo), 15 + 3);
  assert_int_equal(pbo, 9);
  /* Node 0, zone Normal, type Movable: 10270 6818 ... 396 */
  const ft_pti_row *m = &rows[11];
  assert_int_equal(m->kind, FT_PTI_FREE);
  assert_int_equal(m->node, 0);
  assert_string_equal(m->zone, "Normal");
  assert_string_equal(m->type, "Movable");
  assert_int_equal(m->norders, 11);
  assert_int_equal(m->free_blocks[0], 10270);
  assert_int_equal(m->free_blocks[10], 396);
  assert_int_equal(m->saturated, 0);
  /* Number of blocks: Node 0, zone Normal 51 3119 94 0 0 */
  const ft_pti_row *b = &rows[17];
  assert_int_equal(b->kind, FT_PTI_BLOCKS);
  assert_string_equal(b->zone, "Normal");
  assert_int_equal(b->ntypes, 5);
  assert_string_equal(b->types[0], "Unmovable");
  assert_string_equal(b->types[4], "Isolate");
  assert_int_equal(b->pageblocks[0], 51);
  assert_int_equal(b->pageblocks[1], 3119);
  assert_int_equal(b->pageblocks[2], 94);
  free(t);
}

/* arm64 64K pages: 14 orders, two nodes, CMA, ">100000", and the mixed-blocks
** table of CONFIG_PAGE_OWNER (skipped). */
static void test_pagetypeinfo_arm64_numa2(void **state) {
  (void)state;
  size_t len;
  int pbo;
  static ft_pti_row rows[64];
  char *t = ft_read_fixture("pagetypeinfo_arm64_numa2.txt", &len);
  assert_int_equal(ft_pti_all(t, len, rows, 64, &pbo), 18 + 3);
  assert_int_equal(pbo, 13);
  const ft_pti_row *cma = &rows[4];
  assert_string_equal(cma->zone, "DMA");
  assert_string_equal(cma->type, "CMA");
  assert_int_equal(cma->norders, 14);
  assert_int_equal(cma->free_blocks[13], 4);
  const ft_pti_row *mv = &rows[7]; /* Node 0, Normal, Movable: >100000 54321 ... */
  assert_string_equal(mv->type, "Movable");
  assert_int_equal(mv->free_blocks[0], 100000);
  assert_int_equal(mv->saturated, 1u);
  assert_int_equal(mv->free_blocks[1], 54321);
  assert_int_equal(mv->free_blocks[12], 1);
  const ft_pti_row *n1 = &rows[15]; /* Node 1, Normal, HighAtomic */
  assert_int_equal(n1->node, 1);
  assert_string_equal(n1->type, "HighAtomic");
  assert_int_equal(n1->free_blocks[0], 2);
  const ft_pti_row *b = &rows[18];
  assert_int_equal(b->kind, FT_PTI_BLOCKS);
  assert_int_equal(b->ntypes, 6);
  assert_string_equal(b->types[4], "CMA");
  assert_int_equal(b->pageblocks[4], 16); /* Node 0 DMA: 16 CMA pageblocks */
  assert_int_equal(rows[20].node, 1);
  assert_int_equal(rows[20].pageblocks[1], 247);
  free(t);
}

static void test_pagetypeinfo_edges(void **state) {
  (void)state;
  static ft_pti_row rows[8];
  int pbo;
  /* A row before any header; a cut row; a blocks row with a missing column. */
  static const char *bad[] = {
      "Node    0, zone      DMA, type    Unmovable      0\n",
      "Free pages count per migrate type at order 0 1\nNode    0, zone      DMA, type    Unmovable\n",
      "Free pages count per migrate type at order 0 1\nNode    0, zone      DMA, type    Unmovable  1 >\n",
      "Number of blocks type  Unmovable Movable\nNode 0, zone DMA 1\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(ft_pti_all(bad[i], strlen(bad[i]), rows, 8, &pbo), -1);
  static const char ok[] = "Free pages count per migrate type at order 0\n"
                           "Node 2, zone Movable, type Movable >100000\n";
  assert_int_equal(ft_pti_all(ok, sizeof ok - 1, rows, 8, &pbo), 1);
  assert_int_equal(pbo, -1);
  assert_int_equal(rows[0].node, 2);
  assert_int_equal(rows[0].saturated, 1);
  assert_int_equal(ft_pti_all("", 0, rows, 8, &pbo), 0);
}

static int ft_slab_all(const char *t, size_t len, ft_slab_row *rows, int max) {
  size_t off = 0;
  int n = 0, r;
  while ((r = ft_slabinfo_next(t, len, &off, &rows[n < max ? n : max - 1])) == 1) n++;
  return r < 0 ? -1 : n;
}

static void test_slabinfo(void **state) {
  (void)state;
  size_t len;
  static ft_slab_row rows[32];
  char *t = ft_read_fixture("slabinfo_x86_64.txt", &len); /* SLUB: tunables are 0 */
  assert_int_equal(ft_slab_all(t, len, rows, 32), 12);
  assert_string_equal(rows[0].name, "buffer_head");
  assert_int_equal(rows[0].active_objs, 210047);
  assert_int_equal(rows[0].num_objs, 221676);
  assert_int_equal(rows[0].objsize, 104);
  assert_int_equal(rows[0].objperslab, 39);
  assert_int_equal(rows[0].pagesperslab, 1);
  assert_int_equal(rows[0].active_slabs, 5684);
  assert_int_equal(rows[0].num_slabs, 5684);
  assert_string_equal(rows[4].name, "ext4_inode_cache");
  assert_int_equal(rows[4].pagesperslab, 4);
  assert_int_equal(rows[4].num_slabs, 4080);
  free(t);
  t = ft_read_fixture("slabinfo_slab_4.19.txt", &len); /* SLAB: real tunables */
  assert_int_equal(ft_slab_all(t, len, rows, 32), 4);
  assert_string_equal(rows[3].name, "task_struct");
  assert_int_equal(rows[3].objsize, 5952);
  assert_int_equal(rows[3].pagesperslab, 8);
  assert_int_equal(rows[3].num_slabs, 88);
  free(t);
  static const char *bad[] = {
      "slabinfo - version: 1.1\nkmalloc-8 1 1 8 1 1 : tunables 0 0 0 : slabdata 1 1 0\n",
      "kmalloc-8 1 1 8 1 1 : tunables 0 0 0 : slabdata 1 1\n",
      "kmalloc-8 1 1 8 1 : tunables 0 0 0 : slabdata 1 1 0\n",
      "kmalloc-8 1 1 8 1 1 : slabdata 1 1 0\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(ft_slab_all(bad[i], strlen(bad[i]), rows, 32), -1);
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
    cmocka_unit_test(test_meminfo_x86_64),
    cmocka_unit_test(test_meminfo_arm64),
    cmocka_unit_test(test_meminfo_edges),
    cmocka_unit_test(test_vmstat),
    cmocka_unit_test(test_smaps_rollup),
    cmocka_unit_test(test_pagetypeinfo_x86_64),
    cmocka_unit_test(test_pagetypeinfo_arm64_numa2),
    cmocka_unit_test(test_pagetypeinfo_edges),
    cmocka_unit_test(test_slabinfo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
