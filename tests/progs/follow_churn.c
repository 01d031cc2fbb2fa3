/*
** follow_churn.c — known allocation counts for the follow-mode tests
** (test_follow.c):
**   follow_churn churn N     N times malloc(4321) + free (site "churn");
**                            every 1000th iteration also malloc(777), kept
**                            to the end (site "keep": N / 1000 leaks).
**   follow_churn rate N R    N times malloc(4321) + free, paced at R
**                            iterations per second (each millisecond's
**                            share, then a sleep to the schedule); every
**                            1000th iteration also replaces the oldest of
**                            1000 live malloc(777) blocks (each lives
**                            10^6 iterations: a bounded live set, as in a
**                            service). A steady load for measuring whether
**                            `record --max-size` keeps up (README "Long
**                            runs and services"). Prints elapsed_ms=...
**                            and behind_ms=... (how far it fell behind
**                            the schedule at most).
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

/* Monotonic nanoseconds. */
static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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
  if (argc >= 4 && !strcmp(argv[1], "rate")) {
    long n = atol(argv[2]), r = atol(argv[3]);
    if (n <= 0 || r <= 0) return 2;
    long per_ms = r / 1000 > 0 ? r / 1000 : 1;
    long long t0 = now_ns(), behind = 0;
    static void *ring[1000];
    for (long i = 1; i <= n; i++) {
      void *p = malloc(4321);
      sink = p;
      free(p);
      if (i % 1000 == 0) { /* the oldest long-lived block goes, a new one comes */
        size_t j = (size_t)(i / 1000) % 1000;
        free(ring[j]);
        ring[j] = malloc(777);
      }
      if (i % per_ms == 0) { /* on schedule: iteration i is due at i / r seconds */
        long long due = t0 + (long long)((double)i / (double)r * 1e9), now = now_ns();
        if (due > now) {
          struct timespec ts = {(time_t)((due - now) / 1000000000LL), (long)((due - now) % 1000000000LL)};
          nanosleep(&ts, NULL);
        } else if (now - due > behind) {
          behind = now - due;
        }
      }
    }
    printf("elapsed_ms=%lld behind_ms=%lld\n", (now_ns() - t0) / 1000000, behind / 1000000);
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
  fprintf(stderr, "usage: follow_churn churn N | rate N R | wait DIR K | forever DIR\n");
  return 2;
}
