/*
** pinned_heap.c — small long-lived blocks pin a heap of freed buffers.
** A "service" handles requests that each allocate a 4000-byte buffer and
** insert a 40-byte entry into a cache. The buffers are released once the
** batch is done; the cache entries live on. The entries sit between the
** buffers, one or two on every 4 KiB page, so after the buffers are freed
** each page holds 40..80 live bytes yet stays resident: the heap cannot
** shrink and RSS stays high while the live heap is small. fragtrace's
** pinning table ranks cache_insert first.
**
** usage: pinned_heap [entries=8192] [hold_ms=300]
** No stdio: a stdout buffer on the heap would share a page with entries.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ENTRIES 65536
#define ENTRY_SIZE 40
#define BUFFER_SIZE 4000

static char *entries[MAX_ENTRIES]; /* static: the pointer arrays are not heap blocks */
static char *buffers[MAX_ENTRIES];

/* The culprit: a small block that outlives everything around it. */
__attribute__((noinline)) static char *cache_insert(unsigned key) {
  char *e = malloc(ENTRY_SIZE);
  if (e) {
    memset(e, 0, ENTRY_SIZE);
    memcpy(e, &key, sizeof key);
  }
  return e;
}

/* A request's buffer: short-lived, written in full (so its pages are resident). */
__attribute__((noinline)) static char *request_buffer(unsigned key) {
  char *b = malloc(BUFFER_SIZE);
  if (b) memset(b, (int)(key & 0xff), BUFFER_SIZE);
  return b;
}

int main(int argc, char **argv) {
  unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 8192;
  long hold_ms = argc > 2 ? strtol(argv[2], NULL, 10) : 300;
  if (n > MAX_ENTRIES) n = MAX_ENTRIES;
  for (unsigned i = 0; i < n; i++) {
    buffers[i] = request_buffer(i);
    entries[i] = cache_insert(i);
  }
  for (unsigned i = 0; i < n; i++) free(buffers[i]);
  /* Stay up with the pinned heap, so the sampler sees RSS above the live heap. */
  struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  /* The cache is never torn down, as in a service killed at shutdown. */
  return entries[n ? n - 1 : 0] == NULL && n > 0;
}
