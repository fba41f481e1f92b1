#!/usr/bin/env bash
# Tender create+publish throughput through the API, with wrk, against the release build.
# Usage: benches/load/run.sh [sqlite|postgres] [DURATION] [CONNECTIONS]
#   postgres uses $SEALBID_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/sealbid_bench,
#   dropped and re-created).
set -euo pipefail
backend=${1:-sqlite}
duration=${2:-20s}
conns=${3:-16}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SEALBID_BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  bin="$root/target/release/sealbid"
fi
work=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

case "$backend" in
  sqlite) url="sqlite://$work/bench.db" ;;
  postgres)
    url=${SEALBID_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/sealbid_bench}
    admin_url="${url%/*}/postgres"
    db="${url##*/}"
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" ;;
  *) echo "backend is sqlite or postgres" >&2; exit 2 ;;
esac

port=$((20000 + RANDOM % 20000))
(cd "$work" && exec env SEALBID_LOG=warn "$bin" serve --demo --listen "127.0.0.1:$port" \
   --database-url "$url" --blob-store "$work/blobs" > "$work/serve.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

login() {
  curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"sealbid-demo\"}" | sed -E 's/.*"token":"([^"]+)".*/\1/'
}
export TENDEREE_TOKEN=$(login tenderee)
export OFFICER_TOKEN=$(login officer)
export DEADLINE=$(date -u -d '+40 days' +%Y-%m-%dT02:00:00Z)
echo "backend=$backend duration=$duration connections=$conns threads=2"
echo "-- baseline: GET /healthz (HTTP stack + one read query)"
wrk -t2 -c"$conns" -d"$duration" "http://127.0.0.1:$port/healthz" | grep -E "Requests/sec|Latency"
echo "-- tender create + submit + approve"
wrk -t2 -c"$conns" -d"$duration" -s "$root/benches/load/create_publish.lua" "http://127.0.0.1:$port"
