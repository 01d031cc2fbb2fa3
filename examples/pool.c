/*
** pool.c — the well-behaved counterpart: a fixed-size object pool,
** preallocated once and reused for every request through a free list.
** Requests never call malloc, so the allocator sees one burst at start-up
** and the frees at shutdown: no churn, and no page holds a little live data
** among freed memory. fragtrace must not flag it.
**
** usage: pool [requests=2000000] [objects=4096]
** Runs about 0.2 s: it pauses 15 ms every 200000 requests.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OBJ_SIZE 256
#define MAX_OBJECTS 65536

typedef union obj {
  union obj *next; /* while free */
  unsigned char data[OBJ_SIZE];
} obj;

static obj *all[MAX_OBJECTS];
static obj *free_list;

/* Fill the pool: every object allocated up front, back to back. */
__attribute__((noinline)) static void pool_init(unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    all[i] = malloc(sizeof(obj));
    if (!all[i]) abort();
    all[i]->next = free_list;
    free_list = all[i];
  }
}

static obj *pool_get(void) {
  obj *o = free_list;
  if (o) free_list = o->next;
  return o;
}

static void pool_put(obj *o) {
  o->next = free_list;
  free_list = o;
}

int main(int argc, char **argv) {
  unsigned long requests = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
  unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 4096;
  if (n > MAX_OBJECTS) n = MAX_OBJECTS;
  if (n < 8) n = 8;
  pool_init(n);
  obj *held[8] = {0};
  unsigned long sum = 0;
  for (unsigned long r = 0; r < requests; r++) {
    unsigned k = (unsigned)(r & 7);
    if (held[k]) pool_put(held[k]);
    held[k] = pool_get();
    memset(held[k]->data + sizeof(obj *), (int)(r & 0xff), OBJ_SIZE - sizeof(obj *));
    sum += held[k]->data[OBJ_SIZE - 1];
    if (r % 200000 == 199999) { /* a service waits for requests: the run spans many windows */
      struct timespec ts = {0, 15000000L};
      nanosleep(&ts, NULL);
    }
  }
  for (unsigned i = 0; i < n; i++) free(all[i]);
  return (int)(sum & 0);
}
