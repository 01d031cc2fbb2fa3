/*
** ft_export_pprof.h — a heap profile in pprof's format: profile.proto
** (perftools.profiles.Profile), gzipped, as `go tool pprof` reads it.
*/
#ifndef FT_EXPORT_PPROF_H
#define FT_EXPORT_PPROF_H

#include <stdio.h>

#include "ft_export_data.h"

/* Write the selected images of x as one profile with the sample types of
** Go's heap profiles: alloc_objects/count, alloc_space/bytes (everything
** allocated), inuse_objects/count, inuse_space/bytes (live at the end of
** the run, i.e. never freed). One sample per call stack (leaf first, from
** the call site outward; inlined functions as extra lines of a location),
** labelled with its "pid". 0, or -1 with a message. */
int ft_export_pprof(ft_xtrace *x, FILE *out, char *err, size_t errlen);

#endif
