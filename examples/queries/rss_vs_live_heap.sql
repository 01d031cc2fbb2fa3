-- RSS against the live heap over time: the gap between what the process
-- holds and what it uses, per sample. RSS here excludes the recorder's own
-- memory (shim_bytes), as the report's fragmentation section does; a ratio
-- far above 1 that stays high is fragmentation (or memory malloc keeps).
-- usage: sqlite3 -box trace.db < examples/queries/rss_vs_live_heap.sql
SELECT pid, round(t_ns / 1e6, 1) AS t_ms,
       (rss_bytes - coalesce(shim_bytes, 0)) / 1024 AS rss_kib,
       live_bytes / 1024 AS live_heap_kib,
       (rss_bytes - coalesce(shim_bytes, 0) - live_bytes) / 1024 AS gap_kib,
       round((rss_bytes - coalesce(shim_bytes, 0)) * 1.0 / nullif(live_bytes, 0), 2) AS ratio
FROM process_samples
ORDER BY proc, t_ns;
