#!/usr/bin/env bash
# `make demo`: two parties that do not trust each other exchange intelligence
# and check it against evidence, on loopback, with real data.
#
#   party-a publishes a report (data/demo/party-a-report.json: indicators
#   taken from the real WRCCDC 2018 Zeek logs, plus false data of the kind
#   real feeds carry); party-b pulls it, verifies signatures and party-a's
#   ledger, scans its own logs (tests/data/zeek), records sightings, lets its
#   warninglists flag the benign values and publishes signed opinions;
#   party-a pulls those back and both see verdicts and party-a's reliability;
#   finally party-a quietly edits its own database to retract a claim, and
#   party-b's next sync catches it.
#
# With --check (the CI integration test) the script also asserts the
# outcomes and exits non-zero when one is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DETENTE_BIN:-$PWD/build/detente}
check=0
keep=0
for a in "$@"; do
    case "$a" in
    --check) check=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: scripts/demo.sh [--check] [--keep]" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d "${TMPDIR:-/tmp}/detente-demo.XXXXXX")
A=$work/party-a
B=$work/party-b
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ "$keep" = 1 ] && echo "(data kept in $work)" || rm -rf "$work"
}
trap cleanup EXIT

bold=; plain=
if [ -t 1 ]; then bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true); fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$*"; }
run() { printf '   $ %s\n' "$*" | sed "s#$bin#detente#g; s#$work/##g"; "$@"; }
fail() { echo "DEMO CHECK FAILED: $*" >&2; exit 1; }
da() { "$bin" --home "$A" "$@"; }
db() { "$bin" --home "$B" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# the demo is the same whoever runs it: no colour codes in a pipe


step "Two parties set up their nodes"
port_a=$(free_port); port_b=$(free_port)
da init --name party-a >/dev/null
db init --name party-b >/dev/null
key_a=$(da --json key show | json 'd["public_key"]')
key_b=$(db --json key show | json 'd["public_key"]')
say "party-a's key: $key_a"
say "party-b's key: $key_b"
sed -i "s/^listen = .*/listen = 127.0.0.1:$port_a/" "$A/detente.conf"
sed -i "s/^listen = .*/listen = 127.0.0.1:$port_b/" "$B/detente.conf"
sed -i "s/^interval = .*/interval = 0/" "$A/detente.conf" "$B/detente.conf"
# each gives the other a peer account that may read its default collection
pw_ab=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
pw_ba=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s' "$pw_ab" | da user add party-b --password-stdin --peer --max-marking amber >/dev/null 2>&1
printf '%s' "$pw_ba" | db user add party-a --password-stdin --peer --max-marking amber >/dev/null 2>&1
da grant party-b default read >/dev/null 2>&1
db grant party-a default read >/dev/null 2>&1
# and pins the other's key
printf '%s\n' "$pw_ab" | db peer add party-a "http://127.0.0.1:$port_a/taxii2/" --key "$key_a" \
    --user party-b --password-stdin --into default=from-party-a >/dev/null
printf '%s\n' "$pw_ba" | da peer add party-b "http://127.0.0.1:$port_b/taxii2/" --key "$key_b" \
    --user party-a --password-stdin --into default=from-party-b >/dev/null
"$bin" --home "$A" serve >"$work/a.log" 2>&1 & pids+=($!) # not through da: $! must be the server
"$bin" --home "$B" serve >"$work/b.log" 2>&1 & pids+=($!)
for p in $port_a $port_b; do
    for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/detente/v1/health" >/dev/null && break; sleep 0.1; done
done
say "party-a serves TAXII 2.1 at http://127.0.0.1:$port_a/taxii2/, party-b at http://127.0.0.1:$port_b/taxii2/"
say "each pinned the other's public key; each has a peer account on the other"

step "1. party-a publishes an intelligence report"
run "$bin" --home "$A" import data/demo/party-a-report.json
say "eight indicators of a campaign: C2 domain and address, a TLS certificate hash, staging"
say "infrastructure, a dropper hash — and two values that are in fact benign (8.8.8.8, www.google.com)"
say "every object is signed by party-a and appended to party-a's ledger"

step "2. party-b pulls the report, checking every signature and party-a's ledger"
run "$bin" --home "$B" sync party-a
db --json peer show party-a | json '"party-a is " + d["state"]' | sed 's/^/   /'
if [ "$check" = 1 ]; then
    [ "$(db --json peer show party-a | json 'd["state"]')" = ok ] || fail "party-a should be ok after the first sync"
    n=$(db export --collection from-party-a --type indicator | json 'len(d["objects"])')
    [ "$n" = 8 ] || fail "party-b should hold party-a's 8 indicators, holds $n"
fi

step "3. party-b checks the claims against its own evidence"
say "scanning its own Zeek logs (real WRCCDC 2018 traffic: dns.log and ssl.log)"
run "$bin" --home "$B" scan --record-sightings --output "$work/matches.jsonl" \
    tests/data/zeek/dns.log.gz tests/data/zeek/ssl.log.gz
python3 - "$work/matches.jsonl" <<'EOF'
import json, sys, collections
c = collections.Counter()
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "indicator" in d:
        c[(d["type"], d["value"])] += 1
for (t, v), n in sorted(c.items()):
    print("   seen %6d times  %-20s %s" % (n, t, v))
EOF
ind() { python3 - "$1" <<'EOF'
import json, sys
for o in json.load(open("data/demo/party-a-report.json"))["objects"]:
    if o["type"] == "indicator" and sys.argv[1] in o["pattern"]:
        print(o["id"])
EOF
}
if [ "$check" = 1 ]; then
    python3 - "$work/matches.jsonl" <<'EOF' || fail "scan matches"
import json, sys
seen = {json.loads(l)["value"] for l in open(sys.argv[1]) if '"indicator"' in l}
want = {"cortanaupdate.stream", "198.199.95.203", "www.google.com",
        "39899c6d0d60a74a8f6b006c2b08370202db8056253ec85ec86523e1092cfbc0"}
assert want <= seen, want - seen
assert not seen & {"cortana-update.online", "185.141.27.34", "8.8.8.8"}, seen
EOF
fi
c2=$(ind cortanaupdate.stream); c2ip=$(ind 198.199.95.203); cert=$(ind 39899c6d)
google=$(ind www.google.com); resolver=$(ind 8.8.8.8)
say "an analyst at party-b looks at the matches and publishes signed opinions"
run "$bin" --home "$B" opinion add "$c2" strongly-agree --collection default \
    --explanation "Queried and contacted over TLS from our network, with 198.199.95.203 behind it"
run "$bin" --home "$B" opinion add "$c2ip" strongly-agree --collection default \
    --explanation "Serves cortanaupdate.stream in our TLS logs"
run "$bin" --home "$B" opinion add "$cert" strongly-agree --collection default \
    --explanation "Presented to our hosts that also contacted the C2 domain"
run "$bin" --home "$B" opinion add "$google" strongly-disagree --collection default \
    --explanation "www.google.com is one of the most visited websites; every network sees it"
say "party-b's view of party-a's claims (warninglists flag the benign values):"
verdict_table() { # verdict_table HOME: party-a's indicators, their values and verdicts
    "$bin" --home "$1" --json verdicts | python3 -c '
import json, re, sys
names = {}
for o in json.load(open("data/demo/party-a-report.json"))["objects"]:
    if o["type"] == "indicator":
        names[o["id"]] = re.search(r"= '"'"'([^'"'"']*)'"'"'", o["pattern"]).group(1)
for v in json.load(sys.stdin):
    if v["id"] in names:
        print("   %-14s %s" % (v["verdict"], names[v["id"]][:64]))'
}
verdict_table "$B"

step "4. party-a pulls party-b's sightings and opinions"
run "$bin" --home "$A" sync party-b
say "party-a now sees the evidence behind each verdict on its own claims, e.g. www.google.com:"
run "$bin" --home "$A" verify "$google"
verdict_table "$A"
if [ "$check" = 1 ]; then
    verdict_table "$A" > "$work/table"
    python3 - "$work/table" <<'EOF' || { cat "$work/table"; fail "verdicts on party-a"; }
import sys
got = {}
for line in open(sys.argv[1]):
    verdict, value = line.split()[:2]
    got[value] = verdict
want = {"cortanaupdate.stream": "corroborated", "198.199.95.203": "corroborated",
        "39899c6d0d60a74a8f6b006c2b08370202db8056253ec85ec86523e1092cfbc0": "corroborated",
        "www.google.com": "likely-benign", "8.8.8.8": "likely-benign",
        "cortana-update.online": "unverified", "185.141.27.34": "unverified"}
for k, v in want.items():
    assert got.get(k) == v, (k, got.get(k), v)
EOF
    ra=$(da --json reliability | json 'json.dumps([(r["source"], r["corroborated"], r["refuted"], r["letter"]) for r in d])')
    rb=$(db --json reliability | json 'json.dumps([(r["source"], r["corroborated"], r["refuted"], r["letter"]) for r in d])')
    [ "$ra" = "$rb" ] || fail "both nodes should compute the same reliability: $ra vs $rb"
fi
say "party-a's reliability, computed from the outcomes of its claims, by the same rule on both nodes:"
run "$bin" --home "$A" reliability
run "$bin" --home "$B" reliability

step "5. party-a tries to quietly retract a claim by editing its own database"
say "party-a deletes its 8.8.8.8 indicator, removes its ledger entry, renumbers the later"
say "entries, recomputes every tree hash and throws away the tree heads it had signed:"
say "its own store is consistent again, and it now signs heads of the rewritten history"
python3 - "$A/detente.db" "$resolver" <<'EOF'
import hashlib, sqlite3, sys
db, oid = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
(gone,) = c.execute("SELECT leaf_index FROM objects WHERE id = ?", (oid,)).fetchone()
c.execute("DELETE FROM objects WHERE id = ?", (oid,))
c.execute("DELETE FROM leaves WHERE idx = ?", (gone,))
c.execute("UPDATE leaves SET idx = -(idx - 1) WHERE idx > ?", (gone,))   # two steps: idx is a key
c.execute("UPDATE leaves SET idx = -idx WHERE idx < 0")
c.execute("UPDATE objects SET leaf_index = leaf_index - 1 WHERE leaf_index > ?", (gone,))
c.execute("DELETE FROM nodes")
c.execute("DELETE FROM sths")
level = [h for (h,) in c.execute("SELECT hash FROM leaves ORDER BY idx")]
k = 0
while len(level) > 1:
    k += 1
    level = [hashlib.sha256(b"\x01" + level[2 * i] + level[2 * i + 1]).digest()
             for i in range(len(level) // 2)]
    c.executemany("INSERT INTO nodes(level, idx, hash) VALUES(?, ?, ?)",
                  [(k, i, h) for i, h in enumerate(level)])
c.commit()
print("   (removed ledger entry %d of %s)" % (gone, oid))
EOF
run "$bin" --home "$A" ledger verify
say "party-a's own check passes; but party-b remembers what party-a signed before:"
set +e
run "$bin" --home "$B" sync party-a
rc=$?
set -e
peer_state() { db --json peer show party-a 2>/dev/null || true; }
peer_state | json '"party-a is now " + d["state"] + ": " + str(d.get("reason",""))' | sed 's/^/   /'
if [ "$check" = 1 ]; then
    [ "$rc" != 0 ] || fail "the sync after the rewrite should fail"
    [ "$(peer_state | json 'd["state"]')" = suspect ] || fail "party-a should be suspect"
    peer_state | json 'd["evidence"][0]["first"]["tree_size"]' >/dev/null \
        || fail "the conflicting signed heads should be kept as evidence"
fi

step "Summary"
{
    da --json verdicts 2>/dev/null || echo '[]'
    echo
    db --json verdicts 2>/dev/null || echo '[]'
    echo
    da --json reliability 2>/dev/null || echo '[]'
    echo
    db --json reliability 2>/dev/null || echo '[]'
    echo
    da --json stats; echo
    db --json stats; echo
    peer_state; echo
    da --json peer show party-b 2>/dev/null || echo '{}'
} > "$work/summary.json"
python3 - "$work/summary.json" <<'EOF'
import collections, json, sys
dec = json.JSONDecoder()
text = open(sys.argv[1]).read()
docs, i = [], 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    d, i = dec.raw_decode(text, i)
    docs.append(d)
va, vb, ra, rb, sa, sb, pa, pb = docs[:8]
def count(vs):
    c = collections.Counter(v["verdict"] for v in vs if v["id"].startswith("indicator--"))
    return ", ".join("%d %s" % (n, k) for k, n in sorted(c.items()))
def rel(rs, who):
    for r in rs:
        if r["source"] == who:
            return "%s (mean %.2f, 90%% interval %.2f-%.2f; %d corroborated, %d refuted)" % (
                r["letter"], r["mean"], r["interval"][0], r["interval"][1],
                r["corroborated"], r["refuted"])
    return "-"
src = sa["identity"]
print("   %-34s %-48s %s" % ("", "on party-a", "on party-b"))
print("   %-34s %-48s %s" % ("party-a's indicators by verdict", count(va), count(vb)))
print("   %-34s %s" % ("party-a's reliability (party-a)", rel(ra, src)))
print("   %-34s %s" % ("party-a's reliability (party-b)", rel(rb, src)))
print("   %-34s %-48s %s" % ("ledger size", sa["ledger_size"], sb["ledger_size"]))
print("   %-34s %-48s %s" % ("peer state", "party-b: " + pb.get("state", "?"),
                              "party-a: " + pa.get("state", "?")))
if pa.get("state") == "suspect":
    print("   %-34s %s" % ("why party-a is suspect", pa.get("reason", "")))
EOF
say ""
say "look further while the nodes run (scripts/demo.sh --keep keeps both data directories;"
say "restart one with: build/detente --home DIR serve):"
say "  party-a  http://127.0.0.1:$port_a/ui/  /detente/v1/verdicts  /detente/v1/reliability  /detente/v1/ledger/sth"
say "  party-b  http://127.0.0.1:$port_b/ui/  /detente/v1/ledger/witnessed  /detente/v1/peers"
say "stopping both nodes"
exit 0
