/*
** ft_report_data.c — the report's model (ft_report.h) from a trace.
**
** Fast path: the importer's summary tables (process_stats, site_stats, the
** histograms, heap_timeline) hold everything per process and per stack, so
** a report reads a few thousand rows whatever the trace's length. --pid is
** answered from them too (they are per process). A time window, or a trace
** without summary tables, goes through ft_report_scan.c over
** allocation_rows; another short-lived threshold only recounts that column.
**
** Stacks are then added up into call sites (ft_sites.h picks each stack's
** site frame, skipping allocation wrappers and --skip patterns), or with
** --stacks into whole stacks; rankings are computed here once for every
** output format.
*/
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ft_report.h"
#include "ft_report_frag.h"

/* ---- helpers --------------------------------------------------------------- */

static int fail_sql(ft_report *r, char *err, size_t errlen, const char *what) {
  snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(r->db));
  return -1;
}

static char *dup_col(sqlite3_stmt *q, int i) {
  const unsigned char *t = sqlite3_column_text(q, i);
  return t ? strdup((const char *)t) : NULL;
}

static int64_t int_or(sqlite3_stmt *q, int i, int64_t dflt) {
  return sqlite3_column_type(q, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(q, i);
}

int ft_hist_bucket(int64_t v) { return v > 1 ? 63 - __builtin_clzll((unsigned long long)v) : 0; }

int64_t ft_report_stack_index(const ft_report *r, int64_t stack_id) {
  size_t lo = 0, hi = r->nstacks;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->stacks[mid].stack_id < stack_id) lo = mid + 1;
    else hi = mid;
  }
  return lo < r->nstacks && r->stacks[lo].stack_id == stack_id ? (int64_t)lo : -1;
}

/* Index of a selected image, or -1. procs are sorted by proc. */
static int64_t proc_index(const ft_report *r, int64_t proc) {
  size_t lo = 0, hi = r->nprocs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->procs[mid].proc < proc) lo = mid + 1;
    else hi = mid;
  }
  return lo < r->nprocs && r->procs[lo].proc == proc ? (int64_t)lo : -1;
}

const char *ft_site_label(const ft_site *s) { return s->stack ? s->stack->label : "(unknown stack)"; }

static int64_t *new_hist(void) { return calloc(FT_HIST_BUCKETS, sizeof(int64_t)); }

void ft_report_add_hist(ft_report *r, size_t stack, int lifetime, int bucket, int64_t count, int64_t bytes) {
  assert(stack < r->nstacks && bucket >= 0 && bucket < FT_HIST_BUCKETS);
  if (!lifetime) {
    r->size_count[bucket] += count;
    r->size_bytes[bucket] += bytes;
  }
  int si = r->stacks[stack].site;
  if (si < 0) return;
  ft_site *s = &r->sites[si];
  /* Out of memory here only loses a histogram row, never a total. */
  if (lifetime) {
    if (!s->life_hist && !(s->life_hist = new_hist())) return;
    s->life_hist[bucket] += count;
  } else {
    if (!s->size_count && !(s->size_count = new_hist())) return;
    if (!s->size_bytes && !(s->size_bytes = new_hist())) return;
    s->size_count[bucket] += count;
    s->size_bytes[bucket] += bytes;
  }
}

/* ---- meta and processes ---------------------------------------------------- */

static int load_meta(ft_report *r, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT key, value FROM meta", -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading meta");
  r->short_lived_ns = -1;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *k = (const char *)sqlite3_column_text(q, 0);
    if (!k) continue;
    if (!strcmp(k, "command")) r->command = dup_col(q, 1);
    else if (!strcmp(k, "fragtrace_version")) r->fragtrace_version = dup_col(q, 1);
    else if (!strcmp(k, "schema_version")) r->schema_version = sqlite3_column_int64(q, 1);
    else if (!strcmp(k, "short_lived_ns")) r->short_lived_ns = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading meta");
  return 0;
}

/* Whether table has column (traces written before a column existed lack it). */
static int has_column(sqlite3 *db, const char *table, const char *column) {
  sqlite3_stmt *q = NULL;
  int has = sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", -1, &q, NULL) == SQLITE_OK;
  if (has) {
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC);
    has = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return has;
}

static int load_procs(ft_report *r, char *err, size_t errlen) {
  const ft_report_opts *o = r->opts;
  sqlite3_stmt *q = NULL;
  char sql[320];
  snprintf(sql, sizeof sql,
           "SELECT proc, pid, ppid, exe, cmdline, start_unix_ns, end_ns, ended_by, exit_status, "
           "events_dropped, unmatched_frees, %s FROM processes ORDER BY proc",
           has_column(r->db, "processes", "sample_bytes") ? "sample_bytes" : "NULL");
  if (sqlite3_prepare_v2(r->db, sql, -1, &q, NULL) != SQLITE_OK) return fail_sql(r, err, errlen, "reading processes");
  size_t cap = 0;
  int64_t first_start = INT64_MAX;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t start = sqlite3_column_int64(q, 5);
    /* Times are per image; the trace starts with its first image. */
    if (start < first_start) first_start = start;
    if (o->pid >= 0 && sqlite3_column_int64(q, 1) != o->pid) continue;
    if (r->nprocs == cap) {
      cap = cap ? cap * 2 : 16;
      ft_proc_info *n = realloc(r->procs, cap * sizeof *n);
      if (!n) {
        sqlite3_finalize(q);
        snprintf(err, errlen, "out of memory");
        return -1;
      }
      r->procs = n;
    }
    ft_proc_info *p = &r->procs[r->nprocs++];
    memset(p, 0, sizeof *p);
    p->proc = sqlite3_column_int64(q, 0);
    p->pid = sqlite3_column_int64(q, 1);
    p->ppid = int_or(q, 2, -1);
    p->exe = dup_col(q, 3);
    p->cmdline = dup_col(q, 4);
    p->start_unix_ns = start;
    p->end_ns = int_or(q, 6, 0);
    p->ended_by = dup_col(q, 7);
    p->exit_status = int_or(q, 8, -1);
    p->events_dropped = sqlite3_column_int64(q, 9);
    p->unmatched_frees = sqlite3_column_int64(q, 10);
    p->sample_bytes = int_or(q, 11, 0);
    p->peak_live_ns = p->peak_rss_bytes = p->peak_rss_ns = -1;
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading processes");
  for (size_t i = 0; i < r->nprocs; i++) r->procs[i].offset_ns = r->procs[i].start_unix_ns - first_start;
  if (o->pid >= 0 && r->nprocs == 0) {
    snprintf(err, errlen, "no process with pid %lld in the trace", (long long)o->pid);
    return -1;
  }
  return 0;
}

/* ---- production mode (issue 5) -------------------------------------------- */

/* Whether the trace has this table (traces before issue 5 lack heap_totals
** and recording_control). */
static int has_table(sqlite3 *db, const char *name) {
  sqlite3_stmt *q = NULL;
  int has = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1", -1, &q, NULL) ==
            SQLITE_OK;
  if (has) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    has = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return has;
}

/* Each selected image's exact totals over the window: the counters of its
** last heap_totals row at or before the window's end minus those of its last
** row before the window's start (the shim writes a row whenever they change,
** so a window without rows changed nothing), usable_live_bytes as of the
** end. Then its recording_control rows. */
static int load_mode(ft_report *r, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  int rc;
  if (has_table(r->db, "heap_totals")) {
    ft_exact_totals *base = calloc(r->nprocs ? r->nprocs : 1, sizeof *base);
    if (!base) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    if (sqlite3_prepare_v2(r->db,
                           "SELECT proc, t_ns, allocations, frees, bytes, usable_live_bytes, sampled, untracked, "
                           "thinned FROM heap_totals ORDER BY proc, t_ns",
                           -1, &q, NULL) != SQLITE_OK) {
      free(base);
      return fail_sql(r, err, errlen, "reading heap_totals");
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      int64_t k = proc_index(r, sqlite3_column_int64(q, 0));
      if (k < 0) continue;
      ft_proc_info *p = &r->procs[k];
      int64_t t = sqlite3_column_int64(q, 1) + p->offset_ns; /* trace time, as the window */
      ft_exact_totals v = {sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4),
                           sqlite3_column_int64(q, 5), sqlite3_column_int64(q, 6), sqlite3_column_int64(q, 7),
                           sqlite3_column_int64(q, 8)};
      if (r->window_hi >= 0 && t > r->window_hi) continue;
      if (t < r->window_lo) base[k] = v;
      p->totals = v; /* rows come in time order: the last one wins */
      p->has_totals = 1;
    }
    sqlite3_finalize(q);
    q = NULL;
    for (size_t k = 0; k < r->nprocs; k++) {
      ft_exact_totals *e = &r->procs[k].totals;
      e->allocations -= base[k].allocations;
      e->frees -= base[k].frees;
      e->bytes -= base[k].bytes;
      e->sampled -= base[k].sampled;
      e->untracked -= base[k].untracked;
      e->thinned -= base[k].thinned;
    }
    free(base);
    if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading heap_totals");
  }
  if (!has_table(r->db, "recording_control")) return 0;
  if (sqlite3_prepare_v2(r->db, "SELECT proc, t_ns, action, source FROM recording_control ORDER BY proc, t_ns, rowid",
                         -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading recording_control");
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t k = proc_index(r, sqlite3_column_int64(q, 0));
    if (k < 0) continue;
    ft_proc_info *p = &r->procs[k];
    ft_ctl_rec *n = realloc(p->ctl, (p->nctl + 1) * sizeof *n);
    if (!n) {
      sqlite3_finalize(q);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    p->ctl = n;
    ft_ctl_rec *c = &p->ctl[p->nctl++];
    memset(c, 0, sizeof *c);
    c->t_ns = sqlite3_column_int64(q, 1);
    const unsigned char *a = sqlite3_column_text(q, 2), *src = sqlite3_column_text(q, 3);
    snprintf(c->action, sizeof c->action, "%s", a ? (const char *)a : "?");
    snprintf(c->source, sizeof c->source, "%s", src ? (const char *)src : "");
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading recording_control");
  return 0;
}

/* Whether the trace has summary rows for every selected image. */
static int has_summaries(ft_report *r) {
  sqlite3_stmt *q = NULL;
  int64_t n = -1;
  if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM process_stats", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    n = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  if (n < 0) return 0; /* a trace from before the summary tables */
  /* Every image of a trace has a row once the importer fills them. */
  sqlite3_stmt *c = NULL;
  int64_t procs = 0;
  if (sqlite3_prepare_v2(r->db, "SELECT count(*) FROM processes", -1, &c, NULL) == SQLITE_OK &&
      sqlite3_step(c) == SQLITE_ROW)
    procs = sqlite3_column_int64(c, 0);
  sqlite3_finalize(c);
  return n == procs;
}

/* ---- stacks ------------------------------------------------------------- */

static int push_stack(ft_report *r, size_t *cap, ft_stack_stats st, char *err, size_t errlen) {
  if (r->nstacks == *cap) {
    *cap = *cap ? *cap * 2 : 256;
    ft_stack_stats *n = realloc(r->stacks, *cap * sizeof *n);
    if (!n) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    r->stacks = n;
  }
  st.site = -1;
  st.suppressed_by = -1;
  r->stacks[r->nstacks++] = st;
  return 0;
}

/* Fast path: site_stats rows of the selected images. */
static int load_site_stats(ft_report *r, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT stack_id, proc, allocations, bytes, frees, leaked, leaked_bytes, temporary, "
                         "short_lived, min_size, max_size, first_alloc_ns, last_alloc_ns, max_live_bytes, "
                         "live_at_peak_bytes, live_at_peak_count FROM site_stats ORDER BY stack_id",
                         -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading site_stats");
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    ft_stack_stats st = {0};
    st.stack_id = sqlite3_column_int64(q, 0);
    st.proc = sqlite3_column_int64(q, 1);
    if (proc_index(r, st.proc) < 0) continue;
    int64_t *f[] = {&st.allocations, &st.bytes,    &st.frees,          &st.leaked,
                    &st.leaked_bytes, &st.temporary, &st.short_lived,    &st.min_size,
                    &st.max_size,    &st.first_alloc_ns, &st.last_alloc_ns, &st.max_live_bytes,
                    &st.live_at_peak_bytes, &st.live_at_peak_count};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) *f[i] = sqlite3_column_int64(q, 2 + (int)i);
    if (push_stack(r, &cap, st, err, errlen) != 0) {
      sqlite3_finalize(q);
      return -1;
    }
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading site_stats");
  return 0;
}

/* Slow path: every stack of the selected images, statistics to be scanned. */
static int load_stack_ids(ft_report *r, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT stack_id, proc FROM stacks ORDER BY stack_id", -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading stacks");
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    ft_stack_stats st = {.stack_id = sqlite3_column_int64(q, 0), .proc = sqlite3_column_int64(q, 1)};
    if (proc_index(r, st.proc) < 0) continue;
    if (push_stack(r, &cap, st, err, errlen) != 0) {
      sqlite3_finalize(q);
      return -1;
    }
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading stacks");
  return 0;
}

static int load_process_stats(ft_report *r, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT proc, allocations, frees, bytes, leaked, leaked_bytes, temporary, short_lived, "
                         "mmap_count, mmap_bytes, peak_live_bytes, peak_live_ns, peak_live_allocations, "
                         "peak_rss_bytes, peak_rss_ns FROM process_stats",
                         -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading process_stats");
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t k = proc_index(r, sqlite3_column_int64(q, 0));
    if (k < 0) continue;
    ft_proc_info *p = &r->procs[k];
    int64_t *f[] = {&p->allocations, &p->frees,      &p->bytes,      &p->leaked,    &p->leaked_bytes,
                    &p->temporary,   &p->short_lived, &p->mmap_count, &p->mmap_bytes, &p->peak_live_bytes};
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) *f[i] = sqlite3_column_int64(q, 1 + (int)i);
    p->peak_live_ns = int_or(q, 11, -1);
    p->peak_live_allocations = sqlite3_column_int64(q, 12);
    p->peak_rss_bytes = int_or(q, 13, -1);
    p->peak_rss_ns = int_or(q, 14, -1);
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading process_stats");
  return 0;
}

/* Fast path: the per-stack histograms. */
static int load_hists(ft_report *r, char *err, size_t errlen) {
  static const char *const sql[] = {"SELECT stack_id, bucket, count, bytes FROM site_size_hist",
                                    "SELECT stack_id, bucket, count, 0 FROM site_lifetime_hist"};
  for (int life = 0; life < 2; life++) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(r->db, sql[life], -1, &q, NULL) != SQLITE_OK)
      return fail_sql(r, err, errlen, "reading histograms");
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      int64_t k = ft_report_stack_index(r, sqlite3_column_int64(q, 0));
      int b = sqlite3_column_int(q, 1);
      if (k < 0 || b < 0 || b >= FT_HIST_BUCKETS) continue;
      ft_report_add_hist(r, (size_t)k, life, b, sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3));
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading histograms");
  }
  return 0;
}

/* ---- sites ---------------------------------------------------------------- */

/* The grouping key of a stack: its site's key, or with --stacks every frame. */
static char *stack_key(const ft_report *r, const ft_stack_info *st) {
  if (!st) return strdup("(unknown stack)");
  if (!r->opts->stacks) return strdup(st->key);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  char lb[4096];
  fprintf(f, "%lld|", (long long)st->nframes);
  for (int i = 0; i < st->nframes; i++) fprintf(f, "%s\n", ft_frame_label(&st->frames[i], lb, sizeof lb));
  fclose(f);
  return buf;
}

static uint64_t hash_key(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Map every stack to a site, creating the sites. */
static int build_sites(ft_report *r, char *err, size_t errlen) {
  size_t cap = 1;
  while (cap < 2 * r->nstacks + 2) cap *= 2;
  int *slot = malloc(cap * sizeof *slot);
  r->sites = calloc(r->nstacks ? r->nstacks : 1, sizeof *r->sites);
  if (!slot || !r->sites) {
    free(slot);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < cap; i++) slot[i] = -1;
  for (size_t i = 0; i < r->nstacks; i++) {
    const ft_stack_info *info = ft_sites_stack(r->sites_db, r->stacks[i].stack_id);
    char *key = stack_key(r, info);
    if (!key) {
      free(slot);
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    size_t j = hash_key(key) & (cap - 1);
    while (slot[j] >= 0 && strcmp(r->sites[slot[j]].key, key) != 0) j = (j + 1) & (cap - 1);
    if (slot[j] < 0) {
      slot[j] = (int)r->nsites;
      ft_site *s = &r->sites[r->nsites++];
      s->key = key;
      s->stack = info;
    } else {
      free(key);
    }
    r->stacks[i].site = slot[j];
  }
  free(slot);
  return 0;
}

/* Add the stacks up into their sites; suppressions decide per stack. */
static void aggregate(ft_report *r) {
  int64_t *best = calloc(r->nsites ? r->nsites : 1, sizeof *best); /* allocations of the representative */
  for (size_t i = 0; i < r->nstacks; i++) {
    ft_stack_stats *st = &r->stacks[i];
    const ft_proc_info *p = &r->procs[proc_index(r, st->proc)];
    ft_site *s = &r->sites[st->site];
    const ft_stack_info *info = ft_sites_stack(r->sites_db, st->stack_id);
    if (st->allocations > 0) {
      /* Sites compare times across images: make them trace times. */
      int64_t first = st->first_alloc_ns + p->offset_ns, last = st->last_alloc_ns + p->offset_ns;
      if (s->allocations == 0 || first < s->first_alloc_ns) s->first_alloc_ns = first;
      if (s->allocations == 0 || last > s->last_alloc_ns) s->last_alloc_ns = last;
      if (s->allocations == 0 || st->min_size < s->min_size) s->min_size = st->min_size;
      if (st->max_size > s->max_size) s->max_size = st->max_size;
    }
    s->nstacks++;
    s->allocations += st->allocations;
    s->bytes += st->bytes;
    s->frees += st->frees;
    s->temporary += st->temporary;
    s->short_lived += st->short_lived;
    s->max_live_bytes += st->max_live_bytes;
    if (r->peak_proc && st->proc == r->peak_proc->proc) {
      s->peak_bytes += st->live_at_peak_bytes;
      s->peak_count += st->live_at_peak_count;
    }
    st->suppressed_by = st->leaked > 0 && info ? ft_supp_find(r, info) : -1;
    if (st->suppressed_by >= 0) {
      s->suppressed += st->leaked;
      s->suppressed_bytes += st->leaked_bytes;
      r->supp_count[st->suppressed_by] += st->leaked;
      r->supp_bytes[st->suppressed_by] += st->leaked_bytes;
      r->suppressed += st->leaked;
      r->suppressed_bytes += st->leaked_bytes;
    } else {
      s->leaked += st->leaked;
      s->leaked_bytes += st->leaked_bytes;
    }
    if (best && info && (s->stack == NULL || st->allocations > best[st->site])) {
      best[st->site] = st->allocations;
      s->stack = info;
    }
  }
  free(best);
  for (size_t i = 0; i < r->nsites; i++) {
    ft_site *s = &r->sites[i];
    double span_s = (double)(s->last_alloc_ns - s->first_alloc_ns) / 1e9;
    /* n allocations over their span have n - 1 intervals: the rate is one
    ** over the mean interval, and a single allocation has none. */
    s->rate = s->allocations >= 2 && span_s > 0 ? (double)(s->allocations - 1) / span_s : 0;
    s->bytes_rate = s->allocations > 0 ? s->rate * (double)s->bytes / (double)s->allocations : 0;
    s->turnover = s->max_live_bytes > 0 ? (double)s->bytes / (double)s->max_live_bytes : 0;
  }
}

/* ---- rankings ------------------------------------------------------------- */

typedef int (*site_cmp)(const ft_site *a, const ft_site *b);

static const ft_report *sort_ctx;
static site_cmp sort_cmp;

/* Ties are broken by label, then key, so every run prints the same order. */
static int cmp_index(const void *a, const void *b) {
  const ft_site *x = &sort_ctx->sites[*(const size_t *)a], *y = &sort_ctx->sites[*(const size_t *)b];
  int c = sort_cmp(x, y);
  if (c) return c;
  c = strcmp(ft_site_label(x), ft_site_label(y));
  return c ? c : strcmp(x->key, y->key);
}

#define DESC(a, b) ((a) > (b) ? -1 : (a) < (b) ? 1 : 0)

static int by_rate(const ft_site *a, const ft_site *b) {
  int c = DESC(a->rate, b->rate);
  return c ? c : DESC(a->allocations, b->allocations);
}
static int by_leak(const ft_site *a, const ft_site *b) {
  int c = DESC(a->leaked_bytes, b->leaked_bytes);
  return c ? c : DESC(a->leaked, b->leaked);
}
static int by_peak(const ft_site *a, const ft_site *b) {
  int c = DESC(a->peak_bytes, b->peak_bytes);
  return c ? c : DESC(a->peak_count, b->peak_count);
}
static int by_allocs(const ft_site *a, const ft_site *b) {
  int c = DESC(a->allocations, b->allocations);
  return c ? c : DESC(a->bytes, b->bytes);
}

static size_t *rank(ft_report *r, int (*keep)(const ft_report *, const ft_site *), site_cmp cmp, size_t *n) {
  size_t *idx = malloc((r->nsites ? r->nsites : 1) * sizeof *idx);
  *n = 0;
  if (!idx) return NULL;
  for (size_t i = 0; i < r->nsites; i++)
    if (keep(r, &r->sites[i])) idx[(*n)++] = i;
  /* qsort has no context argument in C11: the comparator reads these. */
  sort_ctx = r;
  sort_cmp = cmp;
  qsort(idx, *n, sizeof *idx, cmp_index);
  return idx;
}

static int keep_churn(const ft_report *r, const ft_site *s) {
  return s->allocations > 0 && s->allocations >= r->opts->min_allocs;
}
static int keep_leak(const ft_report *r, const ft_site *s) { return (void)r, s->leaked > 0; }
static int keep_peak(const ft_report *r, const ft_site *s) { return (void)r, s->peak_bytes > 0 || s->peak_count > 0; }
static int keep_alloc(const ft_report *r, const ft_site *s) { return (void)r, s->allocations > 0; }

/* ---- totals and the chart -------------------------------------------------- */

static void totals(ft_report *r) {
  int64_t first = INT64_MAX, last = INT64_MIN;
  for (size_t i = 0; i < r->nprocs; i++) {
    ft_proc_info *p = &r->procs[i];
    r->allocations += p->allocations;
    r->frees += p->frees;
    r->bytes += p->bytes;
    r->leaked += p->leaked;
    r->leaked_bytes += p->leaked_bytes;
    r->temporary += p->temporary;
    r->short_lived += p->short_lived;
    r->mmap_count += p->mmap_count;
    r->mmap_bytes += p->mmap_bytes;
    r->events_dropped += p->events_dropped;
    r->unmatched_frees += p->unmatched_frees;
    if (p->sample_bytes > 0) {
      r->sample_bytes = r->nsampled == 0 || r->sample_bytes == p->sample_bytes ? p->sample_bytes : -1;
      r->nsampled++;
    }
    if (p->has_totals) {
      r->ntotals++;
      r->totals.allocations += p->totals.allocations;
      r->totals.frees += p->totals.frees;
      r->totals.bytes += p->totals.bytes;
      r->totals.usable_live_bytes += p->totals.usable_live_bytes;
      r->totals.sampled += p->totals.sampled;
      r->totals.untracked += p->totals.untracked;
      r->totals.thinned += p->totals.thinned;
    }
    r->nctl += (int64_t)p->nctl;
    if (p->offset_ns < first) first = p->offset_ns;
    if (p->offset_ns + p->end_ns > last) last = p->offset_ns + p->end_ns;
    if (p->peak_live_ns >= 0 && (!r->peak_proc || p->peak_live_bytes > r->peak_proc->peak_live_bytes)) r->peak_proc = p;
    if (p->peak_rss_bytes >= 0 && (!r->rss_proc || p->peak_rss_bytes > r->rss_proc->peak_rss_bytes)) r->rss_proc = p;
  }
  if (r->nprocs == 0) return;
  if (first < r->window_lo) first = r->window_lo;
  if (r->window_hi >= 0 && last > r->window_hi) last = r->window_hi;
  r->runtime_ns = last > first ? last - first : 0;
}

/* Columns of the peak image's chart over the window (own time base). */
static void chart_layout(const ft_report *r, const ft_proc_info *p, int64_t *lo, int64_t *w) {
  int64_t clo = r->window_lo - p->offset_ns, chi = p->end_ns + 1;
  if (clo < 0) clo = 0;
  if (r->window_hi >= 0 && r->window_hi - p->offset_ns < chi) chi = r->window_hi - p->offset_ns;
  *lo = clo;
  *w = chi > clo ? (chi - clo + FT_CHART_SLICES - 1) / FT_CHART_SLICES : 0;
}

/* Fast path: the chart from heap_timeline (each point the first maximum of
** its import slice, so a column's maximum is that of its points). */
static int chart_from_timeline(ft_report *r, ft_proc_info *p, char *err, size_t errlen) {
  chart_layout(r, p, &p->chart_lo, &p->chart_w);
  p->has_chart = p->chart_w > 0;
  if (!p->has_chart) return 0;
  for (int i = 0; i < FT_CHART_SLICES; i++) p->chart_live[i] = -1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db, "SELECT t_ns, live_bytes FROM heap_timeline WHERE proc = ?1 ORDER BY t_ns", -1, &q,
                         NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading heap_timeline");
  sqlite3_bind_int64(q, 1, p->proc);
  int rc, last_col = -1;
  int64_t last = 0;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t t = sqlite3_column_int64(q, 0), b = sqlite3_column_int64(q, 1);
    if (t < p->chart_lo) continue;
    int64_t k = (t - p->chart_lo) / p->chart_w;
    if (k >= FT_CHART_SLICES) k = FT_CHART_SLICES - 1;
    /* A column without points kept the state of the point before it. */
    while (last_col + 1 < k) p->chart_live[++last_col] = last;
    last_col = (int)k;
    if (b > p->chart_live[k]) p->chart_live[k] = b;
    last = b;
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading heap_timeline");
  return 0;
}

/* The chart of the peak image with the RSS samples beside it. */
static int build_chart(ft_report *r, char *err, size_t errlen) {
  ft_proc_info *p = (ft_proc_info *)r->peak_proc;
  if (!p || !p->has_chart) return 0;
  r->nchart = FT_CHART_SLICES;
  for (int i = 0; i < FT_CHART_SLICES; i++) {
    r->chart[i].t0_ns = p->chart_lo + (int64_t)i * p->chart_w;
    r->chart[i].t1_ns = r->chart[i].t0_ns + p->chart_w;
    r->chart[i].live_bytes = p->chart_live[i];
    r->chart[i].rss_bytes = -1;
  }
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(r->db,
                         "SELECT t_ns, rss_bytes FROM process_samples WHERE proc = ?1 AND t_ns >= ?2 AND t_ns < ?3",
                         -1, &q, NULL) != SQLITE_OK)
    return fail_sql(r, err, errlen, "reading process_samples");
  sqlite3_bind_int64(q, 1, p->proc);
  sqlite3_bind_int64(q, 2, p->chart_lo);
  sqlite3_bind_int64(q, 3, p->chart_lo + FT_CHART_SLICES * p->chart_w);
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t k = (sqlite3_column_int64(q, 0) - p->chart_lo) / p->chart_w;
    assert(k >= 0 && k < FT_CHART_SLICES);
    if (sqlite3_column_int64(q, 1) > r->chart[k].rss_bytes) r->chart[k].rss_bytes = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  if (rc != SQLITE_DONE) return fail_sql(r, err, errlen, "reading process_samples");
  return 0;
}

/* ---- entry point ---------------------------------------------------------- */

int ft_report_load(ft_report *r, sqlite3 *db, const ft_report_opts *o, char *err, size_t errlen) {
  memset(r, 0, sizeof *r);
  r->opts = o;
  r->db = db;
  r->window_lo = o->since_ns > 0 ? o->since_ns : 0;
  r->window_hi = o->until_ns;
  if (load_meta(r, err, errlen) != 0 || load_procs(r, err, errlen) != 0 || load_mode(r, err, errlen) != 0) return -1;
  /* meta `command` is written when the import ends; a trace still being
  ** recorded (record --live) names the first process's command line. */
  if (!r->command && r->nprocs > 0 && r->procs[0].cmdline && !(r->command = strdup(r->procs[0].cmdline))) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int64_t trace_threshold = r->short_lived_ns;
  if (o->short_lived_ns >= 0) r->short_lived_ns = o->short_lived_ns;
  else if (r->short_lived_ns < 0) r->short_lived_ns = 1000000; /* the importer's default */
  if (o->suppressions && ft_supp_load(r, o->suppressions, err, errlen) != 0) return -1;
  int windowed = o->since_ns >= 0 || o->until_ns >= 0;
  int fast = !windowed && has_summaries(r);
  r->exact_source = !fast;
  if (!(r->sites_db = ft_sites_load(db, o->skip, o->nskip, err, errlen))) return -1;
  if ((fast ? load_site_stats(r, err, errlen) : load_stack_ids(r, err, errlen)) != 0) return -1;
  if (build_sites(r, err, errlen) != 0) return -1;
  if (fast) {
    if (load_process_stats(r, err, errlen) != 0 || load_hists(r, err, errlen) != 0) return -1;
    if (r->short_lived_ns != trace_threshold && ft_report_scan(r, 1, err, errlen) != 0) return -1;
  } else if (ft_report_scan(r, 0, err, errlen) != 0) {
    return -1;
  }
  totals(r);    /* first: the sites' peak columns need the peak image */
  aggregate(r);
  /* Leaks hidden by suppressions are not leaks of the report. */
  r->leaked -= r->suppressed;
  r->leaked_bytes -= r->suppressed_bytes;
  if (fast && r->peak_proc && chart_from_timeline(r, (ft_proc_info *)r->peak_proc, err, errlen) != 0) return -1;
  if (build_chart(r, err, errlen) != 0) return -1;
  r->churn_rank = rank(r, keep_churn, by_rate, &r->nchurn);
  r->leak_rank = rank(r, keep_leak, by_leak, &r->nleak);
  r->peak_rank = rank(r, keep_peak, by_peak, &r->npeak);
  r->size_rank = rank(r, keep_alloc, by_allocs, &r->nsize);
  if (!r->churn_rank || !r->leak_rank || !r->peak_rank || !r->size_rank) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  /* Last: its attribution and findings use the sites and rankings. */
  if ((o->sections & FT_SEC_FRAG) || o->max_frag_ratio >= 0) {
    if (ft_report_frag_load(r, &r->frag, err, errlen) != 0) return -1;
    if (o->max_frag_ratio >= 0 && r->frag->nprocs == 0) {
      /* A gate that cannot be judged must not pass silently. */
      snprintf(err, errlen, "--max-frag-ratio: the trace has no RSS samples of the selected processes (recorded with "
                            "--sample-ms 0, or a `fragtrace sample` file)");
      return -1;
    }
  }
  return 0;
}

void ft_report_free(ft_report *r) {
  for (size_t i = 0; i < r->nprocs; i++) {
    free(r->procs[i].exe);
    free(r->procs[i].cmdline);
    free(r->procs[i].ended_by);
    free(r->procs[i].ctl);
  }
  free(r->procs);
  for (size_t i = 0; i < r->nsites; i++) {
    free((char *)r->sites[i].key);
    free(r->sites[i].life_hist);
    free(r->sites[i].size_count);
    free(r->sites[i].size_bytes);
  }
  free(r->sites);
  free(r->stacks);
  free(r->churn_rank);
  free(r->leak_rank);
  free(r->peak_rank);
  free(r->size_rank);
  for (int i = 0; i < r->nsupp; i++) free(r->supp_patterns[i]);
  free(r->supp_patterns);
  free(r->supp_count);
  free(r->supp_bytes);
  free(r->command);
  free(r->fragtrace_version);
  ft_sites_free(r->sites_db);
  ft_report_frag_free(r->frag);
  memset(r, 0, sizeof *r);
}
