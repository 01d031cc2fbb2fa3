/*
** ft_symlib.c — a small shared library for unit_symbolize: it captures a
** return address inside itself at a known line, so the test can check that
** addresses in a shared library (ET_DYN at a random base) resolve.
*/
#include <stdint.h>

/* The return address of this call is in the caller, at the call's line. */
static __attribute__((noinline)) uintptr_t ft_symlib_return_address(void) {
  uintptr_t ra = (uintptr_t)__builtin_return_address(0);
  __asm__ volatile("" : "+r"(ra) : : "memory"); /* keep the call a real call */
  return ra;
}

/* Return an address inside this function (a return address) and its line. */
uintptr_t ft_symlib_capture(int *line) {
  uintptr_t ra = ft_symlib_return_address(); *line = __LINE__;
  return ra;
}
