/*
** ft_pack.c — encoder and decoder of EVENTS_PACKED chunks (see ft_pack.h).
*/
#include "ft_pack.h"

#include <string.h>

void ft_pack_reset(ft_pack_state *st) { memset(st, 0, sizeof *st); }

static uint8_t *put_varint(uint8_t *o, uint64_t v) {
  while (v >= 0x80) {
    *o++ = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  *o++ = (uint8_t)v;
  return o;
}

static uint64_t zigzag(uint64_t delta) { return (delta << 1) ^ (uint64_t)((int64_t)delta >> 63); }
static uint64_t unzigzag(uint64_t z) { return (z >> 1) ^ (uint64_t)(-(int64_t)(z & 1)); }

static uint8_t *put_u64(uint8_t *o, uint64_t v) {
  memcpy(o, &v, 8); /* little-endian hosts only write and read these files */
  return o + 8;
}

/* Slot of h in the cache, or FT_PACK_CACHE after inserting it. */
static unsigned cache_slot(ft_pack_state *st, uint64_t h, int *hit) {
  for (unsigned i = 0; i < FT_PACK_CACHE; i++)
    if (st->cache[i] == h && h != 0) {
      *hit = 1;
      return i;
    }
  *hit = 0;
  st->cache[st->next_slot] = h;
  st->next_slot = (st->next_slot + 1) % FT_PACK_CACHE;
  return FT_PACK_CACHE;
}

size_t ft_pack_encode(ft_pack_state *st, const ft_event *rec, uint64_t mask, uint64_t start, uint64_t n,
                      uint8_t *out) {
  uint8_t *o = out;
  for (uint64_t i = 0; i < n; i++) {
    const ft_event *e = &rec[(start + i) & mask];
    unsigned type = FT_EV_TYPE(e->t_type);
    if (type == FT_EV_STACK) {
      *o++ = 0xff;
      o = put_u64(o, e->s);
      o = put_varint(o, e->n);
      uint64_t prev = 0;
      for (uint64_t k = 0; k < e->n; k++) {
        const uint64_t *ips = (const uint64_t *)&rec[(start + i + 1 + k / FT_IPS_PER_RECORD) & mask];
        uint64_t ip = ips[k % FT_IPS_PER_RECORD];
        o = put_varint(o, zigzag(ip - prev));
        prev = ip;
      }
      i += (e->n + FT_IPS_PER_RECORD - 1) / FT_IPS_PER_RECORD;
      continue;
    }
    uint64_t t = FT_EV_TIME(e->t_type);
    int is_alloc = type <= FT_EV_MMAP, hit = 0;
    unsigned slot = is_alloc ? cache_slot(st, e->s, &hit) : 0;
    *o++ = (uint8_t)(type | (slot << 4));
    o = put_varint(o, t - st->t); /* times only grow within one thread */
    o = put_varint(o, zigzag(e->a - st->addr));
    if (is_alloc || type == FT_EV_MUNMAP) o = put_varint(o, e->n);
    if (is_alloc && !hit) o = put_u64(o, e->s);
    st->t = t;
    st->addr = e->a;
  }
  return (size_t)(o - out);
}

/* Bounds-checked readers for the decoder; they set *bad on overrun. */
static uint64_t get_varint(const uint8_t **p, const uint8_t *end, int *bad) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) break;
    uint8_t b = *(*p)++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  *bad = 1;
  return 0;
}

static uint64_t get_u64(const uint8_t **p, const uint8_t *end, int *bad) {
  uint64_t v = 0;
  if (end - *p < 8) {
    *bad = 1;
    return 0;
  }
  memcpy(&v, *p, 8);
  *p += 8;
  return v;
}

long ft_pack_decode(const uint8_t *in, size_t len, ft_event *out, size_t cap) {
  ft_pack_state st;
  ft_pack_reset(&st);
  const uint8_t *p = in, *end = in + len;
  size_t n = 0;
  int bad = 0;
#define EMIT(ev)                  \
  do {                            \
    if (n < cap) out[n] = (ev);   \
    n++;                          \
  } while (0)
  while (p < end && !bad) {
    uint8_t tag = *p++;
    unsigned type = tag & 0x0f, slot = tag >> 4;
    if (tag == 0xff) {
      ft_event h = {FT_EV_MAKE(0, FT_EV_STACK), 0, 0, 0};
      h.s = get_u64(&p, end, &bad);
      h.n = get_varint(&p, end, &bad);
      if (bad || h.n > 4096) return -1;
      EMIT(h);
      uint64_t prev = 0;
      ft_event rec;
      uint64_t *ips = (uint64_t *)&rec;
      for (uint64_t k = 0; k < h.n; k++) {
        if (k % FT_IPS_PER_RECORD == 0) memset(&rec, 0, sizeof rec);
        prev += unzigzag(get_varint(&p, end, &bad));
        ips[k % FT_IPS_PER_RECORD] = prev;
        if (k % FT_IPS_PER_RECORD == FT_IPS_PER_RECORD - 1 || k + 1 == h.n) EMIT(rec);
      }
      continue;
    }
    int is_alloc = type <= FT_EV_MMAP;
    if (!is_alloc && type != FT_EV_FREE && type != FT_EV_MUNMAP) return -1;
    if (!is_alloc && slot != 0) return -1;
    ft_event e = {0, 0, 0, 0};
    st.t += get_varint(&p, end, &bad);
    st.addr += unzigzag(get_varint(&p, end, &bad));
    e.t_type = FT_EV_MAKE(st.t, type);
    e.a = st.addr;
    if (is_alloc || type == FT_EV_MUNMAP) e.n = get_varint(&p, end, &bad);
    if (is_alloc) {
      if (slot == FT_PACK_CACHE) {
        e.s = get_u64(&p, end, &bad);
        st.cache[st.next_slot] = e.s;
        st.next_slot = (st.next_slot + 1) % FT_PACK_CACHE;
      } else {
        e.s = st.cache[slot];
      }
    }
    if (bad) return -1;
    EMIT(e);
  }
#undef EMIT
  return bad ? -1 : (long)n;
}
