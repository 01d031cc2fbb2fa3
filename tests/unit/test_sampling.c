/* test_sampling.c — the pieces of byte sampling (preload/ft_sampling.c): the
** logarithm, the countdown's mean, the probability that one allocation of a
** fixed size is sampled, determinism of the seed, and the sampled-block
** table (insert/find/remove, tombstone reuse, a full window reported, the
** filter, two threads inserting and removing at once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ft_sampling.h"

/* ft_log_unit agrees with libm's log over (0, 1]. */
static void log_unit(void **state) {
  (void)state;
  ft_rng r;
  ft_rng_seed(&r, 1, 0);
  for (int i = 0; i < 100000; i++) {
    double u = ft_rng_unit(&r);
    assert_true(u > 0 && u <= 1);
    double want = log(u), got = ft_log_unit(u);
    if (fabs(got - want) > 1e-9 * (1 + fabs(want))) fail_msg("log(%.17g): %.17g, libm %.17g", u, got, want);
  }
  assert_true(ft_log_unit(1.0) == 0.0);
  assert_true(fabs(ft_log_unit(0x1.0p-53) - log(0x1.0p-53)) < 1e-9);
  assert_true(fabs(ft_log_unit(0.5) - log(0.5)) < 1e-12);
}

/* The countdown is ceil of an exponential: mean N + 1/2 within 5 sigma
** (sigma of the mean = N / sqrt(draws)), never 0. */
static void countdown_mean(void **state) {
  (void)state;
  const uint64_t n = 524288;
  const int draws = 200000;
  ft_rng r;
  ft_rng_seed(&r, 12345, 0);
  double sum = 0;
  uint64_t below_mean = 0;
  for (int i = 0; i < draws; i++) {
    uint64_t c = ft_sample_draw(&r, n);
    assert_true(c >= 1);
    sum += (double)c;
    below_mean += c <= n;
  }
  double mean = sum / draws, sigma = (double)n / sqrt(draws);
  if (fabs(mean - (double)n - 0.5) > 5 * sigma) fail_msg("countdown mean %.0f, expected %llu +- %.0f", mean, (unsigned long long)n, 5 * sigma);
  /* P(X <= N) = 1 - 1/e for an exponential. */
  double p = 1 - exp(-1.0), frac = (double)below_mean / draws, sp = sqrt(p * (1 - p) / draws);
  assert_true(fabs(frac - p) < 5 * sp);
  /* Tiny means still give countdowns >= 1. */
  for (int i = 0; i < 1000; i++) assert_true(ft_sample_draw(&r, 1) >= 1);
}

/* One allocation size over many trials, each after a fresh countdown and
** after a run of other allocations: sampled with p = 1 - exp(-s/N) within
** 5 sigma; size 0 never. */
static void sample_probability(void **state) {
  (void)state;
  const uint64_t n = 65536;
  const uint64_t sizes[] = {64, 4096, 65536, 300000};
  ft_rng r;
  ft_rng_seed(&r, 99, 3);
  uint64_t countdown = ft_sample_draw(&r, n);
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    const int trials = 200000;
    int hits = 0;
    for (int i = 0; i < trials; i++) {
      /* Other traffic in between: memorylessness makes it irrelevant. */
      ft_sample_take(&countdown, &r, n, 1000 + (uint64_t)(i % 7) * 333);
      hits += ft_sample_take(&countdown, &r, n, sizes[k]);
    }
    double p = 1 - exp(-(double)sizes[k] / (double)n), sigma = sqrt(p * (1 - p) / trials);
    double got = (double)hits / trials;
    if (fabs(got - p) > 5 * sigma) fail_msg("size %llu: sampled %.5f, expected %.5f +- %.5f", (unsigned long long)sizes[k], got, p, 5 * sigma);
  }
  for (int i = 0; i < 100000; i++) assert_int_equal(ft_sample_take(&countdown, &r, n, 0), 0);
}

/* The same seed and ordinal give the same decisions; another ordinal not. */
static void seed_determinism(void **state) {
  (void)state;
  ft_rng a, b, c;
  ft_rng_seed(&a, 42, 0);
  ft_rng_seed(&b, 42, 0);
  ft_rng_seed(&c, 42, 1);
  int same_c = 1;
  for (int i = 0; i < 1000; i++) {
    uint64_t x = ft_sample_draw(&a, 4096), y = ft_sample_draw(&b, 4096), z = ft_sample_draw(&c, 4096);
    assert_int_equal(x, y);
    same_c &= x == z;
  }
  assert_false(same_c);
}

static ft_stable *new_table(uint64_t slots, void **mem) {
  ft_stable *t = calloc(1, sizeof *t);
  *mem = calloc(1, ft_stable_bytes(slots));
  ft_stable_init(t, *mem, slots);
  return t;
}

static void table_basic(void **state) {
  (void)state;
  void *mem;
  ft_stable *t = new_table(1024, &mem);
  uintptr_t a = 0x7f0000001010, b = 0x7f0000002020;
  assert_false(ft_stable_maybe(t, a));
  assert_false(ft_stable_contains(t, a));
  assert_int_equal(ft_stable_remove(t, a), 0);
  assert_int_equal(ft_stable_insert(t, a), 1);
  assert_true(ft_stable_maybe(t, a));
  assert_true(ft_stable_contains(t, a));
  assert_false(ft_stable_contains(t, b));
  assert_int_equal(ft_stable_remove(t, b), 0);
  assert_int_equal(ft_stable_remove(t, a), 1);
  assert_false(ft_stable_contains(t, a));
  assert_int_equal(ft_stable_remove(t, a), 0);
  assert_false(ft_stable_maybe(t, a)); /* its filter counter is back to 0 */
  /* Many entries, then all removed: everything found, then nothing. */
  for (uintptr_t i = 1; i <= 500; i++) assert_int_equal(ft_stable_insert(t, i * 48), 1);
  for (uintptr_t i = 1; i <= 500; i++) assert_true(ft_stable_contains(t, i * 48));
  for (uintptr_t i = 1; i <= 500; i++) assert_int_equal(ft_stable_remove(t, i * 48), 1);
  for (uintptr_t i = 1; i <= 500; i++) assert_false(ft_stable_maybe(t, i * 48));
  free(mem);
  free(t);
}

/* Tombstones are reused: insert/remove cycles of distinct addresses, far
** more than the table has slots, never run out of room. */
static void table_tombstones(void **state) {
  (void)state;
  void *mem;
  ft_stable *t = new_table(1024, &mem);
  uintptr_t live[256];
  for (int i = 0; i < 256; i++) assert_int_equal(ft_stable_insert(t, live[i] = 0x10000 + (uintptr_t)i * 16), 1);
  for (uintptr_t k = 0; k < 200000; k++) {
    int j = (int)(k % 256);
    assert_int_equal(ft_stable_remove(t, live[j]), 1);
    live[j] = 0x1000000 + k * 16;
    if (ft_stable_insert(t, live[j]) != 1) fail_msg("insert %llu failed: tombstones not reused", (unsigned long long)k);
  }
  for (int i = 0; i < 256; i++) assert_true(ft_stable_contains(t, live[i]));
  free(mem);
  free(t);
}

/* A full table reports failure instead of losing entries; the entries it
** took are all there. */
static void table_full(void **state) {
  (void)state;
  void *mem;
  ft_stable *t = new_table(1024, &mem);
  int ok = 0, failed = 0;
  for (uintptr_t i = 1; i <= 2048; i++) {
    if (ft_stable_insert(t, i * 16)) ok++;
    else failed++;
  }
  assert_true(ok <= 1024);
  assert_true(ok >= 900); /* a window of 32 fills the table well */
  assert_int_equal(ok + failed, 2048);
  int found = 0;
  for (uintptr_t i = 1; i <= 2048; i++) found += ft_stable_contains(t, i * 16);
  assert_int_equal(found, ok);
  free(mem);
  free(t);
}

/* A filter counter saturates at 255 and then stays "maybe" for good. */
static void filter_saturation(void **state) {
  (void)state;
  void *mem;
  ft_stable *t = new_table(4096, &mem);
  /* Addresses with the same filter index: differ only above the hashed bits. */
  uintptr_t base = 0x10;
  unsigned idx = ft_filter_index(base);
  uintptr_t same[300];
  int n = 0;
  for (uintptr_t a = base; n < 300; a += (uintptr_t)1 << 32)
    if (ft_filter_index(a) == idx) same[n++] = a;
  int inserted = 0;
  for (int i = 0; i < 300; i++) inserted += ft_stable_insert(t, same[i]);
  assert_int_equal(inserted, 300);
  for (int i = 0; i < 300; i++) assert_int_equal(ft_stable_remove(t, same[i]), 1);
  assert_true(ft_stable_maybe(t, base)); /* saturated: stays maybe */
  assert_false(ft_stable_contains(t, base));
  free(mem);
  free(t);
}

typedef struct worker_arg {
  ft_stable *t;
  uintptr_t base;
  int errors;
} worker_arg;

/* Insert and remove its own addresses many times, checking each. */
static void *worker(void *p) {
  worker_arg *w = p;
  for (int round = 0; round < 200; round++) {
    for (uintptr_t i = 0; i < 300; i++)
      if (!ft_stable_insert(w->t, w->base + i * 32)) w->errors++;
    for (uintptr_t i = 0; i < 300; i++)
      if (!ft_stable_contains(w->t, w->base + i * 32)) w->errors++;
    for (uintptr_t i = 0; i < 300; i++)
      if (ft_stable_remove(w->t, w->base + i * 32) != 1) w->errors++;
  }
  return NULL;
}

static void table_two_threads(void **state) {
  (void)state;
  void *mem;
  ft_stable *t = new_table(4096, &mem);
  worker_arg a = {t, 0x100000, 0}, b = {t, 0x100010, 0}; /* interleaved addresses */
  pthread_t ta, tb;
  pthread_create(&ta, NULL, worker, &a);
  pthread_create(&tb, NULL, worker, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  assert_int_equal(a.errors, 0);
  assert_int_equal(b.errors, 0);
  for (uintptr_t i = 0; i < 600; i++) assert_false(ft_stable_contains(t, 0x100000 + i * 16));
  free(mem);
  free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(log_unit),          cmocka_unit_test(countdown_mean),    cmocka_unit_test(sample_probability),
      cmocka_unit_test(seed_determinism),  cmocka_unit_test(table_basic),       cmocka_unit_test(table_tombstones),
      cmocka_unit_test(table_full),        cmocka_unit_test(filter_saturation), cmocka_unit_test(table_two_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
