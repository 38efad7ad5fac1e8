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
        return 0;
    }
    if (r < 0)
        return reel_cli_fail("cannot initialise %s: %s", cli->datadir, err.msg[0] ? err.msg : strerror(-r));
    printf("initialised %s\n", cli->datadir);
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
    if ((v = reel_cli_opt(cli, "--storage", true))) {
        cam->dir_id = strtoll(v, NULL, 10);
        if (cam->dir_id <= 0)
            return reel_cli_usage("--storage: expected a storage directory id (see `reel storage list`)");
    }
    return 0;
}

static int camera_add_or_set(struct reel_cli *cli, bool add)
{
    struct reel_camera cam;
    memset(&cam, 0, sizeof(cam));
    char pass[256] = "";
    bool has_pass = false;
    const char *url = NULL;
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    int rc = 1;
    const char *name = cli->argc > 0 ? cli->argv[0] : NULL;
    if (!name) {
        rc = reel_cli_usage("camera %s: NAME required", add ? "add" : "set");
        goto out;
    }
    if (!add && reel_cli_camera(s, name, &cam))
        goto out;
    const char *url_opt = add ? NULL : reel_cli_opt(cli, "--url", true);
    if ((rc = camera_options(cli, &cam, pass, sizeof(pass), &has_pass)) || (rc = reel_cli_no_more_opts(cli)))
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
        if (had) {
            snprintf(cam.user, sizeof(cam.user), "%s", u);
            if (p[0] && !has_pass) {
                snprintf(pass, sizeof(pass), "%s", p);
                has_pass = true;
            }
            fprintf(stderr, "reel: credentials moved out of the URL and stored separately\n");
        }
    }
    snprintf(cam.name, sizeof(cam.name), "%s", name);
    struct reel_err err = { "" };
    int r = add ? reel_store_camera_add(s, &cam, has_pass ? pass : NULL, &err)
                : reel_store_camera_update(s, &cam, has_pass ? pass : NULL, &err);
    if (r < 0) {
        reel_cli_fail("camera %s %s: %s", add ? "add" : "set", name, err.msg[0] ? err.msg : strerror(-r));
        goto out;
    }
    printf("camera %s %s: %s%s%s\n", name, add ? "added" : "updated", cam.url, cam.udp ? " (udp)" : "",
           cam.disabled ? " (disabled)" : "");
    explicit_bzero(pass, sizeof(pass));
    reel_store_close(s);
    return notify_recorder(cli, name, false);
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

static int camera_list(struct reel_cli *cli)
{
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
        char rb[32] = "-";
        if (cams[i].retain_bytes)
            fmt_bytes(cams[i].retain_bytes, rb, sizeof(rb));
        printf("%-16s %s%s%s user=%s password=%s retain-bytes=%s retain-hours=%.1f\n", cams[i].name,
               cams[i].url, cams[i].udp ? " udp" : " tcp", cams[i].disabled ? " disabled" : "",
               cams[i].user[0] ? cams[i].user : "-",
               cams[i].has_password ? "(set)" : "-", rb, (double)cams[i].retain_seconds / 3600);
    }
    free(cams);
    reel_store_close(s);
    return 0;
}

/* Sets the camera's enabled flag in the row; 0 or the exit code. */
static int set_disabled(struct reel_cli *cli, const char *name, bool disabled, bool *ret_changed)
{
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    struct reel_camera cam;
    int rc = reel_cli_camera(s, name, &cam);
    if (!rc && cam.disabled != disabled) {
        cam.disabled = disabled;
        struct reel_err err = { "" };
        int r = reel_store_camera_update(s, &cam, NULL, &err);
        if (r < 0)
            rc = reel_cli_fail("camera %s: %s", name, err.msg[0] ? err.msg : strerror(-r));
        else if (ret_changed)
            *ret_changed = true;
    }
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
    bool changed = false;
    int rc = set_disabled(cli, name, !enable, &changed);
    if (rc)
        return rc;
    printf("camera %s %s%s\n", name, enable ? "enabled" : "disabled", changed ? "" : " (already)");
    return notify_recorder(cli, name, false);
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

/* Removing a camera: it is first disabled and the running recorder stops
 * it (its run closed and committed), then the row goes. Footage is deleted
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
    struct reel_camera cam;
    if (reel_cli_camera(s, name, &cam)) {
        reel_store_close(s);
        return 1;
    }
    struct reel_recording *recs = NULL;
    size_t nrec = 0;
    struct reel_err err = { "" };
    int r = reel_store_recordings(s, cam.id, 0, INT64_MAX / 2, &recs, &nrec, &err);
    reel_recordings_free(recs, nrec);
    reel_store_close(s);
    if (r < 0)
        return reel_cli_fail("camera remove %s: %s", name, err.msg);
    if (nrec > 0 && !del)
        return reel_cli_fail("camera %s has footage (%zu recordings); keep it, or pass --delete-footage --yes "
                             "to delete it with the camera (or `camera disable %s` to stop recording it)",
                             name, nrec, name);
    if (del && nrec > 0 && !yes) {
        if (!isatty(0))
            return reel_cli_fail("camera remove %s --delete-footage deletes %zu recordings: confirm with --yes",
                                 name, nrec);
        char q[256];
        snprintf(q, sizeof(q), "delete camera %s and its %zu recordings?", name, nrec);
        if (!confirm(q))
            return reel_cli_fail("camera %s kept", name);
    }
    /* Stop it first: the recorder closes and commits its run. */
    int rc = set_disabled(cli, name, true, NULL);
    if (!rc)
        rc = notify_recorder(cli, name, true);
    if (rc)
        return rc;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    r = reel_store_camera_remove(s, name, del, &err);
    reel_store_close(s);
    if (r == -EBUSY)
        return reel_cli_fail("camera %s: %s; it is disabled, not removed", name, err.msg);
    if (r < 0)
        return reel_cli_fail("camera remove %s: %s; it is disabled, not removed", name,
                             err.msg[0] ? err.msg : strerror(-r));
    printf("camera %s removed%s\n", name, del && nrec ? " with its footage" : "");
    return notify_recorder(cli, name, false);
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
