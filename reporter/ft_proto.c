/*
** ft_proto.c — protocol-buffers wire encoding (see ft_proto.h). Only what
** pprof's profile.proto needs: varint and length-delimited fields.
*/
#include "ft_proto.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Make room for n more bytes; 0, or -1 (and the buffer marked failed). */
static int reserve(ft_pb *b, size_t n) {
  if (b->failed) return -1;
  if (b->len + n <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + n) {
    if (cap > SIZE_MAX / 2) {
      b->failed = 1;
      return -1;
    }
    cap *= 2;
  }
  unsigned char *d = realloc(b->data, cap);
  if (!d) {
    b->failed = 1;
    return -1;
  }
  b->data = d;
  b->cap = cap;
  return 0;
}

static void append(ft_pb *b, const void *p, size_t n) {
  if (n == 0 || reserve(b, n) != 0) return;
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void ft_pb_reset(ft_pb *b) {
  b->len = 0;
  b->failed = 0;
}

void ft_pb_free(ft_pb *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

int ft_pb_failed(const ft_pb *b) { return b->failed; }

size_t ft_pb_varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

void ft_pb_raw_varint(ft_pb *b, uint64_t v) {
  unsigned char tmp[10];
  size_t n = 0;
  while (v >= 0x80) {
    tmp[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  tmp[n++] = (unsigned char)v;
  assert(n <= sizeof tmp);
  append(b, tmp, n);
}

/* A field key: field number and wire type. */
static void key(ft_pb *b, uint32_t field, unsigned wire) {
  assert(field > 0 && field < (1u << 29));
  ft_pb_raw_varint(b, ((uint64_t)field << 3) | wire);
}

void ft_pb_varint(ft_pb *b, uint32_t field, uint64_t v) {
  key(b, field, FT_PB_VARINT);
  ft_pb_raw_varint(b, v);
}

void ft_pb_bytes(ft_pb *b, uint32_t field, const void *data, size_t len) {
  key(b, field, FT_PB_LEN);
  ft_pb_raw_varint(b, len);
  append(b, data, len);
}

void ft_pb_string(ft_pb *b, uint32_t field, const char *s) {
  ft_pb_bytes(b, field, s ? s : "", s ? strlen(s) : 0);
}

void ft_pb_message(ft_pb *b, uint32_t field, const ft_pb *sub) {
  if (sub->failed) {
    b->failed = 1; /* an incomplete part makes the whole incomplete */
    return;
  }
  ft_pb_bytes(b, field, sub->data, sub->len);
}

void ft_pb_packed(ft_pb *b, uint32_t field, const uint64_t *v, size_t n) {
  if (n == 0) return;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += ft_pb_varint_size(v[i]);
  key(b, field, FT_PB_LEN);
  ft_pb_raw_varint(b, total);
  if (reserve(b, total) != 0) return;
  for (size_t i = 0; i < n; i++) ft_pb_raw_varint(b, v[i]);
}
