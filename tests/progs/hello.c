/*
** hello.c — a minimal traced program: malloc 6161 twice (one freed, one
** leaked), print "hello pid=PID", chdir to DIR if given (as daemons do) and
** exit with STATUS (default 0; passed to exit() as is, so 259 or -1 test
** the status the parent really sees: 3 and 255).
** usage: hello [STATUS [DIR]]
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

int main(int argc, char **argv) {
  void *a = malloc(6161);
  void *b = malloc(6161);
  sink = b;
  free(a);
  printf("hello pid=%d\n", (int)getpid());
  if (argc > 2 && chdir(argv[2]) != 0) return 100;
  exit(argc > 1 ? atoi(argv[1]) : 0);
}
