/*
** ft_sampling.c — the countdown draw and the sampled-block table of byte
** sampling (see ft_sampling.h). Pure code: no syscalls, no malloc, no libm.
*/
#include "ft_sampling.h"

#include <assert.h>
#include <string.h>

double ft_log_unit(double u) {
  assert(u > 0.0 && u <= 1.0);
  /* u = m * 2^e with m in [sqrt(1/2), sqrt(2)): ln u = e ln 2 + ln m, and
  ** ln m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172: six odd terms reach 1e-11. */
  uint64_t bits;
  memcpy(&bits, &u, sizeof bits);
  int e = (int)((bits >> 52) & 0x7ff) - 1023;
  bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
  double m;
  memcpy(&m, &bits, sizeof m);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double series = 1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11)))));
  return (double)e * 0.6931471805599453 + 2.0 * s * series;
}

uint64_t ft_sample_draw(ft_rng *r, uint64_t mean) {
  double x = -(double)mean * ft_log_unit(ft_rng_unit(r)); /* exponential, mean `mean` */
  if (x >= 4.611686018427388e18) return (uint64_t)1 << 62;
  uint64_t c = (uint64_t)x;
  if ((double)c < x) c++; /* ceil: keeps p(s) = P(X <= s) exact for integer s */
  return c ? c : 1;
}

size_t ft_stable_bytes(uint64_t slots) { return (size_t)slots * sizeof(uint64_t) + FT_FILTER_SLOTS; }

void ft_stable_init(ft_stable *t, void *mem, uint64_t slots) {
  assert(slots >= 2 && (slots & (slots - 1)) == 0);
  t->slot = (_Atomic uint64_t *)mem;
  t->filter = (_Atomic uint8_t *)((char *)mem + slots * sizeof(uint64_t));
  t->mask = slots - 1;
  unsigned k = 0;
  while (((uint64_t)1 << k) < slots) k++;
  t->shift = 64 - k;
}

/* Home slot of an address: the top bits of a full mix, independent of the
** filter's bits. */
static inline uint64_t home_of(const ft_stable *t, uintptr_t a) { return ft_mix64((uint64_t)a) >> t->shift; }

/* Saturating counter step: once at 255 a counter stays there for good (it
** may undercount removals afterwards, so it must never come back down). */
static void filter_add(ft_stable *t, uintptr_t a, int delta) {
  _Atomic uint8_t *c = &t->filter[ft_filter_index(a)];
  uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
  for (;;) {
    if (v == 255) return;
    assert(delta > 0 || v > 0);
    if (atomic_compare_exchange_weak_explicit(c, &v, (uint8_t)(v + delta), memory_order_release,
                                              memory_order_relaxed))
      return;
  }
}

int ft_stable_insert(ft_stable *t, uintptr_t a) {
  assert(a > FT_STABLE_TOMB);
  uint64_t h = home_of(t, a);
  for (unsigned i = 0; i < FT_STABLE_PROBES; i++) {
    _Atomic uint64_t *s = &t->slot[(h + i) & t->mask];
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed);
    while (v == FT_STABLE_EMPTY || v == FT_STABLE_TOMB) {
      if (atomic_compare_exchange_weak_explicit(s, &v, (uint64_t)a, memory_order_release, memory_order_relaxed)) {
        filter_add(t, a, +1);
        return 1;
      }
    }
  }
  return 0;
}

int ft_stable_remove(ft_stable *t, uintptr_t a) {
  uint64_t h = home_of(t, a);
  for (unsigned i = 0; i < FT_STABLE_PROBES; i++) {
    _Atomic uint64_t *s = &t->slot[(h + i) & t->mask];
    uint64_t v = atomic_load_explicit(s, memory_order_acquire);
    if (v == FT_STABLE_EMPTY) return 0; /* slots never return to empty: a is not further on */
    /* A failed CAS means another thread took this copy (a block freed and
    ** reallocated at the same address has two entries for an instant): go on. */
    if (v == (uint64_t)a &&
        atomic_compare_exchange_strong_explicit(s, &v, FT_STABLE_TOMB, memory_order_acq_rel, memory_order_relaxed)) {
      filter_add(t, a, -1);
      return 1;
    }
  }
  return 0;
}

int ft_stable_contains(const ft_stable *t, uintptr_t a) {
  uint64_t h = home_of(t, a);
  for (unsigned i = 0; i < FT_STABLE_PROBES; i++) {
    uint64_t v = atomic_load_explicit(&t->slot[(h + i) & t->mask], memory_order_acquire);
    if (v == FT_STABLE_EMPTY) return 0;
    if (v == (uint64_t)a) return 1;
  }
  return 0;
}
