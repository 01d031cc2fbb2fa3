/*
** ft_procparse.h — parsers for the /proc text the shim spills raw
** (/proc/buddyinfo, /proc/self/statm, /proc/self/maps). Pure functions over
** bytes: no I/O, no allocation, so they are tested on fixtures from other
** kernels and architectures (tests/fixtures/).
*/
#ifndef FT_PROCPARSE_H
#define FT_PROCPARSE_H

#include <stddef.h>
#include <stdint.h>

#define FT_MAX_ORDERS 32   /* more than any kernel prints (x86_64: 11, arm64 64K pages: 14) */
#define FT_ZONE_NAME_MAX 32

typedef struct ft_buddy_row {
  int node;                          /* "Node N," */
  char zone[FT_ZONE_NAME_MAX];       /* "DMA", "DMA32", "Normal", "Movable", ... */
  int norders;                       /* how many counts the line had */
  uint64_t free_blocks[FT_MAX_ORDERS];
} ft_buddy_row;

/* Parse /proc/buddyinfo text (len bytes, need not be NUL-terminated) into
** rows[0..max_rows). Returns the number of rows parsed (lines beyond max_rows
** are counted but not stored), or -1 when a line is malformed. */
int ft_parse_buddyinfo(const char *text, size_t len, ft_buddy_row *rows, int max_rows);

/* Parse /proc/<pid>/statm: "size resident shared text lib data dt" in pages.
** Returns 0 and fills *size_pages and *resident_pages, or -1 if malformed. */
int ft_parse_statm(const char *text, size_t len, uint64_t *size_pages, uint64_t *resident_pages);

typedef struct ft_map_entry {
  uint64_t start, end, offset;
  char perms[5];        /* "r-xp", NUL-terminated */
  uint64_t inode;
  const char *path;     /* points into the parsed line; not NUL-terminated */
  size_t path_len;      /* 0 for anonymous mappings */
} ft_map_entry;

/* Parse one line of /proc/<pid>/maps (without the newline). Returns 0, or -1
** when the line is malformed. Paths with spaces and " (deleted)" are kept. */
int ft_parse_maps_line(const char *line, size_t len, ft_map_entry *out);

#endif
