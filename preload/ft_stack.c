/*
** ft_stack.c — stack capture and hashing (see ft_stack.h).
*/
#define UNW_LOCAL_ONLY
#include "ft_stack.h"

#include <fcntl.h>
#include <unistd.h>

#include <libunwind.h>

#include "ft_config.h"
#include "ft_prim.h"

uintptr_t ft_own_lo, ft_own_hi; /* written once at init, read-only afterwards */


/* libunwind opens a pipe on first use (to validate memory while unwinding)
** at the lowest free descriptors, and when it later finds that pipe closed it
** closes and reopens it: if the program had closed every descriptor and
** opened files of its own under those numbers, libunwind would write into
** and then close the program's files. So make its first use happen while
** the low numbers are taken, and the pipe lands far above them. */
static void warm_up_unwinder_high(void) {
  int fill[FT_FD_HIGH], n = 0;
  int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (nullfd >= 0) fill[n++] = nullfd;
  while (nullfd >= 0 && n < FT_FD_HIGH) {
    int d = fcntl(nullfd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) break;
    fill[n++] = d;
    if (d >= FT_FD_HIGH) break;
  }
  /* Either call initializes libunwind (and opens the pipe). */
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  void *ips[4];
  unw_backtrace(ips, 4);
  while (n > 0) close(fill[--n]);
}

void ft_stack_setup(uintptr_t lo, uintptr_t hi) {
  ft_own_lo = lo;
  ft_own_hi = hi;
  warm_up_unwinder_high();
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
