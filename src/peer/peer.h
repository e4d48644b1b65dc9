/* peer: the nodes this node federates with, and sync with them.
 *
 * A peer is a TAXII 2.1 server (another detente node) with credentials and a
 * pinned Ed25519 key. The registry (registry.c) keeps peers, their
 * credentials, sync cursors, the last verified signed tree head, the
 * ok/suspect state and the evidence of failed checks in the store's
 * key/value table (keys in docs/federation.md). Sync (sync.c) pulls through
 * the node's one door in, and checks the peer's ledger on every pass:
 * signed heads against the pinned key, consistency with the last head,
 * inclusion of every pulled version, object signatures, and heads other
 * peers witnessed (gossip). The checks themselves (check.c) are pure.
 *
 * Thread safety: registry calls may run on any thread (the store
 * serialises writers). Syncs in one process run one at a time (a process
 * lock); two processes syncing the same peer are safe too, only wasteful:
 * cursors move after commits and re-pulled versions are no-ops. */
#ifndef DETENTE_PEER_H
#define DETENTE_PEER_H

#include "core/core.h"
#include "ledger/ledger.h"
#include "node/node.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PEER_NAME_MAX 64
#define PEER_URL_MAX 512
#define PEER_LIST_MAX 32     /* collections pulled, pushed or mapped */
#define PEER_COLL_MAX 128

typedef struct peer_map {
    char remote[PEER_COLL_MAX];
    char local[PEER_COLL_MAX];
} peer_map;

typedef struct peer_config {
    char name[PEER_NAME_MAX];
    char url[PEER_URL_MAX];           /* TAXII discovery URL */
    uint8_t key[32];                  /* pinned Ed25519 public key */
    size_t collection_count;          /* 0: every readable collection */
    char collections[PEER_LIST_MAX][PEER_COLL_MAX];
    size_t into_count;
    peer_map into[PEER_LIST_MAX];     /* remote collection -> local */
    size_t push_count;
    char push[PEER_LIST_MAX][PEER_COLL_MAX];
    int max_marking;                  /* node_tlp: pushed objects at most this */
    char ca_file[PEER_URL_MAX];       /* "" : system store */
    bool allow_unsigned;
    int64_t added;                    /* ms */
} peer_config;

/* Secrets; wipe with peer_cred_wipe. */
typedef struct peer_cred {
    char user[128];
    char password[256];
    char token[256];
} peer_cred;
void peer_cred_wipe(peer_cred *c);

typedef enum peer_state_kind { PEER_OK = 0, PEER_SUSPECT = 1 } peer_state_kind;

typedef struct peer_state {
    peer_state_kind state;
    char reason[256];                 /* why suspect */
    int64_t since;                    /* ms, when it became suspect */
    int64_t last_sync;                /* ms, last pass that finished its checks */
    char last_error[256];             /* last failure that was not a check (network...) */
    uint64_t pulled, pushed;          /* totals */
} peer_state;

/* Names: 1..63 of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool peer_name_valid(const char *name);

/* ---- registry (registry.c) ---- */

/* Add a peer. cred may be NULL (anonymous). DT_ECONFLICT if the name is
 * taken, DT_EARG for a bad name or URL. */
dt_status peer_add(store *s, const peer_config *cfg, const peer_cred *cred, dt_err *err);
dt_status peer_get(store *s, const char *name, peer_config *out, dt_err *err);
/* Every peer, sorted by name; *out freed with dt_free. */
dt_status peer_list(store *s, peer_config **out, size_t *count, dt_err *err);
/* Remove a peer and everything kept about it (state, cursors, head,
 * evidence). DT_ENOTFOUND if unknown. */
dt_status peer_remove(store *s, const char *name, dt_err *err);
/* DT_OK with an all-empty cred when none was given. */
dt_status peer_cred_get(store *s, const char *name, peer_cred *out, dt_err *err);

dt_status peer_state_get(store *s, const char *name, peer_state *out, dt_err *err);
dt_status peer_state_put(store *s, const char *name, const peer_state *st, dt_err *err);

/* The last head verified from the peer; DT_ENOTFOUND if none yet.
 * verified_at may be NULL. */
dt_status peer_sth_get(store *s, const char *name, ledger_sth *out, int64_t *verified_at,
                       dt_err *err);
dt_status peer_sth_put(store *s, const char *name, const ledger_sth *sth, dt_err *err);

/* Sync cursor of one remote collection: the peer's date_added text of the
 * last page committed, "" when none. peer_cursor_put never moves a cursor
 * back (it reads and writes in one transaction). */
dt_status peer_cursor_get(store *s, const char *name, const char *collection,
                          char out[DT_TIME_LEN], dt_err *err);
dt_status peer_cursor_put(store *s, const char *name, const char *collection,
                          const char *added_after, dt_err *err);

/* Mark the peer suspect (if not already) with reason, and keep evidence
 * (borrowed JSON object: kind-specific members, see docs/federation.md)
 * under peer-evidence/<name>/<ms>. Logs "detente: SUSPECT peer NAME: reason"
 * on stderr. */
dt_status peer_mark_suspect(store *s, const char *name, const char *kind, const char *reason,
                            json_t *evidence, dt_err *err);
/* Back to ok (the operator looked at the evidence); evidence is kept. */
dt_status peer_trust(store *s, const char *name, dt_err *err);
/* Evidence records of a peer, oldest first: a new JSON array. */
dt_status peer_evidence_list(store *s, const char *name, json_t **out, dt_err *err);

/* A peer as shown by `peer show --json` and the API: config (no
 * credentials; "auth": "basic"|"token"|"none"), state, last verified head,
 * evidence count. New reference. */
dt_status peer_describe(store *s, const peer_config *cfg, json_t **out, dt_err *err);

/* Third-party signer keys recorded on first use (signer-key/<identity>). */
dt_status peer_signer_key_get(store *s, const char *identity, uint8_t key[32], dt_err *err);
dt_status peer_signer_key_put(store *s, const char *identity, const uint8_t key[32], dt_err *err);

/* ---- pure checks (check.c) ---- */

typedef enum peer_verdict {
    PEER_CHECK_OK = 0,
    PEER_CHECK_BAD_SIGNATURE,   /* the head does not verify under the pinned key */
    PEER_CHECK_ROLLBACK,        /* a smaller tree than before */
    PEER_CHECK_FORK,            /* same size, different root */
    PEER_CHECK_INCONSISTENT,    /* the consistency proof fails */
} peer_verdict;

/* Check a new head against the pinned key and (when old is not NULL) the
 * last verified head, with the consistency proof the peer gave for
 * (old->tree_size, new->tree_size) (ignored when not needed). */
peer_verdict peer_check_head(const ledger_sth *old, const ledger_sth *fresh,
                             const ledger_proof *consistency, const uint8_t key[32]);
const char *peer_verdict_text(peer_verdict v);

/* The ledger leaf a node built for an object version it accepted: JCS of
 * {date_added (6 sub-second digits), id, modified (9), object_sha256 (hex
 * of SHA-256 over the object's JCS), signer (string or null)}. date_added
 * is the peer's text (manifest); signer NULL for unsigned. Appends to out. */
dt_status peer_leaf_build(const json_t *obj, const char *date_added, const char *signer,
                          dt_buf *out, dt_err *err);

/* The witnessed document (docs/federation.md) over heads (borrowed JSON
 * array of {peer, public_key, sth, verified_at}), signed with sk. */
dt_status peer_witnessed_sign(json_t *heads, const char *witness, const uint8_t pk[32],
                              const uint8_t sk[64], int64_t now_ms, dt_buf *out, dt_err *err);
/* Parse and check a witnessed document: its signature under its own
 * public_key. On DT_OK *doc is a new reference. */
dt_status peer_witnessed_parse(const char *json, size_t len, json_t **doc, dt_err *err);


/* ---- sync (sync.c) ---- */

typedef struct peer_sync_opts {
    const char *into;        /* local collection for everything pulled (overrides the map) */
    size_t page;             /* objects per page; 0: 500 */
    unsigned retries;        /* network retries per request; 0: 3 */
    unsigned timeout_s;      /* per request; 0: 60 */
    bool no_gossip;          /* skip comparing heads with other peers' witnesses */
    FILE *log;               /* progress lines; NULL: quiet */
    volatile const int *stop;/* set non-zero to stop after the current page */
} peer_sync_opts;

typedef struct peer_sync_result {
    size_t pulled, duplicates, rejected, pushed;
    size_t deleted;          /* versions erased here after the peer's tombstones */
    size_t proofs;           /* versions proven included (entries pass or proofs) */
    size_t witnesses;        /* witnessed heads compared */
    uint64_t tree_size;      /* the peer's verified head after the pass */
    bool suspect;            /* a check failed (now or before): nothing accepted */
    char reason[256];
} peer_sync_result;

/* One pass over peer `name` (docs/federation.md, "The sync algorithm"). A
 * failed check marks the peer suspect, keeps the evidence and returns
 * DT_ESIG; a peer already suspect is refused with DT_EDENIED. Network and
 * protocol failures leave the peer as it was (DT_ENET, DT_EINVALID for
 * answers that are not TAXII, DT_EDENIED for refused credentials) and are
 * recorded as its last_error. Everything committed before a failure stays
 * (and the cursor with it). r may be NULL. */
dt_status peer_sync(node *n, const char *name, const peer_sync_opts *opts, peer_sync_result *r,
                    dt_err *err);
/* peer_sync over every peer (suspect ones are skipped and reported in
 * err). Returns the first failure, after trying every peer. For the
 * server's sync loop and `detente sync` without a name. */
dt_status peer_sync_all(node *n, const peer_sync_opts *opts, dt_err *err);

/* The sync loop of `detente serve`: a thread calling peer_sync_all every
 * interval_s seconds until peer_loop_stop. */
typedef struct peer_loop peer_loop;
dt_status peer_loop_start(node *n, unsigned interval_s, FILE *log, peer_loop **out, dt_err *err);
void peer_loop_stop(peer_loop *l);

/* The body of GET /detente/v1/ledger/witnessed: the latest head verified
 * for each peer, signed by this node (docs/federation.md). */
dt_status peer_witnessed_build(node *n, dt_buf *out, dt_err *err);
/* The body of GET /detente/v1/peers: every peer as peer_describe gives it
 * ({"peers":[...]}), for operators (no credentials). */
dt_status peer_status_json(node *n, dt_buf *out, dt_err *err);

#endif
