/*
** ft_shim.c — the interposed functions and the life cycle of a traced image:
** lazy init on the first call, per-thread state, fork, exec and exit.
**
** Hot path contract (malloc, free, ...): no lock, no syscall in the common
** case, no stdio, no malloc of our own. Every call updates the calling
** thread's exact counters (ft_counts: a few adds and one real
** malloc_usable_size). A recorded allocation costs one fenced timestamp
** (rdtscp, or the vDSO clock: see ft_ticks), one unw_backtrace, a hash and one
** 32-byte record in the calling thread's ring; a recorded free, a timestamp
** and a record. Everything else happens on the writer thread or offline.
**
** Production mode (issue 5): with byte sampling (FRAGTRACE_SAMPLE_BYTES) an
** unsampled allocation costs only the countdown subtraction, and a free of an
** unsampled block one filter load (ft_sampling.h); only sampled blocks are
** unwound, written and remembered in the sampled-block table. While recording
** is paused (ft_control.c), allocations are counted but not recorded; frees
** (and munmaps) of recorded blocks still are.
**
** Recursion: tls_guard is set while a hook runs and for the whole life of our
** own threads, so allocations made by libunwind, libc internals we call, or
** the writer are passed straight through and never recorded.
*/
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ft_prim.h"
#include "ft_shim.h"
#include "ft_stack.h"

#define FT_EXPORT __attribute__((visibility("default")))
#define FT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FT_LIKELY(x) __builtin_expect(!!(x), 1)

ft_global ft_g = {.spill_fd = -1, .exit_status = -1, .drain_lock = PTHREAD_MUTEX_INITIALIZER};

static __thread int tls_guard __attribute__((tls_model("initial-exec")));
static __thread ft_thread *tls_thread __attribute__((tls_model("initial-exec")));
static __thread int tls_resolving __attribute__((tls_model("initial-exec")));

extern char **environ;

/* ------------------------------------------------------------------------
** The real functions, found with dlsym(RTLD_NEXT) on first use
** ---------------------------------------------------------------------- */

static struct {
  void *(*malloc)(size_t);
  void (*free)(void *);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  void *(*reallocarray)(void *, size_t, size_t);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  void *(*memalign)(size_t, size_t);
  void *(*valloc)(size_t);
  void *(*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void *);
  void *(*mmap)(void *, size_t, int, int, int, off_t);
  int (*munmap)(void *, size_t);
  void *(*mremap)(void *, size_t, size_t, int, ...);
  int (*execve)(const char *, char *const[], char *const[]);
  int (*execvpe)(const char *, char *const[], char *const[]);
  int (*fexecve)(int, char *const[], char *const[]);
  int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);
  int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                      const posix_spawnattr_t *, char *const[], char *const[]);
  void (*exit_)(int);
  void (*Exit_)(int);
  int (*dlclose)(void *);
  int (*unshare)(int);
  int (*setns)(int, int);
} real;

static _Atomic int resolve_state; /* 0 none, 1 in progress, 2 done */

/* dlsym itself calls calloc/malloc: while resolving, those come from here.
** Blocks carry their size in front; they are never freed. */
static _Alignas(16) char boot_arena[64 * 1024];
static _Atomic size_t boot_used;

static int is_boot(const void *p) {
  return (const char *)p >= boot_arena && (const char *)p < boot_arena + sizeof boot_arena;
}

static void *boot_alloc(size_t n) {
  size_t need = (n + 15) / 16 * 16 + 16;
  size_t at = atomic_fetch_add(&boot_used, need);
  if (at + need > sizeof boot_arena) return NULL;
  *(size_t *)(boot_arena + at) = n;
  return boot_arena + at + 16; /* static storage: already zero, fine for calloc */
}

static size_t boot_size(const void *p) { return *(const size_t *)((const char *)p - 16); }

#define RESOLVE(name) real.name = (__typeof__(real.name))dlsym(RTLD_NEXT, #name)

static void resolve_reals(void) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&resolve_state, &expected, 1)) {
    tls_resolving = 1;
    RESOLVE(malloc);
    RESOLVE(free);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(reallocarray);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(malloc_usable_size);
    RESOLVE(mmap);
    RESOLVE(munmap);
    RESOLVE(mremap);
    RESOLVE(execve);
    RESOLVE(execvpe);
    RESOLVE(fexecve);
    RESOLVE(posix_spawn);
    RESOLVE(posix_spawnp);
    RESOLVE(dlclose);
    RESOLVE(unshare);
    RESOLVE(setns);
    real.exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
    real.Exit_ = (void (*)(int))dlsym(RTLD_NEXT, "_Exit");
    tls_resolving = 0;
    atomic_store(&resolve_state, 2);
    return;
  }
  while (atomic_load(&resolve_state) != 2 && !tls_resolving) sched_yield();
}

#define NEED(name)                                     \
  do {                                                 \
    if (FT_UNLIKELY(!real.name)) resolve_reals();      \
  } while (0)

/* ------------------------------------------------------------------------
** Per-thread state and the record path
** ---------------------------------------------------------------------- */

static pthread_key_t thread_key; /* its destructor tells the writer a thread ended */

static void thread_key_dtor(void *p) { atomic_store(&((ft_thread *)p)->state, FT_T_EXITED); }

/* Give the calling thread a ring: reuse a DEAD node or map a new one. */
static ft_thread *thread_attach(void) {
  ft_thread *t = NULL;
  for (ft_thread *n = atomic_load(&ft_g.threads); n; n = n->next) {
    int dead = FT_T_DEAD;
    if (atomic_load(&n->state) == FT_T_DEAD &&
        atomic_compare_exchange_strong(&n->state, &dead, FT_T_CLAIMED)) {
      t = n;
      break;
    }
  }
  int fresh = t == NULL;
  if (fresh && !(t = ft_os_alloc(sizeof *t))) return NULL;
  if (!fresh) memset(t->seen, 0, sizeof t->seen);
  size_t records = (size_t)ft_g.cfg.buffer_kb * 1024 / sizeof(ft_event);
  if (ft_ring_init(&t->ring, records) != 0) {
    if (fresh) ft_os_free(t, sizeof *t);
    else atomic_store(&t->state, FT_T_DEAD);
    return NULL;
  }
  atomic_fetch_add(&ft_g.shim_bytes, (t->ring.mask + 1) * sizeof(ft_event));
  /* A reused node keeps its counts (they are the dead thread's too). */
  ft_rng_seed(&t->rng, ft_g.seed, atomic_fetch_add(&ft_g.thread_ordinal, 1));
  t->countdown = ft_g.sample_bytes ? ft_sample_draw(&t->rng, ft_g.sample_bytes) : UINT64_MAX;
  atomic_store(&t->tid, ft_gettid());
  atomic_store(&t->poked, 0);
  atomic_store(&t->state, FT_T_ACTIVE);
  if (fresh) {
    ft_thread *head = atomic_load(&ft_g.threads);
    do t->next = head;
    while (!atomic_compare_exchange_weak(&ft_g.threads, &head, t));
  }
  pthread_setspecific(thread_key, t);
  tls_thread = t;
  return t;
}

static void wake_writer(void) {
  atomic_fetch_add(&ft_g.writer_word, 1);
  ft_futex_wake(&ft_g.writer_word);
}

/* Ask for a drain once the ring is half full: one syscall per half ring. */
static inline void maybe_poke(ft_thread *t) {
  uint64_t half = (t->ring.mask + 1) / 2;
  if (ft_ring_used(&t->ring) < half) return;
  t->ring.tail_cache = atomic_load_explicit(&t->ring.tail, memory_order_acquire);
  if (ft_ring_used(&t->ring) < half || atomic_load_explicit(&t->poked, memory_order_relaxed)) return;
  atomic_store_explicit(&t->poked, 1, memory_order_relaxed);
  wake_writer();
}

/* Slow path: the ring is full. Lossless mode waits for the writer; events
** are dropped (and counted) only in lossy mode or when no writer can come
** (an untraced fork child, or after the final flush). */
static __attribute__((noinline)) int wait_for_room(ft_thread *t, uint64_t n) {
  for (;;) {
    if (ft_ring_has_room(&t->ring, n)) return 1;
    if (ft_g.cfg.lossy || !atomic_load(&ft_g.writer_alive) || getpid() != ft_g.pid) {
      atomic_store_explicit(&t->dropped, atomic_load_explicit(&t->dropped, memory_order_relaxed) + 1,
                            memory_order_relaxed);
      return 0;
    }
    atomic_store(&t->poked, 1);
    wake_writer();
    struct timespec ts = {0, 50000};
    nanosleep(&ts, NULL);
  }
}

static inline void push_event(ft_thread *t, uint64_t t_type, uint64_t a, uint64_t n, uint64_t s) {
  if (FT_UNLIKELY(!ft_ring_has_room(&t->ring, 1)) && !wait_for_room(t, 1)) return;
  ft_event *e = ft_ring_slot(&t->ring, 0);
  e->t_type = t_type;
  e->a = a;
  e->n = n;
  e->s = s;
  ft_ring_publish(&t->ring, 1);
  maybe_poke(t);
}

/* Spill a stack once per thread (per cache slot); the importer dedups. */
static int emit_stack(ft_thread *t, uint64_t h, const uint64_t *ips, int d) {
  uint64_t nrec = 1 + (uint64_t)(d + FT_IPS_PER_RECORD - 1) / FT_IPS_PER_RECORD;
  if (!ft_ring_has_room(&t->ring, nrec) && !wait_for_room(t, nrec)) return 0;
  ft_event *e = ft_ring_slot(&t->ring, 0);
  e->t_type = FT_EV_MAKE(0, FT_EV_STACK);
  e->a = 0;
  e->n = (uint64_t)d;
  e->s = h;
  for (uint64_t r = 0; r + 1 < nrec; r++) {
    uint64_t *w = (uint64_t *)ft_ring_slot(&t->ring, 1 + r);
    for (int k = 0; k < FT_IPS_PER_RECORD; k++) {
      int i = (int)r * FT_IPS_PER_RECORD + k;
      w[k] = i < d ? ips[i] : 0;
    }
  }
  ft_ring_publish(&t->ring, nrec);
  return 1;
}

static inline ft_thread *current_thread(void) {
  ft_thread *t = tls_thread;
  return FT_UNLIKELY(!t) ? thread_attach() : t;
}

/* Unwind and push an allocation (or mapping) of n bytes at p, stamped t_abs. */
static inline __attribute__((always_inline)) void record_alloc(ft_thread *t, unsigned type, const void *p, uint64_t n,
                                                                uint64_t t_abs) {
  uint64_t ips[FT_MAX_DEPTH];
  int d = ft_stack_capture(ips, ft_g.cfg.depth);
  uint64_t h = ft_stack_hash(ips, d);
  uint64_t *slot = &t->seen[h & (FT_SEEN_SLOTS - 1)];
  if (*slot != h) {
    if (emit_stack(t, h, ips, d)) *slot = h;
    else h = 0;
  }
  push_event(t, FT_EV_MAKE(t_abs - ft_g.start_ticks, type), (uintptr_t)p, n, h);
}

/* A free (or unmap) of p by thread t (NULL: nothing recorded), stamped at
** t_abs before the real call. */
static inline void record_release(ft_thread *t, unsigned type, const void *p, uint64_t n, uint64_t t_abs) {
  if (t) push_event(t, FT_EV_MAKE(t_abs - ft_g.start_ticks, type), (uintptr_t)p, n, 0);
}

/* Recording (not paused, not stopped)? One relaxed load: the hot-path check. */
static inline int recording(void) {
  return atomic_load_explicit(&ft_g.paused, memory_order_relaxed) == FT_REC_ON;
}

/* Stamp an allocation about to be recorded; 0 when recording was paused
** meanwhile (checked again after the fenced stamp: see ft_control.c). */
static inline int stamp_recording(uint64_t *t_abs) {
  *t_abs = ft_ticks_fenced();
  return atomic_load_explicit(&ft_g.paused, memory_order_acquire) == FT_REC_ON;
}

/* Owner-only counter add: a plain load and store, no locked instruction. */
static inline void bump(_Atomic uint64_t *c, uint64_t v) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}

/* glibc on x86-64: malloc_usable_size of a live heap block is its chunk's
** size word (just before the block, 3 flag bits) minus the 8-byte header.
** Reading that inline saves a call and the look at the next chunk's header
** on every hook; init turns it on only when malloc is glibc's and the
** formula agrees with the real function. mmapped chunks (flag 2: large and
** rare) still ask the real function. */
static int usable_inline;

/* What the allocator really handed out for live block p (0 without
** malloc_usable_size). */
static inline uint64_t usable_of(void *p) {
  if (FT_LIKELY(usable_inline)) {
    uint64_t h = ((const uint64_t *)p)[-1];
    if (FT_LIKELY(!(h & 2))) return (h & ~(uint64_t)7) - 8;
  }
  return real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}

/* Decide usable_inline: x86-64, malloc and malloc_usable_size both from
** libc.so, and the formula right for small, odd and large heap blocks. (No
** mmapped block: freeing one would raise glibc's dynamic mmap threshold and
** change how the program's own large blocks are allocated.) */
static void usable_setup(void) {
#if defined(__x86_64__) && defined(__GLIBC__)
  Dl_info a, b;
  if (!real.malloc || !real.free || !real.malloc_usable_size || !dladdr((void *)real.malloc, &a) ||
      !dladdr((void *)real.malloc_usable_size, &b) || !a.dli_fname || a.dli_fbase != b.dli_fbase)
    return;
  const char *base = strrchr(a.dli_fname, '/');
  base = base ? base + 1 : a.dli_fname;
  if (strncmp(base, "libc.so", 7) != 0) return;
  static const size_t sizes[] = {0, 1, 24, 25, 100, 1000, 5000, 65536};
  usable_inline = 1;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && usable_inline; i++) {
    void *p = real.malloc(sizes[i]);
    if (!p) continue;
    if (usable_of(p) != real.malloc_usable_size(p)) usable_inline = 0;
    real.free(p);
  }
#endif
}

/* A sampled allocation: remember the block so its free is recorded, then
** record it; a block the table cannot take is counted, not recorded. */
static __attribute__((noinline)) void record_sampled(ft_thread *t, unsigned type, void *p, uint64_t n) {
  uint64_t ts;
  if (!stamp_recording(&ts)) return;
  if (FT_UNLIKELY(!ft_stable_insert(&ft_g.stable, (uintptr_t)p))) {
    bump(&t->counts.untracked, 1);
    return;
  }
  bump(&t->counts.sampled, 1);
  record_alloc(t, type, p, n, ts);
}

/* Full capture: record every allocation (out of line, so the hooks' fast
** paths keep a small frame). */
static __attribute__((noinline)) void record_full(ft_thread *t, unsigned type, void *p, uint64_t n) {
  uint64_t ts;
  if (!stamp_recording(&ts)) return;
  bump(&t->counts.sampled, 1);
  record_alloc(t, type, p, n, ts);
}

/* A heap allocation of n bytes at p, just returned by the real call: count
** it, then record it when recording and (byte sampling) when the countdown
** samples it. */
static inline __attribute__((always_inline)) void on_heap_alloc(unsigned type, void *p, uint64_t n) {
  ft_thread *t = current_thread();
  if (FT_UNLIKELY(!t)) return;
  bump(&t->counts.allocs, 1);
  bump(&t->counts.alloc_bytes, n);
  bump(&t->counts.usable_alloc, usable_of(p));
  if (FT_UNLIKELY(!recording())) return;
  if (ft_g.sample_bytes) {
    if (FT_LIKELY(!ft_sample_take(&t->countdown, &t->rng, ft_g.sample_bytes, n))) return;
    record_sampled(t, type, p, n);
    return;
  }
  record_full(t, type, p, n);
}

/* A mapping of len bytes at p: always recorded while recording (weight 1). */
static void on_map(void *p, uint64_t len) {
  if (!recording()) return;
  ft_thread *t = current_thread();
  uint64_t ts;
  if (t && stamp_recording(&ts)) record_alloc(t, FT_EV_MMAP, p, len, ts);
}

/* Before the real release of heap block p: must it be recorded? Full mode:
** always; byte sampling: when it was sampled (it leaves the table now, before
** the allocator can hand the address out again). Stamps *t_abs when 1. */
static inline __attribute__((always_inline)) int release_recorded(void *p, uint64_t *t_abs) {
  if (ft_g.sample_bytes) {
    if (FT_LIKELY(!ft_stable_maybe(&ft_g.stable, (uintptr_t)p))) return 0;
    *t_abs = ft_ticks();
    return ft_stable_remove(&ft_g.stable, (uintptr_t)p);
  }
  *t_abs = ft_ticks();
  return 1;
}

/* Count the release of a heap block of `usable` bytes. */
static inline void count_release(ft_thread *t, uint64_t usable) {
  if (FT_UNLIKELY(!t)) return;
  bump(&t->counts.frees, 1);
  bump(&t->counts.usable_free, usable);
}

/* ------------------------------------------------------------------------
** Life cycle: init, fork, exec, exit
** ---------------------------------------------------------------------- */

static int lazy_init(void);

/* May the calling hook record? Sets the guard when it returns 1. */
static inline int ft_enter(void) {
  if (tls_guard) return 0;
  int ph = atomic_load_explicit(&ft_g.phase, memory_order_acquire);
  if (FT_UNLIKELY(ph != FT_PHASE_ACTIVE)) {
    if (ph == FT_PHASE_DONE || !lazy_init()) return 0;
  }
  tls_guard = 1;
  return 1;
}

static inline void ft_leave(void) { tls_guard = 0; }

/* Our writer and sampler threads: nothing they do is ever recorded. */
void ft_shim_guard_forever(void) { tls_guard = 1; }

static void warn_setting(const char *name, const char *value, const char *why) {
  struct iovec iov[7] = {{(void *)"fragtrace: ", 11}, {(void *)name, strlen(name)}, {(void *)"='", 2},
                         {(void *)value, strlen(value)}, {(void *)"' ", 2}, {(void *)why, strlen(why)},
                         {(void *)"\n", 1}};
  ft_writev_all(2, iov, 7);
}

/* Our own text range (frames to cut from stacks) and file path. */
static uintptr_t own_lo, own_hi;
static int find_own_text(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  uintptr_t base = (uintptr_t)data;
  if (info->dlpi_addr != base) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t lo = base + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (!own_lo || lo < own_lo) own_lo = lo;
    if (hi > own_hi) own_hi = hi;
  }
  return 1;
}

static void locate_self(void) {
  Dl_info info;
  if (dladdr((void *)locate_self, &info) && info.dli_fname) {
    if (!realpath(info.dli_fname, ft_g.self_path)) {
      size_t n = strlen(info.dli_fname);
      if (n < sizeof ft_g.self_path) memcpy(ft_g.self_path, info.dli_fname, n + 1);
    }
    dl_iterate_phdr(find_own_text, info.dli_fbase);
  }
  ft_stack_setup(own_lo, own_hi);
}

/* FRAGTRACE_* settings as found at init, re-added to exec'd environments. */
#define FT_MAX_SAVED_ENV 32
static char saved_env_buf[16384];
static char *saved_env[FT_MAX_SAVED_ENV];
static int saved_env_n;

static void save_env(void) {
  size_t used = 0;
  saved_env_n = 0;
  for (char **e = environ; e && *e && saved_env_n < FT_MAX_SAVED_ENV; e++) {
    if (strncmp(*e, "FRAGTRACE_", 10) != 0) continue;
    size_t n = strlen(*e) + 1;
    if (used + n > sizeof saved_env_buf) break;
    memcpy(saved_env_buf + used, *e, n);
    saved_env[saved_env_n++] = saved_env_buf + used;
    used += n;
  }
}

static const char *getenv_const(const char *name) { return getenv(name); }

static void final_flush(void);
static int on_exit_registered;

/* Registered during init, which runs before __libc_start_main registers the
** loader's destructor pass: so this runs after every atexit handler and every
** library destructor, and sees the exit status of exit() and of main's return. */
static void on_exit_cb(int status, void *arg) {
  (void)arg;
  ft_g.exit_status = status & 0xff; /* what the parent's wait() sees */
  final_flush();
}

static void after_fork_child(void);

static int ft_init(void) {
  resolve_reals();
  ft_g.page_size = sysconf(_SC_PAGESIZE);
  ft_config_load(&ft_g.cfg, getenv_const, warn_setting);
  ft_g.record_mode = ft_g.cfg.spill_dir[0] != 0;
  ft_g.pid = getpid();
  ft_ticks_init();
  ft_g.start_mono = ft_now_ns();
  ft_g.start_ticks = ft_ticks();
  ft_g.start_unix = ft_unix_ns();
  locate_self();
  save_env();
  ft_g.sample_bytes = ft_g.cfg.sample_bytes;
  ft_g.seed = ft_g.cfg.seed ? ft_g.cfg.seed
                            : ft_mix64(ft_g.start_unix ^ ((uint64_t)ft_g.pid << 32) ^ ft_mix64(ft_g.start_mono));
  if (ft_g.sample_bytes) {
    size_t bytes = ft_stable_bytes(ft_g.cfg.sample_table);
    void *mem = ft_os_alloc_populated(bytes); /* faulted in now, not on the program's threads */
    if (!mem) {
      ft_warn3("cannot map the sampled-block table (FRAGTRACE_SAMPLE_TABLE); running untraced", NULL, NULL);
      return -1;
    }
    ft_stable_init(&ft_g.stable, mem, ft_g.cfg.sample_table);
    atomic_fetch_add(&ft_g.shim_bytes, bytes);
  }
  usable_setup();
  ft_control_init(0);
  if (ft_spill_open(0, getppid(), 0) != 0) return -1;
  pthread_key_create(&thread_key, thread_key_dtor);
  pthread_atfork(NULL, NULL, after_fork_child);
  on_exit_registered = on_exit(on_exit_cb, NULL) == 0;
  if (ft_background_start() != 0) {
    ft_spill_close();
    unlink(ft_g.spill_path);
    return -1;
  }
  return 0;
}

/* First call in the image: exactly one thread initializes; the others wait
** (they are not inside init, whose own allocations pass through). */
static int lazy_init(void) {
  if (FT_UNLIKELY(!real.malloc)) resolve_reals();
  int expected = FT_PHASE_OFF;
  if (atomic_compare_exchange_strong(&ft_g.phase, &expected, FT_PHASE_INIT)) {
    tls_guard = 1;
    int ok = ft_init() == 0;
    atomic_store(&ft_g.phase, ok ? FT_PHASE_ACTIVE : FT_PHASE_DONE);
    tls_guard = 0;
    return ok;
  }
  while ((expected = atomic_load(&ft_g.phase)) == FT_PHASE_INIT) sched_yield();
  return expected == FT_PHASE_ACTIVE;
}

__attribute__((constructor)) static void ft_constructor(void) {
  if (atomic_load(&ft_g.phase) == FT_PHASE_OFF && !tls_guard) lazy_init();
}

/* The fork child is a new process in the trace: new spill, new threads, the
** parent's undrained records discarded (the parent drains its own copy). */
static void after_fork_child(void) {
  if (atomic_load(&ft_g.phase) != FT_PHASE_ACTIVE) return;
  if (atomic_load(&ft_g.paused) == FT_REC_STOPPED) { /* forked while the parent was stopping */
    atomic_store(&ft_g.phase, FT_PHASE_DONE);
    return;
  }
  int guard = tls_guard;
  tls_guard = 1;
  int ppid = ft_g.pid;
  uint64_t parent_start = ft_g.start_mono;
  ft_g.pid = getpid();
  ft_g.start_mono = ft_now_ns();
  ft_g.start_ticks = ft_ticks();
  ft_g.start_unix = ft_unix_ns();
  pthread_mutex_init(&ft_g.drain_lock, NULL);
  ft_g.background_started = 0;
  atomic_store(&ft_g.writer_alive, 0);
  ft_g.dropped_reported = 0;
  ft_spill_close(); /* the parent's descriptor: the child gets its own spill */
  ft_control_init(1);
  for (ft_thread *t = atomic_load(&ft_g.threads); t; t = t->next) {
    atomic_store(&t->dropped, 0);
    memset(&t->counts, 0, sizeof t->counts); /* a new image counts from zero */
    int s = atomic_load(&t->state);
    if (t == tls_thread) {
      atomic_store(&t->ring.tail, atomic_load(&t->ring.head));
      t->ring.tail_cache = atomic_load(&t->ring.head);
      memset(t->seen, 0, sizeof t->seen);
      atomic_store(&t->tid, ft_gettid());
    } else if (s == FT_T_ACTIVE || s == FT_T_EXITED) {
      atomic_fetch_sub(&ft_g.shim_bytes, (t->ring.mask + 1) * sizeof(ft_event));
      ft_ring_destroy(&t->ring);
      atomic_store(&t->state, FT_T_DEAD);
    }
  }
  if (ft_spill_open(1, ppid, parent_start) != 0 || ft_background_start() != 0)
    atomic_store(&ft_g.phase, FT_PHASE_DONE);
  tls_guard = guard;
}

/* Plain LD_PRELOAD use (no `fragtrace record` parent): convert this pid's
** spills into the output trace with `<prefix>/bin/fragtrace import`, next to
** the lib/ we were loaded from, and wait for it. */
void ft_import_own_spills(void) {
  char cli[FT_PATH_MAX + 32];
  size_t n = strlen(ft_g.self_path);
  while (n > 0 && ft_g.self_path[n - 1] != '/') n--; /* ".../lib/" */
  if (n < 2) return;
  size_t d = n - 1;
  while (d > 0 && ft_g.self_path[d - 1] != '/') d--; /* "..." + "/" */
  memcpy(cli, ft_g.self_path, d);
  memcpy(cli + d, "bin/fragtrace", 14);
  if (access(cli, X_OK) != 0) {
    ft_warn3("fragtrace CLI not found next to the shim; convert the trace with `fragtrace import -o ",
             ft_g.output_path, " <spill files>`");
    return;
  }
  char pid[24];
  int k = 0;
  char tmp[24];
  for (unsigned v = (unsigned)ft_g.pid; k == 0 || v; v /= 10) tmp[k++] = (char)('0' + v % 10);
  for (int i = 0; i < k; i++) pid[i] = tmp[k - 1 - i];
  pid[k] = 0;
  char *argv[] = {cli, "import", "--quiet", "--remove", "--pid", pid, "-o", ft_g.output_path, NULL};
  /* The importer must not be traced: drop LD_PRELOAD from its environment. */
  size_t ne = 0;
  while (environ && environ[ne]) ne++;
  char **env = ft_os_alloc((ne + 1) * sizeof(char *));
  if (!env) return;
  size_t m = 0;
  for (size_t i = 0; i < ne; i++)
    if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0) env[m++] = environ[i];
  env[m] = NULL;
  pid_t child;
  if (real.posix_spawn && real.posix_spawn(&child, cli, NULL, NULL, argv, env) == 0) {
    int st;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
  }
  ft_os_free(env, (ne + 1) * sizeof(char *));
}

/* Last flush of the image: stop our threads, drain everything, write the
** final maps and the exit record. Later allocations pass through. */
static void final_flush(void) {
  if (getpid() != ft_g.pid) return; /* a vfork child runs in our memory: not ours to flush */
  int expected = FT_PHASE_ACTIVE;
  if (!atomic_compare_exchange_strong(&ft_g.phase, &expected, FT_PHASE_DONE)) {
    /* A STOP in progress on the writer thread: let it finish its spill (and
    ** the plain-mode import) before the process goes, for at most a minute. */
    for (int i = 0; i < 60000 && atomic_load(&ft_g.stopping) == 1; i++) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
    return;
  }
  int guard = tls_guard;
  tls_guard = 1;
  ft_background_stop();
  pthread_mutex_lock(&ft_g.drain_lock);
  ft_drain_all_locked();
  ft_spill_clock();
  ft_spill_maps();
  ft_spill_totals(1);
  ft_exit ex = {ft_now_ns() - ft_g.start_mono, ft_g.exit_status, 0};
  ft_spill_append(FT_CHUNK_EXIT, 0, &ex, sizeof ex, NULL, 0);
  ft_spill_close();
  pthread_mutex_unlock(&ft_g.drain_lock);
  if (!ft_g.record_mode) ft_import_own_spills();
  tls_guard = guard;
}

/* Only a fallback: normally on_exit_cb flushes later, with the status. */
__attribute__((destructor)) static void ft_destructor(void) {
  if (!on_exit_registered) final_flush();
}

FT_EXPORT __attribute__((noreturn)) void _exit(int status) {
  NEED(exit_);
  if (getpid() == ft_g.pid) ft_g.exit_status = status & 0xff; /* not from a vfork child */
  final_flush();
  if (real.exit_) real.exit_(status);
  for (;;) syscall(SYS_exit_group, status);
}

FT_EXPORT __attribute__((noreturn)) void _Exit(int status) { _exit(status); }

/* dlclose: snapshot the maps while the library is still mapped, so stacks
** through it can be symbolized after it is gone. (dlopen is not
** interposed: that would change $ORIGIN and RPATH lookups of the caller; the
** writer notices new libraries through dl_iterate_phdr's counters.) */
FT_EXPORT int dlclose(void *handle) {
  NEED(dlclose);
  if (atomic_load(&ft_g.phase) == FT_PHASE_ACTIVE && getpid() == ft_g.pid && !tls_guard) {
    tls_guard = 1;
    pthread_mutex_lock(&ft_g.drain_lock);
    ft_spill_maps();
    pthread_mutex_unlock(&ft_g.drain_lock);
    tls_guard = 0;
  }
  return real.dlclose(handle);
}

/* unshare(CLONE_NEWUSER) and setns() into a user namespace demand a
** single-threaded caller: our writer and sampler step aside for the call
** (events go on filling the rings meanwhile) and come back after it. */
static int pause_background(void) {
  if (atomic_load(&ft_g.phase) != FT_PHASE_ACTIVE || getpid() != ft_g.pid || !ft_g.background_started) return 0;
  ft_background_stop();
  return 1;
}

static void resume_background(int paused) {
  if (paused && ft_background_start() != 0) atomic_store(&ft_g.phase, FT_PHASE_DONE);
}

FT_EXPORT int unshare(int flags) {
  NEED(unshare);
  int paused = pause_background();
  int r = real.unshare(flags), e = errno;
  resume_background(paused);
  errno = e;
  return r;
}

FT_EXPORT int setns(int fd, int nstype) {
  NEED(setns);
  int paused = pause_background();
  int r = real.setns(fd, nstype), e = errno;
  resume_background(paused);
  errno = e;
  return r;
}

/* ---- exec: flush, keep LD_PRELOAD and FRAGTRACE_* in the new environment ---- */

/* Does env hold "NAME=" for the NAME of entry (up to and including '=')? */
static int env_has(char *const *env, const char *entry) {
  size_t n = (size_t)(strchr(entry, '=') - entry) + 1;
  for (; env && *env; env++)
    if (strncmp(*env, entry, n) == 0) return 1;
  return 0;
}

typedef struct env_fix {
  char **vec;
  size_t bytes;
  char preload[FT_PATH_MAX * 2];
} env_fix;

/* Build in fx an environment = env + whatever tracing needs that it lacks.
** Returns the environment to pass on (env itself when nothing is missing). */
static char *const *fix_env(char *const *env, env_fix *fx) {
  fx->vec = NULL;
  if (!ft_g.self_path[0] || atomic_load(&ft_g.phase) != FT_PHASE_ACTIVE) return env;
  size_t n = 0;
  const char *old_preload = NULL;
  for (; env && env[n]; n++)
    if (strncmp(env[n], "LD_PRELOAD=", 11) == 0) old_preload = env[n] + 11;
  int need_preload = !old_preload || !strstr(old_preload, ft_g.self_path);
  int missing = 0;
  for (int i = 0; i < saved_env_n; i++) missing += !env_has(env, saved_env[i]);
  if (!need_preload && !missing) return env;
  size_t plen = strlen(ft_g.self_path), olen = old_preload ? strlen(old_preload) : 0;
  if (11 + plen + 1 + olen + 1 > sizeof fx->preload) return env;
  memcpy(fx->preload, "LD_PRELOAD=", 11);
  memcpy(fx->preload + 11, ft_g.self_path, plen + 1);
  if (old_preload && *old_preload) {
    fx->preload[11 + plen] = ' ';
    memcpy(fx->preload + 12 + plen, old_preload, olen + 1);
  }
  fx->bytes = (n + (size_t)saved_env_n + 2) * sizeof(char *);
  fx->vec = ft_os_alloc(fx->bytes);
  if (!fx->vec) return env;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!need_preload || strncmp(env[i], "LD_PRELOAD=", 11) != 0) fx->vec[m++] = env[i];
  if (need_preload) fx->vec[m++] = fx->preload;
  for (int i = 0; i < saved_env_n; i++)
    if (!env_has(env, saved_env[i])) fx->vec[m++] = saved_env[i];
  fx->vec[m] = NULL;
  return fx->vec;
}

static void env_fix_release(env_fix *fx) {
  if (fx->vec) ft_os_free(fx->vec, fx->bytes);
}

/* The exec and spawn hooks leave tls_guard alone: after vfork() the child
** runs on its parent's thread and TLS, and a successful exec would never
** undo a change, leaving the parent's thread unrecorded when it resumes.
** Nothing they call allocates through our hooks anyway. */

/* Before an exec of this image: everything so far goes to the spill and an
** EXEC chunk marks the hand-over. The drain lock stays held until the exec
** fails (if it succeeds, the image is gone). Returns 1 if locked. */
static int exec_flush_begin(void) {
  if (atomic_load(&ft_g.phase) != FT_PHASE_ACTIVE || getpid() != ft_g.pid) return 0;
  pthread_mutex_lock(&ft_g.drain_lock);
  ft_drain_all_locked();
  ft_spill_clock();
  ft_spill_totals(1);
  uint64_t t = ft_now_ns() - ft_g.start_mono;
  ft_spill_append(FT_CHUNK_EXEC, 0, &t, sizeof t, NULL, 0);
  return 1;
}

static void exec_flush_end(int locked) {
  if (locked) pthread_mutex_unlock(&ft_g.drain_lock);
}

/* One exec hook: fix the environment, flush, exec; if the exec fails, undo
** (errno preserved) and let the image go on being traced. */
#define EXEC_HOOK(name, target_decl, target)                                   \
  FT_EXPORT int name(target_decl, char *const argv[], char *const envp[]) {    \
    NEED(name);                                                                \
    env_fix fx;                                                                \
    char *const *env = fix_env(envp, &fx);                                     \
    int locked = exec_flush_begin();                                           \
    int r = real.name(target, argv, env), e = errno;                           \
    exec_flush_end(locked);                                                    \
    env_fix_release(&fx);                                                      \
    errno = e;                                                                 \
    return r;                                                                  \
  }

EXEC_HOOK(execve, const char *path, path)
EXEC_HOOK(execvpe, const char *file, file)
EXEC_HOOK(fexecve, int fd, fd)

FT_EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }
FT_EXPORT int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

/* Collect the variadic argument list of execl* into argv (NULL-terminated);
** returns NULL when there are more than fit. */
#define FT_MAX_EXECL_ARGS 4096
#define COLLECT_ARGS(arg0, argv, ap)                       \
  do {                                                     \
    size_t i_ = 0;                                         \
    argv[i_++] = (char *)(arg0);                           \
    while (argv[i_ - 1] && i_ < FT_MAX_EXECL_ARGS)         \
      argv[i_++] = va_arg(ap, char *);                     \
    if (argv[i_ - 1]) {                                    \
      va_end(ap);                                          \
      errno = E2BIG;                                       \
      return -1;                                           \
    }                                                      \
  } while (0)

FT_EXPORT int execl(const char *path, const char *arg, ...) {
  char *argv[FT_MAX_EXECL_ARGS];
  va_list ap;
  va_start(ap, arg);
  COLLECT_ARGS(arg, argv, ap);
  va_end(ap);
  return execve(path, argv, environ);
}

FT_EXPORT int execlp(const char *file, const char *arg, ...) {
  char *argv[FT_MAX_EXECL_ARGS];
  va_list ap;
  va_start(ap, arg);
  COLLECT_ARGS(arg, argv, ap);
  va_end(ap);
  return execvpe(file, argv, environ);
}

FT_EXPORT int execle(const char *path, const char *arg, ...) {
  char *argv[FT_MAX_EXECL_ARGS];
  va_list ap;
  va_start(ap, arg);
  COLLECT_ARGS(arg, argv, ap);
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  return execve(path, argv, envp);
}

/* posix_spawn starts another program: only its environment needs fixing. */
#define SPAWN_HOOK(name, target_decl, target)                                                        \
  FT_EXPORT int name(pid_t *pid, target_decl, const posix_spawn_file_actions_t *fa,                  \
                     const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {        \
    NEED(name);                                                                                      \
    env_fix fx;                                                                                      \
    int r = real.name(pid, target, fa, attr, argv, fix_env(envp, &fx));                             \
    env_fix_release(&fx);                                                                            \
    return r;                                                                                        \
  }

SPAWN_HOOK(posix_spawn, const char *path, path)
SPAWN_HOOK(posix_spawnp, const char *file, file)

/* ------------------------------------------------------------------------
** The malloc family
** ---------------------------------------------------------------------- */

FT_EXPORT void *malloc(size_t n) {
  if (FT_UNLIKELY(!real.malloc)) {
    resolve_reals();
    if (!real.malloc) return boot_alloc(n);
  }
  if (!ft_enter()) return real.malloc(n);
  void *p = real.malloc(n);
  if (p) on_heap_alloc(FT_EV_MALLOC, p, n);
  ft_leave();
  return p;
}

FT_EXPORT void free(void *p) {
  if (!p || FT_UNLIKELY(is_boot(p))) return;
  NEED(free);
  if (!ft_enter()) {
    real.free(p);
    return;
  }
  ft_thread *t = current_thread();
  count_release(t, usable_of(p));
  uint64_t ts; /* stamped before the block can be handed to another thread */
  int rec = release_recorded(p, &ts);
  real.free(p);
  if (rec) record_release(t, FT_EV_FREE, p, 0, ts);
  ft_leave();
}

FT_EXPORT void *calloc(size_t nmemb, size_t size) {
  if (FT_UNLIKELY(!real.calloc)) {
    resolve_reals();
    if (!real.calloc) {
      size_t n;
      return __builtin_mul_overflow(nmemb, size, &n) ? NULL : boot_alloc(n);
    }
  }
  if (!ft_enter()) return real.calloc(nmemb, size);
  void *p = real.calloc(nmemb, size);
  if (p) on_heap_alloc(FT_EV_CALLOC, p, (uint64_t)nmemb * size);
  ft_leave();
  return p;
}

/* realloc and reallocarray, before the real call: the old block's usable
** size, and whether its end must be recorded (stamped now). */
typedef struct realloc_pre {
  uint64_t usable, t0;
  int rec;
} realloc_pre;

static inline realloc_pre realloc_begin(void *p) {
  realloc_pre r = {0, 0, 0};
  if (p) {
    r.usable = usable_of(p);
    r.rec = release_recorded(p, &r.t0);
  }
  return r;
}

/* After the real call returned q: the old block ended (a free, counted and
** recorded as decided) and the result is a new 'realloc' allocation that goes
** through counting and sampling, whether it moved or not. realloc(p, 0)
** frees p; a failed realloc leaves p live (back into the table if sampled). */
static void *realloc_end(void *p, size_t n, void *q, const realloc_pre *r) {
  if (p && (q || n == 0)) {
    ft_thread *t = current_thread();
    count_release(t, r->usable);
    if (r->rec) record_release(t, FT_EV_FREE, p, 0, r->t0);
  } else if (p && r->rec && ft_g.sample_bytes) {
    ft_stable_insert(&ft_g.stable, (uintptr_t)p);
  }
  if (q) on_heap_alloc(FT_EV_REALLOC, q, n);
  return q;
}

/* realloc of a block from the bootstrap arena: move it to the real heap. */
static void *realloc_boot(void *p, size_t n) {
  void *q = malloc(n);
  if (q) {
    size_t old = boot_size(p);
    memcpy(q, p, old < n ? old : n);
  }
  return q;
}

FT_EXPORT void *realloc(void *p, size_t n) {
  if (FT_UNLIKELY(p && is_boot(p))) return realloc_boot(p, n);
  if (FT_UNLIKELY(!real.realloc)) {
    resolve_reals();
    if (!real.realloc) return p ? NULL : boot_alloc(n);
  }
  if (!ft_enter()) return real.realloc(p, n);
  realloc_pre pre = realloc_begin(p);
  void *q = realloc_end(p, n, real.realloc(p, n), &pre);
  ft_leave();
  return q;
}

FT_EXPORT void *reallocarray(void *p, size_t nmemb, size_t size) {
  size_t n;
  if (FT_UNLIKELY(p && is_boot(p))) {
    if (__builtin_mul_overflow(nmemb, size, &n)) {
      errno = ENOMEM;
      return NULL;
    }
    return realloc_boot(p, n);
  }
  NEED(reallocarray);
  if (!ft_enter()) return real.reallocarray(p, nmemb, size);
  if (__builtin_mul_overflow(nmemb, size, &n)) { /* fails with ENOMEM; p stays as it is */
    ft_leave();
    return real.reallocarray(p, nmemb, size);
  }
  realloc_pre pre = realloc_begin(p);
  void *q = realloc_end(p, n, real.reallocarray(p, nmemb, size), &pre);
  ft_leave();
  return q;
}

FT_EXPORT int posix_memalign(void **out, size_t align, size_t n) {
  NEED(posix_memalign);
  if (!ft_enter()) return real.posix_memalign(out, align, n);
  int r = real.posix_memalign(out, align, n);
  if (r == 0) on_heap_alloc(FT_EV_MEMALIGN, *out, n);
  ft_leave();
  return r;
}

#define ALIGNED_HOOK(name, params, call, size_expr)             \
  FT_EXPORT void *name params {                                 \
    NEED(name);                                                 \
    if (!ft_enter()) return real.name call;                     \
    void *p = real.name call;                                   \
    if (p) on_heap_alloc(FT_EV_MEMALIGN, p, size_expr);         \
    ft_leave();                                                 \
    return p;                                                   \
  }

ALIGNED_HOOK(aligned_alloc, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(memalign, (size_t align, size_t n), (align, n), n)
ALIGNED_HOOK(valloc, (size_t n), (n), n)
ALIGNED_HOOK(pvalloc, (size_t n), (n), n)

FT_EXPORT size_t malloc_usable_size(void *p) {
  if (!p) return 0;
  if (FT_UNLIKELY(is_boot(p))) return boot_size(p);
  NEED(malloc_usable_size);
  return real.malloc_usable_size(p);
}

/* ------------------------------------------------------------------------
** mmap family (only what the program itself maps: libc's malloc uses
** internal calls we never see, and shared libraries are in `mappings`)
** ---------------------------------------------------------------------- */

FT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (FT_UNLIKELY(!real.mmap)) {
    resolve_reals();
    if (!real.mmap) return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
  }
  if (!ft_enter()) return real.mmap(addr, len, prot, flags, fd, off);
  void *p = real.mmap(addr, len, prot, flags, fd, off);
  if (p != MAP_FAILED && ft_g.cfg.track_mmap) on_map(p, len);
  ft_leave();
  return p;
}

FT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

FT_EXPORT int munmap(void *addr, size_t len) {
  if (FT_UNLIKELY(!real.munmap)) {
    resolve_reals();
    if (!real.munmap) return (int)syscall(SYS_munmap, addr, len);
  }
  if (!ft_enter()) return real.munmap(addr, len);
  uint64_t t = ft_ticks();
  int r = real.munmap(addr, len);
  if (r == 0 && ft_g.cfg.track_mmap) record_release(current_thread(), FT_EV_MUNMAP, addr, len, t);
  ft_leave();
  return r;
}

FT_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
  void *new_addr = NULL;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    new_addr = va_arg(ap, void *);
    va_end(ap);
  }
  NEED(mremap);
  if (!ft_enter()) return real.mremap(old, old_len, new_len, flags, new_addr);
  uint64_t t0 = ft_ticks();
  void *p = real.mremap(old, old_len, new_len, flags, new_addr);
  if (p != MAP_FAILED && ft_g.cfg.track_mmap) {
    record_release(current_thread(), FT_EV_MUNMAP, old, old_len, t0);
    on_map(p, new_len);
  }
  ft_leave();
  return p;
}
