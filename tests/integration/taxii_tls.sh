# `detente serve --tls-cert F --tls-key F`: TAXII over HTTPS with a
# self-signed certificate made for the test (skipped without openssl).
. "$(dirname "$0")/lib/taxii_common.bash"
command -v openssl >/dev/null || { echo "skipped: no openssl"; exit 0; }
node_setup
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1
"$DETENTE_BIN" --home "$HOME_DIR" serve --listen 127.0.0.1:0 --tls-cert "$WORK/cert.pem" \
    --tls-key "$WORK/key.pem" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/serve.out" ] && break; sleep 0.05; done
URL=$(sed -n 1p "$WORK/serve.out")
case $URL in https://127.0.0.1:*) ok "listens with TLS: $URL" ;; *) fail "no https URL: $URL" ;; esac
req 200 --cacert "$WORK/cert.pem" -H "Authorization: Bearer $TOKEN" "$URL" && body_has '"api_roots":\["https://' && ok "discovery over TLS"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://${URL#https://}" || true)
[ "$code" != 200 ] && ok "plain HTTP refused ($code)" || fail "plain HTTP answered 200 on the TLS port"
req 200 --cacert "$WORK/cert.pem" "${URL%/taxii2/}/detente/v1/health" && ok "still serving"
server_stop && ok "clean exit" || fail "serve exited non-zero"
"$DETENTE_BIN" --home "$HOME_DIR" serve --listen 127.0.0.1:0 --tls-cert "$WORK/nope.pem" \
    --tls-key "$WORK/key.pem" >/dev/null 2>"$WORK/err" && fail "started with a missing certificate"
grep -q 'nope.pem' "$WORK/err" && ok "missing certificate named" || fail "error does not name the file: $(cat "$WORK/err")"
"$DETENTE_BIN" --home "$HOME_DIR" serve --listen 999.1.1.1:0 >/dev/null 2>"$WORK/err" && fail "started on a bad address"
grep -q 'not an IPv4 address' "$WORK/err" && ok "bad listen address refused" || fail "bad address: $(cat "$WORK/err")"
finish
