/* The one table from dt_status to an HTTP status and a TAXII error title.
 * Every error answer of the server goes through it (server.c), so a status
 * means the same on every endpoint: syntax and rule violations are 400,
 * limits 413, missing things 404, permissions 403, conflicts 409, and only
 * failures of the node itself (I/O, database) are 5xx. Out of memory is 503:
 * the node keeps serving and the client may retry. */
#include "http/http.h"

static const struct {
    dt_status code;
    int http;
    const char *title;
} status_table[] = {
    {DT_OK, 200, "OK"},
    {DT_ENOMEM, 503, "Service Unavailable"},
    {DT_EARG, 400, "Bad Request"},
    {DT_EPARSE, 400, "Bad Request"},
    {DT_EINVALID, 400, "Bad Request"},
    {DT_ELIMIT, 413, "Payload Too Large"},
    {DT_ENOTFOUND, 404, "Not Found"},
    {DT_ECONFLICT, 409, "Conflict"},
    {DT_EDENIED, 403, "Forbidden"},
    {DT_ESIG, 422, "Unprocessable Content"},
    {DT_EIO, 500, "Internal Server Error"},
    {DT_EDB, 500, "Internal Server Error"},
    {DT_ENET, 502, "Bad Gateway"},
};

int http_status_of(dt_status s, const char **title)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++) {
        if (status_table[i].code == s) {
            if (title)
                *title = status_table[i].title;
            return status_table[i].http;
        }
    }
    if (title)
        *title = "Internal Server Error";
    return 500;
}

