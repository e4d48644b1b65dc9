# Federation between real nodes: every node runs `detente serve` on its own
# loopback port and data directory, with a peer account (`user add --peer`)
# for the node that pulls from it. A publishes; B pulls from A (signed
# heads, the entries pass, inclusion proofs, signatures); C pulls A's
# objects relayed by B and checks A's signatures; C also pulls from A
# directly and compares A's head with the one B witnessed
# (/detente/v1/ledger/witnessed); objects added later arrive on the next
# sync. The dishonest-node cases (rewritten history, equivocation) are in
# federation_checks.sh.
. "$(dirname "$0")/lib/federation_common.bash"

# real_serve NODE: `detente serve` on a free port, sets PORT_<NODE>
real_serve() {
    local node=$1 port; port=$(free_port)
    "$DETENTE_BIN" --home "$WORK/$node" serve --listen "127.0.0.1:$port" \
        >"$WORK/real-$node.out" 2>"$WORK/real-$node.log" &
    PIDS+=($!)
    for _ in $(seq 100); do grep -q taxii2 "$WORK/real-$node.out" 2>/dev/null && break; sleep 0.1; done
    grep -q taxii2 "$WORK/real-$node.out" || fail "serve $node"
    eval "PORT_$node=$port"
}
# account NODE USER: a peer account with read on default
account() {
    d "$1" user add "$2" --peer --password-stdin <<<"$2-pw" >/dev/null 2>&1 || fail "user add $2 on $1"
    d "$1" grant "$2" default read >/dev/null 2>&1 || fail "grant $2 on $1"
}

# TLP:GREEN, so that b may relay a's objects to another party (TLP 2.0)
GREEN=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
new_node a; new_node b; new_node c
python3 "$DETENTE_SRC/tests/integration/federation_gen.py" 20 real "$GREEN" >"$WORK/green.jsonl"
d a import "$WORK/green.jsonl" >/dev/null || fail "import on a"
account a node-b; account a node-c; account b node-c
real_serve a; real_serve b

d b peer add a "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" --user node-b --password-stdin <<<"node-b-pw" 2>/dev/null || fail "b add a"
out=$(d b sync a 2>"$WORK/sync.log") || fail "b sync a: $out"
echo "$out" | grep -q '^a ok pulled=[1-9]' || fail "b sync a: $out"
[ "$(versions a default)" = "$(versions b default | grep -v "$(ident b)")" ] || fail "b holds what a published"
grep -q 'reading ledger entries' "$WORK/sync.log" || fail "the entries pass did not run against detente serve"
ok "b pulled from a's detente serve with every check"

d c peer add b "http://127.0.0.1:$PORT_b/taxii2/" --key "$(key_of b)" --user node-c --password-stdin --into default=from-b <<<"node-c-pw" 2>/dev/null || fail "c add b"
out=$(d c sync b 2>>"$WORK/sync.log") || fail "c sync b: $out"
python3 - "$WORK/c/detente.db" "$(ident a)" "$(count a default)" <<'PY' || fail "relayed objects keep a's signatures"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = c.execute("SELECT count(*) FROM objects WHERE collection='from-b' AND signer=?", (sys.argv[2],)).fetchone()[0]
assert n == 20, n   # a's green indicators (a's own identity is AMBER: not relayed)
PY
ok "c pulled a's objects relayed by b's detente serve, a's signatures checked"

d c peer add a "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" --user node-c --password-stdin --into default=from-b <<<"node-c-pw" 2>/dev/null || fail "c add a"
out=$(d c sync a 2>>"$WORK/sync.log") || fail "c sync a: $out"
echo "$out" | grep -q ' witnesses=1 ' || fail "b's witnessed head of a was not compared: $out"
ok "c compared a's head with the one b witnesses"

python3 "$DETENTE_SRC/tests/integration/federation_gen.py" 1 later "$GREEN" >"$WORK/later.jsonl"
d a import "$WORK/later.jsonl" >/dev/null || fail "second import"
out=$(d b sync a 2>>"$WORK/sync.log") || fail "b second sync: $out"
echo "$out" | grep -q '^a ok pulled=1 duplicates=0 ' || fail "incremental: $out"
out=$(d c sync b 2>>"$WORK/sync.log") || fail "c second sync: $out"
echo "$out" | grep -q '^b ok pulled=1 duplicates=0 ' || fail "incremental relay: $out"
ok "an object added later travels a -> b -> c on the next syncs"
curl -s "http://127.0.0.1:$PORT_b/detente/v1/ledger/witnessed" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["heads"][0]["peer"]=="a"' || fail "b's /detente/v1/ledger/witnessed"
echo "federation_real: all passed"
