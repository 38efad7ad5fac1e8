/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Export file names (name.h).
 */
#include "export/name.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

void reel_export_duration_text(int64_t dur90k, char *buf, size_t cap)
{
    int64_t s = dur90k < 0 ? 0 : (dur90k + REEL_90K - 1) / REEL_90K;
    int64_t h = s / 3600, m = s / 60 % 60, sec = s % 60;
    if (h > 0 && sec)
        snprintf(buf, cap, "%lldh%lldm%llds", (long long)h, (long long)m, (long long)sec);
    else if (h > 0 && m)
        snprintf(buf, cap, "%lldh%lldm", (long long)h, (long long)m);
    else if (h > 0)
        snprintf(buf, cap, "%lldh", (long long)h);
    else if (m > 0 && sec)
        snprintf(buf, cap, "%lldm%llds", (long long)m, (long long)sec);
    else if (m > 0)
        snprintf(buf, cap, "%lldm", (long long)m);
    else
        snprintf(buf, cap, "%llds", (long long)sec);
}

void reel_export_file_name(const char *const *cameras, size_t n, int64_t start90k, int64_t end90k,
                           const char *ext, char *buf, size_t cap)
{
    char who[96] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(cameras[i]) + 1;
    if (n == 1 || len <= sizeof(who)) {
        for (size_t i = 0; i < n; i++) {
            if (i)
                strcat(who, "+");
            strncat(who, cameras[i], sizeof(who) - strlen(who) - 1);
        }
    } else {
        snprintf(who, sizeof(who), "%zu-cameras", n);
    }
    time_t t = (time_t)(start90k / REEL_90K);
    struct tm tm;
    gmtime_r(&t, &tm);
    char when[32], dur[32];
    strftime(when, sizeof(when), "%Y-%m-%d_%H-%M-%SZ", &tm);
    reel_export_duration_text(end90k - start90k, dur, sizeof(dur));
    snprintf(buf, cap, "%s_%s_%s.%s", who, when, dur, ext);
}
