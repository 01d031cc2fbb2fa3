/*
** churn.c — the recorder benchmark's workload: N threads, each replacing
** random slots of its own working set with fresh blocks of random size
** (malloc/free churn, with realloc and calloc mixed in), and touching every
** block as a real program would.
**
** usage: churn [threads=2] [iterations per thread=1000000] [working set=4096]
** Prints the program's own elapsed time (from its first to its last
** iteration) as "elapsed_s=<seconds>", so start-up and trace conversion are
** not counted, and "checksum=<n>" so the work cannot be optimized away.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long iterations = 1000000, working_set = 4096;

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static void *worker(void *arg) {
  uint64_t seed = 0x9e3779b97f4a7c15ull * (uintptr_t)arg + 1, sum = 0;
  char **slots = calloc((size_t)working_set, sizeof *slots);
  for (long i = 0; i < iterations; i++) {
    uint64_t r = xorshift(&seed);
    long j = (long)(r % (uint64_t)working_set);
    size_t size = 16 + (r >> 20) % 2048;
    if (slots[j]) sum += (unsigned char)slots[j][0];
    switch ((r >> 40) % 16) {
      case 0: /* grow or shrink in place or move */
        if (slots[j]) {
          slots[j] = realloc(slots[j], size);
          break;
        }
        /* fall through */
      default:
        free(slots[j]);
        slots[j] = (r >> 44) % 8 == 0 ? calloc(1, size) : malloc(size);
    }
    memset(slots[j], (int)i, size < 64 ? size : 64);
  }
  for (long j = 0; j < working_set; j++) free(slots[j]);
  free(slots);
  return (void *)(uintptr_t)sum;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2;
  if (argc > 2) iterations = atol(argv[2]);
  if (argc > 3) working_set = atol(argv[3]);
  if (threads < 1 || threads > 256 || iterations < 1 || working_set < 1) {
    fprintf(stderr, "usage: churn [threads 1..256] [iterations] [working set]\n");
    return 2;
  }
  pthread_t tid[256];
  double t0 = now_s();
  for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, worker, (void *)(uintptr_t)(i + 1));
  uint64_t sum = 0;
  for (int i = 0; i < threads; i++) {
    void *r;
    pthread_join(tid[i], &r);
    sum += (uintptr_t)r;
  }
  printf("elapsed_s=%.6f\nchecksum=%llu\n", now_s() - t0, (unsigned long long)sum);
  return 0;
}
