/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The web UI's files (src/web), embedded into the binary at build time by
 * src/http/embed.py (see src/http/meson.build). `reel run` hands each one to
 * reel_http_static_add(). Read-only data, never freed.
 */
#ifndef REEL_HTTP_ASSETS_H
#define REEL_HTTP_ASSETS_H

#include <stddef.h>
#include <stdint.h>

struct reel_http_asset {
    const char *path;              /* "/index.html" */
    const char *content_type;
    const uint8_t *data;
    size_t len;
};

/* reel_web_nassets entries, then a terminating all-NULL entry. */
extern const struct reel_http_asset reel_web_assets[];
extern const size_t reel_web_nassets;

#endif
