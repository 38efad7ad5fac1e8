/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The motion search's benchmark (bench/motion.sh, bench/README.md):
 *   reel-bench-motion fill DATADIR DAYS  every main camera of reel.db gets
 *       DAYS days up to now of motion_minute rows: bursts of motion covering
 *       about 10 % of the seconds, a blob of 4..24 cells wandering over the
 *       picture, levels 20..220 (seeded: the same rows every run)
 *   reel-bench-motion search DATADIR CAMERA DAYS REGION_HEX [MIN_CELLS]
 *       reel_msearch_run() over the last DAYS days, 5 times: prints each time
 *       (ms), the rows scanned and the moments found
 *   reel-bench-motion activity DATADIR CAMERA DAYS BUCKETS  likewise for activity
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db.h"
#include "motion/grid.h"
#include "motion/mstore.h"
#include "motion/search.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fill(const char *dir, int days)
{
    sqlite3 *db;
    struct reel_err err;
    if (reel_db_open(&db, dir, REEL_DB_WRITE, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t cams[256];
    size_t ncam = 0;
    sqlite3_stmt *st;
    reel_db_prepare(db, "SELECT id FROM camera WHERE parent_id IS NULL ORDER BY id", &st, &err);
    while (ncam < 256 && sqlite3_step(st) == SQLITE_ROW)
        cams[ncam++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    int64_t now90k = (int64_t)time(NULL) * 90000;
    int64_t last = now90k / REEL_GRID_MINUTE90K * REEL_GRID_MINUTE90K;
    int64_t minutes = (int64_t)days * 1440;
    static struct reel_grid_second sec[60];
    const struct reel_grid_second *ptr[60];
    static uint8_t blob[REEL_GRID_MINUTE_MAX];
    int64_t rows = 0, bytes = 0, moving = 0;
    double t0 = now_ms();
    for (size_t c = 0; c < ncam; c++) {
        reel_db_exec(db, "BEGIN", &err);
        int burst = 0, x = 8, y = 8;
        for (int64_t m = minutes; m > 0; m--) {
            for (int s = 0; s < 60; s++) {
                ptr[s] = NULL;
                if (!burst && rnd() % 1000 < 9)          /* a burst starts: ~12 s long on average */
                    burst = 4 + (int)(rnd() % 17);
                if (!burst)
                    continue;
                burst--;
                moving++;
                memset(&sec[s], 0, sizeof(sec[s]));
                x = (x + (int)(rnd() % 3) - 1 + 16) % 16;
                y = (y + (int)(rnd() % 3) - 1 + 16) % 16;
                int n = 4 + (int)(rnd() % 21);
                for (int k = 0; k < n; k++) {
                    int cx = (x + (int)(rnd() % 5) - 2 + 16) % 16, cy = (y + (int)(rnd() % 5) - 2 + 16) % 16;
                    sec[s].level[cy * 16 + cx] = (uint8_t)(20 + rnd() % 201);
                }
                ptr[s] = &sec[s];
            }
            size_t len;
            reel_grid_encode(ptr, blob, &len);
            if (!len)
                continue;
            if (reel_mstore_put(db, cams[c], last - m * REEL_GRID_MINUTE90K, blob, len, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            rows++;
            bytes += (int64_t)len;
        }
        reel_db_exec(db, "COMMIT", &err);
    }
    double t1 = now_ms();
    printf("filled %zu cameras x %d days: %lld rows, %.1f MB of blobs, %.1f %% of seconds with motion, %.1f s\n",
           ncam, days, (long long)rows, (double)bytes / 1e6,
           100.0 * (double)moving / (double)(ncam * (size_t)minutes * 60), (t1 - t0) / 1e3);
    sqlite3_close(db);
    return 0;
}

static int64_t camera_id(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    struct reel_err err;
    reel_db_prepare(db, "SELECT id FROM camera WHERE name = ?", &st, &err);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return id;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && !strcmp(argv[1], "fill"))
        return fill(argv[2], atoi(argv[3]));
    if (argc < 6 || (strcmp(argv[1], "search") && strcmp(argv[1], "activity"))) {
        fprintf(stderr, "usage: reel-bench-motion fill DATADIR DAYS | search DATADIR CAMERA DAYS REGION_HEX "
                        "[MIN_CELLS] | activity DATADIR CAMERA DAYS BUCKETS\n");
        return 2;
    }
    sqlite3 *db;
    struct reel_err err;
    if (reel_db_open(&db, argv[2], REEL_DB_READ, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t cam = camera_id(db, argv[3]);
    int64_t to = (int64_t)time(NULL) * 90000, from = to - (int64_t)atoi(argv[4]) * 86400 * 90000;
    for (int run = 0; run < 5; run++) {
        double t0 = now_ms();
        struct reel_msearch_stats st;
        size_t n = 0;
        int r;
        if (!strcmp(argv[1], "search")) {
            struct reel_msearch_query q = { .camera_id = cam, .from90k = from, .to90k = to, .min_level = 1,
                                            .min_cells = argc > 6 ? (unsigned)atoi(argv[6]) : 1 };
            for (unsigned i = 0; i < 32 && argv[5][2 * i]; i++)
                sscanf(argv[5] + 2 * i, "%2hhx", &q.region[i]);
            static struct reel_msearch_moment m[REEL_MSEARCH_LIMIT_MAX];
            r = reel_msearch_run(db, &q, m, REEL_MSEARCH_LIMIT_MAX, &n, &st, &err);
        } else {
            uint8_t levels[REEL_MSEARCH_BUCKETS_MAX];
            int64_t step;
            r = reel_msearch_activity(db, cam, from, to, (unsigned)atoi(argv[5]), levels, &step, &st, &err);
        }
        double t1 = now_ms();
        if (r < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        printf("%s %s %s days: %.1f ms, %lld rows scanned, %zu moments%s\n", argv[1], argv[3], argv[4], t1 - t0,
               (long long)st.minutes_scanned, n, st.truncated ? " (truncated)" : "");
    }
    sqlite3_close(db);
    return 0;
}
