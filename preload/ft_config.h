/*
** ft_config.h — the shim's settings, read from FRAGTRACE_* environment
** variables. Parsing is pure (a lookup callback instead of getenv, a warn
** callback instead of stderr) so it is unit-tested; a bad value yields one
** warning and the default, never a failure of the target.
*/
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define FT_PATH_MAX 4096
#define FT_MAX_DEPTH 256

/* The control signal when FRAGTRACE_SIGNAL is not set. Not USR1/USR2: nginx,
** postgres, redis, memcached, apache and many JVM tools already use those; a
** real-time signal is queued (sigqueue values are never merged) and glibc
** reserves only the first two (SIGRTMIN skips them). */
#define FT_DEFAULT_CONTROL_SIGNAL (SIGRTMIN + 5)
#define FT_SAMPLE_TABLE_DEFAULT (1u << 18)

typedef struct ft_config {
  char output[FT_PATH_MAX];    /* FRAGTRACE_OUTPUT: trace path template (%p pid, %t unix time, %% a %) */
  char spill_dir[FT_PATH_MAX]; /* FRAGTRACE_SPILL_DIR: set by `fragtrace record`; spills only, no import */
  int depth;                   /* FRAGTRACE_DEPTH: frames per stack, 1..256, default 64 */
  int flush_ms;                /* FRAGTRACE_FLUSH_MS: writer drain interval, 1..1000, default 100 */
  int sample_ms;               /* FRAGTRACE_SAMPLE_MS: sampler interval, 0 (off) or 1..60000, default 100 */
  int track_mmap;              /* FRAGTRACE_MMAP: 0/1, default 1 */
  int buffer_kb;               /* FRAGTRACE_BUFFER_KB: per-thread ring, 64..65536, default 1024 */
  int lossy;                   /* FRAGTRACE_LOSSY: 0/1, default 0 (threads wait for the writer) */
  /* Sampler sources (issue 4); intervals in ms, 0 = off. */
  int sys_sample_ms;           /* FRAGTRACE_SYS_SAMPLE_MS: meminfo, vmstat; 0..3600000, default 1000 */
  int pagetypeinfo_ms;         /* FRAGTRACE_PAGETYPEINFO_MS: /proc/pagetypeinfo; 0..3600000, default 10000
                               ** (the kernel walks every free list under the zone lock: ~6 ms a read) */
  int slabinfo_ms;             /* FRAGTRACE_SLABINFO_MS: /proc/slabinfo; 0..3600000, default 10000 */
  int smaps_ms;                /* FRAGTRACE_SMAPS_MS: /proc/self/smaps_rollup; 0..3600000, default 1000 */
  int mallinfo_ms;             /* FRAGTRACE_MALLINFO_MS: glibc mallinfo2(); 0..3600000, default 1000 */
  char proc_dir[FT_PATH_MAX];  /* FRAGTRACE_PROC_DIR: where the system sources are read, default "/proc" (tests) */
  /* Production mode (issue 5). */
  uint64_t sample_bytes;       /* FRAGTRACE_SAMPLE_BYTES: byte-sampling mean N, 0 (full capture, default)
                               ** .. 2^40; K/M/G suffixes */
  uint64_t seed;               /* FRAGTRACE_SEED: unsigned 64-bit decimal; 0 (default) = from time and pid */
  uint64_t sample_table;       /* FRAGTRACE_SAMPLE_TABLE: slots of the sampled-block table, 1024..2^26,
                               ** rounded up to a power of two; default 2^18 */
  int paused;                  /* FRAGTRACE_PAUSED: 0/1, default 0: start with recording paused */
  long delay_ms;               /* FRAGTRACE_DELAY_MS: 0..86400000, default 0: start paused, resume after it */
  long duration_ms;            /* FRAGTRACE_DURATION_MS: 0 (unlimited, default)..31536000000: stop
                               ** recording for good that long after it (first) started */
  int control_signal;          /* FRAGTRACE_SIGNAL: number or name; 0 = none; default FT_DEFAULT_CONTROL_SIGNAL */
  uint64_t max_size;           /* FRAGTRACE_MAX_SIZE: spill size bound in bytes (K/M/G), 0 = none (default) */
} ft_config;

typedef const char *(*ft_getenv_fn)(const char *name);
typedef void (*ft_warn_fn)(const char *name, const char *value, const char *why);

/* Fill c with defaults, then apply every FRAGTRACE_* variable get() knows.
** Each invalid value calls warn() once and keeps the default. */
void ft_config_load(ft_config *c, ft_getenv_fn get, ft_warn_fn warn);

/* Parse a whole decimal integer in [min, max]. Returns 0, or -1 if s is not
** exactly such a number. */
int ft_parse_long(const char *s, long min, long max, long *out);

/* Parse a whole unsigned decimal 64-bit number. Returns 0, or -1. */
int ft_parse_u64(const char *s, uint64_t *out);

/* Parse a byte count: decimal with an optional binary suffix K, M, G or T
** (optionally followed by B or iB: "512k", "4MiB"). Returns 0, or -1. */
int ft_parse_bytes(const char *s, uint64_t *out);

/* Parse a control signal: "0" or "none" (0: no signal), a number that is
** SIGUSR1, SIGUSR2 or in SIGRTMIN..SIGRTMAX, or a name with or without
** "SIG": USR1, USR2, RTMIN, RTMIN+N, RTMAX, RTMAX-N (any case). Other
** signals are refused (their default actions and meanings belong to the
** program). Returns 0 with *out set, or -1. */
int ft_parse_signal(const char *s, int *out);

/* Expand %p (pid), %t (unix seconds) and %% in tmpl into out[cap]. Returns
** 0, or -1 when the result does not fit or has an unknown % escape. */
int ft_expand_output(const char *tmpl, int pid, uint64_t unix_s, char *out, size_t cap);

#endif
