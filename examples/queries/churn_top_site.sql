-- Churn per window for the top site: allocations and frees per second in
-- each window of meta window_ns (site_windows) for the site with the most
-- allocations (its stacks added up per process), and the bytes it added to
-- the live heap in the window. Windows without activity have no row.
-- usage: sqlite3 -box trace.db < examples/queries/churn_top_site.sql
WITH top AS (
  SELECT c.function, c.file, c.line
  FROM site_stats s JOIN call_sites c ON c.stack_id = s.stack_id AND c.depth = 0
  GROUP BY c.function, c.file, c.line ORDER BY sum(s.allocations) DESC LIMIT 1)
SELECT top.function || ' (' || top.file || ':' || top.line || ')' AS site, r.proc, r.window,
       round(r.t_ns / 1e6, 1) AS t_ms,
       round(sum(r.allocs_per_s)) AS allocs_per_s, round(sum(r.frees_per_s)) AS frees_per_s,
       round(sum(r.bytes_per_s) / 1048576, 2) AS mib_per_s,
       round((sum(r.bytes_per_s) - sum(r.freed_bytes_per_s)) / 1024, 1) AS net_kib_per_s
FROM site_window_rates r
JOIN call_sites c ON c.stack_id = r.stack_id AND c.depth = 0
JOIN top ON top.function IS c.function AND top.file IS c.file AND top.line IS c.line
GROUP BY r.proc, r.window
ORDER BY r.proc, r.window;
