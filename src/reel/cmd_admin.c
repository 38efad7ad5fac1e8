/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Administrative sub-commands: init, camera add/set/enable/disable/list/
 * remove, storage add/list. Camera passwords come from a file (never the
 * command line, where other users could read them from /proc) or from the
 * URL's userinfo, and are never printed. A camera change is written to
 * reel.db, then the running recorder (if any) is told through its control
 * socket and applies it (docs/recorder.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reel/cli.h"
#include "reel/control.h"
#include "reel/timefmt.h"

/* The recorder answers once applied (at most 5 s) and after committing a
 * stopped camera's last recording. */
#define NOTIFY_TIMEOUT_NS (20 * REEL_NS_PER_SEC)

/* Tells the running recorder that camera `name` changed. 0 when applied
 * or when no recorder runs (said on stdout); 1 with a message otherwise. */
static int notify_recorder(struct reel_cli *cli, const char *name, bool quiet)
{
    char line[REEL_NAME_MAX + 16], errbuf[REEL_CONTROL_LINE_MAX];
    snprintf(line, sizeof(line), "camera %s", name);
    int r = reel_control_request(cli->datadir, line, NOTIFY_TIMEOUT_NS, NULL, NULL, errbuf, sizeof(errbuf));
    if (r == 0) {
        if (!quiet)
            printf("applied by the running recorder\n");
        return 0;
    }
    if (r == -ENOENT || r == -ECONNREFUSED) {
        if (!quiet)
            printf("the recorder is not running: takes effect at its next start\n");
        return 0;
    }
    if (r == -EREMOTEIO)
        return reel_cli_fail("camera %s: the running recorder could not apply the change: %s", name, errbuf);
    if (r == -ETIMEDOUT)
        return reel_cli_fail("camera %s: the running recorder did not answer within %lld s; the change is "
                             "stored and takes effect at its next start", name,
                             (long long)(NOTIFY_TIMEOUT_NS / REEL_NS_PER_SEC));
    return reel_cli_fail("camera %s: cannot reach the running recorder (%s/%s): %s", name, cli->datadir,
                         REEL_CONTROL_SOCKET, strerror(-r));
}

int reel_cmd_init(struct reel_cli *cli)
{
    if (cli->argc > 0 && cli->argv[0][0] != '-')
        cli->datadir = cli->argv[0];
    struct reel_err err = { "" };
    int r = reel_store_init(cli->datadir, &err);
    if (r == -EEXIST) {
        printf("%s is already initialised\n", cli->datadir);
        return reel_cli_site_key(cli); /* an install older than site keys gets its pair */
    }
    if (r < 0)
        return reel_cli_fail("cannot initialise %s: %s", cli->datadir, err.msg[0] ? err.msg : strerror(-r));
    printf("initialised %s\n", cli->datadir);
    if (reel_cli_site_key(cli))
        return 1;
    return reel_cli_bootstrap_admin(cli);
}

static int read_password_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reel_cli_fail("cannot read password file %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return reel_cli_fail("cannot read password file %s: %s", path, strerror(errno));
    if ((size_t)n == cap - 1)
        return reel_cli_fail("password file %s: longer than %zu bytes", path, cap - 2);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return 0;
}

static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '%' && i + 2 < n) {
            char hx[3] = { s[i + 1], s[i + 2], 0 };
            char *end;
            long v = strtol(hx, &end, 16);
            if (*end)
                return -EINVAL;
            ch = (char)v;
            i += 2;
        }
        if (o + 1 >= cap)
            return -EMSGSIZE;
        out[o++] = ch;
    }
    out[o] = '\0';
    return 0;
}

/* Moves user:password@ out of an rtsp:// URL. */
static int split_userinfo(const char *url, char *ret_url, size_t url_cap, char *user, size_t user_cap,
                          char *pass, size_t pass_cap, bool *had)
{
    *had = false;
    if (strncmp(url, "rtsp://", 7) != 0)
        return reel_cli_fail("camera URL must start with rtsp://: %s", url);
    const char *auth = url + 7;
    const char *slash = strchr(auth, '/');
    const char *at = memchr(auth, '@', slash ? (size_t)(slash - auth) : strlen(auth));
    if (!at) {
        snprintf(ret_url, url_cap, "%s", url);
        return 0;
    }
    /* the last '@' before the path separates userinfo from host */
    const char *a2;
    while ((a2 = memchr(at + 1, '@', slash ? (size_t)(slash - at - 1) : strlen(at + 1))))
        at = a2;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    size_t ulen = colon ? (size_t)(colon - auth) : (size_t)(at - auth);
    if (pct_decode(auth, ulen, user, user_cap) < 0)
        return reel_cli_fail("camera URL: bad user name");
    if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), pass, pass_cap) < 0)
        return reel_cli_fail("camera URL: bad password");
    *had = true;
    snprintf(ret_url, url_cap, "rtsp://%s", at + 1);
    return 0;
}

static int camera_options(struct reel_cli *cli, struct reel_camera *cam, char *pass, size_t pass_cap,
                          bool *ret_has_pass)
{
    const char *v;
    if ((v = reel_cli_opt(cli, "--user", true)))
        snprintf(cam->user, sizeof(cam->user), "%s", v);
    if ((v = reel_cli_opt(cli, "--password-file", true))) {
        if (read_password_file(v, pass, pass_cap))
            return 1;
        *ret_has_pass = true;
    }
    if (reel_cli_opt(cli, "--udp", false))
        cam->udp = true;
    if (reel_cli_opt(cli, "--tcp", false))
        cam->udp = false;
    bool dis = reel_cli_opt(cli, "--disabled", false) != NULL;
    bool en = reel_cli_opt(cli, "--enabled", false) != NULL;
    if (dis && en)
        return reel_cli_usage("--disabled and --enabled exclude each other");
    if (dis || en)
        cam->disabled = dis;
    if ((v = reel_cli_opt(cli, "--retain-bytes", true))) {
        if (reel_size_parse(v, &cam->retain_bytes) < 0)
            return reel_cli_usage("--retain-bytes: '%s' is not a size (e.g. 500G)", v);
    }
    if ((v = reel_cli_opt(cli, "--retain-hours", true))) {
        double h = strtod(v, NULL);
        if (h <= 0)
            return reel_cli_usage("--retain-hours: '%s' is not a positive number", v);
        cam->retain_seconds = (int64_t)(h * 3600);
    }
    if ((v = reel_cli_opt(cli, "--retain-days", true))) {
        double d = strtod(v, NULL);
        if (d <= 0)
            return reel_cli_usage("--retain-days: '%s' is not a positive number", v);
        cam->retain_seconds = (int64_t)(d * 86400);
    }
    if ((v = reel_cli_opt(cli, "--audio", true))) {
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
            return reel_cli_usage("--audio: expected on or off, not '%s'", v);
        if (cam->parent_id)
            return reel_cli_usage("--audio: %s is a stream row; set it on its camera", cam->name);
        cam->audio = strcmp(v, "on") == 0;
    }
    /* hostile-camera exceptions (docs/security.md): --allow-redirect /
     * --no-allow-redirect, --allow-basic / --no-allow-basic */
    if (reel_cli_opt(cli, "--allow-redirect", false))
        cam->allow_redirect = true;
    if (reel_cli_opt(cli, "--no-allow-redirect", false))
        cam->allow_redirect = false;
    if (reel_cli_opt(cli, "--allow-basic", false))
        cam->allow_basic = true;
    if (reel_cli_opt(cli, "--no-allow-basic", false))
        cam->allow_basic = false;
    if ((v = reel_cli_opt(cli, "--storage", true))) {
        cam->dir_id = strtoll(v, NULL, 10);
        if (cam->dir_id <= 0)
            return reel_cli_usage("--storage: expected a storage directory id (see `reel storage list`)");
    }
    return 0;
}

/* The sub-stream options of camera add/set: the sub-stream is a row of its
 * own ("NAME~sub", src/store/stream.c) with its own URL, retention and
 * storage directory; user, password, transport and enabled follow the
 * camera (it is the same device). */
struct sub_opts {
    char url[REEL_URL_MAX];         /* --sub-url, "" = unchanged */
    bool none;                      /* --no-sub (set only) */
    bool del, yes;                  /* --delete-footage --yes, with --no-sub */
    bool has_bytes, has_secs, has_dir;
    int64_t retain_bytes, retain_seconds, dir_id;
};

static int sub_options(struct reel_cli *cli, bool add, struct sub_opts *o)
{
    memset(o, 0, sizeof(*o));
    const char *v;
    if ((v = reel_cli_opt(cli, "--sub-url", true))) {
        char u[128] = "", p[256] = "";
        bool had;
        if (split_userinfo(v, o->url, sizeof(o->url), u, sizeof(u), p, sizeof(p), &had))
            return 1;
        explicit_bzero(p, sizeof(p));
        if (had)
            return reel_cli_usage("--sub-url: no user:password@ here: the sub-stream uses the camera's "
                                  "(--user, --password-file or the main URL)");
    }
    if (!add) {
        o->none = reel_cli_opt(cli, "--no-sub", false) != NULL;
        o->del = reel_cli_opt(cli, "--delete-footage", false) != NULL;
        o->yes = reel_cli_opt(cli, "--yes", false) != NULL;
    }
    if ((v = reel_cli_opt(cli, "--sub-retain-bytes", true))) {
        if (reel_size_parse(v, &o->retain_bytes) < 0)
            return reel_cli_usage("--sub-retain-bytes: '%s' is not a size (e.g. 50G)", v);
        o->has_bytes = true;
    }
    const char *h = reel_cli_opt(cli, "--sub-retain-hours", true);
    const char *d = reel_cli_opt(cli, "--sub-retain-days", true);
    if (h && d)
        return reel_cli_usage("--sub-retain-hours and --sub-retain-days exclude each other");
    if (h || d) {
        double x = strtod(h ? h : d, NULL);
        if (x <= 0)
            return reel_cli_usage("--sub-retain-%s: '%s' is not a positive number", h ? "hours" : "days", h ? h : d);
        o->retain_seconds = (int64_t)(x * (h ? 3600 : 86400));
        o->has_secs = true;
    }
    if ((v = reel_cli_opt(cli, "--sub-storage", true))) {
        o->dir_id = strtoll(v, NULL, 10);
        if (o->dir_id <= 0)
            return reel_cli_usage("--sub-storage: expected a storage directory id (see `reel storage list`)");
        o->has_dir = true;
    }
    if (o->none && (o->url[0] || o->has_bytes || o->has_secs || o->has_dir))
        return reel_cli_usage("--no-sub excludes the other --sub-* options");
    if ((o->del || o->yes) && !o->none)
        return reel_cli_usage("camera set: --delete-footage and --yes go with --no-sub");
    return 0;
}

/* The rows (streams) of camera id; *ret malloc'd. 0 or the exit code. */
static int camera_streams(struct reel_store *s, int64_t id, struct reel_camera **ret, size_t *ret_n)
{
    struct reel_camera *all = NULL;
    size_t n = 0, k = 0;
    struct reel_err err = { "" };
    if (reel_store_camera_list(s, &all, &n, &err) < 0)
        return reel_cli_fail("cannot list cameras: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        if (all[i].parent_id == id)
            all[k++] = all[i];
    *ret = all;
    *ret_n = k;
    return 0;
}

/* Refuses a stream row where a camera is expected. */
static int need_camera(const struct reel_camera *c, const char *what)
{
    if (c->parent_id == 0)
        return 0;
    return reel_cli_usage("%s is a stream of a camera, not a camera: use `camera %s` on its camera (--sub-url, "
                          "--no-sub, --sub-retain-*)", c->name, what);
}

/* Tells the running recorder about each of names[0..n). */
static int notify_all(struct reel_cli *cli, char (*names)[REEL_NAME_MAX], size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int r = notify_recorder(cli, names[i], i + 1 < n);
        if (r && !rc)
            rc = r;
    }
    return rc;
}

/* Counts the recordings of camera id; 0 or the exit code. */
static int count_recordings(struct reel_store *s, const struct reel_camera *c, size_t *ret)
{
    struct reel_recording *recs = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    int r = reel_store_recordings(s, c->id, 0, INT64_MAX / 2, &recs, &n, &err);
    reel_recordings_free(recs, n);
    if (r < 0)
        return reel_cli_fail("camera %s: %s", c->name, err.msg);
    *ret = n;
    return 0;
}

static bool confirm(const char *question);

/* The footage rule of camera remove and set --no-sub: footage is deleted only
 * with --delete-footage, confirmed by --yes or on a terminal. */
static int footage_ok(const char *what, const char *name, size_t nrec, bool del, bool yes)
{
    if (nrec > 0 && !del)
        return reel_cli_fail("%s has footage (%zu recordings); keep it, or pass --delete-footage --yes to delete "
                             "it (or `camera disable %s` to stop recording it)", what, nrec, name);
    if (del && nrec > 0 && !yes) {
        if (!isatty(0))
            return reel_cli_fail("%s: --delete-footage deletes %zu recordings: confirm with --yes", what, nrec);
        char q[256];
        snprintf(q, sizeof(q), "delete %s and its %zu recordings?", what, nrec);
        if (!confirm(q))
            return reel_cli_fail("%s kept", what);
    }
    return 0;
}

/* Second step of removing rows: after the recorder stopped them (disabled
 * and told), each row goes, in order (streams before their camera). */
static int remove_rows(struct reel_cli *cli, char (*names)[REEL_NAME_MAX], size_t n, bool del)
{
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        struct reel_err err = { "" };
        int r = reel_store_camera_remove(s, names[i], del, &err);
        if (r < 0)
            rc = reel_cli_fail("camera remove %s: %s; it is disabled, not removed", names[i],
                               err.msg[0] ? err.msg : strerror(-r));
    }
    reel_store_close(s);
    return rc;
}

static int camera_add_or_set(struct reel_cli *cli, bool add)
{
    struct reel_camera cam, old, sub;
    memset(&cam, 0, sizeof(cam));
    memset(&sub, 0, sizeof(sub));
    char pass[256] = "";
    bool has_pass = false;
    const char *url = NULL;
    struct sub_opts so;
    /* the rows to tell the recorder about: the camera, its sub-stream */
    char touched[2][REEL_NAME_MAX];
    size_t ntouched = 0;
    bool sub_created = false, remove_sub = false;
    size_t sub_recs = 0;
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    int rc = 1;
    const char *name = cli->argc > 0 ? cli->argv[0] : NULL;
    if (!name) {
        rc = reel_cli_usage("camera %s: NAME required", add ? "add" : "set");
        goto out;
    }
    if (!add && (reel_cli_camera(s, name, &cam) || (rc = need_camera(&cam, "set"))))
        goto out;
    old = cam;
    const char *url_opt = add ? NULL : reel_cli_opt(cli, "--url", true);
    if ((rc = sub_options(cli, add, &so)) || (rc = camera_options(cli, &cam, pass, sizeof(pass), &has_pass)) ||
        (rc = reel_cli_no_more_opts(cli)))
        goto out;
    rc = 1;
    url = add ? (cli->argc > 1 ? cli->argv[1] : NULL) : url_opt;
    if (add && !url) {
        rc = reel_cli_usage("camera add: URL required");
        goto out;
    }
    if (url) {
        char u[128] = "", p[256] = "";
        bool had;
        if (split_userinfo(url, cam.url, sizeof(cam.url), u, sizeof(u), p, sizeof(p), &had))
            goto out;
        /* A password on the command line is seen by every local user (ps,
         * /proc/PID/cmdline) and kept in shell history: refused. A bare
         * user name is no secret and is moved out of the URL. */
        if (had && p[0]) {
            explicit_bzero(p, sizeof(p));
            rc = reel_cli_fail("camera URL: no password in the URL on the command line (other users see it in "
                                "the process list): use --user NAME --password-file FILE");
            goto out;
        }
        if (had) {
            snprintf(cam.user, sizeof(cam.user), "%s", u);
            if (p[0] && !has_pass) {
                snprintf(pass, sizeof(pass), "%s", p);
                has_pass = true;
            }
            fprintf(stderr, "reel: credentials moved out of the URL and stored separately\n");
        }
        explicit_bzero(p, sizeof(p));
    }
    snprintf(cam.name, sizeof(cam.name), "%s", name);
    struct reel_err err = { "" };
    bool has_sub = false;
    if (!add) {
        int r = reel_store_camera_stream(s, cam.id, REEL_STREAM_SUB, false, &sub, &err);
        if (r < 0 && r != -ENOENT) {
            reel_cli_fail("camera set %s: %s", name, err.msg);
            goto out;
        }
        has_sub = r == 0;
        if (!has_sub && !so.url[0] && (so.has_bytes || so.has_secs || so.has_dir)) {
            rc = reel_cli_usage("camera %s has no sub-stream: give its --sub-url", name);
            goto out;
        }
        rc = 0;
        if (so.none && has_sub && (rc = count_recordings(s, &sub, &sub_recs)) == 0) {
            char what[REEL_NAME_MAX + 32];
            snprintf(what, sizeof(what), "sub-stream %s", sub.name);
            rc = footage_ok(what, name, sub_recs, so.del, so.yes);
        }
        if (rc)
            goto out;
        rc = 1;
    }
    int r = add ? reel_store_camera_add(s, &cam, has_pass ? pass : NULL, &err)
                : reel_store_camera_update(s, &cam, has_pass ? pass : NULL, &err);
    if (r < 0) {
        reel_cli_fail("camera %s %s: %s", add ? "add" : "set", name, err.msg[0] ? err.msg : strerror(-r));
        goto out;
    }
    /* the camera is always told (an unchanged row is a no-op for the recorder) */
    snprintf(touched[ntouched++], REEL_NAME_MAX, "%s", cam.name);
    printf("camera %s %s: %s%s%s%s%s%s\n", name, add ? "added" : "updated", cam.url, cam.udp ? " (udp)" : "",
           cam.disabled ? " (disabled)" : "", cam.audio ? " (audio)" : "",
           cam.allow_redirect ? " (allow-redirect)" : "", cam.allow_basic ? " (allow-basic)" : "");
    if (so.url[0] && !has_sub) {
        r = reel_store_camera_stream(s, cam.id, REEL_STREAM_SUB, true, &sub, &err);
        if (r < 0) {
            reel_cli_fail("camera %s: cannot add its sub-stream: %s", name, err.msg);
            goto undo;
        }
        sub_created = has_sub = true;
    }
    if (has_sub) {
        struct reel_camera before = sub;
        /* the same device: credentials, transport and enabled follow */
        snprintf(sub.user, sizeof(sub.user), "%s", cam.user);
        sub.udp = cam.udp;
        sub.allow_redirect = cam.allow_redirect;
        sub.allow_basic = cam.allow_basic;
        if (add || cam.disabled != old.disabled || so.none)
            sub.disabled = cam.disabled || so.none;
        if (so.url[0])
            snprintf(sub.url, sizeof(sub.url), "%s", so.url);
        if (so.has_bytes)
            sub.retain_bytes = so.retain_bytes;
        if (so.has_secs)
            sub.retain_seconds = so.retain_seconds;
        if (so.has_dir)
            sub.dir_id = so.dir_id;
        if (so.none || sub_created || has_pass || memcmp(&before, &sub, sizeof(sub)) != 0) {
            r = reel_store_camera_update(s, &sub, has_pass ? pass : NULL, &err);
            if (r < 0) {
                reel_cli_fail("camera %s: sub-stream: %s", name, err.msg[0] ? err.msg : strerror(-r));
                goto undo;
            }
            snprintf(touched[ntouched++], REEL_NAME_MAX, "%s", sub.name);
            remove_sub = so.none;
            if (!so.none)
                printf("sub-stream %s: %s\n", sub.name, sub.url);
        }
    } else if (so.none) {
        printf("camera %s has no sub-stream\n", name);
    }
    if (cam.audio) {   /* the audio is recorded as the "<name>~audio" row's (docs/audio.md) */
        struct reel_camera arow;
        r = reel_store_camera_stream(s, cam.id, REEL_STREAM_AUDIO, true, &arow, &err);
        if (r < 0) {
            reel_cli_fail("camera %s: cannot add its audio stream: %s", name, err.msg[0] ? err.msg : strerror(-r));
            goto undo;
        }
    }
    explicit_bzero(pass, sizeof(pass));
    reel_store_close(s);
    rc = notify_all(cli, touched, ntouched);
    if (remove_sub && !rc) {
        /* the recorder stopped it (disabled above); now the row goes */
        rc = remove_rows(cli, touched + ntouched - 1, 1, so.del);
        if (!rc) {
            printf("sub-stream %s removed%s\n", sub.name, sub_recs ? " with its footage" : "");
            rc = notify_recorder(cli, sub.name, true);
        }
    }
    return rc;
undo:
    /* a camera added here goes again rather than stay half made; a changed
     * camera keeps its change, which the recorder is told */
    if (sub_created)
        reel_store_camera_remove(s, sub.name, false, &err);
    if (add && reel_store_camera_remove(s, name, false, &err) == 0)
        printf("camera %s not added\n", name);
    if (!add) {
        explicit_bzero(pass, sizeof(pass));
        reel_store_close(s);
        notify_recorder(cli, name, false);
        return 1;
    }
out:
    explicit_bzero(pass, sizeof(pass));
    reel_store_close(s);
    return rc;
}

static void fmt_bytes(int64_t b, char *buf, size_t cap)
{
    const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)b;
    int i = 0;
    while (v >= 1024 && i < 4) {
        v /= 1024;
        i++;
    }
    snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void print_row(const struct reel_camera *c, const char *label)
{
    char rb[32] = "-";
    if (c->retain_bytes)
        fmt_bytes(c->retain_bytes, rb, sizeof(rb));
    if (c->parent_id == 0)
        printf("%-16s %s%s%s%s%s user=%s password=%s retain-bytes=%s retain-hours=%.1f\n", label, c->url,
               c->udp ? " udp" : " tcp", c->disabled ? " disabled" : "", c->allow_redirect ? " allow-redirect" : "",
               c->allow_basic ? " allow-basic" : "", c->user[0] ? c->user : "-",
               c->has_password ? "(set)" : "-", rb, (double)c->retain_seconds / 3600);
    else /* user, password and transport are the camera's */
        printf("  %-14s %s%s retain-bytes=%s retain-hours=%.1f storage=%lld\n", label, c->url,
               c->disabled ? " disabled" : "", rb, (double)c->retain_seconds / 3600, (long long)c->dir_id);
}

/* Each camera, its streams nested under it ("~sub", "~audio"). */
static int camera_list(struct reel_cli *cli)
{
    if (reel_cli_no_more_opts(cli))
        return 2;
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_READ, &s))
        return 1;
    struct reel_camera *cams = NULL;
    size_t n = 0;
    struct reel_err err = { "" };
    if (reel_store_camera_list(s, &cams, &n, &err) < 0) {
        reel_store_close(s);
        return reel_cli_fail("cannot list cameras: %s", err.msg);
    }
    for (size_t i = 0; i < n; i++) {
        if (cams[i].parent_id)
            continue;
        print_row(&cams[i], cams[i].name);
        for (size_t k = 0; k < n; k++)
            if (cams[k].parent_id == cams[i].id) {
                char label[REEL_NAME_MAX];
                const char *tilde = strrchr(cams[k].name, '~');
                snprintf(label, sizeof(label), "%s", tilde ? tilde : cams[k].name);
                print_row(&cams[k], label);
            }
    }
    free(cams);
    reel_store_close(s);
    return 0;
}

/* Sets the enabled flag of camera `name` and of its streams; the names of
 * the rows whose flag changed go to names (at most cap; the camera first),
 * their count to *ret_n. With for_remove the streams come first (the order
 * in which they are removed) and every row is named. 0 or the exit code. */
static int set_disabled(struct reel_cli *cli, const char *name, bool disabled, bool for_remove,
                        char (*names)[REEL_NAME_MAX], size_t cap, size_t *ret_n)
{
    struct reel_store *s;
    *ret_n = 0;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    struct reel_camera cam, *streams = NULL;
    size_t ns = 0;
    int rc = reel_cli_camera(s, name, &cam);
    if (!rc)
        rc = need_camera(&cam, disabled ? (for_remove ? "remove" : "disable") : "enable");
    if (!rc)
        rc = camera_streams(s, cam.id, &streams, &ns);
    if (!rc && ns + 1 > cap)
        rc = reel_cli_fail("camera %s: %zu streams (more than expected)", name, ns);
    for (size_t i = 0; i <= ns && !rc; i++) {
        /* the camera first, so that its streams never record without it */
        struct reel_camera *c = i == 0 ? &cam : &streams[i - 1];
        if (c->disabled != disabled) {
            c->disabled = disabled;
            struct reel_err err = { "" };
            int r = reel_store_camera_update(s, c, NULL, &err);
            if (r < 0) {
                rc = reel_cli_fail("camera %s: %s", c->name, err.msg[0] ? err.msg : strerror(-r));
                break;
            }
        } else if (!for_remove) {
            continue;
        }
        size_t at = for_remove ? (i == 0 ? ns : i - 1) : (*ret_n);
        snprintf(names[at], REEL_NAME_MAX, "%s", c->name);
        (*ret_n)++;
    }
    free(streams);
    reel_store_close(s);
    return rc;
}

static int camera_enable(struct reel_cli *cli, bool enable)
{
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (cli->argc < 1)
        return reel_cli_usage("camera %s: NAME required", enable ? "enable" : "disable");
    const char *name = cli->argv[0];
    char names[8][REEL_NAME_MAX];
    size_t n = 0;
    int rc = set_disabled(cli, name, !enable, false, names, 8, &n);
    if (rc)
        return rc;
    printf("camera %s %s%s\n", name, enable ? "enabled" : "disabled", n ? "" : " (already)");
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) != 0)
            printf("stream %s %s\n", names[i], enable ? "enabled" : "disabled");
    if (n == 0) /* unchanged; the recorder applies it anyway */
        return notify_recorder(cli, name, false);
    return notify_all(cli, names, n);
}

/* Asks on the terminal; false unless the answer starts with y. */
static bool confirm(const char *question)
{
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[16];
    if (!fgets(line, sizeof(line), stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

/* Removing a camera: it and its streams are first disabled and the running
 * recorder stops them (their runs closed and committed), then the rows go,
 * the streams first. Footage (of the camera and its streams) is deleted
 * only with --delete-footage, confirmed by --yes or on a terminal. */
static int camera_remove(struct reel_cli *cli)
{
    bool del = reel_cli_opt(cli, "--delete-footage", false) != NULL;
    bool yes = reel_cli_opt(cli, "--yes", false) != NULL;
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (cli->argc < 1)
        return reel_cli_usage("camera remove: NAME required");
    const char *name = cli->argv[0];
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_READ, &s))
        return 1;
    struct reel_camera cam, *streams = NULL;
    size_t ns = 0, nrec = 0;
    int rc = reel_cli_camera(s, name, &cam);
    if (!rc)
        rc = need_camera(&cam, "remove");
    if (!rc)
        rc = camera_streams(s, cam.id, &streams, &ns);
    for (size_t i = 0; i <= ns && !rc; i++) {
        size_t k = 0;
        rc = count_recordings(s, i == 0 ? &cam : &streams[i - 1], &k);
        nrec += k;
    }
    free(streams);
    reel_store_close(s);
    if (rc)
        return rc;
    char what[REEL_NAME_MAX + 32];
    snprintf(what, sizeof(what), "camera %s%s", name, ns ? " (with its streams)" : "");
    if ((rc = footage_ok(what, name, nrec, del, yes)))
        return rc;
    /* Stop them first: the recorder closes and commits their runs. */
    char names[8][REEL_NAME_MAX];
    size_t n = 0;
    rc = set_disabled(cli, name, true, true, names, 8, &n);
    if (!rc) {
        for (size_t i = 0; i < n && !rc; i++)
            rc = notify_recorder(cli, names[i], true);
    }
    if (rc)
        return rc;
    rc = remove_rows(cli, names, n, del);
    if (rc)
        return rc;
    printf("camera %s removed%s%s\n", name, del && nrec ? " with its footage" : "", n > 1 ? " (and its streams)" : "");
    return notify_all(cli, names, n);
}

int reel_cmd_camera(struct reel_cli *cli)
{
    if (cli->argc < 1)
        return reel_cli_usage("camera: add, set, enable, disable, list or remove?");
    const char *sub = cli->argv[0];
    cli->argc--;
    cli->argv++;
    if (strcmp(sub, "add") == 0)
        return camera_add_or_set(cli, true);
    if (strcmp(sub, "set") == 0)
        return camera_add_or_set(cli, false);
    if (strcmp(sub, "list") == 0)
        return camera_list(cli);
    if (strcmp(sub, "remove") == 0)
        return camera_remove(cli);
    if (strcmp(sub, "enable") == 0)
        return camera_enable(cli, true);
    if (strcmp(sub, "disable") == 0)
        return camera_enable(cli, false);
    return reel_cli_usage("camera: unknown sub-command '%s'", sub);
}

int reel_cmd_storage(struct reel_cli *cli)
{
    if (cli->argc < 1)
        return reel_cli_usage("storage: add or list?");
    struct reel_store *s;
    struct reel_err err = { "" };
    if (strcmp(cli->argv[0], "add") == 0) {
        if (cli->argc < 2)
            return reel_cli_usage("storage add: PATH required");
        if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
            return 1;
        int64_t id;
        int r = reel_store_dir_add(s, cli->argv[1], &id, &err);
        reel_store_close(s);
        if (r < 0)
            return reel_cli_fail("storage add %s: %s", cli->argv[1], err.msg[0] ? err.msg : strerror(-r));
        printf("storage directory %lld: %s\n", (long long)id, cli->argv[1]);
        return 0;
    }
    if (strcmp(cli->argv[0], "list") == 0) {
        if (reel_cli_open(cli, REEL_STORE_READ, &s))
            return 1;
        struct reel_storage_dir *d = NULL;
        size_t n = 0;
        int r = reel_store_dir_list(s, &d, &n, &err);
        reel_store_close(s);
        if (r < 0)
            return reel_cli_fail("storage list: %s", err.msg);
        for (size_t i = 0; i < n; i++)
            printf("%lld %s\n", (long long)d[i].id, d[i].path);
        free(d);
        return 0;
    }
    return reel_cli_usage("storage: unknown sub-command '%s'", cli->argv[0]);
}
