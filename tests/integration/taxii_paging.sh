# TAXII paging while objects arrive (no object skipped or repeated), and a
# graceful shutdown with a write in flight (nothing acknowledged is lost).
. "$(dirname "$0")/lib/taxii_common.bash"
node_setup
server_start
A=(-H "Authorization: Bearer $TOKEN")
post() { # post FILE: 202 expected
    req 202 "${A[@]}" -H "$CT" --data-binary @"$1" "$API/collections/intel/objects/"
}
for i in 1 2 3; do envelope 100 >"$WORK/e$i.json"; post "$WORK/e$i.json"; done
envelope 50 >"$WORK/late.json"

# Page through with limit=100; after the first page, 50 more objects arrive.
: >"$WORK/seen"
next=
pages=0
while :; do
    q="limit=100"
    [ -n "$next" ] && q="$q&next=$next"
    req 200 "${A[@]}" "$API/collections/intel/objects/?$q" || break
    cp "$WORK/body" "$WORK/page"
    grep -o '"id":"indicator--[^"]*"' "$WORK/page" >>"$WORK/seen"
    pages=$((pages + 1))
    [ "$pages" = 1 ] && post "$WORK/late.json"
    grep -q '"more":true' "$WORK/page" || break
    next=$(grep -o '"next":"[^"]*"' "$WORK/page" | cut -d'"' -f4)
    [ "$pages" -lt 20 ] || { fail "paging does not end"; break; }
done
total=$(wc -l <"$WORK/seen")
unique=$(sort -u "$WORK/seen" | wc -l)
[ "$total" = 350 ] && [ "$unique" = 350 ] && ok "paged $pages pages: 350 objects, none skipped or repeated" ||
    fail "paging saw $total objects ($unique distinct), expected 350"

# The manifest pages the same way.
: >"$WORK/mseen"
next=
while :; do
    q="limit=64"
    [ -n "$next" ] && q="$q&next=$next"
    req 200 "${A[@]}" "$API/collections/intel/manifest/?$q" || break
    grep -o '"id":"indicator--[^"]*"' "$WORK/body" >>"$WORK/mseen"
    grep -q '"more":true' "$WORK/body" || break
    next=$(grep -o '"next":"[^"]*"' "$WORK/body" | cut -d'"' -f4)
done
[ "$(sort -u "$WORK/mseen" | wc -l)" = 350 ] && [ "$(wc -l <"$WORK/mseen")" = 350 ] && ok "manifest paging" || fail "manifest paging"

# A write in flight when SIGTERM arrives: if it was acknowledged, it is kept.
envelope 1500 >"$WORK/big.json"
curl -s -o "$WORK/inflight" -w '%{http_code}' "${A[@]}" -H "$CT" --data-binary @"$WORK/big.json" \
    "$API/collections/intel/objects/" >"$WORK/inflight.code" &
cpid=$!
sleep 0.3
server_stop && ok "clean exit on SIGTERM with a write in flight" || fail "serve exited non-zero"
wait "$cpid" || true
code=$(cat "$WORK/inflight.code")
server_start
if [ "$code" = 202 ]; then
    last=$(grep -o '"id":"indicator--[^"]*"' "$WORK/big.json" | tail -1 | cut -d'"' -f4)
    first=$(grep -o '"id":"indicator--[^"]*"' "$WORK/big.json" | sed -n 1p | cut -d'"' -f4)
    req 200 "${A[@]}" "$API/collections/intel/objects/$first/" && req 200 "${A[@]}" "$API/collections/intel/objects/$last/" &&
        ok "acknowledged write survived the shutdown"
else
    ok "write refused during shutdown ($code): nothing acknowledged"
fi
server_stop || fail "serve exited non-zero"
grep -q 'ERROR: AddressSanitizer\|runtime error' "$WORK/serve.err" && fail "sanitizer report in the server log"
finish
