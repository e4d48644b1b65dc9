# Federation checks that catch a dishonest node: A rewrites its history (a
# test edits A's database) and B notices on the next sync; A equivocates
# (two copies of its data directory with the same key diverge, one serving
# B, one serving C) and C notices through B's witnessed heads, keeping the
# two conflicting heads; TLS with a pinned CA refuses expired and
# self-signed certificates.
. "$(dirname "$0")/lib/federation_common.bash"

# --- history rewritten
new_node a; new_node b
d a import "$SAMPLES/indicators-for-C2-with-COA.json" >/dev/null || fail "import"
serve a
d b peer add a "http://127.0.0.1:$PORT_a/taxii2/" --key "$(key_of a)" 2>/dev/null || fail "add"
d b sync a >/dev/null 2>&1 || fail "first sync"
before=$(count b default)
python3 - "$WORK/a/detente.db" <<'PY' || fail "editing a's database"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
idx, leaf = c.execute("SELECT idx, leaf FROM leaves ORDER BY idx LIMIT 1 OFFSET 2").fetchone()
c.execute("UPDATE leaves SET leaf=? WHERE idx=?", (leaf.replace('"modified":"', '"modified":"1', 1), idx))
c.commit()
PY
d a import "$SAMPLES/indicator-for-c2-ip-address.json" >/dev/null || fail "import after rewrite"
out=$(d b sync a 2>"$WORK/rewrite.log"); rc=$?
[ $rc -eq 1 ] || fail "rewrite: exit $rc ($out)"
echo "$out" | grep -q '^a suspect new tree head is not consistent with the previous one' || fail "rewrite output: $out"
grep -q 'detente: SUSPECT peer a:' "$WORK/rewrite.log" || fail "not logged loudly"
d b peer show a --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["state"] == "suspect", d["state"]
e = d["evidence"][0]
assert e["kind"] == "inconsistent-sth"
assert e["first"]["tree_size"] < e["second"]["tree_size"]
assert e["first"]["tree_head_signature"] and e["second"]["tree_head_signature"]
' || fail "rewrite evidence"
# nothing from the rewritten log was accepted
[ "$(count b default)" -eq "$before" ] || fail "objects accepted from a suspect peer"
ok "rewritten history: b marks a suspect with both signed heads as evidence"

# --- equivocation: two copies of a's directory, same key, diverging
rm -rf "$WORK"/a2 "$WORK"/a1 "$WORK"/b2 "$WORK"/c2
new_node a1; new_node b2; new_node c2
d a1 import "$SAMPLES/indicator-for-c2-ip-address.json" >/dev/null || fail "import a1"
cp -a "$WORK/a1" "$WORK/a2"
d a1 import "$SAMPLES/indicators-for-C2-with-COA.json" >/dev/null || fail "a1 diverges"
d a2 import "$SAMPLES/malicious-email-indicator-with-attachment.json" >/dev/null || fail "a2 diverges"
serve a1; serve a2
d b2 peer add a "http://127.0.0.1:$PORT_a1/taxii2/" --key "$(key_of a1)" 2>/dev/null || fail "b2 add a1"
d b2 sync a >/dev/null 2>"$WORK/eq.log" || fail "b2 sync a1"
serve b2
d c2 peer add b "http://127.0.0.1:$PORT_b2/taxii2/" --key "$(key_of b2)" --into default=from-b 2>/dev/null || fail "c2 add b"
d c2 peer add a "http://127.0.0.1:$PORT_a2/taxii2/" --key "$(key_of a1)" 2>/dev/null || fail "c2 add a2"
out=$(d c2 sync a 2>>"$WORK/eq.log"); rc=$?
[ $rc -eq 1 ] || fail "equivocation not detected: exit $rc ($out)"
echo "$out" | grep -q '^a suspect split view: peer b witnessed another head' || fail "equivocation output: $out"
d c2 peer show a --json | python3 -c '
import json, sys, base64
d = json.load(sys.stdin)
assert d["state"] == "suspect"
e = d["evidence"][0]
assert e["kind"] == "split-view", e["kind"]
a, b = e["first"], e["second"]
assert (a["tree_size"], a["sha256_root_hash"]) != (b["tree_size"], b["sha256_root_hash"])
assert e["witness"]["witness"].startswith("identity--") and e["witness"]["signature"]
' || fail "split view evidence"
# the two heads are both signed by a's key: check them with python, independently
d c2 peer show a --json | python3 -c '
import json, sys, base64
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
key = Ed25519PublicKey.from_public_bytes(base64.b64decode(sys.argv[1].split(":")[1]))
e = json.load(sys.stdin)["evidence"][0]
for h in (e["first"], e["second"]):
    msg = json.dumps({"root_hash": h["sha256_root_hash"], "timestamp": h["timestamp"], "tree_size": h["tree_size"]}, sort_keys=True, separators=(",", ":"))
    key.verify(base64.b64decode(h["tree_head_signature"]), msg.encode())
' "$(key_of a1)" || fail "conflicting heads do not verify under a's key"
ok "equivocation caught through b's witnessed heads; two heads signed by a kept"

# --- an object served but not in the ledger: a3 is a copy of a1 that adds an
# object (signed with a's key); that row is then slipped into a1's store
# without a ledger leaf. b3, pulling from a1, finds no inclusion for it.
cp -a "$WORK/a1" "$WORK/a3"
new_node b3
d b3 peer add a "http://127.0.0.1:$PORT_a1/taxii2/" --key "$(key_of a1)" 2>/dev/null || fail "b3 add a1"
d b3 sync a >/dev/null 2>"$WORK/incl.log" || fail "b3 first sync"
d a3 import "$SAMPLES/malicious-email-indicator-with-attachment.json" >/dev/null || fail "a3 import"
python3 - "$WORK/a3/detente.db" "$WORK/a1/detente.db" <<'PY' || fail "slipping a row into a1"
import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
have = {r[0] for r in dst.execute("SELECT id FROM objects")}
cols = [r[1] for r in src.execute("PRAGMA table_info(objects)") if r[1] != "rowid"]
for row in src.execute("SELECT %s FROM objects WHERE type='indicator' ORDER BY rowid" % ",".join(cols)):
    if row[cols.index("id")] not in have:
        row = list(row)
        row[cols.index("date_added")] = dst.execute("SELECT max(date_added) + 1 FROM objects").fetchone()[0]
        dst.execute("INSERT INTO objects(%s) VALUES(%s)" % (",".join(cols), ",".join("?" * len(cols))), row)
        dst.commit()
        print(row[cols.index("id")])
        break
else:
    sys.exit("no new indicator in a3")
PY
out=$(d b3 sync a 2>>"$WORK/incl.log"); rc=$?
[ $rc -eq 1 ] || fail "missing inclusion: exit $rc ($out)"
echo "$out" | grep -q "is served but not included in the peer's ledger" || fail "missing inclusion output: $out"
d b3 peer show a --json | python3 -c '
import json, sys
e = json.load(sys.stdin)["evidence"][0]
assert e["kind"] == "missing-inclusion" and e["object"]["id"] and e["leaf"] and e["first"]["tree_head_signature"]
' || fail "missing inclusion evidence"
ok "an object served without a ledger leaf: suspect, with the head, the object and the rebuilt leaf"

# --- an object altered after it was signed
new_node a4; new_node b4
d a4 import "$SAMPLES/indicator-for-c2-ip-address.json" >/dev/null || fail "a4 import"
python3 - "$WORK/a4/detente.db" <<'PY' || fail "altering an object"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rowid, js = c.execute("SELECT rowid, json FROM objects WHERE type='indicator'").fetchone()
c.execute("UPDATE objects SET json=? WHERE rowid=?", (js.replace('"name":"', '"name":"not ', 1), rowid))
c.commit()
PY
serve a4
d b4 peer add a "http://127.0.0.1:$PORT_a4/taxii2/" --key "$(key_of a4)" 2>/dev/null || fail "b4 add"
out=$(d b4 sync a 2>"$WORK/sig.log"); rc=$?
[ $rc -eq 1 ] || fail "bad signature: exit $rc ($out)"
echo "$out" | grep -q "bad object signature" || fail "bad signature output: $out"
[ "$(count b4 default)" -eq 1 ] || fail "b4 accepted something from a peer that served a forged object"
ok "an altered object: suspect, nothing from that page accepted"

# --- TLS: a pinned CA; a valid, an expired and a self-signed certificate
python3 - "$WORK" <<'PY' || fail "making certificates"
import datetime, sys
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
w = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
def name(cn): return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
def save(path, obj):
    open(path, "wb").write(obj.public_bytes(serialization.Encoding.PEM) if hasattr(obj, "public_bytes") and not hasattr(obj, "private_bytes") else obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
def cert(subject_key, cn, issuer_key, issuer_cn, start, end, ca=False):
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(issuer_cn))
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())
ca_key = ec.generate_private_key(ec.SECP256R1())
ca = cert(ca_key, "test CA", ca_key, "test CA", now - datetime.timedelta(days=1), now + datetime.timedelta(days=30), ca=True)
save(w + "/ca.pem", ca)
k = ec.generate_private_key(ec.SECP256R1())
save(w + "/srv.key", k)
save(w + "/good.pem", cert(k, "localhost", ca_key, "test CA", now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)))
save(w + "/expired.pem", cert(k, "localhost", ca_key, "test CA", now - datetime.timedelta(days=30), now - datetime.timedelta(days=1)))
save(w + "/self.pem", cert(k, "localhost", k, "localhost", now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)))
PY
for kind in good expired self; do
    cp -a "$WORK/b2" "$WORK/t$kind"
    serve "t$kind" --tls "$WORK/$kind.pem" "$WORK/srv.key"
    port=$(eval echo "\$PORT_t$kind")
    d c2 peer add "t$kind" "https://localhost:$port/taxii2/" --key "$(key_of b2)" --ca "$WORK/ca.pem" 2>/dev/null || fail "add t$kind"
    out=$(d c2 sync "t$kind" --no-gossip 2>&1); rc=$?
    case $kind in
    good) [ $rc -eq 0 ] || fail "TLS with the pinned CA: exit $rc ($out)";;
    *) [ $rc -eq 3 ] || fail "TLS $kind: exit $rc ($out)"
       echo "$out" | grep -q 'TLS check failed against the pinned CA' || fail "TLS $kind message: $out";;
    esac
done
ok "TLS: pinned CA accepted; expired and self-signed certificates refused"
echo "federation_checks: all passed"
