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
#include "codec/annexb.h"
#include "codec/params.h"
#include "store/store.h"

#define CLIP_CAP (512u * 1024 * 1024)
#define FPS 30
#define SYNC_EVERY 9000                /* frames between explicit checkpoints (5 min) */

struct au {
    size_t off, len;                   /* into the length-prefixed buffer */
    int key;
};

struct clip {
    struct reel_buf data;              /* every AU, length-prefixed NAL units */
    struct au *aus;
    size_t n, alloc;
    const uint8_t *sps, *pps;
    size_t sps_len, pps_len;
    uint8_t *raw;
};

static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    uint8_t *p = NULL;
    size_t n = 0, a = 0;
    for (;;) {
        if (n == a) {
            if (a >= CLIP_CAP) {
                free(p);
                fclose(f);
                return -EFBIG;
            }
            a = a ? a * 2 : 1 << 20;
            uint8_t *q = realloc(p, a);
            if (!q) {
                free(p);
                fclose(f);
                return -ENOMEM;
            }
            p = q;
        }
        size_t k = fread(p + n, 1, a - n, f);
        n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    *ret = p;
    *ret_len = n;
    return 0;
}

static int au_add(struct clip *c, size_t off)
{
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 512;
        struct au *p = realloc(c->aus, na * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->aus = p;
        c->alloc = na;
    }
    c->aus[c->n++] = (struct au){ .off = off, .len = 0, .key = 0 };
    return 0;
}

/* Splits the clip into access units: a new one starts at a non-VCL NAL that
 * follows a picture, or at a first slice (first_mb_in_slice == 0) when the
 * current one already has a picture. AUDs are dropped. */
static int clip_load(struct clip *c, const char *path)
{
    size_t len = 0;
    int r = read_file(path, &c->raw, &len);
    if (r < 0)
        return r;
    reel_buf_init(&c->data, CLIP_CAP);
    size_t pos = 0;
    struct reel_nal nal;
    int have_vcl = 0, open = 0;
    while (reel_annexb_next(c->raw, len, &pos, &nal)) {
        unsigned t = reel_h264_nal_type(nal.p[0]);
        int vcl = t >= 1 && t <= 5;
        if (t == 9)
            continue;
        if (t == 7 && !c->sps) {
            c->sps = nal.p;
            c->sps_len = nal.len;
        } else if (t == 8 && !c->pps) {
            c->pps = nal.p;
            c->pps_len = nal.len;
        }
        int first_slice = vcl && nal.len > 1 && (nal.p[1] & 0x80);
        if (!open || (have_vcl && (!vcl || first_slice))) {
            if ((r = au_add(c, c->data.len)) < 0)
                return r;
            open = 1;
            have_vcl = 0;
        }
        if ((r = reel_buf_append_be32(&c->data, (uint32_t)nal.len)) < 0 ||
            (r = reel_buf_append(&c->data, nal.p, nal.len)) < 0)
            return r;
        struct au *a = &c->aus[c->n - 1];
        a->len = c->data.len - a->off;
        if (vcl)
            have_vcl = 1;
        if (t == 5)
            a->key = 1;
    }
    /* drop a trailing unit without a picture and everything before the first key frame */
    while (c->n > 0 && c->aus[c->n - 1].len == 0)
        c->n--;
    size_t k = 0;
    while (k < c->n && !c->aus[k].key)
        k++;
    if (k == c->n || !c->sps || !c->pps)
        return -EINVAL;
    memmove(c->aus, c->aus + k, (c->n - k) * sizeof(*c->aus));
    c->n -= k;
    return 0;
}

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
    int r = clip_load(&c, clippath);
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
