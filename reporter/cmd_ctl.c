/*
** cmd_ctl.c — `fragtrace ctl ACTION PID...`: pause, resume, flush or stop the
** recording of running traced processes.
**
** The shim listens on one control signal (FRAGTRACE_SIGNAL, see README);
** the action travels as the sigqueue() value (1 pause, 2 resume, 3 flush,
** 4 stop; a plain kill toggles pause). The signal of each target is read
** from its own environment, so a process started with another signal is
** still reached correctly. Before sending, we check that the target really
** has libfragtrace.so mapped: the default action of a real-time signal is
** to terminate, and a mistyped pid must not kill an unrelated process.
*/
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_cli.h"
#include "ft_config.h"

#define FT_EXIT_CTL_TARGET 3 /* a target is not running, not ours to signal, or not traced */

static const char ctl_usage[] =
    "usage: fragtrace ctl [--signal SIG] pause|resume|flush|stop|toggle PID...\n"
    "\n"
    "Controls the recording of running processes traced by fragtrace:\n"
    "  pause    stop recording new allocations (frees of recorded blocks are still seen)\n"
    "  resume   record again\n"
    "  flush    drain every thread's buffer into the spill now, so `fragtrace record\n"
    "           --live/--max-size` commits it and a report can be made meanwhile\n"
    "  stop     end recording for good; the process runs on untraced\n"
    "  toggle   pause if recording, resume if paused (what a plain `kill -s SIG` does)\n"
    "\n"
    "  --signal SIG   control signal (number, or name such as RTMIN+5 or USR2); by\n"
    "                 default the FRAGTRACE_SIGNAL each target was started with, else\n"
    "                 the shim's default\n"
    "\n"
    "Exit status: 0 sent to every PID, 2 usage error, 3 a PID is not running, not\n"
    "permitted, or has no fragtrace shim loaded (the others are still sent).\n";

/* The action's sigqueue value, or -1 when unknown; 0 means a plain kill. */
static int ft_ctl_action(const char *s) {
  static const char *const names[] = {"toggle", "pause", "resume", "flush", "stop"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) return i;
  return -1;
}

/* Value of FRAGTRACE_SIGNAL in pid's environment into out[cap]; 0 when
** found, -1 when absent or unreadable. */
static int ft_ctl_target_env(int pid, char *out, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/environ", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  static const char key[] = "FRAGTRACE_SIGNAL=";
  char buf[8192];
  size_t n = 0;
  int c, found = -1;
  /* entries are NUL separated; compare each one's prefix */
  while ((c = fgetc(f)) != EOF) {
    if (c) {
      if (n + 1 < sizeof buf) buf[n++] = (char)c;
      continue;
    }
    buf[n] = 0;
    if (!strncmp(buf, key, sizeof key - 1) && strlen(buf + sizeof key - 1) < cap) {
      strcpy(out, buf + sizeof key - 1);
      found = 0;
    }
    n = 0;
  }
  fclose(f);
  return found;
}

/* 1 when pid has libfragtrace.so mapped, 0 when not, -1 when unreadable. */
static int ft_ctl_is_traced(int pid) {
  char path[64], line[4096];
  snprintf(path, sizeof path, "/proc/%d/maps", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) found = strstr(line, "/libfragtrace.so") != NULL;
  fclose(f);
  return found;
}

/* Send action to one pid. Returns 0, or -1 after one error line. */
static int ft_ctl_one(int pid, int action, const char *sig_opt) {
  int traced = ft_ctl_is_traced(pid);
  if (traced < 0) {
    ft_errorf("process %d: %s", pid, errno == ENOENT ? "no such process" : strerror(errno));
    return -1;
  }
  if (!traced) {
    ft_errorf("process %d is not traced by fragtrace (libfragtrace.so is not loaded); nothing sent", pid);
    return -1;
  }
  char env_sig[64];
  const char *sig_text = sig_opt;
  if (!sig_text && ft_ctl_target_env(pid, env_sig, sizeof env_sig) == 0) sig_text = env_sig;
  int sig = FT_DEFAULT_CONTROL_SIGNAL;
  if (sig_text && ft_parse_signal(sig_text, &sig) != 0) {
    ft_errorf("invalid control signal '%s' for process %d", sig_text, pid);
    return -1;
  }
  if (sig == 0) {
    ft_errorf("process %d was started with FRAGTRACE_SIGNAL=%s: it has no control signal", pid, sig_text);
    return -1;
  }
  union sigval v = {.sival_int = action};
  int rc = action == 0 ? kill(pid, sig) : sigqueue(pid, sig, v);
  if (rc != 0) {
    ft_errorf("process %d: %s", pid, strerror(errno));
    return -1;
  }
  return 0;
}

int ft_cmd_ctl(int argc, char **argv) {
  static const struct option opts[] = {{"signal", required_argument, 0, 's'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *sig_opt = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
    if (c == 's') {
      sig_opt = optarg;
      int sig;
      if (ft_parse_signal(sig_opt, &sig) != 0) {
        ft_errorf("invalid --signal '%s' (a number, or a name such as RTMIN+5 or USR2)", sig_opt);
        return FT_EXIT_USAGE;
      }
    } else if (c == 'h') {
      fputs(ctl_usage, stdout);
      return 0;
    } else {
      fputs(ctl_usage, stderr);
      return FT_EXIT_USAGE;
    }
  }
  if (argc - optind < 2) {
    ft_errorf("ctl needs an action and at least one PID (see fragtrace ctl --help)");
    return FT_EXIT_USAGE;
  }
  int action = ft_ctl_action(argv[optind]);
  if (action < 0) {
    ft_errorf("unknown action '%s' (pause, resume, flush, stop or toggle)", argv[optind]);
    return FT_EXIT_USAGE;
  }
  int bad = 0;
  for (int i = optind + 1; i < argc; i++) {
    long pid;
    if (ft_parse_long(argv[i], 1, 0x7fffffffL, &pid) != 0) {
      ft_errorf("invalid PID '%s'", argv[i]);
      return FT_EXIT_USAGE;
    }
  }
  for (int i = optind + 1; i < argc; i++)
    if (ft_ctl_one(atoi(argv[i]), action, sig_opt) != 0) bad = 1;
  return bad ? FT_EXIT_CTL_TARGET : 0;
}
