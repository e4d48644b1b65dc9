/* `detente serve [--listen ADDR:PORT] [--tls-cert F --tls-key F]`: run the
 * TAXII 2.1 server until SIGTERM or SIGINT.
 *
 * SIGTERM and SIGINT are blocked before the server's threads start (they
 * inherit the mask) and taken with sigwait here, so no handler runs in an
 * arbitrary thread. On a signal the server stops accepting, lets requests
 * in flight finish (a write is committed before it is acknowledged, so
 * nothing acknowledged is lost), then the node is closed. The URL the
 * server listens on is printed on stdout at start (port 0 picks a free
 * port: scripts read the URL from that line). */
#include "cli/cli.h"
#include "http/http.h"
#include "peer/peer.h"
#include "node/node.h"

#include <signal.h>
#include <string.h>

static const char usage[] =
    "usage: detente serve [--listen ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
    "Serves TAXII 2.1 (discovery at /taxii2/) until SIGTERM or SIGINT. The listen address,\n"
    "TLS files and limits default to the node's detente.conf. Port 0 picks a free port.\n";

int cmd_serve(int argc, char **argv, const cli_ctx *ctx)
{
    http_opts opts = {0};
    dt_err err = {0};
    node *n = NULL;
    http_server *srv = NULL;
    peer_loop *loop = NULL;
    sigset_t set;
    int sig = 0;
    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            opts.listen = argv[++i];
        else if (strcmp(argv[i], "--tls-cert") == 0 && i + 1 < argc)
            opts.tls_cert = argv[++i];
        else if (strcmp(argv[i], "--tls-key") == 0 && i + 1 < argc)
            opts.tls_key = argv[++i];
        else
            return cli_usage(usage);
    }
    if ((opts.tls_cert == NULL) != (opts.tls_key == NULL)) {
        fprintf(stderr, "detente: --tls-cert and --tls-key go together\n");
        return CLI_USAGE;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (node_open(ctx->home, &n, &err) != DT_OK)
        return cli_error(&err);
    if (http_server_start(n, &opts, &srv, &err) != DT_OK) {
        node_close(n);
        return cli_error(&err);
    }
    /* the sync loop pulls from every peer each [sync] interval seconds
     * (0: off); a failing peer is reported and marked, the server goes on */
    if (node_conf(n)->sync_interval > 0 &&
        peer_loop_start(n, node_conf(n)->sync_interval, stderr, &loop, &err) != DT_OK) {
        http_server_stop(srv, 1000);
        node_close(n);
        return cli_error(&err);
    }
    printf("%s/taxii2/\n", http_server_url(srv));
    fflush(stdout);
    fprintf(stderr, "detente: serving TAXII 2.1 at %s/taxii2/ (API root /%s/)\n",
            http_server_url(srv), node_conf(n)->api_root);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    fprintf(stderr, "detente: signal %d: finishing requests in flight, then stopping\n", sig);
    if (loop != NULL)
        peer_loop_stop(loop);
    http_server_stop(srv, 10000);
    node_close(n);
    fprintf(stderr, "detente: stopped\n");
    return CLI_OK;
}
