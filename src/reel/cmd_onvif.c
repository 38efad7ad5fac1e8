/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel onvif discover [--timeout-ms N]` and `reel onvif profiles XADDR
 * [--user U --password-file F]`: the same searches as the ONVIF routes
 * from a shell, printing the same JSON. The password is read from a file
 * (never from the command line, where ps shows it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "onvif/onvif_json.h"
#include "reel/cli.h"

static int print_json(json_t *j)
{
    if (!j)
        return reel_cli_fail("out of memory");
    char *s = json_dumps(j, JSON_INDENT(2));
    json_decref(j);
    if (!s)
        return reel_cli_fail("out of memory");
    puts(s);
    free(s);
    return 0;
}

static int discover(struct reel_cli *cli)
{
    const char *t = reel_cli_opt(cli, "--timeout-ms", true);
    if (reel_cli_no_more_opts(cli) || cli->argc != 1)
        return reel_cli_usage("usage: reel onvif discover [--timeout-ms N]");
    int ms = t ? atoi(t) : 2000;
    if (ms < REEL_ONVIF_TIMEOUT_MIN_MS || ms > REEL_ONVIF_TIMEOUT_MAX_MS)
        return reel_cli_usage("--timeout-ms: %d..%d", REEL_ONVIF_TIMEOUT_MIN_MS, REEL_ONVIF_TIMEOUT_MAX_MS);
    struct reel_onvif_device *d = calloc(REEL_ONVIF_DEVICES_MAX, sizeof(*d));
    if (!d)
        return reel_cli_fail("out of memory");
    size_t n = 0;
    struct reel_err err = { "" };
    int rc = reel_onvif_discover(NULL, NULL, 0, ms, d, REEL_ONVIF_DEVICES_MAX, &n, &err);
    if (rc < 0) {
        free(d);
        return reel_cli_fail("%s", err.msg);
    }
    rc = print_json(reel_onvif_devices_json(d, n));
    free(d);
    return rc;
}

static int profiles(struct reel_cli *cli)
{
    const char *user = reel_cli_opt(cli, "--user", true);
    const char *pwfile = reel_cli_opt(cli, "--password-file", true);
    if (reel_cli_no_more_opts(cli) || cli->argc != 2)
        return reel_cli_usage("usage: reel onvif profiles XADDR [--user U --password-file F]");
    char pw[REEL_ONVIF_PASSWORD_MAX + 2] = "";
    if (pwfile) {
        FILE *f = fopen(pwfile, "re");
        if (!f)
            return reel_cli_fail("password file %s: %s", pwfile, strerror(errno));
        size_t n = fread(pw, 1, sizeof(pw) - 1, f);
        fclose(f);
        pw[n] = '\0';
        pw[strcspn(pw, "\r\n")] = '\0';
        if (strlen(pw) > REEL_ONVIF_PASSWORD_MAX)
            return reel_cli_fail("password file %s: over %d bytes", pwfile, REEL_ONVIF_PASSWORD_MAX);
    }
    struct reel_onvif_auth a = { .user = user, .password = pw, .timeout_ms = 5000 };
    struct reel_onvif_profile p[REEL_ONVIF_PROFILES_MAX];
    size_t n = 0;
    struct reel_err err = { "" };
    int rc = reel_onvif_profiles(cli->argv[1], &a, p, REEL_ONVIF_PROFILES_MAX, &n, &err);
    OPENSSL_cleanse(pw, sizeof(pw));
    if (rc < 0)
        return reel_cli_fail("%s: %s", cli->argv[1], err.msg);
    return print_json(reel_onvif_profiles_json(p, n));
}

int reel_cmd_onvif(struct reel_cli *cli)
{
    if (cli->argc >= 1 && strcmp(cli->argv[0], "discover") == 0)
        return discover(cli);
    if (cli->argc >= 1 && strcmp(cli->argv[0], "profiles") == 0)
        return profiles(cli);
    return reel_cli_usage("usage: reel onvif discover [--timeout-ms N] | reel onvif profiles XADDR [--user U "
                          "--password-file F]");
}
