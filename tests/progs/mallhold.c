/*
** mallhold.c — a heap with known live bytes for the sampler tests
** (tests/integration/test_sample.c): 2048 x malloc(1000) in hold_site (below
** glibc's mmap threshold, so mallinfo2 counts them in the arena), held for
** 400 ms, then all freed; 100 ms more, then exit. No stdio.
*/
#include <stdlib.h>
#include <time.h>

#define N 2048

static void *blocks[N];

__attribute__((noinline)) void hold_site(void) {
  for (int i = 0; i < N; i++) blocks[i] = malloc(1000);
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int main(void) {
  hold_site();
  nap_ms(400);
  for (int i = 0; i < N; i++) free(blocks[i]);
  nap_ms(100);
  return 0;
}
