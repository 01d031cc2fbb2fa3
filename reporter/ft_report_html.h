/*
** ft_report_html.h — `fragtrace report --format html`: one self-contained
** HTML file (inline CSS and SVG, no script, no external request) that a
** user opens from a CI artifact or copies from a server:
**   ft_report_html.c         the page: styles, summary, findings and advice,
**                            gates, section order
**   ft_report_html_charts.c  a timeline per process (live heap, RSS, Pss, the
**                            peak, the fragmentation gap, paused recording,
**                            flushes, the stop) and the host charts (free
**                            memory per buddy order stacked, the unusable
**                            free space index as a heat map, compaction and
**                            THP fallback events)
**   ft_report_html_sites.c   call-site tables (churn, leaks, peak, pinning)
**                            with rate sparklines, lifetime histograms and
**                            whole stacks; the size histogram
**   ft_report_html_flame.c   the icicle graph of allocation stacks, one per
**                            weight (allocations, bytes, leaked, peak),
**                            switched by radio buttons in CSS
**   ft_svg.c                 the SVG primitives they all draw with
** Charts read the trace's sample and summary tables directly (small: at most
** a few thousand rows each), so the page's size does not grow with the
** number of allocations.
*/
#ifndef FT_REPORT_HTML_H
#define FT_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "ft_report.h"

/* The whole page for the loaded report r. 0, or -1 with a one-line
** message in err (the flame graph could not read the trace). */
int ft_report_html(const ft_report *r, FILE *out, char *err, size_t errlen);

/* ft_report_html_charts.c: the timeline section: one chart per process,
** the largest heap peak first, at most FT_HTML_MAX_TIMELINES. */
#define FT_HTML_MAX_TIMELINES 8
void ft_html_timeline(const ft_report *r, FILE *out);

/* ft_report_html_charts.c: the host section (buddyinfo charts and events). */
void ft_html_system(const ft_report *r, FILE *out);

/* ft_report_html_sites.c: the call-site sections r's options select. */
void ft_html_sites(const ft_report *r, FILE *out);

/* ft_report_html_flame.c: the flame graph section. 0, or -1 with err. */
int ft_html_flame(const ft_report *r, FILE *out, char *err, size_t errlen);

/* Shared by the page's parts: a section heading with an anchor id. */
void ft_html_heading(FILE *out, const char *id, const char *title);

/* A paragraph of escaped text in class cls (NULL: none). */
void ft_html_para(FILE *out, const char *cls, const char *text);

#endif
