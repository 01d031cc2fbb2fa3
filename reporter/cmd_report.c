/*
** cmd_report.c — `fragtrace report` (what churns, leaks and holds the peak,
** with CI gates) and `fragtrace query` (read-only SQL on a trace).
**
** Exit statuses: 0 ok, 1 a gate tripped (the report is still printed, and
** one line per tripped gate goes to stderr), 2 a usage or input error (one
** line on stderr, nothing on stdout).
*/
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ft_cli.h"
#include "ft_db.h"
#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_frag.h"
#include "ft_report_html.h"

/* Default of --min-allocs: below this many allocations a site's rate says
** more about timing noise than about churn (two back-to-back mallocs would
** "allocate" at millions per second). */
#define FT_DEFAULT_MIN_ALLOCS 100
#define FT_DEFAULT_TOP 10

static const char report_usage[] =
    "usage: fragtrace report FILE [options]\n"
    "\n"
    "  --section S        summary, churn, leaks, peak, sizes, fragmentation (repeat or comma-separate;\n"
    "                     default all, fragmentation when the trace has samples)\n"
    "  --format F         text (default), json, markdown, html (one self-contained page with charts)\n"
    "  -o, --output FILE  write the report to FILE instead of stdout\n"
    "  --top N            rows per ranking (default 10, 0 = all)\n"
    "  --pid P            only the process(es) with this pid\n"
    "  --since D          only allocations made D or later after the trace started (250ms, 2s, ...)\n"
    "  --until D          only allocations made before D\n"
    "  --short-lived D    lifetime below which a block is short-lived (default: the trace's, 1ms)\n"
    "  --min-allocs N     allocations a site needs to be ranked by churn (default 100)\n"
    "  --skip PATTERN     treat functions matching PATTERN (fnmatch) as allocation wrappers; repeatable\n"
    "  --stacks           group by and print whole stacks instead of call sites\n"
    "  --suppressions F   LSan-style file of leak:PATTERN lines\n"
    "\n"
    "gates (exit status 1 when one trips):\n"
    "  --fail-on-leaks[=BYTES]    more than BYTES leaked after suppressions (default 0)\n"
    "  --max-peak BYTES           peak live heap above BYTES (64MiB, 1.5G, ...)\n"
    "  --max-churn ALLOCS_PER_S   any site allocating faster (100000, 250k)\n"
    "  --max-short-lived PCT      more than PCT% of all allocations short-lived\n"
    "  --max-frag-ratio R         a process's RSS (less the recorder's) above R times its live heap\n"
    "  --frag-ratio-at end|peak   judge that ratio at the last sample (default) or where RSS - live heap peaked\n";

/* Open a trace read-only for report and query, with every check. */
static int open_trace(const char *path, sqlite3 **db) {
  char err[1024];
  if (ft_db_open_readonly(path, db, err, sizeof err) != 0) {
    ft_errorf("%s", err);
    return -1;
  }
  /* Belt and braces: nothing in here writes, even by mistake. */
  sqlite3_exec(*db, "PRAGMA query_only = 1", NULL, NULL, NULL);
  return 0;
}

static int parse_sections(const char *arg, unsigned *out) {
  static const char *const names[] = {"summary", "churn", "leaks", "peak", "sizes", "fragmentation"};
  const size_t nnames = sizeof names / sizeof *names;
  char *copy = strdup(arg), *save = NULL;
  if (!copy) return -1;
  int rc = 0;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    size_t i = 0;
    while (i < nnames && strcmp(tok, names[i]) != 0) i++;
    if (i == nnames) rc = -1;
    else *out |= 1u << i;
  }
  free(copy);
  return rc;
}

/* A ratio: a finite decimal number >= 1 ("3", "1.5"). 0 or -1. */
static int parse_ratio(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !(v >= 1) || v > 1e9) return -1;
  *out = v;
  return 0;
}

enum {
  OPT_SECTION = 256, OPT_FORMAT, OPT_TOP, OPT_PID, OPT_SINCE, OPT_UNTIL, OPT_SHORT, OPT_MIN_ALLOCS, OPT_SKIP,
  OPT_STACKS, OPT_SUPP, OPT_LEAKS, OPT_PEAK, OPT_CHURN, OPT_SHORT_GATE, OPT_FRAG_RATIO, OPT_FRAG_AT
};

/* --output: where the report goes (NULL: stdout). Kept out of
** ft_report_opts, which describes what is reported, not where. */
static const char *report_output;

/* Parse the options into o. Returns 0, 1 for --help, or -1 (message printed). */
static int parse_report_args(int argc, char **argv, ft_report_opts *o, const char ***skip) {
  static const struct option longopts[] = {
      {"section", required_argument, NULL, OPT_SECTION},
      {"format", required_argument, NULL, OPT_FORMAT},
      {"top", required_argument, NULL, OPT_TOP},
      {"pid", required_argument, NULL, OPT_PID},
      {"since", required_argument, NULL, OPT_SINCE},
      {"until", required_argument, NULL, OPT_UNTIL},
      {"short-lived", required_argument, NULL, OPT_SHORT},
      {"min-allocs", required_argument, NULL, OPT_MIN_ALLOCS},
      {"skip", required_argument, NULL, OPT_SKIP},
      {"stacks", no_argument, NULL, OPT_STACKS},
      {"suppressions", required_argument, NULL, OPT_SUPP},
      {"fail-on-leaks", optional_argument, NULL, OPT_LEAKS},
      {"max-peak", required_argument, NULL, OPT_PEAK},
      {"max-churn", required_argument, NULL, OPT_CHURN},
      {"max-short-lived", required_argument, NULL, OPT_SHORT_GATE},
      {"max-frag-ratio", required_argument, NULL, OPT_FRAG_RATIO},
      {"frag-ratio-at", required_argument, NULL, OPT_FRAG_AT},
      {"output", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  report_output = NULL;
  *o = (ft_report_opts){.sections = 0, .format = FT_REPORT_TEXT, .top = FT_DEFAULT_TOP, .pid = -1, .since_ns = -1,
                        .until_ns = -1, .short_lived_ns = -1, .min_allocs = FT_DEFAULT_MIN_ALLOCS,
                         .fail_on_leaks = -1, .max_peak = -1, .max_churn = -1, .max_short_lived = -1,
                        .max_frag_ratio = -1, .frag_ratio_at = FT_RF_AT_END};
  *skip = calloc((size_t)argc + 1, sizeof **skip);
  if (!*skip) return -1;
  opterr = 0; /* our own one-line messages */
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
    const char *bad = NULL;
    switch (c) {
      case OPT_SECTION:
        if (parse_sections(optarg, &o->sections) != 0) bad = "--section (summary, churn, leaks, peak, sizes)";
        break;
      case OPT_FORMAT:
        if (!strcmp(optarg, "text")) o->format = FT_REPORT_TEXT;
        else if (!strcmp(optarg, "json")) o->format = FT_REPORT_JSON;
        else if (!strcmp(optarg, "markdown") || !strcmp(optarg, "md")) o->format = FT_REPORT_MARKDOWN;
        else if (!strcmp(optarg, "html")) o->format = FT_REPORT_HTML;
        else bad = "--format (text, json, markdown, html)";
        break;
      case OPT_TOP:
        if (ft_parse_int(optarg, &o->top) != 0) bad = "--top (a number, 0 for all)";
        break;
      case OPT_PID:
        if (ft_parse_int(optarg, &o->pid) != 0) bad = "--pid";
        break;
      case OPT_SINCE:
        if (ft_parse_duration(optarg, &o->since_ns) != 0) bad = "--since (a duration like 250ms, 2s)";
        break;
      case OPT_UNTIL:
        if (ft_parse_duration(optarg, &o->until_ns) != 0) bad = "--until (a duration like 250ms, 2s)";
        break;
      case OPT_SHORT:
        if (ft_parse_duration(optarg, &o->short_lived_ns) != 0) bad = "--short-lived (a duration like 1ms, 100us)";
        break;
      case OPT_MIN_ALLOCS:
        if (ft_parse_int(optarg, &o->min_allocs) != 0) bad = "--min-allocs";
        break;
      case OPT_SKIP:
        (*skip)[o->nskip++] = optarg;
        break;
      case OPT_STACKS:
        o->stacks = 1;
        break;
      case OPT_SUPP:
        o->suppressions = optarg;
        break;
      case OPT_LEAKS:
        o->fail_on_leaks = 0;
        if (optarg && ft_parse_size(optarg, &o->fail_on_leaks) != 0) bad = "--fail-on-leaks (bytes, like 4096 or 1MiB)";
        break;
      case OPT_PEAK:
        if (ft_parse_size(optarg, &o->max_peak) != 0) bad = "--max-peak (bytes, like 64MiB)";
        break;
      case OPT_CHURN:
        if (ft_parse_si(optarg, &o->max_churn) != 0) bad = "--max-churn (allocations per second, like 100000 or 250k)";
        break;
      case OPT_SHORT_GATE:
        if (ft_parse_pct(optarg, &o->max_short_lived) != 0) bad = "--max-short-lived (a percentage 0..100)";
        break;
      case OPT_FRAG_RATIO:
        /* A ratio below 1 would trip on every process: RSS includes the heap. */
        if (parse_ratio(optarg, &o->max_frag_ratio) != 0)
          bad = "--max-frag-ratio (RSS / live heap, a number >= 1 like 3 or 1.5)";
        break;
      case OPT_FRAG_AT:
        if (!strcmp(optarg, "end")) o->frag_ratio_at = FT_RF_AT_END;
        else if (!strcmp(optarg, "peak")) o->frag_ratio_at = FT_RF_AT_PEAK;
        else bad = "--frag-ratio-at (end, peak)";
        break;
      case 'o':
        report_output = optarg;
        break;
      case 'h':
        return 1;
      case ':':
        ft_errorf("report: option '%s' needs a value", argv[optind - 1]);
        return -1;
      default:
        ft_errorf("report: unknown option '%s' (see fragtrace report --help)", argv[optind - 1]);
        return -1;
    }
    if (bad) {
      ft_errorf("report: bad value '%s' for %s", optarg ? optarg : "", bad);
      return -1;
    }
  }
  if (optind != argc - 1) {
    ft_errorf(optind >= argc ? "report: no trace file given (usage: fragtrace report FILE [options])"
                             : "report: one trace file expected, got more (usage: fragtrace report FILE [options])");
    return -1;
  }
  o->path = argv[optind];
  o->skip = *skip;
  /* Default: every section; fragmentation is dropped in ft_cmd_report when
  ** the trace has nothing for it. */
  if (o->sections == 0) o->sections = FT_SEC_ALL | FT_SEC_DEFAULTED;
  if (o->since_ns >= 0 && o->until_ns >= 0 && o->until_ns <= o->since_ns) {
    ft_errorf("report: --until must be later than --since");
    return -1;
  }
  return 0;
}

int ft_cmd_report(int argc, char **argv) {
  ft_report_opts o;
  const char **skip = NULL;
  int rc = parse_report_args(argc, argv, &o, &skip);
  if (rc != 0) {
    free(skip);
    if (rc == 1) {
      fputs(report_usage, stdout);
      return 0;
    }
    return FT_EXIT_USAGE;
  }
  sqlite3 *db = NULL;
  if (open_trace(o.path, &db) != 0) {
    free(skip);
    return FT_EXIT_USAGE;
  }
  if (o.sections & FT_SEC_DEFAULTED) {
    o.sections &= ~(unsigned)FT_SEC_DEFAULTED;
    if (!ft_report_frag_available(db)) o.sections &= ~(unsigned)FT_SEC_FRAG;
  }
  ft_report r;
  char err[1024];
  if (ft_report_load(&r, db, &o, err, sizeof err) != 0) {
    ft_errorf("%s: %s", o.path, err);
    ft_report_free(&r);
    sqlite3_close(db);
    free(skip);
    return FT_EXIT_USAGE;
  }
  int tripped = ft_report_gates(&r);
  /* The trace loaded: only now create the output, so a bad trace leaves no
  ** empty file behind. */
  FILE *out = report_output ? fopen(report_output, "w") : stdout;
  if (!out) {
    ft_errorf("report: cannot write %s: %s", report_output, strerror(errno));
    ft_report_free(&r);
    sqlite3_close(db);
    free(skip);
    return FT_EXIT_USAGE;
  }
  int werr = 0;
  if (o.format == FT_REPORT_JSON) ft_report_json(&r, out);
  else if (o.format == FT_REPORT_HTML) werr = ft_report_html(&r, out, err, sizeof err);
  else ft_report_render(&r, out, o.format);
  if (fflush(out) != 0 || ferror(out)) werr = -1, snprintf(err, sizeof err, "write error: %s", strerror(errno));
  if (out != stdout && fclose(out) != 0 && !werr) werr = -1, snprintf(err, sizeof err, "write error: %s", strerror(errno));
  if (werr) {
    ft_errorf("report: %s: %s", report_output ? report_output : "stdout", err);
    ft_report_free(&r);
    sqlite3_close(db);
    free(skip);
    return FT_EXIT_USAGE;
  }
  for (int i = 0; i < r.ngates; i++)
    if (r.gates[i].tripped) ft_errorf("gate %s", r.gates[i].message);
  ft_report_free(&r);
  sqlite3_close(db);
  free(skip);
  return tripped ? FT_EXIT_GATE : 0;
}

/* ---- query ------------------------------------------------------------------ */

static void print_value(sqlite3_stmt *q, int i) {
  const unsigned char *t = sqlite3_column_text(q, i);
  if (!t) return; /* NULL prints as nothing, as sqlite3 -tabs does */
  for (; *t; t++) {
    /* Keep one row per line and one column per tab. */
    if (*t == '\t') fputs("\\t", stdout);
    else if (*t == '\n') fputs("\\n", stdout);
    else putchar(*t);
  }
}

int ft_cmd_query(int argc, char **argv) {
  if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    puts("usage: fragtrace query FILE SQL   (read-only; rows tab-separated with a header line)");
    return 0;
  }
  if (argc != 3) {
    ft_errorf("query: usage: fragtrace query FILE SQL");
    return FT_EXIT_USAGE;
  }
  sqlite3 *db = NULL;
  if (open_trace(argv[1], &db) != 0) return FT_EXIT_USAGE;
  const char *sql = argv[2];
  int rc = 0;
  while (sql && *sql) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &q, &sql) != SQLITE_OK) {
      ft_errorf("query: %s", sqlite3_errmsg(db));
      rc = FT_EXIT_USAGE;
      break;
    }
    if (!q) continue; /* whitespace or a comment */
    if (!sqlite3_stmt_readonly(q)) {
      ft_errorf("query: the trace is read-only here; statement would modify it");
      sqlite3_finalize(q);
      rc = FT_EXIT_USAGE;
      break;
    }
    int n = sqlite3_column_count(q);
    for (int i = 0; i < n; i++) printf("%s%s", i ? "\t" : "", sqlite3_column_name(q, i));
    if (n) putchar('\n');
    int s;
    while ((s = sqlite3_step(q)) == SQLITE_ROW) {
      for (int i = 0; i < n; i++) {
        if (i) putchar('\t');
        print_value(q, i);
      }
      putchar('\n');
    }
    if (s != SQLITE_DONE) {
      fflush(stdout);
      ft_errorf("query: %s", sqlite3_errmsg(db));
      rc = FT_EXIT_USAGE;
    }
    sqlite3_finalize(q);
    if (rc) break;
  }
  sqlite3_close(db);
  return rc;
}
