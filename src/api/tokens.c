/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * API tokens as a resource, each user's own: POST /api/tokens makes one for
 * the caller, shown once (only its hash is stored), ending after "days"
 * (default and maximum set by `reel run --token-default-days` /
 * `--token-max-days`); GET /api/tokens lists the caller's tokens (never the
 * secret); DELETE /api/tokens/{token} revokes one by name.
 */
#include <errno.h>
#include <stdlib.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "base/timefmt.h"
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
    int64_t days = 0, max_days = r->cfg->token_max_ns / (86400 * REEL_NS_PER_SEC);
    if (reel_http_token_days(r->body, r->body_len, &days) < 0 || days > max_days)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "days: expected a whole number of days from 1 to %lld",
                                    (long long)max_days);
    int64_t now = reel_http_wall_ns(r);
    int64_t expires = now + (days ? days * 86400 * REEL_NS_PER_SEC : r->cfg->token_default_ns);
    struct reel_users *u;
    struct reel_err err = { "" };
    char tok[REEL_SECRET_MAX];
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_token_add(u, name, r->auth->user, now, expires, tok, &err);
        reel_http_users_put(r, u);
    }
    json_t *out = rc == 0 ? json_pack("{s:s, s:s, s:s, s:I}", "name", name, "user", r->auth->user, "token", tok,
                                      "expires", (json_int_t)(expires / REEL_NS_PER_SEC))
                          : NULL;
    if (rc == -EEXIST)
        return reel_http_send_error(r, MHD_HTTP_CONFLICT, "%s", err.msg);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "token");
    reel_api_audit(r, "token.add", NULL, json_pack("{s:s, s:I}", "name", name, "days",
                                                   (json_int_t)((expires - now) / (86400 * REEL_NS_PER_SEC))));
    return reel_http_send_json(r, MHD_HTTP_OK, out, NULL);
}

enum MHD_Result reel_api_tokens_list(struct reel_http_req *r)
{
    struct reel_users *u;
    struct reel_err err = { "" };
    struct reel_token_info *v = NULL;
    size_t n = 0;
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_token_list(u, r->auth->user, &v, &n, &err);
        reel_http_users_put(r, u);
    }
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "tokens");
    /* a token older than the maximum is refused whatever its own expiry:
     * show when it really ends */
    int64_t max_s = r->cfg->token_max_ns / REEL_NS_PER_SEC;
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t ends = v[i].created_unix + max_s;
        if (v[i].expires_unix > 0 && v[i].expires_unix < ends)
            ends = v[i].expires_unix;
        json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:o}", "name", v[i].name, "created",
                                           (json_int_t)v[i].created_unix, "expires", (json_int_t)ends, "last_used",
                                           v[i].last_used_unix ? json_integer(v[i].last_used_unix) : json_null()));
    }
    free(v);
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "tokens", a), NULL);
}

enum MHD_Result reel_api_token_delete(struct reel_http_req *r)
{
    struct reel_users *u;
    struct reel_err err = { "" };
    int rc = reel_http_users_get(r, &u, &err);
    if (rc == 0) {
        rc = reel_token_remove(u, r->auth->user, r->name, &err);
        reel_http_users_put(r, u);
    }
    if (rc == -ENOENT)
        return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "you have no token '%s'", r->name);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "token");
    reel_http_log(r, REEL_LOG_INFO, "user %s revoked token %s", r->auth->user, r->name);
    reel_api_audit(r, "token.delete", NULL, json_pack("{s:s}", "name", r->name));
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}
