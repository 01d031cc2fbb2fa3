/*
** ft_symbolize.c — offline symbolization of a trace with libdw (elfutils).
**
** Input: the `mappings` rows of every traced process (its /proc/self/maps as
** recorded) and the return addresses in `stack_frames`. Output: one
** `symbols` row per (proc, ip) looked up, and `mappings.build_id`.
**
** How addresses are resolved. Every process maps its ELF files at its own
** addresses (ASLR), but the DWARF of a file is the same in every process. So
** instead of one Dwfl per process with every module reported at its load
** base, each IP is first translated, through the mapping that contains it and
** the file's PT_LOAD program headers, into the file's link-time address:
**
**   file offset  o = (ip - 1) - mapping.start + mapping.file_offset
**   link address a = p_vaddr + (o - p_offset)   for the PT_LOAD holding o
**
** which is exactly the inverse of what the kernel and ld.so did when mapping
** the segment (load bias = mapping.start - mapping.file_offset - (p_vaddr -
** p_offset), the same for every segment of one load). Lookups are then sorted
** by file and each file is opened once, in a Dwfl of its own where it is
** reported at its link-time addresses (base 0; ET_EXEC is always at 0), so
** each file's DWARF is read once however many processes mapped it, and no
** two modules of different processes can overlap. This also copes with
** mappings split by mprotect (RELRO), partial maps, and a file mapped twice.
** Within a file, lookups go in address order and an address shared by many
** processes (forks, a common library) is resolved once.
**
** Function names come from the ELF symbol tables (the separate debug file's
** when installed), through a sorted copy: libdwfl's own address-to-symbol
** lookup scans every symbol each time. Lines come from the DWARF line
** tables, with a CU-range index where libdw needs .debug_aranges (clang).
**
** Inlined code. When the address lies in a DW_TAG_inlined_subroutine, the
** symbols row names the innermost inlined function (its line is still the
** address's own), and `inline_frames` gets one row per enclosing level: level
** 1 is the function it was inlined into with the call site there
** (DW_AT_call_file/DW_AT_call_line), and so on out to the real function,
** whose name is taken from the symbol table like any other. The DIE chain is
** found through a per-CU index of concrete functions (built on the first
** address in that CU) and a descent into that one function's scopes, not
** with dwarf_getscopes: that walks the CU twice per address (the second
** time, for the abstract origin, without pruning), and never finds a
** function whose DIE is nested in another function's (GNU C nested
** functions), as it prunes at the outer function's ranges.
**
** Robustness: paths that are not regular ELF files (deleted, [vdso],
** anonymous, data files, devices) are never handed to libdw; their IPs get a
** row with only the module (or nothing) known. Stripped files give NULL
** function/line. An address that does not land in an executable segment of
** the file on disk (the file was replaced since) is left unresolved, and so
** is every address of a file whose build-id differs from one recorded in
** mappings.build_id.
*/
#include "ft_symbolize.h"

#include <assert.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- demangling through a dlopen'd libstdc++ ------------------------------ */

typedef char *(*ft_cxa_demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

static pthread_once_t ft_demangle_once = PTHREAD_ONCE_INIT;
static ft_cxa_demangle_fn ft_cxa_demangle;

static void ft_demangle_load(void) {
  /* Never dlclose'd: the handle lives as long as the process. */
  void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
  if (h == NULL) return;
  /* POSIX blesses converting dlsym's void * to a function pointer. */
  *(void **)&ft_cxa_demangle = dlsym(h, "__cxa_demangle");
}

char *ft_demangle(const char *name) {
  if (name == NULL || strncmp(name, "_Z", 2) != 0) return NULL;
  pthread_once(&ft_demangle_once, ft_demangle_load);
  if (ft_cxa_demangle == NULL) return NULL;
  int status = -1;
  char *out = ft_cxa_demangle(name, NULL, NULL, &status);
  if (status != 0) {
    free(out);
    return NULL;
  }
  return out;
}

/* ---- in-memory model of what is to be resolved --------------------------- */

/* One distinct mappings.path (an ELF file, a data file, "[vdso]", ...). */
typedef struct ft_sym_file {
  char *path;
  int needs_build_id; /* some mappings row of this path has build_id NULL */
} ft_sym_file;

/* One named mappings row. */
typedef struct ft_sym_map {
  int64_t proc;
  uint64_t start, end, offset;
  size_t file;             /* index into files */
  char *recorded_build_id; /* mappings.build_id before this run, or NULL */
} ft_sym_map;

/* One distinct (proc, ip) to look up. */
typedef struct ft_sym_lookup {
  int64_t proc, pid;
  uint64_t ip;
  ptrdiff_t map;           /* index into maps, -1 when no named mapping holds it */
  ptrdiff_t file;          /* maps[map].file, -1 likewise (the sort key) */
  int resolvable;          /* addr below is valid (set per file) */
  GElf_Addr addr;          /* the address in the file's Dwfl */
} ft_sym_lookup;

typedef struct ft_sym_ctx {
  sqlite3 *db;
  ft_symbolize_stats *st;
  char *err;
  size_t errlen;
  ft_sym_file *files;
  size_t nfiles;
  ft_sym_map *maps;
  size_t nmaps;
  ft_sym_lookup *lk;
  size_t nlk;
  sqlite3_stmt *ins_sym;
  sqlite3_stmt *ins_inl;
  sqlite3_stmt *upd_build_id;
} ft_sym_ctx;

/* One enclosing level of an inline chain (an inline_frames row). */
typedef struct ft_inl_frame {
  char *function;   /* malloc'd, NULL when unknown */
  const char *file; /* call site in function; owned by the Dwfl, NULL when unknown */
  int line;
} ft_inl_frame;

/* What one address resolved to; strings owned by the Dwfl except function
** and the inline frames' functions. */
typedef struct ft_sym_result {
  char *function; /* malloc'd (demangled or copied); the innermost inlined one */
  const char *src;
  int line;
  ft_inl_frame *inl; /* malloc'd; inl[0] is level 1 */
  size_t ninl;
} ft_sym_result;

/* Free what r owns and zero it. */
static void ft_sym_result_free(ft_sym_result *r) {
  free(r->function);
  for (size_t i = 0; i < r->ninl; i++) free(r->inl[i].function);
  free(r->inl);
  memset(r, 0, sizeof *r);
}

static void ft_sym_seterr(ft_sym_ctx *c, const char *fmt, ...) {
  if (c->err == NULL || c->errlen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
}

static int ft_sym_dberr(ft_sym_ctx *c, const char *what) {
  ft_sym_seterr(c, "symbolize: %s: %s", what, sqlite3_errmsg(c->db));
  return -1;
}

/* Grow *arr (of *cap elements of size el) to hold at least n+1. Returns 0/-1. */
static int ft_sym_reserve(void **arr, size_t *cap, size_t n, size_t el) {
  if (n < *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 64;
  if (ncap > SIZE_MAX / el) return -1;
  void *p = realloc(*arr, ncap * el);
  if (p == NULL) return -1;
  *arr = p;
  *cap = ncap;
  return 0;
}

static int ft_sym_exec(ft_sym_ctx *c, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    ft_sym_seterr(c, "symbolize: %s: %s", sql, msg ? msg : sqlite3_errmsg(c->db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* ---- loading ------------------------------------------------------------- */

static int ft_map_cmp(const void *a, const void *b) {
  const ft_sym_map *x = a, *y = b;
  if (x->proc != y->proc) return x->proc < y->proc ? -1 : 1;
  if (x->start != y->start) return x->start < y->start ? -1 : 1;
  return 0;
}

/* Load every named mappings row, interning paths into files, then sort the
** rows by (proc, start) for address lookups. */
static int ft_sym_load_maps(ft_sym_ctx *c) {
  static const char sql[] =
    "SELECT proc, start, \"end\", file_offset, path, build_id FROM mappings"
    " WHERE path IS NOT NULL AND path <> '' ORDER BY path";
  sqlite3_stmt *s = NULL;
  size_t mcap = 0, fcap = 0;
  int rc;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) return ft_sym_dberr(c, "reading mappings");
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *path = (const char *)sqlite3_column_text(s, 4);
    const char *bid = (const char *)sqlite3_column_text(s, 5);
    if (path == NULL) continue;
    /* Rows come ordered by path, so a new path is a new file. */
    if (c->nfiles == 0 || strcmp(c->files[c->nfiles - 1].path, path) != 0) {
      if (ft_sym_reserve((void **)&c->files, &fcap, c->nfiles, sizeof *c->files) != 0) goto oom;
      ft_sym_file *f = &c->files[c->nfiles];
      memset(f, 0, sizeof *f);
      if ((f->path = strdup(path)) == NULL) goto oom;
      c->nfiles++;
    }
    if (ft_sym_reserve((void **)&c->maps, &mcap, c->nmaps, sizeof *c->maps) != 0) goto oom;
    ft_sym_map *m = &c->maps[c->nmaps];
    m->proc = sqlite3_column_int64(s, 0);
    /* Addresses are stored as the int64 bit pattern of the uint64. */
    m->start = (uint64_t)sqlite3_column_int64(s, 1);
    m->end = (uint64_t)sqlite3_column_int64(s, 2);
    m->offset = (uint64_t)sqlite3_column_int64(s, 3);
    m->file = c->nfiles - 1;
    m->recorded_build_id = NULL;
    if (bid != NULL && (m->recorded_build_id = strdup(bid)) == NULL) goto oom;
    if (bid == NULL) c->files[m->file].needs_build_id = 1;
    c->nmaps++;
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return ft_sym_dberr(c, "reading mappings");
  if (c->nmaps > 1) qsort(c->maps, c->nmaps, sizeof *c->maps, ft_map_cmp);
  return 0;
oom:
  sqlite3_finalize(s);
  ft_sym_seterr(c, "symbolize: out of memory reading mappings");
  return -1;
}

/* Index of the named mapping of proc that contains address x, or -1. */
static ptrdiff_t ft_sym_find_map(const ft_sym_ctx *c, int64_t proc, uint64_t x) {
  /* Last mapping with (proc, start) <= (proc, x). */
  size_t lo = 0, hi = c->nmaps;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const ft_sym_map *m = &c->maps[mid];
    if (m->proc < proc || (m->proc == proc && m->start <= x)) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return -1;
  const ft_sym_map *m = &c->maps[lo - 1];
  return (m->proc == proc && x >= m->start && x < m->end) ? (ptrdiff_t)(lo - 1) : -1;
}

/* Load the distinct (proc, ip) pairs of stack_frames that have no symbols row
** yet, with the pid of their process and the mapping that holds ip - 1.
** Stacks of a proc missing from `processes` are skipped (no pid to write). */
static int ft_sym_load_lookups(ft_sym_ctx *c) {
  static const char sql[] =
    "SELECT s.proc, p.pid, f.ip FROM stacks s"
    " JOIN processes p ON p.proc = s.proc"
    " JOIN stack_frames f ON f.stack_id = s.stack_id"
    " WHERE NOT EXISTS (SELECT 1 FROM symbols y WHERE y.proc = s.proc AND y.ip = f.ip)"
    " GROUP BY s.proc, f.ip";
  sqlite3_stmt *s = NULL;
  size_t cap = 0;
  int rc;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) return ft_sym_dberr(c, "reading stacks");
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (ft_sym_reserve((void **)&c->lk, &cap, c->nlk, sizeof *c->lk) != 0) {
      sqlite3_finalize(s);
      ft_sym_seterr(c, "symbolize: out of memory reading stacks");
      return -1;
    }
    ft_sym_lookup *l = &c->lk[c->nlk++];
    l->proc = sqlite3_column_int64(s, 0);
    l->pid = sqlite3_column_int64(s, 1);
    l->ip = (uint64_t)sqlite3_column_int64(s, 2);
    /* A return address points after the call; the call itself is at ip - 1,
    ** which matters when the call is the last instruction of a function or
    ** of a line. */
    l->map = l->ip > 0 ? ft_sym_find_map(c, l->proc, l->ip - 1) : -1;
    l->file = l->map < 0 ? -1 : (ptrdiff_t)c->maps[l->map].file;
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return ft_sym_dberr(c, "reading stacks");
  return 0;
}

/* Group lookups by file (none first) for one pass per file; mapping and ip
** only make the order deterministic (each file's group is re-sorted by
** address once the file is open). */
static int ft_lookup_cmp(const void *a, const void *b) {
  const ft_sym_lookup *x = a, *y = b;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  if (x->map != y->map) return x->map < y->map ? -1 : 1;
  if (x->ip != y->ip) return x->ip < y->ip ? -1 : 1;
  return 0;
}

/* ---- one ELF file ---------------------------------------------------------- */

/* ":.debug:/usr/lib/debug": next to the file, in .debug/ beside it, and under
** /usr/lib/debug (including /usr/lib/debug/.build-id/xx/yyyy.debug, where
** Debian's *-dbg and dbgsym packages install). */
static char ft_debuginfo_path_str[] = ":.debug:/usr/lib/debug";
static char *ft_debuginfo_path = ft_debuginfo_path_str;

static const Dwfl_Callbacks ft_dwfl_callbacks = {
  .find_elf = dwfl_build_id_find_elf,
  .find_debuginfo = dwfl_standard_find_debuginfo,
  .section_address = dwfl_offline_section_address,
  .debuginfo_path = &ft_debuginfo_path,
};

/* Open path as a Dwfl holding just that module at its link-time addresses.
** Returns 0 with *dwflp and *modp set, or -1 when it is not a readable regular
** ELF file (never an error: such IPs simply stay unresolved). */
static int ft_sym_open_module(const char *path, Dwfl **dwflp, Dwfl_Module **modp) {
  *dwflp = NULL;
  *modp = NULL;
  /* "[vdso]", "anon_inode:..." etc. are not files. */
  if (path[0] != '/') return -1;
  /* O_NONBLOCK: a FIFO at that path must not hang us; S_ISREG below. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return -1;
  struct stat sb;
  unsigned char magic[SELFMAG];
  /* Check the magic ourselves: libdwfl would transparently decompress a
  ** gzip/xz data file someone mmap'ed, however large. */
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
      pread(fd, magic, SELFMAG, 0) != SELFMAG || memcmp(magic, ELFMAG, SELFMAG) != 0) {
    close(fd);
    return -1;
  }
  Dwfl *dwfl = dwfl_begin(&ft_dwfl_callbacks);
  if (dwfl == NULL) {
    close(fd);
    return -1;
  }
  dwfl_report_begin(dwfl);
  /* On success the Dwfl owns fd; on failure it is still ours. */
  Dwfl_Module *mod = dwfl_report_elf(dwfl, path, path, fd, 0, true);
  if (mod == NULL) {
    close(fd);
    dwfl_end(dwfl);
    return -1;
  }
  if (dwfl_report_end(dwfl, NULL, NULL) != 0) {
    dwfl_end(dwfl);
    return -1;
  }
  *dwflp = dwfl;
  *modp = mod;
  return 0;
}

/* Hex GNU build-id of mod into out (2*20+1 for SHA-1; longer ids are fine
** up to outlen). Returns 0, or -1 when the file has none. */
static int ft_sym_build_id(Dwfl_Module *mod, char *out, size_t outlen) {
  const unsigned char *bits = NULL;
  GElf_Addr vaddr;
  int n = dwfl_module_build_id(mod, &bits, &vaddr);
  if (n <= 0 || bits == NULL || (size_t)n * 2 + 1 > outlen) return -1;
  for (int i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", bits[i]);
  return 0;
}

/* Translate runtime address x inside mapping m into the link-time address of
** elf (see the file comment). Returns 0, or -1 when x is not inside the file
** bytes of an executable PT_LOAD (a return address always is). */
static int ft_sym_to_link(Elf *elf, const ft_sym_map *m, uint64_t x, uint64_t *out) {
  assert(x >= m->start && x < m->end);
  uint64_t off = x - m->start + m->offset;
  size_t phnum;
  if (elf_getphdrnum(elf, &phnum) != 0) return -1;
  for (size_t i = 0; i < phnum; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, (int)i, &ph) == NULL || ph.p_type != PT_LOAD) continue;
    if (off < ph.p_offset || off - ph.p_offset >= ph.p_filesz) continue;
    if (!(ph.p_flags & PF_X)) return -1;
    *out = ph.p_vaddr + (off - ph.p_offset);
    return 0;
  }
  return -1;
}

/* A module's function symbols sorted by address, built on first use.
** dwfl_module_addrinfo scans the whole symbol table on every call (libc's
** has ~10k entries with its debug file), which dominates symbolizing a trace
** of many stacks; this makes each lookup a binary search. */
typedef struct ft_fsym {
  GElf_Addr addr, size;
  const char *name;   /* owned by the module's ELF string table */
  unsigned rank;      /* lower is preferred among aliases, see ft_fsym_rank */
} ft_fsym;

typedef struct ft_symtab {
  int built;
  ft_fsym *v;
  size_t n, cap;
} ft_symtab;

/* Among aliases of one address prefer the name a user calls: not glibc's
** internal "__GI_" alias, not a local alias, then fewer leading underscores
** (malloc over __libc_malloc, snprintf over __snprintf), then global over
** weak. */
static unsigned ft_fsym_rank(const char *name, unsigned bind) {
  unsigned us = 0;
  while (us < 3 && name[us] == '_') us++;
  return (strncmp(name, "__GI_", 5) == 0 ? 16u : 0u) + (bind == STB_LOCAL ? 8u : 0u) + us * 2 +
         (bind == STB_WEAK ? 1u : 0u);
}

static int ft_fsym_cmp(const void *a, const void *b) {
  const ft_fsym *x = a, *y = b;
  if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
  if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
  size_t lx = strlen(x->name), ly = strlen(y->name);
  if (lx != ly) return lx < ly ? -1 : 1;
  return strcmp(x->name, y->name); /* deterministic output */
}

/* Collect mod's code symbols (symtab, else dynsym, plus minidebuginfo, as
** libdwfl merges them). On OOM the table is partial: lookups degrade. */
static void ft_symtab_build(Dwfl_Module *mod, ft_symtab *t) {
  assert(!t->built);
  t->built = 1;
  int n = dwfl_module_getsymtab(mod);
  for (int i = 0; i < n; i++) {
    GElf_Sym sym;
    GElf_Addr addr;
    GElf_Word shndx;
    const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr, &shndx, NULL, NULL);
    if (name == NULL || name[0] == '\0' || name[0] == '$') continue; /* $x/$d: ARM mapping symbols */
    unsigned type = GELF_ST_TYPE(sym.st_info);
    /* Functions; untyped symbols only with a size (hand-written asm). */
    if (type != STT_FUNC && type != STT_GNU_IFUNC && !(type == STT_NOTYPE && sym.st_size > 0)) continue;
    if (shndx == SHN_UNDEF || shndx == SHN_ABS || shndx == (GElf_Word)-1) continue;
    if (ft_sym_reserve((void **)&t->v, &t->cap, t->n, sizeof *t->v) != 0) break;
    t->v[t->n++] = (ft_fsym){addr, sym.st_size, name, ft_fsym_rank(name, GELF_ST_BIND(sym.st_info))};
  }
  if (t->n > 1) qsort(t->v, t->n, sizeof *t->v, ft_fsym_cmp);
}

/* Name of the function symbol containing Dwfl address a, or NULL. Like
** libdwfl: a sized symbol containing a wins; failing that, the nearest
** preceding sizeless one (asm without .size). */
static const char *ft_symtab_find(Dwfl_Module *mod, ft_symtab *t, GElf_Addr a) {
  if (!t->built) ft_symtab_build(mod, t);
  size_t lo = 0, hi = t->n;
  while (lo < hi) { /* lo = number of symbols at or below a */
    size_t mid = lo + (hi - lo) / 2;
    if (t->v[mid].addr <= a) lo = mid + 1;
    else hi = mid;
  }
  const char *sizeless = NULL;
  /* Walk back one address group at a time; a few groups cover symbols
  ** nested in a bigger function. Within a group entries are in rank order. */
  for (size_t end = lo, groups = 0; end > 0 && groups < 32; groups++) {
    size_t g = end - 1;
    while (g > 0 && t->v[g - 1].addr == t->v[end - 1].addr) g--;
    for (size_t j = g; j < end; j++) {
      const ft_fsym *e = &t->v[j];
      if (e->size > 0 && a - e->addr < e->size) return e->name;
      if (e->size == 0 && groups == 0 && sizeless == NULL) sizeless = e->name;
    }
    end = g;
  }
  return sizeless;
}

static void ft_symtab_free(ft_symtab *t) {
  free(t->v);
  memset(t, 0, sizeof *t);
}

/* Address ranges of a module's compile units, for line lookups libdw cannot
** do by itself: up to elfutils 0.189 dwfl_module_getsrc finds the CU of an
** address only through .debug_aranges, which clang does not emit by default
** (and a mixed gcc/clang binary has only partly). Built on the first miss. */
typedef struct ft_cu_range {
  Dwarf_Addr lo, hi; /* [lo, hi) in DWARF addresses */
  size_t cu;         /* index into ft_cu_index.cus */
} ft_cu_range;

typedef struct ft_cu_index {
  int built;
  Dwarf_Addr bias;   /* Dwfl address - DWARF address */
  Dwarf_Die *cus;
  size_t ncus, cus_cap;
  ft_cu_range *r;
  size_t nr, r_cap;
} ft_cu_index;

static int ft_cu_range_cmp(const void *a, const void *b) {
  const ft_cu_range *x = a, *y = b;
  if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
  return 0;
}

/* Collect every CU's ranges of mod (nothing when it has no DWARF). On OOM
** the index is just partial: lookups degrade, never fail. */
static void ft_cu_index_build(Dwfl_Module *mod, ft_cu_index *ix) {
  assert(!ix->built);
  ix->built = 1;
  Dwarf_Die *cu = NULL;
  Dwarf_Addr bias = 0;
  while ((cu = dwfl_module_nextcu(mod, cu, &bias)) != NULL) {
    if (ft_sym_reserve((void **)&ix->cus, &ix->cus_cap, ix->ncus, sizeof *ix->cus) != 0) break;
    ix->bias = bias;
    ix->cus[ix->ncus] = *cu; /* a Dwarf_Die is a value; valid while the Dwfl is */
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0) {
      if (hi <= lo) continue;
      if (ft_sym_reserve((void **)&ix->r, &ix->r_cap, ix->nr, sizeof *ix->r) != 0) break;
      ix->r[ix->nr++] = (ft_cu_range){lo, hi, ix->ncus};
    }
    ix->ncus++;
  }
  if (ix->nr > 1) qsort(ix->r, ix->nr, sizeof *ix->r, ft_cu_range_cmp);
}

/* Line-table row for Dwfl address a through the CU index, or NULL. */
static Dwarf_Line *ft_cu_index_line(Dwfl_Module *mod, ft_cu_index *ix, GElf_Addr a) {
  if (!ix->built) ft_cu_index_build(mod, ix);
  Dwarf_Addr da = a - ix->bias; /* modular: a bias may be "negative" */
  size_t lo = 0, hi = ix->nr;
  while (lo < hi) { /* first range with lo > da */
    size_t mid = lo + (hi - lo) / 2;
    if (ix->r[mid].lo <= da) lo = mid + 1;
    else hi = mid;
  }
  /* CU ranges do not normally overlap; look a little further back in case. */
  for (size_t i = lo, seen = 0; i > 0 && seen < 16; i--, seen++) {
    const ft_cu_range *r = &ix->r[i - 1];
    if (da < r->hi) {
      Dwarf_Line *ln = dwarf_getsrc_die(&ix->cus[r->cu], da);
      if (ln != NULL) return ln;
    }
  }
  return NULL;
}

/* CU DIE whose ranges hold Dwfl address a through the CU index, or NULL;
** *bias gets the Dwfl-to-DWARF bias. */
static Dwarf_Die *ft_cu_index_cu(Dwfl_Module *mod, ft_cu_index *ix, GElf_Addr a, Dwarf_Addr *bias) {
  if (!ix->built) ft_cu_index_build(mod, ix);
  Dwarf_Addr da = a - ix->bias;
  size_t lo = 0, hi = ix->nr;
  while (lo < hi) { /* first range with lo > da */
    size_t mid = lo + (hi - lo) / 2;
    if (ix->r[mid].lo <= da) lo = mid + 1;
    else hi = mid;
  }
  for (size_t i = lo, seen = 0; i > 0 && seen < 16; i--, seen++) {
    if (da < ix->r[i - 1].hi) {
      *bias = ix->bias;
      return &ix->cus[ix->r[i - 1].cu];
    }
  }
  return NULL;
}

static void ft_cu_index_free(ft_cu_index *ix) {
  free(ix->cus);
  free(ix->r);
  memset(ix, 0, sizeof *ix);
}

/* ---- inline chains ----------------------------------------------------------- */

/* Deeper nesting than this (scopes, namespaces) is cut off: it only guards
** the recursion against malformed DWARF; real inline chains are < 64. */
#define FT_INL_MAX_DEPTH 256

/* One code range of a concrete function (several for hot/cold splits). */
typedef struct ft_fn_range {
  Dwarf_Addr lo, hi; /* [lo, hi) in DWARF addresses */
  Dwarf_Die die;     /* the DW_TAG_subprogram; a value, valid while the Dwfl is */
} ft_fn_range;

/* The concrete functions of one CU, sorted by lo. */
typedef struct ft_cu_fns {
  Dwarf_Off cu_off; /* the CU DIE's offset: the key */
  int deep;         /* built from the whole DIE tree, see ft_cu_fns_build */
  ft_fn_range *r;
  size_t n, cap;
} ft_cu_fns;

/* Per-file inline state: function indexes of the CUs seen so far (sorted by
** cu_off; pointers, so an entry stays put while others are inserted) and
** the chain of the address being resolved. */
typedef struct ft_inl_ctx {
  ft_cu_fns **cus;
  size_t ncus, cus_cap;
  size_t last;      /* index of the CU used last: addresses come in order */
  Dwarf_Die *chain; /* chain[0] the real function, then inlined ones outward in */
  size_t nchain, chain_cap;
  int chain_oom;    /* the chain is incomplete: not to be used */
} ft_inl_ctx;

static int ft_fn_range_cmp(const void *a, const void *b) {
  const ft_fn_range *x = a, *y = b;
  if (x->lo != y->lo) return x->lo < y->lo ? -1 : 1;
  return 0;
}

/* Add the code ranges of the subprograms under parent to f: those at CU,
** namespace or module level, or with deep those anywhere. On OOM f is
** partial. */
static void ft_cu_fns_collect(Dwarf_Die *parent, ft_cu_fns *f, int deep, int depth) {
  Dwarf_Die child;
  if (depth > FT_INL_MAX_DEPTH || dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag == DW_TAG_subprogram) {
      Dwarf_Addr base, lo, hi;
      ptrdiff_t off = 0;
      /* Declarations and abstract (DW_AT_inline) instances have no ranges. */
      while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
        if (hi <= lo) continue;
        if (ft_sym_reserve((void **)&f->r, &f->cap, f->n, sizeof *f->r) != 0) return;
        f->r[f->n++] = (ft_fn_range){lo, hi, child};
      }
    }
    if (deep ? dwarf_haschildren(&child) > 0 : (tag == DW_TAG_namespace || tag == DW_TAG_module))
      ft_cu_fns_collect(&child, f, deep, depth + 1);
  } while (dwarf_siblingof(&child, &child) == 0);
}

/* (Re)build f from CU cu. Shallow, definitions are found where GCC and clang
** put them (C++ members too, at namespace level with DW_AT_specification),
** without entering function bodies or class types, which hold most DIEs of
** a CU. Deep, every DIE is visited: for a GNU C nested function, or a
** definition inside a class. */
static void ft_cu_fns_build(Dwarf_Die *cu, ft_cu_fns *f, int deep) {
  f->n = 0;
  f->deep = deep;
  ft_cu_fns_collect(cu, f, deep, 0);
  if (f->n > 1) qsort(f->r, f->n, sizeof *f->r, ft_fn_range_cmp);
}

/* The function index of CU cu, built on first use; NULL on OOM. */
static ft_cu_fns *ft_inl_cu(ft_inl_ctx *x, Dwarf_Die *cu) {
  Dwarf_Off key = dwarf_dieoffset(cu);
  if (x->last < x->ncus && x->cus[x->last]->cu_off == key) return x->cus[x->last];
  size_t lo = 0, hi = x->ncus;
  while (lo < hi) { /* first entry with cu_off >= key */
    size_t mid = lo + (hi - lo) / 2;
    if (x->cus[mid]->cu_off < key) lo = mid + 1;
    else hi = mid;
  }
  if (lo < x->ncus && x->cus[lo]->cu_off == key) {
    x->last = lo;
    return x->cus[lo];
  }
  if (ft_sym_reserve((void **)&x->cus, &x->cus_cap, x->ncus, sizeof *x->cus) != 0) return NULL;
  ft_cu_fns *f = calloc(1, sizeof *f);
  if (f == NULL) return NULL;
  f->cu_off = key;
  ft_cu_fns_build(cu, f, 0);
  memmove(x->cus + lo + 1, x->cus + lo, (x->ncus - lo) * sizeof *x->cus);
  x->cus[lo] = f;
  x->ncus++;
  x->last = lo;
  return f;
}

/* The concrete function of f whose code holds DWARF address da, or NULL. */
static Dwarf_Die *ft_cu_fns_find(ft_cu_fns *f, Dwarf_Addr da) {
  size_t lo = 0, hi = f->n;
  while (lo < hi) { /* first range with lo > da */
    size_t mid = lo + (hi - lo) / 2;
    if (f->r[mid].lo <= da) lo = mid + 1;
    else hi = mid;
  }
  /* Functions do not overlap; look a little further back in case. */
  for (size_t i = lo, seen = 0; i > 0 && seen < 8; i--, seen++)
    if (da < f->r[i - 1].hi) return &f->r[i - 1].die;
  return NULL;
}

/* Append a copy of *die to the chain. Returns 0, or -1 (and marks the
** chain unusable) on OOM. */
static int ft_inl_push(ft_inl_ctx *x, const Dwarf_Die *die) {
  if (ft_sym_reserve((void **)&x->chain, &x->chain_cap, x->nchain, sizeof *x->chain) != 0) {
    x->chain_oom = 1;
    return -1;
  }
  x->chain[x->nchain++] = *die;
  return 0;
}

/* Append to the chain, outermost first, the inlined subroutines under
** parent (a function or a scope in it) whose code holds DWARF address da.
** Sibling scopes do not overlap, so only one path is followed. */
static void ft_inl_descend(ft_inl_ctx *x, Dwarf_Die *parent, Dwarf_Addr da, int depth) {
  Dwarf_Die child;
  if (depth > FT_INL_MAX_DEPTH || dwarf_child(parent, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_lexical_block && tag != DW_TAG_try_block &&
        tag != DW_TAG_catch_block)
      continue; /* variables, parameters, call sites, types: no code inside */
    if (dwarf_haspc(&child, da) == 1) {
      if (tag == DW_TAG_inlined_subroutine && ft_inl_push(x, &child) != 0) return;
      ft_inl_descend(x, &child, da, depth + 1);
      return;
    }
    /* A block without ranges of its own can still hold inlined code. */
    if (tag == DW_TAG_lexical_block && !dwarf_hasattr(&child, DW_AT_low_pc) &&
        !dwarf_hasattr(&child, DW_AT_ranges)) {
      size_t before = x->nchain;
      ft_inl_descend(x, &child, da, depth + 1);
      if (x->nchain > before) return;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
}

/* Set x->chain for DWARF address da of CU cu: the real function, then the
** inlined subroutines holding da, outermost first (just the function when da
** is not in inlined code; empty when da is in no known function). */
static void ft_inl_chain(ft_inl_ctx *x, Dwarf_Die *cu, Dwarf_Addr da) {
  x->nchain = 0;
  x->chain_oom = 0;
  ft_cu_fns *f = ft_inl_cu(x, cu);
  if (f == NULL) return;
  Dwarf_Die *fn = ft_cu_fns_find(f, da);
  /* Deep, once per CU at most, and only for an address in none of the
  ** functions found so far but in the CU's own ranges: libdwfl (0.188) gives
  ** an address past a CU's last range (_start, say, from crt1.o without
  ** DWARF, at the bottom of every stack) to that CU. Assembly code of the
  ** CU still lands here; a CU without ranges (-1) is given the benefit. */
  if (fn == NULL && !f->deep && dwarf_haspc(cu, da) != 0) {
    ft_cu_fns_build(cu, f, 1);
    fn = ft_cu_fns_find(f, da);
  }
  if (fn == NULL || ft_inl_push(x, fn) != 0) return;
  ft_inl_descend(x, fn, da, 0);
  /* A cut chain would name an outer function as the innermost one. */
  if (x->chain_oom) x->nchain = 0;
}

static void ft_inl_ctx_free(ft_inl_ctx *x) {
  for (size_t i = 0; i < x->ncus; i++) {
    free(x->cus[i]->r);
    free(x->cus[i]);
  }
  free(x->cus);
  free(x->chain);
  memset(x, 0, sizeof *x);
}

/* Demangled name of the function die is (a subprogram) or is an instance of
** (an inlined subroutine): the linkage name, found through the abstract
** origin and the in-class declaration, as C++ has it; else DW_AT_name.
** malloc'd, or NULL. */
static char *ft_die_function(Dwarf_Die *die) {
  Dwarf_Attribute am;
  const char *link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &am));
  if (link == NULL) link = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &am));
  char *out = link ? ft_demangle(link) : NULL;
  if (out != NULL) return out;
  const char *name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &am));
  if (name == NULL) name = link; /* mangled, but better than nothing */
  return name ? strdup(name) : NULL;
}

/* Call site of inlined subroutine inl: file (from its CU's file table) and
** line. Sets *file NULL when either is unknown. */
static void ft_die_call_site(Dwarf_Die *inl, const char **file, int *line) {
  Dwarf_Attribute am;
  Dwarf_Word fidx, ln;
  Dwarf_Die cu;
  Dwarf_Files *files;
  size_t nfiles;
  *file = NULL;
  *line = 0;
  if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &am), &fidx) != 0 ||
      dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &am), &ln) != 0 || ln == 0 || ln > INT32_MAX)
    return;
  if (dwarf_diecu(inl, &cu, NULL, NULL) == NULL || dwarf_getsrcfiles(&cu, &files, &nfiles) != 0 ||
      fidx >= nfiles)
    return;
  const char *f = dwarf_filesrc(files, fidx, NULL, NULL);
  if (f == NULL || f[0] == '\0') return;
  *file = f;
  *line = (int)ln;
}

/* When Dwfl address a of mod is in inlined code, make r->function the
** innermost inlined function and fill r->inl; r->function on entry (the
** symbol table's name) becomes the outermost level's. Otherwise, or when
** the DWARF says too little, r is left as it is. */
static void ft_sym_resolve_inline(Dwfl_Module *mod, ft_cu_index *ix, ft_inl_ctx *x, GElf_Addr a,
                                  ft_sym_result *r) {
  Dwarf_Addr bias = 0;
  Dwarf_Die *cu = dwfl_module_addrdie(mod, a, &bias);
  if (cu == NULL) cu = ft_cu_index_cu(mod, ix, a, &bias); /* no .debug_aranges */
  if (cu == NULL) return;
  ft_inl_chain(x, cu, a - bias);
  if (x->nchain < 2) return; /* not in inlined code */
  size_t k = x->nchain - 1;   /* inlined levels: chain[1..k] */
  char *inner = ft_die_function(&x->chain[k]);
  if (inner == NULL) return; /* nameless: keep the symbol table's answer */
  ft_inl_frame *fr = calloc(k, sizeof *fr);
  if (fr == NULL) {
    free(inner);
    return;
  }
  /* Level j is chain[k - j], called from chain[k - j + 1]'s call site. */
  for (size_t j = 1; j <= k; j++) {
    ft_inl_frame *f = &fr[j - 1];
    if (j == k && r->function != NULL) {
      /* The real function: named as a non-inlined address of it would be
      ** (e.g. foo.cold, foo.part.0), so the two group together. */
      f->function = r->function;
      r->function = NULL;
    } else {
      f->function = ft_die_function(&x->chain[k - j]);
    }
    ft_die_call_site(&x->chain[k - j + 1], &f->file, &f->line);
  }
  free(r->function);
  r->function = inner;
  r->inl = fr;
  r->ninl = k;
}

/* Resolve Dwfl address a of mod: function name (demangled), source line and
** inline chain. */
static void ft_sym_resolve(Dwfl_Module *mod, ft_symtab *syms, ft_cu_index *ix, ft_inl_ctx *inl,
                           GElf_Addr a, ft_sym_result *r) {
  memset(r, 0, sizeof *r);
  const char *name = ft_symtab_find(mod, syms, a);
  if (name != NULL && name[0] != '\0') {
    /* glibc's .symtab names versioned definitions "fopen@@GLIBC_2.2.5"; the
    ** version is not part of the function's name (nor of a mangled one). */
    size_t n = strcspn(name, "@");
    char *plain = n > 0 ? strndup(name, n) : NULL;
    if (plain != NULL) {
      r->function = ft_demangle(plain);
      if (r->function == NULL) r->function = plain; /* not C++: keep as is */
      else free(plain);
    }
  }
  Dwfl_Line *ln = dwfl_module_getsrc(mod, a);
  int line = 0;
  const char *src = NULL;
  if (ln != NULL) {
    src = dwfl_lineinfo(ln, NULL, &line, NULL, NULL, NULL);
  } else {
    Dwarf_Line *dl = ft_cu_index_line(mod, ix, a);
    if (dl != NULL && dwarf_lineno(dl, &line) == 0) src = dwarf_linesrc(dl, NULL, NULL);
  }
  if (src != NULL && src[0] != '\0' && line > 0) {
    r->src = src;
    r->line = line;
  }
  ft_sym_resolve_inline(mod, ix, inl, a, r);
}

static int ft_sym_insert(ft_sym_ctx *c, const ft_sym_lookup *l, const ft_sym_result *r, const char *module) {
  sqlite3_stmt *s = c->ins_sym;
  sqlite3_bind_int64(s, 1, l->proc);
  sqlite3_bind_int64(s, 2, l->pid);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)l->ip);
  if (r->function) sqlite3_bind_text(s, 4, r->function, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(s, 4);
  if (r->src) {
    sqlite3_bind_text(s, 5, r->src, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 6, r->line);
  } else {
    sqlite3_bind_null(s, 5);
    sqlite3_bind_null(s, 6);
  }
  if (module) sqlite3_bind_text(s, 7, module, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(s, 7);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return ft_sym_dberr(c, "inserting symbols");
  s = c->ins_inl;
  for (size_t i = 0; i < r->ninl; i++) {
    const ft_inl_frame *f = &r->inl[i];
    sqlite3_bind_int64(s, 1, l->proc);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)l->ip);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)(i + 1));
    if (f->function) sqlite3_bind_text(s, 4, f->function, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(s, 4);
    if (f->file) {
      sqlite3_bind_text(s, 5, f->file, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int(s, 6, f->line);
    } else {
      sqlite3_bind_null(s, 5);
      sqlite3_bind_null(s, 6);
    }
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return ft_sym_dberr(c, "inserting inline_frames");
  }
  if (c->st) {
    c->st->ips++;
    if (r->function) c->st->resolved++;
    if (r->src) c->st->with_line++;
    if (r->ninl) c->st->inlined++;
  }
  return 0;
}

/* Record the build-id of file f on its mappings rows that have none yet. */
static int ft_sym_store_build_id(ft_sym_ctx *c, const ft_sym_file *f, const char *hex) {
  sqlite3_stmt *s = c->upd_build_id;
  sqlite3_bind_text(s, 1, hex, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, f->path, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? 0 : ft_sym_dberr(c, "updating mappings.build_id");
}

/* Order one file's lookups: unresolvable first, then by Dwfl address, so an
** address shared by many processes (forks, one library) is resolved once. */
static int ft_lookup_addr_cmp(const void *a, const void *b) {
  const ft_sym_lookup *x = a, *y = b;
  if (x->resolvable != y->resolvable) return x->resolvable < y->resolvable ? -1 : 1;
  if (x->addr != y->addr) return x->addr < y->addr ? -1 : 1;
  return 0;
}

/* Resolve lookups [a, b), all in mappings of file fi, opening the file once;
** also stores the file's build-id. With a == b only the build-id is done. */
static int ft_sym_do_file(ft_sym_ctx *c, size_t fi, size_t a, size_t b) {
  const ft_sym_file *f = &c->files[fi];
  Dwfl *dwfl = NULL;
  Dwfl_Module *mod = NULL;
  Elf *elf = NULL;
  GElf_Addr bias = 0;
  char bid[256] = "";
  int rc = 0;

  if (ft_sym_open_module(f->path, &dwfl, &mod) == 0) {
    elf = dwfl_module_getelf(mod, &bias);
    if (ft_sym_build_id(mod, bid, sizeof bid) == 0 && f->needs_build_id)
      rc = ft_sym_store_build_id(c, f, bid);
  }

  for (size_t i = a; i < b; i++) {
    ft_sym_lookup *l = &c->lk[i];
    const ft_sym_map *m = &c->maps[l->map];
    assert(l->file == (ptrdiff_t)fi && m->file == fi);
    uint64_t link;
    l->resolvable = 0;
    l->addr = 0;
    if (elf == NULL) continue;
    /* A build-id recorded at trace time that differs from the file's means
    ** the file on disk is not the one that was mapped. */
    if (m->recorded_build_id != NULL && strcasecmp(m->recorded_build_id, bid) != 0) continue;
    if (ft_sym_to_link(elf, m, l->ip - 1, &link) != 0) continue;
    l->addr = link + bias;
    l->resolvable = dwfl_addrmodule(dwfl, l->addr) == mod;
  }
  if (b - a > 1) qsort(c->lk + a, b - a, sizeof *c->lk, ft_lookup_addr_cmp);

  ft_symtab syms = {0};
  ft_cu_index cuix = {0};
  ft_inl_ctx inl = {0};
  ft_sym_result cur = {0}; /* result for cur_addr, reused while it repeats */
  GElf_Addr cur_addr = 0;
  int have_cur = 0;
  for (size_t i = a; i < b && rc == 0; i++) {
    const ft_sym_lookup *l = &c->lk[i];
    static const ft_sym_result none;
    if (!l->resolvable) {
      rc = ft_sym_insert(c, l, &none, f->path);
      continue;
    }
    if (!have_cur || l->addr != cur_addr) {
      ft_sym_result_free(&cur);
      ft_sym_resolve(mod, &syms, &cuix, &inl, l->addr, &cur);
      cur_addr = l->addr;
      have_cur = 1;
    }
    rc = ft_sym_insert(c, l, &cur, f->path);
  }
  ft_sym_result_free(&cur);
  ft_symtab_free(&syms);
  ft_inl_ctx_free(&inl);
  ft_cu_index_free(&cuix);
  if (dwfl) dwfl_end(dwfl);
  return rc;
}

/* ---- driver --------------------------------------------------------------- */

static int ft_sym_run(ft_sym_ctx *c) {
  if (ft_sym_load_maps(c) != 0 || ft_sym_load_lookups(c) != 0) return -1;

  if (sqlite3_prepare_v2(c->db,
        "INSERT OR IGNORE INTO symbols(proc, pid, ip, function, file, line, module)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &c->ins_sym, NULL) != SQLITE_OK)
    return ft_sym_dberr(c, "preparing symbols insert");
  if (sqlite3_prepare_v2(c->db,
        "INSERT OR IGNORE INTO inline_frames(proc, ip, level, function, file, line)"
        " VALUES (?, ?, ?, ?, ?, ?)", -1, &c->ins_inl, NULL) != SQLITE_OK)
    return ft_sym_dberr(c, "preparing inline_frames insert");
  if (sqlite3_prepare_v2(c->db,
        "UPDATE mappings SET build_id = ? WHERE path = ? AND build_id IS NULL",
        -1, &c->upd_build_id, NULL) != SQLITE_OK)
    return ft_sym_dberr(c, "preparing mappings update");

  if (c->nlk > 1) qsort(c->lk, c->nlk, sizeof *c->lk, ft_lookup_cmp);

  size_t i = 0;
  /* IPs outside any named mapping (anonymous/JIT code, unrecorded maps). */
  for (; i < c->nlk && c->lk[i].file < 0; i++) {
    ft_sym_result none = {0};
    if (ft_sym_insert(c, &c->lk[i], &none, NULL) != 0) return -1;
  }
  /* Then file by file, including files with no IPs (for their build-id). */
  for (size_t fi = 0; fi < c->nfiles; fi++) {
    size_t a = i;
    while (i < c->nlk && c->lk[i].file == (ptrdiff_t)fi) i++;
    if (a == i && !c->files[fi].needs_build_id) continue;
    if (ft_sym_do_file(c, fi, a, i) != 0) return -1;
  }
  assert(i == c->nlk);
  return 0;
}

int ft_symbolize_trace(sqlite3 *db, ft_symbolize_stats *st, char *err, size_t errlen) {
  assert(db != NULL);
  ft_sym_ctx c;
  memset(&c, 0, sizeof c);
  c.db = db;
  c.st = st;
  c.err = err;
  c.errlen = errlen;
  if (st) memset(st, 0, sizeof *st);
  if (err && errlen) err[0] = '\0';

  /* With no transaction open, our own, IMMEDIATE: a deferred one (what a
  ** bare savepoint starts) reads, then fails to upgrade to writing with
  ** SQLITE_BUSY at once, busy handler or not, when another process is
  ** importing into the same trace (waiting could deadlock). Inside the
  ** caller's transaction, a savepoint nests. */
  int own_tx = sqlite3_get_autocommit(db);
  if (ft_sym_exec(&c, own_tx ? "BEGIN IMMEDIATE" : "SAVEPOINT ft_symbolize") != 0) return -1;
  int rc = ft_sym_run(&c);
  sqlite3_finalize(c.ins_sym);
  sqlite3_finalize(c.ins_inl);
  sqlite3_finalize(c.upd_build_id);
  if (rc == 0) {
    rc = ft_sym_exec(&c, own_tx ? "COMMIT" : "RELEASE ft_symbolize");
  }
  if (rc != 0) {
    /* Keep the first error message; the rollback's own is secondary. */
    sqlite3_exec(db, own_tx ? "ROLLBACK" : "ROLLBACK TO ft_symbolize; RELEASE ft_symbolize", NULL, NULL, NULL);
    if (st) memset(st, 0, sizeof *st);
  }

  for (size_t i = 0; i < c.nfiles; i++) free(c.files[i].path);
  for (size_t i = 0; i < c.nmaps; i++) free(c.maps[i].recorded_build_id);
  free(c.files);
  free(c.maps);
  free(c.lk);
  return rc;
}
