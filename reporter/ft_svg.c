/*
** ft_svg.c — SVG primitives and chart shapes of the HTML report (see
** ft_svg.h). Coordinates are written with one decimal: charts are drawn in
** a viewBox of about 1000 units, so a tenth of a unit is below a pixel and
** the file stays small.
*/
#include "ft_svg.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ---- escaping -------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  size_t n;
  unsigned min;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) n = 2, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) n = 3, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, min = 0x10000;
  else return 0;
  unsigned cp = c & (0x7f >> n);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3f);
  }
  /* Overlong forms, surrogates and values past U+10FFFF are not text. */
  if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  return n;
}

void ft_html_esc_trunc(FILE *out, const char *s, size_t maxchars) {
  if (!s) return;
  const unsigned char *p = (const unsigned char *)s;
  size_t chars = 0;
  while (*p) {
    if (chars == maxchars) {
      fputs("…", out);
      return;
    }
    size_t n = utf8_len(p);
    if (n == 0) {
      fputs("\xef\xbf\xbd", out); /* U+FFFD */
      p++;
    } else if (n > 1) {
      fwrite(p, 1, n, out);
      p += n;
    } else {
      switch (*p) {
      case '&': fputs("&amp;", out); break;
      case '<': fputs("&lt;", out); break;
      case '>': fputs("&gt;", out); break;
      case '"': fputs("&quot;", out); break;
      case '\'': fputs("&#39;", out); break;
      default: fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
      }
      p++;
    }
    chars++;
  }
}

void ft_html_esc(FILE *out, const char *s) { ft_html_esc_trunc(out, s, SIZE_MAX); }

/* ---- the plot frame ----------------------------------------------------------- */

void ft_svg_begin(ft_svg_plot *p, const char *cls, const char *label) {
  if (!(p->x1 > p->x0)) p->x1 = p->x0 + 1;
  if (!(p->y1 > p->y0)) p->y1 = p->y0 + 1;
  fprintf(p->out, "<svg class=\"%s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", cls, p->width, p->height);
  ft_html_esc(p->out, label);
  fputs("\"><title>", p->out);
  ft_html_esc(p->out, label);
  fputs("</title>\n", p->out);
}

void ft_svg_end(const ft_svg_plot *p) { fputs("</svg>\n", p->out); }

double ft_svg_x(const ft_svg_plot *p, double x) {
  double w = p->width - p->left - p->right;
  double v = p->left + (x - p->x0) / (p->x1 - p->x0) * w;
  return fmin(fmax(v, p->left), p->width - p->right);
}

double ft_svg_y(const ft_svg_plot *p, double y) {
  double h = p->height - p->top - p->bottom;
  double v = p->height - p->bottom - (y - p->y0) / (p->y1 - p->y0) * h;
  return fmin(fmax(v, p->top), p->height - p->bottom);
}

/* ---- axes --------------------------------------------------------------------- */

/* The scale of unit u that shows the largest value m in at most 3 integer
** digits, and its suffix. */
static double unit_scale(double m, ft_svg_unit u, const char **suffix) {
  static const char *const ns[] = {" ns", " µs", " ms", " s"};
  static const char *const by[] = {" B", " KiB", " MiB", " GiB", " TiB"};
  static const char *const si[] = {"", "k", "M", "G", "T"};
  const char *const *names = u == FT_SVG_NS ? ns : u == FT_SVG_BYTES ? by : si;
  int max = u == FT_SVG_NS ? 3 : 4;
  double base = u == FT_SVG_BYTES ? 1024 : 1000, scale = 1;
  int k = 0;
  while (k < max && fabs(m) >= base * scale) scale *= base, k++;
  *suffix = names[k];
  return scale;
}

/* A 1-2-5 step that cuts range into about n parts. */
static double nice_step(double range, int n) {
  double raw = range / n;
  double mag = pow(10, floor(log10(raw)));
  double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

const char *ft_svg_tick_label(char *buf, size_t cap, double v, double step, ft_svg_unit u) {
  const char *suffix;
  double scale = unit_scale(fmax(fabs(v), step), u, &suffix);
  double s = step / scale;
  int decimals = s >= 1 ? 0 : s >= 0.1 ? 1 : 2;
  snprintf(buf, cap, "%.*f%s", decimals, v / scale, suffix);
  return buf;
}

/* Ticks of [lo, hi] in unit u: the step in data units, on the unit's scale
** (so 1 MiB steps, not 1,000,000 bytes). */
static double axis_step(double lo, double hi, ft_svg_unit u, int n) {
  const char *suffix;
  double scale = unit_scale(fmax(fabs(lo), fabs(hi)), u, &suffix);
  return nice_step((hi - lo) / scale, n) * scale;
}

void ft_svg_axes(const ft_svg_plot *p, ft_svg_unit xu, ft_svg_unit yu, const char *xtitle, const char *ytitle) {
  FILE *o = p->out;
  char buf[64];
  double l = p->left, r = p->width - p->right, t = p->top, b = p->height - p->bottom;
  fputs("<g class=\"axis\">", o);
  double ys = axis_step(p->y0, p->y1, yu, 4);
  for (double v = ceil(p->y0 / ys) * ys; yu != FT_SVG_NONE && v <= p->y1 + ys * 1e-9; v += ys) {
    double y = ft_svg_y(p, v);
    fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", l, y, r, y);
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", l - 4, y + 3.5,
            ft_svg_tick_label(buf, sizeof buf, v, ys, yu));
  }
  double xs = axis_step(p->x0, p->x1, xu, 8);
  for (double v = ceil(p->x0 / xs) * xs; xu != FT_SVG_NONE && v <= p->x1 + xs * 1e-9; v += xs) {
    double x = ft_svg_x(p, v);
    fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, b, x, b + 4);
    /* A label at the right edge would be cut off: end it at the tick. */
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>", x, b + 15, x > r - 24 ? "end" : "middle",
            ft_svg_tick_label(buf, sizeof buf, v, xs, xu));
  }
  fprintf(o, "<path class=\"frame\" d=\"M%.1f %.1fV%.1fH%.1f\"/>", l, t, b, r);
  if (xtitle) {
    /* Under the tick labels, right-aligned: the top of the plot is where
    ** the marks put their labels. */
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", r, fmin(b + 27, p->height - 2));
    ft_html_esc(o, xtitle);
    fputs("</text>", o);
  }
  if (ytitle) {
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">", l + 4, t + 10);
    ft_html_esc(o, ytitle);
    fputs("</text>", o);
  }
  fputs("</g>\n", o);
}

/* ---- shapes ---------------------------------------------------------------------- */

void ft_svg_line(const ft_svg_plot *p, const double *x, const double *y, size_t n, int step, const char *cls) {
  FILE *o = p->out;
  int open = 0, pen = 0;
  for (size_t i = 0; i < n; i++) {
    if (isnan(y[i])) {
      pen = 0;
      continue;
    }
    if (!open) {
      fprintf(o, "<path class=\"%s\" d=\"", cls);
      open = 1;
    }
    double X = ft_svg_x(p, x[i]), Y = ft_svg_y(p, y[i]);
    if (!pen) fprintf(o, "M%.1f %.1f", X, Y);
    else if (step) fprintf(o, "H%.1fV%.1f", X, Y);
    else fprintf(o, "L%.1f %.1f", X, Y);
    pen = 1;
  }
  if (open) fputs("\"/>\n", o);
  /* A lone point would be invisible as a path: give it a dot. */
  if (n == 1 && !isnan(y[0]))
    fprintf(o, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"/>\n", cls, ft_svg_x(p, x[0]), ft_svg_y(p, y[0]));
}

void ft_svg_band(const ft_svg_plot *p, const double *x, const double *lo, const double *hi, size_t n,
                 const char *cls, const char *tip) {
  FILE *o = p->out;
  size_t i = 0;
  int any = 0;
  while (i < n) {
    /* One polygon per run of points where the band is open. */
    while (i < n && !(hi[i] > lo[i])) i++;
    size_t j = i;
    while (j < n && hi[j] > lo[j]) j++;
    if (j > i) {
      if (!any) {
        fprintf(o, "<g class=\"%s\">", cls);
        if (tip) {
          fputs("<title>", o);
          ft_html_esc(o, tip);
          fputs("</title>", o);
        }
        any = 1;
      }
      fputs("<path d=\"", o);
      /* A one-sample run still gets some width: a sliver around the point. */
      double pad = j - i == 1 ? (p->x1 - p->x0) * 0.002 : 0;
      for (size_t k = i; k < j; k++)
        fprintf(o, "%c%.1f %.1f", k == i ? 'M' : 'L', ft_svg_x(p, x[k] - (k == i ? pad : 0)), ft_svg_y(p, hi[k]));
      if (pad > 0) fprintf(o, "L%.1f %.1f", ft_svg_x(p, x[i] + pad), ft_svg_y(p, hi[i]));
      if (pad > 0) fprintf(o, "L%.1f %.1f", ft_svg_x(p, x[i] + pad), ft_svg_y(p, lo[i]));
      for (size_t k = j; k-- > i;)
        fprintf(o, "L%.1f %.1f", ft_svg_x(p, x[k] - (k == i ? pad : 0)), ft_svg_y(p, lo[k]));
      fputs("Z\"/>", o);
    }
    i = j;
  }
  if (any) fputs("</g>\n", o);
}

void ft_svg_vmark(const ft_svg_plot *p, double x, const char *cls, const char *label, const char *tip) {
  FILE *o = p->out;
  double X = ft_svg_x(p, x);
  fprintf(o, "<g class=\"%s\">", cls);
  if (tip) {
    fputs("<title>", o);
    ft_html_esc(o, tip);
    fputs("</title>", o);
  }
  fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", X, p->top, X, p->height - p->bottom);
  if (label) {
    /* Labels right of the mark, or left of it near the right edge. */
    int left = X > p->left + (p->width - p->left - p->right) * 0.8;
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", left ? X - 3 : X + 3, p->top + 10, left ? "end" : "start");
    ft_html_esc(o, label);
    fputs("</text>", o);
  }
  fputs("</g>\n", o);
}

void ft_svg_vspan(const ft_svg_plot *p, double x0, double x1, const char *cls, const char *label, const char *tip) {
  FILE *o = p->out;
  double X0 = ft_svg_x(p, x0), X1 = ft_svg_x(p, x1);
  if (!(X1 > X0)) return; /* empty, reversed or outside the plot after clamping */
  fprintf(o, "<g class=\"%s\">", cls);
  if (tip) {
    fputs("<title>", o);
    ft_html_esc(o, tip);
    fputs("</title>", o);
  }
  /* At least a pixel wide: a pause of a few microseconds in a run of
  ** minutes is still a pause. */
  fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>", X0, p->top, fmax(X1 - X0, 1.0),
          p->height - p->bottom - p->top);
  /* A label only where it can be read: wider than about four characters. */
  if (label && X1 - X0 >= 28) {
    fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">", X0 + 3, p->height - p->bottom - 4);
    ft_html_esc(o, label);
    fputs("</text>", o);
  }
  fputs("</g>\n", o);
}

void ft_svg_stack(const ft_svg_plot *p, const double *edges, size_t n, const double *v, int nseries,
                  const char *(*colour)(int s, int nseries, char *buf, size_t cap), const char *const *tips) {
  FILE *o = p->out;
  /* Running bottom of the stack per column; columns of NaN are skipped. */
  double base[n ? n : 1];
  for (size_t i = 0; i < n; i++) base[i] = 0;
  for (int s = 0; s < nseries; s++) {
    int any = 0;
    for (size_t i = 0; i < n; i++) any |= v[(size_t)s * n + i] > 0;
    if (!any) continue;
    char c[64];
    fprintf(o, "<path fill=\"%s\"", colour(s, nseries, c, sizeof c));
    fputs(" d=\"", o);
    /* The top edge left to right, then the bottom edge back, as steps. */
    size_t i = 0;
    while (i < n) {
      while (i < n && isnan(v[(size_t)s * n + i])) i++;
      size_t j = i;
      while (j < n && !isnan(v[(size_t)s * n + j])) j++;
      if (j > i) {
        for (size_t k = i; k < j; k++) {
          double top = base[k] + v[(size_t)s * n + k];
          fprintf(o, "%c%.1f %.1fH%.1f", k == i ? 'M' : 'L', ft_svg_x(p, edges[k]), ft_svg_y(p, top), ft_svg_x(p, edges[k + 1]));
        }
        for (size_t k = j; k-- > i;)
          fprintf(o, "L%.1f %.1fH%.1f", ft_svg_x(p, edges[k + 1]), ft_svg_y(p, base[k]), ft_svg_x(p, edges[k]));
        fputs("Z", o);
      }
      i = j;
    }
    fputs("\">", o);
    if (tips && tips[s]) {
      fputs("<title>", o);
      ft_html_esc(o, tips[s]);
      fputs("</title>", o);
    }
    fputs("</path>\n", o);
    for (size_t k = 0; k < n; k++)
      if (!isnan(v[(size_t)s * n + k])) base[k] += v[(size_t)s * n + k];
  }
}

const char *ft_svg_heat_colour(double v, char *buf, size_t cap) {
  v = fmin(fmax(v, 0), 1);
  /* Light yellow through orange to dark red: readable in grey print too,
  ** since lightness falls monotonically with the value. */
  snprintf(buf, cap, "hsl(%.0f,85%%,%.0f%%)", 55 - 55 * v, 94 - 64 * v);
  return buf;
}

void ft_svg_heat(const ft_svg_plot *p, const double *edges, size_t n, const double *v, int nrows, int levels,
                 const char *(*row_tip)(int r, char *buf, size_t cap)) {
  FILE *o = p->out;
  assert(levels > 0);
  for (int r = 0; r < nrows; r++) {
    char tip[256];
    fputs("<g>", o);
    if (row_tip) {
      fputs("<title>", o);
      ft_html_esc(o, row_tip(r, tip, sizeof tip));
      fputs("</title>", o);
    }
    double y0 = ft_svg_y(p, r + 1), y1 = ft_svg_y(p, r);
    size_t i = 0;
    while (i < n) {
      double a = v[(size_t)r * n + i];
      if (a < 0) {
        i++;
        continue;
      }
      int q = (int)lround(a * levels);
      size_t j = i + 1;
      while (j < n && v[(size_t)r * n + j] >= 0 && (int)lround(v[(size_t)r * n + j] * levels) == q) j++;
      char c[64];
      double x0 = ft_svg_x(p, edges[i]), x1 = ft_svg_x(p, edges[j]);
      fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", x0, y0, fmax(x1 - x0, 0.5),
              y1 - y0, ft_svg_heat_colour((double)q / levels, c, sizeof c));
      i = j;
    }
    fputs("</g>\n", o);
  }
}

/* ---- small inline charts ------------------------------------------------------------ */

void ft_svg_spark(FILE *out, const double *v, size_t n, double w, double h, const char *tip) {
  double max = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] > max) max = v[i];
  fprintf(out, "<svg class=\"spark\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\"><title>", w, h, w, h);
  ft_html_esc(out, tip);
  fputs("</title>", out);
  if (n > 0 && max > 0) {
    /* Filled under the line, as steps: each value is a window's rate. */
    double cw = w / (double)n;
    fprintf(out, "<path d=\"M0 %.1f", h);
    for (size_t i = 0; i < n; i++) {
      double y = isnan(v[i]) ? h : h - 1 - v[i] / max * (h - 2);
      fprintf(out, "V%.1fH%.1f", y, cw * (double)(i + 1));
    }
    fprintf(out, "V%.1fZ\"/>", h);
  }
  fputs("</svg>", out);
}

void ft_svg_bars(FILE *out, const double *v, size_t n, double w, double h, const char *const *tips, const char *tip) {
  double max = 0;
  for (size_t i = 0; i < n; i++)
    if (v[i] > max) max = v[i];
  fprintf(out, "<svg class=\"bars\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\"><title>", w, h, w, h);
  ft_html_esc(out, tip);
  fputs("</title>", out);
  double cw = n ? w / (double)n : w;
  for (size_t i = 0; i < n && max > 0; i++) {
    if (!(v[i] > 0)) continue;
    /* At least a pixel: a bucket with anything in it must show. */
    double bh = fmax(v[i] / max * (h - 1), 1);
    fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">", cw * (double)i, h - bh, fmax(cw - 1, 0.5), bh);
    if (tips && tips[i]) {
      fputs("<title>", out);
      ft_html_esc(out, tips[i]);
      fputs("</title>", out);
    }
    fputs("</rect>", out);
  }
  fputs("</svg>", out);
}
