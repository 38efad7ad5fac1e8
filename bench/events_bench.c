/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The event bus's cost on the reporting thread (issue 15): how long
 * reel_events_begin() + reel_events_end() and reel_events_instant() take on
 * the caller (the loop thread, for camera.offline), while the bus thread
 * writes the rows to reel.db and calls a listener. Also how long the bus
 * takes to make N events durable. Run by hand:
 *   reel-events-bench [N]     (a temporary data directory)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db/db.h"
#include "events/events.h"

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_note(void *opaque, const struct reel_event_note *n)
{
    char *s = reel_event_note_json(n);   /* what the live stream does per note */
    free(s);
    (*(long *)opaque)++;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    if (n < 10 || n > 10000000)
        return 2;
    char dir[] = "/tmp/reel-events-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[128];
    snprintf(path, sizeof(path), "%s/reel.db", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return 1;
    fclose(fp);
    struct reel_err err = { "" };
    sqlite3 *db;
    if (reel_db_open(&db, dir, REEL_DB_CREATE, &err) < 0 || reel_db_exec(db, "BEGIN IMMEDIATE", &err) < 0 ||
        reel_db_create(db, &err) < 0 ||
        reel_db_exec(db, "INSERT INTO storage_dir (id, path, uuid) VALUES (1, '/x', 'u'); INSERT INTO camera "
                         "(id, name, url, dir_id) VALUES (1, 'front', 'rtsp://x/', 1); COMMIT", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    sqlite3_close(db);
    struct reel_events_cfg cfg = { .datadir = dir, .queue_max = (size_t)n * 2 + 16 };
    struct reel_events *e;
    if (reel_events_new(&e, &cfg, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    long heard = 0;
    reel_events_listen(e, on_note, &heard);
    int64_t *lat = malloc((size_t)n * sizeof(*lat));
    struct reel_event ev = { .camera_id = 1 };
    snprintf(ev.kind, sizeof(ev.kind), "%s", REEL_EVENT_MOTION);
    snprintf(ev.source, sizeof(ev.source), "motion");
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int64_t a = now_ns();
        int64_t id;
        ev.start90k = 90000 * (int64_t)(i + 1);
        if (reel_events_begin(e, &ev, &id) < 0 || reel_events_end(e, id, ev.start90k + 45000, "door", 37) < 0)
            return 1;
        lat[i] = now_ns() - a;
        if (i % 100 == 99)
            usleep(1000);   /* a busy site: ~100 events every ms burst */
    }
    int64_t t1 = now_ns();
    reel_events_sync(e);
    int64_t t2 = now_ns();
    qsort(lat, (size_t)n, sizeof(*lat), cmp);
    printf("events: %ld begin+end pairs (%ld notes) on the caller: median %.2f us, p99 %.2f us, max %.1f us\n", n,
           2 * n, lat[n / 2] / 1e3, lat[n * 99 / 100] / 1e3, lat[n - 1] / 1e3);
    printf("events: all written (synchronous=FULL, batches of up to 256) and heard %.0f ms after the last report; "
           "%.0f notes/s overall; dropped %llu; listener heard %ld\n",
           (t2 - t1) / 1e6, 2.0 * n / ((t2 - t0) / 1e9), (unsigned long long)reel_events_dropped(e), heard);
    reel_events_unlisten(e, on_note, &heard);
    reel_events_free(e);
    free(lat);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
