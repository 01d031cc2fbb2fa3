/*
** mainexit.c — main() ends with pthread_exit() while a worker still runs:
** the process must end (status 0) when the worker returns, as without the
** shim. main mallocs 6363 bytes, the worker 6464 after 100 ms; both leaked.
** The worker prints "worker=1".
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void *volatile sink;

static void *worker(void *arg) {
  (void)arg;
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  sink = malloc(6464);
  printf("worker=1\n");
  fflush(stdout);
  return NULL;
}

int main(void) {
  pthread_t t;
  sink = malloc(6363);
  if (pthread_create(&t, NULL, worker, NULL) != 0) return 2;
  pthread_exit(NULL);
}
