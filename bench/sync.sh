#!/usr/bin/env bash
# bench/sync.sh: federation sync throughput on loopback, with every check on
# (heads, consistency, entries pass or inclusion proofs, object signatures).
#   1. initial sync of N objects (default 100000) from node A to node B: objects/s
#   2. incremental sync of 1000 new objects on top of BASE (default 1000000)
# A is a real `detente serve` (B reads it with a peer account); B runs
# `detente sync`. Prints figures; asserts nothing.
# usage: bench/sync.sh [N] [BASE]      (env DETENTE_BIN, default build/detente)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${DETENTE_BIN:-$SRC/build/detente}
N=${1:-100000}
BASE=${2:-1000000}
INC=1000
W=$(mktemp -d /tmp/detente-bench-sync.XXXXXX)
trap 'kill $SERVE_PID 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
gen() { python3 "$SRC/tests/integration/federation_gen.py" "$@"; }
now() { date +%s.%N; }
import_n() { # import_n COUNT SEED: in chunks of 50k
    local left=$1 part=0
    while [ "$left" -gt 0 ]; do
        local c=$(( left > 50000 ? 50000 : left ))
        gen "$c" "$2-$part" >"$W/chunk.jsonl"
        "$BIN" --home "$W/a" import "$W/chunk.jsonl" >/dev/null
        left=$(( left - c )); part=$(( part + 1 ))
    done
}
"$BIN" --home "$W/a" init >/dev/null 2>&1 || true
"$BIN" --home "$W/b" init >/dev/null 2>&1 || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/^listen = .*/listen = 127.0.0.1:$port/; s/^interval = .*/interval = 0/" "$W/a/detente.conf"
echo 'bench peer password' | "$BIN" --home "$W/a" user add b --password-stdin --peer --max-marking amber >/dev/null 2>&1
"$BIN" --home "$W/a" grant b default read >/dev/null 2>&1
"$BIN" --home "$W/a" serve >"$W/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/detente/v1/health" >/dev/null && break; sleep 0.1; done
echo 'bench peer password' | "$BIN" --home "$W/b" peer add a "http://127.0.0.1:$port/taxii2/" \
    --key "$(cat "$W/a/key.public")" --user b --password-stdin 2>/dev/null

echo "preparing: $N objects on node A"
import_n "$N" initial
t0=$(now)
out=$("$BIN" --home "$W/b" sync a --page 1000 --quiet)
t1=$(now)
echo "$out"
python3 -c "n=$N; s=$t1-$t0; print('initial sync: %d objects in %.1f s = %.0f objects/s (all checks on)' % (n, s, n/s))"

if [ "$BASE" -gt "$N" ]; then
    echo "preparing: $BASE objects on both nodes"
    import_n $(( BASE - N )) base
    "$BIN" --home "$W/b" sync a --page 1000 --quiet >/dev/null
fi
import_n "$INC" increment
t0=$(now)
out=$("$BIN" --home "$W/b" sync a --page 1000 --quiet)
t1=$(now)
echo "$out"
python3 -c "s=$t1-$t0; print('incremental sync: %d new objects on top of %d in %.2f s' % ($INC, max($BASE, $N), s))"
