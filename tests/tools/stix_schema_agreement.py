#!/usr/bin/python3
"""Agreement between detente's STIX 2.1 validator and the OASIS JSON schemas.

Takes the shipped OASIS example objects (tests/data/stix/) plus a few
hand-written ones for types the examples lack, generates a few hundred
deterministic mutations of them (drop a property, wrong JSON type, bad id,
bad timestamp, bad enum value, out-of-range number, modified < created, ...),
validates every one with the schemas (python3-jsonschema, offline: the
schemas are loaded from tests/data/stix2-json-schemas into a local store)
and with `detente validate --json`, and fails unless both say the same,
except for the rules listed in SCHEMA_CANNOT, where the specification asks
for more than a JSON schema can express and detente must be the stricter.

Usage: stix_schema_agreement.py SRC_DIR DETENTE_BIN
Exit 0 on agreement (or SKIP when jsonschema is not importable), 1 otherwise.
"""
import copy
import glob
import json
import os
import random
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(0)

# Rules of the specification the schemas do not (or cannot) express. For
# mutations tagged with these, detente rejecting what the schema accepts is
# expected; the reverse would still be a failure.
SCHEMA_CANNOT = {
    "modified-before-created": "ordering of two timestamps (spec 3.2: modified >= created)",
    "valid-until-not-after-from": "ordering of two timestamps (indicator: valid_until > valid_from)",
    "last-before-first": "ordering of two timestamps (first_seen/last_seen, first_observed/last_observed)",
    "spec-version-2.0": "schemas accept \"2.0\"; a STIX 2.1 object carries \"2.1\" (spec 3.2)",
    "custom-name-hyphen": "schema's property-name regex is unanchored at the end; spec 11.1 allows only [a-z0-9_]",
    "bad-date": "schema regex accepts impossible dates such as February 30",
    "selector-unresolved": "a granular marking selector must name a property of the object (spec 7.2.3.1)",
    "ref-type": "core.json types object_marking_refs as any identifier; the spec requires marking-definition ids",
    "created-seconds-only": "marking-definition's schema does not apply core.json's millisecond rule (spec 3.2)",
    "custom-bad-name": "marking-definition's schema does not apply properties.json (spec 11.1 names)",
    "custom-bin": "marking-definition's schema does not apply properties.json (*_bin is base64)",
    "drop-created_by_ref": "extension-definition requires created_by_ref (spec 7.3); its schema does not",
}

SCHEMA_DIRS = {
    "sdos": ["attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
             "indicator", "infrastructure", "intrusion-set", "location", "malware",
             "malware-analysis", "note", "observed-data", "opinion", "report", "threat-actor",
             "tool", "vulnerability"],
    "sros": ["relationship", "sighting"],
    "observables": ["artifact", "autonomous-system", "directory", "domain-name", "email-addr",
                    "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
                    "network-traffic", "process", "software", "url", "user-account",
                    "windows-registry-key", "x509-certificate"],
    "common": ["marking-definition", "language-content", "extension-definition"],
}

U = "--6b0e7a6e-5b3a-4c1e-9d6e-1f2a3b4c5d6e"
T0 = "2020-01-02T03:04:05.678Z"

# Types the OASIS examples do not carry, written for this test.
EXTRA = [
    {"type": "opinion", "spec_version": "2.1", "id": "opinion" + U, "created": T0, "modified": T0,
     "opinion": "agree", "object_refs": ["indicator" + U]},
    {"type": "location", "spec_version": "2.1", "id": "location" + U, "created": T0, "modified": T0,
     "latitude": 48.85, "longitude": 2.35, "precision": 10.0},
    {"type": "note", "spec_version": "2.1", "id": "note" + U, "created": T0, "modified": T0,
     "content": "checked", "object_refs": ["malware" + U]},
    {"type": "grouping", "spec_version": "2.1", "id": "grouping" + U, "created": T0, "modified": T0,
     "context": "suspicious-activity", "object_refs": ["indicator" + U]},
    {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr" + U, "value": "198.51.100.0/24"},
    {"type": "domain-name", "spec_version": "2.1", "id": "domain-name" + U, "value": "example.com"},
    {"type": "network-traffic", "spec_version": "2.1", "id": "network-traffic" + U,
     "src_ref": "ipv4-addr" + U, "dst_port": 443, "protocols": ["tcp"]},
    {"type": "artifact", "spec_version": "2.1", "id": "artifact" + U, "payload_bin": "aGVsbG8=",
     "encryption_algorithm": "AES-256-GCM", "decryption_key": "k"},
    {"type": "infrastructure", "spec_version": "2.1", "id": "infrastructure" + U, "created": T0,
     "modified": T0, "name": "c2", "first_seen": T0, "last_seen": T0},
    {"type": "malware-analysis", "spec_version": "2.1", "id": "malware-analysis" + U,
     "created": T0, "modified": T0, "product": "av", "result": "malicious"},
    {"type": "extension-definition", "spec_version": "2.1", "id": "extension-definition" + U,
     "created": T0, "modified": T0, "created_by_ref": "identity" + U, "name": "x",
     "schema": "https://example.com/s", "version": "1.0", "extension_types": ["property-extension"]},
    {"type": "mac-addr", "spec_version": "2.1", "id": "mac-addr" + U, "value": "d2:fb:49:24:37:18"},
    {"type": "autonomous-system", "spec_version": "2.1", "id": "autonomous-system" + U, "number": 15139},
]


def load_store(schema_root):
    store = {}
    for path in glob.glob(os.path.join(schema_root, "**", "*.json"), recursive=True):
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        store[s["$id"]] = s
    return store


def schema_for(store, schema_root, t):
    for d, types in SCHEMA_DIRS.items():
        if t in types:
            with open(os.path.join(schema_root, d, t + ".json"), encoding="utf-8") as f:
                s = json.load(f)
            return store[s["$id"]]
    return None


def make_validator(store, schema):
    cls = jsonschema.validators.validator_for(schema)
    resolver = jsonschema.RefResolver(base_uri=schema["$id"], referrer=schema, store=store)
    return cls(schema, resolver=resolver)


def earlier(ts):
    """One millisecond before an RFC 3339 timestamp with >= 3 digits."""
    import datetime
    body = ts[:-1]
    if "." not in body:
        body += ".000"
    main, frac = body.split(".")
    dt = datetime.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S")
    dt = dt + datetime.timedelta(microseconds=int(frac[:6].ljust(6, "0"))) - datetime.timedelta(milliseconds=1)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def wrong_type(v):
    if isinstance(v, bool):
        return "true"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return 42
    if isinstance(v, list):
        return "x"
    if isinstance(v, dict):
        return ["x"]
    return "x"


def mutations(obj, rnd):
    """(rule, mutated object) pairs for one base object."""
    out = []
    keys = [k for k in obj.keys()]
    for k in rnd.sample(keys, min(3, len(keys))):
        m = copy.deepcopy(obj)
        del m[k]
        out.append(("drop-" + k, m))
    k = rnd.choice(keys)
    m = copy.deepcopy(obj)
    m[k] = wrong_type(m[k])
    out.append(("wrong-type-" + k, m))
    m = copy.deepcopy(obj)
    m["id"] = obj["id"].split("--")[0] + "--not-a-uuid"
    out.append(("bad-id", m))
    m = copy.deepcopy(obj)
    m["id"] = ("campaign" if obj["type"] != "campaign" else "tool") + "--" + obj["id"].split("--")[1]
    out.append(("id-prefix", m))
    if "created" in obj:
        m = copy.deepcopy(obj)
        m["created"] = obj["created"].replace("T", " ")
        out.append(("bad-timestamp", m))
        m = copy.deepcopy(obj)
        m["created"] = obj["created"][:19] + "Z"
        out.append(("created-seconds-only", m))
    if "created" in obj and "modified" in obj:
        m = copy.deepcopy(obj)
        m["modified"] = earlier(obj["created"])
        out.append(("modified-before-created", m))
    if obj["type"] not in SCHEMA_DIRS["observables"] and "spec_version" in obj:
        m = copy.deepcopy(obj)
        m["spec_version"] = "2.0"
        out.append(("spec-version-2.0", m))
        m = copy.deepcopy(obj)
        m["spec_version"] = "3.0"
        out.append(("spec-version-3.0", m))
    if "created" in obj and obj["type"] != "marking-definition":
        for v, rule in ((101, "confidence-high"), (-1, "confidence-low"), (50, "confidence-ok")):
            m = copy.deepcopy(obj)
            m["confidence"] = v
            out.append((rule, m))
        m = copy.deepcopy(obj)
        m["labels"] = []
        out.append(("labels-empty", m))
        m = copy.deepcopy(obj)
        m["created_by_ref"] = "identity--0000"
        out.append(("created-by-bad-ref", m))
        m = copy.deepcopy(obj)
        m["external_references"] = [{"source_name": "x"}]
        out.append(("extref-source-only", m))
        m = copy.deepcopy(obj)
        m["external_references"] = [{"source_name": "cve", "external_id": "CVE-2021-1"}]
        out.append(("extref-bad-cve", m))
        m = copy.deepcopy(obj)
        m["severity"] = "high"
        out.append(("reserved-property", m))
    m = copy.deepcopy(obj)
    m["x_acme_score"] = 3
    out.append(("custom-ok", m))
    m = copy.deepcopy(obj)
    m["Bad_Name"] = 3
    out.append(("custom-bad-name", m))
    m = copy.deepcopy(obj)
    m["x_blob_bin"] = "not base64!"
    out.append(("custom-bin", m))
    m = copy.deepcopy(obj)
    m["object_marking_refs"] = ["identity" + U]
    out.append(("ref-type", m))  # the schema's core.json types these as any identifier
    t = obj["type"]
    if t == "indicator":
        m = copy.deepcopy(obj)
        m["valid_until"] = m["valid_from"]
        out.append(("valid-until-not-after-from", m))
    if t in ("campaign", "intrusion-set", "threat-actor", "infrastructure", "malware"):
        if "first_seen" in obj:
            m = copy.deepcopy(obj)
            m["last_seen"] = earlier(obj["first_seen"]) if "." in obj["first_seen"] else "1970-01-01T00:00:00Z"
            out.append(("last-before-first", m))
    if t == "opinion":
        m = copy.deepcopy(obj)
        m["opinion"] = "maybe"
        out.append(("bad-enum", m))
    if t == "artifact":
        m = copy.deepcopy(obj)
        m["encryption_algorithm"] = "ROT13"
        out.append(("bad-enum", m))
    if t == "extension-definition":
        m = copy.deepcopy(obj)
        m["extension_types"] = ["new-thing"]
        out.append(("bad-enum", m))
    if t == "observed-data":
        for v, rule in ((0, "number-observed-zero"), (1000000000, "number-observed-high")):
            m = copy.deepcopy(obj)
            m["number_observed"] = v
            out.append((rule, m))
    if t == "sighting":
        for v, rule in ((-1, "count-negative"), (1000000000, "count-high"), (0, "count-zero")):
            m = copy.deepcopy(obj)
            m["count"] = v
            out.append((rule, m))
    if t == "relationship":
        m = copy.deepcopy(obj)
        m["target_ref"] = "marking-definition" + U
        out.append(("relationship-to-marking", m))
    if t == "ipv4-addr":
        for v in ("10.0.0.256", "10.0.0.1/33", "10.0.0.1/32", "1.2.3"):
            m = copy.deepcopy(obj)
            m["value"] = v
            out.append(("ipv4-value", m))
    if t == "mac-addr":
        m = copy.deepcopy(obj)
        m["value"] = "D2:FB:49:24:37:18"
        out.append(("mac-upper", m))
    if t == "location":
        m = copy.deepcopy(obj)
        m["latitude"] = 91
        out.append(("latitude-range", m))
        m = copy.deepcopy(obj)
        del m["longitude"]
        out.append(("latitude-alone", m))
    if t == "network-traffic":
        m = copy.deepcopy(obj)
        m["dst_port"] = 70000
        out.append(("port-range", m))
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    src, binary = sys.argv[1], sys.argv[2]
    schema_root = os.path.join(src, "tests", "data", "stix2-json-schemas", "schemas")
    store = load_store(schema_root)
    validators = {}

    def schema_ok(o):
        t = o.get("type") if isinstance(o, dict) else None
        if t not in validators:
            s = schema_for(store, schema_root, t)
            validators[t] = make_validator(store, s) if s else None
        v = validators[t]
        if v is None:
            return None
        return v.is_valid(o)

    bases = []
    for path in sorted(glob.glob(os.path.join(src, "tests", "data", "stix", "*", "*.json"))):
        with open(path, encoding="utf-8") as f:
            bundle = json.load(f)
        bases.extend(bundle.get("objects", []))
    bases.extend(EXTRA)
    # keep one of each (type, property set) so common shapes do not dominate
    seen, uniq = set(), []
    for o in bases:
        key = (o["type"], tuple(sorted(o)))
        if key not in seen and schema_ok(o) is not None:
            seen.add(key)
            uniq.append(o)
    rnd = random.Random(8785)
    cases = [("base", o) for o in uniq]
    for o in uniq:
        cases.extend(mutations(o, rnd))
    # drop mutations that changed the type away from what the schemas know
    cases = [(r, o) for r, o in cases if schema_ok(o) is not None]

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for _, o in cases:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")
        tmp = f.name
    try:
        proc = subprocess.run([binary, "validate", "--json", tmp], capture_output=True, text=True)
    finally:
        os.unlink(tmp)
    if proc.returncode not in (0, 1):
        print("detente validate failed (exit %d): %s" % (proc.returncode, proc.stderr))
        return 1
    verdicts = {}
    for line in proc.stdout.splitlines():
        r = json.loads(line)
        n = int(r["where"].split()[1]) - 1
        verdicts[n] = (r["valid"], r["error"])

    import collections
    by_rule = collections.Counter()
    failures, expected, rules = 0, 0, set()
    for i, (rule, o) in enumerate(cases):
        sv = schema_ok(o)
        dv, derr = verdicts.get(i, (None, "no verdict"))
        rules.add(rule.split("-")[0] if rule.startswith(("drop", "wrong")) else rule)
        if sv == dv:
            continue
        if rule in SCHEMA_CANNOT and sv and not dv:
            expected += 1
            by_rule[rule] += 1
            continue
        failures += 1
        print("DISAGREE %-28s %s: schema %s, detente %s%s" % (
            rule, o.get("id"), "valid" if sv else "invalid", "valid" if dv else "invalid",
            (" (" + derr + ")") if derr else ""))
    print("%d cases from %d base objects, %d rule families: %d agree, %d expected differences "
          "(rules the schemas cannot express), %d disagreements"
          % (len(cases), len(uniq), len(rules), len(cases) - expected - failures, expected, failures))
    for rule, n in sorted(by_rule.items()):
        print("  expected difference %-28s x%-4d %s" % (rule, n, SCHEMA_CANNOT[rule]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
