/*
** mixed_lifetimes.c — the lifetime-mix example: one call site whose blocks
** are both very short- and very long-lived. conn_buffer serves every
** connection's buffer; most connections finish at once and free it, but
** every PARK_EVERY-th is parked (a keep-alive connection) for PARK_NS, so
** its long-lived buffers sit between short-lived ones from the same site.
** parse_header is the clean counterpart: every block freed at once.
** fragtrace must flag conn_buffer (site_lifetime_mix, the lifetime-mix
** finding) and not parse_header.
**
** usage: mixed_lifetimes [connections=1000]
** Runs about 1.2 s: the parked buffers must outlive 2^30 ns (~1.07 s).
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_SIZE 4096
#define HDR_SIZE 128
#define PARK_EVERY 4                /* 25 % of the connections are parked */
#define PARK_NS 1150000000L         /* > 2^30 ns, fragtrace's "long-lived", with a margin */
#define MAX_PARKED 65536

static char *parked[MAX_PARKED];
static unsigned nparked;

/* A connection's buffer. */
__attribute__((noinline)) static char *conn_buffer(void) {
  char *b = malloc(BUF_SIZE);
  if (!b) abort();
  memset(b, 0, BUF_SIZE);
  return b;
}

/* A parsed header, always dropped at once. */
__attribute__((noinline)) static char *parse_header(const char *buf) {
  char *h = malloc(HDR_SIZE);
  if (!h) abort();
  memcpy(h, buf, HDR_SIZE);
  return h;
}

int main(int argc, char **argv) {
  unsigned conns = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
  for (unsigned i = 0; i < conns; i++) {
    char *b = conn_buffer();
    free(parse_header(b));
    /* Freed right after use: short-lived, unless the connection is kept. */
    if (i % PARK_EVERY == 0 && nparked < MAX_PARKED)
      parked[nparked++] = b;
    else
      free(b);
  }
  struct timespec park = {PARK_NS / 1000000000L, PARK_NS % 1000000000L};
  while (nanosleep(&park, &park) != 0) {
  }
  for (unsigned i = 0; i < nparked; i++) free(parked[i]);
  return 0;
}
