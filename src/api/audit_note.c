/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What handlers tell the audit log; see audit_note.h. The rows go through
 * the server's sink (audit/sink.h), which owns the connection and the
 * playback sessions.
 */
#include "api/audit_note.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/pbmerge.h"
#include "audit/sink.h"
#include "base/timefmt.h"
#include "http/parse.h"

void reel_api_audit_actor(struct reel_http_req *r, char *via, size_t via_cap, char *addr, size_t addr_cap)
{
    if (r->kind == REEL_AUTH_TOKEN && r->auth)
        snprintf(via, via_cap, "token:%s", r->auth->token);
    else if (r->kind == REEL_AUTH_SESSION)
        snprintf(via, via_cap, "session");
    else
        snprintf(via, via_cap, "%s", "");
    reel_http_client_addr(r, addr, addr_cap);
}

void reel_api_reason_key(struct reel_http_req *r, char *out, size_t cap)
{
    char via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX];
    reel_api_audit_actor(r, via, sizeof(via), addr, sizeof(addr));
    snprintf(out, cap, "%.70s#%.16s", via, r->sid ? r->sid : "");
}

/* detail as compact JSON text (malloc'd), an object in all cases. */
static char *detail_text(json_t *detail)
{
    if (detail && !json_is_object(detail)) {
        json_t *o = json_object();
        json_object_set(o, "value", detail);
        json_decref(detail);
        detail = o;
    }
    char *t = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    if (t && strlen(t) >= REEL_AUDIT_DETAIL_MAX) {
        free(t);
        t = strdup("{\"truncated\":true}");
    }
    return t;
}

static void note(struct reel_http_req *r, const char *user, const char *action, const char *camera, json_t *detail)
{
    char via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX];
    reel_api_audit_actor(r, via, sizeof(via), addr, sizeof(addr));
    char *text = detail_text(detail);
    struct reel_audit_rec rec = { .user = user, .via = via, .addr = addr, .action = action,
                                  .camera = camera ? camera : "", .detail = text ? text : "{}" };
    reel_audit_sink_append(reel_http_audit_of(r), &rec);
    free(text);
}

void reel_api_audit(struct reel_http_req *r, const char *action, const char *camera, json_t *detail)
{
    note(r, r->auth ? r->auth->user : "", action, camera, detail);
}

void reel_api_audit_as(struct reel_http_req *r, const char *user, const char *action, const char *camera,
                       json_t *detail)
{
    char u[REEL_AUDIT_USER_MAX];
    size_t n = 0;
    for (const char *p = user ? user : ""; *p && n + 1 < sizeof(u); p++)
        u[n++] = isprint((unsigned char)*p) ? *p : '?';
    u[n] = '\0';
    note(r, u, action, camera, detail);
}

void reel_api_audit_playback(struct reel_http_req *r, const char *camera, int64_t start90k, int64_t end90k)
{
    if (!r->auth)
        return;
    char via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX], reason[REEL_AUDIT_REASON_MAX], key[REEL_AUDIT_VIA_MAX];
    reel_api_audit_actor(r, via, sizeof(via), addr, sizeof(addr));
    reel_api_reason_key(r, key, sizeof(key));
    struct reel_audit_sink *s = reel_http_audit_of(r);
    bool have = reel_audit_sink_reason(s, "playback", r->auth->user, key, addr, NULL, reason, sizeof(reason));
    reel_audit_sink_playback(s, r->auth->user, via, addr, camera, have ? reason : NULL, start90k, end90k);
}

struct reel_api_live_audit {
    struct reel_audit_sink *sink;
    const struct reel_clock *clock;
    int64_t start_ns;
    char user[REEL_AUDIT_USER_MAX], via[REEL_AUDIT_VIA_MAX], addr[REEL_AUDIT_ADDR_MAX];
    char camera[REEL_AUDIT_CAMERA_MAX];
    char reason[REEL_AUDIT_REASON_MAX];
};

struct reel_api_live_audit *reel_api_audit_live_start(struct reel_http_req *r, const char *camera)
{
    struct reel_api_live_audit *v = calloc(1, sizeof(*v));
    if (!v || !r->auth) {
        free(v);
        return NULL;
    }
    v->sink = reel_http_audit_of(r);
    v->clock = r->clock;
    v->start_ns = reel_clock_wall(r->clock);
    snprintf(v->user, sizeof(v->user), "%s", r->auth->user);
    snprintf(v->camera, sizeof(v->camera), "%s", camera);
    reel_api_audit_actor(r, v->via, sizeof(v->via), v->addr, sizeof(v->addr));
    char key[REEL_AUDIT_VIA_MAX];
    reel_api_reason_key(r, key, sizeof(key));
    bool have = reel_audit_sink_reason(v->sink, "live", v->user, key, v->addr, NULL, v->reason, sizeof(v->reason));
    json_t *d = have ? json_pack("{s:s}", "reason", v->reason) : NULL;
    char *text = detail_text(d);
    struct reel_audit_rec rec = { .ts_ns = v->start_ns, .user = v->user, .via = v->via, .addr = v->addr,
                                  .action = "live.start", .camera = v->camera, .detail = text ? text : "{}" };
    reel_audit_sink_append(v->sink, &rec);
    free(text);
    return v;
}

static json_t *time_json(int64_t ns)
{
    char b[40];
    reel_time_format(reel_ns_to_90k(ns), b, sizeof(b));
    return json_string(b);
}

void reel_api_audit_live_end(struct reel_api_live_audit *v, uint64_t bytes)
{
    if (!v)
        return;
    int64_t end = reel_clock_wall(v->clock);
    json_t *d = json_pack("{s:o, s:o, s:f, s:I}", "start", time_json(v->start_ns), "end", time_json(end), "seconds",
                          (double)(end - v->start_ns) / 1e9, "bytes", (json_int_t)bytes);
    if (d && v->reason[0])
        json_object_set_new(d, "reason", json_string(v->reason));
    char *text = detail_text(d);
    struct reel_audit_rec rec = { .ts_ns = end, .user = v->user, .via = v->via, .addr = v->addr,
                                  .action = "live.end", .camera = v->camera, .detail = text ? text : "{}" };
    reel_audit_sink_append(v->sink, &rec);
    free(text);
    free(v);
}

int reel_api_reason_given(struct reel_http_req *r, char *out, size_t cap)
{
    out[0] = '\0';
    const char *h = reel_http_header(r, "X-Reel-Reason");
    if (h) {
        if (strlen(h) >= cap)
            return -EINVAL;
        snprintf(out, cap, "%s", h);
    } else if (r->query) {
        int g = reel_http_query_get(r->query, "reason", out, cap);
        if (g < 0)
            return -EINVAL;
        if (g == 0)
            out[0] = '\0';
    }
    for (const char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -EINVAL;
    /* trim */
    size_t n = strlen(out), a = 0;
    while (a < n && out[a] == ' ')
        a++;
    while (n > a && out[n - 1] == ' ')
        n--;
    memmove(out, out + a, n - a);
    out[n - a] = '\0';
    return (int)(n - a);
}
