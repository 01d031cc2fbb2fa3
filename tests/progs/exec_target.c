/*
** exec_target.c — what execer.c turns into: malloc 2323 four times (all
** freed), prints "pid=PID" and exits 5.
*/
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *volatile sink;

int main(void) {
  void *a[4];
  for (int i = 0; i < 4; i++) a[i] = malloc(2323);
  for (int i = 0; i < 4; i++) free(a[i]);
  printf("pid=%d\n", (int)getpid());
  return 5;
}
