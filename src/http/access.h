/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Who may do what: the one place that maps a user's role to the routes'
 * access levels (route.h, enum reel_http_access) and decides which cameras
 * a user may see. The dispatcher (server.c) calls reel_http_role_allows()
 * for every route and reel_http_camera_visible() for every {camera} route
 * of level LIVE, PLAYBACK, EXPORT or LOCK; handlers that list or take
 * several cameras call reel_http_camera_visible() for each.
 *
 * | level    | admin | operator | viewer | auditor |
 * | USER     |   y   |    y     |   y    |    y    |
 * | LIVE     |   y   |    y     |   y    |    -    |
 * | PLAYBACK |   y   |    y     |   y    |    -    |
 * | EXPORT   |   y   |    y     |   -    |    -    |
 * | LOCK     |   y   |    y     |   -    |    -    |
 * | AUDIT    |   y   |    -     |   -    |    y    |
 * | ADMIN    |   y   |    -     |   -    |    -    |
 *
 * Cameras: an admin sees every camera, an auditor none, an operator or a
 * viewer those of their list (users.h: web_user_camera, or all with
 * cameras_all). A camera stream row ("front~sub") is visible with its
 * camera. Unknown roles get nothing (fail closed).
 */
#ifndef REEL_HTTP_ACCESS_H
#define REEL_HTTP_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "http/route.h"
#include "http/users.h"

/* Whether a user with this role may call a route of access level a. */
bool reel_http_role_allows(const char *role, enum reel_http_access a);

/* The right a level stands for, for messages: "live", "playback", "export",
 * "lock", "audit", "admin", "user", "public". */
const char *reel_http_access_name(enum reel_http_access a);

/* Whether the caller of r may see camera (by name): a camera the caller may
 * not see must look like one that does not exist (404, left out of lists).
 * The caller's list is read once per request (at the first call) and kept
 * in the request; a failure to read it hides every camera (logged). */
bool reel_http_camera_visible(struct reel_http_req *r, const char *camera);

/* ---- the per-request cache (the server keeps one in each request) ---- */
struct reel_http_acl {
    bool loaded;                  /* the fields below are valid */
    bool all;                     /* every camera */
    char (*names)[REEL_CAMERA_NAME_MAX];  /* malloc'd */
    size_t n;
};
/* The request's cache (server.c); never NULL for a request the server made. */
struct reel_http_acl *reel_http_acl_of(struct reel_http_req *r);
/* Frees what a holds (not a itself) and empties it. */
void reel_http_acl_clear(struct reel_http_acl *a);
/* Pure: whether camera is visible to role with list a (loaded). */
bool reel_http_acl_allows(const char *role, const struct reel_http_acl *a, const char *camera);

#endif
