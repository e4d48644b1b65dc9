#!/usr/bin/env bash
# The ledger from the command line: key show, verify-signature (good, bad,
# re-ordered, wrong key, unsigned), ledger sth/prove, tamper tests that edit,
# delete and reorder rows of every ledger table in the SQLite file and expect
# `detente ledger verify` to name the first bad entry, bundles (round trip and
# every single-field corruption rejected), key rotation.
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

expect_rc 0 "$bin" init --name party-ledger
expect_rc 0 "$bin" import "$src"/data/samples/apt1.json
db=$DETENTE_HOME/detente.db

# ---- key show
expect_rc 0 "$bin" --json key show
python3 - "$tmp/out" "$DETENTE_HOME/key.public" <<'PY' || fail "key show --json"
import json, sys, hashlib, base64
d = json.load(open(sys.argv[1]))
assert set(d) == {"public_key", "fingerprint"}, d
assert d["public_key"] == open(sys.argv[2]).read().strip(), d
raw = base64.b64decode(d["public_key"][len("ed25519:"):])
assert d["fingerprint"] == hashlib.sha256(raw).hexdigest(), d
PY
ok
key=$(cat "$DETENTE_HOME/key.public")
expect_rc 0 "$bin" key show
grep -q "fingerprint" "$tmp/out" || fail "key show text"; ok

# ---- verify-signature
# everything but detente's extension-definition, the one object every node
# holds unsigned (the same constant everywhere)
"$bin" export | python3 -c 'import json,sys; b=json.load(sys.stdin); b["objects"]=[o for o in b["objects"] if o["type"]!="extension-definition"]; json.dump(b,sys.stdout)' >"$tmp/all.json"
expect_rc 0 "$bin" verify-signature "$tmp/all.json" --key "$key"
grep -q " 0 bad, 0 unsigned" "$tmp/out" || fail "export should verify: $(tail -1 "$tmp/out")"; ok
# an object edited after signing, and the same object with keys re-ordered
python3 - "$tmp/all.json" "$tmp" <<'PY'
import json, sys
objs = json.load(open(sys.argv[1]))["objects"]
o = [x for x in objs if x["type"] == "indicator"][0]
out = sys.argv[2]
with open(out + "/reordered.json", "w") as f:   # reversed key order, indented: same JCS
    json.dump(dict(reversed(list(o.items()))), f, indent=3)
bad = dict(o); bad["name"] = bad.get("name", "") + " (edited)"
with open(out + "/edited.json", "w") as f:
    json.dump(bad, f)
uns = {k: v for k, v in o.items() if k != "extensions"}
with open(out + "/lines.jsonl", "w") as f:
    f.write(json.dumps(o) + "\n" + json.dumps(uns) + "\n" + json.dumps(bad) + "\n")
PY
expect_rc 0 "$bin" verify-signature "$tmp/reordered.json"
grep -q "^OK" "$tmp/out" || fail "re-ordered keys must still verify"; ok
expect_rc 1 "$bin" verify-signature "$tmp/edited.json"
grep -q "^BAD.*does not verify" "$tmp/out" || fail "edited object: $(cat "$tmp/out")"; ok
expect_rc 1 "$bin" verify-signature "$tmp/lines.jsonl"
[ "$(grep -c '^OK' "$tmp/out")" = 1 ] && [ "$(grep -c '^UNSIGNED' "$tmp/out")" = 1 ] &&
    [ "$(grep -c '^BAD' "$tmp/out")" = 1 ] || fail "JSON lines: $(cat "$tmp/out")"; ok
other=ed25519:$(python3 -c 'import base64; print(base64.b64encode(bytes(range(32))).decode())')
expect_rc 1 "$bin" verify-signature "$tmp/reordered.json" --key "$other"
grep -q "another key" "$tmp/out" || fail "wrong --key"; ok
expect_rc 2 "$bin" verify-signature "$tmp/reordered.json" --key "ed25519:not-base64!"
echo 'not json' >"$tmp/junk"
expect_rc 1 "$bin" verify-signature "$tmp/junk"; ok
expect_rc 0 "$bin" --json verify-signature "$tmp/reordered.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["ok"]==1 and d["results"][0]["status"]=="OK", d' "$tmp/out" || fail "--json"; ok

# ---- sth and prove
expect_rc 0 "$bin" --json ledger sth
cp "$tmp/out" "$tmp/sth1.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert set(d)=={"tree_size","timestamp","sha256_root_hash","tree_head_signature"}, d' "$tmp/sth1.json" || fail "sth json"; ok
expect_rc 0 "$bin" --json ledger sth
cmp -s "$tmp/out" "$tmp/sth1.json" || fail "a head is re-issued although the log did not grow"; ok
[ "$(sqlite3 "$db" 'SELECT count(*) FROM sths')" = 1 ] || fail "one head expected"; ok
ind=$(python3 -c 'import json,sys; print([o["id"] for o in json.load(open(sys.argv[1]))["objects"] if o["type"]=="indicator"][0])' "$tmp/all.json")
expect_rc 0 "$bin" --json ledger prove "$ind"
python3 - "$tmp/out" "$tmp/sth1.json" <<'PY' || fail "prove output does not verify independently"
import json, sys, hashlib, base64
p = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2]))
h = lambda b: hashlib.sha256(b).digest()
node = h(b"\0" + p["leaf"].encode())
assert base64.b64encode(node).decode() == p["leaf_hash"]
fn, sn = p["leaf_index"], p["tree_size"] - 1
for x in map(base64.b64decode, p["audit_path"]):   # RFC 9162 2.1.3.2
    if fn % 2 == 1 or fn == sn:
        node = h(b"\1" + x + node)
        if fn % 2 == 0:
            while fn % 2 == 0 and fn != 0:
                fn >>= 1; sn >>= 1
    else:
        node = h(b"\1" + node + x)
    fn >>= 1; sn >>= 1
assert sn == 0 and base64.b64encode(node).decode() == s["sha256_root_hash"] == p["sha256_root_hash"]
PY
ok
expect_rc 1 "$bin" ledger prove indicator--00000000-0000-4000-8000-000000000000
expect_rc 1 "$bin" ledger prove "$ind" --version not-a-time
grep -q "RFC 3339" "$tmp/err" || fail "bad --version message"; ok

# ---- verify, and tampering with each table
expect_rc 0 "$bin" ledger verify
grep -q "^ok:" "$tmp/out" || fail "clean ledger should verify"; ok
cp "$db" "$tmp/clean.db"
tamper() { # tamper SQL EXPECTED-FIRST-BAD-LEAF PATTERN
    cp "$tmp/clean.db" "$db"; rm -f "$db-wal" "$db-shm"
    sqlite3 "$db" "$1"
    expect_rc 1 "$bin" ledger verify
    grep -q "first bad entry: leaf $2[ :]" "$tmp/out" || fail "after '$1': expected leaf $2: $(cat "$tmp/out")"
    grep -q "$3" "$tmp/out" || fail "after '$1': expected '$3': $(cat "$tmp/out")"
    ok
}
n=$(sqlite3 "$db" 'SELECT count(*) FROM leaves')
tamper "UPDATE objects SET json=replace(json,'a','b') WHERE leaf_index=20" 20 "object row was edited"
tamper "UPDATE objects SET json=replace(json,'a','b'), sha256=zeroblob(32) WHERE leaf_index=21" 21 "object row was edited"
tamper "DELETE FROM objects WHERE leaf_index=30" 30 "no object row records this leaf"
tamper "UPDATE objects SET date_added=date_added+1 WHERE leaf_index=31" 31 "differ from what the leaf records"
tamper "UPDATE objects SET leaf_index=-leaf_index WHERE leaf_index IN (12,13); UPDATE objects SET leaf_index=13 WHERE leaf_index=-12; UPDATE objects SET leaf_index=12 WHERE leaf_index=-13" 12 "reordered"
tamper "UPDATE leaves SET idx=-1 WHERE idx=40; UPDATE leaves SET idx=40 WHERE idx=41; UPDATE leaves SET idx=41 WHERE idx=-1" 40 "reordered"
tamper "UPDATE leaves SET leaf=replace(leaf,'Z\"','1Z\"') WHERE idx=45" 45 "leaf row was edited"
tamper "DELETE FROM leaves WHERE idx=50" 50 "missing from the leaves table"
tamper "DELETE FROM leaves WHERE idx=$((n - 1))" $((n - 1)) "leaves were removed"
tamper "UPDATE nodes SET hash=zeroblob(32) WHERE level=2 AND idx=4" 16 "nodes table was edited"
tamper "DELETE FROM nodes WHERE level=1 AND idx=3" 6 "missing from the nodes table"
tamper "UPDATE sths SET json=replace(json,'\"timestamp\":1','\"timestamp\":2')" $((n - 1)) "not signed by the node key"
cp "$tmp/clean.db" "$db"; rm -f "$db-wal" "$db-shm"

# ---- bundles
expect_rc 0 "$bin" ledger bundle "$ind" --output "$tmp/bundle.json"
expect_rc 0 "$bin" ledger check-bundle "$tmp/bundle.json" --key "$key"
grep -q "^OK" "$tmp/out" || fail "bundle round trip"; ok
expect_rc 0 "$bin" ledger check-bundle "$tmp/bundle.json" --key "$DETENTE_HOME/key.public"; ok
expect_rc 1 "$bin" ledger check-bundle "$tmp/bundle.json" --key "$other"
grep -q "^BAD" "$tmp/out" || fail "bundle with another key"; ok
# every single field changed must be rejected
python3 - "$tmp/bundle.json" "$tmp/corrupt" >/dev/null <<'PY'
import json, sys, os, copy, base64
b = json.load(open(sys.argv[1])); out = sys.argv[2]; os.makedirs(out)
def flip_b64(s):
    raw = bytearray(base64.b64decode(s)); raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()
def variants(v, path):
    if isinstance(v, dict):
        for k in v:
            yield from variants(v[k], path + [k])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from variants(x, path + [i])
    elif isinstance(v, bool):
        yield path, not v
    elif isinstance(v, int):
        yield path, v + 1
    elif isinstance(v, str):
        try:
            if len(v) % 4 == 0 and len(v) >= 8 and base64.b64encode(base64.b64decode(v, validate=True)).decode() == v:
                yield path, flip_b64(v)
        except Exception:
            pass
        yield path, v + "x"
n = 0
for path, new in variants(b, []):
    c = copy.deepcopy(b); t = c
    for p in path[:-1]:
        t = t[p]
    t[path[-1]] = new
    if c == b:
        continue
    json.dump(c, open(f"{out}/{n:04d}.json", "w")); n += 1
for k in b:  # each member removed
    c = dict(b); del c[k]; json.dump(c, open(f"{out}/{n:04d}.json", "w")); n += 1
c = dict(b); c["extra"] = 1; json.dump(c, open(f"{out}/{n:04d}.json", "w")); n += 1
c = copy.deepcopy(b); c["inclusion"]["audit_path"] = c["inclusion"]["audit_path"][:-1]
json.dump(c, open(f"{out}/{n:04d}.json", "w")); n += 1
print(n)
PY
count=0
for f in "$tmp"/corrupt/*.json; do
    set +e; "$bin" ledger check-bundle "$f" --key "$key" >"$tmp/out" 2>&1; rc=$?; set -e
    [ "$rc" -eq 1 ] || fail "corrupted bundle $(basename "$f") accepted or crashed (exit $rc): $(cat "$tmp/out")"
    count=$((count + 1))
done
[ "$count" -gt 30 ] || fail "only $count corruptions generated"; ok
head -c 200 "$tmp/bundle.json" >"$tmp/trunc.json"
expect_rc 1 "$bin" ledger check-bundle "$tmp/trunc.json" --key "$key"; ok

# ---- rotation
before=$(sqlite3 "$db" 'SELECT count(*) FROM leaves')
expect_rc 0 "$bin" --json key rotate
python3 - "$tmp/out" "$key" <<'PY' || fail "rotate output"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["old_public_key"] == sys.argv[2] and d["public_key"] != sys.argv[2], d
PY
ok
newkey=$(cat "$DETENTE_HOME/key.public")
[ "$newkey" != "$key" ] || fail "key.public did not change"; ok
ls "$DETENTE_HOME"/key.secret.*Z >/dev/null 2>&1 || fail "old secret key not kept"
[ "$(stat -c %a "$DETENTE_HOME"/key.secret.*Z)" = 600 ] || fail "kept key is not 0600"; ok
[ "$(stat -c %a "$DETENTE_HOME/key.secret")" = 600 ] || fail "new key is not 0600"; ok
[ "$(sqlite3 "$db" 'SELECT count(*) FROM leaves')" = $((before + 1)) ] || fail "rotation leaf"; ok
expect_rc 0 "$bin" ledger verify
grep -q "1 key rotations" "$tmp/out" || fail "verify after rotation: $(cat "$tmp/out")"; ok
cat >"$tmp/new.json" <<'JSON'
{"type":"indicator","spec_version":"2.1","id":"indicator--5b1d2c3e-4f50-4a6b-9c7d-8e9f0a1b2c3d",
 "created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"after rotation",
 "pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}
JSON
expect_rc 0 "$bin" import "$tmp/new.json"
expect_rc 0 "$bin" ledger bundle indicator--5b1d2c3e-4f50-4a6b-9c7d-8e9f0a1b2c3d --output "$tmp/bundle2.json"
"$bin" get indicator--5b1d2c3e-4f50-4a6b-9c7d-8e9f0a1b2c3d >"$tmp/new-signed.json"
expect_rc 0 "$bin" verify-signature "$tmp/new-signed.json" --key "$newkey"
expect_rc 1 "$bin" verify-signature "$tmp/new-signed.json" --key "$key"; ok
expect_rc 0 "$bin" ledger check-bundle "$tmp/bundle2.json" --key "$newkey"; ok
expect_rc 1 "$bin" ledger check-bundle "$tmp/bundle2.json" --key "$key"; ok
# the old bundle stays valid under the old key
expect_rc 0 "$bin" ledger check-bundle "$tmp/bundle.json" --key "$key"; ok
# a forged rotation leaf is caught
cp "$db" "$tmp/rot.db"
python3 - "$db" "$before" <<'PY'
import sqlite3, sys, hashlib
db = sqlite3.connect(sys.argv[1]); i = int(sys.argv[2])
(leaf,) = db.execute("SELECT leaf FROM leaves WHERE idx=?", (i,)).fetchone()
forged = leaf.replace('"rotated":"2', '"rotated":"1')
assert forged != leaf
# a consistent forgery: the leaf hash recomputed too; only the signatures can tell
db.execute("UPDATE leaves SET leaf=?, hash=? WHERE idx=?",
           (forged, hashlib.sha256(b"\0" + forged.encode()).digest(), i))
db.commit()
PY
expect_rc 1 "$bin" ledger verify
grep -q "first bad entry: leaf $before: key rotation.*does not verify" "$tmp/out" || fail "forged rotation (leaf $before): $(cat "$tmp/out") $(sqlite3 "$db" "SELECT idx, substr(leaf,1,300) FROM leaves WHERE idx>=$before")"; ok
cp "$tmp/rot.db" "$db"; rm -f "$db-wal" "$db-shm"

echo "ledger_cli: $passed checks passed"
