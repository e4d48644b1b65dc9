/* web: the dashboard under /ui/ (DESIGN.md "HTTP surface"): one HTML page,
 * its style sheet and its script, compiled into the binary (no files to
 * install, nothing fetched from elsewhere: nodes are often offline).
 *
 * The page holds no data. Its script reads the node's own JSON APIs (TAXII
 * and /detente/v1/) with the user's credentials, so every value shown has
 * passed through node_query like any other read: there is no dashboard
 * data path to keep in step with the markings. This module only says which
 * bytes answer which path and with which headers; http/ serves them. */
#ifndef DETENTE_WEB_H
#define DETENTE_WEB_H

#include <stdbool.h>
#include <stddef.h>

#define WEB_PREFIX "/ui/"

typedef struct web_asset {
    const char *path;          /* request path, e.g. "/ui/app.js" */
    const char *content_type;  /* with charset */
    const unsigned char *data;
    size_t len;
} web_asset;

/* The asset a request path names, or NULL. Paths match exactly ("/ui/",
 * "/ui/index.html", "/ui/app.js", "/ui/style.css"): no decoding, no
 * normalising, so "/ui/../x" or "/ui/%61pp.js" are simply unknown. */
const web_asset *web_asset_find(const char *path);

/* True if path is "/ui" or under "/ui/", i.e. the dashboard's to answer. */
bool web_path_is_ui(const char *path);

/* Headers every asset is served with: name/value pairs, ending with NULL
 * (a Content-Security-Policy that allows this origin's own files only, no
 * framing, no MIME sniffing, no Referer). */
extern const char *const web_headers[];

#endif
