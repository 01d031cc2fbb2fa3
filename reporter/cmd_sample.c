/*
** cmd_sample.c — `fragtrace sample -o FILE [--interval D] [--duration D]`:
** the recorder's system sampling without a target process. It reads the same
** sources with the same code as the shim's sampler (preload/ft_sources.c:
** buddyinfo, pagetypeinfo, meminfo, vmstat, slabinfo), writes them to a spill
** exactly as the shim would, and imports that into a trace whose only
** process is the sampler itself (no allocations), so `fragtrace report` and
** SQL work on it like on any trace.
**
** Ctrl-C (SIGINT) or SIGTERM ends sampling early without losing anything:
** every snapshot is already in the spill, which is then imported.
*/
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "ft_cli.h"
#include "ft_config.h"
#include "ft_db.h"
#include "ft_fmt.h"
#include "ft_format.h"
#include "ft_prim.h"
#include "ft_sources.h"

static const char sample_usage[] =
    "usage: fragtrace sample -o FILE [--interval D] [--duration D] [-q]\n"
    "\n"
    "Sample the host's memory state (/proc/buddyinfo, pagetypeinfo, meminfo,\n"
    "vmstat, slabinfo) into a trace, without a target process. Stop with\n"
    "Ctrl-C: the samples taken so far are kept.\n"
    "\n"
    "  -o, --output FILE    trace to write (replaced if it exists)\n"
    "  -i, --interval D     time between samples, e.g. 500ms, 2s (default 1s)\n"
    "  -d, --duration D     stop after D (default: run until Ctrl-C or SIGTERM)\n"
    "  -q, --quiet          no summary line\n"
    "\n"
    "FRAGTRACE_PROC_DIR reads the system files from another directory than /proc.\n";

/* Where the chunks go: the spill's descriptor. */
typedef struct ft_sample_out {
  int fd;
  int failed;       /* a write failed: stop and report */
  long long chunks; /* snapshots written (source notes not counted) */
} ft_sample_out;

/* Append one chunk as the shim's ft_spill_append does (header, payload,
** zero padding to 8 bytes; one writev on an O_APPEND descriptor). */
static void sample_sink(void *ctx, uint32_t type, const void *a, size_t alen, const void *b, size_t blen) {
  static const uint8_t zeros[8];
  ft_sample_out *o = ctx;
  if (o->failed) return;
  ft_chunk h = {type, (uint32_t)(alen + blen), 0, 0};
  struct iovec iov[4] = {{&h, sizeof h}, {(void *)a, alen}, {(void *)b, blen},
                         {(void *)zeros, (8 - (alen + blen) % 8) % 8}};
  if (ft_writev_all(o->fd, iov, 4) != 0) o->failed = errno ? errno : EIO;
  if (type != FT_CHUNK_SOURCE) o->chunks++;
}

/* Create the spill at path with its header and process chunks. Returns the
** descriptor, or -1 with errno. */
static int spill_create(const char *path, uint64_t start_mono, uint64_t start_unix) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  ft_file_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, FT_SPILL_MAGIC, 8);
  h.version = FT_SPILL_VERSION;
  h.header_size = sizeof h;
  h.pid = (int32_t)getpid();
  h.ppid = (int32_t)getppid();
  h.start_mono_ns = start_mono;
  h.start_unix_ns = start_unix;
  h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
  struct iovec iov = {&h, sizeof h};
  if (ft_writev_all(fd, &iov, 1) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  ft_sample_out o = {fd, 0, 0};
  char buf[8192];
  ssize_t n = ft_read_small_file("/proc/self/cmdline", buf, sizeof buf);
  if (n > 0) sample_sink(&o, FT_CHUNK_CMDLINE, buf, (size_t)n, NULL, 0);
  n = readlink("/proc/self/exe", buf, sizeof buf);
  if (n > 0) sample_sink(&o, FT_CHUNK_EXE, buf, (size_t)n, NULL, 0);
  return fd;
}

/* getenv with the signature ft_config_load wants. */
static const char *sample_getenv(const char *name) { return getenv(name); }

/* Parse a duration option > 0 into *ns; complain and return -1 otherwise. */
static int duration_opt(const char *name, const char *v, int64_t *ns) {
  if (ft_parse_duration(v, ns) != 0 || *ns <= 0 || *ns / 1000000 > 3600000LL * 24 * 365) {
    ft_errorf("sample: %s wants a duration such as 500ms or 2s, not '%s'", name, v);
    return -1;
  }
  return 0;
}

/* Sample until the deadline (UINT64_MAX: none) or SIGINT/SIGTERM, which the
** caller has blocked: sigtimedwait takes them, so none is lost between a
** check and a sleep. */
static void sample_loop(ft_sources *src, ft_sample_out *o, uint64_t deadline, const sigset_t *stop) {
  for (;;) {
    uint64_t now = ft_now_ns();
    if (now >= deadline || o->failed) return;
    uint64_t next = ft_sources_run(src, now, sample_sink, o);
    if (next > deadline) next = deadline;
    now = ft_now_ns();
    if (next <= now) continue;
    uint64_t wait = next - now;
    struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
    int sig = sigtimedwait(stop, NULL, next == UINT64_MAX ? NULL : &ts);
    if (sig == SIGINT || sig == SIGTERM) return;
  }
}

int ft_cmd_sample(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'}, {"interval", required_argument, 0, 'i'},
      {"duration", required_argument, 0, 'd'}, {"quiet", no_argument, 0, 'q'},
      {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
  const char *output = NULL;
  int64_t interval = 1000000000, duration = 0;
  int quiet = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:i:d:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'o': output = optarg; break;
    case 'i':
      if (duration_opt("--interval", optarg, &interval) != 0) return FT_EXIT_USAGE;
      break;
    case 'd':
      if (duration_opt("--duration", optarg, &duration) != 0) return FT_EXIT_USAGE;
      break;
    case 'q': quiet = 1; break;
    case 'h': fputs(sample_usage, stdout); return 0;
    default: fputs(sample_usage, stderr); return FT_EXIT_USAGE;
    }
  }
  if (!output || optind != argc) {
    fputs(sample_usage, stderr);
    return FT_EXIT_USAGE;
  }
  if (interval < 1000000) {
    ft_errorf("sample: --interval must be at least 1ms");
    return FT_EXIT_USAGE;
  }

  /* The same settings as the shim (FRAGTRACE_PROC_DIR), with every system
  ** source on the one interval asked for; smaps is the process's own. */
  ft_config cfg;
  ft_config_load(&cfg, sample_getenv, NULL);
  int ms = (int)(interval / 1000000 > 3600000 ? 3600000 : interval / 1000000);
  cfg.sample_ms = cfg.sys_sample_ms = cfg.pagetypeinfo_ms = cfg.slabinfo_ms = ms;

  char err[512];
  sqlite3 *db;
  if (ft_db_create(output, &db, err, sizeof err) != 0) { /* prove we can write it before sampling */
    ft_errorf("sample: %s", err);
    return FT_EXIT_USAGE;
  }
  sqlite3_close(db);

  uint64_t start = ft_now_ns();
  char spill[4096];
  if (snprintf(spill, sizeof spill, "%s.sample-%d.ftspill", output, (int)getpid()) >= (int)sizeof spill) {
    ft_errorf("sample: output path too long");
    return FT_EXIT_USAGE;
  }
  unlink(spill); /* a leftover of a pid we reuse */
  int fd = spill_create(spill, start, ft_unix_ns());
  if (fd < 0) {
    ft_errorf("sample: cannot create %s: %s", spill, strerror(errno));
    return FT_EXIT_USAGE;
  }

  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop, &old);

  ft_sources src;
  ft_sample_out o = {fd, 0, 0};
  ft_sources_init(&src, &cfg, 0, start);
  sample_loop(&src, &o, duration > 0 ? start + (uint64_t)duration : UINT64_MAX, &stop);
  /* One last snapshot of every source at the stop (deadline or signal), so
  ** the file covers the whole run and not only up to the last interval;
  ** all or none, so sources on the one interval keep equal counts. */
  uint64_t now = ft_now_ns();
  if (!o.failed && ft_sources_stale(&src, now, FT_SOURCES_FINAL_FRESH_NS, 0)) {
    ft_sources_due_now(&src, 0);
    ft_sources_run(&src, now, sample_sink, &o);
  }
  ft_sources_fini(&src);
  uint64_t end = ft_now_ns() - start;
  ft_exit x = {end, 0, 0};
  sample_sink(&o, FT_CHUNK_EXIT, &x, sizeof x, NULL, 0);
  close(fd);
  if (o.failed) {
    ft_errorf("sample: writing %s failed: %s", spill, strerror(o.failed));
    unlink(spill);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return FT_EXIT_USAGE;
  }

  /* Importing stays uninterruptible by the same signals: a second Ctrl-C
  ** must not leave a half-written trace. */
  char *spills[1] = {spill};
  int r = ft_import_and_symbolize(output, spills, 1, 1, 1, 0, 0);
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (r != 0) return FT_EXIT_USAGE;
  if (!quiet) {
    char d[FT_FMT_CAP];
    fprintf(stderr, "fragtrace: wrote %s: %lld snapshots over %s\n", output, o.chunks - 1,
            ft_fmt_duration(d, sizeof d, (double)end));
  }
  return 0;
}
