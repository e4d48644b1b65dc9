#!/usr/bin/env bash
# detente pattern: the exit-code contract of check, match and explain.
set -u
BIN=${DETENTE_BIN:?}
SRC=${DETENTE_SRC:?}
fails=0
expect() { # expected-code description command...
    local want=$1 what=$2; shift 2
    "$@" >/tmp/pattern_cli.$$.out 2>/tmp/pattern_cli.$$.err
    local got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: $what: exit $got, want $want"; cat /tmp/pattern_cli.$$.err; fails=$((fails+1))
    fi
}
expect 0 "check valid" "$BIN" pattern check "[domain-name:value = 'evil.example']"
expect 1 "check invalid" "$BIN" pattern check "[domain-name:value = ]"
grep -q "column 22" /tmp/pattern_cli.$$.err || { echo "FAIL: no column on stderr"; fails=$((fails+1)); }
expect 2 "check without a pattern" "$BIN" pattern check
expect 2 "unknown subcommand" "$BIN" pattern frobnicate x
expect 0 "explain" "$BIN" pattern explain "[a-b:x = 1] REPEATS 2 TIMES"
grep -q "REPEATS 2 TIMES" /tmp/pattern_cli.$$.out || { echo "FAIL: explain output"; fails=$((fails+1)); }
expect 1 "explain invalid" "$BIN" pattern explain "[a-b:x = 1"
tmp=$(mktemp -d)
cat >"$tmp/bundle.json" <<'JSON'
{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [
 {"type": "observed-data", "spec_version": "2.1", "id": "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf",
  "created": "2016-04-06T19:58:16.000Z", "modified": "2016-04-06T19:58:16.000Z",
  "first_observed": "2015-12-21T19:00:00Z", "last_observed": "2015-12-21T19:00:00Z", "number_observed": 50,
  "object_refs": ["domain-name--ecb120bf-2694-4902-a737-62b74539a41b"]},
 {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--ecb120bf-2694-4902-a737-62b74539a41b", "value": "example.com"}]}
JSON
expect 0 "match" "$BIN" pattern match "[domain-name:value = 'example.com'] REPEATS 50 TIMES" "$tmp/bundle.json"
expect 1 "no match" "$BIN" pattern match "[domain-name:value = 'example.org']" "$tmp/bundle.json"
expect 2 "match with invalid pattern" "$BIN" pattern match "[domain-name:value = " "$tmp/bundle.json"
expect 2 "match with missing file" "$BIN" pattern match "[domain-name:value = 'x']" "$tmp/nope.json"
echo '{"not": "a bundle"' >"$tmp/bad.json"
expect 2 "match with bad JSON" "$BIN" pattern match "[domain-name:value = 'x']" "$tmp/bad.json"
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["objects"]))' "$tmp/bundle.json" >"$tmp/array.json" 2>/dev/null &&
    expect 0 "match on a plain array" "$BIN" pattern match "[domain-name:value = 'example.com']" "$tmp/array.json"
rm -rf "$tmp" /tmp/pattern_cli.$$.out /tmp/pattern_cli.$$.err
[ "$fails" = 0 ] && echo "pattern_cli: ok"
exit "$fails"
