/*
** ft_writer.c — the shim's background side: the spill file, the writer thread
** that drains every per-thread ring into it, and starting/stopping it with
** the sampler thread (ft_sampler.c). Both threads keep their recursion guard
** set for life (see ft_shim.c), so nothing they allocate is ever recorded.
**
** Production mode (issue 5): the writer also sums the threads' exact
** counters into TOTALS chunks, acts on control requests (ft_control.c) and
** keeps the spill under FRAGTRACE_MAX_SIZE: event chunks stop once the spill
** would pass 75 % of it (the rings are still drained; the lost events count
** in ft_totals.thinned); samples, maps and clock pairs go on up to 100 %,
** beyond which only every k-th is written, k doubling (2nd, 6th, 14th...);
** header, process, MODE, TOTALS, CONTROL, DROPPED, EXEC and EXIT chunks are
** always written.
*/
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ft_pack.h"
#include "ft_prim.h"
#include "ft_shim.h"

void ft_shim_guard_forever(void); /* ft_shim.c: mark the calling thread as ours */

/* ------------------------------------------------------------------------
** Spill file
** ---------------------------------------------------------------------- */

static const uint8_t zeros[8];

/* Identity of the spill file: programs that close every descriptor (daemons,
** closefrom, close_range) close ours too, and may then open a file of their
** own under the same number. Only the drain-lock holder writes. */
static dev_t spill_dev;
static ino_t spill_ino;

static int spill_fd_is_ours(void) {
  struct stat st;
  return fstat(ft_g.spill_fd, &st) == 0 && st.st_dev == spill_dev && st.st_ino == spill_ino;
}

/* Our descriptor was closed (and maybe reused by the program: never touch
** that number again): reopen the same file by path, or stop writing. */
static void spill_reopen(void) {
  struct stat st;
  int fd = ft_open_high(ft_g.spill_path, O_WRONLY | O_APPEND | O_NOFOLLOW, 0);
  ft_g.spill_fd = -1;
  if (fd < 0) return;
  if (fstat(fd, &st) != 0 || st.st_dev != spill_dev || st.st_ino != spill_ino) {
    close(fd);
    return;
  }
  ft_g.spill_fd = fd;
}

void ft_spill_close(void) {
  if (ft_g.spill_fd >= 0 && spill_fd_is_ours()) close(ft_g.spill_fd);
  ft_g.spill_fd = -1;
}

/* Append iov to the spill (one writev: appenders never interleave). */
static void spill_writev(struct iovec *iov, int n) {
  if (ft_g.spill_fd < 0) return;
  if (!spill_fd_is_ours()) spill_reopen();
  size_t bytes = 0;
  for (int i = 0; i < n; i++) bytes += iov[i].iov_len;
  if (ft_g.spill_fd >= 0 && ft_writev_all(ft_g.spill_fd, iov, n) == 0) atomic_fetch_add(&ft_g.spill_bytes, bytes);
}

/* FRAGTRACE_MAX_SIZE: may a chunk of `bytes` (header and padding included)
** of this type be written? Event chunks: only while the spill stays within
** 75 % of the limit, and never again after the first refusal (a gap in the
** middle would break lifetimes). Samples, maps and clock pairs: up to the
** limit, then the 2nd, 6th, 14th, 30th... of those that do not fit. The rest
** is small and essential: always. Caller holds the drain lock. */
static int spill_admit(uint32_t type, size_t bytes) {
  uint64_t lim = ft_g.cfg.max_size;
  if (!lim) return 1;
  uint64_t used = atomic_load(&ft_g.spill_bytes);
  switch (type) {
    case FT_CHUNK_EVENTS:
    case FT_CHUNK_EVENTS_PACKED:
    case FT_CHUNK_THREAD:
      if (!ft_g.events_off && used + bytes <= lim / 4 * 3 + (lim % 4) * 3 / 4) return 1;
      ft_g.events_off = 1;
      return 0;
    case FT_CHUNK_SAMPLE: case FT_CHUNK_BUDDYINFO: case FT_CHUNK_MEMINFO: case FT_CHUNK_VMSTAT:
    case FT_CHUNK_PAGETYPEINFO: case FT_CHUNK_SLABINFO: case FT_CHUNK_SMAPS: case FT_CHUNK_MALLINFO:
    case FT_CHUNK_MAPS: case FT_CHUNK_CLOCK:
      if (used + bytes <= lim) return 1;
      /* Past the limit: the 2nd, 6th, 14th, 30th... (gaps 4, 8, 16...): the
      ** spill grows by O(log time) from here. */
      if (!ft_g.over_k) ft_g.over_k = 2, ft_g.over_next = 1;
      if (ft_g.over_seen++ != ft_g.over_next) return 0;
      ft_g.over_k *= 2;
      ft_g.over_next += ft_g.over_k;
      return 1;
    default:
      return 1;
  }
}

void ft_spill_append(uint32_t type, int tid, const void *a, size_t alen, const void *b, size_t blen) {
  ft_chunk h = {type, (uint32_t)(alen + blen), tid, 0};
  struct iovec iov[4] = {{&h, sizeof h}, {(void *)a, alen}, {(void *)b, blen},
                         {(void *)zeros, (8 - (alen + blen) % 8) % 8}};
  if (!spill_admit(type, sizeof h + alen + blen + iov[3].iov_len)) return;
  spill_writev(iov, 4);
}

/* Read a whole /proc file into kernel-backed memory that grows as needed.
** *cap is the buffer size, to be passed back to ft_os_free. Returns length or -1. */
static ssize_t read_proc_file(const char *path, char **buf, size_t *cap) {
  *cap = 64 * 1024;
  for (;;) {
    *buf = ft_os_alloc(*cap);
    if (!*buf) return -1;
    ssize_t n = ft_read_small_file(path, *buf, *cap);
    if (n < 0 || (size_t)n + 1 < *cap) return n;
    ft_os_free(*buf, *cap); /* might not have been all of it: retry bigger */
    *cap *= 4;
  }
}

/* Spill a /proc text file as one chunk, prefixed by the current time. */
static void spill_timed_text(uint32_t type, const char *path) {
  char *buf;
  size_t cap;
  ssize_t n = read_proc_file(path, &buf, &cap);
  if (n < 0) return;
  uint64_t t = ft_now_ns() - ft_g.start_mono;
  ft_spill_append(type, 0, &t, sizeof t, buf, (size_t)n);
  ft_os_free(buf, cap);
}

void ft_spill_clock(void) {
  if (!ft_tsc_mode) return;
  /* Bracket the TSC read with two clock reads and take their midpoint. */
  uint64_t a = ft_now_ns(), k = ft_ticks(), b = ft_now_ns();
  ft_clock_pair p = {k - ft_g.start_ticks, (a + (b - a) / 2) - ft_g.start_mono};
  ft_spill_append(FT_CHUNK_CLOCK, 0, &p, sizeof p, NULL, 0);
}

void ft_spill_maps(void) { spill_timed_text(FT_CHUNK_MAPS, "/proc/self/maps"); }

/* Collect dl_iterate_phdr's load/unload counters, to notice dlopen/dlclose
** without interposing dlopen (which would change $ORIGIN/RPATH resolution). */
static int dl_counters_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  *(unsigned long long *)data = info->dlpi_adds * 2 + info->dlpi_subs;
  return 1;
}

/* Snapshot the maps again if libraries were loaded or unloaded since. */
static void spill_maps_if_changed(void) {
  unsigned long long c = 0;
  dl_iterate_phdr(dl_counters_cb, &c);
  if (c != ft_g.dl_adds) {
    ft_g.dl_adds = c;
    ft_spill_maps();
  }
}

/* Write "<prefix><pid>-<start>.ftspill" into out. */
static int spill_name(char *out, size_t cap, const char *prefix) {
  size_t n = strlen(prefix);
  if (n + 64 > cap) return -1;
  memcpy(out, prefix, n);
  char num[24];
  int k;
  uint64_t vals[2] = {(uint64_t)ft_g.pid, ft_g.start_mono};
  for (int v = 0; v < 2; v++) {
    uint64_t x = vals[v];
    k = 0;
    do {
      num[k++] = (char)('0' + x % 10);
      x /= 10;
    } while (x);
    while (k) out[n++] = num[--k];
    out[n++] = v == 0 ? '-' : '.';
  }
  memcpy(out + n, "ftspill", 8);
  return 0;
}

/* Make a relative path absolute against the current directory, so that a
** program that chdirs still gets its trace where it was asked for. */
static int absolutize(char *path, size_t cap) {
  if (path[0] == '/') return 0;
  char cwd[FT_PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return -1;
  size_t c = strlen(cwd), p = strlen(path);
  if (c + 1 + p + 1 > cap) return -1;
  memmove(path + c + 1, path, p + 1);
  memcpy(path, cwd, c);
  path[c] = '/';
  return 0;
}

int ft_spill_open(int forked, int ppid, uint64_t parent_start_mono) {
  char prefix[FT_PATH_MAX + 2];
  if (ft_g.record_mode) {
    size_t n = strlen(ft_g.cfg.spill_dir);
    memcpy(prefix, ft_g.cfg.spill_dir, n);
    prefix[n] = '/';
    prefix[n + 1] = 0;
  } else {
    if (ft_expand_output(ft_g.cfg.output, ft_g.pid, ft_g.start_unix / 1000000000u, ft_g.output_path,
                         sizeof ft_g.output_path) != 0) {
      ft_warn3("cannot expand FRAGTRACE_OUTPUT; running untraced", NULL, NULL);
      return -1;
    }
    if (absolutize(ft_g.output_path, sizeof ft_g.output_path) != 0) {
      ft_warn3("output path too long; running untraced", NULL, NULL);
      return -1;
    }
    struct stat st;
    if (lstat(ft_g.output_path, &st) == 0 && !S_ISREG(st.st_mode)) {
      ft_warn3("refusing to write the trace through a symlink or special file: ", ft_g.output_path,
               "; running untraced");
      return -1;
    }
    size_t n = strlen(ft_g.output_path);
    memcpy(prefix, ft_g.output_path, n);
    memcpy(prefix + n, ".", 2);
  }
  if (spill_name(ft_g.spill_path, sizeof ft_g.spill_path, prefix) != 0) {
    ft_warn3("output path too long; running untraced", NULL, NULL);
    return -1;
  }
  int fd = ft_open_high(ft_g.spill_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND, 0600);
  if (fd < 0) {
    ft_warn3("cannot create trace file ", ft_g.spill_path, "; running untraced");
    return -1;
  }
  struct stat st;
  fstat(fd, &st);
  spill_dev = st.st_dev;
  spill_ino = st.st_ino;
  ft_g.spill_fd = fd;
  atomic_store(&ft_g.spill_bytes, 0);
  ft_g.events_off = 0;
  ft_g.thinned = 0;
  ft_g.over_seen = ft_g.over_next = ft_g.over_k = 0;
  ft_g.totals_written = 0;

  ft_file_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, FT_SPILL_MAGIC, 8);
  h.version = FT_SPILL_VERSION;
  h.header_size = sizeof h;
  h.pid = ft_g.pid;
  h.ppid = ppid;
  h.start_mono_ns = ft_g.start_mono;
  h.start_unix_ns = ft_g.start_unix;
  h.page_size = (uint32_t)ft_g.page_size;
  h.flags = forked ? FT_FLAG_FORKED : 0;
  h.parent_start_mono_ns = parent_start_mono;
  h.stack_depth = (uint32_t)ft_g.cfg.depth;
  h.flags |= ft_tsc_mode ? FT_FLAG_TSC : 0;
  h.start_ticks = ft_g.start_ticks;
  h.flags |= ft_g.sample_bytes ? FT_FLAG_SAMPLED : 0;
  struct iovec iov = {&h, sizeof h};
  atomic_store(&ft_g.spill_bytes, sizeof h);
  if (ft_writev_all(ft_g.spill_fd, &iov, 1) != 0) {
    ft_warn3("cannot write trace file ", ft_g.spill_path, "; running untraced");
    close(ft_g.spill_fd);
    unlink(ft_g.spill_path);
    ft_g.spill_fd = -1;
    return -1;
  }

  char *buf;
  size_t cap;
  ssize_t n = read_proc_file("/proc/self/cmdline", &buf, &cap);
  if (n >= 0) {
    ft_spill_append(FT_CHUNK_CMDLINE, 0, buf, (size_t)n, NULL, 0);
    ft_os_free(buf, cap);
  }
  char exe[FT_PATH_MAX];
  ssize_t e = readlink("/proc/self/exe", exe, sizeof exe);
  if (e > 0) ft_spill_append(FT_CHUNK_EXE, 0, exe, (size_t)e, NULL, 0);
  ft_g.dl_adds = 0;
  spill_maps_if_changed();

  ft_mode m = {ft_g.sample_bytes, ft_g.seed, ft_g.cfg.max_size, ft_g.start_paused ? FT_MODE_START_PAUSED : 0,
               (uint32_t)ft_g.control_signal};
  ft_spill_append(FT_CHUNK_MODE, 0, &m, sizeof m, NULL, 0);
  if (ft_g.start_paused) {
    ft_control c = {0, FT_CTL_PAUSE, FT_CTLSRC_START};
    ft_spill_append(FT_CHUNK_CONTROL, 0, &c, sizeof c, NULL, 0);
  }
  return 0;
}

/* ------------------------------------------------------------------------
** Draining (consumer side of every ring; callers hold the drain lock)
** ---------------------------------------------------------------------- */

/* Encoding buffer of the drain-lock holder: sized for one full ring. */
static uint8_t *pack_buf;
static size_t pack_cap;

/* Events (not stack records) among the next n unconsumed records of r. */
static uint64_t count_events(ft_ring *r, uint64_t n) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed), events = 0;
  for (uint64_t i = 0; i < n;) {
    const ft_event *e = &r->rec[(tail + i) & r->mask];
    if (FT_EV_TYPE(e->t_type) == FT_EV_STACK) {
      i += 1 + (e->n + FT_IPS_PER_RECORD - 1) / FT_IPS_PER_RECORD;
    } else {
      events++;
      i++;
    }
  }
  return events;
}

/* Copy one ring's published records into the spill as one packed chunk
** (raw records if no encoding buffer can be had). */
static void drain_ring(ft_thread *t) {
  struct iovec iov[3];
  int n_iov;
  uint64_t n = ft_ring_peek(&t->ring, &iov[1], &n_iov);
  if (n == 0) return;
  size_t need = (t->ring.mask + 1) * FT_PACK_MAX_RECORD;
  if (need > pack_cap) {
    ft_os_free(pack_buf, pack_cap);
    pack_buf = ft_os_alloc(need);
    pack_cap = pack_buf ? need : 0;
  }
  ft_chunk h = {FT_CHUNK_EVENTS, (uint32_t)(n * sizeof(ft_event)), atomic_load(&t->tid), 0};
  if (pack_buf) {
    ft_pack_state st;
    ft_pack_reset(&st);
    uint64_t tail = atomic_load_explicit(&t->ring.tail, memory_order_relaxed);
    size_t len = ft_pack_encode(&st, t->ring.rec, t->ring.mask, tail, n, pack_buf);
    static const uint8_t pad[8];
    h.type = FT_CHUNK_EVENTS_PACKED;
    h.len = (uint32_t)len;
    iov[1].iov_base = pack_buf;
    iov[1].iov_len = len;
    iov[2].iov_base = (void *)pad;
    iov[2].iov_len = (8 - len % 8) % 8;
    n_iov = 2;
  }
  iov[0].iov_base = &h;
  iov[0].iov_len = sizeof h;
  size_t bytes = 0;
  for (int i = 0; i < 1 + n_iov; i++) bytes += iov[i].iov_len;
  if (spill_admit(h.type, bytes)) spill_writev(iov, 1 + n_iov);
  else ft_g.thinned += count_events(&t->ring, n);
  ft_ring_consume(&t->ring, n);
}

/* A thread that passed its key destructor and is gone from the kernel can
** never push again: release its ring and let a new thread reuse the node. */
static void recycle_if_gone(ft_thread *t) {
  if (atomic_load(&t->state) != FT_T_EXITED) return;
  if (syscall(SYS_tgkill, ft_g.pid, atomic_load(&t->tid), 0) == 0 || errno != ESRCH) return;
  drain_ring(t);
  atomic_fetch_sub(&ft_g.shim_bytes, (t->ring.mask + 1) * sizeof(ft_event));
  ft_ring_destroy(&t->ring);
  atomic_store(&t->state, FT_T_DEAD);
}

/* Drain all rings, then note newly dropped events. Caller holds drain_lock. */
void ft_drain_all_locked(void) {
  uint64_t dropped = 0;
  for (ft_thread *t = atomic_load(&ft_g.threads); t; t = t->next) {
    int s = atomic_load(&t->state);
    if (s == FT_T_ACTIVE || s == FT_T_EXITED) {
      drain_ring(t);
      atomic_store(&t->poked, 0);
      recycle_if_gone(t);
    }
    dropped += atomic_load(&t->dropped);
  }
  if (dropped != ft_g.dropped_reported) {
    ft_g.dropped_reported = dropped;
    ft_spill_append(FT_CHUNK_DROPPED, 0, &dropped, sizeof dropped, NULL, 0);
  }
}

void ft_drain_all(void) {
  pthread_mutex_lock(&ft_g.drain_lock);
  ft_drain_all_locked();
  pthread_mutex_unlock(&ft_g.drain_lock);
}

/* ------------------------------------------------------------------------
** Exact totals
** ---------------------------------------------------------------------- */

void ft_totals_sum(ft_totals *out) {
  memset(out, 0, sizeof *out);
  /* Every node, DEAD ones too: a node keeps its counts across owners. */
  for (ft_thread *t = atomic_load(&ft_g.threads); t; t = t->next) {
    const ft_counts *c = &t->counts;
    out->allocs += atomic_load_explicit(&c->allocs, memory_order_relaxed);
    out->frees += atomic_load_explicit(&c->frees, memory_order_relaxed);
    out->alloc_bytes += atomic_load_explicit(&c->alloc_bytes, memory_order_relaxed);
    out->usable_alloc += atomic_load_explicit(&c->usable_alloc, memory_order_relaxed);
    out->usable_free += atomic_load_explicit(&c->usable_free, memory_order_relaxed);
    out->sampled += atomic_load_explicit(&c->sampled, memory_order_relaxed);
    out->untracked += atomic_load_explicit(&c->untracked, memory_order_relaxed);
  }
  out->thinned = ft_g.thinned;
}

void ft_spill_totals(int force) {
  ft_totals x;
  ft_totals_sum(&x);
  if (!force && ft_g.totals_written && memcmp(&x, &ft_g.totals_last, sizeof x) == 0) return;
  ft_g.totals_last = x;
  ft_g.totals_written = 1;
  x.t_ns = ft_now_ns() - ft_g.start_mono;
  ft_spill_append(FT_CHUNK_TOTALS, 0, &x, sizeof x, NULL, 0);
}

/* ------------------------------------------------------------------------
** Writer and sampler threads
** ---------------------------------------------------------------------- */

/* Has the program's last thread gone, leaving only ours? glibc ends a
** process with exit(0) when its last thread exits; a main() that ends with
** pthread_exit() would otherwise wait for our threads forever. Seen as: the
** thread-group leader is a zombie and the kernel counts no other threads
** than it and ours. */
static int only_our_threads_left(void) {
  char buf[1024];
  ssize_t n = ft_read_small_file("/proc/self/stat", buf, sizeof buf);
  const char *paren = n > 0 ? strrchr(buf, ')') : NULL;
  if (!paren || paren[1] != ' ' || paren[2] != 'Z') return 0;
  n = ft_read_small_file("/proc/self/status", buf, sizeof buf);
  const char *th = n > 0 ? strstr(buf, "\nThreads:") : NULL;
  if (!th) return 0;
  long threads = strtol(th + 9, NULL, 10);
  return threads <= 1 + ft_g.background_started;
}

static void *writer_main(void *arg) {
  (void)arg;
  ft_shim_guard_forever();
  uint64_t interval = (uint64_t)ft_g.cfg.flush_ms * 1000000u;
  while (!atomic_load(&ft_g.stop)) {
    unsigned w = atomic_load(&ft_g.writer_word);
    /* A stop between the loop's test and reading `w` bumped the word already:
    ** the wait would sleep a whole interval. */
    if (atomic_load(&ft_g.stop)) break;
    /* Deadlines first: a request they raise bumps the word, so the wait
    ** below returns at once and the request is acted on in this pass. */
    uint64_t wait = ft_ctl_deadlines(interval);
    ft_futex_wait(&ft_g.writer_word, w, wait ? wait : 1);
    ft_control stop;
    int stopping = 0;
    pthread_mutex_lock(&ft_g.drain_lock);
    if (!atomic_load(&ft_g.stop)) {
      ft_drain_all_locked();
      ft_spill_clock();
      spill_maps_if_changed();
      stopping = ft_ctl_process_locked(&stop);
      if (!stopping) ft_spill_totals(0);
    }
    pthread_mutex_unlock(&ft_g.drain_lock);
    if (stopping) {
      ft_ctl_stop(&stop);
      break;
    }
    if (!atomic_load(&ft_g.stop) && only_our_threads_left()) exit(0); /* as glibc would */
  }
  return NULL;
}

int ft_background_start(void) {
  atomic_store(&ft_g.stop, 0);
  /* Our threads must never take a signal meant for the program (its default
  ** action could kill it, or its handler would run unrecorded on our thread):
  ** they inherit a mask that blocks everything. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int r = 0;
  if (pthread_create(&ft_g.writer, NULL, writer_main, NULL) != 0) {
    ft_warn3("cannot start the writer thread; running untraced", NULL, NULL);
    r = -1;
  } else {
    atomic_store(&ft_g.writer_alive, 1);
    ft_g.background_started = 1;
    if (ft_sampler_wanted() && pthread_create(&ft_g.sampler, NULL, ft_sampler_main, NULL) != 0)
      ft_warn3("cannot start the sampler thread; no RSS or system samples", NULL, NULL);
    else if (ft_sampler_wanted())
      ft_g.background_started = 2;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return r;
}

void ft_background_stop(void) {
  if (!ft_g.background_started) return;
  atomic_store(&ft_g.stop, 1);
  atomic_fetch_add(&ft_g.writer_word, 1);
  ft_futex_wake(&ft_g.writer_word);
  atomic_fetch_add(&ft_g.sampler_word, 1);
  ft_futex_wake(&ft_g.sampler_word);
  /* Join so no sample or drain is half-written when the exit path writes its
  ** last chunks; both threads notice `stop` within one wake-up. (The writer
  ** itself may be the caller: see only_our_threads_left.) */
  if (!pthread_equal(pthread_self(), ft_g.writer)) pthread_join(ft_g.writer, NULL);
  if (ft_g.background_started == 2) pthread_join(ft_g.sampler, NULL);
  atomic_store(&ft_g.writer_alive, 0);
  ft_g.background_started = 0;
}
