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

/* Capture up to max return addresses of the current call stack, innermost
** first, without the shim's own frames. Returns the frame count (>= 0). */
int ft_stack_capture(uint64_t *ips, int max);

/* 64-bit hash of a stack; never 0 (0 means "no stack" in ft_event.s). */
uint64_t ft_stack_hash(const uint64_t *ips, int n);

#endif
