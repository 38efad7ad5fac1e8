/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera's motion configuration (issue 15): the row of table
 * camera_events as a struct, its JSON form of the API (CONTRACTS15.md
 * "Motion config"), the checks (caps on every field, on zones and their
 * points) and reading/writing the row. Used by the config route
 * (src/api/motion_cfg.c) and the detector (detector.c). No global state.
 *
 * Ownership: plain structs, the caller's; nothing allocated but where
 * said.
 */
#ifndef REEL_MOTION_MCFG_H
#define REEL_MOTION_MCFG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "base/log.h"

#define REEL_MOTION_ZONES_MAX 16
#define REEL_MOTION_POINTS_MIN 3
#define REEL_MOTION_POINTS_MAX 32
#define REEL_MOTION_ZONE_NAME_MAX 32     /* bytes of a zone's name, with the NUL */
#define REEL_MOTION_FPS_MAX 15
#define REEL_MOTION_ROLL_MAX 60
#define REEL_MOTION_RETAIN_DAYS_MAX 3650
#define REEL_MOTION_XADDR_MAX 512
#define REEL_MOTION_USER_MAX 128
#define REEL_MOTION_PASSWORD_MAX 256

enum reel_motion_mode { REEL_MOTION_OFF = 0, REEL_MOTION_DECODE = 1, REEL_MOTION_ONVIF = 2 };

struct reel_motion_zone {
    char name[REEL_MOTION_ZONE_NAME_MAX];
    bool mask;                       /* kind "mask": never analysed */
    int npoints;
    float x[REEL_MOTION_POINTS_MAX], y[REEL_MOTION_POINTS_MAX];   /* fractions 0..1 */
    int sensitivity;                 /* 1..100 */
    double min_area;                 /* percent of the zone, 0..100 */
};

struct reel_motion_cfg {
    enum reel_motion_mode mode;
    int fps;                         /* 1..15 analysed frames per second */
    int sensitivity;                 /* 1..100 */
    double min_area;                 /* percent, 0..100 */
    int pre_roll_s, post_roll_s;     /* 0..60 */
    int64_t event_retain_seconds;
    int nzones;
    struct reel_motion_zone zones[REEL_MOTION_ZONES_MAX];
    char onvif_xaddr[REEL_MOTION_XADDR_MAX];
    char onvif_user[REEL_MOTION_USER_MAX];
    char onvif_password[REEL_MOTION_PASSWORD_MAX];
};

/* The defaults of the table (motion off, 5 fps, sensitivity 50, ...). */
void reel_motion_cfg_default(struct reel_motion_cfg *c);

/* Applies the fields present in JSON object j (a PUT body) to *c; a zone
 * list replaces the old one. Fields missing stay. -EINVAL with err naming
 * the field and the allowed range; *c may be partly changed then (parse
 * into a copy). "password" sets onvif_password; "password_set" and
 * "source" are ignored (read-only). */
int reel_motion_cfg_from_json(struct reel_motion_cfg *c, json_t *j, struct reel_err *err);

/* The zones as stored in camera_events.zones (and in the API). New ref. */
json_t *reel_motion_zones_json(const struct reel_motion_cfg *c);
/* Parses the stored zones text into c (caps as for the API). */
int reel_motion_zones_parse(struct reel_motion_cfg *c, const char *text, struct reel_err *err);

/* The API's JSON (the password never: password_set). has_sub: "source". New ref. */
json_t *reel_motion_cfg_json(const struct reel_motion_cfg *c, bool has_sub);

const char *reel_motion_mode_name(enum reel_motion_mode m);

/* Reads camera camera_id's row (the defaults when it has none). */
int reel_motion_cfg_load(sqlite3 *db, int64_t camera_id, struct reel_motion_cfg *c, struct reel_err *err);
/* Writes the row (INSERT OR REPLACE). */
int reel_motion_cfg_save(sqlite3 *db, int64_t camera_id, const struct reel_motion_cfg *c, struct reel_err *err);

#endif
