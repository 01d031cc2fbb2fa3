/*
** ft_spill.h — read-only access to one spill file (preload/ft_format.h) for
** the importer: the file is mmap'ed, the header validated, and the chunks
** walked in file order. Payloads are handed out as pointers into the mapping
** (zero-copy; 8-byte aligned, so raw ft_event arrays can be used in place;
** EVENTS_PACKED payloads are decoded by the caller with ft_pack_decode).
**
** A spill ends at its first truncated or malformed chunk: that is what a
** killed process leaves behind. Opening scans all chunks once (headers, and
** the encoding of packed event chunks), so `truncated` and `nchunks` are
** known before any chunk is consumed.
**
** The names avoid the shim's own ft_spill_open/ft_spill_append (the writer
** side, preload/ft_shim.h), so both can live in one test binary.
*/
#ifndef FT_SPILL_H
#define FT_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "ft_format.h"

typedef struct ft_spill {
  const unsigned char *map; /* the whole file, PROT_READ; NULL when size is 0 */
  size_t start;             /* offset of the first chunk iterated (ft_spill_reader_open_from) */
  size_t size;              /* file size in bytes */
  ft_file_header hdr;       /* validated copy of the header */
  size_t end;               /* offset just past the last valid chunk */
  size_t nchunks;           /* valid chunks in [hdr.header_size, end) */
  int truncated;            /* 1 when bytes after `end` were ignored */
  int more;                 /* ft_spill_reader_open_from stopped at max_bytes: chunks follow `end` */
  const char *why;          /* static text: why the scan stopped early, or NULL */
} ft_spill;

typedef struct ft_spill_chunk {
  uint32_t type;       /* enum ft_chunk_type */
  uint32_t len;        /* payload bytes, before padding */
  int32_t tid;         /* producing thread, 0 for process-level chunks */
  const void *payload; /* len bytes inside the mapping, 8-byte aligned */
  size_t offset;       /* file offset of the chunk header */
} ft_spill_chunk;

typedef struct ft_spill_iter {
  const ft_spill *sp;
  size_t off; /* next chunk header */
} ft_spill_iter;

/* Map and validate the spill at path. Returns 0 on success; 1 when the file
** is empty or holds only a prefix of a header (a process killed before its
** first write: nothing to import, sp is left closed); -1 with a one-line
** message in err when it is not a readable spill of a version we know. */
int ft_spill_reader_open(ft_spill *sp, const char *path, char *err, size_t errlen);

/* ft_spill_reader_open for a spill read piecewise while it grows (follow
** mode): the chunks are validated from file offset `from` (a chunk boundary
** returned by an earlier open's `end`; 0 = the first chunk), and iteration
** starts there too. What lies before `from` is never read (it may have been
** punched out). nchunks counts the chunks from there. max_bytes > 0 stops
** the validation once that many bytes past `from` are validated, with
** `more` set when the file goes on (a backlog is read piece by piece
** without validating all of it every time). */
int ft_spill_reader_open_from(ft_spill *sp, const char *path, size_t from, size_t max_bytes, char *err,
                              size_t errlen);

/* Unmap the file. Safe on a zeroed or already closed ft_spill. */
void ft_spill_reader_close(ft_spill *sp);

/* Start iterating over the valid chunks of sp, in file order. */
void ft_spill_iter_init(ft_spill_iter *it, const ft_spill *sp);

/* Fill *ch with the next valid chunk and return 1, or return 0 at the end
** (the end of the file, or the first truncated/malformed chunk). */
int ft_spill_iter_next(ft_spill_iter *it, ft_spill_chunk *ch);

/* The events of an FT_CHUNK_EVENTS chunk (raw records): *n gets len/32. */
const ft_event *ft_spill_events(const ft_spill_chunk *ch, size_t *n);

/* The leading uint64 t_ns of chunk types that start with one (MAPS, SAMPLE,
** BUDDYINFO, EXEC, EXIT, THREAD): returns 1 and sets *t_ns, else returns 0.
** (CLOCK pairs start with ticks, not ns: not included.) */
int ft_spill_chunk_time(const ft_spill_chunk *ch, uint64_t *t_ns);

#endif
