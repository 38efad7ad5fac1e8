/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Storage as a resource, for administrators (the page's Storage tab): GET
 * /api/storage lists each storage directory with its file system's size
 * and free space (statvfs), what Reel's recordings in it take, the cameras
 * (streams) recording into it, its state, and how many days the current
 * retention and the cameras' bitrates keep (forecast_days). Runs on the
 * worker pool: statvfs of a directory on a disk that stopped answering may
 * block, and must not hold a libmicrohttpd thread.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "api/api.h"
#include "store/locks.h"

double reel_api_forecast_days(const struct reel_forecast_cam *cams, size_t n, double capacity_bytes)
{
    double total_rate = 0; /* bytes/s of the cameras whose rate is known */
    for (size_t i = 0; i < n; i++)
        if (cams[i].bitrate_bps > 0)
            total_rate += cams[i].bitrate_bps / 8.0;
    if (total_rate <= 0)
        return -1;
    /* the whole directory full: what the disk-full deletion then keeps */
    double disk_days = capacity_bytes > 0 ? capacity_bytes / total_rate / 86400.0 : INFINITY;
    double best = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (cams[i].bitrate_bps <= 0)
            continue;
        double d = disk_days;
        if (cams[i].retain_seconds > 0 && (double)cams[i].retain_seconds / 86400.0 < d)
            d = (double)cams[i].retain_seconds / 86400.0;
        if (cams[i].retain_bytes > 0) {
            double by = (double)cams[i].retain_bytes / (cams[i].bitrate_bps / 8.0) / 86400.0;
            if (by < d)
                d = by;
        }
        if (d < best)
            best = d;
    }
    return isinf(best) ? -1 : best;
}

/* A camera row's bitrate: the recorder's live measure, else its stored
 * recordings' bytes over their duration. */
static double cam_bitrate(struct reel_http_req *r, const struct reel_camera *cam, int64_t bytes, int64_t dur90k)
{
    const struct reel_http_recorder *rec = r->cfg->recorder;
    if (!cam->disabled && rec && rec->camera_status) {
        struct reel_camera_status st;
        memset(&st, 0, sizeof(st));
        if (rec->camera_status(rec->opaque, cam->id, &st) == 0 && st.bitrate_bps > 0)
            return st.bitrate_bps;
    }
    if (dur90k >= 10 * REEL_90K && bytes > 0)
        return (double)bytes * 8.0 * REEL_90K / (double)dur90k;
    return 0;
}

/* Whether the recorder says this stream stopped because its disk is full
 * of locked footage (store/locks.h, REEL_STORE_FULL_LOCKED). */
static bool stream_full_locked(struct reel_http_req *r, const struct reel_camera *cam)
{
    const struct reel_http_recorder *rec = r->cfg->recorder;
    if (cam->disabled || !rec || !rec->camera_status)
        return false;
    struct reel_camera_status st;
    memset(&st, 0, sizeof(st));
    return rec->camera_status(rec->opaque, cam->id, &st) == 0 && strstr(st.last_error, REEL_STORE_FULL_LOCKED);
}

#define CAMS_MAX 4096

enum MHD_Result reel_api_storage(struct reel_http_req *r)
{
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_store_get(r, &s, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "database");
    struct reel_storage_dir *dirs = NULL;
    size_t ndirs = 0;
    struct reel_camera *cams = NULL;
    size_t ncams = 0;
    rc = reel_store_dir_list(s, &dirs, &ndirs, &err);
    if (rc == 0)
        rc = reel_store_camera_list(s, &cams, &ncams, &err);
    if (rc == 0 && ncams > CAMS_MAX)
        ncams = CAMS_MAX;
    struct reel_forecast_cam *fc = rc == 0 ? calloc(ncams ? ncams : 1, sizeof(*fc)) : NULL;
    int64_t *used = rc == 0 ? calloc(ncams ? ncams : 1, sizeof(*used)) : NULL;
    int64_t *locked = rc == 0 ? calloc(ncams ? ncams : 1, sizeof(*locked)) : NULL;
    bool *full_locked = rc == 0 ? calloc(ncams ? ncams : 1, sizeof(*full_locked)) : NULL;
    if (rc == 0 && (!fc || !used || !locked || !full_locked))
        rc = reel_err_set(&err, ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < ncams; i++) {
        int64_t bytes = 0, dur = 0, oldest = 0;
        rc = reel_store_camera_usage(s, cams[i].id, &bytes, &dur, &oldest, &err);
        used[i] = bytes;
        if (rc == 0)
            rc = reel_store_locked_bytes(s, cams[i].id, &locked[i], &err);
        full_locked[i] = stream_full_locked(r, &cams[i]);
        fc[i].bitrate_bps = cam_bitrate(r, &cams[i], bytes, dur);
        if (cams[i].disabled)
            fc[i].bitrate_bps = 0; /* not adding to the directory */
        fc[i].retain_bytes = cams[i].retain_bytes;
        fc[i].retain_seconds = cams[i].retain_seconds;
    }
    reel_http_store_put(r, s);
    json_t *out = rc == 0 ? json_array() : NULL;
    for (size_t d = 0; rc == 0 && d < ndirs; d++) {
        json_t *names = json_array(), *detail = json_array();
        struct reel_forecast_cam *mine = calloc(ncams ? ncams : 1, sizeof(*mine));
        size_t nmine = 0;
        int64_t dir_used = 0, dir_locked = 0;
        bool dir_full_locked = false;
        for (size_t i = 0; mine && i < ncams; i++) {
            int64_t dir = cams[i].dir_id ? cams[i].dir_id : dirs[0].id;
            if (dir != dirs[d].id)
                continue;
            dir_used += used[i];
            dir_locked += locked[i];
            dir_full_locked = dir_full_locked || full_locked[i];
            mine[nmine++] = fc[i];
            if (cams[i].parent_id == 0)
                json_array_append_new(names, json_string(cams[i].name));
            json_array_append_new(detail,
                                  json_pack("{s:s, s:b, s:I, s:f, s:I, s:I}", "name", cams[i].name, "enabled",
                                            !cams[i].disabled, "used_bytes", (json_int_t)used[i], "bitrate_bps",
                                            fc[i].bitrate_bps, "retain_bytes", (json_int_t)cams[i].retain_bytes,
                                            "retain_days", (json_int_t)(cams[i].retain_seconds / 86400)));
            json_object_set_new(json_array_get(detail, json_array_size(detail) - 1), "locked_bytes",
                                json_integer(locked[i]));
        }
        struct statvfs sv;
        bool fs_ok = statvfs(dirs[d].path, &sv) == 0;
        char why[300] = "";
        if (!fs_ok)
            snprintf(why, sizeof(why), "cannot read the file system: %s", strerror(errno));
        else if (!dirs[d].usable)
            snprintf(why, sizeof(why), "%s", dirs[d].error[0] ? dirs[d].error : "not usable");
        char full[200] = "";
        if (!why[0] && dir_full_locked)
            snprintf(full, sizeof(full), "disk full and %s (%lld bytes): it is not deleted; cameras here are not "
                     "recording", REEL_STORE_FULL_LOCKED, (long long)dir_locked);
        double size = fs_ok ? (double)sv.f_blocks * (double)sv.f_frsize : 0;
        double avail = fs_ok ? (double)sv.f_bavail * (double)sv.f_frsize : 0;
        double days = mine ? reel_api_forecast_days(mine, nmine, avail + (double)dir_used) : -1;
        free(mine);
        json_t *o = json_pack("{s:I, s:s, s:I, s:I, s:I, s:o, s:o, s:n, s:s, s:s, s:o}", "id", (json_int_t)dirs[d].id,
                              "path", dirs[d].path, "size_bytes", (json_int_t)size, "free_bytes", (json_int_t)avail,
                              "used_bytes", (json_int_t)dir_used, "cameras", names, "streams", detail,
                              "write_errors", "write_errors_note",
                              "not tracked by the server: a failing directory shows as state unusable",
                              "state", why[0] ? "unusable" : full[0] ? "full_locked" : "ok", "forecast_days",
                              days >= 0 ? json_real(round(days * 10) / 10) : json_null());
        json_object_set_new(o, "locked_bytes", json_integer(dir_locked));
        if (why[0] || full[0])
            json_object_set_new(o, "reason", json_string(why[0] ? why : full));
        json_array_append_new(out, o);
    }
    free(fc);
    free(used);
    free(locked);
    free(full_locked);
    free(cams);
    free(dirs);
    if (rc < 0) {
        json_decref(out);
        return reel_api_read_error(r, rc, &err, "storage");
    }
    return reel_http_send_json(r, MHD_HTTP_OK, out, NULL);
}
