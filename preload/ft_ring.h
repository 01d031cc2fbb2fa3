/*
** ft_ring.h — the per-thread event ring: single producer (the owning thread),
** single consumer (whoever holds the shim's drain lock). Lock-free: the
** producer publishes with a release store of `head`, the consumer frees space
** with a release store of `tail`. Records are fixed-size ft_events.
*/
#ifndef FT_RING_H
#define FT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ft_format.h"

typedef struct ft_ring {
  _Alignas(64) _Atomic uint64_t head; /* records published; only written by the producer */
  uint64_t tail_cache;                /* producer's last view of tail; producer-private */
  _Alignas(64) _Atomic uint64_t tail; /* records consumed; only written by the consumer */
  uint64_t mask;                      /* capacity - 1; capacity is a power of two */
  ft_event *rec;                      /* capacity records, from ft_os_alloc */
} ft_ring;

/* Set up a ring of at least min_records (rounded up to a power of two,
** >= 64). Returns 0, or -1 when memory is unavailable. */
int ft_ring_init(ft_ring *r, size_t min_records);
/* Return the ring's memory to the kernel. Only when no one uses it. */
void ft_ring_destroy(ft_ring *r);

/* Producer: room for n contiguous-in-sequence records? Refreshes the cached
** tail only when the cached view says no. */
static inline int ft_ring_has_room(ft_ring *r, uint64_t n) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  if (head + n - r->tail_cache <= r->mask + 1) return 1;
  r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
  return head + n - r->tail_cache <= r->mask + 1;
}

/* Producer: the slot for the i-th record after head (call after has_room). */
static inline ft_event *ft_ring_slot(ft_ring *r, uint64_t i) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  return &r->rec[(head + i) & r->mask];
}

/* Producer: make n written records visible to the consumer. */
static inline void ft_ring_publish(ft_ring *r, uint64_t n) {
  uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  atomic_store_explicit(&r->head, head + n, memory_order_release);
}

/* Producer: records currently waiting for the consumer (approximate). */
static inline uint64_t ft_ring_used(ft_ring *r) {
  return atomic_load_explicit(&r->head, memory_order_relaxed) - r->tail_cache;
}

/* Consumer: describe the published, unconsumed records as at most two
** iovecs (the ring may wrap). Returns the record count; iov_n gets 0..2. */
uint64_t ft_ring_peek(ft_ring *r, struct iovec iov[2], int *iov_n);
/* Consumer: release n records previously returned by ft_ring_peek. */
void ft_ring_consume(ft_ring *r, uint64_t n);

#endif
