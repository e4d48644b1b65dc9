# Shared helpers for the TAXII integration tests (sourced, not a test).
# Needs DETENTE_BIN; makes a node in a temp directory, an account "bob" with
# a password and a bearer token, and starts `detente serve` on a free
# loopback port (port 0: the server prints the URL it got).
set -euo pipefail
: "${DETENTE_BIN:?DETENTE_BIN must name the detente binary}"
WORK=$(mktemp -d)
HOME_DIR=$WORK/node
SERVER_PID=
fails=0
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
dt() { "$DETENTE_BIN" --home "$HOME_DIR" "$@"; }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

node_setup() {
    dt init >/dev/null 2>"$WORK/init.err" || [ -f "$HOME_DIR/detente.conf" ] || { cat "$WORK/init.err" >&2; exit 1; }
    echo 'bob-password' | dt user add bob --password-stdin --max-marking red 2>/dev/null
    echo 'eve-password' | dt user add eve --password-stdin --max-marking clear 2>/dev/null
    dt collection add intel --title "Intel" --description "shared" 2>/dev/null
    dt collection add secret --title "Secret" 2>/dev/null
    dt grant bob intel read-write 2>/dev/null
    dt grant bob default read 2>/dev/null
    dt grant eve intel read 2>/dev/null
    TOKEN=$(dt user token bob)
    EVE_TOKEN=$(dt user token eve)
}

# Replace or add "key = value" under [section] of detente.conf.
conf_set() {
    local section=$1 key=$2 value=$3 f=$HOME_DIR/detente.conf
    if grep -q "^$key *=" "$f"; then
        sed -i "s|^$key *=.*|$key = $value|" "$f"
    else
        sed -i "/^\[$section\]/a $key = $value" "$f"
    fi
}

server_start() {
    : >"$WORK/serve.out"
    "$DETENTE_BIN" --home "$HOME_DIR" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        [ -s "$WORK/serve.out" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
        sleep 0.05
    done
    URL=$(head -1 "$WORK/serve.out")
    BASE=${URL%/taxii2/}
    API=$BASE/api
    [ -n "$URL" ] || { echo "server printed no URL" >&2; exit 1; }
}

server_stop() {
    kill -TERM "$SERVER_PID"
    local rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    return $rc
}

# A valid STIX 2.1 indicator with a fresh id (and optional modified).
indicator() {
    local id=${1:-indicator--$(cat /proc/sys/kernel/random/uuid)}
    local mod=${2:-2016-04-06T20:03:48.000Z}
    printf '{"type":"indicator","spec_version":"2.1","id":"%s","created":"2016-04-06T20:03:48.000Z","modified":"%s","name":"test","pattern":"[ipv4-addr:value = '"'"'198.51.100.%d'"'"']","pattern_type":"stix","valid_from":"2016-04-06T20:03:48.000Z"}' \
        "$id" "$mod" $((RANDOM % 250))
}

# envelope N: N fresh indicators
envelope() {
    local n=$1 sep=
    printf '{"objects":['
    for _ in $(seq 1 "$n"); do printf '%s' "$sep"; indicator; sep=,; done
    printf ']}'
}

CT='Content-Type: application/taxii+json;version=2.1'
ACC='Accept: application/taxii+json;version=2.1'

# req EXPECTED_STATUS curl-args...: the body is left in $WORK/body.
req() {
    local want=$1
    shift
    local got
    got=$(curl -g -s -o "$WORK/body" -w '%{http_code}' "$@") || got="curl-failed-$?"
    if [ "$got" != "$want" ]; then
        fail "expected $want, got $got: curl $* -> $(head -c 300 "$WORK/body" 2>/dev/null)"
        return 1
    fi
    # every error answer is a TAXII error message
    if [ "$want" -ge 400 ] && ! grep -q "\"http_status\":\"$want\"" "$WORK/body"; then
        fail "$want without a TAXII error body: curl $* -> $(head -c 300 "$WORK/body")"
        return 1
    fi
    return 0
}

body_has() {
    grep -q -- "$1" "$WORK/body" || { fail "body lacks $1: $(head -c 400 "$WORK/body")"; return 1; }
}

finish() {
    if [ "$fails" -ne 0 ]; then
        echo "--- server log (tail)" >&2
        tail -n 40 "$WORK/serve.err" >&2 || true
        echo "$fails failure(s)" >&2
        exit 1
    fi
    echo "all passed"
}
