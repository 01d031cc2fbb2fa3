/*
** briefrun.c — a short run for the sampler's last samples
** (tests/integration/test_sample.c): allocate and free a little, sleep
** BRIEF_MS, exit. Shorter than the 1 s interval of smaps_rollup and
** mallinfo2, so only the sampler's final pass gives them a second sample.
*/
#include <stdlib.h>
#include <time.h>

#define BRIEF_MS 100
#define ROUNDS 1000
#define BLOCK 100

int main(void) {
  for (int i = 0; i < ROUNDS; i++) free(malloc(BLOCK));
  struct timespec t = {0, BRIEF_MS * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
  return 0;
}
