/* The dashboard's assets. src/web/assets/ holds them as ordinary files;
 * src/web/assets.cmake turns each into a byte array in a generated header
 * (web_assets.inc, in the build tree) when CMake configures, and again
 * whenever an asset changes. The table below maps request paths to them.
 *
 * The headers: the page loads only its own script and style sheet, talks
 * only to its own origin, and may not be framed (the CSP's default-src
 * 'self' with frame-ancestors 'none', and X-Frame-Options for older
 * browsers); no Referer leaves it, so a URL never leaks through a link. */
#include "web/web.h"

#include <string.h>

#include "web_assets.inc"

#define ASSET(p, type, arr) {p, type, arr, sizeof arr - 1} /* arrays end with a NUL */

static const web_asset assets[] = {
    ASSET("/ui/", "text/html; charset=utf-8", web_asset_index_html),
    ASSET("/ui/index.html", "text/html; charset=utf-8", web_asset_index_html),
    ASSET("/ui/app.js", "text/javascript; charset=utf-8", web_asset_app_js),
    ASSET("/ui/style.css", "text/css; charset=utf-8", web_asset_style_css),
};

const char *const web_headers[] = {
    "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'none'",
    "X-Content-Type-Options", "nosniff",
    "X-Frame-Options", "DENY",
    "Referrer-Policy", "no-referrer",
    "Cache-Control", "no-cache",
    NULL,
};

const web_asset *web_asset_find(const char *path)
{
    if (path == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
        if (strcmp(path, assets[i].path) == 0)
            return &assets[i];
    return NULL;
}

bool web_path_is_ui(const char *path)
{
    return path != NULL && strncmp(path, "/ui", 3) == 0 && (path[3] == '\0' || path[3] == '/');
}
