/*
** mmaps.c — the mmap cases the importer must split and join
** (tests/integration/test_mmap.c). Prints page=, the addresses involved and
** "ok=1". Also mallocs 7777 bytes once, a control row that is recorded even
** with FRAGTRACE_MMAP=0.
**
**  1. whole=  mmap 10 pages; munmap pages [4,6): the row ends, remnants
**             [0,4) and [6,10) (4 pages each, same stack) appear; the low
**             remnant is unmapped at the end, the high one leaked.
**  2. x=, y=  two 3-page mappings made adjacent (x then y right after it,
**             from different call sites); munmap of [x+2p, x+4p) spans both:
**             both rows end, remnants [x, x+2p) and [x+4p, x+6p) appear.
**             Both remnants are unmapped at the end.
**  3. grow=, grown=  mmap 2 pages, mremap to 8 pages (may move): the 2-page
**             row ends, an 8-page row starts at grown=; unmapped at the end.
**  4. fix=    mmap 4 pages, then MAP_FIXED 1 page over page 1 (another call
**             site): the 4-page row ends, remnants [0,1) and [2,4) plus the
**             new 1-page row; one munmap of all 4 pages at the end ends all 3.
**  5. shrink= mmap 6 pages, mremap in place to 2: the 6-page row ends, a
**             2-page row at the same address; unmapped at the end.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static long ps;
void *volatile sink;

static void *anon(void *at, size_t pages, int flags) {
  return mmap(at, pages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}

__attribute__((noinline)) void *map_whole(void) { return anon(NULL, 10, 0); }
__attribute__((noinline)) void *map_x(void *at) { return anon(at, 3, MAP_FIXED_NOREPLACE); }
__attribute__((noinline)) void *map_y(void *at) { return anon(at, 3, MAP_FIXED_NOREPLACE); }
__attribute__((noinline)) void *map_grow(void) { return anon(NULL, 2, 0); }
__attribute__((noinline)) void *map_fixbase(void) { return anon(NULL, 4, 0); }
__attribute__((noinline)) void *map_fixover(void *at) { return anon(at, 1, MAP_FIXED); }
__attribute__((noinline)) void *map_shrink(void) { return anon(NULL, 6, 0); }

int main(void) {
  ps = sysconf(_SC_PAGESIZE);
  printf("page=%ld\n", ps);
  void *ctl = malloc(7777);
  sink = ctl;

  /* 1. a hole in the middle */
  char *w = map_whole();
  if (w == MAP_FAILED) return 10;
  memset(w, 1, 10 * ps);
  if (munmap(w + 4 * ps, 2 * ps) != 0) return 11;
  printf("whole=%#lx\n", (unsigned long)(uintptr_t)w);

  /* 2. two adjacent mappings: find 6 free pages (reserve and release them),
  ** then place x and y there; retry if something else took the hole. */
  char *x = MAP_FAILED, *y = MAP_FAILED;
  for (int attempt = 0; attempt < 100 && y == MAP_FAILED; attempt++) {
    char *r = mmap(NULL, 6 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED) return 20;
    if (munmap(r, 6 * ps) != 0) return 21;
    x = map_x(r);
    if (x == MAP_FAILED) continue;
    if (x != r) return 22; /* an old kernel ignoring MAP_FIXED_NOREPLACE */
    y = map_y(r + 3 * ps);
    if (y == MAP_FAILED) {
      munmap(x, 3 * ps);
      continue;
    }
    if (y != r + 3 * ps) return 23;
  }
  if (y == MAP_FAILED) return 24;
  memset(x, 2, 6 * ps);
  if (munmap(x + 2 * ps, 2 * ps) != 0) return 25;
  printf("x=%#lx y=%#lx\n", (unsigned long)(uintptr_t)x, (unsigned long)(uintptr_t)y);

  /* 3. mremap growing a mapping */
  char *g = map_grow();
  if (g == MAP_FAILED) return 30;
  memset(g, 3, 2 * ps);
  char *h = mremap(g, 2 * ps, 8 * ps, MREMAP_MAYMOVE);
  if (h == MAP_FAILED) return 31;
  memset(h, 4, 8 * ps);
  printf("grow=%#lx grown=%#lx\n", (unsigned long)(uintptr_t)g, (unsigned long)(uintptr_t)h);

  /* 4. MAP_FIXED over the middle of a live mapping */
  char *f = map_fixbase();
  if (f == MAP_FAILED) return 40;
  if (map_fixover(f + ps) != f + ps) return 41;
  memset(f, 5, 4 * ps);
  printf("fix=%#lx\n", (unsigned long)(uintptr_t)f);

  /* 5. mremap shrinking in place */
  char *s = map_shrink();
  if (s == MAP_FAILED) return 50;
  if (mremap(s, 6 * ps, 2 * ps, 0) != s) return 51;
  printf("shrink=%#lx\n", (unsigned long)(uintptr_t)s);

  /* Unmapped only now, so no later mapping can land in the same place. */
  if (munmap(w, 4 * ps) != 0) return 12;
  if (munmap(x, 2 * ps) != 0 || munmap(x + 4 * ps, 2 * ps) != 0) return 26;
  if (munmap(h, 8 * ps) != 0) return 32;
  if (munmap(f, 4 * ps) != 0) return 42;
  if (munmap(s, 2 * ps) != 0) return 52;

  free(ctl);
  printf("ok=1\n");
  return 0;
}
