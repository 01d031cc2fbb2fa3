/*
** shortthreads.c — many short-lived threads, in waves of 4: each mallocs
** 2727 bytes ten times and frees five of them, and leaves one 2828-byte
** block to a pthread key destructor, which frees it as the thread exits
** (after the shim's own per-thread cleanup may have run).
** usage: shortthreads [WAVES] (default 50: 200 threads); prints
** "threads=N ok=1".
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_key_t key;
void *volatile sink;

static void dtor(void *p) { free(p); }

static void *body(void *arg) {
  (void)arg;
  void *b[10];
  for (int i = 0; i < 10; i++) b[i] = malloc(2727);
  for (int i = 0; i < 5; i++) free(b[i]);
  for (int i = 5; i < 10; i++) sink = b[i];
  pthread_setspecific(key, malloc(2828));
  return NULL;
}

int main(int argc, char **argv) {
  int waves = argc > 1 ? atoi(argv[1]) : 50;
  if (pthread_key_create(&key, dtor) != 0) return 2;
  for (int w = 0; w < waves; w++) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
      if (pthread_create(&t[i], NULL, body, NULL) != 0) return 3;
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  }
  printf("threads=%d ok=1\n", waves * 4);
  return 0;
}
