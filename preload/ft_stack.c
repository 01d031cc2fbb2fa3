/*
** ft_stack.c — stack capture and hashing (see ft_stack.h).
*/
#define UNW_LOCAL_ONLY
#include "ft_stack.h"

#include <libunwind.h>

#include "ft_config.h"

uintptr_t ft_own_lo, ft_own_hi; /* written once at init, read-only afterwards */

void ft_stack_setup(uintptr_t lo, uintptr_t hi) {
  ft_own_lo = lo;
  ft_own_hi = hi;
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

uint64_t ft_stack_hash(const uint64_t *ips, int n) {
  /* Multiply-xorshift per word (splitmix64 finaliser); collisions across a
  ** trace's distinct stacks are ~n^2/2^65, documented in schema/README.md. */
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
  for (int i = 0; i < n; i++) {
    uint64_t x = ips[i] + h;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    h = x ^ (x >> 31);
  }
  return h ? h : 1;
}
