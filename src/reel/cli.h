/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The `reel` command: shared pieces of the sub-commands (option parsing,
 * opening the data directory, printing errors). Each cmd_*.c file holds a
 * group of sub-commands; main.c dispatches.
 */
#ifndef REEL_REEL_CLI_H
#define REEL_REEL_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/log.h"
#include "store/store.h"

struct reel_cli {
    const char *datadir;          /* -d DIR, $REEL_DIR, or ./reel-data */
    struct reel_logger log;
    int argc;                     /* the sub-command's own arguments */
    char **argv;
};

/* A tiny option scanner: `--name value` / `--name=value` / `--flag`.
 * reel_cli_opt() returns the value (or "" for a flag) of the first matching
 * option and removes it from argv; NULL when absent. Leftover arguments
 * starting with "--" are reported by reel_cli_no_more_opts(). */
const char *reel_cli_opt(struct reel_cli *cli, const char *name, bool takes_value);
int reel_cli_no_more_opts(struct reel_cli *cli);
/* Prints "reel: <msg>" to stderr; returns the exit code 1 (or 2 for usage). */
int reel_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int reel_cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int reel_cli_open(struct reel_cli *cli, enum reel_store_mode mode, struct reel_store **ret);
int reel_cli_camera(struct reel_store *s, const char *name, struct reel_camera *ret);

int reel_cmd_init(struct reel_cli *cli);
int reel_cmd_camera(struct reel_cli *cli);
int reel_cmd_storage(struct reel_cli *cli);
int reel_cmd_run(struct reel_cli *cli);
int reel_cmd_status(struct reel_cli *cli);
int reel_cmd_check(struct reel_cli *cli);
int reel_cmd_export(struct reel_cli *cli);
int reel_cmd_frames(struct reel_cli *cli);
int reel_cmd_recordings(struct reel_cli *cli);
int reel_cmd_gaps(struct reel_cli *cli);
int reel_cmd_user(struct reel_cli *cli);
int reel_cmd_token(struct reel_cli *cli);
/* cmd_proof.c (issue 14): `key show`, `verify FILE.mp4`. */
int reel_cmd_key(struct reel_cli *cli);
int reel_cmd_verify(struct reel_cli *cli);
/* Makes the site key pair when the data directory has none (init, run, and
 * installs older than keys), saying so on stdout. 0 or 1. */
int reel_cli_site_key(struct reel_cli *cli);
/* Signs an exported MP4 (proof/sign.h) with its source recordings (their
 * stored hashes). by NULL: the Unix user. 0 or 1 (message printed). */
int reel_cli_sign_export(struct reel_cli *cli, const char *path, const char *camera, int64_t from90k, int64_t to90k,
                         const struct reel_recording *recs, size_t nrecs, uint32_t frames, const char *by,
                         const char *reason);
int reel_cmd_audit(struct reel_cli *cli);   /* cmd_audit.c */
int reel_cmd_onvif(struct reel_cli *cli);   /* cmd_onvif.c: discover, profiles */
/* One audit row for a change the CLI made (cli_audit.c): by "cli:<unix
 * user>"; detail (NULL ok) is stolen. Never fails the command: a row that
 * cannot be written is a warning on stderr. */
void reel_cli_audit(struct reel_cli *cli, const char *action, const char *camera, json_t *detail);
int reel_cmd_lock(struct reel_cli *cli);   /* cmd_lock.c */
int reel_cmd_events(struct reel_cli *cli); /* cmd_events.c (issue 15) */
int reel_cmd_config(struct reel_cli *cli);
/* Creates the `admin` web account when there are no accounts (called by
 * init and run), with a random password written to
 * DATADIR/REEL_INITIAL_PASSWORD_FILE (mode 0600, O_EXCL | O_NOFOLLOW); stdout
 * says where, never what. 0 or 1. */
#define REEL_INITIAL_PASSWORD_FILE "initial-admin-password"
int reel_cli_bootstrap_admin(struct reel_cli *cli);

#endif
