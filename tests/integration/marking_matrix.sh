#!/usr/bin/env bash
# Markings and access control on every read path (issue 9): objects at
# every TLP level (CLEAR, GREEN, AMBER, AMBER+STRICT, RED, unmarked = the
# node's default, mixed object markings, TLP 1.0 ids), GREEN objects with a
# granular marking at each level on their description, objects signed by
# another party, and an object whose newer version is RED; read by local
# accounts of every clearance, peer accounts, an account without a grant,
# and anonymous callers, through TAXII objects (paged), object, versions,
# manifest, the ledger entries and proofs, verdicts and reliability, and
# `detente export` (the operator sees all). Nothing above a requester's
# clearance may be served: no object, no id, no date in a header, no
# `more` hint, no ledger leaf bytes, no verdict or count; everything at or
# below it is, redacted where granular markings say so, and never with a
# signature that would fail. Bash drives the node; tests/integration/
# marking_matrix.py (curl for every request, python3 for the JSON checks)
# holds the matrix.
set -euo pipefail
: "${DETENTE_BIN:?}" "${DETENTE_SRC:?}"
WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
export DETENTE_WARNINGLISTS=$DETENTE_SRC/data/warninglists/lists
dt() { "$DETENTE_BIN" --home "$WORK/node" "$@"; }
other() { "$DETENTE_BIN" --home "$WORK/other" "$@"; }

dt init --name party-main >/dev/null 2>&1
other init --name party-other >/dev/null 2>&1
grep -q '^default_marking *= *amber$' "$WORK/node/detente.conf" || { echo "FAIL: the node's default is not amber" >&2; exit 1; }
dt collection add intel --title Intel >/dev/null
# local accounts at each clearance, peer accounts, an account with no grant
for lv in clear green amber amber+strict red; do
    name=u-${lv/+/-}
    echo "pw-$name-long" | dt user add "$name" --password-stdin --max-marking "$lv" >/dev/null
    dt grant "$name" intel read >/dev/null
done
dt grant u-green intel read-write >/dev/null
for lv in green amber+strict red; do
    name=p-${lv/+/-}
    echo "pw-$name-long" | dt user add "$name" --password-stdin --max-marking "$lv" --peer >/dev/null
    dt grant "$name" intel read >/dev/null
done
echo "pw-u-none-long" | dt user add u-none --password-stdin --max-marking red >/dev/null

# the objects: ours (signed by this node on import) and the other party's
python3 "$DETENTE_SRC/tests/integration/marking_matrix.py" gen "$WORK"
dt import --collection intel "$WORK/ours.jsonl" >/dev/null
other import "$WORK/theirs.jsonl" >/dev/null
other export --type indicator >"$WORK/theirs-signed.json"
dt import --collection intel "$WORK/theirs-signed.json" >/dev/null

# the operator: export serves everything, signed
dt export --collection intel --all-versions >"$WORK/export.json"
dt --json stats >"$WORK/stats.json"

"$DETENTE_BIN" --home "$WORK/node" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    [ -s "$WORK/serve.out" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
    sleep 0.05
done
URL=$(head -1 "$WORK/serve.out")
python3 "$DETENTE_SRC/tests/integration/marking_matrix.py" check "$WORK" "${URL%/taxii2/}"
