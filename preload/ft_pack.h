/*
** ft_pack.h — the compact encoding of EVENTS_PACKED chunks. The writer thread
** encodes ring records before they reach the file (the file system, not the
** CPU, is what limits a busy recorder: raw records cost 32 bytes an event);
** the importer decodes them back into ft_events. Pure code, shared by both.
**
** A chunk's encoding is self-contained (state starts fresh per chunk), so a
** truncated file loses at most the chunk that was being written. Per record:
**   tag byte: low nibble = ft_event_type (0..4 allocs, 8 free, 9 munmap,
**             15 = stack), high nibble = stack-cache slot 0..14 for
**             allocations, 15 = an 8-byte hash follows (and enters the cache)
**   events:   varint time delta (ns, from the previous event of the chunk),
**             zigzag varint address delta, varint size (allocs and munmap),
**             [8-byte hash]
**   stack:    8-byte hash, varint depth, zigzag varint deltas of the IPs
*/
#ifndef FT_PACK_H
#define FT_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "ft_format.h"

#define FT_PACK_CACHE 15
#define FT_PACK_MAX_RECORD 48 /* worst-case encoded bytes per ring record */

typedef struct ft_pack_state {
  uint64_t t, addr;                /* previous event's time and address */
  uint64_t cache[FT_PACK_CACHE];   /* recently used stack hashes */
  unsigned next_slot;              /* round-robin replacement */
} ft_pack_state;

/* Start a chunk. */
void ft_pack_reset(ft_pack_state *st);

/* Encode n records, the i-th being rec[(start + i) & mask] (a ring, or an
** array with mask = UINT64_MAX), into out, which holds n*FT_PACK_MAX_RECORD
** bytes. A STACK header and its IP records must be in the same call.
** Returns the number of bytes written. */
size_t ft_pack_encode(ft_pack_state *st, const ft_event *rec, uint64_t mask, uint64_t start, uint64_t n,
                      uint8_t *out);

/* Decode a whole chunk payload into ft_events (stack IPs as continuation
** records, exactly as in the ring). Writes at most cap records to out; returns
** the number of records the payload holds (call with cap 0 to size a buffer),
** or -1 when the payload is malformed. */
long ft_pack_decode(const uint8_t *in, size_t len, ft_event *out, size_t cap);

#endif
