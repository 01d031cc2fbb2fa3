/*
** ft_import.c — turn spill files into the SQLite trace (see ft_import.h).
**
** Pipeline, per import:
**   1. Open (mmap) every spill, scan its chunks: per-thread event streams
**      (lists of chunk slices: raw EVENTS are used in place, EVENTS_PACKED
**      are decoded one at a time as the stream's cursor reaches them, into
**      a per-stream buffer), process-level chunks,
**      clock pairs, lifecycle.
**   2. Order images by start time, assign process keys, link fork parents
**      and exec predecessors.
**   3. Per image: k-way merge the thread streams by timestamp, matching
**      releases to allocations into an in-memory row array (address hash map
**      for heap blocks, sorted interval set for mappings); then write the
**      image's rows, stacks, threads, samples, buddyinfo and mappings with
**      prepared statements, and the summary tables computed from the rows
**      in memory (see "Samples and summaries" below). Everything happens in
**      one transaction.
**
** Follow mode (ft_import_follow_*, at the end of this file) runs the same
** scan and merge on each epoch of a growing spill and keeps running
** summaries instead of the row passes below.
**
** Time: images with FT_FLAG_TSC stamp events in TSC ticks. The merge and the
** matching work on ticks (the finest order there is); rows are converted to
** ns afterwards through the image's FT_CHUNK_CLOCK pairs, piecewise linear,
** which keeps the order. Chunk times are ns already.
**
** Matching rules (the shim's guarantees, ft_format.h): allocation events are
** stamped after the real allocator returned, releases (free, the free half
** of realloc, munmap) before the real call. So for one address, a release
** and a later reuse, or an allocation and a cross-thread release, can carry
** the SAME timestamp on two threads, and the merge alone cannot tell which
** happened first. The tie rule settles it by what is possible:
**   When the merge's next event is inconsistent with the state so far (an
**   allocation of an address that is still live, or a release of an address
**   that is not), and another thread's head event has the same timestamp
**   and is consistent, that event goes first (the lowest such thread in
**   thread-key order).
** So free(X) on B and malloc(X) on A at the same instant give "freed, then
** reused" whichever thread the merge meets first; malloc(X) on A and free(X)
** on B at the same instant give "allocated, handed over, freed". Applied
** repeatedly it also untangles longer same-instant chains. It is exact
** whenever a thread has at most one event per timestamp (any ns clock, given
** what the shim spends per event); the only ambiguity left is which of two
** same-instant allocations of one address came first, which no ordering of
** the data can tell. (For mappings, "live" means overlapping a live mapping;
** there the rule is a preference only: MAP_FIXED over a live mapping and
** munmap of a range we never saw are legal.)
** Anything still inconsistent is recorded, not guessed: an allocation over a
** live heap block ends the old row at that instant and counts an anomaly
** (meta key `anomalies`); a free of an unknown address counts in
** processes.unmatched_frees.
**
** Production mode (issue 5): an image whose FT_CHUNK_MODE has sample_bytes
** N > 0 recorded each heap allocation with probability 1 - exp(-size/N);
** its heap rows carry the weight 1/p (allocation_rows.weight, fixed point:
** ft_weight_fx in ft_import_frag.h) and every summary sums weights instead
** of counting rows (exactly the old counts in full capture, where every
** weight is 1). TOTALS chunks become heap_totals rows (the shim's exact
** counters), CONTROL chunks recording_control rows.
*/
#include "ft_import.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ft_follow.h"
#include "ft_format.h"
#include "ft_import_frag.h"
#include "ft_import_sys.h"
#include "ft_pack.h"
#include "ft_procparse.h"
#include "ft_spill.h"

#define FT_LIVE UINT64_MAX    /* ft_row.t_free of a row never freed */
#define FT_NONE ((size_t)-1)  /* "no index" */
#define FT_MAX_BUDDY_ROWS 4096 /* sanity cap for one /proc/buddyinfo snapshot */

/* ------------------------------------------------------------------------ */
/* Small containers                                                          */

/* Make room for need elements of elem bytes in *v (capacity *cap), growing
** geometrically. Returns 0, or -1 when out of memory (*v unchanged). */
static int ft_reserve(void **v, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t nc = *cap ? *cap : 16;
  while (nc < need) nc *= 2;
  void *p = realloc(*v, nc * elem);
  if (!p) return -1;
  *v = p;
  *cap = nc;
  return 0;
}

/* Append one element to a vector declared as `T *v; size_t n, cap;`. */
#define FT_PUSH(vec, n, cap, val)                                                                       \
  (ft_reserve((void **)&(vec), &(cap), (n) + 1, sizeof *(vec)) ? -1 : ((vec)[(n)++] = (val), 0))

/* Open-addressing hash map uint64 -> uint64 with linear probing and
** backward-shift deletion (no tombstones, so heavy malloc/free churn keeps
** probe sequences short). A slot is empty when val == 0; values are stored
** +1 so callers may store 0. */
typedef struct ft_hslot {
  uint64_t key, val;
} ft_hslot;
typedef struct ft_hmap {
  ft_hslot *s;
  size_t cap, n; /* cap is 0 or a power of two */
} ft_hmap;

/* splitmix64 finaliser: addresses are aligned and clustered, so mix. */
static uint64_t ft_mix(uint64_t k) {
  k ^= k >> 30;
  k *= 0xbf58476d1ce4e5b9ull;
  k ^= k >> 27;
  k *= 0x94d049bb133111ebull;
  return k ^ (k >> 31);
}

/* Slot index holding key, or the empty slot where it would go. */
static size_t ft_hmap_slot(const ft_hmap *m, uint64_t key) {
  assert(m->cap && (m->cap & (m->cap - 1)) == 0);
  size_t mask = m->cap - 1, i = ft_mix(key) & mask;
  while (m->s[i].val && m->s[i].key != key) i = (i + 1) & mask;
  return i;
}

/* Look up key: returns 1 and sets *val when present. */
static int ft_hmap_get(const ft_hmap *m, uint64_t key, uint64_t *val) {
  if (!m->n) return 0;
  size_t i = ft_hmap_slot(m, key);
  if (!m->s[i].val) return 0;
  *val = m->s[i].val - 1;
  return 1;
}

/* Insert or overwrite key -> val. Returns 0, or -1 when out of memory. */
static int ft_hmap_put(ft_hmap *m, uint64_t key, uint64_t val) {
  if ((m->n + 1) * 2 > m->cap) { /* keep the load factor <= 1/2 */
    size_t nc = m->cap ? m->cap * 2 : 1024;
    ft_hslot *ns = calloc(nc, sizeof *ns);
    if (!ns) return -1;
    ft_hmap old = *m;
    m->s = ns;
    m->cap = nc;
    for (size_t i = 0; i < old.cap; i++)
      if (old.s[i].val) m->s[ft_hmap_slot(m, old.s[i].key)] = old.s[i];
    free(old.s);
  }
  size_t i = ft_hmap_slot(m, key);
  if (!m->s[i].val) m->n++;
  m->s[i].key = key;
  m->s[i].val = val + 1;
  return 0;
}

/* Remove key; returns 1 and sets *val when it was present. */
static int ft_hmap_take(ft_hmap *m, uint64_t key, uint64_t *val) {
  if (!m->n) return 0;
  size_t mask = m->cap - 1, i = ft_hmap_slot(m, key);
  if (!m->s[i].val) return 0;
  *val = m->s[i].val - 1;
  m->n--;
  /* Backward-shift: pull later members of the probe run into the hole when
  ** their home slot is not cyclically within (hole, j]. */
  size_t hole = i, j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!m->s[j].val) break;
    size_t home = ft_mix(m->s[j].key) & mask;
    int in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!in_range) {
      m->s[hole] = m->s[j];
      hole = j;
    }
  }
  m->s[hole].val = 0;
  return 1;
}

/* Forget all entries, keeping the memory. */
static void ft_hmap_clear(ft_hmap *m) {
  if (m->s) memset(m->s, 0, m->cap * sizeof *m->s);
  m->n = 0;
}

/* ------------------------------------------------------------------------ */
/* Images and thread streams                                                 */

typedef struct ft_cref { /* one events chunk of a stream */
  const ft_event *ev;    /* raw: in the mapping; packed: NULL (see ft_stream.dec) */
  size_t n;              /* records at ev (packed: 0 until decoded) */
  const uint8_t *packed; /* EVENTS_PACKED payload in the mapping, else NULL */
  size_t plen;
  size_t off;            /* file offset of the payload (follow mode maps the file anew each epoch) */
} ft_cref;

typedef struct ft_stream { /* one thread's events, in its program order */
  int32_t tid;
  uint64_t first_t;  /* ns: THREAD chunk time or first event time; UINT64_MAX none */
  size_t first_seen; /* file index of the first chunk naming this tid */
  ft_cref *c;
  size_t nc, capc;
  int64_t key;          /* thread key in the trace */
  size_t ci, ei;        /* cursor: chunk, event within the chunk */
  const ft_event *head; /* current timed event during the merge, NULL = done */
  /* The decoded packed chunk under the cursor. Only the current chunk of
  ** each stream is ever needed (the merge holds one head per stream, and
  ** stack records are consumed in stream order), so the image's packed
  ** events never sit decoded all at once. */
  ft_event *dec;
  size_t capdec;
  size_t dec_ci; /* chunk index held in dec, FT_NONE = none */
} ft_stream;

typedef struct ft_pchunk { /* a process-level chunk we use after the merge */
  uint32_t type;
  uint32_t len;
  const void *payload;
} ft_pchunk;

typedef struct ft_image {
  const char *path;
  size_t argi; /* position in the caller's list, the last tie-breaker */
  ft_spill sp;
  ft_stream *st;
  size_t nst, capst;
  ft_pchunk *pc;
  size_t npc, cappc;
  const char *cmdline, *exe;
  size_t cmdline_len, exe_len;
  int has_exit;
  int32_t exit_status;
  int ends_by_exec;       /* last lifecycle chunk (EVENTS/EXEC/EXIT) is EXEC */
  uint64_t first_exec_ns; /* absolute CLOCK_MONOTONIC of the first EXEC, UINT64_MAX none */
  uint64_t end_ns;        /* largest chunk time seen (ns since start) */
  uint64_t max_ev_t;      /* largest event time applied (event units) */
  uint64_t dropped;
  int tsc;                /* FT_FLAG_TSC: event times are ticks */
  ft_clock_pair *clk;     /* (ticks, ns) pairs; after ft_clock_prepare: sorted,
                          ** strictly increasing ticks, starting with (0, 0) */
  size_t nclk, capclk;
  int64_t proc, parent, exec_from; /* keys; 0 = NULL */
  int has_mode;                    /* an FT_CHUNK_MODE was seen (the first one counts) */
  ft_mode mode;
  int stopped;                     /* an FT_CTL_STOP was seen: recording ended before the image */
  size_t chunks_seen;              /* chunks scanned so far (follow mode scans in pieces) */
} ft_image;

/* Per-image working state of the merge, reused (capacity kept) across images. */
typedef struct ft_row {
  uint64_t addr, size, t_alloc, t_free; /* t_free == FT_LIVE while live */
  uint32_t thread, free_thread;         /* thread keys (free_thread valid when freed) */
  uint32_t stack;                       /* stack id, 0 = none */
  uint8_t kind;                         /* FT_EV_MALLOC..FT_EV_MMAP */
} ft_row;

typedef struct ft_iv { /* a live mapping [lo, hi) and its row */
  uint64_t lo, hi;
  size_t row;
} ft_iv;

typedef struct ft_stk { /* a distinct stack of the image */
  uint64_t hash;
  uint32_t id;
  uint32_t depth;  /* frames stored at ip_off */
  size_t ip_off;
  int has_frames;
} ft_stk;

typedef struct ft_ctx {
  sqlite3 *db;
  char *err;
  size_t errlen;
  ft_import_stats *st;
  /* next keys (one past the largest used) */
  int64_t next_thread, next_stack, next_row;
  long long anomalies;
  long long clock_estimated; /* TSC images without clock pairs (see ft_clock_prepare) */
  double host_ns_per_tick;   /* measured once when needed; 0 = not yet */
  /* per-image state */
  ft_image *img;
  ft_row *rows;
  size_t nrows, caprows;
  size_t *freelog; /* row indexes in the order they were freed */
  size_t nfree, capfree;
  ft_hmap live; /* heap address -> row index */
  ft_iv *iv;    /* live mappings, sorted, disjoint */
  size_t niv, capiv;
  ft_stk *stk;
  size_t nstk, capstk;
  ft_hmap stkmap; /* stack hash -> index in stk */
  uint64_t *ips;
  size_t nips, capips;
  size_t *heap, *hpos; /* indexed min-heap of stream indexes */
  size_t nheap;
  long long unmatched;
  int64_t short_lived_ns; /* meta short_lived_ns: site_stats/process_stats short_lived */
  uint64_t sample_bytes;  /* current image's byte-sampling mean N, 0 = full capture */
  /* Follow mode (ft_import_follow_*): rows get their id when created, and
  ** a side record (rx, parallel to rows); events stamped before late_mark
  ** (what earlier epochs applied) are counted as late. 0/NULL in batch. */
  int follow;
  struct ft_rowx *rx;
  size_t caprx;
  uint64_t late_mark;
  long long late_events;
  /* statements */
  sqlite3_stmt *ins_proc, *ins_thread, *ins_row, *ins_stack, *ins_frame, *ins_sample, *ins_buddy,
      *ins_map, *q_link, *ins_pstats, *ins_site, *ins_lhist, *ins_shist, *ins_tl, *ins_totals, *ins_ctl;
} ft_ctx;

/* Fixed-point weight of row r of the current image (see ft_weight_fx). */
static inline uint64_t ft_rw(const ft_ctx *c, const ft_row *r) {
  return ft_weight_fx(r->size, c->sample_bytes, r->kind);
}

/* Record an out-of-memory error. Returns -1 for tail calls. */
static int ft_oom(ft_ctx *c) {
  snprintf(c->err, c->errlen, "out of memory while importing");
  return -1;
}

/* Record the current SQLite error with some context. Returns -1. */
static int ft_sqlerr(ft_ctx *c, const char *what) {
  snprintf(c->err, c->errlen, "%s: %s", what, sqlite3_errmsg(c->db));
  return -1;
}

/* ------------------------------------------------------------------------ */
/* Scanning a spill                                                          */

/* Index of the stream for tid in img, creating it; FT_NONE when out of memory. */
static size_t ft_stream_for(ft_image *img, ft_hmap *tids, int32_t tid, size_t chunk_index) {
  uint64_t idx;
  if (ft_hmap_get(tids, (uint32_t)tid, &idx)) return (size_t)idx;
  ft_stream s = {.tid = tid, .first_t = UINT64_MAX, .first_seen = chunk_index, .dec_ci = FT_NONE};
  if (FT_PUSH(img->st, img->nst, img->capst, s) != 0) return FT_NONE;
  if (ft_hmap_put(tids, (uint32_t)tid, img->nst - 1) != 0) return FT_NONE;
  return img->nst - 1;
}

/* Release the stream's decode buffer (end of stream, or after the merge). */
static void ft_stream_drop(ft_stream *s) {
  free(s->dec);
  s->dec = NULL;
  s->capdec = 0;
  s->dec_ci = FT_NONE;
}

/* Make chunk s->ci readable: a packed chunk is decoded into s->dec (which
** then no longer holds the chunk before it; every pointer into that one is
** dead). The reader already checked that each chunk decodes. Returns 0, or
** -1 when out of memory. */
static int ft_stream_load(ft_stream *s) {
  assert(s->ci < s->nc);
  ft_cref *r = &s->c[s->ci];
  if (!r->packed || s->dec_ci == s->ci) return 0;
  /* One pass when the buffer is big enough (the usual case: chunks are at
  ** most one ring), a second after growing it otherwise. The first pass
  ** overwrites the buffer, so it holds no chunk until this one is done. */
  s->dec_ci = FT_NONE;
  long n = ft_pack_decode(r->packed, r->plen, s->dec, s->capdec);
  assert(n >= 0);
  if (n > 0 && (size_t)n > s->capdec) {
    if (ft_reserve((void **)&s->dec, &s->capdec, (size_t)n, sizeof *s->dec) != 0) return -1;
    long m = ft_pack_decode(r->packed, r->plen, s->dec, s->capdec);
    assert(m == n);
    (void)m;
  }
  r->n = n > 0 ? (size_t)n : 0;
  r->ev = NULL; /* records live in s->dec, valid while dec_ci == ci */
  s->dec_ci = s->ci;
  return 0;
}

/* Current record of a stream cursor in *out, NULL at the end of the stream
** (the decode buffer is released then). The record stays valid until the
** cursor leaves its chunk. Returns 0, or -1 when out of memory. */
static int ft_stream_rec(ft_stream *s, const ft_event **out) {
  for (;;) {
    if (s->ci >= s->nc) {
      ft_stream_drop(s);
      *out = NULL;
      return 0;
    }
    if (ft_stream_load(s) != 0) return -1;
    const ft_cref *r = &s->c[s->ci];
    if (s->ei < r->n) {
      *out = r->packed ? &s->dec[s->ei] : &r->ev[s->ei];
      return 0;
    }
    s->ci++;
    s->ei = 0;
  }
}

/* Whether an event type is one the merge handles (timed events). */
static int ft_is_timed(unsigned ty) { return ty <= FT_EV_MMAP || ty == FT_EV_FREE || ty == FT_EV_MUNMAP; }

static int ft_stack_frames(ft_ctx *c, ft_stream *s, const ft_event *e);

/* Move the cursor to the next timed event (s->head, NULL at the end),
** consuming stack records on the way: registered with c when c is non-NULL,
** merely skipped otherwise. Unknown event types are skipped (an anomaly).
** Returns 0, or -1 when out of memory (decoding a chunk, or a stack). */
static int ft_stream_settle(ft_ctx *c, ft_stream *s) {
  for (;;) {
    const ft_event *e;
    if (ft_stream_rec(s, &e) != 0) return c ? ft_oom(c) : -1;
    if (!e) {
      s->head = NULL;
      return 0;
    }
    unsigned ty = FT_EV_TYPE(e->t_type);
    if (ft_is_timed(ty)) {
      s->head = e;
      return 0;
    }
    s->ei++;
    if (ty == FT_EV_STACK) {
      if (c) {
        if (ft_stack_frames(c, s, e) != 0) return -1;
      } else {
        /* Skip the continuation records: raw IPs, not events. (Read e
        ** first: moving the cursor may leave e's chunk.) */
        uint64_t recs = e->n / FT_IPS_PER_RECORD + (e->n % FT_IPS_PER_RECORD != 0);
        const ft_event *r;
        while (recs--) {
          if (ft_stream_rec(s, &r) != 0) return -1;
          if (!r) break;
          s->ei++;
        }
      }
    } else if (c) {
      c->anomalies++;
    }
  }
}

/* Scan img's chunks: build thread streams, collect process-level chunks and
** lifecycle facts. Returns 0, or -1 when out of memory. */
static int ft_scan_image(ft_ctx *c, ft_image *img) {
  ft_hmap tids = {0};
  ft_spill_iter it;
  ft_spill_chunk ch;
  size_t k = img->chunks_seen;
  int rc = -1;
  if (!img->chunks_seen) img->first_exec_ns = UINT64_MAX;
  /* Follow mode scans an image piece by piece: streams seen before go on. */
  for (size_t i = 0; i < img->nst; i++)
    if (ft_hmap_put(&tids, (uint32_t)img->st[i].tid, i) != 0) goto out;
  ft_spill_iter_init(&it, &img->sp);
  for (; ft_spill_iter_next(&it, &ch); k++) {
    uint64_t t = 0;
    if (ft_spill_chunk_time(&ch, &t) && t > img->end_ns) img->end_ns = t;
    switch (ch.type) {
    case FT_CHUNK_EVENTS:
    case FT_CHUNK_EVENTS_PACKED: {
      size_t si = ft_stream_for(img, &tids, ch.tid, k);
      if (si == FT_NONE) goto out;
      ft_stream *s = &img->st[si];
      ft_cref r = {.off = (size_t)((const unsigned char *)ch.payload - img->sp.map)};
      if (ch.type == FT_CHUNK_EVENTS) {
        r.ev = ft_spill_events(&ch, &r.n);
      } else {
        r.packed = ch.payload;
        r.plen = ch.len;
      }
      if ((r.n || r.packed) && FT_PUSH(s->c, s->nc, s->capc, r) != 0) goto out;
      img->ends_by_exec = 0;
      break;
    }
    case FT_CHUNK_CLOCK: {
      ft_clock_pair p;
      memcpy(&p, ch.payload, sizeof p);
      if (p.ns > img->end_ns) img->end_ns = p.ns;
      if (FT_PUSH(img->clk, img->nclk, img->capclk, p) != 0) goto out;
      break;
    }
    case FT_CHUNK_THREAD: {
      size_t si = ft_stream_for(img, &tids, ch.tid, k);
      if (si == FT_NONE) goto out;
      if (t < img->st[si].first_t) img->st[si].first_t = t;
      break;
    }
    case FT_CHUNK_CMDLINE:
      if (!img->cmdline) {
        img->cmdline = ch.payload;
        img->cmdline_len = ch.len;
      }
      break;
    case FT_CHUNK_EXE:
      if (!img->exe) {
        img->exe = ch.payload;
        img->exe_len = ch.len;
      }
      break;
    case FT_CHUNK_EXEC: {
      uint64_t abs = img->sp.hdr.start_mono_ns + t;
      if (abs < img->first_exec_ns) img->first_exec_ns = abs;
      img->ends_by_exec = 1;
      break;
    }
    case FT_CHUNK_EXIT: {
      ft_exit x;
      memcpy(&x, ch.payload, sizeof x);
      img->has_exit = 1;
      img->exit_status = x.status;
      img->ends_by_exec = 0;
      break;
    }
    case FT_CHUNK_DROPPED: {
      uint64_t d;
      memcpy(&d, ch.payload, 8);
      if (d > img->dropped) img->dropped = d; /* cumulative counter: keep the max */
      break;
    }
    case FT_CHUNK_MODE:
      if (!img->has_mode) {
        memcpy(&img->mode, ch.payload, sizeof img->mode);
        img->has_mode = 1;
      }
      break;
    case FT_CHUNK_TOTALS:
    case FT_CHUNK_CONTROL: { /* both start with t_ns (ft_spill_chunk_time leaves them out) */
      memcpy(&t, ch.payload, 8);
      if (t > img->end_ns) img->end_ns = t;
      if (ch.type == FT_CHUNK_CONTROL) {
        ft_control x;
        memcpy(&x, ch.payload, sizeof x);
        if (x.action == FT_CTL_STOP) img->stopped = 1;
      }
    }
      /* fall through */
    case FT_CHUNK_SAMPLE:
    case FT_CHUNK_BUDDYINFO:
    case FT_CHUNK_MAPS: {
      ft_pchunk p = {ch.type, ch.len, ch.payload};
      if (FT_PUSH(img->pc, img->npc, img->cappc, p) != 0) goto out;
      break;
    }
    default:
      break;
    }
  }
  img->tsc = (img->sp.hdr.flags & FT_FLAG_TSC) != 0;
  img->chunks_seen = k;
  rc = 0;
out:
  free(tids.s);
  if (rc) ft_oom(c);
  return rc;
}

/* Order of thread keys within an image: first time seen, then file order. */
static int ft_cmp_stream(const void *a, const void *b) {
  const ft_stream *x = a, *y = b;
  if (x->first_t != y->first_t) return x->first_t < y->first_t ? -1 : 1;
  return x->first_seen < y->first_seen ? -1 : x->first_seen > y->first_seen;
}

/* Order of process keys: start time (wall clock, then monotonic), pid, argument order. */
static int ft_cmp_image(const void *a, const void *b) {
  const ft_image *x = a, *y = b;
  const ft_file_header *p = &x->sp.hdr, *q = &y->sp.hdr;
  if (p->start_unix_ns != q->start_unix_ns) return p->start_unix_ns < q->start_unix_ns ? -1 : 1;
  if (p->start_mono_ns != q->start_mono_ns) return p->start_mono_ns < q->start_mono_ns ? -1 : 1;
  if (p->pid != q->pid) return p->pid < q->pid ? -1 : 1;
  return x->argi < y->argi ? -1 : x->argi > y->argi;
}

/* ------------------------------------------------------------------------ */
/* Linking images                                                            */

/* Latest image (proc <= before) in the database with this pid that started
** no later than start_unix_ns; returns its key and sets *by_exec when it
** ended by exec, or 0 when there is none or on error. */
static int64_t ft_db_latest(ft_ctx *c, int pid, uint64_t start_unix_ns, int64_t before, int *by_exec) {
  sqlite3_stmt *q = c->q_link;
  int64_t proc = 0;
  sqlite3_reset(q);
  sqlite3_bind_int(q, 1, pid);
  sqlite3_bind_int64(q, 2, (sqlite3_int64)start_unix_ns);
  sqlite3_bind_int64(q, 3, before);
  if (sqlite3_step(q) == SQLITE_ROW) {
    proc = sqlite3_column_int64(q, 0);
    const unsigned char *eb = sqlite3_column_text(q, 1);
    *by_exec = eb && strcmp((const char *)eb, "exec") == 0;
  }
  sqlite3_reset(q);
  return proc;
}

/* Set parent and exec_from of every image (sorted, keys assigned). Images
** of earlier imports into the same trace are consulted only when the batch
** has no candidate (they lack monotonic start times, so this is by wall
** clock). */
static void ft_link_images(ft_ctx *c, ft_image *im, size_t n, int64_t base_proc) {
  for (size_t i = 0; i < n; i++) {
    const ft_file_header *h = &im[i].sp.hdr;
    int forked = (h->flags & FT_FLAG_FORKED) != 0;
    size_t exact = FT_NONE, par = FT_NONE, same = FT_NONE;
    /* Fork parent: exactly the image that forked us... */
    if (forked)
      for (size_t j = 0; j < n; j++)
        if (j != i && im[j].sp.hdr.pid == h->ppid && im[j].sp.hdr.start_mono_ns == h->parent_start_mono_ns)
          exact = j;
    /* ...else the latest image of the parent pid that started before us.
    ** `same`: the latest earlier image of our own pid. Ties on the start
    ** time go to the later image in key order. */
    for (size_t j = 0; j < n; j++) {
      const ft_file_header *g = &im[j].sp.hdr;
      if (j == i || g->start_mono_ns > h->start_mono_ns) continue;
      if (g->pid == h->ppid && (par == FT_NONE || g->start_mono_ns >= im[par].sp.hdr.start_mono_ns)) par = j;
      if (g->pid == h->pid && (same == FT_NONE || g->start_mono_ns >= im[same].sp.hdr.start_mono_ns)) same = j;
    }
    if (exact != FT_NONE) par = exact;
    int by_exec = 0;
    if (par != FT_NONE)
      im[i].parent = im[par].proc;
    else if (h->ppid > 0)
      im[i].parent = ft_db_latest(c, h->ppid, h->start_unix_ns, base_proc, &by_exec);
    /* exec predecessor: the previous image of our pid, if it called execve
    ** before we started. A forked image has a fresh pid: never exec'd into. */
    if (forked) continue;
    if (same != FT_NONE) {
      if (im[same].first_exec_ns <= h->start_mono_ns) im[i].exec_from = im[same].proc;
    } else {
      int64_t p = ft_db_latest(c, h->pid, h->start_unix_ns, base_proc, &by_exec);
      if (p && by_exec) im[i].exec_from = p;
    }
  }
}

/* Under plain LD_PRELOAD each process imports its own spills at its exit,
** so a fork child usually lands in the trace before its parent, and an exec'd
** image may land before the image it replaced. Link such images now that
** the other side may be here: by pid and wall-clock time, the parent being
** the image of ppid alive at the child's start, the exec predecessor the
** image of the same pid that ended by exec at most 10 s before. */
static int ft_relink_earlier_imports(ft_ctx *c) {
  static const char sql[] =
      "UPDATE processes SET parent_proc = ("
      "  SELECT p.proc FROM processes p WHERE p.pid = processes.ppid AND p.proc <> processes.proc"
      "   AND p.start_unix_ns <= processes.start_unix_ns"
      "   AND p.start_unix_ns + coalesce(p.end_ns, 0) >= processes.start_unix_ns"
      "  ORDER BY p.start_unix_ns DESC, p.proc DESC LIMIT 1)"
      " WHERE parent_proc IS NULL AND ppid > 0;"
      "UPDATE processes SET exec_from = ("
      "  SELECT p.proc FROM processes p WHERE p.pid = processes.pid AND p.proc <> processes.proc"
      "   AND p.ended_by = 'exec' AND p.start_unix_ns < processes.start_unix_ns"
      "   AND processes.start_unix_ns - (p.start_unix_ns + coalesce(p.end_ns, 0)) BETWEEN -1000000 AND 10000000000"
      "  ORDER BY p.start_unix_ns DESC, p.proc DESC LIMIT 1)"
      " WHERE exec_from IS NULL;";
  if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) return ft_sqlerr(c, "linking images of earlier imports");
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Event times and packed chunks                                             */

/* The host's CLOCK_MONOTONIC ns per TSC tick, measured over ~20 ms, or 0
** when this host does not keep time by an invariant TSC. Only a fallback
** (see ft_clock_prepare): the spill may come from another machine. */
static double ft_host_ns_per_tick(void) {
#if defined(__x86_64__)
  char cs[16] = {0};
  FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
  if (!f) return 0;
  size_t got = fread(cs, 1, sizeof cs - 1, f);
  fclose(f);
  if (got < 3 || strncmp(cs, "tsc", 3) != 0 || (cs[3] != '\n' && cs[3] != '\0')) return 0;
  struct timespec a, b, nap = {0, 20 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t k0 = __builtin_ia32_rdtsc();
  while (nanosleep(&nap, &nap) != 0 && errno == EINTR) {
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  uint64_t k1 = __builtin_ia32_rdtsc();
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  return k1 > k0 ? ns / (double)(k1 - k0) : 0;
#else
  return 0;
#endif
}

/* Order clock pairs by ticks. */
static int ft_cmp_clock(const void *a, const void *b) {
  const ft_clock_pair *x = a, *y = b;
  return x->ticks < y->ticks ? -1 : x->ticks > y->ticks;
}

/* Make the image's clock pairs usable for ft_ev_ns: sorted, starting with
** the implied (0, 0), ticks strictly and ns weakly increasing (a pair that
** would make time run backwards is measurement noise and dropped). A TSC
** image with events but no pair (killed before its first drain finished)
** gets an estimated rate: this host's TSC rate if it has one, else 1 ns per
** tick; counted in meta `clock_estimated`. Returns 0 or -1 (OOM). */
static int ft_clock_prepare(ft_ctx *c, int has_events) {
  ft_image *img = c->img;
  if (!img->tsc) return 0;
  qsort(img->clk, img->nclk, sizeof *img->clk, ft_cmp_clock);
  ft_clock_pair prev = {0, 0};
  size_t m = 0;
  for (size_t i = 0; i < img->nclk; i++) {
    ft_clock_pair p = img->clk[i];
    if (p.ticks <= prev.ticks || p.ns < prev.ns) continue;
    img->clk[m++] = prev = p;
  }
  img->nclk = m;
  if (m == 0 && has_events) {
    if (c->host_ns_per_tick == 0) c->host_ns_per_tick = ft_host_ns_per_tick();
    double rate = c->host_ns_per_tick > 0 ? c->host_ns_per_tick : 1.0;
    ft_clock_pair p = {(uint64_t)1 << 32, (uint64_t)((double)((uint64_t)1 << 32) * rate)};
    if (FT_PUSH(img->clk, img->nclk, img->capclk, p) != 0) return ft_oom(c);
    c->clock_estimated++;
  }
  /* Put the implied (0, 0) in front so every segment is explicit. */
  ft_clock_pair zero = {0, 0};
  if (FT_PUSH(img->clk, img->nclk, img->capclk, zero) != 0) return ft_oom(c);
  memmove(&img->clk[1], &img->clk[0], (img->nclk - 1) * sizeof *img->clk);
  img->clk[0] = zero;
  return 0;
}

/* Nanoseconds since the image's start for event time t: t itself, or TSC
** ticks mapped through the clock pairs (linear within a segment, the
** overall rate beyond the last pair). Monotonic in t. */
static uint64_t ft_ev_ns(const ft_image *img, uint64_t t) {
  if (!img->tsc) return t;
  const ft_clock_pair *k = img->clk;
  size_t n = img->nclk;
  assert(n >= 1 && k[0].ticks == 0 && k[0].ns == 0);
  if (n == 1) return 0; /* no events, nothing to convert: keep it defined */
  const ft_clock_pair *last = &k[n - 1];
  if (t >= last->ticks)
    return last->ns + (uint64_t)((unsigned __int128)(t - last->ticks) * last->ns / last->ticks);
  size_t lo = 0, hi = n - 1; /* k[lo].ticks <= t < k[hi].ticks */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (k[mid].ticks <= t) lo = mid;
    else hi = mid;
  }
  return k[lo].ns +
         (uint64_t)((unsigned __int128)(t - k[lo].ticks) * (k[hi].ns - k[lo].ns) / (k[hi].ticks - k[lo].ticks));
}

/* ------------------------------------------------------------------------ */
/* The merge: stacks, rows, matching                                         */

/* Index in c->stk of the stack with this hash in the current image,
** creating it (with the next global id) on first sight; FT_NONE on OOM. */
static size_t ft_stack_index(ft_ctx *c, uint64_t hash) {
  uint64_t idx;
  if (ft_hmap_get(&c->stkmap, hash, &idx)) return (size_t)idx;
  ft_stk k = {.hash = hash, .id = (uint32_t)c->next_stack++};
  assert((int64_t)k.id == c->next_stack - 1); /* ids fit the row field */
  if (FT_PUSH(c->stk, c->nstk, c->capstk, k) != 0) return FT_NONE;
  if (ft_hmap_put(&c->stkmap, hash, c->nstk - 1) != 0) return FT_NONE;
  return c->nstk - 1;
}

/* Register the stack record e (already stepped over) of stream s: copy its
** frames from the following continuation records, the first time this hash
** is seen with frames. A stack cut off by the end of the stream keeps no
** frames (an anomaly). e is read before the cursor moves: moving it may
** leave (and invalidate) e's chunk. Returns 0, or -1 when out of memory. */
static int ft_stack_frames(ft_ctx *c, ft_stream *s, const ft_event *e) {
  uint64_t depth = e->n;
  size_t k = FT_NONE;
  if (e->s) { /* hash 0 means "no stack": nothing can refer to it */
    k = ft_stack_index(c, e->s);
    if (k == FT_NONE) return ft_oom(c);
  }
  e = NULL;
  int want = k != FT_NONE && !c->stk[k].has_frames;
  size_t off = c->nips;
  uint64_t got = 0;
  while (got < depth) {
    const ft_event *r;
    if (ft_stream_rec(s, &r) != 0) return ft_oom(c);
    if (!r) break;
    s->ei++;
    uint64_t ip[FT_IPS_PER_RECORD];
    memcpy(ip, r, sizeof ip);
    for (int j = 0; j < FT_IPS_PER_RECORD && got < depth; j++, got++)
      if (want && FT_PUSH(c->ips, c->nips, c->capips, ip[j]) != 0) return ft_oom(c);
  }
  if (got < depth) { /* truncated stream: forget the partial frames */
    if (want) c->nips = off;
    c->anomalies++;
    return 0;
  }
  if (want) {
    c->stk[k].has_frames = 1;
    c->stk[k].ip_off = off;
    c->stk[k].depth = (uint32_t)depth;
  }
  return 0;
}

static int ft_rowx_new(ft_ctx *c);

/* Append a row; returns its index, or FT_NONE when out of memory. */
static size_t ft_row_new(ft_ctx *c, unsigned kind, uint32_t thread, uint64_t addr, uint64_t size, uint64_t t,
                         uint32_t stack) {
  ft_row r = {.addr = addr, .size = size, .t_alloc = t, .t_free = FT_LIVE, .thread = thread,
              .stack = stack, .kind = (uint8_t)kind};
  if (c->follow && ft_rowx_new(c) != 0) return FT_NONE;
  if (FT_PUSH(c->rows, c->nrows, c->caprows, r) != 0) return FT_NONE;
  return c->nrows - 1;
}

/* End row i at time t by thread. A release stamped before the allocation
** can only come from a clock going backwards; it is clamped to a zero
** lifetime rather than stored negative. Returns 0 or -1 (OOM). */
static int ft_row_end(ft_ctx *c, size_t i, uint64_t t, uint32_t thread) {
  assert(i < c->nrows && c->rows[i].t_free == FT_LIVE);
  c->rows[i].t_free = t < c->rows[i].t_alloc ? c->rows[i].t_alloc : t;
  c->rows[i].free_thread = thread;
  return FT_PUSH(c->freelog, c->nfree, c->capfree, i);
}

/* Stack id for an allocation's hash (0 = none); FT_NONE on OOM. */
static size_t ft_stack_id(ft_ctx *c, uint64_t hash) {
  if (!hash) return 0;
  size_t k = ft_stack_index(c, hash);
  return k == FT_NONE ? FT_NONE : c->stk[k].id;
}

/* Mapping length as the kernel sees it: rounded up to whole pages, and
** [a, a+len) clamped to the address space. */
static uint64_t ft_map_len(const ft_image *img, uint64_t a, uint64_t n) {
  uint64_t ps = img->sp.hdr.page_size;
  uint64_t len = n > UINT64_MAX - (ps - 1) ? UINT64_MAX & ~(ps - 1) : (n + ps - 1) & ~(ps - 1);
  return len > UINT64_MAX - a ? UINT64_MAX - a : len;
}

/* First live mapping with hi > a (binary search; the set is disjoint and
** sorted, so his are sorted too). */
static size_t ft_iv_first(const ft_ctx *c, uint64_t a) {
  size_t lo = 0, hi = c->niv;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (c->iv[mid].hi > a) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/* Whether [a, a+len) overlaps a live mapping. */
static int ft_iv_overlaps(const ft_ctx *c, uint64_t a, uint64_t len) {
  size_t i = ft_iv_first(c, a);
  return len && i < c->niv && c->iv[i].lo < a + len;
}

/* Unmap [lo, hi) at time t by thread: every live mapping row overlapping it
** ends now; the pieces outside [lo, hi) live on as new rows (same kind,
** allocating thread and stack) created now. *pos gets the set index where
** a mapping of [lo, hi) would go. Returns 0 or -1 (OOM). */
static int ft_unmap(ft_ctx *c, uint64_t lo, uint64_t hi, uint64_t t, uint32_t thread, size_t *pos) {
  size_t i = ft_iv_first(c, lo), j = i;
  while (j < c->niv && c->iv[j].lo < hi) j++;
  *pos = i;
  if (i == j) return 0;
  ft_iv left = c->iv[i], right = c->iv[j - 1];
  int has_left = left.lo < lo, has_right = right.hi > hi;
  for (size_t k = i; k < j; k++)
    if (ft_row_end(c, c->iv[k].row, t, thread) != 0) return ft_oom(c);
  ft_iv rem[2];
  size_t nrem = 0;
  if (has_left) {
    const ft_row o = c->rows[left.row];
    left.hi = lo;
    left.row = ft_row_new(c, o.kind, o.thread, left.lo, left.hi - left.lo, t, o.stack);
    if (left.row == FT_NONE) return ft_oom(c);
    rem[nrem++] = left;
  }
  if (has_right) {
    const ft_row o = c->rows[right.row];
    right.lo = hi;
    right.row = ft_row_new(c, o.kind, o.thread, right.lo, right.hi - right.lo, t, o.stack);
    if (right.row == FT_NONE) return ft_oom(c);
    rem[nrem++] = right;
  }
  /* Replace iv[i, j) by the remnants (j - i >= 1 >= nrem - 1: never grows
  ** by more than one). */
  if (ft_reserve((void **)&c->iv, &c->capiv, c->niv + 1, sizeof *c->iv) != 0) return ft_oom(c);
  memmove(&c->iv[i + nrem], &c->iv[j], (c->niv - j) * sizeof *c->iv);
  memcpy(&c->iv[i], rem, nrem * sizeof *rem);
  c->niv = c->niv - (j - i) + nrem;
  *pos = i + (size_t)has_left;
  return 0;
}

/* Apply one timed event e of stream s. Returns 0 or -1 (OOM). */
static int ft_apply(ft_ctx *c, ft_stream *s, const ft_event *e) {
  ft_image *img = c->img;
  unsigned ty = FT_EV_TYPE(e->t_type);
  uint64_t t = FT_EV_TIME(e->t_type);
  uint32_t th = (uint32_t)s->key;
  if (t > img->max_ev_t) img->max_ev_t = t;
  if (t < c->late_mark) c->late_events++; /* follow mode: published after its epoch */
  switch (ty) {
  case FT_EV_MALLOC:
  case FT_EV_CALLOC:
  case FT_EV_REALLOC:
  case FT_EV_MEMALIGN: {
    uint64_t old;
    /* A live block handed out again without a free we saw (e.g. a dropped
    ** event): end it here rather than lose the new one. */
    if (ft_hmap_take(&c->live, e->a, &old)) {
      c->anomalies++;
      if (ft_row_end(c, (size_t)old, t, th) != 0) return ft_oom(c);
    }
    size_t sid = ft_stack_id(c, e->s);
    if (sid == FT_NONE) return ft_oom(c);
    size_t r = ft_row_new(c, ty, th, e->a, e->n, t, (uint32_t)sid);
    if (r == FT_NONE || ft_hmap_put(&c->live, e->a, r) != 0) return ft_oom(c);
    return 0;
  }
  case FT_EV_FREE: {
    uint64_t r;
    if (!ft_hmap_take(&c->live, e->a, &r)) {
      c->unmatched++;
      return 0;
    }
    return ft_row_end(c, (size_t)r, t, th) != 0 ? ft_oom(c) : 0;
  }
  case FT_EV_MMAP: {
    uint64_t len = ft_map_len(img, e->a, e->n);
    if (!len) { /* mmap(len 0) fails in the kernel: nothing was mapped */
      c->anomalies++;
      return 0;
    }
    size_t pos;
    /* MAP_FIXED over live mappings replaces them: unmap the overlap first. */
    if (ft_unmap(c, e->a, e->a + len, t, th, &pos) != 0) return -1;
    size_t sid = ft_stack_id(c, e->s);
    if (sid == FT_NONE) return ft_oom(c);
    size_t r = ft_row_new(c, FT_EV_MMAP, th, e->a, len, t, (uint32_t)sid);
    if (r == FT_NONE || ft_reserve((void **)&c->iv, &c->capiv, c->niv + 1, sizeof *c->iv) != 0)
      return ft_oom(c);
    memmove(&c->iv[pos + 1], &c->iv[pos], (c->niv - pos) * sizeof *c->iv);
    c->iv[pos] = (ft_iv){e->a, e->a + len, r};
    c->niv++;
    return 0;
  }
  case FT_EV_MUNMAP: {
    uint64_t len = ft_map_len(img, e->a, e->n);
    size_t pos;
    return len ? ft_unmap(c, e->a, e->a + len, t, th, &pos) : 0;
  }
  default:
    assert(0 && "ft_stream_settle only stops at timed events");
    return 0;
  }
}

/* Heap order: earlier head first, then lower stream index (stable). */
static int ft_heap_less(const ft_ctx *c, size_t a, size_t b) {
  uint64_t ta = FT_EV_TIME(c->img->st[a].head->t_type), tb = FT_EV_TIME(c->img->st[b].head->t_type);
  return ta != tb ? ta < tb : a < b;
}

/* Swap heap slots i and j, keeping positions current. */
static void ft_heap_swap(ft_ctx *c, size_t i, size_t j) {
  size_t a = c->heap[i], b = c->heap[j];
  c->heap[i] = b;
  c->heap[j] = a;
  c->hpos[b] = i;
  c->hpos[a] = j;
}

/* Restore the heap property around slot i (moved either way). */
static void ft_heap_fix(ft_ctx *c, size_t i) {
  while (i > 0 && ft_heap_less(c, c->heap[i], c->heap[(i - 1) / 2])) {
    ft_heap_swap(c, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < c->nheap && ft_heap_less(c, c->heap[l], c->heap[m])) m = l;
    if (r < c->nheap && ft_heap_less(c, c->heap[r], c->heap[m])) m = r;
    if (m == i) break;
    ft_heap_swap(c, i, m);
    i = m;
  }
}

/* Stream si consumed its head: advance it and update its heap slot
** (removing it when exhausted). Returns 0 or -1 (OOM). */
static int ft_heap_advance(ft_ctx *c, size_t si) {
  ft_stream *s = &c->img->st[si];
  s->ei++;
  if (ft_stream_settle(c, s) != 0) return -1;
  size_t i = c->hpos[si];
  assert(i < c->nheap && c->heap[i] == si);
  if (!s->head) {
    ft_heap_swap(c, i, c->nheap - 1);
    c->nheap--;
    if (i < c->nheap) ft_heap_fix(c, i);
  } else {
    ft_heap_fix(c, i);
  }
  return 0;
}

/* Whether applying e now is consistent with the current state: an
** allocation of a block that is not live, or a release of one that is. For
** mappings this is a preference, not a law (MAP_FIXED replaces live
** mappings; munmap of a range we never saw is legal). */
static int ft_consistent(const ft_ctx *c, const ft_event *e) {
  unsigned ty = FT_EV_TYPE(e->t_type);
  int alloc = ty <= FT_EV_MMAP, live;
  if (ty == FT_EV_MMAP || ty == FT_EV_MUNMAP) {
    live = ft_iv_overlaps(c, e->a, ft_map_len(c->img, e->a, e->n));
  } else {
    uint64_t dummy;
    live = ft_hmap_get(&c->live, e->a, &dummy);
  }
  return alloc != live;
}

/* The tie rule (see the file comment). The merge's next event e (head of
** stream si) is inconsistent with the current state; events of other
** threads stamped with the same time may have happened first. Returns the
** lowest-index stream whose head has e's timestamp and is consistent, or
** FT_NONE when there is none (e is then applied as it is). */
static size_t ft_tie_first(const ft_ctx *c, size_t si, const ft_event *e) {
  uint64_t t = FT_EV_TIME(e->t_type);
  size_t best = FT_NONE;
  for (size_t k = 0; k < c->nheap; k++) {
    size_t o = c->heap[k];
    const ft_event *x = c->img->st[o].head;
    if (o != si && o < best && FT_EV_TIME(x->t_type) == t && ft_consistent(c, x)) best = o;
  }
  return best;
}

/* Merge the thread streams of the current image by timestamp and apply
** every event stamped at or before `until` (event units; UINT64_MAX: all).
** resume: the streams' cursors carry on from the last merge (follow mode,
** where a merge stops at the watermark and the rest waits for the next
** epoch); else they start over. Returns 0 or -1 (OOM). */
static int ft_merge_until(ft_ctx *c, uint64_t until, int resume) {
  ft_image *img = c->img;
  size_t *h = realloc(c->heap, (img->nst + 1) * sizeof *h);
  if (!h) return ft_oom(c);
  c->heap = h;
  h = realloc(c->hpos, (img->nst + 1) * sizeof *h);
  if (!h) return ft_oom(c);
  c->hpos = h;
  c->nheap = 0;
  for (size_t i = 0; i < img->nst; i++) {
    ft_stream *s = &img->st[i];
    if (!resume) s->ci = s->ei = 0;
    if (ft_stream_settle(c, s) != 0) return -1;
    if (!s->head) continue;
    c->heap[c->nheap] = i;
    c->hpos[i] = c->nheap++;
    ft_heap_fix(c, c->nheap - 1);
  }
  while (c->nheap) {
    size_t si = c->heap[0];
    const ft_event *e = img->st[si].head;
    if (FT_EV_TIME(e->t_type) > until) break; /* the earliest head is past the watermark */
    /* Another head with e's timestamp is a child of the root if it exists:
    ** only then is there anything to decide. */
    uint64_t t = FT_EV_TIME(e->t_type);
    int tie = (c->nheap > 1 && FT_EV_TIME(img->st[c->heap[1]].head->t_type) == t) ||
              (c->nheap > 2 && FT_EV_TIME(img->st[c->heap[2]].head->t_type) == t);
    if (tie && !ft_consistent(c, e)) {
      size_t other = ft_tie_first(c, si, e);
      if (other != FT_NONE) si = other;
    }
    if (ft_apply(c, &img->st[si], img->st[si].head) != 0) return -1;
    if (ft_heap_advance(c, si) != 0) return -1;
  }
  return 0;
}

/* Batch mode: merge everything. */
static int ft_merge(ft_ctx *c) { return ft_merge_until(c, UINT64_MAX, 0); }

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */

/* Bind a byte string as text, NULL when empty. */
static void ft_bind_text(sqlite3_stmt *q, int i, const char *s, size_t n) {
  if (s && n) sqlite3_bind_text(q, i, s, (int)n, SQLITE_TRANSIENT);
  else sqlite3_bind_null(q, i);
}

/* Step a bound INSERT and reset it. Returns 0 or -1 with the error. */
static int ft_step(ft_ctx *c, sqlite3_stmt *q, const char *what) {
  int rc = sqlite3_step(q);
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) return ft_sqlerr(c, what);
  return 0;
}

/* cmdline with NUL separators turned into spaces (trailing NULs dropped);
** malloc'ed, NULL when empty or out of memory. */
static char *ft_join_cmdline(const char *p, size_t n) {
  while (n && p[n - 1] == '\0') n--;
  if (!p || !n) return NULL;
  char *s = malloc(n + 1);
  if (!s) return NULL;
  for (size_t i = 0; i < n; i++) s[i] = p[i] ? p[i] : ' ';
  s[n] = '\0';
  return s;
}

static void ft_bind_opt(sqlite3_stmt *q, int i, int has, int64_t v);

/* Insert the processes row of the current image. */
static int ft_write_process(ft_ctx *c, const char *cmdline) {
  ft_image *img = c->img;
  const ft_file_header *h = &img->sp.hdr;
  sqlite3_stmt *q = c->ins_proc;
  sqlite3_bind_int64(q, 1, img->proc);
  sqlite3_bind_int(q, 2, h->pid);
  sqlite3_bind_int(q, 3, h->ppid);
  if (img->parent) sqlite3_bind_int64(q, 4, img->parent);
  else sqlite3_bind_null(q, 4);
  if (img->exec_from) sqlite3_bind_int64(q, 5, img->exec_from);
  else sqlite3_bind_null(q, 5);
  ft_bind_text(q, 6, img->exe, img->exe_len);
  ft_bind_text(q, 7, cmdline, cmdline ? strlen(cmdline) : 0);
  sqlite3_bind_int64(q, 8, (sqlite3_int64)h->start_unix_ns);
  sqlite3_bind_int64(q, 9, (sqlite3_int64)img->end_ns);
  sqlite3_bind_text(q, 10,
                    img->stopped        ? "stop"
                    : img->has_exit     ? "exit"
                    : img->ends_by_exec ? "exec"
                                        : "unknown",
                    -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 11, h->page_size);
  if (img->has_exit && img->exit_status >= 0) sqlite3_bind_int(q, 12, img->exit_status);
  else sqlite3_bind_null(q, 12);
  sqlite3_bind_int64(q, 13, (sqlite3_int64)img->dropped);
  sqlite3_bind_int64(q, 14, c->unmatched);
  sqlite3_bind_int64(q, 15, h->stack_depth);
  const ft_mode *m = &img->mode;
  ft_bind_opt(q, 16, img->has_mode && m->sample_bytes, (int64_t)m->sample_bytes);
  ft_bind_opt(q, 17, img->has_mode, (int64_t)m->seed);
  ft_bind_opt(q, 18, img->has_mode && m->max_size, (int64_t)m->max_size);
  ft_bind_opt(q, 19, img->has_mode, (m->flags & FT_MODE_START_PAUSED) != 0);
  ft_bind_opt(q, 20, img->has_mode && m->control_signal, (int64_t)m->control_signal);
  return ft_step(c, q, "inserting process");
}


/* Bind row r's weight to parameter i of q: its sampling weight (NULL = 1
** in full capture) times the factor its class is kept 1 in (--max-size):
** keep for a freed row, keep_live for a live one. */
static void ft_bind_weight(ft_ctx *c, sqlite3_stmt *q, int i, const ft_row *r, uint64_t keep, uint64_t keep_live) {
  int sampled = c->sample_bytes && r->kind != FT_EV_MMAP;
  uint64_t k = r->t_free != FT_LIVE ? keep : keep_live;
  if (!sampled && k == 1) {
    sqlite3_bind_null(q, i);
    return;
  }
  double w = sampled ? (double)ft_rw(c, r) / (double)FT_WEIGHT_ONE : 1.0;
  sqlite3_bind_double(q, i, w * (double)k);
}

/* Bind one allocation_rows insert (parameters 1-9: id, kind|thread, address,
** size, t_alloc, lifetime, free thread, stack, weight) for row r with times
** t_alloc and t_free in ns (t_free only used when r is freed); counts the
** free in the import's stats. Shared by the batch and the follow writers. */
static void ft_bind_row(ft_ctx *c, sqlite3_stmt *q, const ft_row *r, int64_t id, uint64_t t_alloc, uint64_t t_free,
                        uint64_t keep, uint64_t keep_live) {
  sqlite3_bind_int64(q, 1, id);
  sqlite3_bind_int64(q, 2, (sqlite3_int64)r->kind | ((sqlite3_int64)r->thread << 3));
  sqlite3_bind_int64(q, 3, (sqlite3_int64)r->addr);
  sqlite3_bind_int64(q, 4, (sqlite3_int64)r->size);
  sqlite3_bind_int64(q, 5, (sqlite3_int64)t_alloc);
  if (r->t_free != FT_LIVE) {
    sqlite3_bind_int64(q, 6, (sqlite3_int64)(t_free - t_alloc));
    if (r->free_thread != r->thread) sqlite3_bind_int64(q, 7, r->free_thread);
    else sqlite3_bind_null(q, 7);
    c->st->frees++;
  } else {
    sqlite3_bind_null(q, 6);
    sqlite3_bind_null(q, 7);
  }
  if (r->stack) sqlite3_bind_int64(q, 8, r->stack);
  else sqlite3_bind_null(q, 8);
  ft_bind_weight(c, q, 9, r, keep, keep_live);
}

/* Insert threads, stacks with frames, and allocation rows of the image. */
static int ft_write_rows(ft_ctx *c) {
  ft_image *img = c->img;
  for (size_t i = 0; i < img->nst; i++) {
    sqlite3_stmt *q = c->ins_thread;
    sqlite3_bind_int64(q, 1, img->st[i].key);
    sqlite3_bind_int64(q, 2, img->proc);
    sqlite3_bind_int(q, 3, img->sp.hdr.pid);
    sqlite3_bind_int(q, 4, img->st[i].tid);
    if (ft_step(c, q, "inserting thread") != 0) return -1;
  }
  for (size_t i = 0; i < c->nstk; i++) {
    const ft_stk *k = &c->stk[i];
    sqlite3_bind_int64(c->ins_stack, 1, k->id);
    sqlite3_bind_int64(c->ins_stack, 2, img->proc);
    sqlite3_bind_int64(c->ins_stack, 3, k->has_frames ? k->depth : 0);
    if (ft_step(c, c->ins_stack, "inserting stack") != 0) return -1;
    for (uint32_t d = 0; k->has_frames && d < k->depth; d++) {
      sqlite3_bind_int64(c->ins_frame, 1, k->id);
      sqlite3_bind_int64(c->ins_frame, 2, d);
      sqlite3_bind_int64(c->ins_frame, 3, (sqlite3_int64)c->ips[k->ip_off + d]);
      if (ft_step(c, c->ins_frame, "inserting stack frame") != 0) return -1;
    }
  }
  sqlite3_stmt *q = c->ins_row;
  for (size_t i = 0; i < c->nrows; i++) {
    const ft_row *r = &c->rows[i];
    ft_bind_row(c, q, r, c->next_row + (int64_t)i, r->t_alloc, r->t_free, 1, 1);
    if (ft_step(c, q, "inserting allocation") != 0) return -1;
  }
  c->next_row += (int64_t)c->nrows;
  c->st->allocations += (long long)c->nrows;
  c->st->stacks += (long)c->nstk;
  c->st->threads += (long)img->nst;
  return 0;
}

/* qsort_r comparators over row indexes (context: the row array). */
static int ft_cmp_alloc_t(const void *a, const void *b, void *ctx) {
  const ft_row *r = ctx;
  uint64_t x = r[*(const size_t *)a].t_alloc, y = r[*(const size_t *)b].t_alloc;
  return x < y ? -1 : x > y;
}
static int ft_cmp_free_t(const void *a, const void *b, void *ctx) {
  const ft_row *r = ctx;
  uint64_t x = r[*(const size_t *)a].t_free, y = r[*(const size_t *)b].t_free;
  return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------------ */
/* Samples and summaries                                                     */
/*
** process_samples' live heap and the summary tables (process_stats,
** site_stats, site_lifetime_hist, site_size_hist, heap_timeline) are pure
** functions of the image's rows; schema/README.md gives the equivalent SQL
** query for every column and tests/unit/test_import.c runs those queries
** against what is written here. They come from the rows still in memory:
**   - one sweep over the instants of allocations and frees in time order.
**     At an instant t the frees are applied first, then the allocations,
**     so the state after t is "rows with t_alloc <= t < t_free" (a row
**     allocated and freed at t is never live). Samples, timeline slice
**     starts and the image's end are query points read between instants.
**   - two passes over the rows: counters (backwards, which hands each row
**     the next allocation time of its thread for `temporary`), then the
**     histogram slots.
** Working memory is O(stacks + threads + samples + slices): nothing per row,
** except the allocation-order index the sweep sorts when the merge left
** allocation times out of order (a thread's clock going backwards).
** Every count and byte sum is a sum of row weights (ft_rw), kept in fixed
** point (units of 2^-FT_WEIGHT_SHIFT) so comparisons are exact, and rounded
** once when written (ft_weight_round). In full capture every weight is
** exactly 1: the rounded sums are the plain counts. */

#define FT_SLICES 1000 /* heap_timeline: [0, end_ns] in slices of end_ns / 1000 + 1 */

typedef struct ft_smp { /* one sampler record */
  ft_sample s;
  int has_shim;           /* the chunk is long enough to hold shim_bytes */
  int64_t live_b, live_n; /* filled by the sweep (fixed point) */
  int has_usable;         /* a heap_totals row at or before s.t_ns exists */
  int64_t usable;         /* its usable_alloc - usable_free */
} ft_smp;

typedef struct ft_tpt { /* a point of the live heap over time */
  uint64_t t;
  int64_t b, n; /* fixed point */
} ft_tpt;

typedef struct ft_site { /* summary of one stack of the image (index: id - first id) */
  /* weighted sums, fixed point */
  uint64_t allocations, bytes, frees, leaked, leaked_bytes, temporary, short_lived;
  uint64_t min_size, max_size, first_alloc, last_alloc;
  int64_t live;            /* sweep state (fixed point); dips below 0 inside an instant (frees go first) */
  int64_t max_live;        /* -1 until the site's first allocation */
  uint64_t max_live_ns;
  uint64_t peak_b, peak_n; /* live at the process peak (fixed point) */
  uint64_t lmask, smask;   /* occupied lifetime and size buckets */
  size_t loff, soff;       /* first slot of the site's buckets in the histogram arrays */
} ft_site;

typedef struct ft_sweep {
  ft_smp *sm; /* samples, sorted by time */
  size_t nsm, ks;
  uint64_t end, w;          /* image end; slice width */
  uint64_t next_slice;      /* start of the next slice to read */
  int slices_done, end_done;
  int64_t b, n;             /* live bytes and allocations after the last instant */
  int has_peak;
  ft_tpt peak, t0, fin;     /* first maximum; state at 0 and at end */
  int has_cur;              /* cur: maximum so far of the slice [cur_lo, cur_hi) */
  uint64_t cur_lo, cur_hi;
  ft_tpt cur;
  uint64_t next_q;          /* time of the next query point, FT_LIVE when none */
  ft_tpt *pts;              /* finished slices' points */
  size_t npts, cappts;
} ft_sweep;

/* Bucket of a size or lifetime: floor(log2(x)), and 0 for x = 0. */
static unsigned ft_bucket(uint64_t x) { return x ? 63u - (unsigned)__builtin_clzll(x) : 0u; }

/* Slot of bucket b in a site's histogram: its rank among the occupied ones. */
static size_t ft_slot(size_t off, uint64_t mask, unsigned b) {
  assert(mask >> b & 1);
  return off + (size_t)__builtin_popcountll(mask & ((UINT64_C(1) << b) - 1));
}

/* Timeline candidate t with the current state: keep the first maximum of
** its slice. Candidates come in time order. Returns 0 or -1 (OOM). */
static int ft_observe(ft_sweep *w, uint64_t t) {
  ft_tpt p = {t, w->b, w->n};
  if (w->has_cur && t < w->cur_hi) { /* the common case: no division */
    assert(t >= w->cur_lo);
    if (p.b > w->cur.b) w->cur = p;
    return 0;
  }
  if (w->has_cur && FT_PUSH(w->pts, w->npts, w->cappts, w->cur) != 0) return -1;
  w->has_cur = 1;
  w->cur_lo = t / w->w * w->w;
  w->cur_hi = w->cur_lo > UINT64_MAX - w->w ? UINT64_MAX : w->cur_lo + w->w;
  w->cur = p;
  return 0;
}

/* Read every query point before instant T (FT_LIVE: all that are left):
** samples get the live heap, slice starts and the end are timeline
** candidates (a slice start carries in the state of the slice before it).
** Returns 0 or -1 (OOM). */
static int ft_sweep_to(ft_sweep *w, uint64_t T) {
  for (; w->ks < w->nsm && w->sm[w->ks].s.t_ns < T; w->ks++) {
    w->sm[w->ks].live_b = w->b;
    w->sm[w->ks].live_n = w->n;
  }
  while (!w->slices_done && w->next_slice < T) {
    if (w->next_slice == 0) w->t0 = (ft_tpt){0, w->b, w->n};
    if (ft_observe(w, w->next_slice) != 0) return -1;
    if (w->end - w->next_slice < w->w) w->slices_done = 1; /* slice starts stop at end */
    else w->next_slice += w->w;
  }
  if (!w->end_done && w->end < T) {
    assert(w->slices_done);
    w->fin = (ft_tpt){w->end, w->b, w->n};
    if (ft_observe(w, w->end) != 0) return -1;
    w->end_done = 1;
  }
  uint64_t q = w->ks < w->nsm ? w->sm[w->ks].s.t_ns : FT_LIVE;
  if (!w->slices_done && w->next_slice < q) q = w->next_slice;
  if (!w->end_done && w->end < q) q = w->end;
  w->next_q = q;
  return 0;
}

/* Order timeline points by time. */
static int ft_cmp_tpt(const void *a, const void *b) {
  const ft_tpt *x = a, *y = b;
  return x->t < y->t ? -1 : x->t > y->t;
}

/* Sweep the image's allocation and free instants in time order (sorting
** index arrays only when the merge did not leave them sorted): fill the
** samples' live heap, the process peak, every site's own maximum, and the
** timeline points (sorted, one per t_ns, in w->pts). Returns 0 or -1. */
static int ft_sweep_rows(ft_ctx *c, ft_sweep *w, ft_site *site, uint32_t sbase) {
  size_t *ai = NULL;
  w->next_q = 0; /* the first slice starts at 0 */
  int a_sorted = 1, f_sorted = 1;
  for (size_t i = 1; i < c->nrows; i++)
    if (c->rows[i].t_alloc < c->rows[i - 1].t_alloc) a_sorted = 0;
  for (size_t i = 1; i < c->nfree; i++)
    if (c->rows[c->freelog[i]].t_free < c->rows[c->freelog[i - 1]].t_free) f_sorted = 0;
  if (!a_sorted) {
    ai = malloc(c->nrows * sizeof *ai);
    if (!ai) return ft_oom(c);
    for (size_t i = 0; i < c->nrows; i++) ai[i] = i;
    qsort_r(ai, c->nrows, sizeof *ai, ft_cmp_alloc_t, c->rows);
  }
  /* The free log is ours to reorder: nothing reads it in free order later. */
  if (!f_sorted) qsort_r(c->freelog, c->nfree, sizeof *c->freelog, ft_cmp_free_t, c->rows);
  size_t ia = 0, jf = 0;
  int rc = -1;
  for (;;) {
    uint64_t ta = ia < c->nrows ? c->rows[ai ? ai[ia] : ia].t_alloc : FT_LIVE;
    uint64_t tf = jf < c->nfree ? c->rows[c->freelog[jf]].t_free : FT_LIVE;
    uint64_t t = ta < tf ? ta : tf;
    if (w->next_q < t && ft_sweep_to(w, t) != 0) goto oom;
    if (t == FT_LIVE) break;
    for (; jf < c->nfree && c->rows[c->freelog[jf]].t_free == t; jf++) {
      const ft_row *r = &c->rows[c->freelog[jf]];
      uint64_t wt = ft_rw(c, r);
      w->b -= (int64_t)(wt * r->size);
      w->n -= (int64_t)wt;
      if (r->stack) site[r->stack - sbase].live -= (int64_t)(wt * r->size);
    }
    for (; ia < c->nrows && c->rows[ai ? ai[ia] : ia].t_alloc == t; ia++) {
      const ft_row *r = &c->rows[ai ? ai[ia] : ia];
      uint64_t wt = ft_rw(c, r);
      w->b += (int64_t)(wt * r->size);
      w->n += (int64_t)wt;
      if (!r->stack) continue;
      /* Within the instant a site only grows from here on, so the first
      ** time it passes its maximum is at this instant, and its last
      ** allocation here leaves the instant's final value as the maximum. */
      ft_site *s = &site[r->stack - sbase];
      s->live += (int64_t)(wt * r->size);
      if (s->live > s->max_live) {
        s->max_live = s->live;
        s->max_live_ns = t;
      }
    }
    /* Every row freed by now was allocated by now: the state is a real one. */
    assert(w->b >= 0 && w->n >= 0);
    if (!w->has_peak || w->b > w->peak.b) {
      w->has_peak = 1;
      w->peak = (ft_tpt){t, w->b, w->n};
    }
    if (ft_observe(w, t) != 0) goto oom;
  }
  assert(ia == c->nrows && jf == c->nfree);
  assert(c->sample_bytes || w->n == (int64_t)((uint64_t)(c->nrows - c->nfree) << FT_WEIGHT_SHIFT));
  /* The points: finished slices, the last slice, t = 0, the end, the peak. */
  if (w->has_cur && FT_PUSH(w->pts, w->npts, w->cappts, w->cur) != 0) goto oom;
  if (FT_PUSH(w->pts, w->npts, w->cappts, w->t0) != 0 || FT_PUSH(w->pts, w->npts, w->cappts, w->fin) != 0)
    goto oom;
  if (w->has_peak && FT_PUSH(w->pts, w->npts, w->cappts, w->peak) != 0) goto oom;
  qsort(w->pts, w->npts, sizeof *w->pts, ft_cmp_tpt);
  size_t m = 0;
  for (size_t i = 0; i < w->npts; i++) {
    if (m && w->pts[m - 1].t == w->pts[i].t) {
      /* the state is a function of time */
      assert(w->pts[m - 1].b == w->pts[i].b && w->pts[m - 1].n == w->pts[i].n);
      continue;
    }
    w->pts[m++] = w->pts[i];
  }
  w->npts = m;
  rc = 0;
  goto out;
oom:
  ft_oom(c);
out:
  free(ai);
  return rc;
}

/* Per-process counters of the row pass (process_stats), weighted sums in fixed point. */
typedef struct ft_pstat {
  uint64_t allocations, frees, bytes, leaked, leaked_bytes, temporary, short_lived, mmap_count, mmap_bytes;
} ft_pstat;

/* The row passes: process and site counters, then the histograms (lh:
** counts per lifetime slot, sh: count and bytes per size slot, allocated
** here). Needs the process peak from the sweep. Returns 0 or -1 (OOM). */
static int ft_count_rows(ft_ctx *c, const ft_sweep *w, ft_pstat *p, ft_site *site, uint32_t sbase,
                         uint64_t **lh, uint64_t **sh) {
  ft_image *img = c->img;
  /* Thread keys of the image are contiguous (assigned in ft_import_image). */
  int64_t tbase = img->nst ? img->st[0].key : 0;
  uint64_t *next_t = malloc((img->nst ? img->nst : 1) * sizeof *next_t);
  if (!next_t) return ft_oom(c);
  for (size_t i = 0; i < img->nst; i++) next_t[i] = FT_LIVE; /* no later allocation */
  for (size_t i = c->nrows; i-- > 0;) {
    const ft_row *r = &c->rows[i];
    size_t th = (size_t)((int64_t)r->thread - tbase);
    assert(th < img->nst && img->st[th].key == (int64_t)r->thread);
    int freed = r->t_free != FT_LIVE;
    uint64_t life = freed ? r->t_free - r->t_alloc : 0;
    /* Temporary: freed by its own thread no later than that thread's next
    ** allocation (in row order) was made. */
    int temp = freed && r->free_thread == r->thread && next_t[th] >= r->t_free;
    next_t[th] = r->t_alloc;
    int shrt = freed && (int64_t)life < c->short_lived_ns;
    uint64_t wt = ft_rw(c, r), wb = wt * r->size;
    p->allocations += wt;
    p->bytes += wb;
    p->frees += freed ? wt : 0;
    p->leaked += freed ? 0 : wt;
    p->leaked_bytes += freed ? 0 : wb;
    p->temporary += temp ? wt : 0;
    p->short_lived += shrt ? wt : 0;
    if (r->kind == FT_EV_MMAP) {
      p->mmap_count += wt;
      p->mmap_bytes += wb;
    }
    if (!r->stack) continue; /* stack lost: counted for the process only */
    ft_site *s = &site[r->stack - sbase];
    if (!s->allocations) {
      s->min_size = s->max_size = r->size;
      s->first_alloc = s->last_alloc = r->t_alloc;
    }
    s->allocations += wt;
    s->bytes += wb;
    s->frees += freed ? wt : 0;
    s->leaked += freed ? 0 : wt;
    s->leaked_bytes += freed ? 0 : wb;
    s->temporary += temp ? wt : 0;
    s->short_lived += shrt ? wt : 0;
    if (r->size < s->min_size) s->min_size = r->size;
    if (r->size > s->max_size) s->max_size = r->size;
    if (r->t_alloc < s->first_alloc) s->first_alloc = r->t_alloc;
    if (r->t_alloc > s->last_alloc) s->last_alloc = r->t_alloc;
    if (w->has_peak && r->t_alloc <= w->peak.t && r->t_free > w->peak.t) { /* FT_LIVE > any time */
      s->peak_b += wb;
      s->peak_n += wt;
    }
    if (freed) s->lmask |= UINT64_C(1) << ft_bucket(life);
    s->smask |= UINT64_C(1) << ft_bucket(r->size);
  }
  free(next_t);
  /* Histogram slots: only the occupied buckets, site after site. */
  size_t nl = 0, ns = 0;
  for (size_t k = 0; k < c->nstk; k++) {
    site[k].loff = nl;
    site[k].soff = ns;
    nl += (size_t)__builtin_popcountll(site[k].lmask);
    ns += (size_t)__builtin_popcountll(site[k].smask);
  }
  *lh = calloc(nl ? nl : 1, sizeof **lh);
  *sh = calloc(ns ? 2 * ns : 1, sizeof **sh);
  if (!*lh || !*sh) return ft_oom(c);
  for (size_t i = 0; i < c->nrows; i++) {
    const ft_row *r = &c->rows[i];
    if (!r->stack) continue;
    const ft_site *s = &site[r->stack - sbase];
    uint64_t wt = ft_rw(c, r);
    if (r->t_free != FT_LIVE) (*lh)[ft_slot(s->loff, s->lmask, ft_bucket(r->t_free - r->t_alloc))] += wt;
    size_t k = ft_slot(s->soff, s->smask, ft_bucket(r->size));
    (*sh)[2 * k] += wt;
    (*sh)[2 * k + 1] += wt * r->size;
  }
  return 0;
}

/* Bind v, or NULL when has is 0. */
static void ft_bind_opt(sqlite3_stmt *q, int i, int has, int64_t v) {
  if (has) sqlite3_bind_int64(q, i, v);
  else sqlite3_bind_null(q, i);
}

/* Insert process_samples row x of the current image: the sweep's live heap
** (weighted sums, rounded) and, when known, the exact live usable bytes. */
static int ft_insert_sample(ft_ctx *c, const ft_smp *x, int has_usable, int64_t usable) {
  sqlite3_stmt *q = c->ins_sample;
  sqlite3_bind_int64(q, 1, c->img->proc);
  sqlite3_bind_int(q, 2, c->img->sp.hdr.pid);
  sqlite3_bind_int64(q, 3, (sqlite3_int64)x->s.t_ns);
  sqlite3_bind_int64(q, 4, (sqlite3_int64)x->s.rss_bytes);
  sqlite3_bind_int64(q, 5, (sqlite3_int64)x->s.vm_bytes);
  sqlite3_bind_int64(q, 6, (sqlite3_int64)ft_weight_round((uint64_t)x->live_b));
  sqlite3_bind_int64(q, 7, (sqlite3_int64)ft_weight_round((uint64_t)x->live_n));
  ft_bind_opt(q, 8, x->has_shim, (int64_t)x->s.shim_bytes);
  ft_bind_opt(q, 9, has_usable, usable);
  return ft_step(c, q, "inserting sample");
}

/* Insert the summary rows of the image. */
static int ft_insert_summaries(ft_ctx *c, const ft_sweep *w, const ft_pstat *p, const ft_site *site,
                               const uint64_t *lh, const uint64_t *sh, int has_rss, ft_tpt rss) {
  ft_image *img = c->img;
  sqlite3_stmt *q = c->ins_pstats;
  const uint64_t pv[] = {p->allocations, p->frees,       p->bytes,      p->leaked,    p->leaked_bytes,
                         p->temporary,   p->short_lived, p->mmap_count, p->mmap_bytes};
  sqlite3_bind_int64(q, 1, img->proc);
  for (int i = 0; i < 9; i++) sqlite3_bind_int64(q, 2 + i, (sqlite3_int64)ft_weight_round(pv[i]));
  sqlite3_bind_int64(q, 11, w->has_peak ? (sqlite3_int64)ft_weight_round((uint64_t)w->peak.b) : 0);
  ft_bind_opt(q, 12, w->has_peak, (int64_t)w->peak.t);
  sqlite3_bind_int64(q, 13, w->has_peak ? (sqlite3_int64)ft_weight_round((uint64_t)w->peak.n) : 0);
  ft_bind_opt(q, 14, has_rss, rss.b);
  ft_bind_opt(q, 15, has_rss, (int64_t)rss.t);
  if (ft_step(c, q, "inserting process_stats") != 0) return -1;
  for (size_t k = 0; k < c->nstk; k++) {
    const ft_site *s = &site[k];
    if (!s->allocations) continue; /* a stack no row refers to */
    int64_t id = c->stk[k].id;
    assert(s->max_live >= 0);
    q = c->ins_site;
    /* weighted sums rounded; sizes and times as they are */
    const uint64_t sv[] = {ft_weight_round(s->allocations),  ft_weight_round(s->bytes),
                           ft_weight_round(s->frees),        ft_weight_round(s->leaked),
                           ft_weight_round(s->leaked_bytes), ft_weight_round(s->temporary),
                           ft_weight_round(s->short_lived),  s->min_size,
                           s->max_size,                      s->first_alloc,
                           s->last_alloc,                    ft_weight_round((uint64_t)s->max_live),
                           s->max_live_ns,                   ft_weight_round(s->peak_b),
                           ft_weight_round(s->peak_n)};
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, img->proc);
    for (int i = 0; i < 15; i++) sqlite3_bind_int64(q, 3 + i, (sqlite3_int64)sv[i]);
    if (ft_step(c, q, "inserting site_stats") != 0) return -1;
    for (unsigned b = 0; b < 64; b++) {
      if (s->lmask >> b & 1) {
        q = c->ins_lhist;
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int(q, 2, (int)b);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round(lh[ft_slot(s->loff, s->lmask, b)]));
        if (ft_step(c, q, "inserting site_lifetime_hist") != 0) return -1;
      }
      if (s->smask >> b & 1) {
        size_t i = ft_slot(s->soff, s->smask, b);
        q = c->ins_shist;
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int(q, 2, (int)b);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round(sh[2 * i]));
        sqlite3_bind_int64(q, 4, (sqlite3_int64)ft_weight_round(sh[2 * i + 1]));
        if (ft_step(c, q, "inserting site_size_hist") != 0) return -1;
      }
    }
  }
  for (size_t i = 0; i < w->npts; i++) {
    q = c->ins_tl;
    sqlite3_bind_int64(q, 1, img->proc);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)w->pts[i].t);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round((uint64_t)w->pts[i].b));
    sqlite3_bind_int64(q, 4, (sqlite3_int64)ft_weight_round((uint64_t)w->pts[i].n));
    if (ft_step(c, q, "inserting heap_timeline") != 0) return -1;
  }
  return 0;
}

/* One TOTALS chunk of the image, for heap_totals and process_samples. */
typedef struct ft_tot {
  ft_totals v;
  size_t order; /* position in the file: the later of two equal times wins */
} ft_tot;

/* Order totals by time, then file order. */
static int ft_cmp_tot(const void *a, const void *b) {
  const ft_tot *x = a, *y = b;
  if (x->v.t_ns != y->v.t_ns) return x->v.t_ns < y->v.t_ns ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* The image's TOTALS chunks sorted by (t_ns, file order) in *out (malloc'd,
** *n entries). Returns 0 or -1 (OOM). */
static int ft_collect_totals(ft_ctx *c, ft_tot **out, size_t *n) {
  ft_image *img = c->img;
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  for (size_t i = 0; i < img->npc; i++) {
    if (img->pc[i].type != FT_CHUNK_TOTALS) continue;
    ft_tot x = {.order = i};
    memcpy(&x.v, img->pc[i].payload, sizeof x.v);
    if (FT_PUSH(*out, *n, cap, x) != 0) return ft_oom(c);
  }
  if (*n > 1) qsort(*out, *n, sizeof **out, ft_cmp_tot);
  return 0;
}

/* Write heap_totals (one row per time: the latest chunk of equal times, the
** counters being cumulative) and recording_control of the current image. */
static int ft_write_mode_rows(ft_ctx *c, const ft_tot *tot, size_t ntot) {
  ft_image *img = c->img;
  static const char *const action[] = {NULL, "pause", "resume", "flush", "stop"};
  static const char *const source[] = {NULL, "start", "signal", "delay", "duration"};
  for (size_t i = 0; i < ntot; i++) {
    if (i + 1 < ntot && tot[i + 1].v.t_ns == tot[i].v.t_ns) continue;
    const ft_totals *v = &tot[i].v;
    sqlite3_stmt *q = c->ins_totals;
    sqlite3_bind_int64(q, 1, img->proc);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)v->t_ns);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)v->allocs);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)v->frees);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)v->alloc_bytes);
    /* negative in a fork child that freed more inherited bytes than it allocated */
    sqlite3_bind_int64(q, 6, (sqlite3_int64)(v->usable_alloc - v->usable_free));
    sqlite3_bind_int64(q, 7, (sqlite3_int64)v->sampled);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)v->untracked);
    sqlite3_bind_int64(q, 9, (sqlite3_int64)v->thinned);
    if (ft_step(c, q, "inserting heap_totals") != 0) return -1;
  }
  for (size_t i = 0; i < img->npc; i++) {
    if (img->pc[i].type != FT_CHUNK_CONTROL) continue;
    ft_control x;
    memcpy(&x, img->pc[i].payload, sizeof x);
    if (x.action < 1 || x.action > 4) { /* a newer shim's action: not ours to guess */
      c->anomalies++;
      continue;
    }
    sqlite3_stmt *q = c->ins_ctl;
    sqlite3_bind_int64(q, 1, img->proc);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)x.t_ns);
    sqlite3_bind_text(q, 3, action[x.action], -1, SQLITE_STATIC);
    if (x.source >= 1 && x.source <= 4) sqlite3_bind_text(q, 4, source[x.source], -1, SQLITE_STATIC);
    else sqlite3_bind_null(q, 4);
    if (ft_step(c, q, "inserting recording_control") != 0) return -1;
  }
  return 0;
}

/* Write process_samples (the sampler's rss/vm plus the exact live heap at
** each sample time) and the summary tables of the current image. */
static int ft_write_summaries(ft_ctx *c) {
  ft_image *img = c->img;
  ft_sweep w = {.end = img->end_ns, .w = img->end_ns / FT_SLICES + 1};
  ft_site *site = NULL;
  uint64_t *lh = NULL, *sh = NULL;
  ft_tot *tot = NULL;
  size_t capsm = 0, ntot = 0;
  int rc = -1;
  if (ft_collect_totals(c, &tot, &ntot) != 0 || ft_write_mode_rows(c, tot, ntot) != 0) goto out;
  for (size_t i = 0; i < img->npc; i++) {
    const ft_pchunk *p = &img->pc[i];
    if (p->type != FT_CHUNK_SAMPLE) continue;
    ft_smp x = {.has_shim = p->len >= sizeof x.s};
    memcpy(&x.s, p->payload, x.has_shim ? sizeof x.s : p->len);
    if (FT_PUSH(w.sm, w.nsm, capsm, x) != 0) goto oom;
  }
  /* A stable order for equal times keeps "first sample wins" (OR IGNORE). */
  for (size_t i = 1; i < w.nsm; i++)
    if (w.sm[i].s.t_ns < w.sm[i - 1].s.t_ns) {
      /* insertion sort: samples arrive in order, this is the rare fixup */
      ft_smp x = w.sm[i];
      size_t j = i;
      while (j && w.sm[j - 1].s.t_ns > x.s.t_ns) {
        w.sm[j] = w.sm[j - 1];
        j--;
      }
      w.sm[j] = x;
    }
  /* usable_live_bytes: the latest totals at or before each sample. */
  for (size_t k = 0, j = 0; k < w.nsm; k++) {
    while (j < ntot && tot[j].v.t_ns <= w.sm[k].s.t_ns) j++;
    if (j) {
      w.sm[k].has_usable = 1;
      w.sm[k].usable = (int64_t)(tot[j - 1].v.usable_alloc - tot[j - 1].v.usable_free);
    }
  }
  /* Stack ids of the image are contiguous (ft_stack_index). */
  uint32_t sbase = c->nstk ? c->stk[0].id : 0;
  site = calloc(c->nstk ? c->nstk : 1, sizeof *site);
  if (!site) goto oom;
  for (size_t k = 0; k < c->nstk; k++) {
    assert(c->stk[k].id == sbase + k);
    site[k].max_live = -1;
  }
  if (ft_sweep_rows(c, &w, site, sbase) != 0) goto out;
  int has_rss = 0;
  ft_tpt rss = {0};
  for (size_t k = 0; k < w.nsm; k++) {
    const ft_smp *x = &w.sm[k];
    if (ft_insert_sample(c, x, x->has_usable, x->usable) != 0) goto out;
    /* Peak RSS over the rows stored: of equal times only the first is. */
    if ((k == 0 || x->s.t_ns != w.sm[k - 1].s.t_ns) && (!has_rss || (int64_t)x->s.rss_bytes > rss.b)) {
      has_rss = 1;
      rss = (ft_tpt){x->s.t_ns, (int64_t)x->s.rss_bytes, 0};
    }
  }
  ft_pstat p = {0};
  if (ft_count_rows(c, &w, &p, site, sbase, &lh, &sh) != 0) goto out;
  if (ft_insert_summaries(c, &w, &p, site, lh, sh, has_rss, rss) != 0) goto out;
  rc = 0;
  goto out;
oom:
  ft_oom(c);
out:
  free(w.sm);
  free(w.pts);
  free(tot);
  free(site);
  free(lh);
  free(sh);
  return rc;
}

/* Write buddyinfo_samples and mappings from the image's snapshots. A
** snapshot the parsers reject is skipped (the kernel's format, not ours). */
static int ft_write_snapshots(ft_ctx *c) {
  ft_image *img = c->img;
  ft_buddy_row *rows = NULL;
  int caprows = 0, rc = -1;
  for (size_t i = 0; i < img->npc; i++) {
    const ft_pchunk *p = &img->pc[i];
    if (p->type != FT_CHUNK_BUDDYINFO && p->type != FT_CHUNK_MAPS) continue;
    uint64_t t;
    memcpy(&t, p->payload, 8);
    const char *text = (const char *)p->payload + 8;
    size_t len = p->len - 8;
    if (p->type == FT_CHUNK_BUDDYINFO) {
      int n = ft_parse_buddyinfo(text, len, rows, caprows);
      if (n > caprows && n <= FT_MAX_BUDDY_ROWS) { /* more zones than room: grow, parse again */
        ft_buddy_row *nr = realloc(rows, (size_t)n * sizeof *rows);
        if (!nr) goto oom;
        rows = nr;
        caprows = n;
        n = ft_parse_buddyinfo(text, len, rows, caprows);
      }
      if (n < 0) continue;
      if (n > caprows) n = caprows;
      for (int r = 0; r < n; r++)
        for (int o = 0; o < rows[r].norders && o < FT_MAX_ORDERS; o++) {
          sqlite3_stmt *q = c->ins_buddy;
          sqlite3_bind_int64(q, 1, img->proc);
          sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
          sqlite3_bind_int(q, 3, rows[r].node);
          sqlite3_bind_text(q, 4, rows[r].zone, (int)strnlen(rows[r].zone, FT_ZONE_NAME_MAX), SQLITE_TRANSIENT);
          sqlite3_bind_int(q, 5, o);
          sqlite3_bind_int64(q, 6, (sqlite3_int64)rows[r].free_blocks[o]);
          if (ft_step(c, q, "inserting buddyinfo") != 0) goto out;
        }
    } else {
      size_t off = 0;
      while (off < len) {
        const char *line = text + off;
        const char *nl = memchr(line, '\n', len - off);
        size_t ll = nl ? (size_t)(nl - line) : len - off;
        off += ll + (nl != NULL);
        ft_map_entry m;
        if (!ll || ft_parse_maps_line(line, ll, &m) != 0) continue;
        if (!m.path_len || m.path[0] != '/') continue; /* anonymous, [heap], [stack], ... */
        sqlite3_stmt *q = c->ins_map;
        sqlite3_bind_int64(q, 1, img->proc);
        sqlite3_bind_int(q, 2, img->sp.hdr.pid);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)m.start);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)m.end);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)m.offset);
        sqlite3_bind_text(q, 6, m.path, (int)m.path_len, SQLITE_TRANSIENT);
        if (ft_step(c, q, "inserting mapping") != 0) goto out;
      }
    }
  }
  rc = 0;
  goto out;
oom:
  ft_oom(c);
out:
  free(rows);
  return rc;
}

/* Fragmentation attribution (site_windows, pinning; ft_import_frag.c) over
** the rows in memory, read in place. Needs process_samples written. */
static int ft_write_frag(ft_ctx *c) {
  const ft_frag_rows fr = {c->rows, c->nrows, sizeof *c->rows, offsetof(ft_row, addr), offsetof(ft_row, size),
                           offsetof(ft_row, t_alloc), offsetof(ft_row, t_free), offsetof(ft_row, stack),
                           offsetof(ft_row, kind), c->sample_bytes};
  return ft_import_frag(c->db, c->img->proc, c->img->sp.hdr.page_size, c->img->end_ns, &fr, c->err, c->errlen);
}

/* Import the current image (keys assigned, streams scanned). */
static int ft_import_image(ft_ctx *c) {
  ft_image *img = c->img;
  c->nrows = c->nfree = c->niv = c->nstk = c->nips = 0;
  c->unmatched = 0;
  c->sample_bytes = img->has_mode ? img->mode.sample_bytes : 0;
  ft_hmap_clear(&c->live);
  ft_hmap_clear(&c->stkmap);
  /* Each thread's first event, for the order of thread keys. (Decodes
  ** each stream's first chunks; the merge starts over from chunk 0.) */
  int has_events = 0;
  for (size_t i = 0; i < img->nst; i++) {
    ft_stream *s = &img->st[i];
    s->ci = s->ei = 0;
    if (ft_stream_settle(NULL, s) != 0) return ft_oom(c);
    has_events |= s->head != NULL;
  }
  if (ft_clock_prepare(c, has_events) != 0) return -1;
  for (size_t i = 0; i < img->nst; i++) {
    ft_stream *s = &img->st[i];
    if (s->head) {
      uint64_t t = ft_ev_ns(img, FT_EV_TIME(s->head->t_type));
      if (t < s->first_t) s->first_t = t;
    }
    s->head = NULL;
  }
  /* Thread keys in order of first appearance. */
  qsort(img->st, img->nst, sizeof *img->st, ft_cmp_stream);
  for (size_t i = 0; i < img->nst; i++) img->st[i].key = c->next_thread++;
  assert(c->next_thread < ((int64_t)1 << 32));
  if (ft_merge(c) != 0) return -1;
  /* Rows leave the merge in event units: make them ns (order is kept). */
  if (img->tsc) {
    for (size_t i = 0; i < c->nrows; i++) {
      ft_row *r = &c->rows[i];
      r->t_alloc = ft_ev_ns(img, r->t_alloc);
      if (r->t_free != FT_LIVE) r->t_free = ft_ev_ns(img, r->t_free);
    }
  }
  if (has_events && ft_ev_ns(img, img->max_ev_t) > img->end_ns) img->end_ns = ft_ev_ns(img, img->max_ev_t);
  char *cmd = ft_join_cmdline(img->cmdline, img->cmdline_len);
  int rc = ft_write_process(c, cmd);
  free(cmd);
  if (rc || ft_write_rows(c) || ft_write_summaries(c) || ft_write_frag(c) || ft_write_snapshots(c)) return -1;
  if (ft_import_sys_image(c->db, img->proc, &img->sp, c->err, c->errlen) != 0) return -1; /* issue 4 samples */
  c->st->unmatched_frees += c->unmatched;
  c->st->events_dropped += (long long)img->dropped;
  c->st->processes++;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */

/* Prepare all statements of c. Returns 0 or -1 with the error. */
static int ft_prepare(ft_ctx *c) {
  static const struct {
    size_t off;
    const char *sql;
  } q[] = {
      {offsetof(ft_ctx, ins_proc),
       "INSERT INTO processes(proc, pid, ppid, parent_proc, exec_from, exe, cmdline, start_unix_ns, end_ns, "
       "ended_by, page_size, exit_status, events_dropped, unmatched_frees, stack_depth, sample_bytes, seed, "
       "max_size, start_paused, control_signal) "
       "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20)"},
      {offsetof(ft_ctx, ins_thread), "INSERT INTO threads(thread, proc, pid, tid) VALUES (?1,?2,?3,?4)"},
      {offsetof(ft_ctx, ins_row),
       "INSERT INTO allocation_rows(id, kind_thread, address, size, t_alloc, lifetime, free_thread, stack_id, "
       "weight) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"},
      {offsetof(ft_ctx, ins_stack), "INSERT INTO stacks(stack_id, proc, depth) VALUES (?1,?2,?3)"},
      {offsetof(ft_ctx, ins_frame), "INSERT INTO stack_frames(stack_id, depth, ip) VALUES (?1,?2,?3)"},
      {offsetof(ft_ctx, ins_sample),
       "INSERT OR IGNORE INTO process_samples(proc, pid, t_ns, rss_bytes, vm_bytes, live_bytes, "
       "live_allocations, shim_bytes, usable_live_bytes) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"},
      {offsetof(ft_ctx, ins_buddy),
       "INSERT OR IGNORE INTO buddyinfo_samples(proc, t_ns, node, zone, page_order, free_blocks) "
       "VALUES (?1,?2,?3,?4,?5,?6)"},
      /* (proc, start) is the key: the first snapshot that shows a mapping wins. */
      {offsetof(ft_ctx, ins_map),
       "INSERT OR IGNORE INTO mappings(proc, pid, start, \"end\", file_offset, path) VALUES (?1,?2,?3,?4,?5,?6)"},
      {offsetof(ft_ctx, q_link),
       "SELECT proc, ended_by FROM processes WHERE pid = ?1 AND start_unix_ns <= ?2 AND proc <= ?3 "
       "ORDER BY start_unix_ns DESC, proc DESC LIMIT 1"},
      {offsetof(ft_ctx, ins_pstats),
       "INSERT INTO process_stats(proc, allocations, frees, bytes, leaked, leaked_bytes, temporary, short_lived, "
       "mmap_count, mmap_bytes, peak_live_bytes, peak_live_ns, peak_live_allocations, peak_rss_bytes, peak_rss_ns) "
       "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"},
      {offsetof(ft_ctx, ins_site),
       "INSERT INTO site_stats(stack_id, proc, allocations, bytes, frees, leaked, leaked_bytes, temporary, "
       "short_lived, min_size, max_size, first_alloc_ns, last_alloc_ns, max_live_bytes, max_live_ns, "
       "live_at_peak_bytes, live_at_peak_count) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"},
      {offsetof(ft_ctx, ins_lhist), "INSERT INTO site_lifetime_hist(stack_id, bucket, count) VALUES (?1,?2,?3)"},
      {offsetof(ft_ctx, ins_shist),
       "INSERT INTO site_size_hist(stack_id, bucket, count, bytes) VALUES (?1,?2,?3,?4)"},
      {offsetof(ft_ctx, ins_tl),
       "INSERT INTO heap_timeline(proc, t_ns, live_bytes, live_allocations) VALUES (?1,?2,?3,?4)"},
      {offsetof(ft_ctx, ins_totals),
       "INSERT INTO heap_totals(proc, t_ns, allocations, frees, bytes, usable_live_bytes, sampled, untracked, "
       "thinned) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"},
      {offsetof(ft_ctx, ins_ctl), "INSERT INTO recording_control(proc, t_ns, action, source) VALUES (?1,?2,?3,?4)"},
  };
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
    sqlite3_stmt **slot = (sqlite3_stmt **)((char *)c + q[i].off);
    if (sqlite3_prepare_v3(c->db, q[i].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
      return ft_sqlerr(c, "preparing import statements");
  }
  return 0;
}

/* Largest keys already in the trace, so appended images continue them. */
static int ft_read_next_keys(ft_ctx *c, int64_t *next_proc) {
  sqlite3_stmt *q = NULL;
  int rc = sqlite3_prepare_v2(c->db,
                              "SELECT (SELECT IFNULL(MAX(proc), 0) FROM processes), "
                              "(SELECT IFNULL(MAX(thread), 0) FROM threads), "
                              "(SELECT IFNULL(MAX(stack_id), 0) FROM stacks), "
                              "(SELECT IFNULL(MAX(id), 0) FROM allocation_rows)",
                              -1, &q, NULL);
  if (rc != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
    sqlite3_finalize(q);
    return ft_sqlerr(c, "reading trace keys");
  }
  *next_proc = sqlite3_column_int64(q, 0) + 1;
  c->next_thread = sqlite3_column_int64(q, 1) + 1;
  c->next_stack = sqlite3_column_int64(q, 2) + 1;
  c->next_row = sqlite3_column_int64(q, 3) + 1;
  sqlite3_finalize(q);
  return 0;
}

/* Add v to the integer meta value key (creating it). Returns 0 or -1. */
static int ft_meta_add(ft_ctx *c, const char *key, long long v) {
  sqlite3_stmt *q = NULL;
  char buf[32];
  int rc = -1;
  if (sqlite3_prepare_v2(c->db,
                         "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE "
                         "SET value = CAST(CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER) AS TEXT)",
                         -1, &q, NULL) == SQLITE_OK) {
    snprintf(buf, sizeof buf, "%lld", v);
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, buf, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
  }
  sqlite3_finalize(q);
  return rc;
}

/* Default of meta `short_lived_ns` (1 ms, the default of `fragtrace report
** --short-lived`): the threshold of the short_lived summary columns. */
#define FT_SHORT_LIVED_NS 1000000

/* Write meta `short_lived_ns` unless the trace has it (an earlier import, or
** the user, chose it: appended images must count by the same threshold),
** and read it into c. Returns 0 or -1 with the error. */
static int ft_read_short_lived(ft_ctx *c) {
  static const char sql[] = "INSERT OR IGNORE INTO meta(key, value) VALUES ('short_lived_ns', ?1);"
                            "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'short_lived_ns'";
  sqlite3_stmt *q = NULL;
  const char *tail = sql;
  char buf[32];
  int rc = -1;
  if (sqlite3_prepare_v2(c->db, tail, -1, &q, &tail) != SQLITE_OK) goto out;
  snprintf(buf, sizeof buf, "%lld", (long long)FT_SHORT_LIVED_NS); /* text, like the other meta values */
  sqlite3_bind_text(q, 1, buf, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(q) != SQLITE_DONE) goto out;
  sqlite3_finalize(q);
  q = NULL;
  if (sqlite3_prepare_v2(c->db, tail, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) goto out;
  c->short_lived_ns = sqlite3_column_int64(q, 0);
  rc = 0;
out:
  if (rc) ft_sqlerr(c, "reading meta short_lived_ns");
  sqlite3_finalize(q);
  return rc;
}

/* Write the import's meta rows: `command` (first import wins),
** `imported_unix_ns` (last import wins), `anomalies` (summed), and
** `clock_estimated` (summed, only once it happens). */
static int ft_write_meta(ft_ctx *c, const ft_image *first) {
  char buf[64];
  char *cmd = first ? ft_join_cmdline(first->cmdline, first->cmdline_len) : NULL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  sqlite3_stmt *q = NULL;
  int rc = -1;
  if (cmd) {
    if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO meta(key, value) VALUES ('command', ?1)", -1, &q,
                           NULL) != SQLITE_OK)
      goto fail;
    sqlite3_bind_text(q, 1, cmd, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) goto fail;
    sqlite3_finalize(q);
    q = NULL;
  }
  if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('imported_unix_ns', ?1)", -1,
                         &q, NULL) != SQLITE_OK)
    goto fail;
  snprintf(buf, sizeof buf, "%lld", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  sqlite3_bind_text(q, 1, buf, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(q) != SQLITE_DONE) goto fail;
  sqlite3_finalize(q);
  q = NULL;
  if (ft_meta_add(c, "anomalies", c->anomalies) != 0) goto fail;
  if (c->clock_estimated && ft_meta_add(c, "clock_estimated", c->clock_estimated) != 0) goto fail;
  rc = 0;
fail:
  if (rc) ft_sqlerr(c, "writing meta");
  sqlite3_finalize(q);
  free(cmd);
  return rc;
}

/* Free everything c and the images own (statements, buffers, mappings). */
static void ft_cleanup(ft_ctx *c, ft_image *im, size_t n) {
  sqlite3_stmt *all[] = {c->ins_proc,   c->ins_thread, c->ins_row,   c->ins_stack, c->ins_frame,
                         c->ins_sample, c->ins_buddy,  c->ins_map,   c->q_link,    c->ins_pstats,
                         c->ins_site,   c->ins_lhist,  c->ins_shist, c->ins_tl,    c->ins_totals,
                         c->ins_ctl};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
  free(c->rows);
  free(c->freelog);
  free(c->live.s);
  free(c->iv);
  free(c->stk);
  free(c->stkmap.s);
  free(c->ips);
  free(c->heap);
  free(c->hpos);
  for (size_t i = 0; im && i < n; i++) {
    for (size_t j = 0; j < im[i].nst; j++) {
      free(im[i].st[j].c);
      free(im[i].st[j].dec); /* left only when an image failed before its merge ended */
    }
    free(im[i].st);
    free(im[i].pc);
    free(im[i].clk);
    ft_spill_reader_close(&im[i].sp);
  }
  free(im);
}

int ft_import_spills(sqlite3 *db, const char *const *paths, size_t n, ft_import_stats *st, char *err,
                     size_t errlen) {
  ft_import_stats dummy;
  if (!st) st = &dummy;
  memset(st, 0, sizeof *st);
  ft_ctx c = {.db = db, .err = err, .errlen = errlen, .st = st};
  ft_image *im = calloc(n ? n : 1, sizeof *im);
  size_t nim = 0;
  int in_tx = 0, rc = -1;
  /* Nest inside a caller's transaction if there is one. */
  int own_tx = sqlite3_get_autocommit(db);
  if (!im) {
    ft_oom(&c);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    ft_image *img = &im[nim];
    img->path = paths[i];
    img->argi = i;
    int r = ft_spill_reader_open(&img->sp, paths[i], err, errlen);
    if (r < 0) goto out;
    if (r == 1) { /* killed before its header: counts as truncated, nothing to import */
      st->truncated_files++;
      continue;
    }
    nim++;
    if (img->sp.truncated) st->truncated_files++;
    if (ft_scan_image(&c, img) != 0) goto out;
  }
  qsort(im, nim, sizeof *im, ft_cmp_image);
  /* BEGIN IMMEDIATE: the keys we read below must stay ours until COMMIT,
  ** even when other processes append to the same trace. */
  if (sqlite3_exec(db, own_tx ? "BEGIN IMMEDIATE" : "SAVEPOINT ft_import", NULL, NULL, NULL) != SQLITE_OK) {
    ft_sqlerr(&c, "starting import transaction");
    goto out;
  }
  in_tx = 1;
  int64_t next_proc;
  if (ft_read_next_keys(&c, &next_proc) != 0 || ft_prepare(&c) != 0 || ft_read_short_lived(&c) != 0) goto out;
  for (size_t i = 0; i < nim; i++) im[i].proc = next_proc + (int64_t)i;
  ft_link_images(&c, im, nim, next_proc - 1);
  for (size_t i = 0; i < nim; i++) {
    c.img = &im[i];
    if (ft_import_image(&c) != 0) goto out;
  }
  if (ft_write_meta(&c, nim ? &im[0] : NULL) != 0) goto out;
  if (ft_relink_earlier_imports(&c) != 0) goto out;
  if (sqlite3_exec(db, own_tx ? "COMMIT" : "RELEASE ft_import", NULL, NULL, NULL) != SQLITE_OK) {
    ft_sqlerr(&c, "committing import");
    goto out;
  }
  in_tx = 0;
  rc = 0;
out:
  if (in_tx)
    sqlite3_exec(db, own_tx ? "ROLLBACK" : "ROLLBACK TO ft_import; RELEASE ft_import", NULL, NULL, NULL);
  ft_cleanup(&c, im, nim);
  if (rc) {
    ft_import_stats keep = {.truncated_files = st->truncated_files};
    *st = keep; /* nothing was imported */
  }
  return rc;
}

/* ======================================================================== */
/* Follow mode (ft_import.h): spills imported epoch by epoch while they grow */
/*
** Each image keeps its merge state between epochs (rows still needed, the
** live address map and mappings, stacks, thread streams with their
** cursors, clock pairs) and running summaries instead of the row passes of
** batch mode:
**   - allocation-side counters (allocations, bytes, sizes, first/last,
**     size histogram, allocation window) are added when a row is created,
**     free-side ones (frees, short_lived, lifetime histogram, free window)
**     when it is freed, `temporary` once the row is freed and its thread's
**     next row exists (or at the end), exactly as the batch pass decides it;
**   - the sweep (live heap, peaks, site maxima, samples' live heap,
**     timeline) runs over each epoch's instants in time order, carrying its
**     state; a site's live bytes at the process peak are kept by a lazy
**     snapshot (taken when the site first changes after a new peak), which
**     is what the batch pass counts from the rows live at the peak;
**   - leaked counts are the sweep's live state, final at the end.
** The merge of an epoch stops at the watermark (ft_import.h); the chunks
** it did not finish stay in their streams, rebased onto the next epoch's
** mapping of the file, and the hole punching stays below them.
** Rows stay in event units (TSC ticks) in memory, as the merge compares
** them, and are converted to ns where they are counted or written: a drain
** boundary comes after the drain's clock pair, so an epoch's events are
** converted through the same clock segments as in batch mode.
** Rows are written at the commit of the epoch that made them: a row still
** live then with lifetime NULL, updated in the epoch it is freed (so a
** reader sees the live heap as it is now); a row freed within its epoch
** goes in whole. Under --max-size, once the trace has been thinned (meta
** thin_keep = k > 1, ft_follow.h), a freed row is written only when
** ft_thin_keeps(id, k), with its weight times k; the others are never
** written (a row written live and not kept when freed is deleted), which
** spares SQLite almost all the work of a churning program. Every summary
** comes from the events in memory, so none of that changes them. A row is
** dropped from memory once freed and its `temporary` decided. Ids are
** given at creation, in merge order as in batch mode.
*/

typedef struct ft_rowx { /* follow mode's side record of a row */
  int64_t id;
  uint64_t ta, tf;  /* t_alloc and t_free in ns, converted once (by ft_fsweep, in the epoch of each): events
                    ** come before the watermark, where the clock segments are final */
  uint64_t next_t;  /* t_alloc of its thread's next row (ns), valid when has_next */
  uint8_t has_next; /* its thread made another row since */
  uint8_t written;  /* 0: not yet; 1: done with allocation_rows (written as it ends, or left out by
                    ** thinning); 2: written while live (lifetime NULL, updated or deleted when freed);
                    ** 3: live and not in the table (left out by the live rows' 1-in-k: when freed it is
                    ** judged like a row never written) */
  uint8_t decided;  /* counted in `temporary` (or not): nothing left to learn */
} ft_rowx;

/* Give the row being created in follow mode its id and side record. */
static int ft_rowx_new(ft_ctx *c) {
  if (ft_reserve((void **)&c->rx, &c->caprx, c->nrows + 1, sizeof *c->rx) != 0) return -1;
  c->rx[c->nrows] = (ft_rowx){.id = c->next_row++};
  return 0;
}

typedef struct ft_fsite { /* running summary of one stack of a followed image (fixed point sums) */
  uint64_t allocations, bytes, frees, temporary, short_lived;
  uint64_t min_size, max_size, first_alloc, last_alloc; /* ns */
  int64_t live_b, live_n, max_live;                     /* max_live -1 before the first allocation */
  uint64_t max_live_ns;
  int64_t snap_b, snap_n; /* live at the process peak numbered snap_ver */
  uint64_t snap_ver;
  uint64_t lh[64], sc[64], sb[64]; /* lifetime counts; size counts and bytes */
} ft_fsite;

typedef struct ft_ftot { /* a TOTALS chunk: time and usable live bytes */
  uint64_t t;
  int64_t usable;
} ft_ftot;

typedef struct ft_fimg { /* one followed image */
  ft_image img;
  char *path;
  size_t off;      /* first chunk not yet imported */
  size_t punched;  /* bytes from the start already given back */
  int done;        /* ended: nothing more is read */
  int pending;     /* the last epoch stopped at its size cap: more is there already */
  uint64_t wmark;  /* the watermark of the last merge (event units): events before it come late */
  char *cmdline, *exe; /* owned copies (the mapping changes every epoch) */
  size_t cmdline_len, exe_len;
  /* merge state, swapped into ft_ctx while the image is worked on */
  ft_row *rows;
  size_t nrows, caprows;
  ft_rowx *rx;
  size_t caprx;
  ft_hmap live;
  ft_iv *iv;
  size_t niv, capiv;
  ft_stk *stk;
  size_t nstk, capstk;
  ft_hmap stkmap;
  uint64_t *ips;
  size_t nips, capips;
  long long unmatched;
  uint64_t sample_bytes;
  /* follow state */
  ft_hmap sid;        /* stack id -> index in stk (ids of interleaved images are not contiguous) */
  ft_hmap tlast;      /* thread key -> index of its last row */
  size_t nst_keyed;   /* streams [0, nst_keyed) have keys */
  size_t nst_written; /* streams [0, nst_written) have threads rows */
  size_t nstk_written;
  uint8_t *fw;        /* per stack: written with its frames */
  size_t capfw;
  ft_fsite *site;     /* per stack */
  size_t capsite;
  ft_pstat p;
  ft_sweep w;
  size_t capsm, sm_written;
  uint64_t peak_ver;
  ft_hmap wmap;       /* (stack index << 40 | window) -> index in wv */
  ft_site_window *wv;
  size_t nw, capw;
  size_t *wdirty;
  size_t nwd, capwd;
  uint8_t *wflag;
  size_t capwf;
  ft_ftot *tots;
  size_t ntot, captot;
  int has_rss;
  ft_tpt rss;
  ft_hmap touched; /* base pages (system page size) any heap row ever covered: the pinning replay's residency */
  int64_t thin_rowid; /* `thinning` row counting the freed rows left out at thin_k, 0 = none yet */
  uint64_t thin_k;
  uint64_t seen_keep_live; /* live rows' 1-in-k last applied to the rows in memory (0: none yet) */
} ft_fimg;

struct ft_follow_import {
  sqlite3 *db;
  ft_ctx c;
  ft_import_stats st;
  ft_fimg **im;
  size_t nim, capim;
  int64_t next_proc;
  uint64_t window_ns;
  size_t epoch_bytes; /* spill bytes an epoch takes at most (when drains allow) */
  int punch, punch_failed;
  sqlite3_stmt *upd_totals, *ins_win; /* follow versions: replace */
  sqlite3_stmt *upd_row;              /* lifetime of a row written while live */
  sqlite3_stmt *del_row;              /* a row written while live, freed and not kept (thinning) */
  sqlite3_stmt *ins_thin, *upd_thin;  /* the `thinning` row of an image's freed rows left out */
  uint64_t keep;                      /* freed rows written 1 in keep (meta thin_keep, ft_follow.h) */
  uint64_t keep_live;                 /* live rows written 1 in keep_live (meta thin_keep_live) */
  long long left_out;                 /* freed rows left out in this poll (meta thinned_rows) */
};

/* Swap the image's merge state into c (enter) or back out of it (leave). */
#define FT_FSWAP(F)                                                                                                \
  F(rows) F(nrows) F(caprows) F(rx) F(caprx) F(live) F(iv) F(niv) F(capiv) F(stk) F(nstk) F(capstk) F(stkmap)      \
      F(ips) F(nips) F(capips) F(unmatched) F(sample_bytes)
static void ft_fimg_enter(ft_ctx *c, ft_fimg *fi) {
#define FT_IN(x) c->x = fi->x;
  FT_FSWAP(FT_IN)
#undef FT_IN
  c->img = &fi->img;
  c->nfree = 0;
}
static void ft_fimg_leave(ft_ctx *c, ft_fimg *fi) {
#define FT_OUT(x) fi->x = c->x;
  FT_FSWAP(FT_OUT)
#undef FT_OUT
#define FT_ZERO(x) memset(&c->x, 0, sizeof c->x);
  FT_FSWAP(FT_ZERO)
#undef FT_ZERO
  c->img = NULL;
}

/* ns of event time t in image fi. */
static uint64_t ft_fns(const ft_fimg *fi, uint64_t t) { return ft_ev_ns(&fi->img, t); }

/* Index of stack id (non-zero) in the image's stacks. */
static size_t ft_fsite_of(const ft_fimg *fi, uint32_t id) {
  uint64_t k = 0;
  int ok = ft_hmap_get(&fi->sid, id, &k);
  assert(ok);
  (void)ok;
  return (size_t)k;
}

/* Make the per-stack arrays cover every stack of the image (new ones get
** their id mapped and a fresh summary). Returns 0 or -1 (OOM). */
static int ft_fsites_grow(ft_ctx *c, ft_fimg *fi) {
  size_t n = c->nstk, old = fi->capsite;
  if (ft_reserve((void **)&fi->site, &fi->capsite, n, sizeof *fi->site) != 0 ||
      ft_reserve((void **)&fi->fw, &fi->capfw, n, sizeof *fi->fw) != 0)
    return -1;
  for (size_t k = old; k < fi->capsite; k++) {
    memset(&fi->site[k], 0, sizeof fi->site[k]);
    fi->site[k].max_live = -1;
  }
  for (size_t k = old < fi->capfw ? old : fi->capfw; k < fi->capfw; k++) fi->fw[k] = 0;
  for (size_t k = 0; k < n; k++) {
    uint64_t dummy;
    if (!ft_hmap_get(&fi->sid, c->stk[k].id, &dummy) && ft_hmap_put(&fi->sid, c->stk[k].id, k) != 0) return -1;
  }
  return 0;
}

/* Add (count, bytes) to the (stack k, window) aggregate; allocation side
** when alloc, else free side. Returns 0 or -1 (OOM). */
static int ft_fwin_add(ft_follow_import *f, ft_fimg *fi, size_t k, uint32_t id, uint64_t t_ns, int alloc,
                       uint64_t wt, uint64_t wb) {
  uint64_t w = t_ns / f->window_ns;
  assert(w < (UINT64_C(1) << 40) && k < (UINT64_C(1) << 23));
  uint64_t key = ((uint64_t)k << 40) | w, idx;
  if (!ft_hmap_get(&fi->wmap, key, &idx)) {
    ft_site_window z = {.stack = id, .window = w};
    if (FT_PUSH(fi->wv, fi->nw, fi->capw, z) != 0 || ft_hmap_put(&fi->wmap, key, fi->nw - 1) != 0 ||
        ft_reserve((void **)&fi->wflag, &fi->capwf, fi->nw, 1) != 0)
      return -1;
    idx = fi->nw - 1;
    fi->wflag[idx] = 0;
  }
  ft_site_window *v = &fi->wv[idx];
  if (alloc) {
    v->allocations += wt;
    v->bytes += wb;
  } else {
    v->frees += wt;
    v->freed_bytes += wb;
  }
  if (!fi->wflag[idx]) {
    fi->wflag[idx] = 1;
    if (FT_PUSH(fi->wdirty, fi->nwd, fi->capwd, (size_t)idx) != 0) return -1;
  }
  return 0;
}

/* Change site k's live state by (db, dn) at the current instant, keeping
** its value at the latest process peak first (the lazy snapshot). */
static void ft_fsite_live(ft_fimg *fi, size_t k, int64_t db, int64_t dn, uint64_t t_ns) {
  ft_fsite *s = &fi->site[k];
  if (s->snap_ver != fi->peak_ver) {
    s->snap_b = s->live_b;
    s->snap_n = s->live_n;
    s->snap_ver = fi->peak_ver;
  }
  s->live_b += db;
  s->live_n += dn;
  /* Within an instant a site only grows after its frees, so its first
  ** maximum is at this instant's last allocation (as in ft_sweep_rows). */
  if (db > 0 && s->live_b > s->max_live) {
    s->max_live = s->live_b;
    s->max_live_ns = t_ns;
  }
}

/* An index and its time, for sorting an epoch's instants. */
typedef struct ft_tix {
  uint64_t t;
  size_t i;
} ft_tix;
/* Order instants by time, then row index (merge order). */
static int ft_cmp_tix(const void *a, const void *b) {
  const ft_tix *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Whether v[0..n) is in ft_cmp_tix order already. */
static int ft_tix_sorted(const ft_tix *v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (ft_cmp_tix(&v[i - 1], &v[i]) > 0) return 0;
  return 1;
}

/* The epoch's sweep: rows [first, nrows) allocated, c->freelog freed, in
** time order (frees first within an instant), carrying the image's sweep
** state. Returns 0 or -1 (OOM). */
static int ft_fsweep(ft_ctx *c, ft_fimg *fi, size_t first) {
  ft_sweep *w = &fi->w;
  size_t na = c->nrows - first, nf = c->nfree;
  ft_tix *a = malloc((na ? na : 1) * sizeof *a), *fr = malloc((nf ? nf : 1) * sizeof *fr);
  int rc = -1;
  if (!a || !fr) goto out;
  for (size_t i = first; i < c->nrows; i++) a[i - first] = (ft_tix){c->rx[i].ta = ft_fns(fi, c->rows[i].t_alloc), i};
  for (size_t j = 0; j < nf; j++) {
    size_t i = c->freelog[j];
    fr[j] = (ft_tix){c->rx[i].tf = ft_fns(fi, c->rows[i].t_free), i};
  }
  /* Rows are made and freed in merge order, which is time order but for
  ** late events and the order of an instant's frees: sort only then. */
  if (!ft_tix_sorted(a, na)) qsort(a, na, sizeof *a, ft_cmp_tix);
  if (!ft_tix_sorted(fr, nf)) qsort(fr, nf, sizeof *fr, ft_cmp_tix);
  size_t ia = 0, jf = 0;
  for (;;) {
    uint64_t ta = ia < na ? a[ia].t : FT_LIVE, tf = jf < nf ? fr[jf].t : FT_LIVE;
    uint64_t t = ta < tf ? ta : tf;
    if (t == FT_LIVE) break;
    if (w->next_q < t && ft_sweep_to(w, t) != 0) goto out;
    for (; jf < nf && fr[jf].t == t; jf++) {
      const ft_row *r = &c->rows[fr[jf].i];
      uint64_t wt = ft_rw(c, r);
      w->b -= (int64_t)(wt * r->size);
      w->n -= (int64_t)wt;
      if (r->stack) ft_fsite_live(fi, ft_fsite_of(fi, r->stack), -(int64_t)(wt * r->size), -(int64_t)wt, t);
    }
    for (; ia < na && a[ia].t == t; ia++) {
      const ft_row *r = &c->rows[a[ia].i];
      uint64_t wt = ft_rw(c, r);
      w->b += (int64_t)(wt * r->size);
      w->n += (int64_t)wt;
      if (r->stack) ft_fsite_live(fi, ft_fsite_of(fi, r->stack), (int64_t)(wt * r->size), (int64_t)wt, t);
    }
    if (!w->has_peak || w->b > w->peak.b) {
      w->has_peak = 1;
      w->peak = (ft_tpt){t, w->b, w->n};
      fi->peak_ver++;
    }
    if (ft_observe(w, t) != 0) goto out;
  }
  rc = 0;
out:
  if (rc) ft_oom(c);
  free(a);
  free(fr);
  return rc;
}

/* Decide `temporary` for row i (freed; its thread's next row known, or
** none will come: final) exactly as ft_count_rows does. */
static void ft_fdecide(ft_ctx *c, ft_fimg *fi, size_t i) {
  const ft_row *r = &c->rows[i];
  ft_rowx *x = &c->rx[i];
  assert(r->t_free != FT_LIVE && !x->decided);
  uint64_t next = x->has_next ? x->next_t : FT_LIVE;
  int temp = r->free_thread == r->thread && next >= x->tf;
  x->decided = 1;
  if (!temp) return;
  uint64_t wt = ft_rw(c, r);
  fi->p.temporary += wt;
  if (r->stack) fi->site[ft_fsite_of(fi, r->stack)].temporary += wt;
}

/* Whether row r takes part in the pinning replay (ft_import_frag.h): a heap
** block below the mmap threshold, of an image recorded in full, with a
** page size to replay onto. */
static int ft_fpin_heap(const ft_fimg *fi, const ft_row *r) {
  uint32_t ps = fi->img.sp.hdr.page_size;
  return !fi->sample_bytes && ps && !(ps & (ps - 1)) && r->kind != FT_EV_MMAP && r->size > 0 &&
         r->size < FT_PIN_MMAP_THRESHOLD;
}

/* pinning and pinning_totals at the image's end (instant 'end'), as
** ft_import_frag computes them: the rows live at the end are in memory,
** and the pages ever touched stand in for the rows freed since, as rows
** allocated and freed at 0 (resident, never live). The 'rss_gap' instant
** is in the past by then: not computed. The image is entered. 0 or -1. */
static int ft_fpinning(ft_ctx *c, ft_fimg *fi) {
  ft_image *img = &fi->img;
  uint32_t ps = img->sp.hdr.page_size;
  if (fi->sample_bytes || !ps || (ps & (ps - 1))) return 0; /* as ft_import_frag */
  size_t n = 0, cap = 0;
  ft_row *v = NULL;
  for (size_t i = 0; i < c->nrows; i++) {
    ft_row r = c->rows[i];
    if (r.t_free != FT_LIVE) continue;
    r.t_alloc = ft_fns(fi, r.t_alloc);
    if (FT_PUSH(v, n, cap, r) != 0) goto oom;
  }
  unsigned sh = (unsigned)__builtin_ctzll(ps);
  for (size_t k = 0; k < fi->touched.cap; k++)
    if (fi->touched.s[k].val) {
      ft_row r = {.addr = fi->touched.s[k].key << sh, .size = ps, .t_alloc = 0, .t_free = 0, .kind = FT_EV_MALLOC};
      if (FT_PUSH(v, n, cap, r) != 0) goto oom;
    }
  const ft_frag_rows fr = {v, n, sizeof *v, offsetof(ft_row, addr), offsetof(ft_row, size),
                           offsetof(ft_row, t_alloc), offsetof(ft_row, t_free), offsetof(ft_row, stack),
                           offsetof(ft_row, kind), 0};
  int rc = ft_import_pinning_end(c->db, img->proc, ps, img->end_ns, &fr, c->err, c->errlen);
  free(v);
  return rc;
oom:
  free(v);
  return ft_oom(c);
}

/* The epoch's counters: allocation side of rows [first, nrows), free side
** of c->freelog, then `temporary` of every freed row whose thread moved on
** (all of them when final). Returns 0 or -1 (OOM). */
static int ft_fcount(ft_follow_import *f, ft_fimg *fi, size_t first, int final) {
  ft_ctx *c = &f->c;
  for (size_t i = first; i < c->nrows; i++) {
    const ft_row *r = &c->rows[i];
    /* its thread's previous row now has a successor */
    uint64_t prev;
    if (ft_hmap_get(&fi->tlast, r->thread, &prev)) {
      c->rx[prev].has_next = 1;
      c->rx[prev].next_t = c->rx[i].ta;
    }
    if (ft_hmap_put(&fi->tlast, r->thread, i) != 0) return ft_oom(c);
    uint64_t wt = ft_rw(c, r), wb = wt * r->size, ta = c->rx[i].ta;
    if (ft_fpin_heap(fi, r)) { /* the pages it covers are resident from now on (ft_pin_touched) */
      unsigned sh = (unsigned)__builtin_ctzll(fi->img.sp.hdr.page_size);
      for (uint64_t bp = r->addr >> sh; bp <= (r->addr + r->size - 1) >> sh; bp++)
        if (ft_hmap_put(&fi->touched, bp, 0) != 0) return ft_oom(c);
    }
    fi->p.allocations += wt;
    fi->p.bytes += wb;
    if (r->kind == FT_EV_MMAP) {
      fi->p.mmap_count += wt;
      fi->p.mmap_bytes += wb;
    }
    if (!r->stack) continue;
    size_t k = ft_fsite_of(fi, r->stack);
    ft_fsite *s = &fi->site[k];
    if (!s->allocations) {
      s->min_size = s->max_size = r->size;
      s->first_alloc = s->last_alloc = ta;
    }
    s->allocations += wt;
    s->bytes += wb;
    if (r->size < s->min_size) s->min_size = r->size;
    if (r->size > s->max_size) s->max_size = r->size;
    if (ta < s->first_alloc) s->first_alloc = ta;
    if (ta > s->last_alloc) s->last_alloc = ta;
    unsigned b = ft_bucket(r->size);
    s->sc[b] += wt;
    s->sb[b] += wb;
    if (ft_fwin_add(f, fi, k, r->stack, ta, 1, wt, wb) != 0) return ft_oom(c);
  }
  for (size_t j = 0; j < c->nfree; j++) {
    const ft_row *r = &c->rows[c->freelog[j]];
    const ft_rowx *x = &c->rx[c->freelog[j]];
    uint64_t wt = ft_rw(c, r), wb = wt * r->size, tf = x->tf;
    uint64_t life = tf - x->ta;
    int shrt = (int64_t)life < c->short_lived_ns;
    fi->p.frees += wt;
    fi->p.short_lived += shrt ? wt : 0;
    if (!r->stack) continue;
    size_t k = ft_fsite_of(fi, r->stack);
    ft_fsite *s = &fi->site[k];
    s->frees += wt;
    s->short_lived += shrt ? wt : 0;
    s->lh[ft_bucket(life)] += wt;
    if (ft_fwin_add(f, fi, k, r->stack, tf, 0, wt, wb) != 0) return ft_oom(c);
  }
  for (size_t i = 0; i < c->nrows; i++)
    if (c->rows[i].t_free != FT_LIVE && !c->rx[i].decided && (c->rx[i].has_next || final)) ft_fdecide(c, fi, i);
  return 0;
}

/* Insert row i into allocation_rows (ns times, its id); a freed row is
** weighted for being kept 1 in keep. */
static int ft_fwrite_row(ft_ctx *c, size_t i, uint64_t keep, uint64_t keep_live) {
  const ft_row *r = &c->rows[i];
  ft_bind_row(c, c->ins_row, r, c->rx[i].id, c->rx[i].ta, c->rx[i].tf, keep, keep_live);
  c->rx[i].written = r->t_free != FT_LIVE ? 1 : 2;
  c->st->allocations++;
  return ft_step(c, c->ins_row, "inserting allocation");
}

/* Row i, written while live, was freed: give its row the lifetime (and the
** weight of a row kept 1 in keep). */
static int ft_fupdate_row(ft_ctx *c, sqlite3_stmt *q, size_t i, uint64_t keep) {
  const ft_row *r = &c->rows[i];
  assert(c->rx[i].written == 2 && r->t_free != FT_LIVE);
  sqlite3_bind_int64(q, 1, c->rx[i].id);
  sqlite3_bind_int64(q, 2, (sqlite3_int64)(c->rx[i].tf - c->rx[i].ta));
  if (r->free_thread != r->thread) sqlite3_bind_int64(q, 3, r->free_thread);
  else sqlite3_bind_null(q, 3);
  ft_bind_weight(c, q, 4, r, keep, 1);
  c->rx[i].written = 1;
  c->st->frees++;
  return ft_step(c, q, "updating allocation");
}

/* What an epoch's thinning left out of one image. */
typedef struct ft_fleft {
  long long unwritten, deleted;
  int64_t first_id, last_id;
  uint64_t before_t; /* largest t_alloc, ns */
} ft_fleft;

/* Count freed row i as left out by thinning (del: it was written while
** live, and is deleted now). */
static int ft_fleave_out(ft_follow_import *f, size_t i, int del, ft_fleft *lo) {
  ft_ctx *c = &f->c;
  int64_t id = c->rx[i].id;
  if (del) {
    sqlite3_bind_int64(f->del_row, 1, id);
    if (ft_step(c, f->del_row, "deleting a thinned allocation") != 0) return -1;
    lo->deleted++;
  } else {
    lo->unwritten++;
    c->st->allocations++;
  }
  c->st->frees++;
  c->rx[i].written = 1;
  uint64_t ta = c->rx[i].ta;
  if (!lo->first_id || id < lo->first_id) lo->first_id = id;
  if (id > lo->last_id) lo->last_id = id;
  if (ta > lo->before_t) lo->before_t = ta;
  return 0;
}

/* Add what the epoch left out of image fi to its `thinning` row for the
** current k (a new row when k changed). 0 or -1. */
static int ft_fthin_record(ft_follow_import *f, ft_fimg *fi, const ft_fleft *lo) {
  ft_ctx *c = &f->c;
  if (!lo->unwritten && !lo->deleted) return 0;
  int fresh = !fi->thin_rowid || fi->thin_k != f->keep;
  sqlite3_stmt *q = fresh ? f->ins_thin : f->upd_thin;
  sqlite3_bind_int64(q, 1, fresh ? fi->img.proc : fi->thin_rowid);
  sqlite3_bind_int64(q, 2, (sqlite3_int64)fi->img.end_ns);
  sqlite3_bind_int64(q, 3, lo->deleted);
  sqlite3_bind_int64(q, 4, lo->first_id);
  sqlite3_bind_int64(q, 5, lo->last_id);
  sqlite3_bind_int64(q, 6, (sqlite3_int64)lo->before_t);
  sqlite3_bind_int64(q, 7, (sqlite3_int64)f->keep);
  sqlite3_bind_int64(q, 8, lo->unwritten);
  if (ft_step(c, q, "recording thinning") != 0) return -1;
  if (fresh) {
    fi->thin_rowid = sqlite3_last_insert_rowid(c->db);
    fi->thin_k = f->keep;
  }
  f->left_out += lo->unwritten + lo->deleted;
  return 0;
}

/* Write every row not yet written (live ones with lifetime NULL, so a
** reader sees what is allocated now) and give rows written live that were
** freed since their lifetime; then drop from memory the rows with nothing
** left to decide, renumbering the indexes the address map, the mapping
** set and the last-row map hold. 0 or -1. */
static int ft_fflush_rows(ft_follow_import *f, ft_fimg *fi, int final) {
  ft_ctx *c = &f->c;
  const uint64_t k = f->keep, kl = f->keep_live;
  ft_fleft lo = {0};
  /* A thinning round that raised the live rows' factor deleted the live
  ** rows it no longer keeps: those are not in the table any more. */
  if (fi->seen_keep_live != kl) {
    for (size_t i = 0; i < c->nrows; i++)
      if (c->rx[i].written == 2 && kl > 1 && !ft_thin_keeps(c->rx[i].id, kl)) {
        c->rx[i].written = 3;
        c->st->allocations--; /* counted again when it is freed or ends */
      }
    fi->seen_keep_live = kl;
  }
  for (size_t i = 0; i < c->nrows; i++) {
    uint8_t w = c->rx[i].written;
    int freed = c->rows[i].t_free != FT_LIVE;
    if (w == 1 || ((w == 2 || w == 3) && !freed)) continue;
    if (!freed && kl > 1 && !ft_thin_keeps(c->rx[i].id, kl)) {
      c->rx[i].written = 3; /* live, left out: the kept live rows stand for it */
      continue;
    }
    if (freed && k > 1 && !ft_thin_keeps(c->rx[i].id, k)) {
      if (ft_fleave_out(f, i, w == 2, &lo) != 0) return -1;
    } else if (w == 0 || w == 3) {
      if (ft_fwrite_row(c, i, k, kl) != 0) return -1;
    } else if (ft_fupdate_row(c, f->upd_row, i, k) != 0) {
      return -1;
    }
  }
  if (ft_fthin_record(f, fi, &lo) != 0) return -1;
  if (final) return 0; /* everything goes with the image */
  size_t *nx = malloc((c->nrows ? c->nrows : 1) * sizeof *nx), m = 0;
  if (!nx) return ft_oom(c);
  for (size_t i = 0; i < c->nrows; i++) {
    int keep = !(c->rx[i].written == 1 && c->rx[i].decided);
    nx[i] = keep ? m : FT_NONE;
    if (keep) {
      c->rows[m] = c->rows[i];
      c->rx[m] = c->rx[i];
      m++;
    }
  }
  /* Live rows and each thread's last row (undecided until its successor
  ** or the end) are never dropped: every index the maps hold survives. */
  ft_hmap *maps[2] = {&c->live, &fi->tlast};
  for (int k = 0; k < 2; k++)
    for (size_t s = 0; s < maps[k]->cap; s++)
      if (maps[k]->s[s].val) {
        size_t o = (size_t)(maps[k]->s[s].val - 1);
        assert(nx[o] != FT_NONE);
        maps[k]->s[s].val = nx[o] + 1;
      }
  for (size_t k = 0; k < c->niv; k++) {
    assert(nx[c->iv[k].row] != FT_NONE);
    c->iv[k].row = nx[c->iv[k].row];
  }
  free(nx);
  c->nrows = m;
  return 0;
}

/* Run sql with proc bound as ?1. Returns 0 or -1 with the error. */
static int ft_fexec_proc(ft_ctx *c, const char *sql, int64_t proc) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK) return ft_sqlerr(c, "preparing a rewrite");
  sqlite3_bind_int64(q, 1, proc);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  return rc == SQLITE_DONE ? 0 : ft_sqlerr(c, "rewriting summaries");
}

/* Threads and stacks new since the last write (and frames of stacks that
** had none then). Returns 0 or -1. */
static int ft_fwrite_keys(ft_ctx *c, ft_fimg *fi) {
  ft_image *img = &fi->img;
  for (size_t i = fi->nst_written; i < fi->nst_keyed; i++) {
    sqlite3_stmt *q = c->ins_thread;
    sqlite3_bind_int64(q, 1, img->st[i].key);
    sqlite3_bind_int64(q, 2, img->proc);
    sqlite3_bind_int(q, 3, img->sp.hdr.pid);
    sqlite3_bind_int(q, 4, img->st[i].tid);
    if (ft_step(c, q, "inserting thread") != 0) return -1;
    c->st->threads++;
  }
  fi->nst_written = fi->nst_keyed;
  for (size_t k = 0; k < c->nstk; k++) {
    const ft_stk *s = &c->stk[k];
    int fresh = k >= fi->nstk_written;
    if (!fresh && (fi->fw[k] || !s->has_frames)) continue;
    if (fresh) {
      sqlite3_bind_int64(c->ins_stack, 1, s->id);
      sqlite3_bind_int64(c->ins_stack, 2, img->proc);
      sqlite3_bind_int64(c->ins_stack, 3, s->has_frames ? s->depth : 0);
      if (ft_step(c, c->ins_stack, "inserting stack") != 0) return -1;
      c->st->stacks++;
    } else { /* its frames came in a later epoch than its first use */
      char sql[128];
      snprintf(sql, sizeof sql, "UPDATE stacks SET depth = %u WHERE stack_id = %u", s->depth, s->id);
      if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) return ft_sqlerr(c, "updating stack");
    }
    for (uint32_t d = 0; s->has_frames && d < s->depth; d++) {
      sqlite3_bind_int64(c->ins_frame, 1, s->id);
      sqlite3_bind_int64(c->ins_frame, 2, d);
      sqlite3_bind_int64(c->ins_frame, 3, (sqlite3_int64)c->ips[s->ip_off + d]);
      if (ft_step(c, c->ins_frame, "inserting stack frame") != 0) return -1;
    }
    fi->fw[k] = (uint8_t)s->has_frames;
  }
  fi->nstk_written = c->nstk;
  return 0;
}

/* Usable live bytes of the latest totals at or before t (*has 0: none). */
static int64_t ft_fusable(const ft_fimg *fi, uint64_t t, int *has) {
  size_t lo = 0, hi = fi->ntot; /* first with t_ns > t */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (fi->tots[mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  *has = lo > 0;
  return lo ? fi->tots[lo - 1].usable : 0;
}

/* Rewrite the image's processes row and summary tables from the running
** state, and add the samples resolved and windows changed since the last
** write. The image is entered. Returns 0 or -1. */
static int ft_fwrite_summaries(ft_follow_import *f, ft_fimg *fi) {
  ft_ctx *c = &f->c;
  ft_image *img = &fi->img;
  char *cmd = ft_join_cmdline(img->cmdline, img->cmdline_len);
  int rc = ft_fexec_proc(c, "DELETE FROM processes WHERE proc = ?1", img->proc);
  if (!rc) rc = ft_write_process(c, cmd);
  free(cmd);
  if (rc || ft_fwrite_keys(c, fi) != 0) return -1;
  /* samples the sweep has passed */
  ft_sweep *w = &fi->w;
  for (size_t k = fi->sm_written; k < w->ks; k++) {
    const ft_smp *x = &w->sm[k];
    int has_usable;
    int64_t usable = ft_fusable(fi, x->s.t_ns, &has_usable);
    if (ft_insert_sample(c, x, has_usable, usable) != 0) return -1;
    if ((k == 0 || x->s.t_ns != w->sm[k - 1].s.t_ns) && (!fi->has_rss || (int64_t)x->s.rss_bytes > fi->rss.b)) {
      fi->has_rss = 1;
      fi->rss = (ft_tpt){x->s.t_ns, (int64_t)x->s.rss_bytes, 0};
    }
  }
  fi->sm_written = w->ks;
  /* windows changed since the last write: their whole value replaces the row */
  for (size_t d = 0; d < fi->nwd; d++) {
    const ft_site_window *v = &fi->wv[fi->wdirty[d]];
    sqlite3_stmt *q = f->ins_win;
    sqlite3_bind_int64(q, 1, v->stack);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)v->window);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round(v->allocations));
    sqlite3_bind_int64(q, 4, (sqlite3_int64)ft_weight_round(v->bytes));
    sqlite3_bind_int64(q, 5, (sqlite3_int64)ft_weight_round(v->frees));
    sqlite3_bind_int64(q, 6, (sqlite3_int64)ft_weight_round(v->freed_bytes));
    if (ft_step(c, q, "inserting site_windows") != 0) return -1;
    fi->wflag[fi->wdirty[d]] = 0;
  }
  fi->nwd = 0;
  /* `temporary` of freed rows still waiting for their thread's next row,
  ** as if none comes (what the end decides unless one does). */
  ft_pstat p = fi->p;
  uint64_t *ptemp = calloc(c->nstk ? c->nstk : 1, sizeof *ptemp);
  if (!ptemp) return ft_oom(c);
  for (size_t i = 0; i < c->nrows; i++) {
    const ft_row *r = &c->rows[i];
    if (r->t_free == FT_LIVE || c->rx[i].decided || c->rx[i].has_next || r->free_thread != r->thread) continue;
    uint64_t wt = ft_rw(c, r);
    p.temporary += wt;
    if (r->stack) ptemp[ft_fsite_of(fi, r->stack)] += wt;
  }
  p.leaked = (uint64_t)w->n;
  p.leaked_bytes = (uint64_t)w->b;
  rc = -1;
  if (ft_fexec_proc(c, "DELETE FROM process_stats WHERE proc = ?1", img->proc) ||
      ft_fexec_proc(c, "DELETE FROM site_stats WHERE proc = ?1", img->proc) ||
      ft_fexec_proc(c, "DELETE FROM site_lifetime_hist WHERE stack_id IN (SELECT stack_id FROM stacks WHERE proc = ?1)",
                    img->proc) ||
      ft_fexec_proc(c, "DELETE FROM site_size_hist WHERE stack_id IN (SELECT stack_id FROM stacks WHERE proc = ?1)",
                    img->proc) ||
      ft_fexec_proc(c, "DELETE FROM heap_timeline WHERE proc = ?1", img->proc))
    goto out;
  sqlite3_stmt *q = c->ins_pstats;
  const uint64_t pv[] = {p.allocations, p.frees,       p.bytes,      p.leaked,    p.leaked_bytes,
                         p.temporary,   p.short_lived, p.mmap_count, p.mmap_bytes};
  sqlite3_bind_int64(q, 1, img->proc);
  for (int i = 0; i < 9; i++) sqlite3_bind_int64(q, 2 + i, (sqlite3_int64)ft_weight_round(pv[i]));
  sqlite3_bind_int64(q, 11, w->has_peak ? (sqlite3_int64)ft_weight_round((uint64_t)w->peak.b) : 0);
  ft_bind_opt(q, 12, w->has_peak, (int64_t)w->peak.t);
  sqlite3_bind_int64(q, 13, w->has_peak ? (sqlite3_int64)ft_weight_round((uint64_t)w->peak.n) : 0);
  ft_bind_opt(q, 14, fi->has_rss, fi->rss.b);
  ft_bind_opt(q, 15, fi->has_rss, (int64_t)fi->rss.t);
  if (ft_step(c, q, "inserting process_stats") != 0) goto out;
  for (size_t k = 0; k < c->nstk; k++) {
    const ft_fsite *s = &fi->site[k];
    if (!s->allocations) continue;
    int at_snap = s->snap_ver == fi->peak_ver;
    uint64_t pb = w->has_peak ? (uint64_t)(at_snap ? s->snap_b : s->live_b) : 0;
    uint64_t pn = w->has_peak ? (uint64_t)(at_snap ? s->snap_n : s->live_n) : 0;
    assert(s->max_live >= 0);
    const uint64_t sv[] = {ft_weight_round(s->allocations),          ft_weight_round(s->bytes),
                           ft_weight_round(s->frees),                ft_weight_round((uint64_t)s->live_n),
                           ft_weight_round((uint64_t)s->live_b),     ft_weight_round(s->temporary + ptemp[k]),
                           ft_weight_round(s->short_lived),          s->min_size,
                           s->max_size,                              s->first_alloc,
                           s->last_alloc,                            ft_weight_round((uint64_t)s->max_live),
                           s->max_live_ns,                           ft_weight_round(pb),
                           ft_weight_round(pn)};
    q = c->ins_site;
    sqlite3_bind_int64(q, 1, c->stk[k].id);
    sqlite3_bind_int64(q, 2, img->proc);
    for (int i = 0; i < 15; i++) sqlite3_bind_int64(q, 3 + i, (sqlite3_int64)sv[i]);
    if (ft_step(c, q, "inserting site_stats") != 0) goto out;
    for (int b = 0; b < 64; b++) {
      if (s->lh[b]) {
        q = c->ins_lhist;
        sqlite3_bind_int64(q, 1, c->stk[k].id);
        sqlite3_bind_int(q, 2, b);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round(s->lh[b]));
        if (ft_step(c, q, "inserting site_lifetime_hist") != 0) goto out;
      }
      if (s->sc[b]) {
        q = c->ins_shist;
        sqlite3_bind_int64(q, 1, c->stk[k].id);
        sqlite3_bind_int(q, 2, b);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round(s->sc[b]));
        sqlite3_bind_int64(q, 4, (sqlite3_int64)ft_weight_round(s->sb[b]));
        if (ft_step(c, q, "inserting site_size_hist") != 0) goto out;
      }
    }
  }
  /* heap_timeline: the finished slices, the open one, t = 0, the peak, the end */
  {
    size_t n = 0, cap = 0;
    ft_tpt *pts = NULL;
    int bad = 0;
    for (size_t i = 0; i < w->npts && !bad; i++) bad = FT_PUSH(pts, n, cap, w->pts[i]);
    if (!bad && w->has_cur) bad = FT_PUSH(pts, n, cap, w->cur);
    if (!bad && w->next_slice > 0) bad = FT_PUSH(pts, n, cap, w->t0);
    if (!bad && w->has_peak) bad = FT_PUSH(pts, n, cap, w->peak);
    if (!bad && w->end_done) bad = FT_PUSH(pts, n, cap, w->fin);
    if (bad) {
      free(pts);
      ft_oom(c);
      goto out;
    }
    qsort(pts, n, sizeof *pts, ft_cmp_tpt);
    for (size_t i = 0; i < n; i++) {
      if (i && pts[i].t == pts[i - 1].t) continue;
      q = c->ins_tl;
      sqlite3_bind_int64(q, 1, img->proc);
      sqlite3_bind_int64(q, 2, (sqlite3_int64)pts[i].t);
      sqlite3_bind_int64(q, 3, (sqlite3_int64)ft_weight_round((uint64_t)pts[i].b));
      sqlite3_bind_int64(q, 4, (sqlite3_int64)ft_weight_round((uint64_t)pts[i].n));
      if (ft_step(c, q, "inserting heap_timeline") != 0) {
        free(pts);
        goto out;
      }
    }
    free(pts);
  }
  rc = 0;
out:
  free(ptemp);
  return rc;
}

#define FT_EPOCH_CAP ((size_t)8 << 20) /* default spill bytes per epoch, when drains allow */

/* Whether a chunk type ends a drain (see ft_import.h): the epoch may stop after it. */
static int ft_fboundary(uint32_t type) {
  return type == FT_CHUNK_CLOCK || type == FT_CHUNK_TOTALS || type == FT_CHUNK_CONTROL || type == FT_CHUNK_EXIT ||
         type == FT_CHUNK_EXEC;
}

/* Give the bytes of fi's spill before fi->off back to the file system (the
** file keeps its size; the importer never reads them again). */
static void ft_fpunch(ft_follow_import *f, ft_fimg *fi) {
  if (!f->punch || f->punch_failed) return;
  size_t from = fi->punched ? fi->punched : 4096; /* the header's page stays readable */
  size_t to = fi->off;
  for (size_t i = 0; i < fi->img.nst; i++) /* chunks waiting past the watermark stay */
    if (fi->img.st[i].nc && fi->img.st[i].c[0].off - sizeof(ft_chunk) < to)
      to = fi->img.st[i].c[0].off - sizeof(ft_chunk);
  to &= ~(size_t)4095;
  if (to <= from) return;
  int fd = open(fi->path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(to - from)) == 0)
    fi->punched = to;
  else if (errno == EOPNOTSUPP || errno == ENOSYS)
    f->punch_failed = 1;
  close(fd);
}

/* Keys for the streams that appeared in this epoch: in order of their
** first event (as ft_import_image orders an image's threads). 0 or -1. */
static int ft_fkey_streams(ft_ctx *c, ft_fimg *fi) {
  ft_image *img = &fi->img;
  for (size_t i = fi->nst_keyed; i < img->nst; i++) {
    ft_stream *s = &img->st[i];
    s->ci = s->ei = 0;
    if (ft_stream_settle(NULL, s) != 0) return ft_oom(c);
    if (s->head) {
      uint64_t t = ft_ev_ns(img, FT_EV_TIME(s->head->t_type));
      if (t < s->first_t) s->first_t = t;
    }
    s->head = NULL;
    s->ci = s->ei = 0; /* the merge reads it from the start (its stacks too) */
  }
  qsort(img->st + fi->nst_keyed, img->nst - fi->nst_keyed, sizeof *img->st, ft_cmp_stream);
  for (size_t i = fi->nst_keyed; i < img->nst; i++) img->st[i].key = c->next_thread++;
  assert(c->next_thread < ((int64_t)1 << 32));
  fi->nst_keyed = img->nst;
  return 0;
}

/* Clock pairs of this epoch (img->clk[from..]): keep those that go forward
** (ft_clock_prepare's rule, pairs arriving in order); an image that ends
** with events but never got a pair (estimate) gets batch mode's estimated
** rate. 0 or -1. */
static int ft_fclock(ft_ctx *c, ft_image *img, size_t from, int estimate) {
  size_t m = from;
  for (size_t i = from; i < img->nclk; i++) {
    ft_clock_pair p = img->clk[i], prev = img->clk[m - 1];
    if (p.ticks <= prev.ticks || p.ns < prev.ns) continue;
    img->clk[m++] = p;
  }
  img->nclk = m;
  if (estimate && img->tsc && img->nclk == 1) {
    if (c->host_ns_per_tick == 0) c->host_ns_per_tick = ft_host_ns_per_tick();
    double rate = c->host_ns_per_tick > 0 ? c->host_ns_per_tick : 1.0;
    ft_clock_pair p = {(uint64_t)1 << 32, (uint64_t)((double)((uint64_t)1 << 32) * rate)};
    if (FT_PUSH(img->clk, img->nclk, img->capclk, p) != 0) return ft_oom(c);
    c->clock_estimated++;
  }
  return 0;
}

/* Add this epoch's sampler records to the sweep's pending samples, in time
** order. One older than what the sweep already passed is read at once with
** the state now (it arrived late), counted as a late event. 0 or -1. */
static int ft_fsamples(ft_ctx *c, ft_fimg *fi) {
  ft_image *img = &fi->img;
  ft_sweep *w = &fi->w;
  for (size_t i = 0; i < img->npc; i++) {
    const ft_pchunk *p = &img->pc[i];
    if (p->type != FT_CHUNK_SAMPLE) continue;
    ft_smp x = {.has_shim = p->len >= sizeof x.s};
    memcpy(&x.s, p->payload, x.has_shim ? sizeof x.s : p->len);
    if (FT_PUSH(w->sm, w->nsm, fi->capsm, x) != 0) return ft_oom(c);
    size_t j = w->nsm - 1;
    while (j > w->ks && w->sm[j - 1].s.t_ns > x.s.t_ns) {
      w->sm[j] = w->sm[j - 1];
      j--;
    }
    w->sm[j] = x;
    if (j == w->ks && w->ks > 0 && w->sm[w->ks - 1].s.t_ns > x.s.t_ns) c->late_events++;
  }
  w->next_q = 0; /* ft_sweep_to recomputes the next query point */
  return 0;
}

/* TOTALS and CONTROL chunks of this epoch: heap_totals rows (a time seen
** in an earlier epoch is replaced: counters are cumulative) and the
** totals kept for samples' usable_live_bytes. 0 or -1. */
static int ft_ftotals(ft_follow_import *f, ft_fimg *fi) {
  ft_ctx *c = &f->c;
  ft_tot *tot = NULL;
  size_t ntot = 0;
  if (ft_collect_totals(c, &tot, &ntot) != 0) return -1;
  sqlite3_stmt *keep = c->ins_totals;
  c->ins_totals = f->upd_totals;
  int rc = ft_write_mode_rows(c, tot, ntot);
  c->ins_totals = keep;
  for (size_t i = 0; rc == 0 && i < ntot; i++) {
    ft_ftot x = {tot[i].v.t_ns, (int64_t)(tot[i].v.usable_alloc - tot[i].v.usable_free)};
    if (FT_PUSH(fi->tots, fi->ntot, fi->captot, x) != 0) {
      rc = ft_oom(c);
      break;
    }
    size_t j = fi->ntot - 1; /* equal times: the later chunk wins the lookup (it comes last) */
    while (j && fi->tots[j - 1].t > x.t) {
      fi->tots[j] = fi->tots[j - 1];
      j--;
    }
    fi->tots[j] = x;
  }
  free(tot);
  return rc;
}

/* Link a new image to its parent and exec predecessor among what the
** trace holds (its header is read). */
static void ft_flink(ft_follow_import *f, ft_fimg *fi) {
  ft_ctx *c = &f->c;
  const ft_file_header *h = &fi->img.sp.hdr;
  int by_exec = 0;
  if (h->ppid > 0) fi->img.parent = ft_db_latest(c, h->ppid, h->start_unix_ns, fi->img.proc - 1, &by_exec);
  if (!(h->flags & FT_FLAG_FORKED)) {
    int64_t p = ft_db_latest(c, h->pid, h->start_unix_ns, fi->img.proc - 1, &by_exec);
    if (p && by_exec) fi->img.exec_from = p;
  }
}

/* Import the chunks fi's spill gained (up to its last drain boundary, or
** all of them when final) as one epoch. 0, or -1 with the error. */
static int ft_fepoch(ft_follow_import *f, ft_fimg *fi, int final) {
  ft_ctx *c = &f->c;
  ft_image *img = &fi->img;
  if (fi->done) return 0;
  /* Validate no more than an epoch can take (and some): a backlog is not
  ** checked all over again at every poll. Grown when a drain is bigger. */
  size_t lim = 2 * f->epoch_bytes + 65536;
  int r;
  ft_spill nsp;
  memset(&nsp, 0, sizeof nsp);
  for (;;) {
    ft_spill_reader_close(&nsp);
    r = ft_spill_reader_open_from(&nsp, fi->path, fi->off, lim, c->err, c->errlen);
    if (r != 0 || !nsp.more || !(nsp.hdr.flags & FT_FLAG_TSC)) break;
    ft_spill_iter it; /* is there a drain boundary in what was validated? */
    ft_spill_chunk ch;
    int any = 0;
    ft_spill_iter_init(&it, &nsp);
    while (!any && ft_spill_iter_next(&it, &ch)) any = ft_fboundary(ch.type);
    if (any) break;
    lim *= 4;
  }
  if (r == 0) {
    /* Chunks an earlier merge left past its watermark point into the old
    ** mapping: the new one maps the same file, so they move over. */
    for (size_t i = 0; i < img->nst; i++)
      for (size_t j = 0; j < img->st[i].nc; j++) {
        ft_cref *cr = &img->st[i].c[j];
        if (cr->packed) cr->packed = nsp.map + cr->off;
        else if (cr->ev) cr->ev = (const ft_event *)(const void *)(nsp.map + cr->off);
      }
    ft_spill_reader_close(&img->sp);
    img->sp = nsp;
  } else {
    ft_spill_reader_close(&nsp);
  }
  if (r == 1 && !final) return 0; /* no header yet */
  if (r != 0) { /* unreadable (or never got a header): nothing more from it */
    fi->done = 1;
    c->st->truncated_files++;
    return 0;
  }
  if (!fi->off) { /* first sight: the header is there */
    fi->off = img->sp.start;
    img->tsc = (img->sp.hdr.flags & FT_FLAG_TSC) != 0;
    ft_flink(f, fi);
  }
  /* Where this epoch stops: after the last drain boundary (any chunk in
  ** images without TSC; the spill's end when final), but no further than f->epoch_bytes
  ** past the start when there is a boundary before that: a program
  ** that writes faster than we import leaves its backlog on disk, not in
  ** our memory, and the caller polls again (fi->pending). */
  size_t end = img->sp.start, last = img->sp.start;
  {
    ft_spill_iter it;
    ft_spill_chunk ch;
    ft_spill_iter_init(&it, &img->sp);
    while (ft_spill_iter_next(&it, &ch)) {
      /* the end of the spill is a boundary too when the image is over */
      if (!(!img->tsc || ft_fboundary(ch.type) || (final && !img->sp.more && it.off == img->sp.end))) continue;
      last = it.off;
      if (end == img->sp.start || it.off - img->sp.start <= f->epoch_bytes) end = it.off;
    }
  }
  fi->pending = end < last || img->sp.more;
  final = final && !fi->pending; /* the end comes with the last piece */
  if (final && img->sp.truncated) c->st->truncated_files++;
  img->sp.end = end;
  size_t nclk0 = img->nclk;
  if (ft_scan_image(c, img) != 0) return -1;
  /* cmdline and exe point into this epoch's mapping: keep copies */
  if (img->cmdline && !fi->cmdline) {
    fi->cmdline = malloc(img->cmdline_len + 1);
    if (!fi->cmdline) return ft_oom(c);
    memcpy(fi->cmdline, img->cmdline, img->cmdline_len);
    fi->cmdline_len = img->cmdline_len;
  }
  if (img->exe && !fi->exe) {
    fi->exe = malloc(img->exe_len + 1);
    if (!fi->exe) return ft_oom(c);
    memcpy(fi->exe, img->exe, img->exe_len);
    fi->exe_len = img->exe_len;
  }
  img->cmdline = fi->cmdline;
  img->exe = fi->exe;
  if (!img->has_mode) fi->sample_bytes = 0;
  else fi->sample_bytes = img->mode.sample_bytes;
  int has_events = img->max_ev_t != 0;
  for (size_t i = 0; i < img->nst; i++) has_events |= img->st[i].nc != 0;
  if (ft_fclock(c, img, nclk0, final && has_events) != 0 || ft_fkey_streams(c, fi) != 0) return -1;
  /* The watermark: events stamped up to the clock pair before the last one
  ** seen. Every thread's ring was drained after that instant, so whatever
  ** was stamped before it is here (short of a thread preempted between
  ** stamping and publishing for a whole drain interval: those come late and
  ** are counted); what was stamped after it may still be in a ring of
  ** another thread, and waits for the next epoch. Without TSC there are no
  ** pairs: no watermark (an epoch cut between two threads' chunks of one
  ** drain then shows as late events). */
  uint64_t until = UINT64_MAX;
  if (!final && img->tsc) until = img->nclk >= 2 ? img->clk[img->nclk - 2].ticks : 0;
  ft_fimg_enter(c, fi);
  c->late_mark = fi->wmark;
  int rc = -1;
  size_t first = c->nrows;
  if (ft_merge_until(c, until, 1) != 0 || ft_fsites_grow(c, fi) != 0) goto out;
  if (until != UINT64_MAX && until > fi->wmark) fi->wmark = until;
  if (img->max_ev_t && ft_ev_ns(img, img->max_ev_t) > img->end_ns) img->end_ns = ft_ev_ns(img, img->max_ev_t);
  if (ft_fsamples(c, fi) != 0 || ft_fsweep(c, fi, first) != 0 || ft_fcount(f, fi, first, final) != 0) goto out;
  if (final) { /* the end: the last query points (samples after the last event, the end) */
    ft_sweep *w = &fi->w;
    w->end = img->end_ns;
    if (w->next_slice > w->end) w->slices_done = 1;
    if (ft_sweep_to(w, FT_LIVE) != 0) {
      ft_oom(c);
      goto out;
    }
  }
  if (ft_ftotals(f, fi) != 0 || ft_write_snapshots(c) != 0 ||
      ft_import_sys_image(c->db, img->proc, &img->sp, c->err, c->errlen) != 0 || ft_fflush_rows(f, fi, final) != 0 ||
      ft_fwrite_summaries(f, fi) != 0 || (final && ft_fpinning(c, fi) != 0))
    goto out;
  rc = 0;
out:
  /* The process chunks are consumed; of the event chunks, those the merge
  ** went past are dropped, the rest (past the watermark) wait. */
  img->npc = 0;
  for (size_t i = 0; i < img->nst; i++) {
    ft_stream *s = &img->st[i];
    s->head = NULL;
    if (s->ci >= s->nc) {
      s->nc = s->ci = s->ei = 0;
      ft_stream_drop(s);
      continue;
    }
    memmove(s->c, s->c + s->ci, (s->nc - s->ci) * sizeof *s->c);
    s->nc -= s->ci;
    s->dec_ci = s->dec_ci != FT_NONE && s->dec_ci >= s->ci ? s->dec_ci - s->ci : FT_NONE;
    s->ci = 0;
  }
  ft_fimg_leave(c, fi);
  if (rc) return -1;
  /* Punch one epoch behind: whatever tails the spill (fragtrace record's
  ** control chunk watcher) has read past the previous epoch's end by now,
  ** not necessarily past this one's. */
  ft_fpunch(f, fi);
  fi->off = end;
  if (final) {
    fi->done = 1;
    c->st->processes++;
    c->st->unmatched_frees += fi->unmatched;
    c->st->events_dropped += (long long)img->dropped;
  }
  return 0;
}

/* The followed image of path, created (keys, links) on first sight; NULL
** when out of memory. */
static ft_fimg *ft_fimg_for(ft_follow_import *f, const char *path) {
  for (size_t i = 0; i < f->nim; i++)
    if (!strcmp(f->im[i]->path, path)) return f->im[i];
  ft_fimg *fi = calloc(1, sizeof *fi);
  if (!fi || !(fi->path = strdup(path))) {
    free(fi);
    return NULL;
  }
  fi->img.path = fi->path;
  fi->img.first_exec_ns = UINT64_MAX;
  fi->img.proc = f->next_proc++;
  ft_clock_pair zero = {0, 0}; /* the implied first pair, explicit as ft_clock_prepare has it */
  fi->w.w = f->window_ns;
  fi->w.end = FT_LIVE; /* unknown until the end */
  if (FT_PUSH(fi->img.clk, fi->img.nclk, fi->img.capclk, zero) != 0 ||
      FT_PUSH(f->im, f->nim, f->capim, fi) != 0) {
    free(fi->img.clk);
    free(fi->path);
    free(fi);
    return NULL;
  }
  return fi;
}

int ft_import_follow_open(ft_follow_import **out, sqlite3 *db, uint64_t window_ns, size_t epoch_bytes, int punch,
                          char *err, size_t errlen) {
  *out = NULL;
  ft_follow_import *f = calloc(1, sizeof *f);
  if (!f) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  f->db = db;
  f->window_ns = window_ns ? window_ns : 1000000000u;
  f->punch = punch;
  f->epoch_bytes = epoch_bytes ? epoch_bytes : FT_EPOCH_CAP;
  f->c = (ft_ctx){.db = db, .err = err, .errlen = errlen, .st = &f->st, .follow = 1};
  char sql[160];
  snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('window_ns', '%llu')",
           (unsigned long long)f->window_ns);
  if (ft_prepare(&f->c) != 0 || ft_read_next_keys(&f->c, &f->next_proc) != 0 || ft_read_short_lived(&f->c) != 0 ||
      sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO heap_totals(proc, t_ns, allocations, frees, bytes, "
                         "usable_live_bytes, sampled, untracked, thinned) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                         -1, &f->upd_totals, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO site_windows(stack_id, window, allocations, bytes, frees, "
                         "freed_bytes) VALUES (?1,?2,?3,?4,?5,?6)",
                         -1, &f->ins_win, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE allocation_rows SET lifetime = ?2, free_thread = ?3, weight = ?4 WHERE id = ?1", -1,
                         &f->upd_row, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "DELETE FROM allocation_rows WHERE id = ?1", -1, &f->del_row, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "INSERT INTO thinning(what, proc, t_ns, rows_deleted, first_id, last_id, before_t_ns, keep, "
                         "rows_unwritten) VALUES ('allocation_rows',?1,?2,?3,?4,?5,?6,?7,?8)",
                         -1, &f->ins_thin, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "UPDATE thinning SET t_ns = ?2, rows_deleted = rows_deleted + ?3, first_id = min(first_id, "
                         "?4), last_id = max(last_id, ?5), before_t_ns = max(before_t_ns, ?6), rows_unwritten = "
                         "rows_unwritten + ?8 WHERE rowid = ?1 AND keep = ?7",
                         -1, &f->upd_thin, NULL) != SQLITE_OK) {
    if (!err[0]) snprintf(err, errlen, "preparing follow import: %s", sqlite3_errmsg(db));
    ft_import_follow_close(f);
    return -1;
  }
  *out = f;
  return 0;
}

/* A thinning factor from integer meta key: a power of two > 1, else 1
** (absent: never thinned). 0, or -1 with the error in c. */
static int ft_meta_pow2(ft_ctx *c, const char *key, uint64_t *out) {
  sqlite3_stmt *q = NULL;
  *out = 1;
  if (sqlite3_prepare_v2(c->db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = ?1", -1, &q, NULL) != SQLITE_OK)
    return ft_sqlerr(c, "reading meta");
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(q) == SQLITE_ROW) {
    sqlite3_int64 k = sqlite3_column_int64(q, 0);
    if (k > 1 && !(k & (k - 1))) *out = (uint64_t)k;
  }
  sqlite3_finalize(q);
  return 0;
}

int ft_import_follow_poll(ft_follow_import *f, const char *const *paths, size_t n, int final, char *err,
                          size_t errlen) {
  ft_ctx *c = &f->c;
  c->err = err;
  c->errlen = errlen;
  err[0] = '\0';
  if (sqlite3_exec(f->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return ft_sqlerr(c, "starting follow transaction");
  /* The 1-in-k factors ft_thin_trace set after the last commit. */
  f->left_out = 0;
  if (ft_meta_pow2(c, "thin_keep", &f->keep) != 0 || ft_meta_pow2(c, "thin_keep_live", &f->keep_live) != 0) goto out;
  int more = 0;
  for (size_t i = 0; i < n; i++) {
    ft_fimg *fi = ft_fimg_for(f, paths[i]);
    if (!fi) {
      ft_oom(c);
      goto out;
    }
    if (ft_fepoch(f, fi, final) != 0) goto out;
    more |= fi->pending;
  }
  if (final && more) final = 0; /* the backlog first: the caller polls again */
  if (final) {
    for (size_t i = 0; i < f->nim; i++) /* spills that vanished: end them with what they gave */
      if (!f->im[i]->done && ft_fepoch(f, f->im[i], 1) != 0) goto out;
    if (ft_write_meta(c, f->nim && f->im[0]->cmdline ? &f->im[0]->img : NULL) != 0 ||
        ft_relink_earlier_imports(c) != 0)
      goto out;
    c->anomalies = 0;
  }
  char sql[128];
  snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('late_events', '%lld')",
           c->late_events);
  if (f->left_out && ft_meta_add(c, "thinned_rows", f->left_out) != 0) {
    ft_sqlerr(c, "writing meta thinned_rows");
    goto out;
  }
  if (sqlite3_exec(f->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    ft_sqlerr(c, "writing meta late_events");
    goto out;
  }
  if (sqlite3_exec(f->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    ft_sqlerr(c, "committing");
    goto out;
  }
  return more;
out:
  sqlite3_exec(f->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

void ft_import_follow_stats(const ft_follow_import *f, ft_import_stats *st, long long *late, int *punch_failed) {
  *st = f->st;
  *late = f->c.late_events;
  *punch_failed = f->punch_failed;
}

void ft_import_follow_close(ft_follow_import *f) {
  if (!f) return;
  for (size_t i = 0; i < f->nim; i++) {
    ft_fimg *fi = f->im[i];
    free(fi->rows);
    free(fi->rx);
    free(fi->live.s);
    free(fi->iv);
    free(fi->stk);
    free(fi->stkmap.s);
    free(fi->ips);
    free(fi->sid.s);
    free(fi->tlast.s);
    free(fi->fw);
    free(fi->site);
    free(fi->w.sm);
    free(fi->w.pts);
    free(fi->wmap.s);
    free(fi->wv);
    free(fi->wdirty);
    free(fi->wflag);
    free(fi->tots);
    free(fi->touched.s);
    free(fi->cmdline);
    free(fi->exe);
    for (size_t j = 0; j < fi->img.nst; j++) {
      free(fi->img.st[j].c);
      free(fi->img.st[j].dec);
    }
    free(fi->img.st);
    free(fi->img.pc);
    free(fi->img.clk);
    ft_spill_reader_close(&fi->img.sp);
    free(fi->path);
    free(fi);
  }
  free(f->im);
  sqlite3_finalize(f->upd_totals);
  sqlite3_finalize(f->ins_win);
  sqlite3_finalize(f->upd_row);
  sqlite3_finalize(f->del_row);
  sqlite3_finalize(f->ins_thin);
  sqlite3_finalize(f->upd_thin);
  ft_cleanup(&f->c, NULL, 0);
  free(f);
}

int ft_import_set_exit_status(sqlite3 *db, int pid, int status) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db,
                         "UPDATE processes SET exit_status = ?2 "
                         "WHERE proc = (SELECT MAX(proc) FROM processes WHERE pid = ?1)",
                         -1, &q, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_int(q, 1, pid);
  sqlite3_bind_int(q, 2, status);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  /* -1 as well when no traced image has this pid (nothing to record). */
  return rc == SQLITE_DONE && sqlite3_changes(db) > 0 ? 0 : -1;
}
