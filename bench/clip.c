/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loading a benchmark clip; see clip.h.
 */
#include "clip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/annexb.h"

static int read_file(const char *path, uint8_t **ret, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    uint8_t *p = NULL;
    size_t n = 0, a = 0;
    for (;;) {
        if (n == a) {
            if (a >= CLIP_CAP) {
                free(p);
                fclose(f);
                return -EFBIG;
            }
            a = a ? a * 2 : 1 << 20;
            uint8_t *q = realloc(p, a);
            if (!q) {
                free(p);
                fclose(f);
                return -ENOMEM;
            }
            p = q;
        }
        size_t k = fread(p + n, 1, a - n, f);
        n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    *ret = p;
    *ret_len = n;
    return 0;
}

static int au_add(struct clip *c, size_t off)
{
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 512;
        struct au *p = realloc(c->aus, na * sizeof(*p));
        if (!p)
            return -ENOMEM;
        c->aus = p;
        c->alloc = na;
    }
    c->aus[c->n++] = (struct au){ .off = off, .len = 0, .key = 0 };
    return 0;
}

/* Splits the clip into access units: a new one starts at a non-VCL NAL that
 * follows a picture, or at a first slice (first_mb_in_slice == 0) when the
 * current one already has a picture. AUDs are dropped. */
int bench_clip_load(struct clip *c, const char *path)
{
    size_t len = 0;
    int r = read_file(path, &c->raw, &len);
    if (r < 0)
        return r;
    reel_buf_init(&c->data, CLIP_CAP);
    size_t pos = 0;
    struct reel_nal nal;
    int have_vcl = 0, open = 0;
    while (reel_annexb_next(c->raw, len, &pos, &nal)) {
        unsigned t = reel_h264_nal_type(nal.p[0]);
        int vcl = t >= 1 && t <= 5;
        if (t == 9)
            continue;
        if (t == 7 && !c->sps) {
            c->sps = nal.p;
            c->sps_len = nal.len;
        } else if (t == 8 && !c->pps) {
            c->pps = nal.p;
            c->pps_len = nal.len;
        }
        int first_slice = vcl && nal.len > 1 && (nal.p[1] & 0x80);
        if (!open || (have_vcl && (!vcl || first_slice))) {
            if ((r = au_add(c, c->data.len)) < 0)
                return r;
            open = 1;
            have_vcl = 0;
        }
        if ((r = reel_buf_append_be32(&c->data, (uint32_t)nal.len)) < 0 ||
            (r = reel_buf_append(&c->data, nal.p, nal.len)) < 0)
            return r;
        struct au *a = &c->aus[c->n - 1];
        a->len = c->data.len - a->off;
        if (vcl)
            have_vcl = 1;
        if (t == 5)
            a->key = 1;
    }
    /* drop a trailing unit without a picture and everything before the first key frame */
    while (c->n > 0 && c->aus[c->n - 1].len == 0)
        c->n--;
    size_t k = 0;
    while (k < c->n && !c->aus[k].key)
        k++;
    if (k == c->n || !c->sps || !c->pps)
        return -EINVAL;
    memmove(c->aus, c->aus + k, (c->n - k) * sizeof(*c->aus));
    c->n -= k;
    return 0;
}

void bench_clip_free(struct clip *c)
{
    reel_buf_free(&c->data);
    free(c->aus);
    free(c->raw);
    memset(c, 0, sizeof(*c));
}
