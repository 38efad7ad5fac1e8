/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Web accounts and API tokens: `reel user add|set|passwd|remove|list|totp-reset`
 * (add takes --role admin|operator|viewer|auditor, admin by default; add and
 * set take --role and --cameras a,b,c|all, the cameras an operator or a
 * viewer may see; set refuses to demote the last admin; totp-reset removes a
 * user's TOTP second factor; list shows each user's role, cameras, TOTP) and
 * `reel token add NAME --user U [--days N]|list [--user U]|remove NAME
 * [--user U]` (token names are unique per user), plus the first `admin` account that `reel
 * init` and `reel run` create when there is none (there is no default
 * password: a random one is written to DATADIR/initial-admin-password,
 * mode 0600, and only that path is printed). Passwords come from a file or are
 * generated; they are never taken from the command line nor logged. Tokens
 * are printed once; the database keeps only their hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/clock.h"
#include "http/users.h"
#include "reel/cli.h"

#define GENERATED_LEN 16

static int open_users(struct reel_cli *cli, struct reel_users **ret)
{
    struct reel_err err = { "" };
    int r = reel_users_open(ret, cli->datadir, &err);
    if (r < 0)
        return reel_cli_fail("cannot open accounts in %s: %s", cli->datadir, err.msg);
    return 0;
}

/* The password from --password-file F, else a generated one (*generated). */
static int get_password(struct reel_cli *cli, char *buf, size_t cap, bool *generated)
{
    const char *file = reel_cli_opt(cli, "--password-file", true);
    *generated = false;
    if (!file) {
        reel_users_random_password(buf, GENERATED_LEN);
        *generated = true;
        return 0;
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reel_cli_fail("cannot read password file %s: %s", file, strerror(errno));
    ssize_t n = read(fd, buf, cap - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return reel_cli_fail("cannot read password file %s: %s", file, strerror(e));
    if ((size_t)n == cap - 1)
        return reel_cli_fail("password file %s: longer than %zu bytes", file, cap - 2);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return 0;
}

/* Writes the first admin's password to DATADIR/initial-admin-password, mode
 * 0600, created with O_EXCL | O_NOFOLLOW (a stale file of a previous attempt
 * is unlinked first: unlink() removes a symlink itself, never its target).
 * The path into path. 0, or 1 after printing the error. */
static int write_initial_password(struct reel_cli *cli, const char *pw, char *path, size_t cap)
{
    if ((size_t)snprintf(path, cap, "%s/%s", cli->datadir, REEL_INITIAL_PASSWORD_FILE) >= cap)
        return reel_cli_fail("data directory path too long: %s", cli->datadir);
    if (unlink(path) < 0 && errno != ENOENT)
        return reel_cli_fail("cannot replace %s: %s", path, strerror(errno));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return reel_cli_fail("cannot create %s: %s", path, strerror(errno));
    size_t n = strlen(pw);
    int r = 0;
    if (write(fd, pw, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
        r = reel_cli_fail("cannot write %s: %s", path, strerror(errno));
    if (close(fd) < 0 && r == 0)
        r = reel_cli_fail("cannot write %s: %s", path, strerror(errno));
    if (r)
        unlink(path);
    return r;
}

int reel_cli_bootstrap_admin(struct reel_cli *cli)
{
    struct reel_users *u;
    if (open_users(cli, &u))
        return 1;
    struct reel_err err = { "" };
    int64_t n = 0;
    int r = reel_users_count(u, &n, &err);
    if (r == 0 && n == 0) {
        /* The password goes to a file only its owner can read, never to
         * the terminal or the log (which may be collected, e.g. by
         * journald): the output says where it is. */
        char pw[GENERATED_LEN + 1], path[4200];
        reel_users_random_password(pw, GENERATED_LEN);
        if (write_initial_password(cli, pw, path, sizeof(path))) {
            sodium_memzero(pw, sizeof(pw));
            reel_users_close(u);
            return 1;
        }
        r = reel_users_add(u, "admin", pw, &err);
        sodium_memzero(pw, sizeof(pw));
        if (r == 0) {
            printf("created user admin; its password is in %s (readable only by you): sign in, change it with "
                   "`reel user passwd admin`, then delete the file\n", path);
            fflush(stdout);
        } else {
            unlink(path);
        }
    }
    reel_users_close(u);
    if (r < 0)
        return reel_cli_fail("cannot create the admin account: %s", err.msg);
    return 0;
}

static void fmt_unix(int64_t t, char *buf, size_t cap)
{
    if (t <= 0) {
        snprintf(buf, cap, "never");
        return;
    }
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Applies --cameras (a,b,c or all) to user name. */
static int set_cameras_opt(struct reel_users *u, const char *name, const char *opt, struct reel_err *err)
{
    if (strcmp(opt, "all") == 0)
        return reel_users_set_cameras(u, name, true, NULL, 0, err);
    char *copy = strdup(opt);
    const char **names = calloc(REEL_USER_CAMERAS_MAX, sizeof(*names));
    int r = 0;
    size_t n = 0;
    if (!copy || !names) {
        r = reel_err_set(err, ENOMEM, "out of memory");
    } else {
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t && r == 0; t = strtok_r(NULL, ",", &save)) {
            if (n == REEL_USER_CAMERAS_MAX)
                r = reel_err_set(err, EINVAL, "--cameras: at most %d cameras", REEL_USER_CAMERAS_MAX);
            else
                names[n++] = t;
        }
        if (r == 0)
            r = reel_users_set_cameras(u, name, false, names, n, err);
    }
    free(names);
    free(copy);
    return r;
}

int reel_cmd_user(struct reel_cli *cli)
{
    if (cli->argc < 1)
        return reel_cli_usage("user: expected add, set, passwd, remove, list or totp-reset");
    const char *sub = cli->argv[0];
    cli->argc--;
    cli->argv++;
    char pw[REEL_PASSWORD_MAX + 2];
    bool generated = false;
    bool needs_pw = strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0;
    bool add_or_set = strcmp(sub, "add") == 0 || strcmp(sub, "set") == 0;
    const char *role = add_or_set ? reel_cli_opt(cli, "--role", true) : NULL;
    const char *cams = add_or_set ? reel_cli_opt(cli, "--cameras", true) : NULL;
    if (role && !reel_role_valid(role))
        return reel_cli_usage("user %s: --role '%s': expected admin, operator, viewer or auditor", sub, role);
    if (strcmp(sub, "set") == 0 && !role && !cams)
        return reel_cli_usage("user set: expected --role R and/or --cameras a,b|all");
    if (needs_pw && get_password(cli, pw, sizeof(pw), &generated))
        return 1;
    if (reel_cli_no_more_opts(cli))
        return 2;
    bool needs_name = needs_pw || strcmp(sub, "remove") == 0 || strcmp(sub, "set") == 0 ||
                      strcmp(sub, "totp-reset") == 0;
    if (needs_name && cli->argc != 1)
        return reel_cli_usage("user %s: expected one NAME", sub);
    if (!needs_name && strcmp(sub, "list") != 0)
        return reel_cli_usage("user: unknown sub-command '%s'", sub);
    struct reel_users *u;
    if (open_users(cli, &u))
        return 1;
    struct reel_err err = { "" };
    int r = 0, rc = 0;
    if (strcmp(sub, "add") == 0) {
        r = reel_users_add(u, cli->argv[0], pw, &err);
        /* a new user is an admin: any other role is set at once, and a user
         * whose role could not be set is removed again (never left with
         * more rights than asked for) */
        if (r == 0 && role && strcmp(role, "admin") != 0 &&
            (r = reel_users_set_role(u, cli->argv[0], role, &err)) < 0) {
            struct reel_err e2 = { "" };
            if (reel_users_remove(u, cli->argv[0], &e2) < 0)
                fprintf(stderr, "reel: user %s was created as admin and could not be removed: %s\n", cli->argv[0],
                        e2.msg);
        }
        if (r == 0 && cams && (r = set_cameras_opt(u, cli->argv[0], cams, &err)) < 0) {
            struct reel_err e2 = { "" };
            reel_users_remove(u, cli->argv[0], &e2);
        }
        if (r == 0 && generated)
            printf("created user %s with password %s\n", cli->argv[0], pw);
        else if (r == 0)
            printf("created user %s\n", cli->argv[0]);
        if (r == 0) /* stderr: what scripts read from stdout stays as it was */
            fprintf(stderr, "user %s has role %s\n", cli->argv[0], role ? role : "admin");
    } else if (strcmp(sub, "set") == 0) {
        if (role)
            r = reel_users_set_role_keep_admin(u, cli->argv[0], role, &err);
        if (r == -EMLINK)
            r = reel_err_set(&err, EMLINK, "%s is the last admin: make another user an admin first", cli->argv[0]);
        if (r == 0 && cams)
            r = set_cameras_opt(u, cli->argv[0], cams, &err);
        if (r == 0)
            printf("changed user %s\n", cli->argv[0]);
    } else if (strcmp(sub, "totp-reset") == 0) {
        r = reel_users_totp_clear(u, cli->argv[0], &err);
        if (r == 0)
            printf("removed the TOTP second factor of %s\n", cli->argv[0]);
    } else if (strcmp(sub, "passwd") == 0) {
        r = reel_users_passwd(u, cli->argv[0], pw, &err);
        if (r == 0 && generated)
            printf("new password for %s: %s (their sessions were ended)\n", cli->argv[0], pw);
        else if (r == 0)
            printf("password of %s changed (their sessions were ended)\n", cli->argv[0]);
    } else if (strcmp(sub, "remove") == 0) {
        r = reel_users_remove(u, cli->argv[0], &err);
        if (r == 0)
            printf("removed user %s with their sessions and tokens\n", cli->argv[0]);
    } else {
        struct reel_user_info *v = NULL;
        size_t n = 0;
        r = reel_users_list(u, &v, &n, &err);
        for (size_t i = 0; r == 0 && i < n; i++) {
            char t[32];
            fmt_unix(v[i].created_unix, t, sizeof(t));
            char cl[512] = "-";
            if (strcmp(v[i].role, "operator") == 0 || strcmp(v[i].role, "viewer") == 0) {
                bool all = false;
                char(*names)[REEL_CAMERA_NAME_MAX] = NULL;
                size_t nn = 0;
                snprintf(cl, sizeof(cl), "%s", "");
                if (reel_users_cameras(u, v[i].id, &all, &names, &nn, &err) == 0) {
                    size_t o = 0;
                    for (size_t k = 0; k < nn && o + 70 < sizeof(cl); k++)
                        o += (size_t)snprintf(cl + o, sizeof(cl) - o, "%s%s", k ? "," : "", names[k]);
                    if (all)
                        snprintf(cl, sizeof(cl), "all");
                    else if (nn == 0)
                        snprintf(cl, sizeof(cl), "none");
                }
                free(names);
            }
            printf("%-24s role=%s created=%s sessions=%lld tokens=%lld cameras=%s totp=%s\n", v[i].name, v[i].role,
                   t, (long long)v[i].sessions, (long long)v[i].tokens, cl, v[i].totp ? "on" : "off");
        }
        free(v);
    }
    sodium_memzero(pw, sizeof(pw));
    if (r < 0)
        rc = reel_cli_fail("user %s: %s", sub, err.msg);
    reel_users_close(u);
    return rc;
}

int reel_cmd_token(struct reel_cli *cli)
{
    if (cli->argc < 1)
        return reel_cli_usage("token: expected add, remove or list");
    const char *sub = cli->argv[0];
    cli->argc--;
    cli->argv++;
    const char *user = reel_cli_opt(cli, "--user", true), *v;
    if (strcmp(sub, "add") == 0 && !user)
        return reel_cli_usage("token add NAME --user USER [--days N]");
    long days = REEL_TOKEN_DEFAULT_DAYS;
    if (strcmp(sub, "add") == 0 && (v = reel_cli_opt(cli, "--days", true))) {
        char *end;
        days = strtol(v, &end, 10);
        if (*end || days < 1 || days > 36500)
            return reel_cli_usage("token add --days: expected 1..36500 (a running server also ends tokens older "
                                  "than its --token-max-days)");
    }
    if (reel_cli_no_more_opts(cli))
        return 2;
    bool needs_name = strcmp(sub, "add") == 0 || strcmp(sub, "remove") == 0;
    if (needs_name && cli->argc != 1)
        return reel_cli_usage("token %s: expected one NAME", sub);
    if (!needs_name && strcmp(sub, "list") != 0)
        return reel_cli_usage("token: unknown sub-command '%s'", sub);
    struct reel_users *u;
    if (open_users(cli, &u))
        return 1;
    struct reel_err err = { "" };
    int r;
    if (strcmp(sub, "add") == 0) {
        char tok[REEL_SECRET_MAX];
        int64_t now = reel_clock_wall(reel_clock_system());
        r = reel_token_add(u, cli->argv[0], user, now, now + days * 86400 * REEL_NS_PER_SEC, tok, &err);
        if (r == 0) {
            printf("%s\n", tok);
            fprintf(stderr, "token %s for user %s, for %ld days: shown only now; send it as "
                    "'Authorization: Bearer <token>'\n", cli->argv[0], user, days);
        }
        sodium_memzero(tok, sizeof(tok));
    } else if (strcmp(sub, "remove") == 0) {
        r = reel_token_remove(u, user, cli->argv[0], &err);
        if (r == 0)
            printf("removed token %s\n", cli->argv[0]);
    } else {
        size_t n = 0;
        struct reel_token_info *tv = NULL;
        r = reel_token_list(u, user, &tv, &n, &err);
        for (size_t i = 0; r == 0 && i < n; i++) {
            char c[32], l[32], e[32];
            fmt_unix(tv[i].created_unix, c, sizeof(c));
            fmt_unix(tv[i].last_used_unix, l, sizeof(l));
            fmt_unix(tv[i].expires_unix, e, sizeof(e));
            printf("%-24s user=%s created=%s expires=%s last_used=%s\n", tv[i].name, tv[i].user, c, e, l);
        }
        free(tv);
    }
    reel_users_close(u);
    return r < 0 ? reel_cli_fail("token %s: %s", sub, err.msg) : 0;
}
