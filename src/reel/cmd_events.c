/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel events [--camera NAME] [--kind K] [--from T] [--to T] [--limit N]
 * [--json]` (issue 15): the event list, newest first, from reel.db (read
 * only: it works while `reel run` records). One line per event:
 * ID START END|(ongoing) KIND CAMERA|- SOURCE [zones=..] [peak=N] DETAIL;
 * --json: one event's JSON per line (docs/events.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "base/timefmt.h"
#include "db/db.h"
#include "events/query.h"
#include "reel/cli.h"

#define LIMIT_DEFAULT 100

static int time_opt(struct reel_cli *cli, const char *name, int64_t *ret)
{
    const char *v = reel_cli_opt(cli, name, true);
    *ret = 0;
    if (!v)
        return 0;
    int64_t now90k = reel_ns_to_90k(reel_clock_wall(reel_clock_system()));
    if (reel_time_parse(v, now90k, ret) < 0 || *ret <= 0)
        return reel_cli_usage("%s: cannot parse time '%s'", name, v);
    return 0;
}

int reel_cmd_events(struct reel_cli *cli)
{
    const char *camera = reel_cli_opt(cli, "--camera", true);
    const char *kind = reel_cli_opt(cli, "--kind", true);
    const char *limit_s = reel_cli_opt(cli, "--limit", true);
    bool as_json = reel_cli_opt(cli, "--json", false) != NULL;
    int64_t from, to, limit = LIMIT_DEFAULT;
    int rc = time_opt(cli, "--from", &from);
    if (rc == 0)
        rc = time_opt(cli, "--to", &to);
    if (rc)
        return rc;
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (cli->argc > 0)
        return reel_cli_usage("events: unexpected argument '%s'", cli->argv[0]);
    if (kind && !reel_event_kind_known(kind))
        return reel_cli_usage("--kind: expected motion, camera.offline, storage.error, disk.full, "
                              "retention.blocked or lock.blocking");
    if (limit_s && reel_parse_i64(limit_s, strlen(limit_s), 1, REEL_EVENT_QUERY_MAX, &limit) < 0)
        return reel_cli_usage("--limit: expected 1 to %d", REEL_EVENT_QUERY_MAX);
    if (from && to && to <= from)
        return reel_cli_usage("--to must be after --from");
    sqlite3 *db;
    struct reel_err err = { "" };
    if (reel_db_open(&db, cli->datadir, REEL_DB_READ, &err) < 0)
        return reel_cli_fail("%s", err.msg);
    struct reel_event_filter f = { .camera = camera, .kind = kind, .from90k = from, .to90k = to,
                                   .limit = (size_t)limit };
    struct reel_event_row *v;
    size_t n;
    rc = reel_event_query(db, &f, &v, &n, &err);
    sqlite3_close(db);
    if (rc < 0)
        return reel_cli_fail("events: %s", err.msg);
    for (size_t i = 0; i < n; i++) {
        const struct reel_event *e = &v[i].ev;
        if (as_json) {
            json_t *j = reel_event_json(e);
            char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
            json_decref(j);
            if (s)
                printf("%s\n", s);
            free(s);
            continue;
        }
        char a[40], b[40] = "(ongoing)";
        reel_time_format(e->start90k, a, sizeof(a));
        if (e->end90k > 0)
            reel_time_format(e->end90k, b, sizeof(b));
        printf("%lld %s %s %s %s %s", (long long)e->id, a, b, e->kind, e->camera[0] ? e->camera : "-", e->source);
        if (e->zones[0])
            printf(" zones=%s", e->zones);
        if (strcmp(e->kind, REEL_EVENT_MOTION) == 0)
            printf(" peak=%d", e->peak);
        /* detail is the recorder's text (camera errors were escaped) */
        if (e->detail[0]) {
            char esc[REEL_EVENT_DETAIL_MAX * 4];
            reel_log_escape(e->detail, strlen(e->detail), esc, sizeof(esc));
            printf(" %s", esc);
        }
        printf("\n");
    }
    free(v);
    return 0;
}
