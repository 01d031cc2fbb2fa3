/*
** sigwaiter.c — the sigwait() pattern: block SIGUSR1 (in every thread the
** program has), send it to the process, take it with sigwait(). A thread
** of the shim that does not block it would receive it instead and die of
** it (the default action), killing the process. Repeated 20 times, with a
** 5959-byte malloc each time; prints "got=20".
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

int main(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return 2;
  int got = 0;
  for (int i = 0; i < 20; i++) {
    sink = malloc(5959);
    if (kill(getpid(), SIGUSR1) != 0) return 3;
    int sig = 0;
    if (sigwait(&set, &sig) != 0 || sig != SIGUSR1) return 4;
    got++;
  }
  printf("got=%d\n", got);
  return 0;
}
