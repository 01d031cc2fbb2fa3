/*
** ft_stack.h — capturing and hashing call stacks in the allocating thread.
** libunwind's unw_backtrace with its per-thread cache does the walk; frames
** inside the shim itself are cut off so depth 0 is the caller of malloc.
*/
#ifndef FT_STACK_H
#define FT_STACK_H

#include <stdint.h>

/* Tell the capturer which text range is ours (frames there are skipped) and
** switch libunwind to per-thread caching. Call once at init. */
void ft_stack_setup(uintptr_t own_lo, uintptr_t own_hi);

/* The shim's own text range, set by ft_stack_setup. */
extern uintptr_t ft_own_lo, ft_own_hi;

int unw_backtrace(void **buffer, int size); /* libunwind; declared here to keep its headers out */

/* Capture up to max (<= 256) return addresses of the current call stack,
** innermost first, without the shim's own frames. Returns the frame count.
** Inline so that it adds no frame of its own to walk. */
static inline __attribute__((always_inline)) int ft_stack_capture(uint64_t *ips, int max) {
  void *buf[256 + 8];
  int n = unw_backtrace(buf, max + 8); /* room for our own frames on top */
  int skip = 0;
  while (skip < n && (uintptr_t)buf[skip] >= ft_own_lo && (uintptr_t)buf[skip] < ft_own_hi) skip++;
  int out = 0;
  for (int i = skip; i < n && out < max; i++) ips[out++] = (uint64_t)(uintptr_t)buf[i];
  return out;
}

/* 64-bit hash of a stack; never 0 (0 means "no stack" in ft_event.s). */
uint64_t ft_stack_hash(const uint64_t *ips, int n);

#endif
