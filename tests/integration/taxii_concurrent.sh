# Concurrent TAXII POSTs share commits (group commit in node/ingest.c) but
# each gets exactly its own answer: 8 curl clients post at once, several
# rounds; some envelopes carry invalid objects, and one object is posted by
# every client. Checks each status (counts and per-object reasons, and the
# kept status resource), that every valid object is stored exactly once,
# that the ledger grew by exactly the stored versions, and that
# `detente ledger verify` still passes.
. "$(dirname "$0")/lib/taxii_common.bash"
node_setup
server_start
CLIENTS=8
ROUNDS=3
PER=40
SHARED=indicator--$(cat /proc/sys/kernel/random/uuid)
SHARED_OBJ=$(indicator "$SHARED")
stats() { dt --json stats | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["versions"], d["ledger_size"])'; }
read -r v0 l0 < <(stats)

# envelope r c: PER fresh indicators; clients with an odd number add one
# without a pattern and one whose pattern does not parse; every envelope
# carries the same shared indicator.
for r in $(seq 1 $ROUNDS); do
    for c in $(seq 1 $CLIENTS); do
        f=$WORK/env-$r-$c
        {
            printf '{"objects":['
            for i in $(seq 1 $PER); do indicator; printf ','; done
            if [ $((c % 2)) = 1 ]; then
                printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","pattern_type":"stix","valid_from":"2016-04-06T20:03:48.000Z"},' \
                    "$(cat /proc/sys/kernel/random/uuid)"
                printf '%s,' "$(indicator | sed "s/\[ipv4-addr:value = /[ipv4-addr:value = = /")"
            fi
            printf '%s' "$SHARED_OBJ"
            printf ']}'
        } >"$f.json"
    done
done

for r in $(seq 1 $ROUNDS); do
    pids=()
    for c in $(seq 1 $CLIENTS); do
        f=$WORK/env-$r-$c
        curl -s -o "$f.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "$CT" -H "$ACC" \
            --data-binary @"$f.json" "$API/collections/intel/objects/" >"$f.code" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail "a curl client failed"; done
done

# every answer: 202, its own counts and reasons; its status resource kept
python3 - "$WORK" "$ROUNDS" "$CLIENTS" "$PER" "$SHARED" >"$WORK/check" 2>&1 <<'PY' || fail "answers: $(cat "$WORK/check")"
import json, sys
work, rounds, clients, per, shared = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
shared_added = 0
ids = set()
for r in range(1, rounds + 1):
    for c in range(1, clients + 1):
        f = f"{work}/env-{r}-{c}"
        code = open(f + ".code").read().strip()
        assert code == "202", (f, code, open(f + ".out").read()[:300])
        st = json.load(open(f + ".out"))
        sent = json.load(open(f + ".json"))["objects"]
        bad = 2 if c % 2 else 0
        assert st["total_count"] == len(sent) == per + bad + 1, (f, st["total_count"])
        assert st["success_count"] == per + 1, (f, st["success_count"])
        assert st["failure_count"] == bad, (f, st["failure_count"])
        assert st["status"] == "complete" and st["pending_count"] == 0
        succ = {s["id"]: s["message"] for s in st.get("successes", [])}
        want = {o["id"] for o in sent[:per]}
        assert want <= set(succ), (f, "a valid object is not among the successes")
        assert all(succ[i] == "added" for i in want), (f, "a fresh object not reported added")
        assert set(succ) == want | {shared}, (f, "successes name objects of another envelope")
        shared_added += succ[shared] == "added"
        fails = st.get("failures", [])
        if bad:
            assert [x["id"] for x in fails] == [sent[per]["id"], sent[per + 1]["id"]], (f, fails)
            assert fails[0]["message"].startswith(f"objects[{per}]: ") and "pattern" in fails[0]["message"], fails[0]
            assert fails[1]["message"].startswith(f"objects[{per + 1}]: pattern"), fails[1]
        else:
            assert fails == [], (f, fails)
        ids |= want
        print(st["id"])
assert shared_added == 1, f"the shared object was added {shared_added} times"
open(f"{work}/ids", "w").write("\n".join(sorted(ids | {shared})) + "\n")
PY
n_status=0
for sid in $(grep -v ' ' "$WORK/check"); do
    req 200 -H "Authorization: Bearer $TOKEN" -H "$ACC" "$API/status/$sid/" && body_has "\"id\":\"$sid\"" &&
        n_status=$((n_status + 1))
done
[ "$n_status" = $((ROUNDS * CLIENTS)) ] && ok "$((ROUNDS * CLIENTS)) concurrent POSTs: each its own counts, reasons and status"

# the collection holds every valid object exactly once (paged GET)
python3 - "$API/collections/intel/objects/" "$TOKEN" "$WORK/ids" >"$WORK/held" 2>&1 <<'PY' || fail "stored objects: $(cat "$WORK/held")"
import json, sys, urllib.request
url, token, idfile = sys.argv[1:4]
want = set(open(idfile).read().split())
seen = []
nxt = None
while True:
    q = url + "?limit=100" + (f"&next={nxt}" if nxt else "")
    rq = urllib.request.Request(q, headers={"Authorization": "Bearer " + token,
                                            "Accept": "application/taxii+json;version=2.1"})
    page = json.load(urllib.request.urlopen(rq))
    seen += [o["id"] for o in page.get("objects", [])]
    if not page.get("more"):
        break
    nxt = page["next"]
assert len(seen) == len(set(seen)), "an object is stored twice"
assert set(seen) == want, (len(seen), len(want))
print(len(seen))
PY
[ "$(cat "$WORK/held")" = $((ROUNDS * CLIENTS * PER + 1)) ] && ok "every valid object stored exactly once"

server_stop || fail "server did not stop cleanly"
read -r v1 l1 < <(stats)
[ $((v1 - v0)) = $((ROUNDS * CLIENTS * PER + 1)) ] || fail "versions grew by $((v1 - v0))"
[ $((l1 - l0)) = $((v1 - v0)) ] && ok "ledger grew by exactly the stored versions" ||
    fail "ledger grew by $((l1 - l0)), versions by $((v1 - v0))"
dt ledger verify >"$WORK/verify" 2>&1 && grep -q '^ok:' "$WORK/verify" && ok "ledger verify" ||
    fail "ledger verify: $(cat "$WORK/verify")"
finish
