/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The rectangles of a redacted export (issue 14, "Disclosure"): what the
 * user drew, parsed and checked, where each one is at a given instant, and
 * how it is painted into a decoded picture. Pure functions: no I/O, no
 * clock, nothing global. Reel never finds the rectangles itself; they are
 * the user's.
 *
 * Geometry: x, y, w, h are fractions of the picture (0..1, origin top
 * left). A box moves linearly between its key points; before its first key
 * point it stays where the first one puts it and after the last where the
 * last one puts it, so a box covers its area for the whole export (a box
 * never uncovers a face because a key point is missing at the start or the
 * end). A box with one key point stands still.
 *
 * Painting (8-bit planar YUV, any chroma subsampling; luma and chroma):
 *   fill: Y = 16 (0 for full-range pictures), U = V = 128: black.
 *   blur: the area is averaged into a grid of at most REEL_REDACT_BLUR_CELLS
 *         cells across its shorter side (cells at least REEL_REDACT_BLUR_MIN
 *         pixels), and the grid is stretched back bilinearly: a face of any
 *         size keeps at most 4 x 4 average colours, nothing finer.
 * The painted area is the box rounded outwards to whole pixels (and for
 * chroma to whole chroma samples), so it always covers the requested area.
 */
#ifndef REEL_MEDIA_REDACT_BOXES_H
#define REEL_MEDIA_REDACT_BOXES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/log.h"

#define REEL_REDACT_BOXES_MAX 32
#define REEL_REDACT_KEYS_MAX 64
#define REEL_REDACT_BLUR_CELLS 4
#define REEL_REDACT_BLUR_MIN 8

enum reel_redact_mode { REEL_REDACT_FILL = 0, REEL_REDACT_BLUR = 1 };

struct reel_redact_key {
    int64_t t90k;             /* wall time, 90 kHz since the epoch */
    double x, y, w, h;
};

struct reel_redact_box {
    enum reel_redact_mode mode;
    size_t nkeys;             /* 1..REEL_REDACT_KEYS_MAX, t90k strictly increasing */
    struct reel_redact_key keys[REEL_REDACT_KEYS_MAX];
};

struct reel_redact_spec {
    size_t nboxes;            /* 1..REEL_REDACT_BOXES_MAX */
    struct reel_redact_box boxes[REEL_REDACT_BOXES_MAX];
};

/* Parses the JSON array of boxes ({"mode":"blur"|"fill","keys":[{"t":T,
 * "x":..,"y":..,"w":..,"h":..}]}; T an RFC 3339 time) into spec (the
 * caller's, about 80 KiB: allocate it). Key points are sorted by time; two
 * at the same time, a time outside [from90k, to90k], a rectangle outside
 * the picture (x, y >= 0, w, h > 0, x + w <= 1, y + h <= 1, with 1e-6 of
 * slack), more than the caps or an unknown field: -EINVAL with err saying
 * which box and key point. */
int reel_redact_spec_parse(const json_t *boxes, int64_t from90k, int64_t to90k, struct reel_redact_spec *spec,
                           struct reel_err *err);

/* The spec back as JSON (times RFC 3339 UTC with ms), a new reference. */
json_t *reel_redact_spec_json(const struct reel_redact_spec *spec);

/* Where box b is at t90k (see the rule above). */
void reel_redact_box_at(const struct reel_redact_box *b, int64_t t90k, double *x, double *y, double *w, double *h);

/* One 8-bit plane. */
struct reel_redact_plane {
    uint8_t *data;
    int linesize;
    int width, height;
};

/* The pixel rectangle [x0, x1) x [y0, y1) that covers the fraction
 * rectangle on a plane of width x height (rounded outwards, clipped). */
void reel_redact_rect_px(double x, double y, double w, double h, int width, int height, int *x0, int *y0, int *x1,
                         int *y1);

/* Paints one box (a fraction rectangle) on a plane: fill with fill_value
 * (this plane's fill colour) or blur. Planes up to 8192 pixels a side
 * (REEL_SNAPSHOT_DIM_MAX); never fails. */
void reel_redact_paint_plane(const struct reel_redact_plane *p, enum reel_redact_mode mode, uint8_t fill_value,
                             double x, double y, double w, double h);

#endif
