/*
** ft_import_sys.h — the importer's part for the sampler's system and process
** chunks (issue 4): /proc/meminfo, vmstat, pagetypeinfo, slabinfo,
** smaps_rollup, mallinfo2 and the once-per-source notes, into the tables of
** the "System and process samples" block of schema/v1.sql.
*/
#ifndef FT_IMPORT_SYS_H
#define FT_IMPORT_SYS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "ft_spill.h"

/* Write the sample tables of one image (spill sp, already written as
** processes row proc) inside the caller's transaction. A snapshot the
** parsers reject is skipped and counted in sample_sources ('malformed').
** Returns 0, or -1 with a one-line message in err. */
int ft_import_sys_image(sqlite3 *db, int64_t proc, const ft_spill *sp, char *err, size_t errlen);

/* 1 when a /proc/vmstat counter is one we keep (see schema/README.md). */
int ft_import_sys_vmstat_kept(const char *key, size_t len);

#endif
