#!/bin/bash
# detente validate: output lines, --json, JSON lines with a bad line, gzip,
# stdin, and the exit codes (0 valid, 1 invalid, 2 usage, 3 I/O).
set -uo pipefail
: "${DETENTE_SRC:?}" "${DETENTE_BIN:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

ex="$DETENTE_SRC/tests/data/stix/cti-documentation/sighting-of-observed-data.json"
out=$("$DETENTE_BIN" validate "$ex") || fail "valid bundle exits $?"
[ "$(grep -c '^OK ' <<<"$out")" = 8 ] || fail "expected 8 OK lines, got: $out"
grep -q '^OK file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d$' <<<"$out" || fail "missing OK <id> line"

gzip -c "$ex" > "$T/b.json.gz"
"$DETENTE_BIN" validate "$T/b.json.gz" >/dev/null || fail "gzip input"
"$DETENTE_BIN" validate - < "$ex" >/dev/null || fail "stdin input"

U=6b0e7a6e-5b3a-4c1e-9d6e-1f2a3b4c5d6e
cat > "$T/l.jsonl" <<JL
{"type":"ipv4-addr","id":"ipv4-addr--$U","value":"10.0.0.1"}
{"type":"ipv4-addr","id":"ipv4-addr--$U","value":"10.0.0.300"}
{"type": oops
{"type":"domain-name","id":"domain-name--$U","value":"example.com"}
JL
out=$("$DETENTE_BIN" validate "$T/l.jsonl"); rc=$?
[ $rc = 1 ] || fail "invalid input exits $rc"
grep -q '^INVALID line 2: value: not an IPv4 address' <<<"$out" || fail "line 2 report: $out"
grep -q '^INVALID line 3 column' <<<"$out" || fail "line 3 report: $out"
[ "$(grep -c '^OK ' <<<"$out")" = 2 ] || fail "the good lines still pass: $out"

out=$("$DETENTE_BIN" validate --json "$T/l.jsonl")
/usr/bin/python3 - "$out" <<'PY' || fail "json output: $out"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r["valid"] for r in rows] == [True, False, False, True], rows
assert rows[1]["where"] == "line 2" and rows[1]["id"].startswith("ipv4-addr--"), rows[1]
assert rows[1]["error"].startswith("value:"), rows[1]
assert rows[0]["error"] is None
PY

"$DETENTE_BIN" validate >/dev/null 2>&1; [ $? = 2 ] || fail "no file is a usage error"
"$DETENTE_BIN" validate --bogus x >/dev/null 2>&1; [ $? = 2 ] || fail "unknown option is a usage error"
"$DETENTE_BIN" validate "$T/missing.json" >/dev/null 2>&1; [ $? = 3 ] || fail "missing file exits 3"
echo '{"type":"campaign","id":"campaign--'$U'","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"c"}' > "$T/c.json"
"$DETENTE_BIN" validate "$T/c.json" >/dev/null; [ $? = 1 ] || fail "missing spec_version is invalid by default"
"$DETENTE_BIN" validate --assume-spec-version "$T/c.json" >/dev/null || fail "--assume-spec-version"
echo "ok"
