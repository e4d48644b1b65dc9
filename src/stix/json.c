/* stix/json: strict JSON reading and splitting an input into STIX items.
 *
 * jansson does the parsing (JSON_REJECT_DUPLICATES: two readers must never
 * see two different objects in one text, which would defeat signatures;
 * jansson also refuses invalid UTF-8 and, without JSON_ALLOW_NUL, U+0000).
 * Nesting depth is checked by a cheap pre-scan of the text before jansson
 * sees it, so a hostile "[[[[..." never reaches a recursive parser; string
 * lengths are checked on the parsed tree. Errors carry "line L column C".
 *
 * An input is one of: a bundle (items "objects[i]"), a JSON array of
 * objects ("[i]"), one object (""), or JSON lines, one object per line
 * ("line N"). JSON lines is recognised when the first non-blank line is a
 * whole object on its own ('{' ... '}') and more non-blank lines follow: a
 * pretty-printed object never has that shape. In JSON lines a bad line is
 * reported to the callback and the walk goes on, so one broken record does
 * not hide the thousands around it. */
#include "stix/stix.h"

#include <stdio.h>
#include <string.h>

void stix_limits_default(stix_limits *lim)
{
    memset(lim, 0, sizeof *lim);
    lim->max_input_bytes = (size_t)64 << 20;
    lim->max_object_bytes = (size_t)4 << 20;
    lim->max_depth = 64;
    lim->max_objects = 1000000;
    lim->max_string_bytes = (size_t)1 << 20;
    lim->max_pattern_bytes = (size_t)64 << 10;
    lim->assume_spec_version = false;
}

const char *stix_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Depth pre-scan: brackets outside strings. Returns false (and the 1-based
 * line and column of the bracket) when nesting exceeds max. Malformed text
 * is left to jansson to describe. */
static bool depth_ok(const char *s, size_t len, size_t max, int *line, int *col)
{
    size_t depth = 0;
    bool in_str = false;
    int ln = 1, cl = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        cl++;
        if (c == '\n') {
            ln++;
            cl = 0;
            continue;
        }
        if (in_str) {
            if (c == '\\')
                i++, cl++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > max) {
                *line = ln;
                *col = cl;
                return false;
            }
        } else if ((c == ']' || c == '}') && depth > 0)
            depth--;
    }
    return true;
}

/* A JSON number is an IEEE double to every reader that matters here (RFC
 * 8785 section 3.2.2.3, I-JSON). jansson, though, keeps integer literals
 * as long long, refusing those beyond its range ("too big integer") and
 * keeping digits a double cannot hold (9007199254740993), so the same text
 * would canonicalise differently here than elsewhere. Integer literals
 * beyond 2^53 in magnitude are therefore read as doubles: the text is
 * copied with "e0" after each of them. *out is NULL when none occurs. */
static dt_status widen_big_ints(const char *s, size_t len, char **out, size_t *out_len, dt_err *err)
{
    dt_buf b;
    bool in_str = false;
    size_t copied = 0;
    *out = NULL;
    dt_buf_init(&b, len + len / 2 + 16);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
            continue;
        }
        if (!(c == '-' || (c >= '0' && c <= '9')))
            continue;
        size_t st = i, digits = 0;
        bool plain = true;
        while (i < len && strchr("0123456789+-.eE", s[i]) != NULL && s[i] != '\0') {
            if (s[i] >= '0' && s[i] <= '9')
                digits++;
            else if (!(s[i] == '-' && i == st))
                plain = false;
            i++;
        }
        const char *d0 = s + st + (s[st] == '-');
        if (plain && (digits > 16 || (digits == 16 && memcmp(d0, "9007199254740992", 16) > 0))) {
            dt_status rc = dt_buf_append(&b, s + copied, i - copied, err);
            if (rc == DT_OK)
                rc = dt_buf_append(&b, "e0", 2, err);
            if (rc != DT_OK) {
                dt_buf_release(&b);
                return rc;
            }
            copied = i;
        }
        i--; /* the loop's i++ looks at the character after the number */
    }
    if (copied == 0) {
        dt_buf_release(&b);
        return DT_OK;
    }
    dt_status rc = dt_buf_append(&b, s + copied, len - copied, err);
    if (rc != DT_OK) {
        dt_buf_release(&b);
        return rc;
    }
    *out_len = b.len;
    *out = dt_buf_take(&b);
    return DT_OK;
}

static dt_status strings_ok(const json_t *v, size_t max, dt_err *err)
{
    if (json_is_string(v)) {
        if (json_string_length(v) > max)
            return dt_fail(err, DT_ELIMIT, "", "a string of %zu bytes is over the limit of %zu",
                           json_string_length(v), max);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *m;
        json_object_foreach((json_t *)v, k, m) {
            if (strlen(k) > max)
                return dt_fail(err, DT_ELIMIT, "", "a key of %zu bytes is over the limit of %zu",
                               strlen(k), max);
            dt_status rc = strings_ok(m, max, err);
            if (rc != DT_OK)
                return rc;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            dt_status rc = strings_ok(m, max, err);
            if (rc != DT_OK)
                return rc;
        }
    }
    return DT_OK;
}

dt_status stix_json_parse(const char *text, size_t len, const stix_limits *lim, json_t **out,
                          dt_err *err)
{
    stix_limits def;
    json_error_t je;
    char where[64];
    int line, col;
    *out = NULL;
    if (lim == NULL) {
        stix_limits_default(&def);
        lim = &def;
    }
    if (len > lim->max_input_bytes)
        return dt_fail(err, DT_ELIMIT, "input", "%zu bytes, over the limit of %zu", len,
                       lim->max_input_bytes);
    if (!depth_ok(text, len, lim->max_depth, &line, &col)) {
        snprintf(where, sizeof where, "line %d column %d", line, col);
        return dt_fail(err, DT_ELIMIT, where, "JSON nested deeper than the limit of %zu",
                       lim->max_depth);
    }
    char *wide = NULL;
    size_t wide_len = 0;
    dt_status rc = widen_big_ints(text, len, &wide, &wide_len, err);
    if (rc != DT_OK)
        return rc;
    json_t *v = json_loadb(wide ? wide : text, wide ? wide_len : len,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    dt_free(wide);
    if (v == NULL) {
        snprintf(where, sizeof where, "line %d column %d", je.line, je.column);
        if (strstr(je.text, "NUL") != NULL)
            return dt_fail(err, DT_EPARSE, where, "a string holds U+0000, which is not accepted");
        if (strstr(je.text, "duplicate") != NULL)
            return dt_fail(err, DT_EPARSE, where,
                           "duplicate key in an object (%s): readers could disagree on its value",
                           je.text);
        return dt_fail(err, DT_EPARSE, where, "%s", je.text);
    }
    rc = strings_ok(v, lim->max_string_bytes, err);
    if (rc != DT_OK) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return DT_OK;
}

/* JSON lines: one object per non-blank line, each parsed on its own. */
static dt_status walk_lines(const char *text, size_t len, const stix_limits *lim, stix_item_fn fn,
                            void *ctx, dt_err *err)
{
    size_t pos = 0, lineno = 0, count = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, b = end;
        lineno++;
        pos = end + 1;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (a == b)
            continue;
        if (++count > lim->max_objects)
            return dt_fail(err, DT_ELIMIT, "input", "more than %zu objects", lim->max_objects);
        char where[32];
        snprintf(where, sizeof where, "line %zu", lineno);
        dt_err ie = {0};
        json_t *item = NULL;
        dt_status rc;
        if (b - a > lim->max_object_bytes)
            dt_fail(&ie, DT_ELIMIT, where, "object of %zu bytes is over the limit of %zu", b - a,
                    lim->max_object_bytes);
        else if (stix_json_parse(text + a, b - a, lim, &item, &ie) == DT_OK &&
                 !json_is_object(item)) {
            dt_fail(&ie, DT_EINVALID, where, "not a JSON object");
        } else if (ie.code != DT_OK) {
            /* "line 1 column C" of the line itself becomes "line N column C" */
            const char *c = strstr(ie.where, "column");
            char w[96];
            snprintf(w, sizeof w, "%s%s%s", where, c ? " " : "", c ? c : "");
            snprintf(ie.where, sizeof ie.where, "%s", w);
        }
        if (ie.code != DT_OK)
            rc = fn(ctx, where, NULL, &ie);
        else
            rc = fn(ctx, where, item, NULL);
        json_decref(item);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

static bool looks_like_lines(const char *text, size_t len)
{
    size_t pos = 0;
    int nonblank = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t a = pos, b = end;
        pos = end + 1;
        while (a < b && (text[a] == ' ' || text[a] == '\t' || text[a] == '\r'))
            a++;
        while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
            b--;
        if (a == b)
            continue;
        if (nonblank == 0 && !(text[a] == '{' && text[b - 1] == '}' && b - a >= 2))
            return false;
        if (++nonblank >= 2)
            return true;
    }
    return false;
}

static dt_status walk_array(const json_t *arr, const char *prefix, size_t input_len,
                            const stix_limits *lim, stix_item_fn fn, void *ctx, dt_err *err)
{
    size_t i;
    json_t *item;
    if (json_array_size(arr) > lim->max_objects)
        return dt_fail(err, DT_ELIMIT, "input", "%zu objects, over the limit of %zu",
                       json_array_size(arr), lim->max_objects);
    json_array_foreach(arr, i, item) {
        char where[48];
        dt_err ie = {0};
        dt_status rc;
        snprintf(where, sizeof where, "%s[%zu]", prefix, i);
        if (!json_is_object(item)) {
            dt_fail(&ie, DT_EINVALID, where, "not a JSON object");
        } else if (input_len > lim->max_object_bytes) {
            /* only measure when the input could hold an oversized object */
            size_t n = json_dumpb(item, NULL, 0, JSON_COMPACT);
            if (n > lim->max_object_bytes)
                dt_fail(&ie, DT_ELIMIT, where, "object of %zu bytes is over the limit of %zu", n,
                        lim->max_object_bytes);
        }
        rc = ie.code != DT_OK ? fn(ctx, where, NULL, &ie) : fn(ctx, where, item, NULL);
        if (rc != DT_OK)
            return rc;
    }
    return DT_OK;
}

dt_status stix_input_walk(const char *text, size_t len, const stix_limits *lim, stix_item_fn fn,
                          void *ctx, dt_err *err)
{
    stix_limits def;
    json_t *root = NULL;
    dt_status rc;
    if (lim == NULL) {
        stix_limits_default(&def);
        lim = &def;
    }
    if (len > lim->max_input_bytes)
        return dt_fail(err, DT_ELIMIT, "input", "%zu bytes, over the limit of %zu", len,
                       lim->max_input_bytes);
    if (looks_like_lines(text, len))
        return walk_lines(text, len, lim, fn, ctx, err);
    rc = stix_json_parse(text, len, lim, &root, err);
    if (rc != DT_OK)
        return rc;
    if (json_is_array(root)) {
        rc = walk_array(root, "", len, lim, fn, ctx, err);
    } else if (json_is_object(root)) {
        const char *type = stix_str(root, "type");
        if (type != NULL && strcmp(type, "bundle") == 0) {
            json_t *objs = json_object_get(root, "objects");
            if (objs == NULL)
                rc = DT_OK; /* an empty bundle */
            else if (!json_is_array(objs))
                rc = dt_fail(err, DT_EPARSE, "objects", "a bundle's objects must be an array");
            else
                rc = walk_array(objs, "objects", len, lim, fn, ctx, err);
        } else {
            rc = fn(ctx, "", root, NULL);
        }
    } else {
        rc = dt_fail(err, DT_EPARSE, "input",
                     "expected a bundle, a JSON array of objects, an object or JSON lines");
    }
    json_decref(root);
    return rc;
}
