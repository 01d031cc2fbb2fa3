/*
** deep.c — one allocation CALLS calls deep (descend() recursing), for the
** stack depth settings: malloc 5151 at the bottom (leaked).
** usage: deep [CALLS] (default 20); prints "calls=CALLS".
*/
#include <stdio.h>
#include <stdlib.h>

void *volatile sink;
volatile int zero;

__attribute__((noinline)) void descend(int n) {
  if (n > 0) {
    descend(n - 1);
    zero += 0; /* not a tail call */
    return;
  }
  sink = malloc(5151);
}

int main(int argc, char **argv) {
  int calls = argc > 1 ? atoi(argv[1]) : 20;
  if (calls < 1) return 2;
  descend(calls - 1);
  printf("calls=%d\n", calls);
  return 0;
}
