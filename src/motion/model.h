/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion model (issue 15): pure computation on luma pictures, no I/O,
 * no threads. A decoded picture's luma plane is averaged down to a small
 * analysis picture (REEL_MOTION_AW pixels wide), blurred (3x3 box), and
 * compared with a background (a running average, alpha per frame from the
 * analysed rate: a time constant of about REEL_MOTION_BG_SECONDS). A pixel
 * moved when it differs from the background by more than its threshold
 * (from the sensitivity of the zone it lies in: sensitivity 50 -> 30 grey
 * levels, 100 -> 5, 1 -> 55). Masked pixels are never analysed.
 *
 * Lighting: when over REEL_MOTION_RECAL_SHARE % of the analysed area moves
 * in one frame (a light switched on, the camera's day/night switch), the
 * background is set to the picture (recalibrated) and nothing is reported;
 * the next REEL_MOTION_SETTLE_FRAMES frames recalibrate again above half
 * that share (a change spread over two frames), so a light change never
 * fires.
 *
 * Zones: each zone (a polygon in fractions of the picture) has its own
 * sensitivity and minimum area (percent of the zone's analysed pixels). A
 * zone moved in a frame when its share of moved pixels reaches its
 * minimum area (and at least 2 pixels). With no zone configured, the
 * whole picture but the masks is the zone "" (the camera's sensitivity and
 * minimum area). With zones, pixels outside every zone count for the
 * grid (motion search) but fire no event.
 *
 * Grid: per frame, each of the 16x16 cells' level 1..255 = the share of
 * its analysed pixels that moved (levels under REEL_MOTION_CELL_MIN are 0).
 *
 * Ownership: reel_motion_model_new() -> reel_motion_model_free().
 */
#ifndef REEL_MOTION_MODEL_H
#define REEL_MOTION_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "motion/grid.h"
#include "motion/mcfg.h"

#define REEL_MOTION_AW 160          /* analysis width (pixels) */
#define REEL_MOTION_AH_MAX 160      /* analysis height cap */
#define REEL_MOTION_BG_SECONDS 4
#define REEL_MOTION_RECAL_SHARE 60
#define REEL_MOTION_SETTLE_FRAMES 2
#define REEL_MOTION_CELL_MIN 8
#define REEL_MOTION_SRC_DIM_MAX 8192

struct reel_motion_model;

struct reel_motion_frame {
    bool recalibrated;              /* a lighting change: nothing moved */
    int nzones;                     /* entries below: the event zones (not masks) */
    char zone_name[REEL_MOTION_ZONES_MAX][REEL_MOTION_ZONE_NAME_MAX];
    bool zone_moved[REEL_MOTION_ZONES_MAX];
    int zone_share[REEL_MOTION_ZONES_MAX];   /* percent 0..100 of the zone's pixels that moved */
    int share;                      /* percent of the whole analysed area that moved */
    struct reel_grid_second cells;  /* this frame's grid levels */
};

/* A model for pictures of src_w x src_h (16..8192) with config c (zones,
 * sensitivity, min_area, fps). -EINVAL, -ENOMEM. */
int reel_motion_model_new(struct reel_motion_model **ret, const struct reel_motion_cfg *c, int src_w, int src_h);
void reel_motion_model_free(struct reel_motion_model *m);
/* The analysis picture's size. */
void reel_motion_model_size(const struct reel_motion_model *m, int *w, int *h);

/* Feeds one luma plane (src_w x src_h, stride bytes per row) and fills
 * *out. The first frame sets the background (nothing moved). */
void reel_motion_model_feed(struct reel_motion_model *m, const uint8_t *luma, int stride,
                            struct reel_motion_frame *out);

#endif
