/*
** ft_shim.h — state shared by the shim's translation units: the hooks
** (ft_shim.c), the background writer (ft_writer.c) and sampler (ft_sampler.c).
** Everything here is hidden (-fvisibility=hidden); only the intercepted libc
** symbols are exported.
*/
#ifndef FT_SHIM_H
#define FT_SHIM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ft_config.h"
#include "ft_format.h"
#include "ft_ring.h"
#include "ft_sampling.h"

#define FT_SEEN_SLOTS 2048 /* per-thread direct-mapped cache of stacks already spilled */

/* ft_thread.state */
enum { FT_T_ACTIVE = 1, FT_T_EXITED = 2, FT_T_DEAD = 3, FT_T_CLAIMED = 4 };

/* Exact per-thread counters (ft_totals). Only the owning thread writes them
** (relaxed load + store: a plain add), the writer sums them. A node keeps
** its counts when a new thread reuses it, so a dead thread's counts are
** never lost; a fork child zeroes them. */
typedef struct ft_counts {
  _Atomic uint64_t allocs, frees, alloc_bytes, usable_alloc, usable_free, sampled, untracked;
} ft_counts;

/* One per thread that ever recorded an event. Nodes live in a list that only
** grows (pushed at the head with CAS); a DEAD node is reused by a new thread. */
typedef struct ft_thread {
  ft_counts counts;             /* first: the hot path touches it on every call */
  uint64_t countdown;           /* byte sampling: bytes left before the next sample (owner only) */
  ft_rng rng;                   /* byte sampling: the owner's generator */
  ft_ring ring;                 /* producer: the owning thread; consumer: drain-lock holder */
  struct ft_thread *next;       /* immutable once the node is on the list */
  _Atomic int state;            /* ACTIVE -> EXITED (key destructor) -> DEAD (writer, thread gone) */
  _Atomic int tid;              /* owner's tid; written by the owner when it claims the node */
  _Atomic uint64_t dropped;     /* events dropped (lossy mode, or no writer); only written by the owner */
  _Atomic int poked;            /* owner asked the writer for a drain; the writer clears it */
  uint64_t seen[FT_SEEN_SLOTS]; /* only touched by the owning thread */
} ft_thread;

/* ft_global.phase */
enum { FT_PHASE_OFF = 0, FT_PHASE_INIT = 1, FT_PHASE_ACTIVE = 2, FT_PHASE_DONE = 3 };

typedef struct ft_global {
  _Atomic int phase;         /* OFF -> INIT -> ACTIVE -> DONE (final flush done, or disabled) */
  ft_config cfg;             /* written during init (and the fork child's re-init) only */
  int pid;                   /* this image's pid, set at init and in the fork child */
  int record_mode;           /* spills go to cfg.spill_dir and `fragtrace record` imports them */
  uint64_t start_mono;       /* time zero of this image (CLOCK_MONOTONIC ns) */
  uint64_t start_unix;
  uint64_t start_ticks;       /* ft_ticks() at start_mono: event times are relative to it */
  long page_size;
  int spill_fd;              /* O_APPEND: every chunk is one writev, so appenders never interleave */
  char spill_path[FT_PATH_MAX];
  char output_path[FT_PATH_MAX];
  char self_path[FT_PATH_MAX]; /* path of libfragtrace.so, for LD_PRELOAD and finding the CLI */
  _Atomic(ft_thread *) threads;
  atomic_uint writer_word;   /* futex word: bumped to wake the writer early */
  atomic_uint sampler_word;  /* futex word: bumped to stop the sampler */
  _Atomic int stop;          /* background threads must exit */
  _Atomic int writer_alive;  /* the writer runs in this image: a full ring will drain */
  pthread_mutex_t drain_lock; /* serializes consumers: writer, exec and exit flushes */
  pthread_t writer, sampler;
  int background_started;
  int exit_status;           /* from on_exit/_exit; -1 unknown */
  unsigned long long dl_adds; /* dl_iterate_phdr counters at the last maps snapshot */
  uint64_t dropped_reported; /* last cumulative drop count spilled; drain-lock holder only */
  _Atomic uint64_t shim_bytes; /* ring memory mapped by the shim */
  /* Production mode (issue 5). */
  uint64_t sample_bytes;     /* N of byte sampling (cfg.sample_bytes), 0 = full capture */
  uint64_t seed;             /* seed actually used (FRAGTRACE_SEED or from time and pid) */
  ft_stable stable;          /* sampled blocks (sample_bytes > 0 only) */
  atomic_uint thread_ordinal; /* threads attached so far: seeds their generators */
  _Atomic int paused;        /* FT_REC_*: read relaxed on the hot path */
  int control_signal;        /* signal whose handler we installed, 0 = none */
  int start_paused;          /* this image's recording began paused (FT_MODE_START_PAUSED) */
  _Atomic uint64_t first_record_abs; /* CLOCK_MONOTONIC when recording first ran, 0 = not yet */
  uint64_t delay_deadline_abs;       /* FRAGTRACE_DELAY_MS: resume at this instant, 0 = none */
  _Atomic int stopping;      /* 1 while the writer performs a STOP, 2 when it is done */
  ft_totals totals_last;     /* last TOTALS written (t_ns 0); drain-lock holder only */
  int totals_written;        /* a TOTALS chunk is in this spill; drain-lock holder only */
  /* FRAGTRACE_MAX_SIZE bookkeeping (drain-lock holder, except spill_bytes). */
  _Atomic uint64_t spill_bytes; /* bytes in this image's spill */
  int events_off;            /* the spill passed 75 %: no more event chunks */
  uint64_t thinned;          /* events not written because of that */
  uint64_t over_seen, over_next, over_k; /* sample chunks past 100 %: write the over_next-th, k doubling */
} ft_global;

/* ft_global.paused */
enum { FT_REC_ON = 0, FT_REC_PAUSED = 1, FT_REC_STOPPED = 2 };

extern ft_global ft_g;

/* ---- ft_writer.c ---- */
/* Create this image's spill file and write its header and process chunks.
** Returns 0, or -1 after one warning (the image then runs untraced). */
int ft_spill_open(int forked, int ppid, uint64_t parent_start_mono);
/* Close the spill descriptor, unless the program closed it already and the
** number now belongs to one of its own files. */
void ft_spill_close(void);
/* Append one chunk (payload a then b) with a single writev. */
void ft_spill_append(uint32_t type, int tid, const void *a, size_t alen, const void *b, size_t blen);
/* Snapshot /proc/self/maps into the spill. */
void ft_spill_maps(void);
/* Drain every ring into the spill (takes the drain lock / caller holds it). */
void ft_drain_all(void);
void ft_drain_all_locked(void);
/* Spill a (ticks, ns) pair so the importer can convert TSC event times. */
void ft_spill_clock(void);
/* Start / stop the writer and sampler threads of this image. */
int ft_background_start(void);
void ft_background_stop(void);

/* Write a TOTALS chunk if the sums changed since the last one, or always
** when force. Caller holds the drain lock. */
void ft_spill_totals(int force);
/* Sum every thread's counters into *out (t_ns and thinned filled too). */
void ft_totals_sum(ft_totals *out);

/* ---- ft_shim.c ---- */
/* Plain LD_PRELOAD mode: convert this image's spills into the trace (spawns
** `fragtrace import` and waits for that child only). */
void ft_import_own_spills(void);

/* ---- ft_control.c ---- */
/* Set up recording control at init: paused state, deadlines, the signal
** handler. In the fork child (forked = 1): keep the paused state and the
** deadlines, forget the parent's pending requests. */
void ft_control_init(int forked);
/* Ask for a control action (async-signal-safe: the signal handler and the
** writer's deadlines call it). PAUSE/RESUME/STOP flip ft_g.paused at once;
** the writer writes the CONTROL chunk. Redundant requests are ignored. */
void ft_ctl_request(uint32_t action, uint32_t source);
/* Writer thread, drain lock held: act on pending requests in time order
** (CONTROL chunks, FLUSH sequences). Returns 1 and fills *stop when a STOP
** is to be performed (ft_ctl_stop, after releasing the lock), else 0. */
int ft_ctl_process_locked(ft_control *stop);
/* Writer thread: raise the requests whose deadlines passed (delay, duration)
** and return how long to sleep at most before the next one (ns, <= cap). */
uint64_t ft_ctl_deadlines(uint64_t cap);
/* Writer thread, no lock held: end recording for good (the STOP in *c):
** phase DONE, sampler joined, final drain, clock, maps, totals, CONTROL STOP,
** spill closed, then the plain-mode import; the program runs on untraced. */
void ft_ctl_stop(const ft_control *c);

/* ---- ft_sampler.c ---- */
/* 1 when any sampler source has a non-zero interval. */
int ft_sampler_wanted(void);
/* The sampler thread: statm, mallinfo2 and the ft_sources.h text sources,
** each on its own interval, until ft_g.stop. */
void *ft_sampler_main(void *arg);

#endif
