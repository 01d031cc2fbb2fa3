/*
** ft_frag.h — the kernel's external fragmentation indices computed from one
** /proc/buddyinfo row, so no debugfs is needed (issue 4). Pure functions:
** no I/O, no allocation.
**
** The formulas are those of the kernel's mm/vmstat.c, integer arithmetic
** included (results are fixed point ×1000, truncating divisions):
**   fill_contig_page_info(zone, suitable_order, info):
**     free_pages           = Σ_o free[o] << o
**     free_blocks_total    = Σ_o free[o]
**     free_blocks_suitable = Σ_{o >= suitable_order} free[o] << (o - suitable_order)
**   unusable_free_index(order, info)          (debugfs unusable_index)
**     free_pages == 0 ? 1000
**                     : (free_pages - (free_blocks_suitable << order)) * 1000 / free_pages
**   __fragmentation_index(order, info)        (debugfs extfrag_index)
**     order beyond the orders printed  -> 0   (the kernel's WARN_ON_ONCE guard)
**     free_blocks_total == 0           -> 0
**     free_blocks_suitable > 0         -> -1000  ("the allocation would succeed")
**     else 1000 - (1000 + free_pages * 1000 / 2^order) / free_blocks_total
**   (the last can be negative for tiny zones, as in the kernel: one free
**   order-0 page and a request of order 1 gives 1000 - 1500 = -500).
** debugfs prints an index v as "%d.%03d" of v / 1000 and v % 1000:
** ft_frag_index_str reproduces that text exactly.
*/
#ifndef FT_FRAG_H
#define FT_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "ft_procparse.h" /* ft_buddy_row, FT_MAX_ORDERS */

/* The kernel's struct contig_page_info. */
typedef struct ft_contig_info {
  uint64_t free_pages;           /* free base pages in the zone */
  uint64_t free_blocks_total;    /* free blocks of any order */
  uint64_t free_blocks_suitable; /* free blocks of order >= the requested one, in units of that order */
} ft_contig_info;

#define FT_FRAG_SUCCEEDS (-1000) /* __fragmentation_index: a block of the order is free */

/* fill_contig_page_info over free[0..norders) (the counts of one buddyinfo
** line, norders as printed) for requests of suitable_order. */
void ft_frag_fill(const uint64_t *free_blocks, int norders, unsigned suitable_order, ft_contig_info *out);

/* unusable_free_index: 0..1000, the share (×1000) of free memory that cannot
** serve a request of 2^order pages; 1000 for a zone without free pages. */
int ft_frag_unusable_index(unsigned order, const ft_contig_info *info);

/* __fragmentation_index: -1000 when the request would succeed, else
** ~0 (failure from lack of memory) .. ~1000 (failure from fragmentation);
** 0 for a zone without free blocks. norders is the number of orders the
** zone has (the kernel refuses orders beyond them with 0). */
int ft_frag_index(unsigned order, int norders, const ft_contig_info *info);

/* Both indices of one buddyinfo row for requests of 2^order pages. */
int ft_frag_row_unusable(const ft_buddy_row *row, unsigned order);
int ft_frag_row_index(const ft_buddy_row *row, unsigned order);

/* Highest order with a free block, -1 when none (an empty zone). */
int ft_frag_largest_order(const uint64_t *free_blocks, int norders);

/* Largest free block in bytes: page_size << ft_frag_largest_order, 0 when none. */
uint64_t ft_frag_largest_block(const uint64_t *free_blocks, int norders, uint64_t page_size);

/* Free memory of the row in bytes: free_pages * page_size. */
uint64_t ft_frag_free_bytes(const uint64_t *free_blocks, int norders, uint64_t page_size);

/* Write index v as debugfs prints it ("%d.%03d", v / 1000, v % 1000: 0.571,
** 1.000, -1.000) into buf (at least 16 bytes). Returns buf. */
char *ft_frag_index_str(int v, char *buf, size_t len);

#endif
