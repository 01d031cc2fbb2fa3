/*
** ft_sources.c — the sampler's text sources on their own schedules (see
** ft_sources.h). Each snapshot is the file's raw text behind its time: the
** shim stays dumb and the importer parses (reporter/ft_procparse.c).
*/
#include "ft_sources.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "ft_prim.h"

/* One text source: its chunk type and file (under proc_dir, or absolute). */
typedef struct ft_src_desc {
  uint32_t id;
  uint32_t chunk;
  const char *name; /* relative to proc_dir; absolute when it starts with '/' */
} ft_src_desc;

static const ft_src_desc descs[] = {
    {FT_SRC_BUDDYINFO, FT_CHUNK_BUDDYINFO, "buddyinfo"},
    {FT_SRC_PAGETYPEINFO, FT_CHUNK_PAGETYPEINFO, "pagetypeinfo"},
    {FT_SRC_MEMINFO, FT_CHUNK_MEMINFO, "meminfo"},
    {FT_SRC_VMSTAT, FT_CHUNK_VMSTAT, "vmstat"},
    {FT_SRC_SLABINFO, FT_CHUNK_SLABINFO, "slabinfo"},
    /* The process's own memory is always the real /proc: the override is
    ** for the host-wide files only. */
    {FT_SRC_SMAPS, FT_CHUNK_SMAPS, "/proc/self/smaps_rollup"},
};
#define FT_NDESCS (sizeof descs / sizeof descs[0])

void ft_sources_init(ft_sources *s, const ft_config *cfg, int with_smaps, uint64_t start_mono) {
  memset(s, 0, sizeof *s);
  s->interval_ms[FT_SRC_BUDDYINFO] = (uint32_t)cfg->sample_ms;
  s->interval_ms[FT_SRC_PAGETYPEINFO] = (uint32_t)cfg->pagetypeinfo_ms;
  s->interval_ms[FT_SRC_MEMINFO] = (uint32_t)cfg->sys_sample_ms;
  s->interval_ms[FT_SRC_VMSTAT] = (uint32_t)cfg->sys_sample_ms;
  s->interval_ms[FT_SRC_SLABINFO] = (uint32_t)cfg->slabinfo_ms;
  s->interval_ms[FT_SRC_SMAPS] = with_smaps ? (uint32_t)cfg->smaps_ms : 0;
  size_t n = strnlen(cfg->proc_dir, sizeof s->proc_dir - 1);
  memcpy(s->proc_dir, cfg->proc_dir, n);
  s->proc_dir[n] = 0;
  s->start_mono = start_mono;
  for (size_t i = 0; i <= FT_SRC_MAX; i++) s->last_ns[i] = UINT64_MAX;
}

/* Whether source id is on, alive and of the kind asked for. */
static int final_kind(const ft_sources *s, uint32_t id, int process) {
  return s->interval_ms[id] && !s->dead[id] && (id == FT_SRC_SMAPS) == (process != 0);
}

int ft_sources_stale(const ft_sources *s, uint64_t now_mono, uint64_t fresh_ns, int process) {
  uint64_t now = now_mono - s->start_mono;
  for (size_t i = 0; i < FT_NDESCS; i++) {
    uint32_t id = descs[i].id;
    if (final_kind(s, id, process) && (s->last_ns[id] == UINT64_MAX || now - s->last_ns[id] > fresh_ns)) return 1;
  }
  return 0;
}

void ft_sources_due_now(ft_sources *s, int process) {
  for (size_t i = 0; i < FT_NDESCS; i++)
    if (final_kind(s, descs[i].id, process)) s->next_ns[descs[i].id] = 0;
}

void ft_sources_fini(ft_sources *s) {
  ft_os_free(s->buf, s->cap);
  s->buf = NULL;
  s->cap = 0;
}

void ft_sources_note(ft_src_sink sink, void *ctx, uint32_t source, uint32_t status, int err,
                     uint32_t interval_ms, const char *detail) {
  ft_source_note n = {source, status, (int32_t)err, interval_ms};
  sink(ctx, FT_CHUNK_SOURCE, &n, sizeof n, detail, detail ? strlen(detail) : 0);
}

uint64_t ft_sources_advance(uint64_t *next, uint64_t now, uint64_t interval_ns) {
  *next += interval_ns;
  if (*next <= now) *next = now + interval_ns; /* fell behind: do not burst */
  return *next;
}

/* Read the whole file at path into s->buf, growing it (a file that fills
** the buffer may have been cut). Returns the length, or -1 with errno set. */
static ssize_t read_whole(ft_sources *s, const char *path) {
  if (!s->buf) {
    s->cap = 64 * 1024;
    s->buf = ft_os_alloc(s->cap);
    if (!s->buf) {
      s->cap = 0;
      errno = ENOMEM;
      return -1;
    }
  }
  for (;;) {
    ssize_t n = ft_read_small_file(path, s->buf, s->cap);
    if (n < 0 || (size_t)n + 1 < s->cap) return n;
    if (s->cap >= (size_t)64 << 20) return n; /* absurd size: keep what fits */
    size_t cap = s->cap * 4;
    char *nb = ft_os_alloc(cap);
    if (!nb) return n;
    ft_os_free(s->buf, s->cap);
    s->buf = nb;
    s->cap = cap;
  }
}

/* proc_dir "/" name, or name itself when absolute, into out[cap]. */
static void source_path(const ft_sources *s, const char *name, char *out, size_t cap) {
  size_t a = 0, b = strlen(name);
  if (name[0] != '/') a = strlen(s->proc_dir);
  if (a + 1 + b + 1 > cap) b = 0; /* cannot happen with FT_PATH_MAX paths; read "" and fail */
  memcpy(out, s->proc_dir, a);
  if (a) out[a++] = '/';
  memcpy(out + a, name, b);
  out[a + b] = 0;
}

/* Read one source now and sink its snapshot (and the first-time note). */
static void read_source(ft_sources *s, const ft_src_desc *d, ft_src_sink sink, void *ctx) {
  char path[FT_PATH_MAX + 64];
  source_path(s, d->name, path, sizeof path);
  ssize_t n = read_whole(s, path);
  if (n < 0 || (n == 0 && d->id != FT_SRC_SMAPS)) {
    /* A /proc file that is there is never empty; an empty one is as good as
    ** unreadable (e.g. a kernel that hides it). */
    int err = n < 0 ? errno : 0;
    if (!s->noted[d->id]) {
      ft_sources_note(sink, ctx, d->id, err == ENOENT || err == ENOTDIR ? FT_SRCST_MISSING : FT_SRCST_UNREADABLE,
                      err, s->interval_ms[d->id], path);
      s->noted[d->id] = 1;
      s->dead[d->id] = 1; /* it will not appear later: stop paying for the attempt */
    }
    return;
  }
  if (!s->noted[d->id]) {
    ft_sources_note(sink, ctx, d->id, FT_SRCST_OK, 0, s->interval_ms[d->id], path);
    s->noted[d->id] = 1;
  }
  uint64_t t = ft_now_ns() - s->start_mono;
  s->last_ns[d->id] = t;
  sink(ctx, d->chunk, &t, sizeof t, s->buf, (size_t)n);
}

uint64_t ft_sources_run(ft_sources *s, uint64_t now_mono, ft_src_sink sink, void *ctx) {
  uint64_t soonest = UINT64_MAX;
  uint64_t now = now_mono - s->start_mono;
  for (size_t i = 0; i < FT_NDESCS; i++) {
    const ft_src_desc *d = &descs[i];
    assert(d->id <= FT_SRC_MAX);
    uint64_t iv = (uint64_t)s->interval_ms[d->id] * 1000000u;
    if (!iv) {
      if (!s->noted[d->id]) {
        ft_sources_note(sink, ctx, d->id, FT_SRCST_OFF, 0, 0, NULL);
        s->noted[d->id] = 1;
      }
      continue;
    }
    if (s->dead[d->id]) continue;
    if (now >= s->next_ns[d->id]) {
      read_source(s, d, sink, ctx);
      if (s->dead[d->id]) continue;
      ft_sources_advance(&s->next_ns[d->id], now, iv);
    }
    if (s->next_ns[d->id] < soonest) soonest = s->next_ns[d->id];
  }
  return soonest == UINT64_MAX ? UINT64_MAX : soonest + s->start_mono;
}
