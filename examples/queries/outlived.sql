-- Sites whose allocations outlived 10 s: blocks freed after living at least
-- that long, and never-freed blocks whose process ran that long after them.
-- usage: sqlite3 -box trace.db < examples/queries/outlived.sql
--        another threshold: sqlite3 -box -cmd '.parameter set @min_s 0.5' trace.db < ...
-- A site is the innermost frame (depth 0) of the allocation's stack.
WITH params AS (SELECT CAST(coalesce(@min_s, 10) * 1e9 AS INTEGER) AS min_ns),
old AS (
  SELECT a.stack_id, a.size, a.lifetime_ns IS NULL AS never_freed,
         coalesce(a.lifetime_ns, p.end_ns - a.t_alloc_ns) AS lived_ns
  FROM allocations a JOIN processes p ON p.proc = a.proc, params
  WHERE coalesce(a.lifetime_ns, p.end_ns - a.t_alloc_ns) >= params.min_ns)
SELECT c.function AS site, c.file || ':' || c.line AS location,
       count(*) AS blocks, sum(o.size) AS bytes, sum(o.never_freed) AS never_freed,
       round(max(o.lived_ns) / 1e9, 3) AS longest_s
FROM old o LEFT JOIN call_sites c ON c.stack_id = o.stack_id AND c.depth = 0
GROUP BY c.function, c.file, c.line
ORDER BY bytes DESC LIMIT 20;
