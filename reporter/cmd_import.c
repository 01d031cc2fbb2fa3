/*
** cmd_import.c — `fragtrace import`: convert spill files into a trace (what
** the shim runs at exit when preloaded without `fragtrace record`, and the
** way to recover the spills of a run whose recorder was killed).
*/
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_cli.h"
#include "ft_db.h"
#include "ft_import.h"
#include "ft_symbolize.h"

static const char import_usage[] =
    "usage: fragtrace import -o FILE [--remove] [--quiet] (--pid P | SPILL...)\n"
    "\n"
    "Converts spill files written by libfragtrace.so into the trace FILE\n"
    "(created, or appended to when it exists), and symbolizes it.\n"
    "\n"
    "  -o, --output FILE   the trace\n"
    "      --pid P         import FILE.P-*.ftspill (what the shim leaves for pid P)\n"
    "      --remove        delete the spills once imported\n"
    "  -q, --quiet         no summary line\n";

int ft_import_and_symbolize(const char *path, char **spills, int n, int remove_spills, int quiet,
                            int exit_pid, int exit_status) {
  char err[512];
  sqlite3 *db;
  if (ft_db_open_append(path, &db, err, sizeof err) != 0) {
    ft_errorf("%s", err);
    return -1;
  }
  ft_import_stats st;
  memset(&st, 0, sizeof st);
  if (n > 0 && ft_import_spills(db, (const char *const *)spills, (size_t)n, &st, err, sizeof err) != 0) {
    ft_errorf("import: %s", err);
    sqlite3_close(db);
    return -1;
  }
  if (exit_pid > 0) ft_import_set_exit_status(db, exit_pid, exit_status);
  ft_symbolize_stats ss;
  memset(&ss, 0, sizeof ss);
  if (ft_symbolize_trace(db, &ss, err, sizeof err) != 0) ft_errorf("symbolize: %s", err);
  if (sqlite3_close(db) != SQLITE_OK) {
    ft_errorf("closing %s failed", path);
    return -1;
  }
  if (remove_spills)
    for (int i = 0; i < n; i++) unlink(spills[i]);
  if (!quiet)
    fprintf(stderr,
            "fragtrace: wrote %s: %ld process%s, %lld allocations (%lld freed), %ld stacks, "
            "%lld events dropped%s\n",
            path, st.processes, st.processes == 1 ? "" : "es", st.allocations, st.frees, st.stacks,
            st.events_dropped, st.truncated_files ? ", a process was killed: its last records are lost" : "");
  return 0;
}

/* Spills the shim leaves for pid next to output: "<output>.<pid>-*.ftspill". */
static char **spills_of_pid(const char *output, const char *pid, int *n) {
  char dir[PATH_MAX], prefix[PATH_MAX];
  const char *slash = strrchr(output, '/');
  if (slash) {
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - output), output);
    if (!dir[0]) strcpy(dir, "/");
  } else {
    strcpy(dir, ".");
  }
  snprintf(prefix, sizeof prefix, "%s.%s-", slash ? slash + 1 : output, pid);
  *n = 0;
  char **out = NULL;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  struct dirent *e;
  size_t plen = strlen(prefix);
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, prefix, plen) != 0 || len < 8 || strcmp(e->d_name + len - 8, ".ftspill")) continue;
    char **grown = realloc(out, (size_t)(*n + 1) * sizeof *out);
    if (!grown) break;
    out = grown;
    size_t need = strlen(dir) + len + 2;
    if (!(out[*n] = malloc(need))) break;
    snprintf(out[*n], need, "%s/%s", dir, e->d_name);
    (*n)++;
  }
  closedir(d);
  return out;
}

int ft_cmd_import(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"pid", required_argument, 0, 'p'},
                                       {"remove", no_argument, 0, 'r'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *output = NULL, *pid = NULL;
  int remove_spills = 0, quiet = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
    switch (c) {
      case 'o': output = optarg; break;
      case 'p': pid = optarg; break;
      case 'r': remove_spills = 1; break;
      case 'q': quiet = 1; break;
      case 'h': fputs(import_usage, stdout); return 0;
      default: fputs(import_usage, stderr); return FT_EXIT_USAGE;
    }
  }
  if (!output || (!pid && optind >= argc)) {
    ft_errorf("import: need -o FILE and spill files or --pid P");
    return FT_EXIT_USAGE;
  }
  int n = 0;
  char **spills = pid ? spills_of_pid(output, pid, &n) : argv + optind;
  if (!pid) n = argc - optind;
  for (int i = 0; i < n; i++)
    if (access(spills[i], R_OK) != 0) {
      ft_errorf("import: cannot read %s", spills[i]);
      return FT_EXIT_USAGE;
    }
  int r = ft_import_and_symbolize(output, spills, n, remove_spills, quiet, 0, 0);
  if (pid) {
    for (int i = 0; i < n; i++) free(spills[i]);
    free(spills);
  }
  return r == 0 ? 0 : FT_EXIT_USAGE;
}
