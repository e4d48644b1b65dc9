/* pattern printing: canonical text, the explained tree, tree equality, and
 * the IP/CIDR reader shared with the evaluator.
 *
 * Canonical text is what pattern_parse reads back into the same tree: one
 * space around operators, hex in lower case, binary re-encoded as padded
 * base64, integers in decimal, floats as written (without a '+'), timestamps
 * with the sub-second digits they were written with (9 if a leap second was
 * folded into :59.999999999). Observation expressions keep the parentheses of
 * the source, because they change meaning there (a qualifier on a
 * parenthesised expression may repeat); comparisons get only the parentheses
 * precedence needs (AND binds tighter than OR). The printers recurse only as
 * deep as the tree, which the parser bounds by PATTERN_MAX_DEPTH. */
#include "pattern/pattern_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static dt_status put_string(dt_buf *out, const char *s, size_t len, dt_err *err)
{
    dt_status rc = dt_buf_putc(out, '\'', err);
    size_t run = 0;
    for (size_t i = 0; rc == DT_OK && i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\') {
            if ((rc = dt_buf_append(out, s + run, i - run, err)) != DT_OK)
                break;
            rc = dt_buf_putc(out, '\\', err);
            run = i;
        }
    }
    if (rc == DT_OK)
        rc = dt_buf_append(out, s + run, len - run, err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '\'', err);
    return rc;
}

static int time_digits(const dt_time *t)
{
    int d = t->digits;
    uint32_t ns = t->nsec;
    for (int k = d; k < 9; k++)
        if (ns % 10 != 0)
            return 9;
        else
            ns /= 10;
    return d;
}

static dt_status put_const(dt_buf *out, const pat_const *c, dt_err *err)
{
    char tbuf[DT_TIME_LEN];
    switch (c->kind) {
    case PAT_STRING:
        return put_string(out, c->s, c->len, err);
    case PAT_INT:
        return dt_buf_printf(out, err, "%" PRId64, c->i);
    case PAT_FLOAT:
        return dt_buf_append(out, c->s, c->len, err);
    case PAT_BOOL:
        return dt_buf_puts(out, c->b ? "true" : "false", err);
    case PAT_BINARY: {
        size_t n = dt_base64_len(c->len);
        char *b = dt_malloc(n);
        dt_status rc;
        if (b == NULL)
            return dt_fail(err, DT_ENOMEM, "pattern", "out of memory");
        dt_base64_encode((const uint8_t *)c->s, c->len, b);
        rc = dt_buf_printf(out, err, "b'%s'", b);
        dt_free(b);
        return rc;
    }
    case PAT_HEX: {
        dt_status rc = dt_buf_puts(out, "h'", err);
        for (size_t i = 0; rc == DT_OK && i < c->len; i++)
            rc = dt_buf_printf(out, err, "%02x", (unsigned)(uint8_t)c->s[i]);
        return rc == DT_OK ? dt_buf_putc(out, '\'', err) : rc;
    }
    case PAT_TIME:
        return dt_buf_printf(out, err, "t'%s'", dt_time_format(&c->t, time_digits(&c->t), tbuf));
    }
    return DT_OK;
}

static dt_status put_path(dt_buf *out, const pat_path *p, dt_err *err)
{
    dt_status rc = dt_buf_printf(out, err, "%s:", p->type);
    for (size_t i = 0; rc == DT_OK && i < p->count; i++) {
        const pat_step *s = &p->steps[i];
        if (s->kind == STEP_INDEX)
            rc = dt_buf_printf(out, err, "[%" PRId64 "]", s->index);
        else if (s->kind == STEP_STAR)
            rc = dt_buf_puts(out, "[*]", err);
        else {
            if (i > 0)
                rc = dt_buf_putc(out, '.', err);
            if (rc == DT_OK)
                rc = s->quoted ? put_string(out, s->key, strlen(s->key), err)
                               : dt_buf_puts(out, s->key, err);
        }
    }
    return rc;
}

static const char *op_name(pat_op op)
{
    static const char *names[] = {"=", "!=", "<", ">", "<=", ">=", "IN", "LIKE", "MATCHES",
                                  "ISSUBSET", "ISSUPERSET", "EXISTS"};
    return names[op];
}

static dt_status put_test(dt_buf *out, const pat_cmp *c, dt_err *err)
{
    dt_status rc;
    if (c->op == OP_EXISTS) {
        rc = dt_buf_puts(out, c->negated ? "NOT EXISTS " : "EXISTS ", err);
        return rc == DT_OK ? put_path(out, &c->path, err) : rc;
    }
    rc = put_path(out, &c->path, err);
    if (rc == DT_OK)
        rc = dt_buf_printf(out, err, " %s%s ", c->negated ? "NOT " : "", op_name(c->op));
    if (rc != DT_OK)
        return rc;
    if (c->op != OP_IN)
        return put_const(out, &c->value, err);
    rc = dt_buf_putc(out, '(', err);
    for (size_t i = 0; rc == DT_OK && i < c->set_count; i++) {
        if (i > 0)
            rc = dt_buf_puts(out, ", ", err);
        if (rc == DT_OK)
            rc = put_const(out, &c->set[i], err);
    }
    return rc == DT_OK ? dt_buf_putc(out, ')', err) : rc;
}

static int cmp_prec(const pat_cmp *c)
{
    return c->kind == CMP_OR ? 1 : c->kind == CMP_AND ? 2 : 3;
}

static dt_status put_cmp(dt_buf *out, const pat_cmp *c, int min_prec, dt_err *err)
{
    if (c->kind == CMP_TEST)
        return put_test(out, c, err);
    bool paren = cmp_prec(c) < min_prec;
    dt_status rc = paren ? dt_buf_putc(out, '(', err) : DT_OK;
    for (size_t i = 0; rc == DT_OK && i < c->count; i++) {
        if (i > 0)
            rc = dt_buf_puts(out, c->kind == CMP_AND ? " AND " : " OR ", err);
        if (rc == DT_OK)
            rc = put_cmp(out, c->kids[i], cmp_prec(c) + 1, err);
    }
    if (rc == DT_OK && paren)
        rc = dt_buf_putc(out, ')', err);
    return rc;
}

static dt_status put_qualifier(dt_buf *out, const pat_obs *o, dt_err *err)
{
    char a[DT_TIME_LEN], b[DT_TIME_LEN];
    switch (o->kind) {
    case OBS_WITHIN:
        return dt_buf_printf(out, err, " WITHIN %s SECONDS", o->within_text);
    case OBS_REPEATS:
        return dt_buf_printf(out, err, " REPEATS %" PRIu32 " TIMES", o->repeats);
    case OBS_STARTSTOP:
        return dt_buf_printf(out, err, " START t'%s' STOP t'%s'",
                             dt_time_format(&o->start, time_digits(&o->start), a),
                             dt_time_format(&o->stop, time_digits(&o->stop), b));
    default:
        return DT_OK;
    }
}

static dt_status put_obs(dt_buf *out, const pat_obs *o, dt_err *err)
{
    dt_status rc = o->paren ? dt_buf_putc(out, '(', err) : DT_OK;
    if (rc != DT_OK)
        return rc;
    switch (o->kind) {
    case OBS_SIMPLE:
        rc = dt_buf_putc(out, '[', err);
        if (rc == DT_OK)
            rc = put_cmp(out, o->cmp, 0, err);
        if (rc == DT_OK)
            rc = dt_buf_putc(out, ']', err);
        break;
    case OBS_AND:
    case OBS_OR:
    case OBS_FOLLOWEDBY: {
        const char *sep = o->kind == OBS_AND ? " AND " : o->kind == OBS_OR ? " OR " : " FOLLOWEDBY ";
        for (size_t i = 0; rc == DT_OK && i < o->count; i++) {
            if (i > 0)
                rc = dt_buf_puts(out, sep, err);
            if (rc == DT_OK)
                rc = put_obs(out, o->kids[i], err);
        }
        break;
    }
    default:
        rc = put_obs(out, o->child, err);
        if (rc == DT_OK)
            rc = put_qualifier(out, o, err);
        break;
    }
    if (rc == DT_OK && o->paren)
        rc = dt_buf_putc(out, ')', err);
    return rc;
}

dt_status pattern_print(const pattern *p, dt_buf *out, dt_err *err)
{
    DT_CHECK(p != NULL && out != NULL);
    return put_obs(out, p->root, err);
}

/* ---------------------------------------------------------------- explain */

static dt_status indent(dt_buf *out, unsigned level, dt_err *err)
{
    dt_status rc = DT_OK;
    for (unsigned i = 0; rc == DT_OK && i < level; i++)
        rc = dt_buf_puts(out, "  ", err);
    return rc;
}

static const char *kind_name(pat_kind k)
{
    static const char *names[] = {"string", "integer", "float", "boolean", "binary", "hex",
                                  "timestamp"};
    return names[k];
}

static dt_status explain_cmp(dt_buf *out, const pat_cmp *c, unsigned level, dt_err *err)
{
    dt_status rc = indent(out, level, err);
    if (rc != DT_OK)
        return rc;
    if (c->kind != CMP_TEST) {
        if (c->kind == CMP_AND)
            rc = dt_buf_printf(out, err, "AND: all %zu hold on the same object\n", c->count);
        else
            rc = dt_buf_printf(out, err, "OR: any of %zu\n", c->count);
        for (size_t i = 0; rc == DT_OK && i < c->count; i++)
            rc = explain_cmp(out, c->kids[i], level + 1, err);
        return rc;
    }
    rc = dt_buf_puts(out, "compare ", err);
    if (rc == DT_OK)
        rc = put_test(out, c, err);
    if (rc == DT_OK && c->op != OP_IN && c->op != OP_EXISTS)
        rc = dt_buf_printf(out, err, "  (%s%s)", kind_name(c->value.kind),
                           c->op == OP_MATCHES ? ", PCRE regex" : "");
    if (rc == DT_OK && c->op == OP_IN)
        rc = dt_buf_printf(out, err, "  (set of %zu)", c->set_count);
    if (rc == DT_OK)
        rc = dt_buf_printf(out, err, "  [type %s, column %u]\n", c->path.type, c->column);
    return rc;
}

static dt_status explain_obs(dt_buf *out, const pat_obs *o, unsigned level, dt_err *err)
{
    dt_status rc = indent(out, level, err);
    if (rc != DT_OK)
        return rc;
    switch (o->kind) {
    case OBS_SIMPLE:
        rc = dt_buf_puts(out, "observation: one observed-data satisfies\n", err);
        return rc == DT_OK ? explain_cmp(out, o->cmp, level + 1, err) : rc;
    case OBS_AND:
    case OBS_OR:
    case OBS_FOLLOWEDBY:
        rc = dt_buf_printf(out, err, "%s\n",
                           o->kind == OBS_AND ? "AND: each matched by a different observation"
                           : o->kind == OBS_OR ? "OR: any of"
                                               : "FOLLOWEDBY: in this order in time");
        for (size_t i = 0; rc == DT_OK && i < o->count; i++)
            rc = explain_obs(out, o->kids[i], level + 1, err);
        return rc;
    case OBS_WITHIN:
        rc = dt_buf_printf(out, err, "WITHIN %s SECONDS: all observations inside one window\n",
                           o->within_text);
        break;
    case OBS_REPEATS:
        rc = dt_buf_printf(out, err, "REPEATS %" PRIu32 " TIMES: that many distinct matches\n",
                           o->repeats);
        break;
    case OBS_STARTSTOP: {
        char a[DT_TIME_LEN], b[DT_TIME_LEN];
        rc = dt_buf_printf(out, err, "START %s STOP %s: observed inside [start, stop)\n",
                           dt_time_format(&o->start, time_digits(&o->start), a),
                           dt_time_format(&o->stop, time_digits(&o->stop), b));
        break;
    }
    }
    return rc == DT_OK ? explain_obs(out, o->child, level + 1, err) : rc;
}

dt_status pattern_explain(const pattern *p, dt_buf *out, dt_err *err)
{
    DT_CHECK(p != NULL && out != NULL);
    dt_status rc = dt_buf_puts(out, "pattern ", err);
    if (rc == DT_OK)
        rc = put_obs(out, p->root, err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '\n', err);
    if (rc == DT_OK)
        rc = explain_obs(out, p->root, 1, err);
    return rc;
}

/* ---------------------------------------------------------------- equality */

static bool const_equal(const pat_const *a, const pat_const *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case PAT_STRING:
    case PAT_BINARY:
    case PAT_HEX:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case PAT_INT:
        return a->i == b->i;
    case PAT_FLOAT:
        return a->f == b->f;
    case PAT_BOOL:
        return a->b == b->b;
    case PAT_TIME:
        return dt_time_cmp(&a->t, &b->t) == 0;
    }
    return false;
}

static bool cmp_equal(const pat_cmp *a, const pat_cmp *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind != CMP_TEST) {
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++)
            if (!cmp_equal(a->kids[i], b->kids[i]))
                return false;
        return true;
    }
    if (a->op != b->op || a->negated != b->negated || strcmp(a->path.type, b->path.type) != 0 ||
        a->path.count != b->path.count)
        return false;
    for (size_t i = 0; i < a->path.count; i++) {
        const pat_step *x = &a->path.steps[i], *y = &b->path.steps[i];
        if (x->kind != y->kind || x->index != y->index || x->quoted != y->quoted ||
            (x->kind == STEP_KEY && strcmp(x->key, y->key) != 0))
            return false;
    }
    if (a->op == OP_EXISTS)
        return true;
    if (a->op != OP_IN)
        return const_equal(&a->value, &b->value);
    if (a->set_count != b->set_count)
        return false;
    for (size_t i = 0; i < a->set_count; i++)
        if (!const_equal(&a->set[i], &b->set[i]))
            return false;
    return true;
}

static bool obs_equal(const pat_obs *a, const pat_obs *b)
{
    if (a->kind != b->kind || a->paren != b->paren)
        return false;
    switch (a->kind) {
    case OBS_SIMPLE:
        return cmp_equal(a->cmp, b->cmp);
    case OBS_AND:
    case OBS_OR:
    case OBS_FOLLOWEDBY:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++)
            if (!obs_equal(a->kids[i], b->kids[i]))
                return false;
        return true;
    case OBS_WITHIN:
        if (a->within_us != b->within_us)
            return false;
        break;
    case OBS_REPEATS:
        if (a->repeats != b->repeats)
            return false;
        break;
    case OBS_STARTSTOP:
        if (dt_time_cmp(&a->start, &b->start) != 0 || dt_time_cmp(&a->stop, &b->stop) != 0)
            return false;
        break;
    }
    return obs_equal(a->child, b->child);
}

bool pattern_tree_equal(const pattern *a, const pattern *b)
{
    return obs_equal(a->root, b->root);
}

/* ---------------------------------------------------------------- IP / CIDR */

static bool parse_v4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        unsigned v = 0, nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (++nd > 3 || v > 255)
                return false;
            i++;
        }
        if (nd == 0 || (nd > 1 && s[i - nd] == '0'))
            return false;
        out[part] = (uint8_t)v;
        if (part < 3) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
    }
    return i == len;
}

static int hexdig(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool parse_v6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t words[8];
    int n = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        if (n >= 8)
            return false;
        /* an embedded IPv4 tail */
        size_t j = i;
        while (j < len && s[j] != ':' && s[j] != '.')
            j++;
        if (j < len && s[j] == '.') {
            uint8_t v4[4];
            if (n > 6 || !parse_v4(s + i, len - i, v4))
                return false;
            words[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            words[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = len;
            break;
        }
        unsigned v = 0, nd = 0;
        while (i < len && hexdig(s[i]) >= 0) {
            v = v << 4 | (unsigned)hexdig(s[i]);
            if (++nd > 4)
                return false;
            i++;
        }
        if (nd == 0)
            return false;
        words[n++] = (uint16_t)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = n;
            i++;
        } else if (i == len) {
            return false;
        }
    }
    if (gap < 0 && n != 8)
        return false;
    if (gap >= 0 && n > 7)
        return false;
    memset(out, 0, 16);
    int tail = gap >= 0 ? n - gap : 0;
    int head = gap >= 0 ? gap : n;
    for (int k = 0; k < head; k++) {
        out[2 * k] = (uint8_t)(words[k] >> 8);
        out[2 * k + 1] = (uint8_t)words[k];
    }
    for (int k = 0; k < tail; k++) {
        int w = 8 - tail + k;
        out[2 * w] = (uint8_t)(words[head + k] >> 8);
        out[2 * w + 1] = (uint8_t)words[head + k];
    }
    return true;
}

/* An IPv4 or IPv6 address with an optional /prefix. IPv4 lands in addr[0..3]. */
bool pat_ip_parse(const char *s, size_t len, uint8_t addr[16], unsigned *prefix, bool *is_v6)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    bool v6 = memchr(s, ':', alen) != NULL;
    unsigned max = v6 ? 128 : 32;
    if (v6 ? !parse_v6(s, alen, addr) : !parse_v4(s, alen, addr))
        return false;
    *prefix = max;
    if (slash) {
        size_t i = alen + 1;
        unsigned v = 0, nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (++nd > 3)
                return false;
            i++;
        }
        if (nd == 0 || i != len || v > max)
            return false;
        *prefix = v;
    }
    *is_v6 = v6;
    return true;
}
