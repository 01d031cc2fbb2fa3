/*
** ft_export_folded.h — folded stacks ("outer;...;inner COUNT" lines), the
** input of flamegraph.pl, inferno and speedscope.
*/
#ifndef FT_EXPORT_FOLDED_H
#define FT_EXPORT_FOLDED_H

#include <stdio.h>

#include "ft_export_data.h"

/* What a stack's line counts. */
typedef enum ft_weight {
  FT_WEIGHT_ALLOCATIONS, /* allocations made */
  FT_WEIGHT_BYTES,       /* bytes allocated */
  FT_WEIGHT_LEAKED,      /* bytes never freed */
  FT_WEIGHT_PEAK,        /* bytes live at the heap peak (x opened with FT_X_PEAK) */
} ft_weight;

/* Parse "allocations", "bytes", "leaked" or "peak"; 0, or -1 if unknown. */
int ft_weight_parse(const char *s, ft_weight *w);

/* Write one line per distinct folded stack with a nonzero weight, sorted
** by stack text. Frames run from the outermost to the call site (the
** allocation wrappers below it left out), inlined functions as frames of
** their own; with several images selected, each stack starts with a frame
** "EXE (pid N)". 0, or -1 with a message (out of memory, write error). */
int ft_export_folded(ft_xtrace *x, ft_weight w, FILE *out, char *err, size_t errlen);

#endif
