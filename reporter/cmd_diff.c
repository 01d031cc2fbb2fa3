/*
** cmd_diff.c — `fragtrace diff BASE NEW`: two traces compared per call site
** and overall (allocations, bytes, leaked bytes, peak live bytes, share of
** short-lived allocations), with a CI gate on growth.
**
** Sites are matched by their ft_sites key (function, file and line of the
** innermost frame outside allocation wrappers: names, never addresses), so
** a rebuild, ASLR or another machine does not break the matching; stacks
** of one key are added up, over every process of the trace. "Peak" is the
** bytes a site had live at its process's heap peak (summed over processes;
** overall: the sum of each process's own peak).
**
** Output goes to stdout; the lines of a tripped gate to stderr (exit 1), as
** `fragtrace report` does.
*/
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_cli.h"
#include "ft_export_data.h"
#include "ft_fmt.h"

#define MAX_SKIP 64
#define DEFAULT_TOP 10
#define DIFF_JSON_VERSION 1

static const char diff_usage[] =
    "usage: fragtrace diff BASE NEW [options]\n"
    "\n"
    "Compares two traces per call site (matched by function, file and line, never by\n"
    "address) and overall: allocations, bytes, leaked bytes, bytes live at the heap\n"
    "peak, share of short-lived allocations.\n"
    "\n"
    "  --format text|json|markdown   output format (default text)\n"
    "  --top N                       changed sites shown, largest byte change first\n"
    "                                (default 10, 0 = all; json lists every site)\n"
    "  --fail-on-growth PCT          exit 1, with one line per site (and overall) on\n"
    "                                stderr, when bytes or peak grew by more than PCT%\n"
    "                                (a site new in NEW grows without bound)\n"
    "  --skip PATTERN                treat functions matching PATTERN (fnmatch) as\n"
    "                                allocation wrappers (repeatable)\n"
    "\n"
    "Exit status: 0 ok, 1 the growth gate tripped, 2 usage or input error.\n";

/* The metrics compared, in output order. */
enum { M_ALLOCS, M_BYTES, M_LEAKED, M_PEAK, M_SHORT, NMETRIC };
static const char *const metric_name[NMETRIC] = {"allocations", "bytes", "leaked bytes", "peak live bytes",
                                                 "short-lived"};
static const char *const metric_key[NMETRIC] = {"allocations", "bytes", "leaked_bytes", "peak_bytes",
                                                "short_lived"};

typedef enum dformat { DF_TEXT, DF_JSON, DF_MARKDOWN } dformat;

typedef struct opts {
  const char *base, *new_;
  dformat format;
  int64_t top;
  double growth_pct; /* < 0: no gate */
  const char *skip[MAX_SKIP];
  int nskip;
} opts;

/* One side of a comparison. */
typedef struct side {
  int64_t v[NMETRIC]; /* M_SHORT holds the count of short-lived allocations */
  int present;
} side;

typedef struct dsite {
  const char *key, *label; /* owned by one of the traces */
  side s[2];               /* [0] base, [1] new */
  int changed;
} dsite;

/* A gate finding: growth of one metric of one site (NULL: overall). */
typedef struct trip {
  const dsite *site;
  int metric;
} trip;

typedef struct diff {
  ft_xtrace *x[2];
  const char *path[2];
  dsite overall;
  dsite *sites;
  size_t nsites, nchanged;
  trip *trips;
  size_t ntrips;
} diff;

/* ---- options ------------------------------------------------------------- */

static const char *opt_value(int argc, char **argv, int *i, const char *name) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (!strncmp(a, name, n) && a[n] == '=') return a + n + 1;
  if (*i + 1 >= argc) {
    ft_errorf("diff: %s needs a value", name);
    return NULL;
  }
  return argv[++*i];
}

static int is_opt(const char *a, const char *name) {
  size_t n = strlen(name);
  return !strncmp(a, name, n) && (a[n] == 0 || a[n] == '=');
}

/* A growth limit in percent: a non-negative decimal, optional '%'. Unlike
** ft_parse_pct it may exceed 100 (a site may triple). */
static int parse_growth(const char *s, double *out) {
  double v = 0, scale = 0;
  int digits = 0;
  for (; *s; s++) {
    if (*s >= '0' && *s <= '9') {
      if (scale > 0) v += (*s - '0') * (scale /= 10);
      else v = v * 10 + (*s - '0');
      digits++;
    } else if (*s == '.' && scale == 0) {
      scale = 1;
    } else if (*s == '%' && s[1] == 0) {
      break;
    } else {
      return -1;
    }
  }
  if (!digits || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* 0, 1 for --help (printed), -1 on a usage error (printed). */
static int parse(int argc, char **argv, opts *o) {
  memset(o, 0, sizeof *o);
  o->top = DEFAULT_TOP;
  o->growth_pct = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      fputs(diff_usage, stdout);
      return 1;
    } else if (is_opt(a, "--format")) {
      if (!(v = opt_value(argc, argv, &i, "--format"))) return -1;
      if (!strcmp(v, "text")) o->format = DF_TEXT;
      else if (!strcmp(v, "json")) o->format = DF_JSON;
      else if (!strcmp(v, "markdown")) o->format = DF_MARKDOWN;
      else {
        ft_errorf("diff: unknown format '%s' (text, json or markdown)", v);
        return -1;
      }
    } else if (is_opt(a, "--top")) {
      if (!(v = opt_value(argc, argv, &i, "--top"))) return -1;
      if (ft_parse_int(v, &o->top) != 0) {
        ft_errorf("diff: --top: '%s' is not a number of sites", v);
        return -1;
      }
    } else if (is_opt(a, "--fail-on-growth")) {
      if (!(v = opt_value(argc, argv, &i, "--fail-on-growth"))) return -1;
      if (parse_growth(v, &o->growth_pct) != 0) {
        ft_errorf("diff: --fail-on-growth: '%s' is not a percentage", v);
        return -1;
      }
    } else if (is_opt(a, "--skip")) {
      if (!(v = opt_value(argc, argv, &i, "--skip"))) return -1;
      if (o->nskip == MAX_SKIP) {
        ft_errorf("diff: at most %d --skip patterns", MAX_SKIP);
        return -1;
      }
      o->skip[o->nskip++] = v;
    } else if (a[0] == '-' && a[1]) {
      ft_errorf("diff: unknown option '%s' (see fragtrace diff --help)", a);
      return -1;
    } else if (!o->base) {
      o->base = a;
    } else if (!o->new_) {
      o->new_ = a;
    } else {
      ft_errorf("diff: two traces only (BASE NEW), got a third: '%s'", a);
      return -1;
    }
  }
  if (!o->new_) {
    ft_errorf("diff: needs two traces, BASE and NEW (see fragtrace diff --help)");
    return -1;
  }
  return 0;
}

/* ---- building the comparison --------------------------------------------- */

typedef struct entry {
  const char *key, *label;
  int which;
  const ft_xstack *st;
} entry;

static int cmp_entry(const void *a, const void *b) {
  const entry *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : x->which - y->which;
}

static void add_stats(side *s, const ft_xstack *st) {
  s->v[M_ALLOCS] += st->allocations;
  s->v[M_BYTES] += st->bytes;
  s->v[M_LEAKED] += st->leaked_bytes;
  s->v[M_PEAK] += st->peak_bytes;
  s->v[M_SHORT] += st->short_lived;
  s->present = 1;
}

static int differs(const dsite *d) {
  if (d->s[0].present != d->s[1].present) return 1;
  for (int m = 0; m < NMETRIC; m++)
    if (d->s[0].v[m] != d->s[1].v[m]) return 1;
  return 0;
}

static int64_t absdiff(const dsite *d, int m) {
  int64_t v = d->s[1].v[m] - d->s[0].v[m];
  return v < 0 ? -v : v;
}

/* Changed sites first; then the largest change of bytes, peak, allocations;
** then by label (the output is reproducible). */
static int cmp_site(const void *a, const void *b) {
  const dsite *x = a, *y = b;
  if (x->changed != y->changed) return y->changed - x->changed;
  static const int order[] = {M_BYTES, M_PEAK, M_ALLOCS, M_LEAKED, M_SHORT};
  for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
    int64_t p = absdiff(x, order[i]), q = absdiff(y, order[i]);
    if (p != q) return p > q ? -1 : 1;
  }
  int c = strcmp(x->label, y->label);
  return c ? c : strcmp(x->key, y->key);
}

static int build(diff *d, char *err, size_t errlen) {
  size_t total = 0;
  for (int w = 0; w < 2; w++) {
    size_t n;
    ft_xtrace_stacks(d->x[w], &n);
    total += n + 1;
    size_t ni;
    const ft_ximage *img = ft_xtrace_images(d->x[w], &ni);
    for (size_t i = 0; i < ni; i++) {
      side *o = &d->overall.s[w];
      o->v[M_ALLOCS] += img[i].allocations;
      o->v[M_BYTES] += img[i].bytes;
      o->v[M_LEAKED] += img[i].leaked_bytes;
      o->v[M_PEAK] += img[i].peak_bytes;
      o->v[M_SHORT] += img[i].short_lived;
      o->present = 1;
    }
  }
  d->overall.key = d->overall.label = "overall";
  d->overall.changed = differs(&d->overall);
  entry *e = malloc((total ? total : 1) * sizeof *e);
  if (!e) goto oom;
  size_t ne = 0;
  for (int w = 0; w < 2; w++) {
    size_t n;
    const ft_stack_info *stacks = ft_xtrace_stacks(d->x[w], &n);
    const ft_xstack *st = ft_xtrace_stack_stats(d->x[w]);
    for (size_t k = 0; k <= n; k++) {
      if (st[k].allocations == 0) continue;
      const char *key = k < n ? stacks[k].key : "(no stack)";
      e[ne++] = (entry){key, k < n ? stacks[k].label : key, w, &st[k]};
    }
  }
  qsort(e, ne, sizeof *e, cmp_entry);
  d->sites = calloc(ne ? ne : 1, sizeof *d->sites);
  if (!d->sites) {
    free(e);
    goto oom;
  }
  for (size_t i = 0; i < ne; i++) {
    if (d->nsites == 0 || strcmp(d->sites[d->nsites - 1].key, e[i].key) != 0) {
      dsite *s = &d->sites[d->nsites++];
      s->key = e[i].key;
      s->label = e[i].label;
    }
    dsite *s = &d->sites[d->nsites - 1];
    if (e[i].which == 1) s->label = e[i].label; /* the newer build names it */
    add_stats(&s->s[e[i].which], e[i].st);
  }
  free(e);
  for (size_t i = 0; i < d->nsites; i++)
    if ((d->sites[i].changed = differs(&d->sites[i]))) d->nchanged++;
  qsort(d->sites, d->nsites, sizeof *d->sites, cmp_site);
  return 0;
oom:
  snprintf(err, errlen, "out of memory");
  return -1;
}

/* Growth of metric m from base to new in percent; INFINITY from 0. */
static double growth(const dsite *d, int m) {
  int64_t b = d->s[0].v[m], n = d->s[1].v[m];
  if (b == 0) return n > 0 ? INFINITY : 0;
  return (double)(n - b) * 100.0 / (double)b;
}

static int check_gate(diff *d, double limit) {
  d->trips = calloc(2 * (d->nsites + 1), sizeof *d->trips);
  if (!d->trips) return -1;
  static const int gated[] = {M_BYTES, M_PEAK};
  for (size_t i = 0; i <= d->nsites; i++) {
    const dsite *s = i == 0 ? &d->overall : &d->sites[i - 1];
    for (size_t g = 0; g < sizeof gated / sizeof *gated; g++)
      if (growth(s, gated[g]) > limit) d->trips[d->ntrips++] = (trip){i == 0 ? NULL : s, gated[g]};
  }
  return 0;
}

/* ---- formatting ------------------------------------------------------------ */

/* Short-lived share of a side in percent (0 without allocations). */
static double short_pct(const side *s) {
  return s->v[M_ALLOCS] ? (double)s->v[M_SHORT] * 100.0 / (double)s->v[M_ALLOCS] : 0;
}

static const char *fmt_value(char *buf, size_t cap, const side *s, int m) {
  if (m == M_SHORT) return ft_fmt_pct(buf, cap, short_pct(s));
  if (m == M_ALLOCS) return ft_fmt_int(buf, cap, s->v[m]);
  return ft_fmt_bytes(buf, cap, (double)s->v[m]);
}

static const char *fmt_delta(char *buf, size_t cap, const dsite *d, int m) {
  char tmp[FT_FMT_CAP];
  if (m == M_SHORT) {
    double pt = short_pct(&d->s[1]) - short_pct(&d->s[0]);
    if (pt == 0) snprintf(buf, cap, "0 pt");
    else snprintf(buf, cap, "%+.1f pt", pt);
    return buf;
  }
  int64_t v = d->s[1].v[m] - d->s[0].v[m];
  if (m == M_ALLOCS) ft_fmt_int(tmp, sizeof tmp, v);
  else ft_fmt_bytes(tmp, sizeof tmp, (double)v);
  snprintf(buf, cap, "%s%s", v > 0 ? "+" : "", tmp);
  return buf;
}

static const char *fmt_delta_pct(char *buf, size_t cap, const dsite *d, int m) {
  if (m == M_SHORT) return "";
  double g = growth(d, m);
  if (isinf(g)) return "new";
  if (d->s[0].v[m] == 0) return "";
  char tmp[FT_FMT_CAP];
  ft_fmt_pct(tmp, sizeof tmp, fabs(g));
  snprintf(buf, cap, "%s%s", g > 0 ? "+" : g < 0 ? "-" : "", tmp);
  return buf;
}

static const char *status_of(const dsite *s) {
  if (!s->s[0].present) return "new";
  if (!s->s[1].present) return "gone";
  return s->changed ? "changed" : "same";
}

/* Rows of one site (or overall, without site and status columns). */
static int table_rows(ft_table *t, const dsite *s, int with_site) {
  for (int m = 0; m < NMETRIC; m++) {
    char b[FT_FMT_CAP], n[FT_FMT_CAP], dl[FT_FMT_CAP + 8], dp[FT_FMT_CAP + 8];
    const char *cells[7];
    int c = 0;
    if (with_site) {
      cells[c++] = m == 0 ? s->label : "";
      cells[c++] = m == 0 ? status_of(s) : "";
    }
    cells[c++] = metric_name[m];
    cells[c++] = s->s[0].present ? fmt_value(b, sizeof b, &s->s[0], m) : "-";
    cells[c++] = s->s[1].present ? fmt_value(n, sizeof n, &s->s[1], m) : "-";
    cells[c++] = fmt_delta(dl, sizeof dl, s, m);
    cells[c++] = fmt_delta_pct(dp, sizeof dp, s, m);
    if (ft_table_row(t, cells) != 0) return -1;
  }
  return 0;
}

static const char *trace_command(const diff *d, int w) {
  const char *c = ft_xtrace_command(d->x[w]);
  return *c ? c : "?";
}

static size_t shown_sites(const diff *d, int64_t top) {
  size_t n = d->nchanged;
  return top > 0 && (size_t)top < n ? (size_t)top : n;
}

static int print_tables(const diff *d, const opts *o, FILE *out) {
  int md = o->format == DF_MARKDOWN;
  ft_style style = md ? FT_STYLE_MARKDOWN : FT_STYLE_TEXT;
  size_t nimg[2];
  ft_xtrace_images(d->x[0], &nimg[0]);
  ft_xtrace_images(d->x[1], &nimg[1]);
  if (md) {
    fprintf(out, "## fragtrace diff\n\n");
    for (int w = 0; w < 2; w++) {
      fprintf(out, "- %s: `", w ? "new" : "base");
      ft_md_escape(out, d->path[w]);
      fprintf(out, "` (");
      ft_md_escape(out, trace_command(d, w));
      fprintf(out, "; %zu process%s)\n", nimg[w], nimg[w] == 1 ? "" : "es");
    }
    fprintf(out, "\n### Overall\n\n");
  } else {
    for (int w = 0; w < 2; w++)
      fprintf(out, "%s %s (%s; %zu process%s)\n", w ? "new: " : "base:", d->path[w], trace_command(d, w), nimg[w],
              nimg[w] == 1 ? "" : "es");
    fprintf(out, "\nOverall\n");
  }
  static const char *const oh[] = {"metric", "base", "new", "delta", "delta %"};
  ft_table *t = ft_table_new(5, oh, "lrrrr");
  if (!t || table_rows(t, &d->overall, 0) != 0) goto oom;
  ft_table_print(t, out, style, md ? NULL : "  ");
  ft_table_free(t);

  size_t shown = shown_sites(d, o->top);
  if (md) fprintf(out, "\n### Sites\n\n");
  else fprintf(out, "\nSites\n");
  if (d->nchanged == 0) {
    fprintf(out, "%sno site changed (%zu site%s in both)\n", md ? "" : "  ", d->nsites, d->nsites == 1 ? "" : "s");
    return 0;
  }
  fprintf(out, "%s%zu of %zu site%s changed, largest change of bytes first\n\n", md ? "" : "  ", d->nchanged,
          d->nsites, d->nsites == 1 ? "" : "s");
  static const char *const sh[] = {"site", "status", "metric", "base", "new", "delta", "delta %"};
  t = ft_table_new(7, sh, "lllrrrr");
  if (!t) goto oom;
  for (size_t i = 0; i < shown; i++)
    if (table_rows(t, &d->sites[i], 1) != 0) goto oom;
  ft_table_print(t, out, style, md ? NULL : "  ");
  ft_table_free(t);
  if (shown < d->nchanged)
    fprintf(out, "%s(%zu more changed site%s: --top 0 shows all)\n", md ? "\n" : "  ", d->nchanged - shown,
            d->nchanged - shown == 1 ? "" : "s");
  return 0;
oom:
  ft_table_free(t);
  return -1;
}

static void json_metrics(ft_json *j, const dsite *s) {
  for (int m = 0; m < NMETRIC; m++) {
    ft_json_object(j, metric_key[m]);
    ft_json_int(j, "base", s->s[0].v[m]);
    ft_json_int(j, "new", s->s[1].v[m]);
    ft_json_int(j, "delta", s->s[1].v[m] - s->s[0].v[m]);
    double g = growth(s, m);
    if (s->s[0].v[m] == 0) ft_json_null(j, "delta_pct");
    else ft_json_num(j, "delta_pct", round(g * 100) / 100);
    ft_json_end(j);
  }
  ft_json_object(j, "short_lived_pct");
  double b = short_pct(&s->s[0]), n = short_pct(&s->s[1]);
  ft_json_num(j, "base", round(b * 100) / 100);
  ft_json_num(j, "new", round(n * 100) / 100);
  ft_json_num(j, "delta", round((n - b) * 100) / 100);
  ft_json_end(j);
}

static void print_json(const diff *d, const opts *o, FILE *out) {
  ft_json j;
  ft_json_init(&j, out);
  ft_json_object(&j, NULL);
  ft_json_int(&j, "fragtrace_diff_version", DIFF_JSON_VERSION);
  for (int w = 0; w < 2; w++) {
    size_t n;
    ft_xtrace_images(d->x[w], &n);
    ft_json_object(&j, w ? "new" : "base");
    ft_json_str(&j, "file", d->path[w]);
    ft_json_str(&j, "command", ft_xtrace_command(d->x[w]));
    ft_json_int(&j, "processes", (int64_t)n);
    ft_json_int(&j, "short_lived_ns", ft_xtrace_short_lived_ns(d->x[w]));
    ft_json_end(&j);
  }
  ft_json_object(&j, "overall");
  json_metrics(&j, &d->overall);
  ft_json_end(&j);
  ft_json_int(&j, "sites_total", (int64_t)d->nsites);
  ft_json_int(&j, "sites_changed", (int64_t)d->nchanged);
  ft_json_array(&j, "sites");
  for (size_t i = 0; i < d->nsites; i++) {
    const dsite *s = &d->sites[i];
    ft_json_object(&j, NULL);
    ft_json_str(&j, "site", s->label);
    ft_json_str(&j, "key", s->key);
    ft_json_str(&j, "status", status_of(s));
    json_metrics(&j, s);
    ft_json_end(&j);
  }
  ft_json_end(&j);
  ft_json_object(&j, "gate");
  if (o->growth_pct >= 0) ft_json_num(&j, "fail_on_growth_pct", o->growth_pct);
  else ft_json_null(&j, "fail_on_growth_pct");
  ft_json_array(&j, "tripped");
  for (size_t i = 0; i < d->ntrips; i++) {
    const trip *t = &d->trips[i];
    const dsite *s = t->site ? t->site : &d->overall;
    ft_json_object(&j, NULL);
    if (t->site) ft_json_str(&j, "site", s->label);
    else ft_json_null(&j, "site");
    ft_json_str(&j, "metric", metric_key[t->metric]);
    ft_json_int(&j, "base", s->s[0].v[t->metric]);
    ft_json_int(&j, "new", s->s[1].v[t->metric]);
    double g = growth(s, t->metric);
    if (isinf(g)) ft_json_null(&j, "delta_pct");
    else ft_json_num(&j, "delta_pct", round(g * 100) / 100);
    ft_json_end(&j);
  }
  ft_json_end(&j);
  ft_json_end(&j);
  ft_json_end(&j);
}

/* One stderr line per tripped gate finding. */
static void print_trips(const diff *d, const opts *o) {
  for (size_t i = 0; i < d->ntrips; i++) {
    const trip *t = &d->trips[i];
    const dsite *s = t->site ? t->site : &d->overall;
    int64_t b = s->s[0].v[t->metric], n = s->s[1].v[t->metric];
    char bb[FT_FMT_CAP], nb[FT_FMT_CAP], pct[FT_FMT_CAP], lim[FT_FMT_CAP];
    double g = growth(s, t->metric);
    ft_fmt_pct(lim, sizeof lim, o->growth_pct);
    if (isinf(g)) snprintf(pct, sizeof pct, "new");
    else ft_fmt_pct(pct, sizeof pct, g);
    ft_errorf("gate --fail-on-growth %s: %s: %s %s%s, %lld -> %lld bytes (%s -> %s)", lim, s->label,
              t->metric == M_BYTES ? "bytes" : "peak live bytes", isinf(g) ? "" : "+", pct, (long long)b,
              (long long)n, ft_fmt_bytes(bb, sizeof bb, (double)b), ft_fmt_bytes(nb, sizeof nb, (double)n));
  }
}

int ft_cmd_diff(int argc, char **argv) {
  opts o;
  int pr = parse(argc, argv, &o);
  if (pr != 0) return pr > 0 ? 0 : FT_EXIT_USAGE;
  diff d;
  memset(&d, 0, sizeof d);
  d.path[0] = o.base;
  d.path[1] = o.new_;
  char err[512];
  int ret = FT_EXIT_USAGE;
  for (int w = 0; w < 2; w++) {
    d.x[w] = ft_xtrace_open(d.path[w], 0, o.skip, o.nskip, FT_X_PEAK, err, sizeof err);
    if (!d.x[w]) {
      ft_errorf("%s", err);
      goto out;
    }
  }
  if (build(&d, err, sizeof err) != 0 ||
      (o.growth_pct >= 0 && check_gate(&d, o.growth_pct) != 0 && snprintf(err, sizeof err, "out of memory"))) {
    ft_errorf("diff: %s", err);
    goto out;
  }
  if (o.format == DF_JSON) print_json(&d, &o, stdout);
  else if (print_tables(&d, &o, stdout) != 0) {
    ft_errorf("diff: out of memory");
    goto out;
  }
  fflush(stdout);
  print_trips(&d, &o);
  ret = d.ntrips ? FT_EXIT_GATE : 0;
out:
  ft_xtrace_close(d.x[0]);
  ft_xtrace_close(d.x[1]);
  free(d.sites);
  free(d.trips);
  return ret;
}
