/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Benchmark subscribers of the hub (`reel run --bench-subscribers N`, for
 * bench/ only): N reader threads, each subscribed to the access units of
 * every camera registered in the hub when started, reading every message.
 *
 * Ownership: reel_bench_subs_start() -> reel_bench_subs_stop(), which joins
 * the threads, logs their totals (log may be NULL) and unsubscribes; call it
 * before the hub is freed.
 */
#ifndef REEL_REEL_BENCH_SUBS_H
#define REEL_REEL_BENCH_SUBS_H

#include "base/log.h"
#include "hub/hub.h"

struct reel_bench_subs;

/* -EINVAL unless 1 <= nreaders <= 64; -ENOMEM; a failed thread start. */
int reel_bench_subs_start(struct reel_bench_subs **ret, struct reel_hub *hub, unsigned nreaders);
/* NULL ok. */
void reel_bench_subs_stop(struct reel_bench_subs *b, const struct reel_logger *log);

#endif
