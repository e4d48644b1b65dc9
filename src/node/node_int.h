/* node internals shared by node.c, ingest.c, query.c and accounts.c. */
#ifndef DETENTE_NODE_INT_H
#define DETENTE_NODE_INT_H

#include "node/node.h"

#include <pthread.h>

struct node {
    char home[NODE_PATH_MAX];
    node_config conf;
    store *st;
    char identity_id[160];
    uint8_t pk[crypto_sign_PUBLICKEYBYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* wiped in node_close */
};

/* Open the store file of a data directory. */
dt_status node_store_open(const char *home, store **out, dt_err *err);

#endif
