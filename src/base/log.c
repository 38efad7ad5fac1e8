/* SPDX-License-Identifier: GPL-3.0-or-later
 * One line per event, written atomically with a single write(2). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

size_t reel_log_escape(const char *s, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f && c != '\\') {
            if (o + 1 >= cap)
                break;
            out[o++] = (char)c;
        } else if (c == '\\') {
            if (o + 2 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = '\\';
        } else {
            if (o + 4 >= cap)
                break;
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void reel_log(const struct reel_logger *lg, enum reel_log_level lvl, const char *fmt, ...)
{
    if (lg && lvl < lg->min)
        return;
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl]);
    char msg[sizeof(line)];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + reel_log_escape(msg, m < 0 ? 0 : (size_t)m > sizeof(msg) - 1 ? sizeof(msg) - 1 : (size_t)m,
                                              line + n, sizeof(line) - (size_t)n - 1);
    line[len++] = '\n';
    ssize_t w = write(lg ? lg->fd : 2, line, len);
    (void)w;
}

int reel_err_set(struct reel_err *err, int errnum, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -errnum;
}
