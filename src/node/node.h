/* node: one party's running detente — its data directory, configuration,
 * keys, accounts, and the two doors every object passes through.
 *
 * One door in: node_ingest_* is the only way an object enters the store
 * (TAXII POST, `detente import`, sync pulls, sightings from scans, opinions).
 * Parsing, validation, markings, signatures (checked or made), the store
 * transaction, the ledger append and verification triggers happen there and
 * nowhere else.
 *
 * One door out: node_query is the only way an object leaves (TAXII reads,
 * exports, the dashboard, sync serving). It checks the requester's
 * permission on the collection and drops everything above the requester's
 * marking clearance, so no path can serve what it should not.
 *
 * Thread safety: a node may be used from many threads (the HTTP server);
 * ingest serialises its writes through the store's single writer, and
 * commits the objects of concurrent calls together (one transaction, one
 * sync to disk for all of them; each call still gets only its own result). */
#ifndef DETENTE_NODE_H
#define DETENTE_NODE_H

#include "core/core.h"
#include "store/store.h"

#include <jansson.h>
#include <sodium.h>

/* TLP levels, least to most restrictive (TLP 2.0; TLP 1.0 WHITE reads as CLEAR). */
typedef enum node_tlp {
    NODE_TLP_CLEAR = 0,
    NODE_TLP_GREEN = 1,
    NODE_TLP_AMBER = 2,
    NODE_TLP_AMBER_STRICT = 3,
    NODE_TLP_RED = 4,
} node_tlp;

/* "clear", "white", "green", "amber", "amber+strict", "red" (any case). */
dt_status node_tlp_parse(const char *s, node_tlp *out, dt_err *err);
const char *node_tlp_name(node_tlp t);
/* The TLP level a known TLP 1.0/2.0 marking-definition id stands for. */
bool node_tlp_of_marking(const char *marking_id, node_tlp *out);
/* An object's effective level: its most restrictive TLP object marking, or
 * default_level when it has none (marking-definitions are CLEAR). */
node_tlp node_object_marking(const json_t *obj, node_tlp default_level);
/* Remove from obj, in place, every property that a granular TLP marking
 * above clearance selects; if anything was removed, also drop detente's
 * signature extension (it would no longer verify) and add
 * "x_detente_redacted": true. Returns whether obj was redacted. */
bool node_object_redact(json_t *obj, node_tlp clearance);

#define NODE_PATH_MAX 1024

/* detente.conf in the data directory (INI, see node_config_load). */
typedef struct node_config {
    char listen[128];            /* [server] listen = 127.0.0.1:8470 */
    char tls_cert[NODE_PATH_MAX];/* [server] tls_cert */
    char tls_key[NODE_PATH_MAX]; /* [server] tls_key */
    char title[128];             /* [server] title, discovery title */
    char api_root[64];           /* [server] api_root = api (the one API root's path segment) */
    node_tlp default_marking;    /* [node] default_marking = amber */
    char name[64];               /* [node] name = party-a (the identity's name) */
    size_t max_content_length;   /* [limits] max_content_length = 10485760 */
    size_t page_default;         /* [limits] page_default = 100 */
    size_t page_max;             /* [limits] page_max = 1000 */
    size_t connections;          /* [limits] connections = 256 (open at once; more wait) */
    size_t timeout;              /* [limits] timeout = 30 (seconds a connection may idle) */
    unsigned sync_interval;      /* [sync] interval = 300 (seconds; 0 disables the loop) */
    char warninglists[NODE_PATH_MAX]; /* [verify] warninglists = extra directory */
} node_config;

void node_config_default(node_config *c);
/* Read home/detente.conf over the defaults. Unknown keys are an error
 * naming the file, line and key (a typo must not silently do nothing). */
dt_status node_config_load(const char *home, node_config *out, dt_err *err);
/* The same over a text in memory; path names it in messages. */
dt_status node_config_parse(const char *text, size_t len, const char *path, node_config *out,
                            dt_err *err);

typedef struct node node;

typedef struct node_init_opts {
    const char *name;            /* identity name; default: the directory's base name */
    node_tlp default_marking;
} node_init_opts;

/* Create the data directory (mode 0700) with detente.conf, the Ed25519 key
 * (key.secret mode 0600, key.public), the store with collection "default",
 * and the node's identity and detente's extension-definition objects (signed,
 * ledgered). DT_ECONFLICT if home already holds a node. */
dt_status node_init(const char *home, const node_init_opts *opts, dt_err *err);

/* Open an initialised node. Refuses (DT_EDENIED) to use a secret key file
 * readable or writable by group or others. */
dt_status node_open(const char *home, node **out, dt_err *err);
void node_close(node *n);
store *node_store(node *n);
const node_config *node_conf(const node *n);
const char *node_home(const node *n);
/* The node's identity id ("identity--...") and public key. */
const char *node_identity_id(const node *n);
const uint8_t *node_public_key(const node *n); /* crypto_sign_PUBLICKEYBYTES */

/* Who is asking. LOCAL is the operator at the machine (the CLI): every
 * collection, every marking. */
typedef enum node_principal_kind {
    NODE_PRINCIPAL_LOCAL = 0,
    NODE_PRINCIPAL_USER = 1,
    NODE_PRINCIPAL_PEER = 2,
    NODE_PRINCIPAL_ANONYMOUS = 3,
} node_principal_kind;

typedef struct node_principal {
    node_principal_kind kind;
    char name[64];
    node_tlp max_marking;
} node_principal;

void node_principal_local(node_principal *p);

/* ---- the door in ---- */

struct node_ingest_result;

/* A row that must be committed with the objects (a TAXII status resource):
 * called by ingest's writer inside the transaction that stores the call's
 * last chunk, after its objects are written, with the call's whole result
 * (items and counts final; earlier chunks of a long call are already
 * committed). Whatever it writes in t commits with the objects or not at
 * all; an error fails the transaction. It may run on another caller's
 * thread (the one writing the group): keep it short, touch only ctx. */
typedef dt_status (*node_ingest_hook)(void *ctx, store_txn *t,
                                      const struct node_ingest_result *res, dt_err *err);

typedef struct node_ingest_opts {
    const char *collection;      /* default "default"; created if missing only for LOCAL/peer pulls */
    bool atomic;                 /* all objects or none */
    bool sign;                   /* sign unsigned objects as this node (local writes) */
    const char *peer;            /* set for sync pulls: signatures checked against pinned keys */
    bool allow_unsigned;         /* accept objects without a signature (marked unsigned) */
    bool in_place;               /* node_ingest_json: the caller drops the objects after the
                                    call, so they may be signed in place instead of copied */
    node_ingest_hook on_stored;  /* may be NULL */
    void *on_stored_ctx;
} node_ingest_opts;

typedef enum node_item_outcome {
    NODE_ITEM_ADDED = 0,
    NODE_ITEM_DUPLICATE = 1,     /* identical version already held: a no-op */
    NODE_ITEM_REJECTED = 2,
} node_item_outcome;

typedef struct node_ingest_item {
    char where[96];              /* "objects[3]", "line 7" */
    char id[160];                /* may be empty when the object had none */
    char version[DT_TIME_LEN];   /* modified as written, may be empty */
    node_item_outcome outcome;
    dt_status status;            /* why rejected */
    char msg[256];
    int64_t date_added;          /* us, for added and duplicates */
} node_ingest_item;

typedef struct node_ingest_result {
    size_t added, duplicates, rejected;
    node_ingest_item *items;     /* one per object, in input order */
    size_t count;
} node_ingest_result;

/* Ingest a text holding a bundle, array, object or JSON lines. Returns
 * DT_OK when the input could be processed (each object's outcome is in
 * res, rejected ones with their reasons); an error status when the input
 * as a whole failed (not JSON, no permission, the store failed), in which
 * case nothing was stored. With opts->atomic, one rejected object rejects
 * all (nothing stored, DT_EINVALID). */
dt_status node_ingest_text(node *n, const node_principal *who, const node_ingest_opts *opts,
                           const char *text, size_t len, node_ingest_result *res, dt_err *err);
/* The same over already-parsed objects (borrowed, and left unchanged
 * unless opts->in_place); wheres[i] names each. */
dt_status node_ingest_json(node *n, const node_principal *who, const node_ingest_opts *opts,
                           json_t *const *objects, const char *const *wheres, size_t count,
                           node_ingest_result *res, dt_err *err);
void node_ingest_result_release(node_ingest_result *res);

/* ---- the door out ---- */

/* Whether who may see a ledger leaf's bytes (GET ledger/entries): the
 * leaf of an object version, or a tombstone, only when who may read that
 * version (a tombstone of all versions: any of them, deleted ones
 * included) in some collection; leaves that name no object (key
 * rotations) always. Others get the leaf's hash only. */
dt_status node_leaf_visible(node *n, const node_principal *who, const char *leaf, size_t len,
                            bool *visible, dt_err *err);

/* Check who may read (or write) collection: DT_OK, DT_ENOTFOUND for a
 * collection that does not exist, DT_EDENIED when it exists but who lacks
 * the permission. */
dt_status node_access(node *n, const node_principal *who, const char *collection,
                      unsigned perm /* store_perm bits */, dt_err *err);

/* Run q for who: permission checked, marking clearance applied (rows above
 * it are never returned, counted or hinted at). */
dt_status node_query(node *n, const node_principal *who, const store_query *q, store_page *out,
                     dt_err *err);

/* Delete an object (all versions, or one): its content is erased and a
 * signed tombstone leaf is appended to the ledger. Needs write permission.
 * Only versions who may read are deleted (one tombstone each); the
 * operator's delete of all versions is one tombstone. *count gets the
 * number of versions erased (0: DT_ENOTFOUND, also when every version is
 * above who's clearance, so that a writer learns nothing it may not read). */
dt_status node_delete(node *n, const node_principal *who, const char *collection, const char *id,
                      const char *modified, size_t *count, dt_err *err);

/* ---- accounts ---- */

/* Add an account. password NULL: a random one is generated into
 * generated (at least 33 bytes) to be shown once. Stored as Argon2id. */
dt_status node_user_add(node *n, const char *name, const char *password, node_tlp max_marking,
                        char *generated, size_t generated_len, dt_err *err);
dt_status node_user_set_marking(node *n, const char *name, node_tlp max_marking, dt_err *err);
dt_status node_user_remove(node *n, const char *name, dt_err *err);
/* Mark an account as the one a peer node uses: its requests are served
 * under the peer rules (no RED; no AMBER received from other parties). */
dt_status node_user_set_peer(node *n, const char *name, bool is_peer, dt_err *err);
/* A new bearer token for name into out (at least 64 bytes), shown once;
 * only its SHA-256 is stored. */
dt_status node_token_new(node *n, const char *name, char *out, size_t out_len, dt_err *err);
/* Check credentials; on DT_OK *who is the account. Failures are DT_EDENIED
 * with a message that does not say which part was wrong. Password checks
 * take the same time whether or not the account exists. */
dt_status node_auth_basic(node *n, const char *user, const char *password, node_principal *who,
                          dt_err *err);
dt_status node_auth_token(node *n, const char *token, node_principal *who, dt_err *err);
dt_status node_grant(node *n, const char *user, const char *collection, unsigned perms,
                     dt_err *err);
dt_status node_collection_add(node *n, const char *id, const char *title, const char *description,
                              dt_err *err);

/* ---- signatures (DESIGN.md "Key formats") ----
 * An object's signature is a STIX property extension under detente's own
 * extension-definition (NODE_EXTENSION_ID): {"extension_type":
 * "property-extension", "signer": identity id, "public_key":
 * "ed25519:<base64>", "signature": "<base64>"}, over the RFC 8785 bytes of
 * the object with that one extension removed (and "extensions" removed
 * too when nothing else is left in it). */
#define NODE_EXTENSION_ID "extension-definition--490c1b4f-d5a0-48ef-9eee-dc008e1732e6"
#define NODE_PROJECT_IDENTITY "identity--b4dc90ef-495a-4564-903f-7e2b0d10fb64"
#define NODE_KEY_PREFIX "ed25519:"
/* The version (and ledger leaf "modified") of an object that has neither
 * modified nor created (an SCO): one body per id, so a constant. */
#define NODE_UNVERSIONED "1970-01-01T00:00:00.000000000Z"

/* Add (or replace) this signer's signature on obj, in place. */
dt_status node_object_sign(json_t *obj, const char *signer_id,
                           const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_err *err);

typedef struct node_signature {
    bool present;
    char signer[160];
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
} node_signature;

/* Check obj's signature against the public key it names. sig->present is
 * false (and DT_OK) for an unsigned object; a signature that is malformed
 * or does not verify is DT_ESIG with the reason. Whether that key is the
 * signer's pinned key is the caller's question. */
dt_status node_object_verify(const json_t *obj, node_signature *sig, dt_err *err);

/* The detente extension-definition object every node holds (identical
 * everywhere, so it is unsigned and its id is fixed). New reference. */
json_t *node_extension_definition(void);

/* "ed25519:<base64>" of a public key into out (at least 64 bytes). */
void node_key_format(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *out, size_t len);
dt_status node_key_parse(const char *text, uint8_t pk[crypto_sign_PUBLICKEYBYTES], dt_err *err);
/* Lower-case hex SHA-256 of the public key bytes (65 bytes with NUL). */
void node_key_fingerprint(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[65]);


/* ==== verification (src/node/verdicts.c; docs/verdicts.md "On a node") ====
 * Verdicts are computed on demand from what the requester may read: every
 * claim, sighting and opinion is read through node_query, so a verdict and
 * its evidence never rest on an object above the requester's clearance or
 * in a collection it may not read. */
#include "verify/verify.h"

/* The warninglists this node judges with: the shipped set, found at
 * $DETENTE_WARNINGLISTS or next to the binary (<bin>/../data/warninglists/
 * lists, <bin>/../share/detente/warninglists, /usr/share/detente/
 * warninglists), plus [verify] warninglists from detente.conf (relative to
 * the home). No shipped set found: DT_OK with what the config gave (maybe
 * nothing); *shipped tells (may be NULL). A configured directory that
 * cannot be read: DT_EIO. Caller owns *out. */
dt_status node_verify_lists_load(node *n, verify_lists **out, bool *shipped, dt_err *err);
/* The same lists, loaded once per open node and kept until node_close
 * (immutable, shared by every thread: the server's verdict endpoints). The
 * caller does not free them. */
dt_status node_verify_lists_shared(node *n, const verify_lists **out, dt_err *err);

/* Feed every indicator, relationship, sighting and opinion `who` may read
 * (newest versions, every readable collection) to a new engine and run it.
 * lists borrowed, may be NULL, must outlive *out; as_of 0: each claim's own
 * newest date (see verify_engine_run). Caller owns *out. */
dt_status node_verify_run(node *n, const node_principal *who, const verify_lists *lists,
                          int64_t as_of, verify_engine **out, dt_err *err);

/* One claim's verdict without the full pass (verify_index.c): feeds only
 * the claim, the sightings and opinions referencing it and, for the
 * self-contradiction check, the claims naming one of its atoms with the
 * opinions on them, found through the evidence index ingest keeps in the
 * store's kv; every object is read by id through node_query for who. The
 * engine holds claim `id` with exactly the verdict and evidence the full
 * pass (node_verify_run) gives it (verify_engine_find fails when who may
 * not read it or it is not a claim); other claims in it are incomplete.
 * Rebuilds the index first when the store predates it (read-only store:
 * falls back to the full pass). Caller owns *out. */
dt_status node_verify_one(node *n, const node_principal *who, const verify_lists *lists,
                          int64_t as_of, const char *id, verify_engine **out, dt_err *err);
/* (Re)build the evidence index from every stored version and mark it
 * complete; *objects (may be NULL) the versions read. Idempotent. */
dt_status node_verify_index_rebuild(node *n, size_t *objects, dt_err *err);

/* The JSON forms the CLI (--json) and /detente/v1/ share (contracts, see
 * docs/verdicts.md). New references, NULL when out of memory.
 *   claim:   {"id","type","source","verdict","score","as_of","sightings","opinions","object"}
 *   explain: the claim's fields plus "support","against","benign",
 *            "independent_sources","reason","evidence":[{"class","kind",
 *            "message","source","time","use","weight","why", "count" |
 *            "opinion" | "fatal", "object": {"id","modified","signer",
 *            "collection","ledger_leaf"} or null}]
 *   source:  {"source","claims","corroborated","refuted","disputed",
 *            "unverified","mean","interval":[lo,hi],"letter","history":[{
 *            "as_of", the same figures} oldest first, one per month end]} */
json_t *node_verify_claim_json(const verify_claim_info *c);
json_t *node_verify_explain_json(const verify_explain *x);
dt_status node_verify_source_json(const verify_engine *e, size_t i, unsigned history_months,
                                  json_t **out, dt_err *err);
/* ==== end of verification ==== */

/* ==== keys, signed tree heads, ledger checks and bundles (keys.c, audit.c) ====
 * Added for issue 5; docs/ledger.md describes the formats. */
struct ledger_sth; /* ledger/ledger.h (not included here: node.h stays light) */

/* The signed tree head for the log's current size: the latest issued one
 * when the log has not grown since, else a new one signed now and kept in
 * the store. DT_EDENIED when this process's key is no longer the node's
 * current key (rotated by another process: restart); DT_EDB when the log
 * is shorter than a head already signed (tampering). Thread-safe. */
dt_status node_sth_current(node *n, struct ledger_sth *out, dt_err *err);

/* The public key that signs heads of tree_size (see keys.c: the key of the
 * last rotation leaf below tree_size, else the first key). */
dt_status node_key_for_size(node *n, uint64_t tree_size, uint8_t pk[crypto_sign_PUBLICKEYBYTES],
                            dt_err *err);

typedef struct node_key_rotation {
    uint64_t leaf_index;              /* the rotation leaf */
    uint8_t leaf_hash[32];
    uint8_t old_public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t new_public_key[crypto_sign_PUBLICKEYBYTES];
    uint64_t sth_tree_size;           /* the first head signed by the new key */
    char kept_secret[NODE_PATH_MAX + 64]; /* where the old secret key file now is */
} node_key_rotation;

/* Rotate the node key: a new key pair, a rotation leaf signed by both keys,
 * a head signed by the new key (one transaction), then key.secret replaced
 * (the old one kept as key.secret.<stamp>, mode 0600) and key.public
 * rewritten; n signs with the new key afterwards. DT_EDENIED when n's key is
 * not the current one; DT_EIO for file errors (the message says where the
 * new key is). Not to be called while other threads use n. */
dt_status node_key_rotate(node *n, node_key_rotation *out, dt_err *err);
/* Is this parsed leaf a key-rotation statement? */
bool node_leaf_is_rotation(const json_t *leaf);
/* Check a rotation statement's two signatures; on DT_OK the keys are set.
 * DT_EINVALID for a malformed statement, DT_ESIG for a bad signature. */
dt_status node_rotation_verify(const json_t *leaf, uint8_t old_pk[crypto_sign_PUBLICKEYBYTES],
                               uint8_t new_pk[crypto_sign_PUBLICKEYBYTES], dt_err *err);
/* {"fingerprint", "public_key", "rotations": [{"leaf_index", "statement"}],
 * "signer"}: what GET /detente/v1/key answers. New reference in *out. */
dt_status node_key_document(node *n, json_t **out, dt_err *err);

/* The ledger leaf of an object version who may read: version NULL is the
 * newest live version; a version is any RFC 3339 form of modified. On
 * DT_OK *row holds the version (json included; release it with
 * store_row_release) and *index its leaf. DT_ENOTFOUND when who cannot see
 * it or it does not exist; DT_EINVALID for a malformed version. */
dt_status node_ledger_find(node *n, const node_principal *who, const char *id,
                           const char *version, store_row *row, uint64_t *index, dt_err *err);

/* The result of node_ledger_verify. ok false: first_bad is the index of the
 * first bad leaf and problem says what is wrong with it. */
typedef struct node_ledger_report {
    bool ok;
    uint64_t leaves, rows, sths, tombstones, rotations, nodes;
    size_t problems;
    uint64_t first_bad;
    char problem[400];
} node_ledger_report;

/* Recompute the whole ledger from the store: each object row's bytes hash to
 * its sha256, each leaf is exactly what its row implies and hashes to its
 * stored hash, tombstone and rotation leaves verify, every stored subtree
 * hash equals its recomputation, every issued head's root matches and its
 * signature verifies under the key in effect. DT_OK when the check ran
 * (rep says what it found); other codes when the store failed. O(n) time,
 * ~100 bytes of memory per leaf. */
dt_status node_ledger_verify(node *n, node_ledger_report *rep, dt_err *err);

/* A self-contained proof file for one object version (docs/ledger.md):
 * {"inclusion": {"audit_path", "leaf_index"}, "leaf": "<leaf JCS>",
 *  "object": {...}, "public_key": "ed25519:..", "sth": {...},
 *  "type": "detente-ledger-bundle"}. New reference in *out. */
dt_status node_bundle_build(node *n, const node_principal *who, const char *id,
                            const char *version, json_t **out, dt_err *err);
/* Check a bundle offline against the pinned key: the object's signature,
 * leaf bytes <-> object hash (and id, version, signer), inclusion proof <->
 * head root, head signature <-> key. DT_OK when all hold; DT_EPARSE /
 * DT_EINVALID for a malformed bundle, DT_ESIG for a failed check, with the
 * field in err->where. */
dt_status node_bundle_check(const char *text, size_t len,
                            const uint8_t key[crypto_sign_PUBLICKEYBYTES], dt_err *err);
/* ==== end of issue 5 additions ==== */

#endif
