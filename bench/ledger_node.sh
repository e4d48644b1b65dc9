#!/bin/sh
# bench/ledger_node.sh: the ledger commands on a node of N objects.
# bench_gen_stix writes N deterministic indicators, `detente import` stores
# them (one leaf each), then each command is timed: ledger verify (the whole
# recomputation: rows, leaves, subtrees, heads), ledger sth (first: issues
# and signs a head; second: served as kept), ledger prove, ledger bundle and
# check-bundle. Prints seconds and leaves/s; asserts nothing.
# Usage: bench/ledger_node.sh [--count N]   (default 50000)
# Env: DETENTE_BUILD (default ./build), BENCH_DIR (default a fresh /tmp dir).
set -eu
count=50000
[ "${1:-}" = "--count" ] && count=$2
build=${DETENTE_BUILD:-./build}
dir=${BENCH_DIR:-$(mktemp -d /tmp/detente-bench-ledger-XXXXXX)}
bin=$build/detente
export DETENTE_HOME=$dir/node
t() { # t LABEL CMD...: seconds of wall time
    label=$1; shift
    s=$(date +%s.%N); "$@" >"$dir/out" 2>&1; e=$(date +%s.%N)
    echo "$label $(echo "$e - $s" | bc)"
}
"$build/bench_gen_stix" --count "$count" --files 1 --prefix "$dir/in" >/dev/null
"$bin" init --name bench >/dev/null
echo "import $(t x "$bin" import "$dir"/in* | cut -d' ' -f2) s for $count objects"
leaves=$("$bin" --json stats | sed 's/.*"ledger_size":\([0-9]*\).*/\1/')
r=$(t x "$bin" ledger sth | cut -d' ' -f2); echo "ledger sth (issue a head): $r s"
r=$(t x "$bin" ledger sth | cut -d' ' -f2); echo "ledger sth (kept head):    $r s"
r=$(t x "$bin" ledger verify | cut -d' ' -f2)
echo "ledger verify: $r s for $leaves leaves ($(echo "$leaves / $r" | bc) leaves/s): $(cat "$dir/out")"
id=$("$bin" export | grep -o '"id":"indicator--[^"]*"' | head -1 | cut -d'"' -f4)
r=$(t x "$bin" ledger prove "$id" | cut -d' ' -f2); echo "ledger prove: $r s"
r=$(t x "$bin" ledger bundle "$id" --output "$dir/b.json" | cut -d' ' -f2); echo "ledger bundle: $r s"
r=$(t x "$bin" ledger check-bundle "$dir/b.json" --key "$DETENTE_HOME/key.public" | cut -d' ' -f2)
echo "ledger check-bundle: $r s ($(cat "$dir/out" | cut -c1-3))"
[ -z "${BENCH_DIR:-}" ] && rm -rf "$dir"
exit 0
