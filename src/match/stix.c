/* match: loading STIX 2.1 indicators into a set.
 *
 * An indicator is indexed when it is active (not revoked, inside
 * valid_from/valid_until: STIX 2.1 section 4.7) and its pattern is a
 * disjunction of equality comparisons, which pattern_atoms_extract reduces
 * to (type, path, value) atoms. Each atom whose (type, path) names an
 * observable the set knows becomes a value of that indicator; atoms on
 * other properties are left out (the indicator counts as partial), since
 * a disjunction still matches when any of its indexed atoms does.
 *
 * Patterns that are not such a disjunction (AND, other operators,
 * qualifiers), and disjunctions with atoms on properties no index holds,
 * are kept whole in the set and evaluated on each log record
 * (match_set_pattern_take), when the record holds one of the object types
 * they name. A pattern naming only types a log record never yields is
 * skipped (counted as complex). */
#include "match/match.h"
#include "pattern/pattern.h"

#include <string.h>

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The set type for an atom, or -1. */
static int atom_type(const pattern_atom *a)
{
    const char *t = a->type, *p = a->path;
    bool value = strcmp(p, "value") == 0;
    if (strcmp(t, "domain-name") == 0 && value)
        return MATCH_DOMAIN;
    if (strcmp(t, "ipv4-addr") == 0 && value)
        return MATCH_IPV4;
    if (strcmp(t, "ipv6-addr") == 0 && value)
        return MATCH_IPV6;
    if (strcmp(t, "url") == 0 && value)
        return MATCH_URL;
    if (strcmp(t, "email-addr") == 0 && value)
        return MATCH_EMAIL;
    if (strcmp(t, "email-message") == 0 &&
        (strcmp(p, "from_ref.value") == 0 || strcmp(p, "sender_ref.value") == 0 ||
         starts(p, "to_refs[") || starts(p, "cc_refs[") || starts(p, "bcc_refs[")))
        return MATCH_EMAIL;
    if ((strcmp(t, "file") == 0 || strcmp(t, "artifact") == 0) && starts(p, "hashes."))
        return MATCH_FILE_HASH;
    if (strcmp(t, "x509-certificate") == 0 && starts(p, "hashes."))
        return MATCH_X509_HASH;
    return -1;
}

static bool time_of(const json_t *obj, const char *key, int64_t *us)
{
    const char *s = json_string_value(json_object_get(obj, key));
    dt_time t;
    if (s == NULL || dt_time_parse(s, strlen(s), &t, NULL) != DT_OK)
        return false;
    *us = dt_time_to_us(&t);
    return true;
}

dt_status match_set_add_stix(match_set *s, const json_t *obj, int64_t now_us,
                             match_load_stats *st, dt_err *err)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    const char *id = json_string_value(json_object_get(obj, "id"));
    const char *ptype = json_string_value(json_object_get(obj, "pattern_type"));
    const char *text = json_string_value(json_object_get(obj, "pattern"));
    pattern *p = NULL;
    pattern_atoms atoms = {0};
    int64_t from, until;
    dt_status rc;
    uint32_t ind;
    size_t added = 0, skipped = 0;
    if (type == NULL || strcmp(type, "indicator") != 0)
        return DT_OK;
    st->indicators++;
    if (json_is_true(json_object_get(obj, "revoked"))) {
        st->revoked++;
        return DT_OK;
    }
    if ((time_of(obj, "valid_from", &from) && from > now_us) ||
        (time_of(obj, "valid_until", &until) && until <= now_us)) {
        st->inactive++;
        return DT_OK;
    }
    if (ptype != NULL && strcmp(ptype, "stix") != 0) {
        st->not_stix++;
        return DT_OK;
    }
    if (id == NULL || text == NULL) {
        st->invalid++;
        return dt_fail(err, DT_EINVALID, id ? id : "indicator", "no id or no pattern");
    }
    rc = pattern_parse(text, strlen(text), &p, err);
    if (rc == DT_ENOMEM)
        return rc;
    if (rc != DT_OK) {
        st->invalid++;
        dt_err_prefix(err, "%s: pattern: ", id);
        return DT_EINVALID;
    }
    const char *types[32];
    size_t ntypes = pattern_object_types(p, types, 32);
    uint32_t bits = 0;
    for (size_t i = 0; i < ntypes && i < 32; i++)
        bits |= match_sco_bit(types[i]);
    rc = pattern_atoms_extract(p, &atoms, NULL);
    if (rc != DT_OK) {
        if (rc == DT_ENOMEM) {
            pattern_free(p);
            return dt_fail(err, rc, id, "out of memory");
        }
        if (bits == 0 || ntypes > 32) {
            pattern_free(p);
            st->complex++;
            return DT_OK;
        }
        rc = match_set_add_indicator(s, id, &ind, err);
        if (rc != DT_OK) {
            pattern_free(p);
            return rc;
        }
        rc = match_set_pattern_take(s, ind, p, bits, err);
        if (rc == DT_OK)
            st->evaluated++;
        return rc;
    }
    rc = match_set_add_indicator(s, id, &ind, err);
    bool unindexed = false;
    for (size_t i = 0; rc == DT_OK && i < atoms.count; i++) {
        const pattern_atom *a = &atoms.atoms[i];
        int t = atom_type(a);
        if (t < 0) {
            skipped++;
            unindexed = true;
            continue;
        }
        dt_status vr = match_set_add_value(s, ind, (match_type)t, a->value, strlen(a->value),
                                           NULL);
        if (vr == DT_ENOMEM)
            rc = dt_fail(err, vr, id, "out of memory");
        else if (vr == DT_OK)
            added++;
        else
            skipped++;
    }
    pattern_atoms_release(&atoms);
    if (rc == DT_OK && unindexed && bits != 0) {
        /* atoms on other properties: the whole pattern is evaluated too */
        rc = match_set_pattern_take(s, ind, p, bits, err);
        p = NULL;
        if (rc == DT_OK)
            st->evaluated++;
    }
    pattern_free(p);
    if (rc != DT_OK)
        return rc;
    st->values += added;
    if (added > 0)
        st->indexed++;
    if (skipped > 0)
        st->partial++;
    return DT_OK;
}
