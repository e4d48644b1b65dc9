/* A fresh node in a temporary directory for each cmocka case, shared by the
 * node-level unit tests: setup creates and opens it (identity name given by
 * NODE_FIXTURE_NAME before including this header), teardown closes it and
 * removes the directory tree. */
#ifndef DETENTE_TESTS_NODE_FIXTURE_H
#define DETENTE_TESTS_NODE_FIXTURE_H

#include <ftw.h> /* needs _XOPEN_SOURCE >= 500, defined by the including file */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

#ifndef NODE_FIXTURE_NAME
#define NODE_FIXTURE_NAME "party-test"
#endif

typedef struct fixture {
    char home[256];
    node *n;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char tmpl[] = "/tmp/detente-node-XXXXXX";
    dt_err err = {0};
    if (f == NULL || mkdtemp(tmpl) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->home, sizeof f->home, "%s/home", tmpl);
    node_init_opts o = {.name = NODE_FIXTURE_NAME, .default_marking = NODE_TLP_AMBER};
    if (node_init(f->home, &o, &err) != DT_OK || node_open(f->home, &f->n, &err) != DT_OK) {
        fprintf(stderr, "setup: %s: %s\n", err.where, err.msg);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *f = *state;
    char dir[256];
    node_close(f->n);
    snprintf(dir, sizeof dir, "%s", f->home);
    /* the parent of home is the mkdtemp directory */
    int rc = nftw(dirname(dir), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc == 0 ? 0 : -1;
}

#endif
