/* Unit tests for node/accounts.c: users, passwords (Argon2id), bearer
 * tokens, grants and collections, over a real node in a temp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

typedef struct fixture {
    char dir[64];
    node *n;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char home[128];
    dt_err err = {0};
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/detente-accounts-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(home, sizeof home, "%s/home", f->dir);
    node_init_opts o = {.name = "accounts-test", .default_marking = NODE_TLP_AMBER};
    if (node_init(home, &o, &err) != DT_OK || node_open(home, &f->n, &err) != DT_OK) {
        fprintf(stderr, "setup: %s: %s\n", err.where, err.msg);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    node_close(f->n);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void test_node_user_add_and_auth_basic(void **state)
{
    fixture *f = *state;
    node_principal who;
    dt_err err = {0};
    char gen[64] = "";
    assert_int_equal(node_user_add(f->n, "alice", "correct horse", NODE_TLP_GREEN, NULL, 0, &err),
                     DT_OK);
    assert_int_equal(node_auth_basic(f->n, "alice", "correct horse", &who, &err), DT_OK);
    assert_int_equal(who.kind, NODE_PRINCIPAL_USER);
    assert_string_equal(who.name, "alice");
    assert_int_equal(who.max_marking, NODE_TLP_GREEN);
    /* again: served from the verified-credentials cache, same answer */
    assert_int_equal(node_auth_basic(f->n, "alice", "correct horse", &who, NULL), DT_OK);
    dt_err e1 = {0}, e2 = {0};
    assert_int_equal(node_auth_basic(f->n, "alice", "wrong", &who, &e1), DT_EDENIED);
    assert_int_equal(node_auth_basic(f->n, "mallory", "wrong", &who, &e2), DT_EDENIED);
    /* the message does not say which part was wrong */
    assert_string_equal(e1.msg, e2.msg);
    /* a generated password is printable, long, and works */
    assert_int_equal(node_user_add(f->n, "bob", NULL, NODE_TLP_RED, gen, sizeof gen, &err), DT_OK);
    assert_true(strlen(gen) >= 32);
    assert_int_equal(node_auth_basic(f->n, "bob", gen, &who, &err), DT_OK);
}

static void test_node_user_add_rejects(void **state)
{
    fixture *f = *state;
    char gen[64];
    assert_int_equal(node_user_add(f->n, "carol", "pw", NODE_TLP_AMBER, NULL, 0, NULL), DT_OK);
    assert_int_equal(node_user_add(f->n, "carol", "pw", NODE_TLP_AMBER, NULL, 0, NULL),
                     DT_ECONFLICT);
    assert_int_equal(node_user_add(f->n, "", "pw", NODE_TLP_AMBER, NULL, 0, NULL), DT_EINVALID);
    assert_int_equal(node_user_add(f->n, "a b", "pw", NODE_TLP_AMBER, NULL, 0, NULL), DT_EINVALID);
    assert_int_equal(node_user_add(f->n, "../x", "pw", NODE_TLP_AMBER, NULL, 0, NULL),
                     DT_EINVALID);
    assert_int_equal(node_user_add(f->n, "dave", "", NODE_TLP_AMBER, NULL, 0, NULL), DT_EINVALID);
    assert_int_equal(node_user_add(f->n, "dave", NULL, NODE_TLP_AMBER, gen, 8, NULL), DT_EARG);
}

static void test_node_token_new_and_auth(void **state)
{
    fixture *f = *state;
    node_principal who;
    char tok[64], tok2[64];
    assert_int_equal(node_user_add(f->n, "erin", "pw", NODE_TLP_AMBER, NULL, 0, NULL), DT_OK);
    assert_int_equal(node_token_new(f->n, "erin", tok, sizeof tok, NULL), DT_OK);
    assert_int_equal(node_token_new(f->n, "erin", tok2, sizeof tok2, NULL), DT_OK);
    assert_string_not_equal(tok, tok2);
    assert_int_equal(node_auth_token(f->n, tok, &who, NULL), DT_OK);
    assert_string_equal(who.name, "erin");
    assert_int_equal(node_auth_token(f->n, tok2, &who, NULL), DT_OK);
    tok[strlen(tok) - 1] ^= 1;
    assert_int_equal(node_auth_token(f->n, tok, &who, NULL), DT_EDENIED);
    assert_int_equal(node_auth_token(f->n, "", &who, NULL), DT_EDENIED);
    assert_int_equal(node_token_new(f->n, "nobody", tok, sizeof tok, NULL), DT_ENOTFOUND);
    assert_int_equal(node_token_new(f->n, "erin", tok, 16, NULL), DT_EARG);
}

static void test_node_user_set_marking_and_remove(void **state)
{
    fixture *f = *state;
    node_principal who;
    char tok[64];
    assert_int_equal(node_user_add(f->n, "frank", "pw", NODE_TLP_CLEAR, NULL, 0, NULL), DT_OK);
    assert_int_equal(node_token_new(f->n, "frank", tok, sizeof tok, NULL), DT_OK);
    assert_int_equal(node_auth_basic(f->n, "frank", "pw", &who, NULL), DT_OK);
    assert_int_equal(node_user_set_marking(f->n, "frank", NODE_TLP_RED, NULL), DT_OK);
    /* takes effect at once, also for cached credentials */
    assert_int_equal(node_auth_basic(f->n, "frank", "pw", &who, NULL), DT_OK);
    assert_int_equal(who.max_marking, NODE_TLP_RED);
    assert_int_equal(node_user_set_marking(f->n, "nobody", NODE_TLP_RED, NULL), DT_ENOTFOUND);
    assert_int_equal(node_user_remove(f->n, "frank", NULL), DT_OK);
    assert_int_equal(node_auth_basic(f->n, "frank", "pw", &who, NULL), DT_EDENIED);
    assert_int_equal(node_auth_token(f->n, tok, &who, NULL), DT_EDENIED);
    assert_int_equal(node_user_remove(f->n, "frank", NULL), DT_ENOTFOUND);
}

static void test_node_grant_and_collection_add(void **state)
{
    fixture *f = *state;
    node_principal who;
    dt_err err = {0};
    assert_int_equal(node_user_add(f->n, "gina", "pw", NODE_TLP_RED, NULL, 0, NULL), DT_OK);
    assert_int_equal(node_auth_basic(f->n, "gina", "pw", &who, NULL), DT_OK);
    assert_int_equal(node_collection_add(f->n, "intel", "Intel", NULL, NULL), DT_OK);
    assert_int_equal(node_collection_add(f->n, "intel", "Again", NULL, NULL), DT_ECONFLICT);
    assert_int_equal(node_collection_add(f->n, "a/b", "x", NULL, NULL), DT_EINVALID);
    assert_int_equal(node_collection_add(f->n, "notitle", "", NULL, NULL), DT_EINVALID);
    assert_int_equal(node_access(f->n, &who, "intel", STORE_PERM_READ, NULL), DT_EDENIED);
    assert_int_equal(node_grant(f->n, "gina", "intel", STORE_PERM_READ, NULL), DT_OK);
    assert_int_equal(node_access(f->n, &who, "intel", STORE_PERM_READ, NULL), DT_OK);
    assert_int_equal(node_access(f->n, &who, "intel", STORE_PERM_WRITE, NULL), DT_EDENIED);
    assert_int_equal(node_grant(f->n, "gina", "intel", 0, NULL), DT_OK);
    assert_int_equal(node_access(f->n, &who, "intel", STORE_PERM_READ, NULL), DT_EDENIED);
    assert_int_equal(node_grant(f->n, "nobody", "intel", STORE_PERM_READ, &err), DT_ENOTFOUND);
    assert_int_equal(node_grant(f->n, "gina", "nope", STORE_PERM_READ, NULL), DT_ENOTFOUND);
    assert_int_equal(node_grant(f->n, "gina", "intel", 8, NULL), DT_EARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_node_user_add_and_auth_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_user_add_rejects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_token_new_and_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_user_set_marking_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_grant_and_collection_add, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
