/* pattern parser: a hand-written lexer and recursive-descent parser for the
 * STIX 2.1 patterning language (STIX 2.1 section 9; the ANTLR grammar
 * STIXPattern.g4 of cti-stix2-json-schemas is the reference for tokens).
 *
 * Precedence, loosest first: FOLLOWEDBY, OR, AND between observation
 * expressions; qualifiers (WITHIN, REPEATS, START/STOP) bind to the
 * observation expression just before them; inside brackets OR is looser than
 * AND; NOT only negates one comparison operator (or EXISTS). All binary
 * operators are left-associative. Runs of one operator become one n-ary node,
 * so the tree's depth is bounded by parenthesis nesting (PATTERN_MAX_DEPTH)
 * and never by the length of a chain: nothing downstream recurses deeply.
 *
 * Validation beyond syntax happens while parsing, so an error always has a
 * column: START must precede STOP, REPEATS is 1..PATTERN_MAX_REPEATS, WITHIN is
 * positive, MATCHES compiles as a PCRE2 regex (UTF mode), ISSUBSET/ISSUPERSET
 * take an IP or CIDR, object types follow the STIX type rules (a-z, 0-9 and
 * '-', starting with a letter, 3..250 characters), property names use
 * [A-Za-z0-9_], and hash values of known algorithms have the right length.
 * Like OASIS's validator, one qualifier type may not be applied twice directly
 * to a bracketed expression ("[a] WITHIN 5 SECONDS WITHIN 6 SECONDS" is
 * refused) but may be after parentheses ("([a]) WITHIN 5 SECONDS WITHIN 6
 * SECONDS"), and unquoted hyphenated dictionary keys after the first property
 * are accepted (the spec's own example uses extensions.windows-pebinary-ext). */
#include "pattern/pattern_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

void *pat_arena_alloc(pat_arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    if (n == 0)
        n = sizeof(max_align_t);
    if (a->head == NULL || a->head->cap - a->head->used < n) {
        size_t cap = n > 4096 ? n : 4096;
        pat_chunk *c = dt_malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

char *pat_arena_strndup(pat_arena *a, const char *s, size_t n)
{
    char *d = pat_arena_alloc(a, n + 1);
    if (d == NULL)
        return NULL;
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void pat_arena_release(pat_arena *a)
{
    pat_chunk *c = a->head;
    while (c) {
        pat_chunk *next = c->next;
        dt_free(c);
        c = next;
    }
    a->head = NULL;
}

void pattern_free(pattern *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->regex_count; i++)
        pcre2_code_free(p->regexes[i]);
    dt_free(p->regexes);
    pat_arena_release(&p->arena);
    dt_free(p);
}

/* ---------------------------------------------------------------- lexer */

typedef enum tok_kind {
    T_EOF, T_LBRACK, T_RBRACK, T_LPAREN, T_RPAREN, T_COLON, T_DOT, T_COMMA, T_STAR,
    T_EQ, T_NEQ, T_LT, T_LE, T_GT, T_GE,
    T_IDENT, T_STRING, T_INT, T_FLOAT, T_BINARY, T_HEX, T_TIME, T_BOOL,
    T_AND, T_OR, T_NOT, T_FOLLOWEDBY, T_LIKE, T_MATCHES, T_ISSUPERSET, T_ISSUBSET,
    T_EXISTS, T_LAST, T_IN, T_START, T_STOP, T_SECONDS, T_WITHIN, T_REPEATS, T_TIMES,
} tok_kind;

static const struct { const char *word; tok_kind kind; } keywords[] = {
    {"AND", T_AND}, {"OR", T_OR}, {"NOT", T_NOT}, {"FOLLOWEDBY", T_FOLLOWEDBY},
    {"LIKE", T_LIKE}, {"MATCHES", T_MATCHES}, {"ISSUPERSET", T_ISSUPERSET},
    {"ISSUBSET", T_ISSUBSET}, {"EXISTS", T_EXISTS}, {"LAST", T_LAST}, {"IN", T_IN},
    {"START", T_START}, {"STOP", T_STOP}, {"SECONDS", T_SECONDS}, {"WITHIN", T_WITHIN},
    {"REPEATS", T_REPEATS}, {"TIMES", T_TIMES},
};

typedef struct tok {
    tok_kind kind;
    size_t at, len;     /* bytes in the source */
    bool hyphen;        /* T_IDENT with a '-' */
    pat_const c;        /* literals */
} tok;

typedef struct parser {
    const char *s;
    size_t len, pos;
    tok t;              /* current token */
    pattern *p;
    dt_err *err;
    unsigned depth;
} parser;

static unsigned column_of(const parser *ps, size_t at)
{
    unsigned col = 1;
    for (size_t i = 0; i < at && i < ps->len; i++)
        if (((unsigned char)ps->s[i] & 0xC0) != 0x80)
            col++;
    return col;
}

__attribute__((format(printf, 4, 5)))
static dt_status fail_at(parser *ps, dt_status code, size_t at, const char *fmt, ...)
{
    char where[32], msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "column %u", column_of(ps, at));
    return dt_fail(ps->err, code, where, "%s", msg);
}

/* The found token, for messages: its text (cut short) or its kind. */
static const char *tok_show(const parser *ps, char *buf, size_t cap)
{
    if (ps->t.kind == T_EOF)
        return "end of pattern";
    size_t n = ps->t.len > 24 ? 24 : ps->t.len;
    const char *q = ps->t.kind == T_STRING ? "" : "'";
    snprintf(buf, cap, "%s%.*s%s%s", q, (int)n, ps->s + ps->t.at, ps->t.len > n ? "..." : "", q);
    return buf;
}

static dt_status expected(parser *ps, const char *what)
{
    char buf[40];
    return fail_at(ps, DT_EPARSE, ps->t.at, "expected %s, found %s", what,
                   tok_show(ps, buf, sizeof buf));
}

/* Whitespace as the grammar's WS rule lists it, including the Unicode spaces;
 * returns the byte length of the space at pos, 0 if none. */
static size_t space_len(const char *s, size_t len, size_t pos)
{
    unsigned char c = (unsigned char)s[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0B || c == 0x0C)
        return 1;
    if (c < 0x80 || pos + 1 >= len)
        return 0;
    unsigned char c1 = (unsigned char)s[pos + 1];
    if (c == 0xC2 && (c1 == 0x85 || c1 == 0xA0))
        return 2;
    if (pos + 2 >= len)
        return 0;
    unsigned char c2 = (unsigned char)s[pos + 2];
    if (c == 0xE1 && c1 == 0x9A && c2 == 0x80) /* U+1680 */
        return 3;
    if (c == 0xE2 && c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 ||
                                    c2 == 0xAF))
        return 3;
    if (c == 0xE2 && c1 == 0x81 && c2 == 0x9F) /* U+205F */
        return 3;
    if (c == 0xE3 && c1 == 0x80 && c2 == 0x80) /* U+3000 */
        return 3;
    return 0;
}

static dt_status skip_space(parser *ps)
{
    for (;;) {
        if (ps->pos >= ps->len)
            return DT_OK;
        size_t n = space_len(ps->s, ps->len, ps->pos);
        if (n) {
            ps->pos += n;
            continue;
        }
        if (ps->s[ps->pos] == '/' && ps->pos + 1 < ps->len && ps->s[ps->pos + 1] == '*') {
            size_t start = ps->pos;
            ps->pos += 2;
            for (;;) {
                if (ps->pos + 1 >= ps->len)
                    return fail_at(ps, DT_EPARSE, start, "unterminated comment");
                if (ps->s[ps->pos] == '*' && ps->s[ps->pos + 1] == '/') {
                    ps->pos += 2;
                    break;
                }
                ps->pos++;
            }
            continue;
        }
        if (ps->s[ps->pos] == '/' && ps->pos + 1 < ps->len && ps->s[ps->pos + 1] == '/') {
            while (ps->pos < ps->len && ps->s[ps->pos] != '\n' && ps->s[ps->pos] != '\r')
                ps->pos++;
            continue;
        }
        return DT_OK;
    }
}

/* Scan a quoted body starting at the opening quote; on success *end is the
 * position after the closing quote. With unescape, the value goes to c->s. */
static dt_status lex_quoted(parser *ps, size_t quote, bool unescape, size_t *end, pat_const *c)
{
    size_t i = quote + 1;
    for (;;) {
        if (i >= ps->len)
            return fail_at(ps, DT_EPARSE, quote, "unterminated string");
        char ch = ps->s[i];
        if (ch == '\'')
            break;
        if (ch == '\\') {
            if (i + 1 >= ps->len)
                return fail_at(ps, DT_EPARSE, quote, "unterminated string");
            char e = ps->s[i + 1];
            if (e != '\'' && e != '\\')
                return fail_at(ps, DT_EPARSE, i,
                               "bad escape in string: only \\' and \\\\ are allowed");
            i += 2;
            continue;
        }
        i++;
    }
    *end = i + 1;
    if (unescape) {
        /* the unescaped text is never longer than the quoted source */
        char *out = pat_arena_alloc(&ps->p->arena, i - quote);
        size_t n = 0;
        if (out == NULL)
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        for (size_t k = quote + 1; k < i; k++) {
            if (ps->s[k] == '\\')
                k++;
            out[n++] = ps->s[k];
        }
        out[n] = '\0';
        c->s = out;
        c->len = n;
    }
    return DT_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_b64(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '/';
}

static dt_status lex_prefixed(parser *ps, char prefix, size_t at)
{
    size_t end;
    const char *body = ps->s + at + 2;
    dt_status rc = lex_quoted(ps, at + 1, false, &end, &ps->t.c);
    if (rc != DT_OK)
        return rc;
    size_t n = end - (at + 2) - 1;
    ps->t.len = end - at;
    ps->pos = end;
    if (prefix == 'h') {
        if (n % 2 != 0)
            return fail_at(ps, DT_EPARSE, at, "hex literal needs an even number of hex digits");
        uint8_t *bytes = pat_arena_alloc(&ps->p->arena, n / 2 + 1);
        if (bytes == NULL)
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        for (size_t i = 0; i < n; i += 2) {
            int hi = hexval((unsigned char)body[i]), lo = hexval((unsigned char)body[i + 1]);
            if (hi < 0 || lo < 0)
                return fail_at(ps, DT_EPARSE, at + 2 + i, "hex literal holds a non-hex character");
            bytes[i / 2] = (uint8_t)(hi << 4 | lo);
        }
        ps->t.kind = T_HEX;
        ps->t.c.kind = PAT_HEX;
        ps->t.c.s = (const char *)bytes;
        ps->t.c.len = n / 2;
        return DT_OK;
    }
    if (prefix == 'b') {
        /* groups of four base64 characters, padding only at the end */
        bool ok = n > 0 && n % 4 == 0;
        for (size_t i = 0; ok && i < n; i++) {
            if (body[i] == '=')
                ok = i >= n - 2 && (i == n - 1 || body[n - 1] == '=');
            else
                ok = is_b64(body[i]);
        }
        size_t cap = n / 4 * 3 + 1;
        uint8_t *bytes = pat_arena_alloc(&ps->p->arena, cap);
        size_t out_len = 0;
        if (bytes == NULL)
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        if (!ok || !dt_base64_decode(body, n, bytes, cap, &out_len))
            return fail_at(ps, DT_EPARSE, at, "binary literal is not valid padded base64");
        ps->t.kind = T_BINARY;
        ps->t.c.kind = PAT_BINARY;
        ps->t.c.s = (const char *)bytes;
        ps->t.c.len = out_len;
        return DT_OK;
    }
    /* 't': the grammar's shape (month 01-12, hour 00-23, ...) and a real date */
    dt_err terr = {0};
    if (dt_time_parse(body, n, &ps->t.c.t, &terr) != DT_OK)
        return fail_at(ps, DT_EPARSE, at, "invalid timestamp literal: %s", terr.msg);
    ps->t.kind = T_TIME;
    ps->t.c.kind = PAT_TIME;
    return DT_OK;
}

static dt_status lex_number(parser *ps)
{
    size_t at = ps->pos, i = at;
    bool neg = false;
    if (ps->s[i] == '+' || ps->s[i] == '-') {
        neg = ps->s[i] == '-';
        i++;
    }
    size_t dstart = i;
    while (i < ps->len && isdigit((unsigned char)ps->s[i]))
        i++;
    size_t ndig = i - dstart;
    if (i + 1 < ps->len && ps->s[i] == '.' && isdigit((unsigned char)ps->s[i + 1])) {
        i++;
        while (i < ps->len && isdigit((unsigned char)ps->s[i]))
            i++;
        size_t tstart = ps->s[at] == '+' ? at + 1 : at;
        char *text = pat_arena_strndup(&ps->p->arena, ps->s + tstart, i - tstart);
        if (text == NULL)
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        double f = strtod(text, NULL);
        if (!isfinite(f))
            return fail_at(ps, DT_EPARSE, at, "number out of range");
        ps->t.kind = T_FLOAT;
        ps->t.c.kind = PAT_FLOAT;
        ps->t.c.f = f;
        ps->t.c.s = text;
        ps->t.c.len = i - tstart;
        ps->t.len = i - at;
        ps->pos = i;
        return DT_OK;
    }
    if (ndig == 0)
        return fail_at(ps, DT_EPARSE, at, "expected a digit after '%c'", ps->s[at]);
    if (ndig > 1 && ps->s[dstart] == '0')
        return fail_at(ps, DT_EPARSE, at, "integer with a leading zero");
    /* accumulate negatively so INT64_MIN fits */
    int64_t v = 0;
    for (size_t k = dstart; k < i; k++) {
        int d = ps->s[k] - '0';
        if (v < (INT64_MIN + d) / 10)
            return fail_at(ps, DT_EPARSE, at, "integer out of range (64 bits)");
        v = v * 10 - d;
    }
    if (!neg) {
        if (v == INT64_MIN)
            return fail_at(ps, DT_EPARSE, at, "integer out of range (64 bits)");
        v = -v;
    }
    ps->t.kind = T_INT;
    ps->t.c.kind = PAT_INT;
    ps->t.c.i = v;
    ps->t.len = i - at;
    ps->pos = i;
    return DT_OK;
}

static dt_status lex_next(parser *ps)
{
    dt_status rc = skip_space(ps);
    if (rc != DT_OK)
        return rc;
    memset(&ps->t, 0, sizeof ps->t);
    ps->t.at = ps->pos;
    ps->t.len = 1;
    if (ps->pos >= ps->len) {
        ps->t.kind = T_EOF;
        ps->t.len = 0;
        return DT_OK;
    }
    const char *s = ps->s;
    size_t i = ps->pos;
    char c = s[i];
    char n1 = i + 1 < ps->len ? s[i + 1] : '\0';
    switch (c) {
    case '[': ps->t.kind = T_LBRACK; break;
    case ']': ps->t.kind = T_RBRACK; break;
    case '(': ps->t.kind = T_LPAREN; break;
    case ')': ps->t.kind = T_RPAREN; break;
    case ':': ps->t.kind = T_COLON; break;
    case ',': ps->t.kind = T_COMMA; break;
    case '*': ps->t.kind = T_STAR; break;
    case '=':
        ps->t.kind = T_EQ;
        ps->t.len = n1 == '=' ? 2 : 1;
        break;
    case '!':
        if (n1 != '=')
            return fail_at(ps, DT_EPARSE, i, "unexpected character '!' (did you mean '!=')");
        ps->t.kind = T_NEQ;
        ps->t.len = 2;
        break;
    case '<':
        ps->t.kind = n1 == '=' ? T_LE : n1 == '>' ? T_NEQ : T_LT;
        ps->t.len = n1 == '=' || n1 == '>' ? 2 : 1;
        break;
    case '>':
        ps->t.kind = n1 == '=' ? T_GE : T_GT;
        ps->t.len = n1 == '=' ? 2 : 1;
        break;
    case '\'': {
        size_t end;
        rc = lex_quoted(ps, i, true, &end, &ps->t.c);
        if (rc != DT_OK)
            return rc;
        ps->t.kind = T_STRING;
        ps->t.c.kind = PAT_STRING;
        ps->t.len = end - i;
        ps->pos = end;
        return DT_OK;
    }
    case '.':
        if (isdigit((unsigned char)n1))
            return lex_number(ps);
        ps->t.kind = T_DOT;
        break;
    case '+':
    case '-':
        return lex_number(ps);
    default:
        if (isdigit((unsigned char)c))
            return lex_number(ps);
        if ((c == 'b' || c == 'h' || c == 't') && n1 == '\'')
            return lex_prefixed(ps, c, i);
        if (isalpha((unsigned char)c) || c == '_') {
            size_t j = i;
            bool hyphen = false;
            while (j < ps->len && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '-')) {
                hyphen |= s[j] == '-';
                j++;
            }
            ps->t.len = j - i;
            ps->t.kind = T_IDENT;
            ps->t.hyphen = hyphen;
            for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                if (strlen(keywords[k].word) == j - i && memcmp(keywords[k].word, s + i, j - i) == 0)
                    ps->t.kind = keywords[k].kind;
            if ((j - i == 4 && memcmp(s + i, "true", 4) == 0) ||
                (j - i == 5 && memcmp(s + i, "false", 5) == 0)) {
                ps->t.kind = T_BOOL;
                ps->t.c.kind = PAT_BOOL;
                ps->t.c.b = s[i] == 't';
            }
            break;
        }
        if ((unsigned char)c >= 0x80)
            return fail_at(ps, DT_EPARSE, i, "unexpected non-ASCII character outside a string");
        if ((unsigned char)c < 0x20 || c == 0x7F)
            return fail_at(ps, DT_EPARSE, i, "unexpected control character 0x%02x",
                           (unsigned)(unsigned char)c);
        return fail_at(ps, DT_EPARSE, i, "unexpected character '%c'", c);
    }
    ps->pos = i + ps->t.len;
    return DT_OK;
}

/* ---------------------------------------------------------------- helpers */

typedef struct vec {
    void **items;
    size_t count, cap;
} vec;

static dt_status vec_push(parser *ps, vec *v, void *item)
{
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        void **n = dt_realloc(v->items, cap * sizeof *n);
        if (n == NULL)
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        v->items = n;
        v->cap = cap;
    }
    v->items[v->count++] = item;
    return DT_OK;
}

static void **vec_to_arena(parser *ps, vec *v)
{
    void **a = pat_arena_alloc(&ps->p->arena, v->count * sizeof *a);
    if (a != NULL)
        memcpy(a, v->items, v->count * sizeof *a);
    return a;
}

static void *node_alloc(parser *ps, size_t n)
{
    void *x = pat_arena_alloc(&ps->p->arena, n);
    if (x == NULL)
        dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
    else
        memset(x, 0, n);
    return x;
}

static dt_status add_type(parser *ps, const char *type)
{
    pattern *p = ps->p;
    for (size_t i = 0; i < p->type_count; i++)
        if (strcmp(p->types[i], type) == 0)
            return DT_OK;
    /* grown in powers of two inside the arena; the old array is left behind */
    if ((p->type_count & (p->type_count - 1)) == 0) {
        size_t cap = p->type_count ? p->type_count * 2 : 1;
        const char **n = pat_arena_alloc(&p->arena, cap * sizeof *n);
        if (n == NULL)
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        if (p->type_count)
            memcpy(n, p->types, p->type_count * sizeof *n);
        p->types = n;
    }
    p->types[p->type_count++] = type;
    return DT_OK;
}

/* STIX 2.1 type names: a-z, 0-9 and '-', starting with a letter, 3..250. */
static bool type_name_ok(const char *s, size_t n, const char **why)
{
    if (n < 3 || n > 250) {
        *why = "must be 3 to 250 characters long";
        return false;
    }
    if (!(s[0] >= 'a' && s[0] <= 'z')) {
        *why = "must start with a lower-case letter";
        return false;
    }
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || isdigit((unsigned char)s[i]) || s[i] == '-')) {
            *why = "may only hold a-z, 0-9 and '-'";
            return false;
        }
    return true;
}

/* ---------------------------------------------------------------- paths */

static dt_status parse_path(parser *ps, pat_path *path)
{
    vec steps = {0};
    dt_status rc;
    const char *why = NULL;
    if (ps->t.kind != T_IDENT)
        return expected(ps, "an object type (such as file or ipv4-addr)");
    if (!type_name_ok(ps->s + ps->t.at, ps->t.len, &why))
        return fail_at(ps, DT_EINVALID, ps->t.at, "object type '%.*s' %s", (int)ps->t.len,
                       ps->s + ps->t.at, why);
    path->type = pat_arena_strndup(&ps->p->arena, ps->s + ps->t.at, ps->t.len);
    if (path->type == NULL)
        return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
    if ((rc = add_type(ps, path->type)) != DT_OK)
        return rc;
    if ((rc = lex_next(ps)) != DT_OK)
        return rc;
    if (ps->t.kind != T_COLON)
        return expected(ps, "':' after the object type");
    if ((rc = lex_next(ps)) != DT_OK)
        return rc;
    bool first = true;
    for (;;) {
        pat_step *st = NULL;
        if (first || ps->t.kind == T_DOT) {
            if (!first && (rc = lex_next(ps)) != DT_OK)
                goto out;
            st = node_alloc(ps, sizeof *st);
            if (st == NULL) {
                rc = DT_ENOMEM;
                goto out;
            }
            st->kind = STEP_KEY;
            size_t at = ps->t.at;
            if (ps->t.kind == T_IDENT) {
                if (first && ps->t.hyphen) {
                    rc = fail_at(ps, DT_EINVALID, at,
                                 "property name '%.*s' may not hold '-' (quote it if it is a key)",
                                 (int)ps->t.len, ps->s + at);
                    goto out;
                }
                st->key = pat_arena_strndup(&ps->p->arena, ps->s + at, ps->t.len);
            } else if (ps->t.kind == T_STRING) {
                st->key = ps->t.c.s;
                st->quoted = true;
            } else {
                rc = expected(ps, first ? "a property name" : "a property name after '.'");
                goto out;
            }
            if (st->key == NULL) {
                rc = dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
                goto out;
            }
            size_t kl = strlen(st->key);
            if (kl == 0 || kl > 250 || kl != (st->quoted ? ps->t.c.len : kl)) {
                rc = fail_at(ps, DT_EINVALID, at, "property name must be 1 to 250 characters");
                goto out;
            }
            if (first) {
                for (size_t k = 0; k < kl; k++)
                    if (!(isalnum((unsigned char)st->key[k]) || st->key[k] == '_')) {
                        rc = fail_at(ps, DT_EINVALID, at,
                                     "property name '%s' may only hold A-Z, a-z, 0-9 and '_'",
                                     st->key);
                        goto out;
                    }
            }
            first = false;
        } else if (ps->t.kind == T_LBRACK) {
            if ((rc = lex_next(ps)) != DT_OK)
                goto out;
            st = node_alloc(ps, sizeof *st);
            if (st == NULL) {
                rc = DT_ENOMEM;
                goto out;
            }
            if (ps->t.kind == T_STAR) {
                st->kind = STEP_STAR;
            } else if (ps->t.kind == T_INT) {
                st->kind = STEP_INDEX;
                st->index = ps->t.c.i;
            } else {
                rc = expected(ps, "a list index or '*'");
                goto out;
            }
            if ((rc = lex_next(ps)) != DT_OK)
                goto out;
            if (ps->t.kind != T_RBRACK) {
                rc = expected(ps, "']' after the list index");
                goto out;
            }
        } else {
            break;
        }
        if (steps.count >= PATTERN_MAX_PATH_STEPS) {
            rc = fail_at(ps, DT_ELIMIT, ps->t.at, "object path longer than %u steps",
                         PATTERN_MAX_PATH_STEPS);
            goto out;
        }
        if ((rc = vec_push(ps, &steps, st)) != DT_OK)
            goto out;
        if ((rc = lex_next(ps)) != DT_OK)
            goto out;
    }
    path->count = steps.count;
    path->steps = pat_arena_alloc(&ps->p->arena, steps.count * sizeof *path->steps);
    if (path->steps == NULL) {
        rc = dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < steps.count; i++)
        path->steps[i] = *(pat_step *)steps.items[i];
    rc = DT_OK;
out:
    dt_free(steps.items);
    return rc;
}

/* ---------------------------------------------------------------- checks */

static const struct { const char *name; unsigned hexlen; } hash_lens[] = {
    {"MD5", 32}, {"SHA1", 40}, {"SHA224", 56}, {"SHA256", 64}, {"SHA384", 96}, {"SHA512", 128},
    {"SHA3224", 56}, {"SHA3256", 64}, {"SHA3384", 96}, {"SHA3512", 128}, {"RIPEMD160", 40},
    {"WHIRLPOOL", 128},
};

/* A string compared with hashes.<ALGO> must be hex of the algorithm's length
 * (as OASIS's validator checks); unknown algorithms are not checked. */
static dt_status check_hash(parser *ps, const pat_path *path, const pat_const *v, size_t at)
{
    if (path->count < 2 || v->kind != PAT_STRING)
        return DT_OK;
    const pat_step *last = &path->steps[path->count - 1];
    const pat_step *prev = &path->steps[path->count - 2];
    if (last->kind != STEP_KEY || prev->kind != STEP_KEY || strcmp(prev->key, "hashes") != 0)
        return DT_OK;
    char norm[32];
    size_t n = 0;
    for (const char *k = last->key; *k && n + 1 < sizeof norm; k++)
        if (*k != '-' && *k != '_')
            norm[n++] = (char)toupper((unsigned char)*k);
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof hash_lens / sizeof hash_lens[0]; i++) {
        if (strcmp(norm, hash_lens[i].name) != 0)
            continue;
        bool ok = v->len == hash_lens[i].hexlen;
        for (size_t k = 0; ok && k < v->len; k++)
            ok = hexval((unsigned char)v->s[k]) >= 0;
        if (!ok)
            return fail_at(ps, DT_EINVALID, at, "'%.*s' is not a valid %s hash (%u hex digits)",
                           (int)(v->len > 80 ? 80 : v->len), v->s, last->key,
                           hash_lens[i].hexlen);
    }
    return DT_OK;
}

static dt_status add_regex(parser *ps, pat_cmp *c, size_t at)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)c->value.s, c->value.len, PCRE2_UTF, &code, &off,
                                   NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        return fail_at(ps, DT_EINVALID, at, "MATCHES needs a valid PCRE regex: %s (at offset %zu)",
                       (const char *)msg, (size_t)off);
    }
    pattern *p = ps->p;
    if (p->regex_count == p->regex_cap) {
        size_t cap = p->regex_cap ? p->regex_cap * 2 : 4;
        pcre2_code **n = dt_realloc(p->regexes, cap * sizeof *n);
        if (n == NULL) {
            pcre2_code_free(re);
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        }
        p->regexes = n;
        p->regex_cap = cap;
    }
    p->regexes[p->regex_count++] = re;
    c->re = re;
    return DT_OK;
}

/* ---------------------------------------------------------------- comparisons */

static dt_status parse_cmp_or(parser *ps, pat_cmp **out);

static bool is_literal(tok_kind k)
{
    return k == T_STRING || k == T_INT || k == T_FLOAT || k == T_BINARY || k == T_HEX ||
           k == T_TIME || k == T_BOOL;
}

static dt_status parse_cmp_test(parser *ps, pat_cmp **out)
{
    dt_status rc;
    pat_cmp *c = node_alloc(ps, sizeof *c);
    if (c == NULL)
        return DT_ENOMEM;
    c->kind = CMP_TEST;
    c->column = column_of(ps, ps->t.at);
    if (ps->t.kind == T_NOT || ps->t.kind == T_EXISTS) {
        if (ps->t.kind == T_NOT) {
            c->negated = true;
            if ((rc = lex_next(ps)) != DT_OK)
                return rc;
            if (ps->t.kind != T_EXISTS)
                return expected(ps, "EXISTS after NOT (NOT goes after the object path otherwise)");
        }
        if ((rc = lex_next(ps)) != DT_OK)
            return rc;
        c->op = OP_EXISTS;
        if ((rc = parse_path(ps, &c->path)) != DT_OK)
            return rc;
        *out = c;
        return DT_OK;
    }
    if ((rc = parse_path(ps, &c->path)) != DT_OK)
        return rc;
    if (ps->t.kind == T_NOT) {
        c->negated = true;
        if ((rc = lex_next(ps)) != DT_OK)
            return rc;
    }
    size_t op_at = ps->t.at;
    switch (ps->t.kind) {
    case T_EQ: c->op = OP_EQ; break;
    case T_NEQ: c->op = OP_NEQ; break;
    case T_LT: c->op = OP_LT; break;
    case T_GT: c->op = OP_GT; break;
    case T_LE: c->op = OP_LE; break;
    case T_GE: c->op = OP_GE; break;
    case T_IN: c->op = OP_IN; break;
    case T_LIKE: c->op = OP_LIKE; break;
    case T_MATCHES: c->op = OP_MATCHES; break;
    case T_ISSUBSET: c->op = OP_ISSUBSET; break;
    case T_ISSUPERSET: c->op = OP_ISSUPERSET; break;
    default:
        return expected(ps, "a comparison operator (=, !=, <, >, <=, >=, IN, LIKE, MATCHES, "
                            "ISSUBSET, ISSUPERSET)");
    }
    (void)op_at;
    if ((rc = lex_next(ps)) != DT_OK)
        return rc;
    size_t lit_at = ps->t.at;
    if (c->op == OP_IN) {
        vec items = {0};
        if (ps->t.kind != T_LPAREN)
            return expected(ps, "'(' to open the set after IN");
        if ((rc = lex_next(ps)) != DT_OK)
            return rc;
        while (ps->t.kind != T_RPAREN) {
            if (items.count > 0) {
                if (ps->t.kind != T_COMMA) {
                    dt_free(items.items);
                    return expected(ps, "',' or ')' in the set");
                }
                if ((rc = lex_next(ps)) != DT_OK) {
                    dt_free(items.items);
                    return rc;
                }
            }
            if (!is_literal(ps->t.kind)) {
                dt_free(items.items);
                return expected(ps, "a constant in the set");
            }
            pat_const *k = node_alloc(ps, sizeof *k);
            if (k == NULL || (rc = vec_push(ps, &items, k)) != DT_OK) {
                dt_free(items.items);
                return DT_ENOMEM;
            }
            *k = ps->t.c;
            if ((rc = check_hash(ps, &c->path, k, ps->t.at)) != DT_OK ||
                (rc = lex_next(ps)) != DT_OK) {
                dt_free(items.items);
                return rc;
            }
        }
        c->set = pat_arena_alloc(&ps->p->arena, items.count * sizeof *c->set);
        if (c->set == NULL) {
            dt_free(items.items);
            return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        }
        for (size_t i = 0; i < items.count; i++)
            c->set[i] = *(pat_const *)items.items[i];
        c->set_count = items.count;
        dt_free(items.items);
    } else if (c->op == OP_EQ || c->op == OP_NEQ) {
        if (!is_literal(ps->t.kind))
            return expected(ps, "a constant (string, number, boolean, b'...', h'...', t'...')");
        c->value = ps->t.c;
        if ((rc = check_hash(ps, &c->path, &c->value, lit_at)) != DT_OK)
            return rc;
    } else if (c->op <= OP_GE) {
        if (!is_literal(ps->t.kind) || ps->t.kind == T_BOOL)
            return expected(ps, "an orderable constant (string, number, b'...', h'...', t'...')");
        c->value = ps->t.c;
    } else {
        if (ps->t.kind != T_STRING)
            return expected(ps, "a string");
        c->value = ps->t.c;
        if (c->op == OP_MATCHES && (rc = add_regex(ps, c, lit_at)) != DT_OK)
            return rc;
        if (c->op == OP_ISSUBSET || c->op == OP_ISSUPERSET) {
            uint8_t addr[16];
            unsigned prefix;
            bool v6;
            if (!pat_ip_parse(c->value.s, c->value.len, addr, &prefix, &v6))
                return fail_at(ps, DT_EINVALID, lit_at,
                               "%s needs an IPv4 or IPv6 address or CIDR block",
                               c->op == OP_ISSUBSET ? "ISSUBSET" : "ISSUPERSET");
        }
    }
    if ((rc = lex_next(ps)) != DT_OK)
        return rc;
    *out = c;
    return DT_OK;
}

static dt_status enter(parser *ps)
{
    if (++ps->depth > PATTERN_MAX_DEPTH)
        return fail_at(ps, DT_ELIMIT, ps->t.at, "nesting deeper than %u levels",
                       PATTERN_MAX_DEPTH);
    return DT_OK;
}

static dt_status parse_cmp_unary(parser *ps, pat_cmp **out)
{
    dt_status rc;
    if (ps->t.kind != T_LPAREN)
        return parse_cmp_test(ps, out);
    if ((rc = enter(ps)) != DT_OK || (rc = lex_next(ps)) != DT_OK)
        return rc;
    if ((rc = parse_cmp_or(ps, out)) != DT_OK)
        return rc;
    if (ps->t.kind != T_RPAREN)
        return expected(ps, "')', AND or OR");
    ps->depth--;
    return lex_next(ps);
}

/* One n-ary level: items separated by `sep`, children of kind `kind`; a
 * child of the same kind (from parentheses) is spliced in, since AND and OR
 * of comparisons are associative. */
static dt_status parse_cmp_level(parser *ps, pat_cmp **out, tok_kind sep, pat_cmp_kind kind,
                                 dt_status (*sub)(parser *, pat_cmp **))
{
    vec kids = {0};
    pat_cmp *first = NULL;
    dt_status rc = sub(ps, &first);
    if (rc != DT_OK)
        return rc;
    if (ps->t.kind != sep) {
        *out = first;
        return DT_OK;
    }
    pat_cmp *node = node_alloc(ps, sizeof *node);
    if (node == NULL)
        return DT_ENOMEM;
    node->kind = kind;
    pat_cmp *k = first;
    for (;;) {
        if (k->kind == kind) {
            for (size_t i = 0; i < k->count; i++)
                if ((rc = vec_push(ps, &kids, k->kids[i])) != DT_OK)
                    goto out;
        } else if ((rc = vec_push(ps, &kids, k)) != DT_OK) {
            goto out;
        }
        if (ps->t.kind != sep)
            break;
        if ((rc = lex_next(ps)) != DT_OK || (rc = sub(ps, &k)) != DT_OK)
            goto out;
    }
    node->kids = (pat_cmp **)vec_to_arena(ps, &kids);
    if (node->kids == NULL) {
        rc = dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        goto out;
    }
    node->count = kids.count;
    *out = node;
    rc = DT_OK;
out:
    dt_free(kids.items);
    return rc;
}

static dt_status parse_cmp_and(parser *ps, pat_cmp **out)
{
    return parse_cmp_level(ps, out, T_AND, CMP_AND, parse_cmp_unary);
}

static dt_status parse_cmp_or(parser *ps, pat_cmp **out)
{
    return parse_cmp_level(ps, out, T_OR, CMP_OR, parse_cmp_and);
}

/* ---------------------------------------------------------------- observations */

static dt_status parse_obs_fb(parser *ps, pat_obs **out);

static dt_status parse_qualifiers(parser *ps, pat_obs **inout, bool bracketed)
{
    dt_status rc;
    unsigned seen = 0, n = 0;
    for (;;) {
        pat_obs_kind kind;
        size_t at = ps->t.at;
        if (ps->t.kind == T_WITHIN)
            kind = OBS_WITHIN;
        else if (ps->t.kind == T_REPEATS)
            kind = OBS_REPEATS;
        else if (ps->t.kind == T_START)
            kind = OBS_STARTSTOP;
        else
            return DT_OK;
        if (++n > PATTERN_MAX_QUALIFIERS)
            return fail_at(ps, DT_ELIMIT, at, "more than %u qualifiers on one expression",
                           PATTERN_MAX_QUALIFIERS);
        if (bracketed && (seen & (1u << kind)))
            return fail_at(ps, DT_EINVALID, at,
                           "duplicate %s qualifier on one observation expression (use "
                           "parentheses to qualify a qualified expression)",
                           kind == OBS_WITHIN ? "WITHIN" : kind == OBS_REPEATS ? "REPEATS"
                                                                               : "START/STOP");
        seen |= 1u << kind;
        pat_obs *q = node_alloc(ps, sizeof *q);
        if (q == NULL)
            return DT_ENOMEM;
        q->kind = kind;
        q->child = *inout;
        if ((rc = lex_next(ps)) != DT_OK)
            return rc;
        if (kind == OBS_WITHIN) {
            if (ps->t.kind != T_INT && ps->t.kind != T_FLOAT)
                return expected(ps, "a positive number of seconds after WITHIN");
            double secs = ps->t.kind == T_INT ? (double)ps->t.c.i : ps->t.c.f;
            bool neg = ps->s[ps->t.at] == '-';
            if (neg || !(secs > 0))
                return fail_at(ps, DT_EINVALID, ps->t.at, "WITHIN needs a positive number of seconds");
            if (secs > 1e12)
                return fail_at(ps, DT_EINVALID, ps->t.at, "WITHIN longer than 10^12 seconds");
            q->within_us = (int64_t)(secs * 1e6 + 0.5);
            if (q->within_us < 1)
                q->within_us = 1;
            size_t off = ps->s[ps->t.at] == '+' ? 1 : 0;
            q->within_text = pat_arena_strndup(&ps->p->arena, ps->s + ps->t.at + off,
                                               ps->t.len - off);
            if (q->within_text == NULL)
                return dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
            if ((rc = lex_next(ps)) != DT_OK)
                return rc;
            if (ps->t.kind != T_SECONDS)
                return expected(ps, "SECONDS");
        } else if (kind == OBS_REPEATS) {
            if (ps->t.kind != T_INT)
                return expected(ps, "a positive integer after REPEATS");
            if (ps->t.c.i < 1 || ps->s[ps->t.at] == '-')
                return fail_at(ps, DT_EINVALID, ps->t.at, "REPEATS needs a count of at least 1");
            if (ps->t.c.i > (int64_t)PATTERN_MAX_REPEATS)
                return fail_at(ps, DT_EINVALID, ps->t.at, "REPEATS count above the limit of %u",
                               PATTERN_MAX_REPEATS);
            q->repeats = (uint32_t)ps->t.c.i;
            if ((rc = lex_next(ps)) != DT_OK)
                return rc;
            if (ps->t.kind != T_TIMES)
                return expected(ps, "TIMES");
        } else {
            if (ps->t.kind != T_TIME)
                return expected(ps, "a timestamp t'...' after START");
            q->start = ps->t.c.t;
            if ((rc = lex_next(ps)) != DT_OK)
                return rc;
            if (ps->t.kind != T_STOP)
                return expected(ps, "STOP");
            if ((rc = lex_next(ps)) != DT_OK)
                return rc;
            if (ps->t.kind != T_TIME)
                return expected(ps, "a timestamp t'...' after STOP");
            q->stop = ps->t.c.t;
            if (dt_time_cmp(&q->start, &q->stop) >= 0)
                return fail_at(ps, DT_EINVALID, ps->t.at, "STOP must be later than START");
        }
        if ((rc = lex_next(ps)) != DT_OK)
            return rc;
        *inout = q;
    }
}

static dt_status parse_obs_unary(parser *ps, pat_obs **out)
{
    dt_status rc;
    pat_obs *o = NULL;
    bool bracketed;
    if (ps->t.kind == T_LBRACK) {
        bracketed = true;
        if ((rc = enter(ps)) != DT_OK || (rc = lex_next(ps)) != DT_OK)
            return rc;
        o = node_alloc(ps, sizeof *o);
        if (o == NULL)
            return DT_ENOMEM;
        o->kind = OBS_SIMPLE;
        if ((rc = parse_cmp_or(ps, &o->cmp)) != DT_OK)
            return rc;
        if (ps->t.kind != T_RBRACK)
            return expected(ps, "']', AND or OR");
    } else if (ps->t.kind == T_LPAREN) {
        bracketed = false;
        if ((rc = enter(ps)) != DT_OK || (rc = lex_next(ps)) != DT_OK)
            return rc;
        if ((rc = parse_obs_fb(ps, &o)) != DT_OK)
            return rc;
        if (ps->t.kind != T_RPAREN)
            return expected(ps, "')', AND, OR or FOLLOWEDBY");
        o->paren = true;
    } else {
        return expected(ps, "'[' or '(' to start an observation expression");
    }
    ps->depth--;
    if ((rc = lex_next(ps)) != DT_OK)
        return rc;
    if ((rc = parse_qualifiers(ps, &o, bracketed)) != DT_OK)
        return rc;
    *out = o;
    return DT_OK;
}

static dt_status parse_obs_level(parser *ps, pat_obs **out, tok_kind sep, pat_obs_kind kind,
                                 dt_status (*sub)(parser *, pat_obs **))
{
    vec kids = {0};
    pat_obs *k = NULL;
    dt_status rc = sub(ps, &k);
    if (rc != DT_OK)
        return rc;
    if (ps->t.kind != sep) {
        *out = k;
        return DT_OK;
    }
    pat_obs *node = node_alloc(ps, sizeof *node);
    if (node == NULL)
        return DT_ENOMEM;
    node->kind = kind;
    for (;;) {
        if ((rc = vec_push(ps, &kids, k)) != DT_OK)
            goto out;
        if (ps->t.kind != sep)
            break;
        if ((rc = lex_next(ps)) != DT_OK || (rc = sub(ps, &k)) != DT_OK)
            goto out;
    }
    node->kids = (pat_obs **)vec_to_arena(ps, &kids);
    if (node->kids == NULL) {
        rc = dt_fail(ps->err, DT_ENOMEM, "", "out of memory");
        goto out;
    }
    node->count = kids.count;
    *out = node;
    rc = DT_OK;
out:
    dt_free(kids.items);
    return rc;
}

static dt_status parse_obs_and(parser *ps, pat_obs **out)
{
    return parse_obs_level(ps, out, T_AND, OBS_AND, parse_obs_unary);
}

static dt_status parse_obs_or(parser *ps, pat_obs **out)
{
    return parse_obs_level(ps, out, T_OR, OBS_OR, parse_obs_and);
}

static dt_status parse_obs_fb(parser *ps, pat_obs **out)
{
    return parse_obs_level(ps, out, T_FOLLOWEDBY, OBS_FOLLOWEDBY, parse_obs_or);
}

dt_status pattern_parse(const char *text, size_t len, pattern **out, dt_err *err)
{
    parser ps = {.s = text, .len = len, .err = err};
    size_t bad;
    dt_status rc;
    *out = NULL;
    if (text == NULL && len > 0)
        return dt_fail(err, DT_EARG, "pattern", "no text");
    if (len > PATTERN_MAX_LEN)
        return dt_fail(err, DT_ELIMIT, "column 1", "pattern of %zu bytes, limit %u", len,
                       PATTERN_MAX_LEN);
    if (!dt_utf8_valid(text, len, &bad))
        return fail_at(&ps, DT_EPARSE, bad, "invalid UTF-8");
    if (memchr(text, '\0', len) != NULL)
        return fail_at(&ps, DT_EPARSE, (size_t)((const char *)memchr(text, '\0', len) - text),
                       "NUL byte in pattern");
    ps.p = dt_calloc(1, sizeof *ps.p);
    if (ps.p == NULL)
        return dt_fail(err, DT_ENOMEM, "pattern", "out of memory");
    if ((rc = lex_next(&ps)) != DT_OK)
        goto out;
    if ((rc = parse_obs_fb(&ps, &ps.p->root)) != DT_OK)
        goto out;
    if (ps.t.kind != T_EOF) {
        rc = expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern");
        goto out;
    }
    *out = ps.p;
    ps.p = NULL;
out:
    if (rc != DT_OK && err != NULL && err->code == DT_OK)
        dt_fail(err, rc, "pattern", "parse failed");
    pattern_free(ps.p);
    return rc;
}
