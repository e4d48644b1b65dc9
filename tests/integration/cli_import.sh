#!/usr/bin/env bash
# The foundation's command line, as a user drives it: init, import of the
# shipped samples and the OASIS examples, export/get/stats, bad input of every
# kind (clear error, right exit code, nothing lost), --atomic, and a kill -9
# in the middle of a large import leaving a consistent store.
set -euo pipefail
src=${DETENTE_SRC:?}
bin=${DETENTE_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DETENTE_HOME=$tmp/node
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE CMD...
    local want=$1; shift
    set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "'$*' exited $got, expected $want"; }
}
passed=0
ok() { passed=$((passed + 1)); }

# no node yet: a clear message, exit 1
expect_rc 1 "$bin" stats
grep -q "detente init" "$tmp/err" || fail "stats without a node should say to run detente init"; ok

expect_rc 0 "$bin" init --name party-test
[ "$(stat -c %a "$DETENTE_HOME/key.secret")" = 600 ] || fail "key.secret is not 0600"; ok
expect_rc 1 "$bin" init
grep -q "already holds a node" "$tmp/err" || fail "second init should refuse"; ok

# the shipped samples import cleanly
expect_rc 0 "$bin" import "$src"/data/samples/*.json
grep -q "0 rejected" "$tmp/out" || fail "samples: $(cat "$tmp/out")"; ok
expect_rc 0 "$bin" --json stats
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["objects"] > 50, d; assert d["ledger_size"] >= d["versions"], d' "$tmp/out" || fail "stats"; ok

# again: all duplicates, nothing new, the ledger does not grow
before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ledger_size"])' "$tmp/out")
expect_rc 0 "$bin" import "$src"/data/samples/apt1.json
grep -q " 0 new" "$tmp/out" || fail "re-import should add nothing: $(cat "$tmp/out")"; ok
expect_rc 0 "$bin" --json stats
after=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ledger_size"])' "$tmp/out")
[ "$before" = "$after" ] || fail "ledger grew on duplicates ($before -> $after)"; ok

# export gives a bundle with every indicator, each signed
expect_rc 0 "$bin" export --type indicator
python3 - "$tmp/out" <<'EOF' || fail "export"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["type"] == "bundle"
objs = b["objects"]
assert len(objs) >= 10, len(objs)
for o in objs:
    assert o["type"] == "indicator"
    ext = o["extensions"]["extension-definition--490c1b4f-d5a0-48ef-9eee-dc008e1732e6"]
    assert ext["public_key"].startswith("ed25519:")
EOF
ok
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["objects"][0]["id"])' "$tmp/out")
expect_rc 0 "$bin" get "$id"
grep -q "$id" "$tmp/out" || fail "get"; ok
expect_rc 1 "$bin" get indicator--00000000-0000-4000-8000-000000000000; ok

# invalid JSON: line and column, exit 1, nothing stored
printf '{"type": "indicator",\n  "id": oops}\n' > "$tmp/bad.json"
expect_rc 1 "$bin" import "$tmp/bad.json"
grep -q "line 2" "$tmp/err" || fail "bad JSON error should name the line: $(cat "$tmp/err")"; ok

# invalid STIX: the JSON path and the rule; the valid neighbour is stored
cat > "$tmp/mixed.json" <<'EOF'
[{"type":"indicator","spec_version":"2.1","id":"indicator--11111111-1111-4111-8111-111111111111",
  "created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",
  "pattern":"[ipv4-addr:value = '203.0.113.7']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"indicator--22222222-2222-4222-8222-222222222222",
  "created":"2024-01-01T00:00:00.000Z","modified":"2023-01-01T00:00:00.000Z",
  "pattern":"[ipv4-addr:value = '203.0.113.8']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]
EOF
expect_rc 1 "$bin" import "$tmp/mixed.json"
grep -q "\[1\]" "$tmp/err" || fail "the rejected object should be named by position: $(cat "$tmp/err")"
grep -q "modified" "$tmp/err" || fail "the rule should be named: $(cat "$tmp/err")"
grep -q "1 new" "$tmp/out" || fail "the valid object should be stored"; ok

# --atomic: all or nothing
sed 's/11111111-1111-4111-8111-111111111111/33333333-3333-4333-8333-333333333333/' "$tmp/mixed.json" > "$tmp/mixed2.json"
expect_rc 1 "$bin" import --atomic "$tmp/mixed2.json"
expect_rc 1 "$bin" get indicator--33333333-3333-4333-8333-333333333333; ok

# unreadable file: exit 3 (I/O), named
expect_rc 3 "$bin" import "$tmp/does-not-exist.json"
grep -q "does-not-exist.json" "$tmp/err" || fail "missing file should be named"; ok

# JSON lines and gzip on stdin
printf '%s\n' '{"type":"domain-name","spec_version":"2.1","id":"domain-name--3c10e93f-798e-5a26-a0c1-08156efab7f5","value":"example.com"}' \
    | gzip | { set +e; "$bin" import - >"$tmp/out" 2>"$tmp/err"; echo $? > "$tmp/rc"; }
[ "$(cat "$tmp/rc")" = 0 ] || { cat "$tmp/err"; fail "gzip JSON lines on stdin"; }; ok

# a locked database: a clear error, not a hang or crash
python3 - "$DETENTE_HOME/detente.db" "$tmp/locked" <<'EOF' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=30)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(15)
EOF
locker=$!
for _ in $(seq 100); do [ -f "$tmp/locked" ] && break; sleep 0.1; done
[ -f "$tmp/locked" ] || fail "could not lock the store for the test"
set +e; timeout 60 "$bin" import "$src"/data/samples/indicator-for-c2-ip-address.json >"$tmp/out" 2>"$tmp/err"; rc=$?; set -e
kill $locker 2>/dev/null || true; wait $locker 2>/dev/null || true
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "import into a locked store: exit $rc"
grep -qi "lock\|busy" "$tmp/err" || fail "locked store error should say so: $(cat "$tmp/err")"; ok

# a corrupt database: a clear error naming the file
mkdir -p "$tmp/corrupt" && cp "$DETENTE_HOME"/{detente.conf,key.secret,key.public} "$tmp/corrupt/"
head -c 8192 /dev/urandom > "$tmp/corrupt/detente.db"
expect_rc 3 "$bin" --home "$tmp/corrupt" stats
grep -q "detente.db" "$tmp/err" || fail "corrupt store error should name the file: $(cat "$tmp/err")"; ok

# kill -9 in the middle of a large import: what is there is whole and consistent
python3 - "$tmp/big.json" <<'EOF'
import json, sys, uuid
objs = []
for i in range(30000):
    objs.append({"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--" + str(uuid.UUID(int=(0x4000 << 64) | (0x8000 << 48) | i, version=4)),
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "pattern": "[domain-name:value = 'host%d.example']" % i, "pattern_type": "stix",
                 "valid_from": "2024-01-01T00:00:00Z"})
json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": objs}, open(sys.argv[1], "w"))
EOF
"$bin" import "$tmp/big.json" >/dev/null 2>&1 &
imp=$!
sleep 1.5
kill -9 $imp 2>/dev/null || true
wait $imp 2>/dev/null || true
expect_rc 0 "$bin" --json stats
python3 - "$DETENTE_HOME/detente.db" <<'EOF' || fail "store inconsistent after kill -9"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
EOF
# the import can be re-run to completion; nothing is duplicated
expect_rc 0 "$bin" import "$tmp/big.json"
expect_rc 0 "$bin" export --type indicator
python3 - "$tmp/out" <<'EOF' || fail "after re-import"
import json, sys
ids = [o["id"] for o in json.load(open(sys.argv[1]))["objects"]]
assert len(ids) == len(set(ids)), "duplicates"
assert sum(1 for i in ids if i.startswith("indicator--00000000-0000-4000-8000")) == 30000, "missing"
EOF
ok

# JSON lines go in a piece at a time: in pieces of 4 KiB (and gzipped) the
# same outcome and the same line numbers as read whole, a line longer than a
# piece included
python3 - "$tmp/feed.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 2001):
        if i == 10 or i == 1999:
            f.write("\n")
        elif i == 1234:
            f.write('{"type": "indicator", "broken\n')
        else:
            o = {"type": "indicator", "spec_version": "2.1",
                 "id": "indicator--11111111-0000-4000-8000-%012d" % i,
                 "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
                 "pattern": "[ipv4-addr:value = '10.9.%d.%d']" % (i // 256, i % 256),
                 "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
            if i == 1500:
                del o["pattern"]
            if i == 700:
                o["description"] = "x" * 10000
            f.write(json.dumps(o) + "\n")
PY
gzip -c "$tmp/feed.jsonl" > "$tmp/feed.jsonl.gz"
DETENTE_HOME=$tmp/whole expect_rc 0 "$bin" init --name whole
DETENTE_HOME=$tmp/whole expect_rc 1 "$bin" import "$tmp/feed.jsonl"
sed "s|$tmp/feed.jsonl|F|" "$tmp/err" > "$tmp/whole.err"
grep -q "1996 new, 0 already held, 2 rejected" "$tmp/out" || fail "whole: $(cat "$tmp/out")"; ok
DETENTE_HOME=$tmp/pieces expect_rc 0 "$bin" init --name pieces
DETENTE_IMPORT_PIECE=4096 DETENTE_HOME=$tmp/pieces expect_rc 1 "$bin" import "$tmp/feed.jsonl.gz"
sed "s|$tmp/feed.jsonl.gz|F|" "$tmp/err" > "$tmp/pieces.err"
grep -q "1996 new, 0 already held, 2 rejected" "$tmp/out" || fail "pieces: $(cat "$tmp/out")"; ok
grep -q "F: line 1234: rejected: line 1234 column 29" "$tmp/pieces.err" || fail "bad JSON line: $(cat "$tmp/pieces.err")"; ok
grep -q "F: line 1500 indicator--11111111-0000-4000-8000-000000001500: rejected" "$tmp/pieces.err" \
    || fail "invalid STIX line: $(cat "$tmp/pieces.err")"; ok
diff "$tmp/whole.err" "$tmp/pieces.err" > /dev/null \
    || fail "pieces and whole differ: $(diff "$tmp/whole.err" "$tmp/pieces.err")"; ok

echo "$passed passed, 0 failed"
