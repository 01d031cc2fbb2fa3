/*
** execer.c — allocates, then replaces itself with another program (same pid).
** usage: execer TARGET [FALLBACK]
**   malloc 1212 three times (one freed), print "pid=PID", execv(TARGET).
**   If that fails and FALLBACK is given: malloc 1313 twice (one freed), print
**   "exec_failed=1", execv(FALLBACK). Exits 20 if no exec succeeds.
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  void *a[3];
  for (int i = 0; i < 3; i++) a[i] = malloc(1212);
  sink = a[1];
  sink = a[2];
  free(a[0]);
  printf("pid=%d\n", (int)getpid());
  fflush(stdout);
  char *args[] = {argv[1], NULL};
  execv(argv[1], args);
  if (argc < 3) {
    perror("execv");
    return 20;
  }
  void *b = malloc(1313), *c = malloc(1313);
  sink = c;
  free(b);
  printf("exec_failed=1\n");
  fflush(stdout);
  args[0] = argv[2];
  execv(argv[2], args);
  perror("execv");
  return 20;
}
