/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The disk.full event (issue 15): a thread of its own (statvfs of a hung
 * mount may block; never the loop's) looks at every storage directory
 * every few seconds and keeps one disk.full event open per directory while
 * its disk is at least `storage.full_percent` (setting, 1..100, default
 * 95) used, as df counts it (used / (used + available to Reel)).
 */
#ifndef REEL_REEL_DISKWATCH_H
#define REEL_REEL_DISKWATCH_H

#include <stdint.h>

#include "base/log.h"

struct reel_events;
struct reel_diskwatch;

#define REEL_DISK_FULL_PERCENT_DEFAULT 95

struct reel_diskwatch_cfg {
    const char *datadir;            /* copied */
    struct reel_events *events;     /* must outlive the watcher */
    const struct reel_logger *log;  /* NULL = silent */
    int64_t interval_ns;            /* 0 = 5 s */
};

/* Starts the thread. *ret owned by the caller: reel_diskwatch_stop(). */
int reel_diskwatch_start(struct reel_diskwatch **ret, const struct reel_diskwatch_cfg *cfg, struct reel_err *err);
/* Stops the thread, ends the open disk.full events, frees. NULL ok. */
void reel_diskwatch_stop(struct reel_diskwatch *w);

/* used / (used + available) of a filesystem, in percent (0..100), from
 * statvfs's fields; for tests. */
int reel_diskwatch_percent(uint64_t blocks, uint64_t bfree, uint64_t bavail);

#endif
