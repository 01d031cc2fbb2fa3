/*
** ft_inltarget.c — helper run by unit_symbolize, built -O2 -g: allocation
** calls inside always_inline functions, two levels deep (ft_inl_mid, then
** ft_inl_leaf from ft_inltarget.h), one level, none, and (GCC) one level in
** a nested function, whose DIE is inside main's, each reporting the symbols
** row and inline_frames rows it expects (format in ft_inltarget.h).
*/
#include "ft_inltarget.h"

static inline __attribute__((always_inline)) void *ft_inl_mid(size_t n, ft_inl_site *s) {
  void *p = ft_inl_leaf(n + 1, s); FT_INL_NOTE(s, "ft_inl_mid");
  return p;
}

int main(void) {
  ft_inl_site sites[4];
  int n = 3;
  memset(sites, 0, sizeof sites);
  void *a = ft_inl_mid(8, &sites[0]); FT_INL_NOTE(&sites[0], "main");
  void *b = ft_inl_leaf(16, &sites[1]); FT_INL_NOTE(&sites[1], "main");
  void *c = ft_inl_alloc(24, &sites[2]); FT_INL_NOTE(&sites[2], "main");
  void *d = NULL;
#if defined(__GNUC__) && !defined(__clang__)
  /* Its symbol is ft_inl_nested.0 or a clone of it: "*" asks for a prefix. */
  FT_INL_OPAQUE void *ft_inl_nested(size_t k) {
    void *p = ft_inl_leaf(k, &sites[3]); FT_INL_NOTE(&sites[3], "ft_inl_nested*");
    return p;
  }
  d = ft_inl_nested(32);
  n = 4;
#endif
  int rc = ft_inl_report(sites, n);
  free(a);
  free(b);
  free(c);
  free(d);
  return rc;
}
