/*
** ft_report_frag_data.c — the fragmentation section's model (ft_report_frag.h)
** from the host and process sample tables of a trace.
**
** Only sample and summary tables are read (buddyinfo_samples, meminfo_samples,
** vmstat_samples, process_samples, smaps_samples, mallinfo_samples,
** sample_sources): a few thousand rows per minute of run whatever the
** number of allocations. Each table is scanned once in primary-key order,
** so no query sorts.
**
** Host samples are taken by every traced image's sampler; the report uses
** the selected image whose samples of that table span the longest time
** (ties: the lowest image key), so one timeline is shown, not a mix.
*/
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ft_frag.h"
#include "ft_report.h"
#include "ft_report_frag.h"

static int fail_sql(sqlite3 *db, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
  return -1;
}

/* Whether table exists and has a row (a missing table is an older trace). */
static int has_rows(sqlite3 *db, const char *table) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT 1 FROM %s LIMIT 1", table);
  sqlite3_stmt *q = NULL;
  int yes = sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW;
  sqlite3_finalize(q);
  return yes;
}

int ft_report_frag_available(sqlite3 *db) {
  static const char *const tables[] = {"buddyinfo_samples", "meminfo_samples", "vmstat_samples", "process_samples"};
  for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
    if (has_rows(db, tables[i])) return 1;
  return 0;
}

/* First (desc 0) or last (desc 1) t_ns of proc in table, -1 when none. The
** primary key starts (proc, t_ns), so this is one index probe. */
static int64_t edge_time(sqlite3 *db, const char *table, int64_t proc, int desc) {
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT t_ns FROM %s WHERE proc = ?1 ORDER BY t_ns %s LIMIT 1", table, desc ? "DESC" : "ASC");
  sqlite3_stmt *q = NULL;
  int64_t t = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, proc);
    if (sqlite3_step(q) == SQLITE_ROW) t = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  return t;
}

/* The selected image whose samples of table span longest: its index in
** r->procs, or -1; *lo and *hi its first and last sample (own time base). */
static int pick_sampler(const ft_report *r, const char *table, int64_t *lo, int64_t *hi) {
  int best = -1;
  int64_t span = -1;
  for (size_t i = 0; i < r->nprocs; i++) {
    int64_t a = edge_time(r->db, table, r->procs[i].proc, 0);
    if (a < 0) continue;
    int64_t b = edge_time(r->db, table, r->procs[i].proc, 1);
    if (b - a > span) {
      span = b - a;
      best = (int)i;
      *lo = a;
      *hi = b;
    }
  }
  return best;
}

/* Slice of a trace time in a series of FT_RF_POINTS slices over [lo, hi]. */
static int slice_of(int64_t t, int64_t lo, int64_t hi) {
  if (hi <= lo) return 0;
  int64_t k = (t - lo) * FT_RF_POINTS / (hi - lo + 1);
  return k < 0 ? 0 : k >= FT_RF_POINTS ? FT_RF_POINTS - 1 : (int)k;
}

/* ---- buddyinfo ---------------------------------------------------------------- */

/* The order of a 2 MiB block for this page size, capped at the zone's top
** order: where transparent huge pages and most "large contiguous" requests
** live. */
static int huge_order(int64_t page_size, int norders) {
  int o = 0;
  while (o + 1 < norders && (page_size << (o + 1)) <= FT_RF_HUGE_BYTES) o++;
  return o;
}

static ft_rf_zone *zone_of(ft_frag_report *f, int64_t node, const char *zone) {
  for (int i = 0; i < f->nzones; i++)
    if (f->zones[i].node == node && !strcmp(f->zones[i].zone, zone)) return &f->zones[i];
  ft_rf_zone *n = realloc(f->zones, (size_t)(f->nzones + 1) * sizeof *n);
  if (!n) return NULL;
  f->zones = n;
  ft_rf_zone *z = &f->zones[f->nzones++];
  memset(z, 0, sizeof *z);
  z->node = node;
  snprintf(z->zone, sizeof z->zone, "%s", zone);
  z->start.t_ns = z->worst.t_ns = z->end.t_ns = -1;
  z->largest_min = -1;
  for (int k = 0; k < FT_RF_POINTS; k++) z->largest_series[k] = -1;
  return z;
}

/* Complete one snapshot of a zone (counts filled): free pages, largest
** block and the kernel's two indices per order (ft_frag.h). */
static void finish_snap(ft_rf_snap *s, int norders, int64_t page_size) {
  assert(norders >= 0 && norders <= FT_RF_MAX_ORDERS);
  uint64_t blocks[FT_RF_MAX_ORDERS] = {0};
  for (int o = 0; o < norders; o++) blocks[o] = s->free_blocks[o] > 0 ? (uint64_t)s->free_blocks[o] : 0;
  s->largest_order = ft_frag_largest_order(blocks, norders);
  s->largest_bytes = (int64_t)ft_frag_largest_block(blocks, norders, (uint64_t)page_size);
  s->free_pages = 0;
  for (int o = 0; o < norders; o++) {
    ft_contig_info info;
    ft_frag_fill(blocks, norders, (unsigned)o, &info);
    s->free_pages = (int64_t)info.free_pages;
    s->unusable[o] = ft_frag_unusable_index((unsigned)o, &info);
    s->fragidx[o] = ft_frag_index((unsigned)o, norders, &info);
  }
}

/* Whether snapshot a is worse than b at order o: more free space unusable
** for that order, then a smaller largest block (ties keep the earlier). */
static int worse(const ft_rf_snap *a, const ft_rf_snap *b, int o) {
  if (b->t_ns < 0) return 1;
  if (a->unusable[o] != b->unusable[o]) return a->unusable[o] > b->unusable[o];
  return a->largest_bytes < b->largest_bytes;
}

static void add_snap(ft_frag_report *f, ft_rf_zone *z, ft_rf_snap *s, int norders) {
  if (norders > z->norders) z->norders = norders;
  finish_snap(s, norders, f->page_size);
  z->nsamples++;
  if (z->start.t_ns < 0) z->start = *s;
  z->end = *s;
  if (worse(s, &z->worst, huge_order(f->page_size, norders))) z->worst = *s;
  if (z->largest_min < 0 || s->largest_bytes < z->largest_min) {
    z->largest_min = s->largest_bytes;
    z->largest_min_ns = s->t_ns;
  }
  if (s->largest_bytes > z->largest_max) z->largest_max = s->largest_bytes;
  int k = slice_of(s->t_ns, f->sys_lo_ns, f->sys_hi_ns);
  if (z->largest_series[k] < 0 || s->largest_bytes < z->largest_series[k]) z->largest_series[k] = s->largest_bytes;
}

static int load_buddy(ft_report *r, ft_frag_report *f, char *err, size_t errlen) {
  int64_t lo = -1, hi = -1;
  int pi = pick_sampler(r, "buddyinfo_samples", &lo, &hi);
  if (pi < 0) return 0;
  const ft_proc_info *p = &r->procs[pi];
  f->has_buddy = 1;
  f->sys_proc = p->proc;
  f->sys_lo_ns = lo + p->offset_ns;
  f->sys_hi_ns = hi + p->offset_ns;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT t_ns, node, zone, page_order, free_blocks FROM buddyinfo_samples WHERE proc = ?1 "
                         "ORDER BY t_ns, node, zone, page_order",
                         -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r->db, err, errlen, "reading buddyinfo_samples");
  sqlite3_bind_int64(q, 1, p->proc);
  ft_rf_snap cur;
  ft_rf_zone *z = NULL;
  int norders = 0, rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(q, 0) + p->offset_ns, node = sqlite3_column_int64(q, 1);
    const char *zone = (const char *)sqlite3_column_text(q, 2);
    int o = sqlite3_column_int(q, 3);
    if (!zone) zone = "?";
    if (!z || cur.t_ns != t || z->node != node || strcmp(z->zone, zone) != 0) {
      if (z) add_snap(f, z, &cur, norders);
      if (!(z = zone_of(f, node, zone))) {
        sqlite3_finalize(q);
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      memset(&cur, 0, sizeof cur);
      cur.t_ns = t;
      norders = 0;
    }
    if (o < 0 || o >= FT_RF_MAX_ORDERS) continue;
    cur.free_blocks[o] = sqlite3_column_int64(q, 4);
    if (o + 1 > norders) norders = o + 1;
  }
  if (z) add_snap(f, z, &cur, norders);
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r->db, err, errlen, "reading buddyinfo_samples");
  int top = 1;
  for (int i = 0; i < f->nzones; i++) {
    ft_rf_zone *x = &f->zones[i];
    x->empty = x->largest_max == 0;
    if (x->norders > top) top = x->norders;
  }
  f->ref_order = huge_order(f->page_size, top);
  return 0;
}

/* ---- meminfo and vmstat ------------------------------------------------------------ */

/* free -h's columns from one meminfo snapshot, as procps-ng 4 computes them
** (Debian 12): buff/cache = Buffers + Cached + SReclaimable, used = total -
** available. */
static int load_mem(ft_report *r, const ft_proc_info *p, int64_t t, ft_rf_mem *m, char *err, size_t errlen) {
  static const char *const keys[] = {"MemTotal",  "MemFree",      "MemAvailable", "Buffers",         "Cached",
                                     "Shmem",     "Slab",         "SReclaimable", "SUnreclaim",      "AnonHugePages",
                                     "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize"};
  enum { K_TOTAL, K_FREE, K_AVAIL, K_BUF, K_CACHED, K_SHMEM, K_SLAB, K_SREC, K_SUNREC, K_AHP, K_HT, K_HF, K_HR, K_HS, K_HSZ, K_N };
  int64_t v[K_N];
  for (int i = 0; i < K_N; i++) v[i] = -1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT key, value FROM meminfo_samples WHERE proc = ?1 AND t_ns = ?2", -1, &q, NULL) !=
      SQLITE_OK)
    return fail_sql(r->db, err, errlen, "reading meminfo_samples");
  sqlite3_bind_int64(q, 1, p->proc);
  sqlite3_bind_int64(q, 2, t);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(q, 0);
    for (int i = 0; k && i < K_N; i++)
      if (!strcmp(k, keys[i])) v[i] = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r->db, err, errlen, "reading meminfo_samples");
  m->t_ns = t + p->offset_ns;
  m->total = v[K_TOTAL];
  m->free = v[K_FREE];
  /* MemAvailable is missing before Linux 3.14; free(1) then shows free. */
  m->available = v[K_AVAIL] >= 0 ? v[K_AVAIL] : v[K_FREE];
  m->used = m->total >= 0 && m->available >= 0 ? m->total - m->available : -1;
  m->shared = v[K_SHMEM];
  m->buff_cache = v[K_BUF] >= 0 && v[K_CACHED] >= 0 ? v[K_BUF] + v[K_CACHED] + (v[K_SREC] > 0 ? v[K_SREC] : 0) : -1;
  m->slab = v[K_SLAB];
  m->sreclaimable = v[K_SREC];
  m->sunreclaim = v[K_SUNREC];
  m->anon_huge = v[K_AHP];
  m->huge_total = v[K_HT];
  m->huge_free = v[K_HF];
  m->huge_rsvd = v[K_HR];
  m->huge_surp = v[K_HS];
  m->huge_size = v[K_HSZ];
  return 0;
}

static int load_meminfo(ft_report *r, ft_frag_report *f, char *err, size_t errlen) {
  f->mem_start.t_ns = f->mem_end.t_ns = -1;
  int64_t lo = -1, hi = -1;
  int pi = pick_sampler(r, "meminfo_samples", &lo, &hi);
  if (pi < 0) return 0;
  f->has_meminfo = 1;
  if (load_mem(r, &r->procs[pi], lo, &f->mem_start, err, errlen) != 0) return -1;
  return load_mem(r, &r->procs[pi], hi, &f->mem_end, err, errlen);
}

/* The vmstat counters the section shows, when the kernel has them: direct
** compaction (a stall is an allocation that had to compact first), THP
** allocations that fell back to small pages, and page migration. */
static const char *const counter_keys[FT_RF_COUNTERS] = {
    "compact_stall",     "compact_fail",      "compact_success",           "thp_fault_alloc",
    "thp_fault_fallback", "thp_collapse_alloc", "thp_collapse_alloc_failed", "pgmigrate_success",
    "pgmigrate_fail",    "allocstall_normal", "allocstall_movable",        "kcompactd_wake"};

static int vm_value(ft_report *r, int64_t proc, int64_t t, const char *key, int64_t *v) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT value FROM vmstat_samples WHERE proc = ?1 AND t_ns = ?2 AND key = ?3", -1, &q,
                         NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_int64(q, 1, proc);
  sqlite3_bind_int64(q, 2, t);
  sqlite3_bind_text(q, 3, key, -1, SQLITE_STATIC);
  int found = sqlite3_step(q) == SQLITE_ROW;
  if (found) *v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return found ? 0 : 1;
}

static int load_vmstat(ft_report *r, ft_frag_report *f, char *err, size_t errlen) {
  int64_t lo = -1, hi = -1;
  int pi = pick_sampler(r, "vmstat_samples", &lo, &hi);
  if (pi < 0) return 0;
  f->has_vmstat = 1;
  f->sys_span_s = (double)(hi - lo) / 1e9;
  for (int i = 0; i < FT_RF_COUNTERS; i++) {
    int64_t a = 0, b = 0;
    int ra = vm_value(r, r->procs[pi].proc, lo, counter_keys[i], &a), rb = vm_value(r, r->procs[pi].proc, hi, counter_keys[i], &b);
    if (ra < 0 || rb < 0) return fail_sql(r->db, err, errlen, "reading vmstat_samples");
    if (ra || rb) continue; /* this kernel does not have the counter */
    ft_rf_counter *c = &f->counters[f->ncounters++];
    c->key = counter_keys[i];
    c->delta = b - a;
    c->per_s = f->sys_span_s > 0 ? (double)c->delta / f->sys_span_s : 0;
  }
  return 0;
}

/* ---- the processes ------------------------------------------------------------------ */

static void set_ratio(ft_rf_psnap *s) {
  s->gap = s->rss - s->live;
  s->ratio = s->live > 0 ? (double)s->rss / (double)s->live : s->rss > 0 ? INFINITY : 1.0;
}

/* Fill pss / arena numbers of s from the latest row at or before s->t_ns
** (own time base t). */
static void nearest_extra(ft_report *r, int64_t proc, int64_t t, ft_rf_psnap *s, const ft_frag_report *f) {
  s->pss = s->arena_free = s->arena_top = -1;
  s->pss_t_ns = s->arena_t_ns = -1;
  sqlite3_stmt *q = NULL;
  if (f->has_smaps &&
      sqlite3_prepare_v2(r->db, "SELECT pss, t_ns FROM smaps_samples WHERE proc = ?1 AND t_ns <= ?2 ORDER BY t_ns DESC LIMIT 1",
                         -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, proc);
    sqlite3_bind_int64(q, 2, t);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
      s->pss = sqlite3_column_int64(q, 0);
      s->pss_t_ns = sqlite3_column_int64(q, 1);
    }
  }
  sqlite3_finalize(q);
  q = NULL;
  if (f->has_mallinfo &&
      sqlite3_prepare_v2(r->db,
                         "SELECT free, top_chunk, t_ns FROM mallinfo_samples WHERE proc = ?1 AND t_ns <= ?2 ORDER BY t_ns DESC "
                         "LIMIT 1",
                         -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, proc);
    sqlite3_bind_int64(q, 2, t);
    if (sqlite3_step(q) == SQLITE_ROW) {
      s->arena_free = sqlite3_column_int64(q, 0);
      s->arena_top = sqlite3_column_int64(q, 1);
      s->arena_t_ns = sqlite3_column_int64(q, 2);
    }
  }
  sqlite3_finalize(q);
}

static int64_t thread_count(ft_report *r, int64_t proc) {
  sqlite3_stmt *q = NULL;
  int64_t n = 0;
  if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM threads WHERE proc = ?1", -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, proc);
    if (sqlite3_step(q) == SQLITE_ROW) n = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  return n;
}

/* A fork child's inherited heap (see ft_rf_proc.inherited_live): the larger
** of the parent's live heap at its last sample before the fork and its first
** sample after it; 0 when proc is not a fork child or nothing is known. */
static int64_t inherited_live(ft_report *r, int64_t proc) {
  sqlite3_stmt *q = NULL;
  int64_t v = 0;
  if (sqlite3_prepare_v2(r->db,
                         "WITH k AS (SELECT c.parent_proc AS pp, c.start_unix_ns - p.start_unix_ns AS t "
                         "           FROM processes c JOIN processes p ON p.proc = c.parent_proc WHERE c.proc = ?1) "
                         "SELECT max(s.live_bytes) FROM process_samples s, k WHERE s.proc = k.pp AND s.t_ns IN "
                         "((SELECT max(t_ns) FROM process_samples WHERE proc = k.pp AND t_ns <= k.t), "
                         " (SELECT min(t_ns) FROM process_samples WHERE proc = k.pp AND t_ns >= k.t))",
                         -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, proc);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) v = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  return v;
}

/* The library malloc resolves to when it is not glibc's, as the sampler noted
** when it skipped mallinfo2 ("" when glibc's or unknown). */
static void allocator_of(ft_report *r, int64_t proc, char *out, size_t cap) {
  sqlite3_stmt *q = NULL;
  out[0] = '\0';
  if (sqlite3_prepare_v2(r->db,
                         "SELECT detail FROM sample_sources WHERE proc = ?1 AND source = 'mallinfo' AND status = 'skipped'",
                         -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, proc);
    const char *d = sqlite3_step(q) == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
    const char *lib = d ? strrchr(d, '/') : NULL;
    if (lib) snprintf(out, cap, "%s", lib + 1);
  }
  sqlite3_finalize(q);
}

static int load_proc(ft_report *r, ft_frag_report *f, const ft_proc_info *p, char *err, size_t errlen) {
  int64_t lo = edge_time(r->db, "process_samples", p->proc, 0);
  if (lo < 0) return 0;
  int64_t hi = edge_time(r->db, "process_samples", p->proc, 1);
  ft_rf_proc *n = realloc(f->procs, (f->nprocs + 1) * sizeof *n);
  if (!n) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  f->procs = n;
  ft_rf_proc *fp = &f->procs[f->nprocs++];
  memset(fp, 0, sizeof *fp);
  fp->proc = p->proc;
  fp->pid = p->pid;
  fp->start.t_ns = fp->heap_peak.t_ns = fp->gap_peak.t_ns = fp->end.t_ns = -1;
  fp->series_lo = lo + p->offset_ns;
  fp->series_w = (hi - lo) / FT_RF_POINTS + 1;
  fp->inherited_live = inherited_live(r, p->proc);
  allocator_of(r, p->proc, fp->allocator, sizeof fp->allocator);
  for (int k = 0; k < FT_RF_POINTS; k++) fp->rss_series[k] = fp->live_series[k] = -1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT t_ns, rss_bytes, live_bytes, coalesce(shim_bytes, 0) FROM process_samples WHERE proc = ?1 "
                         "ORDER BY t_ns",
                         -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r->db, err, errlen, "reading process_samples");
  sqlite3_bind_int64(q, 1, p->proc);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    ft_rf_psnap s = {.t_ns = sqlite3_column_int64(q, 0)};
    /* The recorder's own memory is part of RSS; it is not the program's. */
    int64_t shim = sqlite3_column_int64(q, 3);
    s.rss = sqlite3_column_int64(q, 1) - shim;
    if (s.rss < 0) s.rss = 0;
    s.live = sqlite3_column_int64(q, 2) + fp->inherited_live;
    set_ratio(&s);
    fp->nsamples++;
    if (fp->start.t_ns < 0) fp->start = s;
    fp->end = s;
    if (fp->heap_peak.t_ns < 0 || s.live > fp->heap_peak.live) fp->heap_peak = s;
    if (fp->gap_peak.t_ns < 0 || s.gap > fp->gap_peak.gap) fp->gap_peak = s;
    int k = (int)((s.t_ns - lo) / fp->series_w);
    assert(k >= 0 && k < FT_RF_POINTS);
    if (s.rss > fp->rss_series[k]) fp->rss_series[k] = s.rss;
    if (s.live > fp->live_series[k]) fp->live_series[k] = s.live;
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r->db, err, errlen, "reading process_samples");
  ft_rf_psnap *snaps[] = {&fp->start, &fp->heap_peak, &fp->gap_peak, &fp->end};
  for (size_t i = 0; i < sizeof snaps / sizeof *snaps; i++) {
    nearest_extra(r, p->proc, snaps[i]->t_ns, snaps[i], f);
    snaps[i]->t_ns += p->offset_ns;
    if (snaps[i]->pss_t_ns >= 0) snaps[i]->pss_t_ns += p->offset_ns;
    if (snaps[i]->arena_t_ns >= 0) snaps[i]->arena_t_ns += p->offset_ns;
  }
  fp->threads = thread_count(r, p->proc);
  return 0;
}

/* Sources the samplers could not read, as noted once in sample_sources. */
static void load_notes(ft_report *r, ft_frag_report *f) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT source, status, coalesce(detail, '') FROM sample_sources WHERE status NOT IN ('ok', 'off') "
                         "GROUP BY source ORDER BY source",
                         -1, &q, NULL) != SQLITE_OK)
    return; /* an older trace: nothing was noted */
  while (sqlite3_step(q) == SQLITE_ROW && f->nnotes < (int)(sizeof f->notes / sizeof *f->notes))
    snprintf(f->notes[f->nnotes++], sizeof f->notes[0], "%s: %s%s%s", sqlite3_column_text(q, 0),
             sqlite3_column_text(q, 1), *sqlite3_column_text(q, 2) ? " — " : "", sqlite3_column_text(q, 2));
  sqlite3_finalize(q);
}

/* ---- entry points ---------------------------------------------------------------------- */

int ft_report_frag_load(ft_report *r, ft_frag_report **out, char *err, size_t errlen) {
  ft_frag_report *f = calloc(1, sizeof *f);
  *out = f;
  if (!f) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  f->sys_proc = -1;
  f->page_size = 4096;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT page_size FROM processes ORDER BY proc LIMIT 1", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int64(q, 0) > 0)
    f->page_size = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  f->has_smaps = has_rows(r->db, "smaps_samples");
  f->has_mallinfo = has_rows(r->db, "mallinfo_samples");
  load_notes(r, f);
  if (load_buddy(r, f, err, errlen) != 0 || load_meminfo(r, f, err, errlen) != 0 || load_vmstat(r, f, err, errlen) != 0)
    return -1;
  for (size_t i = 0; i < r->nprocs; i++)
    if (load_proc(r, f, &r->procs[i], err, errlen) != 0) return -1;
  f->has_psamples = f->nprocs > 0;
  if (ft_report_frag_sites(r, f, err, errlen) != 0) return -1;
  ft_report_frag_findings(r, f);
  return 0;
}

const ft_rf_proc *ft_report_frag_gate_proc(const ft_frag_report *f, ft_rf_at at, const ft_rf_psnap **snap) {
  const ft_rf_proc *best = NULL;
  *snap = NULL;
  for (size_t i = 0; f && i < f->nprocs; i++) {
    const ft_rf_psnap *s = at == FT_RF_AT_PEAK ? &f->procs[i].gap_peak : &f->procs[i].end;
    if (s->t_ns < 0) continue;
    if (!best || s->ratio > (*snap)->ratio) {
      best = &f->procs[i];
      *snap = s;
    }
  }
  return best;
}

void ft_report_frag_free(ft_frag_report *f) {
  if (!f) return;
  free(f->zones);
  free(f->procs);
  free(f->churn);
  free(f->mix);
  free(f->pins);
  free(f->corr);
  free(f->bcorr);
  free(f);
}
