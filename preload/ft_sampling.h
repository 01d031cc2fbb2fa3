/*
** ft_sampling.h — byte sampling for production mode (issue 5): the per-thread
** random countdown that decides which allocations are recorded, and the
** process-wide table of recorded ("sampled") blocks that lets a free find out
** cheaply whether its block was one of them.
**
** Countdown: each thread holds c = ceil(X) bytes, X exponential with mean N.
** An allocation of s bytes with s < c only does c -= s; with s >= c it is
** sampled and a fresh c is drawn. Since X is memoryless, ceil(X) - s given
** ceil(X) > s is again ceil of an exponential of mean N, so every
** allocation is sampled independently with p(s) = 1 - exp(-s/N) (s integer:
** X <= s iff ceil(X) <= s). s = 0 gives p = 0: never sampled.
**
** Table: open addressing over 2^k slots of addresses (0 empty, 1 tombstone),
** CAS insert into the first empty or tombstone slot of a bounded window
** (FT_STABLE_PROBES), delete by CAS to a tombstone. Slots never go back to
** empty, so a lookup may stop at the first empty slot. In front of it a
** 16 KiB filter of 8-bit counters (hash of the address): a free whose
** counter is 0 knows at once that its block was not sampled, without
** touching the table. Counters saturate at 255 and then stay there (the
** filter only answers "maybe" for that bucket from then on).
**
** Memory ordering: a block is inserted before the allocating hook returns
** and removed by the freeing hook before the real free, so the program's own
** hand-over of the pointer orders every insert before its remove; relaxed
** filter reads on the hot path are enough.
**
** Pure code (no syscalls, no malloc): unit-tested in tests/unit/test_sampling.c.
*/
#ifndef FT_SAMPLING_H
#define FT_SAMPLING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- random numbers and the countdown ---- */

/* splitmix64's finalizer: a bijective 64-bit mix (seeds, table hashes). */
static inline uint64_t ft_mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* splitmix64 generator: 8 bytes of state, passes BigCrush; plenty for
** drawing one countdown per sampled allocation. */
typedef struct ft_rng {
  uint64_t s;
} ft_rng;

static inline uint64_t ft_rng_next(ft_rng *r) {
  r->s += 0x9e3779b97f4a7c15ull;
  return ft_mix64(r->s);
}

/* Seed a thread's generator from the image seed and the thread's ordinal
** (0 for the first thread that allocates): deterministic for a given
** FRAGTRACE_SEED and a single-threaded program. */
static inline void ft_rng_seed(ft_rng *r, uint64_t seed, uint64_t ordinal) {
  r->s = seed ^ ft_mix64(ordinal + 1);
}

/* Natural logarithm of u in (0, 1], without libm (|error| < 1e-9). */
double ft_log_unit(double u);

/* Uniform double in (0, 1] from 53 random bits. */
static inline double ft_rng_unit(ft_rng *r) { return (double)((ft_rng_next(r) >> 11) + 1) * 0x1.0p-53; }

/* A fresh countdown: ceil(-mean * ln U), at least 1, at most 2^62. */
uint64_t ft_sample_draw(ft_rng *r, uint64_t mean);

/* The hot-path decision for an allocation of size bytes: 0 (not sampled,
** countdown lowered) or 1 (sampled, a fresh countdown drawn). */
static inline int ft_sample_take(uint64_t *countdown, ft_rng *r, uint64_t mean, uint64_t size) {
  if (__builtin_expect(size < *countdown, 1)) {
    *countdown -= size;
    return 0;
  }
  *countdown = ft_sample_draw(r, mean);
  return 1;
}

/* ---- the sampled-block table ---- */

#define FT_STABLE_PROBES 32     /* longest probe window: bounds insert, lookup and delete */
#define FT_FILTER_SLOTS 16384   /* 8-bit counters: 16 KiB, stays in L1/L2 */
#define FT_STABLE_EMPTY 0u
#define FT_STABLE_TOMB 1u       /* heap addresses are aligned, never 1 */

typedef struct ft_stable {
  _Atomic uint64_t *slot;  /* 2^k addresses */
  _Atomic uint8_t *filter; /* FT_FILTER_SLOTS counters, right after the slots */
  uint64_t mask;           /* slots - 1 */
  unsigned shift;          /* 64 - k: the home slot is the top k bits of the hash */
} ft_stable;

/* Bytes of zeroed memory ft_stable_init needs for slots (a power of two). */
size_t ft_stable_bytes(uint64_t slots);

/* Set t up over mem (ft_stable_bytes(slots) zeroed bytes). */
void ft_stable_init(ft_stable *t, void *mem, uint64_t slots);

/* Filter bucket of an address: cheap and spread over the low and middle bits
** (blocks are 16-byte aligned; mmapped blocks sit at page offset 16). */
static inline unsigned ft_filter_index(uintptr_t a) {
  return (unsigned)(((a >> 4) ^ (a >> 17)) & (FT_FILTER_SLOTS - 1));
}

/* 0 when a is certainly not in the table; 1 when it may be. */
static inline int ft_stable_maybe(const ft_stable *t, uintptr_t a) {
  return atomic_load_explicit(&t->filter[ft_filter_index(a)], memory_order_relaxed) != 0;
}

/* Add a (>= 2). Returns 1, or 0 when its probe window is full (a is not
** added: the caller counts it as untracked). */
int ft_stable_insert(ft_stable *t, uintptr_t a);

/* Remove one entry of a. Returns 1 when there was one, else 0. */
int ft_stable_remove(ft_stable *t, uintptr_t a);

/* Whether a is in the table (tests and diagnostics). */
int ft_stable_contains(const ft_stable *t, uintptr_t a);

#endif
