/*
** callsite.c — one leak at a known source line, in a function of its own, so
** the trace's call_sites must name leak_here, this file and that line.
** Prints "line=N" (the line of the malloc call) and "size=N".
*/
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;

__attribute__((noinline)) void *leak_here(size_t n) {
  void *p = malloc(n); int line = __LINE__; /* keep both on one line */
  printf("line=%d\n", line);
  sink = p;
  return p;
}

int main(void) {
  leak_here(8887);
  printf("size=%d\n", 8887);
  return 0;
}
