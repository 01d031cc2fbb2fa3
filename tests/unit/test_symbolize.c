/*
** test_symbolize.c — ft_symbolize_trace on real processes: this test process
** itself (a PIE executable, plus libc), and the helper tests/helpers/
** ft_symtarget (a non-PIE executable linked with a shared library of ours,
** a stripped copy, and a copy without .debug_aranges). Each builds a trace database from the
** process's /proc/self/maps and return addresses captured at known lines,
** symbolizes it and checks function, file, line, module and build-id. Also
** checks the unresolvable cases (deleted file, data file, anonymous memory,
** no mapping) and ft_demangle. The helpers ft_inltarget and
** ft_inltarget_cxx (-O2, C and C++) allocate from always_inline functions:
** their IPs must name the inlined function, with the enclosing levels and
** call sites in inline_frames.
*/
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ft_db.h"
#include "ft_procparse.h"
#include "ft_symbolize.h"

/* ---- building a trace ------------------------------------------------------ */

static sqlite3 *ft_new_trace(void) {
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(db, ft_schema_v1_sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("schema: %s", msg);
  return db;
}

static void ft_exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
}

static void ft_add_process(sqlite3 *db, int64_t proc, int64_t pid) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "INSERT INTO processes(proc, pid, start_unix_ns, page_size) VALUES (%" PRId64 ", %" PRId64 ", 0, %ld)",
           proc, pid, sysconf(_SC_PAGESIZE));
  ft_exec(db, sql);
}

static void ft_add_mapping(sqlite3 *db, int64_t proc, int64_t pid, uint64_t start, uint64_t end,
                           uint64_t offset, const char *path, size_t path_len) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(db,
    "INSERT INTO mappings(proc, pid, start, \"end\", file_offset, path) VALUES (?,?,?,?,?,?)",
    -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, proc);
  sqlite3_bind_int64(s, 2, pid);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)start);
  sqlite3_bind_int64(s, 4, (sqlite3_int64)end);
  sqlite3_bind_int64(s, 5, (sqlite3_int64)offset);
  if (path && path_len) sqlite3_bind_text(s, 6, path, (int)path_len, SQLITE_TRANSIENT);
  else sqlite3_bind_null(s, 6);
  assert_int_equal(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
}

/* Insert every line of a maps text as mappings rows (as the importer does). */
static void ft_add_maps(sqlite3 *db, int64_t proc, int64_t pid, const char *text, size_t len) {
  const char *p = text, *end = text + len;
  int n = 0;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    ft_map_entry e;
    if (eol > p) {
      if (ft_parse_maps_line(p, (size_t)(eol - p), &e) != 0) fail_msg("maps line: %.*s", (int)(eol - p), p);
      ft_add_mapping(db, proc, pid, e.start, e.end, e.offset, e.path, e.path_len);
      n++;
    }
    p = nl ? nl + 1 : end;
  }
  assert_true(n > 3);
}

static void ft_add_stack(sqlite3 *db, int64_t stack_id, int64_t proc, const uintptr_t *ips, int n) {
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO stacks(stack_id, proc, depth) VALUES (%" PRId64 ", %" PRId64 ", %d)",
           stack_id, proc, n);
  ft_exec(db, sql);
  for (int i = 0; i < n; i++) {
    snprintf(sql, sizeof sql, "INSERT INTO stack_frames(stack_id, depth, ip) VALUES (%" PRId64 ", %d, %" PRId64 ")",
             stack_id, i, (int64_t)ips[i]);
    ft_exec(db, sql);
  }
}

/* One symbols row, copied out; has_* say which columns were not NULL. */
typedef struct ft_sym_row {
  int found;
  int has_function, has_file, has_line, has_module;
  char function[512], file[4096], module[4096];
  int line;
} ft_sym_row;

static ft_sym_row ft_get_symbol(sqlite3 *db, int64_t proc, uintptr_t ip) {
  ft_sym_row r;
  memset(&r, 0, sizeof r);
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(db,
    "SELECT function, file, line, module FROM symbols WHERE proc = ? AND ip = ?", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, proc);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)ip);
  if (sqlite3_step(s) == SQLITE_ROW) {
    r.found = 1;
    const char *t;
    if ((t = (const char *)sqlite3_column_text(s, 0))) { r.has_function = 1; snprintf(r.function, sizeof r.function, "%s", t); }
    if ((t = (const char *)sqlite3_column_text(s, 1))) { r.has_file = 1; snprintf(r.file, sizeof r.file, "%s", t); }
    if (sqlite3_column_type(s, 2) != SQLITE_NULL) { r.has_line = 1; r.line = sqlite3_column_int(s, 2); }
    if ((t = (const char *)sqlite3_column_text(s, 3))) { r.has_module = 1; snprintf(r.module, sizeof r.module, "%s", t); }
  }
  sqlite3_finalize(s);
  return r;
}

static int64_t ft_count(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

static int ft_ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void ft_assert_ends_with(const char *s, const char *suffix) {
  if (!ft_ends_with(s, suffix)) fail_msg("'%s' does not end with '%s'", s, suffix);
}

/* The build-id of every mappings row of path must be the same hex string. */
static void ft_assert_build_id(sqlite3 *db, int64_t proc, const char *path) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(db,
    "SELECT build_id FROM mappings WHERE proc = ? AND path = ?", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, proc);
  sqlite3_bind_text(s, 2, path, -1, SQLITE_TRANSIENT);
  char first[256] = "";
  int rows = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *b = (const char *)sqlite3_column_text(s, 0);
    if (b == NULL) fail_msg("no build_id for %s", path);
    size_t n = strlen(b); /* 40 for the usual SHA-1 ids; md5/uuid are shorter */
    assert_true(n >= 16 && n % 2 == 0);
    assert_int_equal(strspn(b, "0123456789abcdef"), n);
    if (rows++ == 0) snprintf(first, sizeof first, "%s", b);
    else assert_string_equal(b, first);
  }
  sqlite3_finalize(s);
  assert_true(rows > 0);
}

static int ft_count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int n = 0;
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

static char *ft_slurp(FILE *f, size_t *len) {
  size_t cap = 1 << 16, n = 0, k;
  char *buf = malloc(cap);
  assert_non_null(buf);
  while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) {
      buf = realloc(buf, cap *= 2);
      assert_non_null(buf);
    }
  }
  *len = n;
  return buf;
}

/* ---- this process: PIE executable and libc --------------------------------- */

/* The return address of this call is in the caller, at the call's line. */
static __attribute__((noinline)) uintptr_t ft_return_address(void) {
  uintptr_t ra = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" : "+r"(ra) : : "memory"); /* keep the call a real call */
  return ra;
}

#define FT_FAKE_DELETED "/nonexistent/fragtrace/libgone.so (deleted)"

static void test_symbolize_self(void **state) {
  (void)state;
  uintptr_t own_ip = ft_return_address(); int own_line = __LINE__;
  uintptr_t malloc_ip = (uintptr_t)&malloc + 1; /* as if returning to malloc's first byte */
  void *heap_obj = malloc(64);

  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  size_t len;
  char *maps = ft_slurp(f, &len);
  fclose(f);

  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  assert_true(n > 0);
  exe[n] = '\0';

  sqlite3 *db = ft_new_trace();
  const int64_t proc = 1, pid = getpid();
  ft_add_process(db, proc, pid);
  ft_add_maps(db, proc, pid, maps, len);
  /* Below mmap_min_addr, so clear of the real mappings: a deleted library, a
  ** text file that is not ELF, and a directory. */
  const char *txt = FT_FIXTURES "/statm_x86_64.txt";
  ft_add_mapping(db, proc, pid, 0x1000, 0x2000, 0, FT_FAKE_DELETED, strlen(FT_FAKE_DELETED));
  ft_add_mapping(db, proc, pid, 0x3000, 0x4000, 0, txt, strlen(txt));
  ft_add_mapping(db, proc, pid, 0x5000, 0x6000, 0, "/", 1);
  /* Where does the heap object live: [heap] or an anonymous mmap? */
  int in_heap = 0;
  for (const char *p = maps; p < maps + len;) {
    const char *nl = memchr(p, '\n', (size_t)(maps + len - p));
    ft_map_entry e;
    if (nl && ft_parse_maps_line(p, (size_t)(nl - p), &e) == 0 && (uintptr_t)heap_obj >= e.start &&
        (uintptr_t)heap_obj < e.end)
      in_heap = e.path_len == 6 && memcmp(e.path, "[heap]", 6) == 0;
    p = nl ? nl + 1 : maps + len;
  }

  const uintptr_t ips[] = {own_ip, malloc_ip, (uintptr_t)heap_obj + 1, 0x1101, 0x3101, 0x5101, 0x7101};
  ft_add_stack(db, 10, proc, ips, 7);
  ft_add_stack(db, 11, proc, ips, 2); /* repeated IPs are looked up once */

  ft_symbolize_stats st;
  char err[256];
  int fds_before = ft_count_fds();
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(ft_count_fds(), fds_before); /* every file it opened is closed */
  assert_int_equal(st.ips, 7);
  assert_true(st.resolved == 2);
  assert_true(st.with_line >= 1); /* libc's lines need libc6-dbg */
  assert_int_equal(ft_count(db, "SELECT count(*) FROM symbols"), 7);

  ft_sym_row r = ft_get_symbol(db, proc, own_ip);
  assert_true(r.found && r.has_function && r.has_file && r.has_line && r.has_module);
  assert_string_equal(r.function, "test_symbolize_self");
  ft_assert_ends_with(r.file, "test_symbolize.c");
  assert_int_equal(r.line, own_line);
  assert_string_equal(r.module, exe);

  /* malloc is libc's, or a sanitizer runtime's when built with one. The
  ** kernel names files by their real path, ld.so by the path it opened. */
  r = ft_get_symbol(db, proc, malloc_ip);
  assert_true(r.found && r.has_function && r.has_module);
  if (strstr(r.function, "malloc") == NULL) fail_msg("malloc resolved to '%s'", r.function);
  Dl_info dli;
  assert_true(dladdr((void *)(malloc_ip - 1), &dli) != 0 && dli.dli_fname != NULL);
  char want[PATH_MAX], got[PATH_MAX];
  assert_non_null(realpath(dli.dli_fname, want));
  assert_non_null(realpath(r.module, got));
  assert_string_equal(got, want);
  if (ft_ends_with(r.module, "/libc.so.6") && r.has_file) ft_assert_ends_with(r.file, "malloc.c");

  r = ft_get_symbol(db, proc, (uintptr_t)heap_obj + 1);
  assert_true(r.found && !r.has_function && !r.has_file && !r.has_line);
  if (in_heap) assert_string_equal(r.module, "[heap]");

  /* deleted file, data file, directory: module known, nothing else */
  const uintptr_t fakes[] = {0x1101, 0x3101, 0x5101};
  const char *fake_mods[] = {FT_FAKE_DELETED, txt, "/"};
  for (int i = 0; i < 3; i++) {
    r = ft_get_symbol(db, proc, fakes[i]);
    assert_true(r.found && r.has_module && !r.has_function && !r.has_file && !r.has_line);
    assert_string_equal(r.module, fake_mods[i]);
  }
  /* no mapping at all: a row of NULLs, so it is not looked up again */
  r = ft_get_symbol(db, proc, 0x7101);
  assert_true(r.found && !r.has_module && !r.has_function);

  ft_assert_build_id(db, proc, exe);
  assert_int_equal(ft_count(db, "SELECT count(*) FROM mappings WHERE path LIKE '%/libc.so.6' AND build_id IS NULL"), 0);
  assert_int_equal(ft_count(db, "SELECT count(*) FROM mappings WHERE path NOT LIKE '/%' AND build_id IS NOT NULL"), 0);

  /* The call_sites view joins it all up. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM call_sites WHERE stack_id = 10 AND depth = 0 AND function = 'test_symbolize_self'"
           " AND line = %d", own_line);
  assert_int_equal(ft_count(db, sql), 1);

  /* A second run has nothing left to do and changes nothing. */
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, 0);
  assert_int_equal(ft_count(db, "SELECT count(*) FROM symbols"), 7);

  sqlite3_close(db);
  free(maps);
  free(heap_obj);
}

/* ---- the helper: non-PIE executable, shared library, stripped copy --------- */

typedef struct ft_target_run {
  int64_t pid;
  uintptr_t exe_ip, lib_ip;
  int exe_line, lib_line;
  char *maps;
  size_t maps_len;
} ft_target_run;

static void ft_run_target(const char *path, ft_target_run *t) {
  memset(t, 0, sizeof *t);
  FILE *p = popen(path, "r");
  assert_non_null(p);
  size_t len;
  char *out = ft_slurp(p, &len);
  assert_int_equal(pclose(p), 0);
  char *nul = memchr(out, '\0', len);
  assert_null(nul);
  out = realloc(out, len + 1);
  out[len] = '\0';

  char fn[64];
  uintptr_t ip;
  int line, frames = 0;
  char *s = out;
  assert_int_equal(sscanf(s, "pid %" SCNd64, &t->pid), 1);
  while ((s = strchr(s, '\n')) != NULL && sscanf(++s, "frame %" SCNxPTR " %63s %d", &ip, fn, &line) == 3) {
    if (strcmp(fn, "main") == 0) { t->exe_ip = ip; t->exe_line = line; }
    else { t->lib_ip = ip; t->lib_line = line; }
    frames++;
  }
  assert_int_equal(frames, 2);
  assert_non_null(s);
  assert_int_equal(strncmp(s, "maps\n", 5), 0);
  t->maps_len = len - (size_t)(s + 5 - out);
  t->maps = malloc(t->maps_len);
  memcpy(t->maps, s + 5, t->maps_len);
  free(out);
}

/* e_type of an ELF file. */
static int ft_elf_type(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  Elf64_Ehdr eh;
  assert_int_equal(fread(&eh, sizeof eh, 1, f), 1);
  fclose(f);
  assert_int_equal(memcmp(eh.e_ident, ELFMAG, SELFMAG), 0);
  return eh.e_type;
}

static void test_symbolize_nopie_shlib_stripped(void **state) {
  (void)state;
  const char *exe = FT_SYMTARGET;
  char stripped[4096];
  snprintf(stripped, sizeof stripped, "%s_stripped", exe);
  /* Otherwise this would not test what it says. */
  assert_int_equal(ft_elf_type(exe), ET_EXEC);
  assert_int_equal(ft_elf_type(stripped), ET_EXEC);

  char noaranges[4096];
  snprintf(noaranges, sizeof noaranges, "%s_noaranges", exe);

  ft_target_run full, strip, noar;
  ft_run_target(exe, &full);
  ft_run_target(stripped, &strip);
  ft_run_target(noaranges, &noar);

  sqlite3 *db = ft_new_trace();
  ft_add_process(db, 1, full.pid);
  ft_add_maps(db, 1, full.pid, full.maps, full.maps_len);
  const uintptr_t ips1[] = {full.exe_ip, full.lib_ip};
  ft_add_stack(db, 1, 1, ips1, 2);
  ft_add_process(db, 2, strip.pid);
  ft_add_maps(db, 2, strip.pid, strip.maps, strip.maps_len);
  const uintptr_t ips2[] = {strip.exe_ip, strip.lib_ip};
  ft_add_stack(db, 2, 2, ips2, 2);
  ft_add_process(db, 3, noar.pid);
  ft_add_maps(db, 3, noar.pid, noar.maps, noar.maps_len);
  const uintptr_t ips3[] = {noar.exe_ip, noar.lib_ip};
  ft_add_stack(db, 3, 3, ips3, 2);

  ft_symbolize_stats st;
  char err[256];
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, 6);
  assert_int_equal(st.resolved, 5);
  assert_int_equal(st.with_line, 5);

  /* non-PIE: same link and run-time addresses */
  ft_sym_row r = ft_get_symbol(db, 1, full.exe_ip);
  assert_true(r.found && r.has_function && r.has_file && r.has_line);
  assert_string_equal(r.function, "main");
  ft_assert_ends_with(r.file, "ft_symtarget.c");
  assert_int_equal(r.line, full.exe_line);
  assert_string_equal(r.module, exe);

  /* without .debug_aranges, lines are still found */
  r = ft_get_symbol(db, 3, noar.exe_ip);
  assert_true(r.found && r.has_function && r.has_file && r.has_line);
  assert_string_equal(r.function, "main");
  ft_assert_ends_with(r.file, "ft_symtarget.c");
  assert_int_equal(r.line, noar.exe_line);
  assert_string_equal(r.module, noaranges);

  /* the shared library, in three processes at different bases (ASLR) */
  const ft_target_run *runs[] = {&full, &strip, &noar};
  for (int i = 0; i < 3; i++) {
    r = ft_get_symbol(db, i + 1, runs[i]->lib_ip);
    assert_true(r.found && r.has_function && r.has_file && r.has_line);
    assert_string_equal(r.function, "ft_symlib_capture");
    ft_assert_ends_with(r.file, "ft_symlib.c");
    assert_int_equal(r.line, runs[i]->lib_line);
    ft_assert_ends_with(r.module, "/libft_symlib.so");
  }

  /* stripped: no symbol, no line, but the module is known */
  r = ft_get_symbol(db, 2, strip.exe_ip);
  assert_true(r.found && r.has_module && !r.has_function && !r.has_file && !r.has_line);
  assert_string_equal(r.module, stripped);

  ft_assert_build_id(db, 1, exe);
  ft_assert_build_id(db, 2, stripped);

  sqlite3_close(db);
  free(full.maps);
  free(strip.maps);
  free(noar.maps);
}

/* A build-id recorded at trace time that does not match the file on disk
** means the file was replaced: its addresses must not be resolved. */
static void test_symbolize_build_id_mismatch(void **state) {
  (void)state;
  ft_target_run t;
  ft_run_target(FT_SYMTARGET, &t);
  sqlite3 *db = ft_new_trace();
  ft_add_process(db, 1, t.pid);
  ft_add_maps(db, 1, t.pid, t.maps, t.maps_len);
  char sql[4096];
  snprintf(sql, sizeof sql, "UPDATE mappings SET build_id = 'deadbeef' WHERE path = '%s'", FT_SYMTARGET);
  ft_exec(db, sql);
  const uintptr_t ips[] = {t.exe_ip, t.lib_ip};
  ft_add_stack(db, 1, 1, ips, 2);

  ft_symbolize_stats st;
  char err[256];
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, 2);
  assert_int_equal(st.resolved, 1);
  ft_sym_row r = ft_get_symbol(db, 1, t.exe_ip);
  assert_true(r.found && !r.has_function && r.has_module);
  r = ft_get_symbol(db, 1, t.lib_ip);
  assert_true(r.found && r.has_function);
  /* the recorded id is kept */
  snprintf(sql, sizeof sql, "SELECT count(*) FROM mappings WHERE path = '%s' AND build_id <> 'deadbeef'", FT_SYMTARGET);
  assert_int_equal(ft_count(db, sql), 0);
  sqlite3_close(db);
  free(t.maps);
}

/* ---- inlined code: ft_inltarget, ft_inltarget_cxx ------------------------------ */

/* One level of an expected inline chain, as the helper printed it. */
typedef struct ft_want_level {
  char file[256]; /* base name */
  int line;
  char function[256];
} ft_want_level;

/* One call site: its IP, the symbols row (lv[0]) and inline_frames (lv[1..]). */
typedef struct ft_want_site {
  uintptr_t ip;
  int n;
  ft_want_level lv[8];
} ft_want_site;

typedef struct ft_inl_run {
  int64_t pid;
  ft_want_site sites[8];
  int nsites;
  char *maps;
  size_t maps_len;
} ft_inl_run;

/* Run an inline helper and parse its report (format in tests/helpers/
** ft_inltarget.h). */
static void ft_run_inl_target(const char *path, ft_inl_run *t) {
  memset(t, 0, sizeof *t);
  FILE *p = popen(path, "r");
  assert_non_null(p);
  size_t len;
  char *out = ft_slurp(p, &len);
  assert_int_equal(pclose(p), 0);
  assert_null(memchr(out, '\0', len));
  out = realloc(out, len + 1);
  out[len] = '\0';
  char *s = out;
  assert_int_equal(sscanf(s, "pid %" SCNd64, &t->pid), 1);
  while ((s = strchr(s, '\n')) != NULL && strncmp(++s, "maps\n", 5) != 0) {
    uintptr_t ip;
    ft_want_level lv;
    if (sscanf(s, "frame %" SCNxPTR " %255s %d %255[^\n]", &ip, lv.file, &lv.line, lv.function) == 4) {
      assert_true(t->nsites < 8);
      t->sites[t->nsites].ip = ip;
      t->sites[t->nsites++].n = 0;
    } else {
      assert_int_equal(sscanf(s, "inline %255s %d %255[^\n]", lv.file, &lv.line, lv.function), 3);
    }
    assert_true(t->nsites > 0);
    ft_want_site *w = &t->sites[t->nsites - 1];
    assert_true(w->n < 8);
    w->lv[w->n++] = lv;
  }
  assert_non_null(s);
  t->maps_len = len - (size_t)(s + 5 - out);
  t->maps = malloc(t->maps_len);
  memcpy(t->maps, s + 5, t->maps_len);
  free(out);
}

/* fn must be want, or start with it when want ends with '*'. */
static void ft_assert_function(const char *fn, const char *want) {
  size_t n = strlen(want);
  if (n > 0 && want[n - 1] == '*') {
    if (strncmp(fn, want, n - 1) != 0) fail_msg("'%s' does not start with '%.*s'", fn, (int)(n - 1), want);
  } else {
    assert_string_equal(fn, want);
  }
}

/* file must be a path to a file of base name base. */
static void ft_assert_file(const char *file, const char *base) {
  char suffix[300];
  snprintf(suffix, sizeof suffix, "/%s", base);
  ft_assert_ends_with(file, suffix);
}

/* The symbols row and inline_frames rows of (proc, w->ip) are what w says. */
static void ft_assert_site(sqlite3 *db, int64_t proc, const ft_want_site *w) {
  ft_sym_row r = ft_get_symbol(db, proc, w->ip);
  assert_true(r.found && r.has_function && r.has_file && r.has_line);
  ft_assert_function(r.function, w->lv[0].function);
  ft_assert_file(r.file, w->lv[0].file);
  assert_int_equal(r.line, w->lv[0].line);

  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(db,
    "SELECT level, function, file, line FROM inline_frames WHERE proc = ? AND ip = ? ORDER BY level",
    -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, proc);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)w->ip);
  int level = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    level++;
    if (level >= w->n) fail_msg("%s: unexpected inline level %d", w->lv[0].function, level);
    const ft_want_level *lv = &w->lv[level];
    assert_int_equal(sqlite3_column_int(s, 0), level);
    const char *fn = (const char *)sqlite3_column_text(s, 1);
    const char *file = (const char *)sqlite3_column_text(s, 2);
    assert_non_null(fn);
    assert_non_null(file);
    ft_assert_function(fn, lv->function);
    ft_assert_file(file, lv->file);
    assert_int_equal(sqlite3_column_int(s, 3), lv->line);
  }
  sqlite3_finalize(s);
  if (level != w->n - 1) fail_msg("%s: %d inline levels, want %d", w->lv[0].function, level, w->n - 1);
}

/* Count the sites of t that are in inlined code. */
static long ft_inlined_sites(const ft_inl_run *t) {
  long n = 0;
  for (int i = 0; i < t->nsites; i++) n += t->sites[i].n > 1;
  return n;
}

static void test_symbolize_inline(void **state) {
  (void)state;
  char noaranges[4096];
  snprintf(noaranges, sizeof noaranges, "%s_noaranges", FT_INLTARGET);
  const char *paths[] = {FT_INLTARGET, noaranges, FT_INLTARGET_CXX};
  enum { NRUNS = 3 };
  ft_inl_run runs[NRUNS];
  sqlite3 *db = ft_new_trace();
  long want_ips = 0, want_inlined = 0;
  for (int i = 0; i < NRUNS; i++) {
    ft_inl_run *t = &runs[i];
    ft_run_inl_target(paths[i], t);
    /* Otherwise this would not test what it says. */
    assert_true(ft_inlined_sites(t) > 0);
    ft_add_process(db, i + 1, t->pid);
    ft_add_maps(db, i + 1, t->pid, t->maps, t->maps_len);
    uintptr_t ips[8];
    for (int j = 0; j < t->nsites; j++) ips[j] = t->sites[j].ip;
    ft_add_stack(db, i + 1, i + 1, ips, t->nsites);
    want_ips += t->nsites;
    want_inlined += ft_inlined_sites(t);
  }
  /* The C helper: two levels (from a header), one level, none, and with GCC
  ** one in a nested function, found by the deep index of its CU. */
  assert_true(runs[0].nsites >= 3);
  assert_int_equal(runs[0].sites[0].n, 3);
  assert_string_equal(runs[0].sites[0].lv[0].file, "ft_inltarget.h");
  assert_int_equal(runs[0].sites[2].n, 1);

  ft_symbolize_stats st;
  char err[256];
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, want_ips);
  assert_int_equal(st.resolved, want_ips);
  assert_int_equal(st.with_line, want_ips);
  assert_int_equal(st.inlined, want_inlined);
  for (int i = 0; i < NRUNS; i++)
    for (int j = 0; j < runs[i].nsites; j++) ft_assert_site(db, i + 1, &runs[i].sites[j]);

  /* The query schema/README.md gives to expand a stack with its inline
  ** frames lists, innermost first, every level of every site. */
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(db,
    "SELECT c.depth, 0 AS level, c.function, c.file, c.line FROM call_sites c WHERE c.stack_id = ?1"
    " UNION ALL"
    " SELECT f.depth, i.level, i.function, i.file, i.line FROM stack_frames f"
    " JOIN stacks s ON s.stack_id = f.stack_id"
    " JOIN inline_frames i ON i.proc = s.proc AND i.ip = f.ip WHERE f.stack_id = ?1"
    " ORDER BY 1, 2", -1, &s, NULL), SQLITE_OK);
  sqlite3_bind_int64(s, 1, 1);
  int rows = 0;
  for (int j = 0; j < runs[0].nsites; j++) {
    for (int k = 0; k < runs[0].sites[j].n; k++) {
      assert_int_equal(sqlite3_step(s), SQLITE_ROW);
      assert_int_equal(sqlite3_column_int(s, 0), j);
      assert_int_equal(sqlite3_column_int(s, 1), k);
      ft_assert_function((const char *)sqlite3_column_text(s, 2), runs[0].sites[j].lv[k].function);
      assert_int_equal(sqlite3_column_int(s, 4), runs[0].sites[j].lv[k].line);
      rows++;
    }
  }
  assert_int_equal(sqlite3_step(s), SQLITE_DONE);
  sqlite3_finalize(s);
  assert_true(rows >= 6);

  /* A second run adds nothing. */
  int64_t inl_rows = ft_count(db, "SELECT count(*) FROM inline_frames");
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, 0);
  assert_int_equal(ft_count(db, "SELECT count(*) FROM inline_frames"), inl_rows);

  sqlite3_close(db);
  for (int i = 0; i < NRUNS; i++) free(runs[i].maps);
}

/* ---- edge cases ------------------------------------------------------------ */

static void test_symbolize_empty_and_errors(void **state) {
  (void)state;
  ft_symbolize_stats st;
  char err[256];

  sqlite3 *db = ft_new_trace();
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, 0);
  /* stats are optional */
  assert_int_equal(ft_symbolize_trace(db, NULL, NULL, 0), 0);
  /* stacks of a proc with no mappings at all */
  ft_add_process(db, 5, 4242);
  const uintptr_t ips[] = {0, 1, UINTPTR_MAX};
  ft_add_stack(db, 1, 5, ips, 3);
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), 0);
  assert_int_equal(st.ips, 3);
  assert_int_equal(st.resolved, 0);
  sqlite3_close(db);

  /* not a trace */
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  err[0] = '\0';
  assert_int_equal(ft_symbolize_trace(db, &st, err, sizeof err), -1);
  assert_true(strlen(err) > 0);
  assert_null(strchr(err, '\n'));
  /* and the savepoint was released */
  assert_int_equal(sqlite3_get_autocommit(db), 1);
  sqlite3_close(db);
}

static void test_demangle(void **state) {
  (void)state;
  char *s = ft_demangle("_ZN3foo3barEi");
  assert_non_null(s); /* libstdc++.so.6 is installed with g++ */
  assert_string_equal(s, "foo::bar(int)");
  free(s);
  s = ft_demangle("_ZNSt6vectorIiSaIiEE9push_backERKi");
  assert_non_null(s);
  assert_string_equal(s, "std::vector<int, std::allocator<int> >::push_back(int const&)");
  free(s);
  assert_null(ft_demangle("malloc"));
  assert_null(ft_demangle("_Z"));
  assert_null(ft_demangle("_Zgarbage!"));
  assert_null(ft_demangle(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_symbolize_self),
    cmocka_unit_test(test_symbolize_nopie_shlib_stripped),
    cmocka_unit_test(test_symbolize_build_id_mismatch),
    cmocka_unit_test(test_symbolize_inline),
    cmocka_unit_test(test_symbolize_empty_and_errors),
    cmocka_unit_test(test_demangle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
