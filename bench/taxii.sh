#!/usr/bin/env bash
# TAXII server benchmark with wrk over loopback. Prints, for GET objects
# (limit 100) on collections of 1k (and with --big, 1M) objects, requests/s
# and p50/p99 latency at 1, 16 and 64 connections; then POST ingest
# objects/s with envelopes of 100 new indicators, counted from the objects
# the node really stored (and never above what wrk saw acknowledged).
# Figures only, no asserts.
#
#   bench/taxii.sh [--big] [--seconds N]     (DETENTE_BIN: default build/detente)
#
# Clients authenticate with a bearer token (a SHA-256 lookup), as scripts and
# peers do; HTTP Basic costs one Argon2id check per request by design.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${DETENTE_BIN:-$PWD/build/detente}
BIG=0
SECS=5
while [ $# -gt 0 ]; do
    case $1 in
    --big) BIG=1 ;;
    --seconds) SECS=$2; shift ;;
    *) echo "usage: bench/taxii.sh [--big] [--seconds N]" >&2; exit 2 ;;
    esac
    shift
done
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no binary at $BIN (run make)" >&2; exit 1; }
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -TERM $PID 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
H=$W/node
dt() { "$BIN" --home "$H" "$@"; }
dt init >/dev/null 2>&1 || [ -f "$H/detente.conf" ]
echo 'bench-password' | dt user add bench --password-stdin --max-marking red 2>/dev/null
for c in c1k c1m ingest; do
    dt collection add $c --title "bench $c" 2>/dev/null
    dt grant bench $c read-write 2>/dev/null
done
TOKEN=$(dt user token bench)
export TOKEN

# gen FIRST COUNT PREFIX: JSON lines of COUNT indicators with unique ids.
gen() {
    awk -v first="$1" -v n="$2" -v p="$3" 'BEGIN {
        for (i = first; i < first + n; i++)
            printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-%012x\",\"created\":\"2024-01-01T00:00:00.000Z\",\"modified\":\"2024-01-01T00:00:00.000Z\",\"name\":\"bench %d\",\"pattern\":\"[ipv4-addr:value = '"'"'10.%d.%d.%d'"'"']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-01-01T00:00:00.000Z\"}\n",
                p, i, i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
    }'
}

# fill COLLECTION COUNT: import in chunks of 50k; prints the time taken.
fill() {
    local coll=$1 count=$2 start end chunk=50000
    start=$(date +%s.%N)
    for ((i = 0; i < count; i += chunk)); do
        local n=$((count - i < chunk ? count - i : chunk))
        gen "$i" "$n" 1 >"$W/chunk.jsonl"
        dt import --collection "$coll" "$W/chunk.jsonl" >/dev/null 2>&1 || { echo "import failed" >&2; exit 1; }
    done
    end=$(date +%s.%N)
    printf 'built %s: %d objects in %.1f s (detente import, signed and ledgered)\n' "$coll" "$count" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')"
}

fill c1k 1000
[ "$BIG" = 1 ] && fill c1m 1000000

"$BIN" --home "$H" serve --listen 127.0.0.1:0 >"$W/url" 2>/dev/null &
PID=$!
for _ in $(seq 1 100); do [ -s "$W/url" ] && break; sleep 0.05; done
BASE=$(sed 's|/taxii2/$||' "$W/url")

cat >"$W/get.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
LUA
# POST: envelopes of 100 indicators, each new (ids from the run, wrk thread,
# object slot and request counter). The body is a per-thread template built
# once; a request only writes its counter into it, so the client stays cheap.
cat >"$W/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
wrk.headers["Content-Type"] = "application/taxii+json;version=2.1"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local n = 0
local run = tonumber(os.getenv("RUN"))
local pieces = nil
local function build()
    pieces = {}
    for i = 1, 100 do
        pieces[#pieces + 1] = string.format('%s{"type":"indicator","spec_version":"2.1","id":"indicator--%04x%04x-%04x-4000-8000-',
            i == 1 and '{"objects":[' or ',', run, tid, i)
        pieces[#pieces + 1] = "" -- the request counter, 12 hex digits
        pieces[#pieces + 1] = '","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"ingest","pattern":"[ipv4-addr:value = \'10.1.2.3\']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00.000Z"}'
    end
    pieces[#pieces + 1] = "]}"
end
function request()
    if pieces == nil then build() end
    n = n + 1
    local hex = string.format("%012x", n)
    for i = 2, 300, 3 do pieces[i] = hex end
    return wrk.format(nil, nil, nil, table.concat(pieces))
end
LUA

# run LABEL CONNECTIONS SCRIPT URL -> "req/s p50 p99" from wrk --latency;
# LAST_REQS: requests wrk saw answered, LAST_SECS: its wall time
run() {
    local out rps p50 p99 non2xx start end
    start=$(date +%s.%N)
    out=$(wrk -t"$(($2 < 2 ? $2 : 2))" -c"$2" -d"${SECS}s" --latency -s "$3" "$4" 2>&1)
    end=$(date +%s.%N)
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
    printf '%-34s conns=%-3s %10s req/s  p50 %-9s p99 %-9s%s\n' "$1" "$2" "$rps" "$p50" "$p99" \
        "${non2xx:+  (non-2xx: $non2xx)}"
    LAST_REQS=$(echo "$out" | awk '/requests in/ {print $1}')
    LAST_SECS=$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')
    LAST_NON2XX=${non2xx:-0}
}

# versions held by the node (all collections), read from the store
versions() { dt --json stats | sed -n 's/.*"versions":\([0-9]*\).*/\1/p'; }

echo "machine: $(nproc) cores; wrk -t2 -d${SECS}s; GET .../objects/?limit=100"
for coll in c1k $([ "$BIG" = 1 ] && echo c1m); do
    for c in 1 16 64; do
        run "GET objects ($coll)" $c "$W/get.lua" "$BASE/api/collections/$coll/objects/?limit=100"
    done
done
# objects/s from what the collection really holds afterwards (read from the
# store once wrk is done), over wrk's wall time; never more than wrk saw
# acknowledged (requests still in flight when wrk stops are not counted).
run_id=$(($(date +%s) % 65536))
for c in 1 16; do
    before=$(versions)
    run_id=$(((run_id + 1) % 65536))
    export RUN=$run_id
    run "POST envelopes of 100" $c "$W/post.lua" "$BASE/api/collections/ingest/objects/"
    sleep 0.5 # let requests still in flight finish, so they are not counted as lost
    stored=$(($(versions) - before))
    acked=$((LAST_REQS * 100))
    counted=$((stored < acked ? stored : acked))
    printf '%-34s conns=%-3s %10.0f objects/s  (%d new objects stored, %d acknowledged by wrk, %.2f s, load %s)%s\n' \
        "  ingest" $c "$(awk -v n="$counted" -v s="$LAST_SECS" 'BEGIN {print n / s}')" "$stored" "$acked" \
        "$LAST_SECS" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$([ "$LAST_NON2XX" != 0 ] && echo "  NON-2XX ANSWERS: $LAST_NON2XX")$([ "$stored" -lt "$acked" ] && echo "  FEWER STORED THAN ACKNOWLEDGED")"
done
