/* pattern: the STIX 2.1 patterning language (STIX 2.1 part 9).
 *
 * pattern_parse turns a pattern's text into a validated tree (it owns an
 * arena and the compiled PCRE2 regexes of its MATCHES tests); the tree can be
 * printed back as canonical text, explained as a human-readable tree,
 * evaluated against observed-data, and, when it is a plain disjunction of
 * equality tests, reduced to the atoms the scanner indexes.
 *
 * Limits: at most PATTERN_MAX_LEN bytes of text, PATTERN_MAX_DEPTH levels of
 * parentheses, PATTERN_MAX_QUALIFIERS qualifiers on one expression,
 * PATTERN_MAX_PATH_STEPS steps in one object path,
 * REPEATS at most PATTERN_MAX_REPEATS. A parsed pattern is immutable: every
 * function taking a `const pattern *` may be called from several threads at
 * once. */
#ifndef DETENTE_PATTERN_H
#define DETENTE_PATTERN_H

#include "core/core.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PATTERN_MAX_LEN 65536u
#define PATTERN_MAX_DEPTH 64u
#define PATTERN_MAX_QUALIFIERS 16u
#define PATTERN_MAX_REPEATS 1000u
#define PATTERN_MAX_PATH_STEPS 64u

typedef struct pattern pattern; /* parsed, validated pattern (owns an arena) */

/* Parse and validate `len` bytes of pattern text (need not be NUL-terminated).
 * On DT_OK the caller owns *out (pattern_free). DT_EPARSE for syntax errors,
 * DT_EINVALID for rule violations (START not before STOP, bad REPEATS, an
 * invalid MATCHES regex, a malformed type or property name, a malformed hash),
 * DT_ELIMIT beyond the limits above, DT_ENOMEM. err->where = "column N"
 * (1-based, in characters), msg says what was expected / which rule. */
dt_status pattern_parse(const char *text, size_t len, pattern **out, dt_err *err);
/* Free a pattern; NULL is fine. */
void pattern_free(pattern *p);

/* Append the canonical text of p to out: single spaces, literals normalised
 * (hex lower-case, binary re-encoded, numbers without '+'), the parentheses
 * of the source kept around observation expressions, minimal ones around
 * comparisons. Parsing the output gives the same tree. DT_ELIMIT if out is full. */
dt_status pattern_print(const pattern *p, dt_buf *out, dt_err *err); /* canonical text */
/* Append an indented, human-readable tree of p to out. */
dt_status pattern_explain(const pattern *p, dt_buf *out, dt_err *err); /* human tree */

/* Evaluate p against `objects`, a JSON array of STIX objects: observed-data
 * (2.1 `object_refs`, or the deprecated embedded `objects`) plus the SCOs they
 * reference. *matched says whether the pattern matches. Borrowed, not kept.
 * DT_EINVALID if an observed-data lacks first_observed/last_observed/
 * number_observed or has bad values; DT_ELIMIT if the search for bindings
 * grew past its bound before finding a match; DT_ENOMEM. */
dt_status pattern_match(const pattern *p, const json_t *objects, bool *matched, dt_err *err);

typedef struct pattern_atom {
    char *type;  /* STIX object type: "domain-name", "ipv4-addr", "file", ... */
    char *path;  /* property path, quotes removed: "value", "hashes.SHA-256", "name" */
    char *value; /* normalised: hashes lower-case hex; domain-name lower-case without a trailing dot;
                    everything else as written (after unescaping) */
} pattern_atom;
typedef struct pattern_atoms {
    pattern_atom *atoms;
    size_t count;
} pattern_atoms;

/* DT_EINVALID with a clear message when the pattern is not a disjunction of equality atoms
   (qualifiers, AND, NOT, other operators make it "not simple"). On DT_OK the caller
   releases *out with pattern_atoms_release; on failure *out is empty. */
dt_status pattern_atoms_extract(const pattern *p, pattern_atoms *out, dt_err *err);
void pattern_atoms_release(pattern_atoms *a);

/* Object types the pattern refers to (for the scanner: evaluate only where they occur).
 * Fills up to cap pointers (owned by p, valid while p lives) with the distinct
 * types in order of first appearance and returns how many there are in total. */
size_t pattern_object_types(const pattern *p, const char **types, size_t cap);

/* Does any comparison of the pattern test property key (the first step
 * of its path) of objects of this type? For the scanner, to report the
 * value a pattern looked at. */
bool pattern_tests_property(const pattern *p, const char *type, const char *key);

/* Evaluate against a single observation built from one log record: the SCOs of one record,
   observed at time ts (us since epoch). Used by the scanner for non-simple patterns.
   `scos` is a JSON array of SCOs (references resolve by id among them). An
   expression needing two observations (AND, FOLLOWEDBY, REPEATS 2) never matches. */
dt_status pattern_match_record(const pattern *p, const json_t *scos, int64_t ts_us, bool *matched,
                               dt_err *err);

#endif
