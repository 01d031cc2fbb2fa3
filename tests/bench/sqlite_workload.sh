#!/usr/bin/env bash
# sqlite_workload.sh OUT.sql — write the benchmark's SQL script: 200k rows
# inserted, indexed, aggregated and updated (the Debian sqlite3 CLI runs it).
out=$1
{
  echo "CREATE TABLE t(id INTEGER PRIMARY KEY, k TEXT, v BLOB, n REAL);"
  echo "BEGIN;"
  echo "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 200000)"
  echo "INSERT INTO t(k, v, n) SELECT printf('key-%08d', i), randomblob(16 + i % 200), i * 0.5 FROM c;"
  echo "COMMIT;"
  echo "CREATE INDEX t_k ON t(k);"
  echo "SELECT count(*), sum(length(v)), avg(n) FROM t;"
  echo "SELECT k FROM t WHERE k LIKE 'key-0001%' ORDER BY n DESC LIMIT 3;"
  echo "UPDATE t SET v = randomblob(8) WHERE id % 3 = 0;"
  echo "SELECT group_concat(k) FROM (SELECT k FROM t ORDER BY v LIMIT 5);"
  echo "DELETE FROM t WHERE id % 2 = 0;"
  echo "VACUUM;"
} > "$out"
