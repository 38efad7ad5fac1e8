/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Fragmented MP4 for live view (see fmp4.h).
 */
#include "mp4/fmp4.h"

#include <errno.h>
#include <string.h>

#include "mp4/box.h"

#define TRACK_ID 1
#define NTP_UNIX_OFFSET_S UINT64_C(2208988800)   /* 1900-01-01 to 1970-01-01 */

static void matrix(struct reel_boxw *w)
{
    static const uint32_t m[9] = { 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000 };
    for (int i = 0; i < 9; i++)
        reel_box_u32(w, m[i]);
}

int reel_fmp4_init(const uint8_t *entry, size_t entry_len, int width, int height, struct reel_buf *out)
{
    reel_buf_init(out, REEL_FMP4_INIT_MAX);
    if (!entry || entry_len < 8 || width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return -EINVAL;
    struct reel_boxw w;
    reel_boxw_init(&w, REEL_FMP4_INIT_MAX);
    reel_box_open(&w, "ftyp");
    reel_box_fourcc(&w, "iso5");
    reel_box_u32(&w, 512);
    reel_box_fourcc(&w, "iso5");
    reel_box_fourcc(&w, "iso6");
    reel_box_fourcc(&w, "mp41");
    reel_box_close(&w);

    reel_box_open(&w, "moov");
    reel_box_open_full(&w, "mvhd", 0, 0);
    reel_box_u32(&w, 0);                  /* creation */
    reel_box_u32(&w, 0);                  /* modification */
    reel_box_u32(&w, REEL_FMP4_TIMESCALE);
    reel_box_u32(&w, 0);                  /* duration: fragments */
    reel_box_u32(&w, 0x00010000);         /* rate */
    reel_box_u16(&w, 0x0100);             /* volume */
    reel_box_zeros(&w, 10);
    matrix(&w);
    reel_box_zeros(&w, 24);
    reel_box_u32(&w, TRACK_ID + 1);       /* next track id */
    reel_box_close(&w);

    reel_box_open(&w, "trak");
    reel_box_open_full(&w, "tkhd", 0, 3); /* enabled, in movie */
    reel_box_u32(&w, 0);
    reel_box_u32(&w, 0);
    reel_box_u32(&w, TRACK_ID);
    reel_box_u32(&w, 0);
    reel_box_u32(&w, 0);                  /* duration */
    reel_box_zeros(&w, 8);
    reel_box_u16(&w, 0);                  /* layer */
    reel_box_u16(&w, 0);                  /* alternate group */
    reel_box_u16(&w, 0);                  /* volume */
    reel_box_u16(&w, 0);
    matrix(&w);
    reel_box_u32(&w, (uint32_t)width << 16);
    reel_box_u32(&w, (uint32_t)height << 16);
    reel_box_close(&w);
    reel_box_open(&w, "mdia");
    reel_box_open_full(&w, "mdhd", 0, 0);
    reel_box_u32(&w, 0);
    reel_box_u32(&w, 0);
    reel_box_u32(&w, REEL_FMP4_TIMESCALE);
    reel_box_u32(&w, 0);
    reel_box_u16(&w, 0x55c4);             /* "und" */
    reel_box_u16(&w, 0);
    reel_box_close(&w);
    reel_box_open_full(&w, "hdlr", 0, 0);
    reel_box_u32(&w, 0);
    reel_box_fourcc(&w, "vide");
    reel_box_zeros(&w, 12);
    reel_box_bytes(&w, "Reel live\0", 10);
    reel_box_close(&w);
    reel_box_open(&w, "minf");
    reel_box_open_full(&w, "vmhd", 0, 1);
    reel_box_zeros(&w, 8);
    reel_box_close(&w);
    reel_box_open(&w, "dinf");
    reel_box_open_full(&w, "dref", 0, 0);
    reel_box_u32(&w, 1);
    reel_box_open_full(&w, "url ", 0, 1); /* self-contained */
    reel_box_close(&w);
    reel_box_close(&w);
    reel_box_close(&w);
    reel_box_open(&w, "stbl");
    reel_box_open_full(&w, "stsd", 0, 0);
    reel_box_u32(&w, 1);
    reel_box_bytes(&w, entry, entry_len);
    reel_box_close(&w);
    static const char *empty[] = { "stts", "stsc", "stco" };
    for (int i = 0; i < 3; i++) {
        reel_box_open_full(&w, empty[i], 0, 0);
        reel_box_u32(&w, 0);
        reel_box_close(&w);
    }
    reel_box_open_full(&w, "stsz", 0, 0);
    reel_box_u32(&w, 0);
    reel_box_u32(&w, 0);
    reel_box_close(&w);
    reel_box_close(&w);                   /* stbl */
    reel_box_close(&w);                   /* minf */
    reel_box_close(&w);                   /* mdia */
    reel_box_close(&w);                   /* trak */
    reel_box_open(&w, "mvex");
    reel_box_open_full(&w, "trex", 0, 0);
    reel_box_u32(&w, TRACK_ID);
    reel_box_u32(&w, 1);                  /* sample description index */
    reel_box_u32(&w, 0);
    reel_box_u32(&w, 0);
    reel_box_u32(&w, 0);
    reel_box_close(&w);
    reel_box_close(&w);                   /* mvex */
    reel_box_close(&w);                   /* moov */
    int r = reel_boxw_finish(&w);
    if (r < 0) {
        reel_boxw_free(&w);
        return r;
    }
    *out = w.buf;
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int reel_fmp4_fragment_head(const struct reel_fmp4_frag *f, uint8_t *head, size_t cap)
{
    if (f->au_len == 0 || f->au_len > REEL_FMP4_AU_MAX || cap < REEL_FMP4_HEAD_MAX ||
        f->wall90k < -(int64_t)NTP_UNIX_OFFSET_S * REEL_FMP4_TIMESCALE)
        return -EINVAL;
    struct reel_boxw w;
    reel_boxw_init(&w, REEL_FMP4_HEAD_MAX);
    /* prft: NTP time of the AU's arrival and its media time */
    int64_t secs = f->wall90k / REEL_FMP4_TIMESCALE, rem = f->wall90k % REEL_FMP4_TIMESCALE;
    if (rem < 0) {
        rem += REEL_FMP4_TIMESCALE;
        secs--;
    }
    uint64_t ntp = ((uint64_t)(secs + (int64_t)NTP_UNIX_OFFSET_S) << 32) |
                   (((uint64_t)rem << 32) / REEL_FMP4_TIMESCALE);
    reel_box_open_full(&w, "prft", 1, 0);
    reel_box_u32(&w, TRACK_ID);
    reel_box_u64(&w, ntp);
    reel_box_u64(&w, f->base_decode90k);
    reel_box_close(&w);
    size_t moof_at = w.buf.len;
    reel_box_open(&w, "moof");
    reel_box_open_full(&w, "mfhd", 0, 0);
    reel_box_u32(&w, f->seq);
    reel_box_close(&w);
    reel_box_open(&w, "traf");
    reel_box_open_full(&w, "tfhd", 0, 0x020000);   /* default-base-is-moof */
    reel_box_u32(&w, TRACK_ID);
    reel_box_close(&w);
    reel_box_open_full(&w, "tfdt", 1, 0);
    reel_box_u64(&w, f->base_decode90k);
    reel_box_close(&w);
    /* data offset, sample duration, size, flags */
    reel_box_open_full(&w, "trun", 0, 0x000001 | 0x000100 | 0x000200 | 0x000400);
    reel_box_u32(&w, 1);
    size_t off_at = w.buf.len;
    reel_box_u32(&w, 0);                  /* data offset: patched */
    reel_box_u32(&w, f->duration90k);
    reel_box_u32(&w, (uint32_t)f->au_len);
    reel_box_u32(&w, f->key ? 0x02000000u : 0x01010000u);   /* sync / depends, non-sync */
    reel_box_close(&w);
    reel_box_close(&w);                   /* traf */
    reel_box_close(&w);                   /* moof */
    size_t moof_len = w.buf.len - moof_at;
    reel_box_header_ext(&w, "mdat", f->au_len);
    int r = reel_boxw_finish(&w);
    if (r == 0 && w.buf.len > cap)
        r = -EMSGSIZE;
    if (r == 0) {
        size_t mdat_hdr = w.buf.len - moof_at - moof_len;
        put32(w.buf.data + off_at, (uint32_t)(moof_len + mdat_hdr));
        memcpy(head, w.buf.data, w.buf.len);
        r = (int)w.buf.len;
    }
    reel_boxw_free(&w);
    return r;
}

int reel_fmp4_fragment(const struct reel_fmp4_frag *f, const uint8_t *au, struct reel_buf *out)
{
    reel_buf_init(out, REEL_FMP4_HEAD_MAX + REEL_FMP4_AU_MAX);
    uint8_t head[REEL_FMP4_HEAD_MAX];
    int n = reel_fmp4_fragment_head(f, head, sizeof(head));
    if (n < 0)
        return n;
    int r = reel_buf_reserve(out, (size_t)n + f->au_len);
    if (r == 0)
        r = reel_buf_append(out, head, (size_t)n);
    if (r == 0)
        r = reel_buf_append(out, au, f->au_len);
    if (r < 0)
        reel_buf_free(out);
    return r;
}

int reel_fmp4_run_head(uint32_t seq, uint64_t base_decode90k, const struct reel_fmp4_sample *s, size_t n,
                       struct reel_buf *out)
{
    if (n == 0 || n > REEL_FMP4_RUN_MAX)
        return -EINVAL;
    uint64_t payload = 0;
    for (size_t i = 0; i < n; i++)
        payload += s[i].size;
    struct reel_boxw w;
    reel_boxw_init(&w, 256 + n * 12);
    reel_box_open(&w, "moof");
    reel_box_open_full(&w, "mfhd", 0, 0);
    reel_box_u32(&w, seq);
    reel_box_close(&w);
    reel_box_open(&w, "traf");
    reel_box_open_full(&w, "tfhd", 0, 0x020000);   /* default-base-is-moof */
    reel_box_u32(&w, TRACK_ID);
    reel_box_close(&w);
    reel_box_open_full(&w, "tfdt", 1, 0);
    reel_box_u64(&w, base_decode90k);
    reel_box_close(&w);
    reel_box_open_full(&w, "trun", 0, 0x000001 | 0x000100 | 0x000200 | 0x000400);
    reel_box_u32(&w, (uint32_t)n);
    size_t off_at = w.buf.len;
    reel_box_u32(&w, 0);                  /* data offset: patched */
    reel_box_reserve(&w, n * 12);
    for (size_t i = 0; i < n; i++) {
        reel_box_u32(&w, s[i].duration90k);
        reel_box_u32(&w, s[i].size);
        reel_box_u32(&w, s[i].key ? 0x02000000u : 0x01010000u);
    }
    reel_box_close(&w);                   /* trun */
    reel_box_close(&w);                   /* traf */
    reel_box_close(&w);                   /* moof */
    size_t moof_len = w.buf.len;
    reel_box_header_ext(&w, "mdat", payload);
    int r = reel_boxw_finish(&w);
    if (r < 0) {
        reel_boxw_free(&w);
        return r;
    }
    put32(w.buf.data + off_at, (uint32_t)w.buf.len);  /* moof + mdat header: the first sample */
    (void)moof_len;
    *out = w.buf;
    return 0;
}
