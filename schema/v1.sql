-- fragtrace trace schema, version 1.
-- Loaded by the importer (reporter/ft_import.c) when it creates a trace; this
-- file is embedded into the binary at build time, so it is the only copy.
-- Every table and column is documented in schema/README.md.
--
-- Storage is kept small on purpose (the recorder's target is bytes per
-- allocation on disk): allocations are stored in allocation_rows with times
-- relative to the process start, the lifetime instead of a second absolute
-- time, the kind and thread packed into one integer, and the free thread
-- only when it differs. The `allocations` view gives the documented columns.

CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT
) WITHOUT ROWID;

CREATE TABLE processes(
  proc            INTEGER PRIMARY KEY,  -- process key: one per traced image
  pid             INTEGER NOT NULL,
  ppid            INTEGER,
  parent_proc     INTEGER,              -- key of the fork parent's image, if traced
  exec_from       INTEGER,              -- key of the image this one replaced by execve
  exe             TEXT,
  cmdline         TEXT,
  start_unix_ns   INTEGER NOT NULL,
  end_ns          INTEGER,              -- ns since start of the last record seen
  ended_by        TEXT,                 -- 'exit', 'exec', 'stop' (recording stopped) or 'unknown' (killed)
  page_size       INTEGER NOT NULL,
  exit_status     INTEGER,              -- exit code, 128+N for signal N, NULL unknown
  events_dropped  INTEGER NOT NULL DEFAULT 0,
  unmatched_frees INTEGER NOT NULL DEFAULT 0,
  stack_depth     INTEGER,
  sample_bytes    INTEGER,              -- byte sampling: 1 allocation per N bytes on average; NULL = full capture
  seed            INTEGER,              -- seed of the sampling countdowns (as signed 64-bit)
  max_size        INTEGER,              -- FRAGTRACE_MAX_SIZE in bytes; NULL = unbounded
  start_paused    INTEGER,              -- 1: recording began paused (FRAGTRACE_PAUSED / _DELAY_MS)
  control_signal  INTEGER               -- signal that controls recording; NULL = none
);

CREATE TABLE threads(
  thread INTEGER PRIMARY KEY,           -- thread key, referenced by allocation_rows
  proc   INTEGER NOT NULL,
  pid    INTEGER NOT NULL,
  tid    INTEGER NOT NULL
);

CREATE TABLE alloc_kinds(
  kind INTEGER PRIMARY KEY,
  name TEXT NOT NULL
);
INSERT INTO alloc_kinds VALUES (0,'malloc'),(1,'calloc'),(2,'realloc'),(3,'memalign'),(4,'mmap');

CREATE TABLE allocation_rows(
  id          INTEGER PRIMARY KEY,      -- in allocation order within a process
  kind_thread INTEGER NOT NULL,         -- kind | (thread << 3)
  address     INTEGER NOT NULL,
  size        INTEGER NOT NULL,
  t_alloc     INTEGER NOT NULL,         -- ns since the process started
  lifetime    INTEGER,                  -- ns; NULL when never freed
  free_thread INTEGER,                  -- thread key of the free, NULL when same as allocating thread
  stack_id    INTEGER,
  weight      REAL                      -- 1/p(size) of a byte-sampled heap row; NULL = 1
);

CREATE VIEW allocations AS
SELECT r.id                              AS id,
       t.pid                             AS pid,
       t.tid                             AS tid,
       k.name                            AS kind,
       r.address                         AS address,
       r.size                            AS size,
       r.t_alloc                         AS t_alloc_ns,
       r.t_alloc + r.lifetime            AS t_free_ns,
       CASE WHEN r.lifetime IS NULL THEN NULL
            WHEN r.free_thread IS NULL THEN t.tid
            ELSE (SELECT f.tid FROM threads f WHERE f.thread = r.free_thread) END AS free_tid,
       r.stack_id                        AS stack_id,
       t.proc                            AS proc,
       r.lifetime                        AS lifetime_ns,
       coalesce(r.weight, 1.0)           AS weight
FROM allocation_rows r
JOIN threads t ON t.thread = r.kind_thread >> 3
JOIN alloc_kinds k ON k.kind = r.kind_thread & 7;

CREATE TABLE stacks(
  stack_id INTEGER PRIMARY KEY,
  proc     INTEGER NOT NULL,            -- addresses are only meaningful in this image
  depth    INTEGER NOT NULL             -- number of frames stored
);

CREATE TABLE stack_frames(
  stack_id INTEGER NOT NULL,
  depth    INTEGER NOT NULL,            -- 0 = innermost caller of the allocation function
  ip       INTEGER NOT NULL,            -- return address as unwound
  PRIMARY KEY(stack_id, depth)
) WITHOUT ROWID;

CREATE TABLE mappings(
  proc        INTEGER NOT NULL,
  pid         INTEGER NOT NULL,
  start       INTEGER NOT NULL,
  "end"       INTEGER NOT NULL,
  file_offset INTEGER NOT NULL,
  path        TEXT,
  build_id    TEXT,                     -- hex GNU build-id when the file has one
  PRIMARY KEY(proc, start)
) WITHOUT ROWID;

CREATE TABLE symbols(
  proc     INTEGER NOT NULL,
  pid      INTEGER NOT NULL,
  ip       INTEGER NOT NULL,
  function TEXT,                        -- demangled
  file     TEXT,
  line     INTEGER,
  module   TEXT,                        -- path of the ELF file
  PRIMARY KEY(proc, ip)
) WITHOUT ROWID;

CREATE VIEW call_sites AS
SELECT f.stack_id AS stack_id,
       f.depth    AS depth,
       y.function AS function,
       y.file     AS file,
       y.line     AS line,
       y.module   AS module,
       f.ip       AS ip,
       s.proc     AS proc
FROM stack_frames f
JOIN stacks s ON s.stack_id = f.stack_id
LEFT JOIN symbols y ON y.proc = s.proc AND y.ip = f.ip;

-- Enclosing levels of an ip in inlined code (symbols.function is then the
-- innermost inlined function); no rows when the ip is not in inlined code.
CREATE TABLE inline_frames(
  proc     INTEGER NOT NULL,
  ip       INTEGER NOT NULL,
  level    INTEGER NOT NULL,            -- 1 = the function level 0 was inlined into, ...
  function TEXT,                        -- demangled; the last level is the real function
  file     TEXT,                        -- call site, in this function, of level - 1
  line     INTEGER,
  PRIMARY KEY(proc, ip, level)
) WITHOUT ROWID;

CREATE TABLE process_samples(
  proc             INTEGER NOT NULL,
  pid              INTEGER NOT NULL,
  t_ns             INTEGER NOT NULL,
  rss_bytes        INTEGER NOT NULL,
  vm_bytes         INTEGER,
  live_bytes       INTEGER NOT NULL,    -- heap fragtrace saw live at t_ns (rows with t_alloc <= t < t_free)
  live_allocations INTEGER NOT NULL,
  shim_bytes       INTEGER,             -- memory the recorder itself held (part of rss_bytes)
  usable_live_bytes INTEGER,            -- exact live usable bytes of the latest heap_totals at or before t_ns
  PRIMARY KEY(proc, t_ns)
) WITHOUT ROWID;

CREATE TABLE buddyinfo_samples(
  proc        INTEGER NOT NULL,         -- the process whose sampler read it (time base)
  t_ns        INTEGER NOT NULL,
  node        INTEGER NOT NULL,
  zone        TEXT NOT NULL,
  page_order  INTEGER NOT NULL,
  free_blocks INTEGER NOT NULL,
  PRIMARY KEY(proc, t_ns, node, zone, page_order)
) WITHOUT ROWID;

-- ---------------------------------------------------------------------------
-- Summaries, computed once by the importer so that reports on traces of tens
-- of millions of allocations read a few thousand rows instead of all of
-- them. Each is a pure function of the tables above; schema/README.md gives
-- the equivalent query over `allocations` for every column.

-- Per process image.
CREATE TABLE process_stats(
  proc             INTEGER PRIMARY KEY,
  allocations      INTEGER NOT NULL,    -- rows of the image, all kinds
  frees            INTEGER NOT NULL,    -- of those, freed
  bytes            INTEGER NOT NULL,    -- sum of sizes
  leaked           INTEGER NOT NULL,    -- never freed
  leaked_bytes     INTEGER NOT NULL,
  temporary        INTEGER NOT NULL,    -- freed by the allocating thread before it allocated again
  short_lived      INTEGER NOT NULL,    -- freed, lifetime < meta.short_lived_ns
  mmap_count       INTEGER NOT NULL,    -- rows of kind mmap
  mmap_bytes       INTEGER NOT NULL,
  peak_live_bytes  INTEGER NOT NULL,    -- maximum of live bytes (all kinds) over the run
  peak_live_ns     INTEGER,             -- first instant it was reached (NULL: no allocations)
  peak_live_allocations INTEGER NOT NULL, -- live allocations at that instant
  peak_rss_bytes   INTEGER,             -- maximum of process_samples.rss_bytes
  peak_rss_ns      INTEGER              -- its first sample time
);

-- Per call stack (stack_id is per image, so this is per site per process).
CREATE TABLE site_stats(
  stack_id           INTEGER PRIMARY KEY,
  proc               INTEGER NOT NULL,
  allocations        INTEGER NOT NULL,
  bytes              INTEGER NOT NULL,
  frees              INTEGER NOT NULL,
  leaked             INTEGER NOT NULL,
  leaked_bytes       INTEGER NOT NULL,
  temporary          INTEGER NOT NULL,
  short_lived        INTEGER NOT NULL,
  min_size           INTEGER NOT NULL,
  max_size           INTEGER NOT NULL,
  first_alloc_ns     INTEGER NOT NULL,
  last_alloc_ns      INTEGER NOT NULL,
  max_live_bytes     INTEGER NOT NULL,  -- the site's own maximum of live bytes
  max_live_ns        INTEGER NOT NULL,  -- first instant it was reached
  live_at_peak_bytes INTEGER NOT NULL,  -- live at process_stats.peak_live_ns
  live_at_peak_count INTEGER NOT NULL
);

-- Lifetime histogram per site: bucket b holds lifetimes in [2^b, 2^(b+1)) ns
-- (b = 0 also holds 0 ns). Never-freed allocations are not in it.
CREATE TABLE site_lifetime_hist(
  stack_id INTEGER NOT NULL,
  bucket   INTEGER NOT NULL,
  count    INTEGER NOT NULL,
  PRIMARY KEY(stack_id, bucket)
) WITHOUT ROWID;

-- Size histogram per site: bucket b holds sizes in [2^b, 2^(b+1)) bytes
-- (b = 0 also holds size 0).
CREATE TABLE site_size_hist(
  stack_id INTEGER NOT NULL,
  bucket   INTEGER NOT NULL,
  count    INTEGER NOT NULL,
  bytes    INTEGER NOT NULL,
  PRIMARY KEY(stack_id, bucket)
) WITHOUT ROWID;

-- Live heap over time per image, at most 1003 points: for each of at most
-- 1000 equal time slices of [0, end_ns] the first instant of its maximum,
-- plus t = 0, end_ns and the exact peak. (process_samples holds the live heap
-- at the sampler's instants, beside RSS.)
CREATE TABLE heap_timeline(
  proc             INTEGER NOT NULL,
  t_ns             INTEGER NOT NULL,
  live_bytes       INTEGER NOT NULL,
  live_allocations INTEGER NOT NULL,
  PRIMARY KEY(proc, t_ns)
) WITHOUT ROWID;

-- ---------------------------------------------------------------------------
-- Views for the numbers `fragtrace report` prints (schema/README.md has
-- example queries). A view's call site is the stack's innermost frame
-- (depth 0); the report passes over allocation wrappers (libc functions
-- such as strdup, operator new, --skip patterns) in C, so for a block
-- allocated through a wrapper the report names the wrapper's caller.

-- site_stats with the depth-0 frame of each stack.
CREATE VIEW site_summary AS
SELECT s.*, c.function AS function, c.file AS file, c.line AS line, c.module AS module
FROM site_stats s
LEFT JOIN call_sites c ON c.stack_id = s.stack_id AND c.depth = 0;

-- Never-freed allocations (the report's Leaks before suppressions), with
-- the depth-0 frame.
CREATE VIEW leaks AS
SELECT r.id AS id, t.proc AS proc, t.pid AS pid, t.tid AS tid, k.name AS kind, r.address AS address,
       r.size AS size, r.t_alloc AS t_alloc_ns, r.stack_id AS stack_id,
       c.function AS function, c.file AS file, c.line AS line, c.module AS module,
       coalesce(r.weight, 1.0) AS weight
FROM allocation_rows r
JOIN threads t ON t.thread = r.kind_thread >> 3
JOIN alloc_kinds k ON k.kind = r.kind_thread & 7
LEFT JOIN call_sites c ON c.stack_id = r.stack_id AND c.depth = 0
WHERE r.lifetime IS NULL;

-- Freed allocations with their lifetime and the two "short" verdicts of
-- the summary tables: short_lived (lifetime below meta short_lived_ns) and
-- temporary (freed by the allocating thread no later than that thread's
-- next allocation, heaptrack's definition).
CREATE VIEW lifetimes AS
SELECT r.id AS id, t.proc AS proc, t.pid AS pid, t.tid AS tid, r.stack_id AS stack_id, r.size AS size,
       r.t_alloc AS t_alloc_ns, r.lifetime AS lifetime_ns,
       r.lifetime < (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'short_lived_ns') AS short_lived,
       (r.free_thread IS NULL AND (r.next_alloc IS NULL OR r.next_alloc >= r.t_alloc + r.lifetime)) AS temporary,
       c.function AS function, c.file AS file, c.line AS line,
       coalesce(r.weight, 1.0) AS weight
FROM (SELECT *, lead(t_alloc) OVER (PARTITION BY kind_thread >> 3 ORDER BY id) AS next_alloc
      FROM allocation_rows) r
JOIN threads t ON t.thread = r.kind_thread >> 3
LEFT JOIN call_sites c ON c.stack_id = r.stack_id AND c.depth = 0
WHERE r.lifetime IS NOT NULL;

-- ---------------------------------------------------------------------------
-- System and process samples (issue 4)
-- Written by the sampler of `fragtrace record` (in every traced image) and by
-- `fragtrace sample` (host only: one processes row for the sampler itself).
-- Times are ns since the sampling image started, like every other sample.
-- Sizes are bytes (the kernel's kB multiplied by 1024) unless a column says
-- otherwise. schema/README.md documents each source and its default rate.

-- Every field of /proc/meminfo: kB fields as bytes, HugePages_* as counts.
CREATE TABLE meminfo_samples(
  proc  INTEGER NOT NULL,
  t_ns  INTEGER NOT NULL,
  key   TEXT NOT NULL,                  -- field name as printed: MemTotal, HugePages_Free, ...
  value INTEGER NOT NULL,               -- bytes (kB fields) or a count (fields without unit)
  PRIMARY KEY(proc, t_ns, key)
) WITHOUT ROWID;

-- /proc/vmstat counters as sampled (cumulative since boot; rates are analysis):
-- keys starting with compact_, kcompactd_, thp_, pgmigrate_, numa_, allocstall,
-- plus nr_free_pages, pgfault, pgmajfault, pgscan_*, pgsteal_*, drop_*.
CREATE TABLE vmstat_samples(
  proc  INTEGER NOT NULL,
  t_ns  INTEGER NOT NULL,
  key   TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY(proc, t_ns, key)
) WITHOUT ROWID;

-- /proc/pagetypeinfo "Free pages count per migrate type at order": free
-- blocks of 2^page_order pages per node, zone and migrate type.
CREATE TABLE pagetypeinfo_samples(
  proc         INTEGER NOT NULL,
  t_ns         INTEGER NOT NULL,
  node         INTEGER NOT NULL,
  zone         TEXT NOT NULL,
  migrate_type TEXT NOT NULL,           -- Unmovable, Movable, Reclaimable, HighAtomic, CMA, Isolate
  page_order   INTEGER NOT NULL,
  free_blocks  INTEGER NOT NULL,
  saturated    INTEGER NOT NULL,        -- 1: the kernel printed ">N" (stopped counting at N)
  PRIMARY KEY(proc, t_ns, node, zone, migrate_type, page_order)
) WITHOUT ROWID;

-- /proc/pagetypeinfo "Number of blocks type": pageblocks per migrate type.
CREATE TABLE pageblock_samples(
  proc         INTEGER NOT NULL,
  t_ns         INTEGER NOT NULL,
  node         INTEGER NOT NULL,
  zone         TEXT NOT NULL,
  migrate_type TEXT NOT NULL,
  pageblocks   INTEGER NOT NULL,        -- blocks of 2^meta.pageblock_order pages
  PRIMARY KEY(proc, t_ns, node, zone, migrate_type)
) WITHOUT ROWID;

-- /proc/self/smaps_rollup of the traced image (bytes; NULL: the kernel does
-- not print that field).
CREATE TABLE smaps_samples(
  proc             INTEGER NOT NULL,
  t_ns             INTEGER NOT NULL,
  rss              INTEGER,
  pss              INTEGER,
  pss_anon         INTEGER,
  pss_file         INTEGER,
  pss_shmem        INTEGER,
  shared_clean     INTEGER,
  shared_dirty     INTEGER,
  private_clean    INTEGER,
  private_dirty    INTEGER,
  referenced       INTEGER,
  anonymous        INTEGER,
  lazy_free        INTEGER,
  anon_huge_pages  INTEGER,
  shmem_pmd_mapped INTEGER,
  file_pmd_mapped  INTEGER,
  shared_hugetlb   INTEGER,
  private_hugetlb  INTEGER,
  swap             INTEGER,
  swap_pss         INTEGER,
  locked           INTEGER,
  PRIMARY KEY(proc, t_ns)
) WITHOUT ROWID;

-- glibc mallinfo2() of the traced image (all arenas), when glibc's malloc is
-- the allocator (else sample_sources has source 'mallinfo', status 'skipped').
CREATE TABLE mallinfo_samples(
  proc         INTEGER NOT NULL,
  t_ns         INTEGER NOT NULL,
  arena        INTEGER NOT NULL,        -- bytes obtained with sbrk/arena mmaps (not mmapped chunks)
  ordblks      INTEGER NOT NULL,        -- free chunks (not fastbin)
  smblks       INTEGER NOT NULL,        -- free fastbin chunks
  hblks        INTEGER NOT NULL,        -- chunks served by mmap
  mmapped      INTEGER NOT NULL,        -- hblkhd: bytes in those mmapped chunks
  fastbin_free INTEGER NOT NULL,        -- fsmblks: bytes in free fastbin chunks
  in_use       INTEGER NOT NULL,        -- uordblks: bytes in use in the arenas (chunk sizes)
  free         INTEGER NOT NULL,        -- fordblks: free bytes in the arenas, fastbins included
  top_chunk    INTEGER NOT NULL,        -- keepcost: the releasable top chunk (main arena)
  PRIMARY KEY(proc, t_ns)
) WITHOUT ROWID;

-- /proc/slabinfo (version 2.1): the largest caches by memory at each sample,
-- as slabtop orders them by cache size (at most 32 per sample).
CREATE TABLE slabinfo_samples(
  proc           INTEGER NOT NULL,
  t_ns           INTEGER NOT NULL,
  name           TEXT NOT NULL,
  active_objs    INTEGER NOT NULL,
  num_objs       INTEGER NOT NULL,
  objsize        INTEGER NOT NULL,      -- bytes per object
  objperslab     INTEGER NOT NULL,
  pages_per_slab INTEGER NOT NULL,
  active_slabs   INTEGER NOT NULL,
  num_slabs      INTEGER NOT NULL,
  bytes          INTEGER NOT NULL,      -- num_slabs * pages_per_slab * page size (slabtop's CACHE SIZE)
  PRIMARY KEY(proc, t_ns, name)
) WITHOUT ROWID;

-- One row per image and sample source: whether it was read, or why not
-- (noted once; a missing or unreadable file is never an error).
CREATE TABLE sample_sources(
  proc        INTEGER NOT NULL,
  source      TEXT NOT NULL,            -- statm, buddyinfo, pagetypeinfo, meminfo, vmstat, slabinfo, smaps_rollup, mallinfo
  status      TEXT NOT NULL,            -- 'ok', 'unreadable', 'missing', 'skipped', 'off', 'malformed'
  detail      TEXT,                     -- path and error, or why it was skipped
  interval_ms INTEGER,                  -- configured interval (0: off)
  samples     INTEGER NOT NULL DEFAULT 0, -- snapshots imported
  PRIMARY KEY(proc, source)
) WITHOUT ROWID;

-- ---------------------------------------------------------------------------
-- Fragmentation attribution (issue 4)
-- Computed by the importer (reporter/ft_import_frag.c) from each image's
-- matched rows; schema/README.md, "Fragmentation attribution (issue 4)",
-- defines every column. Meta keys: window_ns (width of site_windows'
-- windows), pin_max_live_pct, pin_mmap_threshold, pin_huge_page.

-- Churn over time: per site and window [window * window_ns, (window + 1) *
-- window_ns) of the image's own time, the allocations made and the frees
-- done in it (a free counts in the window of its t_free_ns). Only
-- (site, window) pairs with an allocation or a free have a row.
CREATE TABLE site_windows(
  stack_id    INTEGER NOT NULL,
  window      INTEGER NOT NULL,
  allocations INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  frees       INTEGER NOT NULL,
  freed_bytes INTEGER NOT NULL,
  PRIMARY KEY(stack_id, window)
) WITHOUT ROWID;

-- Pinning per site: at an instant of an image, the heap pages (page_size:
-- the system's, and 2 MiB) holding live bytes but at most
-- pin_max_live_pct % of their resident bytes (base pages touched by an
-- allocation before the instant); their free resident bytes are attributed
-- to the sites of the live blocks on them, in proportion to live bytes.
CREATE TABLE pinning(
  proc         INTEGER NOT NULL,
  instant      TEXT NOT NULL,            -- 'end' (processes.end_ns) or 'rss_gap' (sample of max rss - live)
  t_ns         INTEGER NOT NULL,
  page_size    INTEGER NOT NULL,
  stack_id     INTEGER NOT NULL,
  blocks       INTEGER NOT NULL,         -- the site's live blocks with bytes on a pinning page
  live_bytes   INTEGER NOT NULL,         -- their bytes on pinning pages
  pages        INTEGER NOT NULL,         -- pinning pages the site has live bytes on
  pinned_bytes INTEGER NOT NULL,         -- the site's share of those pages' free bytes
  PRIMARY KEY(proc, instant, page_size, stack_id)
) WITHOUT ROWID;

-- Pinning per image, instant and page size (also when nothing pins).
CREATE TABLE pinning_totals(
  proc            INTEGER NOT NULL,
  instant         TEXT NOT NULL,
  t_ns            INTEGER NOT NULL,
  page_size       INTEGER NOT NULL,
  heap_pages      INTEGER NOT NULL,      -- pages with live heap bytes
  heap_live_bytes INTEGER NOT NULL,      -- live heap bytes replayed
  pages           INTEGER NOT NULL,      -- pinning pages
  resident_bytes  INTEGER NOT NULL,      -- their touched (plausibly resident) bytes
  blocks          INTEGER NOT NULL,      -- live blocks with bytes on them (lost stacks included)
  live_bytes      INTEGER NOT NULL,      -- live bytes on them
  pinned_bytes    INTEGER NOT NULL,      -- resident_bytes - live_bytes
  PRIMARY KEY(proc, instant, page_size)
) WITHOUT ROWID;

-- site_windows as rates per second, with the window's start time.
CREATE VIEW site_window_rates AS
SELECT w.stack_id AS stack_id, s.proc AS proc, w.window AS window,
       w.window * m.ns AS t_ns,
       w.allocations * 1e9 / m.ns AS allocs_per_s,
       w.bytes * 1e9 / m.ns AS bytes_per_s,
       w.frees * 1e9 / m.ns AS frees_per_s,
       w.freed_bytes * 1e9 / m.ns AS freed_bytes_per_s
FROM site_windows w
JOIN stacks s ON s.stack_id = w.stack_id
CROSS JOIN (SELECT CAST(value AS INTEGER) AS ns FROM meta WHERE key = 'window_ns') m;

-- Lifetime mix per site: short = site_stats.short_lived (lifetime below
-- meta short_lived_ns), long = lifetime >= 2^30 ns (~1.07 s, buckets >= 30
-- of site_lifetime_hist) or never freed; mixed when both are >= 10 % of the
-- site's allocations; bimodality = min(short, long) / allocations (0..0.5).
CREATE VIEW site_lifetime_mix AS
SELECT s.stack_id AS stack_id, s.proc AS proc, s.allocations AS allocations,
       s.short_lived AS short_count,
       s.leaked + coalesce((SELECT sum(h.count) FROM site_lifetime_hist h
                            WHERE h.stack_id = s.stack_id AND h.bucket >= 30), 0) AS long_count,
       100.0 * s.short_lived / s.allocations AS short_pct,
       100.0 * (s.leaked + coalesce((SELECT sum(h.count) FROM site_lifetime_hist h
                                     WHERE h.stack_id = s.stack_id AND h.bucket >= 30), 0)) / s.allocations AS long_pct,
       (10 * s.short_lived >= s.allocations
        AND 10 * (s.leaked + coalesce((SELECT sum(h.count) FROM site_lifetime_hist h
                                       WHERE h.stack_id = s.stack_id AND h.bucket >= 30), 0)) >= s.allocations) AS mixed,
       min(s.short_lived, s.leaked + coalesce((SELECT sum(h.count) FROM site_lifetime_hist h
                                               WHERE h.stack_id = s.stack_id AND h.bucket >= 30), 0))
         * 1.0 / s.allocations AS bimodality
FROM site_stats s;

-- pinning with the depth-0 frame of each stack.
CREATE VIEW pinning_sites AS
SELECT p.*, c.function AS function, c.file AS file, c.line AS line, c.module AS module
FROM pinning p
LEFT JOIN call_sites c ON c.stack_id = p.stack_id AND c.depth = 0;

-- ---------------------------------------------------------------------------
-- Production mode (issue 5): byte sampling, exact totals, recording control.
-- schema/README.md, "Production mode (issue 5)", defines every column.

-- The image's exact cumulative heap counters (every allocation, sampled or
-- not, recorded or paused), one row per FT_CHUNK_TOTALS the shim wrote.
CREATE TABLE heap_totals(
  proc              INTEGER NOT NULL,
  t_ns              INTEGER NOT NULL,
  allocations       INTEGER NOT NULL,   -- malloc-family allocations since the image started
  frees             INTEGER NOT NULL,   -- releases of non-NULL blocks
  bytes             INTEGER NOT NULL,   -- requested bytes of those allocations
  usable_live_bytes INTEGER NOT NULL,   -- usable bytes allocated - usable bytes released
  sampled           INTEGER NOT NULL,   -- allocations recorded as events
  untracked         INTEGER NOT NULL,   -- sampled but not recorded (sampled-block table full)
  thinned           INTEGER NOT NULL,   -- events not written (spill reached max_size)
  PRIMARY KEY(proc, t_ns)
) WITHOUT ROWID;

-- Recording paused / resumed / flushed / stopped, in the image's time.
CREATE TABLE recording_control(
  proc   INTEGER NOT NULL,
  t_ns   INTEGER NOT NULL,
  action TEXT NOT NULL,                 -- 'pause', 'resume', 'flush', 'stop'
  source TEXT                           -- 'start', 'signal', 'delay', 'duration'
);

-- What `record --max-size` left out to keep the trace under the limit: one
-- row per process and thinning round (a doubling of the 1-in-k factor of
-- freed allocation rows, or a halving of old samples), and one per process
-- and k for the freed rows the importer did not write. Summaries come from
-- every event.
CREATE TABLE thinning(
  what           TEXT NOT NULL,         -- 'allocation_rows' (freed), 'live_allocation_rows', 'process_samples', 'buddyinfo_samples'
  proc           INTEGER NOT NULL,
  t_ns           INTEGER,               -- how far the process was imported when it ran (its end_ns then)
  rows_deleted   INTEGER NOT NULL,      -- rows of `what` deleted (buddyinfo: one per node/zone/order)
  first_id       INTEGER,               -- allocation_rows: smallest and largest id left out
  last_id        INTEGER,
  before_t_ns    INTEGER,               -- largest t_alloc (samples: t_ns) among the rows left out
  keep           INTEGER,               -- allocation_rows: freed rows kept 1 in keep (weight x keep) from then on
  rows_unwritten INTEGER                -- allocation_rows: freed rows never written (not kept at keep)
);
