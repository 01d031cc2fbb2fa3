/*
** dlplugin.c — dlopen a library, allocate from inside it, keep it loaded
** for HOLD_MS milliseconds, dlclose it, then run on for 200 ms.
** usage: dlplugin LIBRARY SIZE HOLD_MS; prints "ok=1".
*/
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "%s\n", dlerror());
    return 3;
  }
  void *(*alloc)(size_t) = (void *(*)(size_t))dlsym(h, "plugin_alloc");
  if (!alloc || !alloc((size_t)atol(argv[2]))) return 4;
  sleep_ms(atol(argv[3]));
  if (dlclose(h) != 0) return 5;
  sleep_ms(200);
  printf("ok=1\n");
  return 0;
}
