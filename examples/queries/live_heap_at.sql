-- Live heap at time T: the blocks allocated at or before T and not yet freed
-- then, per process and per site. T is in ms since each process started;
-- without @t_ms, the middle of each process's run.
-- usage: sqlite3 -box -cmd '.parameter set @t_ms 250' trace.db < examples/queries/live_heap_at.sql
-- (The report's peak section and heap_timeline give the curve; this is one instant, exactly.)
WITH at AS (
  SELECT proc, pid, CAST(coalesce(@t_ms * 1e6, end_ns / 2) AS INTEGER) AS t_ns FROM processes),
live AS (
  SELECT a.proc, a.stack_id, a.size
  FROM allocations a JOIN at ON at.proc = a.proc
  WHERE a.t_alloc_ns <= at.t_ns AND (a.t_free_ns IS NULL OR a.t_free_ns > at.t_ns))
SELECT at.pid, round(at.t_ns / 1e6, 1) AS t_ms, count(l.size) AS live_blocks, coalesce(sum(l.size), 0) AS live_bytes
FROM at LEFT JOIN live l ON l.proc = at.proc
GROUP BY at.proc ORDER BY at.proc;

WITH at AS (
  SELECT proc, CAST(coalesce(@t_ms * 1e6, end_ns / 2) AS INTEGER) AS t_ns FROM processes)
SELECT p.pid, c.function AS site, c.file || ':' || c.line AS location, count(*) AS live_blocks, sum(a.size) AS live_bytes
FROM allocations a JOIN at ON at.proc = a.proc JOIN processes p ON p.proc = a.proc
LEFT JOIN call_sites c ON c.stack_id = a.stack_id AND c.depth = 0
WHERE a.t_alloc_ns <= at.t_ns AND (a.t_free_ns IS NULL OR a.t_free_ns > at.t_ns)
GROUP BY a.proc, c.function, c.file, c.line
ORDER BY live_bytes DESC LIMIT 10;
