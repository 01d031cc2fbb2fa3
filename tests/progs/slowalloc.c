/*
** slowalloc.c — a program that is still running when it is killed
** (test_kill.c): malloc 9191 eight times (leaked), write our pid to the file
** argv[1], then malloc 9292 every 20 ms for up to 30 s. The test SIGKILLs it.
** After each 9292 block it prints (and flushes) "t=NS", the time since the
** first one, so the test knows what was allocated before the kill.
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void *volatile sink;

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (int i = 0; i < 8; i++) sink = malloc(9191);
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE *f = fopen(tmp, "w");
  if (!f) return 3;
  fprintf(f, "%d\n", (int)getpid());
  if (fclose(f) != 0 || rename(tmp, argv[1]) != 0) return 4;
  struct timespec t0, now;
  for (int i = 0; i < 1500; i++) {
    sink = malloc(9292);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (i == 0) t0 = now;
    printf("t=%lld\n", (long long)(now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec));
    fflush(stdout);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return 0;
}
