-- Top pinning sites: the call sites whose live blocks keep otherwise free
-- heap pages resident (the answer to "why does RSS stay high when the live
-- heap is small"), at the instant of the largest RSS gap when the importer
-- computed it, else at the end; for the system page size and for 2 MiB
-- (huge) pages. pinned_kib is the site's share of those pages' free bytes.
-- usage: sqlite3 -box trace.db < examples/queries/top_pinning_sites.sql
SELECT p.page_size / 1024 AS page_kib, p.instant, round(p.t_ns / 1e6, 1) AS t_ms,
       p.function AS site, p.file || ':' || p.line AS location,
       sum(p.blocks) AS blocks, sum(p.live_bytes) / max(sum(p.blocks), 1) AS typical_size,
       sum(p.pages) AS pages, sum(p.pinned_bytes) / 1024 AS pinned_kib
FROM pinning_sites p
WHERE p.instant = (SELECT CASE WHEN count(*) > 0 THEN 'rss_gap' ELSE 'end' END
                   FROM pinning_totals t WHERE t.proc = p.proc AND t.instant = 'rss_gap')
GROUP BY p.proc, p.page_size, p.function, p.file, p.line
ORDER BY p.page_size, pinned_kib DESC
LIMIT 20;
