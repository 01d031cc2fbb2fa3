/*
** cmd_record.c — `fragtrace record`: run a command under the preload shim,
** wait for it and every descendant (we are their subreaper), then import all
** spills of the process tree into one trace and symbolize it.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ft_cli.h"
#include "ft_db.h"

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
    "  -q, --quiet          no summary line\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: CMD's own (128+N if it died of signal N); 125 if fragtrace\n"
    "fails, 126 if CMD cannot be executed, 127 if it is not found.\n";

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

int ft_cmd_record(int argc, char **argv) {
  static const struct option opts[] = {
      {"output", required_argument, 0, 'o'},  {"depth", required_argument, 0, 'd'},
      {"flush-ms", required_argument, 0, 'f'}, {"sample-ms", required_argument, 0, 's'},
      {"no-mmap", no_argument, 0, 'm'},        {"buffer-kb", required_argument, 0, 'b'},
      {"lossy", no_argument, 0, 'l'},          {"keep-spill", no_argument, 0, 'k'},
      {"quiet", no_argument, 0, 'q'},          {"help", no_argument, 0, 'h'},
      {"sys-sample-ms", required_argument, 0, 'S'}, {"slabinfo-ms", required_argument, 0, 'L'},
      {"smaps-ms", required_argument, 0, 'M'},      {"mallinfo-ms", required_argument, 0, 'I'},
      {"pagetypeinfo-ms", required_argument, 0, 'P'},
      {0, 0, 0, 0}};
  const char *output = NULL;
  int keep = 0, quiet = 0, c;
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
  int status = 0;
  wait_for_tree(pid, &status);
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

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
  if (ft_import_and_symbolize(output, spills, n, !keep, quiet, pid, rc) != 0 && n > 0)
    ft_errorf("record: the raw data stays in %s", spill_dir);
  else if (!keep)
    rmdir(spill_dir);
  for (int i = 0; i < n; i++) free(spills[i]);
  free(spills);
  return rc;
}
