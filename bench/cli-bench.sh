#!/usr/bin/env bash
# spool bench produce, consume and e2e against a fresh `spool dev` cluster, as the README reports.
#   npm run bench:cli -- [BROKERS]     (default 1; replication factor min(3, BROKERS))
# Prints one JSON result per benchmark on stdout; the cluster's data goes to a temp directory.
set -euo pipefail
cd "$(dirname "$0")/.."
brokers="${1:-1}"
rf=$((brokers < 3 ? brokers : 3))
port="${SPOOL_BENCH_PORT:-19092}"
dir="$(mktemp -d -t spool-cli-bench-XXXXXX)"
log="$dir/dev.log"
node --import tsx cli/spool.ts dev --data-dir "$dir/data" --brokers "$brokers" --port "$port" \
  --dynamodb-port 0 --s3-port 0 >"$log" 2>&1 &
dev=$!
cleanup() {
  kill -INT "$dev" 2>/dev/null && wait "$dev" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  grep -q 'Spool is running' "$log" && break
  kill -0 "$dev" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
spool=(node --import tsx cli/spool.ts --bootstrap "127.0.0.1:$port" --output json)
echo "== $brokers broker(s), replication factor $rf" >&2
"${spool[@]}" bench produce --topic perf --create-topic --partitions 6 --replication-factor "$rf" \
  --records 500000 --record-size 100 --acks all
"${spool[@]}" bench consume --topic perf --records 500000
"${spool[@]}" bench e2e --topic perf-e2e --create-topic --partitions 6 --replication-factor "$rf" \
  --records 10000 --throughput 1000 --acks all
