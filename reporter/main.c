/*
** main.c — the `fragtrace` command: dispatch to subcommands, --help and
** --version. Each subcommand lives in its own cmd_*.c.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_cli.h"

static const char usage[] =
    "usage: fragtrace <command> [options]\n"
    "\n"
    "Commands:\n"
    "  record [-o FILE] [options] -- CMD [ARGS...]   run CMD under the shim, write a trace\n"
    "  sample -o FILE [--interval D] [--duration D]  sample the host's memory state, no target\n"
    "  import -o FILE [--pid P] [SPILL...]         convert spill files into a trace\n"
    "  report FILE [options]                       churn, leaks, peak, sizes; CI gates\n"
    "  diff BASE NEW [options]                     compare two traces per call site\n"
    "  export FILE --format massif|folded|pprof -o OUT\n"
    "  query FILE SQL                              run read-only SQL on a trace\n"
    "  ctl pause|resume|flush|stop PID...          control the recording of running processes\n"
    "\n"
    "  fragtrace COMMAND --help   options of one command\n"
    "  fragtrace --version\n";

void ft_errorf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("fragtrace: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

int ft_self_dir(char *out, unsigned cap) {
  ssize_t n = readlink("/proc/self/exe", out, cap - 1);
  if (n <= 0) return -1;
  out[n] = 0;
  char *slash = strrchr(out, '/');
  if (!slash) return -1;
  *slash = 0;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return FT_EXIT_USAGE;
  }
  /* Symbolization must never reach for the network (libdw's debuginfod). */
  unsetenv("DEBUGINFOD_URLS");
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version")) {
    printf("fragtrace %s\n", FT_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "record")) return ft_cmd_record(argc - 1, argv + 1);
  if (!strcmp(cmd, "import")) return ft_cmd_import(argc - 1, argv + 1);
  if (!strcmp(cmd, "sample")) return ft_cmd_sample(argc - 1, argv + 1);
  if (!strcmp(cmd, "report")) return ft_cmd_report(argc - 1, argv + 1);
  if (!strcmp(cmd, "export")) return ft_cmd_export(argc - 1, argv + 1);
  if (!strcmp(cmd, "diff")) return ft_cmd_diff(argc - 1, argv + 1);
  if (!strcmp(cmd, "query")) return ft_cmd_query(argc - 1, argv + 1);
  if (!strcmp(cmd, "ctl")) return ft_cmd_ctl(argc - 1, argv + 1);
  ft_errorf("unknown command '%s' (see fragtrace --help)", cmd);
  return FT_EXIT_USAGE;
}
