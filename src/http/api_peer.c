/* api_peer: the federation endpoints of /detente/v1/ (docs/federation.md).
 *
 * GET ledger/witnessed is public on purpose: like a transparency-log
 * witness, a node publishes the heads it verified so that anyone can compare
 * them with what a peer showed them; the document is signed by this node
 * and names only peers' public keys, local names and heads. GET peers shows
 * the state of each peer (ok or suspect, the reason, the evidence) to
 * authenticated accounts only: it names URLs and accounts of the operator's
 * federation. Both are built in peer/ (peer_witnessed_build,
 * peer_status_json); this file only serves them. */
#include "http/api.h"
#include "peer/peer.h"

static const char *const no_args[] = {NULL};

dt_status http_api_ledger_witnessed(node *n, const http_api_request *rq, http_api_response *rs,
                                    dt_err *err)
{
    dt_status rc = http_api_args_only(rq, no_args, err);
    if (rc != DT_OK)
        return rc;
    return peer_witnessed_build(n, &rs->body, err);
}

dt_status http_api_peers(node *n, const http_api_request *rq, http_api_response *rs,
                         dt_err *err)
{
    dt_status rc = http_api_args_only(rq, no_args, err);
    if (rc != DT_OK)
        return rc;
    if (rq->who == NULL || rq->who->kind == NODE_PRINCIPAL_ANONYMOUS)
        return dt_fail(err, DT_EDENIED, "peers", "log in to see this node's peers");
    return peer_status_json(n, &rs->body, err);
}
