/* SPDX-License-Identifier: GPL-3.0-or-later
 * Unit tests for src/hub: fan-out with one copy, bounded queues with
 * drop-to-key-frame, unsubscribing while another thread publishes, the
 * zero-subscriber fast path, events in order, the eventfd. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hub/hub.h"

static void publish(struct reel_hub_cam *c, uint8_t fill, size_t len, bool key, int64_t ts)
{
    uint8_t buf[4096];
    assert_true(len <= sizeof(buf));
    memset(buf, fill, len);
    struct reel_hub_au au = { .data = buf, .len = len, .ts90k = ts, .wall90k = ts, .key = key,
                              .sample_entry_id = 7 };
    reel_hub_publish_au(c, &au);
}

static bool fd_readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_fanout_one_copy(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    struct reel_hub_cam *c;
    assert_int_equal(reel_hub_cam_add(h, 1, NULL, &c), 0);
    assert_int_equal(reel_hub_cam_add(h, 1, NULL, &c), -EEXIST);
    struct reel_hub_sub *s[3];
    struct reel_hub_sub_cfg cfg = { .camera_id = 1, .kinds = REEL_HUB_AU };
    for (int i = 0; i < 3; i++)
        assert_int_equal(reel_hub_subscribe(h, &cfg, &s[i]), 0);
    /* A new subscription starts at a key frame: this one is not delivered. */
    publish(c, 0xee, 100, false, 0);
    for (int k = 0; k < 10; k++)
        publish(c, (uint8_t)k, 100 + (size_t)k, k % 5 == 0, 3000 * (k + 1));
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.au_copies, 10);           /* once per AU, not per subscriber */
    assert_int_equal(st.bytes_copied, 10 * 100 + 45);
    for (int k = 0; k < 10; k++) {
        struct reel_hub_msg m[3];
        for (int i = 0; i < 3; i++) {
            assert_int_equal(reel_hub_sub_read(s[i], &m[i], 0), 0);
            assert_int_equal(m[i].kind, REEL_HUB_AU);
            assert_int_equal(m[i].camera_id, 1);
            assert_int_equal(m[i].au.len, 100 + (size_t)k);
            assert_int_equal(m[i].au.ts90k, 3000 * (k + 1));
            assert_int_equal(m[i].au.key, k % 5 == 0);
            assert_int_equal(m[i].au.sample_entry_id, 7);
            assert_int_equal(m[i].lost, 0);
            assert_int_equal(m[i].au.data[0], k);
            assert_int_equal(m[i].au.data[m[i].au.len - 1], k);
        }
        assert_ptr_equal(m[0].au.data, m[1].au.data);   /* the same shared copy */
        assert_ptr_equal(m[0].au.data, m[2].au.data);
        for (int i = 0; i < 3; i++)
            reel_hub_msg_release(&m[i]);
    }
    struct reel_hub_msg m;
    assert_int_equal(reel_hub_sub_read(s[0], &m, 0), -EAGAIN);
    assert_int_equal(reel_hub_sub_read(s[0], &m, 20 * 1000000), -ETIMEDOUT);
    /* Queued messages are released by unsubscribe (ASan checks the leak). */
    publish(c, 1, 50, true, 99999);
    for (int i = 0; i < 3; i++)
        reel_hub_unsubscribe(s[i]);
    reel_hub_cam_remove(h, c);
    reel_hub_free(h);
}

static void test_bounded_drop_to_key(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    struct reel_hub_cam *c;
    assert_int_equal(reel_hub_cam_add(h, 5, NULL, &c), 0);
    struct reel_hub_sub *slow, *fast;
    struct reel_hub_sub_cfg cfg = { .camera_id = 5, .kinds = REEL_HUB_AU, .max_entries = 4 };
    assert_int_equal(reel_hub_subscribe(h, &cfg, &slow), 0);
    cfg.max_entries = 64;
    assert_int_equal(reel_hub_subscribe(h, &cfg, &fast), 0);
    /* 10 AUs, key first; the slow one reads nothing: 4 fit, the 5th
     * overflows (the 4 queued and the 5th lost), then 5 more non-key lost. */
    int sfd = reel_hub_sub_fd(slow);
    assert_true(sfd >= 0);
    assert_int_equal(reel_hub_sub_fd(slow), sfd);
    for (int k = 0; k < 10; k++) {
        publish(c, (uint8_t)k, 10, k == 0, k + 1);
        assert_int_equal(fd_readable(sfd), k < 4);   /* emptied at the overflow */
    }
    publish(c, 10, 10, true, 11);             /* the next key frame */
    assert_true(fd_readable(sfd));
    publish(c, 11, 10, false, 12);
    struct reel_hub_msg m;
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_true(m.au.key);
    assert_int_equal(m.au.ts90k, 11);
    assert_int_equal(m.lost, 10);
    reel_hub_msg_release(&m);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_int_equal(m.au.ts90k, 12);
    assert_int_equal(m.lost, 0);
    reel_hub_msg_release(&m);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), -EAGAIN);
    assert_int_equal(reel_hub_sub_lost(slow), 10);
    /* The fast one lost nothing. */
    for (int k = 0; k < 12; k++) {
        assert_int_equal(reel_hub_sub_read(fast, &m, 0), 0);
        assert_int_equal(m.au.ts90k, k + 1);
        assert_int_equal(m.lost, 0);
        reel_hub_msg_release(&m);
    }
    assert_int_equal(reel_hub_sub_lost(fast), 0);
    reel_hub_unsubscribe(fast);
    reel_hub_unsubscribe(slow);

    /* The cap in bytes: 1000 bytes, AUs of 400: two fit, the third drops
     * the queue; a key frame that fits in the emptied queue is delivered. */
    struct reel_hub_sub_cfg bc = { .camera_id = 5, .kinds = REEL_HUB_AU, .max_bytes = 1000 };
    assert_int_equal(reel_hub_subscribe(h, &bc, &slow), 0);
    publish(c, 1, 400, true, 100);
    publish(c, 2, 400, false, 101);
    publish(c, 3, 400, false, 102);           /* overflow: 2 queued + this one lost */
    publish(c, 4, 400, false, 103);           /* lagging: lost */
    publish(c, 5, 1200, true, 104);           /* key but over the cap alone: lost */
    publish(c, 6, 400, true, 105);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_int_equal(m.au.ts90k, 105);
    assert_int_equal(m.lost, 5);
    reel_hub_msg_release(&m);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), -EAGAIN);
    reel_hub_unsubscribe(slow);

    /* Events survive an overflow of access units, in order. */
    struct reel_hub_sub_cfg ec = { .camera_id = 5, .kinds = REEL_HUB_AU | REEL_HUB_STATE, .max_entries = 3 };
    assert_int_equal(reel_hub_subscribe(h, &ec, &slow), 0);
    publish(c, 1, 10, true, 200);
    struct reel_hub_state st = { .connected = true };
    snprintf(st.state, sizeof(st.state), "recording");
    reel_hub_publish_state(c, &st);
    publish(c, 2, 10, false, 201);
    publish(c, 3, 10, false, 202);            /* overflow: both AUs lost, the state kept */
    publish(c, 4, 10, true, 203);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_int_equal(m.kind, REEL_HUB_STATE);
    assert_string_equal(m.state.state, "recording");
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_int_equal(m.kind, REEL_HUB_AU);
    assert_int_equal(m.au.ts90k, 203);
    assert_int_equal(m.lost, 3);
    reel_hub_msg_release(&m);
    /* A queue full of events loses the oldest, counted. */
    for (int i = 0; i < 5; i++) {
        snprintf(st.state, sizeof(st.state), "s%d", i);
        reel_hub_publish_state(c, &st);
    }
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_string_equal(m.state.state, "s2");
    assert_int_equal(m.lost_events, 2);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_string_equal(m.state.state, "s3");
    assert_int_equal(m.lost_events, 0);
    assert_int_equal(reel_hub_sub_read(slow, &m, 0), 0);
    assert_string_equal(m.state.state, "s4");
    reel_hub_unsubscribe(slow);

    reel_hub_cam_remove(h, c);
    reel_hub_free(h);
}

struct pub_thread {
    struct reel_hub_cam *cam;
    struct reel_hub *hub;
    atomic_bool stop;
    unsigned long published;
};

static void *publisher(void *arg)
{
    struct pub_thread *p = arg;
    uint8_t buf[2000];
    for (unsigned long k = 0; !atomic_load(&p->stop); k++) {
        memset(buf, (int)(k & 0xff), sizeof(buf));
        struct reel_hub_au au = { .data = buf, .len = 100 + k % 1900, .ts90k = (int64_t)k, .key = k % 10 == 0 };
        reel_hub_publish_au(p->cam, &au);
        struct reel_hub_recording ev = { .camera_id = 3, .recording_id = (int64_t)k };
        if (k % 16 == 0)
            reel_hub_publish_recording(p->hub, &ev);
        p->published++;
    }
    return NULL;
}

static void test_unsubscribe_while_publishing(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    struct pub_thread p = { .hub = h };
    atomic_init(&p.stop, false);
    assert_int_equal(reel_hub_cam_add(h, 3, NULL, &p.cam), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publisher, &p), 0);
    unsigned long got = 0;
    for (int round = 0; round < 300; round++) {
        struct reel_hub_sub *s[2];
        struct reel_hub_sub_cfg cfg = { .camera_id = 3, .kinds = REEL_HUB_AU | REEL_HUB_RECORDING,
                                        .max_entries = (size_t)(2 + round % 16) };
        assert_int_equal(reel_hub_subscribe(h, &cfg, &s[0]), 0);
        struct reel_hub_sub_cfg all = { .kinds = REEL_HUB_RECORDING | REEL_HUB_STATE };
        assert_int_equal(reel_hub_subscribe(h, &all, &s[1]), 0);
        for (int k = 0; k < round % 7; k++) {
            struct reel_hub_msg m;
            if (reel_hub_sub_read(s[0], &m, 2 * 1000000) == 0) {
                if (m.kind == REEL_HUB_AU) {
                    /* the shared copy is intact */
                    assert_int_equal(m.au.data[0], m.au.data[m.au.len - 1]);
                    got++;
                }
                reel_hub_msg_release(&m);
            }
        }
        /* a message kept past unsubscribe stays valid until released */
        struct reel_hub_msg kept = { .buf = NULL };
        bool have = reel_hub_sub_read(s[0], &kept, 0) == 0;
        reel_hub_unsubscribe(s[round % 2]);
        reel_hub_unsubscribe(s[1 - round % 2]);
        if (have && kept.kind == REEL_HUB_AU)
            assert_int_equal(kept.au.data[0], kept.au.data[kept.au.len - 1]);
        reel_hub_msg_release(&kept);
    }
    atomic_store(&p.stop, true);
    pthread_join(th, NULL);
    assert_true(p.published > 0);
    assert_true(got > 0);
    reel_hub_cam_remove(h, p.cam);
    reel_hub_free(h);
}

static void test_zero_subscribers(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    struct reel_hub_cam *c;
    assert_int_equal(reel_hub_cam_add(h, 9, NULL, &c), 0);
    for (int k = 0; k < 1000; k++)
        publish(c, 1, 1000, k % 30 == 0, k);
    /* A subscription to states only does not make AUs copied either. */
    struct reel_hub_sub *s;
    struct reel_hub_sub_cfg cfg = { .camera_id = 9, .kinds = REEL_HUB_STATE };
    assert_int_equal(reel_hub_subscribe(h, &cfg, &s), 0);
    for (int k = 0; k < 1000; k++)
        publish(c, 1, 1000, k % 30 == 0, k);
    struct reel_hub_recording ev = { .camera_id = 9 };
    reel_hub_publish_recording(h, &ev);
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.au_published, 0);      /* never went past the fast path */
    assert_int_equal(st.au_copies, 0);
    assert_int_equal(st.bytes_copied, 0);
    struct reel_hub_msg m;
    assert_int_equal(reel_hub_sub_read(s, &m, 0), -EAGAIN);
    reel_hub_unsubscribe(s);
    /* Nor once the last AU subscriber left. */
    cfg.kinds = REEL_HUB_AU;
    assert_int_equal(reel_hub_subscribe(h, &cfg, &s), 0);
    publish(c, 1, 10, true, 1);
    reel_hub_unsubscribe(s);
    publish(c, 1, 10, true, 2);
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.au_published, 1);
    assert_int_equal(st.au_copies, 1);
    /* AUs of every camera are refused (publishing stays per camera). */
    struct reel_hub_sub_cfg bad = { .camera_id = 0, .kinds = REEL_HUB_AU };
    assert_int_equal(reel_hub_subscribe(h, &bad, &s), -EINVAL);
    bad = (struct reel_hub_sub_cfg){ .camera_id = 9, .kinds = 0 };
    assert_int_equal(reel_hub_subscribe(h, &bad, &s), -EINVAL);
    reel_hub_cam_remove(h, c);
    reel_hub_free(h);
}

static void test_events_in_order(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    /* Subscribing before the camera is registered works. */
    struct reel_hub_sub *one, *all;
    struct reel_hub_sub_cfg cfg = { .camera_id = 2, .kinds = REEL_HUB_STATE | REEL_HUB_RECORDING };
    assert_int_equal(reel_hub_subscribe(h, &cfg, &one), 0);
    struct reel_hub_sub_cfg acfg = { .kinds = REEL_HUB_STATE | REEL_HUB_RECORDING };
    assert_int_equal(reel_hub_subscribe(h, &acfg, &all), 0);
    struct reel_hub_state got;
    assert_int_equal(reel_hub_status_get(h, 2, &got), -ENOENT);
    struct reel_hub_cam *c, *c4;
    struct reel_hub_state init = { .fps = 0 };
    snprintf(init.state, sizeof(init.state), "starting");
    assert_int_equal(reel_hub_cam_add(h, 2, &init, &c), 0);
    assert_int_equal(reel_hub_cam_add(h, 4, NULL, &c4), 0);
    assert_int_equal(reel_hub_status_get(h, 2, &got), 0);
    assert_string_equal(got.state, "starting");
    assert_int_equal(got.camera_id, 2);
    assert_false(fd_readable(reel_hub_sub_fd(one)));

    const char *states[] = { "connecting", "recording", "retrying", "recording" };
    for (int i = 0; i < 4; i++) {
        struct reel_hub_state st = { .connected = i % 2 == 1 };
        snprintf(st.state, sizeof(st.state), "%s", states[i]);
        reel_hub_publish_state(c, &st);
        struct reel_hub_recording ev = { .camera_id = 2, .recording_id = 10 + i, .frames = (uint32_t)i,
                                         .closed = i == 3 };
        reel_hub_publish_recording(h, &ev);
        struct reel_hub_recording other = { .camera_id = 4, .recording_id = 100 + i };
        reel_hub_publish_recording(h, &other);
    }
    /* fps refresh: stored, no event */
    struct reel_hub_state fr = { .connected = true, .fps = 25 };
    snprintf(fr.state, sizeof(fr.state), "recording");
    reel_hub_status_put(c, &fr);
    assert_int_equal(reel_hub_status_get(h, 2, &got), 0);
    assert_true(got.fps == 25);

    assert_true(fd_readable(reel_hub_sub_fd(one)));
    struct reel_hub_msg m;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(reel_hub_sub_read(one, &m, 0), 0);
        assert_int_equal(m.kind, REEL_HUB_STATE);
        assert_string_equal(m.state.state, states[i]);
        assert_int_equal(m.state.camera_id, 2);
        assert_int_equal(reel_hub_sub_read(one, &m, 0), 0);
        assert_int_equal(m.kind, REEL_HUB_RECORDING);
        assert_int_equal(m.rec.recording_id, 10 + i);
        assert_int_equal(m.rec.closed, i == 3);
    }
    assert_int_equal(reel_hub_sub_read(one, &m, 0), -EAGAIN);
    assert_false(fd_readable(reel_hub_sub_fd(one)));   /* read back once empty */
    /* The every-camera subscription sees both cameras' events in order. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(reel_hub_sub_read(all, &m, -1), 0);
        assert_int_equal(m.kind, REEL_HUB_STATE);
        assert_string_equal(m.state.state, states[i]);
        assert_int_equal(reel_hub_sub_read(all, &m, 0), 0);
        assert_int_equal(m.rec.recording_id, 10 + i);
        assert_int_equal(reel_hub_sub_read(all, &m, 0), 0);
        assert_int_equal(m.rec.recording_id, 100 + i);
        assert_int_equal(m.rec.camera_id, 4);
    }
    assert_int_equal(reel_hub_sub_read(all, &m, 0), -EAGAIN);

    struct reel_hub_state *list;
    size_t n;
    assert_int_equal(reel_hub_status_list(h, &list, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].camera_id, 2);
    assert_int_equal(list[1].camera_id, 4);
    free(list);
    reel_hub_cam_remove(h, c);
    assert_int_equal(reel_hub_status_get(h, 2, &got), -ENOENT);
    /* Added back: the subscription still receives its events. */
    assert_int_equal(reel_hub_cam_add(h, 2, NULL, &c), 0);
    struct reel_hub_state st = { .connected = false };
    snprintf(st.state, sizeof(st.state), "disabled");
    reel_hub_publish_state(c, &st);
    assert_int_equal(reel_hub_sub_read(one, &m, 0), 0);
    assert_string_equal(m.state.state, "disabled");
    reel_hub_unsubscribe(one);
    reel_hub_unsubscribe(all);
    reel_hub_cam_remove(h, c);
    reel_hub_cam_remove(h, c4);
    assert_int_equal(reel_hub_status_list(h, &list, &n), 0);
    assert_int_equal(n, 0);
    reel_hub_free(h);
}

/* ---- GOP cache (issue 12) ---- */

static void publish_cam(struct reel_hub_cam *c, uint8_t fill, size_t len, bool key, int64_t ts)
{
    publish(c, fill, len, key, ts);
}

static void expect_au(struct reel_hub_sub *s, int64_t ts, bool key)
{
    struct reel_hub_msg m;
    assert_int_equal(reel_hub_sub_read(s, &m, 0), 0);
    assert_int_equal(m.kind, REEL_HUB_AU);
    assert_int_equal(m.au.ts90k, ts);
    assert_int_equal(m.au.key, key);
    reel_hub_msg_release(&m);
}

static void test_gop_cache_contents(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    reel_hub_set_cache_max(h, 1 << 20);
    struct reel_hub_cam *c;
    assert_int_equal(reel_hub_cam_add(h, 1, NULL, &c), 0);
    struct reel_hub_msg m;
    publish_cam(c, 1, 100, false, 1);            /* before any key frame: not cached */
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), -ENOENT);
    publish_cam(c, 2, 200, true, 2);
    publish_cam(c, 3, 100, false, 3);
    publish_cam(c, 4, 100, false, 4);
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.cache_bytes, 400);
    assert_int_equal(st.au_copies, 3);           /* the cache copies once; nobody subscribed */
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), 0);
    assert_int_equal(m.au.ts90k, 2);
    assert_true(m.au.key);
    assert_int_equal(m.au.len, 200);
    assert_int_equal(m.au.data[0], 2);
    reel_hub_msg_release(&m);
    /* a .gop subscription starts with the cached GOP, key frame first, then live AUs */
    struct reel_hub_sub *g, *plain;
    struct reel_hub_sub_cfg cfg = { .camera_id = 1, .kinds = REEL_HUB_AU, .gop = true };
    assert_int_equal(reel_hub_subscribe(h, &cfg, &g), 0);
    cfg.gop = false;
    assert_int_equal(reel_hub_subscribe(h, &cfg, &plain), 0);
    int fd = reel_hub_sub_fd(g);
    assert_true(fd >= 0 && fd_readable(fd));
    publish_cam(c, 5, 100, false, 5);
    expect_au(g, 2, true);
    expect_au(g, 3, false);
    expect_au(g, 4, false);
    expect_au(g, 5, false);
    assert_int_equal(reel_hub_sub_read(g, &m, 0), -EAGAIN);
    assert_int_equal(reel_hub_sub_read(plain, &m, 0), -EAGAIN);   /* waits for the next key frame */
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.au_copies, 4);           /* the cache and the subscribers share one copy */
    /* a new key frame starts a new GOP */
    publish_cam(c, 6, 300, true, 6);
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.cache_bytes, 300);
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), 0);
    assert_int_equal(m.au.ts90k, 6);
    reel_hub_msg_release(&m);
    expect_au(plain, 6, true);
    /* a disconnect drops the cache */
    struct reel_hub_state down = { .connected = false };
    snprintf(down.state, sizeof(down.state), "connecting");
    reel_hub_publish_state(c, &down);
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), -ENOENT);
    reel_hub_unsubscribe(g);
    reel_hub_unsubscribe(plain);
    publish_cam(c, 7, 100, true, 7);
    reel_hub_cam_remove(h, c);                   /* removal drops it too */
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.cache_bytes, 0);
    reel_hub_free(h);
}

/* The budget in all: the least recently watched camera's cache goes first;
 * a camera never watched is the oldest, one watched now the newest. */
static void test_gop_budget_lru(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    reel_hub_set_cache_max(h, 3000);
    struct reel_hub_cam *c[6];
    for (int i = 1; i <= 5; i++)
        assert_int_equal(reel_hub_cam_add(h, i, NULL, &c[i]), 0);
    for (int i = 1; i <= 3; i++)
        publish_cam(c[i], (uint8_t)i, 1000, true, i);
    struct reel_hub_sub *s1, *s2;
    struct reel_hub_sub_cfg cfg = { .camera_id = 2, .kinds = REEL_HUB_AU, .gop = true };
    assert_int_equal(reel_hub_subscribe(h, &cfg, &s2), 0);
    reel_hub_unsubscribe(s2);                    /* 2 was watched, then left */
    cfg.camera_id = 1;
    assert_int_equal(reel_hub_subscribe(h, &cfg, &s1), 0);   /* 1 is watched now */
    struct reel_hub_msg m;
    publish_cam(c[4], 4, 1000, true, 4);         /* over the budget: 3 (never watched) goes */
    assert_int_equal(reel_hub_keyframe_get(h, 3, &m), -ENOENT);
    for (int i = 1; i <= 4; i++) {
        if (i == 3)
            continue;
        assert_int_equal(reel_hub_keyframe_get(h, i, &m), 0);
        reel_hub_msg_release(&m);
    }
    publish_cam(c[5], 5, 1000, true, 5);         /* then 4 (never watched) */
    assert_int_equal(reel_hub_keyframe_get(h, 4, &m), -ENOENT);
    publish_cam(c[3], 3, 1000, true, 6);         /* then 5, before 2 (watched once) */
    assert_int_equal(reel_hub_keyframe_get(h, 5, &m), -ENOENT);
    assert_int_equal(reel_hub_keyframe_get(h, 2, &m), 0);
    reel_hub_msg_release(&m);
    publish_cam(c[4], 4, 1000, true, 7);         /* then 3 (never watched), not 2 */
    assert_int_equal(reel_hub_keyframe_get(h, 3, &m), -ENOENT);
    publish_cam(c[5], 5, 1000, true, 8);         /* 4 goes again: never watched */
    assert_int_equal(reel_hub_keyframe_get(h, 2, &m), 0);
    reel_hub_msg_release(&m);
    publish_cam(c[3], 3, 1000, true, 9);         /* 5 */
    publish_cam(c[4], 4, 1000, true, 10);        /* 3 */
    struct reel_hub_sub *s4;
    cfg.camera_id = 4;
    assert_int_equal(reel_hub_subscribe(h, &cfg, &s4), 0);    /* 1 and 4 watched now */
    publish_cam(c[5], 5, 1000, true, 11);        /* so 2 goes */
    assert_int_equal(reel_hub_keyframe_get(h, 2, &m), -ENOENT);
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), 0);
    reel_hub_msg_release(&m);
    assert_int_equal(reel_hub_keyframe_get(h, 4, &m), 0);
    reel_hub_msg_release(&m);
    reel_hub_unsubscribe(s4);
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    assert_true(st.cache_bytes <= 3000);
    assert_true(st.cache_evictions >= 5);
    reel_hub_unsubscribe(s1);
    for (int i = 1; i <= 5; i++)
        reel_hub_cam_remove(h, c[i]);
    reel_hub_free(h);
}

/* Per camera: a GOP over REEL_HUB_CACHE_CAM_MAX is not cached until the next key frame. */
static void test_gop_per_camera_cap(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    reel_hub_set_cache_max(h, 64u << 20);
    struct reel_hub_cam *c;
    assert_int_equal(reel_hub_cam_add(h, 1, NULL, &c), 0);
    publish_cam(c, 1, 4096, true, 0);
    size_t n = REEL_HUB_CACHE_CAM_MAX / 4096;
    for (size_t i = 1; i < n; i++)
        publish_cam(c, 1, 4096, false, (int64_t)i);
    struct reel_hub_msg m;
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.cache_bytes, REEL_HUB_CACHE_CAM_MAX);
    publish_cam(c, 1, 4096, false, (int64_t)n);   /* one over */
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.cache_bytes, 0);
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), -ENOENT);
    publish_cam(c, 1, 4096, false, (int64_t)n + 1);   /* off until the key frame */
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.cache_bytes, 0);
    publish_cam(c, 1, 4096, true, (int64_t)n + 2);
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), 0);
    reel_hub_msg_release(&m);
    reel_hub_cam_remove(h, c);
    reel_hub_free(h);
}

/* No budget: the cache is off, and publishing with nobody subscribed copies nothing. */
static void test_gop_cache_off(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    struct reel_hub_cam *c;
    assert_int_equal(reel_hub_cam_add(h, 1, NULL, &c), 0);
    publish_cam(c, 1, 100, true, 1);
    struct reel_hub_msg m;
    assert_int_equal(reel_hub_keyframe_get(h, 1, &m), -ENOENT);
    struct reel_hub_stats st;
    reel_hub_get_stats(h, &st);
    assert_int_equal(st.au_copies, 0);
    reel_hub_cam_remove(h, c);
    reel_hub_free(h);
}

static size_t avc1_box(uint8_t *b, int w, int hgt)
{
    static const uint8_t avcc[] = { 0, 0, 0, 15, 'a', 'v', 'c', 'C', 1, 0x64, 0x00, 0x28, 0xff, 0xe0, 0x00 };
    memset(b, 0, 86);
    b[3] = 86 + sizeof(avcc);
    memcpy(b + 4, "avc1", 4);
    b[15] = 1;
    b[32] = (uint8_t)(w >> 8);
    b[33] = (uint8_t)w;
    b[34] = (uint8_t)(hgt >> 8);
    b[35] = (uint8_t)hgt;
    memcpy(b + 86, avcc, sizeof(avcc));
    return 86 + sizeof(avcc);
}

static void test_sample_entries(void **state)
{
    (void)state;
    struct reel_hub *h;
    assert_int_equal(reel_hub_new(&h), 0);
    struct reel_hub_cam *c, *t;
    assert_int_equal(reel_hub_cam_add(h, 3, NULL, &c), 0);
    assert_int_equal(reel_hub_cam_add(h, REEL_HUB_TRANSCODE_ID(3), NULL, &t), 0);   /* a virtual camera */
    uint8_t box[128], out[128];
    size_t len = avc1_box(box, 1920, 1080), got = 0;
    assert_int_equal(reel_hub_cam_set_entry(c, 5, box, len - 1), -EINVAL);
    assert_int_equal(reel_hub_cam_set_entry(c, 5, box, len), 0);
    int w = 0, hh = 0;
    char codec[32];
    assert_int_equal(reel_hub_entry_get(h, 3, 5, out, sizeof(out), &got, &w, &hh, codec), 0);
    assert_int_equal(got, len);
    assert_memory_equal(out, box, len);
    assert_int_equal(w, 1920);
    assert_int_equal(hh, 1080);
    assert_string_equal(codec, "avc1.640028");
    assert_int_equal(reel_hub_entry_get(h, 3, 5, out, 10, &got, NULL, NULL, NULL), -ENOSPC);
    assert_int_equal(reel_hub_entry_get(h, 3, 6, out, sizeof(out), &got, NULL, NULL, NULL), -ENOENT);
    assert_int_equal(reel_hub_entry_get(h, -3, 5, out, sizeof(out), &got, NULL, NULL, NULL), -ENOENT);
    len = avc1_box(box, 1280, 720);
    assert_int_equal(reel_hub_cam_set_entry_ex(t, 1, box, len, "avc1.42e01f"), 0);
    assert_int_equal(reel_hub_entry_get(h, -3, 1, out, sizeof(out), &got, &w, &hh, codec), 0);
    assert_int_equal(w, 1280);
    assert_string_equal(codec, "avc1.42e01f");
    /* at most REEL_HUB_ENTRIES_MAX kept: the oldest goes */
    for (int i = 0; i < REEL_HUB_ENTRIES_MAX; i++)
        assert_int_equal(reel_hub_cam_set_entry(c, 100 + i, box, len), 0);
    assert_int_equal(reel_hub_entry_get(h, 3, 5, out, sizeof(out), &got, NULL, NULL, NULL), -ENOENT);
    assert_int_equal(reel_hub_entry_get(h, 3, 100 + REEL_HUB_ENTRIES_MAX - 1, out, sizeof(out), &got, NULL, NULL,
                                        NULL), 0);
    reel_hub_cam_remove(h, c);
    reel_hub_cam_remove(h, t);
    reel_hub_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fanout_one_copy),
        cmocka_unit_test(test_bounded_drop_to_key),
        cmocka_unit_test(test_unsubscribe_while_publishing),
        cmocka_unit_test(test_zero_subscribers),
        cmocka_unit_test(test_events_in_order),
        cmocka_unit_test(test_gop_cache_contents),
        cmocka_unit_test(test_gop_budget_lru),
        cmocka_unit_test(test_gop_per_camera_cap),
        cmocka_unit_test(test_gop_cache_off),
        cmocka_unit_test(test_sample_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
