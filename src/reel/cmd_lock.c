/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Evidence locks and the retention cap from the command line (root's, like
 * the database: no role check here; the web's admin-only unlock is the
 * API's rule). Written straight to reel.db: the running recorder's retention
 * reads the locks and the cap on its next pass (within a second or so), so
 * no notification is needed.
 *
 *   reel lock add --camera A[,B..] --from T --to T --case TEXT --reason TEXT [--expires T]
 *   reel lock list [--camera NAME]
 *   reel lock change ID [--case TEXT] [--expires T|never]
 *   reel lock remove ID
 *   reel config retention-cap [DAYS]     (no DAYS: print it; 0 = none)
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "reel/cli.h"
#include "reel/timefmt.h"
#include "store/locks.h"

static int64_t now90k(void) { return reel_ns_to_90k(reel_clock_wall(reel_clock_system())); }

static int parse_id(const char *s, int64_t *ret)
{
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || errno || *end || v <= 0)
        return reel_cli_usage("expected a lock id (a number), got '%s'", s ? s : "");
    *ret = v;
    return 0;
}

static void print_lock(const struct reel_lock *l)
{
    char a[40], b[40], e[40] = "never";
    reel_time_format(l->start90k, a, sizeof(a));
    reel_time_format(l->end90k, b, sizeof(b));
    if (l->expires_ns)
        reel_time_format(reel_ns_to_90k(l->expires_ns), e, sizeof(e));
    printf("%" PRId64 "\t%s\t%s\t%s\t", l->id, l->active ? "active" : "expired", a, b);
    for (size_t i = 0; i < l->ncameras; i++)
        printf("%s%s", i ? "," : "", l->cameras[i]);
    printf("\tcase=%s\texpires=%s\tby=%s\theld=%" PRId64 "\treason=%s\n", l->case_name, e, l->created_by,
           l->held_bytes, l->reason);
}

static int lock_add(struct reel_cli *cli)
{
    const char *cams = reel_cli_opt(cli, "--camera", true), *f = reel_cli_opt(cli, "--from", true);
    const char *t = reel_cli_opt(cli, "--to", true), *cs = reel_cli_opt(cli, "--case", true);
    const char *why = reel_cli_opt(cli, "--reason", true), *ex = reel_cli_opt(cli, "--expires", true);
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (!cams || !f || !t || !cs || !why)
        return reel_cli_usage("lock add: --camera, --from, --to, --case and --reason are required");
    struct reel_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return reel_cli_fail("out of memory");
    int rc = 0;
    int64_t now = now90k(), e90k = 0;
    if (reel_time_parse(f, now, &l->start90k) < 0 || reel_time_parse(t, now, &l->end90k) < 0)
        rc = reel_cli_usage("--from, --to: cannot parse the times");
    else if (ex && strcmp(ex, "never") != 0 && reel_time_parse(ex, now, &e90k) < 0)
        rc = reel_cli_usage("--expires: cannot parse time '%s'", ex);
    else if (strlen(cs) >= sizeof(l->case_name) || strlen(why) >= sizeof(l->reason))
        rc = reel_cli_usage("--case or --reason too long");
    const char *p = cams;
    while (rc == 0 && *p) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= REEL_NAME_MAX || l->ncameras == REEL_LOCK_CAMERAS_MAX) {
            rc = reel_cli_usage("--camera: expected 1-%d names separated by commas", REEL_LOCK_CAMERAS_MAX);
            break;
        }
        snprintf(l->cameras[l->ncameras++], REEL_NAME_MAX, "%.*s", (int)n, p);
        p += n + (p[n] == ',');
    }
    if (rc) {
        free(l);
        return rc;
    }
    snprintf(l->case_name, sizeof(l->case_name), "%s", cs);
    snprintf(l->reason, sizeof(l->reason), "%s", why);
    l->expires_ns = e90k ? reel_90k_to_ns(e90k) : 0;
    struct passwd *pw = getpwuid(getuid());
    snprintf(l->created_by, sizeof(l->created_by), "cli:%.50s", pw ? pw->pw_name : "?");
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s)) {
        free(l);
        return 1;
    }
    struct reel_err err = { "" };
    rc = reel_store_lock_add(s, l, &err);
    reel_store_close(s);
    if (rc == 0) {
        printf("lock %" PRId64 " added\n", l->id);
        reel_cli_audit(cli, "lock.add", NULL,
                       json_pack("{s:I, s:s, s:s}", "id", (json_int_t)l->id, "case", l->case_name, "reason", l->reason));
    }
    free(l);
    return rc < 0 ? reel_cli_fail("lock add: %s", err.msg) : 0;
}

static int lock_list(struct reel_cli *cli)
{
    const char *cam = reel_cli_opt(cli, "--camera", true);
    if (reel_cli_no_more_opts(cli))
        return 2;
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_READ, &s))
        return 1;
    struct reel_err err = { "" };
    struct reel_lock *v;
    size_t n;
    int rc = reel_store_lock_list(s, &v, &n, &err);
    reel_store_close(s);
    if (rc < 0)
        return reel_cli_fail("lock list: %s", err.msg);
    for (size_t i = 0; i < n; i++) {
        bool has = !cam;
        for (size_t c = 0; !has && c < v[i].ncameras; c++)
            has = strcmp(v[i].cameras[c], cam) == 0;
        if (has)
            print_lock(&v[i]);
    }
    free(v);
    return 0;
}

static int lock_change(struct reel_cli *cli)
{
    const char *cs = reel_cli_opt(cli, "--case", true), *ex = reel_cli_opt(cli, "--expires", true);
    if (reel_cli_no_more_opts(cli))
        return 2;
    int64_t id, e90k = 0;
    if (parse_id(cli->argc ? cli->argv[0] : NULL, &id))
        return 2;
    if (!cs && !ex)
        return reel_cli_usage("lock change: --case and/or --expires (a time or 'never')");
    if (ex && strcmp(ex, "never") != 0 && reel_time_parse(ex, now90k(), &e90k) < 0)
        return reel_cli_usage("--expires: cannot parse time '%s'", ex);
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    struct reel_err err = { "" };
    int rc = reel_store_lock_change(s, id, cs, ex != NULL, e90k ? reel_90k_to_ns(e90k) : 0, &err);
    reel_store_close(s);
    if (rc < 0)
        return reel_cli_fail("lock change: %s", err.msg);
    printf("lock %" PRId64 " changed\n", id);
    reel_cli_audit(cli, "lock.change", NULL, json_pack("{s:I, s:s?, s:s?}", "id", (json_int_t)id, "case", cs, "expires", ex));
    return 0;
}

static int lock_remove(struct reel_cli *cli)
{
    if (reel_cli_no_more_opts(cli))
        return 2;
    int64_t id;
    if (parse_id(cli->argc ? cli->argv[0] : NULL, &id))
        return 2;
    struct reel_store *s;
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    struct reel_err err = { "" };
    int rc = reel_store_lock_remove(s, id, &err);
    reel_store_close(s);
    if (rc < 0)
        return reel_cli_fail("lock remove: %s", err.msg);
    printf("lock %" PRId64 " removed: its footage goes back to retention\n", id);
    reel_cli_audit(cli, "lock.remove", NULL, json_pack("{s:I}", "id", (json_int_t)id));
    return 0;
}

int reel_cmd_lock(struct reel_cli *cli)
{
    if (cli->argc < 1)
        return reel_cli_usage("lock: add, list, change or remove");
    const char *sub = cli->argv[0];
    cli->argc--;
    cli->argv++;
    if (strcmp(sub, "add") == 0)
        return lock_add(cli);
    if (strcmp(sub, "list") == 0)
        return lock_list(cli);
    if (strcmp(sub, "change") == 0)
        return lock_change(cli);
    if (strcmp(sub, "remove") == 0)
        return lock_remove(cli);
    return reel_cli_usage("lock: unknown sub-command '%s' (add, list, change, remove)", sub);
}

int reel_cmd_config(struct reel_cli *cli)
{
    if (cli->argc < 1 || strcmp(cli->argv[0], "retention-cap") != 0)
        return reel_cli_usage("config: retention-cap [DAYS]");
    cli->argc--;
    cli->argv++;
    if (reel_cli_no_more_opts(cli))
        return 2;
    struct reel_store *s;
    struct reel_err err = { "" };
    if (cli->argc == 0) {
        if (reel_cli_open(cli, REEL_STORE_READ, &s))
            return 1;
        int64_t d;
        int rc = reel_store_retention_cap(s, &d, &err);
        reel_store_close(s);
        if (rc < 0)
            return reel_cli_fail("retention cap: %s", err.msg);
        if (d)
            printf("retention cap: %" PRId64 " days\n", d);
        else
            printf("retention cap: none\n");
        return 0;
    }
    char *end;
    errno = 0;
    long long d = strtoll(cli->argv[0], &end, 10);
    if (errno || *end || d < 0 || d > REEL_RETENTION_CAP_MAX_DAYS)
        return reel_cli_usage("retention-cap: expected 0 (none) to %d days", REEL_RETENTION_CAP_MAX_DAYS);
    if (reel_cli_open(cli, REEL_STORE_ADMIN, &s))
        return 1;
    int64_t old = 0;
    reel_store_retention_cap(s, &old, &err);
    int rc = reel_store_retention_cap_set(s, d, &err);
    reel_store_close(s);
    if (rc < 0)
        return reel_cli_fail("retention cap: %s", err.msg);
    printf("retention cap: %" PRId64 " -> %lld days (0 = none); applied by the recorder's next retention pass\n", old,
           d);
    reel_cli_audit(cli, "settings.change", NULL,
                   json_pack("{s:s, s:I, s:I}", "key", "retention.max_days", "old", (json_int_t)old, "new", (json_int_t)d));
    return 0;
}
