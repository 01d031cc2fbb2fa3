/*
** ctlwait.c — a busy service for the recording-control tests: prints
** "pid=PID" and then allocates and frees 64-byte blocks (8 live at a time,
** a pause of 20 us every 64 of them) until SECONDS have passed, then frees
** everything and prints "done=COUNT" (allocations made). Signals that the
** shim handles must not disturb it.
** usage: ctlwait [SECONDS=2]
*/
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 2.0;
  printf("pid=%d\n", (int)getpid());
  fflush(stdout);
  void *live[8] = {0};
  unsigned long count = 0;
  double end = now_s() + secs;
  while (now_s() < end) {
    for (int k = 0; k < 64; k++) {
      free(live[count % 8]);
      live[count % 8] = malloc(64);
      count++;
    }
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
  }
  for (int i = 0; i < 8; i++) free(live[i]);
  printf("done=%lu\n", count);
  return 0;
}
