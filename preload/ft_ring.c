/*
** ft_ring.c — the per-thread SPSC event ring (see ft_ring.h).
*/
#include "ft_ring.h"

#include <assert.h>
#include <string.h>

#include "ft_prim.h"

int ft_ring_init(ft_ring *r, size_t min_records) {
  size_t cap = 64;
  while (cap < min_records) cap <<= 1;
  memset(r, 0, sizeof *r);
  r->rec = ft_os_alloc(cap * sizeof(ft_event));
  if (!r->rec) return -1;
  r->mask = cap - 1;
  return 0;
}

void ft_ring_destroy(ft_ring *r) {
  if (r->rec) ft_os_free(r->rec, (r->mask + 1) * sizeof(ft_event));
  r->rec = NULL;
}

uint64_t ft_ring_peek(ft_ring *r, struct iovec iov[2], int *iov_n) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  uint64_t n = head - tail;
  assert(n <= r->mask + 1);
  *iov_n = 0;
  if (n == 0) return 0;
  uint64_t cap = r->mask + 1, start = tail & r->mask;
  uint64_t first = n < cap - start ? n : cap - start;
  iov[0].iov_base = &r->rec[start];
  iov[0].iov_len = first * sizeof(ft_event);
  *iov_n = 1;
  if (first < n) {
    iov[1].iov_base = &r->rec[0];
    iov[1].iov_len = (n - first) * sizeof(ft_event);
    *iov_n = 2;
  }
  return n;
}

void ft_ring_consume(ft_ring *r, uint64_t n) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  atomic_store_explicit(&r->tail, tail + n, memory_order_release);
}
