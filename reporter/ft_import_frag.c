/*
** ft_import_frag.c — site_windows, pinning and pinning_totals from an
** image's rows in memory (see ft_import_frag.h; definitions in
** schema/README.md, "Fragmentation attribution (issue 4)").
**
** Cost, for n rows and L rows live at an instant:
**   - windows: one pass over the rows; a (site, window) slot is found
**     through a per-site cache of the last window (rows come in allocation
**     order, so a site's allocation windows only grow and its free windows
**     nearly so), and a hash table behind it;
**   - pinning: per instant and page size, one filtering pass over the rows
**     (a compare per row), then O(L * pages per block) hash operations on
**     the live rows only. Memory is O(sites + windows + L).
*/
#include "ft_import_frag.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FT_F_LIVE UINT64_MAX /* t_free of a row never freed */

/* ------------------------------------------------------------------------ */
/* Row access                                                                */

typedef struct ft_frow { /* one row, decoded from the caller's layout */
  uint64_t addr, size, t_alloc, t_free;
  uint32_t stack;
  uint8_t kind;
} ft_frow;

/* Decode row i of rs (memcpy: the caller's struct may pack fields any way). */
static inline void ft_frow_get(const ft_frag_rows *rs, size_t i, ft_frow *r) {
  const char *p = (const char *)rs->base + i * rs->stride;
  memcpy(&r->addr, p + rs->off_addr, 8);
  memcpy(&r->size, p + rs->off_size, 8);
  memcpy(&r->t_alloc, p + rs->off_t_alloc, 8);
  memcpy(&r->t_free, p + rs->off_t_free, 8);
  memcpy(&r->stack, p + rs->off_stack, 4);
  memcpy(&r->kind, p + rs->off_kind, 1);
}

/* Only t_alloc and t_free: the pinning filter reads nothing else. */
static inline void ft_frow_times(const ft_frag_rows *rs, size_t i, uint64_t *ta, uint64_t *tf) {
  const char *p = (const char *)rs->base + i * rs->stride;
  memcpy(ta, p + rs->off_t_alloc, 8);
  memcpy(tf, p + rs->off_t_free, 8);
}

/* ------------------------------------------------------------------------ */
/* A hash table uint64 key -> uint64 value (linear probing, power-of-two    */
/* capacity, key UINT64_MAX marks an empty slot: page numbers and packed     */
/* keys never reach it).                                                     */

typedef struct ft_fmap {
  uint64_t *k, *v;
  size_t cap, n;
} ft_fmap;

#define FT_FMAP_EMPTY UINT64_MAX

/* splitmix64 finaliser: page numbers are dense and windows small, so mix. */
static inline uint64_t ft_fmix(uint64_t x) {
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* Slot of key, or the empty slot where it would go. */
static size_t ft_fmap_slot(const ft_fmap *m, uint64_t key) {
  size_t i = (size_t)ft_fmix(key) & (m->cap - 1);
  while (m->k[i] != FT_FMAP_EMPTY && m->k[i] != key) i = (i + 1) & (m->cap - 1);
  return i;
}

/* Grow to at least 2 * need slots. Returns 0 or -1 (OOM). */
static int ft_fmap_grow(ft_fmap *m, size_t need) {
  size_t cap = m->cap ? m->cap : 1024;
  while (cap < 2 * need) cap *= 2;
  if (cap == m->cap) return 0;
  ft_fmap nm = {.k = malloc(cap * sizeof *nm.k), .v = malloc(cap * sizeof *nm.v), .cap = cap, .n = m->n};
  if (!nm.k || !nm.v) {
    free(nm.k);
    free(nm.v);
    return -1;
  }
  memset(nm.k, 0xff, cap * sizeof *nm.k);
  for (size_t i = 0; i < m->cap; i++)
    if (m->k[i] != FT_FMAP_EMPTY) {
      size_t j = ft_fmap_slot(&nm, m->k[i]);
      nm.k[j] = m->k[i];
      nm.v[j] = m->v[i];
    }
  free(m->k);
  free(m->v);
  *m = nm;
  return 0;
}

/* Pointer to the value of key, inserted as init when absent; NULL on OOM. */
static uint64_t *ft_fmap_at(ft_fmap *m, uint64_t key, uint64_t init) {
  assert(key != FT_FMAP_EMPTY);
  if ((m->n + 1) * 2 > m->cap && ft_fmap_grow(m, m->n + 1) != 0) return NULL;
  size_t i = ft_fmap_slot(m, key);
  if (m->k[i] == FT_FMAP_EMPTY) {
    m->k[i] = key;
    m->v[i] = init;
    m->n++;
  }
  return &m->v[i];
}

/* Value of key, or FT_FMAP_EMPTY when absent. */
static uint64_t ft_fmap_get(const ft_fmap *m, uint64_t key) {
  if (!m->cap) return FT_FMAP_EMPTY;
  size_t i = ft_fmap_slot(m, key);
  return m->k[i] == FT_FMAP_EMPTY ? FT_FMAP_EMPTY : m->v[i];
}

static void ft_fmap_free(ft_fmap *m) {
  free(m->k);
  free(m->v);
  memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                   */

uint64_t ft_frag_window_ns(uint64_t end_ns) {
  static const uint64_t cand[] = {UINT64_C(10000000000), 1000000000, 100000000, 10000000};
  for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
    if (end_ns / cand[i] >= 20) return cand[i];
  return cand[sizeof cand / sizeof cand[0] - 1];
}

typedef struct ft_wcache { /* last (site, window) slot seen, per site, for allocs and frees */
  uint64_t wa, wf;
  size_t ia, jf; /* entry index, SIZE_MAX none */
} ft_wcache;

/* Order windows by stack, then window. */
static int ft_cmp_sw(const void *a, const void *b) {
  const ft_site_window *x = a, *y = b;
  if (x->stack != y->stack) return x->stack < y->stack ? -1 : 1;
  return x->window < y->window ? -1 : x->window > y->window;
}

/* Index of the (stack, window) entry, appended when new; SIZE_MAX on OOM.
** Hash keys pack the site's index among [smin, smax] and the window; a
** window too large to pack (a run of over 2^40 windows) cannot occur with
** windows of at least 10 ms. */
static size_t ft_sw_find(ft_fmap *idx, ft_site_window **v, size_t *n, size_t *cap, uint32_t stack,
                         uint32_t smin, uint64_t w) {
  assert(w < (UINT64_C(1) << 40));
  uint64_t key = ((uint64_t)(stack - smin) << 40) | w;
  uint64_t *slot = ft_fmap_at(idx, key, *n);
  if (!slot) return SIZE_MAX;
  if (*slot == *n) { /* new */
    if (*n == *cap) {
      size_t nc = *cap ? 2 * *cap : 256;
      ft_site_window *nv = realloc(*v, nc * sizeof *nv);
      if (!nv) return SIZE_MAX;
      *v = nv;
      *cap = nc;
    }
    (*v)[*n] = (ft_site_window){.stack = stack, .window = w};
    (*n)++;
  }
  return (size_t)*slot;
}

int ft_frag_windows(const ft_frag_rows *rows, uint64_t window_ns, ft_site_window **out, size_t *nout) {
  assert(window_ns > 0);
  *out = NULL;
  *nout = 0;
  uint32_t smin = UINT32_MAX, smax = 0;
  for (size_t i = 0; i < rows->n; i++) {
    ft_frow r;
    ft_frow_get(rows, i, &r);
    if (!r.stack) continue;
    if (r.stack < smin) smin = r.stack;
    if (r.stack > smax) smax = r.stack;
  }
  if (smin > smax) return 0; /* no row has a stack */
  assert((uint64_t)(smax - smin) < (UINT64_C(1) << 23));
  size_t ns = (size_t)(smax - smin) + 1;
  ft_wcache *cache = malloc(ns * sizeof *cache);
  ft_fmap idx = {0};
  ft_site_window *v = NULL;
  size_t n = 0, cap = 0;
  if (!cache) return -1;
  for (size_t k = 0; k < ns; k++) cache[k] = (ft_wcache){.ia = SIZE_MAX, .jf = SIZE_MAX};
  for (size_t i = 0; i < rows->n; i++) {
    ft_frow r;
    ft_frow_get(rows, i, &r);
    if (!r.stack) continue;
    ft_wcache *c = &cache[r.stack - smin];
    uint64_t w = r.t_alloc / window_ns;
    if (c->ia == SIZE_MAX || c->wa != w) {
      c->ia = ft_sw_find(&idx, &v, &n, &cap, r.stack, smin, w);
      if (c->ia == SIZE_MAX) goto oom;
      c->wa = w;
    }
    /* Sums in fixed point (ft_weight_fx), rounded once below. */
    uint64_t wt = ft_weight_fx(r.size, rows->sample_bytes, r.kind);
    v[c->ia].allocations += wt;
    v[c->ia].bytes += wt * r.size;
    if (r.t_free == FT_F_LIVE) continue;
    w = r.t_free / window_ns;
    if (c->jf == SIZE_MAX || c->wf != w) {
      c->jf = ft_sw_find(&idx, &v, &n, &cap, r.stack, smin, w);
      if (c->jf == SIZE_MAX) goto oom;
      c->wf = w;
    }
    v[c->jf].frees += wt;
    v[c->jf].freed_bytes += wt * r.size;
  }
  for (size_t k = 0; k < n; k++) {
    v[k].allocations = ft_weight_round(v[k].allocations);
    v[k].bytes = ft_weight_round(v[k].bytes);
    v[k].frees = ft_weight_round(v[k].frees);
    v[k].freed_bytes = ft_weight_round(v[k].freed_bytes);
  }
  free(cache);
  ft_fmap_free(&idx);
  qsort(v, n, sizeof *v, ft_cmp_sw);
  *out = v;
  *nout = n;
  return 0;
oom:
  free(cache);
  ft_fmap_free(&idx);
  free(v);
  return -1;
}

/* ------------------------------------------------------------------------ */
/* Pinning                                                                   */

typedef struct ft_pin_acc { /* per-site accumulator */
  uint64_t blocks, live_bytes;
  double pinned;
} ft_pin_acc;

typedef struct ft_sp { /* a (site, pinning page) incidence, for counting pages per site */
  uint32_t stack;
  uint64_t page;
} ft_sp;

static int ft_cmp_sp(const void *a, const void *b) {
  const ft_sp *x = a, *y = b;
  if (x->stack != y->stack) return x->stack < y->stack ? -1 : 1;
  return x->page < y->page ? -1 : x->page > y->page;
}

/* Sites by pinned bytes, most first, then by stack (a stable ranking). */
static int ft_cmp_pin(const void *a, const void *b) {
  const ft_pin_site *x = a, *y = b;
  if (x->pinned_bytes != y->pinned_bytes) return x->pinned_bytes > y->pinned_bytes ? -1 : 1;
  return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static uint64_t ft_max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* Whether row r is a heap block live at t (the replay's rows). */
static int ft_pin_row(const ft_frow *r, uint64_t t) {
  return r->t_alloc <= t && t < r->t_free && r->kind != FT_FRAG_KIND_MMAP && r->size > 0 &&
         r->size < FT_PIN_MMAP_THRESHOLD;
}

void ft_pin_result_free(ft_pin_result *r) {
  free(r->sites);
  memset(r, 0, sizeof *r);
}

/* Base pages (of 2^bshift bytes) touched by heap rows allocated at or
** before t, counted per page of 2^shift bytes, for the pages in lp (pages
** with live bytes); touch gets page -> touched base pages. O(rows) hash
** operations, only for rows on pages in lp. Returns 0 or -1 (OOM). */
static int ft_pin_touched(const ft_frag_rows *rows, uint64_t t, unsigned shift, unsigned bshift, const ft_fmap *lp,
                          ft_fmap *touch) {
  ft_fmap seen = {0};
  uint64_t last_bp = FT_FMAP_EMPTY, last_pg = FT_FMAP_EMPTY;
  int last_in = 0, rc = -1;
  for (size_t i = 0; i < rows->n; i++) {
    uint64_t ta, tf;
    ft_frow_times(rows, i, &ta, &tf);
    if (ta > t) continue;
    ft_frow r;
    ft_frow_get(rows, i, &r);
    if (r.kind == FT_FRAG_KIND_MMAP || r.size == 0 || r.size >= FT_PIN_MMAP_THRESHOLD) continue;
    for (uint64_t bp = r.addr >> bshift; bp <= (r.addr + r.size - 1) >> bshift; bp++) {
      if (bp == last_bp) continue; /* neighbours in time are often neighbours in memory */
      last_bp = bp;
      uint64_t pg = bp >> (shift - bshift);
      if (pg != last_pg) {
        last_pg = pg;
        last_in = ft_fmap_get(lp, pg) != FT_FMAP_EMPTY;
      }
      if (!last_in) continue;
      uint64_t *s = ft_fmap_at(&seen, bp, 0);
      if (!s) goto out;
      if (*s) continue;
      *s = 1;
      uint64_t *n = ft_fmap_at(touch, pg, 0);
      if (!n) goto out;
      (*n)++;
    }
  }
  rc = 0;
out:
  ft_fmap_free(&seen);
  return rc;
}

int ft_frag_pinning(const ft_frag_rows *rows, uint64_t t, uint64_t page_size, uint64_t base_page,
                    ft_pin_result *out) {
  assert(page_size && !(page_size & (page_size - 1)));
  assert(base_page && !(base_page & (base_page - 1)) && base_page <= page_size);
  memset(out, 0, sizeof *out);
  const unsigned shift = (unsigned)__builtin_ctzll(page_size), bshift = (unsigned)__builtin_ctzll(base_page);
  size_t *live = NULL, nlive = 0, caplive = 0;
  ft_fmap pages = {0}, touch = {0};
  ft_pin_acc *acc = NULL;
  ft_sp *sp = NULL;
  size_t nsp = 0, capsp = 0;
  uint32_t smin = UINT32_MAX, smax = 0;
  int rc = -1;
  /* Pass 1: the live heap rows, and live bytes per page. */
  for (size_t i = 0; i < rows->n; i++) {
    uint64_t ta, tf;
    ft_frow_times(rows, i, &ta, &tf);
    if (ta > t || tf <= t) continue; /* the cheap filter first: most rows are dead at t */
    ft_frow r;
    ft_frow_get(rows, i, &r);
    if (!ft_pin_row(&r, t)) continue;
    if (nlive == caplive) {
      size_t nc = caplive ? 2 * caplive : 1024;
      size_t *nl = realloc(live, nc * sizeof *nl);
      if (!nl) goto out;
      live = nl;
      caplive = nc;
    }
    live[nlive++] = i;
    if (r.stack && r.stack < smin) smin = r.stack;
    if (r.stack > smax) smax = r.stack;
    out->heap_live_bytes += r.size;
    uint64_t end = r.addr + r.size; /* blocks do not wrap the address space */
    for (uint64_t pg = r.addr >> shift; pg <= (end - 1) >> shift; pg++) {
      uint64_t lo = pg << shift, hi = lo + page_size;
      uint64_t ov = (end < hi ? end : hi) - (r.addr > lo ? r.addr : lo);
      uint64_t *b = ft_fmap_at(&pages, pg, 0);
      if (!b) goto out;
      if (*b == 0) out->heap_pages++;
      *b += ov;
    }
  }
  /* A page larger than the base page is resident only where it was
  ** touched: count its base pages touched before t. A base page holding
  ** live bytes was touched by that block, so for base pages it is all. */
  if (page_size > base_page && ft_pin_touched(rows, t, shift, bshift, &pages, &touch) != 0) goto out;
  /* Resident bytes of page pg holding live bytes b > 0, and whether it
  ** pins. Never less than b: live rows can only overlap when frees were lost
  ** (dropped events) or the trace is synthetic, and then the page counts as
  ** full rather than making free bytes negative. */
#define FT_PIN_RES(pg, b) \
  ft_max_u64(page_size == base_page ? page_size : ft_fmap_get(&touch, (pg)) * base_page, (b))
#define FT_PIN_PINS(b, res) ((b) * 100 <= (res) * FT_PIN_MAX_LIVE_PCT)
  if (smin <= smax) {
    acc = calloc((size_t)(smax - smin) + 1, sizeof *acc);
    if (!acc) goto out;
  }
  /* Pass 2: the live rows' bytes on pinning pages. */
  for (size_t k = 0; k < nlive; k++) {
    ft_frow r;
    ft_frow_get(rows, live[k], &r);
    uint64_t end = r.addr + r.size;
    int on_pinning = 0;
    for (uint64_t pg = r.addr >> shift; pg <= (end - 1) >> shift; pg++) {
      uint64_t b = ft_fmap_get(&pages, pg);
      assert(b != FT_FMAP_EMPTY && b > 0);
      uint64_t res = FT_PIN_RES(pg, b);
      if (!FT_PIN_PINS(b, res)) continue;
      uint64_t lo = pg << shift, hi = lo + page_size;
      uint64_t ov = (end < hi ? end : hi) - (r.addr > lo ? r.addr : lo);
      on_pinning = 1;
      out->live_bytes += ov;
      if (!r.stack) continue;
      ft_pin_acc *a = &acc[r.stack - smin];
      a->live_bytes += ov;
      /* The page's free resident bytes, shared by live bytes: exact for a
      ** page whose live bytes are all the site's. */
      a->pinned += (double)(res - b) * (double)ov / (double)b;
      if (nsp == capsp) {
        size_t nc = capsp ? 2 * capsp : 1024;
        ft_sp *ns = realloc(sp, nc * sizeof *ns);
        if (!ns) goto out;
        sp = ns;
        capsp = nc;
      }
      sp[nsp++] = (ft_sp){r.stack, pg};
    }
    if (!on_pinning) continue;
    out->blocks++;
    if (r.stack) acc[r.stack - smin].blocks++;
  }
  for (size_t i = 0; i < pages.cap; i++) {
    if (pages.k[i] == FT_FMAP_EMPTY) continue;
    uint64_t res = FT_PIN_RES(pages.k[i], pages.v[i]);
    if (!FT_PIN_PINS(pages.v[i], res)) continue;
    out->pages++;
    out->resident_bytes += res;
  }
#undef FT_PIN_RES
#undef FT_PIN_PINS
  out->pinned_bytes = out->resident_bytes - out->live_bytes;
  /* Pages per site: distinct (site, page) incidences. */
  qsort(sp, nsp, sizeof *sp, ft_cmp_sp);
  size_t nsites = 0;
  for (size_t i = 0; i < nsp; i++)
    if (!i || sp[i].stack != sp[i - 1].stack) nsites++;
  out->sites = calloc(nsites ? nsites : 1, sizeof *out->sites);
  if (!out->sites) goto out;
  for (size_t i = 0; i < nsp; i++) {
    if (!i || sp[i].stack != sp[i - 1].stack) {
      const ft_pin_acc *a = &acc[sp[i].stack - smin];
      out->sites[out->nsites++] = (ft_pin_site){.stack = sp[i].stack, .blocks = a->blocks,
                                                .live_bytes = a->live_bytes,
                                                .pinned_bytes = (uint64_t)llround(a->pinned)};
    }
    if (!i || sp[i].stack != sp[i - 1].stack || sp[i].page != sp[i - 1].page)
      out->sites[out->nsites - 1].pages++;
  }
  assert(out->nsites == nsites);
  qsort(out->sites, out->nsites, sizeof *out->sites, ft_cmp_pin);
  rc = 0;
out:
  if (rc) ft_pin_result_free(out);
  free(live);
  ft_fmap_free(&pages);
  ft_fmap_free(&touch);
  free(acc);
  free(sp);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* The import hook                                                           */

typedef struct ft_fctx {
  sqlite3 *db;
  char *err;
  size_t errlen;
} ft_fctx;

/* Record the SQLite error with context. Returns -1. */
static int ft_fsqlerr(ft_fctx *c, const char *what) {
  snprintf(c->err, c->errlen, "%s: %s", what, sqlite3_errmsg(c->db));
  return -1;
}

/* Write meta key = value unless present; *got gets the value in force. */
static int ft_meta_default(ft_fctx *c, const char *key, int64_t value, int64_t *got) {
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO meta(key, value) VALUES ('%s', '%lld')", key,
           (long long)value);
  if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) return ft_fsqlerr(c, "writing meta");
  if (!got) return 0;
  sqlite3_stmt *q;
  snprintf(sql, sizeof sql, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = '%s'", key);
  if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK) return ft_fsqlerr(c, "reading meta");
  int rc = sqlite3_step(q) == SQLITE_ROW ? 0 : -1;
  if (!rc) *got = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  if (rc) return ft_fsqlerr(c, "reading meta");
  return 0;
}

/* Step a bound statement and reset it. */
static int ft_fstep(ft_fctx *c, sqlite3_stmt *q, const char *what) {
  int rc = sqlite3_step(q);
  sqlite3_reset(q);
  return rc == SQLITE_DONE ? 0 : ft_fsqlerr(c, what);
}

/* Insert the site_windows rows of the image. */
static int ft_write_windows(ft_fctx *c, const ft_frag_rows *rows, uint64_t window_ns) {
  ft_site_window *v;
  size_t n;
  if (ft_frag_windows(rows, window_ns, &v, &n) != 0) {
    snprintf(c->err, c->errlen, "out of memory while computing site_windows");
    return -1;
  }
  sqlite3_stmt *q;
  int rc = -1;
  if (sqlite3_prepare_v2(c->db,
                         "INSERT INTO site_windows(stack_id, window, allocations, bytes, frees, freed_bytes) "
                         "VALUES (?1,?2,?3,?4,?5,?6)",
                         -1, &q, NULL) != SQLITE_OK) {
    free(v);
    return ft_fsqlerr(c, "preparing site_windows");
  }
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_int64(q, 1, v[i].stack);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)v[i].window);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)v[i].allocations);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)v[i].bytes);
    sqlite3_bind_int64(q, 5, (sqlite3_int64)v[i].frees);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)v[i].freed_bytes);
    if (ft_fstep(c, q, "inserting site_windows") != 0) goto out;
  }
  rc = 0;
out:
  sqlite3_finalize(q);
  free(v);
  return rc;
}

/* Pinning of one instant at both page sizes into pinning/pinning_totals. */
static int ft_write_pinning(ft_fctx *c, sqlite3_stmt *qs, sqlite3_stmt *qt, int64_t proc, const char *instant,
                            uint64_t t, const ft_frag_rows *rows, uint64_t page_size) {
  const uint64_t sizes[2] = {page_size, FT_FRAG_HUGE_PAGE};
  for (int k = 0; k < 2; k++) {
    if (k == 1 && sizes[1] == sizes[0]) break; /* a system with 2 MiB base pages */
    ft_pin_result r;
    if (ft_frag_pinning(rows, t, sizes[k], page_size, &r) != 0) {
      snprintf(c->err, c->errlen, "out of memory while computing pinning");
      return -1;
    }
    const uint64_t tv[] = {r.heap_pages, r.heap_live_bytes, r.pages, r.resident_bytes, r.blocks, r.live_bytes,
                           r.pinned_bytes};
    sqlite3_bind_int64(qt, 1, proc);
    sqlite3_bind_text(qt, 2, instant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(qt, 3, (sqlite3_int64)t);
    sqlite3_bind_int64(qt, 4, (sqlite3_int64)sizes[k]);
    for (int i = 0; i < 7; i++) sqlite3_bind_int64(qt, 5 + i, (sqlite3_int64)tv[i]);
    int rc = ft_fstep(c, qt, "inserting pinning_totals");
    for (size_t i = 0; rc == 0 && i < r.nsites; i++) {
      const ft_pin_site *s = &r.sites[i];
      sqlite3_bind_int64(qs, 1, proc);
      sqlite3_bind_text(qs, 2, instant, -1, SQLITE_STATIC);
      sqlite3_bind_int64(qs, 3, (sqlite3_int64)t);
      sqlite3_bind_int64(qs, 4, (sqlite3_int64)sizes[k]);
      sqlite3_bind_int64(qs, 5, s->stack);
      sqlite3_bind_int64(qs, 6, (sqlite3_int64)s->blocks);
      sqlite3_bind_int64(qs, 7, (sqlite3_int64)s->live_bytes);
      sqlite3_bind_int64(qs, 8, (sqlite3_int64)s->pages);
      sqlite3_bind_int64(qs, 9, (sqlite3_int64)s->pinned_bytes);
      rc = ft_fstep(c, qs, "inserting pinning");
    }
    ft_pin_result_free(&r);
    if (rc) return -1;
  }
  return 0;
}

/* Pinning of image proc at its end and, when t_gap >= 0, at the sample
** t_gap ('rss_gap'), with meta pin_* when absent. 0 or -1 (message in c). */
static int ft_pinning_instants(ft_fctx *c, int64_t proc, uint64_t page_size, uint64_t end_ns, int64_t t_gap,
                               const ft_frag_rows *rows) {
  if (ft_meta_default(c, "pin_max_live_pct", FT_PIN_MAX_LIVE_PCT, NULL) != 0 ||
      ft_meta_default(c, "pin_mmap_threshold", (int64_t)FT_PIN_MMAP_THRESHOLD, NULL) != 0 ||
      ft_meta_default(c, "pin_huge_page", (int64_t)FT_FRAG_HUGE_PAGE, NULL) != 0)
    return -1;
  sqlite3_stmt *qs = NULL, *qt = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(c->db,
                         "INSERT INTO pinning(proc, instant, t_ns, page_size, stack_id, blocks, live_bytes, "
                         "pages, pinned_bytes) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
                         -1, &qs, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db,
                         "INSERT INTO pinning_totals(proc, instant, t_ns, page_size, heap_pages, "
                         "heap_live_bytes, pages, resident_bytes, blocks, live_bytes, pinned_bytes) "
                         "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                         -1, &qt, NULL) != SQLITE_OK)
    ft_fsqlerr(c, "preparing pinning");
  else if (ft_write_pinning(c, qs, qt, proc, "end", end_ns, rows, page_size) == 0 &&
           (t_gap < 0 || ft_write_pinning(c, qs, qt, proc, "rss_gap", (uint64_t)t_gap, rows, page_size) == 0))
    rc = 0;
  sqlite3_finalize(qs);
  sqlite3_finalize(qt);
  return rc;
}

int ft_import_frag(sqlite3 *db, int64_t proc, uint64_t page_size, uint64_t end_ns, const ft_frag_rows *rows,
                   char *err, size_t errlen) {
  ft_fctx c = {db, err, errlen};
  int64_t window_ns;
  /* The first image imported into a trace chooses the window (for `record`
  ** the command itself, imported first); later images keep it, so windows
  ** mean the same in every image of the trace. */
  if (ft_meta_default(&c, "window_ns", (int64_t)ft_frag_window_ns(end_ns), &window_ns) != 0 ||
      ft_meta_default(&c, "pin_max_live_pct", FT_PIN_MAX_LIVE_PCT, NULL) != 0 ||
      ft_meta_default(&c, "pin_mmap_threshold", (int64_t)FT_PIN_MMAP_THRESHOLD, NULL) != 0 ||
      ft_meta_default(&c, "pin_huge_page", (int64_t)FT_FRAG_HUGE_PAGE, NULL) != 0)
    return -1;
  if (window_ns <= 0) window_ns = (int64_t)ft_frag_window_ns(end_ns); /* a hand-edited meta */
  if (ft_write_windows(&c, rows, (uint64_t)window_ns) != 0) return -1;
  if (!page_size || (page_size & (page_size - 1))) return 0; /* no page size to replay onto */
  /* Byte sampling recorded a fraction of the blocks: a page replay would
  ** see most pages empty and report pinning that is not there. */
  if (rows->sample_bytes) return 0;
  /* The sample with the largest gap between what the process holds (RSS
  ** without the recorder's own buffers) and the live heap. */
  sqlite3_stmt *qg = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT t_ns FROM process_samples WHERE proc = ?1 "
                         "ORDER BY rss_bytes - coalesce(shim_bytes, 0) - live_bytes DESC, t_ns LIMIT 1",
                         -1, &qg, NULL) != SQLITE_OK) {
    sqlite3_finalize(qg);
    return ft_fsqlerr(&c, "preparing pinning");
  }
  sqlite3_bind_int64(qg, 1, proc);
  int64_t t_gap = sqlite3_step(qg) == SQLITE_ROW ? sqlite3_column_int64(qg, 0) : -1;
  sqlite3_finalize(qg);
  return ft_pinning_instants(&c, proc, page_size, end_ns, t_gap, rows);
}

int ft_import_pinning_end(sqlite3 *db, int64_t proc, uint64_t page_size, uint64_t end_ns, const ft_frag_rows *rows,
                          char *err, size_t errlen) {
  assert(page_size && !(page_size & (page_size - 1)));
  ft_fctx c = {db, err, errlen};
  return ft_pinning_instants(&c, proc, page_size, end_ns, -1, rows);
}
