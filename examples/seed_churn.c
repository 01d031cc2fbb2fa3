/*
** seed_churn.c — the churn scenario of the seed document ("diagnosing
** memory fragmentation") in C: a worker keeps allocating buffers of varying
** size (10 KiB .. 5 MiB), fills them, holds a batch of them, and releases
** the whole batch periodically. Beside it a slow, steady bookkeeping site
** (small records) shows what a well-behaved site looks like next to the
** churning one. `fragtrace report` ranks alloc_buffer first in churn.
**
** usage: seed_churn [rounds=40] [buffers per round=32]
** Runs about a second with the defaults.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 256

static unsigned long long seed = 0x2545f4914f6cdd1dull;

/* xorshift64: deterministic sizes, so runs are comparable. */
static unsigned long long next_random(void) {
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return seed;
}

/* The churning site: a buffer of 10 KiB .. 5 MiB, written like real data
** (which is what makes it resident). noinline: the allocation's caller is
** this function, as the report names it. */
__attribute__((noinline)) static char *alloc_buffer(void) {
  size_t size = (10u << 10) + (size_t)(next_random() % ((5u << 20) - (10u << 10)));
  char *b = malloc(size);
  if (b) memset(b, (int)(size & 0xff), size);
  return b;
}

/* The steady site: one small record per round, kept until exit. */
__attribute__((noinline)) static void *add_record(unsigned round) {
  unsigned *r = malloc(64);
  if (r) r[0] = round;
  return r;
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 40;
  unsigned per_round = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 32;
  if (per_round > MAX_BATCH) per_round = MAX_BATCH;
  static char *batch[MAX_BATCH];
  static void *records[4096];
  unsigned long sum = 0;
  for (unsigned r = 0; r < rounds; r++) {
    for (unsigned i = 0; i < per_round; i++) {
      batch[i] = alloc_buffer();
      if (batch[i]) sum += (unsigned char)batch[i][0];
    }
    if (r < sizeof records / sizeof records[0]) records[r] = add_record(r);
    /* the periodic release of the seed's script */
    for (unsigned i = 0; i < per_round; i++) free(batch[i]);
    pause_ms(10);
  }
  for (unsigned r = 0; r < rounds && r < sizeof records / sizeof records[0]; r++) free(records[r]);
  return (int)(sum & 1) * 0; /* sum keeps the writes; the exit status stays 0 */
}
