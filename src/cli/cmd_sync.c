/* `detente sync [NAME] [--into LOCAL] [--page N] [--no-gossip] [--quiet]`:
 * one pass of pulling from (and pushing to) one peer or every peer, with
 * every ledger check on (docs/federation.md).
 *
 * Output for scripts: one line per peer on stdout, "NAME ok pulled=N
 * duplicates=N rejected=N pushed=N deleted=N proofs=N witnesses=N head=N" or
 * "NAME suspect REASON"; progress goes to stderr. Exit 0 when every peer passed, 1 when a
 * check failed (the peer is now suspect) or a peer was already suspect, 3
 * for network or store trouble. */
#include "cli/cli.h"
#include "node/node.h"
#include "peer/peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: detente sync [NAME] [--into LOCAL] [--page N] [--no-gossip] [--quiet]\n"
    "Pulls from NAME (or every peer), checking its signed tree heads, inclusion proofs,\n"
    "signatures and what other peers witnessed; pushes the collections set with --push.\n";

static int one(node *n, const char *name, const peer_sync_opts *o)
{
    peer_sync_result r;
    dt_err err = {0};
    dt_status rc = peer_sync(n, name, o, &r, &err);
    if (rc == DT_OK) {
        printf("%s ok pulled=%zu duplicates=%zu rejected=%zu pushed=%zu deleted=%zu proofs=%zu witnesses=%zu "
               "head=%llu\n",
               name, r.pulled, r.duplicates, r.rejected, r.pushed, r.deleted, r.proofs, r.witnesses,
               (unsigned long long)r.tree_size);
        fflush(stdout);
        return CLI_OK;
    }
    if (r.suspect) {
        printf("%s suspect %s\n", name, r.reason);
        fflush(stdout);
    }
    return cli_error(&err);
}

int cmd_sync(int argc, char **argv, const cli_ctx *ctx)
{
    peer_sync_opts o = {0};
    const char *name = NULL;
    node *n = NULL;
    dt_err err = {0};
    int rc = CLI_OK;
    bool quiet = false;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--into") == 0 && i + 1 < argc) {
            o.into = argv[++i];
        } else if (strcmp(argv[i], "--page") == 0 && i + 1 < argc) {
            char *end = NULL;
            long v = strtol(argv[++i], &end, 10);
            if (end == NULL || *end != '\0' || v < 1 || v > 10000)
                return cli_usage(usage);
            o.page = (size_t)v;
        } else if (strcmp(argv[i], "--no-gossip") == 0) {
            o.no_gossip = true;
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
        } else {
            return cli_usage(usage);
        }
    }
    o.log = quiet ? NULL : stderr;
    if (node_open(ctx->home, &n, &err) != DT_OK)
        return cli_error(&err);
    if (name != NULL) {
        rc = one(n, name, &o);
    } else {
        peer_config *all = NULL;
        size_t count = 0;
        if (peer_list(node_store(n), &all, &count, &err) != DT_OK) {
            node_close(n);
            return cli_error(&err);
        }
        for (size_t i = 0; i < count; i++) {
            int r = one(n, all[i].name, &o);
            if (r != CLI_OK && (rc == CLI_OK || r == CLI_ERROR))
                rc = r;
        }
        dt_free(all);
    }
    node_close(n);
    return rc;
}
