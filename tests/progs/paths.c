/*
** paths.c — 4096 distinct call stacks: for every n < 4096, the allocation
** of 10000 + n bytes is reached through 12 levels of path_a/path_b chosen
** by the bits of n (highest bit outermost), so each stack spells its n.
** Two threads walk all of them at once: 8192 rows, 4096 distinct stacks,
** more than a thread's cache of already-spilled stacks holds.
** Stack of 10000+n, innermost first: step, path_x (bit 0), step, path_x
** (bit 1), ..., path_x (bit 11), step, thread_main, ...
** usage: paths; prints "stacks=4096 ok=1".
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define BITS 12

void *volatile sink;
volatile int zero;

void path_a(int level, unsigned n);
void path_b(int level, unsigned n);

/* level counts down: the bit examined at `level` is bit level-1. */
__attribute__((noinline)) void step(int level, unsigned n) {
  if (level == 0) {
    void *p = malloc(10000 + n);
    sink = p;
    free(p);
    return;
  }
  if ((n >> (level - 1)) & 1) path_b(level - 1, n);
  else path_a(level - 1, n);
  zero += 0; /* not a tail call */
}

__attribute__((noinline)) void path_a(int level, unsigned n) {
  step(level, n);
  zero += 0;
}

__attribute__((noinline)) void path_b(int level, unsigned n) {
  step(level, n);
  zero += 0;
}

static void *thread_main(void *arg) {
  (void)arg;
  for (unsigned n = 0; n < (1u << BITS); n++) step(BITS, n);
  return NULL;
}

int main(void) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, thread_main, NULL) != 0) return 2;
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("stacks=%u ok=1\n", 1u << BITS);
  return 0;
}
