/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `reel run`: option parsing and wiring of the recorder (src/reel/recorder.c:
 * the loop, the cameras, the hub, the control socket) with the signals and
 * the HTTP server. One event loop serves every camera; the store's syncer
 * thread does the fsyncs and index commits. SIGINT/SIGTERM end the loop;
 * each camera then tears down its session and closes its recording
 * durably. The HTTP server (src/http) runs on its own threads next to the
 * loop, with its own read-only database handles; it is stopped first.
 * With --tls its certificate is loaded (or made, src/http/tls.h) before
 * anything starts: a bad certificate stops `reel run` with one line.
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
#include "http/clientaddr.h"
#include "http/http.h"
#include "http/users.h"
#include "http/parse.h"
#include "http/tls.h"
#include "media/avlog.h"
#include "events/events.h"
#include "motion/detector.h"
#include "notify/notify.h"
#include "onvif/source.h"
#include "notify/status.h"
#include "export/export.h"
#include "media/snapcache.h"
#include "media/thumbs.h"
#include "media/transcode.h"
#include "reel/camera.h"
#include "reel/bench_subs.h"
#include "reel/cli.h"
#include "reel/diskwatch.h"
#include "reel/fds.h"
#include "reel/loop.h"
#include "reel/recorder.h"
#include "base/timefmt.h"

struct sig_watch {
    struct reel_io io;
    struct reel_loop *loop;
    const struct reel_logger *log;
};

/* SIGINT/SIGTERM arrive through a signalfd, so no handler and no global state. */
static void motion_changed(void *opaque)
{
    reel_motion_changed(opaque);
}

static void on_signal(struct reel_io *io, uint32_t events)
{
    (void)events;
    struct sig_watch *w = io->opaque;
    struct signalfd_siginfo si;
    if (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        reel_log(w->log, REEL_LOG_INFO, "signal %u received", si.ssi_signo);
    reel_loop_stop(w->loop);
}

/* The certificate of --tls: the user's files, or the self-signed pair in
 * the data directory (made on the first start for the machine's host name
 * and the --http-host names). Its fingerprint is logged at every start.
 * 0, or -1 after printing the error. */
static int load_tls(struct reel_cli *cli, struct reel_tls_pair *pair, const char *cert, const char *key,
                    const char *const *hosts, size_t nhosts)
{
    struct reel_err err = { "" };
    int r;
    if (cert) {
        r = reel_tls_load(pair, cert, key, &err);
    } else {
        const char *names[REEL_HTTP_HOSTS_MAX + 1];
        size_t n = 0;
        char me[256] = "";
        if (gethostname(me, sizeof(me) - 1) == 0 && me[0] && reel_http_host_name_valid(me))
            names[n++] = me;
        for (size_t i = 0; i < nhosts; i++)
            names[n++] = hosts[i];
        int64_t now_s = reel_clock_wall(reel_clock_system()) / REEL_NS_PER_SEC;
        r = reel_tls_self_signed(pair, cli->datadir, names, n, now_s, &err);
    }
    if (r < 0) {
        reel_cli_fail("--tls: %s", err.msg[0] ? err.msg : strerror(-r));
        return -1;
    }
    char until[40];
    reel_time_format(pair->not_after_s * REEL_90K, until, sizeof(until));
    if (cert)
        reel_log(&cli->log, REEL_LOG_INFO, "http: TLS certificate %s, valid until %s, SHA-256 fingerprint %s", cert,
                 until, pair->fingerprint);
    else
        reel_log(&cli->log, REEL_LOG_INFO, "http: TLS with the self-signed certificate %s/%s (%s), valid until %s, "
                 "SHA-256 fingerprint %s", cli->datadir, REEL_TLS_CERT_FILE,
                 pair->created ? "made now" : "made at the first start", until, pair->fingerprint);
    int64_t now_s = reel_clock_wall(reel_clock_system()) / REEL_NS_PER_SEC;
    if (pair->not_after_s && pair->not_after_s < now_s)
        reel_log(&cli->log, REEL_LOG_WARN, "http: the TLS certificate expired on %s: browsers will refuse it", until);
    return 0;
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
    long live_cache_mib = 64;   /* the hub's GOP cache (live view's instant start); 0: off */
    if ((v = reel_cli_opt(cli, "--live-cache-mib", true))) {
        char *end;
        live_cache_mib = strtol(v, &end, 10);
        if (*end || live_cache_mib < 0 || live_cache_mib > 65536)
            return reel_cli_usage("--live-cache-mib: expected 0..65536");
    }
    long live_viewers = 0;      /* 0: the server's default (REEL_HTTP_LIVE_VIEWERS_MAX) */
    if ((v = reel_cli_opt(cli, "--live-viewers-max", true))) {
        char *end;
        live_viewers = strtol(v, &end, 10);
        if (*end || live_viewers < 1 || live_viewers > 1024)
            return reel_cli_usage("--live-viewers-max: expected 1..1024");
    }
    long transcode_max = REEL_TRANSCODE_MAX_DEFAULT;   /* live.mp4?stream=h264 of H.265 cameras */
    if ((v = reel_cli_opt(cli, "--transcode-max", true))) {
        char *end;
        transcode_max = strtol(v, &end, 10);
        if (*end || transcode_max < 1 || transcode_max > REEL_TRANSCODE_MAX_LIMIT)
            return reel_cli_usage("--transcode-max: expected 1..%d", REEL_TRANSCODE_MAX_LIMIT);
    }
    long export_keep_days = REEL_EXPORT_KEEP_DAYS;     /* exports are deleted after this many days */
    if ((v = reel_cli_opt(cli, "--export-keep-days", true))) {
        char *end;
        export_keep_days = strtol(v, &end, 10);
        if (*end || export_keep_days < 1 || export_keep_days > 3650)
            return reel_cli_usage("--export-keep-days: expected 1..3650");
    }
    long thumbs_mib = (long)(REEL_THUMBS_CACHE_DEFAULT >> 20);   /* the thumbnail cache's cap */
    if ((v = reel_cli_opt(cli, "--thumbs-cache-mib", true))) {
        char *end;
        thumbs_mib = strtol(v, &end, 10);
        if (*end || thumbs_mib < 1 || thumbs_mib > 1048576)
            return reel_cli_usage("--thumbs-cache-mib: expected 1..1048576");
    }
    long onvif_motion_max_s = 60;   /* an ONVIF "on" without "off" ends after this (issue 15) */
    if ((v = reel_cli_opt(cli, "--onvif-motion-max-s", true))) {
        char *end;
        onvif_motion_max_s = strtol(v, &end, 10);
        if (*end || onvif_motion_max_s < 1 || onvif_motion_max_s > 3600)
            return reel_cli_usage("--onvif-motion-max-s: expected 1..3600");
    }
    const char *http_listen = reel_cli_opt(cli, "--http", true);
    bool no_http = reel_cli_opt(cli, "--no-http", false) != NULL;
    bool secure_cookie = reel_cli_opt(cli, "--secure-cookie", false) != NULL;
    const char *hosts[REEL_HTTP_HOSTS_MAX];
    size_t nhosts = 0;
    while ((v = reel_cli_opt(cli, "--http-host", true))) {
        if (nhosts >= REEL_HTTP_HOSTS_MAX)
            return reel_cli_usage("--http-host: at most %d names", REEL_HTTP_HOSTS_MAX);
        if (!reel_http_host_name_valid(v))
            return reel_cli_usage("--http-host %s: expected a host name (letters, digits, '-', '.') or *", v);
        hosts[nhosts++] = v;
    }
    bool tls = reel_cli_opt(cli, "--tls", false) != NULL;
    const char *tls_cert = reel_cli_opt(cli, "--tls-cert", true), *tls_key = reel_cli_opt(cli, "--tls-key", true);
    if (!tls_cert != !tls_key)
        return reel_cli_usage("--tls-cert and --tls-key go together");
    tls = tls || tls_cert;
    bool buffered_io = reel_cli_opt(cli, "--buffered-io", false) != NULL;
    bool no_io_uring = reel_cli_opt(cli, "--no-io-uring", false) != NULL;
    long motion_workers = 2;    /* the motion detector's decoding threads (issue 15); 0: no detector */
    if ((v = reel_cli_opt(cli, "--motion-workers", true))) {
        char *end;
        motion_workers = strtol(v, &end, 10);
        if (*end || motion_workers < 0 || motion_workers > REEL_MOTION_WORKERS_MAX)
            return reel_cli_usage("--motion-workers: expected 0..%d", REEL_MOTION_WORKERS_MAX);
    }
    long bench_subs = 0;        /* bench/ only: hub readers of every camera's AUs */
    if ((v = reel_cli_opt(cli, "--bench-subscribers", true))) {
        bench_subs = strtol(v, NULL, 10);
        if (bench_subs < 1 || bench_subs > 64)
            return reel_cli_usage("--bench-subscribers: expected 1..64");
    }
    const char *trusted[REEL_TRUSTED_PROXY_MAX + 1];
    size_t ntrusted = 0;
    while ((v = reel_cli_opt(cli, "--trusted-proxy", true))) {
        if (ntrusted == REEL_TRUSTED_PROXY_MAX)
            return reel_cli_usage("--trusted-proxy: at most %d", REEL_TRUSTED_PROXY_MAX);
        struct reel_netmask m;
        if (reel_netmask_parse(v, &m) < 0)
            return reel_cli_usage("--trusted-proxy '%s': expected ADDR or ADDR/PREFIX", v);
        trusted[ntrusted++] = v;
    }
    long token_max_days = REEL_TOKEN_MAX_DAYS, token_default_days = 0;
    if ((v = reel_cli_opt(cli, "--token-max-days", true))) {
        char *end;
        token_max_days = strtol(v, &end, 10);
        if (*end || token_max_days < 1 || token_max_days > 36500)
            return reel_cli_usage("--token-max-days: expected 1..36500");
    }
    if ((v = reel_cli_opt(cli, "--token-default-days", true))) {
        char *end;
        token_default_days = strtol(v, &end, 10);
        if (*end || token_default_days < 1 || token_default_days > token_max_days)
            return reel_cli_usage("--token-default-days: expected 1..%ld (--token-max-days)", token_max_days);
    }
    if (!token_default_days)
        token_default_days = token_max_days < REEL_TOKEN_DEFAULT_DAYS ? token_max_days : REEL_TOKEN_DEFAULT_DAYS;
    if (http_listen && no_http)
        return reel_cli_usage("--http and --no-http exclude each other");
    if (tls && no_http)
        return reel_cli_usage("--tls and --no-http exclude each other");
    if (reel_cli_no_more_opts(cli))
        return 2;
    if (!no_http && reel_cli_bootstrap_admin(cli))
        return 1;
    /* signed exports need the site key: an install older than keys gets
     * its pair at its first start */
    if (reel_cli_site_key(cli))
        return 1;
    /* The certificate before anything starts: a bad one is an error, not a
     * server that fails every handshake. */
    struct reel_tls_pair pair = { 0 };
    if (tls && load_tls(cli, &pair, tls_cert, tls_key, hosts, nhosts) < 0)
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
    if (r < 0) {
        reel_tls_pair_clear(&pair);
        return reel_cli_fail("cannot open data directory %s for recording: %s", cli->datadir,
                             err.msg[0] ? err.msg : strerror(-r));
    }
    /* The event bus (issue 15): made once the store holds the data
     * directory (so a second `reel run` cannot close this one's open
     * events), given to the recorder before its cameras start, freed after
     * everything that reports to it or listens. Without it recording goes
     * on, with no events. */
    struct reel_events *events = NULL;
    const struct reel_events_cfg ecfg = { .datadir = cli->datadir, .log = &cli->log };
    if (reel_events_new(&events, &ecfg, &err) < 0) {
        reel_log(&cli->log, REEL_LOG_ERROR, "%s; recording without events", err.msg);
        events = NULL;
    }
    reel_recorder_set_events(rec, events);
    /* disk.full events: statvfs on a thread of its own, never the loop */
    struct reel_diskwatch *diskwatch = NULL;
    if (events) {
        const struct reel_diskwatch_cfg dcfg = { .datadir = cli->datadir, .events = events, .log = &cli->log };
        if (reel_diskwatch_start(&diskwatch, &dcfg, &err) < 0)
            reel_log(&cli->log, REEL_LOG_ERROR, "%s; no disk.full events", err.msg);
    }
    /* ONVIF motion (issue 15): a PullPoint worker per camera whose
     * camera_events say motion = 'onvif'; re-reads the table every 5 s */
    struct reel_onvif_source *onvif = NULL;
    if (events) {
        const struct reel_onvif_source_cfg ocfg = { .datadir = cli->datadir, .events = events, .log = &cli->log,
                                                    .motion_max_ns = onvif_motion_max_s * REEL_NS_PER_SEC };
        if (reel_onvif_source_start(&onvif, &ocfg, &err) < 0)
            reel_log(&cli->log, REEL_LOG_ERROR, "%s; no ONVIF motion events", err.msg);
    }
    struct reel_loop *loop = reel_recorder_loop(rec);
    reel_hub_set_cache_max(reel_recorder_hub(rec), (size_t)live_cache_mib << 20);
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
        reel_tls_pair_clear(&pair);
        reel_recorder_free(rec);
        reel_onvif_source_stop(onvif);
        reel_diskwatch_stop(diskwatch);
        reel_events_free(events);
        return reel_cli_fail("cannot watch for SIGINT/SIGTERM: %s", strerror(-r));
    }

    /* The motion detector (issue 15, src/motion/detector.h): cameras with
     * motion 'decode'; without it recording goes on, with no motion. */
    struct reel_motion *motion = NULL;
    if (motion_workers > 0) {
        reel_media_avlog_quiet();
        const struct reel_motion_run_cfg mcfg = { .datadir = cli->datadir, .hub = reel_recorder_hub(rec),
                                                  .events = events, .log = &cli->log,
                                                  .workers = (unsigned)motion_workers };
        if (reel_motion_new(&motion, &mcfg, &err) < 0) {
            reel_log(&cli->log, REEL_LOG_ERROR, "%s; recording without motion detection", err.msg);
            motion = NULL;
        }
    }
    /* Alerts (issue 15): webhooks and MQTT, listening to the bus, each on
     * its own thread with its own reel.db connection; freed before the
     * recorder (MQTT reads the hub's status) and the bus. */
    struct reel_notify *notify = NULL;
    struct reel_alerts_status *alerts = NULL;
    if (reel_alerts_status_new(&alerts) < 0)
        alerts = NULL;
    const struct reel_notify_cfg ncfg = { .datadir = cli->datadir, .log = &cli->log, .events = events,
                                          .hub = reel_recorder_hub(rec), .status = alerts };
    if (reel_notify_new(&notify, &ncfg, &err) < 0)
        reel_log(&cli->log, REEL_LOG_ERROR, "%s; no webhooks or MQTT", err.msg);

    /* The web server: a failure to listen is reported but does not stop
     * the recording. */
    struct reel_http *http = NULL;
    /* Snapshots and on-demand transcodes for the web server (issue 12):
     * without them those routes answer 503/501, recording goes on. */
    struct reel_transcoders *transcoders = NULL;
    struct reel_snapcache *snapshots = NULL;
    if (!no_http) {
        reel_media_avlog_quiet();   /* errors come back as reel_err lines */
        if (reel_transcoders_new(&transcoders, reel_recorder_hub(rec), (unsigned)transcode_max, &cli->log,
                                 &err) < 0 ||
            reel_snapcache_new(&snapshots, reel_recorder_hub(rec), NULL, &err) < 0)
            reel_log(&cli->log, REEL_LOG_ERROR, "media: %s; no snapshots or transcodes", err.msg);
    }
    /* Thumbnails and export jobs (issue 13): without them those routes
     * answer 503, recording goes on. */
    struct reel_thumbs *thumbs = NULL;
    struct reel_exports *exports = NULL;
    if (!no_http) {
        char tdir[4200];
        snprintf(tdir, sizeof(tdir), "%s/%s", cli->datadir, REEL_THUMBS_DIR);
        const struct reel_thumbs_cfg tcfg = { .dir = tdir, .cache_max = (uint64_t)thumbs_mib << 20 };
        if (reel_thumbs_new(&thumbs, &tcfg, &err) < 0)
            reel_log(&cli->log, REEL_LOG_ERROR, "%s; no thumbnails", err.msg);
        const struct reel_exports_cfg xcfg = { .datadir = cli->datadir, .log = &cli->log,
                                               .keep_days = (unsigned)export_keep_days };
        if (reel_exports_new(&exports, &xcfg, &err) < 0)
            reel_log(&cli->log, REEL_LOG_ERROR, "exports: %s; no exports", err.msg);
    }
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
            .recorder = reel_recorder_http(rec), .trusted_proxies = trusted, .ntrusted_proxies = ntrusted,
            .token_max_ns = token_max_days * 86400 * REEL_NS_PER_SEC,
            .token_default_ns = token_default_days * 86400 * REEL_NS_PER_SEC,
            .hosts = hosts, .nhosts = nhosts,
            .tls_cert_pem = pair.cert_pem, .tls_key_pem = pair.key_pem,
            .conn_max = plan.conn_max, .downloads_max = plan.downloads_max, .playback_mem_max = playback_mem,
            .hub = reel_recorder_hub(rec), .live_viewers_max = (unsigned)live_viewers,
            .transcoders = transcoders, .snapshots = snapshots, .thumbs = thumbs, .exports = exports,
            .events = events,
            .motion_changed = motion ? motion_changed : NULL, .motion_opaque = motion,
            .onvif = onvif, .alerts = alerts,
        };
        r = reel_http_new(&http, &hcfg, &err);
        reel_tls_pair_clear(&pair); /* the server has its copy */
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
    reel_transcoders_free(transcoders);   /* then the transcodes, before the hub goes */
    reel_snapcache_free(snapshots);
    reel_exports_free(exports);          /* cancels running exports */
    reel_thumbs_free(thumbs);
    if (motion) {   /* before the hub goes: ends open events, writes the last minutes */
        struct reel_motion_stats ms;
        reel_motion_stop(motion);
        reel_motion_get_stats(motion, &ms);
        reel_log(&cli->log, REEL_LOG_INFO, "motion: %u cameras, %llu access units, %llu pictures decoded, %llu "
                 "analysed, %llu lost, %llu decode errors, %llu recalibrations, %llu events, %llu minutes written",
                 ms.cameras, (unsigned long long)ms.aus, (unsigned long long)ms.decoded,
                 (unsigned long long)ms.analysed, (unsigned long long)ms.lost, (unsigned long long)ms.decode_errors,
                 (unsigned long long)ms.recalibrations, (unsigned long long)ms.events,
                 (unsigned long long)ms.minutes_written);
        reel_motion_free(motion);
    }
    reel_notify_free(notify);            /* MQTT says offline; undelivered webhooks stay in reel.db */
    reel_alerts_status_free(alerts);     /* after the web server and MQTT */
    reel_loop_io_del(loop, &sw.io);
    close(sw.io.fd);
    reel_recorder_free(rec);
    reel_onvif_source_stop(onvif);       /* ends open ONVIF motion events */
    reel_diskwatch_stop(diskwatch);
    reel_events_free(events);            /* last: writes what is queued */
    reel_log(&cli->log, REEL_LOG_INFO, "stopped");
    return r < 0 ? 1 : 0;
}
