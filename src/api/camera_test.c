/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * POST /api/cameras/test (admin): tries a camera before it is added (or an
 * existing one, {"camera": NAME}) the way the recorder would connect to it
 * (struct reel_http_recorder.camera_probe: the recorder's streamer code on
 * a private loop, never the recording loop), within a 10 s deadline, and
 * answers what it found (codec, size, fps, audio, bitrate, a snapshot of
 * the key frame) or why it failed, as one reason word. The body is checked
 * by the camera routes' own parser (src/api/camera_body.c: the same URL and
 * credential rules as POST /api/cameras; its other fields are accepted and
 * ignored, so the page can send its Add form as is). Runs on the worker
 * pool; at most REEL_HTTP_PROBES_MAX tests at once and always fewer than the
 * workers (503 over), so logins and downloads keep a worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/api.h"
#include "api/camera_body.h"
#include "http/body.h"
#include "media/snapshot.h"

#define TEST_DEADLINE_NS (10 * REEL_NS_PER_SEC)
#define SNAPSHOT_WIDTH 640

/* {"camera": "NAME"} alone: true with name filled. */
static bool camera_ref(const uint8_t *body, size_t len, char name[REEL_NAME_MAX], bool *bad)
{
    *bad = false;
    json_error_t jerr;
    json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j || !json_is_object(j) || !json_object_get(j, "camera")) {
        json_decref(j);
        return false;
    }
    const char *v = json_string_value(json_object_get(j, "camera"));
    *bad = json_object_size(j) != 1 || !v || strlen(v) >= REEL_NAME_MAX || !reel_http_name_valid(v);
    if (!*bad)
        snprintf(name, REEL_NAME_MAX, "%s", v);
    json_decref(j);
    return true;
}

static json_t *snapshot_uri(const struct reel_http_probe *p)
{
    if (!p->entry || !p->key)
        return json_null();
    uint8_t *jpeg = NULL;
    size_t jlen = 0;
    struct reel_err err = { "" };
    if (reel_media_snapshot_jpeg(p->entry, p->entry_len, p->key, p->key_len, SNAPSHOT_WIDTH, &jpeg, &jlen, &err) < 0)
        return json_null();
    static const char prefix[] = "data:image/jpeg;base64,";
    size_t b64 = sodium_base64_encoded_len(jlen, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(sizeof(prefix) + b64);
    json_t *o = json_null();
    if (s) {
        memcpy(s, prefix, sizeof(prefix) - 1);
        sodium_bin2base64(s + sizeof(prefix) - 1, b64, jpeg, jlen, sodium_base64_VARIANT_ORIGINAL);
        json_decref(o);
        o = json_string(s);
        free(s);
    }
    free(jpeg);
    return o ? o : json_null();
}

enum MHD_Result reel_api_camera_test(struct reel_http_req *r)
{
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    if (!r->body || r->body_len == 0)
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object with \"url\" or \"camera\"");
    const struct reel_http_recorder *rec = r->cfg->recorder;
    if (!rec || !rec->camera_probe)
        return reel_http_send_error(r, MHD_HTTP_NOT_IMPLEMENTED, "camera tests need the recorder (reel run)");
    struct reel_camera row;
    memset(&row, 0, sizeof(row));
    char password[REEL_API_CAM_PASSWORD_MAX + 1] = "";
    bool has_password = false;
    char name[REEL_NAME_MAX], why[256] = "";
    bool bad;
    if (camera_ref(r->body, r->body_len, name, &bad)) {
        if (bad)
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "camera: expected a camera name, alone");
        struct reel_store *s;
        struct reel_err err = { "" };
        int rc = reel_http_store_get(r, &s, &err);
        if (rc < 0)
            return reel_api_read_error(r, rc, &err, "database");
        rc = reel_store_camera_get(s, name, &row, &err);
        if (rc == 0)
            has_password = reel_store_camera_password(s, row.id, password, sizeof(password)) == 0;
        reel_http_store_put(r, s);
        if (rc == -ENOENT)
            return reel_http_send_error(r, MHD_HTTP_NOT_FOUND, "no camera '%s'", name);
        if (rc < 0)
            return reel_api_read_error(r, rc, &err, "camera '%s'", name);
    } else {
        struct reel_api_camera_in in;
        int rc = reel_api_camera_parse(r->body, r->body_len, &in, why, sizeof(why));
        if (rc == 0 && !(in.has & REEL_API_CAM_URL)) {
            rc = -EINVAL;
            snprintf(why, sizeof(why), "url: required");
        }
        if (rc < 0) {
            sodium_memzero(&in, sizeof(in));
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s", why);
        }
        snprintf(row.url, sizeof(row.url), "%s", in.url);
        snprintf(row.user, sizeof(row.user), "%s", in.user);
        row.udp = in.udp;
        row.allow_redirect = in.allow_redirect;
        row.allow_basic = in.allow_basic;
        if (in.has & REEL_API_CAM_PASSWORD) {
            snprintf(password, sizeof(password), "%s", in.password);
            has_password = true;
        }
        sodium_memzero(&in, sizeof(in));
    }
    unsigned max = r->cfg->workers > 1 ? r->cfg->workers - 1 : 1;
    if (max > REEL_HTTP_PROBES_MAX)
        max = REEL_HTTP_PROBES_MAX;
    struct reel_http_probe p;
    int rc = rec->camera_probe(rec->opaque, &row, has_password ? password : NULL, TEST_DEADLINE_NS, max, &p);
    sodium_memzero(password, sizeof(password));
    if (rc == -EBUSY)
        return reel_http_send_busy(r, 5, "camera tests in progress: try again in a few seconds");
    if (rc < 0) {
        struct reel_err err = { "" };
        reel_err_set(&err, -rc, "camera test: %s", strerror(-rc));
        return reel_api_read_error(r, rc, &err, "camera test");
    }
    json_t *out;
    if (p.ok) {
        out = json_pack("{s:b, s:s, s:s, s:i, s:i, s:f, s:f, s:o, s:o}", "ok", 1, "codec", p.codec, "codec_string",
                        p.codec_string, "width", p.width, "height", p.height, "fps", p.fps, "bitrate_bps",
                        p.bitrate_bps, "audio", p.audio[0] ? json_string(p.audio) : json_null(), "snapshot",
                        snapshot_uri(&p));
    } else {
        out = json_pack("{s:b, s:s, s:s}", "ok", 0, "reason", p.reason, "error", p.error);
    }
    free(p.key);
    free(p.entry);
    if (p.ok)
        reel_http_log(r, REEL_LOG_INFO, "user %s tested a camera: ok, %s %dx%d %.1f fps %.0f bit/s", r->auth->user,
                      p.codec_string, p.width, p.height, p.fps, p.bitrate_bps);
    else
        reel_http_log(r, REEL_LOG_INFO, "user %s tested a camera: %s (%s)", r->auth->user, p.reason, p.error);
    return reel_http_send_json(r, MHD_HTTP_OK, out, NULL);
}
