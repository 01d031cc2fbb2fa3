/*
** ft_sampler.c — the shim's sampler thread: RSS from /proc/self/statm, glibc's
** mallinfo2() when glibc is the allocator, and the text sources of
** ft_sources.c (buddyinfo, pagetypeinfo, meminfo, vmstat, slabinfo,
** smaps_rollup), each on its own interval (ft_config.h). Like the writer it
** keeps its recursion guard set for life, so nothing it does is recorded, and
** it allocates nothing from the heap.
*/
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/prctl.h>

#include "ft_prim.h"
#include "ft_shim.h"
#include "ft_sources.h"

void ft_shim_guard_forever(void); /* ft_shim.c: mark the calling thread as ours */

/* The sources' chunks go to this image's spill. */
static void spill_sink(void *ctx, uint32_t type, const void *a, size_t alen, const void *b, size_t blen) {
  (void)ctx;
  ft_spill_append(type, 0, a, alen, b, blen);
}

/* RSS and VM size from /proc/self/statm. Returns 0, or -1 with errno. */
static int sample_statm(void) {
  char statm[256];
  uint64_t t = ft_now_ns() - ft_g.start_mono;
  if (ft_read_small_file("/proc/self/statm", statm, sizeof statm) <= 0) return -1;
  /* "size resident ..." in pages; parsed here because it is two numbers. */
  uint64_t v[2] = {0, 0};
  const char *p = statm;
  for (int i = 0; i < 2; i++) {
    while (*p == ' ') p++;
    while (*p >= '0' && *p <= '9') v[i] = v[i] * 10 + (uint64_t)(*p++ - '0');
  }
  ft_sample s = {t, v[1] * (uint64_t)ft_g.page_size, v[0] * (uint64_t)ft_g.page_size,
                 atomic_load(&ft_g.shim_bytes)};
  ft_spill_append(FT_CHUNK_SAMPLE, 0, &s, sizeof s, NULL, 0);
  return 0;
}

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define FT_HAVE_MALLINFO2 1
typedef struct mallinfo2 (*ft_mallinfo2_fn)(void);
#else
#define FT_HAVE_MALLINFO2 0
typedef void (*ft_mallinfo2_fn)(void);
#endif

/* mallinfo2() describes glibc's heap only: find the malloc the program really
** uses (the next after the shim, as the hooks resolve it) and accept it only
** when it lives in libc. Returns the function, or NULL with why[] filled. */
static ft_mallinfo2_fn find_mallinfo2(char *why, size_t cap) {
  void *m = dlsym(RTLD_NEXT, "malloc");
  Dl_info info;
  const char *lib = NULL;
  if (m && dladdr(m, &info) && info.dli_fname) lib = info.dli_fname;
  const char *base = lib ? strrchr(lib, '/') : NULL;
  base = base ? base + 1 : lib;
  if (!base || (strncmp(base, "libc.so", 7) != 0 && strncmp(base, "libc-", 5) != 0)) {
    const char *a = "malloc is not glibc's: it resolves to ";
    size_t n = strlen(a), l = lib ? strlen(lib) : 7;
    if (n + l + 1 > cap) l = cap - n - 1;
    memcpy(why, a, n);
    memcpy(why + n, lib ? lib : "unknown", l);
    why[n + l] = 0;
    return NULL;
  }
  ft_mallinfo2_fn f = FT_HAVE_MALLINFO2 ? (ft_mallinfo2_fn)dlsym(RTLD_NEXT, "mallinfo2") : NULL;
  if (!f) {
    const char *a = "no mallinfo2 in this libc (glibc < 2.33)";
    size_t n = strlen(a) < cap - 1 ? strlen(a) : cap - 1;
    memcpy(why, a, n);
    why[n] = 0;
  } else {
    size_t n = strlen(lib) < cap - 1 ? strlen(lib) : cap - 1;
    memcpy(why, lib, n);
    why[n] = 0;
  }
  return f;
}

/* One mallinfo2() snapshot into the spill. */
static void sample_mallinfo(ft_mallinfo2_fn f) {
#if FT_HAVE_MALLINFO2
  uint64_t t = ft_now_ns() - ft_g.start_mono;
  struct mallinfo2 mi = f();
  ft_mallinfo x = {t, mi.arena, mi.ordblks, mi.smblks, mi.hblks, mi.hblkhd,
                   mi.usmblks, mi.fsmblks, mi.uordblks, mi.fordblks, mi.keepcost};
  ft_spill_append(FT_CHUNK_MALLINFO, 0, &x, sizeof x, NULL, 0);
#else
  (void)f;
#endif
}

/* State of the process-only sources (the text ones are in ft_sources). */
typedef struct ft_proc_src {
  uint64_t statm_iv, mall_iv;     /* ns; 0 = off */
  uint64_t statm_next, mall_next; /* ns since image start */
  uint64_t statm_last, mall_last; /* last read, ns since image start; UINT64_MAX never */
  ft_mallinfo2_fn mall;           /* NULL: mallinfo off or skipped */
} ft_proc_src;

/* Note statm and mallinfo once, and find mallinfo2. */
static void proc_sources_init(ft_proc_src *p) {
  memset(p, 0, sizeof *p);
  p->statm_last = p->mall_last = UINT64_MAX;
  p->statm_iv = (uint64_t)ft_g.cfg.sample_ms * 1000000u;
  p->mall_iv = (uint64_t)ft_g.cfg.mallinfo_ms * 1000000u;
  if (!p->statm_iv) ft_sources_note(spill_sink, NULL, FT_SRC_STATM, FT_SRCST_OFF, 0, 0, NULL);
  if (!p->mall_iv) {
    ft_sources_note(spill_sink, NULL, FT_SRC_MALLINFO, FT_SRCST_OFF, 0, 0, NULL);
    return;
  }
  char why[FT_PATH_MAX];
  p->mall = find_mallinfo2(why, sizeof why);
  ft_sources_note(spill_sink, NULL, FT_SRC_MALLINFO, p->mall ? FT_SRCST_OK : FT_SRCST_SKIPPED, 0,
                  (uint32_t)ft_g.cfg.mallinfo_ms, why);
  if (!p->mall) p->mall_iv = 0;
}

/* Read the process sources that are due at now (ns since image start).
** Returns the earliest next due time, UINT64_MAX when none is on. */
static uint64_t proc_sources_run(ft_proc_src *p, uint64_t now, int *statm_noted) {
  uint64_t soonest = UINT64_MAX;
  if (p->statm_iv) {
    if (now >= p->statm_next) {
      int r = sample_statm();
      p->statm_last = now;
      if (!*statm_noted) {
        int err = r ? errno : 0;
        ft_sources_note(spill_sink, NULL, FT_SRC_STATM, r ? FT_SRCST_UNREADABLE : FT_SRCST_OK, err,
                        (uint32_t)ft_g.cfg.sample_ms, "/proc/self/statm");
        *statm_noted = 1;
      }
      ft_sources_advance(&p->statm_next, now, p->statm_iv);
    }
    soonest = p->statm_next;
  }
  if (p->mall_iv) {
    if (now >= p->mall_next) {
      sample_mallinfo(p->mall);
      p->mall_last = now;
      ft_sources_advance(&p->mall_next, now, p->mall_iv);
    }
    if (p->mall_next < soonest) soonest = p->mall_next;
  }
  return soonest;
}

/* Whether a source (last read at last, UINT64_MAX never) misses a last sample at now. */
static int stale(uint64_t last, uint64_t now) { return last == UINT64_MAX || now - last > FT_SOURCES_FINAL_FRESH_NS; }

/* The sampler is stopping (exit, or stepping aside for unshare/setns):
** unless every process source was just read, make them all due now, so a
** short run or the slow sources (smaps_rollup, mallinfo: 1 s) still have a
** sample at its end, not only their start-up one. */
static void proc_sources_due_final(ft_proc_src *p, ft_sources *src, uint64_t now_mono) {
  uint64_t now = now_mono - ft_g.start_mono;
  if (!ft_sources_stale(src, now_mono, FT_SOURCES_FINAL_FRESH_NS, 1) && !(p->statm_iv && stale(p->statm_last, now)) &&
      !(p->mall_iv && stale(p->mall_last, now)))
    return;
  ft_sources_due_now(src, 1);
  p->statm_next = p->mall_next = 0;
}

int ft_sampler_wanted(void) {
  const ft_config *c = &ft_g.cfg;
  return c->sample_ms > 0 || c->sys_sample_ms > 0 || c->pagetypeinfo_ms > 0 || c->slabinfo_ms > 0 ||
         c->smaps_ms > 0 || c->mallinfo_ms > 0;
}

void *ft_sampler_main(void *arg) {
  (void)arg;
  ft_shim_guard_forever();
  /* Named so the sampler's own CPU time can be measured (tests/bench/sampler.sh). */
  prctl(PR_SET_NAME, "ft-sampler", 0, 0, 0);
  ft_sources src;
  ft_proc_src ps;
  int statm_noted = 0;
  ft_sources_init(&src, &ft_g.cfg, 1, ft_g.start_mono);
  pthread_mutex_lock(&ft_g.drain_lock);
  proc_sources_init(&ps);
  pthread_mutex_unlock(&ft_g.drain_lock);
  /* The first pass always runs, even when the program is already exiting:
  ** it writes the notes of which sources are on, off or unreadable. */
  for (int first = 1;; first = 0) {
    /* Read the word before `stop`: a stop after this read changes the word,
    ** so the wait below returns at once instead of sleeping an interval. */
    unsigned w = atomic_load(&ft_g.sampler_word);
    if (!first && atomic_load(&ft_g.stop)) break;
    uint64_t now = ft_now_ns();
    /* Under the drain lock so no chunk lands after an exec flush's EXEC chunk. */
    pthread_mutex_lock(&ft_g.drain_lock);
    uint64_t next = UINT64_MAX;
    if (first || !atomic_load(&ft_g.stop)) {
      next = ft_sources_run(&src, now, spill_sink, NULL);
      /* Exact totals no older than the RSS sample that follows: the importer
      ** gives each sample the latest totals at or before it. */
      ft_spill_totals(0);
      uint64_t pn = proc_sources_run(&ps, now - ft_g.start_mono, &statm_noted);
      if (pn != UINT64_MAX && pn + ft_g.start_mono < next) next = pn + ft_g.start_mono;
    }
    pthread_mutex_unlock(&ft_g.drain_lock);
    now = ft_now_ns();
    /* A stop that came before `w` was read (during the first pass, which
    ** always runs) would not wake the wait below: look again first. A
    ** short-lived process otherwise exits a whole interval late. */
    if (next <= now || atomic_load(&ft_g.stop)) continue;
    ft_futex_wait(&ft_g.sampler_word, w, next == UINT64_MAX ? 0 : next - now);
  }
  /* The last pass, under the drain lock and before the exit path writes its
  ** EXIT chunk (ft_background_stop joins this thread first). */
  pthread_mutex_lock(&ft_g.drain_lock);
  ft_spill_totals(1); /* the final RSS sample below gets the final totals */
  uint64_t now = ft_now_ns();
  proc_sources_due_final(&ps, &src, now);
  ft_sources_run(&src, now, spill_sink, NULL);
  proc_sources_run(&ps, now - ft_g.start_mono, &statm_noted);
  pthread_mutex_unlock(&ft_g.drain_lock);
  ft_sources_fini(&src);
  return NULL;
}
