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
*/
#include "ft_import.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
  /* statements */
  sqlite3_stmt *ins_proc, *ins_thread, *ins_row, *ins_stack, *ins_frame, *ins_sample, *ins_buddy,
      *ins_map, *q_link, *ins_pstats, *ins_site, *ins_lhist, *ins_shist, *ins_tl;
} ft_ctx;

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
  size_t k = 0;
  int rc = -1;
  img->first_exec_ns = UINT64_MAX;
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
      ft_cref r = {0};
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

/* Append a row; returns its index, or FT_NONE when out of memory. */
static size_t ft_row_new(ft_ctx *c, unsigned kind, uint32_t thread, uint64_t addr, uint64_t size, uint64_t t,
                         uint32_t stack) {
  ft_row r = {.addr = addr, .size = size, .t_alloc = t, .t_free = FT_LIVE, .thread = thread,
              .stack = stack, .kind = (uint8_t)kind};
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
** every event. Returns 0 or -1 (OOM). */
static int ft_merge(ft_ctx *c) {
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
    s->ci = s->ei = 0;
    if (ft_stream_settle(c, s) != 0) return -1;
    if (!s->head) continue;
    c->heap[c->nheap] = i;
    c->hpos[i] = c->nheap++;
    ft_heap_fix(c, c->nheap - 1);
  }
  while (c->nheap) {
    size_t si = c->heap[0];
    const ft_event *e = img->st[si].head;
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
  sqlite3_bind_text(q, 10, img->has_exit ? "exit" : img->ends_by_exec ? "exec" : "unknown", -1, SQLITE_STATIC);
  sqlite3_bind_int64(q, 11, h->page_size);
  if (img->has_exit && img->exit_status >= 0) sqlite3_bind_int(q, 12, img->exit_status);
  else sqlite3_bind_null(q, 12);
  sqlite3_bind_int64(q, 13, (sqlite3_int64)img->dropped);
  sqlite3_bind_int64(q, 14, c->unmatched);
  sqlite3_bind_int64(q, 15, h->stack_depth);
  return ft_step(c, q, "inserting process");
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
    sqlite3_bind_int64(q, 1, c->next_row + (int64_t)i);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)r->kind | ((sqlite3_int64)r->thread << 3));
    sqlite3_bind_int64(q, 3, (sqlite3_int64)r->addr);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)r->size);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)r->t_alloc);
    if (r->t_free != FT_LIVE) {
      sqlite3_bind_int64(q, 6, (sqlite3_int64)(r->t_free - r->t_alloc));
      if (r->free_thread != r->thread) sqlite3_bind_int64(q, 7, r->free_thread);
      else sqlite3_bind_null(q, 7);
      c->st->frees++;
    } else {
      sqlite3_bind_null(q, 6);
      sqlite3_bind_null(q, 7);
    }
    if (r->stack) sqlite3_bind_int64(q, 8, r->stack);
    else sqlite3_bind_null(q, 8);
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
** allocation times out of order (a thread's clock going backwards). */

#define FT_SLICES 1000 /* heap_timeline: [0, end_ns] in slices of end_ns / 1000 + 1 */

typedef struct ft_smp { /* one sampler record */
  ft_sample s;
  int has_shim;           /* the chunk is long enough to hold shim_bytes */
  int64_t live_b, live_n; /* filled by the sweep */
} ft_smp;

typedef struct ft_tpt { /* a point of the live heap over time */
  uint64_t t;
  int64_t b, n;
} ft_tpt;

typedef struct ft_site { /* summary of one stack of the image (index: id - first id) */
  uint64_t allocations, bytes, frees, leaked, leaked_bytes, temporary, short_lived;
  uint64_t min_size, max_size, first_alloc, last_alloc;
  int64_t live;            /* sweep state; dips below 0 inside an instant (frees go first) */
  int64_t max_live;        /* -1 until the site's first allocation */
  uint64_t max_live_ns;
  uint64_t peak_b, peak_n; /* live at the process peak */
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
      w->b -= (int64_t)r->size;
      w->n--;
      if (r->stack) site[r->stack - sbase].live -= (int64_t)r->size;
    }
    for (; ia < c->nrows && c->rows[ai ? ai[ia] : ia].t_alloc == t; ia++) {
      const ft_row *r = &c->rows[ai ? ai[ia] : ia];
      w->b += (int64_t)r->size;
      w->n++;
      if (!r->stack) continue;
      /* Within the instant a site only grows from here on, so the first
      ** time it passes its maximum is at this instant, and its last
      ** allocation here leaves the instant's final value as the maximum. */
      ft_site *s = &site[r->stack - sbase];
      s->live += (int64_t)r->size;
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
  assert(ia == c->nrows && jf == c->nfree && w->n == (int64_t)(c->nrows - c->nfree));
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

/* Per-process counters of the row pass (process_stats). */
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
    p->allocations++;
    p->bytes += r->size;
    p->frees += (uint64_t)freed;
    p->leaked += (uint64_t)!freed;
    p->leaked_bytes += freed ? 0 : r->size;
    p->temporary += (uint64_t)temp;
    p->short_lived += (uint64_t)shrt;
    if (r->kind == FT_EV_MMAP) {
      p->mmap_count++;
      p->mmap_bytes += r->size;
    }
    if (!r->stack) continue; /* stack lost: counted for the process only */
    ft_site *s = &site[r->stack - sbase];
    if (!s->allocations) {
      s->min_size = s->max_size = r->size;
      s->first_alloc = s->last_alloc = r->t_alloc;
    }
    s->allocations++;
    s->bytes += r->size;
    s->frees += (uint64_t)freed;
    s->leaked += (uint64_t)!freed;
    s->leaked_bytes += freed ? 0 : r->size;
    s->temporary += (uint64_t)temp;
    s->short_lived += (uint64_t)shrt;
    if (r->size < s->min_size) s->min_size = r->size;
    if (r->size > s->max_size) s->max_size = r->size;
    if (r->t_alloc < s->first_alloc) s->first_alloc = r->t_alloc;
    if (r->t_alloc > s->last_alloc) s->last_alloc = r->t_alloc;
    if (w->has_peak && r->t_alloc <= w->peak.t && r->t_free > w->peak.t) { /* FT_LIVE > any time */
      s->peak_b += r->size;
      s->peak_n++;
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
    if (r->t_free != FT_LIVE) (*lh)[ft_slot(s->loff, s->lmask, ft_bucket(r->t_free - r->t_alloc))]++;
    size_t k = ft_slot(s->soff, s->smask, ft_bucket(r->size));
    (*sh)[2 * k]++;
    (*sh)[2 * k + 1] += r->size;
  }
  return 0;
}

/* Bind v, or NULL when has is 0. */
static void ft_bind_opt(sqlite3_stmt *q, int i, int has, int64_t v) {
  if (has) sqlite3_bind_int64(q, i, v);
  else sqlite3_bind_null(q, i);
}

/* Insert the summary rows of the image. */
static int ft_insert_summaries(ft_ctx *c, const ft_sweep *w, const ft_pstat *p, const ft_site *site,
                               const uint64_t *lh, const uint64_t *sh, int has_rss, ft_tpt rss) {
  ft_image *img = c->img;
  sqlite3_stmt *q = c->ins_pstats;
  const uint64_t pv[] = {p->allocations, p->frees,       p->bytes,      p->leaked,    p->leaked_bytes,
                         p->temporary,   p->short_lived, p->mmap_count, p->mmap_bytes};
  sqlite3_bind_int64(q, 1, img->proc);
  for (int i = 0; i < 9; i++) sqlite3_bind_int64(q, 2 + i, (sqlite3_int64)pv[i]);
  sqlite3_bind_int64(q, 11, w->has_peak ? w->peak.b : 0);
  ft_bind_opt(q, 12, w->has_peak, (int64_t)w->peak.t);
  sqlite3_bind_int64(q, 13, w->has_peak ? w->peak.n : 0);
  ft_bind_opt(q, 14, has_rss, rss.b);
  ft_bind_opt(q, 15, has_rss, (int64_t)rss.t);
  if (ft_step(c, q, "inserting process_stats") != 0) return -1;
  for (size_t k = 0; k < c->nstk; k++) {
    const ft_site *s = &site[k];
    if (!s->allocations) continue; /* a stack no row refers to */
    int64_t id = c->stk[k].id;
    assert(s->max_live >= 0);
    q = c->ins_site;
    const uint64_t sv[] = {s->allocations, s->bytes,    s->frees,       s->leaked,      s->leaked_bytes,
                           s->temporary,   s->short_lived, s->min_size, s->max_size,    s->first_alloc,
                           s->last_alloc,  (uint64_t)s->max_live,  s->max_live_ns, s->peak_b, s->peak_n};
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, img->proc);
    for (int i = 0; i < 15; i++) sqlite3_bind_int64(q, 3 + i, (sqlite3_int64)sv[i]);
    if (ft_step(c, q, "inserting site_stats") != 0) return -1;
    for (unsigned b = 0; b < 64; b++) {
      if (s->lmask >> b & 1) {
        q = c->ins_lhist;
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int(q, 2, (int)b);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)lh[ft_slot(s->loff, s->lmask, b)]);
        if (ft_step(c, q, "inserting site_lifetime_hist") != 0) return -1;
      }
      if (s->smask >> b & 1) {
        size_t i = ft_slot(s->soff, s->smask, b);
        q = c->ins_shist;
        sqlite3_bind_int64(q, 1, id);
        sqlite3_bind_int(q, 2, (int)b);
        sqlite3_bind_int64(q, 3, (sqlite3_int64)sh[2 * i]);
        sqlite3_bind_int64(q, 4, (sqlite3_int64)sh[2 * i + 1]);
        if (ft_step(c, q, "inserting site_size_hist") != 0) return -1;
      }
    }
  }
  for (size_t i = 0; i < w->npts; i++) {
    q = c->ins_tl;
    sqlite3_bind_int64(q, 1, img->proc);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)w->pts[i].t);
    sqlite3_bind_int64(q, 3, w->pts[i].b);
    sqlite3_bind_int64(q, 4, w->pts[i].n);
    if (ft_step(c, q, "inserting heap_timeline") != 0) return -1;
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
  size_t capsm = 0;
  int rc = -1;
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
    sqlite3_stmt *q = c->ins_sample;
    sqlite3_bind_int64(q, 1, img->proc);
    sqlite3_bind_int(q, 2, img->sp.hdr.pid);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)x->s.t_ns);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)x->s.rss_bytes);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)x->s.vm_bytes);
    sqlite3_bind_int64(q, 6, x->live_b);
    sqlite3_bind_int64(q, 7, x->live_n);
    ft_bind_opt(q, 8, x->has_shim, (int64_t)x->s.shim_bytes);
    if (ft_step(c, q, "inserting sample") != 0) goto out;
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
                           offsetof(ft_row, kind)};
  return ft_import_frag(c->db, c->img->proc, c->img->sp.hdr.page_size, c->img->end_ns, &fr, c->err, c->errlen);
}

/* Import the current image (keys assigned, streams scanned). */
static int ft_import_image(ft_ctx *c) {
  ft_image *img = c->img;
  c->nrows = c->nfree = c->niv = c->nstk = c->nips = 0;
  c->unmatched = 0;
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
       "ended_by, page_size, exit_status, events_dropped, unmatched_frees, stack_depth) "
       "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)"},
      {offsetof(ft_ctx, ins_thread), "INSERT INTO threads(thread, proc, pid, tid) VALUES (?1,?2,?3,?4)"},
      {offsetof(ft_ctx, ins_row),
       "INSERT INTO allocation_rows(id, kind_thread, address, size, t_alloc, lifetime, free_thread, stack_id) "
       "VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"},
      {offsetof(ft_ctx, ins_stack), "INSERT INTO stacks(stack_id, proc, depth) VALUES (?1,?2,?3)"},
      {offsetof(ft_ctx, ins_frame), "INSERT INTO stack_frames(stack_id, depth, ip) VALUES (?1,?2,?3)"},
      {offsetof(ft_ctx, ins_sample),
       "INSERT OR IGNORE INTO process_samples(proc, pid, t_ns, rss_bytes, vm_bytes, live_bytes, "
       "live_allocations, shim_bytes) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"},
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
                         c->ins_site,   c->ins_lhist,  c->ins_shist, c->ins_tl};
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
