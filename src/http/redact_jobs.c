/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Redacted-export jobs: a list in memory, one worker thread at a time
 * (redact_jobs.h).
 */
#include "http/redact_jobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "base/timefmt.h"
#include "http/redact_sign.h"
#include "media/redact.h"
#include "mp4/mp4.h"
#include "mp4/range.h"
#include "store/store.h"

enum status { ST_QUEUED, ST_RUNNING, ST_DONE, ST_FAILED };
static const char *const status_names[] = { "running", "running", "done", "failed" };

struct job {
    char id[17];
    int64_t user_id;
    char user[64];
    char camera[64];
    int64_t camera_id;
    int64_t from90k, to90k;
    char reason[REEL_REDACT_REASON_MAX + 1];
    int64_t created_ns;
    enum status status;
    double progress;
    uint64_t bytes, frames;
    int width, height;
    char file[200];
    char error[REEL_ERR_MAX];
    char sha256[65];
    bool signed_;
    struct reel_redact_spec *spec;
};

struct reel_redact_jobs {
    char datadir[4096];
    char dir[4200];                  /* DATADIR/redactions */
    const struct reel_clock *clock;
    const struct reel_logger *log;
    pthread_mutex_t mu;
    struct job *jobs[REEL_REDACT_JOBS_KEEP];   /* oldest first */
    size_t njobs;
    struct job *running;             /* owned by jobs[] too */
    pthread_t thr;
    bool thr_live;                   /* thr not joined yet */
    atomic_bool cancel;
};

static void job_free(struct job *jb)
{
    if (jb) {
        free(jb->spec);
        free(jb);
    }
}

/* Deletes DATADIR/redactions/<id>/ and the files in it (no recursion:
 * a job writes only plain files there). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        int dfd = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                unlinkat(dfd, e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

static bool is_id(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return false;
    return n == 16;
}

int reel_redact_jobs_new(struct reel_redact_jobs **ret, const char *datadir, const struct reel_clock *clock,
                         const struct reel_logger *log, struct reel_err *err)
{
    struct reel_redact_jobs *j = calloc(1, sizeof(*j));
    if (!j)
        return reel_err_set(err, ENOMEM, "out of memory");
    snprintf(j->datadir, sizeof(j->datadir), "%s", datadir);
    snprintf(j->dir, sizeof(j->dir), "%s/redactions", datadir);
    j->clock = clock;
    j->log = log;
    pthread_mutex_init(&j->mu, NULL);
    /* Leftovers of an earlier run (see the header). */
    DIR *d = opendir(j->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!is_id(e->d_name))
                continue;
            char sub[4500];
            snprintf(sub, sizeof(sub), "%s/%s", j->dir, e->d_name);
            remove_dir(sub);
        }
        closedir(d);
    }
    *ret = j;
    return 0;
}

void reel_redact_jobs_free(struct reel_redact_jobs *j)
{
    if (!j)
        return;
    atomic_store(&j->cancel, true);
    if (j->thr_live)
        pthread_join(j->thr, NULL);
    for (size_t i = 0; i < j->njobs; i++)
        job_free(j->jobs[i]);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

/* ---- the worker ---- */

struct worker {
    struct reel_redact_jobs *j;
    struct job *jb;
};

static ssize_t mp4_read(void *arg, uint64_t off, void *buf, size_t len)
{
    return reel_mp4_read(arg, off, buf, len);
}

static void on_progress(void *arg, double f)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->j->mu);
    w->jb->progress = f < 0 ? 0 : f > 0.99 ? 0.99 : f;   /* 1 only once signed and hashed */
    pthread_mutex_unlock(&w->j->mu);
}

static int sha256_file(const char *path, char hex[65], uint64_t *size, struct reel_err *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return reel_err_set(err, errno, "reading the redacted file: %s", strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint8_t buf[65536];
    uint64_t total = 0;
    ssize_t n;
    while (ok && (n = read(fd, buf, sizeof(buf))) > 0) {
        ok = EVP_DigestUpdate(ctx, buf, (size_t)n);
        total += (uint64_t)n;
    }
    uint8_t md[32];
    unsigned mdlen = 0;
    ok = ok && n == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
    EVP_MD_CTX_free(ctx);
    close(fd);
    if (!ok)
        return reel_err_set(err, EIO, "hashing the redacted file failed");
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    *size = total;
    return 0;
}

static int work(struct worker *w, char *path, size_t path_cap, struct reel_err *err)
{
    struct reel_redact_jobs *j = w->j;
    struct job *jb = w->jb;
    char jobdir[4300];
    snprintf(jobdir, sizeof(jobdir), "%s/%s", j->dir, jb->id);
    snprintf(path, path_cap, "%s/%s", jobdir, jb->file);
    struct reel_store *s = NULL;
    struct reel_store_cfg cfg = { .datadir = j->datadir, .mode = REEL_STORE_READ, .clock = j->clock };
    int rc = reel_store_open(&s, &cfg, err);
    struct reel_mp4 *m = NULL;
    if (rc == 0)
        rc = reel_store_read_begin(s, err);
    if (rc == 0) {
        rc = reel_mp4_for_range(s, jb->camera_id, jb->from90k, jb->to90k, &m, err);
        reel_store_read_end(s);
    }
    if (s)
        reel_store_close(s);
    if (rc == -ENOENT)
        return reel_err_set(err, ENOENT, "no footage in the range");
    if (rc < 0)
        return rc;
    struct reel_redact_in in = { .read = mp4_read, .arg = m, .size = reel_mp4_size(m), .from90k = jb->from90k,
                                 .to90k = jb->to90k };
    struct reel_redact_result res;
    rc = reel_redact_run(&in, jb->spec, path, on_progress, w, &j->cancel, &res, err);
    reel_mp4_free(m);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&j->mu);
    jb->frames = res.frames;
    jb->width = res.width;
    jb->height = res.height;
    pthread_mutex_unlock(&j->mu);
    bool signed_ = false;
    struct reel_redact_sign_in si = { .datadir = j->datadir, .path = path, .camera = jb->camera,
                                      .camera_id = jb->camera_id, .from90k = jb->from90k, .to90k = jb->to90k,
                                      .frames = res.frames, .user = jb->user, .created_ns = jb->created_ns,
                                      .reason = jb->reason, .spec = jb->spec };
    rc = reel_redact_sign(&si, &signed_, err);
    if (rc < 0)
        return rc;
    char hex[65];
    uint64_t size = 0;
    rc = sha256_file(path, hex, &size, err);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&j->mu);
    jb->signed_ = signed_;
    memcpy(jb->sha256, hex, sizeof(hex));
    jb->bytes = size;
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct reel_err err = { "" };
    char path[4600];
    int64_t t0 = reel_clock_mono(w->j->clock);
    int rc = work(w, path, sizeof(path), &err);
    int64_t ms = (reel_clock_mono(w->j->clock) - t0) / 1000000;
    pthread_mutex_lock(&w->j->mu);
    struct job *jb = w->jb;
    if (rc == 0) {
        jb->status = ST_DONE;
        jb->progress = 1;
    } else {
        jb->status = ST_FAILED;
        snprintf(jb->error, sizeof(jb->error), "%s", err.msg);
    }
    w->j->running = NULL;
    uint64_t frames = jb->frames;
    char id[17];
    memcpy(id, jb->id, sizeof(id));
    pthread_mutex_unlock(&w->j->mu);
    if (rc == 0)
        reel_log(w->j->log, REEL_LOG_INFO, "redacted export %s done: %llu frames in %lld ms", id,
                 (unsigned long long)frames, (long long)ms);
    else
        reel_log(w->j->log, REEL_LOG_WARN, "redacted export %s failed: %s", id, err.msg);
    free(w);
    return NULL;
}

/* "front_2026-12-06_10-00-00Z_60s_redacted.mp4" */
static void file_name(const struct job *jb, char *buf, size_t cap)
{
    char t[40];
    reel_time_format(jb->from90k, t, sizeof(t));   /* 2026-12-06T10:00:00.000Z */
    t[19] = '\0';
    t[10] = '_';
    t[13] = '-';
    t[16] = '-';
    long long secs = (long long)((jb->to90k - jb->from90k + 89999) / 90000);
    snprintf(buf, cap, "%s_%sZ_%llds_redacted.mp4", jb->camera, t, secs);
}

int reel_redact_jobs_start(struct reel_redact_jobs *j, const struct reel_redact_request *req, char id[17],
                           struct reel_err *err)
{
    struct job *jb = calloc(1, sizeof(*jb));
    struct worker *w = calloc(1, sizeof(*w));
    if (jb)
        jb->spec = malloc(sizeof(*jb->spec));
    if (!jb || !w || !jb->spec) {
        job_free(jb);
        free(w);
        return reel_err_set(err, ENOMEM, "out of memory");
    }
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof(rnd));
    for (int i = 0; i < 8; i++)
        snprintf(jb->id + 2 * i, 3, "%02x", rnd[i]);
    jb->user_id = req->user_id;
    snprintf(jb->user, sizeof(jb->user), "%s", req->user ? req->user : "");
    snprintf(jb->camera, sizeof(jb->camera), "%s", req->camera);
    jb->camera_id = req->camera_id;
    jb->from90k = req->from90k;
    jb->to90k = req->to90k;
    snprintf(jb->reason, sizeof(jb->reason), "%s", req->reason ? req->reason : "");
    jb->created_ns = reel_clock_wall(j->clock);
    jb->status = ST_RUNNING;
    memcpy(jb->spec, req->spec, sizeof(*jb->spec));
    file_name(jb, jb->file, sizeof(jb->file));

    pthread_mutex_lock(&j->mu);
    if (j->running) {
        pthread_mutex_unlock(&j->mu);
        job_free(jb);
        free(w);
        return reel_err_set(err, EBUSY, "a redacted export is already running");
    }
    /* The previous worker has finished (running is NULL): join it. */
    if (j->thr_live) {
        pthread_join(j->thr, NULL);
        j->thr_live = false;
    }
    int rc = 0;
    if (mkdir(j->dir, 0700) < 0 && errno != EEXIST)
        rc = reel_err_set(err, EIO, "creating %s: %s", j->dir, strerror(errno));
    char jobdir[4300];
    snprintf(jobdir, sizeof(jobdir), "%s/%s", j->dir, jb->id);
    if (rc == 0 && mkdir(jobdir, 0700) < 0)
        rc = reel_err_set(err, EIO, "creating the job's directory: %s", strerror(errno));
    if (rc == 0 && j->njobs == REEL_REDACT_JOBS_KEEP) {
        /* Drop the oldest (none is running: the running one is checked above). */
        char old[4300];
        snprintf(old, sizeof(old), "%s/%s", j->dir, j->jobs[0]->id);
        remove_dir(old);
        job_free(j->jobs[0]);
        memmove(&j->jobs[0], &j->jobs[1], sizeof(j->jobs[0]) * (j->njobs - 1));
        j->njobs--;
    }
    if (rc == 0) {
        w->j = j;
        w->jb = jb;
        atomic_store(&j->cancel, false);
        if (pthread_create(&j->thr, NULL, worker_main, w) != 0) {
            rmdir(jobdir);
            rc = reel_err_set(err, EAGAIN, "cannot start a thread");
        }
    }
    if (rc < 0) {
        pthread_mutex_unlock(&j->mu);
        job_free(jb);
        free(w);
        return rc;
    }
    j->thr_live = true;
    j->jobs[j->njobs++] = jb;
    j->running = jb;
    memcpy(id, jb->id, 17);
    pthread_mutex_unlock(&j->mu);
    return 0;
}

static json_t *job_json(const struct job *jb, bool with_boxes)
{
    char created[40], start[40], end[40];
    reel_time_format(reel_ns_to_90k(jb->created_ns), created, sizeof(created));
    reel_time_format(jb->from90k, start, sizeof(start));
    reel_time_format(jb->to90k, end, sizeof(end));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:f,s:I,s:I,s:s,s:o,s:o,s:b,s:I,s:b}", "id", jb->id,
                          "user", jb->user, "camera", jb->camera, "start", start, "end", end, "reason", jb->reason,
                          "created", created, "status", status_names[jb->status], "progress", jb->progress,
                          "bytes", (json_int_t)jb->bytes, "frames", (json_int_t)jb->frames, "file", jb->file,
                          "error", jb->status == ST_FAILED ? json_string(jb->error) : json_null(), "sha256",
                          jb->sha256[0] ? json_string(jb->sha256) : json_null(), "signed", jb->signed_,
                          "boxes", (json_int_t)jb->spec->nboxes, "derived", 1);
    if (o && with_boxes)
        json_object_set_new(o, "redaction", reel_redact_spec_json(jb->spec));
    return o;
}

json_t *reel_redact_jobs_list(struct reel_redact_jobs *j, bool all, int64_t user_id)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&j->mu);
    for (size_t i = j->njobs; arr && i-- > 0;)
        if (all || j->jobs[i]->user_id == user_id)
            json_array_append_new(arr, job_json(j->jobs[i], false));
    pthread_mutex_unlock(&j->mu);
    return arr;
}

static struct job *find(struct reel_redact_jobs *j, const char *id, bool all, int64_t user_id)
{
    for (size_t i = 0; i < j->njobs; i++)
        if (strcmp(j->jobs[i]->id, id) == 0)
            return all || j->jobs[i]->user_id == user_id ? j->jobs[i] : NULL;
    return NULL;
}

json_t *reel_redact_jobs_get(struct reel_redact_jobs *j, const char *id, bool all, int64_t user_id)
{
    pthread_mutex_lock(&j->mu);
    struct job *jb = find(j, id, all, user_id);
    json_t *o = jb ? job_json(jb, true) : NULL;
    pthread_mutex_unlock(&j->mu);
    return o;
}

int reel_redact_jobs_file(struct reel_redact_jobs *j, const char *id, bool all, int64_t user_id, char *path,
                          size_t path_cap, char *name, size_t name_cap)
{
    pthread_mutex_lock(&j->mu);
    struct job *jb = find(j, id, all, user_id);
    int rc = !jb ? -ENOENT : jb->status != ST_DONE ? -EAGAIN : 0;
    if (rc == 0) {
        snprintf(path, path_cap, "%s/%s/%s", j->dir, jb->id, jb->file);
        snprintf(name, name_cap, "%s", jb->file);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}
