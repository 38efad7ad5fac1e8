/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Micro-benchmark of the hub (src/hub): one thread publishes N access units
 * of 20 KB to each of C cameras (round robin, a key frame every 30), first
 * with nobody subscribed, then with S subscriptions per camera drained by R
 * reader threads that read every message. Prints nanoseconds per publish
 * (publisher thread, wall clock), bytes copied by the hub, and what the
 * readers received and lost. Built by meson, never run by the test suite:
 *
 *   build/bench/reel-hub-bench [-n AUS_PER_CAMERA] [-c CAMERAS] [-s SUBS_PER_CAMERA] [-r READERS]
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "hub/hub.h"

#define AU_BYTES 20000

struct reader {
    pthread_t th;
    struct reel_hub_sub **subs;
    size_t nsubs;
    atomic_bool *done;
    uint64_t msgs, bytes, lost;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    for (;;) {
        bool finished = atomic_load(r->done);
        uint64_t got = 0;
        for (size_t i = 0; i < r->nsubs; i++) {
            struct reel_hub_msg m;
            while (reel_hub_sub_read(r->subs[i], &m, 0) == 0) {
                r->msgs++;
                r->bytes += m.au.len;
                r->lost += m.lost;
                got++;
                reel_hub_msg_release(&m);
            }
        }
        if (finished && got == 0)
            return NULL;
        if (got == 0)
            sched_yield();
    }
}

static int run(unsigned cams, unsigned n, unsigned subs, unsigned readers)
{
    struct reel_hub *h;
    if (reel_hub_new(&h) < 0)
        return 1;
    struct reel_hub_cam **hc = calloc(cams, sizeof(*hc));
    size_t nsub = (size_t)cams * subs;
    struct reel_hub_sub **sv = calloc(nsub ? nsub : 1, sizeof(*sv));
    struct reader *rd = calloc(readers ? readers : 1, sizeof(*rd));
    uint8_t *au = malloc(AU_BYTES);
    if (!hc || !sv || !rd || !au)
        return 1;
    memset(au, 0x5a, AU_BYTES);
    for (unsigned c = 0; c < cams; c++)
        if (reel_hub_cam_add(h, c + 1, NULL, &hc[c]) < 0)
            return 1;
    for (size_t i = 0; i < nsub; i++) {
        struct reel_hub_sub_cfg cfg = { .camera_id = (int64_t)(i % cams) + 1, .kinds = REEL_HUB_AU };
        int r = reel_hub_subscribe(h, &cfg, &sv[i]);
        if (r < 0) {
            fprintf(stderr, "subscribe %zu: %s (raise the open-file limit?)\n", i, strerror(-r));
            return 1;
        }
    }
    atomic_bool done;
    atomic_init(&done, false);
    for (unsigned t = 0; subs && t < readers; t++) {
        rd[t].done = &done;
        rd[t].subs = sv + nsub * t / readers;
        rd[t].nsubs = nsub * (t + 1) / readers - nsub * t / readers;
        pthread_create(&rd[t].th, NULL, reader_main, &rd[t]);
    }
    int64_t t0 = now_ns();
    for (unsigned k = 0; k < n; k++)
        for (unsigned c = 0; c < cams; c++) {
            struct reel_hub_au a = { .data = au, .len = AU_BYTES, .ts90k = (int64_t)k * 3000,
                                     .key = k % 30 == 0, .sample_entry_id = 1 };
            reel_hub_publish_au(hc[c], &a);
        }
    int64_t t1 = now_ns();
    atomic_store(&done, true);
    uint64_t msgs = 0, lost = 0;
    for (unsigned t = 0; subs && t < readers; t++) {
        pthread_join(rd[t].th, NULL);
        msgs += rd[t].msgs;
        lost += rd[t].lost;
    }
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    uint64_t pubs = (uint64_t)n * cams;
    printf("cameras=%u aus/camera=%u subs/camera=%u readers=%u: %.1f ns/publish, %llu bytes copied "
           "(%.2f copies/AU), delivered %llu of %llu, lost %llu (queue full)\n",
           cams, n, subs, subs ? readers : 0, (double)(t1 - t0) / (double)pubs,
           (unsigned long long)st.bytes_copied, (double)st.au_copies / (double)pubs,
           (unsigned long long)msgs, (unsigned long long)(pubs * subs), (unsigned long long)lost);
    for (size_t i = 0; i < nsub; i++)
        reel_hub_unsubscribe(sv[i]);
    for (unsigned c = 0; c < cams; c++)
        reel_hub_cam_remove(h, hc[c]);
    reel_hub_free(h);
    free(hc);
    free(sv);
    free(rd);
    free(au);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned n = 200, cams = 256, subs = 16, readers = 2;
    int o;
    while ((o = getopt(argc, argv, "n:c:s:r:")) != -1) {
        unsigned v = (unsigned)strtoul(optarg, NULL, 10);
        switch (o) {
        case 'n': n = v; break;
        case 'c': cams = v; break;
        case 's': subs = v; break;
        case 'r': readers = v; break;
        default:
            fprintf(stderr, "usage: %s [-n AUS_PER_CAMERA] [-c CAMERAS] [-s SUBS_PER_CAMERA] [-r READERS]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!cams || !n || !readers)
        return 2;
    /* One eventfd per subscription. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (run(cams, n, 0, readers))
        return 1;
    return run(cams, n, subs, readers);
}
