/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Who may do what: the one place that maps a user's role to the routes'
 * access levels (route.h, enum reel_http_access) and decides which cameras
 * a user may see. The dispatcher (server.c) calls reel_http_role_allows()
 * for every route; handlers that list or take several cameras call
 * reel_http_camera_visible() for each. Pure functions of their arguments
 * and the request; nothing here owns memory.
 *
 * Issue 14 fills in the roles (operator, viewer, auditor) and per-user
 * camera lists; until then every signed-in role may call every non-admin
 * route and see every camera.
 */
#ifndef REEL_HTTP_ACCESS_H
#define REEL_HTTP_ACCESS_H

#include <stdbool.h>

#include "http/route.h"

/* Whether a user with this role may call a route of access level a. */
bool reel_http_role_allows(const char *role, enum reel_http_access a);

/* Whether the caller of r may see camera (by name): a camera the caller may
 * not see must look like one that does not exist (404, left out of lists). */
bool reel_http_camera_visible(struct reel_http_req *r, const char *camera);

#endif
