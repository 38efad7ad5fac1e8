/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Read-side sub-commands: status, check, export, recordings, gaps, frames.
 * They open the store read-only (WAL readers), so they work while the
 * recorder runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/strutil.h"
#include "codec/annexb.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "reel/cli.h"
#include "reel/cmd_redact.h"
#include "reel/control.h"
#include "reel/timefmt.h"
#include "store/index.h"

static int64_t wall90k_now(void) { return reel_ns_to_90k(reel_clock_wall(reel_clock_system())); }

/* --camera NAME [--stream main|sub] --from T --to T; from/to default to the
 * whole history. With --stream sub, *cam is the camera's sub-stream row. */
static int range_args(struct reel_cli *cli, struct reel_store *s, bool need_range, struct reel_camera *cam,
                      int64_t *from, int64_t *to)
{
    const char *name = reel_cli_opt(cli, "--camera", true);
    const char *stream = reel_cli_opt(cli, "--stream", true);
    int kind = stream ? reel_stream_kind_parse(stream) : REEL_STREAM_MAIN;
    if (kind != REEL_STREAM_MAIN && kind != REEL_STREAM_SUB)
        return reel_cli_usage("--stream: main or sub, not '%s'", stream);
    const char *f = reel_cli_opt(cli, "--from", true);
    const char *t = reel_cli_opt(cli, "--to", true);
    if (!name)
        return reel_cli_usage("--camera NAME required");
    if (need_range && (!f || !t))
        return reel_cli_usage("--from and --to required");
    int64_t now = wall90k_now();
    *from = 0;
    *to = INT64_MAX / 2;
    if (f && reel_time_parse(f, now, from) < 0)
        return reel_cli_usage("--from: cannot parse time '%s'", f);
    if (t && reel_time_parse(t, now, to) < 0)
        return reel_cli_usage("--to: cannot parse time '%s'", t);
    if (*to <= *from)
        return reel_cli_usage("--to must be after --from");
    int rc = reel_cli_camera(s, name, cam);
    if (rc || kind == REEL_STREAM_MAIN)
        return rc;
    if (cam->parent_id)
        return reel_cli_usage("--stream: %s is a stream already; give its camera", name);
    struct reel_err err = { "" };
    int r = reel_store_camera_stream(s, cam->id, REEL_STREAM_SUB, false, cam, &err);
    if (r == -ENOENT)
        return reel_cli_fail("camera %s has no sub-stream", name);
    if (r < 0)
        return reel_cli_fail("camera %s: %s", name, err.msg);
    return 0;
}

/* Opens the store read-only and parses --camera/--from/--to with nothing
 * left over. Returns 0 with *ret_s open, or the exit code (store closed). */
static int open_for_camera(struct reel_cli *cli, bool need_range, struct reel_store **ret_s,
                           struct reel_camera *cam, int64_t *from, int64_t *to)
{
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_READ, &s))
        return 1;
    int rc = range_args(cli, s, need_range, cam, from, to);
    if (!rc)
        rc = reel_cli_no_more_opts(cli);
    if (rc) {
        reel_store_close(s);
        return rc;
    }
    *ret_s = s;
    return 0;
}

static void fmt_duration(int64_t d90k, char *buf, size_t cap)
{
    int64_t s = d90k / REEL_90K;
    snprintf(buf, cap, "%lldh%02lldm%02llds", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
}

/* The live status lines of the running recorder, by camera id. */
struct live {
    struct live_cam {
        int64_t id;
        char state[64];
        char last_error[256];
        double fps, bitrate_bps;
    } *v;
    size_t n, alloc;
};

static void live_line(void *opaque, const char *line)
{
    struct live *lv = opaque;
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    json_int_t id = 0;
    const char *state = NULL, *err = "";
    double fps = 0, br = 0;
    if (o && json_unpack(o, "{s:I, s:s, s?s, s?F, s?F}", "id", &id, "state", &state, "last_error", &err, "fps",
                         &fps, "bitrate_bps", &br) == 0 &&
        reel_array_grow(&lv->v, &lv->alloc, lv->n, sizeof(*lv->v), 16) == 0) {
        struct live_cam *c = &lv->v[lv->n++];
        c->id = id;
        snprintf(c->state, sizeof(c->state), "%s", state);
        snprintf(c->last_error, sizeof(c->last_error), "%s", err);
        c->fps = fps;
        c->bitrate_bps = br;
    }
    json_decref(o);
}

int reel_cmd_status(struct reel_cli *cli)
{
    if (reel_cli_no_more_opts(cli))
        return 2;
    struct live lv = { .v = NULL };
    char errbuf[512];
    int lr = reel_control_request(cli->datadir, "status", 10 * REEL_NS_PER_SEC, live_line, &lv, errbuf,
                                  sizeof(errbuf));
    bool running = lr == 0;
    if (lr == -ENOENT || lr == -ECONNREFUSED)
        printf("recorder not running\n");
    else if (lr == -EREMOTEIO)
        fprintf(stderr, "reel: the running recorder refused the status request: %s\n", errbuf);
    else if (lr < 0)
        fprintf(stderr, "reel: cannot get live status from the recorder (%s/%s): %s\n", cli->datadir,
                REEL_CONTROL_SOCKET, strerror(-lr));
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_READ, &s)) {
        free(lv.v);
        return 1;
    }
    struct reel_camera *cams = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    if (reel_store_camera_list(s, &cams, &n, &err) < 0) {
        reel_store_close(s);
        free(lv.v);
        return reel_cli_fail("cannot list cameras: %s", err.msg);
    }
    printf("%-16s %-12s %6s %10s %12s %10s  %s\n", "CAMERA", "STATE", "FPS", "KBIT/S", "KEPT", "HOURS",
           "LAST ERROR");
    /* each camera, then its streams under it (indented) */
    size_t *order = calloc(n ? n : 1, sizeof(*order)), no = 0;
    if (!order) {
        free(cams);
        free(lv.v);
        reel_store_close(s);
        return reel_cli_fail("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (cams[i].parent_id)
            continue;
        order[no++] = i;
        for (size_t k = 0; k < n; k++)
            if (cams[k].parent_id == cams[i].id)
                order[no++] = k;
    }
    for (size_t j = 0; j < no; j++) {
        size_t i = order[j];
        const struct live_cam *lc = NULL;
        for (size_t k = 0; k < lv.n && !lc; k++)
            if (lv.v[k].id == cams[i].id)
                lc = &lv.v[k];
        int64_t bytes = 0, dur = 0, oldest = 0;
        int r = reel_store_camera_usage(s, cams[i].id, &bytes, &dur, &oldest, &err);
        if (r < 0) {
            int rc = reel_cli_fail("status of camera %s: %s", cams[i].name, err.msg);
            free(order);
            free(cams);
            free(lv.v);
            reel_store_close(s);
            return rc;
        }
        const char *state = lc ? lc->state : cams[i].disabled ? "disabled" : running ? "not running" : "-";
        char label[REEL_NAME_MAX + 2];
        snprintf(label, sizeof(label), "%s%s", cams[i].parent_id ? "  " : "", cams[i].name);
        printf("%-16s %-12s %6.1f %10.0f %12lld %10.2f  %s\n", label, state, lc ? lc->fps : 0.0,
               lc ? lc->bitrate_bps / 1000 : 0.0, (long long)bytes, (double)dur / REEL_90K / 3600,
               lc && lc->last_error[0] ? lc->last_error : "-");
    }
    free(order);
    free(cams);
    free(lv.v);
    reel_store_close(s);
    return 0;
}

static void check_line(void *opaque, const char *line)
{
    (void)opaque;
    printf("%s\n", line);
}

int reel_cmd_check(struct reel_cli *cli)
{
    int flags = 0;
    if (reel_cli_opt(cli, "--hash", false))
        flags |= REEL_CHECK_HASH;
    if (reel_cli_opt(cli, "--repair", false))
        flags |= REEL_CHECK_REPAIR;
    /* --camera NAME [--from T --to T]: that camera's recordings only */
    bool scoped = false;
    for (int i = 0; i < cli->argc; i++)
        if (strncmp(cli->argv[i], "--camera", 8) == 0)
            scoped = true;
    if (!scoped && reel_cli_no_more_opts(cli))
        return 2;
    /* check is what to run after installing a newer Reel: it brings the
     * schema up to date first (the only thing it writes without --repair) */
    struct reel_err err = { "" };
    if (reel_store_upgrade(cli->datadir, &err) < 0)
        return reel_cli_fail("cannot open data directory %s: %s", cli->datadir, err.msg);
    struct reel_store *s;
    if (reel_cli_open(cli, flags & REEL_CHECK_REPAIR ? REEL_STORE_ADMIN : REEL_STORE_READ, &s))
        return 1;
    struct reel_check_scope scope;
    if (scoped) {
        struct reel_camera cam;
        int rc = range_args(cli, s, false, &cam, &scope.from90k, &scope.to90k);
        if (!rc)
            rc = reel_cli_no_more_opts(cli);
        if (rc) {
            reel_store_close(s);
            return rc;
        }
        scope.camera_id = cam.id;
    }
    struct reel_check_report rep;
    memset(&rep, 0, sizeof(rep));
    int r = reel_store_check_scope(s, flags, scoped ? &scope : NULL, check_line, NULL, &rep, &err);
    reel_store_close(s);
    if (r < 0)
        return reel_cli_fail("check failed: %s", err.msg[0] ? err.msg : strerror(-r));
    printf("checked %llu recordings, %llu files, %llu bytes: %llu problem%s%s\n",
           (unsigned long long)rep.recordings, (unsigned long long)rep.files,
           (unsigned long long)rep.bytes, (unsigned long long)rep.problems, rep.problems == 1 ? "" : "s",
           rep.repaired ? " (repaired)" : "");
    if (flags & REEL_CHECK_HASH)
        printf("hashes: %llu closed recording%s match the BLAKE2b stored at close, %llu not hashed yet, %llu closed "
               "before Reel hashed recordings\n", (unsigned long long)rep.hash_ok, rep.hash_ok == 1 ? "" : "s",
               (unsigned long long)rep.hash_pending, (unsigned long long)rep.hash_none);
    return rep.problems && !(flags & REEL_CHECK_REPAIR) ? 3 : 0;
}

int reel_cmd_export(struct reel_cli *cli)
{
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_READ, &s))
        return 1;
    struct reel_camera cam;
    int64_t from, to;
    const char *out = reel_cli_opt(cli, "-o", true);
    if (!out)
        out = reel_cli_opt(cli, "--output", true);
    /* The camera's audio ("<camera>~audio" row) goes in unless --no-audio. */
    struct reel_mp4_range_opts aopts = { .audio = reel_cli_opt(cli, "--no-audio", false) == NULL };
    /* signed by default (issue 14): the reason and the exporter go in the manifest */
    bool sign = reel_cli_opt(cli, "--no-sign", false) == NULL;
    const char *reason = reel_cli_opt(cli, "--reason", true);
    const char *by = reel_cli_opt(cli, "--by", true);
    const char *redact = reel_cli_opt(cli, "--redact", true);   /* ac-redact: cmd_redact.c */
    int rc = range_args(cli, s, true, &cam, &from, &to);
    if (!rc && !out)
        rc = reel_cli_usage("export: -o FILE required");
    if (!rc)
        rc = reel_cli_no_more_opts(cli);
    if (rc) {
        reel_store_close(s);
        return rc;
    }
    if (redact) {
        struct reel_redact_cli ra = { .store = s, .datadir = cli->datadir, .camera = cam.name, .camera_id = cam.id,
                                      .from90k = from, .to90k = to, .boxes_path = redact, .out = out,
                                      .reason = reason, .by = by, .sign = sign };
        rc = reel_cmd_export_redact(&ra);
        reel_store_close(s);
        return rc;
    }
    struct reel_mp4 *m = NULL;
    struct reel_err err = { "" };
    /* the MP4 and its source recordings (with their hashes) from one snapshot */
    struct reel_recording *recs = NULL;
    size_t nrecs = 0;
    int r = reel_store_read_begin(s, &err);
    if (r == 0)
        r = reel_mp4_for_range_opts(s, cam.id, from, to, &aopts, &m, &err);
    if (r == 0 && sign)
        r = reel_store_recordings(s, cam.id, from, to, &recs, &nrecs, &err);
    /* the audio track's recordings (the "<camera>~audio" row) are sources too */
    struct reel_camera acam;
    if (r == 0 && sign && aopts.audio && !cam.parent_id &&
        reel_store_camera_stream(s, cam.id, REEL_STREAM_AUDIO, false, &acam, NULL) == 0) {
        struct reel_recording *arecs = NULL;
        size_t na = 0;
        r = reel_store_recordings(s, acam.id, from, to, &arecs, &na, &err);
        struct reel_recording *all = r == 0 && na ? realloc(recs, (nrecs + na) * sizeof(*recs)) : NULL;
        if (all) {
            memcpy(all + nrecs, arecs, na * sizeof(*arecs));
            recs = all;
            nrecs += na;
            free(arecs);    /* the index blobs moved into recs */
        } else {
            if (r == 0 && na)
                r = reel_err_set(&err, ENOMEM, "out of memory");
            reel_recordings_free(arecs, na);
        }
    }
    reel_store_read_end(s);
    reel_store_close(s);
    if (r < 0) {
        reel_mp4_free(m);
        return reel_cli_fail("export %s: %s", cam.name, err.msg[0] ? err.msg : strerror(-r));
    }
    /* Footage is private: the file is created 0600, as a new file that is
     * no symbolic link (O_EXCL, O_NOFOLLOW), so that a link planted in a
     * shared directory cannot make the export overwrite another file; a
     * stale FILE.partial (itself, not what a link names) is removed first.
     * The rename then replaces FILE as a directory entry; FILE must not be
     * a link either (replacing the link would not write to its target,
     * but the user meant the target). */
    char tmp[4200];
    struct stat ost;
    if (snprintf(tmp, sizeof(tmp), "%s.partial", out) >= (int)sizeof(tmp)) {
        reel_mp4_free(m);
        reel_recordings_free(recs, nrecs);
        return reel_cli_fail("export: output path too long");
    }
    if (lstat(out, &ost) == 0 && !S_ISREG(ost.st_mode)) {
        reel_mp4_free(m);
        reel_recordings_free(recs, nrecs);
        return reel_cli_fail("export: %s exists and is not a regular file (%s): not replacing it", out,
                             S_ISLNK(ost.st_mode) ? "a symbolic link" : "a directory or a device");
    }
    if (unlink(tmp) < 0 && errno != ENOENT) {
        reel_mp4_free(m);
        reel_recordings_free(recs, nrecs);
        return reel_cli_fail("export: cannot remove the stale %s: %s", tmp, strerror(errno));
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        reel_mp4_free(m);
        reel_recordings_free(recs, nrecs);
        return reel_cli_fail("export: cannot create %s: %s", tmp, strerror(errno));
    }
    uint64_t size = reel_mp4_size(m), off = 0;
    static uint8_t buf[1 << 20];
    while (off < size) {
        size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
        ssize_t n = reel_mp4_read(m, off, buf, want);
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            reel_mp4_free(m);
            reel_recordings_free(recs, nrecs);
            return reel_cli_fail("export: reading footage at byte %llu failed: %s", (unsigned long long)off,
                                 n < 0 ? strerror((int)-n) : "unexpected end");
        }
        for (ssize_t w = 0; w < n;) {
            ssize_t k = write(fd, buf + w, (size_t)(n - w));
            if (k < 0) {
                int e = errno;
                close(fd);
                unlink(tmp);
                reel_mp4_free(m);
                reel_recordings_free(recs, nrecs);
                return reel_cli_fail("export: writing %s failed: %s", tmp, strerror(e));
            }
            w += k;
        }
        off += (uint64_t)n;
    }
    int64_t dur = reel_mp4_duration90k(m), adur = reel_mp4_audio_duration90k(m);
    uint32_t frames = reel_mp4_frames(m);
    reel_mp4_free(m);
    if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, out) < 0) {
        unlink(tmp);
        reel_recordings_free(recs, nrecs);
        return reel_cli_fail("export: cannot finish %s: %s", out, strerror(errno));
    }
    if (sign) {
        rc = reel_cli_sign_export(cli, out, cam.name, from, to, recs, nrecs, frames, by, reason);
        reel_recordings_free(recs, nrecs);
        if (rc)
            return rc;
        printf("signed %s with the site key (manifest inside, and %s%s)\n", out, out, ".sig.json");
    }
    if (adur > 0)
        printf("exported %s: %.3f s, %llu bytes, with an audio track of %.3f s\n", out, (double)dur / REEL_90K,
               (unsigned long long)size, (double)adur / REEL_90K);
    else
        printf("exported %s: %.3f s, %llu bytes\n", out, (double)dur / REEL_90K, (unsigned long long)size);
    return 0;
}

int reel_cmd_recordings(struct reel_cli *cli)
{
    struct reel_store *s;
    struct reel_camera cam;
    int64_t from, to;
    int rc = open_for_camera(cli, false, &s, &cam, &from, &to);
    if (rc)
        return rc;
    struct reel_recording *recs = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    if (reel_store_recordings(s, cam.id, from, to, &recs, &n, &err) < 0) {
        reel_store_close(s);
        return reel_cli_fail("recordings %s: %s", cam.name, err.msg);
    }
    for (size_t i = 0; i < n; i++) {
        char st[40], du[32];
        reel_time_format(recs[i].start90k, st, sizeof(st));
        fmt_duration(recs[i].wall_duration90k, du, sizeof(du));
        char hash[80] = "";
        if (recs[i].hash_len == 32) {
            memcpy(hash, " blake2b=", 9);
            reel_hex_encode(recs[i].blake2b, 32, hash + 9);
        }
        printf("%lld run=%lld start=%s start90k=%lld wall90k=%lld media90k=%lld frames=%u bytes=%llu entry=%lld%s%s\n",
               (long long)recs[i].id, (long long)recs[i].run_id, st, (long long)recs[i].start90k,
               (long long)recs[i].wall_duration90k,
               (long long)recs[i].media_duration90k, recs[i].frames, (unsigned long long)recs[i].bytes,
               (long long)recs[i].sample_entry_id, hash, recs[i].open ? " open" : "");
    }
    reel_recordings_free(recs, n);
    reel_store_close(s);
    return 0;
}

int reel_cmd_gaps(struct reel_cli *cli)
{
    struct reel_store *s;
    struct reel_camera cam;
    int64_t from, to;
    int rc = open_for_camera(cli, false, &s, &cam, &from, &to);
    if (rc)
        return rc;
    struct reel_gap *gaps = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    if (reel_store_gaps(s, cam.id, from, to, &gaps, &n, &err) < 0) {
        reel_store_close(s);
        return reel_cli_fail("gaps %s: %s", cam.name, err.msg);
    }
    for (size_t i = 0; i < n; i++) {
        char a[40], b[40] = "(ongoing)";
        reel_time_format(gaps[i].start90k, a, sizeof(a));
        if (gaps[i].end90k >= 0)
            reel_time_format(gaps[i].end90k, b, sizeof(b));
        printf("%s %s %s\n", a, b, gaps[i].reason);
    }
    free(gaps);
    reel_store_close(s);
    return 0;
}

/* One line per stored frame: recording, wall time (90k), duration, size,
 * key flag, and the digest of its VCL NAL units. Tests compare these with
 * the frames the camera sent. */
int reel_cmd_frames(struct reel_cli *cli)
{
    struct reel_store *s;
    struct reel_camera cam;
    int64_t from, to;
    int rc = open_for_camera(cli, false, &s, &cam, &from, &to);
    if (rc)
        return rc;
    struct reel_recording *recs = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    if (reel_store_recordings(s, cam.id, from, to, &recs, &n, &err) < 0) {
        reel_store_close(s);
        return reel_cli_fail("frames %s: %s", cam.name, err.msg);
    }
    rc = 0;
    uint8_t *buf = NULL;
    size_t bufcap = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        struct reel_recording *rr = &recs[i];
        struct reel_sample_entry se;
        if (reel_store_sample_entry_get(s, rr->sample_entry_id, &se, &err) < 0) {
            rc = reel_cli_fail("recording %lld: %s", (long long)rr->id, err.msg);
            break;
        }
        enum reel_codec codec = strncmp(se.codec_string, "hvc1", 4) == 0 || strncmp(se.codec_string, "hev1", 4) == 0
                                    ? REEL_CODEC_H265 : REEL_CODEC_H264;
        free(se.data);
        struct reel_frame_info *fi = calloc(rr->frames ? rr->frames : 1, sizeof(*fi));
        if (!fi || reel_index_decode(rr->index, rr->index_len, rr->frames, fi, &err) < 0) {
            free(fi);
            rc = reel_cli_fail("recording %lld: bad index: %s", (long long)rr->id, err.msg);
            break;
        }
        int fd = open(rr->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            free(fi);
            rc = reel_cli_fail("recording %lld: cannot open %s: %s", (long long)rr->id, rr->path, strerror(errno));
            break;
        }
        uint64_t off = 0;
        int64_t t = 0;
        for (uint32_t k = 0; k < rr->frames; k++) {
            if (fi[k].size > bufcap) {
                uint8_t *nb = realloc(buf, fi[k].size);
                if (!nb) {
                    rc = reel_cli_fail("out of memory");
                    break;
                }
                buf = nb;
                bufcap = fi[k].size;
            }
            if (pread(fd, buf, fi[k].size, (off_t)off) != (ssize_t)fi[k].size) {
                rc = reel_cli_fail("recording %lld: %s shorter than its index", (long long)rr->id, rr->path);
                break;
            }
            uint8_t dg[32];
            char hex[65];
            reel_vcl_digest(codec, buf, fi[k].size, dg);
            reel_hex_encode(dg, sizeof(dg), hex);
            int64_t wall = rr->start90k + (rr->media_duration90k > 0
                                               ? t * rr->wall_duration90k / rr->media_duration90k : t);
            printf("%lld %lld %d %u %d %s\n", (long long)rr->id, (long long)wall, fi[k].duration90k,
                   fi[k].size, fi[k].key ? 1 : 0, hex);
            off += fi[k].size;
            t += fi[k].duration90k;
        }
        close(fd);
        free(fi);
    }
    free(buf);
    reel_recordings_free(recs, n);
    reel_store_close(s);
    return rc;
}
