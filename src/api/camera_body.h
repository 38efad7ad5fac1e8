/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The JSON body of the camera configuration routes (POST /api/cameras,
 * PATCH /api/cameras/{camera}), decoded and validated apart from any socket
 * so that it can be unit tested and fuzzed. Every field is optional here
 * (the caller says which POST requires); a field present is checked for
 * type, length and form; a field we do not know, a duplicate key, a null
 * value (but "sub_url": null, which removes the sub-stream) or a body over
 * REEL_HTTP_BODY_MAX is refused. Nothing is kept; the
 * caller owns *ret and must wipe it (it may hold the password).
 */
#ifndef REEL_API_CAMERA_BODY_H
#define REEL_API_CAMERA_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Bits of reel_api_camera_in.has. */
enum {
    REEL_API_CAM_NAME = 1u << 0,
    REEL_API_CAM_URL = 1u << 1,
    REEL_API_CAM_USER = 1u << 2,
    REEL_API_CAM_PASSWORD = 1u << 3,
    REEL_API_CAM_UDP = 1u << 4,
    REEL_API_CAM_RETAIN_BYTES = 1u << 5,
    REEL_API_CAM_RETAIN_SECONDS = 1u << 6,
    REEL_API_CAM_STORAGE = 1u << 7,
    REEL_API_CAM_ENABLED = 1u << 8,
    /* the camera's sub-stream (its "<camera>~sub" row) */
    REEL_API_CAM_SUB_URL = 1u << 9,             /* a URL, or null: remove the sub-stream */
    REEL_API_CAM_SUB_RETAIN_BYTES = 1u << 10,
    REEL_API_CAM_SUB_RETAIN_SECONDS = 1u << 11,
    /* hostile-camera exceptions (docs/security.md) */
    REEL_API_CAM_ALLOW_REDIRECT = 1u << 12,
    REEL_API_CAM_ALLOW_BASIC = 1u << 13,
};

#define REEL_API_CAM_USER_MAX 127       /* bytes (struct reel_camera.user) */
#define REEL_API_CAM_PASSWORD_MAX 255   /* bytes (what the recorder reads back) */

struct reel_api_camera_in {
    unsigned has;                               /* which fields the body holds */
    char name[REEL_NAME_MAX];                   /* [A-Za-z0-9_-]{1,63} */
    char url[REEL_URL_MAX];                     /* rtsp:// or rtsps://, a host, no userinfo, printable ASCII */
    char user[REEL_API_CAM_USER_MAX + 1];       /* no control character, no ':' */
    char password[REEL_API_CAM_PASSWORD_MAX + 1];
    bool udp, enabled;
    bool allow_redirect, allow_basic;
    int64_t retain_bytes, retain_seconds;       /* >= 0; 0 = no limit */
    int64_t storage;                            /* storage dir id, >= 0; 0 = the first one */
    char sub_url[REEL_URL_MAX];                 /* as url; "" with sub_none */
    bool sub_none;                              /* "sub_url": null (the one null accepted) */
    int64_t sub_retain_bytes, sub_retain_seconds;
};

/* 0 with *ret filled (zeroed first); -E2BIG for a body over
 * REEL_HTTP_BODY_MAX; -EINVAL with a one-line reason in why (never holding
 * the password) for anything else wrong. */
int reel_api_camera_parse(const uint8_t *body, size_t len, struct reel_api_camera_in *ret, char *why,
                          size_t why_cap);

/* Checks a camera URL on its own (the rules above); 0 or -EINVAL with why. */
int reel_api_camera_url_check(const char *url, char *why, size_t why_cap);

#endif
