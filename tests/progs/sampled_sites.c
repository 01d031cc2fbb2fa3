/*
** sampled_sites.c — known allocation counts and sizes at four call sites,
** for the statistical test of byte sampling (tests/integration/test_sampling.c):
**   site_small  200000 x 64 B
**   site_page    20000 x 4 KiB
**   site_huge       50 x 1 MiB
**   site_mixed   30000 blocks of 16 << (i % 10) bytes (16 B .. 8 KiB, 3000 each)
** Every block is freed at once, so the live heap stays small. Each site is a
** noinline function of its own: its malloc call is the innermost frame.
** With an argument MS, sleeps MS milliseconds after site_page's loop (for
** recording started with a delay). Prints nothing: the test knows the truth
** from this comment's table.
*/
#include <stdlib.h>
#include <time.h>

void *volatile sink;

__attribute__((noinline)) static void site_small(void) {
  sink = malloc(64);
  free(sink);
}

__attribute__((noinline)) static void site_page(void) {
  sink = malloc(4096);
  free(sink);
}

__attribute__((noinline)) static void site_huge(void) {
  sink = malloc((size_t)1 << 20);
  free(sink);
}

__attribute__((noinline)) static void site_mixed(size_t n) {
  sink = malloc(n);
  free(sink);
}

int main(int argc, char **argv) {
  for (int i = 0; i < 20000; i++) site_page();
  if (argc > 1) {
    long ms = atol(argv[1]);
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < 200000; i++) site_small();
  for (int i = 0; i < 50; i++) site_huge();
  for (int i = 0; i < 30000; i++) site_mixed((size_t)16 << (i % 10));
  return 0;
}
