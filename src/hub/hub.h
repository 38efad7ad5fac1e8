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
 * GOP cache (live view's instant start): with a cache budget set
 * (reel_hub_set_cache_max(), `reel run --live-cache-mib`), the hub keeps for
 * each camera the access units since its last key frame, as references on
 * the same shared buffers the subscribers get (no second copy). At most
 * REEL_HUB_CACHE_CAM_MAX per camera (a longer GOP: no cache for the camera
 * until its next key frame); when the budget in all is exceeded, the caches
 * of the cameras least recently watched (subscribed with .gop) go first; a
 * camera never watched is the oldest. A camera's cache is dropped when it
 * disconnects (a state with connected false) or is removed. With no budget
 * and nobody subscribed, publishing stays one atomic load and a branch.
 *
 * Sample entries: the publisher tells the hub the stsd entry box in effect
 * (reel_hub_cam_set_entry) so that live view can build an init segment
 * without the database; the hub keeps the last REEL_HUB_ENTRIES_MAX of each
 * camera.
 *
 * Camera ids: positive for cameras, negative for virtual cameras (the H.264
 * transcode of camera id is REEL_HUB_TRANSCODE_ID(id)), never 0.
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

#define REEL_HUB_TRANSCODE_ID(camera_id) (-(camera_id))
#define REEL_HUB_CACHE_CAM_MAX (8u << 20)  /* GOP cache bytes per camera */
#define REEL_HUB_ENTRY_MAX 65536u           /* sample entry box bytes */
#define REEL_HUB_ENTRIES_MAX 8              /* entries kept per camera */

struct reel_hub_sub_cfg {
    int64_t camera_id;                   /* 0 = every camera (events only, not REEL_HUB_AU) */
    /* With REEL_HUB_AU: start with the camera's cached GOP (key frame
     * first) when one is cached, then live AUs; marks the camera watched. */
    bool gop;
    unsigned kinds;                      /* REEL_HUB_* bits */
    size_t max_entries;                  /* queue entries; 0 = 256, at most 65536 */
    size_t max_bytes;                    /* queued AU bytes; 0 = 16 MiB, at most 1 GiB */
};

struct reel_hub_stats {
    uint64_t au_published;               /* with at least one subscriber */
    uint64_t au_copies;                  /* shared buffers made */
    uint64_t bytes_copied;
    uint64_t cache_bytes;                /* AU bytes held by GOP caches now */
    uint64_t cache_evictions;            /* caches dropped for the budget */
};

/* *ret owned by the caller: reel_hub_free(). -ENOMEM. */
int reel_hub_new(struct reel_hub **ret);
/* Every subscription and camera must be gone, every message released. NULL ok. */
void reel_hub_free(struct reel_hub *h);

/* The GOP cache budget in bytes for every camera together; 0 (the
 * default) = no cache. Any thread; takes effect at each camera's next key
 * frame. */
void reel_hub_set_cache_max(struct reel_hub *h, size_t bytes);

/* Registers camera id (!= 0) for publishing (-EEXIST when registered
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

/* The publisher (any thread): the sample entry box (avc1/hvc1 with its
 * avcC/hvcC, as in reel.db's sample_entry.data; copied) of entry_id (> 0),
 * whose AUs follow. Width and height are read from the box, the codec
 * string derived from its avcC/hvcC. -EINVAL (bad box, over
 * REEL_HUB_ENTRY_MAX), -ENOMEM. Re-setting a known id is a no-op. */
int reel_hub_cam_set_entry(struct reel_hub_cam *c, int64_t entry_id, const uint8_t *box, size_t len);
/* The same with the codec string given (at most 31 characters used). */
int reel_hub_cam_set_entry_ex(struct reel_hub_cam *c, int64_t entry_id, const uint8_t *box, size_t len,
                              const char *codec_string);
/* Any thread: entry entry_id of camera_id copied to buf (-ENOSPC when over
 * cap, *len set), its size and codec string. -ENOENT unknown. Any of
 * width, height, codec_string may be NULL. */
int reel_hub_entry_get(struct reel_hub *h, int64_t camera_id, int64_t entry_id, uint8_t *buf, size_t cap,
                       size_t *len, int *width, int *height, char codec_string[32]);
/* Any thread: the key frame of the camera's cached GOP as an AU message
 * holding a reference (reel_hub_msg_release()); -ENOENT when none. */
int reel_hub_keyframe_get(struct reel_hub *h, int64_t camera_id, struct reel_hub_msg *ret);

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
