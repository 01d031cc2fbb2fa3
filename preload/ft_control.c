/*
** ft_control.c — control of a running image's recording (issue 5): start
** paused (FRAGTRACE_PAUSED), resume after a delay (FRAGTRACE_DELAY_MS), stop
** for good after a duration (FRAGTRACE_DURATION_MS), and the control signal
** (FRAGTRACE_SIGNAL: sigqueue value 1 pause, 2 resume, 3 flush, 4 stop; a
** plain kill toggles pause/resume).
**
** Who does what: a request (signal handler or the writer's deadline check)
** flips ft_g.paused at once, so the hooks stop or start recording at the
** request's instant, and queues {action, time}; the writer thread writes the
** FT_CHUNK_CONTROL chunks and performs FLUSH and STOP (it may take locks,
** write files, join the sampler; a signal handler may not).
**
** Exactness at the boundaries: a hook records an allocation only if it sees
** "recording" both before and after taking its (fenced) timestamp. PAUSE
** stores the flag, then reads the clock; RESUME reads the clock, then stores
** the flag. So no recorded allocation has a time inside a paused period,
** whatever thread the signal lands on.
*/
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ft_prim.h"
#include "ft_shim.h"

/* Pending requests: a bounded multi-producer queue (handlers may run on
** several threads at once), single consumer (the writer). A slot is
** published by storing seq = its index + 1; the consumer stops at the first
** unpublished one. A full queue drops the request (64 pending requests mean
** the writer is stuck anyway). */
#define FT_CTLQ 64
typedef struct ctl_slot {
  _Atomic uint64_t seq;
  uint32_t action, source;
  uint64_t t_abs; /* CLOCK_MONOTONIC ns of the request */
} ctl_slot;
static ctl_slot ctlq[FT_CTLQ];
static _Atomic uint64_t ctlq_head, ctlq_tail;

/* Queue one request; async-signal-safe (atomics only). */
static void ctl_enqueue(uint32_t action, uint32_t source, uint64_t t_abs) {
  uint64_t h = atomic_load(&ctlq_head);
  do {
    if (h - atomic_load(&ctlq_tail) >= FT_CTLQ) return;
  } while (!atomic_compare_exchange_weak(&ctlq_head, &h, h + 1));
  ctl_slot *s = &ctlq[h % FT_CTLQ];
  s->action = action;
  s->source = source;
  s->t_abs = t_abs;
  atomic_store_explicit(&s->seq, h + 1, memory_order_release);
}

void ft_ctl_request(uint32_t action, uint32_t source) {
  if (atomic_load(&ft_g.phase) != FT_PHASE_ACTIVE || getpid() != ft_g.pid) return;
  uint64_t t;
  int v;
  if (action == 0) action = atomic_load(&ft_g.paused) == FT_REC_ON ? FT_CTL_PAUSE : FT_CTL_RESUME;
  switch (action) {
    case FT_CTL_PAUSE:
      v = FT_REC_ON;
      if (!atomic_compare_exchange_strong(&ft_g.paused, &v, FT_REC_PAUSED)) return; /* not recording */
      t = ft_now_ns(); /* after the flag is visible: see the header */
      break;
    case FT_CTL_RESUME: {
      t = ft_now_ns(); /* before the flag is visible */
      atomic_thread_fence(memory_order_seq_cst);
      v = FT_REC_PAUSED;
      if (!atomic_compare_exchange_strong(&ft_g.paused, &v, FT_REC_ON)) return; /* recording or stopped */
      uint64_t none = 0;
      atomic_compare_exchange_strong(&ft_g.first_record_abs, &none, t);
      break;
    }
    case FT_CTL_FLUSH:
      if (atomic_load(&ft_g.paused) == FT_REC_STOPPED) return;
      t = ft_now_ns();
      break;
    case FT_CTL_STOP:
      if (atomic_exchange(&ft_g.paused, FT_REC_STOPPED) == FT_REC_STOPPED) return;
      t = ft_now_ns();
      break;
    default:
      return;
  }
  ctl_enqueue(action, source, t);
  atomic_fetch_add(&ft_g.writer_word, 1);
  ft_futex_wake(&ft_g.writer_word);
}

/* The control signal's handler: async-signal-safe (atomics, clock_gettime,
** getpid, futex wake), errno preserved. Unknown sigqueue values are ignored. */
static void ctl_handler(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  int e = errno;
  int action = 0; /* plain kill: toggle */
  if (si && si->si_code == SI_QUEUE) action = si->si_value.sival_int;
  if (action >= 0 && action <= FT_CTL_STOP) ft_ctl_request((uint32_t)action, FT_CTLSRC_SIGNAL);
  errno = e;
}

/* Install the handler unless the signal already has one (a library loaded
** before us installed it: it keeps it). A program that installs its own
** handler later simply replaces ours. */
static void install_handler(void) {
  ft_g.control_signal = 0;
  int sig = ft_g.cfg.control_signal;
  if (!sig) return;
  struct sigaction old, sa;
  if (sigaction(sig, NULL, &old) != 0) return;
  if ((old.sa_flags & SA_SIGINFO) || (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)) {
    ft_warn3("the control signal (FRAGTRACE_SIGNAL) already has a handler; recording cannot be controlled", NULL,
             NULL);
    return;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = ctl_handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) == 0) ft_g.control_signal = sig;
}

void ft_control_init(int forked) {
  if (forked) {
    /* Same absolute deadlines, same paused state; the parent's pending
    ** requests are the parent's to write. */
    atomic_store(&ctlq_tail, atomic_load(&ctlq_head));
    ft_g.start_paused = atomic_load(&ft_g.paused) != FT_REC_ON;
    return;
  }
  const ft_config *c = &ft_g.cfg;
  int paused = c->paused || c->delay_ms > 0;
  atomic_store(&ft_g.paused, paused ? FT_REC_PAUSED : FT_REC_ON);
  ft_g.start_paused = paused;
  ft_g.delay_deadline_abs = c->delay_ms > 0 ? ft_g.start_mono + (uint64_t)c->delay_ms * 1000000u : 0;
  atomic_store(&ft_g.first_record_abs, paused ? 0 : ft_g.start_mono);
  install_handler();
}

int ft_ctl_process_locked(ft_control *stop) {
  ctl_slot got[FT_CTLQ];
  int n = 0;
  uint64_t tail = atomic_load(&ctlq_tail);
  while (n < FT_CTLQ) {
    ctl_slot *s = &ctlq[tail % FT_CTLQ];
    if (atomic_load_explicit(&s->seq, memory_order_acquire) != tail + 1) break;
    got[n].action = s->action;
    got[n].source = s->source;
    got[n].t_abs = s->t_abs;
    n++;
    atomic_store(&ctlq_tail, ++tail);
  }
  /* Handlers on two threads may publish out of order: write in time order. */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && got[j].t_abs < got[j - 1].t_abs; j--) {
      ctl_slot x = got[j];
      got[j] = got[j - 1];
      got[j - 1] = x;
    }
  for (int i = 0; i < n; i++) {
    ft_control c = {got[i].t_abs > ft_g.start_mono ? got[i].t_abs - ft_g.start_mono : 0, got[i].action,
                    got[i].source};
    if (c.action == FT_CTL_STOP) {
      *stop = c; /* written by ft_ctl_stop after the final drain; nothing follows a stop */
      return 1;
    }
    if (c.action == FT_CTL_FLUSH) {
      /* Everything published before the request is in the spill before the
      ** CONTROL FLUSH: a follower may treat the spill as complete up to it. */
      ft_drain_all_locked();
      ft_spill_clock();
      ft_spill_maps();
      ft_spill_totals(1);
    }
    ft_spill_append(FT_CHUNK_CONTROL, 0, &c, sizeof c, NULL, 0);
  }
  return 0;
}

uint64_t ft_ctl_deadlines(uint64_t cap) {
  uint64_t now = ft_now_ns(), wait = cap;
  if (ft_g.delay_deadline_abs) {
    if (now >= ft_g.delay_deadline_abs) {
      ft_g.delay_deadline_abs = 0;
      ft_ctl_request(FT_CTL_RESUME, FT_CTLSRC_DELAY);
    } else if (ft_g.delay_deadline_abs - now < wait) {
      wait = ft_g.delay_deadline_abs - now;
    }
  }
  uint64_t first = atomic_load(&ft_g.first_record_abs);
  if (ft_g.cfg.duration_ms > 0 && first && atomic_load(&ft_g.paused) != FT_REC_STOPPED) {
    uint64_t end = first + (uint64_t)ft_g.cfg.duration_ms * 1000000u;
    if (now >= end) ft_ctl_request(FT_CTL_STOP, FT_CTLSRC_DURATION);
    else if (end - now < wait) wait = end - now;
  }
  return wait;
}

void ft_ctl_stop(const ft_control *c) {
  int expected = FT_PHASE_ACTIVE;
  if (!atomic_compare_exchange_strong(&ft_g.phase, &expected, FT_PHASE_DONE)) return; /* exit got there first */
  atomic_store(&ft_g.stopping, 1);
  /* The sampler's last pass runs under the drain lock before we take it. */
  atomic_store(&ft_g.stop, 1);
  atomic_fetch_add(&ft_g.sampler_word, 1);
  ft_futex_wake(&ft_g.sampler_word);
  if (ft_g.background_started == 2) pthread_join(ft_g.sampler, NULL);
  pthread_mutex_lock(&ft_g.drain_lock);
  ft_drain_all_locked();
  ft_spill_clock();
  ft_spill_maps();
  ft_spill_totals(1);
  ft_spill_append(FT_CHUNK_CONTROL, 0, c, sizeof *c, NULL, 0);
  ft_spill_close();
  pthread_mutex_unlock(&ft_g.drain_lock);
  atomic_store(&ft_g.writer_alive, 0);
  ft_g.background_started = 0;
  if (!ft_g.record_mode) ft_import_own_spills();
  pthread_detach(pthread_self()); /* nobody joins a writer that ended this way */
  atomic_store(&ft_g.stopping, 2);
}
