/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The HTTP server's resource limits (issue 11): the playback caps
 * (src/http/playback.c: downloads per user and in all, the header memory
 * budget), the worker pool (src/http/work.c: bounded queue, every job run
 * once, a stop that drains), and the route table's marks for the routes
 * that run on it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/api.h"
#include "http/playback.h"
#include "http/route.h"
#include "http/work.h"

static void test_playback_downloads(void **state)
{
    (void)state;
    struct reel_http_playback *p;
    assert_int_equal(reel_http_playback_new(&p, 0, 1, 1), -EINVAL);
    assert_int_equal(reel_http_playback_new(&p, 4, 5, 1), -EINVAL);
    assert_int_equal(reel_http_playback_new(&p, 5, 2, 1000), 0);
    /* per user: 2, then -EUSERS for that user only */
    assert_int_equal(reel_http_playback_begin(p, 1), 0);
    assert_int_equal(reel_http_playback_begin(p, 1), 0);
    assert_int_equal(reel_http_playback_begin(p, 1), -EUSERS);
    assert_int_equal(reel_http_playback_begin(p, 2), 0);
    assert_int_equal(reel_http_playback_begin(p, 2), 0);
    assert_int_equal(reel_http_playback_begin(p, 3), 0);
    /* in all: 5 */
    assert_int_equal(reel_http_playback_active(p), 5);
    assert_int_equal(reel_http_playback_begin(p, 4), -EBUSY);
    assert_int_equal(reel_http_playback_begin(p, 1), -EUSERS);
    /* a slot that ends is free for anyone */
    reel_http_playback_end(p, 1);
    assert_int_equal(reel_http_playback_begin(p, 4), 0);
    assert_int_equal(reel_http_playback_begin(p, 1), -EBUSY);
    reel_http_playback_end(p, 4);
    assert_int_equal(reel_http_playback_begin(p, 1), 0);
    /* an end for a user with none changes nothing */
    reel_http_playback_end(p, 99);
    assert_int_equal(reel_http_playback_active(p), 5);
    reel_http_playback_free(p);
}

static void test_playback_memory(void **state)
{
    (void)state;
    struct reel_http_playback *p;
    assert_int_equal(reel_http_playback_new(&p, 4, 4, 100), 0);
    assert_int_equal(reel_http_playback_reserve(p, 101), -EFBIG);   /* alone over the budget: 413 */
    assert_int_equal(reel_http_playback_reserve(p, 60), 0);
    assert_int_equal(reel_http_playback_reserve(p, 41), -ENOMEM);   /* not now: 503 */
    assert_int_equal(reel_http_playback_reserve(p, 40), 0);
    assert_int_equal(reel_http_playback_held(p), 100);
    reel_http_playback_release(p, 60);
    assert_int_equal(reel_http_playback_reserve(p, 41), 0);
    reel_http_playback_release(p, 81);
    assert_int_equal(reel_http_playback_held(p), 0);
    reel_http_playback_free(p);
}

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
    atomic_int ran;
};

static void job_wait(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    atomic_fetch_add(&g->ran, 1);
}

/* A bounded queue: with the workers held, queue_max jobs wait and the next
 * gets -EAGAIN; a stop runs every accepted job, later submits fail. */
static void test_work_queue(void **state)
{
    (void)state;
    struct reel_http_work *w;
    assert_int_equal(reel_http_work_new(&w, 0, 1), -EINVAL);
    assert_int_equal(reel_http_work_new(&w, 2, 3), 0);
    struct gate g = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
    int accepted = 0, refused = 0;
    for (int i = 0; i < 10; i++) {
        int rc = reel_http_work_submit(w, job_wait, &g);
        if (rc == 0)
            accepted++;
        else if (rc == -EAGAIN)
            refused++;
        /* let the workers take the first two */
        if (i == 1)
            for (int k = 0; k < 2000 && reel_http_work_queued(w) > 0; k++)
                usleep(5000);
    }
    assert_int_equal(accepted, 5);      /* 2 running + 3 waiting */
    assert_int_equal(refused, 5);
    pthread_mutex_lock(&g.mu);
    g.open = 1;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    reel_http_work_stop(w);
    assert_int_equal(atomic_load(&g.ran), 5);
    assert_int_equal(reel_http_work_submit(w, job_wait, &g), -ESHUTDOWN);
    reel_http_work_free(w);
}

/* Password hashing, MP4 building, snapshot and thumbnail decoding, camera
 * tests, statvfs of the storage, export rows, the timeline and playback
 * fragments run on the pool; cheap routes do not. */
static void test_routes_on_pool(void **state)
{
    (void)state;
    for (size_t i = 0; i < reel_api_nroutes; i++) {
        const struct reel_http_route *r = &reel_api_routes[i];
        bool hashes = strcmp(r->pattern, "/api/login") == 0 ||
                      (strcmp(r->pattern, "/api/users") == 0 && strcmp(r->method, "POST") == 0) ||
                      (strcmp(r->pattern, "/api/users/{user}") == 0 && strcmp(r->method, "PATCH") == 0);
        bool want = hashes || strstr(r->pattern, "view.mp4") != NULL || strcmp(r->pattern, "/api/cameras/test") == 0 ||
                    strcmp(r->pattern, "/api/storage") == 0 ||
                    strstr(r->pattern, "snapshot.jpg") != NULL ||
                    /* issue 13: thumbnail decoding; an export's row and directory made or removed */
                    strstr(r->pattern, "thumb.jpg") != NULL ||
                    (strncmp(r->pattern, "/api/exports", 12) == 0 &&
                     (strcmp(r->method, "POST") == 0 || strcmp(r->method, "DELETE") == 0)) ||
                    /* the timeline's first query seeds its span cache (an index scan per
                     * camera); a fragment reads up to 4 MiB, or transcodes */
                    strcmp(r->pattern, "/api/timeline") == 0 || strstr(r->pattern, "frag.m4s") != NULL;
        /* the audit log's reads (a verify walks the whole chain, a CSV up
         * to 10000 rows) and the disclosure log's fsynced writes */
        want = want || strcmp(r->pattern, "/api/audit") == 0 || strcmp(r->pattern, "/api/audit.csv") == 0 ||
               strcmp(r->pattern, "/api/audit/verify") == 0 || strcmp(r->pattern, "/api/disclosures") == 0;
        /* issue 15: a motion search or activity scans up to 62 days of grid
         * rows; webhook writes wait for reel.db; ONVIF calls wait for the
         * network (discovery up to 5 s, a device's replies) */
        want = want || strstr(r->pattern, "/motion/search") != NULL || strstr(r->pattern, "/motion/activity") != NULL ||
               (strncmp(r->pattern, "/api/webhooks", 13) == 0 && strcmp(r->method, "GET") != 0) ||
               strncmp(r->pattern, "/api/onvif/", 11) == 0;
        assert_int_equal(r->pool, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_playback_downloads), cmocka_unit_test(test_playback_memory),
        cmocka_unit_test(test_work_queue), cmocka_unit_test(test_routes_on_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
