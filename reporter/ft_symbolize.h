/*
** ft_symbolize.h — offline symbolization of a trace with libdw (elfutils).
** For every process image in the trace, builds a Dwfl from its `mappings`
** rows and resolves each distinct IP in its stacks to function (demangled;
** the innermost inlined one in inlined code), file, line and module, writing
** the `symbols` table, the enclosing levels of inlined code to
** `inline_frames`, and mappings.build_id.
*/
#ifndef FT_SYMBOLIZE_H
#define FT_SYMBOLIZE_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct ft_symbolize_stats {
  long ips;          /* distinct (proc, ip) pairs looked up */
  long resolved;     /* of those, with a function name */
  long with_line;    /* of those, with file:line */
  long inlined;      /* of those, in inlined code (with inline_frames rows) */
} ft_symbolize_stats;

/* Symbolize every (proc, ip) of stack_frames not yet in `symbols`. Runs in
** its own transaction. Returns 0, or -1 with a one-line message in err.
** Every pair looked up gets a symbols row (NULLs where unknown), plus its
** inline_frames rows, so a later run only looks at new IPs; st and err may
** be NULL. */
int ft_symbolize_trace(sqlite3 *db, ft_symbolize_stats *st, char *err, size_t errlen);

/* Demangle a C++ (Itanium ABI, "_Z...") symbol with libstdc++'s
** __cxa_demangle, loaded with dlopen so the CLI does not link libstdc++.
** Returns a malloc'd string the caller frees, or NULL when name is not
** mangled, cannot be demangled, or libstdc++ is not installed. */
char *ft_demangle(const char *name);

#endif
