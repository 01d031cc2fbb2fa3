/*
** ftplugin.c — a shared library that tests/progs/dlplugin.c dlopens: its
** allocation's innermost frame is in this library, which may be unloaded
** again long before the program exits.
*/
#include <stdlib.h>

void *volatile plugin_sink;

__attribute__((noinline)) void *plugin_alloc(size_t n) {
  void *p = malloc(n);
  plugin_sink = p;
  return p;
}
