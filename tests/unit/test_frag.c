/*
** test_frag.c — the kernel's fragmentation indices (ft_frag.c) against
** values computed by hand from buddyinfo lines (the arithmetic is in the
** comments: the kernel's integer formulas, truncating divisions), and the
** import-time attribution passes of ft_import_frag.c (windows, pinning) on
** synthetic rows.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ft_frag.h"
#include "ft_import_frag.h"
#include "ft_procparse.h"

/* Parse one buddyinfo line into *row (the real parser: the same path as import). */
static void ft_row_of(const char *line, ft_buddy_row *row) {
  assert_int_equal(ft_parse_buddyinfo(line, strlen(line), row, 1), 1);
}

/* An index as debugfs prints it. */
static const char *ft_str(int v) {
  static char buf[4][32];
  static int k;
  k = (k + 1) % 4;
  return ft_frag_index_str(v, buf[k], sizeof buf[k]);
}

/* 11 orders (x86_64), from tests/fixtures/buddyinfo_zeros.txt:
**   free[] = 12 7 3 1 0 0 0 0 0 0 0
**   free_pages = 12*1 + 7*2 + 3*4 + 1*8 = 12 + 14 + 12 + 8 = 46
**   free_blocks_total = 12 + 7 + 3 + 1 = 23                               */
static void test_small_zone_11_orders(void **state) {
  (void)state;
  ft_buddy_row r;
  ft_row_of("Node 0, zone   Normal     12      7      3      1      0      0      0      0      0      0      0\n", &r);
  assert_int_equal(r.norders, 11);
  ft_contig_info ci;
  ft_frag_fill(r.free_blocks, r.norders, 0, &ci);
  assert_int_equal(ci.free_pages, 46);
  assert_int_equal(ci.free_blocks_total, 23);
  assert_int_equal(ci.free_blocks_suitable, 46); /* order 0: every page */
  /* order 0: suitable 46, unusable (46 - 46) * 1000 / 46 = 0; a block is free: -1000 */
  assert_int_equal(ft_frag_row_unusable(&r, 0), 0);
  assert_int_equal(ft_frag_row_index(&r, 0), -1000);
  /* order 3: suitable = 1 (the order-3 block), usable pages 1 << 3 = 8;
  ** unusable (46 - 8) * 1000 / 46 = 38000 / 46 = 826.08 -> 826; fragindex -1000 */
  assert_int_equal(ft_frag_row_unusable(&r, 3), 826);
  assert_int_equal(ft_frag_row_index(&r, 3), -1000);
  /* order 4: suitable 0; unusable 46000 / 46 = 1000;
  ** fragindex 1000 - (1000 + 46*1000/16) / 23 = 1000 - (1000 + 2875) / 23
  **         = 1000 - 3875 / 23 = 1000 - 168 (168.47) = 832                 */
  assert_int_equal(ft_frag_row_unusable(&r, 4), 1000);
  assert_int_equal(ft_frag_row_index(&r, 4), 832);
  assert_string_equal(ft_str(832), "0.832");
  /* order 10: 46000 / 1024 = 44 (44.92); (1000 + 44) / 23 = 45 (45.39); 1000 - 45 = 955 */
  assert_int_equal(ft_frag_row_index(&r, 10), 955);
  /* largest free block: order 3 = 8 pages = 32 KiB with 4 KiB pages */
  assert_int_equal(ft_frag_largest_order(r.free_blocks, r.norders), 3);
  assert_int_equal(ft_frag_largest_block(r.free_blocks, r.norders, 4096), 32768);
  assert_int_equal(ft_frag_free_bytes(r.free_blocks, r.norders, 4096), 46 * 4096);
}

/* An empty zone: no free pages at all.
**   unusable_free_index: free_pages == 0 -> 1000 ("all free memory unusable")
**   __fragmentation_index: free_blocks_total == 0 -> 0                     */
static void test_empty_zone(void **state) {
  (void)state;
  ft_buddy_row r;
  ft_row_of("Node 0, zone      DMA      0      0      0      0      0      0      0      0      0      0      0\n", &r);
  for (unsigned o = 0; o < 11; o++) {
    assert_int_equal(ft_frag_row_unusable(&r, o), 1000);
    assert_int_equal(ft_frag_row_index(&r, o), 0);
  }
  assert_int_equal(ft_frag_largest_order(r.free_blocks, r.norders), -1);
  assert_int_equal(ft_frag_largest_block(r.free_blocks, r.norders, 4096), 0);
  assert_string_equal(ft_str(1000), "1.000");
  assert_string_equal(ft_str(0), "0.000");
}

/* A zone where every order is satisfiable (x86_64 fixture, Normal):
**   free[] = 514 381 252 276 158 141 155 87 53 25 191
**   free_pages = 514 + 762 + 1008 + 2208 + 2528 + 4512 + 9920 + 11136
**              + 13568 + 12800 + 195584 = 254540
**   order 10: suitable 191, usable 191 << 10 = 195584;
**     unusable (254540 - 195584) * 1000 / 254540 = 58956000 / 254540 = 231 (231.6)
**   order 9: suitable 25 + 191*2 = 407, usable 407 << 9 = 208384;
**     unusable (254540 - 208384) * 1000 / 254540 = 46156000 / 254540 = 181 (181.3)
**   fragindex: a suitable block exists at every order -> -1000 ("would succeed") */
static void test_satisfiable_zone(void **state) {
  (void)state;
  ft_buddy_row r;
  ft_row_of("Node 0, zone   Normal    514    381    252    276    158    141    155     87     53     25    191 \n", &r);
  ft_contig_info ci;
  ft_frag_fill(r.free_blocks, r.norders, 10, &ci);
  assert_int_equal(ci.free_pages, 254540);
  assert_int_equal(ci.free_blocks_suitable, 191);
  assert_int_equal(ft_frag_row_unusable(&r, 10), 231);
  assert_int_equal(ft_frag_row_unusable(&r, 9), 181);
  for (unsigned o = 0; o < 11; o++) assert_int_equal(ft_frag_row_index(&r, o), FT_FRAG_SUCCEEDS);
  assert_string_equal(ft_str(-1000), "-1.000");
  assert_int_equal(ft_frag_largest_block(r.free_blocks, r.norders, 4096), 4096u << 10); /* 4 MiB */
}

/* 14 orders (arm64, 64 KiB pages; tests/fixtures/buddyinfo_arm64_64k.txt):
**   free[] = 23151 2048 1000 517 260 128 64 32 16 8 4 2 1 41
**   free_pages = 23151 + 4096 + 4000 + 4136 + 4160 + 8 * 4096 (orders 5..12)
**              + 41 * 8192 = 72311 + 335872 = 408183
**   free_blocks_total = 27272
**   order 13: suitable 41, usable 41 << 13 = 335872;
**     unusable (408183 - 335872) * 1000 / 408183 = 72311000 / 408183 = 177 (177.15)
**   order 12: suitable 1 + 41*2 = 83, usable 83 << 12 = 339968;
**     unusable 68215000 / 408183 = 167 (167.1)
**   order 14 is not printed: fragindex 0 (the kernel's order guard), unusable 1000
**   largest block: order 13 = 65536 << 13 = 512 MiB                          */
static void test_arm64_14_orders(void **state) {
  (void)state;
  ft_buddy_row r;
  ft_row_of("Node 0, zone   Normal  23151   2048   1000    517    260    128     64     32     16      8      4      2      "
            "1     41 \n",
            &r);
  assert_int_equal(r.norders, 14);
  ft_contig_info ci;
  ft_frag_fill(r.free_blocks, r.norders, 13, &ci);
  assert_int_equal(ci.free_pages, 408183);
  assert_int_equal(ci.free_blocks_total, 27272);
  assert_int_equal(ci.free_blocks_suitable, 41);
  assert_int_equal(ft_frag_row_unusable(&r, 13), 177);
  assert_int_equal(ft_frag_row_unusable(&r, 12), 167);
  assert_int_equal(ft_frag_row_unusable(&r, 0), 0);
  assert_int_equal(ft_frag_row_index(&r, 13), -1000);
  assert_int_equal(ft_frag_row_index(&r, 14), 0);
  assert_int_equal(ft_frag_row_unusable(&r, 14), 1000);
  assert_int_equal(ft_frag_largest_order(r.free_blocks, r.norders), 13);
  assert_int_equal(ft_frag_largest_block(r.free_blocks, r.norders, 65536), UINT64_C(512) << 20);
}

/* A tiny zone: the kernel's formula goes negative and debugfs prints it oddly.
**   free[] = 1 0 0 ... (one free page), order 1 (2 pages): suitable 0,
**   fragindex 1000 - (1000 + 1*1000/2) / 1 = 1000 - 1500 = -500,
**   printed "%d.%03d" of -500/1000 = 0 and -500%1000 = -500: "0.-500"      */
static void test_negative_index(void **state) {
  (void)state;
  ft_buddy_row r;
  ft_row_of("Node 0, zone      DMA      1      0      0      0      0      0      0      0      0      0      0\n", &r);
  assert_int_equal(ft_frag_row_index(&r, 1), -500);
  assert_string_equal(ft_str(-500), "0.-500");
  assert_int_equal(ft_frag_row_unusable(&r, 1), 1000);
  assert_int_equal(ft_frag_row_index(&r, 0), -1000);
}

/* ---- attribution on synthetic rows ---- */

typedef struct trow { /* a row layout unlike the importer's, on purpose */
  uint8_t kind;
  uint32_t stack;
  uint64_t t_free, addr, t_alloc, size;
} trow;

#define LIVE UINT64_MAX

static ft_frag_rows ft_rows(const trow *r, size_t n) {
  return (ft_frag_rows){r,
                        n,
                        sizeof *r,
                        offsetof(trow, addr),
                        offsetof(trow, size),
                        offsetof(trow, t_alloc),
                        offsetof(trow, t_free),
                        offsetof(trow, stack),
                        offsetof(trow, kind),
                        0 /* full capture: every weight 1 */};
}

static void test_window_choice(void **state) {
  (void)state;
  assert_int_equal(ft_frag_window_ns(0), 10000000);                       /* 10 ms floor */
  assert_int_equal(ft_frag_window_ns(1000000000), 10000000);              /* 1 s: 100 ms gives 10 */
  assert_int_equal(ft_frag_window_ns(2000000000), 100000000);             /* 2 s: 20 x 100 ms */
  assert_int_equal(ft_frag_window_ns(UINT64_C(30000000000)), 1000000000); /* 30 s: 30 x 1 s */
  assert_int_equal(ft_frag_window_ns(UINT64_C(2000000000000)), UINT64_C(10000000000));
}

static void test_windows(void **state) {
  (void)state;
  const trow r[] = {
      {0, 1, 250, 0x1000, 10, 8},   /* site 1: window 0, freed in window 2 */
      {0, 1, LIVE, 0x2000, 20, 16}, /* site 1: window 0, never freed */
      {1, 2, 160, 0x3000, 150, 32}, /* site 2: allocated and freed in window 1 */
      {0, 0, 170, 0x4000, 5, 64},   /* no stack: in no site window */
  };
  ft_frag_rows rs = ft_rows(r, 4);
  ft_site_window *w;
  size_t n;
  assert_int_equal(ft_frag_windows(&rs, 100, &w, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(w[0].stack, 1);
  assert_int_equal(w[0].window, 0);
  assert_int_equal(w[0].allocations, 2);
  assert_int_equal(w[0].bytes, 24);
  assert_int_equal(w[0].frees, 0);
  assert_int_equal(w[1].stack, 1);
  assert_int_equal(w[1].window, 2);
  assert_int_equal(w[1].allocations, 0);
  assert_int_equal(w[1].frees, 1);
  assert_int_equal(w[1].freed_bytes, 8);
  assert_int_equal(w[2].stack, 2);
  assert_int_equal(w[2].window, 1);
  assert_int_equal(w[2].allocations, 1);
  assert_int_equal(w[2].frees, 1);
  assert_int_equal(w[2].freed_bytes, 32);
  free(w);
}

/* Pages of 4 KiB (0x1000). At t = 100:
**   page 0x10: site 1, 40 B            -> pins: 4096 - 40 = 4056, all site 1
**   page 0x11: site 2, 3000 B          -> 3000 > 1024 (25 %): not pinning
**   page 0x12: site 1 100 B, site 3 300 B -> live 400, free 3696:
**              site 1 3696*100/400 = 924, site 3 3696*300/400 = 2772
**   pages 0x13, 0x14: site 3, one 512 B block at 0x13f00, 256 B on each
**              -> each pins 4096 - 256 = 3840 for site 3
**   page 0x15: site 4, 4000 B freed at 50 (live at 40, dead at 100)
**   page 0x16: lost stack, 10 B        -> pins 4086, in the totals only
**   0x20000: an mmap row, and 0x40000000 a 256 KiB block: not heap pages.
** Totals: heap pages 0x10..0x14, 0x16 = 6; heap live 40+3000+100+300+512+10 = 3962;
**   pinning pages 5 (0x10, 0x12, 0x13, 0x14, 0x16); live on them
**   40 + 400 + 256 + 256 + 10 = 962; pinned 5 * 4096 - 962 = 19518; blocks 5.
** Site 3: 2 blocks, 300 + 512 = 812 B, 3 pages, 2772 + 2 * 3840 = 10452.
** Site 1: 2 blocks, 140 B, 2 pages, 4056 + 924 = 4980.  (+ 4086 lost = 19518) */
static const trow pin_rows[] = {
    {0, 1, LIVE, 0x10000, 10, 40},        {2, 2, LIVE, 0x11000, 10, 3000},
    {0, 1, LIVE, 0x12000, 10, 100},       {1, 3, LIVE, 0x12100, 10, 300},
    {3, 3, LIVE, 0x13f00, 10, 512},       {0, 4, 50, 0x15000, 10, 4000},
    {0, 0, LIVE, 0x16000, 10, 10},        {4, 5, LIVE, 0x20000, 10, 40},
    {0, 6, LIVE, 0x40000000, 10, 256 << 10},
};

static void test_pinning_4k(void **state) {
  (void)state;
  ft_frag_rows rs = ft_rows(pin_rows, sizeof pin_rows / sizeof pin_rows[0]);
  ft_pin_result p;
  assert_int_equal(ft_frag_pinning(&rs, 100, 4096, 4096, &p), 0);
  assert_int_equal(p.heap_pages, 6);
  assert_int_equal(p.heap_live_bytes, 3962);
  assert_int_equal(p.pages, 5);
  assert_int_equal(p.live_bytes, 962);
  assert_int_equal(p.resident_bytes, 5 * 4096);
  assert_int_equal(p.pinned_bytes, 19518);
  assert_int_equal(p.blocks, 5);
  assert_int_equal(p.nsites, 2);
  assert_int_equal(p.sites[0].stack, 3);
  assert_int_equal(p.sites[0].blocks, 2);
  assert_int_equal(p.sites[0].live_bytes, 812);
  assert_int_equal(p.sites[0].pages, 3);
  assert_int_equal(p.sites[0].pinned_bytes, 10452);
  assert_int_equal(p.sites[1].stack, 1);
  assert_int_equal(p.sites[1].blocks, 2);
  assert_int_equal(p.sites[1].live_bytes, 140);
  assert_int_equal(p.sites[1].pages, 2);
  assert_int_equal(p.sites[1].pinned_bytes, 4980);
  ft_pin_result_free(&p);
  /* At t = 40 site 4's block is live: page 0x15 holds 4000 B, not pinning. */
  assert_int_equal(ft_frag_pinning(&rs, 40, 4096, 4096, &p), 0);
  assert_int_equal(p.heap_pages, 7);
  assert_int_equal(p.pages, 5);
  assert_int_equal(p.pinned_bytes, 19518);
  ft_pin_result_free(&p);
  /* Before any allocation nothing is live. */
  assert_int_equal(ft_frag_pinning(&rs, 5, 4096, 4096, &p), 0);
  assert_int_equal(p.heap_pages, 0);
  assert_int_equal(p.nsites, 0);
  assert_int_equal(p.pinned_bytes, 0);
  ft_pin_result_free(&p);
}

/* 2 MiB pages over 4 KiB base pages at t = 100: all heap rows lie in huge
** page 0. Its resident bytes are the base pages touched by heap rows
** allocated by t: 0x10..0x16 (0x15 too: freed, but touched) = 7 pages =
** 28672 B (the mmap row and the 256 KiB block are not heap). Live 3962 B,
** 3962 * 100 <= 28672 * 25 (13.8 %): it pins 28672 - 3962 = 24710 B, shared
** by live bytes: site 2 24710 * 3000 / 3962 = 18710.25 -> 18710,
** site 3 24710 * 812 / 3962 = 5064.24 -> 5064, site 1 24710 * 140 / 3962
** = 873.14 -> 873 (and 62.37 for the lost stack, in the totals only).
** At t = 40 page 0x15 is live too (4000 B more): 7962 * 100 > 28672 * 25,
** so nothing pins: the resident part of the huge page is 28 % used.      */
static void test_pinning_2m(void **state) {
  (void)state;
  ft_frag_rows rs = ft_rows(pin_rows, sizeof pin_rows / sizeof pin_rows[0]);
  ft_pin_result p;
  assert_int_equal(ft_frag_pinning(&rs, 100, FT_FRAG_HUGE_PAGE, 4096, &p), 0);
  assert_int_equal(p.heap_pages, 1);
  assert_int_equal(p.pages, 1);
  assert_int_equal(p.resident_bytes, 28672);
  assert_int_equal(p.live_bytes, 3962);
  assert_int_equal(p.pinned_bytes, 24710);
  assert_int_equal(p.blocks, 6);
  assert_int_equal(p.nsites, 3);
  assert_int_equal(p.sites[0].stack, 2);
  assert_int_equal(p.sites[0].pinned_bytes, 18710);
  assert_int_equal(p.sites[1].stack, 3);
  assert_int_equal(p.sites[1].pinned_bytes, 5064);
  assert_int_equal(p.sites[2].stack, 1);
  assert_int_equal(p.sites[2].pinned_bytes, 873);
  assert_int_equal(p.sites[2].pages, 1);
  ft_pin_result_free(&p);
  assert_int_equal(ft_frag_pinning(&rs, 40, FT_FRAG_HUGE_PAGE, 4096, &p), 0);
  assert_int_equal(p.heap_pages, 1);
  assert_int_equal(p.pages, 0);
  assert_int_equal(p.nsites, 0);
  assert_int_equal(p.pinned_bytes, 0);
  ft_pin_result_free(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_small_zone_11_orders),
      cmocka_unit_test(test_empty_zone),
      cmocka_unit_test(test_satisfiable_zone),
      cmocka_unit_test(test_arm64_14_orders),
      cmocka_unit_test(test_negative_index),
      cmocka_unit_test(test_window_choice),
      cmocka_unit_test(test_windows),
      cmocka_unit_test(test_pinning_4k),
      cmocka_unit_test(test_pinning_2m),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
