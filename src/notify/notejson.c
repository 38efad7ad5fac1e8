/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Notes as JSON (notejson.h).
 */
#include <string.h>

#include "base/timefmt.h"
#include "notify/notejson.h"

static json_t *time_json(int64_t t90k)
{
    char buf[40];
    reel_time_format(t90k, buf, sizeof(buf));
    return json_string(buf);
}

json_t *reel_notify_event_json(const struct reel_event *ev)
{
    json_t *zones = json_array();
    for (const char *p = ev->zones; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n)
            json_array_append_new(zones, json_stringn(p, n));
        p += n + (c ? 1 : 0);
    }
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:i, s:s}", "id", (json_int_t)ev->id, "camera",
                     ev->camera, "kind", ev->kind, "source", ev->source, "start", time_json(ev->start90k), "start90k",
                     (json_int_t)ev->start90k, "end", ev->end90k ? time_json(ev->end90k) : json_null(), "end90k",
                     ev->end90k ? json_integer(ev->end90k) : json_null(), "zones", zones, "peak", ev->peak, "detail",
                     ev->detail);
}

char *reel_notify_note_json(const struct reel_event_note *n)
{
    json_t *j = json_pack("{s:s, s:o}", "type", n->type, "event", reel_notify_event_json(n->ev));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}
