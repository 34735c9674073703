# Editing safely (sourced by run.sh, which defines check, serve, $BIN, $WORK, $DEMO and, with
# the benchmark kit, $BENCHDB and $SMALL): the write API with tokens, the API fuzzer, an import
# killed mid-way, an online backup and its restore, graceful shutdown, the page's headers.

# ---- the write API over HTTP ------------------------------------------------------------
EDIT="$WORK/edit.sqlite"
"$BIN" backup --database "$DEMO" "$EDIT" >/dev/null
ADMIN=$("$BIN" token create --database "$EDIT" --name e2e-admin --role admin 2>/dev/null)
PERM=$("$BIN" token create --database "$EDIT" --name perm-editor --role editor --region RU-PER 2>/dev/null)
serve "$EDIT" || exit 1
EDIT_BASE=$BASE

write_api() {  # create, read, patch with If-Match, move (remoteness recomputed), stale tag, scope, revoke, audit
  python3 - "$EDIT_BASE" "$ADMIN" "$PERM" <<'PY'
import json, sys, urllib.request, urllib.error
base, admin, perm = sys.argv[1:]
def call(method, path, token=None, body=None, headers=None, ctype="application/geo+json"):
    h = dict(headers or {})
    if token: h["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode(); h["Content-Type"] = ctype
    req = urllib.request.Request(base + path, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req) as r: return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e: return e.code, dict(e.headers), e.read()
items = "/collections/organizations/items"
feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [56.2502, 58.0105]},
           "properties": {"name": "АНО «Проверка записи»", "kind": "ngo", "settlement": "Пермь"}}
s, h, b = call("POST", items, body=feature)
assert s == 401 and h["WWW-Authenticate"].startswith("Bearer"), (s, h)
s, h, b = call("POST", items, perm, feature)
assert s == 201, (s, b)
new = json.loads(b); fid = new["id"]
assert h["Location"].endswith(f"{items}/{fid}") and new["properties"]["region_iso"] == "RU-PER", (h, new)
assert new["properties"]["distance_to_center_km"] < 5, new["properties"]
s, h, b = call("GET", f"{items}/{fid}")
tag = h["ETag"]
s, _, b = call("PATCH", f"{items}/{fid}", perm, {"geometry": {"type": "Point", "coordinates": [54.65, 59.02]}},
               ctype="application/merge-patch+json")
assert s == 428, (s, b)
s, h, b = call("PATCH", f"{items}/{fid}", perm, {"geometry": {"type": "Point", "coordinates": [54.65, 59.02]},
               "properties": {"settlement": "Кудымкар"}}, {"If-Match": tag}, "application/merge-patch+json")
assert s == 200 and h["ETag"] != tag, (s, b)
moved = json.loads(b)["properties"]
assert 140 < moved["distance_to_center_km"] < 150 and moved["region_iso"] == "RU-PER", moved
s, _, b = call("PATCH", f"{items}/{fid}", perm, {"properties": {"phone": "+7 34260 4-00-00"}}, {"If-Match": tag},
               "application/merge-patch+json")
assert s == 412, (s, b)
remote = json.load(urllib.request.urlopen(base + items + "?region_iso=RU-PER&min_distance_km=50&f=json"))
assert fid in [f["id"] for f in remote["features"]], "the moved organisation counts as remote"
yakutia = json.load(urllib.request.urlopen(base + items + "?region_iso=RU-SA&limit=1&f=json"))["features"][0]["id"]
s, h, b = call("GET", f"{items}/{yakutia}")
s, _, b = call("DELETE", f"{items}/{yakutia}", perm, headers={"If-Match": h["ETag"]})
assert s == 403 and json.loads(b)["status"] == 403, (s, b)
s, _, b = call("GET", "/audit", perm)  # its own entries only
assert s == 200 and {e["actor"] for e in json.loads(b)["entries"]} == {"perm-editor"}, (s, b)
s, _, b = call("GET", "/audit?actor=admin", perm)
assert s == 403, s
audit = json.loads(call("GET", f"/audit?organization={fid}", admin)[2])
assert [e["action"] for e in audit["entries"]] == ["update", "create"], audit
assert audit["entries"][0]["before"]["properties"]["settlement"] == "Пермь"
assert audit["entries"][0]["after"]["properties"]["settlement"] == "Кудымкар"
assert all(e["actor"] == "perm-editor" for e in audit["entries"])
print("created", fid, "moved to", moved["settlement"], round(moved["distance_to_center_km"], 1), "km; audit", len(audit["entries"]))
PY
}
check "write API: token, create, If-Match, move recomputes remoteness, 412, region scope, audit" write_api

revoked_token() {
  "$BIN" token revoke --database "$EDIT" perm-editor || return 1
  status=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $PERM" -H 'If-Match: *' \
    "$EDIT_BASE/collections/organizations/items/1")
  echo "revoked token → $status"
  [ "$status" = 401 ]
}
check "a revoked token is refused at once (401)" revoked_token

fuzz() {  # every operation of /api, with an admin token: no 5xx, responses as documented
  [ -x var/schemathesis/bin/schemathesis ] || { echo "var/schemathesis missing: run scripts/install-deps.sh test"; return 1; }
  (cd "$WORK" && "$OLDPWD/var/schemathesis/bin/schemathesis" run "$EDIT_BASE/api" -H "Authorization: Bearer $ADMIN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing,stateful -n "${FUZZ_EXAMPLES:-30}" --seed 1 --no-color --continue-on-failure \
    --request-timeout 30) >"$WORK/fuzz.txt" 2>&1
  local status=$?
  sed -n '/SUMMARY/,$p' "$WORK/fuzz.txt"
  grep -q "status=5[0-9][0-9]" "$WORK"/server-*.log && { echo "a 5xx in a server log"; return 1; }
  return $status
}
check "schemathesis fuzzes the whole OpenAPI definition: no server error, no schema violation" fuzz

page_headers() {  # CSP without inline script, nosniff, referrer policy on every page; no inline script in web/
  for page in "/?f=html" /embed "/reports/regions/RU-PER?f=html"; do
    curl -fsS -D "$WORK/headers.txt" -o /dev/null "$EDIT_BASE$page" || return 1
    grep -qi "^content-security-policy:.*script-src 'self';" "$WORK/headers.txt" || { echo "$page: no CSP"; return 1; }
    grep -qi "^x-content-type-options: nosniff" "$WORK/headers.txt" || return 1
    grep -qi "^referrer-policy: " "$WORK/headers.txt" || return 1
    grep -qi "unsafe-inline" "$WORK/headers.txt" && { echo "$page allows inline code"; return 1; }
  done
  ! grep -nE "<script>|<script [^>]*>[^<]|\son[a-z]+=|javascript:" web/*.html
}
check "pages carry CSP (no inline script), nosniff and a referrer policy" page_headers

operations() {  # request ids on responses and in the log; Prometheus metrics
  local id
  id=$(json_field "$EDIT_BASE/collections/organizations/items?limit=1" 'd["features"][0]["id"]') || return 1
  curl -fsS -D "$WORK/headers.txt" -o /dev/null "$EDIT_BASE/collections/organizations/items/$id" || return 1
  grep -qi "^x-request-id: [0-9a-f]" "$WORK/headers.txt" || return 1
  curl -fsS "$EDIT_BASE/metrics" >"$WORK/metrics.txt" || return 1
  grep -E '^civicmap_http_requests_total\{method="GET",route="/collections/\{collectionId\}/items/\{featureId\}",status="200"\} [0-9]+$' "$WORK/metrics.txt" &&
    grep -m2 -E '^civicmap_http_request_duration_seconds_bucket\{.*le="\+Inf"\} [0-9]+$' "$WORK/metrics.txt" &&
    grep -E '^process_resident_memory_bytes [0-9]+$' "$WORK/metrics.txt"
}
check "X-Request-Id on responses; /metrics in Prometheus text format" operations

# ---- faults: an import killed at any point, backup while serving, SIGTERM -------------------
FAULTS="$WORK/faults.sqlite"
# The kit's rows keep their stated regions, also those at a namesake village far away (run.sh).
KIT_IMPORT=(import --keep-far-points)
if [ -n "${BENCHDB:-}" ] && [ -f "$BENCHDB" ]; then
  "$BIN" backup --database "$BENCHDB" "$FAULTS" >/dev/null
  SOURCE_CSV="$SMALL/organizations.csv"
else
  "$BIN" backup --database "$DEMO" "$FAULTS" >/dev/null
  "$BIN" export --database "$DEMO" --format csv -o "$WORK/demo.csv" 2>/dev/null
  SOURCE_CSV="$WORK/demo.csv"
fi

killed_imports() {  # kill -9 the import at several points: the data before it stays whole
  python3 - "$SOURCE_CSV" "$WORK/changed.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
with open(sys.argv[2], "w", encoding="utf-8", newline="") as out:
    w = csv.DictWriter(out, fieldnames=list(rows[0].keys()))
    w.writeheader()
    for r in rows:
        r["name"] = r["name"] + " (изм.)"
        w.writerow(r)
PY
  "$BIN" export --database "$FAULTS" --format csv -o "$WORK/before.csv" 2>/dev/null || return 1
  # Reading, validating, then writing (a debug build takes about 1, 4 and 9 s for 20,000 rows).
  local kills=0
  for delay in 0.3 1 2 3 4 6 8 10; do
    "$BIN" "${KIT_IMPORT[@]}" --database "$FAULTS" "$WORK/changed.csv" >"$WORK/killed.log" 2>&1 &
    local pid=$!
    sleep "$delay"
    # The exit status tells a kill from a finish: kill(2) also succeeds on an exited, unreaped import.
    kill -9 "$pid" 2>/dev/null
    local status=0
    wait "$pid" 2>/dev/null || status=$?
    if [ "$status" -eq 0 ]; then echo "the import completed before ${delay}s; later points not reached"; break; fi
    [ "$status" -eq 137 ] || { echo "the import failed (exit $status) before the kill at ${delay}s"; cat "$WORK/killed.log"; return 1; }
    # Atomic means all or nothing: a kill after the commit (while the process exits) leaves the new data whole.
    local state
    state=$(python3 - "$FAULTS" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
changed = c.execute("SELECT count(*) FROM organizations WHERE name LIKE '% (изм.)'").fetchone()[0]
total = c.execute("SELECT count(*) FROM organizations").fetchone()[0]
assert changed in (0, total), f"{changed} of {total} rows of the killed import are visible"
print("new" if changed else "old")
PY
) || return 1
    if [ "$state" = new ]; then echo "killed at ${delay}s after the commit: the new data is whole"; break; fi
    "$BIN" export --database "$FAULTS" --format csv -o "$WORK/after.csv" 2>/dev/null || return 1
    cmp -s "$WORK/before.csv" "$WORK/after.csv" || { echo "data changed after a kill at ${delay}s"; return 1; }
    kills=$((kills + 1))
    echo "killed at ${delay}s: database whole and unchanged"
  done
  [ "$kills" -ge 3 ] || { echo "only $kills kills landed before the import completed"; return 1; }
  "$BIN" "${KIT_IMPORT[@]}" --database "$FAULTS" "$WORK/changed.csv" | tail -1
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); n = c.execute("SELECT count(*) FROM organizations WHERE name LIKE ?", ("% (изм.)",)).fetchone()[0]; t = c.execute("SELECT count(*) FROM organizations").fetchone()[0]; print(n, "of", t, "changed by the complete import"); assert n == t' "$FAULTS"
}
check "an import killed (SIGKILL) while reading, validating and writing leaves the previous data whole" killed_imports

# The bulk paths drop and rebuild indexes and triggers inside their transaction. $1: demo (rows
# stored: staged, resolved, upserted), empty (a first import: straight into the table) or update
# (the same rows again, each with a new address: stored rows updated in bulk).
killed_bulk_import() {
  [ "$(($(wc -l <"$SOURCE_CSV") - 1))" -ge 10000 ] || { echo "needs the benchmark CSV (10,000 rows or more)"; return 1; }
  local db="$WORK/bulk.sqlite" kills=0 before delay pid status input="$SOURCE_CSV"
  rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
  if [ "$1" = empty ]; then
    "$BIN" init --no-demo --database "$db" >/dev/null || return 1
  else
    "$BIN" backup --database "$DEMO" "$db" >/dev/null || return 1
    # The kit's ids 1–23 name other organisations in the demo database (an import refuses such
    # rows): its rows go in with ids of their own, past the demo's.
    input="$WORK/kit-ids-shifted.csv"
    python3 -c 'import csv, sys
rows = csv.reader(open(sys.argv[1], encoding="utf-8")); out = csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""))
header = next(rows); out.writerow(header); i = header.index("id")
for r in rows: r[i] = str(int(r[i]) + 1000) if r[i] else r[i]; out.writerow(r)' "$SOURCE_CSV" "$input" || return 1
  fi
  if [ "$1" = update ]; then
    "$BIN" "${KIT_IMPORT[@]}" --database "$db" "$input" >/dev/null 2>&1 || return 1
    local shifted="$input"
    input="$WORK/moved-addresses.csv"
    python3 -c 'import csv, sys
rows = csv.reader(open(sys.argv[1], encoding="utf-8")); out = csv.writer(open(sys.argv[2], "w", encoding="utf-8", newline=""))
header = next(rows); out.writerow(header); a = header.index("address")
for r in rows: r[a] += ", корп. 9"; out.writerow(r)' "$shifted" "$input" || return 1
  fi
  cp "$db" "$WORK/bulk-start.sqlite"
  state() {  # integrity, counts, rows with the new address and the whole schema
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1])
print(c.execute("PRAGMA integrity_check").fetchone()[0], c.execute("SELECT count(*) FROM organizations").fetchone()[0],
      c.execute("SELECT count(*) FROM idx_organizations_geom").fetchone()[0], c.execute("SELECT count(*) FROM organization_categories").fetchone()[0],
      c.execute("SELECT count(*) FROM organizations WHERE address LIKE ?", ("%корп. 9",)).fetchone()[0],
      c.execute("SELECT count(*) FROM features WHERE instr(CAST(json AS TEXT), ?) > 0", ("корп. 9",)).fetchone()[0])
for row in c.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"): print(row)' "$db"
  }
  before=$(state) || return 1
  local committed="" now journals=0
  if [ "$1" = empty ]; then  # one kill while the rollback journal is there, however fast the machine is
    "$BIN" "${KIT_IMPORT[@]}" --database "$db" "$input" >"$WORK/bulk.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 1200); do [ -f "$db-journal" ] && break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -f "$db-journal" ]; then  # hot, so not committed: the next reader rolls it back
      journals=1
      [ "$(state)" = "$before" ] || { echo "a kill with the rollback journal in place left the database changed"; return 1; }
    fi
  fi
  for delay in 1 2 2.5 3 3.5 4 6; do
    "$BIN" "${KIT_IMPORT[@]}" --database "$db" "$input" >"$WORK/bulk.log" 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    status=0
    wait "$pid" 2>/dev/null || status=$?
    [ "$status" -eq 0 ] && break
    [ "$status" -eq 137 ] || { echo "the import failed (exit $status)"; cat "$WORK/bulk.log"; return 1; }
    [ -f "$db-journal" ] && journals=$((journals + 1))  # a hot rollback journal, undone by the next reader
    now=$(state) || return 1
    # All or nothing: a kill after the commit (while the process exits) must leave exactly what a
    # complete import leaves, which the complete run below shows.
    if [ "$now" != "$before" ]; then committed=$now; echo "killed at ${delay}s after the commit"; break; fi
    kills=$((kills + 1))
  done
  [ "$kills" -ge 2 ] || { echo "only $kills kills landed before the import completed"; return 1; }
  if [ "$status" -ne 0 ]; then  # no run finished: let one run to its end, from the data before
    rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
    cp "$WORK/bulk-start.sqlite" "$db"
    "$BIN" "${KIT_IMPORT[@]}" --database "$db" "$input" >"$WORK/bulk.log" 2>&1 || { cat "$WORK/bulk.log"; return 1; }
  fi
  if [ -n "$committed" ] && [ "$(state)" != "$committed" ]; then
    echo "a kill after the commit left a state unlike a complete import's"; return 1
  fi
  grep -q ', index [0-9.]* s' "$WORK/bulk.log" || { echo "the import did not take the bulk path"; cat "$WORK/bulk.log"; return 1; }
  if [ "$1" = empty ] && grep -q ', stage [0-9.]* s' "$WORK/bulk.log"; then echo "a first import staged its rows"; cat "$WORK/bulk.log"; return 1; fi
  if [ "$1" != empty ] && ! grep -q ', stage [0-9.]* s' "$WORK/bulk.log"; then echo "the import did not stage its rows"; cat "$WORK/bulk.log"; return 1; fi
  if [ "$1" = update ] && ! grep -qE '^added 0, updated [0-9]{5}' "$WORK/bulk.log"; then echo "the import did not update the stored rows"; cat "$WORK/bulk.log"; return 1; fi
  python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); n = c.execute("SELECT count(*) FROM organizations").fetchone()[0]
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
assert c.execute("SELECT count(*) FROM idx_organizations_geom").fetchone()[0] == n, "R*Tree entries differ from rows"
print(n, "organisations after the complete bulk import")' "$db"
  if [ "$1" = update ]; then  # every row and its Feature show the new address; nothing is left stale
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); q = lambda sql: c.execute(sql, ("%корп. 9",)).fetchone()[0]
rows, features = q("SELECT count(*) FROM organizations WHERE address LIKE ?"), q("SELECT count(*) FROM features WHERE CAST(json AS TEXT) LIKE ? || \x27\x22%\x27")
stale = c.execute("SELECT count(*) FROM stale_features").fetchone()[0]
assert rows >= 10000 and features == rows and stale == 0, (rows, features, stale)' "$db" || return 1
  fi
  # A first import writes through a rollback journal; an import into stored rows stays in WAL.
  if [ "$1" = empty ] && [ "$journals" -eq 0 ]; then echo "no kill found the rollback journal of a first import"; return 1; fi
  if [ "$1" != empty ] && [ "$journals" -ne 0 ]; then echo "an import into stored rows left a rollback journal"; return 1; fi
  echo "$kills kills left the data and schema whole ($journals of them a hot rollback journal)"
}
check "a bulk import killed (SIGKILL) midway leaves data, indexes and triggers as they were" killed_bulk_import demo
check "a first import into an empty table (through a rollback journal), killed (SIGKILL) midway, leaves it empty and whole" killed_bulk_import empty
check "a bulk update of every stored row killed (SIGKILL) midway leaves rows, Features, indexes and triggers as they were" killed_bulk_import update

backup_restore() {  # an online backup while the server answers and writes go on; restore it
  local token pid port count
  token=$("$BIN" token create --database "$FAULTS" --name backup-writer --role admin 2>/dev/null) || return 1
  serve "$FAULTS" || return 1
  python3 - "$BASE" "$token" "$WORK/writes.txt" <<'PY' &
import json, sys, time, urllib.request
base, token, log = sys.argv[1:]
made = 0
end = time.time() + 4
while time.time() < end:
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [56.25, 58.01]},
            "properties": {"name": f"Запись во время копии {made}", "kind": "ngo"}}
    req = urllib.request.Request(base + "/collections/organizations/items", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/geo+json"})
    urllib.request.urlopen(req).read()
    made += 1
open(log, "w").write(str(made))
PY
  local writer=$!
  sleep 1
  "$BIN" backup --database "$FAULTS" "$WORK/backup.sqlite" || return 1
  "$BIN" backup --database "$FAULTS" "$WORK/backup.sqlite" 2>/dev/null && { echo "overwrote an existing backup"; return 1; }
  wait "$writer" || return 1
  echo "$(cat "$WORK/writes.txt") organisations created while copying"
  count=$(python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"; print(c.execute("SELECT count(*) FROM organizations").fetchone()[0])' "$WORK/backup.sqlite") || return 1
  # Restore (README › Backup and restore): stop, replace the file, start.
  mkdir -p "$WORK/restored" && cp "$WORK/backup.sqlite" "$WORK/restored/civicmap.sqlite"
  serve "$WORK/restored/civicmap.sqlite" || return 1
  served=$(json_field "$BASE/collections/organizations/items?limit=1" 'd["numberMatched"]') || return 1
  echo "backup holds $count organisations; the restored server serves $served"
  [ "$count" = "$served" ] && [ "$count" -gt 0 ] || return 1
  json_field "$BASE/audit?limit=1" 'd' >/dev/null 2>&1 && { echo "audit readable without a token"; return 1; }
  curl -fsS -H "Authorization: Bearer $token" "$BASE/audit?limit=1" | grep -q '"numberMatched"'
}
check "civicmap backup copies the database online while writes go on; the copy restores and serves" backup_restore

graceful_shutdown() {  # SIGTERM: no new connections, the export in flight completes, exit 0
  local port pid
  port=$(free_port)
  "$BIN" serve --database "$FAULTS" --port "$port" >"$WORK/graceful.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fsS --limit-rate 1M "http://127.0.0.1:$port/export/organizations.geojson" -o "$WORK/inflight.geojson" &
  local download=$!
  sleep 1
  kill -TERM "$pid"
  wait "$download" || { echo "the download in flight failed"; return 1; }
  wait "$pid"
  local status=$?
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d["features"]) == d["numberMatched"] > 0; print(len(d["features"]), "features received whole")' "$WORK/inflight.geojson" || return 1
  echo "server exit status $status"
  grep -q "hb.request.id=" "$WORK/graceful.log" && echo "request log lines carry request ids"
  [ "$status" = 0 ] && grep -q "hb.request.id=.*status=200" "$WORK/graceful.log"
}
check "SIGTERM lets an export in flight finish, then the server exits 0" graceful_shutdown
