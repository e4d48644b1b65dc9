/* stix/ids: object kinds, the wrapped object, deterministic SCO ids.
 *
 * Deterministic SCO identifiers follow STIX 2.1 section 2.9: a UUIDv5 in
 * the namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 whose name is the RFC
 * 8785 canonical JSON of an object holding only the type's ID contributing
 * properties (listed per type in the spec's SCO sections) that are present.
 * When `hashes` contributes, only one hash is kept, the first present of
 * MD5, SHA-1, SHA-256, SHA-512, else the first name in sorted order, so
 * producers that know different subsets of hashes can still agree. A type
 * with no contributing property present (process always) gets a UUIDv4. */
#include "stix/stix.h"

#include <string.h>

static const char *const sdo_types[] = {
    "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
    "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
    "note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability", NULL,
};
static const char *const sco_types[] = {
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
    "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
    "software", "url", "user-account", "windows-registry-key", "x509-certificate", NULL,
};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

stix_kind stix_type_kind(const char *type)
{
    if (type == NULL)
        return STIX_KIND_CUSTOM;
    if (in_list(sdo_types, type))
        return STIX_KIND_SDO;
    if (strcmp(type, "relationship") == 0 || strcmp(type, "sighting") == 0)
        return STIX_KIND_SRO;
    if (in_list(sco_types, type))
        return STIX_KIND_SCO;
    if (strcmp(type, "marking-definition") == 0 || strcmp(type, "language-content") == 0 ||
        strcmp(type, "extension-definition") == 0)
        return STIX_KIND_SMO;
    if (strcmp(type, "bundle") == 0)
        return STIX_KIND_BUNDLE;
    return STIX_KIND_CUSTOM;
}

/* The ID contributing properties of each SCO type (STIX 2.1 chapter 6). */
static const struct {
    const char *type;
    const char *props[8];
} id_props[] = {
    {"artifact", {"hashes", "payload_bin"}},
    {"autonomous-system", {"number"}},
    {"directory", {"path"}},
    {"domain-name", {"value"}},
    {"email-addr", {"value"}},
    {"email-message", {"from_ref", "subject", "body"}},
    {"file", {"hashes", "name", "extensions", "parent_directory_ref"}},
    {"ipv4-addr", {"value"}},
    {"ipv6-addr", {"value"}},
    {"mac-addr", {"value"}},
    {"mutex", {"name"}},
    {"network-traffic", {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols",
                         "extensions"}},
    {"process", {NULL}},
    {"software", {"name", "cpe", "swid", "vendor", "version"}},
    {"url", {"value"}},
    {"user-account", {"account_type", "user_id", "account_login"}},
    {"windows-registry-key", {"key", "values"}},
    {"x509-certificate", {"hashes", "serial_number"}},
};

/* One hash out of a hashes dictionary, in the spec's order of preference. */
static dt_status pick_hash(const json_t *hashes, json_t *into, dt_err *err)
{
    static const char *const pref[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
    const char *chosen = NULL;
    for (size_t i = 0; i < 4 && chosen == NULL; i++)
        if (json_object_get(hashes, pref[i]) != NULL)
            chosen = pref[i];
    if (chosen == NULL) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)hashes, k, v) {
            if (chosen == NULL || strcmp(k, chosen) < 0)
                chosen = k;
        }
    }
    if (chosen == NULL)
        return DT_OK; /* empty dictionary: contributes nothing */
    json_t *one = json_object();
    if (one == NULL || json_object_set(one, chosen, json_object_get(hashes, chosen)) != 0 ||
        json_object_set_new(into, "hashes", one) != 0)
        return dt_fail(err, DT_ENOMEM, "", "out of memory");
    return DT_OK;
}

dt_status stix_sco_id(const json_t *sco, char *out, size_t cap, dt_err *err)
{
    static const dt_uuid ns = {{0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe,
                                0xd2, 0x33, 0x15, 0xa9, 0xb7}};
    const char *type = stix_str(sco, "type");
    size_t i, n = sizeof id_props / sizeof id_props[0];
    char u[DT_UUID_LEN];
    dt_uuid id;
    dt_status rc = DT_OK;
    if (cap > 0)
        out[0] = '\0';
    if (type == NULL)
        return dt_fail(err, DT_EINVALID, "type", "an SCO needs a type to derive its id");
    for (i = 0; i < n; i++)
        if (strcmp(id_props[i].type, type) == 0)
            break;
    json_t *contrib = json_object();
    if (contrib == NULL)
        return dt_fail(err, DT_ENOMEM, "", "out of memory");
    if (i < n) {
        for (size_t j = 0; j < 8 && id_props[i].props[j] != NULL && rc == DT_OK; j++) {
            const char *p = id_props[i].props[j];
            json_t *v = json_object_get(sco, p);
            if (v == NULL)
                continue;
            if (strcmp(p, "hashes") == 0 && json_is_object(v))
                rc = pick_hash(v, contrib, err);
            else if (json_object_set(contrib, p, v) != 0)
                rc = dt_fail(err, DT_ENOMEM, "", "out of memory");
        }
    } else {
        /* a custom SCO type: the spec leaves its contributing properties to
         * its extension definition, which we cannot know here */
        rc = DT_OK;
    }
    if (rc == DT_OK && json_object_size(contrib) == 0) {
        dt_uuid_v4(&id);
    } else if (rc == DT_OK) {
        dt_buf b;
        dt_buf_init(&b, (size_t)16 << 20);
        rc = stix_jcs(contrib, &b, err);
        if (rc == DT_OK)
            dt_uuid_v5(&ns, b.data, b.len, &id);
        dt_buf_release(&b);
    }
    json_decref(contrib);
    if (rc != DT_OK)
        return rc;
    dt_uuid_format(&id, u);
    if (strlen(type) + 2 + strlen(u) + 1 > cap)
        return dt_fail(err, DT_ELIMIT, "id", "output buffer too small for the id");
    snprintf(out, cap, "%s--%s", type, u);
    return DT_OK;
}

void stix_object_free(stix_object *o)
{
    if (o == NULL)
        return;
    json_decref(o->json);
    dt_free(o);
}

dt_status stix_object_take(json_t *json, const stix_limits *lim, stix_object **out, dt_err *err)
{
    stix_object *o = NULL;
    dt_status rc;
    *out = NULL;
    if (json == NULL)
        return dt_fail(err, DT_EARG, "", "no object");
    rc = stix_validate(json, lim, err);
    if (rc != DT_OK)
        goto fail;
    o = dt_calloc(1, sizeof *o);
    if (o == NULL) {
        rc = dt_fail(err, DT_ENOMEM, "", "out of memory");
        goto fail;
    }
    o->json = json;
    o->type = stix_str(json, "type");
    o->id = stix_str(json, "id");
    o->spec_version = stix_str(json, "spec_version");
    if (o->spec_version == NULL)
        o->spec_version = "2.1";
    o->kind = stix_type_kind(o->type);
    const char *c = stix_str(json, "created"), *m = stix_str(json, "modified");
    o->has_created = c != NULL && dt_time_parse(c, strlen(c), &o->created, NULL) == DT_OK;
    o->has_modified = m != NULL && dt_time_parse(m, strlen(m), &o->modified, NULL) == DT_OK;
    o->revoked = json_is_true(json_object_get(json, "revoked"));
    *out = o;
    return DT_OK;
fail:
    json_decref(json);
    return rc;
}
