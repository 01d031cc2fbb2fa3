/*
** kvcache.c — a tiny stand-in for a long-running service: it handles
** "requests" that each allocate a short-lived buffer of varying size, parse
** it into key/value strings, keep some of them in a cache (long-lived), and
** evict old entries. Entries still cached at exit are leaks, on purpose.
**
** usage: kvcache [requests=200000]
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 4096

typedef struct entry {
  char *key;
  char *value;
} entry;

static entry *cache[CACHE_SLOTS];
static unsigned long long seed = 88172645463325252ull;

static unsigned long long next_random(void) {
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return seed;
}

/* A request: read into a temporary buffer (10 B .. 64 KiB). */
static char *read_request(size_t *len) {
  *len = 10 + next_random() % (64 * 1024);
  char *buf = malloc(*len);
  memset(buf, 'a' + (int)(*len % 26), *len);
  return buf;
}

static char *copy_field(const char *src, size_t n) {
  char *s = malloc(n + 1);
  memcpy(s, src, n);
  s[n] = 0;
  return s;
}

static void cache_insert(const char *buf, size_t len) {
  unsigned slot = (unsigned)(next_random() % CACHE_SLOTS);
  if (cache[slot]) { /* evict */
    free(cache[slot]->key);
    free(cache[slot]->value);
    free(cache[slot]);
  }
  entry *e = malloc(sizeof *e);
  e->key = copy_field(buf, 16);
  e->value = copy_field(buf, 40 + len % 200);
  cache[slot] = e;
}

int main(int argc, char **argv) {
  long requests = argc > 1 ? atol(argv[1]) : 200000;
  unsigned long long checksum = 0;
  for (long i = 0; i < requests; i++) {
    size_t len;
    char *buf = read_request(&len);
    checksum += (unsigned char)buf[len / 2];
    if (i % 4 == 0) cache_insert(buf, len);
    free(buf);
  }
  printf("handled %ld requests, checksum %llu\n", requests, checksum);
  return 0;
}
