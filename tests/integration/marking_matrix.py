#!/usr/bin/env python3
"""The matrix of tests/integration/marking_matrix.sh (issue 9).

usage: marking_matrix.py gen WORK          write WORK/ours.jsonl, WORK/theirs.jsonl
       marking_matrix.py check WORK BASE   run every read path for every requester

Every HTTP request is made with curl. The expectations are restated here
from the rules (docs: markings), not read from the node: a requester's
clearance is its account's max_marking (peer accounts: at most
AMBER+STRICT; anonymous: nothing in a collection); an object's level is its
most restrictive TLP object marking, or the node's default (AMBER) when it
has none; a peer is never served AMBER or AMBER+STRICT signed by another
party; a part under a granular marking above the clearance (for a peer and
another party's object: above GREEN) is removed and the copy is unsigned.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import uuid

CLEAR, GREEN, AMBER, AS, RED = range(5)
NAMES = ["clear", "green", "amber", "amber+strict", "red"]
TLP2 = ["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
TLP1 = {CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}
EXT = "extension-definition--490c1b4f-d5a0-48ef-9eee-dc008e1732e6"
DEFAULT = AMBER
T1, T2 = "2024-03-01T00:00:00.000Z", "2024-03-02T00:00:00.000Z"

# key -> (object markings, granular level on description or None, ours?)
OBJECTS = {
    "clear": ([TLP2[CLEAR]], None, True),
    "white": ([TLP1[CLEAR]], None, True),
    "green": ([TLP2[GREEN]], None, True),
    "green1": ([TLP1[GREEN]], None, True),
    "amber": ([TLP2[AMBER]], None, True),
    "amber1": ([TLP1[AMBER]], None, True),
    "as": ([TLP2[AS]], None, True),
    "red": ([TLP2[RED]], None, True),
    "red1": ([TLP1[RED]], None, True),
    "unmarked": ([], None, True),
    "mixed-green-red": ([TLP2[GREEN], TLP2[RED]], None, True),
    "mixed-green1-amber": ([TLP1[GREEN], TLP2[AMBER]], None, True),
    "mixed-clear-as": ([TLP2[CLEAR], TLP2[AS]], None, True),
    "t-clear": ([TLP2[CLEAR]], None, False),
    "t-green": ([TLP2[GREEN]], None, False),
    "t-amber": ([TLP2[AMBER]], None, False),
    "t-as": ([TLP2[AS]], None, False),
    "t-red": ([TLP2[RED]], None, False),
    "t-unmarked": ([], None, False),
    "t-g-amber": ([TLP2[GREEN]], AMBER, False),
}
for lv in range(5):
    OBJECTS["g-" + NAMES[lv]] = ([TLP2[GREEN]], lv, True)
# one id, two versions: GREEN, then RED
MV = {"mv": [([TLP2[GREEN]], T1), ([TLP2[RED]], T2)]}


def oid(key):
    return "indicator--" + str(uuid.uuid5(uuid.NAMESPACE_URL, "detente-matrix/" + key))


def level(refs):
    lv = [i for i, m in enumerate(TLP2) if m in refs] + [k for k, m in TLP1.items() if m in refs]
    return max(lv) if lv else DEFAULT


def indicator(key, refs, modified, gm, n):
    o = {"type": "indicator", "spec_version": "2.1", "id": oid(key.split("@")[0]),
         "created": T1, "modified": modified, "name": "tok-" + key,
         "description": ("secret-" if gm is not None else "desc-") + key,
         "pattern": "[domain-name:value = 'm%d.example.org']" % n, "pattern_type": "stix",
         "valid_from": "2024-01-01T00:00:00Z"}
    if refs:
        o["object_marking_refs"] = refs
    if gm is not None:
        o["granular_markings"] = [{"marking_ref": TLP2[gm], "selectors": ["description"]}]
    return o


# every version: (key, id, modified, level, ours, granular level, token)
VERSIONS = []
for i, (k, (refs, gm, ours)) in enumerate(OBJECTS.items()):
    VERSIONS.append(dict(key=k, id=oid(k), modified=T1, level=level(refs), ours=ours, gm=gm,
                         obj=indicator(k, refs, T1, gm, i), last=True))
for k, vs in MV.items():
    for j, (refs, mod) in enumerate(vs):
        key = "%s@%d" % (k, j + 1)
        VERSIONS.append(dict(key=key, id=oid(k), modified=mod, level=level(refs), ours=True,
                             gm=None, obj=indicator(key, refs, mod, None, 100 + j),
                             last=j == len(vs) - 1))
BY_IDV = {(v["id"], v["modified"]): v for v in VERSIONS}
IDS = {v["id"] for v in VERSIONS}


def gen(work):
    with open(work + "/ours.jsonl", "w") as a, open(work + "/theirs.jsonl", "w") as b:
        for v in VERSIONS:
            (a if v["ours"] else b).write(json.dumps(v["obj"]) + "\n")


# ---- requesters ----
class R:
    def __init__(self, name, kind, max_marking, pw=None, reads=True):
        self.name, self.kind, self.reads = name, kind, reads
        self.pw = pw if pw is not None else "pw-%s-long" % name
        c = max_marking
        if kind == "peer":
            c = min(c, AS)
        self.clearance = c

    def sees(self, v):
        if not self.reads or self.kind == "anonymous":
            return False
        if v["level"] > self.clearance:
            return False
        if self.kind == "peer" and not v["ours"] and v["level"] > GREEN:
            return False
        return True

    def keep(self, v):  # granular markings up to this level stay
        if self.kind == "peer" and not v["ours"]:
            return min(self.clearance, GREEN)
        return self.clearance

    def auth(self):
        return [] if self.kind == "anonymous" else ["-u", "%s:%s" % (self.name, self.pw)]


REQUESTERS = [R("u-" + NAMES[lv].replace("+", "-"), "user", lv) for lv in range(5)] + [
    R("p-green", "peer", GREEN), R("p-amber-strict", "peer", AS), R("p-red", "peer", RED),
    R("u-none", "user", RED, reads=False), R("", "anonymous", CLEAR)]

FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def curl(work, url, auth, method="GET", data=None, headers=()):
    cmd = ["curl", "-g", "-s", "-X", method, "-D", work + "/h", "-o", work + "/b", "-w",
           "%{http_code}", "-H", "Accept: application/taxii+json;version=2.1"] + auth
    for h in headers:
        cmd += ["-H", h]
    if data is not None:
        cmd += ["--data-binary", data]
    code = int(subprocess.run(cmd + [url], capture_output=True, text=True).stdout or 0)
    with open(work + "/b", "rb") as f:
        body = f.read().decode("utf-8", "replace")
    hdrs = {}
    with open(work + "/h") as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                hdrs.setdefault(k.strip().lower(), []).append(v.strip())
    return code, body, hdrs


def tokens_hidden_from(r):
    """Strings that must never reach r: tokens of versions r may not see,
    and parts under granular markings above what r keeps."""
    out = []
    for v in VERSIONS:
        if not r.sees(v):
            out += ["tok-" + v["key"], "secret-" + v["key"], "desc-" + v["key"]]
        elif v["gm"] is not None and v["gm"] > r.keep(v):
            out.append("secret-" + v["key"])
    return out


def no_hidden(r, body, where):
    bad = [t for t in tokens_hidden_from(r) if '"' + t + '"' in body or t + "\"" in body]
    check(not bad, "%s: %s was served %s" % (r.name or "anonymous", where, bad[:3]))


def jcs(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sig_ok(o):
    """None: unsigned; True/False: the signature verifies."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    ext = (o.get("extensions") or {}).get(EXT)
    if ext is None:
        return None
    c = json.loads(json.dumps(o))
    del c["extensions"][EXT]
    if not c["extensions"]:
        del c["extensions"]
    try:
        pk = base64.b64decode(ext["public_key"].split(":", 1)[1])
        Ed25519PublicKey.from_public_bytes(pk).verify(base64.b64decode(ext["signature"]),
                                                      jcs(c).encode())
        return True
    except Exception:
        return False


def check_copy(r, o, where):
    v = BY_IDV.get((o["id"], o.get("modified")))
    if v is None:
        return
    who = r.name or "anonymous"
    redact = v["gm"] is not None and v["gm"] > r.keep(v)
    if redact:
        check("description" not in o, "%s: %s: description under a too-high marking" % (who, where))
        check(o.get("x_detente_redacted") is True, "%s: %s: redacted copy not marked" % (who, where))
        check(sig_ok(o) is None, "%s: %s: redacted copy still signed" % (who, where))
        check("granular_markings" not in o, "%s: %s: granular marking left" % (who, where))
    else:
        check(o.get("description") == v["obj"]["description"],
              "%s: %s: description removed without cause" % (who, where))
        check(sig_ok(o) is True, "%s: %s: unredacted copy without a valid signature" % (who, where))


def page_all(work, r, url, key):
    """Follow `next` to the end; returns (items, [(hdrs, items)] per page)."""
    items, pages, nxt = [], [], None
    for _ in range(200):
        u = url + ("&next=" + nxt if nxt else "")
        code, body, hdrs = curl(work, u, r.auth())
        if not check(code == 200, "%s: %s -> %d %s" % (r.name, u, code, body[:200])):
            return items, pages
        no_hidden(r, body, u)
        j = json.loads(body)
        got = j.get(key, [])
        pages.append((hdrs, got, j.get("more", False)))
        items += got
        if not j.get("more"):
            check("next" not in j, "%s: %s: `next` on the last page" % (r.name, u))
            break
        nxt = j.get("next")
    for i, (h, got, more) in enumerate(pages):
        if more:
            check(len(pages[i + 1][1]) > 0 if i + 1 < len(pages) else False,
                  "%s: %s: `more` promised a page that is empty" % (r.name, url))
    return items, pages


def taxii_matrix(work, api, r):
    who = r.name or "anonymous"
    coll = api + "/collections/intel"
    if r.kind == "anonymous":
        for u in [api + "/collections/", coll + "/", coll + "/objects/", coll + "/manifest/"] + \
                 [coll + "/objects/%s/" % i for i in sorted(IDS)] + \
                 [coll + "/objects/%s/versions/" % i for i in sorted(IDS)]:
            code, body, hdrs = curl(work, u, [])
            check(code == 401, "anonymous: %s -> %d" % (u, code))
            no_hidden(r, body, u)
            check("x-taxii-date-added-first" not in hdrs, "anonymous: %s: date header" % u)
        code, body, _ = curl(work, coll + "/objects/", ["-u", "u-red:wrong-password"])
        check(code == 401, "wrong password -> %d" % code)
        no_hidden(r, body, "wrong password")
        return
    if not r.reads:
        for u in [coll + "/", coll + "/objects/", coll + "/manifest/",
                  coll + "/objects/%s/" % oid("clear")]:
            code, body, _ = curl(work, u, r.auth())
            check(code == 404, "%s: %s -> %d (a collection without a grant is not disclosed)"
                  % (who, u, code))
            no_hidden(r, body, u)
        return

    want_last = {(v["id"], v["modified"]) for v in VERSIONS if v["last"] and r.sees(v)}
    want_all = {(v["id"], v["modified"]) for v in VERSIONS if r.sees(v)}

    # manifest (every version), paged: the dates a requester may know
    man, _ = page_all(work, r, coll + "/manifest/?limit=4&match[version]=all", "objects")
    got = [(m["id"], m["version"]) for m in man]
    mine = {(i, m) for (i, m) in got if i in IDS}
    check(len(got) == len(set(got)), "%s: manifest repeats a row" % who)
    check(mine == want_all, "%s: manifest: extra %s missing %s" % (
        who, sorted(BY_IDV[x]["key"] for x in mine - want_all),
        sorted(BY_IDV[x]["key"] for x in want_all - mine)))
    dates = {m["date_added"] for m in man}

    for q, want in [("limit=3", want_last), ("limit=5&match[version]=all", want_all),
                    ("limit=2&match[type]=indicator", want_last)]:
        objs, pages = page_all(work, r, coll + "/objects/?" + q, "objects")
        got = [(o["id"], o.get("modified")) for o in objs]
        mine = {x for x in got if x[0] in IDS}
        check(len(got) == len(set(got)), "%s: objects?%s repeats a row" % (who, q))
        check(mine == want, "%s: objects?%s: extra %s missing %s" % (
            who, q, sorted(BY_IDV[x]["key"] for x in mine - want),
            sorted(BY_IDV[x]["key"] for x in want - mine)))
        for o in objs:
            check_copy(r, o, "objects?" + q)
        for h, _, _ in pages:
            for k in ("x-taxii-date-added-first", "x-taxii-date-added-last"):
                for d in h.get(k, []):
                    check(d in dates, "%s: objects?%s: %s %s is no date it may know" % (who, q, k, d))

    for i in sorted(IDS):
        vs = [v for v in VERSIONS if v["id"] == i]
        last = [v for v in vs if v["last"]][0]
        key = last["key"]
        code, body, hdrs = curl(work, coll + "/objects/%s/" % i, r.auth())
        no_hidden(r, body, "object " + key)
        if r.sees(last):
            if check(code == 200, "%s: object %s -> %d" % (who, key, code)):
                objs = json.loads(body)["objects"]
                check(len(objs) == 1 and objs[0]["modified"] == last["modified"],
                      "%s: object %s: not its newest version" % (who, key))
                for o in objs:
                    check_copy(r, o, "object " + key)
        else:
            check(code == 404, "%s: object %s (hidden) -> %d" % (who, key, code))
            check("x-taxii-date-added-first" not in hdrs and "x-taxii-date-added-last" not in hdrs,
                  "%s: object %s (hidden): date headers" % (who, key))
        code, body, hdrs = curl(work, coll + "/objects/%s/versions/" % i, r.auth())
        no_hidden(r, body, "versions " + key)
        seen = sorted(v["modified"] for v in vs if r.sees(v))
        if seen:
            if check(code == 200, "%s: versions %s -> %d" % (who, key, code)):
                got = sorted(json.loads(body).get("versions", []))
                check(got == seen, "%s: versions %s: %s, expected %s" % (who, key, got, seen))
        else:
            check(code == 404, "%s: versions %s (hidden) -> %d %s" % (who, key, code, body[:100]))
            check("x-taxii-date-added-first" not in hdrs, "%s: versions %s: date header" % (who, key))


def writes(work, api, users):
    """Status resources belong to their requester; a writer cannot reach
    (delete, or learn of) what it may not read."""
    coll = api + "/collections/intel"
    g = users["u-green"]
    obj = indicator("posted", [TLP2[GREEN]], T1, None, 300)
    code, body, _ = curl(work, coll + "/objects/", g.auth(), "POST", json.dumps({"objects": [obj]}),
                         ["Content-Type: application/taxii+json;version=2.1"])
    if check(code == 202, "u-green: POST -> %d %s" % (code, body[:200])):
        sid = json.loads(body)["id"]
        code, _, _ = curl(work, api + "/status/%s/" % sid, users["u-red"].auth())
        check(code == 404, "u-red: another account's status -> %d" % code)
        code, _, _ = curl(work, api + "/status/%s/" % sid, [])
        check(code == 401, "anonymous: status -> %d" % code)
        code, _, _ = curl(work, api + "/status/%s/" % sid, g.auth())
        check(code == 200, "u-green: own status -> %d" % code)
    for key in ("red", "amber", "mixed-green-red"):
        code, body, _ = curl(work, coll + "/objects/%s/" % oid(key), g.auth(), "DELETE")
        check(code == 404, "u-green (GREEN, may write): DELETE %s -> %d" % (key, code))
        no_hidden(g, body, "DELETE " + key)
        code, _, _ = curl(work, coll + "/objects/%s/" % oid(key), users["u-red"].auth())
        check(code == 200, "%s was deleted by an account that may not read it" % key)
    code, _, _ = curl(work, coll + "/objects/%s/" % oid("mv"), g.auth(), "DELETE")
    check(code == 200, "u-green: DELETE of the version it may read -> %d" % code)
    code, body, _ = curl(work, coll + "/objects/%s/versions/" % oid("mv"), users["u-red"].auth())
    check(code == 200 and json.loads(body).get("versions") == [T2],
          "mv: the RED version must survive a GREEN account's delete: %d %s" % (code, body[:200]))


# ---- the ledger ----
def h_leaf(b):
    return hashlib.sha256(b"\x00" + b).digest()


def h_node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def mth(hs):
    if len(hs) == 0:
        return hashlib.sha256(b"").digest()
    if len(hs) == 1:
        return hs[0]
    k = 1
    while k * 2 < len(hs):
        k *= 2
    return h_node(mth(hs[:k]), mth(hs[k:]))


def inclusion_root(index, size, leaf, path):
    # RFC 9162 section 2.1.3.2
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = h_node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = h_node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def ledger_matrix(work, base, r, proofs=True):
    who = r.name or "anonymous"
    api = base + "/detente/v1"
    code, body, _ = curl(work, api + "/ledger/sth", r.auth())
    if not check(code == 200, "%s: ledger/sth -> %d %s" % (who, code, body[:200])):
        return
    sth = json.loads(body)
    size, root = sth["tree_size"], base64.b64decode(sth["sha256_root_hash"])
    hashes, start = [], 0
    while start < size:
        code, body, _ = curl(work, api + "/ledger/entries?start=%d&end=%d" % (start, size - 1),
                             r.auth())
        if not check(code == 200, "%s: ledger/entries -> %d %s" % (who, code, body[:200])):
            return
        no_hidden(r, body, "ledger/entries")
        for e in json.loads(body)["entries"]:
            if "leaf_input" in e:
                leaf = base64.b64decode(e["leaf_input"])
                j = json.loads(leaf)
                if j.get("id") in IDS:
                    v = BY_IDV.get((j["id"], j.get("modified")))
                    if v is None:  # a tombstone: "modified" may be "all"
                        vis = any(r.sees(x) for x in VERSIONS if x["id"] == j["id"])
                    else:
                        vis = r.sees(v)
                    check(vis, "%s: ledger/entries: the leaf of %s, which it may not read"
                          % (who, v["key"] if v else j["id"]))
                hashes.append(h_leaf(leaf))
            else:
                check("leaf_hash" in e, "%s: ledger/entries: an entry without leaf" % who)
                hashes.append(base64.b64decode(e["leaf_hash"]))
        start = len(hashes)
    check(len(hashes) == size and mth(hashes) == root,
          "%s: ledger/entries do not hash to the signed head" % who)
    # proofs by id: a hidden version is not found; a visible one verifies
    for v in VERSIONS if proofs else []:
        code, body, _ = curl(work, api + "/ledger/proof/inclusion?id=%s&version=%s&tree_size=%d"
                             % (v["id"], v["modified"], size), r.auth())
        if r.sees(v):
            if check(code == 200, "%s: inclusion proof of %s -> %d %s" % (who, v["key"], code, body[:150])):
                p = json.loads(body)
                i = p["leaf_index"]
                path = [base64.b64decode(x) for x in p["audit_path"]]
                check(inclusion_root(i, size, hashes[i], path) == root,
                      "%s: inclusion proof of %s does not verify" % (who, v["key"]))
        else:
            check(code == 404, "%s: inclusion proof of hidden %s -> %d" % (who, v["key"], code))


def verdict_matrix(work, base, r):
    who = r.name or "anonymous"
    api = base + "/detente/v1"
    code, body, _ = curl(work, api + "/verdicts?limit=10000", r.auth())
    no_hidden(r, body, "verdicts")
    want = {v["id"] for v in VERSIONS if v["last"] and r.sees(v)}
    if not check(code == 200, "%s: verdicts -> %d %s" % (who, code, body[:200])):
        return
    got = {c["id"] for c in json.loads(body)["verdicts"] if c["id"] in IDS}
    check(got == want, "%s: verdicts: extra %s missing %s" % (who, len(got - want), len(want - got)))
    nclaims = len(json.loads(body)["verdicts"])
    for i in sorted(IDS):
        code, body, _ = curl(work, api + "/verdicts/" + i, r.auth())
        no_hidden(r, body, "verdicts/" + i)
        check(code == (200 if i in want else 404), "%s: verdicts/%s -> %d" % (who, i, code))
    code, body, _ = curl(work, api + "/reliability", r.auth())
    no_hidden(r, body, "reliability")
    if check(code == 200, "%s: reliability -> %d" % (who, code)):
        j = json.loads(body)
        srcs = j if isinstance(j, list) else j.get("sources", [])
        total = sum(s.get("claims", 0) for s in srcs)
        check(total <= nclaims, "%s: reliability counts %d claims, it may read %d" % (who, total, nclaims))


def operator(work):
    """`detente export` (the operator): every version, signed and intact."""
    with open(work + "/export.json") as f:
        objs = [o for o in json.load(f)["objects"] if o.get("id") in IDS]
    got = {(o["id"], o["modified"]) for o in objs}
    check(got == set(BY_IDV), "export: %d of %d versions" % (len(got), len(BY_IDV)))
    for o in objs:
        v = BY_IDV[(o["id"], o["modified"])]
        check(o.get("description") == v["obj"]["description"], "export: %s redacted" % v["key"])
        check(sig_ok(o) is True, "export: %s without a valid signature" % v["key"])


def main():
    if sys.argv[1] == "gen":
        gen(sys.argv[2])
        return
    work, base = sys.argv[2], sys.argv[3]
    api = base + "/api"
    operator(work)
    users = {r.name: r for r in REQUESTERS}
    for r in REQUESTERS:
        taxii_matrix(work, api, r)
        ledger_matrix(work, base, r)
        verdict_matrix(work, base, r)
    writes(work, api, users)
    # after the writes, the ledger still hashes to its head for everyone
    for r in REQUESTERS:
        ledger_matrix(work, base, r, proofs=False)
    print("%d checks, %d failed" % (CHECKS[0], len(FAILS)))
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
