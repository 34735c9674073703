#!/usr/bin/env bash
# The mixed read/write load (make load): LOAD_SLICES (10) slices of LOAD_SLICE (60s) of wrk -t2 -c32
# with scripts/mixed_load.lua (60% W1 viewports, 30% W4 features, 10% PATCH writes with a token)
# against the release server on a copy of the benchmark database. Per slice: throughput, p50/p99,
# errors, writes (from /metrics) and the server's RSS; then the verdict: no errors, throughput
# held (every slice at least 70% of the first), no memory growth (last slice's RSS within 10% +
# 20 MB of the first). Writes $OUT/load.md. Needs the dataset and database of `make bench` (same
# BENCH_N and BENCH_DATA); makes them if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-../shared}
N=${BENCH_N:-200000}
BIN=${BENCH_BIN:-.build/release/civicmap}
DATA=${BENCH_DATA:-var/bench-data}-$N
OUT=${BENCH_OUT:-bench-results}
SLICES=${LOAD_SLICES:-10}
SLICE=${LOAD_SLICE:-60s}
mkdir -p "$OUT"
REQUESTS="$SHARED/bench/requests"
[ "$N" = 200000 ] || REQUESTS="$DATA/requests"
if [ ! -f "$DATA/bench.sqlite" ] || [ ! -f "$REQUESTS/w1_city_bbox.txt" ]; then
  echo "no benchmark database in $DATA: running the benchmark's import first"
  BENCH_RUNS=1 BENCH_DURATION=1s scripts/bench.sh >/dev/null
fi

# A fresh copy, so the benchmark's database stays as imported.
DB="$DATA/load.sqlite"
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"
"$BIN" backup --database "$DATA/bench.sqlite" "$DB" >/dev/null
TOKEN=$("$BIN" token create --database "$DB" --name "load-$(date +%s)" --role admin 2>/dev/null)

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$port"
"$BIN" serve --database "$DB" --port "$port" --log-level warning >"$OUT/load-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "$BASE/health" >/dev/null 2>&1 && break; sleep 0.1; done

patches() { curl -fs "$BASE/metrics" | awk '/^civicmap_http_requests_total\{method="PATCH"/ { n += $2 } END { print n + 0 }'; }
rss_mb() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$SERVER/status"; }

echo "slice,rps,p50_ms,p99_ms,errors,socket_errors,writes,rss_mb" >"$OUT/load.csv"
for slice in $(seq 1 "$SLICES"); do
  before=$(patches)
  line=$(wrk -t2 -c32 -d"$SLICE" -s scripts/mixed_load.lua "$BASE" -- "$REQUESTS/w1_city_bbox.txt" "$REQUESTS/w4_feature.txt" "$TOKEN" |
    sed -n 's/^MIXED_JSON //p')
  writes=$(( $(patches) - before ))
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(",".join(str(x) for x in [sys.argv[2], round(d["rps"]), round(d["p50_ms"], 1), round(d["p99_ms"], 1), d["errors"], d["socket_errors"], sys.argv[3], sys.argv[4]]))' \
    "$line" "$slice" "$writes" "$(rss_mb)" | tee -a "$OUT/load.csv"
done

python3 - "$OUT/load.csv" "$OUT/load.md" "$SLICE" "$N" "$BIN" <<'PY'
import csv, sys, datetime, os
rows = list(csv.DictReader(open(sys.argv[1])))
out, slice_, n, binary = sys.argv[2:]
first, last = rows[0], rows[-1]
errors = sum(int(r["errors"]) + int(r["socket_errors"]) for r in rows)
held = all(float(r["rps"]) >= 0.7 * float(first["rps"]) for r in rows)
growth = int(last["rss_mb"]) - int(first["rss_mb"])
flat = growth <= 0.1 * int(first["rss_mb"]) + 20
table = "\n".join(f"| {r['slice']} | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['writes']} | {r['errors']} | {r['rss_mb']} |" for r in rows)
verdict = f"errors {errors}; throughput {'held' if held else 'NOT held'} (min {min(float(r['rps']) for r in rows):.0f}, first {first['rps']} req/s); " \
          f"RSS {first['rss_mb']} → {last['rss_mb']} MB ({'flat' if flat else 'GROWING'})"
open(out, "w").write(f"""# Mixed read/write load — {datetime.date.today()} on {os.cpu_count()} cores

Dataset: the benchmark's {n} organisations; binary {binary}; wrk -t2 -c32, {len(rows)} slices of {slice_}; per request
60% W1 city viewport (limit 1000), 30% W4 one feature, 10% PATCH (admin token, audit entry per write).

| slice | req/s | p50 ms | p99 ms | writes | errors | server RSS MB |
| --- | --- | --- | --- | --- | --- | --- |
{table}

Verdict: {verdict}.
""")
print(open(out).read())
sys.exit(0 if errors == 0 and held and flat else 1)
PY
