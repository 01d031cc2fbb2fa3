/*
** ft_report_html_flame.c — the flame graph of the HTML report, drawn as an
** icicle (the outermost frame on top, call sites at the bottom of each
** tower) so it reads top-down like a stack trace.
**
** The stacks and their weights are export's (ft_export_data.h: the same
** frames and numbers as `fragtrace export --format folded`, inlined
** functions as frames of their own, wrappers below the site left out).
** They are merged into one tree carrying all four weights (allocations,
** bytes, leaked bytes, bytes live at the peak); each weight gets its own
** SVG, and radio buttons switch between them in CSS alone. Frames
** narrower than MIN_WIDTH units of the 1200-unit width are left out (their
** weight still counts in their parent), so the file stays small whatever
** the number of stacks. Hover a frame for its name, value and share.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ft_export_data.h"
#include "ft_fmt.h"
#include "ft_report.h"
#include "ft_report_html.h"
#include "ft_svg.h"

#define CAP FT_FMT_CAP
#define NW 4             /* weights */
#define WIDTH 1200.0     /* viewBox width */
#define ROW 17.0         /* frame height */
#define MIN_WIDTH 0.6    /* narrowest frame drawn, in viewBox units */
#define MAX_FRAMES 3000  /* frames per graph at most: the threshold widens until it fits */
#define CHAR_W 6.6       /* approximate advance of an 11px character in viewBox units */

typedef struct fnode {
  char *name;
  int parent, child, next; /* first child, next sibling; -1 none */
  int depth;
  int64_t w[NW];
} fnode;

typedef struct ftree {
  fnode *n;
  size_t len, cap;
  int *hash;               /* open addressing over (parent, name) -> node, -1 empty */
  size_t hcap;
  int oom;
  int maxdepth;
} ftree;

static const char *const weight_names[NW] = {"allocations", "bytes", "leaked", "peak"};
static const char *const weight_titles[NW] = {"allocations (count)", "bytes allocated", "bytes leaked",
                                              "bytes live at the peak"};

static uint64_t hash_key(int parent, const char *name) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)(unsigned)parent;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ull;
  return h;
}

static int grow_hash(ftree *t) {
  size_t cap = t->hcap ? t->hcap * 2 : 1024;
  int *h = malloc(cap * sizeof *h);
  if (!h) return -1;
  for (size_t i = 0; i < cap; i++) h[i] = -1;
  for (size_t i = 1; i < t->len; i++) { /* node 0, the root, is never looked up */
    size_t k = hash_key(t->n[i].parent, t->n[i].name) & (cap - 1);
    while (h[k] >= 0) k = (k + 1) & (cap - 1);
    h[k] = (int)i;
  }
  free(t->hash);
  t->hash = h;
  t->hcap = cap;
  return 0;
}

/* The child of parent named name, created when missing; -1 when out of memory. */
static int child_of(ftree *t, int parent, const char *name) {
  if ((t->len + 1) * 2 > t->hcap && grow_hash(t) != 0) return -1;
  size_t k = hash_key(parent, name) & (t->hcap - 1);
  for (; t->hash[k] >= 0; k = (k + 1) & (t->hcap - 1)) {
    fnode *c = &t->n[t->hash[k]];
    if (c->parent == parent && !strcmp(c->name, name)) return t->hash[k];
  }
  if (t->len == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 1024;
    fnode *n = realloc(t->n, cap * sizeof *n);
    if (!n) return -1;
    t->n = n;
    t->cap = cap;
  }
  fnode *c = &t->n[t->len];
  if (!(c->name = strdup(name))) return -1;
  c->parent = parent;
  c->child = -1;
  c->next = t->n[parent].child;
  c->depth = t->n[parent].depth + 1;
  memset(c->w, 0, sizeof c->w);
  t->n[parent].child = (int)t->len;
  if (c->depth > t->maxdepth) t->maxdepth = c->depth;
  t->hash[k] = (int)t->len;
  return (int)t->len++;
}

/* Add weights w along the path of names from the root. */
static int add_path(ftree *t, const char *const *names, size_t n, const int64_t *w) {
  int at = 0;
  for (int k = 0; k < NW; k++) t->n[0].w[k] += w[k];
  for (size_t i = 0; i < n; i++) {
    if ((at = child_of(t, at, names[i])) < 0) return -1;
    for (int k = 0; k < NW; k++) t->n[at].w[k] += w[k];
  }
  return 0;
}

static void tree_free(ftree *t) {
  for (size_t i = 0; i < t->len; i++) free(t->n[i].name);
  free(t->n);
  free(t->hash);
}

/* Build the tree from the trace's stacks (export's frames and weights). */
static int build(const ft_report *r, ftree *t, char *err, size_t errlen) {
  const ft_report_opts *o = r->opts;
  ft_xtrace *x = ft_xtrace_open(o->path, o->pid > 0 ? (int)o->pid : 0, o->skip, o->nskip, FT_X_PEAK, err, errlen);
  if (!x) return -1;
  size_t nstacks, nimg;
  const ft_stack_info *stacks = ft_xtrace_stacks(x, &nstacks);
  const ft_xstack *st = ft_xtrace_stack_stats(x);
  const ft_ximage *img = ft_xtrace_images(x, &nimg);
  t->cap = 1024;
  t->n = calloc(t->cap, sizeof *t->n);
  if (!t->n || grow_hash(t) != 0) goto oom;
  t->n[0] = (fnode){.name = strdup("all"), .parent = -1, .child = -1, .next = -1};
  if (!t->n[0].name) goto oom;
  t->len = 1;
  char **names = NULL;
  size_t namecap = 0;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k <= nstacks; k++) {
    int64_t w[NW] = {st[k].allocations, st[k].bytes, st[k].leaked_bytes, st[k].peak_bytes};
    if (w[0] <= 0 && w[1] <= 0 && w[2] <= 0 && w[3] <= 0) continue;
    size_t nf = 0, nn = 0;
    const ft_xframe *f = k < nstacks ? ft_xtrace_frames(x, k, &nf) : NULL;
    if (nf + 2 > namecap) {
      char **p = realloc(names, (nf + 2) * sizeof *p);
      if (!p) {
        rc = -1;
        break;
      }
      names = p;
      namecap = nf + 2;
    }
    char buf[1024];
    if (k < nstacks && nimg > 1)
      for (size_t i = 0; i < nimg; i++)
        if (img[i].proc == stacks[k].proc) {
          const char *exe = img[i].exe ? img[i].exe : "?";
          const char *slash = strrchr(exe, '/');
          snprintf(buf, sizeof buf, "%s (pid %d)", slash ? slash + 1 : exe, img[i].pid);
          names[nn++] = strdup(buf);
        }
    if (nf == 0) names[nn++] = strdup("(no stack)");
    for (size_t i = nf; i-- > 0;) names[nn++] = strdup(ft_xframe_name(x, stacks[k].proc, &f[i], buf, sizeof buf));
    for (size_t i = 0; i < nn; i++)
      if (!names[i]) rc = -1;
    if (rc == 0) rc = add_path(t, (const char *const *)names, nn, w);
    for (size_t i = 0; i < nn; i++) free(names[i]);
  }
  free(names);
  ft_xtrace_close(x);
  if (rc != 0) snprintf(err, errlen, "out of memory building the flame graph");
  return rc;
oom:
  ft_xtrace_close(x);
  snprintf(err, errlen, "out of memory building the flame graph");
  return -1;
}

/* Nodes at least min_w wide (as a share of total times WIDTH), counted. */
static size_t count_visible(const ftree *t, int at, int k, double scale, double min_w) {
  size_t n = 1;
  for (int c = t->n[at].child; c >= 0; c = t->n[c].next)
    if ((double)t->n[c].w[k] * scale >= min_w) n += count_visible(t, c, k, scale, min_w);
  return n;
}

static int cmp_weight_k;
static const ftree *cmp_tree;
static int cmp_child(const void *a, const void *b) {
  const fnode *x = &cmp_tree->n[*(const int *)a], *y = &cmp_tree->n[*(const int *)b];
  if (x->w[cmp_weight_k] != y->w[cmp_weight_k]) return x->w[cmp_weight_k] > y->w[cmp_weight_k] ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* A warm colour from the name, so a function keeps its colour across the
** weights. */
static const char *colour(const char *name, char *buf, size_t cap) {
  uint64_t h = hash_key(0, name);
  snprintf(buf, cap, "hsl(%d,%d%%,%d%%)", (int)(h % 50), 70 + (int)(h >> 8) % 20, 58 + (int)(h >> 16) % 12);
  return buf;
}

static const char *value_str(char *buf, size_t cap, int k, int64_t v) {
  if (k == 0) return ft_fmt_int(buf, cap, v);
  char a[CAP], b[CAP];
  snprintf(buf, cap, "%s (%s bytes)", ft_fmt_bytes(a, sizeof a, (double)v), ft_fmt_int(b, sizeof b, v));
  return buf;
}

static void draw(const ftree *t, FILE *out, int at, int k, double x, double scale, double min_w, int *maxrow) {
  const fnode *n = &t->n[at];
  double w = (double)n->w[k] * scale, y = n->depth * ROW;
  char c[48], v[96], p[CAP];
  if (n->depth > *maxrow) *maxrow = n->depth;
  fprintf(out, "<g><title>");
  ft_html_esc(out, n->name);
  fprintf(out, ": %s, %s</title><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>",
          value_str(v, sizeof v, k, n->w[k]), ft_fmt_pct(p, sizeof p, 100.0 * (double)n->w[k] / (double)t->n[0].w[k]), x, y,
          w, ROW - 1, colour(n->name, c, sizeof c));
  /* A label only where three characters fit: "s…" says nothing. */
  size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_W) : 0;
  if (fit >= 3) {
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y + ROW - 5);
    ft_html_esc_trunc(out, n->name, strlen(n->name) <= fit ? fit : fit - 1);
    fputs("</text>", out);
  }
  fputs("</g>\n", out);
  size_t nk = 0;
  for (int ch = n->child; ch >= 0; ch = t->n[ch].next)
    if ((double)t->n[ch].w[k] * scale >= min_w) nk++;
  int *kids = nk ? malloc(nk * sizeof *kids) : NULL;
  if (!kids) return; /* a leaf, or out of memory: the frame's children are left out */
  nk = 0;
  for (int ch = n->child; ch >= 0; ch = t->n[ch].next)
    if ((double)t->n[ch].w[k] * scale >= min_w) kids[nk++] = ch;
  cmp_weight_k = k;
  cmp_tree = t;
  qsort(kids, nk, sizeof *kids, cmp_child);
  for (size_t i = 0; i < nk; i++) {
    draw(t, out, kids[i], k, x, scale, min_w, maxrow);
    x += (double)t->n[kids[i]].w[k] * scale;
  }
  free(kids);
}

int ft_html_flame(const ft_report *r, FILE *out, char *err, size_t errlen) {
  ft_html_heading(out, "flame", "Flame graph");
  ftree t = {0};
  if (build(r, &t, err, errlen) != 0) {
    tree_free(&t);
    return -1;
  }
  ft_html_para(out, NULL,
               "Allocation stacks merged into a tree, the outermost frame on top and the call sites at the bottom of "
               "each tower; a frame's width is its share of the chosen weight. Hover a frame for its name and value.");
  if (r->window_lo > 0 || r->window_hi >= 0)
    ft_html_para(out, "note", "The flame graph covers the whole run: --since/--until do not apply to it.");
  if (r->nsampled > 0)
    ft_html_para(out, "note", "From a byte-sampled trace: every width and total is an estimate (each recorded "
                              "allocation stands for 1/p of its kind).");
  fputs("<div class=\"flame\">", out);
  for (int k = 0; k < NW; k++)
    fprintf(out, "<input type=\"radio\" name=\"fw\" id=\"fw%d\"%s><label for=\"fw%d\">%s</label>", k, k == 1 ? " checked" : "",
            k, weight_names[k]);
  for (int k = 0; k < NW; k++) {
    fprintf(out, "<div class=\"fg fg%d\">", k);
    int64_t total = t.len ? t.n[0].w[k] : 0;
    if (total <= 0) {
      fprintf(out, "<p class=\"note\">Nothing to show: no %s in this trace.</p></div>\n", weight_titles[k]);
      continue;
    }
    double scale = WIDTH / (double)total, min_w = MIN_WIDTH;
    while (count_visible(&t, 0, k, scale, min_w) > MAX_FRAMES) min_w *= 2;
    /* Rows drawn: the deepest visible frame. The SVG's height is set after
    ** drawing, so the body goes to a buffer first. */
    char *body = NULL;
    size_t blen = 0;
    FILE *mem = open_memstream(&body, &blen);
    int maxrow = 0;
    if (!mem) {
      tree_free(&t);
      snprintf(err, errlen, "out of memory drawing the flame graph");
      return -1;
    }
    draw(&t, mem, 0, k, 0, scale, min_w, &maxrow);
    fclose(mem);
    double h = (maxrow + 1) * ROW;
    char label[96], v[96];
    snprintf(label, sizeof label, "Flame graph of %s", weight_titles[k]);
    fprintf(out, "<svg class=\"flamegraph\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\"><title>%s</title>\n",
            WIDTH, h, label, label);
    fwrite(body, 1, blen, out);
    free(body);
    fprintf(out, "</svg><p class=\"note\">Total %s: %s.", weight_titles[k], value_str(v, sizeof v, k, total));
    if (min_w > MIN_WIDTH) fputs(" Frames narrower than a pixel are left out.", out);
    fputs("</p></div>\n", out);
  }
  fputs("</div>\n", out);
  tree_free(&t);
  return 0;
}
