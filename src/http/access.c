/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Roles and camera visibility; see access.h.
 */
#include "http/access.h"

#include <stdlib.h>
#include <string.h>

enum role_bit { R_ADMIN = 1, R_OPERATOR = 2, R_VIEWER = 4, R_AUDITOR = 8 };

static unsigned role_bit(const char *role)
{
    if (!role)
        return 0;
    if (strcmp(role, "admin") == 0)
        return R_ADMIN;
    if (strcmp(role, "operator") == 0)
        return R_OPERATOR;
    if (strcmp(role, "viewer") == 0)
        return R_VIEWER;
    if (strcmp(role, "auditor") == 0)
        return R_AUDITOR;
    return 0;
}

/* CONTRACTS13.md's table, one mask of roles per level. */
static unsigned level_roles(enum reel_http_access a)
{
    switch (a) {
    case REEL_ACCESS_USER:
        return R_ADMIN | R_OPERATOR | R_VIEWER | R_AUDITOR;
    case REEL_ACCESS_LIVE:
    case REEL_ACCESS_PLAYBACK:
        return R_ADMIN | R_OPERATOR | R_VIEWER;
    case REEL_ACCESS_EXPORT:
    case REEL_ACCESS_LOCK:
        return R_ADMIN | R_OPERATOR;
    case REEL_ACCESS_AUDIT:
        return R_ADMIN | R_AUDITOR;
    case REEL_ACCESS_ADMIN:
        return R_ADMIN;
    case REEL_ACCESS_PUBLIC:
    default:
        return 0;
    }
}

bool reel_http_role_allows(const char *role, enum reel_http_access a)
{
    if (a == REEL_ACCESS_PUBLIC)
        return true;
    return (level_roles(a) & role_bit(role)) != 0;
}

const char *reel_http_access_name(enum reel_http_access a)
{
    switch (a) {
    case REEL_ACCESS_PUBLIC: return "public";
    case REEL_ACCESS_USER: return "user";
    case REEL_ACCESS_LIVE: return "live";
    case REEL_ACCESS_PLAYBACK: return "playback";
    case REEL_ACCESS_EXPORT: return "export";
    case REEL_ACCESS_LOCK: return "lock";
    case REEL_ACCESS_AUDIT: return "audit";
    case REEL_ACCESS_ADMIN: return "admin";
    }
    return "?";
}

void reel_http_acl_clear(struct reel_http_acl *a)
{
    free(a->names);
    memset(a, 0, sizeof(*a));
}

bool reel_http_acl_allows(const char *role, const struct reel_http_acl *a, const char *camera)
{
    unsigned b = role_bit(role);
    if (b == R_ADMIN)
        return true;
    if (b != R_OPERATOR && b != R_VIEWER)
        return false;
    if (!a->loaded)
        return false;
    if (a->all)
        return true;
    /* a stream row "front~sub" is visible with its camera "front" */
    size_t len = strcspn(camera, "~");
    for (size_t i = 0; i < a->n; i++)
        if (strlen(a->names[i]) == len && strncmp(a->names[i], camera, len) == 0)
            return true;
    return false;
}

bool reel_http_camera_visible(struct reel_http_req *r, const char *camera)
{
    if (!r->auth || !camera)
        return false;
    unsigned b = role_bit(r->auth->role);
    if (b == R_ADMIN)
        return true;
    if (b != R_OPERATOR && b != R_VIEWER)
        return false;
    struct reel_http_acl *a = reel_http_acl_of(r);
    if (!a)
        return false;
    if (!a->loaded) {
        struct reel_users *u;
        struct reel_err err = { "" };
        int rc = reel_http_users_get(r, &u, &err);
        if (rc == 0) {
            rc = reel_users_cameras(u, r->auth->user_id, &a->all, &a->names, &a->n, &err);
            reel_http_users_put(r, u);
        }
        if (rc < 0) {
            reel_http_log(r, REEL_LOG_ERROR, "reading the camera list of %s: %s (every camera hidden)",
                          r->auth->user, err.msg);
            reel_http_acl_clear(a);
            return false;
        }
        a->loaded = true;
    }
    return reel_http_acl_allows(r->auth->role, a, camera);
}
