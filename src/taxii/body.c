/* TAXII 2.1 response bodies: envelopes, manifests, versions, status
 * resources and error messages (TAXII 2.1 sections 3.6, 3.7, 4.3, 5).
 *
 * These run on the hot path of every read, so they write JSON text straight
 * into a dt_buf: an envelope is the stored JSON texts of the rows joined
 * with commas (the store keeps each object's JCS bytes, which are already
 * valid JSON), with no per-object parse or re-serialisation. The buffer's
 * maximum bounds the response size. */
#include "taxii/taxii.h"

#include <stdio.h>
#include <string.h>

dt_status taxii_json_str(dt_buf *out, const char *s, dt_err *err)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    /* Messages may quote input bytes that are not UTF-8; the answer must
     * stay valid JSON, so then every non-ASCII byte is written as U+FFFD. */
    bool ascii_only = !dt_utf8_valid(s, strlen(s), NULL);
    dt_status rc = dt_buf_putc(out, '"', err);
    if (rc != DT_OK)
        return rc;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[7];
        size_t n = 0;
        if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || !ascii_only))
            continue;
        if (c >= 0x80) {
            rc = dt_buf_append(out, run, (size_t)(p - run), err);
            if (rc == DT_OK)
                rc = dt_buf_puts(out, "\\ufffd", err);
            if (rc != DT_OK)
                return rc;
            run = p + 1;
            continue;
        }
        rc = dt_buf_append(out, run, (size_t)(p - run), err);
        if (rc != DT_OK)
            return rc;
        esc[n++] = '\\';
        switch (c) {
        case '"': esc[n++] = '"'; break;
        case '\\': esc[n++] = '\\'; break;
        case '\n': esc[n++] = 'n'; break;
        case '\r': esc[n++] = 'r'; break;
        case '\t': esc[n++] = 't'; break;
        default:
            esc[n++] = 'u';
            esc[n++] = '0';
            esc[n++] = '0';
            esc[n++] = hex[c >> 4];
            esc[n++] = hex[c & 15];
        }
        rc = dt_buf_append(out, esc, n, err);
        if (rc != DT_OK)
            return rc;
        run = p + 1;
    }
    rc = dt_buf_puts(out, run, err);
    if (rc != DT_OK)
        return rc;
    return dt_buf_putc(out, '"', err);
}

char *taxii_time_format(int64_t us, char out[DT_TIME_LEN])
{
    dt_time t = dt_time_from_us(us);
    return dt_time_format(&t, 6, out);
}

void taxii_page_next(const store_page *page, char out[TAXII_NEXT_LEN])
{
    out[0] = '\0';
    if (page->count == 0)
        return;
    taxii_next_encode(page->rows[page->count - 1].date_added, page->rows[page->count - 1].rowid,
                      out);
}

/* {"more":B[,"next":"T"], */
static dt_status open_paged(dt_buf *out, bool more, const char *next, dt_err *err)
{
    dt_status rc = dt_buf_puts(out, more ? "{\"more\":true" : "{\"more\":false", err);
    if (rc == DT_OK && more && next != NULL && next[0] != '\0') {
        rc = dt_buf_puts(out, ",\"next\":", err);
        if (rc == DT_OK)
            rc = taxii_json_str(out, next, err);
    }
    return rc;
}

dt_status taxii_envelope_build(const store_page *page, const char *next, dt_buf *out,
                               dt_err *err)
{
    size_t need = 64 + TAXII_NEXT_LEN;
    dt_status rc;
    bool first = true;
    /* One allocation for the whole body: the texts' lengths are known. */
    for (size_t i = 0; i < page->count; i++)
        need += page->rows[i].json_len + 1;
    rc = dt_buf_reserve(out, need, err);
    if (rc == DT_OK)
        rc = open_paged(out, page->more, next, err);
    for (size_t i = 0; rc == DT_OK && i < page->count; i++) {
        const store_row *r = &page->rows[i];
        if (r->json == NULL)
            continue; /* tombstone: nothing to serve */
        rc = dt_buf_puts(out, first ? ",\"objects\":[" : ",", err);
        if (rc == DT_OK)
            rc = dt_buf_append(out, r->json, r->json_len, err);
        first = false;
    }
    if (rc == DT_OK && !first)
        rc = dt_buf_putc(out, ']', err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '}', err);
    return rc;
}

dt_status taxii_manifest_build(const store_page *page, const char *next, dt_buf *out,
                               dt_err *err)
{
    dt_status rc = open_paged(out, page->more, next, err);
    for (size_t i = 0; rc == DT_OK && i < page->count; i++) {
        const store_row *r = &page->rows[i];
        char added[DT_TIME_LEN];
        rc = dt_buf_puts(out, i == 0 ? ",\"objects\":[{\"id\":" : ",{\"id\":", err);
        if (rc == DT_OK)
            rc = taxii_json_str(out, r->id ? r->id : "", err);
        if (rc == DT_OK)
            rc = dt_buf_printf(out, err, ",\"date_added\":\"%s\",\"version\":",
                               taxii_time_format(r->date_added, added));
        if (rc == DT_OK)
            rc = taxii_json_str(out, r->modified_text ? r->modified_text : "", err);
        if (rc == DT_OK)
            rc = dt_buf_puts(out, ",\"media_type\":\"" TAXII_STIX_MEDIA_TYPE "\"}", err);
    }
    if (rc == DT_OK && page->count > 0)
        rc = dt_buf_putc(out, ']', err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '}', err);
    return rc;
}

dt_status taxii_versions_build(const store_page *page, const char *next, dt_buf *out,
                               dt_err *err)
{
    dt_status rc = open_paged(out, page->more, next, err);
    for (size_t i = 0; rc == DT_OK && i < page->count; i++) {
        const store_row *r = &page->rows[i];
        rc = dt_buf_puts(out, i == 0 ? ",\"versions\":[" : ",", err);
        if (rc == DT_OK)
            rc = taxii_json_str(out, r->modified_text ? r->modified_text : "", err);
    }
    if (rc == DT_OK && page->count > 0)
        rc = dt_buf_putc(out, ']', err);
    if (rc == DT_OK)
        rc = dt_buf_putc(out, '}', err);
    return rc;
}

/* "successes"/"failures" lists of status details (id, version, message). */
static dt_status status_list(dt_buf *out, const char *name, const node_ingest_result *res,
                             bool failures, dt_err *err)
{
    dt_status rc = dt_buf_printf(out, err, ",\"%s\":[", name);
    bool first = true;
    for (size_t i = 0; rc == DT_OK && i < res->count; i++) {
        const node_ingest_item *it = &res->items[i];
        char text[400];
        if ((it->outcome == NODE_ITEM_REJECTED) != failures)
            continue;
        rc = dt_buf_puts(out, first ? "{\"id\":" : ",{\"id\":", err);
        first = false;
        if (rc == DT_OK)
            rc = taxii_json_str(out, it->id, err);
        if (rc == DT_OK)
            rc = dt_buf_puts(out, ",\"version\":", err);
        if (rc == DT_OK)
            rc = taxii_json_str(out, it->version, err);
        if (rc != DT_OK)
            break;
        if (failures) {
            if (it->where[0] != '\0')
                snprintf(text, sizeof text, "%s: %s", it->where, it->msg);
            else
                snprintf(text, sizeof text, "%s", it->msg);
        } else {
            snprintf(text, sizeof text, "%s",
                     it->outcome == NODE_ITEM_DUPLICATE ? "already held" : "added");
        }
        rc = dt_buf_puts(out, ",\"message\":", err);
        if (rc == DT_OK)
            rc = taxii_json_str(out, text, err);
        if (rc == DT_OK)
            rc = dt_buf_putc(out, '}', err);
    }
    if (rc == DT_OK)
        rc = dt_buf_putc(out, ']', err);
    return rc;
}

dt_status taxii_status_build(const char *id, int64_t request_us, const node_ingest_result *res,
                             dt_buf *out, dt_err *err)
{
    char ts[DT_TIME_LEN];
    size_t ok = res->added + res->duplicates;
    dt_status rc = dt_buf_puts(out, "{\"id\":", err);
    if (rc == DT_OK)
        rc = taxii_json_str(out, id, err);
    if (rc == DT_OK)
        rc = dt_buf_printf(out, err,
                           ",\"status\":\"complete\",\"request_timestamp\":\"%s\","
                           "\"total_count\":%zu,\"success_count\":%zu",
                           taxii_time_format(request_us, ts), res->count, ok);
    if (rc == DT_OK && ok > 0)
        rc = status_list(out, "successes", res, false, err);
    if (rc == DT_OK)
        rc = dt_buf_printf(out, err, ",\"failure_count\":%zu", res->rejected);
    if (rc == DT_OK && res->rejected > 0)
        rc = status_list(out, "failures", res, true, err);
    if (rc == DT_OK)
        rc = dt_buf_puts(out, ",\"pending_count\":0}", err);
    return rc;
}

dt_status taxii_error_build(int http_status, const char *title, const char *description,
                            dt_buf *out, dt_err *err)
{
    dt_status rc = dt_buf_puts(out, "{\"title\":", err);
    if (rc == DT_OK)
        rc = taxii_json_str(out, title, err);
    if (rc == DT_OK && description != NULL && description[0] != '\0') {
        rc = dt_buf_puts(out, ",\"description\":", err);
        if (rc == DT_OK)
            rc = taxii_json_str(out, description, err);
    }
    if (rc == DT_OK)
        rc = dt_buf_printf(out, err, ",\"http_status\":\"%d\"}", http_status);
    return rc;
}
