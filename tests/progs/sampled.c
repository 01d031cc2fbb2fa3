/*
** sampled.c — a known heap workload for byte sampling and the exact totals:
** N mallocs of sizes 16 + (i % 97) * 48 bytes (kept), a realloc of every
** 4th block to twice its size, a calloc(3, 100) per 8th index (kept too),
** then everything freed. No stdio before the end: the only heap calls are
** these, so the shim's TOTALS must equal the numbers printed:
** "allocs=A frees=F bytes=B".
** usage: sampled [N=20000]
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXN 200000
static char *blk[MAXN], *cal[MAXN];

/* Decimal "key=value " into buf at *len, without stdio. */
static void put(char *buf, size_t *len, const char *key, unsigned long long v) {
  size_t k = strlen(key);
  memcpy(buf + *len, key, k);
  *len += k;
  char d[24];
  int n = 0;
  do d[n++] = (char)('0' + v % 10); while (v /= 10);
  while (n) buf[(*len)++] = d[--n];
  buf[(*len)++] = ' ';
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n < 1 || n > MAXN) return 2;
  unsigned long long allocs = 0, frees = 0, bytes = 0;
  for (long i = 0; i < n; i++) {
    size_t s = 16 + (size_t)(i % 97) * 48;
    blk[i] = malloc(s);
    if (!blk[i]) return 3;
    memset(blk[i], 1, s);
    allocs++, bytes += s;
    if (i % 8 == 0) {
      cal[i] = calloc(3, 100);
      if (!cal[i]) return 3;
      allocs++, bytes += 300;
    }
  }
  for (long i = 0; i < n; i += 4) {
    size_t s = 2 * (16 + (size_t)(i % 97) * 48);
    char *q = realloc(blk[i], s);
    if (!q) return 3;
    blk[i] = q;
    allocs++, frees++, bytes += s;
  }
  for (long i = 0; i < n; i++) {
    free(blk[i]);
    frees++;
    if (cal[i]) {
      free(cal[i]);
      frees++;
    }
  }
  char out[256];
  size_t len = 0;
  put(out, &len, "allocs=", allocs);
  put(out, &len, "frees=", frees);
  put(out, &len, "bytes=", bytes);
  out[len - 1] = '\n';
  return write(1, out, len) == (ssize_t)len ? 0 : 4;
}
