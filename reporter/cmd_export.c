/*
** cmd_export.c — `fragtrace export FILE --format massif|folded|pprof -o OUT`:
** the trace in the formats of other tools (ms_print/massif-visualizer,
** flame graphs, pprof). Options are checked before the trace is read. A
** regular (or new) OUT is written to a temporary file next to it and
** renamed over it, so a failed export never leaves half a file; anything
** else (a device such as /dev/null, a FIFO, a symlink) is opened and
** written in place: renaming over it would replace the node itself.
*/
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ft_cli.h"
#include "ft_export_data.h"
#include "ft_export_folded.h"
#include "ft_export_massif.h"
#include "ft_export_pprof.h"
#include "ft_fmt.h"

#define MAX_SKIP 64

static const char export_usage[] =
    "usage: fragtrace export FILE --format massif|folded|pprof -o OUT [options]\n"
    "\n"
    "  -o, --output OUT       where to write ('-' for standard output)\n"
    "  --pid P                only process P (massif: the image of P with the highest peak;\n"
    "                         without --pid, of all images)\n"
    "  --weight W             folded: allocations|bytes|leaked|peak (default bytes);\n"
    "                         peak = bytes live at the heap peak\n"
    "  --skip PATTERN         treat functions matching PATTERN (fnmatch) as allocation\n"
    "                         wrappers, like malloc: stacks end at their callers (repeatable)\n"
    "  --time-unit auto|ms|B  massif: wall-clock ms, or bytes allocated so far (auto: ms for\n"
    "                         runs of at least 1 s)\n"
    "\n"
    "massif: snapshots of the live heap; folded: 'outer;...;inner COUNT' lines for\n"
    "flamegraph.pl, inferno, speedscope; pprof: gzipped profile.proto with alloc_objects,\n"
    "alloc_space, inuse_objects, inuse_space (inuse = still live at the end of the run).\n";

typedef enum fmt { FMT_NONE, FMT_MASSIF, FMT_FOLDED, FMT_PPROF } fmt;

typedef struct opts {
  const char *file, *out;
  fmt format;
  int pid;
  int has_weight;
  ft_weight weight;
  ft_massif_time time_unit;
  int has_time_unit;
  const char *skip[MAX_SKIP];
  int nskip;
} opts;

/* The value of option argv[*i] (from "--opt=value" or the next argument);
** NULL with a message when it is missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *name) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (!strncmp(a, name, n) && a[n] == '=') return a + n + 1;
  if (*i + 1 >= argc) {
    ft_errorf("export: %s needs a value", name);
    return NULL;
  }
  return argv[++*i];
}

static int is_opt(const char *a, const char *name) {
  size_t n = strlen(name);
  return !strncmp(a, name, n) && (a[n] == 0 || a[n] == '=');
}

/* Parse the command line; 0, 1 for --help (printed), or -1 (message printed). */
static int parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  o->weight = FT_WEIGHT_BYTES;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(export_usage, stdout);
      return 1;
    } else if (is_opt(a, "--format") || !strcmp(a, "-f")) {
      if (!(v = opt_value(argc, argv, &i, a[1] == 'f' ? "-f" : "--format"))) return -1;
      if (!strcmp(v, "massif")) o->format = FMT_MASSIF;
      else if (!strcmp(v, "folded")) o->format = FMT_FOLDED;
      else if (!strcmp(v, "pprof")) o->format = FMT_PPROF;
      else {
        ft_errorf("export: unknown format '%s' (massif, folded or pprof)", v);
        return -1;
      }
    } else if (is_opt(a, "--output") || !strcmp(a, "-o")) {
      if (!(v = opt_value(argc, argv, &i, a[1] == 'o' ? "-o" : "--output"))) return -1;
      o->out = v;
    } else if (is_opt(a, "--pid")) {
      int64_t p;
      if (!(v = opt_value(argc, argv, &i, "--pid"))) return -1;
      if (ft_parse_int(v, &p) != 0 || p <= 0 || p > INT_MAX) {
        ft_errorf("export: --pid: '%s' is not a process id", v);
        return -1;
      }
      o->pid = (int)p;
    } else if (is_opt(a, "--weight")) {
      if (!(v = opt_value(argc, argv, &i, "--weight"))) return -1;
      if (ft_weight_parse(v, &o->weight) != 0) {
        ft_errorf("export: --weight: '%s' is not allocations, bytes, leaked or peak", v);
        return -1;
      }
      o->has_weight = 1;
    } else if (is_opt(a, "--skip")) {
      if (!(v = opt_value(argc, argv, &i, "--skip"))) return -1;
      if (o->nskip == MAX_SKIP) {
        ft_errorf("export: at most %d --skip patterns", MAX_SKIP);
        return -1;
      }
      o->skip[o->nskip++] = v;
    } else if (is_opt(a, "--time-unit")) {
      if (!(v = opt_value(argc, argv, &i, "--time-unit"))) return -1;
      if (!strcmp(v, "auto")) o->time_unit = FT_MASSIF_TIME_AUTO;
      else if (!strcmp(v, "ms")) o->time_unit = FT_MASSIF_TIME_MS;
      else if (!strcmp(v, "B")) o->time_unit = FT_MASSIF_TIME_BYTES;
      else {
        ft_errorf("export: --time-unit: '%s' is not auto, ms or B", v);
        return -1;
      }
      o->has_time_unit = 1;
    } else if (a[0] == '-' && a[1]) {
      ft_errorf("export: unknown option '%s' (see fragtrace export --help)", a);
      return -1;
    } else if (!o->file) {
      o->file = a;
    } else {
      ft_errorf("export: one trace at a time ('%s' and '%s')", o->file, a);
      return -1;
    }
  }
  if (!o->file) {
    ft_errorf("export: no trace given (see fragtrace export --help)");
    return -1;
  }
  if (o->format == FMT_NONE) {
    ft_errorf("export: --format massif|folded|pprof is required");
    return -1;
  }
  if (!o->out) {
    ft_errorf("export: -o OUT is required ('-' for standard output)");
    return -1;
  }
  if (o->has_weight && o->format != FMT_FOLDED) {
    ft_errorf("export: --weight applies to --format folded only");
    return -1;
  }
  if (o->has_time_unit && o->format != FMT_MASSIF) {
    ft_errorf("export: --time-unit applies to --format massif only");
    return -1;
  }
  return 0;
}

/* Whether path is written through a temporary file: it does not exist, or
** is a regular file (not a symlink). */
static int use_temp(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT;
  return S_ISREG(st.st_mode);
}

/* Open a temporary file next to path for the output; its name in tmp. */
static FILE *open_temp(const char *path, char *tmp, size_t cap) {
  if ((size_t)snprintf(tmp, cap, "%s.XXXXXX", path) >= cap) {
    errno = ENAMETOOLONG;
    return NULL;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) return NULL;
  /* mkstemp makes it 0600; an export is an ordinary output file. */
  mode_t um = umask(0);
  umask(um);
  if (fchmod(fd, 0666 & ~um) != 0) {
    /* keep 0600: harmless */
  }
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    unlink(tmp);
  }
  return f;
}

int ft_cmd_export(int argc, char **argv) {
  opts o;
  int pr = parse(argc, argv, &o);
  if (pr != 0) return pr > 0 ? 0 : FT_EXIT_USAGE;

  unsigned flags = 0;
  if (o.format == FMT_MASSIF) flags |= FT_X_TIMELINE;
  if (o.format == FMT_FOLDED && o.weight == FT_WEIGHT_PEAK) flags |= FT_X_PEAK;
  char err[512];
  ft_xtrace *x = ft_xtrace_open(o.file, o.pid, o.skip, o.nskip, flags, err, sizeof err);
  if (!x) {
    ft_errorf("%s", err);
    return FT_EXIT_USAGE;
  }

  int to_stdout = !strcmp(o.out, "-");
  int temp = !to_stdout && use_temp(o.out);
  char tmp[PATH_MAX + 16];
  FILE *out = to_stdout ? stdout : temp ? open_temp(o.out, tmp, sizeof tmp) : fopen(o.out, "wb");
  if (!out) {
    ft_errorf("cannot create %s: %s", o.out, strerror(errno));
    ft_xtrace_close(x);
    return FT_EXIT_USAGE;
  }
  int rc;
  switch (o.format) {
  case FMT_MASSIF: rc = ft_export_massif(x, o.time_unit, out, err, sizeof err); break;
  case FMT_FOLDED: rc = ft_export_folded(x, o.weight, out, err, sizeof err); break;
  case FMT_PPROF: rc = ft_export_pprof(x, out, err, sizeof err); break;
  default: rc = -1; snprintf(err, sizeof err, "no format"); break;
  }
  ft_xtrace_close(x);
  if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
    rc = -1;
    snprintf(err, sizeof err, "write error: %s", strerror(errno));
  }
  if (!to_stdout) {
    if (fclose(out) != 0 && rc == 0) {
      rc = -1;
      snprintf(err, sizeof err, "write error: %s", strerror(errno));
    }
    if (temp && rc == 0 && rename(tmp, o.out) != 0) {
      rc = -1;
      snprintf(err, sizeof err, "cannot put the output in place: %s", strerror(errno));
    }
    if (temp && rc != 0) unlink(tmp);
  }
  if (rc != 0) {
    ft_errorf("export: %s: %s", to_stdout ? "-" : o.out, err);
    return FT_EXIT_USAGE;
  }
  return 0;
}
