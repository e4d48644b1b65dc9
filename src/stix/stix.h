/* stix: STIX 2.1 objects in memory, their validation, input splitting,
 * canonical JSON (RFC 8785) and deterministic SCO identifiers.
 *
 * The model is a validated jansson tree plus the handful of common
 * properties every layer needs (type, id, spec_version, created, modified,
 * revoked), cached as fields. JSON is parsed strictly: duplicate keys are
 * rejected (two readers must never see two different objects in one text,
 * which would defeat signatures), UTF-8 must be valid, nesting is bounded.
 *
 * Thread safety: functions are pure over their arguments; objects are not
 * shared between threads while being modified. */
#ifndef DETENTE_STIX_H
#define DETENTE_STIX_H

#include "core/core.h"

#include <jansson.h>

typedef struct stix_limits {
    size_t max_input_bytes;   /* whole input text */
    size_t max_object_bytes;  /* one object's JSON */
    size_t max_depth;         /* JSON nesting */
    size_t max_objects;       /* objects in one input */
    size_t max_string_bytes;  /* one string value */
    size_t max_pattern_bytes; /* an indicator's pattern */
    /* Lenient reading of STIX 2.0-era content: an SDO/SRO/SMO without
     * spec_version is read as "2.1" instead of being rejected (STIX 2.1
     * requires the property; the default, false, enforces that). */
    bool assume_spec_version;
} stix_limits;

/* Sensible defaults: 64 MiB input, 4 MiB object, depth 64, 1M objects,
 * 1 MiB strings, 64 KiB patterns, assume_spec_version off. */
void stix_limits_default(stix_limits *lim);

typedef enum stix_kind {
    STIX_KIND_SDO,
    STIX_KIND_SRO,
    STIX_KIND_SCO,
    STIX_KIND_SMO,     /* marking-definition, language-content, extension-definition */
    STIX_KIND_BUNDLE,
    STIX_KIND_CUSTOM,  /* x- types and types unknown to STIX 2.1 */
} stix_kind;

typedef struct stix_object {
    json_t *json;          /* owned */
    const char *type;      /* borrowed from json */
    const char *id;
    const char *spec_version; /* "2.1" if absent (SCOs may omit it) */
    stix_kind kind;
    bool has_created, has_modified;
    dt_time created, modified;
    bool revoked;
} stix_object;

/* Parse JSON text strictly (see above). DT_EPARSE with "line L column C"
 * in where and the reason in msg. */
dt_status stix_json_parse(const char *text, size_t len, const stix_limits *lim, json_t **out,
                          dt_err *err);

/* Validate one object against STIX 2.1 (common properties, the type's
 * required properties, value constraints, vocabularies, extensions,
 * markings' selectors). err->where names the JSON path ("pattern",
 * "external_references[2].source_name"); msg names the rule broken. */
dt_status stix_validate(const json_t *obj, const stix_limits *lim, dt_err *err);

/* Validate and wrap. Takes ownership of json (freed on failure too). */
dt_status stix_object_take(json_t *json, const stix_limits *lim, stix_object **out, dt_err *err);
void stix_object_free(stix_object *o);
stix_kind stix_type_kind(const char *type);

/* An input text holding a bundle, a JSON array of objects, one object, or
 * JSON lines (one object per line). Each item is reported through the
 * callback with its location ("objects[3]", "[3]", "line 7"), either as a
 * parsed json_t (borrowed for the call; json_incref to keep) or as a parse
 * error for that item. A callback returning non-DT_OK stops the walk with
 * that status. A failure of the input as a whole (not JSON at all, not
 * a bundle/array/object) returns DT_EPARSE without calling back. */
typedef dt_status (*stix_item_fn)(void *ctx, const char *where, json_t *item,
                                  const dt_err *item_err);
dt_status stix_input_walk(const char *text, size_t len, const stix_limits *lim, stix_item_fn fn,
                          void *ctx, dt_err *err);

/* RFC 8785 canonical JSON of v appended to out. DT_EINVALID for values
 * JCS cannot represent (NaN/Infinity, integers beyond 2^53 in magnitude
 * that are not exactly a double, strings that are not valid UTF-8). */
dt_status stix_jcs(const json_t *v, dt_buf *out, dt_err *err);

/* Deterministic SCO id (STIX 2.1 section 2.9): UUIDv5 in the STIX
 * namespace over the JCS of the type's id-contributing properties; a v4
 * UUID when none of them is present. out gets "type--uuid". */
dt_status stix_sco_id(const json_t *sco, char *out, size_t cap, dt_err *err);

/* Helpers over jansson for the common cases. */
const char *stix_str(const json_t *obj, const char *key); /* NULL if absent or not a string */

#endif
