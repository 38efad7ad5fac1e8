/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The hub of `reel run`: publishes what the recorder sees to subscribers on
 * other threads (live view, motion detection, uploads): each camera's access
 * units as they arrive, camera state changes, and "recording committed /
 * closed" events from the store's syncers. It also keeps each camera's
 * latest status in memory for readers such as the HTTP server and the
 * control socket (the database no longer holds it).
 *
 * Publishing never waits for a subscriber: each subscriber has a bounded
 * queue (a cap in entries and a cap in bytes of access-unit data). A
 * subscriber whose queue is full is marked lagging: its queued access units
 * are dropped and it receives no access unit until the camera's next key
 * frame, whose message tells how many it lost. Events (state, recording)
 * are small and kept in order; only when a queue is full of events does the
 * oldest one go (counted in lost_events).
 *
 * Cost: with nobody subscribed to a camera's access units,
 * reel_hub_publish_au() is one atomic load and a branch (no lock, no copy).
 * With subscribers, an access unit is copied once into a reference-counted
 * buffer shared by all of them.
 *
 * Threads: publishing AUs and states for one camera happens on one thread
 * (the loop); recording events on any thread (syncers); subscribers read
 * from any thread, each subscription used by one thread at a time. The hub
 * depends on base only: the structures it carries are its own, filled by
 * the glue (src/reel/recorder.c).
 *
 * Ownership: reel_hub_new() -> reel_hub_free() (after every subscription
 * and camera is gone and every message read is released: the shared
 * buffers return to the hub's pool of at most 8 MiB for reuse). reel_hub_cam_add() -> reel_hub_cam_remove();
 * reel_hub_subscribe() -> reel_hub_unsubscribe(). A message read with
 * reel_hub_sub_read() holds a reference on its data until
 * reel_hub_msg_release().
 */
#ifndef REEL_HUB_HUB_H
#define REEL_HUB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reel_hub;
struct reel_hub_cam;     /* one camera's publishing end */
struct reel_hub_sub;     /* one subscription */
struct reel_hub_buf;     /* a shared, reference-counted AU copy (opaque) */

#define REEL_HUB_STATE_MAX 64
#define REEL_HUB_ERROR_MAX 256

/* A camera's status (the fields of struct reel_camera_status). */
struct reel_hub_state {
    int64_t camera_id;
    bool connected;
    char state[REEL_HUB_STATE_MAX];      /* "recording", "connecting", "disabled" ... */
    char last_error[REEL_HUB_ERROR_MAX];
    double fps;
    double bitrate_bps;
    uint64_t udp_foreign;                /* UDP packets dropped from foreign sources */
    int64_t updated90k;
};

/* One access unit as published (data valid only during the call). */
struct reel_hub_au {
    const uint8_t *data;                 /* length-prefixed NAL units */
    size_t len;
    int64_t ts90k;                       /* media timestamp as stored */
    int64_t wall90k;                     /* arrival, 90 kHz since the epoch */
    bool key;
    int64_t sample_entry_id;             /* the store's sample entry in effect */
};

/* A recording's frames were committed (closed: its last commit). */
struct reel_hub_recording {
    int64_t camera_id, recording_id, run_id;
    int64_t start90k, wall_duration90k;
    uint32_t frames;
    uint64_t bytes;
    bool closed;
};

enum reel_hub_kind {
    REEL_HUB_AU = 1,
    REEL_HUB_STATE = 2,
    REEL_HUB_RECORDING = 4,
};

struct reel_hub_msg {
    enum reel_hub_kind kind;
    int64_t camera_id;
    /* REEL_HUB_AU: access units of this subscription lost (queue full)
     * since the previous one delivered; only ever non-zero on a key frame. */
    uint64_t lost;
    /* Events dropped from this subscription's queue (full of events) since
     * the previous message read. */
    uint64_t lost_events;
    union {
        struct reel_hub_au au;           /* au.data valid until reel_hub_msg_release() */
        struct reel_hub_state state;
        struct reel_hub_recording rec;
    };
    struct reel_hub_buf *buf;            /* internal: the reference held */
};

struct reel_hub_sub_cfg {
    int64_t camera_id;                   /* 0 = every camera (events only, not REEL_HUB_AU) */
    unsigned kinds;                      /* REEL_HUB_* bits */
    size_t max_entries;                  /* queue entries; 0 = 256, at most 65536 */
    size_t max_bytes;                    /* queued AU bytes; 0 = 16 MiB, at most 1 GiB */
};

struct reel_hub_stats {
    uint64_t au_published;               /* with at least one subscriber */
    uint64_t au_copies;                  /* shared buffers made */
    uint64_t bytes_copied;
};

/* *ret owned by the caller: reel_hub_free(). -ENOMEM. */
int reel_hub_new(struct reel_hub **ret);
/* Every subscription and camera must be gone, every message released. NULL ok. */
void reel_hub_free(struct reel_hub *h);

/* Registers camera id (> 0) for publishing (-EEXIST when registered
 * already); its status starts as *initial (may be NULL). The handle stays
 * valid until reel_hub_cam_remove(), which also forgets the status;
 * subscriptions to the camera stay (and receive its messages again if it is
 * added back). */
int reel_hub_cam_add(struct reel_hub *h, int64_t camera_id, const struct reel_hub_state *initial,
                     struct reel_hub_cam **ret);
void reel_hub_cam_remove(struct reel_hub *h, struct reel_hub_cam *c);

/* Publishes an access unit (the camera's thread). Costs one atomic load and
 * a branch when nobody subscribes to the camera's AUs. */
void reel_hub_publish_au(struct reel_hub_cam *c, const struct reel_hub_au *au);
/* Stores st as the camera's status and delivers it to STATE subscribers. */
void reel_hub_publish_state(struct reel_hub_cam *c, const struct reel_hub_state *st);
/* Stores st as the camera's status without an event (fps/bitrate refresh). */
void reel_hub_status_put(struct reel_hub_cam *c, const struct reel_hub_state *st);
/* Any thread (a syncer): delivers a recording event to the subscribers of
 * ev->camera_id and of every camera. One atomic load when nobody listens. */
void reel_hub_publish_recording(struct reel_hub *h, const struct reel_hub_recording *ev);

/* Any thread: the camera's latest status; -ENOENT when not registered. */
int reel_hub_status_get(struct reel_hub *h, int64_t camera_id, struct reel_hub_state *ret);
/* Any thread: every registered camera's status, by camera id; *ret is
 * malloc'd (free()), NULL when *ret_n is 0. */
int reel_hub_status_list(struct reel_hub *h, struct reel_hub_state **ret, size_t *ret_n);

/* Any thread. -EINVAL (no kinds, AUs of every camera, caps out of range),
 * -ENOMEM. A new subscription receives access
 * units from the next key frame. *ret: reel_hub_unsubscribe(). */
int reel_hub_subscribe(struct reel_hub *h, const struct reel_hub_sub_cfg *cfg, struct reel_hub_sub **ret);
/* Any thread, while others publish; not while another thread reads this
 * subscription. Drops what is queued. NULL ok. */
void reel_hub_unsubscribe(struct reel_hub_sub *s);
/* The next message, oldest first. timeout_ns 0: never waits (-EAGAIN when
 * empty); < 0: waits as long as it takes; > 0: at most that long
 * (-ETIMEDOUT). The caller releases each message read. */
int reel_hub_sub_read(struct reel_hub_sub *s, struct reel_hub_msg *ret, int64_t timeout_ns);
void reel_hub_msg_release(struct reel_hub_msg *m);
/* An eventfd that is readable while the queue is not empty, for epoll (the
 * hub reads it back when the queue empties). Made at the first call (a
 * subscription that never asks costs no system call per message); owned by
 * the subscription. The descriptor, or the negative errno of eventfd(). */
int reel_hub_sub_fd(struct reel_hub_sub *s);
/* Access units this subscription lost in total. */
uint64_t reel_hub_sub_lost(struct reel_hub_sub *s);

void reel_hub_get_stats(struct reel_hub *h, struct reel_hub_stats *ret);

#endif
