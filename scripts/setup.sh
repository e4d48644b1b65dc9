#!/usr/bin/env bash
# Install the Debian packages detente needs to build, test and run, if any is
# missing. Idempotent and quiet when everything is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libjansson-dev libsqlite3-dev sqlite3 libsodium-dev libssl-dev
      libpcre2-dev zlib1g-dev libmicrohttpd-dev libcurl4-openssl-dev
      libxxhash-dev libcmocka-dev curl python3 python3-jsonschema wrk)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
