/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ISO BMFF box writer: nested boxes over a capped buffer, sizes patched on
 * close, sticky errors. See box.h.
 */
#include "mp4/box.h"

#include <errno.h>
#include <string.h>

void reel_boxw_init(struct reel_boxw *w, size_t cap)
{
    memset(w, 0, sizeof(*w));
    reel_buf_init(&w->buf, cap);
}

void reel_boxw_free(struct reel_boxw *w)
{
    if (!w)
        return;
    reel_buf_free(&w->buf);
    w->depth = 0;
}

static void put(struct reel_boxw *w, const void *p, size_t n)
{
    if (w->err)
        return;
    int r = reel_buf_append(&w->buf, p, n);
    if (r < 0)
        w->err = r;
}

void reel_box_reserve(struct reel_boxw *w, size_t n)
{
    if (w->err)
        return;
    int r = reel_buf_reserve(&w->buf, n);
    if (r < 0)
        w->err = r;
}

void reel_box_u8(struct reel_boxw *w, uint8_t v) { put(w, &v, 1); }

void reel_box_u16(struct reel_boxw *w, uint16_t v)
{
    uint8_t x[2];
    reel_wr_be16(x, v);
    put(w, x, 2);
}

void reel_box_u32(struct reel_boxw *w, uint32_t v)
{
    uint8_t x[4];
    reel_wr_be32(x, v);
    put(w, x, 4);
}

void reel_box_u64(struct reel_boxw *w, uint64_t v)
{
    uint8_t x[8];
    reel_wr_be32(x, (uint32_t)(v >> 32));
    reel_wr_be32(x + 4, (uint32_t)v);
    put(w, x, 8);
}

void reel_box_uv(struct reel_boxw *w, uint8_t version, uint64_t v)
{
    if (version == 1) {
        reel_box_u64(w, v);
    } else if (v > UINT32_MAX) {
        if (!w->err)
            w->err = -EFBIG;
    } else {
        reel_box_u32(w, (uint32_t)v);
    }
}

void reel_box_fourcc(struct reel_boxw *w, const char *type)
{
    if (!w->err && strlen(type) != 4) {
        w->err = -EINVAL;
        return;
    }
    put(w, type, 4);
}

void reel_box_bytes(struct reel_boxw *w, const void *p, size_t n) { put(w, p, n); }

void reel_box_zeros(struct reel_boxw *w, size_t n)
{
    static const uint8_t z[64];
    while (n > 0 && !w->err) {
        size_t k = n < sizeof(z) ? n : sizeof(z);
        put(w, z, k);
        n -= k;
    }
}

void reel_box_open(struct reel_boxw *w, const char *type)
{
    if (w->err)
        return;
    if (w->depth >= REEL_BOX_DEPTH_MAX) {
        w->err = -EINVAL;
        return;
    }
    size_t at = w->buf.len;
    reel_box_u32(w, 0);
    reel_box_fourcc(w, type);
    if (!w->err)
        w->open[w->depth++] = at;
}

void reel_box_open_full(struct reel_boxw *w, const char *type, uint8_t version, uint32_t flags)
{
    reel_box_open(w, type);
    reel_box_u32(w, (uint32_t)version << 24 | (flags & 0xffffff));
}

void reel_box_close(struct reel_boxw *w)
{
    if (w->err)
        return;
    if (w->depth == 0) {
        w->err = -EINVAL;
        return;
    }
    size_t at = w->open[--w->depth];
    size_t size = w->buf.len - at;
    if (size > UINT32_MAX) {
        w->err = -EFBIG;
        return;
    }
    reel_wr_be32(w->buf.data + at, (uint32_t)size);
}

size_t reel_box_header_ext(struct reel_boxw *w, const char *type, uint64_t payload_len)
{
    if (payload_len <= UINT32_MAX - 8) {
        reel_box_u32(w, (uint32_t)(payload_len + 8));
        reel_box_fourcc(w, type);
        return 8;
    }
    if (payload_len > UINT64_MAX - 16) {
        if (!w->err)
            w->err = -EFBIG;
        return 16;
    }
    reel_box_u32(w, 1);
    reel_box_fourcc(w, type);
    reel_box_u64(w, payload_len + 16);
    return 16;
}

int reel_boxw_finish(const struct reel_boxw *w)
{
    if (w->err)
        return w->err;
    return w->depth == 0 ? 0 : -EINVAL;
}
