/*
** ft_export_massif.h — the live heap over time in valgrind massif's
** massif.out format, for ms_print and massif-visualizer.
*/
#ifndef FT_EXPORT_MASSIF_H
#define FT_EXPORT_MASSIF_H

#include <stdio.h>

#include "ft_export_data.h"

/* The time axis: wall-clock milliseconds, or bytes allocated so far
** (massif's --time-unit=B, readable for short runs); auto picks ms when
** the image ran at least FT_MASSIF_AUTO_MS_MIN_NS. */
typedef enum ft_massif_time { FT_MASSIF_TIME_AUTO, FT_MASSIF_TIME_MS, FT_MASSIF_TIME_BYTES } ft_massif_time;
#define FT_MASSIF_AUTO_MS_MIN_NS 1000000000LL

/* Write one process image of x as massif.out:
** snapshots at the instants of ft_xtrace_timeline, an empty one at time 0
** and one at the end; every 10th, the last and the peak detailed, with
** massif's heap tree (call site outward to main, 1% threshold). The image
** is the one with the highest peak among those selected. 0, or -1 with a
** message. */
int ft_export_massif(ft_xtrace *x, ft_massif_time unit, FILE *out, char *err, size_t errlen);

#endif
