#!/usr/bin/env bash
# One claim's verdict from the command line goes through the evidence index
# (docs/verdicts.md "On a node"): `detente verify ID --json` must agree with
# the claim as the full pass lists it (`detente verdicts --json`), stay the
# same after `detente verify --reindex`, and say so when ID is no claim.
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
export DETENTE_HOME=$tmp/a
expect_rc 0 "$bin" init --name party-a

ind=indicator--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7a01
old=indicator--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7a02
cat >"$tmp/objs.json" <<JSON
[
 {"type":"indicator","spec_version":"2.1","id":"$ind","created":"2024-03-01T00:00:00.000Z",
  "modified":"2024-03-01T00:00:00.000Z","pattern":"[domain-name:value = 'one.badexample.net']",
  "pattern_type":"stix","valid_from":"2024-03-01T00:00:00Z",
  "created_by_ref":"identity--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7c01"},
 {"type":"indicator","spec_version":"2.1","id":"$old","created":"2024-03-01T00:00:00.000Z",
  "modified":"2024-04-01T00:00:00.000Z","pattern":"[domain-name:value = 'one.badexample.net']",
  "pattern_type":"stix","valid_from":"2024-03-01T00:00:00Z","revoked":true,
  "created_by_ref":"identity--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7c01"},
 {"type":"sighting","spec_version":"2.1","id":"sighting--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7b01",
  "created":"2024-03-02T00:00:00.000Z","modified":"2024-03-02T00:00:00.000Z",
  "first_seen":"2024-03-02T00:00:00Z","last_seen":"2024-03-02T00:00:00Z","count":3,
  "sighting_of_ref":"$ind","created_by_ref":"identity--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7c02"},
 {"type":"opinion","spec_version":"2.1","id":"opinion--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7d01",
  "created":"2024-03-03T00:00:00.000Z","modified":"2024-03-03T00:00:00.000Z",
  "opinion":"agree","object_refs":["$ind"],
  "created_by_ref":"identity--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7c03"}
]
JSON
expect_rc 0 "$bin" import "$tmp/objs.json"

expect_rc 0 "$bin" --json verify "$ind"
cp "$tmp/out" "$tmp/one.json"
expect_rc 0 "$bin" --json verdicts
cp "$tmp/out" "$tmp/all.json"
python3 - "$tmp/one.json" "$tmp/all.json" "$ind" <<'PY' || fail "verify ID disagrees with verdicts"
import json, sys
one = json.load(open(sys.argv[1])); rows = json.load(open(sys.argv[2]))
row = [r for r in rows if r["id"] == sys.argv[3]][0]
for k, v in row.items():
    assert one[k] == v, (k, one[k], v)
kinds = sorted(e["kind"] for e in one["evidence"])
assert "sighting" in kinds and "opinion" in kinds, kinds
assert "technical:self-contradiction" in kinds, kinds
assert one["sightings"] == 1 and one["opinions"] == 1, one
PY

expect_rc 0 "$bin" --json verify --reindex
python3 -c 'import json,sys; n=json.load(open(sys.argv[1]))["indexed"]; assert n >= 4, n' "$tmp/out" \
    || fail "--reindex did not read the stored versions"
expect_rc 0 "$bin" --json verify "$ind"
cmp -s "$tmp/out" "$tmp/one.json" || fail "verify ID changed after --reindex"
expect_rc 1 "$bin" verify indicator--7c2f0c5e-8f0e-4c39-9d55-0c2a1f3e7aff
grep -q "not a claim" "$tmp/err" || fail "no reason for an unknown claim"
expect_rc 2 "$bin" verify --reindex "$ind"
echo "verify_one_cli: ok"
