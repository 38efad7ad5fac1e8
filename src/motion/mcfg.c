/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera's motion configuration: JSON, checks, the camera_events row
 * (mcfg.h).
 */
#include "motion/mcfg.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

void reel_motion_cfg_default(struct reel_motion_cfg *c)
{
    memset(c, 0, sizeof(*c));
    c->mode = REEL_MOTION_OFF;
    c->fps = 5;
    c->sensitivity = 50;
    c->min_area = 0.5;
    c->pre_roll_s = 5;
    c->post_roll_s = 5;
}

const char *reel_motion_mode_name(enum reel_motion_mode m)
{
    return m == REEL_MOTION_DECODE ? "decode" : m == REEL_MOTION_ONVIF ? "onvif" : "off";
}

static int get_int(json_t *j, const char *key, int lo, int hi, int *out, struct reel_err *err)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return reel_err_set(err, EINVAL, "%s: expected a whole number from %d to %d", key, lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int num(json_t *v, double lo, double hi, double *out)
{
    if (!json_is_number(v))
        return -EINVAL;
    double d = json_number_value(v);
    if (!isfinite(d) || d < lo || d > hi)
        return -EINVAL;
    *out = d;
    return 0;
}

static int get_str(json_t *j, const char *key, char *out, size_t cap, struct reel_err *err)
{
    json_t *v = json_object_get(j, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= cap || strlen(json_string_value(v)) != json_string_length(v))
        return reel_err_set(err, EINVAL, "%s: expected a string of at most %zu bytes", key, cap - 1);
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

static bool name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_' || *s == '.' || *s == ' '))
            return false;
    return true;
}

static int zone_from_json(struct reel_motion_zone *z, json_t *o, int i, const struct reel_motion_cfg *c,
                          struct reel_err *err)
{
    if (!json_is_object(o))
        return reel_err_set(err, EINVAL, "zones[%d]: expected an object", i);
    memset(z, 0, sizeof(*z));
    z->sensitivity = c->sensitivity;
    z->min_area = c->min_area;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "name") && strcmp(key, "kind") && strcmp(key, "points") && strcmp(key, "sensitivity") &&
            strcmp(key, "min_area"))
            return reel_err_set(err, EINVAL, "zones[%d]: unknown field (expected name, kind, points, sensitivity, "
                                "min_area)", i);
    }
    json_t *name = json_object_get(o, "name");
    if (!json_is_string(name) || json_string_length(name) >= sizeof(z->name) ||
        strlen(json_string_value(name)) != json_string_length(name) || !name_ok(json_string_value(name)))
        return reel_err_set(err, EINVAL, "zones[%d].name: expected at most %zu letters, digits, space, '-', '_' "
                            "or '.'", i, sizeof(z->name) - 1);
    snprintf(z->name, sizeof(z->name), "%s", json_string_value(name));
    json_t *kind = json_object_get(o, "kind");
    if (kind && !(json_is_string(kind) && (strcmp(json_string_value(kind), "zone") == 0 ||
                                           strcmp(json_string_value(kind), "mask") == 0)))
        return reel_err_set(err, EINVAL, "zones[%d].kind: expected \"zone\" or \"mask\"", i);
    z->mask = kind && strcmp(json_string_value(kind), "mask") == 0;
    if (!z->mask && !z->name[0])
        return reel_err_set(err, EINVAL, "zones[%d].name: a zone needs a name", i);
    json_t *pts = json_object_get(o, "points");
    size_t n = json_array_size(pts);
    if (!json_is_array(pts) || n < REEL_MOTION_POINTS_MIN || n > REEL_MOTION_POINTS_MAX)
        return reel_err_set(err, EINVAL, "zones[%d].points: expected %d to %d points [x, y]", i,
                            REEL_MOTION_POINTS_MIN, REEL_MOTION_POINTS_MAX);
    for (size_t k = 0; k < n; k++) {
        json_t *p = json_array_get(pts, k);
        double x, y;
        if (!json_is_array(p) || json_array_size(p) != 2 || num(json_array_get(p, 0), 0, 1, &x) < 0 ||
            num(json_array_get(p, 1), 0, 1, &y) < 0)
            return reel_err_set(err, EINVAL, "zones[%d].points[%zu]: expected [x, y], fractions from 0 to 1", i, k);
        z->x[k] = (float)x;
        z->y[k] = (float)y;
    }
    z->npoints = (int)n;
    int r = get_int(o, "sensitivity", 1, 100, &z->sensitivity, err);
    if (r < 0)
        return reel_err_set(err, EINVAL, "zones[%d].%s", i, err->msg);
    json_t *ma = json_object_get(o, "min_area");
    if (ma && num(ma, 0, 100, &z->min_area) < 0)
        return reel_err_set(err, EINVAL, "zones[%d].min_area: expected a percent from 0 to 100", i);
    return 0;
}

static int zones_from_json(struct reel_motion_cfg *c, json_t *a, struct reel_err *err)
{
    if (!json_is_array(a) || json_array_size(a) > REEL_MOTION_ZONES_MAX)
        return reel_err_set(err, EINVAL, "zones: expected a list of at most %d zones and masks",
                            REEL_MOTION_ZONES_MAX);
    int n = (int)json_array_size(a);
    for (int i = 0; i < n; i++) {
        int r = zone_from_json(&c->zones[i], json_array_get(a, (size_t)i), i, c, err);
        if (r < 0)
            return r;
        for (int k = 0; k < i; k++)
            if (c->zones[i].name[0] && strcmp(c->zones[k].name, c->zones[i].name) == 0)
                return reel_err_set(err, EINVAL, "zones[%d].name: '%s' is used twice", i, c->zones[i].name);
    }
    c->nzones = n;
    return 0;
}

int reel_motion_cfg_from_json(struct reel_motion_cfg *c, json_t *j, struct reel_err *err)
{
    if (!json_is_object(j))
        return reel_err_set(err, EINVAL, "expected a JSON object");
    static const char *const known[] = { "motion", "fps", "sensitivity", "min_area", "pre_roll_s", "post_roll_s",
                                         "event_retain_days", "zones", "onvif", "source", NULL };
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        int k = 0;
        while (known[k] && strcmp(known[k], key) != 0)
            k++;
        if (!known[k])
            return reel_err_set(err, EINVAL, "unknown field (expected motion, fps, sensitivity, min_area, "
                                "pre_roll_s, post_roll_s, event_retain_days, zones, onvif)");
    }
    v = json_object_get(j, "motion");
    if (v) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "off") == 0)
            c->mode = REEL_MOTION_OFF;
        else if (s && strcmp(s, "decode") == 0)
            c->mode = REEL_MOTION_DECODE;
        else if (s && strcmp(s, "onvif") == 0)
            c->mode = REEL_MOTION_ONVIF;
        else
            return reel_err_set(err, EINVAL, "motion: expected \"off\", \"decode\" or \"onvif\"");
    }
    int r;
    if ((r = get_int(j, "fps", 1, REEL_MOTION_FPS_MAX, &c->fps, err)) < 0 ||
        (r = get_int(j, "sensitivity", 1, 100, &c->sensitivity, err)) < 0 ||
        (r = get_int(j, "pre_roll_s", 0, REEL_MOTION_ROLL_MAX, &c->pre_roll_s, err)) < 0 ||
        (r = get_int(j, "post_roll_s", 0, REEL_MOTION_ROLL_MAX, &c->post_roll_s, err)) < 0)
        return r;
    v = json_object_get(j, "min_area");
    if (v && num(v, 0, 100, &c->min_area) < 0)
        return reel_err_set(err, EINVAL, "min_area: expected a percent from 0 to 100");
    int days = -1;
    if ((r = get_int(j, "event_retain_days", 0, REEL_MOTION_RETAIN_DAYS_MAX, &days, err)) < 0)
        return r;
    if (days >= 0)
        c->event_retain_seconds = (int64_t)days * 86400;
    v = json_object_get(j, "zones");
    if (v && (r = zones_from_json(c, v, err)) < 0)
        return r;
    v = json_object_get(j, "onvif");
    if (v) {
        if (!json_is_object(v))
            return reel_err_set(err, EINVAL, "onvif: expected an object {xaddr, user, password}");
        json_t *ov;
        json_object_foreach(v, key, ov) {
            if (strcmp(key, "xaddr") && strcmp(key, "user") && strcmp(key, "password") && strcmp(key, "password_set"))
                return reel_err_set(err, EINVAL, "onvif: unknown field (expected xaddr, user, password)");
        }
        if ((r = get_str(v, "xaddr", c->onvif_xaddr, sizeof(c->onvif_xaddr), err)) < 0 ||
            (r = get_str(v, "user", c->onvif_user, sizeof(c->onvif_user), err)) < 0 ||
            (r = get_str(v, "password", c->onvif_password, sizeof(c->onvif_password), err)) < 0)
            return reel_err_set(err, EINVAL, "onvif.%s", err->msg);
        if (c->onvif_xaddr[0] && strncmp(c->onvif_xaddr, "http://", 7) != 0 &&
            strncmp(c->onvif_xaddr, "https://", 8) != 0)
            return reel_err_set(err, EINVAL, "onvif.xaddr: expected an http:// or https:// URL");
    }
    if (c->mode == REEL_MOTION_ONVIF && !c->onvif_xaddr[0])
        return reel_err_set(err, EINVAL, "motion \"onvif\" needs onvif.xaddr");
    return 0;
}

json_t *reel_motion_zones_json(const struct reel_motion_cfg *c)
{
    json_t *a = json_array();
    for (int i = 0; i < c->nzones; i++) {
        const struct reel_motion_zone *z = &c->zones[i];
        json_t *pts = json_array();
        for (int k = 0; k < z->npoints; k++)
            json_array_append_new(pts, json_pack("[f, f]", round(z->x[k] * 10000) / 10000.0,
                                                 round(z->y[k] * 10000) / 10000.0));
        json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:i, s:f}", "name", z->name, "kind",
                                           z->mask ? "mask" : "zone", "points", pts, "sensitivity",
                                           z->sensitivity, "min_area", z->min_area));
    }
    return a;
}

int reel_motion_zones_parse(struct reel_motion_cfg *c, const char *text, struct reel_err *err)
{
    json_error_t je;
    json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!a) {
        c->nzones = 0;
        return reel_err_set(err, EINVAL, "zones: not JSON: %s", je.text);
    }
    int r = zones_from_json(c, a, err);
    json_decref(a);
    if (r < 0)
        c->nzones = 0;
    return r;
}

json_t *reel_motion_cfg_json(const struct reel_motion_cfg *c, bool has_sub)
{
    return json_pack("{s:s, s:i, s:i, s:f, s:i, s:i, s:I, s:o, s:{s:s, s:s, s:b}, s:s}", "motion",
                     reel_motion_mode_name(c->mode), "fps", c->fps, "sensitivity", c->sensitivity, "min_area",
                     c->min_area, "pre_roll_s", c->pre_roll_s, "post_roll_s", c->post_roll_s, "event_retain_days",
                     (json_int_t)(c->event_retain_seconds / 86400), "zones", reel_motion_zones_json(c), "onvif",
                     "xaddr", c->onvif_xaddr, "user", c->onvif_user, "password_set", c->onvif_password[0] != '\0',
                     "source", has_sub ? "sub" : "main");
}

int reel_motion_cfg_load(sqlite3 *db, int64_t camera_id, struct reel_motion_cfg *c, struct reel_err *err)
{
    reel_motion_cfg_default(c);
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "SELECT motion, fps, sensitivity, min_area, pre_roll_s, post_roll_s, zones, "
                                "event_retain_seconds, onvif_xaddr, onvif_user, onvif_password FROM camera_events "
                                "WHERE camera_id = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        c->mode = m && strcmp(m, "decode") == 0 ? REEL_MOTION_DECODE
                  : m && strcmp(m, "onvif") == 0 ? REEL_MOTION_ONVIF : REEL_MOTION_OFF;
        int v = sqlite3_column_int(st, 1);
        c->fps = v < 1 ? 1 : v > REEL_MOTION_FPS_MAX ? REEL_MOTION_FPS_MAX : v;
        v = sqlite3_column_int(st, 2);
        c->sensitivity = v < 1 ? 1 : v > 100 ? 100 : v;
        double d = sqlite3_column_double(st, 3);
        c->min_area = !(d >= 0) ? 0 : d > 100 ? 100 : d;
        v = sqlite3_column_int(st, 4);
        c->pre_roll_s = v < 0 ? 0 : v > REEL_MOTION_ROLL_MAX ? REEL_MOTION_ROLL_MAX : v;
        v = sqlite3_column_int(st, 5);
        c->post_roll_s = v < 0 ? 0 : v > REEL_MOTION_ROLL_MAX ? REEL_MOTION_ROLL_MAX : v;
        c->event_retain_seconds = sqlite3_column_int64(st, 7);
        snprintf(c->onvif_xaddr, sizeof(c->onvif_xaddr), "%s", (const char *)sqlite3_column_text(st, 8));
        snprintf(c->onvif_user, sizeof(c->onvif_user), "%s", (const char *)sqlite3_column_text(st, 9));
        snprintf(c->onvif_password, sizeof(c->onvif_password), "%s", (const char *)sqlite3_column_text(st, 10));
        const char *z = (const char *)sqlite3_column_text(st, 6);
        struct reel_err zerr = { "" };
        if (z && reel_motion_zones_parse(c, z, &zerr) < 0)
            c->nzones = 0;   /* a bad stored list: no zones (the route never writes one) */
        r = 0;
    } else if (s == SQLITE_DONE) {
        r = 0;
    } else {
        r = reel_db_err(db, s, err, "reading camera_events");
    }
    sqlite3_finalize(st);
    return r;
}

int reel_motion_cfg_save(sqlite3 *db, int64_t camera_id, const struct reel_motion_cfg *c, struct reel_err *err)
{
    json_t *z = reel_motion_zones_json(c);
    char *zt = z ? json_dumps(z, JSON_COMPACT) : NULL;
    json_decref(z);
    if (!zt)
        return reel_err_set(err, ENOMEM, "out of memory");
    sqlite3_stmt *st;
    int r = reel_db_prepare(db, "INSERT OR REPLACE INTO camera_events (camera_id, motion, fps, sensitivity, "
                                "min_area, pre_roll_s, post_roll_s, zones, event_retain_seconds, onvif_xaddr, "
                                "onvif_user, onvif_password) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err);
    if (r == 0) {
        sqlite3_bind_int64(st, 1, camera_id);
        sqlite3_bind_text(st, 2, reel_motion_mode_name(c->mode), -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, c->fps);
        sqlite3_bind_int(st, 4, c->sensitivity);
        sqlite3_bind_double(st, 5, c->min_area);
        sqlite3_bind_int(st, 6, c->pre_roll_s);
        sqlite3_bind_int(st, 7, c->post_roll_s);
        sqlite3_bind_text(st, 8, zt, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 9, c->event_retain_seconds);
        sqlite3_bind_text(st, 10, c->onvif_xaddr, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 11, c->onvif_user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 12, c->onvif_password, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        r = s == SQLITE_DONE ? 0 : reel_db_err(db, s, err, "writing camera_events");
        sqlite3_finalize(st);
    }
    free(zt);
    return r;
}
