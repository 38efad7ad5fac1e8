/* SPDX-License-Identifier: GPL-3.0-or-later
 * The system clock and a fake clock for tests. */
#include "base/clock.h"

#include <time.h>

static int64_t sys_mono(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec;
}

static int64_t sys_wall(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * REEL_NS_PER_SEC + ts.tv_nsec;
}

static const struct reel_clock system_clock = { sys_mono, sys_wall, NULL };

const struct reel_clock *reel_clock_system(void) { return &system_clock; }

static int64_t fake_mono(void *ctx) { return ((struct reel_clock_fake *)ctx)->mono; }
static int64_t fake_wall(void *ctx) { return ((struct reel_clock_fake *)ctx)->wall; }

void reel_clock_fake_init(struct reel_clock_fake *f, int64_t mono_ns, int64_t wall_ns)
{
    f->clock.mono_ns = fake_mono;
    f->clock.wall_ns = fake_wall;
    f->clock.ctx = f;
    f->mono = mono_ns;
    f->wall = wall_ns;
}

void reel_clock_fake_advance(struct reel_clock_fake *f, int64_t ns)
{
    f->mono += ns;
    f->wall += ns;
}
