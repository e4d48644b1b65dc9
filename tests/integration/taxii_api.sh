# TAXII 2.1 server: every endpoint and every error answer, driven with curl
# against `detente serve` on a free loopback port.
. "$(dirname "$0")/lib/taxii_common.bash"
node_setup
conf_set limits max_content_length 200000
conf_set limits timeout 3
server_start
A=(-H "Authorization: Bearer $TOKEN")
E=(-H "Authorization: Bearer $EVE_TOKEN")

# --- discovery, API root, collections
req 200 -u bob:bob-password -H "$ACC" "$URL" && body_has '"api_roots":\["http://127.0.0.1:[0-9]*/api/"\]' && ok discovery
req 200 "${A[@]}" "$API/" && body_has '"max_content_length":200000' && body_has '"versions":\["application/taxii+json;version=2.1"\]' && ok "api root"
req 200 "${A[@]}" "$API/collections/" && body_has '"id":"intel"' && ok collections
grep -q '"secret"' "$WORK/body" && fail "collections lists a collection bob has no grant on"
req 200 "${A[@]}" "$API/collections/intel/" && body_has '"can_read":true,"can_write":true' && ok collection
req 200 "${A[@]}" "$API/collections/default/" && body_has '"can_write":false'
req 200 "${A[@]}" -I "$API/collections/intel/" && ok HEAD

# --- authentication
req 401 "$API/collections/" && ok "no credentials: 401"
grep -qi '^www-authenticate: basic' <(curl -s -D - -o /dev/null "$API/") || fail "401 without WWW-Authenticate"
req 401 -u bob:wrong "$API/collections/" && ok "wrong password: 401"
req 401 -u nobody:wrong "$API/collections/" && ok "unknown user: 401"
req 401 -H "Authorization: Bearer dt_not-a-token" "$API/collections/" && ok "bad token: 401"
req 401 -H "Authorization: Digest foo" "$API/collections/" && ok "unknown scheme: 401"
req 401 -H "Authorization: Basic !!!" "$API/collections/" && ok "bad base64: 401"
grep -q 'bob-password\|wrong"' "$WORK/serve.err" && fail "a password reached the log"
grep -q "$TOKEN" "$WORK/serve.err" && fail "a token reached the log"
grep -q 'failed login (basic user bob)' "$WORK/serve.err" || fail "failed login not logged"

# --- content negotiation
req 406 "${A[@]}" -H 'Accept: application/json' "$API/" && ok "406 on Accept: application/json"
req 406 "${A[@]}" -H 'Accept: application/taxii+json;version=2.0' "$API/"
req 200 "${A[@]}" -H 'Accept: */*' "$API/"
req 415 "${A[@]}" -H 'Content-Type: application/json' --data-binary "$(envelope 1)" "$API/collections/intel/objects/" && ok "415 on Content-Type: application/json"
req 415 "${A[@]}" --data-binary "$(envelope 1)" "$API/collections/intel/objects/"

# --- POST: valid and invalid objects in one envelope
ID1=indicator--$(cat /proc/sys/kernel/random/uuid)
printf '{"objects":[%s,%s,{"type":"indicator","id":"bad"},%s]}' "$(indicator "$ID1")" \
    "$(indicator "$ID1" 2017-01-01T00:00:00.000Z)" "$(indicator)" >"$WORK/env.json"
req 202 "${A[@]}" -H "$CT" -H "$ACC" --data-binary @"$WORK/env.json" "$API/collections/intel/objects/" &&
    body_has '"status":"complete"' && body_has '"total_count":4' && body_has '"success_count":3' &&
    body_has '"failure_count":1' && body_has '"pending_count":0' && body_has '"failures":\[{"id":"bad"' &&
    ok "POST: per-object failures, the valid ones stored"
SID=$(grep -o '"id":"[0-9a-f-]\{36\}"' "$WORK/body" | sed -n 1p | cut -d'"' -f4)
req 200 "${A[@]}" "$API/status/$SID/" && body_has "\"id\":\"$SID\"" && body_has '"success_count":3' && ok status
req 404 "${E[@]}" "$API/status/$SID/" && ok "another account's status: 404"
req 404 "${A[@]}" "$API/status/00000000-0000-4000-8000-000000000000/"
req 404 "${A[@]}" "$API/status/not-a-uuid/"

# --- reads and filters
req 200 "${A[@]}" "$API/collections/intel/objects/" && body_has "$ID1" && ok "GET objects"
curl -s -D "$WORK/h" -o /dev/null "${A[@]}" "$API/collections/intel/objects/"
grep -qi '^x-taxii-date-added-first: 20' "$WORK/h" && grep -qi '^x-taxii-date-added-last: 20' "$WORK/h" || fail "no X-TAXII-Date-Added headers"
grep -qi '^content-type: application/taxii+json;version=2.1' "$WORK/h" || fail "wrong Content-Type"
req 200 "${A[@]}" "$API/collections/intel/objects/?match%5Bid%5D=$ID1" && body_has '"modified":"2017-01-01T00:00:00.000Z"' &&
    [ "$(grep -o '"type":"indicator"' "$WORK/body" | wc -l)" = 1 ] && ok "match[id] (last version by default)"
req 200 "${A[@]}" "$API/collections/intel/objects/?match[id]=$ID1&match[version]=all"
[ "$(grep -o "\"id\":\"$ID1\"" "$WORK/body" | wc -l)" = 2 ] && ok "match[version]=all" || fail "match[version]=all: $(cat "$WORK/body")"
req 200 "${A[@]}" "$API/collections/intel/objects/?match[id]=$ID1&match[version]=first" && body_has '"modified":"2016-04-06T20:03:48.000Z"' && ok "match[version]=first"
req 200 "${A[@]}" "$API/collections/intel/objects/?match[id]=$ID1&match[version]=2016-04-06T20:03:48.000Z" && body_has '"modified":"2016-04-06T20:03:48.000Z"' && ok "match[version]=timestamp"
req 200 "${A[@]}" "$API/collections/intel/objects/?match[type]=malware" && body_has '^{"more":false}$' && ok "match[type] excludes"
req 200 "${A[@]}" "$API/collections/intel/objects/?match[type]=indicator&match[spec_version]=2.1" && body_has "$ID1" && ok "match[type], match[spec_version]"
req 200 "${A[@]}" "$API/collections/intel/objects/?added_after=2999-01-01T00:00:00Z" && body_has '^{"more":false}$' && ok added_after
req 200 "${A[@]}" "$API/collections/intel/objects/?limit=1" && body_has '"more":true' && body_has '"next":"' && ok "limit/more/next"
req 200 "${A[@]}" "$API/collections/intel/objects/$ID1/" && body_has "$ID1" && ok "GET object"
req 200 "${A[@]}" "$API/collections/intel/objects/$ID1/versions/" &&
    body_has '"versions":\["2016-04-06T20:03:48.000Z","2017-01-01T00:00:00.000Z"\]' && ok versions
req 200 "${A[@]}" "$API/collections/intel/manifest/" && body_has '"media_type":"application/stix+json;version=2.1"' && body_has '"date_added":"20' && ok manifest
req 404 "${A[@]}" "$API/collections/intel/objects/indicator--00000000-0000-4000-8000-000000000000/" && ok "unknown object: 404"
req 200 "${A[@]}" "$API/collections/intel/objects/?utm_source=x&foo" && ok "unknown parameters ignored"

# --- collections that do not exist or may not be used
req 404 "${A[@]}" "$API/collections/nope/objects/" && ok "unknown collection: 404"
req 404 "${A[@]}" "$API/collections/secret/objects/" && ok "collection without a grant: 404 (not disclosed)"
req 404 "${A[@]}" "$API/collections/secret/"
req 403 "${A[@]}" -H "$CT" --data-binary "$(envelope 1)" "$API/collections/default/objects/" && ok "read-only collection, POST: 403"
req 403 "${E[@]}" -X DELETE "$API/collections/intel/objects/$ID1/" && ok "read-only collection, DELETE: 403"

# --- bad input
req 400 "${A[@]}" -H "$CT" --data-binary '{"objects":[' "$API/collections/intel/objects/" && ok "malformed JSON: 400"
req 400 "${A[@]}" -H "$CT" --data-binary '{"objects":{}}' "$API/collections/intel/objects/" && ok "no objects list: 400"
req 400 "${A[@]}" -H "$CT" --data-binary '[1,2]' "$API/collections/intel/objects/"
head -c 250000 /dev/zero | tr '\0' ' ' >"$WORK/big"
req 413 "${A[@]}" -H "$CT" --data-binary @"$WORK/big" "$API/collections/intel/objects/" && ok "over max_content_length (declared): 413"
req 413 "${A[@]}" -H "$CT" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big" "$API/collections/intel/objects/" && ok "over max_content_length (chunked): 413"
req 400 "${A[@]}" "$API/collections/intel/objects/?next=garbage" && ok "bad next: 400"
req 400 "${A[@]}" "$API/collections/intel/objects/?next=AQAGDd8w5kAAAAAAAAAAAAAqb7w_"
req 400 "${A[@]}" "$API/collections/intel/objects/?limit=0" && ok "limit=0: 400"
req 400 "${A[@]}" "$API/collections/intel/objects/?limit=-5"
req 400 "${A[@]}" "$API/collections/intel/objects/?added_after=yesterday"
req 400 "${A[@]}" "$API/collections/intel/objects/?match[colour]=red" && ok "unsupported filter: 400"
req 400 "${A[@]}" "$API/collections/intel/objects/?match[version]=newest"
req 404 "${A[@]}" "$API/collections/%2e%2e/objects/" && ok "%2e%2e: 404"
req 404 "${A[@]}" --path-as-is "$API/collections/../collections/intel/objects/"
req 404 "${A[@]}" "$API/collections/intel%2Fobjects/" && ok "encoded slash: 404"
req 400 "${A[@]}" "$API/collections/intel%00/objects/" && ok "NUL: 400"
req 404 "${A[@]}" "$API/collections/intel/objects/indicator--x%2F..%2F..%2F/" && ok "path tricks in object ids: 404"
req 404 "${A[@]}" "$BASE/etc/passwd"
req 405 "${A[@]}" -X PUT --data-binary x "$API/collections/intel/objects/" && ok "PUT: 405"
req 405 "${A[@]}" -X POST -H "$CT" --data-binary x "$API/collections/"
code=$(curl -s -o /dev/null -w '%{http_code}' "${A[@]}" -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$API/") || true
case $code in 4*) ok "huge header: $code" ;; *) fail "huge header answered $code" ;; esac

# --- DELETE
ID2=indicator--$(cat /proc/sys/kernel/random/uuid)
req 202 "${A[@]}" -H "$CT" --data-binary "{\"objects\":[$(indicator "$ID2")]}" "$API/collections/intel/objects/"
req 200 "${A[@]}" -X DELETE "$API/collections/intel/objects/$ID2/" && ok DELETE
req 404 "${A[@]}" "$API/collections/intel/objects/$ID2/" && ok "deleted object: 404"
req 404 "${A[@]}" -X DELETE "$API/collections/intel/objects/$ID2/"

# --- operations
req 200 "$BASE/detente/v1/health" && body_has '"status":"ok"' && ok health
req 200 "$BASE/detente/v1/metrics" && body_has 'detente_http_requests_total{code="200"}' &&
    body_has 'detente_http_request_duration_seconds_bucket{le="+Inf"}' &&
    body_has 'detente_ingest_objects_total{outcome="added"} [1-9]' && ok metrics
req 404 "$BASE/detente/v1/no-such-endpoint" && ok "unknown /detente/v1/ endpoint: 404"
req 401 -H "Authorization: Bearer dt_wrong" "$BASE/detente/v1/ledger/sth" && ok "/detente/v1/ with wrong credentials: 401"
req 404 "$BASE/detente/v1/a%2Fb"
grep -q 'method=GET path="/api/collections/intel/objects/" status=200 bytes=[0-9]* ms=[0-9.]* user=bob' "$WORK/serve.err" && ok "request log line" || fail "request log line missing"

# --- a thousand tiny requests, and a slow client beside them
exec 3<>"/dev/tcp/127.0.0.1/${BASE##*:}"
printf 'GET /api/ HTTP/1.1\r\nHost: x\r\n' >&3 # never finishes its headers
urls=()
for _ in $(seq 1 1000); do urls+=("$BASE/detente/v1/health"); done
n200=$(curl -s -w '\n%{http_code}\n' "${urls[@]}" | grep -c '^200$' || true)
[ "$n200" = 1000 ] && ok "1000 tiny requests beside a slow client" || fail "1000 requests: $n200 answered 200"
# the slow client is closed once idle for [limits] timeout (3 s here; the default 30 would fail)
if timeout 10 cat <&3 >/dev/null; then ok "slow client closed after the idle timeout"; else fail "slow client still connected after 10 s"; fi
exec 3>&-
req 200 "${A[@]}" "$API/collections/intel/objects/?limit=1" && ok "still serving"

server_stop && ok "clean exit on SIGTERM" || fail "serve exited non-zero"
grep -q 'ERROR: AddressSanitizer\|runtime error' "$WORK/serve.err" && fail "sanitizer report in the server log"
finish
