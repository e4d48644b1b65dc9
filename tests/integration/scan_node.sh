#!/bin/bash
# detente scan against the node's own indicators: only active ones (not
# revoked, not expired), the newest version of an id held in two
# collections, and --record-sightings: signed sightings with observed-data
# and SCOs stored through the node (ledgered; for a pattern evaluated on
# each record, the value it tested: a certificate's subject, a
# connection's address), a second run over the same files recording
# nothing.
set -euo pipefail
BIN=${DETENTE_BIN:?}
SRC=${DETENTE_SRC:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export DETENTE_HOME=$T/node
fail() { echo "FAIL: $*" >&2; exit 1; }
"$BIN" init --name scanner > /dev/null
I=indicator--00000000-0000-4000-8000-00000000000
mk() { # id modified pattern [extra]
    printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2024-01-01T00:00:00.000Z","modified":"%s","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":"%s"%s}\n' "$1" "$2" "$3" "${4:-}"
}
{
mk ${I}1 2024-01-01T00:00:00.000Z "[domain-name:value = 'wrccdc.org'] OR [ipv4-addr:value = '134.71.0.0/16']"
mk ${I}2 2024-01-01T00:00:00.000Z "[domain-name:value = 'wrccdc.org']" ',"revoked":true'
mk ${I}3 2024-01-01T00:00:00.000Z "[domain-name:value = 'wrccdc.org']" ',"valid_until":"2024-06-01T00:00:00Z"'
mk ${I}4 2024-01-01T00:00:00.000Z "[x509-certificate:hashes.'SHA-256' = 'b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe']"
mk ${I}5 2024-01-01T00:00:00.000Z "[domain-name:value = 'nothing-matches-this.example']"
# evaluated on each record: their sightings hold the value the pattern tested
mk ${I}6 2024-01-01T00:00:00.000Z "[x509-certificate:subject LIKE '%O=Palo Alto Networks%']"
mk ${I}7 2024-01-01T00:00:00.000Z "[network-traffic:dst_port = 53 AND network-traffic:dst_ref.value = '10.0.0.100']"
} > "$T/a.jsonl"
# a newer version of indicator 5 in another collection: it now matches
mk ${I}5 2024-02-01T00:00:00.000Z "[domain-name:value = 'ise.wrccdc.org']" > "$T/b.jsonl"
"$BIN" import "$T/a.jsonl" > /dev/null
"$BIN" import --collection peer-feed "$T/b.jsonl" > /dev/null

LOGS=("$SRC/tests/data/zeek/dns.log.gz" "$SRC/tests/data/zeek/ssl.log.gz" "$SRC/tests/data/zeek/x509.log.gz")
"$BIN" scan --threads 2 "${LOGS[@]}" > "$T/scan.out" 2> "$T/scan.err"
grep -q "2 collections, 7 indicators, 3 indexed.*2 patterns evaluated on each record" "$T/scan.err" || fail "node load: $(cat "$T/scan.err")"
grep -q "1 revoked, 1 not active now" "$T/scan.err" || fail "node skips: $(cat "$T/scan.err")"
for k in 2 3; do grep -q "\"indicator\":\"${I}$k\"" "$T/scan.out" && fail "indicator $k should not match"; done
for k in 1 4 5 6 7; do grep -q "\"indicator\":\"${I}$k\"" "$T/scan.out" || fail "indicator $k should match"; done
grep -q '"sightings_recorded":0,' "$T/scan.out" || fail "sightings without the option"

# record: one sighting per matched indicator, signed, ledgered
before=$("$BIN" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["ledger_size"])')
"$BIN" scan --record-sightings "${LOGS[@]}" > "$T/rec.out" 2> "$T/rec.err"
N=$(sed -n 's/.* \([0-9]*\) sightings recorded in collection default, 0 already held.*/\1/p' "$T/rec.err")
[ -n "$N" ] && [ "$N" -ge 4 ] || fail "record: $(cat "$T/rec.err")"
after=$("$BIN" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["ledger_size"])')
[ "$after" -gt "$before" ] || fail "ledger did not grow"
"$BIN" export > "$T/all.json"
python3 - "$T/all.json" "$T/scan.out" "$N" <<'PY' || fail "sighting content"
import json, sys, collections
objs = json.load(open(sys.argv[1]))["objects"]
byid = {o["id"]: o for o in objs}
me = [o for o in objs if o["type"] == "identity"][0]["id"]
matches = [json.loads(l) for l in open(sys.argv[2]) if not l.startswith('{"summary"')]
# expected count: distinct (file, line) per indicator, per file
lines = collections.defaultdict(set)
for m in matches:
    lines[(m["indicator"], m["file"])].add(m["line"])
sights = [o for o in objs if o["type"] == "sighting"]
assert len(sights) == len(lines) == int(sys.argv[3]), (len(sights), len(lines))
counts = sorted(len(v) for v in lines.values())
assert sorted(s["count"] for s in sights) == counts, (sorted(s["count"] for s in sights), counts)
for s in sights:
    assert s["where_sighted_refs"] == [me] and s["created_by_ref"] == me
    assert s["first_seen"] <= s["last_seen"] and s["first_seen"].startswith("2018-03-24T")
    assert "extensions" in s  # signed
    od = byid[s["observed_data_refs"][0]]
    assert od["number_observed"] == s["count"]
    for r in od["object_refs"]:
        sco = byid[r]
        assert sco["type"] in ("domain-name", "ipv4-addr", "x509-certificate"), sco
# the patterns evaluated on records: the tested subject, the connection's address
def scos(ind):
    out = []
    for s in sights:
        if s["sighting_of_ref"] == ind:
            out += [byid[r] for r in byid[s["observed_data_refs"][0]]["object_refs"]]
    return out
I = "indicator--00000000-0000-4000-8000-00000000000"
x = scos(I + "6")
assert x and all(o["type"] == "x509-certificate" and "O=Palo Alto Networks" in o["subject"]
                 for o in x), x
a = scos(I + "7")
assert a and all(o["type"] == "ipv4-addr" and o["value"] == "10.0.0.100" for o in a), a
PY
# the same files again: nothing new
"$BIN" scan --record-sightings "${LOGS[@]}" > /dev/null 2> "$T/rec2.err"
grep -q "0 sightings recorded in collection default, $N already held" "$T/rec2.err" \
    || fail "re-run: $(cat "$T/rec2.err")"
again=$("$BIN" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["ledger_size"])')
[ "$again" = "$after" ] || fail "ledger grew on a re-run ($after -> $again)"
# a changed file is a new sighting
zcat "$SRC/tests/data/zeek/dns.log.gz" | sed -n 1,300p > "$T/part.log"
"$BIN" scan --record-sightings "$T/part.log" > /dev/null 2> "$T/rec3.err"
grep -Eq "[1-9] sightings recorded" "$T/rec3.err" || fail "new file: $(cat "$T/rec3.err")"
# --indicators and --record-sightings do not mix
set +e
"$BIN" scan --record-sightings --indicators "$T/a.jsonl" "$T/part.log" > /dev/null 2>&1
rc=$?
set -e
[ $rc -eq 2 ] || fail "--indicators with --record-sightings exit $rc"
echo "1 passed, 0 failed"
