#!/usr/bin/env bash
# TLP across three parties (issue 9), with real `detente serve` nodes and
# peer accounts: A publishes objects at every level; B pulls from A with a
# peer account (clearance AMBER+STRICT); C pulls from B with a peer account.
# B holds A's CLEAR, GREEN, AMBER, AMBER+STRICT and unmarked (A's default,
# AMBER) objects, never RED; C gets A's CLEAR and GREEN relayed by B, B's
# own AMBER, and none of A's AMBER: B may not relay what another party
# shared under AMBER. B's ledger entries for those leaves reach C as hashes
# only, and C still verifies B's signed head with them.
set -euo pipefail
: "${DETENTE_BIN:?}" "${DETENTE_SRC:?}"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -5 "$f"; } >&2; done; exit 1; }
ok() { echo "ok - $*"; }
d() { local home=$1; shift; "$DETENTE_BIN" --home "$WORK/$home" "$@"; }
serve() { # serve NODE: sets URL_<NODE>
    "$DETENTE_BIN" --home "$WORK/$1" serve --listen 127.0.0.1:0 >"$WORK/$1.url" 2>"$WORK/serve-$1.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do [ -s "$WORK/$1.url" ] && break; sleep 0.05; done
    [ -s "$WORK/$1.url" ] || fail "serving $1"
    eval "URL_$1=$(head -1 "$WORK/$1.url")"
}
ids() { # ids NODE: the names (tok-...) of the indicators a node holds
    python3 - "$WORK/$1/detente.db" <<'PY'
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for (j,) in c.execute("SELECT json FROM objects WHERE type='indicator' AND deleted=0"):
    print(json.loads(j)["name"])
PY
}
ind() { # ind NAME MARKING-ID-or-empty
    local refs=
    [ -n "$2" ] && refs=",\"object_marking_refs\":[\"$2\"]"
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","pattern":"[domain-name:value = '"'"'%s.example.org'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}\n' \
        "$(python3 -c 'import uuid,sys; print(uuid.uuid5(uuid.NAMESPACE_URL, sys.argv[1]))' "$1")" "$1" "$1" "$refs"
}
CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
GREEN=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
AS=marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003
RED=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1

for n in a b c; do d "$n" init --name "party-$n" >/dev/null 2>&1 || fail "init $n"; done
{ ind a-clear $CLEAR; ind a-green $GREEN; ind a-amber $AMBER; ind a-as $AS; ind a-red $RED; ind a-unmarked ''; } >"$WORK/a.jsonl"
d a import "$WORK/a.jsonl" >/dev/null || fail "import on a"
echo "pw-peer-b-long" | d a user add peer-b --password-stdin --max-marking amber+strict --peer >/dev/null 2>&1
d a grant peer-b default read >/dev/null 2>&1
serve a

echo "pw-peer-b-long" | d b peer add a "$URL_a" --key "$(cat "$WORK/a/key.public")" --user peer-b --password-stdin >/dev/null 2>&1 || fail "b peer add a"
d b sync a >"$WORK/sync-b.log" 2>&1 || fail "b sync a: $(cat "$WORK/sync-b.log")"
got=$(ids b | sort | tr '\n' ' ')
[ "$got" = "a-amber a-as a-clear a-green a-unmarked " ] || fail "b holds: $got"
ok "b pulled a's own objects up to AMBER+STRICT, no RED"

{ ind b-amber $AMBER; ind b-green $GREEN; } >"$WORK/b.jsonl"
d b import "$WORK/b.jsonl" >/dev/null || fail "import on b"
echo "pw-peer-c-long" | d b user add peer-c --password-stdin --max-marking amber+strict --peer >/dev/null 2>&1
d b grant peer-c default read >/dev/null 2>&1
serve b

echo "pw-peer-c-long" | d c peer add b "$URL_b" --key "$(cat "$WORK/b/key.public")" --user peer-c --password-stdin >/dev/null 2>&1 || fail "c peer add b"
d c sync b --no-gossip >"$WORK/sync-c.log" 2>&1 || fail "c sync b: $(cat "$WORK/sync-c.log")"
got=$(ids c | sort | tr '\n' ' ')
[ "$got" = "a-clear a-green b-amber b-green " ] || fail "c holds: $got"
ok "c got a's CLEAR and GREEN via b and b's own AMBER; a's AMBER, AMBER+STRICT and unmarked never reached c"

# what b serves c of its ledger: a's AMBER leaves as hashes only, and they
# still hash to b's signed head (c's sync verified that head above)
curl -s -u peer-c:pw-peer-c-long "${URL_b%/taxii2/}/detente/v1/ledger/sth" >"$WORK/sth.json"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"])' "$WORK/sth.json")
curl -s -u peer-c:pw-peer-c-long "${URL_b%/taxii2/}/detente/v1/ledger/entries?start=0&end=$((size - 1))" >"$WORK/entries.json"
python3 - "$WORK/entries.json" "$WORK/sth.json" <<'PY' || fail "b's ledger entries for c"
import base64, hashlib, json, sys
es = json.load(open(sys.argv[1]))["entries"]
sth = json.load(open(sys.argv[2]))
hs, names = [], []
for e in es:
    if "leaf_input" in e:
        leaf = base64.b64decode(e["leaf_input"])
        hs.append(hashlib.sha256(b"\0" + leaf).digest())
        names.append(leaf)
    else:
        hs.append(base64.b64decode(e["leaf_hash"]))
def mth(h):
    if len(h) == 1: return h[0]
    k = 1
    while k * 2 < len(h): k *= 2
    return hashlib.sha256(b"\1" + mth(h[:k]) + mth(h[k:])).digest()
assert len(hs) == sth["tree_size"]
assert mth(hs) == base64.b64decode(sth["sha256_root_hash"]), "entries do not hash to the head"
hidden = sum(1 for e in es if "leaf_hash" in e)
assert hidden >= 3, "a's AMBER, AMBER+STRICT and unmarked leaves should be hashes: %d" % hidden
PY
for t in a-amber a-as a-unmarked; do
    uuid=$(python3 -c 'import uuid,sys; print(uuid.uuid5(uuid.NAMESPACE_URL, sys.argv[1]))' "$t")
    grep -q "$uuid" "$WORK/entries.json" && fail "b's ledger names $t to c"
    code=$(curl -s -o /dev/null -w '%{http_code}' -u peer-c:pw-peer-c-long "${URL_b%/taxii2/}/detente/v1/ledger/proof/inclusion?id=indicator--$uuid")
    [ "$code" = 404 ] || fail "inclusion proof of $t for c: $code"
done
ok "b's ledger shows c hashes only for what it may not relay; they hash to b's head"

# a pull by c's peer account at a lower clearance gets no AMBER at all
d b user set peer-c --max-marking green >/dev/null 2>&1
d c sync b --no-gossip >>"$WORK/sync-c.log" 2>&1 || fail "second sync"
rm -rf "$WORK/c2"; d c2 init --name party-c2 >/dev/null 2>&1
echo "pw-peer-c-long" | d c2 peer add b "$URL_b" --key "$(cat "$WORK/b/key.public")" --user peer-c --password-stdin >/dev/null 2>&1
d c2 sync b --no-gossip >"$WORK/sync-c2.log" 2>&1 || fail "c2 sync b: $(cat "$WORK/sync-c2.log")"
got=$(ids c2 | sort | tr '\n' ' ')
[ "$got" = "a-clear a-green b-green " ] || fail "c2 (GREEN) holds: $got"
ok "a GREEN peer account gets nothing AMBER, not even the relaying node's own"
echo "all passed"
