#!/usr/bin/env bash
# Verification from the command line, across three parties: party A claims
# values (indicators signed by A), parties B and C report sightings of one
# (signed by B and C on their own nodes, exported, imported into A), A's
# analyst adds an opinion; then `detente verify|verdicts|reliability --json`
# must keep their contracts ({"id","verdict","evidence":[...]}, a list of
# {"source",...}) and every piece of evidence must point to its object,
# signer and ledger leaf. Warninglist hits are on real values (8.8.8.8).
set -euo pipefail
src=${DETENTE_SRC:?}
bin=${DETENTE_BIN:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DETENTE_WARNINGLISTS=$src/data/warninglists/lists
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_rc() { # expect_rc CODE CMD...
    local want=$1; shift
    set +e; "$@" >"$tmp/out" 2>"$tmp/err"; local got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "'$*' exited $got, expected $want"; }
}
idof() { "$bin" --home "$1" --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity"])'; }
passed=0
ok() { passed=$((passed + 1)); }

for p in a b c; do expect_rc 0 "$bin" --home "$tmp/$p" init --name "party-$p"; done
A=$(idof "$tmp/a"); B=$(idof "$tmp/b"); C=$(idof "$tmp/c")

ind=indicator--6b1f0c5e-8f0e-4c39-9d55-0c2a1f3e7a01
dns=indicator--6b1f0c5e-8f0e-4c39-9d55-0c2a1f3e7a02
bad=indicator--6b1f0c5e-8f0e-4c39-9d55-0c2a1f3e7a03
cat >"$tmp/claims.json" <<JSON
[
 {"type":"indicator","spec_version":"2.1","id":"$ind","created":"2024-03-01T00:00:00.000Z",
  "modified":"2024-03-01T00:00:00.000Z","pattern":"[domain-name:value = 'c2.badexample.net']",
  "pattern_type":"stix","valid_from":"2024-03-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"$dns","created":"2024-03-01T00:00:00.000Z",
  "modified":"2024-03-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '8.8.8.8']",
  "pattern_type":"stix","valid_from":"2024-03-01T00:00:00Z"},
 {"type":"indicator","spec_version":"2.1","id":"$bad","created":"2024-03-01T00:00:00.000Z",
  "modified":"2024-03-01T00:00:00.000Z","pattern":"[url:value = 'hxxp://evil.badexample.net/x']",
  "pattern_type":"stix","valid_from":"2024-03-01T00:00:00Z"}
]
JSON
expect_rc 0 "$bin" --home "$tmp/a" import "$tmp/claims.json"
for p in b c; do
    cat >"$tmp/s-$p.json" <<JSON
{"type":"sighting","spec_version":"2.1","id":"sighting--6b1f0c5e-8f0e-4c39-9d55-0c2a1f3e7b0$p",
 "created":"2024-03-02T00:00:00.000Z","modified":"2024-03-02T00:00:00.000Z",
 "first_seen":"2024-03-02T00:00:00Z","last_seen":"2024-03-02T00:00:00Z","count":100,
 "sighting_of_ref":"$ind"}
JSON
    expect_rc 0 "$bin" --home "$tmp/$p" import "$tmp/s-$p.json"
    expect_rc 0 "$bin" --home "$tmp/$p" export --type sighting
    cp "$tmp/out" "$tmp/export-$p.json"
    expect_rc 0 "$bin" --home "$tmp/a" import "$tmp/export-$p.json"
done
export DETENTE_HOME=$tmp/a

# the summary: three claims, one of each of three verdicts
expect_rc 0 "$bin" --json verify
python3 - "$tmp/out" <<'PY' || fail "summary: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["claims"] == 3, d
v = d["verdicts"]
assert v["corroborated"] == 1 and v["likely-benign"] == 1 and v["refuted"] == 1, d
PY
ok

# one claim: the contract, and evidence pointing at signed, ledgered objects
expect_rc 0 "$bin" --json verify "$ind"
python3 - "$tmp/out" "$B" "$C" "$A" <<'PY' || fail "verify $ind: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1])); B, C, A = sys.argv[2:5]
for k in ("id", "verdict", "evidence"):
    assert k in d, k
assert d["verdict"] == "corroborated", d["verdict"]
assert d["source"] == A, d["source"]
s = [e for e in d["evidence"] if e["class"] == "sighting"]
assert sorted(e["source"] for e in s) == sorted([B, C]), s
for e in s:
    o = e["object"]
    assert o["id"].startswith("sighting--") and o["signer"] == e["source"], o
    assert isinstance(o["ledger_leaf"], int) and o["ledger_leaf"] >= 0, o
    assert e["use"] == "support" and e["weight"] > 0, e
PY
ok

# real warninglist hit and a fatal defect
expect_rc 0 "$bin" --json verify "$dns"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="likely-benign"; assert any(e["class"]=="warninglist" and "listed in" in e["message"] for e in d["evidence"]), d' "$tmp/out" || fail "8.8.8.8: $(cat "$tmp/out")"; ok
expect_rc 0 "$bin" --json verify "$bad"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="refuted"; assert any(e.get("fatal") for e in d["evidence"]), d' "$tmp/out" || fail "defanged: $(cat "$tmp/out")"; ok
expect_rc 0 "$bin" verify "$bad"
grep -q "refuted" "$tmp/out" || fail "text verify"; ok

# verdicts filters
expect_rc 0 "$bin" --json verdicts --state likely-benign
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [x["id"] for x in d]==[sys.argv[2]], d' "$tmp/out" "$dns" || fail "verdicts --state: $(cat "$tmp/out")"; ok
expect_rc 0 "$bin" --json verdicts --source "$B"
[ "$(cat "$tmp/out")" = "[]" ] || fail "B made no claims: $(cat "$tmp/out")"; ok
expect_rc 2 "$bin" verdicts --state maybe

# an opinion: signed by this node, ledgered, and counted at once
expect_rc 0 "$bin" --json opinion add "$ind" strongly-disagree --explanation "sinkholed since March"
python3 - "$tmp/out" "$A" "$ind" <<'PY' || fail "opinion: $(cat "$tmp/out")"
import json, sys
o = json.load(open(sys.argv[1]))
assert o["type"] == "opinion" and o["created_by_ref"] == sys.argv[2], o
assert o["object_refs"] == [sys.argv[3]] and o["opinion"] == "strongly-disagree", o
ext = [v for v in o["extensions"].values() if "signature" in v]
assert ext and ext[0]["signer"] == sys.argv[2], o
PY
ok
expect_rc 0 "$bin" --json verify "$ind"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="disputed", d["verdict"]; op=[e for e in d["evidence"] if e["class"]=="opinion"]; assert op and op[0]["use"]=="against" and op[0]["object"]["ledger_leaf"] is not None, op' "$tmp/out" || fail "after opinion: $(cat "$tmp/out")"; ok
expect_rc 1 "$bin" opinion add indicator--00000000-0000-4000-8000-000000000000 agree --explanation x
expect_rc 2 "$bin" opinion add "$ind" maybe --explanation x
expect_rc 2 "$bin" opinion add "$ind" agree
expect_rc 1 "$bin" verify indicator--00000000-0000-4000-8000-000000000000; ok

# reliability: a list of {"source", ...} for A, the only source of claims
expect_rc 0 "$bin" --json reliability --months 3
python3 - "$tmp/out" "$A" <<'PY' || fail "reliability: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and [x["source"] for x in d] == [sys.argv[2]], d
r = d[0]
assert r["refuted"] == 2 and r["disputed"] == 1 and r["letter"] == "F", r
assert 0 < r["interval"][0] <= r["mean"] <= r["interval"][1] < 1, r
assert len(r["history"]) == 3 and all("as_of" in h for h in r["history"]), r
PY
ok
expect_rc 0 "$bin" reliability
grep -q "$A" "$tmp/out" || fail "text reliability"; ok

# the same verdicts when judged as of a fixed instant, twice
expect_rc 0 "$bin" --json verdicts --as-of 2024-06-01T00:00:00Z
cp "$tmp/out" "$tmp/v1"
expect_rc 0 "$bin" --json verdicts --as-of 2024-06-01T00:00:00Z
cmp -s "$tmp/out" "$tmp/v1" || fail "verdicts not reproducible"; ok
expect_rc 2 "$bin" verdicts --as-of yesterday

echo "verify_cli: $passed checks passed"
