/* test_stack.c — stack capture cuts frames inside the "own" text range and
** starts at the caller; hashing is deterministic, order-sensitive, never 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ft_config.h"
#include "ft_stack.h"

static uint64_t captured[FT_MAX_DEPTH];
static int captured_n;
static void *expected_return;

static __attribute__((noinline)) void capture_here(void) {
  captured_n = ft_stack_capture(captured, 16);
  expected_return = __builtin_return_address(0);
  __asm__ volatile("" ::: "memory");
}

static __attribute__((noinline)) void outer(void) {
  capture_here();
  __asm__ volatile("" ::: "memory");
}

static void capture_skips_own_range(void **state) {
  (void)state;
  /* Treat capture_here's code as "ours": the first frame must then be the
  ** return address into outer(). */
  ft_stack_setup((uintptr_t)capture_here, (uintptr_t)capture_here + 64);
  outer();
  assert_true(captured_n >= 2);
  int found = 0;
  for (int i = 0; i < captured_n; i++) found |= captured[i] == (uint64_t)(uintptr_t)expected_return;
  assert_true(found);
  assert_int_equal(captured[0], (uint64_t)(uintptr_t)expected_return);
  /* With no own range at all, capture_here's own frame shows up first. */
  ft_stack_setup(0, 0);
  outer();
  assert_true(captured_n >= 3);
  assert_int_not_equal(captured[0], (uint64_t)(uintptr_t)expected_return);
}

static void capture_respects_max(void **state) {
  (void)state;
  ft_stack_setup(0, 0);
  uint64_t ips[FT_MAX_DEPTH];
  assert_int_equal(ft_stack_capture(ips, 1), 1);
}

static void hash_properties(void **state) {
  (void)state;
  uint64_t a[3] = {1, 2, 3}, b[3] = {3, 2, 1}, c[3] = {1, 2, 3};
  assert_int_equal(ft_stack_hash(a, 3), ft_stack_hash(c, 3));
  assert_int_not_equal(ft_stack_hash(a, 3), ft_stack_hash(b, 3));
  assert_int_not_equal(ft_stack_hash(a, 3), ft_stack_hash(a, 2));
  assert_int_not_equal(ft_stack_hash(a, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(capture_skips_own_range),
      cmocka_unit_test(capture_respects_max),
      cmocka_unit_test(hash_properties),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
