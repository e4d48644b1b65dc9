/* peer sync: one pass of pulling from (and pushing to) a peer, checking its
 * ledger as it goes (docs/federation.md, "The sync algorithm").
 *
 * Design. Nothing a peer sends is accepted before it is proven: each page
 * of objects is checked (signature, signer key, inclusion of its ledger
 * leaf under a head that verifies under the pinned key and is consistent
 * with every head seen before) and only then handed to the node's one door
 * in (node_ingest_json, opts.peer = the peer's name, sign = false). The
 * cursor (the peer's X-TAXII-Date-Added-Last of the page) is stored after
 * the page is committed, and the server's date_added is strictly
 * increasing per collection, so a pass killed anywhere resumes without
 * losing a version, and a version pulled twice is an identical duplicate
 * (a no-op). A failed check stops the pass before the page is ingested,
 * marks the peer suspect and keeps the two conflicting signed statements.
 *
 * Gossip follows transparency-log witnesses: other peers publish the heads
 * they verified (/detente/v1/ledger/witnessed); a head of this peer that
 * cannot be proven consistent with ours is a split view. */
#include "peer/peer.h"
#include "stix/stix.h"
#include "taxii/taxii.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define JSON_MEDIA "application/json"
#define TAXII_PREFIX "application/taxii+json"

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct ctx {
    node *n;
    store *s;
    peer_config cfg;
    taxii_client *c;
    char root[PEER_URL_MAX];
    const peer_sync_opts *o;
    peer_sync_result *r;
    ledger_sth head;
    bool have_head;
    char head_json[512];   /* the head as served, for evidence */
    uint8_t (*seen)[32];   /* leaf hashes proven by this pass's entries, sorted */
    size_t seen_count;
    json_t *tombs;         /* tombstone leaves read by the entries pass */
    void *frontier;        /* verified frontier to keep after the pass */
    json_t *records;       /* [index, leaf hash, id, modified] of each entry read */
} ctx;

static dt_status locate_change(ctx *x, uint64_t kept_size, char *out, size_t cap);

#define ENTRIES_PAGE 1000 /* ledger entries per request */

static bool seen_has(const ctx *x, const uint8_t h[32]);

static void logf_(const ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const ctx *x, const char *fmt, ...)
{
    va_list ap;
    if (x->o->log == NULL)
        return;
    fprintf(x->o->log, "sync %s: ", x->cfg.name);
    va_start(ap, fmt);
    vfprintf(x->o->log, fmt, ap);
    va_end(ap);
    fputc('\n', x->o->log);
    fflush(x->o->log);
}

/* Percent-encode s (RFC 3986 unreserved kept) into out. */
static void pct(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (; *s && j + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = '\0';
}

/* "peer NAME (what): <where>": which peer and step a failure belongs to. */
static void where_prefix(dt_err *err, const char *name, const char *what)
{
    char old[sizeof err->where];
    if (err == NULL)
        return;
    memcpy(old, err->where, sizeof old);
    snprintf(err->where, sizeof err->where, "peer %.24s (%.20s): %.40s", name, what, old);
}

static json_t *text_json(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_string(text ? text : "");
}

static json_t *sth_json(const ledger_sth *h)
{
    dt_buf b;
    json_t *j = NULL;
    dt_buf_init(&b, 4096);
    if (ledger_sth_to_json(h, &b, NULL) == DT_OK)
        j = json_loads(b.data, 0, NULL);
    dt_buf_release(&b);
    return j ? j : json_null();
}

/* A failed check: suspect + evidence (evidence is consumed). */
static dt_status fail_check(ctx *x, const char *kind, const char *reason, json_t *evidence,
                            dt_err *err)
{
    dt_err e = {0};
    if (peer_mark_suspect(x->s, x->cfg.name, kind, reason, evidence, &e) != DT_OK)
        fprintf(stderr, "detente: peer %s: could not record the evidence: %s\n", x->cfg.name,
                e.msg);
    json_decref(evidence);
    if (x->r != NULL) {
        x->r->suspect = true;
        snprintf(x->r->reason, sizeof x->r->reason, "%s", reason);
    }
    return dt_fail(err, DT_ESIG, x->cfg.name, "check failed, peer is now suspect: %s", reason);
}

static dt_status get(ctx *x, const char *url, const char *accept, const char *media,
                     taxii_reply *rep, dt_err *err)
{
    dt_status rc = taxii_client_request(x->c, "GET", url, accept, NULL, NULL, 0, rep, err);
    if (rc == DT_OK)
        rc = taxii_client_expect(rep, url, media, err);
    return rc;
}

/* ---- heads ---- */

static dt_status get_consistency(ctx *x, uint64_t first, uint64_t second, ledger_proof *p,
                                 char *text, size_t cap, dt_err *err)
{
    char url[256];
    taxii_reply rep;
    dt_status rc;
    snprintf(url, sizeof url, "/detente/v1/ledger/proof/consistency?first=%llu&second=%llu",
             (unsigned long long)first, (unsigned long long)second);
    taxii_reply_init(&rep);
    /* a transport failure or a 5xx is trouble to retry later; any other
     * answer that is not a proof means the peer cannot prove consistency */
    rc = taxii_client_request(x->c, "GET", url, JSON_MEDIA, NULL, NULL, 0, &rep, err);
    if (rc == DT_OK && rep.status >= 500)
        rc = taxii_client_expect(&rep, url, NULL, err);
    else if (rc == DT_OK && taxii_client_expect(&rep, url, NULL, err) != DT_OK)
        rc = DT_EINVALID;
    if (rc == DT_OK) {
        rc = ledger_consistency_parse(rep.body.data, rep.body.len, p, err);
        if (text != NULL)
            snprintf(text, cap, "%.*s", (int)rep.body.len, rep.body.data ? rep.body.data : "");
    }
    taxii_reply_release(&rep);
    return rc;
}

/* Fetch the head, check it against the pinned key and the last one kept,
 * keep it. */
static dt_status fetch_head(ctx *x, dt_err *err)
{
    taxii_reply rep;
    ledger_sth fresh, old;
    ledger_proof proof = {0};
    char proof_text[4096] = "";
    bool have_old;
    peer_verdict v;
    dt_err e = {0};
    dt_status rc;
    taxii_reply_init(&rep);
    rc = get(x, "/detente/v1/ledger/sth", JSON_MEDIA, NULL, &rep, err);
    if (rc == DT_OK) {
        rc = ledger_sth_parse(rep.body.data, rep.body.len, &fresh, err);
        if (rc != DT_OK)
            where_prefix(err, x->cfg.name, "tree head");
    }
    if (rc == DT_OK)
        snprintf(x->head_json, sizeof x->head_json, "%.*s", (int)rep.body.len, rep.body.data);
    taxii_reply_release(&rep);
    if (rc != DT_OK)
        return rc;
    rc = peer_sth_get(x->s, x->cfg.name, &old, NULL, &e);
    if (rc != DT_OK && rc != DT_ENOTFOUND)
        return dt_fail(err, rc, e.where, "%s", e.msg);
    have_old = rc == DT_OK;
    if (have_old && fresh.tree_size > old.tree_size && ledger_sth_verify(&fresh, x->cfg.key, NULL) == DT_OK) {
        dt_err pe = {0};
        rc = get_consistency(x, old.tree_size, fresh.tree_size, &proof, proof_text,
                             sizeof proof_text, &pe);
        if (rc == DT_ENET) /* transport trouble is not evidence */
            return dt_fail(err, rc, pe.where, "%s", pe.msg);
        proof.count = rc == DT_OK ? proof.count : 0;
        if (rc != DT_OK)
            snprintf(proof_text, sizeof proof_text, "(no proof: %s)", pe.msg);
    }
    v = peer_check_head(have_old ? &old : NULL, &fresh, proof_text[0] == '(' ? NULL : &proof,
                        x->cfg.key);
    if (v != PEER_CHECK_OK) {
        json_t *ev = json_pack("{s:o, s:o}", "first", have_old ? sth_json(&old) : json_null(),
                               "second", text_json(x->head_json));
        if (ev != NULL && proof_text[0])
            json_object_set_new(ev, "consistency", text_json(proof_text));
        char reason[512], where_changed[300] = "";
        if (v != PEER_CHECK_BAD_SIGNATURE && have_old)
            locate_change(x, old.tree_size, where_changed, sizeof where_changed);
        snprintf(reason, sizeof reason, "%s%s%s", peer_verdict_text(v),
                 where_changed[0] ? "; " : "", where_changed);
        if (ev != NULL && where_changed[0])
            json_object_set_new(ev, "changed_entry", json_string(where_changed));
        return fail_check(x, v == PEER_CHECK_BAD_SIGNATURE ? "bad-sth-signature"
                                                            : "inconsistent-sth",
                          reason, ev, err);
    }
    if (!have_old || fresh.tree_size != old.tree_size || fresh.timestamp != old.timestamp) {
        rc = peer_sth_put(x->s, x->cfg.name, &fresh, err);
        if (rc != DT_OK)
            return rc;
    }
    x->head = fresh;
    x->have_head = true;
    if (x->r != NULL)
        x->r->tree_size = fresh.tree_size;
    return DT_OK;
}

/* ---- gossip ---- */

static dt_status compare_witnessed(ctx *x, const peer_config *w, const json_t *doc, dt_err *err)
{
    char mykey[64], b64[48];
    const json_t *h;
    size_t i;
    dt_base64_encode(x->cfg.key, 32, b64);
    snprintf(mykey, sizeof mykey, "ed25519:%s", b64);
    json_array_foreach(json_object_get(doc, "heads"), i, h) {
        const char *k = json_string_value(json_object_get(h, "public_key"));
        char *text;
        ledger_sth theirs;
        dt_status prc;
        if (k == NULL || strcmp(k, mykey) != 0)
            continue;
        text = json_dumps(json_object_get(h, "sth"), JSON_COMPACT);
        prc = text ? ledger_sth_parse(text, strlen(text), &theirs, NULL) : DT_ENOMEM;
        free(text);
        /* a head that is not signed by the peer proves nothing about it */
        if (prc != DT_OK || ledger_sth_verify(&theirs, x->cfg.key, NULL) != DT_OK)
            continue;
        if (x->r != NULL)
            x->r->witnesses++;
        if (theirs.tree_size > x->head.tree_size) {
            /* the witness may simply have synced later: take a fresh head */
            dt_status rc = fetch_head(x, err);
            if (rc != DT_OK)
                return rc;
        }
        bool split = false;
        char why[200] = "";
        if (theirs.tree_size == x->head.tree_size) {
            split = sodium_memcmp(theirs.root, x->head.root, 32) != 0;
            snprintf(why, sizeof why, "different roots for tree size %llu",
                     (unsigned long long)theirs.tree_size);
        } else {
            const ledger_sth *small = theirs.tree_size < x->head.tree_size ? &theirs : &x->head;
            const ledger_sth *big = small == &theirs ? &x->head : &theirs;
            ledger_proof p;
            dt_err pe = {0};
            dt_status rc = get_consistency(x, small->tree_size, big->tree_size, &p, NULL, 0, &pe);
            if (rc == DT_ENET)
                return dt_fail(err, rc, pe.where, "%s", pe.msg);
            split = rc != DT_OK || !ledger_verify_consistency(small->tree_size, big->tree_size,
                                                              small->root, big->root, &p);
            snprintf(why, sizeof why, "no consistency between tree sizes %llu and %llu",
                     (unsigned long long)small->tree_size, (unsigned long long)big->tree_size);
        }
        if (split) {
            char reason[256];
            json_t *ev = json_pack("{s:o, s:o, s:s, s:O}", "first", sth_json(&x->head), "second",
                                   sth_json(&theirs), "witness_peer", w->name, "witness", doc);
            snprintf(reason, sizeof reason, "split view: peer %.60s witnessed another head (%.150s)",
                     w->name, why);
            return fail_check(x, "split-view", reason, ev, err);
        }
    }
    return DT_OK;
}

static dt_status gossip(ctx *x, dt_err *err)
{
    peer_config *all = NULL;
    size_t count = 0;
    dt_status rc = peer_list(x->s, &all, &count, err);
    if (rc != DT_OK)
        return rc;
    for (size_t i = 0; i < count && rc == DT_OK; i++) {
        peer_config *w = &all[i];
        peer_cred cred;
        taxii_client *wc = NULL;
        taxii_client_opts co = {0};
        taxii_reply rep;
        json_t *doc = NULL;
        dt_err we = {0};
        char wkey[64], b64[48];
        if (strcmp(w->name, x->cfg.name) == 0)
            continue;
        if (peer_cred_get(x->s, w->name, &cred, NULL) != DT_OK)
            continue;
        co.user = cred.user[0] ? cred.user : NULL;
        co.password = cred.user[0] ? cred.password : NULL;
        co.token = cred.token[0] ? cred.token : NULL;
        co.ca_file = w->ca_file[0] ? w->ca_file : NULL;
        co.timeout_s = 20;
        co.retries = 1;
        if (taxii_client_new(w->url, &co, &wc, &we) != DT_OK) {
            peer_cred_wipe(&cred);
            continue;
        }
        peer_cred_wipe(&cred);
        taxii_reply_init(&rep);
        if (taxii_client_request(wc, "GET", "/detente/v1/ledger/witnessed", JSON_MEDIA, NULL,
                                 NULL, 0, &rep, &we) == DT_OK &&
            taxii_client_expect(&rep, "witnessed", NULL, &we) == DT_OK &&
            peer_witnessed_parse(rep.body.data, rep.body.len, &doc, &we) == DT_OK) {
            /* only a document signed by the witness's pinned key counts */
            dt_base64_encode(w->key, 32, b64);
            snprintf(wkey, sizeof wkey, "ed25519:%s", b64);
            const char *k = json_string_value(json_object_get(doc, "public_key"));
            if (k != NULL && strcmp(k, wkey) == 0)
                rc = compare_witnessed(x, w, doc, err);
            else
                logf_(x, "witness %s signed with a key other than its pinned one; ignored",
                      w->name);
        } else {
            logf_(x, "no witnessed heads from %s: %s", w->name, we.msg);
        }
        json_decref(doc);
        taxii_reply_release(&rep);
        taxii_client_free(wc);
    }
    dt_free(all);
    return rc;
}

/* ---- objects ---- */

static const char *local_of(const ctx *x, const char *remote)
{
    if (x->o->into != NULL)
        return x->o->into;
    for (size_t i = 0; i < x->cfg.into_count; i++)
        if (strcmp(x->cfg.into[i].remote, remote) == 0)
            return x->cfg.into[i].local;
    return remote;
}

static bool canon(const char *ts, char out[DT_TIME_LEN])
{
    dt_time t;
    if (dt_time_parse(ts, strlen(ts), &t, NULL) != DT_OK)
        return false;
    dt_time_format(&t, 9, out);
    return true;
}

static const char *version_of(const json_t *o)
{
    const char *m = json_string_value(json_object_get(o, "modified"));
    return m ? m : json_string_value(json_object_get(o, "created"));
}

/* Whose key is `key`: a pinned peer's, or the one recorded for signer. */
static dt_status check_signer(ctx *x, const node_signature *sig, const json_t *obj,
                              bool *record, dt_err *err)
{
    uint8_t known[32];
    dt_status rc;
    *record = false;
    rc = peer_signer_key_get(x->s, sig->signer, known, NULL);
    if (rc == DT_OK) {
        if (sodium_memcmp(known, sig->public_key, 32) == 0)
            return DT_OK;
        char reason[256];
        snprintf(reason, sizeof reason,
                 "%s is signed by %.100s with a key other than the one known for it",
                 json_string_value(json_object_get(obj, "id")), sig->signer);
        return fail_check(x, "key-mismatch", reason, json_pack("{s:O}", "object", obj), err);
    }
    /* first time this signer is seen: record its key (the peer's own
     * objects bind its identity to the pinned key; a third party's key is
     * trusted on first use, docs/federation.md) */
    *record = true;
    return DT_OK;
}

typedef struct pending_key {
    char signer[160];
    uint8_t key[32];
} pending_key;

static dt_status verify_page(ctx *x, json_t *objs, const taxii_manifest_entry *es, size_t ecount,
                             pending_key **keys, size_t *key_count, dt_err *err)
{
    json_t *o;
    size_t i;
    dt_buf leaf;
    dt_status rc = DT_OK;
    *keys = NULL;
    *key_count = 0;
    if (json_array_size(objs) > 0) {
        *keys = dt_calloc(json_array_size(objs), sizeof **keys);
        if (*keys == NULL)
            return dt_fail(err, DT_ENOMEM, x->cfg.name, "out of memory");
    }
    dt_buf_init(&leaf, (size_t)1 << 20);
    json_array_foreach(objs, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *ver = version_of(o);
        const char *added = NULL;
        char want[DT_TIME_LEN] = "", have[DT_TIME_LEN], url[512], b64[48], enc[160];
        node_signature sig;
        dt_err se = {0};
        uint8_t hash[32];
        uint64_t index = 0;
        ledger_proof p;
        taxii_reply rep;
        bool record = false;
        if (ver != NULL && !canon(ver, want)) {
            rc = dt_fail(err, DT_EINVALID, id, "bad modified timestamp from the peer");
            break;
        }
        /* the manifest lists the same rows in the same order: try the
         * same position first, then look for it (O(page) only if not) */
        for (size_t step = 0; step < ecount && added == NULL; step++) {
            size_t k = (i + step) % ecount;
            if (strcmp(es[k].id, id) == 0 && canon(es[k].version, have) &&
                (ver == NULL || strcmp(have, want) == 0))
                added = es[k].date_added;
        }
        if (added == NULL) {
            rc = dt_fail(err, DT_EINVALID, id,
                         "the peer's manifest does not list this version (not a consistent "
                         "TAXII answer); nothing from this page was accepted");
            break;
        }
        /* signature */
        if (node_object_verify(o, &sig, &se) != DT_OK) {
            char reason[256];
            snprintf(reason, sizeof reason, "%s: bad object signature: %.180s", id, se.msg);
            rc = fail_check(x, "bad-signature", reason, json_pack("{s:O}", "object", o), err);
            break;
        }
        if (sig.present) {
            rc = check_signer(x, &sig, o, &record, err);
            if (rc != DT_OK)
                break;
            if (record) {
                size_t k;
                for (k = 0; k < *key_count; k++)
                    if (strcmp((*keys)[k].signer, sig.signer) == 0)
                        break;
                if (k < *key_count) {
                    if (sodium_memcmp((*keys)[k].key, sig.public_key, 32) != 0) {
                        char reason[256];
                        snprintf(reason, sizeof reason, "%s: signer %.100s uses two keys", id,
                                 sig.signer);
                        rc = fail_check(x, "key-mismatch", reason,
                                        json_pack("{s:O}", "object", o), err);
                        break;
                    }
                } else {
                    snprintf((*keys)[k].signer, sizeof(*keys)[k].signer, "%s", sig.signer);
                    memcpy((*keys)[k].key, sig.public_key, 32);
                    (*key_count)++;
                }
            }
        }
        /* inclusion of the version's leaf in the peer's ledger */
        dt_buf_reset(&leaf);
        rc = peer_leaf_build(o, added, sig.present ? sig.signer : NULL, &leaf, err);
        if (rc != DT_OK)
            break;
        ledger_hash_leaf(leaf.data, leaf.len, hash);
        if (seen_has(x, hash)) {
            if (x->r != NULL)
                x->r->proofs++;
            continue;
        }
        dt_base64_encode(hash, 32, b64);
        pct(b64, enc, sizeof enc);
        snprintf(url, sizeof url, "/detente/v1/ledger/proof/inclusion?hash=%s&tree_size=%llu",
                 enc, (unsigned long long)x->head.tree_size);
        taxii_reply_init(&rep);
        dt_err pe = {0};
        rc = get(x, url, JSON_MEDIA, NULL, &rep, &pe);
        if (rc == DT_OK)
            rc = ledger_inclusion_parse(rep.body.data, rep.body.len, &index, &p, &pe);
        taxii_reply_release(&rep);
        if (rc == DT_ENET || rc == DT_EDENIED || rc == DT_ENOMEM) {
            rc = dt_fail(err, rc, pe.where, "%s", pe.msg);
            break;
        }
        if (rc != DT_OK || !ledger_verify_inclusion(hash, index, x->head.tree_size, &p,
                                                    x->head.root)) {
            char reason[256];
            snprintf(reason, sizeof reason,
                     "%s (version %s) is served but not included in the peer's ledger of %llu "
                     "leaves",
                     id, ver ? ver : added, (unsigned long long)x->head.tree_size);
            rc = fail_check(x, "missing-inclusion", reason,
                            json_pack("{s:o, s:O, s:s%}", "first", sth_json(&x->head), "object",
                                      o, "leaf", leaf.data, leaf.len),
                            err);
            break;
        }
        if (x->r != NULL)
            x->r->proofs++;
    }
    dt_buf_release(&leaf);
    if (rc != DT_OK) {
        dt_free(*keys);
        *keys = NULL;
        *key_count = 0;
    }
    return rc;
}

static dt_status pull_collection(ctx *x, const char *remote, dt_err *err)
{
    char cursor[DT_TIME_LEN], enc_coll[400], enc_cur[100], q[1200];
    const char *local = local_of(x, remote);
    size_t page = x->o->page ? x->o->page : 500;
    dt_status rc = peer_cursor_get(x->s, x->cfg.name, remote, cursor, err);
    if (rc != DT_OK)
        return rc;
    pct(remote, enc_coll, sizeof enc_coll);
    for (;;) {
        taxii_reply rep;
        json_t *objs = NULL;
        bool more = false, mmore = false;
        char next[TAXII_NEXT_CAP], last[DT_TIME_LEN];
        taxii_manifest_entry *es = NULL;
        size_t ecount = 0, key_count = 0;
        pending_key *keys = NULL;
        node_principal who;
        node_ingest_opts io = {0};
        node_ingest_result res = {0};
        size_t count;
        if (x->o->stop != NULL && *x->o->stop)
            return DT_OK;
        pct(cursor, enc_cur, sizeof enc_cur);
        snprintf(q, sizeof q, "%scollections/%s/objects/?match%%5Bversion%%5D=all&limit=%zu%s%s",
                 x->root, enc_coll, page, cursor[0] ? "&added_after=" : "", enc_cur);
        taxii_reply_init(&rep);
        rc = get(x, q, TAXII_MEDIA_TYPE, TAXII_PREFIX, &rep, err);
        if (rc == DT_OK)
            rc = taxii_envelope_parse(rep.body.data, rep.body.len, &objs, &more, next, err);
        snprintf(last, sizeof last, "%s", rep.date_added_last);
        taxii_reply_release(&rep);
        if (rc != DT_OK) {
            where_prefix(err, x->cfg.name, remote);
            return rc;
        }
        count = json_array_size(objs);
        if (count == 0) {
            json_decref(objs);
            return DT_OK;
        }
        if (!canon(last, (char[DT_TIME_LEN]){0})) {
            json_decref(objs);
            return dt_fail(err, DT_EINVALID, q,
                           "not a usable TAXII answer: objects without an "
                           "X-TAXII-Date-Added-Last header");
        }
        /* the same query on the manifest gives each version's date_added */
        {
            char mq[1200];
            snprintf(mq, sizeof mq, "%scollections/%s/manifest/?match%%5Bversion%%5D=all&limit=%zu%s%s",
                     x->root, enc_coll, page, cursor[0] ? "&added_after=" : "", enc_cur);
            taxii_reply_init(&rep);
            rc = get(x, mq, TAXII_MEDIA_TYPE, TAXII_PREFIX, &rep, err);
            if (rc == DT_OK)
                rc = taxii_manifest_parse(rep.body.data, rep.body.len, &es, &ecount, &mmore, err);
            taxii_reply_release(&rep);
        }
        /* a head that covers the page (fetched after it) */
        if (rc == DT_OK)
            rc = fetch_head(x, err);
        if (rc == DT_OK)
            rc = verify_page(x, objs, es, ecount, &keys, &key_count, err);
        dt_free(es);
        if (rc != DT_OK) {
            json_decref(objs);
            return rc;
        }
        /* proven: through the one door in */
        {
            json_t **items = dt_calloc(count, sizeof *items);
            if (items == NULL) {
                json_decref(objs);
                dt_free(keys);
                return dt_fail(err, DT_ENOMEM, x->cfg.name, "out of memory");
            }
            for (size_t i = 0; i < count; i++)
                items[i] = json_array_get(objs, i);
            memset(&who, 0, sizeof who);
            who.kind = NODE_PRINCIPAL_PEER;
            snprintf(who.name, sizeof who.name, "%s", x->cfg.name);
            who.max_marking = NODE_TLP_RED;
            io.collection = local;
            io.peer = x->cfg.name;
            io.sign = false;
            io.allow_unsigned = x->cfg.allow_unsigned;
            rc = node_ingest_json(x->n, &who, &io, items, NULL, count, &res, err);
            dt_free(items);
        }
        json_decref(objs);
        if (rc != DT_OK) {
            dt_free(keys);
            node_ingest_result_release(&res);
            return rc;
        }
        for (size_t i = 0; i < res.count; i++)
            if (res.items[i].outcome == NODE_ITEM_REJECTED)
                logf_(x, "%s %s rejected: %s", res.items[i].id, res.items[i].version,
                      res.items[i].msg);
        if (x->r != NULL) {
            x->r->pulled += res.added;
            x->r->duplicates += res.duplicates;
            x->r->rejected += res.rejected;
        }
        node_ingest_result_release(&res);
        for (size_t k = 0; k < key_count && rc == DT_OK; k++)
            rc = peer_signer_key_put(x->s, keys[k].signer, keys[k].key, err);
        dt_free(keys);
        if (rc == DT_OK)
            rc = peer_cursor_put(x->s, x->cfg.name, remote, last, err);
        if (rc != DT_OK)
            return rc;
        snprintf(cursor, sizeof cursor, "%s", last);
        logf_(x, "%s: %zu versions checked and committed, up to %s", remote, count, cursor);
        if (!more)
            return DT_OK;
    }
}

/* After a head that does not extend the kept one: compare the entries the
 * peer serves now with the ones remembered from earlier passes
 * (peer-leaf/<name>/<index>), page by page from the start, and name the
 * first entry that was removed or changed. Best effort: a peer that stops
 * serving entries leaves only the conflicting heads as evidence. */
static dt_status locate_change(ctx *x, uint64_t kept_size, char *out, size_t cap)
{
    uint64_t at = 0;
    out[0] = '\0';
    while (at < kept_size) {
        char url[160];
        uint64_t end = at + ENTRIES_PAGE - 1 < kept_size - 1 ? at + ENTRIES_PAGE - 1 : kept_size - 1;
        taxii_reply rep;
        dt_err e = {0};
        json_t *j, *list;
        snprintf(url, sizeof url, "/detente/v1/ledger/entries?start=%llu&end=%llu",
                 (unsigned long long)at, (unsigned long long)end);
        taxii_reply_init(&rep);
        dt_status rc = get(x, url, JSON_MEDIA, NULL, &rep, &e);
        j = rc == DT_OK ? json_loadb(rep.body.data, rep.body.len, 0, NULL) : NULL;
        taxii_reply_release(&rep);
        list = json_object_get(j, "entries");
        for (uint64_t i = at; i <= end; i++) {
            char key[PEER_NAME_MAX + 48], *was = NULL, hb[48] = "", wid[200] = "", wmod[64] = "";
            snprintf(key, sizeof key, "peer-leaf/%s/%016llu", x->cfg.name, (unsigned long long)i);
            if (store_kv_get(x->s, NULL, key, &was, NULL) != DT_OK || was == NULL) {
                dt_free(was);
                continue; /* not remembered (read before this node kept entries) */
            }
            sscanf(was, "%47s %199s %63s", hb, wid, wmod);
            dt_free(was);
            const char *b = json_string_value(json_object_get(json_array_get(list, i - at),
                                                              "leaf_input"));
            uint8_t leaf[8192], h[32];
            size_t n = 0;
            char now[48] = "";
            const char *lh = json_string_value(json_object_get(json_array_get(list, i - at),
                                                               "leaf_hash"));
            if (b != NULL && dt_base64_decode(b, strlen(b), leaf, sizeof leaf, &n)) {
                ledger_hash_leaf(leaf, n, h);
                dt_base64_encode(h, 32, now);
            } else if (b == NULL && lh != NULL && dt_base64_decode(lh, strlen(lh), h, 32, &n) &&
                       n == 32) {
                dt_base64_encode(h, 32, now); /* a leaf we may not read: its hash */
            }
            if (strcmp(now, hb) != 0) {
                snprintf(out, cap, "entry %llu (%s, version %s) was %s",
                         (unsigned long long)i, wid, wmod,
                         b == NULL ? "removed: the peer no longer serves it"
                                   : "changed: the peer now serves another leaf there");
                json_decref(j);
                return DT_OK;
            }
        }
        json_decref(j);
        at = end + 1;
    }
    return DT_OK;
}

/* ---- one pass over the peer's ledger entries ----
 * For a large pull, one inclusion proof per version costs a round trip
 * each. Instead the pass reads the leaves appended since the last verified
 * head (GET ledger/entries), folds them into the kept "frontier" of the
 * peer's tree (the roots of its perfect subtrees, left to right: at most 64
 * hashes), and checks that the result is the signed head's root. Every
 * leaf read is then proven, and a pulled version whose leaf is among them
 * needs no proof of its own; any other gets one. The frontier is kept in
 * peer-frontier/<name> only for a size whose root was verified, and only
 * after the pass applied the tombstones among those leaves: deletions
 * travel this way (a tombstone leaf signed with the peer's pinned key erases
 * the versions it names here too, and our own ledger records a tombstone,
 * so nodes pulling from us follow). A peer without the entries endpoint
 * gets an inclusion proof per version, and its deletions do not travel. */

typedef struct frontier {
    uint64_t size;
    size_t count;
    uint8_t h[64][32];
} frontier;

static void frontier_append(frontier *f, const uint8_t leaf[32])
{
    uint8_t h[32];
    memcpy(h, leaf, 32);
    for (uint64_t n = f->size; n & 1; n >>= 1) {
        ledger_hash_children(f->h[f->count - 1], h, h);
        f->count--;
    }
    memcpy(f->h[f->count++], h, 32);
    f->size++;
}

static void frontier_root(const frontier *f, uint8_t out[32])
{
    if (f->count == 0) {
        ledger_hash_empty(out);
        return;
    }
    memcpy(out, f->h[f->count - 1], 32);
    for (size_t i = f->count - 1; i-- > 0;)
        ledger_hash_children(f->h[i], out, out);
}

static dt_status frontier_load(ctx *x, frontier *f)
{
    char key[PEER_NAME_MAX + 32], *v = NULL;
    json_t *j, *a, *e;
    size_t i;
    memset(f, 0, sizeof *f);
    snprintf(key, sizeof key, "peer-frontier/%s", x->cfg.name);
    if (store_kv_get(x->s, NULL, key, &v, NULL) != DT_OK)
        return DT_OK;
    j = json_loads(v, 0, NULL);
    dt_free(v);
    a = json_object_get(j, "hashes");
    f->size = (uint64_t)json_integer_value(json_object_get(j, "size"));
    json_array_foreach(a, i, e) {
        size_t n = 0;
        const char *t = json_string_value(e);
        if (i >= 64 || t == NULL || !dt_base64_decode(t, strlen(t), f->h[i], 32, &n) || n != 32)
            break;
        f->count++;
    }
    /* a frontier has one hash per set bit of its size */
    if ((size_t)__builtin_popcountll(f->size) != f->count)
        memset(f, 0, sizeof *f);
    json_decref(j);
    return DT_OK;
}

static dt_status frontier_save(ctx *x, const frontier *f, dt_err *err)
{
    char key[PEER_NAME_MAX + 32], b64[48];
    json_t *a = json_array();
    store_txn *t = NULL;
    char *text;
    dt_status rc;
    for (size_t i = 0; a != NULL && i < f->count; i++) {
        dt_base64_encode(f->h[i], 32, b64);
        json_array_append_new(a, json_string(b64));
    }
    json_t *j = json_pack("{s:I, s:o}", "size", (json_int_t)f->size, "hashes", a);
    text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (text == NULL)
        return dt_fail(err, DT_ENOMEM, x->cfg.name, "out of memory");
    snprintf(key, sizeof key, "peer-frontier/%s", x->cfg.name);
    rc = store_begin(x->s, &t, err);
    if (rc == DT_OK) {
        rc = store_kv_put(t, key, text, err);
        size_t i;
        json_t *r;
        json_array_foreach(x->records, i, r) {
            char k[PEER_NAME_MAX + 48], v[512];
            if (rc != DT_OK)
                break;
            snprintf(k, sizeof k, "peer-leaf/%s/%016llu", x->cfg.name,
                     (unsigned long long)json_integer_value(json_array_get(r, 0)));
            snprintf(v, sizeof v, "%s %s %s", json_string_value(json_array_get(r, 1)),
                     json_string_value(json_array_get(r, 2)),
                     json_string_value(json_array_get(r, 3)));
            rc = store_kv_put(t, k, v, err);
        }
        if (rc == DT_OK)
            rc = store_commit(t, err);
        else
            store_rollback(t);
    }
    free(text);
    return rc;
}

static int cmp_hash(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

static bool seen_has(const ctx *x, const uint8_t h[32])
{
    return x->seen_count > 0 && bsearch(h, x->seen, x->seen_count, 32, cmp_hash) != NULL;
}

static bool has_bytes(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (p[i] == (uint8_t)needle[0] && memcmp(p + i, needle, k) == 0)
            return true;
    return false;
}

static dt_status entries_pass(ctx *x, dt_err *err)
{
    frontier f;
    uint64_t target = x->head.tree_size;
    uint8_t root[32];
    dt_status rc = frontier_load(x, &f);
    if (rc != DT_OK)
        return rc;
    if (f.size >= target)
        return DT_OK;
    x->seen = dt_malloc((size_t)(target - f.size) * 32);
    if (x->seen == NULL)
        return dt_fail(err, DT_ENOMEM, x->cfg.name, "out of memory for %llu leaf hashes",
                       (unsigned long long)(target - f.size));
    logf_(x, "reading ledger entries %llu..%llu", (unsigned long long)f.size,
          (unsigned long long)target - 1);
    while (f.size < target) {
        char url[160];
        uint64_t end = f.size + ENTRIES_PAGE - 1 < target - 1 ? f.size + ENTRIES_PAGE - 1 : target - 1;
        taxii_reply rep;
        json_t *j, *list, *e;
        size_t i, got = 0;
        snprintf(url, sizeof url, "/detente/v1/ledger/entries?start=%llu&end=%llu",
                 (unsigned long long)f.size, (unsigned long long)end);
        taxii_reply_init(&rep);
        dt_err ge = {0};
        rc = get(x, url, JSON_MEDIA, NULL, &rep, &ge);
        j = rc == DT_OK ? json_loadb(rep.body.data, rep.body.len, 0, NULL) : NULL;
        taxii_reply_release(&rep);
        if (rc == DT_ENOTFOUND) {
            logf_(x, "no ledger entries endpoint: one inclusion proof per version");
            x->seen_count = 0;
            return DT_OK;
        }
        if (rc != DT_OK)
            return dt_fail(err, rc, ge.where, "%s", ge.msg);
        list = json_object_get(j, "entries");
        if (!json_is_array(list) || json_array_size(list) == 0 ||
            json_array_size(list) > end - f.size + 1) {
            json_decref(j);
            return dt_fail(err, DT_EINVALID, url, "not a ledger entries answer");
        }
        json_array_foreach(list, i, e) {
            const char *b = json_string_value(json_object_get(e, "leaf_input"));
            const char *lh = json_string_value(json_object_get(e, "leaf_hash"));
            size_t blen = b ? strlen(b) : 0, n = 0;
            uint8_t *leaf, h[32];
            if (b == NULL && lh != NULL) {
                /* a leaf we may not read (issue 9): its hash still proves the head */
                if (!dt_base64_decode(lh, strlen(lh), h, sizeof h, &n) || n != 32) {
                    json_decref(j);
                    return dt_fail(err, DT_EINVALID, url, "entries[%zu]: bad leaf_hash", i);
                }
                char hb[48];
                dt_base64_encode(h, 32, hb);
                if (x->records == NULL)
                    x->records = json_array();
                json_array_append_new(x->records,
                                      json_pack("[I, s, s, s]", (json_int_t)f.size, hb, "", ""));
                memcpy(x->seen[x->seen_count++], h, 32);
                frontier_append(&f, h);
                got++;
                continue;
            }
            leaf = dt_malloc(blen + 1);
            if (leaf == NULL || b == NULL || !dt_base64_decode(b, blen, leaf, blen + 1, &n)) {
                dt_free(leaf);
                json_decref(j);
                return dt_fail(err, DT_EINVALID, url, "entries[%zu]: bad leaf_input", i);
            }
            ledger_hash_leaf(leaf, n, h);
            {
                /* remembered, so that a later rewrite can be pinned to its entry */
                json_t *lj = json_loadb((const char *)leaf, n, 0, NULL);
                char hb[48];
                dt_base64_encode(h, 32, hb);
                if (x->records == NULL)
                    x->records = json_array();
                json_array_append_new(
                    x->records,
                    json_pack("[I, s, s, s]", (json_int_t)f.size, hb,
                              json_string_value(json_object_get(lj, "id"))
                                  ? json_string_value(json_object_get(lj, "id"))
                                  : "",
                              json_string_value(json_object_get(lj, "modified"))
                                  ? json_string_value(json_object_get(lj, "modified"))
                                  : ""));
                json_decref(lj);
            }
            if (has_bytes(leaf, n, "\"tombstone\":true")) {
                json_t *tomb = json_loadb((const char *)leaf, n, 0, NULL);
                if (json_is_object(tomb) && json_is_true(json_object_get(tomb, "tombstone"))) {
                    if (x->tombs == NULL)
                        x->tombs = json_array();
                    json_array_append(x->tombs, tomb);
                }
                json_decref(tomb);
            }
            dt_free(leaf);
            memcpy(x->seen[x->seen_count++], h, 32);
            frontier_append(&f, h);
            got++;
        }
        json_decref(j);
        (void)got;
    }
    frontier_root(&f, root);
    if (sodium_memcmp(root, x->head.root, 32) != 0) {
        char reason[200];
        x->seen_count = 0;
        snprintf(reason, sizeof reason,
                 "the ledger entries it serves do not hash to its signed head of size %llu",
                 (unsigned long long)target);
        return fail_check(x, "entries-mismatch", reason,
                          json_pack("{s:o}", "first", sth_json(&x->head)), err);
    }
    qsort(x->seen, x->seen_count, 32, cmp_hash);
    x->frontier = dt_malloc(sizeof f);
    if (x->frontier == NULL)
        return dt_fail(err, DT_ENOMEM, x->cfg.name, "out of memory");
    memcpy(x->frontier, &f, sizeof f);
    return DT_OK;
}

/* Apply the tombstones the entries pass proved: each must be signed with
 * the peer's pinned key (a node only ledgers tombstones it signed itself),
 * over the JCS of the leaf without its signature. */
static dt_status apply_tombstones(ctx *x, dt_err *err)
{
    json_t *t;
    size_t i;
    store_collection *cs = NULL;
    size_t ccount = 0;
    dt_status rc = DT_OK;
    if (x->tombs == NULL)
        return DT_OK;
    rc = store_collection_list(x->s, &cs, &ccount, err);
    if (rc != DT_OK)
        return rc;
    json_array_foreach(x->tombs, i, t) {
        const char *id = json_string_value(json_object_get(t, "id"));
        const char *mod = json_string_value(json_object_get(t, "modified"));
        const char *sig64 = json_string_value(json_object_get(t, "signature"));
        uint8_t sig[64];
        size_t n = 0;
        dt_buf msg;
        json_t *copy = json_deep_copy(t);
        bool good = false;
        if (id == NULL || mod == NULL || sig64 == NULL || copy == NULL ||
            !dt_base64_decode(sig64, strlen(sig64), sig, sizeof sig, &n) || n != 64) {
            json_decref(copy);
            logf_(x, "tombstone %zu: malformed, ignored", i);
            continue;
        }
        json_object_del(copy, "signature");
        dt_buf_init(&msg, 1 << 16);
        if (stix_jcs(copy, &msg, NULL) == DT_OK)
            good = crypto_sign_verify_detached(sig, (const unsigned char *)msg.data, msg.len,
                                               x->cfg.key) == 0;
        dt_buf_release(&msg);
        json_decref(copy);
        if (!good) {
            char reason[256];
            snprintf(reason, sizeof reason,
                     "tombstone for %.150s in its ledger is not signed with its pinned key", id);
            rc = fail_check(x, "bad-tombstone", reason, json_pack("{s:O}", "tombstone", t), err);
            break;
        }
        for (size_t c = 0; c < ccount; c++) {
            node_principal local;
            size_t erased = 0;
            dt_err de = {0};
            node_principal_local(&local);
            dt_status drc = node_delete(x->n, &local, cs[c].id, id,
                                        strcmp(mod, "all") == 0 ? NULL : mod, &erased, &de);
            if (drc == DT_OK) {
                logf_(x, "deleted %s (%s) from %s: the peer deleted it", id, mod, cs[c].id);
                if (x->r != NULL)
                    x->r->deleted += erased;
            } else if (drc != DT_ENOTFOUND) {
                rc = dt_fail(err, drc, de.where, "%s", de.msg);
                break;
            }
        }
        if (rc != DT_OK)
            break;
    }
    dt_free(cs);
    return rc;
}

static dt_status pull_all(ctx *x, dt_err *err);

static dt_status pull(ctx *x, dt_err *err)
{
    dt_status rc = entries_pass(x, err);
    if (rc == DT_OK)
        rc = pull_all(x, err);
    if (rc == DT_OK)
        rc = apply_tombstones(x, err);
    if (rc == DT_OK && x->frontier != NULL)
        rc = frontier_save(x, x->frontier, err);
    return rc;
}

static dt_status pull_all(ctx *x, dt_err *err)
{
    if (x->cfg.collection_count > 0) {
        for (size_t i = 0; i < x->cfg.collection_count; i++) {
            dt_status rc = pull_collection(x, x->cfg.collections[i], err);
            if (rc != DT_OK)
                return rc;
        }
        return DT_OK;
    }
    char url[PEER_URL_MAX + 32];
    taxii_reply rep;
    taxii_collection_info *cs = NULL;
    size_t count = 0;
    dt_status rc;
    snprintf(url, sizeof url, "%scollections/", x->root);
    taxii_reply_init(&rep);
    rc = get(x, url, TAXII_MEDIA_TYPE, TAXII_PREFIX, &rep, err);
    if (rc == DT_OK)
        rc = taxii_collections_parse(rep.body.data, rep.body.len, &cs, &count, err);
    taxii_reply_release(&rep);
    for (size_t i = 0; rc == DT_OK && i < count; i++)
        if (cs[i].can_read)
            rc = pull_collection(x, cs[i].id, err);
    dt_free(cs);
    return rc;
}

/* ---- push ---- */

static dt_status push_collection(ctx *x, const char *coll, dt_err *err)
{
    char key[PEER_NAME_MAX + PEER_COLL_MAX + 16], url[PEER_URL_MAX + 440], enc[400];
    char *v = NULL;
    int64_t after_da = 0, after_row = 0;
    node_principal who;
    dt_status rc;
    snprintf(key, sizeof key, "peer-push/%s/%s", x->cfg.name, coll);
    if (store_kv_get(x->s, NULL, key, &v, NULL) == DT_OK) {
        json_t *j = json_loads(v, 0, NULL);
        after_da = (int64_t)json_integer_value(json_object_get(j, "after_date_added"));
        after_row = (int64_t)json_integer_value(json_object_get(j, "after_rowid"));
        json_decref(j);
        dt_free(v);
    }
    node_principal_local(&who);
    pct(coll, enc, sizeof enc);
    snprintf(url, sizeof url, "%scollections/%s/objects/", x->root, enc);
    for (;;) {
        store_query q = {0};
        store_page page = {0};
        dt_buf body;
        taxii_reply rep;
        taxii_status_info st;
        q.collection = coll;
        q.versions = STORE_VER_ALL;
        q.after_date_added = after_da;
        q.after_rowid = after_row;
        q.max_marking = x->cfg.max_marking;
        /* the TLP relay rule a peer reading from us gets (node/query.c):
         * AMBER received from others is never passed on to another party */
        q.foreign_limit = true;
        q.max_marking_foreign = NODE_TLP_GREEN;
        q.own_signer = node_identity_id(x->n);
        q.limit = x->o->page ? x->o->page : 500;
        q.with_json = true;
        rc = node_query(x->n, &who, &q, &page, err);
        if (rc != DT_OK)
            return rc;
        if (page.count == 0) {
            store_page_release(&page);
            return DT_OK;
        }
        dt_buf_init(&body, (size_t)256 << 20);
        rc = dt_buf_puts(&body, "{\"objects\":[", err);
        for (size_t i = 0; rc == DT_OK && i < page.count; i++) {
            if (i > 0)
                rc = dt_buf_putc(&body, ',', err);
            if (rc == DT_OK && page.rows[i].json != NULL)
                rc = dt_buf_append(&body, page.rows[i].json, page.rows[i].json_len, err);
        }
        if (rc == DT_OK)
            rc = dt_buf_puts(&body, "]}", err);
        taxii_reply_init(&rep);
        if (rc == DT_OK)
            rc = taxii_client_request(x->c, "POST", url, TAXII_MEDIA_TYPE, TAXII_MEDIA_TYPE,
                                      body.data, body.len, &rep, err);
        if (rc == DT_OK)
            rc = taxii_client_expect(&rep, url, TAXII_PREFIX, err);
        if (rc == DT_OK)
            rc = taxii_status_parse(rep.body.data, rep.body.len, &st, err);
        taxii_reply_release(&rep);
        dt_buf_release(&body);
        if (rc == DT_OK && st.failure > 0)
            logf_(x, "push %s: the peer refused %llu of %llu objects", coll,
                  (unsigned long long)st.failure, (unsigned long long)st.total);
        if (rc == DT_OK) {
            char val[96];
            after_da = page.rows[page.count - 1].date_added;
            after_row = page.rows[page.count - 1].rowid;
            snprintf(val, sizeof val, "{\"after_date_added\":%lld,\"after_rowid\":%lld}",
                     (long long)after_da, (long long)after_row);
            store_txn *t = NULL;
            rc = store_begin(x->s, &t, err);
            if (rc == DT_OK) {
                rc = store_kv_put(t, key, val, err);
                if (rc == DT_OK)
                    rc = store_commit(t, err);
                else
                    store_rollback(t);
            }
            if (x->r != NULL)
                x->r->pushed += st.success;
        }
        bool more = page.more;
        store_page_release(&page);
        if (rc != DT_OK || !more)
            return rc;
    }
}

/* ---- one pass ---- */

static dt_status run(ctx *x, dt_err *err)
{
    taxii_reply rep;
    dt_status rc;
    taxii_reply_init(&rep);
    rc = get(x, x->cfg.url, TAXII_MEDIA_TYPE, TAXII_PREFIX, &rep, err);
    if (rc == DT_OK)
        rc = taxii_discovery_parse(rep.body.data, rep.body.len, taxii_client_origin(x->c), x->root,
                                   sizeof x->root, err);
    taxii_reply_release(&rep);
    if (rc != DT_OK) {
        where_prefix(err, x->cfg.name, "discovery");
        return rc;
    }
    rc = fetch_head(x, err);
    if (rc == DT_OK && !x->o->no_gossip)
        rc = gossip(x, err);
    if (rc == DT_OK)
        rc = pull(x, err);
    for (size_t i = 0; rc == DT_OK && i < x->cfg.push_count; i++)
        rc = push_collection(x, x->cfg.push[i], err);
    return rc;
}

dt_status peer_sync(node *n, const char *name, const peer_sync_opts *opts, peer_sync_result *r,
                    dt_err *err)
{
    static const peer_sync_opts none = {0};
    ctx x;
    peer_state st;
    peer_cred cred;
    taxii_client_opts co = {0};
    dt_status rc;
    memset(&x, 0, sizeof x);
    x.n = n;
    x.s = node_store(n);
    x.o = opts ? opts : &none;
    x.r = r;
    if (r != NULL)
        memset(r, 0, sizeof *r);
    rc = peer_get(x.s, name, &x.cfg, err);
    if (rc == DT_OK)
        rc = peer_state_get(x.s, name, &st, err);
    if (rc != DT_OK)
        return rc;
    if (st.state == PEER_SUSPECT) {
        if (r != NULL) {
            r->suspect = true;
            snprintf(r->reason, sizeof r->reason, "%s", st.reason);
        }
        return dt_fail(err, DT_EDENIED, name,
                       "peer is suspect (%.150s); nothing is accepted from it until "
                       "`detente peer trust %s`",
                       st.reason, name);
    }
    rc = peer_cred_get(x.s, name, &cred, err);
    if (rc != DT_OK)
        return rc;
    co.user = cred.user[0] ? cred.user : NULL;
    co.password = cred.user[0] ? cred.password : NULL;
    co.token = cred.token[0] ? cred.token : NULL;
    co.ca_file = x.cfg.ca_file[0] ? x.cfg.ca_file : NULL;
    co.timeout_s = x.o->timeout_s;
    co.retries = x.o->retries ? x.o->retries : 3;
    rc = taxii_client_new(x.cfg.url, &co, &x.c, err);
    peer_cred_wipe(&cred);
    if (rc != DT_OK)
        return rc;
    pthread_mutex_lock(&sync_lock);
    rc = run(&x, err);
    pthread_mutex_unlock(&sync_lock);
    taxii_client_free(x.c);
    dt_free(x.seen);
    dt_free(x.frontier);
    json_decref(x.tombs);
    json_decref(x.records);
    /* record the pass (a check failure already wrote the suspect state) */
    if (peer_state_get(x.s, name, &st, NULL) == DT_OK) {
        if (rc == DT_OK) {
            st.last_sync = dt_now_ms();
            st.last_error[0] = '\0';
        } else if (rc != DT_ESIG && err != NULL) {
            char text[400];
            snprintf(st.last_error, sizeof st.last_error, "%s", dt_err_text(err, text, sizeof text));
        }
        if (r != NULL) {
            st.pulled += r->pulled;
            st.pushed += r->pushed;
        }
        (void)peer_state_put(x.s, name, &st, NULL);
    }
    return rc;
}

dt_status peer_sync_all(node *n, const peer_sync_opts *opts, dt_err *err)
{
    peer_config *all = NULL;
    size_t count = 0;
    dt_status first = DT_OK;
    dt_status rc = peer_list(node_store(n), &all, &count, err);
    if (rc != DT_OK)
        return rc;
    for (size_t i = 0; i < count; i++) {
        dt_err e = {0};
        peer_sync_result r;
        rc = peer_sync(n, all[i].name, opts, &r, &e);
        if (opts != NULL && opts->log != NULL) {
            if (rc == DT_OK)
                fprintf(opts->log, "sync %s: ok, %zu new, %zu duplicates, %zu rejected, %zu pushed, head %llu\n",
                        all[i].name, r.pulled, r.duplicates, r.rejected, r.pushed,
                        (unsigned long long)r.tree_size);
            else
                fprintf(opts->log, "sync %s: %s: %s\n", all[i].name, e.where, e.msg);
        }
        if (rc != DT_OK && first == DT_OK) {
            first = rc;
            if (err != NULL && err->code == DT_OK)
                *err = e;
        }
    }
    dt_free(all);
    return first;
}

/* ---- the loop inside `detente serve` ---- */

struct peer_loop {
    node *n;
    unsigned interval_s;
    FILE *log;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    volatile int stop;
};

static void *loop_main(void *arg)
{
    peer_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        pthread_mutex_unlock(&l->mu);
        peer_sync_opts o = {.log = l->log, .stop = &l->stop};
        (void)peer_sync_all(l->n, &o, NULL);
        pthread_mutex_lock(&l->mu);
        if (l->stop)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += l->interval_s;
        while (!l->stop && pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

dt_status peer_loop_start(node *n, unsigned interval_s, FILE *log, peer_loop **out, dt_err *err)
{
    peer_loop *l;
    *out = NULL;
    if (interval_s == 0)
        return DT_OK; /* the loop is disabled */
    l = dt_calloc(1, sizeof *l);
    if (l == NULL)
        return dt_fail(err, DT_ENOMEM, "sync loop", "out of memory");
    l->n = n;
    l->interval_s = interval_s;
    l->log = log;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        pthread_mutex_destroy(&l->mu);
        pthread_cond_destroy(&l->cv);
        dt_free(l);
        return dt_fail(err, DT_ENOMEM, "sync loop", "cannot start a thread");
    }
    *out = l;
    return DT_OK;
}

void peer_loop_stop(peer_loop *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    dt_free(l);
}

/* ---- what this node serves about its peers ---- */

static dt_status read_secret_key(const char *home, uint8_t sk[64], dt_err *err)
{
    char path[NODE_PATH_MAX + 32], *text = NULL, *p;
    size_t len = 0, n = 0;
    dt_status rc;
    snprintf(path, sizeof path, "%s/key.secret", home);
    rc = dt_file_read(path, 4096, &text, &len, err);
    if (rc != DT_OK)
        return rc;
    p = strchr(text, ':');
    if (p != NULL) {
        p++;
        size_t m = strcspn(p, "\r\n ");
        if (!dt_base64_decode(p, m, sk, 64, &n) || n != 64)
            p = NULL;
    }
    sodium_memzero(text, len);
    dt_free(text);
    return p ? DT_OK : dt_fail(err, DT_EIO, path, "unreadable secret key");
}

dt_status peer_witnessed_build(node *n, dt_buf *out, dt_err *err)
{
    store *s = node_store(n);
    peer_config *all = NULL;
    size_t count = 0;
    uint8_t sk[64];
    json_t *heads;
    dt_status rc = peer_list(s, &all, &count, err);
    if (rc != DT_OK)
        return rc;
    heads = json_array();
    for (size_t i = 0; heads != NULL && i < count; i++) {
        ledger_sth h;
        int64_t at = 0;
        char key[64], b64[48];
        if (peer_sth_get(s, all[i].name, &h, &at, NULL) != DT_OK)
            continue;
        dt_base64_encode(all[i].key, 32, b64);
        snprintf(key, sizeof key, "ed25519:%s", b64);
        json_array_append_new(heads, json_pack("{s:s, s:s, s:o, s:I}", "peer", all[i].name,
                                               "public_key", key, "sth", sth_json(&h),
                                               "verified_at", (json_int_t)at));
    }
    dt_free(all);
    if (heads == NULL)
        return dt_fail(err, DT_ENOMEM, "witnessed", "out of memory");
    /* sorted by public_key */
    {
        size_t m = json_array_size(heads);
        for (size_t i = 1; i < m; i++)
            for (size_t j = i; j > 0; j--) {
                json_t *a = json_array_get(heads, j - 1), *b = json_array_get(heads, j);
                if (strcmp(json_string_value(json_object_get(a, "public_key")),
                           json_string_value(json_object_get(b, "public_key"))) <= 0)
                    break;
                json_incref(a);
                json_array_set(heads, j - 1, b);
                json_array_set_new(heads, j, a);
            }
    }
    rc = read_secret_key(node_home(n), sk, err);
    if (rc == DT_OK)
        rc = peer_witnessed_sign(heads, node_identity_id(n), node_public_key(n), sk, dt_now_ms(),
                                 out, err);
    sodium_memzero(sk, sizeof sk);
    json_decref(heads);
    return rc;
}

dt_status peer_status_json(node *n, dt_buf *out, dt_err *err)
{
    store *s = node_store(n);
    peer_config *all = NULL;
    size_t count = 0;
    json_t *list;
    char *text;
    dt_status rc = peer_list(s, &all, &count, err);
    if (rc != DT_OK)
        return rc;
    list = json_array();
    for (size_t i = 0; rc == DT_OK && list != NULL && i < count; i++) {
        json_t *d = NULL;
        rc = peer_describe(s, &all[i], &d, err);
        if (rc == DT_OK)
            json_array_append_new(list, d);
    }
    dt_free(all);
    if (rc != DT_OK || list == NULL) {
        json_decref(list);
        return rc != DT_OK ? rc : dt_fail(err, DT_ENOMEM, "peers", "out of memory");
    }
    json_t *top = json_pack("{s:o}", "peers", list);
    text = top ? json_dumps(top, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(top);
    if (text == NULL)
        return dt_fail(err, DT_ENOMEM, "peers", "out of memory");
    rc = dt_buf_puts(out, text, err);
    free(text);
    return rc;
}
