#!/usr/bin/env bash
# The ledger endpoints of /detente/v1/ over a running server, with curl:
# head, entries, inclusion (by hash and by id) and consistency proofs, the
# key document, every bad argument answered 400 (404/405 where due), and an
# independent verifier (tests/tools/ledger_independent.py, RFC 9162 from
# scratch in python) agreeing with the node.
source "$(dirname "$0")/lib/taxii_common.bash"
src=${DETENTE_SRC:?}
node_setup
dt import "$src"/data/samples/apt1.json >/dev/null
dt --json ledger sth >"$WORK/old.json"
dt import "$src"/data/samples/*.json >/dev/null 2>&1 || true
server_start
V1=$BASE/detente/v1
key=$(cat "$HOME_DIR/key.public")

code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
expect() { # expect CODE URL [curl args] -- body saved in $WORK/body
    local want=$1; shift
    local got; got=$(code "$@")
    [ "$got" = "$want" ] && ok "$want ${*: -1}" || fail "$* answered $got, expected $want: $(head -c 300 "$WORK/body")"
}

expect 200 "$V1/ledger/sth"
python3 - "$WORK/body" <<'PY' && ok "sth fields" || fail "sth fields"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"tree_size", "timestamp", "sha256_root_hash", "tree_head_signature"}, d
assert d["tree_size"] > 50 and d["timestamp"] > 1.6e12, d
PY
cp "$WORK/body" "$WORK/sth.json"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"])' "$WORK/sth.json")

# the independent verifier agrees (root from entries, inclusion, consistency, signature)
set +e
python3 "$src/tests/tools/ledger_independent.py" "$BASE" "$key" "$WORK/old.json" >"$WORK/indep" 2>&1
rc=$?
set -e
cat "$WORK/indep"
if [ $rc -eq 3 ]; then
    # no Ed25519 in python here: the signature is checked by detente instead
    dt ledger sth >/dev/null && ok "head signature (checked by detente)"
elif [ $rc -eq 0 ]; then ok "independent verifier agrees"; else fail "independent verifier"; fi

# entries: bounded page, leaf_input base64 of JCS leaf bytes (for bob, who
# may read the default collection), only leaf_hash for anonymous callers
expect 200 -H "Authorization: Bearer $TOKEN" "$V1/ledger/entries?start=0&end=5000"
python3 -c 'import json,sys,base64; e=json.load(open(sys.argv[1]))["entries"]; assert 0 < len(e) <= 1000; json.loads(base64.b64decode(e[0]["leaf_input"]))' "$WORK/body" && ok "entries page" || fail "entries page"
expect 200 "$V1/ledger/entries?start=0&end=5000"
python3 -c 'import json,sys,base64; e=json.load(open(sys.argv[1]))["entries"]; assert 0 < len(e) <= 1000 and all(len(base64.b64decode(x["leaf_hash"])) == 32 for x in e)' "$WORK/body" && ok "entries page, anonymous: hashes only" || fail "entries page, anonymous"
expect 400 "$V1/ledger/entries?start=$size&end=$((size + 3))"
expect 400 "$V1/ledger/entries?start=5&end=2"
expect 400 "$V1/ledger/entries?start=x&end=2"
expect 400 "$V1/ledger/entries?start=0"
expect 400 "$V1/ledger/entries?start=0&end=1&bogus=1"

# inclusion by hash (with '+' and '/' URL-encoded) and by id
expect 200 -H "Authorization: Bearer $TOKEN" "$V1/ledger/entries?start=0&end=10"
h=$(python3 -c '
import json,sys,base64,hashlib,urllib.parse
e=json.load(open(sys.argv[1]))["entries"][3]["leaf_input"]
print(urllib.parse.quote(base64.b64encode(hashlib.sha256(b"\0"+base64.b64decode(e)).digest()).decode(), safe=""))' "$WORK/body")
expect 200 "$V1/ledger/proof/inclusion?hash=$h&tree_size=$size"
grep -q '"leaf_index":3' "$WORK/body" || fail "leaf index 3: $(cat "$WORK/body")"
expect 200 "$V1/ledger/proof/inclusion?hash=$h"
expect 400 "$V1/ledger/proof/inclusion?hash=$h&tree_size=$((size + 1))"
grep -q "beyond the log" "$WORK/body" || fail "beyond-the-log message: $(cat "$WORK/body")"
expect 400 "$V1/ledger/proof/inclusion?hash=$h&tree_size=2"
expect 400 "$V1/ledger/proof/inclusion?hash=not-base64!"
expect 400 "$V1/ledger/proof/inclusion?hash=AAAA"
expect 400 "$V1/ledger/proof/inclusion"
expect 404 "$V1/ledger/proof/inclusion?hash=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"
ind=$(dt export | python3 -c 'import json,sys; print([o["id"] for o in json.load(sys.stdin)["objects"] if o["type"]=="indicator"][0])')
# the default collection is AMBER and not granted to anonymous: not found
expect 404 "$V1/ledger/proof/inclusion?id=$ind"
expect 200 -H "Authorization: Bearer $TOKEN" "$V1/ledger/proof/inclusion?id=$ind"
expect 400 -H "Authorization: Bearer $TOKEN" "$V1/ledger/proof/inclusion?id=$ind&version=tuesday"

# consistency
expect 200 "$V1/ledger/proof/consistency?first=3&second=$size"
expect 400 "$V1/ledger/proof/consistency?first=$size&second=3"
expect 400 "$V1/ledger/proof/consistency?first=1&second=$((size + 1))"
expect 400 "$V1/ledger/proof/consistency?first=1"
expect 405 -X POST "$V1/ledger/sth"
expect 404 "$V1/ledger/nothing"

# the key document; a rotation made while the server runs
expect 200 "$V1/key"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["public_key"]==sys.argv[2] and d["rotations"]==[], d' "$WORK/body" "$key" && ok "key document" || fail "key document"
dt key rotate >/dev/null
newkey=$(cat "$HOME_DIR/key.public")
expect 200 "$V1/key"
python3 - "$WORK/body" "$key" "$newkey" <<'PY' && ok "rotation statement served" || fail "rotation statement"
import json, sys, base64
d = json.load(open(sys.argv[1])); old, new = sys.argv[2], sys.argv[3]
assert d["public_key"] == new, d
st = d["rotations"][0]["statement"]
assert st["old_public_key"] == old and st["new_public_key"] == new, st
try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    sys.exit(0)
msg = json.dumps({k: v for k, v in st.items() if not k.endswith("_signature")},
                 separators=(",", ":"), sort_keys=True).encode()
Ed25519PublicKey.from_public_bytes(base64.b64decode(old[8:])).verify(
    base64.b64decode(st["old_key_signature"]), msg)
PY
# the rotation's own head is signed by the new key and served as is
expect 200 "$V1/ledger/sth"
python3 "$src/tests/tools/ledger_independent.py" "$BASE" "$newkey" "$WORK/sth.json" >"$WORK/indep" 2>&1 &&
    ok "verifier follows the rotation" || { rc=$?; [ $rc -eq 3 ] || { cat "$WORK/indep"; fail "verifier after rotation"; }; }
# the running server holds the old key: once the log grows it refuses to sign
cat >"$WORK/new.json" <<'JSON'
{"type":"indicator","spec_version":"2.1","id":"indicator--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}
JSON
dt import "$WORK/new.json" >/dev/null
expect 403 "$V1/ledger/sth"
grep -q "restart" "$WORK/body" || fail "403 should say to restart: $(cat "$WORK/body")"
server_stop || true
server_start
V1=$BASE/detente/v1
expect 200 "$V1/ledger/sth"

# detente ledger audit against the running server
rm -f "$WORK/seen.json"
dt ledger audit "$BASE" --key "$newkey" --since-sth "$WORK/seen.json" --sample 5 >"$WORK/audit" 2>&1 &&
    ok "audit (first use)" || { cat "$WORK/audit"; fail "audit first use"; }
[ -s "$WORK/seen.json" ] || fail "audit did not write the head"
cat >"$WORK/new2.json" <<'JSON'
{"type":"indicator","spec_version":"2.1","id":"indicator--1c7b5b88-8ff7-4a4d-aa9d-feb398cd0062","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '203.0.113.10']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}
JSON
dt import "$WORK/new2.json" >/dev/null
dt ledger audit "$BASE" --key "$newkey" --since-sth "$WORK/seen.json" --sample 5 >"$WORK/audit" 2>&1 &&
    grep -q "is a prefix of the new one" "$WORK/audit" && ok "audit (consistency)" || { cat "$WORK/audit"; fail "audit consistency"; }
set +e
dt ledger audit "$BASE" --key "$key" --sample 2 >"$WORK/audit" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "^BAD .*pinned key" "$WORK/audit" && ok "audit with the old key fails" || { cat "$WORK/audit"; fail "audit old key ($rc)"; }
# a forged earlier head: another root for the same size
python3 - "$WORK/seen.json" <<'PY'
import json, sys, base64
d = json.load(open(sys.argv[1])); r = bytearray(base64.b64decode(d["sha256_root_hash"])); r[0] ^= 1
d["sha256_root_hash"] = base64.b64encode(bytes(r)).decode(); json.dump(d, open(sys.argv[1], "w"))
PY
set +e
dt ledger audit "$BASE" --key "$newkey" --since-sth "$WORK/seen.json" --sample 1 >"$WORK/audit" 2>&1; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "^BAD" "$WORK/audit" && ok "audit rejects a forged earlier head" || { cat "$WORK/audit"; fail "forged head ($rc)"; }
set +e
dt ledger audit "http://127.0.0.1:1" --key "$newkey" >"$WORK/audit" 2>&1; rc=$?
set -e
[ $rc -eq 3 ] && ok "audit of an unreachable node: exit 3" || fail "unreachable ($rc)"

echo "ledger_http: $fails failures"
[ "$fails" -eq 0 ]
