/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The live event stream's fan-out (sse.h).
 */
#include "http/sse.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "events/events.h"
#include "http/users.h"

#define NOTE_MAX 8192

struct reel_http_sse_client {
    struct reel_http_sse *s;
    struct reel_http_sse_client *next;
    int64_t user_id;
    char role[REEL_ROLE_MAX];
    struct reel_http_acl acl;       /* a copy */
    int fd;                         /* eventfd */
    char *q;                        /* queued text (under s->mu) */
    size_t len;
    bool lost;
};

struct reel_http_sse {
    struct reel_events *events;
    pthread_mutex_t mu;
    struct reel_http_sse_client *list;
    unsigned n;
};

size_t reel_http_sse_format(const char *type, const char *json, char *out, size_t cap)
{
    if (strpbrk(type, "\r\n") || strpbrk(json, "\r\n"))
        return 0;
    int n = snprintf(out, cap, "event: %s\ndata: %s\n\n", type, json);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* A site-wide event (no camera) is everyone's; a camera's, only with its
 * name (a deleted camera's event, whose name is no longer known, only
 * administrators'). */
static bool visible(const struct reel_http_sse_client *c, const struct reel_event *ev)
{
    if (ev->camera_id <= 0 && !ev->camera[0])
        return true;
    return reel_http_acl_allows(c->role, &c->acl, ev->camera[0] ? ev->camera : "~");
}

static void append(struct reel_http_sse_client *c, const char *text, size_t n)
{
    if (c->lost)
        return;
    if (c->len + n > REEL_SSE_QUEUE_BYTES) {
        c->lost = true;
    } else {
        char *q = realloc(c->q, c->len + n);
        if (!q) {
            c->lost = true;
        } else {
            memcpy(q + c->len, text, n);
            c->q = q;
            c->len += n;
        }
    }
    uint64_t one = 1;
    ssize_t w = write(c->fd, &one, sizeof(one));
    (void)w;   /* a full counter is still readable */
}

/* The bus's thread: never waits but for mu (held only to copy text). */
static void on_note(void *opaque, const struct reel_event_note *n)
{
    struct reel_http_sse *s = opaque;
    char *json = reel_event_note_json(n);
    if (!json)
        return;
    char text[NOTE_MAX];
    size_t len = reel_http_sse_format(n->type, json, text, sizeof(text));
    free(json);
    if (!len)
        return;
    pthread_mutex_lock(&s->mu);
    for (struct reel_http_sse_client *c = s->list; c; c = c->next)
        if (visible(c, n->ev))
            append(c, text, len);
    pthread_mutex_unlock(&s->mu);
}

int reel_http_sse_new(struct reel_http_sse **ret, struct reel_events *events)
{
    struct reel_http_sse *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->events = events;
    pthread_mutex_init(&s->mu, NULL);
    int r = reel_events_listen(events, on_note, s);
    if (r < 0) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return r;
    }
    *ret = s;
    return 0;
}

void reel_http_sse_free(struct reel_http_sse *s)
{
    if (!s)
        return;
    reel_events_unlisten(s->events, on_note, s);   /* waits for a note in progress */
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int reel_http_sse_open(struct reel_http_sse *s, int64_t user_id, const char *role, const struct reel_http_acl *acl,
                       struct reel_http_sse_client **ret)
{
    struct reel_http_sse_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->s = s;
    c->user_id = user_id;
    snprintf(c->role, sizeof(c->role), "%s", role);
    c->acl.loaded = acl->loaded;
    c->acl.all = acl->all;
    if (acl->n > 0) {
        c->acl.names = malloc(acl->n * sizeof(*acl->names));
        if (!c->acl.names) {
            free(c);
            return -ENOMEM;
        }
        memcpy(c->acl.names, acl->names, acl->n * sizeof(*acl->names));
        c->acl.n = acl->n;
    }
    c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->fd < 0) {
        int e = -errno;
        free(c->acl.names);
        free(c);
        return e;
    }
    pthread_mutex_lock(&s->mu);
    unsigned mine = 0;
    for (struct reel_http_sse_client *p = s->list; p; p = p->next)
        mine += p->user_id == user_id;
    if (s->n >= REEL_SSE_STREAMS_MAX || mine >= REEL_SSE_STREAMS_PER_USER) {
        pthread_mutex_unlock(&s->mu);
        close(c->fd);
        free(c->acl.names);
        free(c);
        return -EBUSY;
    }
    c->next = s->list;
    s->list = c;
    s->n++;
    pthread_mutex_unlock(&s->mu);
    *ret = c;
    return 0;
}

int reel_http_sse_fd(const struct reel_http_sse_client *c) { return c->fd; }

size_t reel_http_sse_take(struct reel_http_sse_client *c, char *buf, size_t max, bool *lost)
{
    uint64_t v;
    ssize_t rd = read(c->fd, &v, sizeof(v));   /* clear the eventfd before looking */
    (void)rd;
    pthread_mutex_lock(&c->s->mu);
    size_t n = c->len < max ? c->len : max;
    if (n) {
        memcpy(buf, c->q, n);
        memmove(c->q, c->q + n, c->len - n);
        c->len -= n;
    }
    *lost = c->lost;
    pthread_mutex_unlock(&c->s->mu);
    return n;
}

void reel_http_sse_close(struct reel_http_sse_client *c)
{
    if (!c)
        return;
    struct reel_http_sse *s = c->s;
    pthread_mutex_lock(&s->mu);
    for (struct reel_http_sse_client **p = &s->list; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            s->n--;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    close(c->fd);
    free(c->q);
    free(c->acl.names);
    free(c);
}
