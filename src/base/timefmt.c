/* SPDX-License-Identifier: GPL-3.0-or-later
 * Parsing and formatting of times and sizes (command line and HTTP API). */
#include "base/timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

static int digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -EINVAL;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *ret = v;
    return 0;
}

static int parse_rel(const char *s, int64_t now90k, int64_t *ret)
{
    int sign = *s == '-' ? -1 : 1;
    s++;
    int64_t total = 0;
    if (!*s)
        return -EINVAL;
    while (*s) {
        int64_t v = 0;
        if (!isdigit((unsigned char)*s))
            return -EINVAL;
        while (isdigit((unsigned char)*s)) {
            if (v > INT64_C(1000000000))
                return -ERANGE;
            v = v * 10 + (*s++ - '0');
        }
        int64_t unit;
        switch (*s++) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return -EINVAL;
        }
        total += v * unit;
        if (total > INT64_C(100) * 365 * 86400)
            return -ERANGE;
    }
    *ret = now90k + sign * total * REEL_90K;
    return 0;
}

int reel_time_parse(const char *s, int64_t now90k, int64_t *ret90k)
{
    if (!s || !*s)
        return -EINVAL;
    if (strcmp(s, "now") == 0) {
        *ret90k = now90k;
        return 0;
    }
    if (s[0] == '-' || s[0] == '+')
        return parse_rel(s, now90k, ret90k);
    if (s[0] == '@') {
        char *end;
        errno = 0;
        double v = strtod(s + 1, &end);
        if (errno || *end || end == s + 1)
            return -EINVAL;
        if (v < 0 || v > 4e9)
            return -ERANGE;
        *ret90k = (int64_t)(v * REEL_90K + 0.5);
        return 0;
    }
    const char *p = s;
    int Y, M, D, h, m, sec;
    if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' || digits(&p, 2, &D))
        return -EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -EINVAL;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &m))
        return -EINVAL;
    sec = 0;
    int64_t frac90k = 0;
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &sec))
            return -EINVAL;
        if (*p == '.') {
            p++;
            int64_t num = 0, den = 1;
            if (!isdigit((unsigned char)*p))
                return -EINVAL;
            while (isdigit((unsigned char)*p)) {
                if (den < INT64_C(1000000000)) {
                    num = num * 10 + (*p - '0');
                    den *= 10;
                }
                p++;
            }
            frac90k = num * REEL_90K / den;
        }
    }
    int off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
            return -EINVAL;
        off = sign * (oh * 3600 + om * 60);
    }
    if (*p)
        return -EINVAL;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || Y < 1970)
        return -ERANGE;
    struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D,
                     .tm_hour = h, .tm_min = m, .tm_sec = sec };
    time_t t = timegm(&tm);
    *ret90k = ((int64_t)t - off) * REEL_90K + frac90k;
    return 0;
}

void reel_time_format(int64_t t90k, char *buf, size_t cap)
{
    int64_t secs = t90k / REEL_90K;
    int64_t rem = t90k % REEL_90K;
    if (rem < 0) {
        rem += REEL_90K;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem * 1000 / REEL_90K));
}

int reel_size_parse(const char *s, int64_t *ret)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -EINVAL;
    double mult = 1;
    switch (toupper((unsigned char)*end)) {
    case '\0': break;
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1024.0 * 1024; end++; break;
    case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
    case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: return -EINVAL;
    }
    if (*end == 'B' || *end == 'b' || (*end == 'i' && (end[1] == 'B' || end[1] == 'b')))
        end += *end == 'i' ? 2 : 1;
    if (*end)
        return -EINVAL;
    if (v * mult > 9.0e18)
        return -ERANGE;
    *ret = (int64_t)(v * mult);
    return 0;
}
