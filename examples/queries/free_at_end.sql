-- What `free -h` said at the end: the last /proc/meminfo sample of the trace,
-- in free(1)'s columns as procps-ng 4 computes them (used = total -
-- available, buff/cache = Buffers + Cached + SReclaimable), in MiB.
-- usage: sqlite3 -box trace.db < examples/queries/free_at_end.sql
WITH last AS (
  SELECT proc, t_ns FROM meminfo_samples ORDER BY t_ns DESC, proc LIMIT 1),
m AS (
  SELECT key, value FROM meminfo_samples s JOIN last USING (proc, t_ns)),
v AS (
  SELECT (SELECT value FROM m WHERE key = 'MemTotal') AS total,
         (SELECT value FROM m WHERE key = 'MemFree') AS free,
         coalesce((SELECT value FROM m WHERE key = 'MemAvailable'), (SELECT value FROM m WHERE key = 'MemFree')) AS available,
         (SELECT value FROM m WHERE key = 'Shmem') AS shared,
         (SELECT value FROM m WHERE key = 'Buffers') + (SELECT value FROM m WHERE key = 'Cached')
           + coalesce((SELECT value FROM m WHERE key = 'SReclaimable'), 0) AS buff_cache,
         (SELECT value FROM m WHERE key = 'SwapTotal') AS swap_total,
         (SELECT value FROM m WHERE key = 'SwapFree') AS swap_free)
SELECT 'Mem:' AS "", total >> 20 AS total_mib, (total - available) >> 20 AS used_mib, free >> 20 AS free_mib,
       shared >> 20 AS shared_mib, buff_cache >> 20 AS buff_cache_mib, available >> 20 AS available_mib
FROM v
UNION ALL
SELECT 'Swap:', swap_total >> 20, (swap_total - swap_free) >> 20, swap_free >> 20, NULL, NULL, NULL
FROM v;
