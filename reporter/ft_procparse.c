/*
** ft_procparse.c — parsers for the /proc text the shim spills raw
** (/proc/buddyinfo, /proc/<pid>/statm, /proc/<pid>/maps).
**
** The shim copies these files byte for byte so that the recording path stays
** dumb; all interpretation happens here, offline. The parsers are pure: no
** I/O, no allocation, no locale, so they are tested on fixtures captured from
** other kernels and architectures. Input is (pointer, length) and need not be
** NUL-terminated; a NUL byte before len ends the text (callers may pass a
** buffer with spare room).
**
** They are strict about structure (a truncated or garbled read must be
** reported, not turned into plausible numbers) and lenient about whitespace,
** since the kernel pads with spaces for alignment and we read whole files.
*/
#include "ft_procparse.h"

#include <assert.h>
#include <string.h>

/* A cursor over [p, end). */
typedef struct ft_cur {
  const char *p;
  const char *end;
} ft_cur;

/* Length of the text: up to len bytes, stopping at the first NUL. */
static size_t ft_text_len(const char *text, size_t len) {
  const char *nul = text ? memchr(text, '\0', len) : NULL;
  return nul ? (size_t)(nul - text) : len;
}

static int ft_is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int ft_hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Skip spaces/tabs; returns how many were skipped. */
static size_t ft_skip_blanks(ft_cur *c) {
  const char *start = c->p;
  while (c->p < c->end && ft_is_blank(*c->p)) c->p++;
  return (size_t)(c->p - start);
}

/* Parse a plain unsigned decimal (no sign, no 0x) into *out.
** Returns 0, or -1 when there is no digit or the value overflows 64 bits. */
static int ft_parse_u64_dec(ft_cur *c, uint64_t *out) {
  uint64_t v = 0;
  const char *start = c->p;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned d = (unsigned)(*c->p - '0');
    if (v > (UINT64_MAX - d) / 10) return -1;
    v = v * 10 + d;
    c->p++;
  }
  if (c->p == start) return -1;
  *out = v;
  return 0;
}

/* Parse unsigned hex digits (no 0x prefix, as /proc prints them) into *out.
** Returns 0, or -1 when there is no digit or more than 64 bits. */
static int ft_parse_u64_hex(ft_cur *c, uint64_t *out) {
  uint64_t v = 0;
  const char *start = c->p;
  int d;
  while (c->p < c->end && (d = ft_hexval(*c->p)) >= 0) {
    if (v >> 60) return -1;
    v = (v << 4) | (uint64_t)d;
    c->p++;
  }
  if (c->p == start) return -1;
  *out = v;
  return 0;
}

/* Consume the literal word w if it is next. Returns 0 or -1. */
static int ft_expect(ft_cur *c, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0) return -1;
  c->p += n;
  return 0;
}

/* The character after the current token must be a blank or the end, so that
** "12x" or "Normal," is rejected rather than split. */
static int ft_at_token_end(const ft_cur *c) {
  return c->p == c->end || ft_is_blank(*c->p);
}

/* ---- /proc/buddyinfo ------------------------------------------------------ */

/* Parse one non-blank buddyinfo line, as printed by mm/vmstat.c
** frag_show_print: "Node %d, zone %8s " then "%6lu " per order.
** Returns 0 and fills *row, or -1 if malformed. */
static int ft_parse_buddy_line(const char *line, size_t len, ft_buddy_row *row) {
  ft_cur c = {line, line + len};
  uint64_t v;

  memset(row, 0, sizeof *row);
  ft_skip_blanks(&c);
  if (ft_expect(&c, "Node") != 0 || ft_skip_blanks(&c) == 0) return -1;
  if (ft_parse_u64_dec(&c, &v) != 0 || v > 0x7fffffff) return -1;
  row->node = (int)v;
  if (ft_expect(&c, ",") != 0) return -1;
  ft_skip_blanks(&c);
  if (ft_expect(&c, "zone") != 0 || ft_skip_blanks(&c) == 0) return -1;

  /* Zone names are whatever the kernel calls them (DMA, DMA32, Normal,
  ** HighMem, Movable, Device, ...): take the token, do not match a list. */
  const char *zone = c.p;
  while (c.p < c.end && !ft_is_blank(*c.p)) c.p++;
  size_t zlen = (size_t)(c.p - zone);
  if (zlen == 0 || zlen >= FT_ZONE_NAME_MAX) return -1;
  /* A zone name starting with a digit means the name was missing. */
  if (zone[0] >= '0' && zone[0] <= '9') return -1;
  memcpy(row->zone, zone, zlen);
  row->zone[zlen] = '\0';

  for (;;) {
    ft_skip_blanks(&c);
    if (c.p == c.end) break;
    if (row->norders == FT_MAX_ORDERS) return -1;
    if (ft_parse_u64_dec(&c, &v) != 0 || !ft_at_token_end(&c)) return -1;
    row->free_blocks[row->norders++] = v;
  }
  /* Every kernel prints at least MAX_ORDER counts; none is a truncated read. */
  return row->norders > 0 ? 0 : -1;
}

int ft_parse_buddyinfo(const char *text, size_t len, ft_buddy_row *rows, int max_rows) {
  assert(max_rows >= 0);
  assert(rows != NULL || max_rows == 0);
  if (text == NULL) return len == 0 ? 0 : -1;
  len = ft_text_len(text, len);

  const char *p = text, *end = text + len;
  int nrows = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    const char *q = p;
    while (q < eol && ft_is_blank(*q)) q++;
    if (q < eol) { /* blank lines (e.g. a final empty one) carry nothing */
      ft_buddy_row scratch;
      ft_buddy_row *dst = nrows < max_rows ? &rows[nrows] : &scratch;
      if (ft_parse_buddy_line(p, (size_t)(eol - p), dst) != 0) return -1;
      if (nrows == 0x7fffffff) return -1;
      nrows++;
    }
    p = nl ? nl + 1 : end;
  }
  return nrows;
}

/* ---- /proc/<pid>/statm ---------------------------------------------------- */

/* The kernel prints exactly these seven fields (fs/proc/array.c
** proc_pid_statm); requiring all of them catches a truncated read. */
#define FT_STATM_FIELDS 7

int ft_parse_statm(const char *text, size_t len, uint64_t *size_pages, uint64_t *resident_pages) {
  assert(size_pages != NULL && resident_pages != NULL);
  if (text == NULL) return -1;
  len = ft_text_len(text, len);

  ft_cur c = {text, text + len};
  uint64_t f[FT_STATM_FIELDS];
  int n = 0;
  for (;;) {
    while (c.p < c.end && (ft_is_blank(*c.p) || *c.p == '\n')) c.p++;
    if (c.p == c.end) break;
    if (n == FT_STATM_FIELDS) return -1;
    if (ft_parse_u64_dec(&c, &f[n]) != 0) return -1;
    if (c.p < c.end && !ft_is_blank(*c.p) && *c.p != '\n') return -1;
    n++;
  }
  if (n != FT_STATM_FIELDS) return -1;
  *size_pages = f[0];
  *resident_pages = f[1];
  return 0;
}

/* ---- /proc/<pid>/maps ----------------------------------------------------- */

/* Line format (fs/proc/task_mmu.c show_vma_header_prefix):
**   "%08lx-%08lx %c%c%c%c %08llx %02x:%02x %lu " then padding and the name.
** The name is a path (escaped by the kernel: '\n' becomes "\012"), a
** "[heap]"-style pseudo name, or absent; everything after the padding is the
** name, spaces and " (deleted)" included. */
int ft_parse_maps_line(const char *line, size_t len, ft_map_entry *out) {
  assert(out != NULL);
  if (line == NULL) return -1;
  len = ft_text_len(line, len);
  /* Tolerate the line's own newline: the kernel never puts one in a name. */
  if (len > 0 && line[len - 1] == '\n') len--;

  ft_cur c = {line, line + len};
  uint64_t dev_major, dev_minor;
  ft_map_entry e;
  memset(&e, 0, sizeof e);

  if (ft_parse_u64_hex(&c, &e.start) != 0 || ft_expect(&c, "-") != 0) return -1;
  if (ft_parse_u64_hex(&c, &e.end) != 0 || ft_expect(&c, " ") != 0) return -1;
  if (e.end <= e.start) return -1;

  if (c.end - c.p < 4) return -1;
  static const char allowed[4][3] = {"r-", "w-", "x-", "ps"};
  for (int i = 0; i < 4; i++) {
    char ch = c.p[i];
    if (memchr(allowed[i], ch, 2) == NULL) return -1;
    e.perms[i] = ch;
  }
  e.perms[4] = '\0';
  c.p += 4;

  if (ft_expect(&c, " ") != 0) return -1;
  if (ft_parse_u64_hex(&c, &e.offset) != 0 || ft_expect(&c, " ") != 0) return -1;
  if (ft_parse_u64_hex(&c, &dev_major) != 0 || ft_expect(&c, ":") != 0) return -1;
  if (ft_parse_u64_hex(&c, &dev_minor) != 0 || ft_expect(&c, " ") != 0) return -1;
  if (ft_parse_u64_dec(&c, &e.inode) != 0 || !ft_at_token_end(&c)) return -1;

  ft_skip_blanks(&c);
  if (c.p < c.end) {
    e.path = c.p;
    e.path_len = (size_t)(c.end - c.p);
  }
  *out = e;
  return 0;
}

/* ---- line-oriented helpers for the sampler's files ------------------------ */

/* The next line at *off of text[0..len) (without its newline), advancing
** *off past it. Returns 0 at the end. */
static int ft_next_line(const char *text, size_t len, size_t *off, ft_cur *line) {
  if (!text || *off >= len) return 0;
  const char *p = text + *off, *end = text + len;
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  const char *eol = nl ? nl : end;
  *off = (size_t)(eol - text) + (nl != NULL);
  line->p = p;
  line->end = eol;
  return 1;
}

static int ft_line_blank(ft_cur c) {
  ft_skip_blanks(&c);
  return c.p == c.end;
}

/* Copy the next blank-delimited token into out[cap] (NUL-terminated).
** Returns 0, or -1 when there is none or it does not fit. */
static int ft_token(ft_cur *c, char *out, size_t cap) {
  ft_skip_blanks(c);
  const char *t = c->p;
  while (c->p < c->end && !ft_is_blank(*c->p)) c->p++;
  size_t n = (size_t)(c->p - t);
  if (n == 0 || n >= cap) return -1;
  memcpy(out, t, n);
  out[n] = 0;
  return 0;
}

/* ---- /proc/meminfo, /proc/vmstat, smaps_rollup fields ---------------------- */

static int ft_is_key_char(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
         ch == '(' || ch == ')';
}

/* "Key:  N" with an optional " kB", the whole line. Returns 0 or -1. */
static int ft_parse_colon_kv(ft_cur c, ft_kv *kv) {
  ft_skip_blanks(&c);
  kv->key = c.p;
  while (c.p < c.end && ft_is_key_char(*c.p)) c.p++;
  kv->key_len = (size_t)(c.p - kv->key);
  if (kv->key_len == 0 || ft_expect(&c, ":") != 0) return -1;
  ft_skip_blanks(&c);
  if (ft_parse_u64_dec(&c, &kv->value) != 0 || !ft_at_token_end(&c)) return -1;
  ft_skip_blanks(&c);
  kv->kb = 0;
  if (ft_expect(&c, "kB") == 0) {
    if (kv->value > UINT64_MAX / 1024) return -1;
    kv->value *= 1024;
    kv->kb = 1;
    ft_skip_blanks(&c);
  }
  return c.p == c.end ? 0 : -1;
}

int ft_meminfo_next(const char *text, size_t len, size_t *off, ft_kv *kv) {
  len = ft_text_len(text, len);
  ft_cur line;
  while (ft_next_line(text, len, off, &line)) {
    if (ft_line_blank(line)) continue;
    return ft_parse_colon_kv(line, kv) == 0 ? 1 : -1;
  }
  return 0;
}

int ft_vmstat_next(const char *text, size_t len, size_t *off, ft_kv *kv) {
  len = ft_text_len(text, len);
  ft_cur c;
  while (ft_next_line(text, len, off, &c)) {
    if (ft_line_blank(c)) continue;
    ft_skip_blanks(&c);
    kv->key = c.p;
    while (c.p < c.end && (ft_is_key_char(*c.p) || *c.p == '-')) c.p++;
    kv->key_len = (size_t)(c.p - kv->key);
    kv->kb = 0;
    if (kv->key_len == 0 || ft_skip_blanks(&c) == 0) return -1;
    if (ft_parse_u64_dec(&c, &kv->value) != 0) return -1;
    ft_skip_blanks(&c);
    return c.p == c.end ? 1 : -1;
  }
  return 0;
}

const char *const ft_smaps_names[FT_SMAPS_NFIELDS] = {
    "Rss",           "Pss",           "Pss_Anon",       "Pss_File",       "Pss_Shmem",
    "Shared_Clean",  "Shared_Dirty",  "Private_Clean",  "Private_Dirty",  "Referenced",
    "Anonymous",     "LazyFree",      "AnonHugePages",  "ShmemPmdMapped", "FilePmdMapped",
    "Shared_Hugetlb", "Private_Hugetlb", "Swap",        "SwapPss",        "Locked",
};

int ft_parse_smaps_rollup(const char *text, size_t len, ft_smaps *out) {
  memset(out, 0, sizeof *out);
  len = ft_text_len(text, len);
  size_t off = 0;
  ft_cur line;
  int first = 1;
  while (ft_next_line(text, len, &off, &line)) {
    if (ft_line_blank(line)) continue;
    ft_kv kv;
    if (ft_parse_colon_kv(line, &kv) != 0) {
      /* Only the first line, "start-end ---p 00000000 00:00 0  [rollup]", is
      ** not a field. */
      if (!first) return -1;
      first = 0;
      continue;
    }
    first = 0;
    for (int f = 0; f < FT_SMAPS_NFIELDS; f++)
      if (strlen(ft_smaps_names[f]) == kv.key_len && memcmp(ft_smaps_names[f], kv.key, kv.key_len) == 0) {
        out->bytes[f] = kv.value;
        out->present |= 1u << f;
        break;
      }
  }
  return (out->present & (1u << FT_SMAPS_RSS)) ? 0 : -1;
}

/* ---- /proc/pagetypeinfo ----------------------------------------------------- */

void ft_pti_init(ft_pti_iter *it, const char *text, size_t len) {
  memset(it, 0, sizeof *it);
  it->text = text;
  it->len = ft_text_len(text, len);
  it->pageblock_order = -1;
}

/* "Node N, zone Z" (the comma after the zone is the caller's). */
static int ft_pti_node_zone(ft_cur *c, int *node, char *zone) {
  uint64_t v;
  ft_skip_blanks(c);
  if (ft_expect(c, "Node") != 0 || ft_skip_blanks(c) == 0) return -1;
  if (ft_parse_u64_dec(c, &v) != 0 || v > 0x7fffffff || ft_expect(c, ",") != 0) return -1;
  *node = (int)v;
  ft_skip_blanks(c);
  if (ft_expect(c, "zone") != 0 || ft_skip_blanks(c) == 0) return -1;
  const char *z = c->p;
  while (c->p < c->end && !ft_is_blank(*c->p) && *c->p != ',') c->p++;
  size_t n = (size_t)(c->p - z);
  if (n == 0 || n >= FT_ZONE_NAME_MAX || (z[0] >= '0' && z[0] <= '9')) return -1;
  memcpy(zone, z, n);
  zone[n] = 0;
  return 0;
}

/* A free-pages row: "Node %4d, zone %8s, type %12s " then "%s%6lu " per
** order, the %s being ">" when the kernel stopped counting. */
static int ft_pti_free_row(ft_cur c, ft_pti_row *row) {
  if (ft_pti_node_zone(&c, &row->node, row->zone) != 0 || ft_expect(&c, ",") != 0) return -1;
  ft_skip_blanks(&c);
  if (ft_expect(&c, "type") != 0 || ft_token(&c, row->type, sizeof row->type) != 0) return -1;
  for (;;) {
    ft_skip_blanks(&c);
    if (c.p == c.end) break;
    if (row->norders == FT_MAX_ORDERS) return -1;
    int sat = ft_expect(&c, ">") == 0;
    uint64_t v;
    if (ft_parse_u64_dec(&c, &v) != 0 || !ft_at_token_end(&c)) return -1;
    if (sat) row->saturated |= 1u << row->norders;
    row->free_blocks[row->norders++] = v;
  }
  return row->norders > 0 ? 0 : -1;
}

/* A number-of-blocks row: "Node %d, zone %8s " then "%12lu " per type. */
static int ft_pti_blocks_row(const ft_pti_iter *it, ft_cur c, ft_pti_row *row) {
  if (ft_pti_node_zone(&c, &row->node, row->zone) != 0) return -1;
  row->ntypes = it->ntypes;
  memcpy(row->types, it->types, sizeof row->types);
  for (int i = 0; i < it->ntypes; i++) {
    ft_skip_blanks(&c);
    if (ft_parse_u64_dec(&c, &row->pageblocks[i]) != 0 || !ft_at_token_end(&c)) return -1;
  }
  ft_skip_blanks(&c);
  return c.p == c.end ? 0 : -1;
}

int ft_pti_next(ft_pti_iter *it, ft_pti_row *row) {
  ft_cur c;
  while (ft_next_line(it->text, it->len, &it->off, &c)) {
    if (ft_line_blank(c)) continue;
    ft_skip_blanks(&c);
    uint64_t v;
    if (ft_expect(&c, "Page block order:") == 0) {
      ft_skip_blanks(&c);
      if (ft_parse_u64_dec(&c, &v) != 0 || v > 64) return -1;
      it->pageblock_order = (int)v;
      continue;
    }
    if (ft_expect(&c, "Pages per block:") == 0) continue;
    if (ft_expect(&c, "Free pages count per migrate type at order") == 0) {
      it->section = FT_PTI_FREE;
      continue;
    }
    if (ft_expect(&c, "Number of blocks type") == 0) {
      /* The header names the columns: "%12s " per migrate type. */
      it->section = FT_PTI_BLOCKS;
      it->ntypes = 0;
      memset(it->types, 0, sizeof it->types);
      for (;;) {
        ft_skip_blanks(&c);
        if (c.p == c.end) break;
        if (it->ntypes == FT_MAX_MIGRATE_TYPES) return -1;
        if (ft_token(&c, it->types[it->ntypes], FT_MIGRATE_NAME_MAX) != 0) return -1;
        it->ntypes++;
      }
      if (it->ntypes == 0) return -1;
      continue;
    }
    if (ft_expect(&c, "Node") != 0) {
      it->section = -1; /* a table we do not know (e.g. "Number of mixed blocks"): skip it */
      continue;
    }
    c.p -= 4; /* back to "Node" for the row parsers */
    if (it->section == -1) continue;
    memset(row, 0, sizeof *row);
    if (it->section == FT_PTI_FREE) {
      row->kind = FT_PTI_FREE;
      return ft_pti_free_row(c, row) == 0 ? 1 : -1;
    }
    if (it->section == FT_PTI_BLOCKS) {
      row->kind = FT_PTI_BLOCKS;
      return ft_pti_blocks_row(it, c, row) == 0 ? 1 : -1;
    }
    return -1; /* a row before any header */
  }
  return 0;
}

/* ---- /proc/slabinfo ------------------------------------------------------- */

int ft_slabinfo_next(const char *text, size_t len, size_t *off, ft_slab_row *row) {
  len = ft_text_len(text, len);
  ft_cur c;
  while (ft_next_line(text, len, off, &c)) {
    if (ft_line_blank(c)) continue;
    ft_skip_blanks(&c);
    if (*c.p == '#') continue;
    if (ft_expect(&c, "slabinfo - version:") == 0) {
      ft_skip_blanks(&c);
      if (ft_expect(&c, "2.") != 0) return -1; /* 1.x had other columns */
      continue;
    }
    memset(row, 0, sizeof *row);
    if (ft_token(&c, row->name, sizeof row->name) != 0) return -1;
    uint64_t *first[] = {&row->active_objs, &row->num_objs, &row->objsize, &row->objperslab, &row->pagesperslab};
    for (size_t i = 0; i < 5; i++) {
      ft_skip_blanks(&c);
      if (ft_parse_u64_dec(&c, first[i]) != 0 || !ft_at_token_end(&c)) return -1;
    }
    ft_skip_blanks(&c);
    if (ft_expect(&c, ": tunables") != 0) return -1;
    uint64_t ignore;
    for (int i = 0; i < 3; i++) {
      ft_skip_blanks(&c);
      if (ft_parse_u64_dec(&c, &ignore) != 0) return -1;
    }
    ft_skip_blanks(&c);
    if (ft_expect(&c, ": slabdata") != 0) return -1;
    uint64_t *last[] = {&row->active_slabs, &row->num_slabs, &ignore};
    for (size_t i = 0; i < 3; i++) {
      ft_skip_blanks(&c);
      if (ft_parse_u64_dec(&c, last[i]) != 0 || !ft_at_token_end(&c)) return -1;
    }
    ft_skip_blanks(&c);
    return c.p == c.end ? 1 : -1;
  }
  return 0;
}
