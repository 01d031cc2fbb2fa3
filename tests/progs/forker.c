/*
** forker.c — a fork with allocations on both sides (test_fork.c).
**   parent before fork: malloc 3131 twice, one freed, one still live
**   child: malloc 7171 three times, frees two; frees the inherited live 3131
**          block (unknown to the child's trace: one unmatched free); exit(7)
**   parent after fork: malloc 3232 once (freed), waits, checks the child's 7
** Prints "parent=PID child=PID ok=1" and exits 0.
*/
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void *volatile sink;

int main(void) {
  void *a = malloc(3131);
  void *b = malloc(3131);
  sink = a;
  free(a);
  fflush(stdout);
  pid_t c = fork();
  if (c < 0) return 10;
  if (c == 0) {
    void *x[3];
    for (int i = 0; i < 3; i++) x[i] = malloc(7171);
    sink = x[2];
    free(x[0]);
    free(x[1]);
    free(b);
    exit(7);
  }
  void *d = malloc(3232);
  sink = d;
  free(d);
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 7) return 11;
  printf("parent=%d child=%d ok=1\n", (int)getpid(), (int)c);
  sink = b;
  return 0;
}
