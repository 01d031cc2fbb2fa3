/*
** ft_spillbuild.h — building raw spill files in memory for the importer's
** unit tests (test_import.c, test_follow_import.c): the file header, chunks
** padded to 8 bytes, raw and packed event chunks (packed as the shim does),
** and the small process-level chunks. Header-only: static inline, so a test
** that uses a part of it gets no unused-function warning for the rest.
** Tests define PG (the spill's page size) before including it.
*/
#ifndef FT_SPILLBUILD_H
#define FT_SPILLBUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ft_format.h"
#include "ft_pack.h"

typedef struct sb {
  unsigned char *b;
  size_t n, cap;
} sb;

/* Append len bytes to the builder. */
static inline void sb_put(sb *s, const void *p, size_t len) {
  if (s->n + len > s->cap) {
    s->cap = (s->n + len) * 2 + 256;
    s->b = realloc(s->b, s->cap);
    assert_non_null(s->b);
  }
  memcpy(s->b + s->n, p, len);
  s->n += len;
}

/* Start a spill: the file header of image (pid, start_mono). */
static inline void sb_header(sb *s, int pid, int ppid, uint64_t mono, uint64_t unix_ns, uint32_t flags,
                      uint64_t parent_mono) {
  ft_file_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, FT_SPILL_MAGIC, 8);
  h.version = FT_SPILL_VERSION;
  h.header_size = sizeof h;
  h.pid = pid;
  h.ppid = ppid;
  h.start_mono_ns = mono;
  h.start_unix_ns = unix_ns;
  h.page_size = PG;
  h.flags = flags;
  h.parent_start_mono_ns = parent_mono;
  h.stack_depth = 64;
  s->n = 0;
  sb_put(s, &h, sizeof h);
}

/* Append one chunk, padded to 8 bytes. */
static inline void sb_chunk(sb *s, uint32_t type, int32_t tid, const void *p, size_t len) {
  ft_chunk c = {.type = type, .len = (uint32_t)len, .tid = tid};
  static const unsigned char zero[8];
  sb_put(s, &c, sizeof c);
  sb_put(s, p, len);
  sb_put(s, zero, (8 - len % 8) % 8);
}

/* Append an EVENTS chunk of thread tid. */
static inline void sb_events(sb *s, int32_t tid, const ft_event *ev, size_t n) {
  sb_chunk(s, FT_CHUNK_EVENTS, tid, ev, n * sizeof *ev);
}
/* Append an EVENTS_PACKED chunk of thread tid, encoded as the shim does. */
static inline void sb_packed(sb *s, int32_t tid, const ft_event *ev, size_t n) {
  uint8_t *buf = malloc(n * FT_PACK_MAX_RECORD + 1);
  ft_pack_state st;
  ft_pack_reset(&st);
  size_t len = ft_pack_encode(&st, ev, UINT64_MAX, 0, n, buf);
  sb_chunk(s, FT_CHUNK_EVENTS_PACKED, tid, buf, len);
  free(buf);
}
#define SB_PACKED(s, tid, ...)                                                                                 \
  do {                                                                                                         \
    const ft_event ev_[] = {__VA_ARGS__};                                                                      \
    sb_packed((s), (tid), ev_, sizeof ev_ / sizeof ev_[0]);                                                    \
  } while (0)
#define SB_EVENTS(s, tid, ...)                                                                                 \
  do {                                                                                                         \
    const ft_event ev_[] = {__VA_ARGS__};                                                                      \
    sb_events((s), (tid), ev_, sizeof ev_ / sizeof ev_[0]);                                                    \
  } while (0)

/* Append a chunk whose payload is just a uint64 (t_ns or a counter). */
static inline void sb_u64(sb *s, uint32_t type, int32_t tid, uint64_t v) { sb_chunk(s, type, tid, &v, 8); }

/* Append a chunk of uint64 t_ns followed by text (MAPS, BUDDYINFO). */
static inline void sb_text(sb *s, uint32_t type, uint64_t t, const char *text) {
  size_t len = strlen(text);
  unsigned char *p = malloc(8 + len);
  memcpy(p, &t, 8);
  memcpy(p + 8, text, len);
  sb_chunk(s, type, 0, p, 8 + len);
  free(p);
}

static inline void sb_exit(sb *s, uint64_t t, int status) {
  ft_exit x = {.t_ns = t, .status = status};
  sb_chunk(s, FT_CHUNK_EXIT, 0, &x, sizeof x);
}

static inline void sb_sample(sb *s, uint64_t t, uint64_t rss, uint64_t vm) {
  ft_sample x = {.t_ns = t, .rss_bytes = rss, .vm_bytes = vm, .shim_bytes = 4096};
  sb_chunk(s, FT_CHUNK_SAMPLE, 0, &x, sizeof x);
}

static inline void sb_clock(sb *s, uint64_t ticks, uint64_t ns) {
  ft_clock_pair p = {ticks, ns};
  sb_chunk(s, FT_CHUNK_CLOCK, 0, &p, sizeof p);
}

#endif
