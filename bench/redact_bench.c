/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The cost of a redacted export (issue 14): reel_redact_run() (decode,
 * paint, libx264 encode, MP4 mux: src/media/redact.h) over an MP4 file,
 * with the boxes a disclosure typically has: two blurred faces moving
 * through 3 key points and one black fill. Prints wall time, CPU time
 * (user + system, this process: the job runs on one thread, as in the
 * server) and frames per second. Run by bench/redact.sh on a 1-minute
 * 1080p clip; by hand: reel-redact-bench IN.mp4 OUT.mp4.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media/avlog.h"
#include "media/redact.h"

static ssize_t file_read(void *arg, uint64_t off, void *buf, size_t len)
{
    ssize_t n = pread(*(int *)arg, buf, len, (off_t)off);
    return n < 0 ? -errno : n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s IN.mp4 OUT.mp4\n", argv[0]);
        return 2;
    }
    reel_media_avlog_quiet();
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(argv[1]);
        return 1;
    }
    const int64_t from = INT64_C(1796000000) * 90000, len = INT64_C(60) * 90000;
    static struct reel_redact_spec spec;
    spec.nboxes = 3;
    spec.boxes[0] = (struct reel_redact_box){ .mode = REEL_REDACT_BLUR, .nkeys = 3 };
    spec.boxes[0].keys[0] = (struct reel_redact_key){ from, 0.10, 0.20, 0.12, 0.22 };
    spec.boxes[0].keys[1] = (struct reel_redact_key){ from + len / 2, 0.45, 0.30, 0.12, 0.22 };
    spec.boxes[0].keys[2] = (struct reel_redact_key){ from + len, 0.70, 0.25, 0.14, 0.25 };
    spec.boxes[1] = (struct reel_redact_box){ .mode = REEL_REDACT_BLUR, .nkeys = 3 };
    spec.boxes[1].keys[0] = (struct reel_redact_key){ from, 0.60, 0.50, 0.10, 0.20 };
    spec.boxes[1].keys[1] = (struct reel_redact_key){ from + len / 3, 0.50, 0.55, 0.10, 0.20 };
    spec.boxes[1].keys[2] = (struct reel_redact_key){ from + len, 0.20, 0.60, 0.12, 0.22 };
    spec.boxes[2] = (struct reel_redact_box){ .mode = REEL_REDACT_FILL, .nkeys = 1 };
    spec.boxes[2].keys[0] = (struct reel_redact_key){ from, 0.80, 0.80, 0.18, 0.15 };
    struct reel_redact_in in = { .read = file_read, .arg = &fd, .size = (uint64_t)st.st_size, .from90k = from,
                                 .to90k = from + len };
    struct reel_redact_result res;
    struct reel_err err = { "" };
    unlink(argv[2]);
    double w0 = now_s(), c0 = cpu_s();
    int rc = reel_redact_run(&in, &spec, argv[2], NULL, NULL, NULL, &res, &err);
    double w = now_s() - w0, c = cpu_s() - c0;
    close(fd);
    if (rc < 0) {
        fprintf(stderr, "redaction failed: %s\n", err.msg);
        return 1;
    }
    struct stat os;
    stat(argv[2], &os);
    printf("{\"frames\": %llu, \"width\": %d, \"height\": %d, \"video_s\": %.2f, \"wall_s\": %.2f, \"cpu_s\": %.2f,"
           " \"fps\": %.1f, \"realtime_x\": %.2f, \"out_bytes\": %lld, \"preset\": \"%s\", \"crf\": %s}\n",
           (unsigned long long)res.frames, res.width, res.height, (double)res.duration90k / 90000, w, c,
           (double)res.frames / w, ((double)res.duration90k / 90000) / w, (long long)os.st_size, REEL_REDACT_PRESET,
           REEL_REDACT_CRF);
    return 0;
}
