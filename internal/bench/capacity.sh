#!/usr/bin/env bash
# capacity.sh measures what a delivery costs on Postgres, with 1, 2 and 4
# Outlet nodes sharing one database on this machine: rows, WAL bytes and
# records (pg_stat_wal), bytes kept per delivery, CPU of Outlet, of Postgres
# and of the bench, and how the nodes split the work.
#
#   internal/bench/capacity.sh [events] [node counts...]
#   OUTLET_CAPACITY_DB=postgres://postgres@127.0.0.1:5432/postgres internal/bench/capacity.sh 20000 1 2 4
#
# It creates and drops a database named outlet_capacity; every node and the
# bench talk to 127.0.0.1 only. Needs psql, curl and jq; run `make build` first.
set -euo pipefail
events=${1:-20000}
shift || true
counts=${*:-1 2 4}
admin=${OUTLET_CAPACITY_DB:-postgres://postgres@127.0.0.1:5432/postgres}
db=${admin%/*}/outlet_capacity
bin=$(cd "$(dirname "$0")/../.." && pwd)/bin/outlet
key=capacity-admin-key-0123456789abcdef0123456789
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap 'stop; rm -rf "$work"' EXIT
sql() { psql "$db" -Atqc "$1"; }
# pgcpu prints "pid ticks" for the database's backends and Postgres's own
# background processes (WAL writer, checkpointer, background writer).
pgcpu() {
  for p in $(psql "$admin" -Atqc "SELECT pid FROM pg_stat_activity WHERE datname = 'outlet_capacity'
      OR backend_type IN ('walwriter', 'checkpointer', 'background writer')"); do
    [ -r /proc/$p/stat ] && awk -v p="$p" '{ sub(/.*\) /, ""); print p, $12 + $13 }' /proc/$p/stat
  done
}

for n in $counts; do
  psql "$admin" -q -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS outlet_capacity" -qc "CREATE DATABASE outlet_capacity" >/dev/null
  pids=(); urls=()
  for i in $(seq 1 "$n"); do
    port=$((7200 + i))
    OUTLET_ADMIN_KEY=$key OUTLET_SECRET_KEY=$secret "$bin" serve --database "$db" --data "$work/node$i" \
      --addr 127.0.0.1:$port --allow-private-networks --log-level warn >"$work/node$i.log" 2>&1 &
    pids+=($!); urls+=(http://127.0.0.1:$port)
    for _ in $(seq 1 100); do curl -sf "${urls[-1]}/readyz" >/dev/null && break; sleep 0.1; done
  done
  sql "SELECT pg_stat_reset(), pg_stat_reset_shared('wal')" >/dev/null
  pgcpu >"$work/pg-before"
  more=$(IFS=,; echo "${urls[*]:1}")
  spids=$(IFS=,; echo "${pids[*]}")
  "$bin" bench --url "${urls[0]}" ${more:+--more-urls "$more"} --key "$key" --server-pids "$spids" \
    --events "$events" --keep --baseline=false --quiet --json >"$work/bench$n.json"
  sleep 1 # the last outcomes recorded
  pgcpu >"$work/pg-after"
  # Postgres CPU: what its processes used, counting backends started
  # during the run in full (ticks are hundredths of a second).
  pg=$(awk 'NR == FNR { before[$1] = $2; next } { d = $2 - before[$1]; if (d > 0) s += d } END { printf "%.2f", s / 100 }' "$work/pg-before" "$work/pg-after")
  r=$(jq -r '"\(.delivered) \(.deliver_per_sec|floor) \(.duplicates) \(.server_cpu_seconds) \(.machine_cpu_seconds) \(.bench_cpu_seconds) \(.latency_p50_ms) \(.latency_p99_ms)"' "$work/bench$n.json")
  read -r delivered rate dups scpu _ _ p50 p99 <<<"$r"
  split=""
  for u in "${urls[@]}"; do
    a=$(curl -s "$u/metrics" | awk '/^outlet_attempts_total/ {s += $2} END {print s+0}')
    split="$split $a"
  done
  stop # the nodes' connections close, flushing their statistics
  sleep 1
  wal=$(sql "SELECT wal_bytes, wal_records, wal_fpi, (SELECT xact_commit FROM pg_stat_database WHERE datname = 'outlet_capacity') FROM pg_stat_wal" | tr '|' ' ')
  read -r walbytes walrecs walfpi commits <<<"$wal"
  rows=$(sql "SELECT string_agg(relname || ' +' || n_tup_ins || ' ~' || n_tup_upd || ' -' || n_tup_del, ', ' ORDER BY relname)
    FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 AND relname NOT LIKE 'goose%'")
  kept=$(sql "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
    WHERE s.nspname = 'public' AND c.relkind IN ('r','p') AND (c.relname ~ '^(events|deliveries|attempts)')")
  awk -v n="$n" -v d="$delivered" -v rate="$rate" -v dups="$dups" -v s="$scpu" -v pg="$pg" \
      -v wb="$walbytes" -v wr="$walrecs" -v fpi="$walfpi" -v commits="$commits" -v kept="$kept" -v per_node="$split" -v p50="$p50" -v p99="$p99" -v rows="$rows" 'BEGIN {
    printf "nodes %d: %d deliveries at %d/s (p50 %.1f ms, p99 %.1f ms), %d duplicates, attempts per node:%s\n", n, d, rate, p50, p99, dups, per_node
    printf "  per delivery: Outlet CPU %.3f ms, Postgres CPU %.3f ms, WAL %.0f bytes in %.1f records (%.2f full-page images), kept %.0f bytes\n", 1000*s/d, 1000*pg/d, wb/d, wr/d, fpi/d, kept/d
    printf "  transactions committed: %.2f per delivery\n", commits/d
    printf "  rows: %s\n", rows
  }'
done
