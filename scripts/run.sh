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
    exec "$bin" serve
else
    "$bin" stats
fi
