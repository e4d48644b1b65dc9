#!/usr/bin/env bash
# The dashboard under /ui/: its three assets are served from the binary with
# the security headers and the right content types, nothing else under /ui/
# is (path tricks, unknown names, other methods), and the page holds no
# data. If chromium is installed, the page is loaded headless for three
# users and must show what each may read and nothing more: bob (max RED)
# sees the AMBER and the CLEAR claim, eve (max CLEAR) only the CLEAR one,
# and an anonymous visitor neither (the markings hold in the dashboard
# because it has no data path of its own).
source "$(dirname "$0")/lib/taxii_common.bash"
src=${DETENTE_SRC:?}
node_setup

CLEAR=marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487
AMBER=marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421
claim() { # claim NAME IP MARKING
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z","name":"%s","pattern":"[ipv4-addr:value = '"'"'%s'"'"']","pattern_type":"stix","valid_from":"2024-03-01T10:00:00.000Z","object_marking_refs":["%s"]}' \
        "$(cat /proc/sys/kernel/random/uuid)" "$1" "$2" "$3"
}
printf '{"type":"bundle","id":"bundle--%s","objects":[%s,%s]}' "$(cat /proc/sys/kernel/random/uuid)" \
    "$(claim 'Clear web-ui claim' 198.51.100.71 $CLEAR)" "$(claim 'Amber web-ui claim' 198.51.100.72 $AMBER)" \
    >"$WORK/claims.json"
dt import --collection intel "$WORK/claims.json" >/dev/null
dt peer add cert-b http://127.0.0.1:9/taxii2/ --key "$(cat "$HOME_DIR/key.public")" >/dev/null 2>&1
server_start
UI=$BASE/ui

# ---- the assets and their headers ----
check_asset() { # check_asset PATH FILE CONTENT-TYPE
    local h=$WORK/headers
    req 200 -D "$h" "$UI/$1" || return 0
    cmp -s "$WORK/body" "$src/src/web/assets/$2" && ok "/ui/$1 is $2" || fail "/ui/$1 differs from $2"
    grep -qi "^Content-Type: $3; charset=utf-8" "$h" || fail "/ui/$1 content type: $(grep -i content-type "$h")"
    grep -qi "^Content-Security-Policy: default-src 'self'" "$h" || fail "/ui/$1 without CSP default-src 'self'"
    grep -qi "^Content-Security-Policy:.*frame-ancestors 'none'" "$h" || fail "/ui/$1 CSP allows framing"
    grep -qi '^X-Content-Type-Options: nosniff' "$h" || fail "/ui/$1 without nosniff"
    grep -qi '^X-Frame-Options: DENY' "$h" || fail "/ui/$1 without X-Frame-Options"
    grep -qi '^Referrer-Policy: no-referrer' "$h" || fail "/ui/$1 without Referrer-Policy"
    ok "/ui/$1 headers"
}
check_asset "" index.html text/html
check_asset index.html index.html text/html
check_asset app.js app.js text/javascript
check_asset style.css style.css text/css
# the page refers only to its own files, never to another origin
grep -Eq '(src|href)="(https?:)?//' "$src/src/web/assets/index.html" && fail "index.html loads from another origin"
grep -q 'innerHTML\|outerHTML\|insertAdjacentHTML\|document.write' "$src/src/web/assets/app.js" &&
    fail "app.js inserts markup" || ok "app.js builds the DOM from text only"
# no credentials needed for the page, and no data in it
req 200 "$UI/app.js?v=1" && ok "query strings are ignored"
curl -s "$UI/" "$UI/app.js" | grep -q 'web-ui claim\|198\.51\.100\.7' && fail "the page carries data"
[ "$(curl -s -o /dev/null -w '%{http_code}' -I "$UI/app.js")" = 200 ] && ok "HEAD" || fail "HEAD /ui/app.js"

# ---- everything else under /ui/ ----
for p in x index.htm app.js/ .//app.js //app.js ../taxii2/ %2e%2e/taxii2/ .%2E/detente/v1/key app%2ejs \
    ../../../../etc/passwd assets/app.js APP.JS "app.js%00" ; do
    req 404 --path-as-is "$UI/$p" && ok "404 /ui/$p"
done
req 404 "$BASE/uiapp.js" && ok "404 /uiapp.js"
req 405 -X POST -H "$CT" --data '{}' "$UI/" && ok "405 POST /ui/"
req 405 -X DELETE "$UI/app.js" && ok "405 DELETE /ui/app.js"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$BASE/ui")
[ "$code" = "308 $BASE/ui/" ] && ok "/ui redirects to /ui/" || fail "/ui answered $code"
# the server still answers TAXII and the API beside it
req 200 -H "$ACC" -H "Authorization: Bearer $TOKEN" "$URL" && ok "TAXII beside /ui/"

# ---- the page in a browser, for three users ----
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$browser" ]; then
    echo "SKIP: no chromium here: the page was not loaded in a browser"
else
    dom() { # dom OUT [FRAGMENT]
        timeout 90 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
            --user-data-dir="$WORK/chrome-$1" --virtual-time-budget=20000 \
            --dump-dom "$UI/$2" >"$WORK/$1.html" 2>"$WORK/$1.err" || { fail "chromium: $(tail -3 "$WORK/$1.err")"; return 1; }
    }
    has() { grep -q "$2" "$WORK/$1.html"; }
    if dom bob "#token=$TOKEN"; then
        has bob '<td class="value">\[ipv4-addr:value = .198.51.100.72.\]' && has bob 'Amber web-ui claim' &&
            ok "bob sees the AMBER claim with its value" || fail "bob's page lacks the AMBER claim"
        has bob 'Clear web-ui claim' && ok "bob sees the CLEAR claim" || fail "bob's page lacks the CLEAR claim"
        has bob 'Signed in as <strong id="session-user">token' && ok "signed in from the fragment" ||
            fail "bob not signed in"
        has bob '<code>intel</code>' && ok "collections listed" || fail "no collections on bob's page"
        has bob '<td>cert-b</td>' && ok "peers listed" || fail "no peer on bob's page"
        has bob "$TOKEN" && fail "the token is in the page"
    fi
    if dom eve "#token=$EVE_TOKEN"; then
        has eve 'Clear web-ui claim' && ok "eve sees the CLEAR claim" || fail "eve's page lacks the CLEAR claim"
        has eve 'Amber web-ui claim\|198\.51\.100\.72' && fail "eve (max CLEAR) sees the AMBER claim" ||
            ok "eve does not see the AMBER claim"
    fi
    if dom anon ""; then
        has anon 'Not signed in' && ok "anonymous view" || fail "anonymous page not loaded: $(head -c 300 "$WORK/anon.html")"
        has anon 'web-ui claim\|198\.51\.100\.7' && fail "an anonymous visitor sees a claim" ||
            ok "an anonymous visitor sees no claim"
        has anon 'cert-b' && fail "an anonymous visitor sees the peers"
    fi
    if dom bad "#token=not-a-token"; then
        has bad 'Sign-in failed' && has bad 'Not signed in\|id="login"' && ok "a bad token is refused" ||
            fail "no refusal for a bad token"
    fi
fi

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "web_ui: all ok"
