/* pattern atoms: what the scanner indexes.
 *
 * A pattern is "simple" when it is an OR of bracketed expressions without
 * qualifiers, each an OR of `type:path = 'string'` tests, and no path goes
 * through a list index or a _ref/_refs reference (the scanner looks values up
 * by exact key, it does not follow references). Such a pattern matches an
 * observation exactly when one of its atoms does, so the scanner can replace
 * it by hash lookups. Values are normalised as the scanner normalises log
 * fields: hashes to lower-case hex, domain names to lower case without a
 * trailing dot; everything else stays as written (unescaped). */
#include "pattern/pattern_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static dt_status not_simple(dt_err *err, const char *why)
{
    return dt_fail(err, DT_EINVALID, "pattern",
                   "not a simple disjunction of equality tests: %s", why);
}

static dt_status check_cmp(const pat_cmp *c, size_t *count, dt_err *err)
{
    if (c->kind == CMP_AND)
        return not_simple(err, "AND inside an observation expression");
    if (c->kind == CMP_OR) {
        for (size_t i = 0; i < c->count; i++) {
            dt_status rc = check_cmp(c->kids[i], count, err);
            if (rc != DT_OK)
                return rc;
        }
        return DT_OK;
    }
    if (c->negated)
        return not_simple(err, "NOT");
    if (c->op != OP_EQ)
        return not_simple(err, "an operator other than =");
    if (c->value.kind != PAT_STRING)
        return not_simple(err, "a constant that is not a string");
    for (size_t i = 0; i < c->path.count; i++) {
        const pat_step *s = &c->path.steps[i];
        size_t kl;
        if (s->kind != STEP_KEY)
            return not_simple(err, "a list index in the object path");
        kl = strlen(s->key);
        if ((kl >= 4 && strcmp(s->key + kl - 4, "_ref") == 0) ||
            (kl >= 5 && strcmp(s->key + kl - 5, "_refs") == 0))
            return not_simple(err, "a reference (_ref/_refs) in the object path");
    }
    (*count)++;
    return DT_OK;
}

static dt_status check_obs(const pat_obs *o, size_t *count, dt_err *err)
{
    switch (o->kind) {
    case OBS_SIMPLE:
        return check_cmp(o->cmp, count, err);
    case OBS_OR:
        for (size_t i = 0; i < o->count; i++) {
            dt_status rc = check_obs(o->kids[i], count, err);
            if (rc != DT_OK)
                return rc;
        }
        return DT_OK;
    case OBS_AND:
        return not_simple(err, "AND between observation expressions");
    case OBS_FOLLOWEDBY:
        return not_simple(err, "FOLLOWEDBY");
    default:
        return not_simple(err, "a qualifier (WITHIN, REPEATS, START/STOP)");
    }
}

static dt_status add_atom(const pat_cmp *c, pattern_atoms *out, dt_err *err)
{
    pattern_atom *a = &out->atoms[out->count];
    dt_buf path;
    dt_status rc = DT_OK;
    bool is_hash = false;
    dt_buf_init(&path, 4096);
    for (size_t i = 0; rc == DT_OK && i < c->path.count; i++) {
        if (i > 0)
            rc = dt_buf_putc(&path, '.', err);
        if (rc == DT_OK)
            rc = dt_buf_puts(&path, c->path.steps[i].key, err);
    }
    if (c->path.count >= 2 && strcmp(c->path.steps[c->path.count - 2].key, "hashes") == 0)
        is_hash = true;
    if (rc != DT_OK) {
        dt_buf_release(&path);
        return rc;
    }
    a->type = dt_strdup(c->path.type);
    a->path = dt_buf_take(&path);
    a->value = dt_strndup(c->value.s, c->value.len);
    out->count++; /* counted now so release frees a partial atom */
    if (a->type == NULL || a->path == NULL || a->value == NULL)
        return dt_fail(err, DT_ENOMEM, "pattern", "out of memory");
    bool is_domain = strcmp(a->type, "domain-name") == 0 && strcmp(a->path, "value") == 0;
    if (is_hash || is_domain)
        for (char *v = a->value; *v; v++)
            *v = (char)tolower((unsigned char)*v);
    if (is_domain) {
        size_t n = strlen(a->value);
        if (n > 1 && a->value[n - 1] == '.')
            a->value[n - 1] = '\0';
    }
    return DT_OK;
}

static dt_status collect_cmp(const pat_cmp *c, pattern_atoms *out, dt_err *err)
{
    if (c->kind == CMP_TEST)
        return add_atom(c, out, err);
    for (size_t i = 0; i < c->count; i++) {
        dt_status rc = collect_cmp(c->kids[i], out, err);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

static dt_status collect_obs(const pat_obs *o, pattern_atoms *out, dt_err *err)
{
    if (o->kind == OBS_SIMPLE)
        return collect_cmp(o->cmp, out, err);
    for (size_t i = 0; i < o->count; i++) {
        dt_status rc = collect_obs(o->kids[i], out, err);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

dt_status pattern_atoms_extract(const pattern *p, pattern_atoms *out, dt_err *err)
{
    size_t count = 0;
    dt_status rc;
    DT_CHECK(p != NULL && out != NULL);
    out->atoms = NULL;
    out->count = 0;
    if ((rc = check_obs(p->root, &count, err)) != DT_OK)
        return rc;
    out->atoms = dt_calloc(count, sizeof *out->atoms);
    if (out->atoms == NULL)
        return dt_fail(err, DT_ENOMEM, "pattern", "out of memory");
    rc = collect_obs(p->root, out, err);
    if (rc != DT_OK)
        pattern_atoms_release(out);
    return rc;
}

void pattern_atoms_release(pattern_atoms *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->count; i++) {
        dt_free(a->atoms[i].type);
        dt_free(a->atoms[i].path);
        dt_free(a->atoms[i].value);
    }
    dt_free(a->atoms);
    a->atoms = NULL;
    a->count = 0;
}

size_t pattern_object_types(const pattern *p, const char **types, size_t cap)
{
    for (size_t i = 0; i < p->type_count && i < cap; i++)
        types[i] = p->types[i];
    return p->type_count;
}

static bool cmp_tests(const pat_cmp *c, const char *type, const char *key)
{
    if (c->kind != CMP_TEST) {
        for (size_t i = 0; i < c->count; i++)
            if (cmp_tests(c->kids[i], type, key))
                return true;
        return false;
    }
    return c->path.count > 0 && c->path.steps[0].kind == STEP_KEY &&
           strcmp(c->path.type, type) == 0 && strcmp(c->path.steps[0].key, key) == 0;
}

static bool obs_tests(const pat_obs *o, const char *type, const char *key)
{
    if (o->kind == OBS_SIMPLE)
        return cmp_tests(o->cmp, type, key);
    if (o->child != NULL)
        return obs_tests(o->child, type, key);
    for (size_t i = 0; i < o->count; i++)
        if (obs_tests(o->kids[i], type, key))
            return true;
    return false;
}

bool pattern_tests_property(const pattern *p, const char *type, const char *key)
{
    return p != NULL && p->root != NULL && obs_tests(p->root, type, key);
}
