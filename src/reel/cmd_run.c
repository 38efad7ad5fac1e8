/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel run`: option parsing and wiring of the recorder (src/reel/recorder.c:
 * the loop, the cameras, the hub, the control socket) with the signals and
 * the HTTP server. One event loop serves every camera; the store's syncer
 * thread does the fsyncs and index commits. SIGINT/SIGTERM end the loop;
 * each camera then tears down its session and closes its recording
 * durably. The HTTP server (src/http) runs on its own threads next to the
 * loop, with its own read-only database handles; it is stopped first.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "http/assets.h"
#include "http/http.h"
#include "reel/camera.h"
#include "reel/bench_subs.h"
#include "reel/cli.h"
#include "reel/fds.h"
#include "reel/loop.h"
#include "reel/recorder.h"

struct sig_watch {
    struct reel_io io;
    struct reel_loop *loop;
    const struct reel_logger *log;
};

/* SIGINT/SIGTERM arrive through a signalfd, so no handler and no global state. */
static void on_signal(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct sig_watch *w = io->opaque;
    struct signalfd_siginfo si;
    if (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        reel_log(w->log, REEL_LOG_INFO, "signal %u received", si.ssi_signo);
    reel_loop_stop(w->loop);
}

int reel_cmd_run(struct reel_cli *cli)
{
    const char *v;
    int64_t checkpoint_ns = REEL_NS_PER_SEC, rotate_ns = 60 * REEL_NS_PER_SEC;
    struct reel_cam_opts opts = { 0 };
    if ((v = reel_cli_opt(cli, "--checkpoint-ms", true))) {
        long ms = strtol(v, NULL, 10);
        if (ms < 50 || ms > 60000)
            return reel_cli_usage("--checkpoint-ms: expected 50..60000");
        checkpoint_ns = ms * INT64_C(1000000);
    }
    if ((v = reel_cli_opt(cli, "--rotate-s", true))) {
        long s = strtol(v, NULL, 10);
        if (s < 2 || s > 3600)
            return reel_cli_usage("--rotate-s: expected 2..3600");
        rotate_ns = s * REEL_NS_PER_SEC;
    }
    if ((v = reel_cli_opt(cli, "--media-timeout-s", true))) {
        long s = strtol(v, NULL, 10);
        if (s < 1 || s > 600)
            return reel_cli_usage("--media-timeout-s: expected 1..600");
        opts.media_timeout_ns = s * REEL_NS_PER_SEC;
    }
    if ((v = reel_cli_opt(cli, "--backoff-max-s", true))) {
        long s = strtol(v, NULL, 10);
        if (s < 1 || s > 3600)
            return reel_cli_usage("--backoff-max-s: expected 1..3600");
        opts.backoff_max_ns = s * REEL_NS_PER_SEC;
    }
    uint64_t playback_mem = 0;  /* 0: the server's default (REEL_HTTP_PLAYBACK_MEM) */
    if ((v = reel_cli_opt(cli, "--playback-mem-mib", true))) {
        long mib = strtol(v, NULL, 10);
        if (mib < 1 || mib > 65536)
            return reel_cli_usage("--playback-mem-mib: expected 1..65536");
        playback_mem = (uint64_t)mib << 20;
    }
    if ((v = reel_cli_opt(cli, "--playback-mem-kib", true))) {   /* tests: a budget below one header */
        long kib = strtol(v, NULL, 10);
        if (kib < 1 || kib > 1024)
            return reel_cli_usage("--playback-mem-kib: expected 1..1024");
        playback_mem = (uint64_t)kib << 10;
    }
    const char *http_listen = reel_cli_opt(cli, "--http", true);
    bool no_http = reel_cli_opt(cli, "--no-http", false) != NULL;
    bool secure_cookie = reel_cli_opt(cli, "--secure-cookie", false) != NULL;
    bool buffered_io = reel_cli_opt(cli, "--buffered-io", false) != NULL;
    bool no_io_uring = reel_cli_opt(cli, "--no-io-uring", false) != NULL;
    long bench_subs = 0;        /* bench/ only: hub readers of every camera's AUs */
    if ((v = reel_cli_opt(cli, "--bench-subscribers", true))) {
        bench_subs = strtol(v, NULL, 10);
        if (bench_subs < 1 || bench_subs > 64)
            return reel_cli_usage("--bench-subscribers: expected 1..64");
    }
    if (http_listen && no_http)
        return reel_cli_usage("--http and --no-http exclude each other");
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (!no_http && reel_cli_bootstrap_admin(cli))
        return 1;

    /* Block the stop signals before the store starts its syncer thread, so
     * that every thread inherits the mask and only the signalfd sees them. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Descriptors (issue 11): the soft limit up to the hard one before
     * anything is opened; the plan below reserves the recorder's share. */
    uint64_t fd_limit;
    int fr = reel_fds_raise(&fd_limit);
    if (fr < 0)
        reel_log(&cli->log, REEL_LOG_WARN, "cannot raise the descriptor limit: %s (it stays %llu)", strerror(-fr),
                 (unsigned long long)fd_limit);
    struct reel_recorder_cfg rcfg = {
        .store = { .datadir = cli->datadir, .checkpoint_ns = checkpoint_ns, .rotate_ns = rotate_ns,
                   .buffered_io = buffered_io, .no_io_uring = no_io_uring },
        .cam_opts = opts, .log = &cli->log,
    };
    struct reel_err err = { "" };
    struct reel_recorder *rec;
    int r = reel_recorder_new(&rec, &rcfg, &err);
    if (r < 0)
        return reel_cli_fail("cannot open data directory %s for recording: %s", cli->datadir,
                             err.msg[0] ? err.msg : strerror(-r));
    struct reel_loop *loop = reel_recorder_loop(rec);
    size_t ncams = reel_recorder_ncams(rec);
    reel_log(&cli->log, REEL_LOG_INFO, "recording %zu camera%s into %s (checkpoint every %lld ms)",
             ncams, ncams == 1 ? "" : "s", cli->datadir, (long long)(checkpoint_ns / 1000000));

    struct sig_watch sw = { .loop = loop, .log = &cli->log };
    sw.io.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    sw.io.cb = on_signal;
    sw.io.opaque = &sw;
    r = sw.io.fd < 0 ? -errno : reel_loop_io_add(loop, &sw.io, EPOLLIN);
    if (r < 0) {
        if (sw.io.fd >= 0)
            close(sw.io.fd);
        reel_recorder_free(rec);
        return reel_cli_fail("cannot watch for SIGINT/SIGTERM: %s", strerror(-r));
    }

    /* The web server: a failure to listen is reported but does not stop
     * the recording. */
    struct reel_http *http = NULL;
    if (!no_http) {
        /* The HTTP server gets the descriptors the recorder does not need
         * (cameras added later share the margin of REEL_FDS_PER_CAMERA). */
        struct reel_fds_plan plan;
        reel_fds_plan(fd_limit, ncams, &plan);
        reel_log(&cli->log, plan.scarce ? REEL_LOG_WARN : REEL_LOG_INFO,
                 "descriptors: limit %llu, %llu kept for recording %zu camera%s; http: %u connections, %u downloads%s",
                 (unsigned long long)plan.limit, (unsigned long long)plan.reserve, ncams, ncams == 1 ? "" : "s",
                 plan.conn_max, plan.downloads_max, plan.scarce ? " (too few descriptors: raise `ulimit -n`)" : "");
        struct reel_http_cfg hcfg = {
            .datadir = cli->datadir, .listen = http_listen, .secure_cookie = secure_cookie, .log = &cli->log,
            .recorder = reel_recorder_http(rec), .conn_max = plan.conn_max, .downloads_max = plan.downloads_max,
            .playback_mem_max = playback_mem,
        };
        r = reel_http_new(&http, &hcfg, &err);
        for (size_t i = 0; r == 0 && i < reel_web_nassets; i++)
            r = reel_http_static_add(http, reel_web_assets[i].path, reel_web_assets[i].content_type,
                                     reel_web_assets[i].data, reel_web_assets[i].len);
        if (r == 0)
            r = reel_http_start(http, &err);
        if (r < 0) {
            reel_log(&cli->log, REEL_LOG_ERROR, "http: %s; recording without the web server",
                     err.msg[0] ? err.msg : strerror(-r));
            reel_http_free(http);
            http = NULL;
        } else {
            char url[128];
            reel_http_url(http, url, sizeof(url));
            reel_log(&cli->log, REEL_LOG_INFO, "http: listening on %s", url);
        }
    }

    struct reel_bench_subs *bsubs = NULL;
    if (bench_subs > 0) {
        r = reel_bench_subs_start(&bsubs, reel_recorder_hub(rec), (unsigned)bench_subs);
        if (r < 0)
            reel_log(&cli->log, REEL_LOG_ERROR, "bench subscribers: %s; recording without them", strerror(-r));
        else
            reel_log(&cli->log, REEL_LOG_INFO, "bench: %ld hub subscribers reading every camera's access units",
                     bench_subs);
    }

    r = reel_recorder_run(rec);
    reel_bench_subs_stop(bsubs, &cli->log);
    /* The web server first: it calls into the recorder. */
    reel_http_free(http);
    reel_loop_io_del(loop, &sw.io);
    close(sw.io.fd);
    reel_recorder_free(rec);
    reel_log(&cli->log, REEL_LOG_INFO, "stopped");
    return r < 0 ? 1 : 0;
}
