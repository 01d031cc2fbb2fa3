/*
** ft_export_folded.c — folded stacks for flame graphs (see
** ft_export_folded.h). Different stacks can fold to the same text (two
** call lines in one function, or stacks that differ only in wrapper frames
** below the site), so lines are collected, sorted and merged before they
** are written.
*/
#include "ft_export_folded.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct line {
  char *text;
  int64_t weight;
} line;

typedef struct sbuf {
  char *s;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, int frame_text) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    /* ';' separates frames and a newline ends the record: neither may
    ** appear inside a frame's name. */
    if (frame_text && (c == ';' || c == '\n' || c == '\r')) c = c == ';' ? ':' : ' ';
    b->s[b->len++] = c;
  }
  b->s[b->len] = 0;
}

int ft_weight_parse(const char *s, ft_weight *w) {
  static const struct {
    const char *name;
    ft_weight w;
  } names[] = {{"allocations", FT_WEIGHT_ALLOCATIONS},
               {"bytes", FT_WEIGHT_BYTES},
               {"leaked", FT_WEIGHT_LEAKED},
               {"peak", FT_WEIGHT_PEAK}};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (!strcmp(s, names[i].name)) {
      *w = names[i].w;
      return 0;
    }
  return -1;
}

static int64_t weight_of(const ft_xstack *s, ft_weight w) {
  switch (w) {
  case FT_WEIGHT_ALLOCATIONS: return s->allocations;
  case FT_WEIGHT_BYTES: return s->bytes;
  case FT_WEIGHT_LEAKED: return s->leaked_bytes;
  case FT_WEIGHT_PEAK: return s->peak_bytes;
  }
  return 0;
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(((const line *)a)->text, ((const line *)b)->text);
}

/* The root frame naming the image of proc (several images selected). */
static void put_image_frame(sbuf *b, const ft_ximage *img, size_t nimg, int64_t proc) {
  for (size_t i = 0; i < nimg; i++)
    if (img[i].proc == proc) {
      char buf[512];
      const char *exe = img[i].exe ? img[i].exe : "?";
      const char *slash = strrchr(exe, '/');
      snprintf(buf, sizeof buf, "%s (pid %d)", slash ? slash + 1 : exe, img[i].pid);
      sb_put(b, buf, 1);
      sb_put(b, ";", 0);
      return;
    }
}

int ft_export_folded(ft_xtrace *x, ft_weight w, FILE *out, char *err, size_t errlen) {
  size_t nstacks, nimg;
  const ft_stack_info *stacks = ft_xtrace_stacks(x, &nstacks);
  const ft_xstack *st = ft_xtrace_stack_stats(x);
  const ft_ximage *img = ft_xtrace_images(x, &nimg);
  line *lines = NULL;
  size_t nlines = 0, cap = 0;
  sbuf b = {0};
  int ret = -1;
  for (size_t k = 0; k <= nstacks; k++) {
    int64_t v = weight_of(&st[k], w);
    if (v <= 0) continue;
    b.len = 0;
    sb_put(&b, "", 0);
    if (k == nstacks) {
      sb_put(&b, "(no stack)", 1);
    } else {
      if (nimg > 1) put_image_frame(&b, img, nimg, stacks[k].proc);
      size_t nf;
      const ft_xframe *f = ft_xtrace_frames(x, k, &nf);
      if (nf == 0) sb_put(&b, "(no stack)", 1);
      for (size_t i = nf; i-- > 0;) {
        char buf[1024];
        sb_put(&b, ft_xframe_name(x, stacks[k].proc, &f[i], buf, sizeof buf), 1);
        if (i) sb_put(&b, ";", 0);
      }
    }
    if (b.oom) goto oom;
    if (nlines == cap) {
      cap = cap ? cap * 2 : 256;
      line *n = realloc(lines, cap * sizeof *n);
      if (!n) goto oom;
      lines = n;
    }
    if (!(lines[nlines].text = strdup(b.s))) goto oom;
    lines[nlines++].weight = v;
  }
  qsort(lines, nlines, sizeof *lines, cmp_line);
  for (size_t i = 0; i < nlines;) {
    int64_t sum = 0;
    size_t j = i;
    for (; j < nlines && !strcmp(lines[j].text, lines[i].text); j++) sum += lines[j].weight;
    fprintf(out, "%s %" PRId64 "\n", lines[i].text, sum);
    i = j;
  }
  ret = 0;
  goto out;
oom:
  snprintf(err, errlen, "out of memory");
out:
  for (size_t i = 0; i < nlines; i++) free(lines[i].text);
  free(lines);
  free(b.s);
  return ret;
}
