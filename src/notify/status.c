/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The alerts' status shared by the MQTT thread and the web server (status.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/status.h"

struct reel_alerts_status {
    pthread_mutex_t mu;
    struct reel_alerts_mqtt_view mqtt;
};

int reel_alerts_status_new(struct reel_alerts_status **ret)
{
    struct reel_alerts_status *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    snprintf(s->mqtt.state, sizeof(s->mqtt.state), "off");
    *ret = s;
    return 0;
}

void reel_alerts_status_free(struct reel_alerts_status *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->mu);
    free(s);
}

void reel_alerts_status_mqtt(struct reel_alerts_status *s, const char *state, const char *broker, const char *error,
                             int64_t now_ns, int64_t cameras)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (strcmp(s->mqtt.state, state) != 0)
        s->mqtt.since_ns = now_ns;
    snprintf(s->mqtt.state, sizeof(s->mqtt.state), "%s", state);
    snprintf(s->mqtt.broker, sizeof(s->mqtt.broker), "%s", broker ? broker : "");
    if (error)
        snprintf(s->mqtt.error, sizeof(s->mqtt.error), "%s", error);
    if (cameras >= 0)
        s->mqtt.cameras = cameras;
    pthread_mutex_unlock(&s->mu);
}

void reel_alerts_status_get(struct reel_alerts_status *s, struct reel_alerts_mqtt_view *ret)
{
    memset(ret, 0, sizeof(*ret));
    if (!s) {
        snprintf(ret->state, sizeof(ret->state), "off");
        return;
    }
    pthread_mutex_lock(&s->mu);
    *ret = s->mqtt;
    pthread_mutex_unlock(&s->mu);
}
