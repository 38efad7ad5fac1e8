/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel-bench-fill: synthesises a long recording for the playback benchmark,
 * cheaply. It reads an Annex-B H.264 clip once, then appends its access
 * units again and again (30 fps media timestamps, key frames where the clip
 * has them) to one camera of a Reel data directory through the store library,
 * exactly as the recorder would, but as fast as the disk takes them. A
 * simulated clock makes the footage end at --end (default: now) and start
 * HOURS before, so 24 h of index and sample files take minutes, not a day.
 *
 *   reel-bench-fill DATADIR CAMERA CLIP.264 HOURS [--end UNIXSECONDS]
 *
 * The camera must exist (`reel camera add`) and no recorder may run on the
 * data directory. It is a benchmark tool, not part of `reel`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "codec/params.h"
#include "store/store.h"

#include "clip.h"

#define FPS 30
#define SYNC_EVERY 9000                /* frames between explicit checkpoints (5 min) */

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: %s DATADIR CAMERA CLIP.264 HOURS [--end UNIXSECONDS]\n", argv[0]);
        return 2;
    }
    const char *datadir = argv[1], *camname = argv[2], *clippath = argv[3];
    double hours = strtod(argv[4], NULL);
    int64_t end_s = (int64_t)time(NULL);
    if (argc == 7) {
        if (strcmp(argv[5], "--end") != 0) {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[5]);
            return 2;
        }
        end_s = strtoll(argv[6], NULL, 10);
    }
    if (!(hours > 0 && hours <= 24 * 366)) {
        fprintf(stderr, "%s: HOURS must be in (0, 8784]\n", argv[0]);
        return 2;
    }
    struct clip c = { 0 };
    int r = bench_clip_load(&c, clippath);
    if (r < 0) {
        fprintf(stderr, "%s: clip %s: %s\n", argv[0], clippath,
                r == -EINVAL ? "no key frame or no SPS/PPS (H.264 Annex-B expected)" : strerror(-r));
        return 1;
    }
    struct reel_err err = { "" };
    struct reel_video_params vp;
    const uint8_t *nals[2] = { c.sps, c.pps };
    size_t lens[2] = { c.sps_len, c.pps_len };
    if ((r = reel_video_params_build(REEL_CODEC_H264, nals, lens, 2, &vp, &err)) < 0) {
        fprintf(stderr, "%s: clip %s: %s\n", argv[0], clippath, err.msg);
        return 1;
    }

    uint64_t nframes = (uint64_t)(hours * 3600 * FPS);
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, INT64_C(1000) * REEL_NS_PER_SEC,
                         end_s * REEL_NS_PER_SEC - (int64_t)(nframes * (uint64_t)REEL_NS_PER_SEC / FPS));
    struct reel_store_cfg cfg = { .datadir = datadir, .mode = REEL_STORE_RECORD, .clock = &fc.clock };
    struct reel_store *s;
    if ((r = reel_store_open(&s, &cfg, &err)) < 0) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], datadir, err.msg[0] ? err.msg : strerror(-r));
        return 1;
    }
    struct reel_camera cam;
    int64_t entry;
    struct reel_run *run = NULL;
    int rc = 1;
    if ((r = reel_store_camera_get(s, camname, &cam, &err)) < 0) {
        fprintf(stderr, "%s: camera %s: %s\n", argv[0], camname, err.msg);
        goto out;
    }
    if ((r = reel_store_sample_entry_put(s, vp.sample_entry, vp.sample_entry_len, vp.width, vp.height,
                                         vp.codec_string, &entry, &err)) < 0 ||
        (r = reel_run_open(s, cam.id, &run, &err)) < 0) {
        fprintf(stderr, "%s: camera %s: %s\n", argv[0], camname, err.msg);
        goto out;
    }
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < nframes; i++) {
        const struct au *a = &c.aus[i % c.n];
        struct reel_frame_in f = {
            .data = c.data.data + a->off, .len = a->len, .ts90k = (int64_t)i * (REEL_90K / FPS),
            .key = a->key, .sample_entry_id = entry,
        };
        if ((r = reel_run_frame(run, &f, &err)) < 0) {
            if (r != -EINVAL)
                run = NULL; /* the store closed it */
            fprintf(stderr, "%s: frame %" PRIu64 ": %s\n", argv[0], i, err.msg);
            goto out;
        }
        bytes += a->len;
        reel_clock_fake_advance(&fc, REEL_NS_PER_SEC / FPS);
        if ((i + 1) % SYNC_EVERY == 0 && (r = reel_store_sync(s, &err)) < 0) {
            fprintf(stderr, "%s: sync: %s\n", argv[0], err.msg);
            goto out;
        }
    }
    reel_run_close(run);
    run = NULL;
    if ((r = reel_store_sync(s, &err)) < 0) {
        fprintf(stderr, "%s: sync: %s\n", argv[0], err.msg);
        goto out;
    }
    printf("camera %s: %" PRIu64 " frames, %" PRIu64 " bytes, %.2f h ending at @%" PRId64 "\n", camname,
           nframes, bytes, hours, end_s);
    rc = 0;
out:
    reel_run_close(run);
    reel_store_close(s);
    reel_video_params_clear(&vp);
    reel_buf_free(&c.data);
    free(c.aus);
    free(c.raw);
    return rc;
}
