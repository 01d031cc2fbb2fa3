/*
** exitbusy.c — exit while other threads are busy allocating: four workers
** malloc/free 5252-byte blocks (and realloc them to 5353) without pause;
** after 30 ms a fifth thread calls exit(6) while they run. The process
** must end with status 6, without hanging or crashing in the shim's final
** flush.
*/
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

void *volatile sink;

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    void *p = malloc(5252);
    void *q = realloc(p, 5353);
    sink = q;
    free(q);
  }
  return NULL;
}

static void *exiter(void *arg) {
  (void)arg;
  struct timespec ts = {0, 30 * 1000 * 1000};
  nanosleep(&ts, NULL);
  exit(6);
}

int main(void) {
  pthread_t t[5];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, NULL);
  pthread_create(&t[4], NULL, exiter, NULL);
  pthread_join(t[4], NULL);
  return 0;
}
