/*
** ft_frag.c — the kernel's fragmentation indices from buddyinfo counts (see
** ft_frag.h for the formulas). The arithmetic mirrors mm/vmstat.c on a
** 64-bit kernel (unsigned long = 64 bits, div_u64 truncates), so a value
** computed here equals the one debugfs would print for the same counts.
*/
#include "ft_frag.h"

#include <assert.h>
#include <stdio.h>

void ft_frag_fill(const uint64_t *free_blocks, int norders, unsigned suitable_order, ft_contig_info *out) {
  assert(free_blocks || norders <= 0);
  out->free_pages = out->free_blocks_total = out->free_blocks_suitable = 0;
  for (int o = 0; o < norders && o < FT_MAX_ORDERS; o++) {
    uint64_t blocks = free_blocks[o];
    out->free_blocks_total += blocks;
    out->free_pages += blocks << o;
    if ((unsigned)o >= suitable_order) out->free_blocks_suitable += blocks << (o - (int)suitable_order);
  }
}

int ft_frag_unusable_index(unsigned order, const ft_contig_info *info) {
  /* No free memory is interpreted as all free memory is unusable (kernel). */
  if (info->free_pages == 0) return 1000;
  assert(order < 64);
  /* Suitable pages never exceed free pages: every suitable block is made of
  ** free pages, so the subtraction cannot wrap. */
  uint64_t usable = info->free_blocks_suitable << order;
  assert(usable <= info->free_pages);
  return (int)((info->free_pages - usable) * 1000u / info->free_pages);
}

int ft_frag_index(unsigned order, int norders, const ft_contig_info *info) {
  /* The kernel's WARN_ON_ONCE(order > MAX_PAGE_ORDER) guard: orders the
  ** zone does not have are answered with 0. */
  if (norders <= 0 || order >= (unsigned)norders) return 0;
  if (!info->free_blocks_total) return 0;
  /* Fragmentation index only makes sense when a request would fail. */
  if (info->free_blocks_suitable) return FT_FRAG_SUCCEEDS;
  uint64_t requested = UINT64_C(1) << order;
  uint64_t q = (1000u + info->free_pages * 1000u / requested) / info->free_blocks_total;
  /* The kernel computes 1000 - q in unsigned long and returns it as int:
  ** for tiny zones q > 1000 and the result is negative; do the same in
  ** signed arithmetic (q is at most 2000 there, no overflow). */
  return (int)(1000 - (int64_t)q);
}

int ft_frag_row_unusable(const ft_buddy_row *row, unsigned order) {
  ft_contig_info ci;
  ft_frag_fill(row->free_blocks, row->norders, order, &ci);
  return ft_frag_unusable_index(order, &ci);
}

int ft_frag_row_index(const ft_buddy_row *row, unsigned order) {
  ft_contig_info ci;
  ft_frag_fill(row->free_blocks, row->norders, order, &ci);
  return ft_frag_index(order, row->norders, &ci);
}

int ft_frag_largest_order(const uint64_t *free_blocks, int norders) {
  for (int o = (norders < FT_MAX_ORDERS ? norders : FT_MAX_ORDERS) - 1; o >= 0; o--)
    if (free_blocks[o]) return o;
  return -1;
}

uint64_t ft_frag_largest_block(const uint64_t *free_blocks, int norders, uint64_t page_size) {
  int o = ft_frag_largest_order(free_blocks, norders);
  return o < 0 ? 0 : page_size << o;
}

uint64_t ft_frag_free_bytes(const uint64_t *free_blocks, int norders, uint64_t page_size) {
  ft_contig_info ci;
  ft_frag_fill(free_blocks, norders, 0, &ci);
  return ci.free_pages * page_size;
}

char *ft_frag_index_str(int v, char *buf, size_t len) {
  /* Exactly the kernel's seq_printf(m, "%d.%03d ", index / 1000, index % 1000),
  ** C division truncating toward zero as in the kernel. */
  snprintf(buf, len, "%d.%03d", v / 1000, v % 1000);
  return buf;
}
