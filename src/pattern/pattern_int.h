/* pattern internals shared by the parser, printer, evaluator and atom
 * extraction: the tree, the arena it lives in. Not a public header. */
#ifndef DETENTE_PATTERN_INT_H
#define DETENTE_PATTERN_INT_H

#include "pattern/pattern.h"

#include <pcre2.h>

/* A bump allocator: the tree is freed in one call. */
typedef struct pat_chunk {
    struct pat_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* cap bytes follow */
} pat_chunk;

typedef struct pat_arena {
    pat_chunk *head;
} pat_arena;

void *pat_arena_alloc(pat_arena *a, size_t n);
char *pat_arena_strndup(pat_arena *a, const char *s, size_t n);
void pat_arena_release(pat_arena *a);

typedef enum pat_kind {
    PAT_STRING,
    PAT_INT,
    PAT_FLOAT,
    PAT_BOOL,
    PAT_BINARY, /* b'...' decoded */
    PAT_HEX,    /* h'...' decoded */
    PAT_TIME,
} pat_kind;

typedef struct pat_const {
    pat_kind kind;
    const char *s; /* STRING: unescaped UTF-8; BINARY/HEX: bytes; FLOAT: text as written, no '+' */
    size_t len;
    int64_t i;
    double f;
    bool b;
    dt_time t;
} pat_const;

typedef enum pat_step_kind { STEP_KEY, STEP_INDEX, STEP_STAR } pat_step_kind;

typedef struct pat_step {
    pat_step_kind kind;
    const char *key; /* STEP_KEY */
    bool quoted;     /* the key was written as a string literal */
    int64_t index;   /* STEP_INDEX, may be negative (counts from the end) */
} pat_step;

typedef struct pat_path {
    const char *type;
    pat_step *steps; /* steps[0] is the first property */
    size_t count;
} pat_path;

typedef enum pat_op {
    OP_EQ,
    OP_NEQ,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_IN,
    OP_LIKE,
    OP_MATCHES,
    OP_ISSUBSET,
    OP_ISSUPERSET,
    OP_EXISTS,
} pat_op;

typedef enum pat_cmp_kind { CMP_TEST, CMP_AND, CMP_OR } pat_cmp_kind;

typedef struct pat_cmp {
    pat_cmp_kind kind;
    /* CMP_AND / CMP_OR: n-ary */
    struct pat_cmp **kids;
    size_t count;
    /* CMP_TEST */
    pat_path path;
    pat_op op;
    bool negated;
    pat_const value;   /* all but IN and EXISTS */
    pat_const *set;    /* IN */
    size_t set_count;
    pcre2_code *re;    /* MATCHES, owned by the pattern's regex list */
    unsigned column;
} pat_cmp;

typedef enum pat_obs_kind {
    OBS_SIMPLE,     /* [ comparison ] */
    OBS_AND,        /* n-ary, left to right */
    OBS_OR,
    OBS_FOLLOWEDBY,
    OBS_WITHIN,
    OBS_REPEATS,
    OBS_STARTSTOP,
} pat_obs_kind;

typedef struct pat_obs {
    pat_obs_kind kind;
    bool paren; /* written inside ( ) in the source */
    pat_cmp *cmp;           /* OBS_SIMPLE */
    struct pat_obs **kids;  /* AND/OR/FOLLOWEDBY */
    size_t count;
    struct pat_obs *child;  /* qualifiers */
    int64_t within_us;      /* OBS_WITHIN, microseconds */
    const char *within_text; /* as written, without '+' */
    uint32_t repeats;       /* OBS_REPEATS */
    dt_time start, stop;    /* OBS_STARTSTOP */
} pat_obs;

struct pattern {
    pat_arena arena;
    pat_obs *root;
    pcre2_code **regexes;
    size_t regex_count, regex_cap;
    const char **types; /* distinct object types, in order of appearance */
    size_t type_count;
};

/* Structural equality of two parsed patterns (the round-trip fuzz target). */
bool pattern_tree_equal(const pattern *a, const pattern *b);

/* Shared helpers. */
bool pat_ip_parse(const char *s, size_t len, uint8_t addr[16], unsigned *prefix, bool *is_v6);

#endif
