/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The one JSON form of an event and of a notification (events.h), shared
 * by the API, the live stream, webhooks and MQTT.
 */
#include "events/events.h"

#include <string.h>

#include "base/timefmt.h"

static json_t *time_or_null(int64_t t90k)
{
    if (t90k <= 0)
        return json_null();
    char buf[40];
    reel_time_format(t90k, buf, sizeof(buf));
    return json_string(buf);
}

json_t *reel_event_zones_json(const char *zones)
{
    json_t *a = json_array();
    if (!a || !zones)
        return a;
    const char *p = zones;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n > 0)
            json_array_append_new(a, json_stringn(p, n));
        if (!c)
            break;
        p = c + 1;
    }
    return a;
}

json_t *reel_event_json(const struct reel_event *ev)
{
    return json_pack("{sI s:s s:s s:s s:o sI s:o s:o s:o si s:s}",
                     "id", (json_int_t)ev->id, "camera", ev->camera, "kind", ev->kind, "source", ev->source,
                     "start", time_or_null(ev->start90k), "start90k", (json_int_t)ev->start90k,
                     "end", time_or_null(ev->end90k),
                     "end90k", ev->end90k > 0 ? json_integer(ev->end90k) : json_null(),
                     "zones", reel_event_zones_json(ev->zones), "peak", ev->peak, "detail", ev->detail);
}

char *reel_event_note_json(const struct reel_event_note *n)
{
    json_t *o = json_pack("{s:s s:o}", "type", n->type, "event", reel_event_json(n->ev));
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
