/*
** test_proto.c — the protobuf encoder (reporter/ft_proto.c) against the
** byte sequences of the protocol-buffers encoding documentation and against
** a small decoder written here, independent of the encoder.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ft_proto.h"

static void expect_bytes(const ft_pb *b, const unsigned char *want, size_t n) {
  assert_false(ft_pb_failed(b));
  assert_int_equal(b->len, n);
  assert_memory_equal(b->data, want, n);
}

static void test_varints(void **state) {
  (void)state;
  ft_pb b = {0};
  ft_pb_raw_varint(&b, 1);
  ft_pb_raw_varint(&b, 127);
  ft_pb_raw_varint(&b, 128);
  ft_pb_raw_varint(&b, 300);
  static const unsigned char want[] = {0x01, 0x7f, 0x80, 0x01, 0xac, 0x02};
  expect_bytes(&b, want, sizeof want);
  ft_pb_reset(&b);
  /* int64 -1 is ten bytes, as protobuf writes negative int64 */
  ft_pb_raw_varint(&b, (uint64_t)(int64_t)-1);
  static const unsigned char neg[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  expect_bytes(&b, neg, sizeof neg);
  ft_pb_reset(&b);
  ft_pb_raw_varint(&b, UINT64_MAX >> 1);
  assert_int_equal(b.len, 9);
  assert_int_equal(ft_pb_varint_size(0), 1);
  assert_int_equal(ft_pb_varint_size(127), 1);
  assert_int_equal(ft_pb_varint_size(128), 2);
  assert_int_equal(ft_pb_varint_size(UINT64_MAX), 10);
  ft_pb_free(&b);
}

/* The examples of the protobuf encoding guide: Test1 {a: 150}, Test2 {b:
** "testing"}, Test3 {c: Test1{150}}, Test4 {d: [3, 270, 86942] packed}. */
static void test_guide_examples(void **state) {
  (void)state;
  ft_pb b = {0}, sub = {0};
  ft_pb_varint(&b, 1, 150);
  static const unsigned char t1[] = {0x08, 0x96, 0x01};
  expect_bytes(&b, t1, sizeof t1);

  ft_pb_reset(&b);
  ft_pb_string(&b, 2, "testing");
  static const unsigned char t2[] = {0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'};
  expect_bytes(&b, t2, sizeof t2);

  ft_pb_reset(&b);
  ft_pb_varint(&sub, 1, 150);
  ft_pb_message(&b, 3, &sub);
  static const unsigned char t3[] = {0x1a, 0x03, 0x08, 0x96, 0x01};
  expect_bytes(&b, t3, sizeof t3);

  ft_pb_reset(&b);
  static const uint64_t d[] = {3, 270, 86942};
  ft_pb_packed(&b, 4, d, 3);
  static const unsigned char t4[] = {0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05};
  expect_bytes(&b, t4, sizeof t4);

  /* nothing for an empty packed field; "" for a NULL string; big field numbers */
  ft_pb_reset(&b);
  ft_pb_packed(&b, 4, d, 0);
  assert_int_equal(b.len, 0);
  ft_pb_string(&b, 6, NULL);
  ft_pb_varint(&b, 16, 1);
  static const unsigned char t5[] = {0x32, 0x00, 0x80, 0x01, 0x01};
  expect_bytes(&b, t5, sizeof t5);
  ft_pb_free(&b);
  ft_pb_free(&sub);
}

/* ---- an independent decoder, to check a larger message round-trips ---- */

static uint64_t dec_varint(const unsigned char **p, const unsigned char *end) {
  uint64_t v = 0;
  for (int shift = 0; *p < end && shift < 64; shift += 7) {
    unsigned char c = *(*p)++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
  fail_msg("truncated varint");
  return 0;
}

static void test_round_trip(void **state) {
  (void)state;
  ft_pb msg = {0}, sub = {0};
  uint64_t vals[1000];
  for (int i = 0; i < 1000; i++) vals[i] = (uint64_t)i * 977u << (i % 40);
  for (int i = 0; i < 50; i++) {
    ft_pb_reset(&sub);
    ft_pb_varint(&sub, 1, (uint64_t)i);
    ft_pb_packed(&sub, 2, vals, (size_t)(i * 20));
    ft_pb_message(&msg, 2, &sub);
  }
  assert_false(ft_pb_failed(&msg));
  const unsigned char *p = msg.data, *end = msg.data + msg.len;
  int n = 0;
  while (p < end) {
    uint64_t k = dec_varint(&p, end);
    assert_int_equal(k, (2 << 3) | 2);
    uint64_t len = dec_varint(&p, end);
    const unsigned char *q = p, *qend = p + len;
    assert_true(qend <= end);
    assert_int_equal(dec_varint(&q, qend), (1 << 3) | 0);
    assert_int_equal(dec_varint(&q, qend), (uint64_t)n);
    size_t count = 0;
    if (q < qend) {
      assert_int_equal(dec_varint(&q, qend), (2 << 3) | 2);
      uint64_t plen = dec_varint(&q, qend);
      assert_true(q + plen == qend);
      while (q < qend) {
        assert_int_equal(dec_varint(&q, qend), vals[count]);
        count++;
      }
    }
    assert_int_equal(count, (size_t)n * 20);
    p = qend;
    n++;
  }
  assert_int_equal(n, 50);
  ft_pb_free(&msg);
  ft_pb_free(&sub);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_varints),
      cmocka_unit_test(test_guide_examples),
      cmocka_unit_test(test_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
