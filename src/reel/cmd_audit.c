/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel audit`: the audit log from the command line (src/audit).
 *   reel audit verify [--head ID:HASH]   recompute the chain; exit 1 with one line naming the first entry
 *                                        changed, removed or reordered (or the truncation, or a head that
 *                                        no longer matches)
 *   reel audit head                      the latest entry as ID:HASH (write it down elsewhere)
 *   reel audit list [--since T] [--until T] [--user U] [--action A] [--camera C] [--limit N] [--csv]
 *                                        oldest first; A ending in '.' is a prefix ("camera.")
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/timefmt.h"
#include "db/db.h"
#include "reel/cli.h"

static int open_db(struct reel_cli *cli, sqlite3 **db)
{
    struct reel_err err = { "" };
    if (reel_db_open(db, cli->datadir, REEL_DB_READ, &err) < 0)
        return reel_cli_fail("audit: %s", err.msg);
    return 0;
}

static int verify(struct reel_cli *cli)
{
    const char *head = reel_cli_opt(cli, "--head", true);
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (cli->argc != 0)
        return reel_cli_usage("audit verify [--head ID:HASH]");
    sqlite3 *db;
    if (open_db(cli, &db))
        return 1;
    struct reel_audit_verdict v;
    struct reel_err err = { "" };
    int r = reel_audit_verify(db, head, &v, &err);
    sqlite3_close(db);
    if (r == -EINVAL)
        return reel_cli_usage("audit verify: %s", err.msg);
    if (r < 0)
        return reel_cli_fail("audit verify: %s", err.msg);
    if (!v.ok)
        return reel_cli_fail("audit log NOT intact: %s", v.msg);
    char hex[2 * REEL_AUDIT_HASH + 1];
    reel_audit_hex(v.head_hash, hex);
    printf("audit log intact: %s; head %lld:%s\n", v.msg, (long long)v.head_id, v.head_id ? hex : "-");
    return 0;
}

static int head(struct reel_cli *cli)
{
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (cli->argc != 0)
        return reel_cli_usage("audit head");
    sqlite3 *db;
    if (open_db(cli, &db))
        return 1;
    int64_t id;
    uint8_t h[REEL_AUDIT_HASH];
    struct reel_err err = { "" };
    int r = reel_audit_head(db, &id, h, &err);
    sqlite3_close(db);
    if (r < 0)
        return reel_cli_fail("audit head: %s", err.msg);
    if (id == 0)
        return reel_cli_fail("audit head: the audit log is empty");
    char hex[2 * REEL_AUDIT_HASH + 1];
    reel_audit_hex(h, hex);
    printf("%lld:%s\n", (long long)id, hex);
    return 0;
}

static int print_row(const struct reel_audit_rec *e, void *arg)
{
    bool csv = *(bool *)arg;
    if (csv) {
        struct reel_buf b;
        reel_buf_init(&b, 4 * REEL_AUDIT_DETAIL_MAX);
        int r = reel_audit_csv_row(e, &b);
        if (r == 0)
            fwrite(b.data, 1, b.len, stdout);
        reel_buf_free(&b);
        return r;
    }
    char t[40];
    reel_time_format(reel_ns_to_90k(e->ts_ns), t, sizeof(t));
    printf("%-6lld %s %-16s %-14s %-15s %-18s %-12s %s\n", (long long)e->id, t, e->user, e->via,
           e->addr[0] ? e->addr : "-", e->action, e->camera[0] ? e->camera : "-", e->detail);
    return 0;
}

static int time_opt(const char *v, const char *name, int64_t *ret_ns)
{
    int64_t t90k;
    if (reel_time_parse(v, reel_ns_to_90k(reel_clock_wall(reel_clock_system())), &t90k) < 0)
        return reel_cli_usage("audit list %s '%s': expected a time (RFC 3339, -2h, @UNIX)", name, v);
    *ret_ns = reel_90k_to_ns(t90k);
    return 0;
}

static int list(struct reel_cli *cli)
{
    struct reel_audit_filter f = { .oldest_first = true };
    const char *since = reel_cli_opt(cli, "--since", true), *until = reel_cli_opt(cli, "--until", true);
    f.user = reel_cli_opt(cli, "--user", true);
    f.action = reel_cli_opt(cli, "--action", true);
    f.camera = reel_cli_opt(cli, "--camera", true);
    const char *limit = reel_cli_opt(cli, "--limit", true);
    bool csv = reel_cli_opt(cli, "--csv", false) != NULL;
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (cli->argc != 0)
        return reel_cli_usage("audit list [--since T] [--until T] [--user U] [--action A] [--camera C] [--limit N] "
                              "[--csv]");
    if ((since && time_opt(since, "--since", &f.since_ns)) || (until && time_opt(until, "--until", &f.until_ns)))
        return 2;
    if (limit) {
        char *end;
        long long n = strtoll(limit, &end, 10);
        if (*end || n < 1 || n > REEL_AUDIT_LIMIT_MAX)
            return reel_cli_usage("audit list --limit: expected 1..%d", REEL_AUDIT_LIMIT_MAX);
        f.limit = n;
    }
    sqlite3 *db;
    if (open_db(cli, &db))
        return 1;
    if (csv)
        fputs(REEL_AUDIT_CSV_HEADER, stdout);
    struct reel_err err = { "" };
    bool more = false;
    int r = reel_audit_query(db, &f, print_row, &csv, &more, &err);
    sqlite3_close(db);
    if (r < 0)
        return reel_cli_fail("audit list: %s", err.msg[0] ? err.msg : strerror(-r));
    if (more)
        fprintf(stderr, "reel: more entries match: narrow with --since/--until or raise --limit\n");
    return 0;
}

int reel_cmd_audit(struct reel_cli *cli)
{
    if (cli->argc < 1)
        return reel_cli_usage("audit: expected verify, head or list");
    const char *sub = cli->argv[0];
    cli->argc--;
    cli->argv++;
    if (strcmp(sub, "verify") == 0)
        return verify(cli);
    if (strcmp(sub, "head") == 0)
        return head(cli);
    if (strcmp(sub, "list") == 0)
        return list(cli);
    return reel_cli_usage("audit: unknown sub-command '%s' (verify, head, list)", sub);
}
