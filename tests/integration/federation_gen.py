#!/usr/bin/env python3
"""Write N distinct STIX 2.1 indicators as JSON lines (for federation tests
and bench/sync.sh): federation_gen.py N [SEED [MARKING-ID]] > file.jsonl"""
import sys
import uuid

n = int(sys.argv[1])
seed = sys.argv[2] if len(sys.argv) > 2 else "detente"
ns = uuid.uuid5(uuid.NAMESPACE_DNS, seed)
marking = sys.argv[3] if len(sys.argv) > 3 else None
refs = ',"object_marking_refs":["%s"]' % marking if marking else ""
out = sys.stdout
for i in range(n):
    ip = "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    out.write('{"type":"indicator","spec_version":"2.1","id":"indicator--%s",'
              '"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",'
              '"name":"gen %s %d","pattern":"[ipv4-addr:value = \'%s\']","pattern_type":"stix",'
              '"valid_from":"2026-01-01T00:00:00Z","indicator_types":["malicious-activity"]%s}\n'
              % (uuid.uuid5(ns, str(i)), seed, i, ip, refs))
