/*
** ft_procparse.h — parsers for the /proc text the shim spills raw
** (/proc/buddyinfo, /proc/self/statm, /proc/self/maps, and the sampler's
** /proc/meminfo, /proc/vmstat, /proc/pagetypeinfo, /proc/slabinfo and
** /proc/self/smaps_rollup). Pure functions over
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

/* ---- "key value" files: /proc/meminfo, /proc/vmstat ---------------------- */

typedef struct ft_kv {
  const char *key;  /* points into the text; not NUL-terminated */
  size_t key_len;
  uint64_t value;   /* as printed, times 1024 when the line ends in " kB" */
  int kb;           /* 1 when the line had the kB unit */
} ft_kv;

/* Next line of /proc/meminfo at *off ("Key:   N kB", or "Key:   N" for
** counts such as HugePages_Total; keys may hold "(", ")" and "_"), as
** fs/proc/meminfo.c prints them. Blank lines are skipped. Returns 1 and
** fills *kv, 0 at the end, or -1 when the line is malformed (*off is then
** past it, so a caller may go on). */
int ft_meminfo_next(const char *text, size_t len, size_t *off, ft_kv *kv);

/* Next "name N" line of /proc/vmstat at *off; returns as ft_meminfo_next. */
int ft_vmstat_next(const char *text, size_t len, size_t *off, ft_kv *kv);

/* ---- /proc/self/smaps_rollup ---------------------------------------------- */

enum ft_smaps_field {
  FT_SMAPS_RSS, FT_SMAPS_PSS, FT_SMAPS_PSS_ANON, FT_SMAPS_PSS_FILE, FT_SMAPS_PSS_SHMEM,
  FT_SMAPS_SHARED_CLEAN, FT_SMAPS_SHARED_DIRTY, FT_SMAPS_PRIVATE_CLEAN, FT_SMAPS_PRIVATE_DIRTY,
  FT_SMAPS_REFERENCED, FT_SMAPS_ANONYMOUS, FT_SMAPS_LAZY_FREE, FT_SMAPS_ANON_HUGE_PAGES,
  FT_SMAPS_SHMEM_PMD_MAPPED, FT_SMAPS_FILE_PMD_MAPPED, FT_SMAPS_SHARED_HUGETLB, FT_SMAPS_PRIVATE_HUGETLB,
  FT_SMAPS_SWAP, FT_SMAPS_SWAP_PSS, FT_SMAPS_LOCKED,
  FT_SMAPS_NFIELDS
};

/* The kernel's name of each field ("Rss", "Pss_Anon", "AnonHugePages", ...). */
extern const char *const ft_smaps_names[FT_SMAPS_NFIELDS];

typedef struct ft_smaps {
  uint64_t bytes[FT_SMAPS_NFIELDS]; /* kB * 1024 */
  uint32_t present;                 /* bit f: the kernel printed field f */
} ft_smaps;

/* Parse smaps_rollup text (fs/proc/task_mmu.c show_smaps_rollup): the
** "[rollup]" range line, then "Field:  N kB" lines; fields we do not know
** (Pss_Dirty, KSM, ...) are ignored. Returns 0, or -1 when a line is
** malformed or there is no Rss line. */
int ft_parse_smaps_rollup(const char *text, size_t len, ft_smaps *out);

/* ---- /proc/pagetypeinfo --------------------------------------------------- */

#define FT_MAX_MIGRATE_TYPES 8   /* the kernel has at most 6 (MIGRATE_TYPES) */
#define FT_MIGRATE_NAME_MAX 24

enum { FT_PTI_FREE = 1, FT_PTI_BLOCKS = 2 };

typedef struct ft_pti_row {
  int kind;                      /* FT_PTI_FREE or FT_PTI_BLOCKS */
  int node;
  char zone[FT_ZONE_NAME_MAX];
  /* FT_PTI_FREE: "Node N, zone Z, type T" and free blocks per order */
  char type[FT_MIGRATE_NAME_MAX];
  int norders;
  uint64_t free_blocks[FT_MAX_ORDERS];
  uint32_t saturated;            /* bit o: printed as ">N" (the kernel stopped counting) */
  /* FT_PTI_BLOCKS: "Node N, zone Z" and pageblocks per migrate type */
  int ntypes;
  char types[FT_MAX_MIGRATE_TYPES][FT_MIGRATE_NAME_MAX]; /* from the section's header */
  uint64_t pageblocks[FT_MAX_MIGRATE_TYPES];
} ft_pti_row;

typedef struct ft_pti_iter {
  const char *text;
  size_t len, off;
  int section;                   /* 0 none yet, FT_PTI_FREE, FT_PTI_BLOCKS, -1 a section we skip */
  int pageblock_order;           /* "Page block order: N", -1 until seen */
  int ntypes;
  char types[FT_MAX_MIGRATE_TYPES][FT_MIGRATE_NAME_MAX];
} ft_pti_iter;

/* Start iterating /proc/pagetypeinfo text (mm/vmstat.c pagetypeinfo_show). */
void ft_pti_init(ft_pti_iter *it, const char *text, size_t len);

/* Next row of the free-pages or the number-of-blocks table (other tables,
** e.g. CONFIG_PAGE_OWNER's mixed blocks, are skipped). Returns 1 with *row,
** 0 at the end, -1 when the text is malformed (stop there). */
int ft_pti_next(ft_pti_iter *it, ft_pti_row *row);

/* ---- /proc/slabinfo -------------------------------------------------------- */

#define FT_SLAB_NAME_MAX 64

typedef struct ft_slab_row {
  char name[FT_SLAB_NAME_MAX];
  uint64_t active_objs, num_objs, objsize, objperslab, pagesperslab;
  uint64_t active_slabs, num_slabs;
} ft_slab_row;

/* Next cache line of /proc/slabinfo at *off (format 2.x, mm/slab_common.c:
** "name active num size objperslab pagesperslab : tunables l b s : slabdata
** active num sharedavail"). The version line and "#" lines are skipped.
** Returns 1 with *row, 0 at the end, -1 for a malformed line or another
** format version (*off is past the line). */
int ft_slabinfo_next(const char *text, size_t len, size_t *off, ft_slab_row *row);

#endif
