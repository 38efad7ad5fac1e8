/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera's stream rows (CONTRACTS section 5): the sub-stream
 * "<camera>~sub" and the audio "<camera>~audio" are camera rows of their
 * own, linked to their camera by parent_id and kind. This file finds such a
 * row, or creates it from its camera's row (same user, password, transport,
 * storage directory, retention and enabled flag; the caller then changes
 * what differs, such as the URL). It uses only the store's public camera
 * functions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int reel_store_camera_stream(struct reel_store *s, int64_t parent_id, enum reel_stream_kind kind, bool create,
                             struct reel_camera *ret, struct reel_err *err)
{
    const char *kname = reel_stream_kind_name(kind);
    if (!kname || kind == REEL_STREAM_MAIN)
        return reel_err_set(err, EINVAL, "camera %" PRId64 ": not a stream kind", parent_id);
    if (parent_id <= 0)
        return reel_err_set(err, EINVAL, "camera id %" PRId64 ": no such camera", parent_id);
    struct reel_camera *cams = NULL;
    size_t n = 0;
    int r = reel_store_camera_list(s, &cams, &n, err);
    if (r < 0)
        return r;
    const struct reel_camera *parent = NULL, *child = NULL;
    for (size_t i = 0; i < n; i++) {
        if (cams[i].id == parent_id)
            parent = &cams[i];
        else if (cams[i].parent_id == parent_id && cams[i].kind == kind)
            child = &cams[i];
    }
    if (child) {
        *ret = *child;
        free(cams);
        return 0;
    }
    if (!parent) {
        free(cams);
        return reel_err_set(err, ENOENT, "camera id %" PRId64 " not found", parent_id);
    }
    if (parent->parent_id != 0) {
        r = reel_err_set(err, EINVAL, "%s is a stream, not a camera: it has no streams of its own", parent->name);
        free(cams);
        return r;
    }
    if (!create) {
        r = reel_err_set(err, ENOENT, "camera %s has no %s stream", parent->name, kname);
        free(cams);
        return r;
    }
    struct reel_camera row = *parent;
    free(cams);
    row.id = 0;
    row.parent_id = parent_id;
    row.kind = kind;
    row.audio = false;
    char pname[REEL_NAME_MAX];
    memcpy(pname, row.name, sizeof(pname));
    if ((size_t)snprintf(row.name, sizeof(row.name), "%s~%s", pname, kname) >= sizeof(row.name))
        return reel_err_set(err, EINVAL, "camera %s: stream name too long", pname);
    char pass[256];
    int pr = reel_store_camera_password(s, parent_id, pass, sizeof(pass));
    if (pr < 0 && pr != -ENOENT)
        return reel_err_set(err, -pr, "camera %s: cannot read its password: %s", pname, strerror(-pr));
    r = reel_store_camera_add(s, &row, pr == 0 ? pass : NULL, err);
    explicit_bzero(pass, sizeof(pass));
    if (r < 0)
        return r;
    *ret = row;
    return 0;
}
