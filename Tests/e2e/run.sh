#!/usr/bin/env bash
# End-to-end tests: the real `civicmap` binary on loopback over temporary SpatiaLite files,
# read the way GIS clients and the benchmark kit read it (GDAL's OAPIF driver, the OpenAPI
# validator, check_requests.py). Prints "e2e: N passed, M failed"; exits 1 on any failure.
set -uo pipefail
export SE_AVOID_STATS=true SE_OFFLINE=true  # no outside network for selenium
cd "$(dirname "$0")/../.."
BIN=${CIVICMAP_BIN:-.build/debug/civicmap}
SHARED=${SHARED:-../shared}
WORK=$(mktemp -d)
passed=0
failed=0
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

check() {  # check NAME COMMAND…: runs COMMAND, counts and shows the outcome
  local name=$1
  shift
  if "$@" >"$WORK/out.txt" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    tail -25 "$WORK/out.txt" | sed 's/^/     /'
  fi
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

serve() {  # serve DATABASE [FLAG…] → sets $BASE
  local port database=$1
  shift
  port=$(free_port)
  "$BIN" serve --database "$database" --port "$port" --log-level warning "$@" >"$WORK/server-$port.log" 2>&1 &
  pids+=($!)
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fs "$BASE/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start:"; cat "$WORK/server-$port.log"
  return 1
}

json_field() {  # json_field URL PYTHON-EXPRESSION-ON-d
  curl -fsS -H 'Accept: application/json' "$1" | python3 -c "import json, sys; d = json.load(sys.stdin); print($2)"
}

# ---- the bundled demo data ------------------------------------------------------------
DEMO="$WORK/demo.sqlite"
check "init loads regions and the demo organisations" "$BIN" init --database "$DEMO"
# Tiles from an unused loopback address: the browser test must not reach outside hosts.
serve "$DEMO" --tile-url 'http://127.0.0.2:9/{z}/{x}/{y}.png' || exit 1

acceptance() {
  curl -fsS "$BASE/collections/organizations/items?region_iso=RU-PER&min_distance_km=50" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["numberMatched"] == 1, d["numberMatched"]
p = d["features"][0]["properties"]
assert "Проектная среда" in p["name"] and p["settlement"] == "Кудымкар", p
assert abs(p["distance_to_center_km"] - 145.552679) < 1e-6, p["distance_to_center_km"]
print(p["name"], p["distance_to_center_km"])'
}
check "remote NGOs of Perm Krai: «Проектная среда» in Kudymkar, 145.55 km" acceptance

openapi_valid() {
  curl -fsS -H 'Accept: application/vnd.oai.openapi+json;version=3.0' "$BASE/api" >"$WORK/api.json" &&
    python3 -c 'import json, sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print("valid")' "$WORK/api.json"
}
check "/api is a valid OpenAPI 3.0 document" openapi_valid

problem() {  # problem URL PARAMETER
  local status
  status=$(curl -s -o "$WORK/problem.json" -w '%{http_code} %{content_type}' "$1")
  [ "$status" = "400 application/problem+json" ] || { echo "got $status"; cat "$WORK/problem.json"; return 1; }
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["parameter"] == sys.argv[2], d' "$WORK/problem.json" "$2"
}
check "bad bbox → 400 problem+json naming bbox" problem "$BASE/collections/organizations/items?bbox=1,2,3" bbox
check "unknown parameter → 400 naming it" problem "$BASE/collections/ngo/items?colour=red" colour

gdal_copy() {  # every collection copied by ogr2ogr (small pages, so every next link is followed)
  for collection in organizations ngo tos internship_site regions; do
    matched=$(json_field "$BASE/collections/$collection/items?limit=1" 'd["numberMatched"]') || return 1
    rm -f "$WORK/$collection.gpkg"
    ogr2ogr -f GPKG "$WORK/$collection.gpkg" "OAPIF:$BASE/collections/$collection" -oo PAGE_SIZE=7 || return 1
    copied=$(ogrinfo -ro -so "$WORK/$collection.gpkg" "$collection" | sed -n 's/^Feature Count: //p')
    echo "$collection: numberMatched $matched, copied $copied"
    [ "$matched" = "$copied" ] || return 1
  done
}
check "ogr2ogr (GDAL OAPIF) copies every collection to GeoPackage with the right counts" gdal_copy

gdal_lists_layers() {
  ogrinfo -ro -q "OAPIF:$BASE/" >"$WORK/layers.txt" || return 1
  cat "$WORK/layers.txt"
  for layer in organizations ngo tos internship_site regions; do grep -q ": $layer" "$WORK/layers.txt" || return 1; done
}
check "ogrinfo lists the collections from the landing page" gdal_lists_layers

all_or_nothing() {
  printf 'name,kind,lat,lon,inn\nАНО Тест,ngo,58.0,56.2,5981006306\nПлохая,ngo,58.0,56.2,5981006307\n' >"$WORK/bad.csv"
  before=$(json_field "$BASE/collections/organizations/items?limit=1" 'd["numberMatched"]')
  if "$BIN" import --database "$DEMO" "$WORK/bad.csv"; then echo "import should fail"; return 1; fi
  after=$(json_field "$BASE/collections/organizations/items?limit=1" 'd["numberMatched"]')
  echo "before $before, after $after"
  [ "$before" = "$after" ]
}
check "an import with a bad row writes nothing (CLI exit status 1)" all_or_nothing

# ---- the map page and the widget in a real browser ------------------------------------
browser() {
  printf 'name,kind,region_iso,lat,lon\n"<img src=x onerror=""window.__xss=1""><b>Жирный</b> НКО",ngo,RU-SA,62.03,129.73\n' >"$WORK/html-name.csv"
  "$BIN" import --database "$DEMO" "$WORK/html-name.csv" || return 1
  python3 Tests/browser/test_map.py --base "$BASE" --second-origin-port "$(free_port)" --screenshot "${SCREENSHOT:-$WORK/screenshot.png}"
}
if [ -f Tests/browser/test_map.py ]; then
  check "map page and widget in headless Chromium" browser
fi

# ---- the benchmark kit on a small generated dataset ----------------------------------
if [ -f "$SHARED/bench/gen_dataset.py" ]; then
  SMALL="$WORK/bench"
  python3 "$SHARED/bench/gen_dataset.py" -n 20000 --seed 7 --out-dir "$SMALL" --formats csv \
    --data-dir "$SHARED/data" >/dev/null 2>&1
  python3 "$SHARED/bench/make_requests.py" --data "$SMALL" --out "$SMALL/requests" >/dev/null 2>&1
  BENCHDB="$WORK/bench.sqlite"
  check "benchmark CSV (20,000 rows) imports completely" bash -c \
    "'$BIN' init --no-demo --database '$BENCHDB' && '$BIN' import --database '$BENCHDB' '$SMALL/organizations.csv' 2>&1 | tee /dev/stderr | grep -q 'added 20000, updated 0, unchanged 0, rejected 0'"
  serve "$BENCHDB" || exit 1
  items="/collections/organizations/items?f=json"
  check "W1 city viewports" python3 "$SHARED/bench/check_requests.py" --base "$BASE" --sample 40 \
    --template "$items&bbox={bbox}&limit={limit}" --requests "$SMALL/requests/w1_city_bbox.txt"
  check "W2 region pages ordered by id" python3 "$SHARED/bench/check_requests.py" --base "$BASE" --sample 40 \
    --template "$items&bbox={bbox}&limit={limit}&offset={offset}&sortby=id" --requests "$SMALL/requests/w2_region_bbox.txt"
  check "W4 single features" python3 "$SHARED/bench/check_requests.py" --base "$BASE" --sample 40 \
    --template "/collections/organizations/items/{id}?f=json" --requests "$SMALL/requests/w4_feature.txt"
  check "W5 remote organisations (geodesic ≥ 50 km)" python3 "$SHARED/bench/check_requests.py" --base "$BASE" --sample 83 \
    --template "$items&region_iso={region}&min_distance_km={km}&limit={limit}&sortby=id" --requests "$SMALL/requests/w5_remote.txt"
  w3() {
    curl -fsS "$BASE/export/organizations.geojson" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert len(d["features"]) == 20000 == d["numberMatched"], len(d["features"])
print(len(d["features"]), "features")'
  }
  check "W3 export streams all 20,000 features" w3
  reimport() {
    "$BIN" import --database "$BENCHDB" "$SMALL/organizations.csv" 2>&1 | tee /dev/stderr | grep -q 'added 0, updated 0, unchanged 20000, rejected 0'
  }
  check "re-importing the same file changes nothing" reimport
else
  echo "skip benchmark-kit checks: $SHARED/bench not found"
fi

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
