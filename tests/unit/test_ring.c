/* test_ring.c — the per-thread SPSC ring: capacity rounding, wrap-around
** seen as two iovecs, and a two-thread stress where every record arrives
** once and in order. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ft_ring.h"

static void capacity_rounds_up(void **state) {
  (void)state;
  ft_ring r;
  assert_int_equal(ft_ring_init(&r, 100), 0);
  assert_int_equal(r.mask + 1, 128);
  assert_true(ft_ring_has_room(&r, 128));
  assert_false(ft_ring_has_room(&r, 129));
  ft_ring_destroy(&r);
}

static void wraps_into_two_iovecs(void **state) {
  (void)state;
  ft_ring r;
  assert_int_equal(ft_ring_init(&r, 64), 0);
  struct iovec iov[2];
  int n_iov;
  for (int i = 0; i < 60; i++) {
    ft_ring_slot(&r, 0)->a = (uint64_t)i;
    ft_ring_publish(&r, 1);
  }
  assert_int_equal(ft_ring_peek(&r, iov, &n_iov), 60);
  assert_int_equal(n_iov, 1);
  ft_ring_consume(&r, 60);
  assert_true(ft_ring_has_room(&r, 64));
  for (int i = 0; i < 10; i++) ft_ring_slot(&r, (uint64_t)i)->a = 100u + (uint64_t)i;
  ft_ring_publish(&r, 10);
  assert_int_equal(ft_ring_peek(&r, iov, &n_iov), 10);
  assert_int_equal(n_iov, 2);
  assert_int_equal(iov[0].iov_len, 4 * sizeof(ft_event));
  assert_int_equal(iov[1].iov_len, 6 * sizeof(ft_event));
  assert_int_equal(((ft_event *)iov[0].iov_base)[0].a, 100);
  assert_int_equal(((ft_event *)iov[1].iov_base)[0].a, 104);
  ft_ring_destroy(&r);
}

#define STRESS_N 2000000
static ft_ring stress_ring;

static void *producer(void *arg) {
  (void)arg;
  for (uint64_t i = 0; i < STRESS_N; i++) {
    while (!ft_ring_has_room(&stress_ring, 1)) {
    }
    ft_event *e = ft_ring_slot(&stress_ring, 0);
    e->a = i;
    e->n = i * 3;
    ft_ring_publish(&stress_ring, 1);
  }
  return NULL;
}

static void stress_every_record_once_in_order(void **state) {
  (void)state;
  assert_int_equal(ft_ring_init(&stress_ring, 256), 0);
  pthread_t t;
  pthread_create(&t, NULL, producer, NULL);
  uint64_t expect = 0;
  while (expect < STRESS_N) {
    struct iovec iov[2];
    int n_iov;
    uint64_t n = ft_ring_peek(&stress_ring, iov, &n_iov);
    for (int k = 0; k < n_iov; k++) {
      const ft_event *e = iov[k].iov_base;
      for (size_t j = 0; j < iov[k].iov_len / sizeof *e; j++, expect++) {
        if (e[j].a != expect || e[j].n != expect * 3) fail_msg("record %llu wrong", (unsigned long long)expect);
      }
    }
    ft_ring_consume(&stress_ring, n);
  }
  pthread_join(t, NULL);
  assert_int_equal(expect, STRESS_N);
  ft_ring_destroy(&stress_ring);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(capacity_rounds_up),
      cmocka_unit_test(wraps_into_two_iovecs),
      cmocka_unit_test(stress_every_record_once_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
