/*
** ft_proto.h — a minimal protocol-buffers *encoder* (proto3 wire format),
** enough to write pprof's profile.proto by hand: varints, zigzag-free int64
** (two's complement, as protobuf encodes int64), length-delimited fields,
** packed repeated integers and nested messages.
**
** A message is built in an ft_pb buffer; a nested message is built in its
** own buffer and appended with ft_pb_message. Errors (out of memory) are
** sticky: every call after a failure does nothing, and ft_pb_failed tells.
*/
#ifndef FT_PROTO_H
#define FT_PROTO_H

#include <stddef.h>
#include <stdint.h>

typedef struct ft_pb {
  unsigned char *data;
  size_t len, cap;
  int failed; /* an allocation failed: contents are incomplete */
} ft_pb;

/* Wire types (the low 3 bits of a field key). */
enum { FT_PB_VARINT = 0, FT_PB_LEN = 2 };

/* Empty the buffer, keeping its memory for reuse. */
void ft_pb_reset(ft_pb *b);

/* Release the buffer's memory and zero it. */
void ft_pb_free(ft_pb *b);

/* Nonzero when an allocation failed since the last reset. */
int ft_pb_failed(const ft_pb *b);

/* Append a raw base-128 varint (no key). */
void ft_pb_raw_varint(ft_pb *b, uint64_t v);

/* Field `field` as a varint: uint64, or int64/bool cast (negative int64
** takes ten bytes, as in protobuf). proto3 omits zero scalars, so callers
** may skip zeros; this writes whatever it is given. */
void ft_pb_varint(ft_pb *b, uint32_t field, uint64_t v);

/* Field `field` as length-delimited bytes (a string or an encoded message). */
void ft_pb_bytes(ft_pb *b, uint32_t field, const void *data, size_t len);

/* Field `field` as a string (NUL-terminated; NULL is written as ""). */
void ft_pb_string(ft_pb *b, uint32_t field, const char *s);

/* Field `field` as a nested message already encoded in sub. */
void ft_pb_message(ft_pb *b, uint32_t field, const ft_pb *sub);

/* Field `field` as a packed repeated uint64/int64 (nothing when n == 0). */
void ft_pb_packed(ft_pb *b, uint32_t field, const uint64_t *v, size_t n);

/* Bytes a varint of v takes (1..10). */
size_t ft_pb_varint_size(uint64_t v);

#endif
