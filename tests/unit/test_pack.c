/* test_pack.c — the EVENTS_PACKED encoding: a round trip of every event
** kind (including time going backwards, huge addresses and stacks across a
** ring wrap), the stack-hash cache, and rejection of malformed payloads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "ft_pack.h"

static ft_event ev(uint64_t t, unsigned type, uint64_t a, uint64_t n, uint64_t s) {
  ft_event e = {FT_EV_MAKE(t, type), a, n, s};
  return e;
}

static void round_trip(const ft_event *in, uint64_t n, uint64_t mask, uint64_t start) {
  uint8_t *buf = malloc(n * FT_PACK_MAX_RECORD + 1);
  ft_pack_state st;
  ft_pack_reset(&st);
  size_t len = ft_pack_encode(&st, in, mask, start, n, buf);
  assert_true(len <= n * FT_PACK_MAX_RECORD);
  assert_int_equal(ft_pack_decode(buf, len, NULL, 0), (long)n);
  ft_event *out = calloc(n, sizeof *out);
  assert_int_equal(ft_pack_decode(buf, len, out, n), (long)n);
  for (uint64_t i = 0; i < n; i++) {
    const ft_event *e = &in[(start + i) & mask];
    assert_memory_equal(&out[i], e, sizeof *e);
  }
  free(out);
  free(buf);
}

static void every_kind_round_trips(void **state) {
  (void)state;
  uint64_t stack[6] = {0x7f0000001234, 0x55550000aaaa, 0x401000, 0xffffffffff600000, 1, 0};
  ft_event in[16];
  int n = 0;
  in[n++] = ev(0, FT_EV_STACK, 0, 6, 0xabcdef);
  memcpy(&in[n++], stack, 32);
  ft_event rest = {0, 0, 0, 0};
  memcpy(&rest, stack + 4, 16);
  in[n++] = rest;
  in[n++] = ev(1000, FT_EV_MALLOC, 0x5555deadbee0, 24, 0xabcdef);
  in[n++] = ev(1000, FT_EV_CALLOC, 0x5555deadbe00, 0, 0xabcdef);
  in[n++] = ev(2000, FT_EV_FREE, 0x5555deadbee0, 0, 0);
  in[n++] = ev(1500, FT_EV_REALLOC, 0x7fffffff0000, 1u << 30, 7); /* time going back still encodes */
  in[n++] = ev(3000, FT_EV_MEMALIGN, 0x10, 1, 0);
  in[n++] = ev(1ull << 50, FT_EV_MMAP, 0xffffffffffff0000, 1ull << 40, 0xabcdef);
  in[n++] = ev((1ull << 50) + 1, FT_EV_MUNMAP, 0xffffffffffff1000, 4096, 0);
  round_trip(in, (uint64_t)n, UINT64_MAX, 0);
}

static void cache_makes_repeat_stacks_small(void **state) {
  (void)state;
  enum { N = 1000 };
  ft_event in[N];
  for (int i = 0; i < N; i++) in[i] = ev((uint64_t)i * 100, FT_EV_MALLOC, 0x1000 + (uint64_t)i * 48, 32, 1 + i % 3);
  uint8_t buf[N * FT_PACK_MAX_RECORD];
  ft_pack_state st;
  ft_pack_reset(&st);
  size_t len = ft_pack_encode(&st, in, UINT64_MAX, 0, N, buf);
  /* tag + 1-byte dt + 1-byte address delta + 1-byte size, hashes only 3
  ** times, and one more byte for the first address (0x1000 from 0). */
  assert_int_equal(len, (size_t)N * 4 + 3 * 8 + 1);
  round_trip(in, N, UINT64_MAX, 0);
  /* More distinct stacks than the cache holds, cycling: still exact. */
  for (int i = 0; i < N; i++) in[i].s = 1 + (uint64_t)(i % (FT_PACK_CACHE + 4));
  round_trip(in, N, UINT64_MAX, 0);
}

static void wrapped_ring_round_trips(void **state) {
  (void)state;
  ft_event ring[8];
  memset(ring, 0, sizeof ring);
  ring[6] = ev(5, FT_EV_MALLOC, 0x100, 1, 9);
  ring[7] = ev(0, FT_EV_STACK, 0, 5, 9);
  uint64_t ips[8] = {11, 12, 13, 14, 15, 0, 0, 0};
  memcpy(&ring[0], ips, 32);
  memcpy(&ring[1], ips + 4, 32);
  ring[2] = ev(6, FT_EV_FREE, 0x100, 0, 0);
  round_trip(ring, 5, 7, 6);
}

static void malformed_payloads_are_rejected(void **state) {
  (void)state;
  ft_event e = ev(10, FT_EV_MALLOC, 0x1234, 10, 99);
  uint8_t buf[FT_PACK_MAX_RECORD];
  ft_pack_state st;
  ft_pack_reset(&st);
  size_t len = ft_pack_encode(&st, &e, UINT64_MAX, 0, 1, buf);
  for (size_t cut = 1; cut < len; cut++) assert_int_equal(ft_pack_decode(buf, cut, NULL, 0), -1);
  uint8_t bad_type[] = {0x05, 0, 0, 0};
  assert_int_equal(ft_pack_decode(bad_type, sizeof bad_type, NULL, 0), -1);
  uint8_t free_with_slot[] = {0x18, 0, 0};
  assert_int_equal(ft_pack_decode(free_with_slot, sizeof free_with_slot, NULL, 0), -1);
  assert_int_equal(ft_pack_decode(buf, 0, NULL, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_kind_round_trips),
      cmocka_unit_test(cache_makes_repeat_stacks_small),
      cmocka_unit_test(wrapped_ring_round_trips),
      cmocka_unit_test(malformed_payloads_are_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
