/*
** growth.c — four call sites with known numbers, for the export and diff
** tests (tests/integration/test_export.c, test_diff.c). `growth [N]`:
**   churn_site   10 x malloc(64), each freed at once (short-lived)
**   steady_site  4 x malloc(3000), live until after the peak
**   grow_site    N x malloc(1000) (default 10), live until after the peak
**   leak_site    1 x malloc(777), never freed
** in that order, after main's own malloc(1) (a warm-up: the process's first
** allocation pays for the recorder's start-up, so that one is not in the
** short-lived churn), so the heap peaks right after leak_site at
** 1 + 12000 + N * 1000 + 777 bytes; steady, grow and main's blocks are freed
** 20 ms later (never short-lived). Nothing else allocates: no stdio.
*/
#include <stdlib.h>
#include <time.h>

void *volatile sink;

__attribute__((noinline)) void churn_site(void) {
  for (int i = 0; i < 10; i++) {
    void *p = malloc(64);
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) void steady_site(void **out) {
  for (int i = 0; i < 4; i++) out[i] = malloc(3000);
}

__attribute__((noinline)) void grow_site(void **out, int n) {
  for (int i = 0; i < n; i++) out[i] = malloc(1000);
}

__attribute__((noinline)) void leak_site(void) { sink = malloc(777); }

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  if (n < 0 || n > 1000) return 2;
  void *steady[4], *grow[1000];
  void *warm = malloc(1);
  churn_site();
  steady_site(steady);
  grow_site(grow, n);
  leak_site();
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  for (int i = 0; i < 4; i++) free(steady[i]);
  for (int i = 0; i < n; i++) free(grow[i]);
  free(warm);
  return 0;
}
