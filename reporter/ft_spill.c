/*
** ft_spill.c — the spill file reader (see ft_spill.h). Knows the container
** layout of preload/ft_format.h (header, chunk framing, minimum payload
** sizes, whether a packed event chunk decodes) but nothing about what events
** mean; that is ft_import.c's job.
*/
#include "ft_spill.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_pack.h"

/* Round a payload length up to the 8-byte chunk alignment. */
static uint64_t ft_pad8(uint64_t len) { return (len + 7u) & ~(uint64_t)7u; }

/* Smallest payload a chunk of this type can have, or -1 for an unknown type
** (which we treat as malformed: we cannot even tell whether it is garbage). */
static long ft_chunk_min_len(uint32_t type) {
  switch (type) {
  case FT_CHUNK_EVENTS: return 0;
  case FT_CHUNK_CMDLINE: return 0;
  case FT_CHUNK_EXE: return 0;
  case FT_CHUNK_MAPS: return 8;
  /* shim_bytes was added to ft_sample later: the first three fields suffice */
  case FT_CHUNK_SAMPLE: return (long)offsetof(ft_sample, shim_bytes);
  case FT_CHUNK_BUDDYINFO: return 8;
  case FT_CHUNK_EXEC: return 8;
  case FT_CHUNK_EXIT: return (long)sizeof(ft_exit);
  case FT_CHUNK_DROPPED: return 8;
  case FT_CHUNK_THREAD: return 8;
  case FT_CHUNK_EVENTS_PACKED: return 0;
  case FT_CHUNK_CLOCK: return (long)sizeof(ft_clock_pair);
  /* issue 4 samples: a time then text, or fixed structs (ft_import_sys.c) */
  case FT_CHUNK_MEMINFO: case FT_CHUNK_VMSTAT: case FT_CHUNK_PAGETYPEINFO: case FT_CHUNK_SLABINFO:
  case FT_CHUNK_SMAPS: return 8;
  case FT_CHUNK_MALLINFO: return (long)sizeof(ft_mallinfo);
  case FT_CHUNK_SOURCE: return (long)sizeof(ft_source_note);
  /* issue 5: production mode */
  case FT_CHUNK_MODE: return (long)sizeof(ft_mode);
  case FT_CHUNK_TOTALS: return (long)sizeof(ft_totals);
  case FT_CHUNK_CONTROL: return (long)sizeof(ft_control);
  default: return -1;
  }
}

/* Check the chunk at offset off of sp (when deep, also that a packed event
** chunk decodes). Returns 1 and fills *ch when it is complete and
** well-formed, 0 at a clean end of file, -1 when it is truncated or
** malformed (*why says which). */
static int ft_chunk_at(const ft_spill *sp, size_t off, int deep, ft_spill_chunk *ch, const char **why) {
  assert(off <= sp->size && off % 8 == 0);
  size_t left = sp->size - off;
  if (left == 0) return 0;
  if (left < sizeof(ft_chunk)) {
    *why = "truncated chunk header";
    return -1;
  }
  ft_chunk c;
  memcpy(&c, sp->map + off, sizeof c);
  long min = ft_chunk_min_len(c.type);
  if (min < 0) {
    *why = "unknown chunk type";
    return -1;
  }
  if (c.len < (uint64_t)min || (c.type == FT_CHUNK_EVENTS && c.len % sizeof(ft_event) != 0)) {
    *why = "malformed chunk length";
    return -1;
  }
  if (ft_pad8(c.len) > left - sizeof(ft_chunk)) {
    *why = "truncated chunk payload";
    return -1;
  }
  /* A packed chunk is framed correctly yet may not decode (a writer bug, or
  ** garbage after a crash): treat it like a truncation. Counting the records
  ** is a full decode pass, the price of knowing up front. */
  if (deep && c.type == FT_CHUNK_EVENTS_PACKED &&
      ft_pack_decode(sp->map + off + sizeof(ft_chunk), c.len, NULL, 0) < 0) {
    *why = "malformed packed events";
    return -1;
  }
  ch->type = c.type;
  ch->len = c.len;
  ch->tid = c.tid;
  ch->payload = sp->map + off + sizeof(ft_chunk);
  ch->offset = off;
  return 1;
}

int ft_spill_reader_open(ft_spill *sp, const char *path, char *err, size_t errlen) {
  return ft_spill_reader_open_from(sp, path, 0, 0, err, errlen);
}

int ft_spill_reader_open_from(ft_spill *sp, const char *path, size_t from, size_t max_bytes, char *err,
                              size_t errlen) {
  memset(sp, 0, sizeof *sp);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    close(fd);
    return -1;
  }
  size_t size = (size_t)st.st_size;
  /* A file holding nothing, or only the start of the magic, is a process
  ** killed before its header was out: nothing to import, not an error. */
  if (size < sizeof(ft_file_header)) {
    unsigned char head[sizeof(ft_file_header)];
    ssize_t got = size ? pread(fd, head, size, 0) : 0;
    close(fd);
    size_t cmp = size < 8 ? size : 8;
    if (got == (ssize_t)size && memcmp(head, FT_SPILL_MAGIC, cmp) == 0) return 1;
    snprintf(err, errlen, "%s: not a fragtrace spill file (too short)", path);
    return -1;
  }
  void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd); /* the mapping keeps the file */
  if (m == MAP_FAILED) {
    snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
    return -1;
  }
  sp->map = m;
  sp->size = size;
  memcpy(&sp->hdr, m, sizeof sp->hdr);
  const ft_file_header *h = &sp->hdr;
  const char *bad = NULL;
  if (memcmp(h->magic, FT_SPILL_MAGIC, 8) != 0)
    bad = "not a fragtrace spill file (bad magic)";
  else if (h->version != FT_SPILL_VERSION)
    bad = "unsupported spill version";
  else if (h->header_size < sizeof(ft_file_header) || h->header_size % 8 != 0 || h->header_size > size)
    bad = "bad header_size";
  else if (h->page_size == 0 || (h->page_size & (h->page_size - 1)) != 0)
    bad = "bad page_size";
  if (bad) {
    if (memcmp(h->magic, FT_SPILL_MAGIC, 8) == 0 && h->version != FT_SPILL_VERSION)
      snprintf(err, errlen, "%s: %s %u (this fragtrace reads %u)", path, bad, h->version, FT_SPILL_VERSION);
    else
      snprintf(err, errlen, "%s: %s", path, bad);
    ft_spill_reader_close(sp);
    return -1;
  }
  /* Walk the chunk headers once so callers know up front where the valid
  ** part ends; payloads are not touched, so this is cheap. */
  size_t off = h->header_size;
  if (from > off) {
    if (from % 8 != 0 || from > size) {
      snprintf(err, errlen, "%s: resume offset %zu is not a chunk boundary", path, from);
      ft_spill_reader_close(sp);
      return -1;
    }
    off = from;
  }
  sp->start = off;
  ft_spill_chunk ch;
  const char *why = NULL;
  int r;
  while ((r = ft_chunk_at(sp, off, 1, &ch, &why)) == 1) {
    off += sizeof(ft_chunk) + ft_pad8(ch.len);
    sp->nchunks++;
    if (max_bytes && off - sp->start >= max_bytes && off < size) { /* enough for the caller */
      sp->more = 1;
      r = 0;
      break;
    }
  }
  sp->end = off;
  if (r < 0) {
    sp->truncated = 1;
    sp->why = why;
  }
  return 0;
}

void ft_spill_reader_close(ft_spill *sp) {
  if (sp->map) munmap((void *)sp->map, sp->size);
  memset(sp, 0, sizeof *sp);
}

void ft_spill_iter_init(ft_spill_iter *it, const ft_spill *sp) {
  it->sp = sp;
  it->off = sp->map ? sp->start : 0;
}

int ft_spill_iter_next(ft_spill_iter *it, ft_spill_chunk *ch) {
  const ft_spill *sp = it->sp;
  if (!sp->map || it->off >= sp->end) return 0;
  const char *why = NULL;
  int r = ft_chunk_at(sp, it->off, 0, ch, &why);
  /* ft_spill_reader_open already validated everything below `end`. */
  assert(r == 1);
  if (r != 1) return 0;
  it->off += sizeof(ft_chunk) + ft_pad8(ch->len);
  return 1;
}

const ft_event *ft_spill_events(const ft_spill_chunk *ch, size_t *n) {
  assert(ch->type == FT_CHUNK_EVENTS);
  *n = ch->len / sizeof(ft_event);
  return (const ft_event *)ch->payload;
}

int ft_spill_chunk_time(const ft_spill_chunk *ch, uint64_t *t_ns) {
  switch (ch->type) {
  case FT_CHUNK_MAPS:
  case FT_CHUNK_SAMPLE:
  case FT_CHUNK_BUDDYINFO:
  case FT_CHUNK_EXEC:
  case FT_CHUNK_EXIT:
  case FT_CHUNK_THREAD:
  case FT_CHUNK_MEMINFO: case FT_CHUNK_VMSTAT: case FT_CHUNK_PAGETYPEINFO: case FT_CHUNK_SLABINFO:
  case FT_CHUNK_SMAPS: case FT_CHUNK_MALLINFO:
    assert(ch->len >= 8); /* guaranteed by ft_chunk_min_len */
    memcpy(t_ns, ch->payload, 8);
    return 1;
  default:
    return 0;
  }
}
