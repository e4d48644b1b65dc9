#!/usr/bin/env python3
"""An independent check of a detente node's ledger over HTTP, written from
RFC 9162 (section 2.1) and docs/ledger.md only, sharing no code with detente.

usage: ledger_independent.py BASE_URL PUBLIC_KEY [OLD_STH_FILE]

Fetches GET /detente/v1/ledger/sth, every entry through /ledger/entries,
recomputes the Merkle tree hash of the leaves and compares it with the
head's root, checks the inclusion proof of a few leaves (fetched by leaf
hash) and, given an older head, the consistency proof between the two.
The head's Ed25519 signature over the JCS of {root_hash, timestamp,
tree_size} is checked with the `cryptography` package when it is installed
(exit status 3 says it was not, so the caller checks it another way).
Prints one line per check; exit 0 when all hold, 1 otherwise."""
import base64, hashlib, json, sys, urllib.parse, urllib.request


def sha(b):
    return hashlib.sha256(b).digest()


def leaf_hash(b):
    return sha(b"\x00" + b)


def node_hash(l, r):
    return sha(b"\x01" + l + r)


def mth(leaves):
    """RFC 9162 2.1.1: split at the largest power of two smaller than n."""
    n = len(leaves)
    if n == 0:
        return sha(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(h, index, size, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, h
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, root1, root2, path):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not path and root1 == root2
    if first == 0:
        return not path and root1 == sha(b"")
    if first > second or not path:
        return False
    if first & (first - 1) == 0:  # a power of two: root1 itself starts the path
        path = [root1] + path
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


def get(base, path):
    with urllib.request.urlopen(base + "/detente/v1/" + path, timeout=30) as r:
        return json.load(r)


def main():
    base, key = sys.argv[1].rstrip("/"), sys.argv[2]
    bad = 0

    def check(ok, what):
        nonlocal bad
        print(("ok   " if ok else "FAIL ") + what)
        bad += 0 if ok else 1

    sth = get(base, "ledger/sth")
    size = sth["tree_size"]
    root = base64.b64decode(sth["sha256_root_hash"])
    leaves = []
    while len(leaves) < size:
        page = get(base, f"ledger/entries?start={len(leaves)}&end={size - 1}")["entries"]
        if not page:
            break
        # a leaf of an object the requester may not read comes as its hash only
        leaves += [leaf_hash(base64.b64decode(e["leaf_input"])) if "leaf_input" in e
                   else base64.b64decode(e["leaf_hash"]) for e in page]
    check(len(leaves) == size, f"{len(leaves)} entries fetched for tree size {size}")
    check(mth(leaves[:size]) == root, "root recomputed from the entries equals the head's root")
    for i in sorted({0, size // 2, size - 1}):
        q = urllib.parse.urlencode({"hash": base64.b64encode(leaves[i]).decode(), "tree_size": size})
        p = get(base, "ledger/proof/inclusion?" + q)
        path = [base64.b64decode(x) for x in p["audit_path"]]
        check(p["leaf_index"] == i and verify_inclusion(leaves[i], i, size, path, root),
              f"inclusion proof of leaf {i}")
        # a forged path must fail
        if path:
            forged = [bytes([path[0][0] ^ 1]) + path[0][1:]] + path[1:]
            check(not verify_inclusion(leaves[i], i, size, forged, root),
                  f"a forged proof of leaf {i} is rejected")
    if len(sys.argv) > 3:
        old = json.load(open(sys.argv[3]))
        c = get(base, f"ledger/proof/consistency?first={old['tree_size']}&second={size}")
        path = [base64.b64decode(x) for x in c["consistency"]]
        check(verify_consistency(old["tree_size"], size, base64.b64decode(old["sha256_root_hash"]),
                                 root, path), f"consistency {old['tree_size']} -> {size}")
        check(mth(leaves[:old["tree_size"]]) == base64.b64decode(old["sha256_root_hash"]),
              "the old head's root is the root of the first entries")
    msg = json.dumps({"root_hash": sth["sha256_root_hash"], "timestamp": sth["timestamp"],
                      "tree_size": size}, separators=(",", ":"), sort_keys=True).encode()
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        print("skip Ed25519: the cryptography package is not installed")
        return 3 if bad == 0 else 1
    pk = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.split(":", 1)[1]))
    try:
        pk.verify(base64.b64decode(sth["tree_head_signature"]), msg)
        check(True, "head signature verifies under the pinned key")
    except Exception:
        check(False, "head signature verifies under the pinned key")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
