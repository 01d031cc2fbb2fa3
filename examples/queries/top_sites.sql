-- Top allocation sites of a fragtrace trace: count, bytes, leaks.
-- usage: sqlite3 -box trace.db < examples/queries/top_sites.sql
-- A site is the innermost frame (depth 0) of the allocation's stack.
.print 'Allocation sites by count'
SELECT c.function AS site, c.file || ':' || c.line AS location,
       count(*) AS allocations, sum(a.size) AS bytes,
       sum(a.t_free_ns IS NULL) AS leaked
FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id AND c.depth = 0
GROUP BY c.function, c.file, c.line
ORDER BY allocations DESC LIMIT 10;

.print 'Leaks by site (never freed)'
SELECT c.function AS site, count(*) AS blocks, sum(a.size) AS bytes
FROM allocations a JOIN call_sites c ON c.stack_id = a.stack_id AND c.depth = 0
WHERE a.t_free_ns IS NULL
GROUP BY c.function ORDER BY bytes DESC LIMIT 10;

.print 'Process memory over time (last samples)'
SELECT t_ns / 1000000 AS ms, rss_bytes / 1024 AS rss_kib, live_bytes / 1024 AS live_heap_kib,
       live_allocations
FROM process_samples ORDER BY t_ns DESC LIMIT 5;
