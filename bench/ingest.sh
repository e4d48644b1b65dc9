#!/bin/sh
# bench/ingest.sh: how fast objects enter a node, next to SQLite's own ceiling.
#
# 1. bench_gen_stix writes N deterministic STIX indicators (plus 8
#    identities) as bundles under detente's 64 MiB per-text limit, and the
#    same objects as JSON lines.
# 2. `detente import` of all bundles into a fresh node (validate, pattern
#    check, sign, JCS, SHA-256, store, ledger), timed end to end.
# 3. The ceiling: the sqlite3 CLI bulk-loads the same JSON lines in one
#    transaction into a table with our objects table's indexes ((collection,
#    id, modified) unique, (collection, date_added), (collection, type,
#    date_added), (id)), with id, type and modified taken out of each row by
#    SQLite's json_extract, WAL and synchronous=FULL as our store uses.
# 4. bench_ingest: the same objects through node_ingest_text in envelopes of
#    100 (what a TAXII POST does per request), signing and verifying.
# Prints objects/s, MB/s and the ratio to the ceiling; asserts nothing.
#
# Usage: bench/ingest.sh [--large] [--count N] [--no-post]
#   default 100000 objects (a few minutes at most); --large: 1000000.
# Env: DETENTE_BUILD (default ./build), BENCH_DIR (default a fresh /tmp dir).
set -eu

count=100000
post=1
while [ $# -gt 0 ]; do
    case "$1" in
    --large) count=1000000 ;;
    --count) count="$2"; shift ;;
    --no-post) post=0 ;;
    *) echo "usage: bench/ingest.sh [--large] [--count N] [--no-post]" >&2; exit 2 ;;
    esac
    shift
done

build="${DETENTE_BUILD:-./build}"
for b in detente bench_gen_stix bench_ingest; do
    [ -x "$build/$b" ] || { echo "bench/ingest.sh: $build/$b missing: run make first" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "bench/ingest.sh: the sqlite3 CLI is needed" >&2; exit 2; }

dir="${BENCH_DIR:-$(mktemp -d /tmp/bench_ingest.XXXXXX)}"
mkdir -p "$dir"
[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$dir"' EXIT

now() { date +%s.%N; }
cpu() { awk '{ printf "%.2f", $1 + $2 }' "$1"; } # user + sys seconds from /usr/bin/time
rate() { awk -v n="$1" -v b="$2" -v t="$3" \
    'BEGIN { printf "%8.2f s  %9.0f objects/s  %6.1f MB/s", t, n / t, b / t / 1e6 }'; }

# about 1 kB per object: 40k objects per bundle keeps each under 64 MiB
files=$(( (count + 39999) / 40000 ))
"$build/bench_gen_stix" --count "$count" --files "$files" --prefix "$dir/stix" \
    --rows "$dir/rows.jsonl"
objects=$((count + 8))
bytes=$(cat "$dir"/stix-*.json | wc -c)
echo "bench/ingest.sh: $objects objects, $bytes bytes in $files bundles ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"

# detente import
"$build/detente" --home "$dir/node" init >/dev/null
t0=$(now)
/usr/bin/time -f "%U %S" -o "$dir/import.cpu" \
    "$build/detente" --home "$dir/node" import "$dir"/stix-*.json >"$dir/import.out"
t1=$(now)
dt_import=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "  detente import             $(rate "$objects" "$bytes" "$dt_import")  cpu $(cpu "$dir/import.cpu") s  ($(cat "$dir/import.out"))"

# the sqlite3 ceiling
{
    printf 'PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\n'
    printf 'CREATE TABLE objects(rowid INTEGER PRIMARY KEY, collection TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, modified TEXT NOT NULL, date_added INTEGER NOT NULL, json TEXT);\n'
    printf 'CREATE UNIQUE INDEX objects_version ON objects(collection, id, modified);\n'
    printf 'CREATE INDEX objects_page ON objects(collection, date_added);\n'
    printf 'CREATE INDEX objects_type ON objects(collection, type, date_added);\n'
    printf 'CREATE INDEX objects_id ON objects(id);\n'
    printf 'BEGIN;\nCREATE TEMP TABLE raw(j TEXT);\n.mode ascii\n.separator "\037" "\\n"\n'
    printf '.import %s raw\n' "$dir/rows.jsonl"
    printf "INSERT INTO objects(collection, id, type, modified, date_added, json) SELECT 'default', json_extract(j, '\$.id'), json_extract(j, '\$.type'), json_extract(j, '\$.modified'), rowid, j FROM raw;\n"
    printf 'COMMIT;\n'
} >"$dir/ceiling.sql"
t0=$(now)
/usr/bin/time -f "%U %S" -o "$dir/sql.cpu" sqlite3 "$dir/ceiling.db" <"$dir/ceiling.sql" >/dev/null
t1=$(now)
dt_sql=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
rows=$(sqlite3 "$dir/ceiling.db" 'SELECT count(*) FROM objects')
echo "  sqlite3 bulk insert        $(rate "$objects" "$bytes" "$dt_sql")  cpu $(cpu "$dir/sql.cpu") s  ($rows rows)"
awk -v a="$dt_import" -v b="$dt_sql" \
    'BEGIN { printf "  detente import / sqlite3 ceiling: %.2f (%.1fx slower)\n", b / a, a / b }'

if [ "$post" = 1 ]; then
    mkdir -p "$dir/post"
    "$build/bench_ingest" --envelope 100 --dir "$dir/post" "$dir"/stix-*.json
fi
