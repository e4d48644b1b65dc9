#!/usr/bin/env python3
"""Stand-in for `detente serve` in the federation tests, until the server
has the /detente/v1/ledger endpoints: serves a real node's data directory
(read-only, straight from its SQLite store) over TAXII 2.1 and the ledger
API of docs/federation.md.

Objects, manifest and date_added come from the store's `objects` table; the
ledger from its `leaves` table, re-hashed on every request (SHA-256(0x00 ||
leaf) and RFC 9162 trees), so a test that edits a leaf in the database sees
the node serve a rewritten history, as a real node whose database was
tampered with would. Tree heads are signed with the node's own key.
/detente/v1/ledger/witnessed is what `detente peer witnessed` prints for
that node.

usage: federation_fake_node.py HOME PORT DETENTE_BIN [--user U:P] [--tls CERT KEY]
"""
import base64
import hashlib
import http.server
import json
import sqlite3
import subprocess
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import argparse
import ssl

ap = argparse.ArgumentParser()
ap.add_argument("home")
ap.add_argument("port", type=int)
ap.add_argument("bin")
ap.add_argument("--user")
ap.add_argument("--tls", nargs=2)
args = ap.parse_args()
HOME, PORT, BIN = args.home, args.port, args.bin
AUTH = "Basic " + base64.b64encode(args.user.encode()).decode() if args.user else None
SCHEME = "https" if args.tls else "http"
TAXII = "application/taxii+json;version=2.1"

with open(HOME + "/key.secret") as f:
    sk = base64.b64decode(f.read().strip().split(":", 1)[1])
KEY = Ed25519PrivateKey.from_private_bytes(sk[:32])


def db():
    c = sqlite3.connect("file:%s/detente.db?mode=ro" % HOME, uri=True, timeout=10,
                        check_same_thread=False)
    c.execute("PRAGMA busy_timeout=10000")
    return c


def fmt_us(us):
    t = time.gmtime(us // 1000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%06dZ" % (us % 1000000)


def parse_ts(s):
    date, frac = s.rstrip("Z"), "0"
    if "." in date:
        date, frac = date.split(".")
    sec = int(__import__("calendar").timegm(time.strptime(date, "%Y-%m-%dT%H:%M:%S")))
    return sec * 1000000 + int((frac + "000000")[:6])


def h_leaf(b):
    return hashlib.sha256(b"\x00" + b).digest()


def h_node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


class Tree:
    def __init__(self, leaves):
        self.leaves = leaves
        self.memo = {}

    def mth(self, a, b):
        if (a, b) in self.memo:
            return self.memo[(a, b)]
        n = b - a
        if n == 0:
            r = hashlib.sha256(b"").digest()
        elif n == 1:
            r = self.leaves[a]
        else:
            k = 1
            while k * 2 < n:
                k *= 2
            r = h_node(self.mth(a, a + k), self.mth(a + k, b))
        self.memo[(a, b)] = r
        return r

    def path(self, m, a, b):
        n = b - a
        if n <= 1:
            return []
        k = 1
        while k * 2 < n:
            k *= 2
        if m < k:
            return self.path(m, a, a + k) + [self.mth(a + k, b)]
        return self.path(m - k, a + k, b) + [self.mth(a, a + k)]

    def subproof(self, m, a, b, whole):
        n = b - a
        if m == n:
            return [] if whole else [self.mth(a, b)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return self.subproof(m, a, a + k, whole) + [self.mth(a + k, b)]
        return self.subproof(m - k, a + k, b, False) + [self.mth(a, a + k)]


import os
import threading

_cache = {"key": None}
_lock = threading.Lock()


_conn = None


def load():
    """(leaf texts, leaf hashes, hash -> index, tree), cached until another
    connection commits (PRAGMA data_version; file times are too coarse)."""
    global _conn
    with _lock:
        if _conn is None:
            _conn = db()
            _conn.isolation_level = None
        key = _conn.execute("PRAGMA data_version").fetchone()[0]
        if _cache["key"] != key:
            texts = [r[0] for r in _conn.execute("SELECT leaf FROM leaves ORDER BY idx")]
            hs = [h_leaf(t.encode()) for t in texts]
            _cache.update(key=key, texts=texts, hashes=hs,
                          index={h: i for i, h in enumerate(hs)}, tree=Tree(hs))
        return _cache["texts"], _cache["hashes"], _cache["index"], _cache["tree"]


def leaves():
    return load()[1]


def b64(x):
    return base64.b64encode(x).decode()


def jcs(o):
    return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        p = u.path
        if AUTH and not p.startswith("/detente/") and self.headers.get("Authorization") != AUTH:
            return self.send(401, json.dumps({"title": "unauthorized"}), TAXII)
        try:
            if p == "/taxii2/":
                root = "%s://%s:%d/api/" % (SCHEME, "localhost" if args.tls else "127.0.0.1", PORT)
                return self.send(200, json.dumps({"title": "fake", "default": root,
                                                  "api_roots": [root]}), TAXII)
            if p == "/api/collections/":
                with db() as c:
                    cs = [{"id": r[0], "title": r[1], "can_read": True, "can_write": False}
                          for r in c.execute("SELECT id, title FROM collections ORDER BY id")]
                return self.send(200, json.dumps({"collections": cs} if cs else {}), TAXII)
            parts = p.strip("/").split("/")
            if len(parts) == 4 and parts[:2] == ["api", "collections"] and \
                    parts[3] in ("objects", "manifest"):
                return self.page(urllib.parse.unquote(parts[2]), parts[3] == "objects", q)
            if p == "/detente/v1/ledger/sth":
                _, ls, _, tree = load()
                root = tree.mth(0, len(ls))
                ts = int(time.time() * 1000)
                msg = jcs({"root_hash": b64(root), "timestamp": ts, "tree_size": len(ls)})
                sig = KEY.sign(msg.encode())
                return self.send(200, jcs({"sha256_root_hash": b64(root), "timestamp": ts,
                                           "tree_head_signature": b64(sig),
                                           "tree_size": len(ls)}))
            if p == "/detente/v1/ledger/proof/inclusion":
                _, ls, index, tree = load()
                n = int(q["tree_size"])
                want = base64.b64decode(q["hash"])
                if n > len(ls):
                    return self.send(400, json.dumps({"title": "tree_size beyond the log"}))
                i = index.get(want)
                if i is None or i >= n:
                    return self.send(404, json.dumps({"title": "no such leaf"}))
                path = tree.path(i, 0, n)
                return self.send(200, jcs({"audit_path": [b64(x) for x in path],
                                           "leaf_index": i}))
            if p == "/detente/v1/ledger/entries":
                texts = load()[0]
                a, b = int(q["start"]), int(q["end"])
                if not 0 <= a <= b < len(texts):
                    return self.send(400, json.dumps({"title": "bad range"}))
                b = min(b, a + 999)
                return self.send(200, json.dumps({"entries": [
                    {"leaf_input": b64(t.encode())} for t in texts[a:b + 1]]}))
            if p == "/detente/v1/ledger/proof/consistency":
                _, ls, _, tree = load()
                m, n = int(q["first"]), int(q["second"])
                if not 0 <= m <= n <= len(ls):
                    return self.send(400, json.dumps({"title": "bad sizes"}))
                proof = [] if m == 0 or m == n else tree.subproof(m, 0, n, True)
                return self.send(200, jcs({"consistency": [b64(x) for x in proof]}))
            if p == "/detente/v1/ledger/witnessed":
                out = subprocess.run([BIN, "--home", HOME, "peer", "witnessed"],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    return self.send(500, json.dumps({"title": out.stderr.strip()}))
                return self.send(200, out.stdout.strip())
            return self.send(404, json.dumps({"title": "not found"}), TAXII)
        except Exception as e:  # a test helper: say what broke
            return self.send(500, json.dumps({"title": repr(e)}))

    def do_POST(self):
        """TAXII add objects, written through the node's own door in
        (`detente import`, which keeps the objects' signatures)."""
        import re
        import tempfile
        import uuid as _uuid
        p = urllib.parse.urlsplit(self.path).path
        parts = p.strip("/").split("/")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if AUTH and self.headers.get("Authorization") != AUTH:
            return self.send(401, json.dumps({"title": "unauthorized"}), TAXII)
        if not (len(parts) == 4 and parts[:2] == ["api", "collections"] and parts[3] == "objects"):
            return self.send(404, json.dumps({"title": "not found"}), TAXII)
        objects = json.loads(body).get("objects", [])
        total = len(objects)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(objects, f)
            f.flush()
            out = subprocess.run([BIN, "--home", HOME, "import", "--collection",
                                  urllib.parse.unquote(parts[2]), f.name],
                                 capture_output=True, text=True)
        m = re.search(r"(\d+) new, (\d+) already held, (\d+) rejected", out.stdout)
        if not m:
            return self.send(500, json.dumps({"title": out.stderr.strip()[:200]}))
        new, dup, rej = (int(x) for x in m.groups())
        return self.send(202, json.dumps({"id": str(_uuid.uuid4()), "status": "complete",
                                          "total_count": total, "success_count": new + dup,
                                          "failure_count": rej, "pending_count": 0}), TAXII)

    def page(self, coll, with_json, q):
        after = parse_ts(q["added_after"]) if "added_after" in q else 0
        limit = int(q.get("limit", "100"))
        with db() as c:
            rows = c.execute(
                "SELECT id, modified_text, date_added, json FROM objects WHERE collection=? "
                "AND date_added>? AND deleted=0 ORDER BY date_added, rowid LIMIT ?",
                (coll, after, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        if not rows:
            return self.send(200, json.dumps({"more": False}), TAXII)
        hdr = {"X-TAXII-Date-Added-First": fmt_us(rows[0][2]),
               "X-TAXII-Date-Added-Last": fmt_us(rows[-1][2])}
        if with_json:
            body = '{"more":%s,"objects":[%s]}' % ("true" if more else "false",
                                                  ",".join(r[3] for r in rows))
        else:
            body = json.dumps({"more": more, "objects": [
                {"id": r[0], "version": r[1], "date_added": fmt_us(r[2]),
                 "media_type": "application/stix+json;version=2.1"} for r in rows]})
        return self.send(200, body, TAXII, hdr)


http.server.ThreadingHTTPServer.allow_reuse_address = True
srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), H)
if args.tls:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(args.tls[0], args.tls[1])
    srv.socket = tls.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
