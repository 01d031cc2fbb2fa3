/*
** ft_prim.h — the thin OS layer under the shim: clocks, raw memory from the
** kernel, whole writes, futex waits, and stderr messages without stdio.
** Everything here is async-signal-careful and never calls malloc, because
** the shim calls it from inside malloc.
*/
#ifndef FT_PRIM_H
#define FT_PRIM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* CLOCK_MONOTONIC in ns (vDSO: no syscall). */
uint64_t ft_now_ns(void);

/* Event timestamps. In TSC mode (x86-64 with the kernel's clocksource on the
** TSC) they are rdtscp ticks, converted to ns offline from FT_CHUNK_CLOCK
** pairs; otherwise ns. rdtscp waits for earlier loads, so an allocation
** stamped after malloc returned is ordered after the free that released the
** block on another CPU. Set once at init by ft_ticks_init. */
extern int ft_tsc_mode;
int ft_ticks_init(void);
static inline uint64_t ft_ticks(void) {
#if defined(__x86_64__)
  if (ft_tsc_mode) {
    unsigned aux;
    return __builtin_ia32_rdtscp(&aux);
  }
#endif
  return ft_now_ns();
}
/* ft_ticks(), with later loads kept after the read (x86: lfence; elsewhere a
** full fence). The recording check that follows it then cannot see an older
** pause flag than the stamp's instant: see ft_control.c. */
static inline uint64_t ft_ticks_fenced(void) {
  uint64_t t = ft_ticks();
#if defined(__x86_64__)
  __builtin_ia32_lfence();
#else
  atomic_thread_fence(memory_order_seq_cst);
#endif
  return t;
}
/* CLOCK_REALTIME in ns. */
uint64_t ft_unix_ns(void);

/* Page-granular memory straight from the kernel (raw syscall, so it never
** goes through our own mmap hook). Returns NULL on failure. */
void *ft_os_alloc(size_t bytes);
void ft_os_free(void *p, size_t bytes);
/* ft_os_alloc with every page faulted in now (MAP_POPULATE): for memory the
** hot path touches at random, whose first-touch faults would otherwise land
** on the program's threads (and contend with its own mmap_lock users). */
void *ft_os_alloc_populated(size_t bytes);

/* Write all of iov[0..n) with writev, retrying on EINTR and short writes.
** Returns 0, or -1 on error. */
int ft_writev_all(int fd, struct iovec *iov, int n);

/* Descriptors of our threads live at or above this number: programs that
** close every descriptor and open their own files reuse the low numbers first. */
#define FT_FD_HIGH 200

/* open() with O_CLOEXEC, the result moved to a number >= FT_FD_HIGH when
** possible, so that the low number is ours only for a few instructions. */
int ft_open_high(const char *path, int flags, mode_t mode);

/* Read up to cap-1 bytes of a small file (/proc text) into buf and
** NUL-terminate it. Returns the length, or -1. */
ssize_t ft_read_small_file(const char *path, char *buf, size_t cap);

/* Wait while *word == expected, for at most timeout_ns (0: no timeout).
** Spurious wake-ups are allowed. */
void ft_futex_wait(atomic_uint *word, unsigned expected, uint64_t timeout_ns);
/* Wake every waiter on word. */
void ft_futex_wake(atomic_uint *word);

/* Thread id of the caller (gettid). */
int ft_gettid(void);

/* One line "fragtrace: <a><b><c>\n" on stderr (any of b, c may be NULL). */
void ft_warn3(const char *a, const char *b, const char *c);

#endif
