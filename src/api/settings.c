/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/settings and PATCH /api/settings (admin): the site-wide
 * settings (table setting, store/settings.c) that Reel knows, with their
 * defaults filled in. A PATCH takes an object of key: value (a string, or
 * a number/boolean for the numeric keys), checks every value first and
 * changes nothing unless all are valid; each key whose value changes is
 * one audit row "settings.change" with its old and new values. The
 * server's cache of the reason settings is dropped at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/audit_note.h"
#include "audit/sink.h"
#include "http/body.h"

enum kind { CHOICE, FLAG, DAYS, PERCENT };

struct known {
    const char *key, *def;
    enum kind kind;
};

static const struct known KNOWN[] = {
    { "export.reason", "required", CHOICE },
    { "live.reason", "optional", CHOICE },
    { "playback.reason", "optional", CHOICE },
    { "totp.required_admin", "0", FLAG },
    { "retention.max_days", "0", DAYS },
    { "storage.full_percent", "95", PERCENT },   /* issue 15: the disk.full event's threshold */
};
#define NKNOWN (sizeof(KNOWN) / sizeof(KNOWN[0]))
#define DAYS_MAX 36500

static const struct known *find(const char *key)
{
    for (size_t i = 0; i < NKNOWN; i++)
        if (strcmp(KNOWN[i].key, key) == 0)
            return &KNOWN[i];
    return NULL;
}

/* v as the stored text into out; -EINVAL with why. */
static int normalise(const struct known *k, json_t *v, char *out, size_t cap, const char **why)
{
    switch (k->kind) {
    case CHOICE:
        if (json_is_string(v) && (strcmp(json_string_value(v), "required") == 0 ||
                                  strcmp(json_string_value(v), "optional") == 0)) {
            snprintf(out, cap, "%s", json_string_value(v));
            return 0;
        }
        *why = "expected \"required\" or \"optional\"";
        return -EINVAL;
    case FLAG:
        if (json_is_boolean(v) || (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))) {
            snprintf(out, cap, "%d", json_is_true(v) || (json_is_integer(v) && json_integer_value(v) == 1));
            return 0;
        }
        if (json_is_string(v) && (strcmp(json_string_value(v), "0") == 0 || strcmp(json_string_value(v), "1") == 0)) {
            snprintf(out, cap, "%s", json_string_value(v));
            return 0;
        }
        *why = "expected 0 or 1";
        return -EINVAL;
    case DAYS: {
        long long d = -1;
        if (json_is_integer(v))
            d = json_integer_value(v);
        else if (json_is_string(v)) {
            const char *s = json_string_value(v);
            char *end;
            d = s[0] >= '0' && s[0] <= '9' && strlen(s) <= 6 ? strtoll(s, &end, 10) : -1;
            if (d >= 0 && *end)
                d = -1;
        }
        if (d < 0 || d > DAYS_MAX) {
            *why = "expected a whole number of days from 0 (no cap) to 36500";
            return -EINVAL;
        }
        snprintf(out, cap, "%lld", d);
        return 0;
    }
    case PERCENT:
        if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 100) {
            snprintf(out, cap, "%lld", (long long)json_integer_value(v));
            return 0;
        }
        *why = "expected a whole percentage from 1 to 100";
        return -EINVAL;
    }
    return -EINVAL;
}

static json_t *value_json(const struct known *k, const char *v)
{
    if (k->kind == CHOICE)
        return json_string(v);
    if (k->kind == FLAG)
        return json_boolean(strcmp(v, "1") == 0);
    return json_integer(strtoll(v, NULL, 10));
}

/* Every known setting with its value (or default). */
static int all(struct reel_store *s, json_t *o, struct reel_err *err)
{
    for (size_t i = 0; i < NKNOWN; i++) {
        char v[REEL_SETTING_MAX];
        int r = reel_store_setting_get(s, KNOWN[i].key, v, sizeof(v), err);
        if (r == -ENOENT)
            snprintf(v, sizeof(v), "%s", KNOWN[i].def);
        else if (r < 0)
            return r;
        json_object_set_new(o, KNOWN[i].key, value_json(&KNOWN[i], v));
    }
    return 0;
}

enum MHD_Result reel_api_settings_get(struct reel_http_req *r)
{
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_store_get(r, &s, &err);
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "settings");
    json_t *o = json_object();
    rc = all(s, o, &err);
    reel_http_store_put(r, s);
    if (rc < 0) {
        json_decref(o);
        return reel_api_read_error(r, rc, &err, "settings");
    }
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "settings", o), NULL);
}

enum MHD_Result reel_api_settings_patch(struct reel_http_req *r)
{
    if (r->body_too_big)
        return reel_http_send_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %d bytes", REEL_HTTP_BODY_MAX);
    json_error_t jerr;
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    if (!json_is_object(j) || json_object_size(j) == 0 || json_object_size(j) > NKNOWN) {
        json_decref(j);
        return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "expected a JSON object of settings to change");
    }
    char vals[NKNOWN][REEL_SETTING_MAX];
    const struct known *keys[NKNOWN];
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        const struct known *k = find(key);
        const char *why = "";
        if (!k) {
            char shown[64];
            snprintf(shown, sizeof(shown), "%.40s", key);
            json_decref(j);
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "unknown setting '%s'", shown);
        }
        if (normalise(k, v, vals[n], sizeof(vals[n]), &why) < 0) {
            json_decref(j);
            return reel_http_send_error(r, MHD_HTTP_BAD_REQUEST, "%s: %s", k->key, why);
        }
        keys[n++] = k;
    }
    json_decref(j);
    struct reel_store *s;
    struct reel_err err = { "" };
    int rc = reel_http_admin_open(r, &s, &err);
    if (rc == -EBUSY)
        return reel_http_send_busy(r, 1, "another change is being applied: retry in a moment");
    if (rc < 0)
        return reel_api_read_error(r, rc, &err, "settings");
    char old[NKNOWN][REEL_SETTING_MAX];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = reel_store_setting_get(s, keys[i]->key, old[i], sizeof(old[i]), &err);
        if (rc == -ENOENT) {
            snprintf(old[i], sizeof(old[i]), "%s", keys[i]->def);
            rc = 0;
        }
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = reel_store_setting_set(s, keys[i]->key, vals[i], &err);
    json_t *o = json_object();
    if (rc == 0)
        rc = all(s, o, &err);
    reel_http_admin_close(r, s);
    reel_audit_sink_settings_changed(reel_http_audit_of(r));
    if (rc < 0) {
        json_decref(o);
        return reel_api_read_error(r, rc, &err, "settings");
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(old[i], vals[i]) == 0)
            continue;
        reel_http_log(r, REEL_LOG_INFO, "setting %s changed by %s: %s -> %s", keys[i]->key, r->auth->user, old[i],
                      vals[i]);
        reel_api_audit(r, "settings.change", NULL,
                       json_pack("{s:s, s:o, s:o}", "key", keys[i]->key, "old", value_json(keys[i], old[i]), "new",
                                 value_json(keys[i], vals[i])));
    }
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "settings", o), NULL);
}
