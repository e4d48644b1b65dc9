/* Markings: an object's effective TLP level.
 *
 * The effective level is the most restrictive TLP marking among the object's
 * object_marking_refs, recognising the STIX 2.1 TLP 1.0 definitions (spec
 * section 7.2.1.4; WHITE reads as CLEAR) and the OASIS TLP 2.0 ones
 * (cti-stix-common-objects, extension-definition--60a3c5c5-...). Statement
 * and other markings do not change the level. An object with no TLP marking
 * takes the node's configured default: unmarked data is never assumed to be
 * public. A marking-definition object itself is CLEAR: it says nothing
 * secret, and every reader needs it to interpret the markings it sees. */
#include "node/node_int.h"

#include <string.h>

static const struct {
    const char *id;
    node_tlp level;
} known[] = {
    /* STIX 2.1 TLP 1.0 */
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", NODE_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", NODE_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", NODE_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", NODE_TLP_RED},
    /* TLP 2.0 */
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", NODE_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", NODE_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", NODE_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", NODE_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", NODE_TLP_RED},
};

bool node_tlp_of_marking(const char *marking_id, node_tlp *out)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(marking_id, known[i].id) == 0) {
            *out = known[i].level;
            return true;
        }
    }
    return false;
}

node_tlp node_object_marking(const json_t *obj, node_tlp default_level)
{
    const char *type = json_string_value(json_object_get(obj, "type"));
    json_t *refs = json_object_get(obj, "object_marking_refs");
    bool any = false;
    node_tlp level = NODE_TLP_CLEAR;
    size_t i;
    json_t *ref;

    if (type != NULL && strcmp(type, "marking-definition") == 0)
        return NODE_TLP_CLEAR;
    if (json_is_array(refs)) {
        json_array_foreach(refs, i, ref) {
            node_tlp t;
            if (json_is_string(ref) && node_tlp_of_marking(json_string_value(ref), &t)) {
                any = true;
                if (t > level)
                    level = t;
            }
        }
    }
    return any ? level : default_level;
}

/* ---- granular markings: redaction (STIX 2.1 section 7.2.3) ----
 * A selector is a path of property names and [n] list indexes, joined by
 * '.', e.g. "description", "labels.[1]", "kill_chain_phases.[0].phase_name".
 * Every selector of a granular marking above the requester's clearance has
 * its target removed. Removal is done in passes: targets are replaced by
 * JSON null (STIX forbids null values, so no real content is null), which
 * keeps list indexes of other selectors stable while they are resolved;
 * lists left with nothing but nulls become null themselves (STIX forbids
 * empty lists too); the selectors of the granular markings that stay are
 * rewritten to the positions their targets will have, or dropped with
 * their target; then nulls are swept out. The copy stays valid STIX: every
 * selector left still names what it named before. */

static json_t *select_parent(json_t *obj, const char *sel, char *last, size_t last_cap,
                             size_t *index, bool *is_index)
{
    json_t *cur = obj;
    char tok[256];
    const char *p = sel;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof tok)
            return NULL;
        memcpy(tok, p, n);
        tok[n] = '\0';
        bool idx = tok[0] == '[' && tok[n - 1] == ']';
        size_t k = 0;
        if (idx) {
            for (size_t j = 1; j + 1 < n; j++) {
                if (tok[j] < '0' || tok[j] > '9' || k > 100000000)
                    return NULL;
                k = k * 10 + (size_t)(tok[j] - '0');
            }
            if (n < 3)
                return NULL;
        }
        if (dot == NULL) {
            if (idx) {
                if (!json_is_array(cur) || k >= json_array_size(cur))
                    return NULL;
                *index = k;
            } else {
                if (!json_is_object(cur) || json_object_get(cur, tok) == NULL ||
                    strlen(tok) >= last_cap)
                    return NULL;
                memcpy(last, tok, strlen(tok) + 1);
            }
            *is_index = idx;
            return cur;
        }
        cur = idx ? json_array_get(cur, k) : json_object_get(cur, tok);
        if (cur == NULL)
            return NULL;
        p = dot + 1;
    }
}

/* Lists whose every element was removed become null (bottom up).
 * Returns whether v itself is now to be removed. */
static bool collapse_lists(json_t *v)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, val) {
            if (collapse_lists(val))
                json_object_set_new(v, key, json_null());
        }
        return false;
    }
    if (json_is_array(v)) {
        bool all_null = json_array_size(v) > 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            if (collapse_lists(e))
                json_array_set_new(v, i, json_null());
            all_null &= json_is_null(json_array_get(v, i));
        }
        return all_null;
    }
    return false;
}

/* The selector sel, resolved over obj with removed targets still null, as
 * it reads once the nulls are swept (list indexes shifted down). False when
 * its target, or anything on the way, is removed or missing. */
static bool selector_after_sweep(const json_t *obj, const char *sel, dt_buf *out)
{
    const json_t *cur = obj;
    const char *p = sel;
    char tok[256];
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof tok)
            return false;
        memcpy(tok, p, n);
        tok[n] = '\0';
        if (tok[0] == '[' && n >= 3 && tok[n - 1] == ']') {
            size_t k = 0, kept = 0;
            for (size_t j = 1; j + 1 < n; j++) {
                if (tok[j] < '0' || tok[j] > '9' || k > 100000000)
                    return false;
                k = k * 10 + (size_t)(tok[j] - '0');
            }
            if (!json_is_array(cur) || k >= json_array_size(cur))
                return false;
            for (size_t j = 0; j < k; j++)
                kept += !json_is_null(json_array_get(cur, j));
            cur = json_array_get(cur, k);
            if (dt_buf_printf(out, NULL, "%s[%zu]", out->len ? "." : "", kept) != DT_OK)
                return false;
        } else {
            if (!json_is_object(cur))
                return false;
            cur = json_object_get(cur, tok);
            if (dt_buf_printf(out, NULL, "%s%s", out->len ? "." : "", tok) != DT_OK)
                return false;
        }
        if (cur == NULL || json_is_null(cur))
            return false;
        if (dot == NULL)
            return true;
        p = dot + 1;
    }
}

/* Rewrite the selectors of the granular markings that stay; a marking
 * left with no selector goes too. */
static void rewrite_selectors(json_t *obj, json_t *gms)
{
    size_t i;
    json_t *gm;
    json_array_foreach(gms, i, gm) {
        json_t *sels = json_object_get(gm, "selectors"), *fresh, *sel;
        size_t k;
        if (!json_is_object(gm) || !json_is_array(sels))
            continue;
        fresh = json_array();
        if (fresh == NULL)
            continue;
        json_array_foreach(sels, k, sel) {
            dt_buf b;
            const char *s = json_string_value(sel);
            dt_buf_init(&b, 4096);
            if (s != NULL && selector_after_sweep(obj, s, &b) && dt_buf_putc(&b, '\0', NULL) == DT_OK)
                json_array_append_new(fresh, json_string(b.data));
            dt_buf_release(&b);
        }
        if (json_array_size(fresh) == 0) {
            json_decref(fresh);
            json_array_set_new(gms, i, json_null());
        } else {
            json_object_set_new(gm, "selectors", fresh);
        }
    }
}

static void sweep_nulls(json_t *v)
{
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, val) {
            if (json_is_null(val))
                json_object_del(v, key);
            else
                sweep_nulls(val);
        }
    } else if (json_is_array(v)) {
        for (size_t i = json_array_size(v); i-- > 0;) {
            json_t *e = json_array_get(v, i);
            if (json_is_null(e))
                json_array_remove(v, i);
            else
                sweep_nulls(e);
        }
    }
}

bool node_object_redact(json_t *obj, node_tlp clearance)
{
    json_t *gms = json_object_get(obj, "granular_markings");
    bool any = false;
    size_t i;
    json_t *gm;

    if (!json_is_array(gms))
        return false;
    json_array_foreach(gms, i, gm) {
        node_tlp t;
        const char *ref = json_string_value(json_object_get(gm, "marking_ref"));
        json_t *sels = json_object_get(gm, "selectors");
        size_t k;
        json_t *sel;
        if (ref == NULL || !node_tlp_of_marking(ref, &t) || t <= clearance || !json_is_array(sels))
            continue;
        any = true;
        json_array_foreach(sels, k, sel) {
            char last[256];
            size_t index = 0;
            bool is_index = false;
            const char *s = json_string_value(sel);
            json_t *parent = s ? select_parent(obj, s, last, sizeof last, &index, &is_index) : NULL;
            if (parent == NULL)
                continue;
            if (is_index)
                json_array_set_new(parent, index, json_null());
            else
                json_object_set_new(parent, last, json_null());
        }
        /* the marking entry itself goes: its selectors point at removed content */
        json_array_set_new(gms, i, json_null());
    }
    if (!any)
        return false;
    (void)collapse_lists(obj); /* obj is an object: it never collapses itself */
    gms = json_object_get(obj, "granular_markings");
    if (json_is_array(gms))
        rewrite_selectors(obj, gms);
    sweep_nulls(obj);
    gms = json_object_get(obj, "granular_markings");
    if (json_is_array(gms) && json_array_size(gms) == 0)
        json_object_del(obj, "granular_markings");
    /* a redacted copy no longer matches its signature: serve it unsigned and say so */
    json_t *ext = json_object_get(obj, "extensions");
    if (json_is_object(ext)) {
        json_object_del(ext, NODE_EXTENSION_ID);
        if (json_object_size(ext) == 0)
            json_object_del(obj, "extensions");
    }
    json_object_set_new(obj, "x_detente_redacted", json_true());
    return true;
}
