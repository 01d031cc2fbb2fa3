/*
** ft_format.h — the raw spill format: what the preload shim writes while the
** target runs, and what the importer (reporter/ft_import.c) turns into the
** SQLite trace afterwards.
**
** Why a spill and not SQLite directly: the shim must never make an allocating
** thread wait for B-tree inserts. Threads append fixed-size records to their
** own rings; the writer thread copies whole rings into this file with one
** writev() per chunk. Everything clever (ordering, matching frees to
** allocations, partial munmaps, symbols) happens offline in the importer.
**
** Layout: one ft_file_header, then chunks. Each chunk is an ft_chunk header
** followed by `len` payload bytes, padded with zeros to a multiple of 8.
** Chunks are appended with a single write()/writev() on an O_APPEND fd, so
** concurrent appenders (writer, sampler, exit path) never interleave inside a
** chunk. A reader stops at the first truncated or malformed chunk: that is
** what a SIGKILL leaves behind, and everything before it is kept.
**
** All times are relative to the image's start (header.start_mono_ns,
** CLOCK_MONOTONIC), so they are comparable across threads of one image.
** Chunk times are nanoseconds. Event times are nanoseconds too, unless the
** header has FT_FLAG_TSC: then they are TSC ticks since header.start_ticks,
** and FT_CHUNK_CLOCK pairs (ticks, ns) map them to nanoseconds (piecewise
** linear; the pair (0, 0) is implied).
*/
#ifndef FT_FORMAT_H
#define FT_FORMAT_H

#include <stdint.h>

#define FT_SPILL_MAGIC "FTSPILL1" /* 8 bytes, no terminator in the file */
#define FT_SPILL_VERSION 1u

/* ft_file_header.flags */
#define FT_FLAG_FORKED 0x1u /* image begun by fork(): parent_* fields are valid */
#define FT_FLAG_TSC 0x2u    /* event times are TSC ticks since start_ticks (see FT_CHUNK_CLOCK) */
#define FT_FLAG_SAMPLED 0x4u /* heap allocation events are byte-sampled (FT_CHUNK_MODE.sample_bytes > 0) */

typedef struct ft_file_header {
  char magic[8];                 /* FT_SPILL_MAGIC */
  uint32_t version;              /* FT_SPILL_VERSION */
  uint32_t header_size;          /* sizeof(ft_file_header); chunks start here */
  int32_t pid;                   /* getpid() of this image */
  int32_t ppid;                  /* getppid() at image start */
  uint64_t start_mono_ns;        /* CLOCK_MONOTONIC at image start: time zero */
  uint64_t start_unix_ns;        /* CLOCK_REALTIME at the same instant */
  uint32_t page_size;            /* sysconf(_SC_PAGESIZE) */
  uint32_t flags;                /* FT_FLAG_* */
  uint64_t parent_start_mono_ns; /* FORKED: the parent image's start_mono_ns */
  uint32_t stack_depth;          /* configured maximum frames per stack */
  uint32_t reserved;
  uint64_t start_ticks;          /* FT_FLAG_TSC: the TSC at start_mono_ns */
} ft_file_header; /* 72 bytes */

/* ft_chunk.type */
enum ft_chunk_type {
  FT_CHUNK_EVENTS = 1,    /* payload: ft_event[len/32] of thread `tid`, in its order */
  FT_CHUNK_CMDLINE = 2,   /* payload: /proc/self/cmdline bytes (NUL separated) */
  FT_CHUNK_EXE = 3,       /* payload: readlink(/proc/self/exe), no NUL */
  FT_CHUNK_MAPS = 4,      /* payload: uint64 t_ns, then /proc/self/maps text */
  FT_CHUNK_SAMPLE = 5,    /* payload: ft_sample */
  FT_CHUNK_BUDDYINFO = 6, /* payload: uint64 t_ns, then /proc/buddyinfo text */
  FT_CHUNK_EXEC = 7,      /* payload: uint64 t_ns; the image calls execve now */
  FT_CHUNK_EXIT = 8,      /* payload: ft_exit; the image's final flush */
  FT_CHUNK_DROPPED = 9,   /* payload: uint64 events dropped so far (cumulative) */
  FT_CHUNK_THREAD = 10,   /* payload: uint64 t_ns; thread `tid` started (first event) */
  FT_CHUNK_EVENTS_PACKED = 11, /* payload: ring records of thread `tid` encoded by ft_pack.h */
  FT_CHUNK_CLOCK = 12,    /* payload: ft_clock_pair; FT_FLAG_TSC images write one per drain */
  /* System and process samples (issue 4): raw text, parsed by the importer. */
  FT_CHUNK_MEMINFO = 13,      /* payload: uint64 t_ns, then /proc/meminfo text */
  FT_CHUNK_VMSTAT = 14,       /* payload: uint64 t_ns, then /proc/vmstat text */
  FT_CHUNK_PAGETYPEINFO = 15, /* payload: uint64 t_ns, then /proc/pagetypeinfo text */
  FT_CHUNK_SLABINFO = 16,     /* payload: uint64 t_ns, then /proc/slabinfo text */
  FT_CHUNK_SMAPS = 17,        /* payload: uint64 t_ns, then /proc/self/smaps_rollup text */
  FT_CHUNK_MALLINFO = 18,     /* payload: ft_mallinfo */
  FT_CHUNK_SOURCE = 19,       /* payload: ft_source_note, then detail text (no NUL); once per source */
  /* Production mode (issue 5). */
  FT_CHUNK_MODE = 20,    /* payload: ft_mode; once, right after the process chunks at spill open */
  FT_CHUNK_TOTALS = 21,  /* payload: ft_totals; the image's exact cumulative counters (every
                         ** allocation, sampled or not, paused or not); written by the writer
                         ** when they changed since the last one (at most once per drain) and
                         ** at every final, flush or stop */
  FT_CHUNK_CONTROL = 22, /* payload: ft_control; recording paused / resumed / flushed / stopped */
  FT_CHUNK_TYPE_MAX = 22
};

typedef struct ft_chunk {
  uint32_t type; /* enum ft_chunk_type */
  uint32_t len;  /* payload bytes, before padding */
  int32_t tid;   /* producing thread, 0 for process-level chunks */
  uint32_t reserved;
} ft_chunk; /* 16 bytes */

/* ---- events: fixed 32-byte records, the unit of the per-thread rings ---- */

/* Low 8 bits of ft_event.t_type. Alloc types equal the kind codes of the
** schema's alloc_kinds table (0..4). */
enum ft_event_type {
  FT_EV_MALLOC = 0,   /* a=address n=size s=stack hash */
  FT_EV_CALLOC = 1,   /* a=address n=nmemb*size s=stack hash */
  FT_EV_REALLOC = 2,  /* a=new address n=new size s=stack; preceded by FT_EV_FREE of the old block */
  FT_EV_MEMALIGN = 3, /* posix_memalign/aligned_alloc/memalign/valloc/pvalloc */
  FT_EV_MMAP = 4,     /* a=start n=length s=stack (also the new range of mremap) */
  FT_EV_FREE = 8,     /* a=address (also the old block of a realloc) */
  FT_EV_MUNMAP = 9,   /* a=start n=length (also the old range of mremap) */
  FT_EV_STACK = 16,   /* s=hash n=depth; followed by ceil(n/4) raw records of 4 IPs */
};

#define FT_EV_TYPE(t_type) ((unsigned)((t_type)&0xffu))
#define FT_EV_TIME(t_type) ((t_type) >> 8)
#define FT_EV_MAKE(t_ns, type) (((uint64_t)(t_ns) << 8) | (uint64_t)(type))

typedef struct ft_event {
  uint64_t t_type; /* (ns since image start) << 8 | ft_event_type */
  uint64_t a;      /* address */
  uint64_t n;      /* size in bytes */
  uint64_t s;      /* stack hash (64-bit; 0 = no stack) */
} ft_event;

#define FT_IPS_PER_RECORD 4 /* a stack continuation record is uint64_t ip[4] */

typedef struct ft_sample {
  uint64_t t_ns;
  uint64_t rss_bytes;  /* /proc/self/statm resident * page size */
  uint64_t vm_bytes;   /* /proc/self/statm size * page size */
  uint64_t shim_bytes; /* memory the shim itself holds (rings), included in rss_bytes at most */
} ft_sample;

typedef struct ft_clock_pair {
  uint64_t ticks; /* TSC ticks since header.start_ticks */
  uint64_t ns;    /* CLOCK_MONOTONIC ns since header.start_mono_ns, read at the same instant */
} ft_clock_pair;

/* Sources of the sampler, for FT_CHUNK_SOURCE (names: schema sample_sources). */
enum ft_source_id {
  FT_SRC_STATM = 1,
  FT_SRC_BUDDYINFO = 2,
  FT_SRC_PAGETYPEINFO = 3,
  FT_SRC_MEMINFO = 4,
  FT_SRC_VMSTAT = 5,
  FT_SRC_SLABINFO = 6,
  FT_SRC_SMAPS = 7,
  FT_SRC_MALLINFO = 8,
  FT_SRC_MAX = 8
};

/* ft_source_note.status */
enum ft_source_status {
  FT_SRCST_OK = 0,         /* first read succeeded */
  FT_SRCST_MISSING = 1,    /* no such file (ENOENT): this kernel lacks it */
  FT_SRCST_UNREADABLE = 2, /* open/read failed otherwise (EACCES: root only); err says why */
  FT_SRCST_SKIPPED = 3,    /* not applicable (mallinfo: malloc is not glibc's); detail says why */
  FT_SRCST_OFF = 4         /* interval 0 */
};

typedef struct ft_source_note {
  uint32_t source;      /* enum ft_source_id */
  uint32_t status;      /* enum ft_source_status */
  int32_t err;          /* errno of the failure, 0 otherwise */
  uint32_t interval_ms; /* configured interval of the source */
} ft_source_note;       /* followed by detail text: the path read, or the reason */

typedef struct ft_mallinfo { /* glibc mallinfo2(), all arenas */
  uint64_t t_ns;
  uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
} ft_mallinfo;

/* ---- production mode (issue 5) ---- */

/* Byte sampling: with sample_bytes = N > 0, every thread keeps a countdown of
** bytes drawn from an exponential distribution of mean N; an allocation of
** n bytes is recorded (unwound, written as an event) when it takes the
** countdown to zero or below, after which a new countdown is drawn. That
** samples it with probability p(n) = 1 - exp(-n / N), independently of every
** other allocation, so the importer weights its row by 1 / p(n). Frees are
** written only for recorded blocks (the shim remembers them in a table).
** mmap/munmap/mremap are never sampled: always recorded (weight 1). */
typedef struct ft_mode {
  uint64_t sample_bytes;   /* N; 0 = every allocation recorded (full mode) */
  uint64_t seed;           /* seed of the countdowns (FRAGTRACE_SEED, else from time and pid) */
  uint64_t max_size;       /* FRAGTRACE_MAX_SIZE, bytes; 0 = unbounded */
  uint32_t flags;          /* FT_MODE_* */
  uint32_t control_signal; /* signal that controls recording (FRAGTRACE_SIGNAL), 0 = none */
} ft_mode; /* 32 bytes */

#define FT_MODE_START_PAUSED 0x1u /* recording began paused (FRAGTRACE_PAUSED or FRAGTRACE_DELAY_MS) */

/* Exact counters of one image since its start (a fork child starts at zero;
** its frees of blocks inherited from the parent count too). "Usable" bytes
** are malloc_usable_size() of the block, what the allocator really handed
** out (redis' used_memory counts the same); 0 when the allocator has none. */
typedef struct ft_totals {
  uint64_t t_ns;
  uint64_t allocs;       /* heap allocations: malloc family; a realloc counts one alloc + one free */
  uint64_t frees;        /* heap releases of non-NULL blocks (free, realloc's old block) */
  uint64_t alloc_bytes;  /* requested bytes of those allocations */
  uint64_t usable_alloc; /* usable bytes of the allocated blocks */
  uint64_t usable_free;  /* usable bytes of the released blocks; live = usable_alloc - usable_free */
  uint64_t sampled;      /* allocations recorded as events (== allocs in full mode while not paused) */
  uint64_t untracked;    /* sampled allocations NOT recorded: the sampled-block table was full */
  uint64_t thinned;      /* events not written because the spill reached FRAGTRACE_MAX_SIZE */
  uint64_t reserved;
} ft_totals; /* 80 bytes */

enum ft_control_action {
  FT_CTL_PAUSE = 1,  /* from t_ns on, no new allocation is recorded (frees of recorded blocks still are) */
  FT_CTL_RESUME = 2, /* recording again */
  FT_CTL_FLUSH = 3,  /* every ring was drained at t_ns: the spill is complete up to here */
  FT_CTL_STOP = 4    /* recording ended for good (--duration); the image runs on untraced */
};
enum ft_control_source {
  FT_CTLSRC_START = 1,    /* FRAGTRACE_PAUSED / FRAGTRACE_DELAY_MS at start */
  FT_CTLSRC_SIGNAL = 2,   /* the control signal (kill, or sigqueue with a value: see README) */
  FT_CTLSRC_DELAY = 3,    /* FRAGTRACE_DELAY_MS elapsed */
  FT_CTLSRC_DURATION = 4  /* FRAGTRACE_DURATION_MS elapsed */
};
typedef struct ft_control {
  uint64_t t_ns;
  uint32_t action; /* enum ft_control_action */
  uint32_t source; /* enum ft_control_source */
} ft_control; /* 16 bytes */

typedef struct ft_exit {
  uint64_t t_ns;
  int32_t status;     /* argument of exit()/_exit(), or -1 when unknown */
  uint32_t reserved;
} ft_exit;

_Static_assert(sizeof(ft_event) == 32, "ft_event must stay 32 bytes");
_Static_assert(sizeof(ft_chunk) == 16, "ft_chunk must stay 16 bytes");
_Static_assert(sizeof(ft_source_note) == 16, "ft_source_note size is part of the format");
_Static_assert(sizeof(ft_mallinfo) == 88, "ft_mallinfo size is part of the format");
_Static_assert(sizeof(ft_file_header) == 72, "ft_file_header size is part of the format");
_Static_assert(sizeof(ft_mode) == 32, "ft_mode size is part of the format");
_Static_assert(sizeof(ft_totals) == 80, "ft_totals size is part of the format");
_Static_assert(sizeof(ft_control) == 16, "ft_control size is part of the format");

#endif /* FT_FORMAT_H */
