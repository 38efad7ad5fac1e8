/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The file name of an export: the camera(s), the start time in UTC and the
 * length, e.g. "front_2026-12-06_10-00-00Z_10m.mp4" or
 * "front+back_2026-12-06_10-00-00Z_1h30m.zip". Only [A-Za-z0-9_+.-] (camera
 * names are [A-Za-z0-9_-]), so it is safe in a path and in a
 * Content-Disposition header. Pure; tests/unit/test_export.c.
 */
#ifndef REEL_EXPORT_NAME_H
#define REEL_EXPORT_NAME_H

#include <stddef.h>
#include <stdint.h>

#define REEL_EXPORT_NAME_MAX 160

/* The length as "45s", "10m", "10m30s", "2h", "1h30m", "1h0m5s". */
void reel_export_duration_text(int64_t dur90k, char *buf, size_t cap);
/* Writes the name for cameras[0..n) over [start90k, end90k) with extension
 * ext ("mp4" or "zip") into buf (cap >= REEL_EXPORT_NAME_MAX). When the
 * joined names would make the name too long it says "N-cameras" instead. */
void reel_export_file_name(const char *const *cameras, size_t n, int64_t start90k, int64_t end90k,
                           const char *ext, char *buf, size_t cap);

#endif
