/*
** follow_churn.c — known allocation counts for the follow-mode tests
** (test_follow.c):
**   follow_churn churn N     N times malloc(4321) + free (site "churn");
**                            every 1000th iteration also malloc(777), kept
**                            to the end (site "keep": N / 1000 leaks).
**   follow_churn wait DIR K  K times malloc(5555), kept; then creates
**                            DIR/ready with our pid and waits (up to 60 s)
**                            until DIR/go exists; then 3 times malloc(6666)
**                            and exits. The test looks at the trace in
**                            between.
**   follow_churn forever DIR malloc(3333) + free every 5 ms; writes DIR/ready
**                            with our pid first; runs until killed (at most
**                            120 s): the --duration test leaves it running.
** Distinct sizes name the sites without symbols.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *volatile sink;

/* Sleep ms milliseconds. */
static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Write our pid to dir/ready atomically (rename). 0 or -1. */
static int write_ready(const char *dir) {
  char tmp[4096], path[4096];
  snprintf(tmp, sizeof tmp, "%s/ready.tmp", dir);
  snprintf(path, sizeof path, "%s/ready", dir);
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  fprintf(f, "%d\n", (int)getpid());
  if (fclose(f) != 0 || rename(tmp, path) != 0) return -1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "churn")) {
    long n = atol(argv[2]);
    for (long i = 1; i <= n; i++) {
      void *p = malloc(4321);
      sink = p;
      free(p);
      if (i % 1000 == 0) sink = malloc(777); /* kept: a leak */
    }
    return 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "wait")) {
    long k = atol(argv[3]);
    for (long i = 0; i < k; i++) sink = malloc(5555);
    if (write_ready(argv[2]) != 0) return 3;
    char go[4096];
    snprintf(go, sizeof go, "%s/go", argv[2]);
    for (int i = 0; i < 6000 && access(go, F_OK) != 0; i++) nap_ms(10);
    for (int i = 0; i < 3; i++) sink = malloc(6666);
    return 0;
  }
  if (argc >= 3 && !strcmp(argv[1], "forever")) {
    if (write_ready(argv[2]) != 0) return 3;
    for (int i = 0; i < 24000; i++) {
      void *p = malloc(3333);
      sink = p;
      free(p);
      nap_ms(5);
    }
    return 0;
  }
  fprintf(stderr, "usage: follow_churn churn N | wait DIR K | forever DIR\n");
  return 2;
}
