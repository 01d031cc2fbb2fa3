/*
** report_sites.c — call sites of known behaviour for `fragtrace report`
** (tests/integration/test_report.c asserts its report). No stdio, so every
** allocation in the trace is one of these. In order:
**
**   leak_big     5 x malloc(1000), never freed, 1 ms apart
**   cache_fill   3 x malloc(300), never freed, 1 ms apart (the suppression target)
**   churn_site   20000 x malloc(64), each freed at once: temporary, short-lived
**   relay_site   500 x malloc(256), each freed after the next one is made
**                (so only the last is temporary), 10 per ms: about 10k/s
**   hold_site    200 x malloc(128), 10 per 10 ms (about 1k/s), all kept 120 ms
**                after the last one, then freed: never short-lived below 100 ms
**   my_xmalloc   50 x malloc(48) from wrapped_site through an xmalloc-style
**                wrapper, each freed at once (for --skip my_xmalloc)
**   map_site     one mmap of 64 KiB, unmapped at once
**   peak_site    4 x malloc(1 MiB) 2 ms apart, held together 130 ms, freed:
**                the heap peak, 4 MiB + the 5900 leaked bytes, 12 blocks
**
** Rates are set by sleeps so the churn ranking does not depend on the
** machine: churn_site far above relay_site far above hold_site.
*/
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

void *volatile sink;

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

__attribute__((noinline)) void leak_big(void) {
  for (int i = 0; i < 5; i++) {
    sink = malloc(1000);
    sleep_us(1000);
  }
}

__attribute__((noinline)) void cache_fill(void) {
  for (int i = 0; i < 3; i++) {
    sink = malloc(300);
    sleep_us(1000);
  }
}

__attribute__((noinline)) void churn_site(void) {
  for (int i = 0; i < 20000; i++) {
    char *p = malloc(64);
    p[0] = (char)i;
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) void relay_site(void) {
  void *prev = NULL;
  for (int i = 0; i < 500; i++) {
    void *p = malloc(256);
    free(prev);
    prev = p;
    if (i % 10 == 9) sleep_us(1000);
  }
  free(prev);
}

__attribute__((noinline)) void hold_site(void) {
  static void *held[200];
  for (int i = 0; i < 200; i++) {
    held[i] = malloc(128);
    if (i % 10 == 9) sleep_us(10000);
  }
  sleep_us(120000);
  for (int i = 0; i < 200; i++) free(held[i]);
}

__attribute__((noinline)) void *my_xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) abort();
  return p;
}

__attribute__((noinline)) void wrapped_site(void) {
  for (int i = 0; i < 50; i++) {
    void *p = my_xmalloc(48);
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) void map_site(void) {
  void *m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) abort();
  munmap(m, 65536);
}

__attribute__((noinline)) void peak_site(void) {
  void *big[4];
  for (int i = 0; i < 4; i++) {
    big[i] = malloc(1 << 20);
    sleep_us(2000);
  }
  sleep_us(130000);
  for (int i = 0; i < 4; i++) free(big[i]);
}

int main(void) {
  leak_big();
  cache_fill();
  churn_site();
  relay_site();
  hold_site();
  wrapped_site();
  map_site();
  peak_site();
  return 0;
}
