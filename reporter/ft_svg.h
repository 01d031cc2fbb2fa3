/*
** ft_svg.h — the small SVG toolkit of `fragtrace report --format html`:
** HTML/XML text escaping, a plot frame that maps data to a viewBox, axes
** with "nice" ticks in human units, and the few chart shapes the report
** draws (lines, a shaded band, stacked areas, a heat map, vertical marks and spans,
** sparklines and histogram bars).
**
** Everything is written straight to a FILE as compact SVG elements (one
** decimal per coordinate) so a chart costs a few KB; colours of the named
** series come from CSS classes of the page (ft_report_html.c), so the same
** SVG prints well and follows the page's palette. No allocation here.
*/
#ifndef FT_SVG_H
#define FT_SVG_H

#include <stddef.h>
#include <stdio.h>

/* Write s escaped for HTML text and attribute values (& < > " '); bytes
** that are not valid UTF-8 become U+FFFD, control characters a space. */
void ft_html_esc(FILE *out, const char *s);

/* Like ft_html_esc but at most maxchars code points; a longer s ends in
** "…". */
void ft_html_esc_trunc(FILE *out, const char *s, size_t maxchars);

/* Units of an axis: how ticks are chosen and labelled. */
typedef enum ft_svg_unit {
  FT_SVG_NS,     /* a time in ns: ticks on 1-2-5 steps of ns, µs, ms, s */
  FT_SVG_BYTES,  /* bytes: 1-2-5 steps of B, KiB, MiB, GiB */
  FT_SVG_COUNT,  /* a plain number: 1-2-5 steps, SI suffix */
  FT_SVG_NONE,   /* no ticks (the caller labels the axis itself) */
} ft_svg_unit;

/* A chart: a viewBox of width x height with a plot area inside the
** margins, showing data x0..x1 (left to right) and y0..y1 (bottom to top). */
typedef struct ft_svg_plot {
  FILE *out;
  double width, height;
  double left, right, top, bottom;  /* margins */
  double x0, x1, y0, y1;            /* data ranges; x1 > x0 and y1 > y0 (ft_svg_begin fixes empty ones) */
} ft_svg_plot;

/* Open the <svg> element (class cls, role img, aria-label label) with a
** <title> of label. Widens empty data ranges so nothing divides by zero. */
void ft_svg_begin(ft_svg_plot *p, const char *cls, const char *label);
void ft_svg_end(const ft_svg_plot *p);

/* Data to viewBox coordinates (clamped to the plot area). */
double ft_svg_x(const ft_svg_plot *p, double x);
double ft_svg_y(const ft_svg_plot *p, double y);

/* Grid lines, ticks and tick labels of both axes, and the axis titles
** (NULL: none). */
void ft_svg_axes(const ft_svg_plot *p, ft_svg_unit xu, ft_svg_unit yu, const char *xtitle, const char *ytitle);

/* A line through the points (x[i], y[i]); a NaN y breaks it. step: hold
** each value until the next x (a value that is true over an interval).
** cls names its CSS class. */
void ft_svg_line(const ft_svg_plot *p, const double *x, const double *y, size_t n, int step, const char *cls);

/* The area between lo[i] and hi[i] at x[i] where hi > lo (a NaN in either
** breaks it), in class cls, with a <title> tip. */
void ft_svg_band(const ft_svg_plot *p, const double *x, const double *lo, const double *hi, size_t n,
                 const char *cls, const char *tip);

/* A vertical line at data x across the plot with a short label at its top
** (NULL: none) and a <title> tip (NULL: none), in class cls. */
void ft_svg_vmark(const ft_svg_plot *p, double x, const char *cls, const char *label, const char *tip);

/* A vertical span over the whole plot height from data x0 to x1 (clamped
** to the plot; nothing when it is empty there), in class cls, with a
** <title> tip (NULL: none) and a short label at its top left (NULL: none). */
void ft_svg_vspan(const ft_svg_plot *p, double x0, double x1, const char *cls, const char *label, const char *tip);

/* Stacked areas: series s (0 at the bottom) has values v[s * n + i] at the
** column [edges[i], edges[i+1]); a NaN value leaves the column out.
** colour(s) gives its fill, tips[s] its <title>. */
void ft_svg_stack(const ft_svg_plot *p, const double *edges, size_t n, const double *v, int nseries,
                  const char *(*colour)(int s, int nseries, char *buf, size_t cap), const char *const *tips);

/* A heat map: row r (0 at the bottom), column i spans [edges[i],
** edges[i+1]) and one row height; value v[r * n + i] in 0..1 (negative:
** no data, not drawn). Equal neighbouring cells (after quantising to
** levels steps) are merged into one rect, which keeps big maps small.
** row_tip(r) is the <title> of a row's cells. */
void ft_svg_heat(const ft_svg_plot *p, const double *edges, size_t n, const double *v, int nrows, int levels,
                 const char *(*row_tip)(int r, char *buf, size_t cap));

/* The colour of a heat value 0..1 (white to dark red). */
const char *ft_svg_heat_colour(double v, char *buf, size_t cap);

/* A sparkline of v[0..n) (NaN: no data) as a small inline <svg> of w x h
** CSS pixels, with a <title> tip. Scaled to its own maximum. */
void ft_svg_spark(FILE *out, const double *v, size_t n, double w, double h, const char *tip);

/* Bars of v[0..n) (histogram buckets) as a small inline <svg> of w x h,
** each with its own <title> tips[i] (NULL: none), and a <title> tip for
** the whole. */
void ft_svg_bars(FILE *out, const double *v, size_t n, double w, double h, const char *const *tips, const char *tip);

/* A tick label of value v in unit u with the given step (its precision). */
const char *ft_svg_tick_label(char *buf, size_t cap, double v, double step, ft_svg_unit u);

#endif
