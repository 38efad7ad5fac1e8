/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel export ... --redact BOXES.json`: the redacted export from the
 * command line (issue 14; the same code as POST /api/redactions: the
 * rectangles of src/media/redact_boxes.h painted by src/media/redact.c,
 * signed as a derived copy by src/http/redact_sign.c). BOXES.json is the
 * API's "boxes" array, or an object with it ({"boxes": [...]}); at most
 * 256 KiB. The output is created 0600 as FILE.partial (O_EXCL,
 * O_NOFOLLOW) and renamed to FILE when complete.
 */
#include "reel/cmd_redact.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "http/redact_jobs.h"
#include "http/redact_sign.h"
#include "media/avlog.h"
#include "media/redact.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "reel/cli.h"

#define BOXES_FILE_MAX (256 * 1024)

static ssize_t mp4_read(void *arg, uint64_t off, void *buf, size_t len)
{
    return reel_mp4_read(arg, off, buf, len);
}

int reel_cmd_export_redact(const struct reel_redact_cli *a)
{
    if (a->to90k - a->from90k > REEL_REDACT_RANGE_MAX90K)
        return reel_cli_usage("export --redact: a redacted export is at most 10 minutes long");
    FILE *f = fopen(a->boxes_path, "rb");
    if (!f)
        return reel_cli_fail("export --redact: cannot open %s: %s", a->boxes_path, strerror(errno));
    json_error_t je;
    json_t *j = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    long size = ftell(f);
    fclose(f);
    if (!j)
        return reel_cli_fail("export --redact: %s: %s (line %d)", a->boxes_path, je.text, je.line);
    if (size > BOXES_FILE_MAX) {
        json_decref(j);
        return reel_cli_fail("export --redact: %s is over %d bytes", a->boxes_path, BOXES_FILE_MAX);
    }
    struct reel_redact_spec *spec = malloc(sizeof(*spec));
    struct reel_err err = { "" };
    int r = spec ? reel_redact_spec_parse(json_is_object(j) ? json_object_get(j, "boxes") : j, a->from90k,
                                          a->to90k, spec, &err)
                 : reel_err_set(&err, ENOMEM, "out of memory");
    json_decref(j);
    if (r < 0) {
        free(spec);
        return reel_cli_fail("export --redact: %s: %s", a->boxes_path, err.msg);
    }
    struct reel_mp4 *m = NULL;
    r = reel_store_read_begin(a->store, &err);
    if (r == 0) {
        r = reel_mp4_for_range(a->store, a->camera_id, a->from90k, a->to90k, &m, &err);
        reel_store_read_end(a->store);
    }
    if (r < 0) {
        free(spec);
        return reel_cli_fail("export %s: %s", a->camera, err.msg[0] ? err.msg : strerror(-r));
    }
    char tmp[4200];
    struct stat ost;
    if (snprintf(tmp, sizeof(tmp), "%s.partial", a->out) >= (int)sizeof(tmp) ||
        (lstat(a->out, &ost) == 0 && !S_ISREG(ost.st_mode)) || (unlink(tmp) < 0 && errno != ENOENT)) {
        reel_mp4_free(m);
        free(spec);
        return reel_cli_fail("export: cannot write %s (too long a path, not a regular file, or a stale .partial)",
                             a->out);
    }
    reel_media_avlog_quiet();
    struct reel_redact_in in = { .read = mp4_read, .arg = m, .size = reel_mp4_size(m), .from90k = a->from90k,
                                 .to90k = a->to90k };
    struct reel_redact_result res;
    r = reel_redact_run(&in, spec, tmp, NULL, NULL, NULL, &res, &err);
    reel_mp4_free(m);
    bool signed_ = false;
    if (r == 0 && a->sign) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct reel_redact_sign_in si = {
            .datadir = a->datadir, .path = tmp, .camera = a->camera, .camera_id = a->camera_id,
            .from90k = a->from90k, .to90k = a->to90k, .frames = res.frames, .user = a->by,
            .created_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, .reason = a->reason, .spec = spec,
        };
        r = reel_redact_sign(&si, &signed_, &err);
        if (r == 0) {
            /* the sidecar follows the file's name */
            char side_tmp[4300], side[4300];
            snprintf(side_tmp, sizeof(side_tmp), "%s.sig.json", tmp);
            snprintf(side, sizeof(side), "%s.sig.json", a->out);
            if (rename(side_tmp, side) < 0)
                r = reel_err_set(&err, errno, "renaming the signature: %s", strerror(errno));
        }
    }
    free(spec);
    if (r == 0 && rename(tmp, a->out) < 0)
        r = reel_err_set(&err, errno, "renaming %s: %s", tmp, strerror(errno));
    if (r < 0) {
        unlink(tmp);
        return reel_cli_fail("export --redact %s: %s", a->camera, err.msg);
    }
    printf("exported %s (redacted%s): %.3f s, %llu frames %dx%d\n", a->out, signed_ ? ", signed" : "",
           (double)res.duration90k / 90000, (unsigned long long)res.frames, res.width, res.height);
    return 0;
}
