/*
** ft_export_pprof.c — pprof heap profile writer (see ft_export_pprof.h).
**
** profile.proto field numbers used (perftools.profiles):
**   Profile: 1 sample_type, 2 sample, 3 mapping, 4 location, 5 function,
**            6 string_table, 9 time_nanos, 10 duration_nanos,
**            11 period_type, 12 period, 13 comment, 14 default_sample_type
**   ValueType: 1 type, 2 unit          Label: 1 key, 3 num
**   Sample: 1 location_id (packed), 2 value (packed), 3 label
**   Mapping: 1 id, 2 memory_start, 3 memory_limit, 4 file_offset,
**            5 filename, 6 build_id, 7 has_functions, 8 has_filenames,
**            9 has_line_numbers, 10 has_inline_frames
**   Location: 1 id, 2 mapping_id, 3 address, 4 line
**   Line: 1 function_id, 2 line        Function: 1 id, 2 name, 3 system_name, 4 filename
** Strings are indexes into string_table, whose entry 0 must be "".
** Location ids are per (image, return address), so one profile can hold
** several processes whose addresses overlap.
*/
#include "ft_export_pprof.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ft_proto.h"

/* ---- hash tables -------------------------------------------------------- */

static uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x7f4a7c159e3779b9ull + (a << 6) + (a >> 2));
  h ^= h >> 31;
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 29);
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* (k1, k2) -> nonzero id, open addressing. */
typedef struct idmap {
  uint64_t *k1, *k2, *v;
  size_t cap, used;
} idmap;

static uint64_t idmap_get(const idmap *m, uint64_t k1, uint64_t k2) {
  if (!m->cap) return 0;
  for (size_t i = mix(k1, k2) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    if (!m->v[i]) return 0;
    if (m->k1[i] == k1 && m->k2[i] == k2) return m->v[i];
  }
}

static int idmap_put(idmap *m, uint64_t k1, uint64_t k2, uint64_t v) {
  assert(v != 0);
  if ((m->used + 1) * 2 > m->cap) {
    idmap n = {.cap = m->cap ? m->cap * 2 : 1024};
    n.k1 = calloc(n.cap, sizeof *n.k1);
    n.k2 = calloc(n.cap, sizeof *n.k2);
    n.v = calloc(n.cap, sizeof *n.v);
    if (!n.k1 || !n.k2 || !n.v) {
      free(n.k1);
      free(n.k2);
      free(n.v);
      return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->v[i]) idmap_put(&n, m->k1[i], m->k2[i], m->v[i]);
    free(m->k1);
    free(m->k2);
    free(m->v);
    *m = n;
  }
  size_t i = mix(k1, k2) & (m->cap - 1);
  while (m->v[i]) i = (i + 1) & (m->cap - 1);
  m->k1[i] = k1;
  m->k2[i] = k2;
  m->v[i] = v;
  m->used++;
  return 0;
}

static void idmap_free(idmap *m) {
  free(m->k1);
  free(m->k2);
  free(m->v);
}

/* ---- the profile being built ------------------------------------------- */

typedef struct prof {
  ft_pb out;      /* the Profile message, strings last */
  ft_pb strings;  /* string_table entries */
  char **str;     /* for equality in the string index */
  size_t nstr, capstr;
  idmap str_ix;   /* (hash, 0) chains -> index + 1, see str_index */
  idmap funcs;    /* (name, file) string indexes -> function id */
  idmap locs;     /* (proc, ip) -> location id */
  uint64_t nfunc, nloc;
  ft_pb tmp, tmp2;
} prof;

/* Index of s in the string table, added when new; -1 when out of memory.
** The idmap is keyed by (hash, n) for the n-th string with that hash. */
static int64_t str_index(prof *p, const char *s) {
  if (!s) s = "";
  uint64_t h = hash_str(s);
  for (uint64_t n = 0;; n++) {
    uint64_t v = idmap_get(&p->str_ix, h, n);
    if (!v) break;
    if (!strcmp(p->str[v - 1], s)) return (int64_t)v - 1;
    if (n > 1000000) return -1;
  }
  if (p->nstr == p->capstr) {
    size_t cap = p->capstr ? p->capstr * 2 : 256;
    char **n = realloc(p->str, cap * sizeof *n);
    if (!n) return -1;
    p->str = n;
    p->capstr = cap;
  }
  char *d = strdup(s);
  if (!d) return -1;
  uint64_t n = 0;
  while (idmap_get(&p->str_ix, h, n)) n++;
  if (idmap_put(&p->str_ix, h, n, p->nstr + 1) != 0) {
    free(d);
    return -1;
  }
  p->str[p->nstr] = d;
  ft_pb_string(&p->strings, 6, s);
  return (int64_t)p->nstr++;
}

static void value_type(prof *p, uint32_t field, const char *type, const char *unit, int *oom) {
  int64_t t = str_index(p, type), u = str_index(p, unit);
  if (t < 0 || u < 0) {
    *oom = 1;
    return;
  }
  ft_pb_reset(&p->tmp);
  ft_pb_varint(&p->tmp, 1, (uint64_t)t);
  ft_pb_varint(&p->tmp, 2, (uint64_t)u);
  ft_pb_message(&p->out, field, &p->tmp);
}

/* Function id of (name, file), written to the profile when new; 0 on oom. */
static uint64_t function_id(prof *p, const char *name, const char *file) {
  int64_t n = str_index(p, name), f = str_index(p, file);
  if (n < 0 || f < 0) return 0;
  uint64_t id = idmap_get(&p->funcs, (uint64_t)n, (uint64_t)f);
  if (id) return id;
  id = ++p->nfunc;
  if (idmap_put(&p->funcs, (uint64_t)n, (uint64_t)f, id) != 0) return 0;
  ft_pb_reset(&p->tmp);
  ft_pb_varint(&p->tmp, 1, id);
  ft_pb_varint(&p->tmp, 2, (uint64_t)n);
  ft_pb_varint(&p->tmp, 3, (uint64_t)n);
  if (f) ft_pb_varint(&p->tmp, 4, (uint64_t)f);
  ft_pb_message(&p->out, 5, &p->tmp);
  return id;
}

/* Mapping ids: one per file of an image, [lowest start, highest end). */
static int write_mappings(prof *p, ft_xtrace *x, uint64_t **map_id) {
  size_t n;
  const ft_xmap *m = ft_xtrace_mappings(x, &n);
  uint64_t *ids = calloc(n ? n : 1, sizeof *ids);
  if (!ids) return -1;
  uint64_t next = 0;
  for (size_t i = 0; i < n; i++) {
    if (ids[i]) continue;
    ids[i] = ++next;
    uint64_t lo = m[i].start, hi = m[i].end, off = m[i].file_offset;
    for (size_t j = i + 1; j < n && m[j].proc == m[i].proc; j++)
      if (!strcmp(m[j].path, m[i].path)) {
        ids[j] = ids[i];
        if (m[j].end > hi) hi = m[j].end;
      }
    int64_t file = str_index(p, m[i].path), bid = str_index(p, m[i].build_id);
    if (file < 0 || bid < 0) {
      free(ids);
      return -1;
    }
    ft_pb_reset(&p->tmp);
    ft_pb_varint(&p->tmp, 1, ids[i]);
    ft_pb_varint(&p->tmp, 2, lo);
    ft_pb_varint(&p->tmp, 3, hi);
    ft_pb_varint(&p->tmp, 4, off);
    ft_pb_varint(&p->tmp, 5, (uint64_t)file);
    if (bid) ft_pb_varint(&p->tmp, 6, (uint64_t)bid);
    /* Symbolized already: pprof must not look for the binaries. */
    for (uint32_t f = 7; f <= 10; f++) ft_pb_varint(&p->tmp, f, 1);
    ft_pb_message(&p->out, 3, &p->tmp);
  }
  *map_id = ids;
  return 0;
}

/* Location id of the physical frame whose logical frames are f[0..n)
** (level 0 first); written to the profile when new. 0 on oom. */
static uint64_t location_id(prof *p, ft_xtrace *x, int64_t proc, const ft_xframe *f, size_t n,
                            const uint64_t *map_id) {
  uint64_t id = idmap_get(&p->locs, (uint64_t)proc, f[0].ip);
  if (id) return id;
  id = ++p->nloc;
  if (idmap_put(&p->locs, (uint64_t)proc, f[0].ip, id) != 0) return 0;
  size_t nmaps;
  const ft_xmap *maps = ft_xtrace_mappings(x, &nmaps);
  const ft_xmap *m = ft_xtrace_mapping_of(x, proc, f[0].ip);
  uint64_t fids[256];
  if (n > sizeof fids / sizeof *fids) n = sizeof fids / sizeof *fids;
  for (size_t i = 0; i < n; i++) {
    char buf[1024];
    if (!(fids[i] = function_id(p, ft_xframe_name(x, proc, &f[i], buf, sizeof buf), f[i].file))) return 0;
  }
  ft_pb_reset(&p->tmp);
  ft_pb_varint(&p->tmp, 1, id);
  if (m) ft_pb_varint(&p->tmp, 2, map_id[m - maps]);
  /* A return address points after the call; pprof's addresses of callers
  ** are inside the call instruction. */
  if (f[0].ip) ft_pb_varint(&p->tmp, 3, f[0].ip - 1);
  for (size_t i = 0; i < n; i++) {
    ft_pb_reset(&p->tmp2);
    ft_pb_varint(&p->tmp2, 1, fids[i]);
    if (f[i].line > 0) ft_pb_varint(&p->tmp2, 2, (uint64_t)f[i].line);
    ft_pb_message(&p->tmp, 4, &p->tmp2);
  }
  ft_pb_message(&p->out, 4, &p->tmp);
  return id;
}

/* The location of samples without a call stack. */
static uint64_t no_stack_location(prof *p) {
  uint64_t id = idmap_get(&p->locs, UINT64_MAX, 0);
  if (id) return id;
  uint64_t fid = function_id(p, "(no stack)", NULL);
  if (!fid) return 0;
  id = ++p->nloc;
  if (idmap_put(&p->locs, UINT64_MAX, 0, id) != 0) return 0;
  ft_pb_reset(&p->tmp);
  ft_pb_varint(&p->tmp, 1, id);
  ft_pb_reset(&p->tmp2);
  ft_pb_varint(&p->tmp2, 1, fid);
  ft_pb_message(&p->tmp, 4, &p->tmp2);
  ft_pb_message(&p->out, 4, &p->tmp);
  return id;
}

/* gzip the encoded profile into out. */
static int write_gzip(const ft_pb *a, const ft_pb *b, FILE *out, char *err, size_t errlen) {
  z_stream z;
  memset(&z, 0, sizeof z);
  /* windowBits 15 + 16: a gzip header and trailer instead of zlib's */
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    snprintf(err, errlen, "zlib: cannot initialize");
    return -1;
  }
  unsigned char buf[65536];
  const ft_pb *parts[2] = {a, b};
  int ret = 0;
  for (int i = 0; i < 2 && ret == 0; i++) {
    z.next_in = parts[i]->data;
    z.avail_in = (uInt)parts[i]->len;
    assert(parts[i]->len <= UINT32_MAX);
    int flush = i == 1 ? Z_FINISH : Z_NO_FLUSH;
    int zr;
    do {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      zr = deflate(&z, flush);
      if (zr == Z_STREAM_ERROR) {
        snprintf(err, errlen, "zlib: compression failed");
        ret = -1;
        break;
      }
      size_t have = sizeof buf - z.avail_out;
      if (have && fwrite(buf, 1, have, out) != have) {
        snprintf(err, errlen, "write error");
        ret = -1;
        break;
      }
    } while (z.avail_out == 0 || (flush == Z_FINISH && zr != Z_STREAM_END));
  }
  deflateEnd(&z);
  return ret;
}

int ft_export_pprof(ft_xtrace *x, FILE *out, char *err, size_t errlen) {
  prof p;
  memset(&p, 0, sizeof p);
  size_t nstacks, nimg;
  const ft_stack_info *stacks = ft_xtrace_stacks(x, &nstacks);
  const ft_xstack *st = ft_xtrace_stack_stats(x);
  const ft_ximage *img = ft_xtrace_images(x, &nimg);
  uint64_t *map_id = NULL, *locs = NULL;
  size_t caplocs = 0;
  int oom = 0, ret = -1;

  if (str_index(&p, "") != 0) goto oom; /* string_table[0] must be "" */
  value_type(&p, 1, "alloc_objects", "count", &oom);
  value_type(&p, 1, "alloc_space", "bytes", &oom);
  value_type(&p, 1, "inuse_objects", "count", &oom);
  value_type(&p, 1, "inuse_space", "bytes", &oom);
  value_type(&p, 11, "space", "bytes", &oom);
  if (oom || write_mappings(&p, x, &map_id) != 0) goto oom;
  int64_t pid_key = str_index(&p, "pid");
  if (pid_key < 0) goto oom;

  for (size_t k = 0; k <= nstacks; k++) {
    const ft_xstack *s = &st[k];
    if (s->allocations == 0) continue;
    size_t nl = 0, nf = 0;
    const ft_xframe *f = k < nstacks ? ft_xtrace_frames(x, k, &nf) : NULL;
    if (nf + 1 > caplocs) {
      caplocs = nf + 64;
      uint64_t *nlocs = realloc(locs, caplocs * sizeof *nlocs);
      if (!nlocs) goto oom;
      locs = nlocs;
    }
    for (size_t i = 0; i < nf;) {
      size_t j = i + 1;
      while (j < nf && f[j].level > 0 && f[j].ip == f[i].ip) j++; /* the inline levels of one frame */
      if (!(locs[nl++] = location_id(&p, x, stacks[k].proc, f + i, j - i, map_id))) goto oom;
      i = j;
    }
    if (nl == 0 && !(locs[nl++] = no_stack_location(&p))) goto oom;
    uint64_t vals[4] = {(uint64_t)s->allocations, (uint64_t)s->bytes, (uint64_t)s->leaked, (uint64_t)s->leaked_bytes};
    ft_pb_reset(&p.tmp);
    ft_pb_packed(&p.tmp, 1, locs, nl);
    ft_pb_packed(&p.tmp, 2, vals, 4);
    int pid = 0;
    for (size_t i = 0; i < nimg; i++)
      if (k < nstacks && img[i].proc == stacks[k].proc) pid = img[i].pid;
    if (pid) {
      ft_pb_reset(&p.tmp2);
      ft_pb_varint(&p.tmp2, 1, (uint64_t)pid_key);
      ft_pb_varint(&p.tmp2, 3, (uint64_t)pid);
      ft_pb_message(&p.tmp, 3, &p.tmp2);
    }
    ft_pb_message(&p.out, 2, &p.tmp);
  }

  int64_t t0 = 0, dur = 0;
  for (size_t i = 0; i < nimg; i++) {
    if (i == 0 || img[i].start_unix_ns < t0) t0 = img[i].start_unix_ns;
  }
  for (size_t i = 0; i < nimg; i++)
    if (img[i].start_unix_ns - t0 + img[i].end_ns > dur) dur = img[i].start_unix_ns - t0 + img[i].end_ns;
  char comment[1024];
  snprintf(comment, sizeof comment, "fragtrace heap profile of: %s", ft_xtrace_command(x));
  int64_t ci = str_index(&p, comment), def = str_index(&p, "alloc_space"), si = 0;
  if (ci < 0 || def < 0) goto oom;
  /* A byte-sampled trace: the values are already scaled (each recorded
  ** allocation weighs 1/p), so they are estimates; say so where pprof -raw
  ** and the web UI show comments. */
  int64_t sb = ft_xtrace_sample_bytes(x);
  if (sb != 0) {
    char note[256];
    if (sb > 0)
      snprintf(note, sizeof note, "byte-sampled: 1 allocation per %lld bytes on average; values are estimates",
               (long long)sb);
    else
      snprintf(note, sizeof note, "byte-sampled at different rates; values are estimates");
    if ((si = str_index(&p, note)) < 0) goto oom;
  }
  ft_pb_varint(&p.out, 9, (uint64_t)t0);
  ft_pb_varint(&p.out, 10, (uint64_t)dur);
  ft_pb_varint(&p.out, 12, 1); /* every allocation is recorded: no sampling period */
  ft_pb_varint(&p.out, 13, (uint64_t)ci);
  if (si > 0) ft_pb_varint(&p.out, 13, (uint64_t)si);
  ft_pb_varint(&p.out, 14, (uint64_t)def);
  if (ft_pb_failed(&p.out) || ft_pb_failed(&p.strings)) goto oom;
  ret = write_gzip(&p.out, &p.strings, out, err, errlen);
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  for (size_t i = 0; i < p.nstr; i++) free(p.str[i]);
  free(p.str);
  idmap_free(&p.str_ix);
  idmap_free(&p.funcs);
  idmap_free(&p.locs);
  ft_pb_free(&p.out);
  ft_pb_free(&p.strings);
  ft_pb_free(&p.tmp);
  ft_pb_free(&p.tmp2);
  free(map_id);
  free(locs);
  return ret;
}
