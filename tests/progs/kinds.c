/*
** kinds.c — every malloc-family entry point once, with distinctive sizes, in
** a known order (tests/integration/test_basic.c asserts the trace of it).
** Prints the addresses of the realloc chain as "chainN=0x..." and exits 3.
**
** Rows it makes (size: kind, fate):
**   10001  malloc    freed
**   777    calloc    leaked       (calloc(7, 111))
**   17     malloc    freed by realloc
**   1017   realloc   freed by realloc
**   100017 realloc   freed
**   2001   memalign  freed        (posix_memalign)
**   2002   memalign  freed        (aligned_alloc)
**   2003   memalign  leaked       (memalign)
**   2004   memalign  freed        (valloc)
**   2005   memalign  freed        (pvalloc)
**   3003   realloc   freed by reallocarray (reallocarray(NULL, 3, 1001))
**   5005   realloc   freed        (reallocarray(p, 5, 1001))
**   4321   malloc    leaked       (strdup of a 4320-char string)
**   6006   malloc    freed by realloc(p, 0), which makes no new row
**   5555   malloc x10 freed
**   3145729 malloc   freed        (above the mmap threshold: still one malloc row)
**   8181   malloc    freed        (after a realloc of it to a huge size failed)
** and calls that fail and record nothing: free(NULL) five times, malloc,
** calloc, realloc, reallocarray of impossible sizes, posix_memalign with a
** bad alignment.
*/
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *volatile sink; /* keeps the compiler from reasoning about the blocks */
volatile size_t impossible_size = SIZE_MAX - 4096;

int main(void) {
  void *p = malloc(10001);
  sink = p;
  free(p);

  sink = calloc(7, 111);

  char *a = malloc(17);
  if (!a) return 99;
  strcpy(a, "chain");
  uintptr_t a0 = (uintptr_t)a;
  char *b = realloc(a, 1017);
  if (!b) return 99;
  uintptr_t a1 = (uintptr_t)b;
  char *c = realloc(b, 100017);
  if (!c || strcmp(c, "chain") != 0) return 99;
  printf("chain0=%#lx chain1=%#lx chain2=%#lx\n", (unsigned long)a0, (unsigned long)a1,
         (unsigned long)(uintptr_t)c);
  free(c);

  void *m1 = NULL;
  if (posix_memalign(&m1, 64, 2001) != 0) return 98;
  void *m2 = aligned_alloc(256, 2002);
  void *m3 = memalign(512, 2003);
  void *m4 = valloc(2004);
  void *m5 = pvalloc(2005);
  if (!m2 || !m3 || !m4 || !m5) return 97;
  sink = m3;
  free(m1);
  free(m2);
  free(m4);
  free(m5);

  void *r = reallocarray(NULL, 3, 1001);
  void *r2 = reallocarray(r, 5, 1001);
  if (!r2) return 96;
  free(r2);

  char big[4321];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  sink = strdup(big);

  void *z = malloc(6006);
  sink = z;
  sink = realloc(z, 0);

  void *ten[10];
  for (int i = 0; i < 10; i++) ten[i] = malloc(5555);
  for (int i = 0; i < 10; i++) free(ten[i]);

  void *huge = malloc((size_t)3 << 20 | 1);
  sink = huge;
  free(huge);

  /* Failures: nothing allocated, nothing recorded. */
  size_t impossible = impossible_size; /* volatile: no compile-time warnings */
  if (malloc(impossible) || calloc(impossible / 2, 4) || reallocarray(NULL, impossible, 2)) return 95;
  void *keep = malloc(8181);
  if (!keep || realloc(keep, impossible) != NULL) return 94; /* keep is still ours */
  void *bad = NULL;
  if (posix_memalign(&bad, 3, 100) == 0) return 93;
  free(keep);

  for (int i = 0; i < 5; i++) free(NULL);
  fflush(stdout);
  return 3;
}
