/*
** ft_import_sys.c — parse the sampler's raw chunks (preload/ft_sources.c,
** preload/ft_sampler.c) into meminfo_samples, vmstat_samples,
** pagetypeinfo_samples, pageblock_samples, smaps_samples, mallinfo_samples,
** slabinfo_samples and sample_sources (schema/v1.sql, "System and process
** samples"). The shim copies /proc text byte for byte; all interpretation is
** here and in ft_procparse.c. Kept apart from ft_import.c, which only calls
** the one entry point per image.
*/
#include "ft_import_sys.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "ft_format.h"
#include "ft_procparse.h"

#define FT_SLAB_TOP 32 /* caches kept per slabinfo snapshot, by memory */

/* Names of enum ft_source_id and enum ft_source_status in the trace. */
static const char *const source_names[FT_SRC_MAX + 1] = {
    NULL, "statm", "buddyinfo", "pagetypeinfo", "meminfo", "vmstat", "slabinfo", "smaps_rollup", "mallinfo"};
static const char *const status_names[] = {"ok", "missing", "unreadable", "skipped", "off"};

typedef struct ft_src_state {
  int noted;
  ft_source_note note;
  const char *detail;
  size_t detail_len;
  long long samples, malformed;
} ft_src_state;

enum { Q_MEM, Q_VM, Q_PTI, Q_PB, Q_SMAPS, Q_MALL, Q_SLAB, Q_SRC, Q_META, Q_N };

typedef struct ft_sys {
  sqlite3 *db;
  int64_t proc;
  uint32_t page_size;
  sqlite3_stmt *q[Q_N];
  ft_src_state src[FT_SRC_MAX + 1];
  char *err;
  size_t errlen;
} ft_sys;

static int sys_sqlerr(ft_sys *s, const char *what) {
  snprintf(s->err, s->errlen, "%s: %s", what, sqlite3_errmsg(s->db));
  return -1;
}

/* Run a bound statement once and reset it. Returns 0 or -1. */
static int sys_step(ft_sys *s, sqlite3_stmt *q, const char *what) {
  int rc = sqlite3_step(q);
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return rc == SQLITE_DONE ? 0 : sys_sqlerr(s, what);
}

int ft_import_sys_vmstat_kept(const char *key, size_t len) {
  static const char *const prefixes[] = {"compact_", "kcompactd_", "thp_", "pgmigrate_", "numa_",
                                         "allocstall", "pgscan_", "pgsteal_", "drop_"};
  static const char *const exact[] = {"nr_free_pages", "pgfault", "pgmajfault"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    size_t n = strlen(prefixes[i]);
    if (len >= n && memcmp(key, prefixes[i], n) == 0) return 1;
  }
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
    if (strlen(exact[i]) == len && memcmp(key, exact[i], len) == 0) return 1;
  return 0;
}

/* meminfo or vmstat snapshot: validate every line first (a garbled read is
** skipped whole), then insert the kept keys. */
static int sys_kv(ft_sys *s, int vm, uint64_t t, const char *text, size_t len, ft_src_state *st) {
  int (*next)(const char *, size_t, size_t *, ft_kv *) = vm ? ft_vmstat_next : ft_meminfo_next;
  ft_kv kv;
  size_t off = 0;
  int r;
  while ((r = next(text, len, &off, &kv)) == 1) {
  }
  if (r < 0) {
    st->malformed++;
    return 0;
  }
  st->samples++;
  off = 0;
  sqlite3_stmt *q = s->q[vm ? Q_VM : Q_MEM];
  while (next(text, len, &off, &kv) == 1) {
    if (vm && !ft_import_sys_vmstat_kept(kv.key, kv.key_len)) continue;
    if (kv.value > INT64_MAX) continue; /* not a real counter value */
    sqlite3_bind_int64(q, 1, s->proc);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
    sqlite3_bind_text(q, 3, kv.key, (int)kv.key_len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, (sqlite3_int64)kv.value);
    if (sys_step(s, q, vm ? "inserting vmstat sample" : "inserting meminfo sample") != 0) return -1;
  }
  return 0;
}

static int sys_pagetypeinfo(ft_sys *s, uint64_t t, const char *text, size_t len, ft_src_state *st) {
  ft_pti_iter it;
  ft_pti_row row;
  int r, rows = 0;
  ft_pti_init(&it, text, len);
  while ((r = ft_pti_next(&it, &row)) == 1) rows++;
  if (r < 0 || rows == 0) {
    st->malformed++;
    return 0;
  }
  st->samples++;
  if (it.pageblock_order >= 0) {
    sqlite3_stmt *q = s->q[Q_META];
    sqlite3_bind_text(q, 1, "pageblock_order", -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 2, it.pageblock_order);
    if (sys_step(s, q, "writing meta pageblock_order") != 0) return -1;
  }
  ft_pti_init(&it, text, len);
  while (ft_pti_next(&it, &row) == 1) {
    if (row.kind == FT_PTI_FREE) {
      for (int o = 0; o < row.norders; o++) {
        sqlite3_stmt *q = s->q[Q_PTI];
        sqlite3_bind_int64(q, 1, s->proc);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
        sqlite3_bind_int(q, 3, row.node);
        sqlite3_bind_text(q, 4, row.zone, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, row.type, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 6, o);
        sqlite3_bind_int64(q, 7, (sqlite3_int64)row.free_blocks[o]);
        sqlite3_bind_int(q, 8, (row.saturated >> o) & 1);
        if (sys_step(s, q, "inserting pagetypeinfo sample") != 0) return -1;
      }
    } else {
      for (int k = 0; k < row.ntypes; k++) {
        sqlite3_stmt *q = s->q[Q_PB];
        sqlite3_bind_int64(q, 1, s->proc);
        sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
        sqlite3_bind_int(q, 3, row.node);
        sqlite3_bind_text(q, 4, row.zone, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 5, row.types[k], -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 6, (sqlite3_int64)row.pageblocks[k]);
        if (sys_step(s, q, "inserting pageblock sample") != 0) return -1;
      }
    }
  }
  return 0;
}

static int sys_smaps(ft_sys *s, uint64_t t, const char *text, size_t len, ft_src_state *st) {
  ft_smaps m;
  if (ft_parse_smaps_rollup(text, len, &m) != 0) {
    st->malformed++;
    return 0;
  }
  st->samples++;
  sqlite3_stmt *q = s->q[Q_SMAPS];
  sqlite3_bind_int64(q, 1, s->proc);
  sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
  for (int f = 0; f < FT_SMAPS_NFIELDS; f++)
    if (m.present & (1u << f)) sqlite3_bind_int64(q, 3 + f, (sqlite3_int64)m.bytes[f]);
  return sys_step(s, q, "inserting smaps sample");
}

/* slabtop's cache size: every slab of the cache, used or not. */
static uint64_t slab_bytes(const ft_sys *s, const ft_slab_row *r) {
  return r->num_slabs * r->pagesperslab * s->page_size;
}

static int sys_slabinfo(ft_sys *s, uint64_t t, const char *text, size_t len, ft_src_state *st) {
  ft_slab_row top[FT_SLAB_TOP], row;
  int ntop = 0, r;
  size_t off = 0;
  /* Keep the FT_SLAB_TOP largest, sorted descending (insertion: the file has
  ** a few hundred caches). */
  while ((r = ft_slabinfo_next(text, len, &off, &row)) == 1) {
    uint64_t b = slab_bytes(s, &row);
    int i = ntop < FT_SLAB_TOP ? ntop++ : FT_SLAB_TOP;
    if (i == FT_SLAB_TOP && b <= slab_bytes(s, &top[FT_SLAB_TOP - 1])) continue;
    if (i == FT_SLAB_TOP) i--;
    while (i > 0 && slab_bytes(s, &top[i - 1]) < b) {
      top[i] = top[i - 1];
      i--;
    }
    top[i] = row;
  }
  if (r < 0 || ntop == 0) {
    st->malformed++;
    return 0;
  }
  st->samples++;
  for (int i = 0; i < ntop; i++) {
    sqlite3_stmt *q = s->q[Q_SLAB];
    const ft_slab_row *x = &top[i];
    sqlite3_int64 v[] = {(sqlite3_int64)x->active_objs, (sqlite3_int64)x->num_objs, (sqlite3_int64)x->objsize,
                         (sqlite3_int64)x->objperslab,  (sqlite3_int64)x->pagesperslab,
                         (sqlite3_int64)x->active_slabs, (sqlite3_int64)x->num_slabs,
                         (sqlite3_int64)slab_bytes(s, x)};
    sqlite3_bind_int64(q, 1, s->proc);
    sqlite3_bind_int64(q, 2, (sqlite3_int64)t);
    sqlite3_bind_text(q, 3, x->name, -1, SQLITE_TRANSIENT);
    for (int k = 0; k < 8; k++) sqlite3_bind_int64(q, 4 + k, v[k]);
    if (sys_step(s, q, "inserting slabinfo sample") != 0) return -1;
  }
  return 0;
}

static int sys_mallinfo(ft_sys *s, const void *payload, size_t len, ft_src_state *st) {
  ft_mallinfo m;
  if (len < sizeof m) {
    st->malformed++;
    return 0;
  }
  memcpy(&m, payload, sizeof m);
  st->samples++;
  sqlite3_stmt *q = s->q[Q_MALL];
  sqlite3_int64 v[] = {(sqlite3_int64)m.t_ns,    (sqlite3_int64)m.arena,    (sqlite3_int64)m.ordblks,
                       (sqlite3_int64)m.smblks,  (sqlite3_int64)m.hblks,    (sqlite3_int64)m.hblkhd,
                       (sqlite3_int64)m.fsmblks, (sqlite3_int64)m.uordblks, (sqlite3_int64)m.fordblks,
                       (sqlite3_int64)m.keepcost};
  sqlite3_bind_int64(q, 1, s->proc);
  for (int k = 0; k < 10; k++) sqlite3_bind_int64(q, 2 + k, v[k]);
  return sys_step(s, q, "inserting mallinfo sample");
}

/* One sample_sources row per source that was noted or produced samples. */
static int sys_sources(ft_sys *s) {
  for (int id = 1; id <= FT_SRC_MAX; id++) {
    ft_src_state *st = &s->src[id];
    if (!st->noted && !st->samples && !st->malformed) continue;
    sqlite3_stmt *q = s->q[Q_SRC];
    char detail[512];
    const char *status = "ok";
    if (st->noted && st->note.status < sizeof status_names / sizeof status_names[0])
      status = status_names[st->note.status];
    sqlite3_bind_int64(q, 1, s->proc);
    sqlite3_bind_text(q, 2, source_names[id], -1, SQLITE_STATIC);
    if (st->malformed) {
      status = "malformed";
      snprintf(detail, sizeof detail, "%lld of %lld snapshots could not be parsed", st->malformed,
               st->malformed + st->samples);
      sqlite3_bind_text(q, 4, detail, -1, SQLITE_TRANSIENT);
    } else if (st->noted && st->note.err) {
      snprintf(detail, sizeof detail, "%.*s: %s", (int)(st->detail_len > 400 ? 400 : st->detail_len),
               st->detail ? st->detail : "", strerror(st->note.err));
      sqlite3_bind_text(q, 4, detail, -1, SQLITE_TRANSIENT);
    } else if (st->noted && st->note.status == FT_SRCST_UNREADABLE) {
      snprintf(detail, sizeof detail, "%.*s: nothing could be read", (int)(st->detail_len > 400 ? 400 : st->detail_len),
               st->detail ? st->detail : "");
      sqlite3_bind_text(q, 4, detail, -1, SQLITE_TRANSIENT);
    } else if (st->noted && st->detail_len) {
      sqlite3_bind_text(q, 4, st->detail, (int)st->detail_len, SQLITE_TRANSIENT);
    }
    sqlite3_bind_text(q, 3, status, -1, SQLITE_STATIC);
    if (st->noted) sqlite3_bind_int64(q, 5, st->note.interval_ms);
    sqlite3_bind_int64(q, 6, st->samples);
    if (sys_step(s, q, "inserting sample_sources") != 0) return -1;
  }
  return 0;
}

static int sys_prepare(ft_sys *s) {
  static const char *const sql[Q_N] = {
      [Q_MEM] = "INSERT OR IGNORE INTO meminfo_samples(proc, t_ns, key, value) VALUES (?1,?2,?3,?4)",
      [Q_VM] = "INSERT OR IGNORE INTO vmstat_samples(proc, t_ns, key, value) VALUES (?1,?2,?3,?4)",
      [Q_PTI] = "INSERT OR IGNORE INTO pagetypeinfo_samples(proc, t_ns, node, zone, migrate_type, page_order, "
                "free_blocks, saturated) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
      [Q_PB] = "INSERT OR IGNORE INTO pageblock_samples(proc, t_ns, node, zone, migrate_type, pageblocks) "
               "VALUES (?1,?2,?3,?4,?5,?6)",
      [Q_SMAPS] = "INSERT OR IGNORE INTO smaps_samples(proc, t_ns, rss, pss, pss_anon, pss_file, pss_shmem, "
                  "shared_clean, shared_dirty, private_clean, private_dirty, referenced, anonymous, lazy_free, "
                  "anon_huge_pages, shmem_pmd_mapped, file_pmd_mapped, shared_hugetlb, private_hugetlb, swap, "
                  "swap_pss, locked) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,"
                  "?20,?21,?22)",
      [Q_MALL] = "INSERT OR IGNORE INTO mallinfo_samples(proc, t_ns, arena, ordblks, smblks, hblks, mmapped, "
                 "fastbin_free, in_use, free, top_chunk) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
      [Q_SLAB] = "INSERT OR IGNORE INTO slabinfo_samples(proc, t_ns, name, active_objs, num_objs, objsize, "
                 "objperslab, pages_per_slab, active_slabs, num_slabs, bytes) "
                 "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
      /* Follow mode imports an image in pieces (ft_import_follow_*): a
      ** later piece adds its snapshots and keeps the note of the first
      ** (interval, status, detail) unless its own snapshots were malformed. */
      [Q_SRC] = "INSERT INTO sample_sources(proc, source, status, detail, interval_ms, samples) "
                "VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(proc, source) DO UPDATE SET "
                "samples = samples + excluded.samples, interval_ms = coalesce(interval_ms, excluded.interval_ms), "
                "status = CASE WHEN excluded.status = 'malformed' THEN 'malformed' ELSE status END, "
                "detail = CASE WHEN excluded.status = 'malformed' THEN excluded.detail ELSE coalesce(detail, "
                "excluded.detail) END",
      [Q_META] = "INSERT OR IGNORE INTO meta(key, value) VALUES (?1,?2)",
  };
  for (int i = 0; i < Q_N; i++)
    if (sqlite3_prepare_v2(s->db, sql[i], -1, &s->q[i], NULL) != SQLITE_OK)
      return sys_sqlerr(s, "preparing sample statements");
  return 0;
}

/* The source a data chunk type belongs to, 0 for other chunks. */
static int chunk_source(uint32_t type) {
  switch (type) {
  case FT_CHUNK_SAMPLE: return FT_SRC_STATM;
  case FT_CHUNK_BUDDYINFO: return FT_SRC_BUDDYINFO;
  case FT_CHUNK_PAGETYPEINFO: return FT_SRC_PAGETYPEINFO;
  case FT_CHUNK_MEMINFO: return FT_SRC_MEMINFO;
  case FT_CHUNK_VMSTAT: return FT_SRC_VMSTAT;
  case FT_CHUNK_SLABINFO: return FT_SRC_SLABINFO;
  case FT_CHUNK_SMAPS: return FT_SRC_SMAPS;
  case FT_CHUNK_MALLINFO: return FT_SRC_MALLINFO;
  default: return 0;
  }
}

/* Dispatch one chunk of the image. Returns 0 or -1 (SQL error). */
static int sys_chunk(ft_sys *s, const ft_spill_chunk *ch) {
  if (ch->type == FT_CHUNK_SOURCE) {
    ft_source_note n;
    if (ch->len < sizeof n) return 0;
    memcpy(&n, ch->payload, sizeof n);
    if (n.source < 1 || n.source > FT_SRC_MAX || s->src[n.source].noted) return 0; /* the first note wins */
    ft_src_state *st = &s->src[n.source];
    st->noted = 1;
    st->note = n;
    st->detail = (const char *)ch->payload + sizeof n;
    st->detail_len = ch->len - sizeof n;
    return 0;
  }
  int id = chunk_source(ch->type);
  if (!id) return 0;
  ft_src_state *st = &s->src[id];
  if (ch->type == FT_CHUNK_MALLINFO) return sys_mallinfo(s, ch->payload, ch->len, st);
  if (ch->type == FT_CHUNK_SAMPLE) {
    st->samples++; /* rows written by ft_import.c */
    return 0;
  }
  if (ch->len < 8) return 0;
  uint64_t t;
  memcpy(&t, ch->payload, 8);
  const char *text = (const char *)ch->payload + 8;
  size_t len = ch->len - 8;
  switch (ch->type) {
  case FT_CHUNK_BUDDYINFO: /* rows written by ft_import.c; counted here */
    if (ft_parse_buddyinfo(text, len, NULL, 0) < 0)
      st->malformed++;
    else
      st->samples++;
    return 0;
  case FT_CHUNK_MEMINFO: return sys_kv(s, 0, t, text, len, st);
  case FT_CHUNK_VMSTAT: return sys_kv(s, 1, t, text, len, st);
  case FT_CHUNK_PAGETYPEINFO: return sys_pagetypeinfo(s, t, text, len, st);
  case FT_CHUNK_SLABINFO: return sys_slabinfo(s, t, text, len, st);
  case FT_CHUNK_SMAPS: return sys_smaps(s, t, text, len, st);
  default: return 0;
  }
}

int ft_import_sys_image(sqlite3 *db, int64_t proc, const ft_spill *sp, char *err, size_t errlen) {
  assert(db && sp);
  ft_sys s;
  memset(&s, 0, sizeof s);
  s.db = db;
  s.proc = proc;
  s.page_size = sp->hdr.page_size ? sp->hdr.page_size : 4096;
  s.err = err;
  s.errlen = errlen;
  int rc = sys_prepare(&s);
  ft_spill_iter it;
  ft_spill_chunk ch;
  ft_spill_iter_init(&it, sp);
  while (rc == 0 && ft_spill_iter_next(&it, &ch)) rc = sys_chunk(&s, &ch);
  if (rc == 0) rc = sys_sources(&s);
  for (int i = 0; i < Q_N; i++) sqlite3_finalize(s.q[i]);
  return rc;
}
