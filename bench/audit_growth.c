/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How fast the audit log grows per viewer-hour (issue 14): a simulated hour
 * of one viewer, driven through the server's own writer (src/audit/sink.c)
 * on a fake clock, in a fresh reel.db. Scenarios:
 *   play     an hour of recordings played through, one 2-s fragment request
 *            at a time, plus a thumbnail strip every 5 minutes;
 *   scrub    an hour of scrubbing: every 10 s a jump to a random point of the
 *            last 24 h, 3 thumbnails and 2 fragments there;
 *   breaks   playing with a 2-minute pause every 10 minutes (each pause
 *            longer than the 60-s idle rule: a new session row);
 *   live     an hour of live video, the viewer opening a camera for 5
 *            minutes 6 times (live.start + live.end each);
 *   naive    for comparison, one row per playback request of "play".
 * Prints rows, bytes of row data (what the rows hold) and the growth of
 * reel.db (pages), and the time one append takes (fsync included).
 *   reel-bench-audit [DIR]   (DIR: a scratch directory, default /tmp)
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/sink.h"
#include "db/db.h"

static _Atomic int64_t fake_ns;
static int64_t fake(void *ctx) { (void)ctx; return atomic_load(&fake_ns); }
static const struct reel_clock fake_clock = { fake, fake, NULL };

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *fresh(const char *base, const char *name)
{
    static char dir[512];
    snprintf(dir, sizeof(dir), "%s/reel-bench-audit-%s-XXXXXX", base, name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char path[600];
    snprintf(path, sizeof(path), "%s/reel.db", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    sqlite3 *db;
    struct reel_err err;
    if (reel_db_open(&db, dir, REEL_DB_CREATE, &err) < 0 || reel_db_exec(db, "BEGIN IMMEDIATE", &err) < 0 ||
        reel_db_create(db, &err) < 0 || reel_db_exec(db, "COMMIT", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    sqlite3_close(db);
    return dir;
}

struct stats {
    int64_t rows, row_bytes, pages_bytes;
};

static int64_t one(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static struct stats measure(const char *dir)
{
    sqlite3 *db;
    struct reel_err err;
    struct stats s = { 0 };
    if (reel_db_open(&db, dir, REEL_DB_WRITE, &err) < 0)
        return s;
    reel_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", &err);
    s.rows = one(db, "SELECT COUNT(*) FROM audit");
    s.row_bytes = one(db, "SELECT COALESCE(SUM(length(user) + length(via) + length(addr) + length(action) + "
                          "length(camera) + length(detail) + 64 + 16), 0) FROM audit");
    /* the table's and its index's pages (dbstat is not always built in: pages of the file minus a
     * fresh database's, measured by the caller) */
    s.pages_bytes = one(db, "PRAGMA page_count") * one(db, "PRAGMA page_size");
    sqlite3_close(db);
    return s;
}

static void fetch(struct reel_audit_sink *s, int64_t t90k, int64_t len90k)
{
    reel_audit_sink_playback(s, "alice", "session", "192.0.2.10", "front", NULL, t90k, t90k + len90k);
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "/tmp";
    const int64_t S = 1000000000LL, T0 = 1796000000LL * S, K = 90000;
    const int64_t footage0 = (T0 / S - 86400) * K;   /* footage from a day ago */
    const char *names[] = { "play", "scrub", "breaks", "live", "naive" };
    int64_t empty_bytes = 0;
    printf("%-8s %8s %12s %14s %12s\n", "scenario", "rows", "row bytes", "reel.db growth", "per row");
    for (int sc = 0; sc < 5; sc++) {
        char *dir = fresh(base, names[sc]);
        struct stats before = measure(dir);
        if (!empty_bytes)
            empty_bytes = before.pages_bytes;
        atomic_store(&fake_ns, T0);
        struct reel_audit_sink *s;
        struct reel_err err;
        if (reel_audit_sink_open(&s, dir, &fake_clock, NULL, 0, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        srand(7);
        if (sc == 0 || sc == 2) {
            int64_t pos = footage0;
            for (int64_t t = 0; t < 3600;) {
                if (sc == 2 && t > 0 && t % 600 == 0) {
                    t += 120;           /* a pause: longer than the 60-s idle rule */
                    atomic_store(&fake_ns, T0 + t * S);
                }
                fetch(s, pos, 2 * K);
                pos += 2 * K;
                if (t % 300 == 0)
                    for (int k = 0; k < 20; k++)
                        fetch(s, pos + k * 30 * K, 1);   /* a thumbnail strip */
                t += 2;
                atomic_store(&fake_ns, T0 + t * S);
            }
        } else if (sc == 1) {
            for (int64_t t = 0; t < 3600; t += 10) {
                atomic_store(&fake_ns, T0 + t * S);
                int64_t at = footage0 + (int64_t)(rand() % 86400) * K;
                for (int k = 0; k < 3; k++)
                    fetch(s, at + k * 10 * K, 1);
                fetch(s, at, 2 * K);
                fetch(s, at + 2 * K, 2 * K);
            }
        } else if (sc == 3) {
            for (int v = 0; v < 6; v++) {
                atomic_store(&fake_ns, T0 + v * 600 * S);
                struct reel_audit_rec a = { .user = "alice", .via = "session", .addr = "192.0.2.10",
                                            .action = "live.start", .camera = "front", .detail = "{}" };
                reel_audit_sink_append(s, &a);
                atomic_store(&fake_ns, T0 + (v * 600 + 300) * S);
                struct reel_audit_rec b = { .user = "alice", .via = "session", .addr = "192.0.2.10",
                                            .action = "live.end", .camera = "front",
                                            .detail = "{\"start\":\"2026-12-01T10:00:00.000Z\",\"end\":"
                                                      "\"2026-12-01T10:05:00.000Z\",\"seconds\":300.0,\"bytes\":"
                                                      "37500000}" };
                reel_audit_sink_append(s, &b);
            }
        } else {
            int64_t t0 = real_ns();
            for (int64_t t = 0; t < 3600; t += 2) {
                atomic_store(&fake_ns, T0 + t * S);
                char d[200];
                snprintf(d, sizeof(d), "{\"start\":\"2026-12-01T10:%02d:%02d.000Z\",\"end\":\"2026-12-01T10:%02d:%02d"
                         ".000Z\"}", (int)(t / 60 % 60), (int)(t % 60), (int)((t + 2) / 60 % 60), (int)((t + 2) % 60));
                struct reel_audit_rec a = { .user = "alice", .via = "session", .addr = "192.0.2.10",
                                            .action = "playback", .camera = "front", .detail = d };
                reel_audit_sink_append(s, &a);
            }
            printf("(one append, fsync included: %.2f ms on average over 1800)\n",
                   (double)(real_ns() - t0) / 1800 / 1e6);
        }
        atomic_store(&fake_ns, T0 + 3600 * S);
        reel_audit_sink_close(s);
        struct stats after = measure(dir);
        printf("%-8s %8lld %12lld %14lld %12.0f\n", names[sc], (long long)after.rows, (long long)after.row_bytes,
               (long long)(after.pages_bytes - before.pages_bytes),
               after.rows ? (double)(after.pages_bytes - before.pages_bytes) / (double)after.rows : 0.0);
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return 0;
}
