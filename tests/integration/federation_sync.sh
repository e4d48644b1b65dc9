# (Every node signs its own copy of the shared extension-definition, so a
# peer's copy is rejected as a conflicting version; comparisons leave it out.)
# Federation: three nodes A, B, C on loopback. A publishes; B pulls from A;
# C pulls from A and also A's objects relayed by B (checking A's signatures
# and B's ledger); objects added later arrive on the next sync; a sync killed
# half-way and re-run loses and duplicates nothing; wrong keys and answers
# that are not TAXII are clear errors.
. "$(dirname "$0")/lib/federation_common.bash"

new_node a; new_node b; new_node c
d a import "$SAMPLES/indicator-for-c2-ip-address.json" >/dev/null || fail "import on a"
serve a

# --- B pulls from A
d b peer add a "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" 2>/dev/null || fail "peer add"
d b peer list | grep -q "^a	http://127.0.0.1:$PORT_a/taxii2/	ok	never$" || fail "peer list"
out=$(d b sync a 2>"$WORK/sync1.log") || fail "first sync: $out"
echo "$out" | grep -q '^a ok pulled=2 .*proofs=3 ' || fail "first sync output: $out"
[ "$(versions a default)" = "$(versions b default | grep -v "$(ident b)")" ] || fail "b holds what a published"
ok "b pulled a's objects with inclusion proofs"
d b peer show a | grep -q '^state: *ok$' || fail "peer show state"
d b peer show a | grep -q '^last sth: *size 3 ' || fail "peer show last sth"
d b peer show a --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["state"]=="ok" and d["last_sth"]["tree_size"]==3 and d["last_sync"]' || fail "peer show --json"

# --- objects added later come with the next sync, nothing twice
d a import "$SAMPLES/indicators-for-C2-with-COA.json" >/dev/null || fail "second import"
out=$(d b sync a 2>>"$WORK/sync1.log") || fail "second sync: $out"
echo "$out" | grep -q '^a ok pulled=8 duplicates=0 ' || fail "incremental sync: $out"
out=$(d b sync a 2>>"$WORK/sync1.log") || fail "third sync"
echo "$out" | grep -q '^a ok pulled=0 duplicates=0 ' || fail "idle sync pulls nothing: $out"
ok "incremental sync picks up new objects only"

# --- C pulls A's objects relayed by B, and verifies A's signatures
serve b
d c peer add b "http://127.0.0.1:$PORT_b/taxii2/" --key "$(key_of b)" --into default=from-b 2>/dev/null || fail "c peer add b"
out=$(d c sync b --no-gossip 2>"$WORK/sync2.log") || fail "c sync b: $out"
echo "$out" | grep -q '^b ok pulled=12 ' || fail "c sync b output: $out"
[ "$(versions b default)" = "$(versions c from-b)" ] || fail "c holds what b relayed"
python3 - "$WORK/c/detente.db" "$(ident a)" <<'PY' || fail "relayed objects keep a's signatures"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = c.execute("SELECT count(*) FROM objects WHERE collection='from-b' AND signer=?", (sys.argv[2],)).fetchone()[0]
assert n == 10, n
k = c.execute("SELECT value FROM kv WHERE key=?", ("signer-key/" + sys.argv[2],)).fetchone()
assert k is not None
PY
ok "c pulled a's objects via b with a's signatures checked and a's key recorded"

# C also pulls from A directly: the same versions, nothing new
d c peer add a "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" --into default=from-b 2>/dev/null || fail "c peer add a"
out=$(d c sync a 2>>"$WORK/sync2.log") || fail "c sync a: $out"
# 10 objects of a's plus detente's extension-definition, which every node holds alike
echo "$out" | grep -q '^a ok pulled=0 duplicates=11 ' || fail "c sync a: $out"
ok "the same versions from two peers are stored once"

# gossip: b witnesses a; c compares and agrees
d b peer witnessed | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["heads"][0]["peer"]=="a" and d["signature"]' || fail "witnessed document"
out=$(d c sync a 2>>"$WORK/sync2.log") || fail "c sync a with gossip: $out"
echo "$out" | grep -q ' witnesses=1 ' || fail "b's head for a was not compared: $out"
ok "gossip with a consistent witness passes"

# --- a sync killed half-way, then re-run: nothing lost, nothing twice
d a import "$SAMPLES/apt1.json" >/dev/null || fail "import apt1"
want=$(count a default)
"$DETENTE_BIN" --home "$WORK/b" sync a --page 3 >"$WORK/kill.out" 2>"$WORK/kill.log" &
spid=$!
for _ in $(seq 100); do [ "$(grep -c 'versions checked and committed' "$WORK/kill.log")" -ge 2 ] && break; sleep 0.05; done
kill -9 $spid 2>/dev/null; wait $spid 2>/dev/null
got=$(count b default)
[ "$got" -lt "$((want + 1))" ] || echo "note: the sync finished before it was killed"
out=$(d b sync a --page 7 2>>"$WORK/kill.log") || fail "sync after kill: $out"
[ "$(versions a default)" = "$(versions b default | grep -v "$(ident b)")" ] || fail "after kill and re-run b differs from a"
python3 - "$WORK/b/detente.db" <<'PY' || fail "duplicate leaves after re-run"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
leaves = c.execute("SELECT count(*) FROM leaves").fetchone()[0]
rows = c.execute("SELECT count(*) FROM objects").fetchone()[0]
assert leaves == rows, (leaves, rows)
PY
ok "killed sync re-run: every version once ($want)"

# --- a large pull: one pass over the ledger entries instead of a proof each
python3 "$DETENTE_SRC/tests/integration/federation_gen.py" 600 large >"$WORK/large.jsonl"
d a import "$WORK/large.jsonl" >/dev/null || fail "import 600"
out=$(d b sync a --page 200 2>"$WORK/large.log") || fail "large sync: $out"
echo "$out" | grep -q '^a ok pulled=600 duplicates=0 rejected=0 pushed=0 deleted=0 proofs=600 ' || fail "large sync: $out"
grep -q 'reading ledger entries' "$WORK/large.log" || fail "the entries pass was not used"
[ "$(versions a default)" = "$(versions b default | grep -v "$(ident b)")" ] || fail "after the large sync b differs from a"
d a import "$SAMPLES/poisonivy.json" >/dev/null || fail "import after large"
out=$(d b sync a 2>>"$WORK/large.log") || fail "sync after large: $out"
[ "$(versions a default)" = "$(versions b default | grep -v "$(ident b)")" ] || fail "after the next sync b differs from a"
ok "large pull proven by one pass over the ledger entries; the next pass continues from the kept frontier"

# --- push: c pushes its outbox to a, within the peer's marking limit
d c import --collection outbox "$SAMPLES/poisonivy.json" >/dev/null || fail "outbox import"
cat >"$WORK/red.json" <<'JSON'
{"type":"indicator","spec_version":"2.1","id":"indicator--0d7e0ab0-3b6f-4d0c-9c8e-8f3a1b2c3d4e","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"red one","pattern":"[ipv4-addr:value = '203.0.113.9']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}
JSON
d c import --collection outbox "$WORK/red.json" >/dev/null || fail "red import"
d c peer add pusha "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" --collections default --into default=from-a --push outbox --max-marking amber 2>/dev/null || fail "add pusha"
out=$(d c sync pusha --no-gossip 2>"$WORK/push.log") || fail "push sync: $out"
want=$(( $(count c outbox) - 1 ))
echo "$out" | grep -q " pushed=$want " || fail "push: $out (want $want)"
[ "$(versions c outbox | grep -v indicator--0d7e0ab0)" = "$(versions a outbox)" ] || fail "a does not hold c's outbox"
versions a outbox | grep -q indicator--0d7e0ab0 && fail "a TLP:RED object was pushed"
out=$(d c sync pusha --no-gossip 2>>"$WORK/push.log") || fail "second push sync: $out"
echo "$out" | grep -q ' pushed=0 ' || fail "second push: $out"
ok "push: the outbox reaches a once, nothing above the peer's marking limit"

# --- a wrong pinned key: the head does not verify
d c peer add wrongkey "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of c)" 2>/dev/null || fail "add wrongkey"
out=$(d c sync wrongkey --no-gossip 2>"$WORK/wrong.log"); rc=$?
[ $rc -eq 1 ] || fail "wrong key: exit $rc"
echo "$out" | grep -q '^wrongkey suspect tree head signature does not verify under the pinned key$' || fail "wrong key output: $out"
grep -q 'SUSPECT peer wrongkey' "$WORK/wrong.log" || fail "suspect not logged"
d c peer show wrongkey >/dev/null; [ $? -eq 1 ] || fail "peer show of a suspect peer exits 1"
out=$(d c sync wrongkey 2>&1); [ $? -eq 1 ] || fail "a suspect peer is refused"
echo "$out" | grep -q 'peer is suspect' || fail "refusal message: $out"
d c peer trust wrongkey || fail "trust"
d c peer show wrongkey | grep -q '^evidence: *1$' || fail "evidence kept after trust"
ok "wrong pinned key: suspect, refused, evidence kept"

# --- answers that are not TAXII
mkdir -p "$WORK/www/taxii2" && echo '<html>hello</html>' >"$WORK/www/taxii2/index.html"
wport=$(free_port)
(cd "$WORK/www" && exec python3 -m http.server "$wport" --bind 127.0.0.1 >"$WORK/www.log" 2>&1) &
PIDS+=($!)
sleep 0.5
d c peer add web "http://127.0.0.1:$wport/taxii2/" --key "$(key_of a)" 2>/dev/null
out=$(d c sync web 2>&1); rc=$?
[ $rc -eq 1 ] || fail "not TAXII: exit $rc ($out)"
echo "$out" | grep -q "not a TAXII answer: Content-Type 'text/html" || fail "not TAXII message: $out"
d c peer show web | grep -q '^state: *ok$' || fail "a protocol error must not make the peer suspect"
closed=$(free_port)
d c peer add down "http://127.0.0.1:$closed/taxii2/" --key "$(key_of a)" 2>/dev/null
out=$(d c sync down 2>&1); rc=$?
[ $rc -eq 3 ] || fail "connection refused: exit $rc"
echo "$out" | grep -q "127.0.0.1:$closed" || fail "network error names the URL: $out"
ok "not TAXII and unreachable: clear errors"

# --- peer remove
d c peer remove down || fail "remove"
d c peer list | grep -q '^down' && fail "removed peer still listed"
d c peer show down >/dev/null 2>&1; [ $? -eq 1 ] || fail "show of a removed peer"
# credentials never shown
d c peer add withpw "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" --user u --password-stdin <<<"pw-very-secret" 2>/dev/null || fail "add with password"
d c peer show withpw --json | grep -q 'pw-very-secret' && fail "password printed"
d c peer list --json | grep -q 'pw-very-secret' && fail "password listed"
ok "remove; credentials never printed"
echo "federation_sync: all passed"
