/*
** ft_config.h — the shim's settings, read from FRAGTRACE_* environment
** variables. Parsing is pure (a lookup callback instead of getenv, a warn
** callback instead of stderr) so it is unit-tested; a bad value yields one
** warning and the default, never a failure of the target.
*/
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define FT_PATH_MAX 4096
#define FT_MAX_DEPTH 256

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
} ft_config;

typedef const char *(*ft_getenv_fn)(const char *name);
typedef void (*ft_warn_fn)(const char *name, const char *value, const char *why);

/* Fill c with defaults, then apply every FRAGTRACE_* variable get() knows.
** Each invalid value calls warn() once and keeps the default. */
void ft_config_load(ft_config *c, ft_getenv_fn get, ft_warn_fn warn);

/* Parse a whole decimal integer in [min, max]. Returns 0, or -1 if s is not
** exactly such a number. */
int ft_parse_long(const char *s, long min, long max, long *out);

/* Expand %p (pid), %t (unix seconds) and %% in tmpl into out[cap]. Returns
** 0, or -1 when the result does not fit or has an unknown % escape. */
int ft_expand_output(const char *tmpl, int pid, uint64_t unix_s, char *out, size_t cap);

#endif
