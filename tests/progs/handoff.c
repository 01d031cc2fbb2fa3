/*
** handoff.c — N threads each malloc M blocks of SIZE bytes and hand every
** block to the next thread, which checks and frees it: every block is freed
** by a thread other than the one that allocated it, and with at most QCAP
** blocks in flight per queue the allocator reuses addresses constantly.
**
** usage: handoff N M [SIZE]   (defaults 4 50000 4242); prints "ok=1",
** "threads=N", "blocks=N*M" and "size=SIZE".
*/
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QCAP 64
#define MAXT 64

typedef struct queue {
  pthread_mutex_t mu;
  void *items[QCAP];
  unsigned head, count;
} queue;

static queue q[MAXT];
static int nthreads;
static long per_thread;
static size_t block_size;
static _Atomic long bad;

static int push(queue *x, void *p) {
  pthread_mutex_lock(&x->mu);
  int ok = x->count < QCAP;
  if (ok) {
    x->items[(x->head + x->count) % QCAP] = p;
    x->count++;
  }
  pthread_mutex_unlock(&x->mu);
  return ok;
}

/* Take up to max blocks into out; returns how many. */
static unsigned pop_some(queue *x, void **out, unsigned max) {
  pthread_mutex_lock(&x->mu);
  unsigned n = 0;
  while (n < max && x->count) {
    out[n++] = x->items[x->head];
    x->head = (x->head + 1) % QCAP;
    x->count--;
  }
  pthread_mutex_unlock(&x->mu);
  return n;
}

static void *worker(void *arg) {
  int me = (int)(intptr_t)arg;
  queue *mine = &q[me], *next = &q[(me + 1) % nthreads];
  long made = 0, freed = 0;
  void *pending = NULL;
  void *got[QCAP];
  while (made < per_thread || pending || freed < per_thread) {
    int progress = 0;
    if (!pending && made < per_thread) {
      pending = malloc(block_size);
      if (!pending) abort();
      memset(pending, 0, 16);
      ((int *)pending)[0] = me;
      made++;
    }
    if (pending && push(next, pending)) {
      pending = NULL;
      progress = 1;
    }
    unsigned n = pop_some(mine, got, 8);
    for (unsigned i = 0; i < n; i++) {
      if (((int *)got[i])[0] != (me + nthreads - 1) % nthreads) bad++;
      free(got[i]);
    }
    freed += n;
    if (n) progress = 1;
    if (!progress) sched_yield();
  }
  return NULL;
}

int main(int argc, char **argv) {
  nthreads = argc > 1 ? atoi(argv[1]) : 4;
  per_thread = argc > 2 ? atol(argv[2]) : 50000;
  block_size = argc > 3 ? (size_t)atol(argv[3]) : 4242;
  if (nthreads < 2 || nthreads > MAXT || per_thread < 1 || block_size < 16) return 2;
  for (int i = 0; i < nthreads; i++) pthread_mutex_init(&q[i].mu, NULL);
  pthread_t th[MAXT];
  for (int i = 0; i < nthreads; i++)
    if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i) != 0) return 3;
  for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
  if (bad) return 4;
  printf("threads=%d blocks=%ld size=%zu ok=1\n", nthreads, nthreads * per_thread, block_size);
  return 0;
}
