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

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$*"; }
run() { printf '   $ %s\n' "$*" | sed "s#$bin#detente#g; s#$work/##g"; "$@"; }
fail() { echo "DEMO CHECK FAILED: $*" >&2; exit 1; }
da() { "$bin" --home "$A" "$@"; }
db() { "$bin" --home "$B" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

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
da serve >"$work/a.log" 2>&1 & pids+=($!)
db serve >"$work/b.log" 2>&1 & pids+=($!)
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
c2=$(ind cortanaupdate.stream); google=$(ind www.google.com); resolver=$(ind 8.8.8.8)
say "an analyst at party-b publishes signed opinions on what was found"
run "$bin" --home "$B" opinion add "$c2" agree \
    --explanation "Seen in our DNS and TLS logs, talking to 198.199.95.203" --collection default
run "$bin" --home "$B" opinion add "$google" strongly-disagree \
    --explanation "www.google.com is one of the most visited websites; not C2" --collection default
run "$bin" --home "$B" verdicts

step "4. party-a pulls party-b's sightings and opinions"
run "$bin" --home "$A" sync party-b
run "$bin" --home "$A" verify "$google"
run "$bin" --home "$A" verdicts
say "party-a's reliability, computed from the outcomes of its claims, by the same rule on both nodes:"
run "$bin" --home "$A" reliability
run "$bin" --home "$B" reliability

step "5. party-a tries to quietly retract a claim by editing its own database"
resolver_id=$resolver
say "party-a deletes its '8.8.8.8' indicator from its store and rewrites its ledger around it"
python3 - "$A/detente.db" "$resolver_id" <<'EOF'
import sqlite3, sys
db, oid = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
row = c.execute("SELECT leaf_index FROM objects WHERE id = ?", (oid,)).fetchone()
c.execute("DELETE FROM objects WHERE id = ?", (oid,))
# rewrite the leaf so the entry no longer names the retracted object
leaf = c.execute("SELECT leaf FROM leaves WHERE idx = ?", (row[0],)).fetchone()[0]
c.execute("UPDATE leaves SET leaf = replace(leaf, ?, ?) WHERE idx = ?",
          (oid, "indicator--00000000-0000-4000-8000-000000000000", row[0]))
c.commit()
print("   (edited leaf %d)" % row[0])
EOF
run "$bin" --home "$A" ledger verify || true
set +e
run "$bin" --home "$B" sync party-a; rc=$?
set -e
db --json peer show party-a | json '"party-a is now " + d["state"] + ": " + str(d.get("reason",""))' | sed 's/^/   /'

step "Summary"
da --json verdicts > "$work/verdicts-a.json" || true
python3 - "$work/verdicts-a.json" <<'EOF'
import json, sys, collections
try:
    vs = json.load(open(sys.argv[1]))
except Exception:
    vs = []
c = collections.Counter(v.get("verdict") for v in vs)
print("   claims by verdict on party-a:", ", ".join("%s %d" % kv for kv in sorted(c.items())))
EOF
printf '   ledger sizes: party-a %s, party-b %s\n' \
    "$(da --json stats | json 'd["ledger_size"]')" "$(db --json stats | json 'd["ledger_size"]')"
say "look further: http://127.0.0.1:$port_a/detente/v1/verdicts (party-a), /detente/v1/ledger/sth"
exit 0
