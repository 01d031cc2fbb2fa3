/*
** ft_export_massif.c — massif.out writer (see ft_export_massif.h).
**
** The format is the one valgrind's massif writes and ms_print parses
** (ms_print's read_input_file/read_heap_tree are the spec): a header of
** desc:, cmd:, time_unit:, then snapshots; a detailed snapshot carries a
** tree of code locations, each line "nCHILDREN: BYTES 0xADDR: fn (file:line)"
** indented one space per level, children largest first, and the children
** below the threshold of the snapshot's total folded into one line "n0:
** BYTES in N places, all below massif's threshold (1.00%)". ms_print dies
** when a node is larger than the snapshot's total, so the tree and
** mem_heap_B of a detailed snapshot come from the same pass.
*/
#include "ft_export_massif.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DETAILED_EVERY 10   /* massif's --detailed-freq default */
#define THRESHOLD_PCT 1.0   /* massif's --threshold default */
#define NONE ((size_t)-1)

enum { SNAP_EMPTY, SNAP_DETAILED, SNAP_PEAK };

typedef struct snap {
  int64_t t_ns, heap, alloc_bytes;
  int kind;
  size_t detail; /* index among the detailed snapshots */
} snap;

typedef struct node {
  ft_xframe f;    /* level -1: no call stack */
  int64_t bytes;
  size_t child, sibling;
} node;

typedef struct tree {
  node *n;
  size_t len, cap;
} tree;

static size_t tree_add(tree *t, const ft_xframe *f) {
  if (t->len == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    node *p = realloc(t->n, cap * sizeof *p);
    if (!p) return NONE;
    t->n = p;
    t->cap = cap;
  }
  t->n[t->len] = (node){.f = *f, .bytes = 0, .child = NONE, .sibling = NONE};
  return t->len++;
}

/* The child of parent for frame f, created when missing; NONE when out of memory. */
static size_t tree_child(tree *t, size_t parent, const ft_xframe *f) {
  for (size_t c = t->n[parent].child; c != NONE; c = t->n[c].sibling)
    if (t->n[c].f.ip == f->ip && t->n[c].f.level == f->level) return c;
  size_t c = tree_add(t, f);
  if (c == NONE) return NONE;
  t->n[c].sibling = t->n[parent].child;
  t->n[parent].child = c;
  return c;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

/* A node's text after the byte count, as massif writes a code location. */
static void node_label(const ft_xframe *f, char *buf, size_t cap) {
  if (f->level < 0) snprintf(buf, cap, "0x0: ??? (no call stack recorded)");
  else if (f->function && f->file && f->line > 0)
    snprintf(buf, cap, "0x%" PRIX64 ": %s (%s:%d)", f->ip, f->function, base_name(f->file), f->line);
  else if (f->module)
    snprintf(buf, cap, "0x%" PRIX64 ": %s (in %s)", f->ip, f->function ? f->function : "???", f->module);
  else snprintf(buf, cap, "0x%" PRIX64 ": %s", f->ip, f->function ? f->function : "???");
}

static const tree *sort_tree; /* qsort has no context argument in C11 */

static int cmp_children(const void *a, const void *b) {
  const node *x = &sort_tree->n[*(const size_t *)a], *y = &sort_tree->n[*(const size_t *)b];
  if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
  if (x->f.ip != y->f.ip) return x->f.ip < y->f.ip ? -1 : 1;
  return (x->f.level > y->f.level) - (x->f.level < y->f.level);
}

static int is_significant(int64_t bytes, int64_t total) {
  return total > 0 && (double)bytes * 100.0 >= THRESHOLD_PCT * (double)total;
}

/* Print node i's children at indentation depth (the node's own line is
** printed by the caller, which needs their count first). */
static int print_children(const tree *t, size_t i, int depth, int64_t total, FILE *out) {
  size_t nc = 0;
  for (size_t c = t->n[i].child; c != NONE; c = t->n[c].sibling) nc++;
  if (nc == 0) return 0;
  size_t *ch = malloc(nc * sizeof *ch);
  if (!ch) return -1;
  nc = 0;
  for (size_t c = t->n[i].child; c != NONE; c = t->n[c].sibling) ch[nc++] = c;
  sort_tree = t;
  qsort(ch, nc, sizeof *ch, cmp_children);
  int ret = 0;
  size_t ninsig = 0;
  int64_t insig = 0;
  for (size_t k = 0; k < nc; k++)
    if (!is_significant(t->n[ch[k]].bytes, total)) {
      ninsig++;
      insig += t->n[ch[k]].bytes;
    }
  for (size_t k = 0; k < nc && ret == 0; k++) {
    const node *c = &t->n[ch[k]];
    if (!is_significant(c->bytes, total)) continue;
    size_t grand = 0, gsig = 0, ginsig = 0;
    for (size_t g = c->child; g != NONE; g = t->n[g].sibling, grand++)
      if (is_significant(t->n[g].bytes, total)) gsig++;
      else ginsig++;
    char label[2048];
    node_label(&c->f, label, sizeof label);
    fprintf(out, "%*sn%zu: %" PRId64 " %s\n", depth, "", gsig + (ginsig > 0), c->bytes, label);
    ret = print_children(t, ch[k], depth + 1, total, out);
  }
  if (ninsig > 0)
    fprintf(out, "%*sn0: %" PRId64 " in %zu place%s below massif's threshold (%.2f%%)\n", depth, "", insig, ninsig,
            ninsig == 1 ? "," : "s, all", THRESHOLD_PCT);
  free(ch);
  return ret;
}

/* The heap tree of one detailed snapshot from its live bytes per stack. */
static int write_tree(ft_xtrace *x, const int64_t *live, int64_t total, FILE *out) {
  size_t nstacks;
  ft_xtrace_stacks(x, &nstacks);
  tree t = {0};
  ft_xframe root = {.level = 0};
  int ret = -1;
  if (tree_add(&t, &root) == NONE) goto out;
  for (size_t k = 0; k <= nstacks; k++) {
    if (live[k] <= 0) continue;
    size_t nf = 0;
    const ft_xframe *f = k < nstacks ? ft_xtrace_frames(x, k, &nf) : NULL;
    t.n[0].bytes += live[k];
    if (nf == 0) {
      ft_xframe none = {.level = -1};
      size_t c = tree_child(&t, 0, &none);
      if (c == NONE) goto out;
      t.n[c].bytes += live[k];
      continue;
    }
    /* Massif's trees end at main: what is below it is the C runtime. */
    for (size_t i = 0; i < nf; i++)
      if (f[i].function && !strcmp(f[i].function, "main")) {
        nf = i + 1;
        break;
      }
    size_t cur = 0;
    for (size_t i = 0; i < nf; i++) {
      cur = tree_child(&t, cur, &f[i]);
      if (cur == NONE) goto out;
      t.n[cur].bytes += live[k];
    }
  }
  assert(t.n[0].bytes == total);
  size_t sig = 0, insig = 0;
  for (size_t c = t.n[0].child; c != NONE; c = t.n[c].sibling)
    if (is_significant(t.n[c].bytes, total)) sig++;
    else insig++;
  fprintf(out, "n%zu: %" PRId64 " (heap allocation functions) malloc/new/new[], --alloc-fns, etc.\n",
          sig + (insig > 0), total);
  ret = print_children(&t, 0, 1, total, out);
out:
  free(t.n);
  return ret;
}

int ft_export_massif(ft_xtrace *x, ft_massif_time unit, FILE *out, char *err, size_t errlen) {
  size_t nimg, nstacks;
  const ft_ximage *imgs = ft_xtrace_images(x, &nimg);
  ft_xtrace_stacks(x, &nstacks);
  assert(nimg > 0);
  size_t im = 0;
  for (size_t i = 1; i < nimg; i++)
    if (imgs[i].peak_bytes > imgs[im].peak_bytes) im = i;
  const ft_ximage *m = &imgs[im];
  if (unit == FT_MASSIF_TIME_AUTO)
    unit = m->end_ns >= FT_MASSIF_AUTO_MS_MIN_NS ? FT_MASSIF_TIME_MS : FT_MASSIF_TIME_BYTES;
  size_t npts;
  const ft_xpoint *pts;
  if (ft_xtrace_timeline(x, im, unit == FT_MASSIF_TIME_MS ? FT_X_AXIS_TIME : FT_X_AXIS_BYTES, &pts, &npts, err,
                         errlen) != 0)
    return -1;

  snap *s = malloc((npts + 2) * sizeof *s);
  int64_t *inst = NULL, *live = NULL;
  int ret = -1;
  if (!s) goto oom;
  size_t ns = 0;
  if (npts == 0 || pts[0].t_ns > 0) s[ns++] = (snap){0, 0, 0, SNAP_EMPTY, 0};
  for (size_t i = 0; i < npts; i++) s[ns++] = (snap){pts[i].t_ns, pts[i].live_bytes, pts[i].alloc_bytes, SNAP_EMPTY, 0};
  if (m->end_ns > s[ns - 1].t_ns) s[ns++] = (snap){m->end_ns, m->leaked_bytes, m->bytes, SNAP_EMPTY, 0};
  size_t peak = NONE;
  for (size_t i = 0; i < ns; i++)
    if (s[i].heap > 0 && (peak == NONE || s[i].heap > s[peak].heap)) peak = i;
  size_t nd = 0;
  for (size_t i = 0; i < ns; i++) {
    if (i == peak) s[i].kind = SNAP_PEAK;
    else if (i % DETAILED_EVERY == DETAILED_EVERY - 1 || i == ns - 1) s[i].kind = SNAP_DETAILED;
    if (s[i].kind != SNAP_EMPTY) s[i].detail = nd++;
  }
  inst = malloc(nd * sizeof *inst);
  live = calloc(nd * (nstacks + 1), sizeof *live);
  if (!inst || !live) goto oom;
  for (size_t i = 0; i < ns; i++)
    if (s[i].kind != SNAP_EMPTY) inst[s[i].detail] = s[i].t_ns;
  if (ft_xtrace_live_at(x, im, inst, nd, live, err, errlen) != 0) goto out;

  /* A byte-sampled trace's heap is an estimate (rows weighted by 1/p): say so where ms_print shows it. */
  int64_t sb = ft_xtrace_sample_bytes(x);
  char est[96] = "";
  if (sb > 0) snprintf(est, sizeof est, "; byte-sampled, 1 allocation per %lld bytes: estimates", (long long)sb);
  else if (sb < 0) snprintf(est, sizeof est, "; byte-sampled: estimates");
  fprintf(out, "desc: fragtrace export (pid %d; heap as the program requested it, no allocator overhead%s)\n", m->pid,
          est);
  fprintf(out, "cmd: %s\n", m->cmdline ? m->cmdline : m->exe ? m->exe : ft_xtrace_command(x));
  fprintf(out, "time_unit: %s\n", unit == FT_MASSIF_TIME_MS ? "ms" : "B");
  for (size_t i = 0; i < ns; i++) {
    const int64_t *lv = s[i].kind != SNAP_EMPTY ? live + s[i].detail * (nstacks + 1) : NULL;
    int64_t heap = s[i].heap;
    if (lv) {
      heap = 0;
      for (size_t k = 0; k <= nstacks; k++) heap += lv[k];
      assert(heap == s[i].heap); /* the sweep and the pass at instants agree */
    }
    int64_t t = unit == FT_MASSIF_TIME_MS ? s[i].t_ns / 1000000 : s[i].alloc_bytes;
    fprintf(out,
            "#-----------\nsnapshot=%zu\n#-----------\ntime=%" PRId64 "\nmem_heap_B=%" PRId64
            "\nmem_heap_extra_B=0\nmem_stacks_B=0\nheap_tree=%s\n",
            i, t, heap, s[i].kind == SNAP_PEAK ? "peak" : s[i].kind == SNAP_DETAILED ? "detailed" : "empty");
    if (lv && write_tree(x, lv, heap, out) != 0) goto oom;
  }
  ret = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  free(s);
  free(inst);
  free(live);
  return ret;
}
