/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fuzz target: start-up recovery of stored files and `reel check` (disk
 * contents are untrusted too). The input becomes a small data directory on
 * tmpfs (/dev/shm): a database made by reel_store_init, then, written with
 * SQLite directly, two cameras, maybe a second storage directory (identity
 * file right, wrong or missing), recording rows with fuzzed fields (id,
 * camera, directory, open flag, frames, bytes, media duration, a well-formed
 * or raw video_index blob), garbage rows, and sample files whose length
 * (exact, longer, shorter, empty, absent, a directory) and contents come from
 * the input, plus stray files and directories. Then reel_store_open(RECORD)
 * runs recovery, reel_store_check runs twice (without and with
 * REEL_CHECK_HASH), and reel_store_close. Only store.h, index.h and SQLite
 * are used.
 *
 * What must hold afterwards (checked on the database and the files):
 *  - no row is left open; open rows with nothing committed (frames = 0) in a
 *    usable directory are gone with their files; every other row is kept,
 *    unchanged;
 *  - in a usable directory no garbage row is left (unless its file could not
 *    be unlinked: a directory), every sample file (a regular file with a
 *    16-hex-digit name) is known by a row, and no file is longer than its
 *    row's bytes (bytes >= 0);
 *  - a row that was consistent when written (index decodes to its frames,
 *    summing to bytes and media duration; file holds valid NAL units, at
 *    least bytes long) keeps exactly those bytes and gets no problem, hashed
 *    or not;
 *  - check reports a problem naming recording N exactly when N, as found
 *    after recovery, is damaged by its own definition (file missing or not a
 *    regular file, size not equal to bytes, index not decoding to frames
 *    entries whose sums are bytes and media duration); no orphan problem;
 *    one problem per unusable directory.
 *
 * Input: a header byte, then per recording a fixed group of bytes (see
 * read_rec); missing bytes read as 0. The data directory is removed after
 * each input.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fuzz.h"
#include "store/index.h"
#include "store/store.h"

#define MAX_RECS 6
#define MAX_FRAMES 24
#define MAX_GARBAGE 3
#define MAX_STRAYS 3
#define IDS 256 /* recording ids are 1..255 */

struct src {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct src *s)
{
    if (s->n == 0)
        return 0;
    s->n--;
    return *s->p++;
}

static uint64_t u64(struct src *s)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | u8(s);
    return v;
}

/* Up to n bytes of the input (fewer at its end). */
static const uint8_t *take(struct src *s, size_t n, size_t *ret_n)
{
    if (n > s->n)
        n = s->n;
    const uint8_t *p = s->p;
    s->p += n;
    s->n -= n;
    *ret_n = n;
    return p;
}

struct rec {
    int64_t id, cam, dir, frames, bytes, media;
    bool open;
    uint8_t blob[2 * 10 * MAX_FRAMES + 64];
    size_t blob_len;
    int kind;                       /* file: 0 absent, 1 regular, 2 directory */
    uint8_t content[MAX_FRAMES * 300 + 300];
    size_t content_len;             /* what the file holds */
    bool clean;                     /* consistent as written (see above) */
};

struct garbage {
    int64_t dir, cam, id;
    bool file;
};

struct world {
    char root[128], data[160], dirs[3][200]; /* dirs[1], dirs[2]: storage dirs 1 and 2 */
    bool dir2_row, dir2_usable;
    struct rec recs[MAX_RECS];
    size_t nrecs;
    struct garbage garb[MAX_GARBAGE];
    size_t ngarb;
};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path) { nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static void sample_path(const struct world *w, int64_t dir, int64_t cam, int64_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%" PRId64 "/%016" PRIx64, w->dirs[dir == 2 ? 2 : 1], cam, (uint64_t)id);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static void make_parent(const struct world *w, int64_t dir, int64_t cam)
{
    char p[300];
    snprintf(p, sizeof(p), "%s/%" PRId64, w->dirs[dir == 2 ? 2 : 1], cam);
    mkdir(w->dirs[dir == 2 ? 2 : 1], 0700);
    mkdir(p, 0700);
}

/* One recording from the input: flags, id step, frames (size, duration,
 * key), then overrides and the file's shape. */
static void read_rec(struct src *s, struct rec *r, int64_t prev_id)
{
    memset(r, 0, sizeof(*r));
    uint8_t f = u8(s), g = u8(s);
    r->id = prev_id + 1 + (u8(s) & 15);
    r->open = f & 1;
    r->cam = (f & 2) ? 2 : 1;
    r->dir = (f & 4) ? 2 : 1;
    bool raw_index = f & 8, raw_content = f & 16;
    bool o_bytes = f & 32, o_media = f & 64, o_frames = f & 128;
    uint32_t k = u8(s) % (MAX_FRAMES + 1);
    struct reel_index_enc enc;
    reel_index_enc_init(&enc, sizeof(r->blob));
    bool nals_ok = true;
    uint64_t bytes = 0;
    int64_t media = 0;
    for (uint32_t i = 0; i < k; i++) {
        uint8_t a = u8(s), b = u8(s);
        struct reel_frame_info fi = { .size = (uint32_t)a + (b & 1 ? 0 : 40), .duration90k = (b >> 1) * 50,
                                      .key = i == 0 || (a & 1) };
        FUZZ_CHECK(reel_index_enc_add(&enc, &fi) == 0);
        /* The frame's bytes: one NAL unit filling it when it can, else
         * (or when raw) bytes of the input. */
        uint8_t *dst = r->content + r->content_len;
        size_t got = 0;
        if (!raw_content && fi.size >= 5) {
            uint32_t nl = fi.size - 4;
            dst[0] = (uint8_t)(nl >> 24);
            dst[1] = (uint8_t)(nl >> 16);
            dst[2] = (uint8_t)(nl >> 8);
            dst[3] = (uint8_t)nl;
            memset(dst + 4, 0x65 + (int)(i & 7), nl);
        } else {
            const uint8_t *p = take(s, fi.size, &got);
            if (got)
                memcpy(dst, p, got);
            memset(dst + got, 0, fi.size - got);
            nals_ok = false;
        }
        r->content_len += fi.size;
        bytes += fi.size;
        media += fi.duration90k;
    }
    r->frames = k;
    r->bytes = (int64_t)bytes;
    r->media = media;
    if (enc.out.len)
        memcpy(r->blob, enc.out.data, enc.out.len);
    r->blob_len = enc.out.len;
    reel_index_enc_free(&enc);
    if (raw_index) {
        size_t n;
        const uint8_t *p = take(s, u8(s) % 64, &n);
        if (n)
            memcpy(r->blob, p, n);
        r->blob_len = n;
    }
    if (o_frames)
        r->frames = (int64_t)u64(s);
    if (o_bytes)
        r->bytes = (int64_t)u64(s);
    if (o_media)
        r->media = (int64_t)u64(s);
    /* The file: g bits 0-1 shape, bits 2-7 amount. */
    size_t amount = (size_t)(g >> 2) * 5;
    switch (g & 3) {
    case 0: /* exactly the frames, or longer: an unsynced tail */
        r->kind = 1;
        if (g & 4) {
            size_t n;
            const uint8_t *p = take(s, amount, &n);
            if (n)
                memcpy(r->content + r->content_len, p, n);
            r->content_len += n;
        }
        break;
    case 1: /* shorter: torn */
        r->kind = 1;
        r->content_len = amount < r->content_len ? r->content_len - amount - 1 : 0;
        break;
    case 2:
        r->kind = (g & 4) ? 2 : 0; /* a directory in its place, or absent */
        r->content_len = 0;
        break;
    default: /* exact */
        r->kind = 1;
        break;
    }
    r->clean = !raw_index && !o_bytes && !o_media && !o_frames && nals_ok && r->kind == 1 &&
               r->content_len >= bytes && !(r->open && r->frames == 0);
}

/* The files reel_store_init makes, kept from the first input on so that
 * later inputs only copy them (the data directory's path never changes
 * within a process, and the database names it). */
struct template {
    uint8_t *db, *id;
    size_t db_len, id_len;
};

static uint8_t *slurp(const char *path, size_t *ret_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    struct stat sb;
    FUZZ_CHECK(fstat(fd, &sb) == 0);
    uint8_t *p = malloc((size_t)sb.st_size + 1);
    FUZZ_CHECK(p);
    FUZZ_CHECK(read(fd, p, (size_t)sb.st_size) == sb.st_size);
    close(fd);
    *ret_len = (size_t)sb.st_size;
    return p;
}

static void init_data(struct world *w)
{
    static struct template t; /* per process, never freed: the fuzzer's only state */
    char db_path[220], id_path[260];
    snprintf(db_path, sizeof(db_path), "%s/reel.db", w->data);
    snprintf(id_path, sizeof(id_path), "%s/reel-storage-id", w->dirs[1]);
    if (!t.db) {
        struct reel_err err;
        FUZZ_CHECK(reel_store_init(w->data, &err) == 0);
        t.db = slurp(db_path, &t.db_len);
        t.id = slurp(id_path, &t.id_len);
        return;
    }
    FUZZ_CHECK(mkdir(w->data, 0700) == 0 && mkdir(w->dirs[1], 0700) == 0);
    write_file(db_path, t.db, t.db_len);
    write_file(id_path, t.id, t.id_len);
}

static void build(struct world *w, struct src *s)
{
    snprintf(w->dirs[1], sizeof(w->dirs[1]), "%s/storage", w->data);
    snprintf(w->dirs[2], sizeof(w->dirs[2]), "%s/disk2", w->data);
    init_data(w);
    uint8_t h = u8(s);
    w->dir2_row = h & 1;
    w->dir2_usable = w->dir2_row && (h & 2);
    w->nrecs = (size_t)(h >> 2 & 7) % MAX_RECS + 1;
    w->ngarb = (size_t)(h >> 5 & 3);
    size_t nstrays = (size_t)(h >> 7) * MAX_STRAYS;

    char db_path[220];
    snprintf(db_path, sizeof(db_path), "%s/reel.db", w->data);
    sqlite3 *db;
    FUZZ_CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
    FUZZ_CHECK(sqlite3_exec(db, "PRAGMA synchronous = OFF; BEGIN;"
                                "INSERT INTO camera (id, name, url, dir_id) VALUES "
                                "(1, 'a', 'rtsp://127.0.0.1/a', 1), (2, 'b', 'rtsp://127.0.0.1/b', 1);",
                            NULL, NULL, NULL) == SQLITE_OK);
    if (w->dir2_row) {
        mkdir(w->dirs[2], 0700);
        const char *uuid = "00000000-0000-4000-8000-000000000002";
        char *sql = sqlite3_mprintf("INSERT INTO storage_dir (id, path, uuid) VALUES (2, %Q, %Q)", w->dirs[2], uuid);
        FUZZ_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_free(sql);
        if (h & 2) {
            char idf[260], line[64];
            snprintf(idf, sizeof(idf), "%s/reel-storage-id", w->dirs[2]);
            int n = snprintf(line, sizeof(line), "%s\n", uuid);
            write_file(idf, (const uint8_t *)line, (size_t)n);
        }
    }
    sqlite3_stmt *ins;
    FUZZ_CHECK(sqlite3_prepare_v2(db,
                                  "INSERT INTO recording (id, camera_id, run_id, start90k, wall_duration90k, "
                                  "media_duration90k, frames, bytes, dir_id, open, video_index) "
                                  "VALUES (?1, ?2, ?1, ?1 * 900000, ?3, ?3, ?4, ?5, ?6, ?7, ?8)",
                                  -1, &ins, NULL) == SQLITE_OK);
    int64_t prev = 0;
    for (size_t i = 0; i < w->nrecs; i++) {
        struct rec *r = &w->recs[i];
        read_rec(s, r, prev);
        prev = r->id;
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, r->id);
        sqlite3_bind_int64(ins, 2, r->cam);
        sqlite3_bind_int64(ins, 3, r->media);
        sqlite3_bind_int64(ins, 4, r->frames);
        sqlite3_bind_int64(ins, 5, r->bytes);
        sqlite3_bind_int64(ins, 6, r->dir);
        sqlite3_bind_int(ins, 7, r->open);
        sqlite3_bind_blob(ins, 8, r->blob, (int)r->blob_len, SQLITE_STATIC);
        FUZZ_CHECK(sqlite3_step(ins) == SQLITE_DONE);
        char path[300];
        sample_path(w, r->dir, r->cam, r->id, path, sizeof(path));
        if (r->kind == 0 || (r->dir == 2 && !w->dir2_row))
            continue;
        make_parent(w, r->dir, r->cam);
        if (r->kind == 1)
            write_file(path, r->content, r->content_len);
        else
            mkdir(path, 0700);
    }
    sqlite3_finalize(ins);
    /* Garbage rows: an interrupted deletion (file there or already gone);
     * ids may collide with a live recording's, as in a damaged database. */
    for (size_t i = 0; i < w->ngarb; i++) {
        struct garbage *g = &w->garb[i];
        uint8_t a = u8(s);
        g->dir = (a & 1) && w->dir2_row ? 2 : 1;
        g->cam = (a & 2) ? 2 : 1;
        g->file = a & 4;
        g->id = 1 + u8(s) % (IDS - 1);
        char *sql = sqlite3_mprintf("INSERT OR IGNORE INTO garbage (dir_id, camera_id, recording_id) "
                                    "VALUES (%lld, %lld, %lld)",
                                    (long long)g->dir, (long long)g->cam, (long long)g->id);
        FUZZ_CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_free(sql);
        if (g->file) {
            char path[300];
            sample_path(w, g->dir, g->cam, g->id, path, sizeof(path));
            make_parent(w, g->dir, g->cam);
            if (access(path, F_OK) != 0)
                write_file(path, (const uint8_t *)"garbage", 7);
        }
    }
    FUZZ_CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    /* Stray files: sample-file names no row knows (orphans, to be removed),
     * names that are not sample files, and directories (to be left alone,
     * and not reported). */
    for (size_t i = 0; i < nstrays; i++) {
        uint8_t a = u8(s), b = u8(s);
        int64_t dir = (a & 1) && w->dir2_row ? 2 : 1, cam = (a & 2) ? 2 : 1;
        make_parent(w, dir, cam);
        char path[300];
        if (a & 4)
            sample_path(w, dir, cam, 1 + b % (IDS - 1), path, sizeof(path));
        else
            snprintf(path, sizeof(path), "%s/%" PRId64 "/%s", w->dirs[dir], cam,
                     (a & 8) ? "00000000000000zz" : "notes.txt");
        if (access(path, F_OK) == 0)
            continue;
        if (a & 16)
            mkdir(path, 0700); /* not a sample file, whatever its name */
        else
            write_file(path, &b, 1);
    }
}

struct problems {
    bool rec[IDS];
    unsigned other, orphans, unparsed;
};

static void on_problem(void *opaque, const char *line)
{
    struct problems *p = opaque;
    long long id;
    if (sscanf(line, "recording %lld:", &id) == 1) {
        if (id > 0 && id < IDS)
            p->rec[id] = true;
        else
            p->unparsed++;
    } else if (strstr(line, "orphan sample file")) {
        p->orphans++;
    } else {
        p->other++;
    }
}

struct row {
    int64_t id, cam, dir, frames, bytes, media;
    bool open;
    uint8_t *blob;
    size_t blob_len;
};

/* A row as found after recovery, damaged by check's own definition. */
static bool damaged(const struct world *w, const struct row *r)
{
    char path[300];
    sample_path(w, r->dir, r->cam, r->id, path, sizeof(path));
    struct stat sb;
    if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size != r->bytes)
        return true;
    /* every frame takes at least two bytes of the index */
    if (r->frames < 0 || (size_t)r->frames > r->blob_len / 2)
        return true;
    struct reel_frame_info fi[sizeof(((struct rec *)0)->blob) / 2 + 1];
    struct reel_err err;
    if (reel_index_decode(r->blob, r->blob_len, (uint32_t)r->frames, fi, &err) < 0)
        return true;
    int64_t bytes = 0, media = 0;
    for (int64_t i = 0; i < r->frames; i++) {
        bytes += fi[i].size;
        media += fi[i].duration90k;
    }
    return bytes != r->bytes || media != r->media;
}

static bool usable(const struct world *w, int64_t dir) { return dir == 1 || (dir == 2 && w->dir2_usable); }

/* Every hex-named regular file under <dir>/<camera>/ of a usable directory
 * must be known by a row. */
static void check_no_orphans(const struct world *w, const struct row *rows, size_t n)
{
    for (int64_t dir = 1; dir <= 2; dir++) {
        if (!usable(w, dir))
            continue;
        for (int64_t cam = 1; cam <= 2; cam++) {
            char sub[260];
            snprintf(sub, sizeof(sub), "%s/%" PRId64, w->dirs[dir], cam);
            DIR *dh = opendir(sub);
            if (!dh)
                continue;
            struct dirent *de;
            while ((de = readdir(dh))) {
                if (strlen(de->d_name) != 16 || strspn(de->d_name, "0123456789abcdef") != 16)
                    continue;
                struct stat sb;
                if (fstatat(dirfd(dh), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
                    continue;
                int64_t id = (int64_t)strtoull(de->d_name, NULL, 16);
                bool known = false;
                for (size_t i = 0; i < n; i++)
                    known |= rows[i].id == id && rows[i].dir == dir && rows[i].cam == cam;
                FUZZ_CHECK(known);
            }
            closedir(dh);
        }
    }
}

static void verify(const struct world *w, const struct problems *plain, const struct problems *hashed)
{
    char db_path[220];
    snprintf(db_path, sizeof(db_path), "%s/reel.db", w->data);
    sqlite3 *db;
    FUZZ_CHECK(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    sqlite3_stmt *st;
    FUZZ_CHECK(sqlite3_prepare_v2(db,
                                  "SELECT id, camera_id, dir_id, frames, bytes, media_duration90k, open, video_index "
                                  "FROM recording ORDER BY id",
                                  -1, &st, NULL) == SQLITE_OK);
    struct row rows[MAX_RECS];
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        FUZZ_CHECK(n < MAX_RECS);
        struct row *r = &rows[n++];
        r->id = sqlite3_column_int64(st, 0);
        r->cam = sqlite3_column_int64(st, 1);
        r->dir = sqlite3_column_int64(st, 2);
        r->frames = sqlite3_column_int64(st, 3);
        r->bytes = sqlite3_column_int64(st, 4);
        r->media = sqlite3_column_int64(st, 5);
        r->open = sqlite3_column_int(st, 6);
        r->blob_len = (size_t)sqlite3_column_bytes(st, 7);
        r->blob = malloc(r->blob_len + 1);
        FUZZ_CHECK(r->blob);
        if (r->blob_len)
            memcpy(r->blob, sqlite3_column_blob(st, 7), r->blob_len);
    }
    sqlite3_finalize(st);
    /* A garbage row is left in a usable directory only when its file could
     * not be unlinked (here: a directory in its place). */
    FUZZ_CHECK(sqlite3_prepare_v2(db, "SELECT dir_id, camera_id, recording_id FROM garbage", -1, &st, NULL) ==
               SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t dir = sqlite3_column_int64(st, 0);
        if (!usable(w, dir))
            continue;
        char path[300];
        sample_path(w, dir, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2), path, sizeof(path));
        struct stat sb;
        FUZZ_CHECK(stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* Rows: which are kept, and unchanged. */
    size_t j = 0;
    for (size_t i = 0; i < w->nrecs; i++) {
        const struct rec *want = &w->recs[i];
        bool gone = want->open && want->frames == 0 && usable(w, want->dir);
        if (gone) {
            FUZZ_CHECK(j == n || rows[j].id != want->id);
            char path[300];
            sample_path(w, want->dir, want->cam, want->id, path, sizeof(path));
            struct stat sb;
            FUZZ_CHECK(stat(path, &sb) < 0 || S_ISDIR(sb.st_mode)); /* unlink cannot remove a directory */
            continue;
        }
        FUZZ_CHECK(j < n && rows[j].id == want->id);
        const struct row *r = &rows[j++];
        FUZZ_CHECK(!r->open);
        FUZZ_CHECK(r->cam == want->cam && r->dir == want->dir && r->frames == want->frames &&
                   r->bytes == want->bytes && r->media == want->media);
        FUZZ_CHECK(r->blob_len == want->blob_len && memcmp(r->blob, want->blob, r->blob_len) == 0);
        if (!usable(w, r->dir))
            continue;
        FUZZ_CHECK(!plain->rec[r->id] == !damaged(w, r));
        /* A consistent recording whose file no garbage row names keeps its
         * committed bytes and is clean, hashed or not. */
        bool named_by_garbage = false;
        for (size_t g = 0; g < w->ngarb; g++)
            named_by_garbage |= w->garb[g].id == want->id && w->garb[g].dir == want->dir;
        if (want->clean && !named_by_garbage) {
            char path[300];
            sample_path(w, r->dir, r->cam, r->id, path, sizeof(path));
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            FUZZ_CHECK(fd >= 0);
            uint8_t buf[sizeof(want->content)];
            ssize_t got = read(fd, buf, sizeof(buf));
            close(fd);
            FUZZ_CHECK(got == r->bytes && memcmp(buf, want->content, (size_t)got) == 0);
            FUZZ_CHECK(!plain->rec[r->id] && !hashed->rec[r->id]);
        }
        /* After recovery nothing is longer than its committed bytes. */
        char path[300];
        sample_path(w, r->dir, r->cam, r->id, path, sizeof(path));
        struct stat sb;
        if (r->bytes >= 0 && stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
            FUZZ_CHECK(sb.st_size <= r->bytes);
    }
    FUZZ_CHECK(j == n);
    check_no_orphans(w, rows, n);
    FUZZ_CHECK(plain->orphans == 0 && hashed->orphans == 0);
    FUZZ_CHECK(plain->unparsed == 0 && hashed->unparsed == 0);
    unsigned unusable = w->dir2_row && !w->dir2_usable ? 1 : 0;
    FUZZ_CHECK(plain->other == unusable && hashed->other == unusable);
    for (size_t i = 0; i < n; i++)
        free(rows[i].blob);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct world *w = calloc(1, sizeof(*w));
    FUZZ_CHECK(w);
    /* tmpfs when there is one (fsync is then nearly free) */
    snprintf(w->root, sizeof(w->root), "%s/reel-fuzz-recovery-%d", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp",
             (int)getpid());
    rm_tree(w->root);
    FUZZ_CHECK(mkdir(w->root, 0700) == 0);
    snprintf(w->data, sizeof(w->data), "%s/data", w->root);
    struct src s = { data, size };
    build(w, &s);

    struct reel_store_cfg cfg = { .datadir = w->data, .mode = REEL_STORE_RECORD };
    struct reel_store *st = NULL;
    struct reel_err err;
    int r = reel_store_open(&st, &cfg, &err);
    if (r < 0) {
        fprintf(stderr, "reel_store_open: %s\n", err.msg);
        FUZZ_CHECK(!"recovery refused the data directory");
    }
    struct problems plain = { 0 }, hashed = { 0 };
    struct reel_check_report rep;
    for (int pass = 0; pass < 2; pass++) {
        r = reel_store_check(st, pass ? REEL_CHECK_HASH : 0, on_problem, pass ? &hashed : &plain, &rep, &err);
        if (r < 0)
            fprintf(stderr, "reel_store_check: %s\n", err.msg);
        FUZZ_CHECK(r == 0);
    }
    reel_store_close(st);
    verify(w, &plain, &hashed);
    rm_tree(w->root);
    free(w);
    return 0;
}
