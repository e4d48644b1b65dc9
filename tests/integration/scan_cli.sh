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
echo "1 passed, 0 failed"
