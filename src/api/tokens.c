/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * API tokens: POST /api/tokens makes one for the caller, shown once (only
 * its hash is stored).
 */
#include <errno.h>

#include "api/api.h"
#include "http/body.h"

enum MHD_Result reel_api_token_add(struct reel_http_req *r)
{
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    char name[REEL_HTTP_TOKEN_NAME_MAX];
    int pr = reel_http_token_parse(r->body, r->body_len, name);
    if (pr == -EINVAL)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "token name: expected 1-63 of A-Z a-z 0-9 _ -");
    if (pr < 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object with \"name\"");
    struct reel_users *u;
    struct reel_err err = { "" };
    char tok[REEL_SECRET_MAX];
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_token_add(u, name, r->auth->user, reel_http_wall_ns(r), tok, &err);
        reel_http_users_put(r, u);
    }
    json_t *out = rc == 0 ? json_pack("{s:s, s:s, s:s}", "name", name, "user", r->auth->user, "token", tok) : NULL;
    if (rc == -EEXIST)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "%s", err.msg);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "token");
    return reel_http_send_json(r, MHD_HTTP_OK, out, NULL);
}
