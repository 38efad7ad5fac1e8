/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the CLI's changes tell the audit log: one row per change, by
 * "cli:<unix user>" (the effective user running reel), via "cli". A row
 * that cannot be written is a warning on stderr; the change stands (it is
 * made already, and the database may be read-only to this user).
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit/audit.h"
#include "db/db.h"
#include "reel/cli.h"

void reel_cli_audit(struct reel_cli *cli, const char *action, const char *camera, json_t *detail)
{
    char user[REEL_AUDIT_USER_MAX];
    struct passwd pw, *res = NULL;
    char pwbuf[1024];
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res)
        snprintf(user, sizeof(user), "cli:%.58s", res->pw_name);
    else
        snprintf(user, sizeof(user), "cli:uid%u", (unsigned)geteuid());
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    struct reel_audit_rec rec = { .ts_ns = reel_clock_wall(reel_clock_system()), .user = user, .via = "cli",
                                  .addr = "", .action = action, .camera = camera ? camera : "",
                                  .detail = text && strlen(text) < REEL_AUDIT_DETAIL_MAX ? text : "{}" };
    sqlite3 *db = NULL;
    struct reel_err err = { "" };
    int r = reel_db_open(&db, cli->datadir, REEL_DB_WRITE, &err);
    if (r == 0)
        r = reel_audit_append(db, &rec, NULL, &err);
    if (db)
        sqlite3_close(db);
    if (r < 0)
        fprintf(stderr, "reel: warning: %s not written to the audit log: %s\n", action, err.msg);
    free(text);
}
