/*
** ft_inltarget_cxx.cpp — the C++ inline helper run by unit_symbolize, built
** -O2 -g: always_inline members of a class template in a namespace, inlined
** into a namespace function, must be named by their demangled linkage names
** (found through the abstract origin and the in-class declaration). Format
** in ft_inltarget.h.
*/
#include "ft_inltarget.h"

namespace ft {

template <class T> struct Box {
  T v;
  __attribute__((always_inline)) inline void *make(int n, ft_inl_site *s) {
    void *p = ft_inl_alloc((size_t)n + sizeof v, s); FT_INL_NOTE(s, "ft::Box<int>::make(int, ft_inl_site*)");
    return p;
  }
  __attribute__((always_inline)) inline void *fill(int n, ft_inl_site *s) {
    void *p = make(n * 2, s); FT_INL_NOTE(s, "ft::Box<int>::fill(int, ft_inl_site*)");
    return p;
  }
};

/* Not inlined: the real function of the chain. */
__attribute__((noinline)) void *run(int n, ft_inl_site *s) {
  Box<int> box = {n};
  void *p = box.fill(n, s); FT_INL_NOTE(s, "ft::run(int, ft_inl_site*)");
  return p;
}

} // namespace ft

int main() {
  ft_inl_site site;
  memset(&site, 0, sizeof site);
  void *p = ft::run(5, &site);
  int rc = ft_inl_report(&site, 1);
  free(p);
  return rc;
}
