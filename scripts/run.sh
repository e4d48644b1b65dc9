#!/usr/bin/env bash
# `make run`: initialise a node in ./detente-data (once), import the sample
# intelligence shipped in data/samples, create a demo account, and serve.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/detente
home=${DETENTE_HOME:-./detente-data}
export DETENTE_HOME=$home
if [ ! -f "$home/detente.conf" ]; then
    "$bin" init --name "${DETENTE_NAME:-local-node}"
    "$bin" import data/samples/*.json || true
fi
if "$bin" --help | grep -q '^  serve '; then
    if ! "$bin" user list 2>/dev/null | grep -q '^demo\b'; then
        pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
        printf '%s' "$pw" | "$bin" user add demo --password-stdin --max-marking amber >/dev/null
        "$bin" grant demo default read-write >/dev/null
        printf 'demo account: user demo, password %s (shown once; saved in %s/demo-password)\n' "$pw" "$home"
        (umask 077; printf '%s\n' "$pw" > "$home/demo-password")
    fi
    port=$(sed -n 's/^listen = .*:\([0-9]*\)$/\1/p' "$home/detente.conf" | head -1)
    cat <<EOF

Try it (another terminal):
  curl -u demo:\$(cat $home/demo-password) -H 'Accept: application/taxii+json;version=2.1' \\
       http://127.0.0.1:${port:-8470}/api/collections/default/objects/?limit=5
  curl http://127.0.0.1:${port:-8470}/detente/v1/ledger/sth
Dashboard: http://127.0.0.1:${port:-8470}/ui/ (user demo)
Stop with Ctrl-C.
EOF
    exec "$bin" serve
else
    "$bin" stats
fi
