-- Largest free block per minute, from /proc/buddyinfo samples: for every
-- node and zone, the smallest and largest "largest free block" seen in each
-- minute of sampling (minute 0 starts when the sampler's image started).
-- The seed document's script, done right: every node and zone, the page
-- size of the traced system, as many orders as the kernel prints.
-- usage: sqlite3 -box trace.db < examples/queries/largest_free_block_per_minute.sql
WITH page AS (SELECT page_size FROM processes ORDER BY proc LIMIT 1),
snap AS (  -- one row per sample and zone: its highest order with a free block
  SELECT proc, t_ns, node, zone, max(CASE WHEN free_blocks > 0 THEN page_order END) AS top_order
  FROM buddyinfo_samples GROUP BY proc, t_ns, node, zone)
SELECT s.t_ns / 60000000000 AS minute, s.node, s.zone, count(*) AS samples,
       coalesce(min(page.page_size << s.top_order), 0) / 1024 AS min_largest_kib,
       coalesce(max(page.page_size << s.top_order), 0) / 1024 AS max_largest_kib,
       sum(s.top_order IS NULL) AS samples_without_free_block
FROM snap s, page
WHERE s.proc = (SELECT proc FROM buddyinfo_samples ORDER BY proc LIMIT 1)  -- one sampler's timeline
GROUP BY minute, s.node, s.zone
ORDER BY minute, s.node, s.zone;
