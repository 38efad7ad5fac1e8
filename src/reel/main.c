/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel`: the network video recorder's single command. Global options come
 * before the sub-command; see README.md for the whole list.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reel/cli.h"

static const char usage[] =
    "usage: reel [-d DATADIR] [-v] COMMAND ...\n"
    "\n"
    "  init                         create the data directory (database + first storage dir)\n"
    "  camera add NAME URL [--user U] [--password-file F] [--udp] [--disabled]\n"
    "             [--retain-bytes SIZE] [--retain-hours H | --retain-days D]\n"
    "             [--sub-url URL2 [--sub-retain-bytes SIZE] [--sub-retain-hours H | --sub-retain-days D]\n"
    "              [--sub-storage ID]]   a sub-stream (recorded as NAME~sub)\n"
    "             [--audio on|off]     record its audio as NAME~audio (off by default)\n"
    "             [--allow-redirect]   follow redirects to another host (never with credentials)\n"
    "             [--allow-basic]      Basic even after the camera offered Digest\n"
    "  camera set NAME [same options as add, --enabled, --url URL, --no-sub [--delete-footage --yes]]\n"
    "  camera enable NAME | camera disable NAME    start / stop recording it (kept, shown disabled)\n"
    "  camera list | camera remove NAME [--delete-footage --yes]\n"
    "                               camera changes reach a running recorder within 2 s\n"
    "  storage add PATH | storage list\n"
    "  run [--checkpoint-ms MS] [--rotate-s S]   record all cameras until SIGINT/SIGTERM\n"
    "      [--http ADDR:PORT | --no-http] [--secure-cookie]   web server (default 127.0.0.1:8080)\n"
    "      [--trusted-proxy ADDR[/PREFIX]]...   believe X-Forwarded-For from these reverse proxies\n"
    "      [--token-max-days N] [--token-default-days N]   API token lifetime (365, 90)\n"
    "      [--http-host NAME]...    a name the web server answers to (besides IP addresses, localhost)\n"
    "      [--tls [--tls-cert FILE --tls-key FILE]]   HTTPS (default: a self-signed certificate)\n"
    "      [--playback-mem-mib N]   memory for playback's MP4 headers (default 256)\n"
    "      [--live-cache-mib N]     GOP cache for live view's instant start (default 64; 0 = off)\n"
    "      [--live-viewers-max N]   live.mp4 viewers in all (default 64; 16 per camera)\n"
    "      [--transcode-max N]      live.mp4?stream=h264 H.265 -> H.264 transcodes at once (default 2)\n"
    "      [--export-keep-days N]   days an export is kept (default 7)\n"
    "      [--thumbs-cache-mib N]   the thumbnail cache's cap (default 512)\n"
    "      [--onvif-motion-max-s N]   an ONVIF motion event with no \"off\" ends N s after its last \"on\" (60)\n"
    "      [--buffered-io]          write sample files through the page cache, not O_DIRECT\n"
    "      [--no-io-uring]          one pwritev per write instead of io_uring batches\n"
    "  status                       per camera: live state from the running recorder, last error,\n"
    "                               fps, bitrate, footage kept\n"
    "  check [--hash] [--repair] [--camera NAME [--stream main|sub] [--from T --to T]]\n"
    "                               verify the index against the files; --hash also each closed\n"
    "                               recording's file against the BLAKE2b stored when it closed\n"
    "  export --camera NAME [--stream main|sub] --from T --to T -o FILE.mp4 [--no-audio]\n"
    "         [--reason TEXT] [--by NAME] [--no-sign]   signed with the site key (+ FILE.mp4.sig.json)\n"
    "         [--redact BOXES.json]   a redacted copy (at most 10 min): the boxes of POST /api/redactions\n"
    "                               blurred or filled, re-encoded with libx264, signed as derived\n"
    "  key show                     the site's public key (Ed25519) and its fingerprint\n"
    "  verify FILE.mp4 [--pub SITE.pub|HEX] [--trust-embedded-key] [--sidecar FILE.sig.json]\n"
    "                               check a signed export (default key: DATADIR/site.pub) and its\n"
    "                               source recordings against this site's index\n"
    "  recordings --camera NAME [--stream main|sub] [--from T --to T]\n"
    "  gaps --camera NAME [--stream main|sub] [--from T --to T]\n"
    "  frames --camera NAME [--stream main|sub] [--from T --to T]   one line per stored frame (tests)\n"
    "  user add NAME [--password-file F] [--role admin|operator|viewer|auditor] | user passwd NAME [--password-file F]\n"
    "  user remove NAME | user list            web accounts (random password printed if no file)\n"
    "  user add|set NAME [--role R] [--cameras a,b|all] | user totp-reset NAME\n"
    "                                          roles, the cameras an operator/viewer sees, TOTP removal\n"
    "  token add NAME --user U [--days N] | token list [--user U] | token remove NAME [--user U]\n"
    "  audit verify [--head ID:HASH] | audit head   check the audit log's hash chain; print its head\n"
    "  audit list [--since T] [--until T] [--user U] [--action A] [--camera C] [--limit N] [--csv]\n"
    "                               API tokens (printed once; names are per user)\n"
    "  lock add --camera A[,B] --from T --to T --case C --reason R [--expires T] | lock list [--camera N]\n"
    "  lock change ID [--case C] [--expires T|never] | lock remove ID\n"
    "                               evidence locks: footage kept from retention and disk-full deletion\n"
    "  config retention-cap [DAYS]  the site's maximum retention in days (0 = none)\n"
    "  onvif discover [--timeout-ms N]   find ONVIF cameras on the local network (WS-Discovery)\n"
    "  onvif profiles XADDR [--user U --password-file F]   a device's profiles and RTSP URIs\n"
    "  events [--camera NAME] [--kind K] [--from T] [--to T] [--limit N] [--json]\n"
    "                               events (motion, camera.offline, storage.error, disk.full,\n"
    "                               retention.blocked, lock.blocking), newest first\n"
    "\n"
    "DATADIR defaults to $REEL_DIR, else ./reel-data. Times: RFC 3339\n"
    "(2026-11-26T23:00:00Z), @UNIXSECONDS, now, or relative (-5m, -1h30m).\n";

int reel_cli_fail(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "reel: %s\n", msg);
    return 1;
}

int reel_cli_usage(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "reel: %s\n%s", msg, usage);
    return 2;
}

const char *reel_cli_opt(struct reel_cli *cli, const char *name, bool takes_value)
{
    size_t nl = strlen(name);
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strncmp(a, name, nl) != 0)
            continue;
        const char *val = NULL;
        int used = 1;
        if (a[nl] == '\0') {
            if (takes_value) {
                if (i + 1 >= cli->argc)
                    return NULL;
                val = cli->argv[i + 1];
                used = 2;
            } else {
                val = "";
            }
        } else if (a[nl] == '=' && takes_value) {
            val = a + nl + 1;
        } else {
            continue;
        }
        memmove(&cli->argv[i], &cli->argv[i + used], (size_t)(cli->argc - i - used) * sizeof(char *));
        cli->argc -= used;
        return val;
    }
    return NULL;
}

int reel_cli_no_more_opts(struct reel_cli *cli)
{
    for (int i = 0; i < cli->argc; i++)
        if (strncmp(cli->argv[i], "--", 2) == 0)
            return reel_cli_usage("unknown or incomplete option '%s'", cli->argv[i]);
    return 0;
}

int reel_cli_open(struct reel_cli *cli, enum reel_store_mode mode, struct reel_store **ret)
{
    struct reel_store_cfg cfg = { .datadir = cli->datadir, .mode = mode };
    struct reel_err err = { "" };
    int r = reel_store_open(ret, &cfg, &err);
    if (r < 0)
        return reel_cli_fail("cannot open data directory %s: %s", cli->datadir,
                             err.msg[0] ? err.msg : strerror(-r));
    return 0;
}

int reel_cli_camera(struct reel_store *s, const char *name, struct reel_camera *ret)
{
    struct reel_err err = { "" };
    int r = reel_store_camera_get(s, name, ret, &err);
    if (r < 0)
        return reel_cli_fail("camera '%s': %s", name, r == -ENOENT ? "no such camera" : err.msg);
    return 0;
}

int main(int argc, char **argv)
{
    struct reel_cli cli = { .log = { .fd = 2, .min = REEL_LOG_INFO } };
    cli.datadir = getenv("REEL_DIR");
    if (!cli.datadir || !*cli.datadir)
        cli.datadir = "reel-data";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            cli.datadir = argv[++i];
        } else if (strcmp(argv[i], "-v") == 0) {
            cli.log.min = REEL_LOG_DEBUG;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            return reel_cli_usage("unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return reel_cli_usage("no command given");
    const char *cmd = argv[i];
    cli.argc = argc - i - 1;
    cli.argv = argv + i + 1;
    static const struct {
        const char *name;
        int (*fn)(struct reel_cli *);
    } cmds[] = {
        { "init", reel_cmd_init },       { "camera", reel_cmd_camera },
        { "storage", reel_cmd_storage }, { "run", reel_cmd_run },
        { "status", reel_cmd_status },   { "check", reel_cmd_check },
        { "export", reel_cmd_export },   { "frames", reel_cmd_frames },
        { "recordings", reel_cmd_recordings }, { "gaps", reel_cmd_gaps },
        { "user", reel_cmd_user },       { "token", reel_cmd_token },
        { "key", reel_cmd_key },         { "verify", reel_cmd_verify },
        { "audit", reel_cmd_audit },
        { "lock", reel_cmd_lock },       { "config", reel_cmd_config },
        { "onvif", reel_cmd_onvif },
        { "events", reel_cmd_events },
    };
    for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
        if (strcmp(cmd, cmds[k].name) == 0)
            return cmds[k].fn(&cli);
    return reel_cli_usage("unknown command '%s'", cmd);
}
