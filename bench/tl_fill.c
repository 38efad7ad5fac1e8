/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * reel-bench-tl-fill: makes weeks of footage for many cameras in seconds, for
 * the timeline's benchmark and browser tests. One real recording of the clip
 * (--rec-seconds long, 60 s by default: the recorder's normal length) is
 * recorded through the store library exactly as the recorder would; then
 * every other recording of every camera is a row of its own in reel.db (same
 * index, frames and bytes) whose sample file is a hard link to that one
 * file. 31 days x 16 cameras of 60 s recordings is 714,240 rows and links
 * but only one clip's bytes on disk (plus the directory entries, about
 * 60 bytes each). The footage decodes and plays like real footage; every
 * recording shows the same minute.
 *
 * Gaps of every reason the store records are made on each camera (staggered
 * per camera): the first 6 hours deleted by retention, a connection refused,
 * a wrong password, a stall, the camera not answering (offline), a write
 * error, a short hole with no reason (not recorded), and one "recorder
 * stopped" across all cameras. Recordings between gaps form runs.
 *
 *   reel-bench-tl-fill DATADIR CLIP.264 [--cameras N] [--days D] [--end UNIXSECONDS]
 *                      [--prefix NAME] [--rec-seconds S] [--no-gaps]
 *
 * Cameras PREFIX0..PREFIX(N-1) (default "cam") are created (disabled, so a
 * recorder started on the directory leaves them alone) and must not exist.
 * No recorder may run on the data directory meanwhile. Defaults: 4 cameras,
 * 31 days ending at now (rounded down to the minute). A benchmark and test
 * tool, not part of `reel`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "codec/params.h"
#include "store/store.h"

#include "clip.h"

#define FPS 30
#define MAX_CAMERAS 256
#define MAX_DAYS 400

struct hole {
    int64_t from_slot, nslots;   /* recording slots without footage */
    const char *reason;          /* outage reason; NULL = none (not recorded) */
    int deletion;                /* a deletion row instead of an outage */
};

/* The gaps of camera i; slots_per_day recordings per day. Returns how many. */
static size_t holes_for(int i, int64_t slots_per_day, int64_t nslots, bool gaps, struct hole *h)
{
    size_t n = 0;
    if (!gaps)
        return 0;
    int64_t hour = slots_per_day / 24 > 0 ? slots_per_day / 24 : 1;
    int64_t stagger = (int64_t)i * (hour / 2 + 1);
    /* the first 6 hours were deleted by retention */
    h[n++] = (struct hole){ 0, 6 * hour, "deleted by retention", 1 };
    static const struct {
        int day;
        int minutes;
        const char *reason;
    } kinds[] = {
        { 2, 20, "cannot connect to 192.0.2.10:554: Connection refused" },
        { 5, 60, "authentication failed: 401 Unauthorized" },
        { 8, 5, "stalled: no video for 10 s" },
        { 12, 90, "camera did not answer: no reply to OPTIONS" },
        { 16, 10, "sample file /var/lib/reel/storage/1/0000000000001234: write failed: Input/output error; "
                  "recording closed at its last checkpoint" },
        { 20, 2, NULL },
        { 24, 45, "cannot connect to 192.0.2.10:554: Connection refused" },
        { 27, 15, "stalled: no video for 10 s" },
    };
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        int64_t len = (int64_t)kinds[k].minutes * hour / 60;
        h[n++] = (struct hole){ kinds[k].day * slots_per_day + stagger, len > 0 ? len : 1, kinds[k].reason, 0 };
    }
    /* the recorder was stopped for everyone for half an hour on day 10 */
    h[n++] = (struct hole){ 10 * slots_per_day + 13 * hour, hour / 2 > 0 ? hour / 2 : 1, "recorder stopped", 0 };
    /* keep those inside the range, sorted by start (kinds[] is by day) */
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (h[k].from_slot + h[k].nslots <= nslots)
            h[m++] = h[k];
    for (size_t a = 1; a < m; a++)
        for (size_t b = a; b > 0 && h[b].from_slot < h[b - 1].from_slot; b--) {
            struct hole t = h[b];
            h[b] = h[b - 1];
            h[b - 1] = t;
        }
    return m;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "reel-bench-tl-fill: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

struct tmpl {
    int64_t id, camera_id, dir_id, wall90k, media90k, frames, bytes, entry;
    void *index;
    int index_len;
    char dir[4096];
};

static int read_template(sqlite3 *db, int64_t camera_id, struct tmpl *t)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT r.id, r.dir_id, r.wall_duration90k, r.media_duration90k, r.frames, r.bytes, "
                           "r.sample_entry_id, r.video_index, d.path FROM recording r JOIN storage_dir d "
                           "ON d.id = r.dir_id WHERE r.camera_id = ? AND r.open = 0 ORDER BY r.id LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    sqlite3_bind_int64(st, 1, camera_id);
    int r = -ENOENT;
    if (sqlite3_step(st) == SQLITE_ROW) {
        t->id = sqlite3_column_int64(st, 0);
        t->camera_id = camera_id;
        t->dir_id = sqlite3_column_int64(st, 1);
        t->wall90k = sqlite3_column_int64(st, 2);
        t->media90k = sqlite3_column_int64(st, 3);
        t->frames = sqlite3_column_int64(st, 4);
        t->bytes = sqlite3_column_int64(st, 5);
        t->entry = sqlite3_column_int64(st, 6);
        t->index_len = sqlite3_column_bytes(st, 7);
        t->index = malloc((size_t)t->index_len + 1);
        if (t->index) {
            memcpy(t->index, sqlite3_column_blob(st, 7), (size_t)t->index_len);
            snprintf(t->dir, sizeof(t->dir), "%s", (const char *)sqlite3_column_text(st, 8));
            r = 0;
        } else {
            r = -ENOMEM;
        }
    }
    sqlite3_finalize(st);
    return r;
}

static int copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = a ? fopen(to, "wbx") : NULL;
    char buf[65536];
    size_t n;
    int r = a && b ? 0 : -1;
    while (r == 0 && (n = fread(buf, 1, sizeof(buf), a)) > 0)
        if (fwrite(buf, 1, n, b) != n)
            r = -1;
    if (a)
        fclose(a);
    if (b && fclose(b) != 0)
        r = -1;
    return r;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s DATADIR CLIP.264 [--cameras N] [--days D] [--end UNIXSECONDS] [--prefix NAME]\n"
            "       [--rec-seconds S] [--no-gaps]\n",
            argv0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        usage(argv[0]);
        return 2;
    }
    const char *datadir = argv[1], *clippath = argv[2], *prefix = "cam";
    long ncam = 4, rec_s = 60;
    double days = 31;
    bool gaps = true;
    int64_t end_s = (int64_t)time(NULL) / 60 * 60;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--no-gaps") == 0) {
            gaps = false;
            continue;
        }
        if (!v) {
            usage(argv[0]);
            return 2;
        }
        i++;
        if (strcmp(o, "--cameras") == 0)
            ncam = strtol(v, NULL, 10);
        else if (strcmp(o, "--days") == 0)
            days = strtod(v, NULL);
        else if (strcmp(o, "--end") == 0)
            end_s = strtoll(v, NULL, 10);
        else if (strcmp(o, "--prefix") == 0)
            prefix = v;
        else if (strcmp(o, "--rec-seconds") == 0)
            rec_s = strtol(v, NULL, 10);
        else {
            usage(argv[0]);
            return 2;
        }
    }
    if (ncam < 1 || ncam > MAX_CAMERAS || !(days > 0 && days <= MAX_DAYS) || rec_s < 2 || rec_s > 3600 ||
        strlen(prefix) > 40) {
        fprintf(stderr, "%s: --cameras 1..%d, --days (0, %d], --rec-seconds 2..3600, --prefix <= 40 characters\n",
                argv[0], MAX_CAMERAS, MAX_DAYS);
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
    int64_t range_s = (int64_t)(days * 86400);
    int64_t start_s = end_s - range_s;
    uint64_t nframes = (uint64_t)rec_s * FPS;
    /* the template is recorded a day before the range, then moved */
    struct reel_clock_fake fc;
    reel_clock_fake_init(&fc, INT64_C(1000) * REEL_NS_PER_SEC, (start_s - 86400) * REEL_NS_PER_SEC);
    struct reel_store_cfg cfg = { .datadir = datadir, .mode = REEL_STORE_RECORD, .clock = &fc.clock,
                                  .rotate_ns = INT64_C(7200) * REEL_NS_PER_SEC,
                                  /* the fake clock runs faster than the disk */
                                  .stall_ns = INT64_C(100) * 86400 * REEL_NS_PER_SEC };
    struct reel_store *s = NULL;
    int64_t cam_ids[MAX_CAMERAS];
    int rc = 1;
    if ((r = reel_store_open(&s, &cfg, &err)) < 0) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], datadir, err.msg[0] ? err.msg : strerror(-r));
        goto out;
    }
    for (long i = 0; i < ncam; i++) {
        struct reel_camera cam = { .disabled = true };
        snprintf(cam.name, sizeof(cam.name), "%s%ld", prefix, i);
        snprintf(cam.url, sizeof(cam.url), "rtsp://127.0.0.1:1/%s", cam.name);
        if ((r = reel_store_camera_add(s, &cam, NULL, &err)) < 0) {
            fprintf(stderr, "%s: camera %s: %s\n", argv[0], cam.name, err.msg);
            goto out;
        }
        cam_ids[i] = cam.id;
    }
    int64_t entry;
    struct reel_run *run = NULL;
    if ((r = reel_store_sample_entry_put(s, vp.sample_entry, vp.sample_entry_len, vp.width, vp.height,
                                         vp.codec_string, &entry, &err)) < 0 ||
        (r = reel_run_open(s, cam_ids[0], &run, &err)) < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        goto out;
    }
    for (uint64_t i = 0; i < nframes; i++) {
        const struct au *a = &c.aus[i % c.n];
        struct reel_frame_in f = { .data = c.data.data + a->off, .len = a->len,
                                   .ts90k = (int64_t)i * (REEL_90K / FPS), .key = a->key || i == 0,
                                   .sample_entry_id = entry };
        if ((r = reel_run_frame(run, &f, &err)) < 0) {
            fprintf(stderr, "%s: frame %" PRIu64 ": %s\n", argv[0], i, err.msg);
            if (r != -EINVAL)
                run = NULL;
            reel_run_close(run);
            goto out;
        }
        reel_clock_fake_advance(&fc, REEL_NS_PER_SEC / FPS);
    }
    reel_run_close(run);
    if ((r = reel_store_sync(s, &err)) < 0) {
        fprintf(stderr, "%s: sync: %s\n", argv[0], err.msg);
        goto out;
    }
    reel_store_close(s);
    s = NULL;

    /* every other recording: rows and hard links */
    char dbpath[4200];
    snprintf(dbpath, sizeof(dbpath), "%s/reel.db", datadir);
    sqlite3 *db;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], dbpath, sqlite3_errmsg(db));
        sqlite3_close(db);
        goto out;
    }
    sqlite3_busy_timeout(db, 5000);
    struct tmpl t = { 0 };
    if ((r = read_template(db, cam_ids[0], &t)) < 0) {
        fprintf(stderr, "%s: the template recording is missing (%s)\n", argv[0], strerror(-r));
        sqlite3_close(db);
        goto out;
    }
    char tpath[4300];
    snprintf(tpath, sizeof(tpath), "%s/%" PRId64 "/%016" PRIx64, t.dir, t.camera_id, (uint64_t)t.id);
    int64_t slot90k = t.wall90k;
    int64_t nslots = range_s * REEL_90K / slot90k;
    int64_t slots_per_day = INT64_C(86400) * REEL_90K / slot90k;
    sqlite3_stmt *ins = NULL, *out_st = NULL, *del_st = NULL, *maxid = NULL;
    uint64_t rows = 0;
    if (exec(db, "BEGIN IMMEDIATE") < 0)
        goto dbout;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(id), 0) FROM recording", -1, &maxid, NULL) != SQLITE_OK ||
        sqlite3_step(maxid) != SQLITE_ROW)
        goto dberr;
    int64_t next_id = sqlite3_column_int64(maxid, 0) + 1;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO recording (id, camera_id, run_id, run_index, start90k, wall_duration90k, "
                           "media_duration90k, frames, bytes, sample_entry_id, dir_id, open, video_index) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO outage (camera_id, start90k, end90k, reason) VALUES (?, ?, ?, ?)", -1,
                           &out_st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO deletion (camera_id, start90k, end90k, reason) VALUES (?, ?, ?, ?)",
                           -1, &del_st, NULL) != SQLITE_OK)
        goto dberr;
    int64_t base90k = start_s * REEL_90K;
    char src[4400];
    unsigned copies = 0;
    snprintf(src, sizeof(src), "%s", tpath);
    for (long i = 0; i < ncam; i++) {
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/%" PRId64, t.dir, cam_ids[i]);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            fprintf(stderr, "%s: %s: %s\n", argv[0], dir, strerror(errno));
            goto dbout;
        }
        struct hole h[16];
        size_t nh = holes_for((int)i, slots_per_day, nslots, gaps, h), hi = 0;
        for (size_t k = 0; k < nh; k++) {
            sqlite3_stmt *st = h[k].deletion ? del_st : out_st;
            if (!h[k].reason)
                continue;
            sqlite3_bind_int64(st, 1, cam_ids[i]);
            sqlite3_bind_int64(st, 2, base90k + h[k].from_slot * slot90k);
            sqlite3_bind_int64(st, 3, base90k + (h[k].from_slot + h[k].nslots) * slot90k);
            sqlite3_bind_text(st, 4, h[k].reason, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                goto dberr;
            sqlite3_reset(st);
        }
        int64_t run_id = 0, run_index = 0;
        for (int64_t k = 0; k < nslots; k++) {
            while (hi < nh && k >= h[hi].from_slot + h[hi].nslots)
                hi++;
            if (hi < nh && k >= h[hi].from_slot) {
                run_id = 0;
                continue;
            }
            int64_t id = next_id++;
            if (run_id == 0) {
                run_id = id;
                run_index = 0;
            }
            sqlite3_bind_int64(ins, 1, id);
            sqlite3_bind_int64(ins, 2, cam_ids[i]);
            sqlite3_bind_int64(ins, 3, run_id);
            sqlite3_bind_int64(ins, 4, run_index++);
            sqlite3_bind_int64(ins, 5, base90k + k * slot90k);
            sqlite3_bind_int64(ins, 6, t.wall90k);
            sqlite3_bind_int64(ins, 7, t.media90k);
            sqlite3_bind_int64(ins, 8, t.frames);
            sqlite3_bind_int64(ins, 9, t.bytes);
            sqlite3_bind_int64(ins, 10, t.entry);
            sqlite3_bind_int64(ins, 11, t.dir_id);
            sqlite3_bind_blob(ins, 12, t.index, t.index_len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                goto dberr;
            sqlite3_reset(ins);
            char path[4300];
            snprintf(path, sizeof(path), "%s/%016" PRIx64, dir, (uint64_t)id);
            int lr = link(src, path);
            if (lr < 0 && errno == EMLINK) {
                /* a file system's cap on links per file (ext4: 65000): link to a fresh copy */
                snprintf(src, sizeof(src), "%s.%u", tpath, ++copies);
                if (copy_file(tpath, src) < 0) {
                    fprintf(stderr, "%s: copy %s: %s\n", argv[0], src, strerror(errno));
                    goto dbout;
                }
                lr = link(src, path);
            }
            if (lr < 0) {
                fprintf(stderr, "%s: link %s: %s\n", argv[0], path, strerror(errno));
                goto dbout;
            }
            rows++;
        }
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "DELETE FROM recording WHERE id = %" PRId64, t.id);
    if (exec(db, sql) < 0 || exec(db, "COMMIT") < 0)
        goto dbout;
    unlink(tpath);
    for (unsigned k = 1; k <= copies; k++) {
        snprintf(src, sizeof(src), "%s.%u", tpath, k);
        unlink(src);
    }
    printf("%ld cameras x %.2f days: %" PRIu64 " recordings of %.1f s (%" PRId64 " bytes each, hard links to one "
           "file), cameras %s0..%s%ld (unix %" PRId64 " to %" PRId64 ")\n",
           ncam, days, rows, (double)t.wall90k / REEL_90K, t.bytes, prefix, prefix, ncam - 1, start_s, end_s);
    rc = 0;
    goto dbout;
dberr:
    fprintf(stderr, "%s: database: %s\n", argv[0], sqlite3_errmsg(db));
dbout:
    sqlite3_finalize(maxid);
    sqlite3_finalize(ins);
    sqlite3_finalize(out_st);
    sqlite3_finalize(del_st);
    if (rc != 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    free(t.index);
out:
    reel_store_close(s);
    reel_video_params_clear(&vp);
    bench_clip_free(&c);
    return rc;
}
