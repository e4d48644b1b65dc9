# Shared by tests/integration/federation_*.sh: nodes in a temporary
# directory, each with its own data directory, and each served on its own
# loopback port by tests/integration/federation_fake_node.py (the node's
# real store and ledger over HTTP) until `detente serve` has the ledger API.
set -u
: "${DETENTE_BIN:?}" "${DETENTE_SRC:?}"
WORK=$(mktemp -d /tmp/detente-fed.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
[ -n "${FED_KEEP:-}" ] && trap - EXIT
FAKE="$DETENTE_SRC/tests/integration/federation_fake_node.py"
SAMPLES="$DETENTE_SRC/data/samples"
fail() { echo "FAIL: $*" >&2; for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "== $f"; tail -5 "$f"; } >&2; done; exit 1; }
ok() { echo "ok - $*"; }
d() { local home=$1; shift; "$DETENTE_BIN" --home "$WORK/$home" "$@"; }
new_node() { "$DETENTE_BIN" --home "$WORK/$1" init --name "$1" >/dev/null 2>&1; [ -f "$WORK/$1/key.public" ] || fail "init $1"; }
key_of() { cat "$WORK/$1/key.public"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# serve NODE [extra fake args...]: sets PORT_<NODE>
serve() {
    local node=$1; shift
    local port; port=$(free_port)
    python3 "$FAKE" "$WORK/$node" "$port" "$DETENTE_BIN" "$@" >"$WORK/serve-$node.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$node=$!"
    for _ in $(seq 50); do grep -q ready "$WORK/serve-$node.log" 2>/dev/null && break; sleep 0.1; done
    grep -q ready "$WORK/serve-$node.log" || fail "serving $node"
    eval "PORT_$node=$port"
}
# versions NODE COLLECTION: sorted "id modified sha256" of live versions
versions() {
    python3 - "$WORK/$1/detente.db" "$2" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for r in c.execute("SELECT id, modified, hex(sha256) FROM objects WHERE collection=? AND deleted=0 AND type != 'extension-definition' ORDER BY 1,2", (sys.argv[2],)):
    print(*r)
PY
}
count() { versions "$1" "$2" | wc -l; }
ident() { d "$1" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["identity"])'; }
