#!/bin/bash
# detente scan --indicators over the real Zeek logs: the output contract
# (one JSON line per match with indicator, value, type, field, file, line,
# ts; a summary line last), the same output with 1 and 2 threads, stdin,
# bad input reported with file and line while the rest is still scanned.
set -euo pipefail
BIN=${DETENTE_BIN:?}
SRC=${DETENTE_SRC:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$T/ind.txt" <<'IND'
# a plain list: one value per line, the type guessed or given
ise.wrccdc.org
x509 B2DAFBCDBC75210672F137F27CE882CCB799887631655D4F11191D5A678E44FE
134.71.0.0/16
not..a..domain
IND
"$BIN" scan --threads 1 --indicators "$T/ind.txt" "$SRC/tests/data/zeek/dns.log.gz" \
    "$SRC/tests/data/zeek/ssl.log.gz" > "$T/one.json" 2> "$T/err"
grep -q "ind.txt:5: .*not a domain name" "$T/err" || fail "invalid list value not reported"
"$BIN" scan --threads 2 --indicators "$T/ind.txt" "$SRC/tests/data/zeek/dns.log.gz" \
    "$SRC/tests/data/zeek/ssl.log.gz" > "$T/two.json" 2>/dev/null
diff <(grep -v summary "$T/one.json") <(grep -v summary "$T/two.json") > /dev/null \
    || fail "1 and 2 threads differ"
tail -1 "$T/one.json" | grep -q '^{"summary":{"files":2,' || fail "no summary line"
# every match line carries the contract's keys, and line numbers count header lines
head -1 "$T/one.json" | grep -q '^{"indicator":"[^"]*ind.txt:2","value":"ise.wrccdc.org","type":"domain-name","field":"query","file":"[^"]*dns.log.gz","line":9,"ts":"2018-03-24T17:15:20.865716Z"}$' \
    || fail "first match: $(head -1 "$T/one.json")"
n=$(grep -c '"type":"x509-certificate","field":"cert_chain_fps"' "$T/one.json")
[ "$n" -gt 1000 ] || fail "x509 matches: $n"
grep -q '"value":"134.71.3.16","type":"ipv4-addr","field":"answers"' "$T/one.json" \
    || fail "no CIDR match in answers"

# stdin, JSON lines
zcat "$SRC/tests/data/zeek/dns.json.gz" > "$T/dns.json"
zcat "$SRC/tests/data/zeek/dns.log.gz" > "$T/dns.log"
sed -n 1,2000p "$T/dns.json" | "$BIN" scan --indicators "$T/ind.txt" - > "$T/json.out"
grep -q '"field":"query","file":"stdin","line":1,' "$T/json.out" || fail "JSON from stdin"

# bad input: garbage and a missing header are reported, the rest scanned
{ sed -n 1,20p "$T/dns.log"; printf 'garbage\x01\xff\n'; sed -n 21,40p "$T/dns.log"; } > "$T/bad.log"
"$BIN" scan --indicators "$T/ind.txt" "$T/bad.log" > "$T/bad.out" 2> "$T/bad.err"
grep -q "bad.log:21: fewer fields" "$T/bad.err" || fail "bad line not reported: $(cat "$T/bad.err")"
grep -q '"skipped_lines":1,' "$T/bad.out" || fail "skipped count"
grep -q '"line":22,' "$T/bad.out" || fail "lines after the bad one not scanned"

# a file that does not exist: exit 3, the others still scanned
set +e
"$BIN" scan --indicators "$T/ind.txt" "$T/missing.log" "$T/bad.log" > "$T/m.out" 2> "$T/m.err"
rc=$?
set -e
[ $rc -eq 3 ] || fail "missing file exit code $rc"
grep -q '"files":1,' "$T/m.out" || fail "other file not scanned"
"$BIN" scan --bogus x 2>/dev/null && fail "unknown option accepted"
# a STIX bundle: only active indicators with simple patterns are indexed
cat > "$T/bundle.json" <<'JSON'
{"type":"bundle","id":"bundle--0d3b1a52-2b0c-4d2a-9a4e-3f4c2a1e0b01","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":"[domain-name:value = 'wrccdc.org'] OR [ipv4-addr:value = '134.71.0.0/16']"},
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","revoked":true,"pattern":"[domain-name:value = 'wrccdc.org']"},
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000003","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2010-01-01T00:00:00Z","valid_until":"2011-01-01T00:00:00Z","pattern":"[domain-name:value = 'wrccdc.org']"},
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000004","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":"[x509-certificate:hashes.'SHA-256' = 'b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe']"}
]}
JSON
"$BIN" scan --indicators "$T/bundle.json" "$SRC/tests/data/zeek/dns.log.gz" \
    "$SRC/tests/data/zeek/ssl.log.gz" > "$T/stix.out" 2> "$T/stix.err"
grep -q "4 indicators, 2 indexed (3 values); skipped: 1 revoked, 1 not active" "$T/stix.err" \
    || fail "bundle load: $(cat "$T/stix.err")"
grep -q '"indicator":"indicator--00000000-0000-4000-8000-000000000002"' "$T/stix.out" && fail "revoked matched"
grep -q '"indicator":"indicator--00000000-0000-4000-8000-000000000003"' "$T/stix.out" && fail "expired matched"
a=$(grep -c '"indicator":"indicator--00000000-0000-4000-8000-000000000001"' "$T/stix.out")
[ "$a" -gt 0 ] || fail "no bundle matches"
grep -q '"indicator":"indicator--00000000-0000-4000-8000-000000000004","value":"b2dafbcdbc' "$T/stix.out" \
    || fail "x509 fingerprint from the bundle"
# patterns that are not simple comparisons are evaluated on each record, the
# same on Zeek TSV and Zeek JSON
cat > "$T/nt.jsonl" <<'JSON'
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000012","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":"[network-traffic:dst_port = 53 AND network-traffic:dst_ref.value = '10.0.0.100' AND network-traffic:protocols[*] = 'udp']"}
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000013","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","pattern":"[domain-name:value LIKE 'ise.%.org']"}
JSON
"$BIN" scan --indicators "$T/nt.jsonl" "$T/dns.log" > "$T/nt1.out" 2> "$T/nt.err"
grep -q "2 patterns evaluated on each record" "$T/nt.err" || fail "evaluated count: $(cat "$T/nt.err")"
"$BIN" scan --indicators "$T/nt.jsonl" "$T/dns.json" > "$T/nt2.out" 2>/dev/null
head -1 "$T/nt1.out" | grep -q '"value":"10.0.0.100","type":"network-traffic","field":"id.resp_h"' \
    || fail "network-traffic match: $(head -1 "$T/nt1.out")"
a=$(grep -c 000000000012 "$T/nt1.out"); b=$(grep -c 000000000012 "$T/nt2.out")
[ "$a" -gt 1000 ] && [ "$a" = "$b" ] || fail "network-traffic TSV $a, JSON $b"
a=$(grep -c '000000000013","value":"ise.wrccdc.org"' "$T/nt1.out"); b=$(grep -c 000000000013 "$T/nt2.out")
[ "$a" -gt 1000 ] && [ "$a" = "$b" ] || fail "LIKE TSV $a, JSON $b"

# progress on a terminal: bytes, MB/s and lines/s (and an ETA while a file of known size
# is not done: not asserted, a fast machine may finish before the first report)
if command -v script > /dev/null; then
    for _ in 1 2 3 4 5 6 7 8; do cat "$T/dns.log"; done > "$T/big.log"
    script -qec "'$BIN' scan --threads 1 --indicators '$T/ind.txt' --output /dev/null '$T/big.log'" \
        /dev/null > "$T/tty" 2>&1 || true
    grep -aq 'MB scanned, .* MB/s, .* M lines/s' "$T/tty" || fail "no progress line: $(tr '\r' '\n' < "$T/tty" | tail -3)"
fi

echo "1 passed, 0 failed"
