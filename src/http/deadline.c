/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Request deadlines (see deadline.h): a fixed table of connection slots
 * under one mutex, and a watchdog thread that sweeps it, sleeping until the
 * earliest deadline (at most 1 s, at least 50 ms between sweeps). All time
 * is read from the injected clock; the watchdog sleeps in poll(2) on an
 * eventfd (a relative timeout, so no clock of its own), which
 * reel_http_deadline_free() signals to stop it.
 */
#include "http/deadline.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define SWEEP_MAX_NS (1000 * 1000 * 1000LL)
#define SWEEP_MIN_NS (50 * 1000 * 1000LL)

struct slot {
    int fd;                         /* -1: free */
    bool responding;
    bool shut;                      /* shut down already */
    int64_t deadline_ns;
};

struct reel_http_deadline {
    pthread_mutex_t mu;
    int stop_fd;                    /* eventfd: readable when the watchdog must stop */
    pthread_t thread;
    bool running;
    int64_t deadline_ns;
    const struct reel_clock *clock;
    reel_http_deadline_cb *cb;
    void *opaque;
    size_t max, hint;               /* hint: where the next free slot search starts */
    struct slot slots[];
};

int reel_http_deadline_new(struct reel_http_deadline **ret, size_t max, int64_t deadline_ns,
                           const struct reel_clock *clock, reel_http_deadline_cb *cb, void *opaque)
{
    if (max == 0 || max > 65536 || deadline_ns <= 0)
        return -EINVAL;
    struct reel_http_deadline *d = calloc(1, sizeof(*d) + max * sizeof(d->slots[0]));
    if (!d)
        return -ENOMEM;
    d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->stop_fd < 0) {
        int e = errno;
        free(d);
        return -e;
    }
    pthread_mutex_init(&d->mu, NULL);
    d->max = max;
    d->deadline_ns = deadline_ns;
    d->clock = clock ? clock : reel_clock_system();
    d->cb = cb;
    d->opaque = opaque;
    for (size_t i = 0; i < max; i++)
        d->slots[i].fd = -1;
    *ret = d;
    return 0;
}

int reel_http_deadline_add(struct reel_http_deadline *d, int fd)
{
    if (fd < 0)
        return -EINVAL;
    int64_t now = reel_clock_mono(d->clock);
    int r = -ENOSPC;
    pthread_mutex_lock(&d->mu);
    for (size_t k = 0; k < d->max; k++) {
        size_t i = (d->hint + k) % d->max;
        if (d->slots[i].fd >= 0)
            continue;
        d->slots[i] = (struct slot){ .fd = fd, .deadline_ns = now + d->deadline_ns };
        d->hint = (i + 1) % d->max;
        r = (int)i;
        break;
    }
    pthread_mutex_unlock(&d->mu);
    return r;
}

static struct slot *slot_of(struct reel_http_deadline *d, int slot)
{
    return slot >= 0 && (size_t)slot < d->max && d->slots[slot].fd >= 0 ? &d->slots[slot] : NULL;
}

void reel_http_deadline_responding(struct reel_http_deadline *d, int slot)
{
    pthread_mutex_lock(&d->mu);
    struct slot *s = slot_of(d, slot);
    if (s)
        s->responding = true;
    pthread_mutex_unlock(&d->mu);
}

void reel_http_deadline_waiting(struct reel_http_deadline *d, int slot)
{
    int64_t now = reel_clock_mono(d->clock);
    pthread_mutex_lock(&d->mu);
    struct slot *s = slot_of(d, slot);
    if (s) {
        s->responding = false;
        s->deadline_ns = now + d->deadline_ns;
    }
    pthread_mutex_unlock(&d->mu);
}

void reel_http_deadline_remove(struct reel_http_deadline *d, int slot)
{
    pthread_mutex_lock(&d->mu);
    struct slot *s = slot_of(d, slot);
    if (s)
        s->fd = -1;
    pthread_mutex_unlock(&d->mu);
}

unsigned reel_http_deadline_sweep(struct reel_http_deadline *d, int64_t *ret_next_ns)
{
    int64_t now = reel_clock_mono(d->clock), next = INT64_MAX;
    unsigned n = 0;
    pthread_mutex_lock(&d->mu);
    for (size_t i = 0; i < d->max; i++) {
        struct slot *s = &d->slots[i];
        if (s->fd < 0 || s->responding || s->shut)
            continue;
        if (now >= s->deadline_ns) {
            /* Under the lock: the owner cannot remove the slot, hence not
             * close the fd, while it is shut down. */
            shutdown(s->fd, SHUT_RDWR);
            s->shut = true;
            n++;
        } else if (s->deadline_ns < next) {
            next = s->deadline_ns;
        }
    }
    pthread_mutex_unlock(&d->mu);
    if (ret_next_ns)
        *ret_next_ns = next;
    return n;
}

static void *watchdog(void *arg)
{
    struct reel_http_deadline *d = arg;
    for (;;) {
        int64_t next;
        unsigned n = reel_http_deadline_sweep(d, &next);
        if (n > 0 && d->cb)
            d->cb(d->opaque, n);
        int64_t wait = next == INT64_MAX ? SWEEP_MAX_NS : next - reel_clock_mono(d->clock);
        if (wait > SWEEP_MAX_NS)
            wait = SWEEP_MAX_NS;
        if (wait < SWEEP_MIN_NS)
            wait = SWEEP_MIN_NS;
        struct pollfd p = { .fd = d->stop_fd, .events = POLLIN };
        int r = poll(&p, 1, (int)((wait + 999999) / 1000000));
        if (r > 0 || (r < 0 && errno != EINTR))
            break;
    }
    return NULL;
}

int reel_http_deadline_start(struct reel_http_deadline *d)
{
    if (d->running)
        return -EBUSY;
    int e = pthread_create(&d->thread, NULL, watchdog, d);
    if (e != 0)
        return -e;
    d->running = true;
    return 0;
}

void reel_http_deadline_free(struct reel_http_deadline *d)
{
    if (!d)
        return;
    if (d->running) {
        uint64_t one = 1;
        while (write(d->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
        pthread_join(d->thread, NULL);
    }
    close(d->stop_fd);
    pthread_mutex_destroy(&d->mu);
    free(d);
}
