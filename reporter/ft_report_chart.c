/*
** ft_report_chart.c — the heap over time in the terminal, as ms_print draws
** massif's: one column per FT_CHART_SLICES slice of the peak process's run,
** ':' up to the slice's maximum live heap, '#' for the column of the peak,
** and '*' at the height of the slice's largest RSS sample, so the gap
** between what the program holds and what it costs is visible. Plus the
** bars of the histograms.
*/
#include <math.h>
#include <string.h>

#include "ft_fmt.h"
#include "ft_report.h"

const char *ft_report_bar(char *buf, size_t cap, double value, double max, int width) {
  int n = 0;
  if (max > 0 && value > 0) {
    n = (int)lround(value / max * width);
    if (n < 1) n = 1; /* something is there: show it */
  }
  if (n > width) n = width;
  if ((size_t)n >= cap) n = (int)cap - 1;
  memset(buf, '#', (size_t)n);
  buf[n] = 0;
  return buf;
}

/* Row (1..rows) a value reaches on a scale of max, 0 for nothing. */
static int height(int64_t v, double max, int rows) {
  if (v <= 0 || max <= 0) return 0;
  int h = (int)lround((double)v / max * rows);
  return h < 1 ? 1 : h > rows ? rows : h;
}

void ft_report_chart(const ft_report *r, FILE *out, int rows, const char *indent) {
  if (r->nchart == 0 || !r->peak_proc) return;
  const ft_proc_info *p = r->peak_proc;
  double max = 0;
  for (int i = 0; i < r->nchart; i++) {
    if ((double)r->chart[i].live_bytes > max) max = (double)r->chart[i].live_bytes;
    if ((double)r->chart[i].rss_bytes > max) max = (double)r->chart[i].rss_bytes;
  }
  int peak_col = -1;
  for (int i = 0; i < r->nchart; i++)
    if (p->peak_live_ns >= r->chart[i].t0_ns && p->peak_live_ns < r->chart[i].t1_ns) peak_col = i;
  char top[FT_FMT_CAP], t0[FT_FMT_CAP], t1[FT_FMT_CAP], pk[FT_FMT_CAP], pt[FT_FMT_CAP], rs[FT_FMT_CAP];
  ft_fmt_bytes(top, sizeof top, max);
  int lw = (int)ft_utf8_width(top);
  for (int y = rows; y >= 1; y--) {
    /* The scale's top is labelled; the rows below are fractions of it. */
    if (y == rows) fprintf(out, "%s%s ^", indent, top);
    else fprintf(out, "%s%*s |", indent, lw, "");
    char line[FT_CHART_SLICES + 1];
    int len = 0;
    for (int i = 0; i < r->nchart; i++) {
      int h = height(r->chart[i].live_bytes, max, rows), s = height(r->chart[i].rss_bytes, max, rows);
      char c = ' ';
      if (h >= y) c = i == peak_col ? '#' : ':';
      if (s == y) c = '*';
      line[i] = c;
      if (c != ' ') len = i + 1;
    }
    line[len] = 0;
    fprintf(out, "%s\n", line);
  }
  fprintf(out, "%s%*s +", indent, lw, "0");
  for (int i = 0; i < r->nchart; i++) fputc('-', out);
  fputs(">\n", out);
  ft_fmt_duration(t0, sizeof t0, (double)r->chart[0].t0_ns);
  ft_fmt_duration(t1, sizeof t1, (double)r->chart[r->nchart - 1].t1_ns);
  int gap = r->nchart - (int)ft_utf8_width(t0) - (int)ft_utf8_width(t1);
  fprintf(out, "%s%*s  %s%*s%s\n", indent, lw, "", t0, gap > 1 ? gap : 1, "", t1);
  fprintf(out, "%s%*s  ':' live heap of pid %lld, '#' its peak (%s at %s)", indent, lw, "", (long long)p->pid,
          ft_fmt_bytes(pk, sizeof pk, (double)p->peak_live_bytes), ft_fmt_duration(pt, sizeof pt, (double)p->peak_live_ns));
  if (p->peak_rss_bytes >= 0) fprintf(out, ", '*' RSS (peak %s)", ft_fmt_bytes(rs, sizeof rs, (double)p->peak_rss_bytes));
  fputc('\n', out);
}
