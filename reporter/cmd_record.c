/*
** cmd_record.c — `fragtrace record`: run a command under the preload shim,
** wait for it and every descendant (we are their subreaper), then import all
** spills of the process tree into one trace and symbolize it.
**
** Follow mode (--live, --max-size, --duration; ft_follow.h and
** ft_import_follow_* in ft_import.h): instead of only waiting, the recorder
** tails the spills while the tree runs and imports them epoch by epoch into
** the trace (WAL mode meanwhile, so readers see the last commit): every
** --commit-ms while they grow, sooner when bounded (so one epoch never adds
** more than the margin below the limit), and at once on a FLUSH control
** chunk. After each commit it thins the trace under --max-size (the
** importer then writes freed rows 1 in k, ft_follow.h). It ends the
** recording when every image STOPped (--duration: the program runs on
** untraced) or the tree is gone.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ft_cli.h"
#include "ft_config.h"
#include "ft_db.h"
#include "ft_fmt.h"
#include "ft_follow.h"
#include "ft_import.h"
#include "ft_symbolize.h"

static const char record_usage[] =
    "usage: fragtrace record [-o FILE] [options] -- CMD [ARGS...]\n"
    "\n"
    "Runs CMD with libfragtrace.so preloaded, follows fork and exec, and writes\n"
    "every allocation of the whole process tree into one SQLite trace.\n"
    "\n"
    "  -o, --output FILE    trace to write (default fragtrace.<pid>.db)\n"
    "      --depth N        frames per stack, 1..256 (default 64)\n"
    "      --flush-ms N     writer drain interval, 1..1000 ms (default 100)\n"
    "      --sample-ms N    RSS/buddyinfo sampling interval, 0 = off (default 100)\n"
    "      --sys-sample-ms N  meminfo/vmstat interval, 0 = off (default 1000)\n"
    "      --pagetypeinfo-ms N  /proc/pagetypeinfo interval, 0 = off (default 10000)\n"
    "      --slabinfo-ms N  /proc/slabinfo interval, 0 = off (default 10000)\n"
    "      --smaps-ms N     /proc/self/smaps_rollup interval, 0 = off (default 1000)\n"
    "      --mallinfo-ms N  glibc mallinfo2() interval, 0 = off (default 1000)\n"
    "      --no-mmap        do not record mmap/munmap/mremap\n"
    "      --buffer-kb N    per-thread buffer, 64..65536 KiB (default 1024)\n"
    "      --lossy          drop (and count) events instead of waiting when a buffer is full\n"
    "      --keep-spill     keep the raw spill files next to the trace\n"
    "\n"
    "Production mode:\n"
    "      --sample-bytes N byte sampling: record allocations with probability\n"
    "                       1-exp(-size/N), weighted in the trace (K/M/G suffixes; 0 = all)\n"
    "      --seed N         seed of the sampling (default: from time and pid)\n"
    "      --paused         start with recording paused (resume with `fragtrace ctl`)\n"
    "      --delay D        start recording after D (units ms, s, m, h; default s)\n"
    "      --duration D     stop recording after D; the program runs on untraced,\n"
    "                       record writes the trace, prints its pid and exits 0\n"
    "      --signal SIG     control signal of the shim (USR1, USR2, RTMIN+N, or none)\n"
    "      --max-size BYTES keep the trace under BYTES (K/M/G; also FRAGTRACE_MAX_SIZE),\n"
    "                       importing while CMD runs: freed allocation rows are kept\n"
    "                       1 in k (k doubling as needed), weighted k; live rows,\n"
    "                       summaries, windows and samples stay complete\n"
    "      --live           import while CMD runs, so the trace can be read (reported on)\n"
    "                       meanwhile: a commit every --commit-ms while the spills grow\n"
    "                       and at once on `fragtrace ctl flush PID`\n"
    "      --commit-ms N    commit interval while following, 10..3600000 (default 1000)\n"
    "      --window-ms N    site_windows width, 1..3600000 ms (default: 1000 with\n"
    "                       --live/--max-size/--duration, else chosen from the run length)\n"
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: CMD's own (128+N if it died of signal N); 0 when --duration ended\n"
    "the recording first; 125 if fragtrace fails, 126 if CMD cannot be executed,\n"
    "127 if it is not found.\n";

static volatile sig_atomic_t child_pid;

/* Terminal signals reach the whole process group anyway; others we pass on. */
static void forward_signal(int sig) {
  if (child_pid > 0) kill(child_pid, sig);
}

/* Setting from an option value that must be an integer in [lo, hi]. */
static int set_int_env(const char *name, const char *value, long lo, long hi) {
  char *end;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (errno || *end || end == value || v < lo || v > hi) {
    ft_errorf("invalid value '%s' for %s (expected %ld..%ld)", value, name, lo, hi);
    return -1;
  }
  return setenv(name, value, 1);
}

/* A duration in ms: ft_parse_duration's syntax (ns .. h, "m" or "min"), or a
** bare whole number of seconds. Returns 0 or -1. */
static int parse_duration_ms(const char *s, uint64_t *out) {
  char buf[64];
  size_t n = strlen(s);
  if (n > 0 && n < sizeof buf - 2 && strspn(s, "0123456789") == n) { /* bare: seconds */
    snprintf(buf, sizeof buf, "%ss", s);
    s = buf;
  }
  int64_t ns;
  if (ft_parse_duration(s, &ns) != 0 || ns < 0) return -1;
  *out = (uint64_t)ns / 1000000u;
  return 0;
}

/* setenv(name, decimal v). */
static int set_u64_env(const char *name, uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  return setenv(name, buf, 1);
}

/* LD_PRELOAD = shim [+ whatever was there before]. */
static int set_preload(const char *shim) {
  const char *old = getenv("LD_PRELOAD");
  if (!old || !*old) return setenv("LD_PRELOAD", shim, 1);
  size_t n = strlen(shim) + strlen(old) + 2;
  char *v = malloc(n);
  if (!v) return -1;
  snprintf(v, n, "%s %s", shim, old);
  int r = setenv("LD_PRELOAD", v, 1);
  free(v);
  return r;
}

/* Spill files in dir, as a malloc'd array of paths. */
static char **list_spills(const char *dir, int *n) {
  *n = 0;
  char **out = NULL;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 9 || strcmp(e->d_name + len - 8, ".ftspill") != 0) continue;
    char **grown = realloc(out, (size_t)(*n + 1) * sizeof *out);
    if (!grown) break;
    out = grown;
    size_t need = strlen(dir) + len + 2;
    out[*n] = malloc(need);
    if (!out[*n]) break;
    snprintf(out[*n], need, "%s/%s", dir, e->d_name);
    (*n)++;
  }
  closedir(d);
  return out;
}

/* Wait for the direct child (its status is what we return) and then for every
** orphaned descendant reparented to us, so their spills are complete. */
static int wait_for_tree(pid_t child, int *child_status) {
  int have = 0;
  for (;;) {
    int st;
    pid_t w = waitpid(-1, &st, 0);
    if (w < 0) {
      if (errno == EINTR) continue;
      break; /* ECHILD: the whole tree is gone */
    }
    if (w == child) {
      *child_status = st;
      have = 1;
      child_pid = 0;
    }
  }
  return have ? 0 : -1;
}

/* What follow mode was asked for (ft_follow.h), and its importer. */
typedef struct rec_follow {
  int on;             /* import the spills while the tree runs */
  int live;           /* --live */
  int duration;       /* --duration given: end when every image STOPped */
  uint64_t max_size;  /* --max-size, 0 = none */
  uint64_t commit_ms; /* --commit-ms */
  uint64_t window_ms; /* --window-ms, 0 = the importer's choice */
  int keep, quiet;    /* --keep-spill (then no hole punching), -q */
  sqlite3 *db;        /* the trace, WAL mode while following */
  ft_follow_import *imp;
  int failed;         /* the importer failed: the trace keeps its last commit */
} rec_follow;

/* Monotonic milliseconds. */
static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Write meta window_ns into the trace at path before any import, so every
** image uses the same fixed window. 0 or -1. */
static int preset_window(const char *path, uint64_t window_ms) {
  char err[512], sql[160];
  sqlite3 *db;
  if (ft_db_open_append(path, &db, err, sizeof err) != 0) {
    ft_errorf("record: %s", err);
    return -1;
  }
  snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO meta(key, value) VALUES ('window_ns', '%llu')",
           (unsigned long long)window_ms * 1000000ull);
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
  if (rc) ft_errorf("record: writing meta window_ns: %s", sqlite3_errmsg(db));
  sqlite3_close(db);
  return rc;
}

/* Spill bytes per import epoch: when bounded, small enough that what one
** epoch adds to the trace (a spill byte makes about 3 trace bytes in full
** mode) stays within the margin between thinning rounds (the limit's
** 70 % mark and the limit: room for an epoch of a tight allocation loop,
** whose spill compresses best), so the file stays under the limit all along. */
static size_t epoch_bytes(const rec_follow *fo) {
  if (!fo->max_size) return 0; /* the importer's default */
  uint64_t b = fo->max_size / 48;
  return b < 16384 ? 16384 : (size_t)b;
}

/* Open the fresh trace for following: small pages when bounded (the limit
** is measured in pages), WAL so that readers see the last commit while the
** next one is written. 0 or -1 (said why). */
static int follow_open(rec_follow *fo, const char *output) {
  char err[512];
  if (ft_db_open_append(output, &fo->db, err, sizeof err) != 0) {
    ft_errorf("record: %s", err);
    return -1;
  }
  if ((fo->max_size && sqlite3_exec(fo->db, "PRAGMA page_size=4096; VACUUM", NULL, NULL, NULL) != SQLITE_OK) ||
      sqlite3_exec(fo->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK) {
    ft_errorf("record: %s: %s", output, sqlite3_errmsg(fo->db));
  } else if (ft_import_follow_open(&fo->imp, fo->db, fo->window_ms * 1000000ull, epoch_bytes(fo), !fo->keep, err,
                                   sizeof err) != 0) {
    ft_errorf("record: %s", err);
  } else {
    return 0;
  }
  sqlite3_exec(fo->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL);
  sqlite3_close(fo->db);
  fo->db = NULL;
  return -1;
}

/* Import what the spills gained and commit (final: the processes are gone
** or stopped recording; end every image, however many commits the backlog
** takes); then keep the trace under --max-size. A failure is said once and
** ends following. Returns 1 when a backlog is left (poll again soon). */
static int follow_commit(rec_follow *fo, const char *spill_dir, int final, int symbolize) {
  if (fo->failed) return 0;
  char err[512];
  int n = 0, more = 0;
  char **spills = list_spills(spill_dir, &n);
  do {
    more = ft_import_follow_poll(fo->imp, (const char *const *)spills, (size_t)n, final, err, sizeof err);
    if (more < 0) break;
    if (fo->max_size) {
      ft_thin_stats ts;
      if (ft_thin_trace(fo->db, fo->max_size, 0, &ts, err, sizeof err) != 0) {
        ft_errorf("record: bounding the trace: %s", err);
        fo->failed = 1;
        break;
      }
    }
    /* Fold the WAL back into the trace (a reader in the middle of a read
    ** keeps it from finishing: then a later commit does it). */
    sqlite3_wal_checkpoint_v2(fo->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  } while (final && more > 0);
  if (more < 0) {
    ft_errorf("record: importing while the program runs: %s", err);
    fo->failed = 1;
  } else if (symbolize && !final) {
    /* A report made now shows names (the end looks again at what could
    ** not be resolved yet: a library's mapping may come a drain late). */
    if (ft_symbolize_trace(fo->db, NULL, err, sizeof err) != 0) ft_errorf("symbolize: %s", err);
  }
  for (int i = 0; i < n; i++) free(spills[i]);
  free(spills);
  return more > 0;
}

/* End following: symbolize, record the exit status, leave WAL mode and
** bring the file to its final size. Prints the summary unless quiet.
** Returns 0 or -1 (said why). */
static int follow_finish(rec_follow *fo, const char *output, int exit_pid, int exit_status) {
  char err[512];
  int rc = 0;
  ft_import_stats st;
  long long late = 0;
  int punch_failed = 0;
  ft_import_follow_stats(fo->imp, &st, &late, &punch_failed);
  if (exit_pid > 0) ft_import_set_exit_status(fo->db, exit_pid, exit_status);
  ft_symbolize_stats ss;
  memset(&ss, 0, sizeof ss);
  /* IPs looked up during the run before their library's mapping was in
  ** the trace: look again, now that every mapping is. */
  sqlite3_exec(fo->db, "DELETE FROM symbols WHERE function IS NULL", NULL, NULL, NULL);
  if (ft_symbolize_trace(fo->db, &ss, err, sizeof err) != 0) ft_errorf("symbolize: %s", err);
  if (sqlite3_exec(fo->db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
    ft_errorf("record: %s: %s", output, sqlite3_errmsg(fo->db));
    rc = -1;
  }
  ft_thin_stats ts = {0};
  if (fo->max_size && ft_thin_trace(fo->db, fo->max_size, 1, &ts, err, sizeof err) != 0) {
    ft_errorf("record: bounding the trace: %s", err);
    rc = -1;
  }
  /* Freed rows left out, by the thinning rounds and by the importer. */
  long long thinned = 0, keep = 1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(fo->db,
                         "SELECT (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thinned_rows'), "
                         "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'thin_keep')",
                         -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW) {
    thinned = sqlite3_column_int64(q, 0);
    if (sqlite3_column_type(q, 1) != SQLITE_NULL) keep = sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  ft_import_follow_close(fo->imp);
  fo->imp = NULL;
  if (sqlite3_close(fo->db) != SQLITE_OK) {
    ft_errorf("closing %s failed", output);
    rc = -1;
  }
  fo->db = NULL;
  struct stat sst;
  uint64_t size = stat(output, &sst) == 0 ? (uint64_t)sst.st_size : 0;
  if (fo->max_size && size > fo->max_size)
    ft_errorf("record: %s is %llu bytes even with every freed allocation row thinned (--max-size %llu)", output,
              (unsigned long long)size, (unsigned long long)fo->max_size);
  if (punch_failed && !fo->quiet)
    ft_errorf("record: the file system cannot punch holes: the spills kept their size while recording");
  if (!fo->quiet) {
    fprintf(stderr,
            "fragtrace: wrote %s: %ld process%s, %lld allocations (%lld freed), %ld stacks, %lld events dropped%s\n",
            output, st.processes, st.processes == 1 ? "" : "es", st.allocations, st.frees, st.stacks,
            st.events_dropped, st.truncated_files ? ", a process was killed: its last records are lost" : "");
    if (thinned)
      fprintf(stderr,
              "fragtrace: --max-size: %lld freed allocation rows left out (the trace keeps 1 in %lld, weighted), "
              "%s is %llu bytes\n",
              thinned, keep, output, (unsigned long long)size);
    if (late) fprintf(stderr, "fragtrace: %lld events arrived after later ones were imported (meta late_events)\n", late);
  }
  return rc;
}

/* Follow mode's wait: reap the tree like wait_for_tree while polling the
** spills, importing them every commit_ms while they grow (sooner when
** bounded and they grew by an epoch's bytes) and at once on a FLUSH.
** Returns 1 when every image STOPped (--duration) while the tree still
** runs, 0 when the tree is gone, -1 on error. */
static int follow_tree(pid_t child, int *child_status, const char *spill_dir, rec_follow *fo) {
  ft_tails ts;
  if (ft_tails_init(&ts, spill_dir) != 0) {
    ft_errorf("record: out of memory");
    return -1;
  }
  uint64_t next_commit = now_ms() + fo->commit_ms, bytes_then = 0, next_symbolize = 0;
  int dirty = 0, rc = 0;
  for (;;) {
    int st;
    pid_t w;
    while ((w = waitpid(-1, &st, WNOHANG)) > 0)
      if (w == child) {
        *child_status = st;
        child_pid = 0;
      }
    if (w < 0 && errno == ECHILD) break; /* the whole tree is gone */
    int grew = 0, flushed = 0;
    if (ft_tails_poll(&ts, &grew, &flushed) != 0) {
      ft_errorf("record: out of memory while following the spills");
      rc = -1;
      break;
    }
    dirty |= grew;
    if (fo->duration && ft_tails_all_stopped(&ts)) {
      rc = 1;
      break;
    }
    uint64_t now = now_ms();
    int big = fo->max_size && ts.bytes - bytes_then >= epoch_bytes(fo);
    if (flushed || (dirty && (now >= next_commit || big))) {
      int sym = flushed || now >= next_symbolize;
      int behind = follow_commit(fo, spill_dir, 0, sym);
      if (sym) next_symbolize = now_ms() + 5000; /* names for a report made meanwhile */
      dirty = behind; /* a backlog: take the next piece at once */
      bytes_then = ts.bytes;
      next_commit = behind ? now_ms() : now_ms() + fo->commit_ms;
      if (behind) continue;
    }
    struct timespec nap = {0, 20 * 1000 * 1000}; /* control chunks are acted on within 20 ms */
    nanosleep(&nap, NULL);
  }
  ft_tails_free(&ts);
  return rc;
}

int ft_cmd_record(int argc, char **argv) {
  enum { O_SAMPLE_BYTES = 256, O_SEED, O_PAUSED, O_DELAY, O_DURATION, O_SIGNAL, O_MAX_SIZE, O_LIVE,
         O_COMMIT_MS, O_WINDOW_MS };
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'},  {"depth", required_argument, 0, 'd'},
      {"flush-ms", required_argument, 0, 'f'}, {"sample-ms", required_argument, 0, 's'},
      {"no-mmap", no_argument, 0, 'm'},        {"buffer-kb", required_argument, 0, 'b'},
      {"lossy", no_argument, 0, 'l'},          {"keep-spill", no_argument, 0, 'k'},
      {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
      {"sys-sample-ms", required_argument, 0, 'S'}, {"slabinfo-ms", required_argument, 0, 'L'},
      {"smaps-ms", required_argument, 0, 'M'},      {"mallinfo-ms", required_argument, 0, 'I'},
      {"pagetypeinfo-ms", required_argument, 0, 'P'},
      {"sample-bytes", required_argument, 0, O_SAMPLE_BYTES}, {"seed", required_argument, 0, O_SEED},
      {"paused", no_argument, 0, O_PAUSED},                    {"delay", required_argument, 0, O_DELAY},
      {"duration", required_argument, 0, O_DURATION},          {"signal", required_argument, 0, O_SIGNAL},
      {"max-size", required_argument, 0, O_MAX_SIZE},          {"live", no_argument, 0, O_LIVE},
      {"commit-ms", required_argument, 0, O_COMMIT_MS},        {"window-ms", required_argument, 0, O_WINDOW_MS},
      {0, 0, 0, 0}};
  const char *output = NULL;
  int keep = 0, quiet = 0, c;
  rec_follow fo = {.commit_ms = 1000};
  uint64_t v;
  /* The limit is the recorder's business: the shim must not thin on its own. */
  const char *env_max = getenv("FRAGTRACE_MAX_SIZE");
  if (env_max && *env_max && (ft_parse_bytes(env_max, &fo.max_size) != 0 || fo.max_size == 0)) {
    ft_errorf("invalid FRAGTRACE_MAX_SIZE '%s' (bytes, with an optional K/M/G suffix)", env_max);
    return FT_EXIT_RECORD_ERROR;
  }
  unsetenv("FRAGTRACE_MAX_SIZE");
  optind = 1;
  while ((c = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
      case 'o': output = optarg; break;
      case 'd': bad = set_int_env("FRAGTRACE_DEPTH", optarg, 1, 256); break;
      case 'f': bad = set_int_env("FRAGTRACE_FLUSH_MS", optarg, 1, 1000); break;
      case 's': bad = set_int_env("FRAGTRACE_SAMPLE_MS", optarg, 0, 60000); break;
      case 'b': bad = set_int_env("FRAGTRACE_BUFFER_KB", optarg, 64, 65536); break;
      case 'S': bad = set_int_env("FRAGTRACE_SYS_SAMPLE_MS", optarg, 0, 3600000); break;
      case 'P': bad = set_int_env("FRAGTRACE_PAGETYPEINFO_MS", optarg, 0, 3600000); break;
      case 'L': bad = set_int_env("FRAGTRACE_SLABINFO_MS", optarg, 0, 3600000); break;
      case 'M': bad = set_int_env("FRAGTRACE_SMAPS_MS", optarg, 0, 3600000); break;
      case 'I': bad = set_int_env("FRAGTRACE_MALLINFO_MS", optarg, 0, 3600000); break;
      case 'm': setenv("FRAGTRACE_MMAP", "0", 1); break;
      case 'l': setenv("FRAGTRACE_LOSSY", "1", 1); break;
      case 'k': keep = 1; break;
      case 'q': quiet = 1; break;
      case O_SAMPLE_BYTES:
        if (ft_parse_bytes(optarg, &v) != 0) {
          ft_errorf("invalid value '%s' for --sample-bytes (bytes, with an optional K/M/G suffix)", optarg);
          bad = 1;
        } else {
          set_u64_env("FRAGTRACE_SAMPLE_BYTES", v);
        }
        break;
      case O_SEED:
        if (ft_parse_u64(optarg, &v) != 0) {
          ft_errorf("invalid value '%s' for --seed (an unsigned 64-bit integer)", optarg);
          bad = 1;
        } else {
          set_u64_env("FRAGTRACE_SEED", v);
        }
        break;
      case O_PAUSED: setenv("FRAGTRACE_PAUSED", "1", 1); break;
      case O_DELAY:
      case O_DURATION:
        if (parse_duration_ms(optarg, &v) != 0 || (c == O_DURATION && v == 0)) {
          ft_errorf("invalid value '%s' for --%s (a number with unit ms, s, m or h)", optarg,
                    c == O_DELAY ? "delay" : "duration");
          bad = 1;
        } else {
          set_u64_env(c == O_DELAY ? "FRAGTRACE_DELAY_MS" : "FRAGTRACE_DURATION_MS", v);
          if (c == O_DURATION) fo.duration = 1;
        }
        break;
      case O_SIGNAL: {
        int sig;
        if (ft_parse_signal(optarg, &sig) != 0) {
          ft_errorf("invalid value '%s' for --signal (USR1, USR2, RTMIN+N, RTMAX-N, their numbers, "
                    "or none)", optarg);
          bad = 1;
        } else {
          set_u64_env("FRAGTRACE_SIGNAL", (uint64_t)sig);
        }
        break;
      }
      case O_MAX_SIZE:
        if (ft_parse_bytes(optarg, &fo.max_size) != 0 || fo.max_size == 0) {
          ft_errorf("invalid value '%s' for --max-size (bytes, with an optional K/M/G suffix)", optarg);
          bad = 1;
        }
        break;
      case O_LIVE: fo.live = 1; break;
      case O_COMMIT_MS:
      case O_WINDOW_MS: {
        long lo = c == O_COMMIT_MS ? 10 : 1;
        char *end;
        errno = 0;
        long n = strtol(optarg, &end, 10);
        if (errno || end == optarg || *end || n < lo || n > 3600000) {
          ft_errorf("invalid value '%s' for --%s (expected %ld..3600000)", optarg,
                    c == O_COMMIT_MS ? "commit-ms" : "window-ms", lo);
          bad = 1;
        } else if (c == O_COMMIT_MS) {
          fo.commit_ms = (uint64_t)n;
        } else {
          fo.window_ms = (uint64_t)n;
        }
        break;
      }
      case 'h': fputs(record_usage, stdout); return 0;
      default: fputs(record_usage, stderr); return FT_EXIT_RECORD_ERROR;
    }
    if (bad) return FT_EXIT_RECORD_ERROR;
  }
  if (optind >= argc) {
    ft_errorf("record: no command given (fragtrace record [-o FILE] -- CMD [ARGS...])");
    return FT_EXIT_RECORD_ERROR;
  }
  char **cmd = argv + optind;
  fo.on = fo.live || fo.duration || fo.max_size;
  /* The run length is unknown while following: windows get a fixed width. */
  if (fo.on && !fo.window_ms) fo.window_ms = 1000;

  char dir[PATH_MAX], shim[PATH_MAX + 32];
  if (ft_self_dir(dir, sizeof dir) != 0) {
    ft_errorf("record: cannot find my own executable");
    return FT_EXIT_RECORD_ERROR;
  }
  snprintf(shim, sizeof shim, "%s/../lib/libfragtrace.so", dir);
  char shim_real[PATH_MAX];
  if (!realpath(shim, shim_real)) {
    ft_errorf("record: shim not found at %s", shim);
    return FT_EXIT_RECORD_ERROR;
  }

  /* Prove the output can be created before running anything. */
  char default_out[64];
  snprintf(default_out, sizeof default_out, "fragtrace.%d.db", (int)getpid());
  if (!output) output = default_out;
  char err[512];
  sqlite3 *db;
  if (ft_db_create(output, &db, err, sizeof err) != 0) {
    ft_errorf("record: %s", err);
    return FT_EXIT_RECORD_ERROR;
  }
  sqlite3_close(db);
  if (fo.window_ms && preset_window(output, fo.window_ms) != 0) {
    unlink(output);
    return FT_EXIT_RECORD_ERROR;
  }

  char spill_dir[PATH_MAX];
  snprintf(spill_dir, sizeof spill_dir, "%s.spill.XXXXXX", output);
  if (!mkdtemp(spill_dir)) {
    ft_errorf("record: cannot create a spill directory next to %s: %s", output, strerror(errno));
    return FT_EXIT_RECORD_ERROR;
  }
  char spill_abs[PATH_MAX];
  if (!realpath(spill_dir, spill_abs)) snprintf(spill_abs, sizeof spill_abs, "%s", spill_dir);
  if (set_preload(shim_real) != 0 || setenv("FRAGTRACE_SPILL_DIR", spill_abs, 1) != 0) {
    ft_errorf("record: cannot set up the environment");
    return FT_EXIT_RECORD_ERROR;
  }

  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int pipefd[2]; /* carries errno of a failed exec back to us */
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    ft_errorf("record: pipe: %s", strerror(errno));
    return FT_EXIT_RECORD_ERROR;
  }
  pid_t pid = fork();
  if (pid < 0) {
    ft_errorf("record: fork: %s", strerror(errno));
    return FT_EXIT_RECORD_ERROR;
  }
  if (pid == 0) {
    close(pipefd[0]);
    execvp(cmd[0], cmd);
    int e = errno;
    if (write(pipefd[1], &e, sizeof e) < 0) _exit(127);
    _exit(e == ENOENT ? 127 : 126);
  }
  close(pipefd[1]);
  child_pid = pid;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the child through the process group */
  signal(SIGQUIT, SIG_IGN);

  int exec_errno = 0;
  ssize_t got;
  while ((got = read(pipefd[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(pipefd[0]);
  int status = 0, left_running = 0;
  fo.keep = keep;
  fo.quiet = quiet;
  if (got == (ssize_t)sizeof exec_errno || !fo.on) {
    wait_for_tree(pid, &status);
  } else if (follow_open(&fo, output) != 0) {
    fo.failed = 1; /* said why; the spills are whole: convert them at the end */
    wait_for_tree(pid, &status);
  } else {
    int fr = follow_tree(pid, &status, spill_dir, &fo);
    if (fr < 0) wait_for_tree(pid, &status); /* the trace can still be made at the end */
    left_running = fr == 1;
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (left_running) rc = 0;

  if (got == (ssize_t)sizeof exec_errno) {
    ft_errorf("record: cannot run '%s': %s", cmd[0], strerror(exec_errno));
    rmdir(spill_dir);
    unlink(output);
    return exec_errno == ENOENT ? 127 : 126;
  }

  int n = 0;
  char **spills = list_spills(spill_dir, &n);
  if (n == 0)
    ft_errorf("record: no process of '%s' was traced (a statically linked program cannot be preloaded)",
              cmd[0]);
  if (fo.imp) { /* followed: the last epoch, then the end-of-run work */
    follow_commit(&fo, spill_dir, 1, 0);
    int failed = fo.failed;
    if (follow_finish(&fo, output, left_running ? 0 : pid, rc) != 0) failed = 1;
    if (failed && keep) { /* the spills are whole: convert them the batch way */
      if (ft_db_create(output, &db, err, sizeof err) == 0) {
        sqlite3_close(db);
        if (!(fo.window_ms && preset_window(output, fo.window_ms) != 0))
          ft_import_and_symbolize(output, spills, n, 0, quiet, left_running ? 0 : pid, rc);
      }
    } else if (failed) {
      ft_errorf("record: %s holds what was imported before the failure", output);
    }
    if (!keep) {
      for (int i = 0; i < n; i++) unlink(spills[i]);
      rmdir(spill_dir);
    }
  } else if (ft_import_and_symbolize(output, spills, n, !keep, quiet, left_running ? 0 : pid, rc) != 0 && n > 0) {
    ft_errorf("record: the raw data stays in %s", spill_dir);
  } else if (!keep) {
    rmdir(spill_dir);
  }
  if (left_running)
    fprintf(stderr, "fragtrace: --duration is over: %s keeps running untraced, pid=%d\n", cmd[0], (int)pid);
  for (int i = 0; i < n; i++) free(spills[i]);
  free(spills);
  return rc;
}
