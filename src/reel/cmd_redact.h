/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel export --redact BOXES.json` (cmd_redact.c), called by cmd_query.c's
 * export once it has the camera and the range.
 */
#ifndef REEL_REEL_CMD_REDACT_H
#define REEL_REEL_CMD_REDACT_H

#include <stdbool.h>
#include <stdint.h>

struct reel_store;

struct reel_redact_cli {
    struct reel_store *store;     /* open, read mode; the caller closes it */
    const char *datadir;
    const char *camera;
    int64_t camera_id;
    int64_t from90k, to90k;
    const char *boxes_path, *out, *reason, *by;
    bool sign;
};

/* The process's exit status (0, 1, 2 for usage). */
int reel_cmd_export_redact(const struct reel_redact_cli *a);

#endif
