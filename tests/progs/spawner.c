/*
** spawner.c — the other ways to start a program: vfork + execve, vfork +
** a failing execve + _exit(127), posix_spawn, and system(). Each started
** program is TARGET (argv[1]) with the status argument 11, 12, 13; the
** failing one returns 127 to us. Between them the parent mallocs 5858
** bytes (freed): four rows, all in the parent.
** usage: spawner TARGET; prints "ok=1" when every status was as expected.
*/
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
void *volatile sink;

static int status_of(pid_t c) {
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st)) return -1;
  return WEXITSTATUS(st);
}

static void churn(void) {
  void *p = malloc(5858);
  sink = p;
  free(p);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int bad = 0;
  char *a11[] = {argv[1], "11", NULL}, *a12[] = {argv[1], "12", NULL};
  churn();
  pid_t c = vfork();
  if (c == 0) {
    execve(argv[1], a11, environ);
    _exit(126);
  }
  bad += status_of(c) != 11;
  churn();
  c = vfork();
  if (c == 0) {
    char *none[] = {"/nonexistent/program", NULL};
    execve(none[0], none, environ);
    _exit(127);
  }
  bad += status_of(c) != 127;
  churn();
  if (posix_spawn(&c, argv[1], NULL, NULL, a12, environ) != 0) return 3;
  bad += status_of(c) != 12;
  churn();
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "%s 13", argv[1]);
  int st = system(cmd);
  bad += !(WIFEXITED(st) && WEXITSTATUS(st) == 13);
  printf("bad=%d ok=%d\n", bad, !bad);
  return bad ? 1 : 0;
}
