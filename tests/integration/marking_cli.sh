#!/usr/bin/env bash
# `detente marking show ID [--user NAME | --peer NAME] --json`: the JSON
# contract (id, collection, tlp, why, object_markings, granular_markings,
# signer, origin, requester{name, kind, clearance, result, reason}) and
# that its result agrees with what the node serves: visible, redacted or
# hidden, for local accounts, peer accounts (RED never; another party's
# AMBER never), and an account without a grant. Exit codes: 0 shown, 1 no
# such object or account, 2 usage.
set -euo pipefail
: "${DETENTE_BIN:?}" "${DETENTE_SRC:?}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
d() { "$DETENTE_BIN" --home "$WORK/node" "$@"; }
o() { "$DETENTE_BIN" --home "$WORK/other" "$@"; }
uid() { python3 -c 'import uuid,sys; print("indicator--" + str(uuid.uuid5(uuid.NAMESPACE_URL, sys.argv[1])))' "$1"; }
GREEN=marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb
AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
RED=marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1
RED1=marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed
ind() { # ind NAME EXTRA-JSON
    printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"%s","description":"d","pattern":"[domain-name:value = '"'"'x.example.org'"'"']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"%s}\n' "$(uid "$1")" "$1" "$2"
}
d init --name party-main >/dev/null 2>&1
o init --name party-other >/dev/null 2>&1
{
    ind green ",\"object_marking_refs\":[\"$GREEN\"]"
    ind mixed ",\"object_marking_refs\":[\"$GREEN\",\"$RED1\"]"
    ind unmarked ""
    ind granular ",\"object_marking_refs\":[\"$GREEN\"],\"granular_markings\":[{\"marking_ref\":\"$RED\",\"selectors\":[\"description\"]}]"
} >"$WORK/ours.jsonl"
d import "$WORK/ours.jsonl" >/dev/null
ind theirs ",\"object_marking_refs\":[\"$AMBER\"]" >"$WORK/theirs.jsonl"
o import "$WORK/theirs.jsonl" >/dev/null
o export --type indicator >"$WORK/theirs.json"
d import "$WORK/theirs.json" >/dev/null
for a in "u-green green" "u-amber amber" "u-red red"; do
    set -- $a
    echo "pw-$1-long" | d user add "$1" --password-stdin --max-marking "$2" >/dev/null 2>&1
    d grant "$1" default read >/dev/null 2>&1
done
echo "pw-p-long" | d user add p-red --password-stdin --max-marking red --peer >/dev/null 2>&1
d grant p-red default read >/dev/null 2>&1
echo "pw-n-long" | d user add u-none --password-stdin --max-marking red >/dev/null 2>&1
ME=$(d --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity"])')
OTHER=$(o --json stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity"])')

# show OBJECT [--user|--peer NAME] -> checks the contract, prints tlp/result
show() {
    local key=$1; shift
    d --json marking show "$(uid "$key")" "$@" >"$WORK/out.json" 2>"$WORK/err" || fail "marking show $key $*: $(cat "$WORK/err")"
    python3 - "$WORK/out.json" "$(uid "$key")" "$ME" "$OTHER" "$@" <<'PY' || fail "contract of marking show $key $*: $(cat "$WORK/out.json")"
import json, sys
j = json.load(open(sys.argv[1]))
want_id, me, other = sys.argv[2:5]
args = sys.argv[5:]
for k, t in [("id", str), ("collection", str), ("tlp", str), ("why", str), ("object_markings", list),
             ("granular_markings", list), ("signer", str), ("origin", str)]:
    assert isinstance(j.get(k), t), k
assert j["id"] == want_id and j["collection"] == "default"
assert j["tlp"] in ("clear", "green", "amber", "amber+strict", "red")
assert j["signer"] in (me, other)
assert j["origin"] == ("published by this node" if j["signer"] == me else "received from another party")
for m in j["object_markings"]:
    assert set(m) == {"marking_ref", "tlp"}
for g in j["granular_markings"]:
    assert set(g) == {"marking_ref", "tlp", "selectors"} and isinstance(g["selectors"], list)
if args:
    r = j["requester"]
    assert set(r) == {"name", "kind", "clearance", "result", "reason"}, r
    assert r["name"] == args[1] and r["kind"] == ("peer" if args[0] == "--peer" else "account")
    assert r["result"] in ("visible", "redacted", "hidden") and r["reason"]
else:
    assert "requester" not in j
print(j["tlp"], j.get("requester", {}).get("result", "-"), j.get("requester", {}).get("clearance", "-"))
PY
}
expect() { # expect "TLP RESULT CLEARANCE" OBJECT [--user|--peer NAME]
    local want=$1; shift
    local got; got=$(show "$@")
    [ "$got" = "$want" ] || fail "marking show $*: got '$got', expected '$want'"
}
expect "green - -" green
expect "red - -" mixed
expect "amber - -" unmarked
show unmarked >/dev/null
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "default_marking" in j["why"] and j["object_markings"] == [], j' "$WORK/out.json" || fail "unmarked: why"
show mixed >/dev/null
python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["object_markings"]; assert [x["tlp"] for x in m] == ["green", "red"], m' "$WORK/out.json" || fail "mixed: object_markings"
expect "green visible green" green --user u-green
expect "red hidden green" mixed --user u-green
expect "red visible red" mixed --user u-red
expect "amber hidden green" unmarked --user u-green
expect "amber visible amber" unmarked --user u-amber
expect "green redacted amber" granular --user u-amber
expect "green visible red" granular --user u-red
expect "red hidden red" mixed --peer p-red
expect "amber visible red" unmarked --peer p-red
expect "amber hidden red" theirs --peer p-red
expect "amber visible amber" theirs --user u-amber
expect "green hidden red" green --user u-none
show granular >/dev/null
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["granular_markings"]; assert g == [{"marking_ref": sys.argv[2], "tlp": "red", "selectors": ["description"]}], g' "$WORK/out.json" "$RED" || fail "granular_markings"
show theirs --peer p-red >/dev/null
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["requester"]; assert "relayed" in r["reason"], r' "$WORK/out.json" || fail "relay reason"
show mixed --peer p-red >/dev/null
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["requester"]; assert "RED" in r["reason"], r' "$WORK/out.json" || fail "RED reason"

# the text form says the same
d marking show "$(uid granular)" --user u-amber >"$WORK/text" || fail "text form"
grep -q "redacted" "$WORK/text" && grep -q "level      green" "$WORK/text" || fail "text form: $(cat "$WORK/text")"

# errors and exit codes
set +e
d marking show indicator--00000000-0000-4000-8000-000000000000 >/dev/null 2>&1; [ $? = 1 ] || fail "unknown object: exit code"
d marking show "$(uid green)" --user nobody >/dev/null 2>&1; [ $? = 1 ] || fail "unknown account: exit code"
d marking show >/dev/null 2>&1; [ $? = 2 ] || fail "no id: exit code"
d marking frob >/dev/null 2>&1; [ $? = 2 ] || fail "unknown subcommand: exit code"
d marking show "$(uid green)" --user a --peer b >/dev/null 2>&1; [ $? = 2 ] || fail "--user and --peer: exit code"
set -e
echo "all passed"
