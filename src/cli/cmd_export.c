/* detente export: a collection as one STIX bundle on stdout, read through
 * the one door out (node_query), page by page, so memory stays flat
 * whatever the collection's size. */
#include "cli/cli.h"
#include "node/node.h"

#include <string.h>

static const char usage[] =
    "usage: detente export [--collection ID] [--type TYPE]... [--since TIMESTAMP]\n"
    "                      [--all-versions]\n"
    "Write the collection's objects (newest version of each, or every version) as a STIX\n"
    "bundle to standard output. --since keeps objects added after TIMESTAMP (RFC 3339).\n";

#define MAX_TYPES 32

int cmd_export(int argc, char **argv, const cli_ctx *ctx)
{
    const char *types[MAX_TYPES];
    size_t ntypes = 0;
    store_query q = {.collection = "default", .versions = STORE_VER_LAST, .max_marking = -1,
                     .limit = 1000, .with_json = true};
    node_principal local;
    node *n = NULL;
    dt_err err = {0};
    int rc;

    if (cli_wants_help(argc, argv, usage))
        return CLI_OK;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--collection") == 0 && i + 1 < argc) {
            q.collection = argv[++i];
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc && ntypes < MAX_TYPES) {
            types[ntypes++] = argv[++i];
        } else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
            dt_time t;
            const char *s = argv[++i];
            if (dt_time_parse(s, strlen(s), &t, &err) != DT_OK) {
                dt_err_prefix(&err, "--since");
                cli_error(&err);
                return CLI_USAGE;
            }
            q.added_after = dt_time_to_us(&t);
        } else if (strcmp(argv[i], "--all-versions") == 0) {
            q.versions = STORE_VER_ALL;
        } else {
            return cli_usage(usage);
        }
    }
    q.types = types;
    q.type_count = ntypes;
    rc = cli_open_node(ctx, &n);
    if (rc != CLI_OK)
        return rc;
    node_principal_local(&local);

    char uuid[DT_UUID_LEN];
    dt_uuid u;
    dt_uuid_v4(&u);
    printf("{\"type\":\"bundle\",\"id\":\"bundle--%s\",\"objects\":[", dt_uuid_format(&u, uuid));
    bool first = true;
    for (;;) {
        store_page page;
        if (node_query(n, &local, &q, &page, &err) != DT_OK) {
            printf("]}\n");
            rc = cli_error(&err);
            break;
        }
        for (size_t k = 0; k < page.count; k++) {
            if (page.rows[k].json == NULL)
                continue;
            printf("%s\n%.*s", first ? "" : ",", (int)page.rows[k].json_len, page.rows[k].json);
            first = false;
        }
        bool more = page.more;
        if (page.count > 0) {
            q.after_date_added = page.rows[page.count - 1].date_added;
            q.after_rowid = page.rows[page.count - 1].rowid;
        }
        store_page_release(&page);
        if (!more) {
            printf("\n]}\n");
            break;
        }
    }
    node_close(n);
    return rc;
}
