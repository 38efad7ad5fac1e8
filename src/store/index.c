/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The per-frame index codec. Each frame is two LEB128 varints:
 *   1. (zigzag(duration - previous duration) << 1) | key
 *   2. zigzag(size - previous size of a frame of the same kind, key or not)
 * A steady 30 fps stream costs about two bytes a frame. The decoder is strict:
 * truncation, varints longer than needed, trailing bytes and out-of-range
 * values are all -EBADMSG.
 */
#include "store/index.h"

#include <errno.h>
#include <string.h>

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

static int put_varint(struct reel_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    return reel_buf_append(b, tmp, n);
}

/* Reads one canonical varint; 0 or -EBADMSG. */
static int get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        if (*pos >= len)
            return -EBADMSG;
        uint8_t byte = p[(*pos)++];
        if (i == 9 && byte > 1)
            return -EBADMSG;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            if (i > 0 && byte == 0)
                return -EBADMSG; /* non-minimal encoding */
            *ret = v;
            return 0;
        }
    }
    return -EBADMSG;
}

void reel_index_enc_init(struct reel_index_enc *e, size_t cap)
{
    memset(e, 0, sizeof(*e));
    reel_buf_init(&e->out, cap);
}

int reel_index_enc_add(struct reel_index_enc *e, const struct reel_frame_info *f)
{
    if (f->duration90k < 0)
        return -EINVAL;
    if (e->frames == UINT32_MAX)
        return -EOVERFLOW;
    int k = f->key ? 1 : 0;
    size_t old = e->out.len;
    uint64_t v1 = zigzag((int64_t)f->duration90k - e->prev_dur) << 1 | (uint64_t)k;
    uint64_t v2 = zigzag((int64_t)f->size - (int64_t)e->prev_size[k]);
    int r = put_varint(&e->out, v1);
    if (r == 0)
        r = put_varint(&e->out, v2);
    if (r < 0) {
        e->out.len = old; /* all or nothing */
        return r;
    }
    e->prev_dur = f->duration90k;
    e->prev_size[k] = f->size;
    e->frames++;
    return 0;
}

void reel_index_enc_free(struct reel_index_enc *e)
{
    if (e)
        reel_buf_free(&e->out);
}

int reel_index_decode(const uint8_t *blob, size_t len, uint32_t n, struct reel_frame_info *out,
                      struct reel_err *err)
{
    size_t pos = 0;
    int64_t prev_dur = 0, prev_size[2] = { 0, 0 };
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v1, v2;
        if (get_varint(blob, len, &pos, &v1) < 0 || get_varint(blob, len, &pos, &v2) < 0)
            return reel_err_set(err, EBADMSG, "frame index: truncated or bad varint at frame %u (byte %zu of %zu)",
                                i, pos, len);
        int k = (int)(v1 & 1);
        int64_t dur, size;
        if (__builtin_add_overflow(prev_dur, unzigzag(v1 >> 1), &dur))
            dur = -1;
        if (__builtin_add_overflow(prev_size[k], unzigzag(v2), &size))
            size = -1;
        if (dur < 0 || dur > INT32_MAX)
            return reel_err_set(err, EBADMSG, "frame index: duration %lld out of range at frame %u",
                                (long long)dur, i);
        if (size < 0 || size > (int64_t)UINT32_MAX)
            return reel_err_set(err, EBADMSG, "frame index: size %lld out of range at frame %u",
                                (long long)size, i);
        out[i].duration90k = (int32_t)dur;
        out[i].size = (uint32_t)size;
        out[i].key = k;
        prev_dur = dur;
        prev_size[k] = size;
    }
    if (pos != len)
        return reel_err_set(err, EBADMSG, "frame index: %zu trailing bytes after %u frames", len - pos, n);
    return 0;
}
