/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An audit row as a CSV line (RFC 4180): every field quoted, quotes
 * doubled, CRLF line ends; a text that a spreadsheet would run as a formula
 * (starting with = + - @, a tab or a CR) gets a leading apostrophe.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/timefmt.h"

static int field(struct reel_buf *b, const char *s, bool last)
{
    int r = reel_buf_append_u8(b, '"');
    if (r == 0 && s[0] && strchr("=+-@\t\r", s[0]))
        r = reel_buf_append_u8(b, '\'');
    for (const char *p = s; r == 0 && *p; p++)
        r = *p == '"' ? reel_buf_append(b, "\"\"", 2) : reel_buf_append_u8(b, (uint8_t)*p);
    if (r == 0)
        r = reel_buf_append(b, last ? "\"\r\n" : "\",", last ? 3 : 2);
    return r;
}

int reel_audit_csv_row(const struct reel_audit_rec *rec, struct reel_buf *out)
{
    char id[24], t[40], hex[2 * REEL_AUDIT_HASH + 1];
    snprintf(id, sizeof(id), "%lld", (long long)rec->id);
    reel_time_format(reel_ns_to_90k(rec->ts_ns), t, sizeof(t));
    reel_audit_hex(rec->hash, hex);
    size_t mark = out->len;
    int r = field(out, id, false);
    const char *mid[] = { t, rec->user, rec->via, rec->addr, rec->action, rec->camera, rec->detail };
    for (size_t i = 0; r == 0 && i < sizeof(mid) / sizeof(mid[0]); i++)
        r = field(out, mid[i], false);
    if (r == 0)
        r = field(out, hex, true);
    if (r < 0)
        out->len = mark;
    return r;
}
