/*
** rss_grower.c — the correlation example: RSS grows in phases, and one call
** site's allocations rise exactly in those phases. grow_set adds touched
** 64 KiB blocks to a long-lived set during the growth phases only;
** steady_churn allocates and frees a small message at the same pace all the
** time. fragtrace's correlation must rank grow_set first (its churn rises
** when RSS grows) and must not flag steady_churn.
**
** usage: rss_grower [phases=10] [phase_ms=100]
** Even phases grow, odd ones only churn; runs phases * phase_ms.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK_SIZE (64 * 1024)  /* big enough that each block adds RSS */
#define GROW_PER_TICK 1         /* blocks per tick in a growth phase */
#define CHURN_PER_TICK 2        /* messages per tick, in every phase */
#define MSG_SIZE 48
#define TICK_NS 1000000L        /* 1 ms pacing: the rates do not depend on CPU speed */
#define MAX_BLOCKS 65536

static void *set[MAX_BLOCKS];
static unsigned nset;

/* The long-lived set: a block kept to the end, every page touched so that
** it counts in RSS at once. */
__attribute__((noinline)) static void grow_set(void) {
  if (nset >= MAX_BLOCKS) return;
  void *b = malloc(BLOCK_SIZE);
  if (!b) abort();
  memset(b, (int)(nset & 0xff), BLOCK_SIZE);
  set[nset++] = b;
}

/* A short-lived message, freed at once: the same pace in every phase. */
__attribute__((noinline)) static void steady_churn(void) {
  volatile char *m = malloc(MSG_SIZE);
  if (!m) abort();
  m[0] = 1;
  free((void *)m);
}

static void tick(struct timespec *next) {
  next->tv_nsec += TICK_NS;
  if (next->tv_nsec >= 1000000000L) {
    next->tv_sec++;
    next->tv_nsec -= 1000000000L;
  }
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

int main(int argc, char **argv) {
  int phases = argc > 1 ? atoi(argv[1]) : 10;
  long phase_ms = argc > 2 ? atol(argv[2]) : 100;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int p = 0; p < phases; p++) {
    int growing = p % 2 == 0;
    for (long t = 0; t < phase_ms * 1000000L / TICK_NS; t++) {
      if (growing)
        for (int k = 0; k < GROW_PER_TICK; k++) grow_set();
      for (int k = 0; k < CHURN_PER_TICK; k++) steady_churn();
      tick(&next);
    }
  }
  for (unsigned i = 0; i < nset; i++) free(set[i]);
  return 0;
}
