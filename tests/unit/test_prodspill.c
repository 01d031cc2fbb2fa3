/* test_prodspill.c — production mode as the shim writes it (issue 5): run
** test programs under libfragtrace.so with FRAGTRACE_SPILL_DIR and read the
** spill back with the importer's reader (ft_spill.h), without the importer:
** the exact TOTALS against the numbers the program prints, byte sampling
** (events == sampled, every free matches a recorded allocation, the same seed
** gives the same sample), a full sampled-block table (untracked), and the
** control signal (PAUSED at start, sigqueue resume/flush/pause, a plain kill
** toggling, stop) with no allocation event inside a paused period. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ft_format.h"
#include "ft_pack.h"
#include "ft_spill.h"

/* ---- running a program ---- */

typedef struct child {
  pid_t pid;
  int out; /* read end of its stdout */
} child;

/* Start prog with args under the shim, spills into dir, plus extra "K=V"
** settings (NULL-terminated). */
static child start(const char *dir, const char *const extra[], const char *const argv[]) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  child c = {fork(), fds[0]};
  assert_true(c.pid >= 0);
  if (c.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    for (char **e = environ; *e;) { /* a clean FRAGTRACE_* environment */
      if (!strncmp(*e, "FRAGTRACE_", 10)) {
        char name[256];
        size_t n = strcspn(*e, "=");
        snprintf(name, sizeof name, "%.*s", (int)n, *e);
        unsetenv(name);
      } else {
        e++;
      }
    }
    setenv("LD_PRELOAD", FT_SHIM, 1);
    setenv("FRAGTRACE_SPILL_DIR", dir, 1);
    setenv("FRAGTRACE_SAMPLE_MS", "0", 1);
    for (int i = 0; extra && extra[i]; i++) putenv((char *)extra[i]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  return c;
}

/* Read c's stdout to the end into buf, wait for it; returns its exit status. */
static int finish(child *c, char *buf, size_t cap) {
  size_t len = strlen(buf);
  ssize_t r;
  while (len + 1 < cap && (r = read(c->out, buf + len, cap - 1 - len)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    len += (size_t)r;
  }
  buf[len] = 0;
  close(c->out);
  int st;
  while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static unsigned long long kv(const char *s, const char *key) {
  const char *p = strstr(s, key);
  if (!p) fail_msg("no %s in output '%s'", key, s);
  return strtoull(p + strlen(key), NULL, 10);
}

/* A fresh empty directory under FT_TMP. */
static const char *fresh_dir(const char *name) {
  static char path[4][512];
  static int k;
  char *p = path[k++ % 4];
  mkdir(FT_TMP, 0755);
  snprintf(p, 512, "%s/%s", FT_TMP, name);
  char cmd[2 * 512 + 32];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", p, p);
  assert_int_equal(system(cmd), 0);
  return p;
}

/* ---- reading the spill ---- */

typedef struct evrec {
  uint64_t t;   /* ns since image start */
  unsigned type;
  uint64_t a, n;
} evrec;

typedef struct spill_view {
  ft_file_header hdr;
  int nmode;
  ft_mode mode;
  int ntotals;
  ft_totals totals;       /* the last one */
  uint32_t prev_of_flush; /* chunk type right before the first CONTROL FLUSH */
  uint32_t last_type;     /* type of the last chunk */
  ft_control ctl[32];
  int nctl;
  evrec *ev;
  size_t nev, capev;
  ft_clock_pair clk[4096];
  int nclk;
} spill_view;

/* Ticks -> ns through the CLOCK pairs (piecewise linear, (0,0) implied). */
static uint64_t to_ns(const spill_view *v, uint64_t ticks) {
  if (!(v->hdr.flags & FT_FLAG_TSC)) return ticks;
  ft_clock_pair lo = {0, 0}, hi = {0, 0};
  int have_hi = 0;
  for (int i = 0; i < v->nclk; i++) {
    if (v->clk[i].ticks <= ticks && v->clk[i].ticks >= lo.ticks) lo = v->clk[i];
    if (v->clk[i].ticks > ticks && (!have_hi || v->clk[i].ticks < hi.ticks)) hi = v->clk[i], have_hi = 1;
  }
  if (!have_hi) { /* extrapolate with the last segment */
    ft_clock_pair a = {0, 0};
    for (int i = 0; i < v->nclk; i++)
      if (v->clk[i].ticks < lo.ticks && v->clk[i].ticks >= a.ticks) a = v->clk[i];
    if (lo.ticks == a.ticks) return lo.ns;
    return lo.ns + (uint64_t)((double)(ticks - lo.ticks) * (double)(lo.ns - a.ns) / (double)(lo.ticks - a.ticks));
  }
  return lo.ns + (uint64_t)((double)(ticks - lo.ticks) * (double)(hi.ns - lo.ns) / (double)(hi.ticks - lo.ticks));
}

static void add_records(spill_view *v, const ft_event *e, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned type = FT_EV_TYPE(e[i].t_type);
    if (type == FT_EV_STACK) {
      i += 1 + (e[i].n + FT_IPS_PER_RECORD - 1) / FT_IPS_PER_RECORD;
      continue;
    }
    if (v->nev == v->capev) {
      v->capev = v->capev ? v->capev * 2 : 4096;
      v->ev = realloc(v->ev, v->capev * sizeof *v->ev);
      assert_non_null(v->ev);
    }
    v->ev[v->nev++] = (evrec){FT_EV_TIME(e[i].t_type), type, e[i].a, e[i].n};
    i++;
  }
}

/* The spill files in dir (at most max), sorted by name; returns how many. */
static int spill_paths(const char *dir, char paths[][1024], int max) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *de;
  int n = 0;
  while ((de = readdir(d)))
    if (strstr(de->d_name, ".ftspill") && n < max) snprintf(paths[n++], 1024, "%s/%s", dir, de->d_name);
  closedir(d);
  return n;
}

static void load_spill_path(const char *path, spill_view *v);

/* Load the only spill in dir. */
static void load_spill(const char *dir, spill_view *v) {
  char paths[4][1024];
  int found = spill_paths(dir, paths, 4);
  if (found != 1) fail_msg("%d spills in %s, expected 1", found, dir);
  load_spill_path(paths[0], v);
}

/* Load the spill at path. */
static void load_spill_path(const char *path, spill_view *v) {
  memset(v, 0, sizeof *v);
  ft_spill sp;
  char err[256];
  assert_int_equal(ft_spill_reader_open(&sp, path, err, sizeof err), 0);
  assert_int_equal(sp.truncated, 0);
  v->hdr = sp.hdr;
  ft_spill_iter it;
  ft_spill_chunk ch;
  ft_spill_iter_init(&it, &sp);
  uint32_t prev = 0;
  while (ft_spill_iter_next(&it, &ch)) {
    switch (ch.type) {
      case FT_CHUNK_MODE:
        memcpy(&v->mode, ch.payload, sizeof v->mode);
        v->nmode++;
        break;
      case FT_CHUNK_TOTALS:
        memcpy(&v->totals, ch.payload, sizeof v->totals);
        v->ntotals++;
        break;
      case FT_CHUNK_CONTROL:
        assert_true(v->nctl < 32);
        memcpy(&v->ctl[v->nctl], ch.payload, sizeof(ft_control));
        if (v->ctl[v->nctl].action == FT_CTL_FLUSH && !v->prev_of_flush) v->prev_of_flush = prev;
        v->nctl++;
        break;
      case FT_CHUNK_CLOCK:
        if (v->nclk < 4096) memcpy(&v->clk[v->nclk++], ch.payload, sizeof(ft_clock_pair));
        break;
      case FT_CHUNK_EVENTS: {
        size_t n;
        const ft_event *e = ft_spill_events(&ch, &n);
        add_records(v, e, n);
        break;
      }
      case FT_CHUNK_EVENTS_PACKED: {
        long n = ft_pack_decode(ch.payload, ch.len, NULL, 0);
        assert_true(n >= 0);
        ft_event *e = malloc((size_t)(n ? n : 1) * sizeof *e);
        assert_int_equal(ft_pack_decode(ch.payload, ch.len, e, (size_t)n), n);
        add_records(v, e, (size_t)n);
        free(e);
        break;
      }
      default:
        break;
    }
    prev = v->last_type = ch.type;
  }
  ft_spill_reader_close(&sp);
  for (size_t i = 0; i < v->nev; i++) v->ev[i].t = to_ns(v, v->ev[i].t);
}

static int is_alloc(unsigned type) { return type <= FT_EV_MEMALIGN; }
static int is_heap_alloc(unsigned type) { return type < FT_EV_MMAP; }

/* Heap events: every free must end a recorded, still live allocation.
** Returns the number of heap allocation events; *frees gets free events. */
static size_t check_lifetimes(const spill_view *v, size_t *frees) {
  size_t cap = 1 << 20, allocs = 0;
  uint64_t *live = calloc(cap, sizeof *live); /* open addressing set of live addresses */
  assert_non_null(live);
  *frees = 0;
  for (size_t i = 0; i < v->nev; i++) {
    const evrec *e = &v->ev[i];
    if (!is_heap_alloc(e->type) && e->type != FT_EV_FREE) continue;
    size_t h = (size_t)((e->a >> 4) * 0x9e3779b97f4a7c15ull >> 44) & (cap - 1);
    if (e->type == FT_EV_FREE) {
      while (live[h] && live[h] != e->a) h = (h + 1) & (cap - 1);
      if (live[h] != e->a) fail_msg("free of 0x%llx matches no recorded allocation", (unsigned long long)e->a);
      live[h] = 1; /* tombstone */
      (*frees)++;
    } else {
      while (live[h] > 1) {
        if (live[h] == e->a) fail_msg("allocation of 0x%llx while it is live", (unsigned long long)e->a);
        h = (h + 1) & (cap - 1);
      }
      live[h] = e->a;
      allocs++;
    }
  }
  free(live);
  return allocs;
}

/* ---- the tests ---- */

/* Run `sampled N` with extra settings; checks the exact totals (thinned
** may be > 0); fills v. */
static void run_sampled_thinned(const char *dir, const char *const extra[], long n, spill_view *v) {
  char arg[32];
  snprintf(arg, sizeof arg, "%ld", n);
  child c = start(dir, extra, (const char *const[]){FT_PROGS "/sampled", arg, NULL});
  char out[512] = "";
  assert_int_equal(finish(&c, out, sizeof out), 0);
  load_spill(dir, v);
  assert_int_equal(v->nmode, 1);
  assert_true(v->ntotals >= 1);
  assert_int_equal(v->totals.allocs, kv(out, "allocs="));
  assert_int_equal(v->totals.frees, kv(out, "frees="));
  assert_int_equal(v->totals.alloc_bytes, kv(out, "bytes="));
  assert_int_equal(v->totals.usable_alloc, v->totals.usable_free); /* everything freed */
  assert_true(v->totals.usable_alloc >= v->totals.alloc_bytes);
}

/* run_sampled_thinned, and nothing thinned. */
static void run_sampled(const char *dir, const char *const extra[], long n, spill_view *v) {
  run_sampled_thinned(dir, extra, n, v);
  assert_int_equal(v->totals.thinned, 0);
}

/* Full capture: every allocation is an event, the totals agree with them. */
static void full_mode_totals(void **state) {
  (void)state;
  spill_view v;
  run_sampled(fresh_dir("ps_full"), NULL, 20000, &v);
  assert_int_equal(v.hdr.flags & FT_FLAG_SAMPLED, 0);
  assert_int_equal(v.mode.sample_bytes, 0);
  assert_int_equal(v.mode.flags, 0);
  assert_int_equal(v.mode.control_signal, SIGRTMIN + 5);
  size_t frees, allocs = check_lifetimes(&v, &frees);
  assert_int_equal(v.totals.sampled, v.totals.allocs);
  assert_int_equal(allocs, v.totals.allocs);
  assert_int_equal(frees, v.totals.frees);
  assert_int_equal(v.totals.untracked, 0);
  free(v.ev);
}

/* Byte sampling at N = 4096: events == sampled, a plausible number of them
** (5 sigma of the sum of p(size)), every free matches a sampled block and
** every sampled block's free is recorded; the same seed, the same sample. */
static void sampled_mode(void **state) {
  (void)state;
  spill_view v, w;
  const char *const env[] = {"FRAGTRACE_SAMPLE_BYTES=4096", "FRAGTRACE_SEED=42", NULL};
  run_sampled(fresh_dir("ps_sampled"), env, 20000, &v);
  assert_int_equal(v.hdr.flags & FT_FLAG_SAMPLED, FT_FLAG_SAMPLED);
  assert_int_equal(v.mode.sample_bytes, 4096);
  assert_int_equal(v.mode.seed, 42);
  size_t frees, allocs = check_lifetimes(&v, &frees);
  assert_int_equal(allocs, v.totals.sampled);
  assert_int_equal(frees, allocs); /* the program frees everything */
  assert_int_equal(v.totals.untracked, 0);
  /* Expected number of samples from the program's own size sequence. */
  double mean = 0, var = 0;
  for (long i = 0; i < 20000; i++) {
    double s = 16 + (double)(i % 97) * 48, p = 1 - exp(-s / 4096);
    mean += p, var += p * (1 - p);
    if (i % 8 == 0) p = 1 - exp(-300.0 / 4096), mean += p, var += p * (1 - p);
  }
  for (long i = 0; i < 20000; i += 4) {
    double s = 2 * (16 + (double)(i % 97) * 48), p = 1 - exp(-s / 4096);
    mean += p, var += p * (1 - p);
  }
  double got = (double)v.totals.sampled;
  print_message("sampled %llu of %llu allocations (expected %.0f), %zu events\n", (unsigned long long)v.totals.sampled,
                (unsigned long long)v.totals.allocs, mean, v.nev);
  if (fabs(got - mean) > 5 * sqrt(var)) fail_msg("sampled %.0f allocations, expected %.0f +- %.0f", got, mean, 5 * sqrt(var));
  run_sampled(fresh_dir("ps_sampled2"), env, 20000, &w);
  assert_int_equal(w.totals.sampled, v.totals.sampled);
  assert_int_equal(w.nev, v.nev);
  for (size_t i = 0; i < v.nev; i++) assert_int_equal(w.ev[i].n, v.ev[i].n); /* the same sizes sampled */
  free(v.ev);
  free(w.ev);
}

/* A table of 1024 slots and N = 1 byte (every block sampled): the blocks it
** cannot take are untracked, not recorded, and lifetimes stay consistent. */
static void table_full(void **state) {
  (void)state;
  spill_view v;
  const char *const env[] = {"FRAGTRACE_SAMPLE_BYTES=1", "FRAGTRACE_SEED=7", "FRAGTRACE_SAMPLE_TABLE=1024", NULL};
  run_sampled(fresh_dir("ps_full_table"), env, 20000, &v);
  size_t frees, allocs = check_lifetimes(&v, &frees);
  print_message("sampled %llu, untracked %llu of %llu\n", (unsigned long long)v.totals.sampled,
                (unsigned long long)v.totals.untracked, (unsigned long long)v.totals.allocs);
  assert_true(v.totals.untracked > 0);
  assert_true(v.totals.sampled <= 1024 + 20000 / 4); /* at most a table's worth live at once */
  assert_int_equal(v.totals.sampled + v.totals.untracked, v.totals.allocs);
  assert_int_equal(allocs, v.totals.sampled);
  assert_int_equal(frees, allocs);
  free(v.ev);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void send(pid_t pid, int value) {
  union sigval sv = {.sival_int = value};
  if (value) assert_int_equal(sigqueue(pid, SIGRTMIN + 5, sv), 0);
  else assert_int_equal(kill(pid, SIGRTMIN + 5), 0);
}

/* Paused at start; resume, flush, pause, toggle (plain kill: resume), stop.
** The CONTROL chunks say exactly that, in time order; no allocation event
** lies in a paused period or after the stop; the program runs on to its end. */
static void control_signal(void **state) {
  (void)state;
  const char *dir = fresh_dir("ps_control");
  child c = start(dir, (const char *const[]){"FRAGTRACE_PAUSED=1", NULL},
                  (const char *const[]){FT_PROGS "/ctlwait", "1.6", NULL});
  char out[512] = "";
  ssize_t r = read(c.out, out, sizeof out - 1); /* "pid=..." once it runs */
  assert_true(r > 0);
  out[r] = 0;
  assert_int_equal((pid_t)kv(out, "pid="), c.pid);
  sleep_ms(150);
  send(c.pid, FT_CTL_RESUME);
  sleep_ms(150);
  send(c.pid, FT_CTL_FLUSH);
  sleep_ms(100);
  send(c.pid, FT_CTL_PAUSE);
  sleep_ms(150);
  send(c.pid, 0); /* toggle: resume */
  sleep_ms(150);
  send(c.pid, FT_CTL_STOP);
  assert_int_equal(finish(&c, out, sizeof out), 0);
  unsigned long long made = kv(out, "done=");
  spill_view v;
  load_spill(dir, &v);
  assert_int_equal(v.mode.flags, FT_MODE_START_PAUSED);
  assert_int_equal(v.mode.control_signal, SIGRTMIN + 5);
  static const uint32_t want_action[] = {FT_CTL_PAUSE, FT_CTL_RESUME, FT_CTL_FLUSH, FT_CTL_PAUSE, FT_CTL_RESUME, FT_CTL_STOP};
  static const uint32_t want_source[] = {FT_CTLSRC_START, FT_CTLSRC_SIGNAL, FT_CTLSRC_SIGNAL, FT_CTLSRC_SIGNAL,
                                         FT_CTLSRC_SIGNAL, FT_CTLSRC_SIGNAL};
  assert_int_equal(v.nctl, 6);
  for (int i = 0; i < 6; i++) {
    assert_int_equal(v.ctl[i].action, want_action[i]);
    assert_int_equal(v.ctl[i].source, want_source[i]);
    if (i) assert_true(v.ctl[i].t_ns > v.ctl[i - 1].t_ns);
  }
  assert_int_equal(v.ctl[0].t_ns, 0);
  assert_int_equal(v.prev_of_flush, FT_CHUNK_TOTALS); /* FLUSH: drain, clock, maps, totals, then CONTROL */
  assert_int_equal(v.last_type, FT_CHUNK_CONTROL);    /* STOP closed the spill: no EXIT */
  /* Allocation events only while recording: [resume1, pause2) and [resume2, stop). */
  const uint64_t slack = 10000; /* ns: tick-to-ns interpolation error */
  uint64_t r1 = v.ctl[1].t_ns, p2 = v.ctl[3].t_ns, r2 = v.ctl[4].t_ns, st = v.ctl[5].t_ns;
  size_t in1 = 0, in2 = 0;
  for (size_t i = 0; i < v.nev; i++) {
    if (!is_alloc(v.ev[i].type)) continue;
    uint64_t t = v.ev[i].t;
    if (t + slack >= r1 && t < p2 + slack) in1++;
    else if (t + slack >= r2 && t < st + slack) in2++;
    else fail_msg("allocation event at %llu ns outside the recording periods [%llu, %llu) [%llu, %llu)",
                  (unsigned long long)t, (unsigned long long)r1, (unsigned long long)p2, (unsigned long long)r2,
                  (unsigned long long)st);
  }
  print_message("recorded %zu + %zu allocations of %llu counted, %llu made; control at %llu %llu %llu %llu %llu ns\n", in1,
                in2, (unsigned long long)v.totals.allocs, made, (unsigned long long)r1, (unsigned long long)v.ctl[2].t_ns,
                (unsigned long long)p2, (unsigned long long)r2, (unsigned long long)st);
  assert_true(in1 > 100 && in2 > 100);
  assert_int_equal(v.totals.sampled, in1 + in2);
  assert_true(v.totals.allocs > v.totals.sampled); /* paused allocations are counted */
  assert_true(v.totals.allocs <= made);            /* counting ends at the stop */
  free(v.ev);
}

/* FRAGTRACE_MAX_SIZE: events stop before the spill passes 75 % of the limit,
** the rest is counted in thinned (written + thinned = every event), what was
** written is a consistent prefix, and the file stays under the limit. */
static void max_size(void **state) {
  (void)state;
  const char *dir = fresh_dir("ps_max");
  spill_view v;
  const uint64_t limit = 256 * 1024;
  run_sampled_thinned(dir, (const char *const[]){"FRAGTRACE_MAX_SIZE=256K", NULL}, 50000, &v);
  assert_int_equal(v.mode.max_size, limit);
  size_t frees, allocs = check_lifetimes(&v, &frees);
  assert_true(v.totals.thinned > 0);
  assert_int_equal(allocs + frees + v.totals.thinned, v.totals.sampled + v.totals.frees);
  char paths[2][1024];
  assert_int_equal(spill_paths(dir, paths, 2), 1);
  struct stat st;
  assert_int_equal(stat(paths[0], &st), 0);
  print_message("spill %lld bytes, %zu events written, %llu thinned\n", (long long)st.st_size, allocs + frees,
                (unsigned long long)v.totals.thinned);
  assert_true((uint64_t)st.st_size <= limit);
  assert_true(allocs > 1000); /* events were written up to the threshold */
  free(v.ev);
}

/* FRAGTRACE_DELAY_MS and FRAGTRACE_DURATION_MS: paused at start, resumed by
** the delay, stopped by the duration counted from that resume; the program
** runs on. (The writer wakes at least every flush interval: 100 ms.) */
static void delay_and_duration(void **state) {
  (void)state;
  const char *dir = fresh_dir("ps_deadlines");
  child c = start(dir, (const char *const[]){"FRAGTRACE_DELAY_MS=300", "FRAGTRACE_DURATION_MS=400", NULL},
                  (const char *const[]){FT_PROGS "/ctlwait", "1.6", NULL});
  char out[512] = "";
  assert_int_equal(finish(&c, out, sizeof out), 0);
  assert_true(kv(out, "done=") > 0);
  spill_view v;
  load_spill(dir, &v);
  assert_int_equal(v.mode.flags, FT_MODE_START_PAUSED);
  assert_int_equal(v.nctl, 3);
  assert_int_equal(v.ctl[0].action, FT_CTL_PAUSE);
  assert_int_equal(v.ctl[0].source, FT_CTLSRC_START);
  assert_int_equal(v.ctl[1].action, FT_CTL_RESUME);
  assert_int_equal(v.ctl[1].source, FT_CTLSRC_DELAY);
  assert_int_equal(v.ctl[2].action, FT_CTL_STOP);
  assert_int_equal(v.ctl[2].source, FT_CTLSRC_DURATION);
  uint64_t r = v.ctl[1].t_ns, st = v.ctl[2].t_ns;
  print_message("resumed at %llu ns, stopped at %llu ns\n", (unsigned long long)r, (unsigned long long)st);
  /* Late by at most a writer interval plus scheduling on a loaded machine. */
  assert_true(r >= 300000000 && r < 300000000 + 500000000);
  assert_true(st - r >= 400000000 && st - r < 400000000 + 500000000);
  assert_int_equal(v.last_type, FT_CHUNK_CONTROL);
  for (size_t i = 0; i < v.nev; i++)
    if (is_alloc(v.ev[i].type) && (v.ev[i].t + 10000 < r || v.ev[i].t > st + 10000))
      fail_msg("allocation at %llu ns outside [%llu, %llu]", (unsigned long long)v.ev[i].t, (unsigned long long)r,
               (unsigned long long)st);
  free(v.ev);
}

/* A fork child's spill has its own MODE (sampled, same seed) and its own
** totals from zero; its frees of sampled blocks inherited from the parent
** are recorded (the parent's table is inherited). Paused at fork: the child
** starts paused (START_PAUSED, CONTROL PAUSE at 0) and records nothing. */
static void fork_child(void **state) {
  (void)state;
  for (int paused = 0; paused < 2; paused++) {
    const char *dir = fresh_dir(paused ? "ps_fork_paused" : "ps_fork");
    child c = start(dir,
                    (const char *const[]){"FRAGTRACE_SAMPLE_BYTES=1", "FRAGTRACE_SEED=5",
                                          paused ? "FRAGTRACE_PAUSED=1" : "FRAGTRACE_PAUSED=0", NULL},
                    (const char *const[]){FT_PROGS "/forker", NULL});
    char out[512] = "";
    assert_int_equal(finish(&c, out, sizeof out), 0);
    long long child_pid = (long long)kv(out, "child=");
    char paths[4][1024];
    assert_int_equal(spill_paths(dir, paths, 4), 2);
    int seen_child = 0;
    for (int i = 0; i < 2; i++) {
      spill_view v;
      load_spill_path(paths[i], &v);
      assert_int_equal(v.nmode, 1);
      assert_int_equal(v.hdr.flags & FT_FLAG_SAMPLED, FT_FLAG_SAMPLED);
      assert_int_equal(v.mode.seed, 5);
      assert_int_equal(v.mode.flags, paused ? FT_MODE_START_PAUSED : 0);
      if (v.hdr.pid != child_pid) {
        free(v.ev);
        continue;
      }
      seen_child = 1;
      assert_int_equal(v.hdr.flags & FT_FLAG_FORKED, FT_FLAG_FORKED);
      assert_int_equal(v.totals.allocs, 3);
      assert_int_equal(v.totals.frees, 3);
      assert_int_equal(v.totals.alloc_bytes, 3 * 7171);
      size_t allocs = 0, frees = 0;
      for (size_t k = 0; k < v.nev; k++) {
        allocs += is_heap_alloc(v.ev[k].type);
        frees += v.ev[k].type == FT_EV_FREE;
      }
      if (paused) {
        assert_true(v.nctl >= 1);
        assert_int_equal(v.ctl[0].action, FT_CTL_PAUSE);
        assert_int_equal(v.ctl[0].t_ns, 0);
        assert_int_equal(allocs, 0);
        assert_int_equal(v.totals.sampled, 0);
        assert_int_equal(frees, 0); /* nothing was sampled in the parent either */
      } else {
        assert_int_equal(v.nctl, 0);
        assert_int_equal(allocs, 3);
        assert_int_equal(v.totals.sampled, 3);
        assert_int_equal(frees, 3); /* two of its own, one inherited sampled block */
      }
      free(v.ev);
    }
    assert_true(seen_child);
  }
}

/* 200 short threads, nodes reused as they die: in full capture the totals
** equal what the events say (a dead thread's counts carried, not lost). */
static void threads_totals(void **state) {
  (void)state;
  const char *dir = fresh_dir("ps_threads");
  child c = start(dir, NULL, (const char *const[]){FT_PROGS "/shortthreads", "50", NULL});
  char out[512] = "";
  assert_int_equal(finish(&c, out, sizeof out), 0);
  assert_int_equal(kv(out, "threads="), 200);
  spill_view v;
  load_spill(dir, &v);
  uint64_t allocs = 0, frees = 0, bytes = 0;
  for (size_t i = 0; i < v.nev; i++) {
    if (is_heap_alloc(v.ev[i].type)) allocs++, bytes += v.ev[i].n;
    frees += v.ev[i].type == FT_EV_FREE;
  }
  print_message("%llu allocations, %llu frees, %llu bytes\n", (unsigned long long)allocs, (unsigned long long)frees,
                (unsigned long long)bytes);
  assert_true(allocs >= 200 * 11);
  assert_int_equal(v.totals.allocs, allocs);
  assert_int_equal(v.totals.sampled, allocs);
  assert_int_equal(v.totals.frees, frees);
  assert_int_equal(v.totals.alloc_bytes, bytes);
  free(v.ev);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(full_mode_totals),
      cmocka_unit_test(sampled_mode),
      cmocka_unit_test(table_full),
      cmocka_unit_test(control_signal),
      cmocka_unit_test(max_size),
      cmocka_unit_test(delay_and_duration),
      cmocka_unit_test(fork_child),
      cmocka_unit_test(threads_totals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
