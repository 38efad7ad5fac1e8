/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera's stream rows ("<camera>~sub", "<camera>~audio"; CONTRACTS
 * section 5): finding one, or creating it from its camera's row. Built on
 * the store's public camera functions only, so it stays apart from the
 * store's internals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int reel_store_camera_stream(struct reel_store *s, int64_t parent_id, enum reel_stream_kind kind,
                             bool create, struct reel_camera *ret, struct reel_err *err)
{
    const char *kname = reel_stream_kind_name(kind);
    if (!kname || kind == REEL_STREAM_MAIN || parent_id <= 0)
        return reel_err_set(err, EINVAL, "camera %lld: no such stream kind", (long long)parent_id);
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
        return reel_err_set(err, ENOENT, "camera %lld not found", (long long)parent_id);
    }
    if (!create || parent->parent_id != 0) {
        r = reel_err_set(err, ENOENT, "camera %s has no %s stream", parent->name, kname);
        free(cams);
        return r;
    }
    struct reel_camera row = *parent;
    free(cams);
    parent = NULL;
    char pname[REEL_NAME_MAX];
    memcpy(pname, row.name, sizeof(pname));
    row.id = 0;
    row.parent_id = parent_id;
    row.kind = kind;
    row.audio = false;
    if (snprintf(row.name, sizeof(row.name), "%s~%s", pname, kname) >= (int)sizeof(row.name))
        return reel_err_set(err, EINVAL, "camera %s: stream name too long", pname);
    char pass[256];
    bool has_pass = reel_store_camera_password(s, parent_id, pass, sizeof(pass)) == 0;
    r = reel_store_camera_add(s, &row, has_pass ? pass : NULL, err);
    explicit_bzero(pass, sizeof(pass));
    if (r < 0)
        return r;
    *ret = row;
    return 0;
}
