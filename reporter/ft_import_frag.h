/*
** ft_import_frag.h — fragmentation attribution computed at import from an
** image's matched rows (issue 4; definitions in schema/README.md,
** "Fragmentation attribution (issue 4)"):
**   - site_windows: allocations/bytes/frees/freed bytes per site and time
**     window (meta window_ns), so churn over time is a query;
**   - pinning / pinning_totals: the heap pages that hold only a little live
**     data at an instant (end of the run, and the sample with the largest
**     RSS - live heap gap), their free bytes attributed to the sites of the
**     live blocks on them, for the system page size and 2 MiB.
** The row array is the importer's own (read in place through a layout
** descriptor, no copy); the pure passes are exported for the unit tests.
*/
#ifndef FT_IMPORT_FRAG_H
#define FT_IMPORT_FRAG_H

#include <math.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define FT_FRAG_HUGE_PAGE (UINT64_C(2) << 20)    /* the second page size replayed: 2 MiB */
#define FT_PIN_MAX_LIVE_PCT 25                   /* a page pins when 0 < live <= 25 % of it */
#define FT_PIN_MMAP_THRESHOLD (UINT64_C(128) << 10) /* glibc's default M_MMAP_THRESHOLD: larger
                                                 ** blocks get their own mapping, not heap pages */
#define FT_FRAG_KIND_MMAP 4                      /* alloc_kinds: mmap rows are never heap */

/* Row weights of byte-sampled images (issue 5; schema/README.md,
** "Production mode"). A heap row of size s in an image sampled with mean
** N bytes was recorded with probability p = 1 - exp(-s/N), so it stands for
** 1/p allocations. Weights are fixed point, in units of 2^-FT_WEIGHT_SHIFT:
** 1/p rounded to the nearest 1/4096. Why fixed point: every weighted sum
** the importer writes (and the documented SQL recomputes from
** allocation_rows.weight, which holds exactly this value) is then exact in
** integers and in doubles alike, so maxima, ties and rounding agree
** between the two. Full capture (N = 0) and mmap rows weigh exactly 1. */
#define FT_WEIGHT_SHIFT 12
#define FT_WEIGHT_ONE (UINT64_C(1) << FT_WEIGHT_SHIFT)

/* Fixed-point weight of a row of this size and alloc kind in an image
** sampled with mean sample_bytes (0: full capture). A size of 0 counts as 1
** byte (p(0) = 0 would make it infinite; the shim cannot sample it). */
static inline uint64_t ft_weight_fx(uint64_t size, uint64_t sample_bytes, unsigned kind) {
  if (!sample_bytes || kind == FT_FRAG_KIND_MMAP) return FT_WEIGHT_ONE; /* mmap is never sampled */
  double p = -expm1(-(double)(size ? size : 1) / (double)sample_bytes);
  double w = (double)FT_WEIGHT_ONE / p + 0.5;
  return w >= 1.8e19 ? UINT64_C(1) << 63 : (w < (double)FT_WEIGHT_ONE ? FT_WEIGHT_ONE : (uint64_t)w);
}

/* A weighted sum in fixed point, rounded to the nearest integer (halves
** up, as SQLite's round() does for the non-negative sums we round). */
static inline uint64_t ft_weight_round(uint64_t fx) {
  return (fx >> FT_WEIGHT_SHIFT) + ((fx >> (FT_WEIGHT_SHIFT - 1)) & 1);
}

/* Rows of one image as the importer holds them: n records of stride bytes
** at base, fields at the given offsets (addr, size, t_alloc, t_free: uint64,
** t_free UINT64_MAX when never freed; stack: uint32, 0 = lost; kind: uint8,
** alloc_kinds). Times are ns since the image started. sample_bytes: the
** image's byte-sampling mean (0: full capture), for the row weights. */
typedef struct ft_frag_rows {
  const void *base;
  size_t n, stride;
  size_t off_addr, off_size, off_t_alloc, off_t_free, off_stack, off_kind;
  uint64_t sample_bytes;
} ft_frag_rows;

/* Window width for an image that ended at end_ns: the largest of 10 ms,
** 100 ms, 1 s, 10 s that still gives at least 20 windows (10 ms when none
** does: runs shorter than 200 ms). */
uint64_t ft_frag_window_ns(uint64_t end_ns);

/* One (site, window) aggregate. */
typedef struct ft_site_window {
  uint32_t stack;
  uint64_t window; /* [window * window_ns, (window + 1) * window_ns) */
  uint64_t allocations, bytes, frees, freed_bytes;
} ft_site_window;

/* Aggregate rows per (stack, window of t_alloc) and (stack, window of
** t_free), each row weighted (rounded once per aggregate: exact counts in
** full capture); rows without a stack are skipped. *out (malloc'd, sorted by
** stack then window) gets *nout entries. Returns 0 or -1 (out of memory). */
int ft_frag_windows(const ft_frag_rows *rows, uint64_t window_ns, ft_site_window **out, size_t *nout);

/* Pinning by one site at one instant and page size. pinned_bytes is the
** site's share of the free resident bytes of the pinning pages it has live bytes on
** (shares are proportional to live bytes on the page; summed exactly in
** double, rounded to the nearest byte once). */
typedef struct ft_pin_site {
  uint32_t stack;
  uint64_t blocks;     /* the site's live blocks with bytes on a pinning page */
  uint64_t live_bytes; /* their bytes on pinning pages (a block counts its overlap on each) */
  uint64_t pages;      /* pinning pages the site has live bytes on */
  uint64_t pinned_bytes;
} ft_pin_site;

typedef struct ft_pin_result {
  ft_pin_site *sites; /* malloc'd, by pinned_bytes descending, then stack */
  size_t nsites;
  uint64_t heap_pages;      /* pages with live heap bytes at t */
  uint64_t heap_live_bytes; /* live heap bytes counted (malloc family, < FT_PIN_MMAP_THRESHOLD) */
  uint64_t pages;           /* pinning pages */
  uint64_t resident_bytes;  /* their resident bytes: touched base pages * base page size */
  uint64_t blocks;          /* live blocks with bytes on a pinning page (stack lost included) */
  uint64_t live_bytes;      /* live bytes on pinning pages */
  uint64_t pinned_bytes;    /* exact: resident_bytes - live_bytes */
} ft_pin_result;

/* Replay the heap rows live at t (t_alloc <= t < t_free; kinds other than
** mmap, size below FT_PIN_MMAP_THRESHOLD) onto pages of page_size and
** attribute the pinning pages. base_page is the system page size (both
** powers of two, base_page <= page_size): a page's resident bytes are its
** base pages touched by a heap row allocated at or before t; it pins when
** 0 < live <= FT_PIN_MAX_LIVE_PCT % of them, pinning resident - live bytes.
** Returns 0 or -1 (out of memory). */
int ft_frag_pinning(const ft_frag_rows *rows, uint64_t t, uint64_t page_size, uint64_t base_page,
                    ft_pin_result *out);

/* Release what ft_frag_pinning allocated. */
void ft_pin_result_free(ft_pin_result *r);

/* The import hook: write site_windows, pinning and pinning_totals of image
** proc (its process_samples already written, the rows in memory), and meta
** window_ns / pin_* when absent. A byte-sampled image (rows->sample_bytes)
** has no pinning rows: replaying pages needs every live block. Returns 0,
** or -1 with a message in err. */
int ft_import_frag(sqlite3 *db, int64_t proc, uint64_t page_size, uint64_t end_ns, const ft_frag_rows *rows,
                   char *err, size_t errlen);

/* Pinning and pinning_totals of image proc at its end (instant 'end') from
** rows, and meta pin_* when absent: the part of ft_import_frag the follow
** import runs at the end (it has no past instants left to replay). page_size
** must be a power of two. Returns 0, or -1 with a message in err. */
int ft_import_pinning_end(sqlite3 *db, int64_t proc, uint64_t page_size, uint64_t end_ns, const ft_frag_rows *rows,
                          char *err, size_t errlen);

#endif
