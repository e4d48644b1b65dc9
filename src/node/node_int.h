/* node internals shared by node.c, ingest.c, query.c and accounts.c. */
#ifndef DETENTE_NODE_INT_H
#define DETENTE_NODE_INT_H

#include "node/node.h"

#include <pthread.h>
#include <stdatomic.h>

struct node {
    char home[NODE_PATH_MAX];
    node_config conf;
    store *st;
    char identity_id[160];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* wiped in node_close */
    pthread_mutex_t lists_lock;             /* guards the first load of lists */
    struct verify_lists *lists;             /* warninglists, loaded once, read-only */
    /* ingest's group commit (ingest.c): prepared batches waiting for the
     * writer, and whether some caller is writing a group now */
    pthread_mutex_t commit_lock;
    pthread_cond_t commit_done;
    struct commit_batch *commit_head, *commit_tail;
    bool committing;
    atomic_size_t ingest_callers; /* callers inside ingest now (helper threads are sized by it) */
};

/* node_object_sign, also writing the signed object's RFC 8785 bytes to jcs
 * (reset first; NULL: not wanted), so ingest need not canonicalise it again. */
dt_status node_object_sign_jcs(json_t *obj, const char *signer_id,
                               const uint8_t sk[crypto_sign_SECRETKEYBYTES], dt_buf *jcs,
                               dt_err *err);
/* node_object_verify, also writing obj's RFC 8785 bytes to jcs when it is
 * signed (jcs->len stays 0 otherwise, or when they could not be reused). */
dt_status node_object_verify_jcs(const json_t *obj, node_signature *sig, dt_buf *jcs,
                                 dt_err *err);

/* Open the store file of a data directory. */
dt_status node_store_open(const char *home, store **out, dt_err *err);

/* One past the end of the JSON value starting at s[i], found by strings and
 * brackets only (validity is the parser's business; a scalar ends at ',',
 * whitespace or its container's close); 0 when it does not end. Used to cut
 * a bundle at its elements and canonical text at its members. */
size_t node_json_value_end(const char *s, size_t len, size_t i);

/* Index rows of one stored object version for node_verify_one, written in
 * the caller's transaction t (verify_index.c): sightings and opinions by
 * the ids they reference, disagreeing opinions by their source (signer, may
 * be NULL, else created_by_ref), revoked indicators by their pattern's
 * atoms. Other objects: nothing. */
dt_status node_verify_index_put(store_txn *t, const char *id, const char *signer,
                                const json_t *obj, dt_err *err);
/* Mark the index complete (node_init: a store with no objects yet). */
dt_status node_verify_index_mark(store_txn *t, dt_err *err);

#endif
