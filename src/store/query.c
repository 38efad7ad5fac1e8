/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The store's narrow queries for readers (declared at the end of store.h):
 * spans of recordings without their index blobs, the entity tag of a range's
 * MP4 from the recordings' ids, bytes and frames, and read snapshots (one
 * read transaction over several queries). Every sqlite3_step loop here ends
 * on SQLITE_DONE or returns the error: a result is never silently short.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/strutil.h"

#define SPANS_MAX 1000000

/* The rows reel_store_recordings() returns, in its order. */
#define RANGE_WHERE "WHERE camera_id = ?1 AND frames > 0 AND start90k < ?3 AND start90k + wall_duration90k > ?2 " \
                    "ORDER BY start90k, id"

static int range_query(struct reel_store *s, const char *cols, int64_t camera_id, int64_t from90k, int64_t to90k,
                       sqlite3_stmt **ret, struct reel_err *err)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT %s FROM recording " RANGE_WHERE, cols);
    int r = reel_db_prepare(s->db, sql, ret, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(*ret, 1, camera_id);
    sqlite3_bind_int64(*ret, 2, from90k);
    sqlite3_bind_int64(*ret, 3, to90k);
    return 0;
}

/* A row of "SELECT id, run_id, start90k, wall_duration90k, sample_entry_id,
 * frames, bytes, open FROM recording ..." as a span (every span query reads
 * these columns in this order). */
static void span_from_row(sqlite3_stmt *st, struct reel_span *x)
{
    *x = (struct reel_span){
        .id = sqlite3_column_int64(st, 0),
        .run_id = sqlite3_column_int64(st, 1),
        .start90k = sqlite3_column_int64(st, 2),
        .wall_duration90k = sqlite3_column_int64(st, 3),
        .sample_entry_id = sqlite3_column_int64(st, 4),
        .frames = (uint32_t)sqlite3_column_int64(st, 5),
        .bytes = (uint64_t)sqlite3_column_int64(st, 6),
        .open = sqlite3_column_int(st, 7) != 0,
    };
}

int reel_store_spans(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                     struct reel_span **ret, size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = range_query(s, "id, run_id, start90k, wall_duration90k, sample_entry_id, frames, bytes, open", camera_id,
                        from90k, to90k, &st, err);
    if (r < 0)
        return r;
    struct reel_span *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n >= SPANS_MAX) {
            r = reel_err_set(err, EFBIG, "camera %lld: more than %d recordings in the range", (long long)camera_id,
                             SPANS_MAX);
            break;
        }
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 64) < 0) {
            r = reel_err_set(err, ENOMEM, "out of memory listing recordings");
            break;
        }
        struct reel_span *x = &v[n++];
        span_from_row(st, x);
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = reel_db_err(s->db, rc, err, "listing recordings");
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_store_view_etag(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k,
                         struct reel_view_tag *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = range_query(s, "id, bytes, frames, start90k + wall_duration90k", camera_id, from90k, to90k, &st, err);
    if (r < 0)
        return r;
    /* the same text and hash as reel_http_etag() (src/http/parse.c) */
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 16);
    char line[96];
    int len = snprintf(line, sizeof(line), "reel-mp4 v1 %lld %lld %lld\n", (long long)camera_id, (long long)from90k,
                       (long long)to90k);
    crypto_generichash_update(&h, (const uint8_t *)line, (size_t)len);
    size_t n = 0;
    int64_t last = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        len = snprintf(line, sizeof(line), "%lld %llu %u\n", (long long)sqlite3_column_int64(st, 0),
                       (unsigned long long)sqlite3_column_int64(st, 1), (uint32_t)sqlite3_column_int64(st, 2));
        crypto_generichash_update(&h, (const uint8_t *)line, (size_t)len);
        int64_t end = sqlite3_column_int64(st, 3);
        if (end > last)
            last = end;
        n++;
    }
    if (rc != SQLITE_DONE)
        r = reel_db_err(s->db, rc, err, "reading recordings for the entity tag");
    sqlite3_finalize(st);
    uint8_t sum[16];
    crypto_generichash_final(&h, sum, sizeof(sum));
    if (r < 0)
        return r;
    char hex[33];
    reel_hex_encode(sum, sizeof(sum), hex);
    memset(ret, 0, sizeof(*ret));
    snprintf(ret->etag, sizeof(ret->etag), "\"%s\"", hex);
    ret->recordings = n;
    ret->last90k = last;
    return 0;
}

int reel_store_read_begin(struct reel_store *s, struct reel_err *err)
{
    if (!sqlite3_get_autocommit(s->db))
        return reel_err_set(err, EBUSY, "database %s: a transaction is already open on this connection",
                            reel_db_path(s->db));
    int r = reel_db_exec(s->db, "BEGIN DEFERRED", err);
    if (r < 0)
        return r;
    /* the snapshot is taken at the first read, not at BEGIN */
    sqlite3_stmt *st;
    r = reel_db_prepare(s->db, "SELECT COUNT(*) FROM sqlite_master", &st, err);
    if (r == 0) {
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            r = reel_db_err(s->db, rc, err, "starting a read snapshot");
        sqlite3_finalize(st);
    }
    if (r < 0)
        reel_db_rollback(s->db);
    return r;
}

void reel_store_read_end(struct reel_store *s)
{
    if (s && !sqlite3_get_autocommit(s->db) && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        reel_db_rollback(s->db); /* a read transaction has nothing to lose */
}

int reel_store_upgrade(const char *datadir, struct reel_err *err)
{
    sqlite3 *db;
    int r = reel_db_open(&db, datadir, REEL_DB_WRITE, err);
    if (r < 0)
        return r;
    sqlite3_close(db);
    return 0;
}

int reel_store_span_scan(struct reel_store *s, int64_t camera_id, int64_t from90k,
                         int (*cb)(void *opaque, const struct reel_span *x), void *opaque, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db,
                            "SELECT id, run_id, start90k, wall_duration90k, sample_entry_id, frames, bytes, open "
                            "FROM recording INDEXED BY recording_span WHERE camera_id = ?1 AND start90k >= ?2 "
                            "ORDER BY start90k",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from90k);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct reel_span x;
        span_from_row(st, &x);
        if ((r = cb(opaque, &x)) < 0) {
            reel_err_set(err, -r, "camera %lld: reading recordings: %s", (long long)camera_id, strerror(-r));
            break;
        }
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = reel_db_err(s->db, rc, err, "reading recordings");
    sqlite3_finalize(st);
    return r;
}

int reel_store_deletions_sig(struct reel_store *s, int64_t *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    /* two sums of the ends modulo two primes: a change of ends escapes them
     * only if it is a multiple of both (2e15 ticks: 700 years) */
    int r = reel_db_prepare(s->db, "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(end90k % 2147483647), 0), "
                                   "COALESCE(SUM(end90k % 1000003), 0) FROM deletion", &st, err);
    if (r < 0)
        return r;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        uint64_t h = 1469598103934665603u;
        for (int i = 0; i < 4; i++)
            h = (h ^ (uint64_t)sqlite3_column_int64(st, i)) * 1099511628211u;
        *ret = (int64_t)h;
    } else {
        r = reel_db_err(s->db, rc, err, "reading deletions");
    }
    sqlite3_finalize(st);
    return r;
}

int reel_store_deletions(struct reel_store *s, struct reel_deletion **ret, size_t *ret_n, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db, "SELECT camera_id, start90k, end90k FROM deletion ORDER BY camera_id, start90k",
                            &st, err);
    if (r < 0)
        return r;
    struct reel_deletion *v = NULL;
    size_t n = 0, alloc = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n >= SPANS_MAX) {
            r = reel_err_set(err, EFBIG, "more than %d deletions", SPANS_MAX);
            break;
        }
        if (reel_array_grow(&v, &alloc, n, sizeof(*v), 64) < 0) {
            r = reel_err_set(err, ENOMEM, "out of memory listing deletions");
            break;
        }
        v[n++] = (struct reel_deletion){ sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                         sqlite3_column_int64(st, 2) };
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = reel_db_err(s->db, rc, err, "listing deletions");
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_store_spans_page(struct reel_store *s, int64_t camera_id, int64_t from90k, int64_t to90k, size_t max,
                          struct reel_span **ret, size_t *ret_n, struct reel_err *err)
{
    *ret = NULL;
    *ret_n = 0;
    if (max == 0 || max > SPANS_MAX)
        return reel_err_set(err, EINVAL, "bad page size");
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db,
                            "SELECT id, run_id, start90k, wall_duration90k, sample_entry_id, frames, bytes, open "
                            "FROM recording INDEXED BY recording_span WHERE camera_id = ?1 AND frames > 0 "
                            "AND start90k < ?3 "
                            /* ending more than 1 ms after from: times in JSON have ms, so the
                             * next page asked from the last end does not repeat it */
                            "AND start90k + wall_duration90k > ?2 + 90 "
                            /* a lower bound for the index: the last recording starting at or
                             * before from (a camera's recordings do not overlap) */
                            "AND start90k >= COALESCE((SELECT MAX(start90k) FROM recording "
                            "WHERE camera_id = ?1 AND start90k <= ?2), ?2) "
                            "ORDER BY start90k LIMIT ?4",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, from90k);
    sqlite3_bind_int64(st, 3, to90k);
    sqlite3_bind_int64(st, 4, (int64_t)max);
    struct reel_span *v = calloc(max, sizeof(*v));
    size_t n = 0;
    int rc = SQLITE_NOMEM;
    while (v && (rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
        struct reel_span *x = &v[n++];
        span_from_row(st, x);
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = v ? reel_db_err(s->db, rc, err, "listing recordings") : reel_err_set(err, ENOMEM, "out of memory");
    sqlite3_finalize(st);
    if (r < 0) {
        free(v);
        return r;
    }
    *ret = v;
    *ret_n = n;
    return 0;
}

int reel_store_recording_get(struct reel_store *s, int64_t id, struct reel_recording *ret, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db,
                            "SELECT id, camera_id, run_id, start90k, wall_duration90k, media_duration90k, "
                            "sample_entry_id, frames, bytes, open, dir_id, video_index FROM recording WHERE id = ?",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    memset(ret, 0, sizeof(*ret));
    if (rc == SQLITE_ROW) {
        ret->id = sqlite3_column_int64(st, 0);
        ret->camera_id = sqlite3_column_int64(st, 1);
        ret->run_id = sqlite3_column_int64(st, 2);
        ret->start90k = sqlite3_column_int64(st, 3);
        ret->wall_duration90k = sqlite3_column_int64(st, 4);
        ret->media_duration90k = sqlite3_column_int64(st, 5);
        ret->sample_entry_id = sqlite3_column_int64(st, 6);
        ret->frames = (uint32_t)sqlite3_column_int64(st, 7);
        ret->bytes = (uint64_t)sqlite3_column_int64(st, 8);
        ret->open = sqlite3_column_int(st, 9) != 0;
        reel__rec_path(s, sqlite3_column_int64(st, 10), ret->camera_id, ret->id, ret->path, sizeof(ret->path));
        size_t il = (size_t)sqlite3_column_bytes(st, 11);
        ret->index = malloc(il ? il : 1);
        if (!ret->index)
            r = reel_err_set(err, ENOMEM, "out of memory");
        else if (il)
            memcpy(ret->index, sqlite3_column_blob(st, 11), il);
        ret->index_len = il;
    } else if (rc == SQLITE_DONE) {
        r = reel_err_set(err, ENOENT, "no recording %lld", (long long)id);
    } else {
        r = reel_db_err(s->db, rc, err, "reading a recording");
    }
    sqlite3_finalize(st);
    return r;
}

int reel_store_camera_used_entry(struct reel_store *s, int64_t camera_id, int64_t entry_id, struct reel_err *err)
{
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db, "SELECT 1 FROM recording INDEXED BY recording_span WHERE camera_id = ? "
                                   "AND sample_entry_id = ? LIMIT 1",
                            &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, camera_id);
    sqlite3_bind_int64(st, 2, entry_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        r = reel_err_set(err, ENOENT, "sample entry %lld not used by camera %lld", (long long)entry_id,
                         (long long)camera_id);
    else if (rc != SQLITE_ROW)
        r = reel_db_err(s->db, rc, err, "reading recordings");
    sqlite3_finalize(st);
    return r;
}

int reel_store_recording_hash(struct reel_store *s, int64_t id, struct reel_recording_hash *ret, struct reel_err *err)
{
    memset(ret, 0, sizeof(*ret));
    sqlite3_stmt *st;
    int r = reel_db_prepare(s->db, "SELECT camera_id, open, blake2b, start90k FROM recording WHERE id = ?", &st, err);
    if (r < 0)
        return r;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        ret->camera_id = sqlite3_column_int64(st, 0);
        ret->open = sqlite3_column_int(st, 1);
        ret->start90k = sqlite3_column_int64(st, 3);
        ret->state = sqlite3_column_type(st, 2) == SQLITE_NULL ? REEL_HASH_PENDING
                     : sqlite3_column_bytes(st, 2) == 32       ? REEL_HASH_OK
                                                               : REEL_HASH_NONE;
        if (ret->state == REEL_HASH_OK)
            memcpy(ret->blake2b, sqlite3_column_blob(st, 2), 32);
        r = 0;
    } else if (rc == SQLITE_DONE) {
        r = -ENOENT;
    } else {
        r = reel_db_err(s->db, rc, err, "reading a recording's hash");
    }
    sqlite3_finalize(st);
    return r;
}
