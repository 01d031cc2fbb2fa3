/*
** forkstorm.c — fork while other threads are busy allocating (so inside the
** shim, libunwind and malloc at the moment of the fork). Three workers
** malloc/free 4646-byte blocks until told to stop; the main thread forks
** CHILDREN children one after another; child i mallocs 4747 bytes three
** times, frees one and exits with status i % 100 (through exit(), or _exit()
** for odd i). The parent waits for each and checks its status.
** usage: forkstorm [CHILDREN] (default 100); prints "children=N ok=1".
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int stop;
void *volatile sink;

static void *worker(void *arg) {
  (void)arg;
  for (unsigned n = 0; !atomic_load(&stop); n++) {
    void *b[16];
    for (int i = 0; i < 16; i++) b[i] = malloc(4646);
    for (int i = 0; i < 16; i++) free(b[i]);
    struct timespec ts = {0, 100 * 1000}; /* keep the trace small */
    if (n % 8 == 7) nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int children = argc > 1 ? atoi(argv[1]) : 100;
  pthread_t th[3];
  for (int i = 0; i < 3; i++)
    if (pthread_create(&th[i], NULL, worker, NULL) != 0) return 2;
  int bad = 0;
  for (int i = 0; i < children; i++) {
    fflush(stdout);
    pid_t c = fork();
    if (c < 0) return 3;
    if (c == 0) {
      void *x[3];
      for (int k = 0; k < 3; k++) x[k] = malloc(4747);
      sink = x[1];
      sink = x[2];
      free(x[0]);
      if (i % 2) _exit(i % 100);
      exit(i % 100);
    }
    int st;
    if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != i % 100) bad++;
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
  if (bad) return 4;
  printf("children=%d ok=1\n", children);
  return 0;
}
