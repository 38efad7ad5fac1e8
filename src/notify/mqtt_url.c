/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The checks on MQTT settings (mqtt.h): the broker's URL and a topic
 * prefix. Pure; used by the settings API and the MQTT thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify/mqtt.h"

int reel_mqtt_url_parse(const char *url, char *host, size_t host_cap, int *ret_port, bool *ret_tls)
{
    const char *p;
    bool tls;
    if (strncasecmp(url, "mqtt://", 7) == 0) {
        p = url + 7;
        tls = false;
    } else if (strncasecmp(url, "mqtts://", 8) == 0) {
        p = url + 8;
        tls = true;
    } else
        return -EINVAL;
    const char *hs = p, *he;
    if (*p == '[') {
        he = strchr(p, ']');
        if (!he)
            return -EINVAL;
        hs = p + 1;
        p = he + 1;
    } else {
        he = p + strcspn(p, ":/");
        p = he;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= host_cap)
        return -EINVAL;
    for (const char *c = hs; c < he; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '-' || *c == '_' || *c == ':'))
            return -EINVAL;
    int port = tls ? 8883 : 1883;
    if (*p == ':') {
        p++;
        if (*p < '0' || *p > '9' || strlen(p) > 5)
            return -EINVAL;
        char *end;
        long v = strtol(p, &end, 10);
        if (v < 1 || v > 65535)
            return -EINVAL;
        port = (int)v;
        p = end;
    }
    if (*p == '/')
        p++;
    if (*p)
        return -EINVAL;
    memcpy(host, hs, hl);
    host[hl] = 0;
    *ret_port = port;
    *ret_tls = tls;
    return 0;
}

bool reel_mqtt_prefix_valid(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n >= REEL_MQTT_PREFIX_MAX || p[0] == '/' || p[n - 1] == '/')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-' || (c == '/' && p[i + 1] != '/');
        if (!ok)
            return false;
    }
    return true;
}

