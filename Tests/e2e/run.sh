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

unencoded_url() {  # curl sends raw UTF-8 in a URL; NIO's parser refuses it before any route
  local out
  out=$(curl -s -w '\n%{http_code} %{content_type}' "$BASE/collections/organizations/items?q=Пермь")
  echo "$out"
  [[ "$(tail -1 <<<"$out")" == "400 application/problem+json" ]] || return 1
  head -1 <<<"$out" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["type"].endswith(":unreadable-request") and "%D0%9F" in d["detail"], d' || return 1
  # A pipelining client gets the whole answer to the request before the unreadable one first,
  # even when more bytes follow in a later read.
  python3 - "${BASE#http://}" <<'PY'
import re, socket, sys, time
host, port = sys.argv[1].split(":")
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"GET /export/organizations.geojson HTTP/1.1\r\nHost: x\r\n\r\nGET /\xd0\x9f HTTP/1.1\r\nHost: x\r\n\r\n")
time.sleep(0.05)
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
try:
    while chunk := s.recv(1 << 16):
        data += chunk
except ConnectionResetError:  # the unread third request: the server closed with it unread
    pass
assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [b"200", b"400"], data[:300]
assert b"\r\n0\r\n\r\nHTTP/1.1 400" in data, data[-600:]  # the export's last chunk, then the problem
PY
  [ $? -eq 0 ] || return 1
  curl -fsS "$BASE/health" >/dev/null || return 1  # and the server goes on
  # and counts them (read whole first: grep -q leaving early would fail curl's write under pipefail)
  curl -fsS "$BASE/metrics" -o "$WORK/metrics.txt" && grep -q 'route="(unreadable)",status="400"' "$WORK/metrics.txt"
}
check "a URL with unencoded Cyrillic gets a problem+json saying how to encode it" unencoded_url

cli_matching() {  # the CLI writes the API's document
  "$BIN" match --database "$DEMO" nearest-sites organization=20 k=1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["origin"]["id"] == 20 and d["numberReturned"] == 1, d
f = d["features"][0]
assert f["id"] == 21 and abs(f["properties"]["distance_km"] - 145.552679) < 1e-6, f
print(f["properties"]["name"], f["properties"]["distance_km"])'
}
check "civicmap match: the nearest internship site of «Проектная среда» is in Perm, 145.55 km" cli_matching

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
host_not_in_links() {  # links come from Host when no public URL is set: a malformed one stays out
  ! curl -sS -H 'Host: evil.example"><x>' "$BASE/collections" | grep -q evil
}
check "a malformed Host header never reaches links" host_not_in_links

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

# GDAL types the fields from the collection's schema, not from a first page of one feature (whose
# distance of 0 would make the column Integer), and passes the OAPIF: URL's filters to the server.
gdal_schema_and_filters() {
  ogrinfo -ro -so -oo PAGE_SIZE=1 "OAPIF:$BASE/collections/internship_site" internship_site >"$WORK/schema.txt" || return 1
  grep -E "distance_to_center_km|created_at" "$WORK/schema.txt"
  grep -q "distance_to_center_km: Real" "$WORK/schema.txt" && grep -q "created_at: DateTime" "$WORK/schema.txt" || return 1
  ogrinfo -ro -so "OAPIF:$BASE/collections/ngo?region_iso=RU-PER&min_distance_km=50" ngo | tee "$WORK/filtered.txt" | grep -q "Feature Count: 1"
}
check "ogrinfo types fields from the collection's schema and sends the URL's filters" gdal_schema_and_filters

all_or_nothing() {
  printf 'name,kind,lat,lon,inn\nАНО Тест,ngo,58.0,56.2,5981006306\nПлохая,ngo,58.0,56.2,5981006307\n' >"$WORK/bad.csv"
  before=$(json_field "$BASE/collections/organizations/items?limit=1" 'd["numberMatched"]')
  if "$BIN" import --database "$DEMO" "$WORK/bad.csv"; then echo "import should fail"; return 1; fi
  after=$(json_field "$BASE/collections/organizations/items?limit=1" 'd["numberMatched"]')
  echo "before $before, after $after"
  [ "$before" = "$after" ]
}
check "an import with a bad row writes nothing (CLI exit status 1)" all_or_nothing

read_while_locked() {  # opening the database must not wait for another process's import
  cp "$DEMO" "$WORK/locked.sqlite"
  python3 - "$BIN" "$WORK/locked.sqlite" <<'PY'
import sqlite3, subprocess, sys, time
binary, path = sys.argv[1:]
c = sqlite3.connect(path, isolation_level=None)
c.execute("CREATE TABLE lock_probe (x)"); c.execute("INSERT INTO lock_probe VALUES (1)")  # a non-empty WAL, as mid-import
c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO lock_probe VALUES (2)")  # hold the write lock
t = time.time()
r = subprocess.run([binary, "export", "--database", path, "--format", "csv", "-o", "/dev/null"], capture_output=True, text=True, timeout=60)
print(f"export with the write lock held elsewhere: exit {r.returncode} in {time.time() - t:.1f} s; {r.stderr.strip()}")
assert r.returncode == 0 and "exported 23 organisations" in r.stderr
PY
}
check "reads (civicmap export) work while another process holds the write lock" read_while_locked

cli_files_safe() {  # the CLI never makes, overwrites or half-writes the wrong file
  local db="$WORK/files.sqlite"
  cp "$DEMO" "$db"
  if "$BIN" export --database "$WORK/typo.sqlite" --format csv -o /dev/null 2>"$WORK/typo.txt"; then echo "a missing database was accepted"; return 1; fi
  grep -q "no database at" "$WORK/typo.txt" && [ ! -e "$WORK/typo.sqlite" ] || { echo "a missing database was created"; return 1; }
  "$BIN" export --database "$WORK/typo.sqlite" -o /dev/null 2>/dev/null
  [ $? = 1 ] && ! grep -q "Usage:" "$WORK/typo.txt" || { echo "a missing database is told as a usage error"; cat "$WORK/typo.txt"; return 1; }
  if "$BIN" export --database "$db" --format csv -o "$db" 2>/dev/null; then echo "export overwrote the database"; return 1; fi
  "$BIN" backup --database "$db" "$WORK/files-check.sqlite" >/dev/null || { echo "the database was damaged"; return 1; }
  # An edit, then init again: the bundled organisations must not overwrite it.
  printf 'id,name,kind,lat,lon,region_iso\n3,Переименованная,ngo,62.03,129.73,RU-SA\n' >"$WORK/rename.csv"
  "$BIN" import --database "$db" "$WORK/rename.csv" 2>/dev/null || return 1
  "$BIN" init --database "$db" | grep -q "not imported again" || { echo "init imported the demo again"; return 1; }
  "$BIN" export --database "$db" --format csv -o "$WORK/after-init.csv" 2>/dev/null && grep -q "Переименованная" "$WORK/after-init.csv" \
    || { echo "init reverted an edit"; return 1; }
  # An unwritable report is refused before the import writes anything.
  printf 'name,kind,lat,lon\nАНО Отчёт,ngo,58.0,56.2\n' >"$WORK/one.csv"
  if "$BIN" import --database "$db" "$WORK/one.csv" --partial --report /nonexistent/report.csv 2>/dev/null; then echo "an unwritable report was accepted"; return 1; fi
  if grep -q "АНО Отчёт" <("$BIN" export --database "$db" --format csv 2>/dev/null); then echo "the import committed before failing"; return 1; fi
  # A dry run with a rejected row fails as the import would.
  printf 'name,kind,lat,lon\nПлохая,bogus,58.0,56.2\n' >"$WORK/bogus.csv"
  if "$BIN" import --database "$db" --dry-run "$WORK/bogus.csv" 2>/dev/null; then echo "dry run passed a rejected row"; return 1; fi
  "$BIN" import --database "$db" --dry-run --partial "$WORK/bogus.csv" 2>/dev/null || { echo "a partial dry run failed"; return 1; }
  # A backup into a folder that does not exist says so.
  if "$BIN" backup --database "$db" "$WORK/no/such/folder/b.sqlite" 2>"$WORK/backup-err.txt"; then echo "backup into nowhere succeeded"; return 1; fi
  grep -q "does not exist" "$WORK/backup-err.txt" || { cat "$WORK/backup-err.txt"; return 1; }
}
check "CLI: no database made by a typo, no output over the database or an input, no edit reverted by init" cli_files_safe

steward_report() {  # an Excel-saved file's report opens in Excel, rows in file order; the audit names the account
  local db="$WORK/report.sqlite"
  cp "$DEMO" "$db"
  # Semicolons and a BOM, as Excel saves "CSV UTF-8"; line 3 is refused, line 2 warned (a rename in Yakutsk) and changed.
  printf '\xef\xbb\xbfid;name;kind;lat;lon\r\n3;Фонд;ngo;62,03;129,73\r\n;Плохая;bogus;58,0;56,2\r\n' >"$WORK/excel.csv"
  "$BIN" import --database "$db" --partial --report "$WORK/report.csv" "$WORK/excel.csv" 2>/dev/null || return 1
  python3 - "$WORK/report.csv" <<'PY' || return 1
import csv, io, sys
data = open(sys.argv[1], "rb").read()
assert data.startswith(b"\xef\xbb\xbf"), data[:20]
rows = list(csv.reader(io.StringIO(data[3:].decode()), delimiter=";"))
assert rows[0][:3] == ["severity", "line", "field"], rows[0]
assert [r[1] for r in rows[1:]] == sorted(r[1] for r in rows[1:]) and rows[1][1] == "2", rows
# and what line 2 changes, old → new
assert any(r[0] == "change" and r[1] == "2" and "name «" in r[3] and " → «Фонд»" in r[3] for r in rows[1:]), rows
print(rows)
PY
  last_actor() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT actor FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0])' "$db"; }
  [ "$(last_actor)" = "cli:$(id -un)" ] || { echo "audit actor '$(last_actor)', expected cli:$(id -un)"; return 1; }
  USER=somebody-else "$BIN" import --database "$db" "$WORK/one.csv" >/dev/null 2>&1 || return 1
  [ "$(last_actor)" = "cli:$(id -un)" ] || { echo "\$USER chose the audit actor: '$(last_actor)'"; return 1; }
}
check "CLI: an Excel file's problem report opens in Excel, in row order; the audit names the account, not \$USER" steward_report

steward_audit() {  # tokens expire and are logged; a centre moved by an edited regions.csv (and moved back) is said and logged
  local db="$WORK/audit.sqlite" out
  cp "$DEMO" "$db"
  "$BIN" token create --database "$db" --name season --expires "$(date -u -d tomorrow +%F)" >/dev/null 2>"$WORK/made.txt" || return 1
  grep -q "works until $(date -u -d tomorrow +%F)T23:59:59Z" "$WORK/made.txt" || { cat "$WORK/made.txt"; return 1; }
  if "$BIN" token create --database "$db" --name late --expires 2020-01-01 2>/dev/null; then echo "a token expiring in the past was made"; return 1; fi
  "$BIN" token list --database "$db" | grep -q "^season"$'\t'"editor"$'\t'"\*"$'\t'".*"$'\t'"$(date -u -d tomorrow +%F)" || { "$BIN" token list --database "$db"; return 1; }
  mkdir -p "$WORK/moved" && cp data/*.csv data/*.geojson "$WORK/moved/" || return 1
  python3 - "$WORK/moved/regions.csv" <<'PY' || return 1
import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8")))
header = rows[0]
for row in rows[1:]:
    if row[header.index("iso_3166_2")] == "RU-PER":
        row[header.index("center_lat")], row[header.index("center_lon")] = "59.0152", "54.6532"
csv.writer(open(sys.argv[1], "w", encoding="utf-8", newline="")).writerows(rows)
PY
  "$BIN" init --database "$db" --data-dir "$WORK/moved" >/dev/null 2>"$WORK/moved.txt" || { cat "$WORK/moved.txt"; return 1; }
  grep -q "changed region 59 Пермский край: centre Пермь (58.0105, 56.2502) → Пермь (59.0152, 54.6532); distances of [0-9]* organisations recomputed" \
    "$WORK/moved.txt" || { cat "$WORK/moved.txt"; return 1; }
  "$BIN" init --database "$db" >/dev/null 2>"$WORK/back.txt" || return 1
  grep -q "→ Пермь (58.0105, 56.2502)" "$WORK/back.txt" || { echo "a plain init put the centre back without a word:"; cat "$WORK/back.txt"; return 1; }
  out=$("$BIN" audit --database "$db" --action regions) || return 1
  echo "$out"
  [ "$(echo "$out" | grep -c $'\tregions\t')" = 2 ] && echo "$out" | grep -q '59.0152' || return 1
  "$BIN" audit --database "$db" --action token-create --since "$(date -u +%F)" | grep -q '"token":"season"' || return 1
  if "$BIN" audit --database "$db" --since 2026-02-30 2>"$WORK/bad.txt"; then echo "a day no calendar has was taken"; return 1; fi
  grep -q -- "--since: '2026-02-30' is not a date" "$WORK/bad.txt" || { cat "$WORK/bad.txt"; return 1; }
}
check "steward: tokens expire and are logged; a moved centre is said, logged and listed by civicmap audit" steward_audit

steward_undo_import() {  # an import names its audit entry; civicmap revert of it undoes the whole import
  local db="$WORK/undo.sqlite" entry before
  cp "$DEMO" "$db"
  orgs() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM organizations").fetchone()[0])' "$db"; }
  before=$(orgs) || return 1
  printf 'name,kind,region_iso,settlement,lat,lon\nАНО «Среда»,ngo,RU-PER,Кудымкар,59.0152,54.6532\nТОС «Заря»,tos,RU-SA,Якутск,62.0311,129.7229\n' >"$WORK/undo.csv"
  "$BIN" import --database "$db" "$WORK/undo.csv" 2>"$WORK/undo.txt" || { cat "$WORK/undo.txt"; return 1; }
  entry=$(sed -n 's/.*(audit entry \([0-9]*\); civicmap revert \1 undoes it).*/\1/p' "$WORK/undo.txt")
  [ -n "$entry" ] && [ "$(orgs)" = $((before + 2)) ] || { cat "$WORK/undo.txt"; return 1; }
  "$BIN" revert --database "$db" "$entry" | tee "$WORK/reverted.txt" | grep -q "^reverted entry $entry (import by .*): 2 organisations removed$" \
    || { cat "$WORK/reverted.txt"; return 1; }
  [ "$(orgs)" = "$before" ] || { echo "the import's organisations are still there"; return 1; }
  "$BIN" audit --database "$db" --action revert | grep -q "reverts entry $entry: " || { "$BIN" audit --database "$db"; return 1; }
}
check "steward: an import names its audit entry, and civicmap revert of that entry undoes the whole import" steward_undo_import

restore_keeps_access_and_history() {  # a backup restored: data back, revoked tokens stay revoked, ids stay unused
  local db="$WORK/restore.sqlite" app="$BASE" alice bob location status
  cp "$DEMO" "$db"
  alice=$("$BIN" token create --database "$db" --name alice --role admin | grep -o 'cm_[0-9a-f]*') || return 1
  bob=$("$BIN" token create --database "$db" --name bob --role admin | grep -o 'cm_[0-9a-f]*') || return 1
  "$BIN" backup --database "$db" "$WORK/nightly.sqlite" >/dev/null || return 1
  "$BIN" token revoke --database "$db" bob >/dev/null || return 1
  "$BIN" token create --database "$db" --name carol --expires "$(date -u -d tomorrow +%F)" >/dev/null 2>&1 || return 1
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE api_tokens SET expires_at = ? WHERE name = ?", ("2026-01-01T00:00:00Z", "carol")); c.commit()' "$db" || return 1
  serve "$db" || return 1
  local server=${pids[-1]}
  location=$(curl -fsS -o /dev/null -D - -X POST -H "Authorization: Bearer $alice" -H 'Content-Type: application/geo+json' \
    --data '{"type":"Feature","geometry":{"type":"Point","coordinates":[56.25,58.01]},"properties":{"name":"АНО после копии","kind":"ngo"}}' \
    "$BASE/collections/organizations/items" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$location" ] || { echo "create failed"; return 1; }
  location=${location#*://*/}  # the next server listens on another port
  if "$BIN" restore --database "$db" "$WORK/nightly.sqlite" 2>"$WORK/restore-busy.txt"; then echo "restored under a running server"; return 1; fi
  grep -q "open in another process" "$WORK/restore-busy.txt" || { cat "$WORK/restore-busy.txt"; return 1; }
  kill "$server"; wait "$server" 2>/dev/null
  "$BIN" restore --database "$db" "$WORK/nightly.sqlite" >"$WORK/restored.txt" || return 1
  cat "$WORK/restored.txt"
  grep -q "1 valid token kept" "$WORK/restored.txt" || { echo "expected 1 valid token (alice; bob revoked, carol expired)"; return 1; }
  ls "$db".before-restore-* >/dev/null || { echo "the database as it was is not kept"; return 1; }
  serve "$db" || return 1
  status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/$location")
  [ "$status" = 404 ] || { echo "the organisation made after the backup is still there ($status)"; return 1; }
  status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $bob" -H 'If-Match: *' "$BASE/collections/organizations/items/21")
  [ "$status" = 401 ] || { echo "bob's revoked token works again after the restore ($status)"; return 1; }
  local again
  again=$(curl -fsS -o /dev/null -D - -X POST -H "Authorization: Bearer $alice" -H 'Content-Type: application/geo+json' \
    --data '{"type":"Feature","geometry":{"type":"Point","coordinates":[56.25,58.01]},"properties":{"name":"АНО после восстановления","kind":"ngo"}}' \
    "$BASE/collections/organizations/items" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$again" ] && [ "${again#*://*/}" != "$location" ] || { echo "the id of the organisation made after the backup was given again: $again"; return 1; }
  curl -fsS -H "Authorization: Bearer $alice" "$BASE/audit?limit=10" | python3 -c '
import json, sys
actions = [e["action"] for e in json.load(sys.stdin)["entries"]]
assert actions[:3] == ["create", "restore", "create"], actions
print(actions)' || return 1
  BASE="$app"
}
check "restore: the backup's data, tokens and audit as they are now, no id given twice, refused under a server" restore_keeps_access_and_history

# ---- the map page and the widget in a real browser ------------------------------------
sub_path() {  # behind a reverse proxy that serves the app under /civicmap/
  local app="$BASE" proxy_port status
  proxy_port=$(free_port)
  serve "$DEMO" --public-url "http://127.0.0.1:$proxy_port/civicmap/" --tile-url 'http://127.0.0.2:9/{z}/{x}/{y}.png' || return 1
  (cd Tests/browser && python3 test_subpath.py --app "$BASE" --port "$proxy_port")
  status=$?
  BASE="$app"
  return $status
}

browser() {
  printf 'name,kind,region_iso,lat,lon\n"<img src=x onerror=""window.__xss=1""><b>Жирный</b> НКО",ngo,RU-SA,62.03,129.73\n' >"$WORK/html-name.csv"
  "$BIN" import --database "$DEMO" "$WORK/html-name.csv" || return 1
  python3 Tests/browser/test_map.py --base "$BASE" --second-origin-port "$(free_port)" --screenshot "${SCREENSHOT:-$WORK/screenshot.png}"
}
if [ -f Tests/browser/test_map.py ]; then
  check "map page and widget in headless Chromium" browser
  check "map page and report behind a proxy's sub-path (--public-url …/civicmap/)" sub_path
fi

# ---- the benchmark kit on a small generated dataset ----------------------------------
if [ -f "$SHARED/bench/gen_dataset.py" ]; then
  SMALL="$WORK/bench"
  python3 "$SHARED/bench/gen_dataset.py" -n 20000 --seed 7 --out-dir "$SMALL" --formats csv \
    --data-dir "$SHARED/data" >/dev/null 2>&1
  python3 "$SHARED/bench/make_requests.py" --data "$SMALL" --out "$SMALL/requests" >/dev/null 2>&1
  BENCHDB="$WORK/bench.sqlite"
  # The kit places a few rows at a namesake village in another region (Китово, Ivanovo Oblast,
  # stated as Kurgan Oblast) and counts them where stated: they are kept, with a warning.
  check "benchmark CSV (20,000 rows) imports completely" bash -c \
    "'$BIN' init --no-demo --database '$BENCHDB' && '$BIN' import --keep-far-points --database '$BENCHDB' '$SMALL/organizations.csv' 2>&1 | tee /dev/stderr | grep -q 'added 20000, updated 0, unchanged 0, rejected 0'"
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
  largest=$(python3 -c 'import csv, collections, sys; print(collections.Counter(r["region_iso"] for r in csv.DictReader(open(sys.argv[1], encoding="utf-8"))).most_common(1)[0][0])' "$SMALL/organizations.csv")
  report_agrees() {  # the report's counts equal what the items API counts
    python3 - "$BASE" "$largest" <<'PY'
import json, sys, urllib.request
base, region = sys.argv[1:]
get = lambda path: json.load(urllib.request.urlopen(base + path))
report = get(f"/reports/regions/{region}?f=json&threshold_km=50")
items = lambda q: get(f"/collections/organizations/items?f=json&limit=1&region_iso={region}" + q)["numberMatched"]
assert report["totals"]["organizations"] == items(""), report["totals"]
assert report["totals"]["remote"] == items("&min_distance_km=50"), report["totals"]
for line in report["by_kind"]:
    assert line["organizations"] == items("&kind=" + line["kind"]), line
    assert line["remote"] == items("&kind=" + line["kind"] + "&min_distance_km=50"), line
assert sum(b["organizations"] for b in report["distances"]["bins"]) == report["totals"]["organizations"]
far = report["most_remote"][0]["distance_to_center_km"]
# most_remote is rounded to the millimetre: the farthest lies within it, and nothing beyond.
assert items(f"&min_distance_km={far - 0.000001}") >= 1 and items(f"&min_distance_km={far + 0.000001}") == 0
print(region, report["totals"], "coverage", report["coverage"]["covered"], "of", report["coverage"]["settlements"])
PY
  }
  check "region report of the largest region agrees with the items API" report_agrees
  matching_agrees() {  # remote organisations within reach, against an independent spherical check
    python3 - "$BASE" "$largest" <<'PY'
import csv, io, json, math, sys, urllib.request
base, region = sys.argv[1:]
get = lambda path: urllib.request.urlopen(base + path).read()
site = json.loads(get(f"/collections/internship_site/items?f=json&limit=1&region_iso={region}"))["features"][0]
lon, lat = site["geometry"]["coordinates"]
radius = 100
rows = list(csv.DictReader(io.StringIO(get(f"/matching/remote-organizations?site={site['id']}&radius_km={radius}&threshold_km=50&f=csv").decode())))
page = json.loads(get(f"/matching/remote-organizations?site={site['id']}&radius_km={radius}&threshold_km=50&limit=5"))
assert page["numberMatched"] == len(rows), (page["numberMatched"], len(rows))
everything = csv.DictReader(io.StringIO(get(f"/export/organizations.csv?region_iso={region}&kind=ngo,tos&min_distance_km=50").decode()))
def km(r):  # haversine: within 0.5% of the geodesic, so only clear cases are judged
    p1, p2 = math.radians(lat), math.radians(float(r["lat"]))
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(float(r["lon"]) - lon) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))
found = {r["id"] for r in rows}
everything = list(everything)
inside = {r["id"] for r in everything if km(r) < radius * 0.995}
outside = {r["id"] for r in everything if km(r) > radius * 1.005}
assert inside <= found, inside - found
assert not (found & outside), found & outside
distances = [float(r["distance_km"]) for r in rows]
assert distances == sorted(distances) and all(d <= radius for d in distances)
print(f"site {site['id']}: {len(rows)} remote organisations within {radius} km ({len(inside)} clearly inside)")
PY
  }
  check "remote organisations within reach of a site: exact count, none outside the radius" matching_agrees
  excel_round_trip() {  # the Excel dialect in Windows-1251 imports back into a fresh database unchanged
    curl -fsS "$BASE/export/organizations.csv?region_iso=$largest&dialect=excel&encoding=windows-1251" >"$WORK/excel.csv" || return 1
    "$BIN" init --no-demo --database "$WORK/excel.sqlite" >/dev/null || return 1
    "$BIN" import --database "$WORK/excel.sqlite" "$WORK/excel.csv" 2>&1 | tee "$WORK/excel.log"
    grep -q "as windows-1251, delimiter ';'" "$WORK/excel.log" || return 1
    "$BIN" export --database "$WORK/excel.sqlite" --format csv >"$WORK/back.csv" 2>/dev/null || return 1
    curl -fsS "$BASE/export/organizations.csv?region_iso=$largest" >"$WORK/original.csv" || return 1
    python3 - "$WORK/original.csv" "$WORK/back.csv" <<'PY'
import csv, sys
key = lambda r: (r["name"], r["kind"], r["inn"], r["ogrn"], r["lat"], r["lon"], r["distance_to_center_km"])
a, b = ([key(r) for r in csv.DictReader(open(p, encoding="utf-8"))] for p in sys.argv[1:])
assert len(a) == len(b) and sorted(a) == sorted(b), (len(a), len(b))
print(len(a), "organisations identical after the round trip")
PY
  }
  check "Excel CSV (Windows-1251, ';', decimal comma, Russian headers) imports back unchanged" excel_round_trip
  reimport() {
    "$BIN" import --keep-far-points --database "$BENCHDB" "$SMALL/organizations.csv" 2>&1 | tee /dev/stderr | grep -q 'added 0, updated 0, unchanged 20000, rejected 0'
  }
  check "re-importing the same file changes nothing" reimport
else
  echo "skip benchmark-kit checks: $SHARED/bench not found"
fi

source Tests/e2e/safety.sh

echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
