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
  ended_by        TEXT,                 -- 'exit', 'exec' or 'unknown' (killed)
  page_size       INTEGER NOT NULL,
  exit_status     INTEGER,              -- exit code, 128+N for signal N, NULL unknown
  events_dropped  INTEGER NOT NULL DEFAULT 0,
  unmatched_frees INTEGER NOT NULL DEFAULT 0,
  stack_depth     INTEGER
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
  stack_id    INTEGER
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
       r.lifetime                        AS lifetime_ns
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
       c.function AS function, c.file AS file, c.line AS line, c.module AS module
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
       c.function AS function, c.file AS file, c.line AS line
FROM (SELECT *, lead(t_alloc) OVER (PARTITION BY kind_thread >> 3 ORDER BY id) AS next_alloc
      FROM allocation_rows) r
JOIN threads t ON t.thread = r.kind_thread >> 3
LEFT JOIN call_sites c ON c.stack_id = r.stack_id AND c.depth = 0
WHERE r.lifetime IS NOT NULL;
