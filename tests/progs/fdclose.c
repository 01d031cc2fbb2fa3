/*
** fdclose.c — a program that closes every descriptor above stderr (as
** daemons and exec helpers do), then opens files of its own and writes to
** them while allocating. Whatever descriptors the shim (or libunwind inside
** it) held are gone: it must neither write into the program's files nor
** close them.
** usage: fdclose PREFIX; opens PREFIX.0 .. PREFIX.3 (getting descriptors
** 3..6), writes 40 lines "payload I\n" to each, one round every 10 ms with
** 100 mallocs of 3737 bytes around it, closes them; prints "write_errors=N
** close_errors=N" and exits 0 when both are 0, 1 otherwise.
*/
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NFILES 4

void *volatile sink;

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  for (int fd = 3; fd < 1024; fd++) close(fd);
  int fds[NFILES];
  for (int f = 0; f < NFILES; f++) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%d", argv[1], f);
    fds[f] = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fds[f] < 0) return 3;
  }
  int write_errors = 0, close_errors = 0;
  for (int i = 0; i < 40; i++) {
    void *b[100];
    for (int k = 0; k < 100; k++) b[k] = malloc(3737);
    char line[64];
    int n = snprintf(line, sizeof line, "payload %d\n", i);
    for (int f = 0; f < NFILES; f++)
      if (write(fds[f], line, (size_t)n) != n) write_errors++;
    for (int k = 0; k < 100; k++) free(b[k]);
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  for (int f = 0; f < NFILES; f++)
    if (close(fds[f]) != 0) close_errors++;
  printf("write_errors=%d close_errors=%d\n", write_errors, close_errors);
  return write_errors || close_errors;
}
