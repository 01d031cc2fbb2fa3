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

#define FT_SEEN_SLOTS 2048 /* per-thread direct-mapped cache of stacks already spilled */

/* ft_thread.state */
enum { FT_T_ACTIVE = 1, FT_T_EXITED = 2, FT_T_DEAD = 3, FT_T_CLAIMED = 4 };

/* One per thread that ever recorded an event. Nodes live in a list that only
** grows (pushed at the head with CAS); a DEAD node is reused by a new thread. */
typedef struct ft_thread {
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
} ft_global;

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

/* ---- ft_sampler.c ---- */
/* 1 when any sampler source has a non-zero interval. */
int ft_sampler_wanted(void);
/* The sampler thread: statm, mallinfo2 and the ft_sources.h text sources,
** each on its own interval, until ft_g.stop. */
void *ft_sampler_main(void *arg);

#endif
