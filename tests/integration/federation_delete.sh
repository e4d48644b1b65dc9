# Deletions travel: A deletes an object (TAXII DELETE on `detente serve`);
# B, which pulled it from A, erases it on its next sync (A's tombstone leaf,
# proven by the entries pass and signed with A's pinned key) and ledgers its
# own tombstone; C, which got it relayed by B, erases it from B's tombstone.
. "$(dirname "$0")/lib/federation_common.bash"

new_node a; new_node b; new_node c
d a import "$SAMPLES/indicators-for-C2-with-COA.json" >/dev/null || fail "import"
serve a
d b peer add a "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" 2>/dev/null || fail "b add a"
d b sync a >/dev/null 2>"$WORK/sync.log" || fail "b sync a"
serve b
d c peer add b "http://127.0.0.1:$PORT_b/taxii2/" --key "$(key_of b)" 2>/dev/null || fail "c add b"
d c sync b >/dev/null 2>>"$WORK/sync.log" || fail "c sync b"
X=$(python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT id FROM objects WHERE type=\"indicator\" ORDER BY id LIMIT 1").fetchone()[0])' "$WORK/a/detente.db")
live() { python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT count(*) FROM objects WHERE id=? AND deleted=0", (sys.argv[2],)).fetchone()[0])' "$WORK/$1/detente.db" "$X"; }
[ "$(live b)" = 1 ] && [ "$(live c)" = 1 ] || fail "setup: $X not on b and c"

# A deletes X through its TAXII server
d a user add alice --password-stdin <<<"alice-pw" >/dev/null 2>&1 || fail "user add"
d a grant alice default read-write >/dev/null 2>&1 || fail "grant"
port=$(free_port)
"$DETENTE_BIN" --home "$WORK/a" serve --listen "127.0.0.1:$port" >"$WORK/serve-real.out" 2>"$WORK/serve-real.log" &
PIDS+=($!)
for _ in $(seq 50); do grep -q taxii2 "$WORK/serve-real.out" 2>/dev/null && break; sleep 0.1; done
code=$(curl -s -o "$WORK/del.json" -w '%{http_code}' -u alice:alice-pw -X DELETE \
    -H 'Accept: application/taxii+json;version=2.1' \
    "http://127.0.0.1:$port/api/collections/default/objects/$X/")
[ "$code" = 200 ] || fail "DELETE on a: HTTP $code $(cat "$WORK/del.json")"
[ "$(live a)" = 0 ] || fail "a still holds $X"

out=$(d b sync a 2>>"$WORK/sync.log") || fail "b sync after delete: $out"
echo "$out" | grep -q ' deleted=1 ' || fail "b did not follow a's tombstone: $out"
[ "$(live b)" = 0 ] || fail "b still serves $X"
python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
n = c.execute("SELECT count(*) FROM leaves WHERE leaf LIKE ? AND leaf LIKE ?", ("%\"tombstone\":true%", "%" + sys.argv[2] + "%")).fetchone()[0]
assert n == 1, n' "$WORK/b/detente.db" "$X" || fail "b did not ledger its own tombstone"
ok "b erased the object a deleted, and ledgered its own tombstone"

out=$(d c sync b 2>>"$WORK/sync.log") || fail "c sync after delete: $out"
echo "$out" | grep -q ' deleted=1 ' || fail "c did not follow b's tombstone: $out"
[ "$(live c)" = 0 ] || fail "c still serves $X"
out=$(d c sync b 2>>"$WORK/sync.log") || fail "c sync again: $out"
echo "$out" | grep -q ' deleted=0 ' || fail "a tombstone applied twice: $out"
ok "the deletion reached c through b"
echo "federation_delete: all passed"
