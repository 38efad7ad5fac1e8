/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Injectable clocks. Nothing in Reel calls clock_gettime() directly except
 * reel_clock_system(); tests pass a struct reel_clock whose functions return
 * simulated time.
 */
#ifndef REEL_BASE_CLOCK_H
#define REEL_BASE_CLOCK_H

#include <stdint.h>

#define REEL_NS_PER_SEC INT64_C(1000000000)
#define REEL_90K INT64_C(90000)

struct reel_clock {
    int64_t (*mono_ns)(void *ctx);   /* monotonic nanoseconds, arbitrary epoch */
    int64_t (*wall_ns)(void *ctx);   /* nanoseconds since the Unix epoch */
    void *ctx;
};

/* A clock backed by CLOCK_MONOTONIC / CLOCK_REALTIME. Returns a pointer to
 * static const data: never freed. */
const struct reel_clock *reel_clock_system(void);

/* A manually advanced clock for tests; embed it and use .clock. */
struct reel_clock_fake {
    struct reel_clock clock;
    int64_t mono;
    int64_t wall;
};
void reel_clock_fake_init(struct reel_clock_fake *f, int64_t mono_ns, int64_t wall_ns);
void reel_clock_fake_advance(struct reel_clock_fake *f, int64_t ns);

static inline int64_t reel_clock_mono(const struct reel_clock *c) { return c->mono_ns(c->ctx); }
static inline int64_t reel_clock_wall(const struct reel_clock *c) { return c->wall_ns(c->ctx); }

/* 90 kHz units since the Unix epoch <-> nanoseconds. */
static inline int64_t reel_ns_to_90k(int64_t ns) { return ns / 100000 * 9 + (ns % 100000) * 9 / 100000; }
static inline int64_t reel_90k_to_ns(int64_t t) { return t / 9 * 100000 + (t % 9) * 100000 / 9; }

#endif
