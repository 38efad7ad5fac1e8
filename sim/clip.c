/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Annex-B splitting, access-unit grouping and RTP pre-packetisation for the
 * simulator's clips (see clip.h).
 */
#include "sim/clip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strutil.h"

struct nal {
    const uint8_t *p;
    size_t n;
};

struct nal_list {
    struct nal *v;
    size_t len, alloc;
    bool oom;
};

size_t reel_sim_annexb_split(const uint8_t *buf, size_t len,
                             void (*fn)(void *ctx, const uint8_t *nal, size_t n), void *ctx)
{
    size_t count = 0;
    size_t i = 0, start = SIZE_MAX;
    while (i + 3 <= len) {
        if (buf[i + 2] > 1) {          /* cannot be inside 00 00 01: skip fast */
            i += 3;
            continue;
        }
        if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1) {
            if (start != SIZE_MAX) {
                size_t end = i;
                while (end > start && buf[end - 1] == 0)
                    end--;
                if (end > start) {
                    fn(ctx, buf + start, end - start);
                    count++;
                }
            }
            i += 3;
            start = i;
            continue;
        }
        i++;
    }
    if (start != SIZE_MAX && start < len) {
        size_t end = len;
        while (end > start && buf[end - 1] == 0)
            end--;
        if (end > start) {
            fn(ctx, buf + start, end - start);
            count++;
        }
    }
    return count;
}

static void collect_nal(void *ctx, const uint8_t *p, size_t n)
{
    struct nal_list *l = ctx;
    if (l->oom)
        return;
    if (l->len == l->alloc) {
        size_t na = l->alloc ? l->alloc * 2 : 1024;
        struct nal *v = reallocarray(l->v, na, sizeof(*v));
        if (!v) {
            l->oom = true;
            return;
        }
        l->v = v;
        l->alloc = na;
    }
    l->v[l->len++] = (struct nal){p, n};
}

struct nal_info {
    bool vcl;
    bool first_in_pic;   /* VCL only */
    bool starts_au;      /* non-VCL that begins a new AU when it follows a VCL */
    bool key;
    int type;
};

static struct nal_info classify(enum reel_sim_codec codec, const uint8_t *p, size_t n)
{
    struct nal_info in = {0};
    if (codec == REEL_SIM_H264) {
        in.type = p[0] & 0x1f;
        in.vcl = in.type >= 1 && in.type <= 5;
        in.first_in_pic = in.vcl && n >= 2 && (p[1] & 0x80);   /* first_mb_in_slice == 0 */
        in.starts_au = in.type == 6 || in.type == 7 || in.type == 8 || in.type == 9 ||
                       (in.type >= 14 && in.type <= 18);
        in.key = in.type == 5;
    } else {
        in.type = n >= 2 ? (p[0] >> 1) & 0x3f : -1;
        in.vcl = in.type >= 0 && in.type <= 31;
        in.first_in_pic = in.vcl && n >= 3 && (p[2] & 0x80);   /* first_slice_segment_in_pic_flag */
        in.starts_au = (in.type >= 32 && in.type <= 35) || in.type == 39 ||
                       (in.type >= 41 && in.type <= 44) || (in.type >= 48 && in.type <= 55);
        in.key = in.type >= 16 && in.type <= 21;
    }
    return in;
}

size_t reel_sim_npackets(enum reel_sim_codec codec, size_t n)
{
    if (n <= REEL_SIM_MAX_PAYLOAD)
        return 1;
    size_t hdr = codec == REEL_SIM_H264 ? 1 : 2;     /* NAL header bytes replaced by the FU prefix */
    size_t chunk = REEL_SIM_MAX_PAYLOAD - (hdr + 1);
    return (n - hdr + chunk - 1) / chunk;
}

size_t reel_sim_packetise(enum reel_sim_codec codec, const uint8_t *p, size_t n, struct reel_sim_pkt *out)
{
    if (n <= REEL_SIM_MAX_PAYLOAD) {
        out[0] = (struct reel_sim_pkt){.data = p, .len = (uint32_t)n};
        return 1;
    }
    size_t hdr = codec == REEL_SIM_H264 ? 1 : 2;
    size_t chunk = REEL_SIM_MAX_PAYLOAD - (hdr + 1);
    size_t k = 0;
    for (size_t off = hdr; off < n; off += chunk, k++) {
        size_t len = n - off < chunk ? n - off : chunk;
        struct reel_sim_pkt *o = &out[k];
        *o = (struct reel_sim_pkt){.data = p + off, .len = (uint32_t)len};
        uint8_t se = (uint8_t)((off == hdr ? 0x80 : 0) | (off + len == n ? 0x40 : 0));
        if (codec == REEL_SIM_H264) {
            o->pre[0] = (uint8_t)((p[0] & 0xe0) | 28);
            o->pre[1] = (uint8_t)(se | (p[0] & 0x1f));
            o->pre_len = 2;
        } else {
            o->pre[0] = (uint8_t)((p[0] & 0x81) | (49 << 1));
            o->pre[1] = p[1];
            o->pre[2] = (uint8_t)(se | ((p[0] >> 1) & 0x3f));
            o->pre_len = 3;
        }
    }
    return k;
}

int reel_sim_clip_parse(uint8_t *buf, size_t len, enum reel_sim_codec codec,
                        struct reel_sim_clip *ret, struct reel_err *err)
{
    struct nal_list l = {0};
    struct reel_sim_clip c = {.codec = codec, .bytes = buf, .nbytes = len};
    int r;

    reel_sim_annexb_split(buf, len, collect_nal, &l);
    if (l.oom) {
        r = reel_err_set(err, ENOMEM, "clip: out of memory listing NAL units");
        goto fail;
    }

    /* Pass 1: count packets and access units, find parameter sets. */
    size_t total_pkts = 0, naus = 0;
    bool seen_vcl = false;
    for (size_t i = 0; i < l.len; i++) {
        struct nal_info in = classify(codec, l.v[i].p, l.v[i].n);
        if (seen_vcl && (in.starts_au || (in.vcl && in.first_in_pic))) {
            naus++;
            seen_vcl = false;
        }
        seen_vcl |= in.vcl;
        total_pkts += reel_sim_npackets(codec, l.v[i].n);
        const uint8_t **ps = NULL;
        size_t *psl = NULL;
        if ((codec == REEL_SIM_H264 && in.type == 7) || (codec == REEL_SIM_H265 && in.type == 33))
            ps = &c.sps, psl = &c.sps_len;
        else if ((codec == REEL_SIM_H264 && in.type == 8) || (codec == REEL_SIM_H265 && in.type == 34))
            ps = &c.pps, psl = &c.pps_len;
        else if (codec == REEL_SIM_H265 && in.type == 32)
            ps = &c.vps, psl = &c.vps_len;
        if (ps && !*ps) {
            if (l.v[i].n > REEL_SIM_MAX_PSET || l.v[i].n < 4) {
                r = reel_err_set(err, EINVAL, "clip: parameter set of %zu bytes (NAL %zu) out of range",
                                 l.v[i].n, i);
                goto fail;
            }
            *ps = l.v[i].p;
            *psl = l.v[i].n;
        }
    }
    if (seen_vcl)
        naus++;
    if (naus == 0) {
        r = reel_err_set(err, EINVAL, "clip: no coded picture (VCL NAL unit) in %zu bytes", len);
        goto fail;
    }
    if (!c.sps || !c.pps || (codec == REEL_SIM_H265 && !c.vps)) {
        r = reel_err_set(err, EINVAL, "clip: missing %s", !c.sps ? "SPS" : !c.pps ? "PPS" : "VPS");
        goto fail;
    }
    if (total_pkts > UINT32_MAX || naus > UINT32_MAX) {
        r = reel_err_set(err, EOVERFLOW, "clip: too many packets");
        goto fail;
    }

    c.pkts = calloc(total_pkts, sizeof(*c.pkts));
    c.aus = calloc(naus, sizeof(*c.aus));
    if (!c.pkts || !c.aus) {
        r = reel_err_set(err, ENOMEM, "clip: out of memory for %zu packets", total_pkts);
        goto fail;
    }

    /* Pass 2: fill. NAL units after the last VCL (no picture) are dropped. */
    struct reel_sim_au cur = {0};
    size_t np = 0, na = 0;
    seen_vcl = false;
    for (size_t i = 0; i < l.len; i++) {
        struct nal_info in = classify(codec, l.v[i].p, l.v[i].n);
        if (seen_vcl && (in.starts_au || (in.vcl && in.first_in_pic))) {
            c.pkts[np - 1].marker = true;
            c.aus[na++] = cur;
            cur = (struct reel_sim_au){.first_pkt = (uint32_t)np};
            seen_vcl = false;
        }
        seen_vcl |= in.vcl;
        cur.key |= in.key;
        size_t k = reel_sim_packetise(codec, l.v[i].p, l.v[i].n, &c.pkts[np]);
        np += k;
        cur.npkt += (uint32_t)k;
        cur.bytes += (uint32_t)l.v[i].n;
    }
    if (seen_vcl) {
        c.pkts[np - 1].marker = true;
        c.aus[na++] = cur;
    }
    c.npkts = na ? c.aus[na - 1].first_pkt + c.aus[na - 1].npkt : 0;
    c.naus = na;
    free(l.v);
    *ret = c;
    return 0;

fail:
    free(l.v);
    free(c.pkts);
    free(c.aus);
    free(buf);
    return r;
}

int reel_sim_clip_load(const char *path, enum reel_sim_codec codec,
                       struct reel_sim_clip *ret, struct reel_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return reel_err_set(err, errno, "clip %s: open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return reel_err_set(err, e, "clip %s: stat: %s", path, strerror(e));
    }
    if (st.st_size <= 0 || (uint64_t)st.st_size > REEL_SIM_CLIP_MAX_BYTES) {
        close(fd);
        return reel_err_set(err, EFBIG, "clip %s: size %lld outside 1..%u bytes", path,
                            (long long)st.st_size, REEL_SIM_CLIP_MAX_BYTES);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n);
    if (!buf) {
        close(fd);
        return reel_err_set(err, ENOMEM, "clip %s: out of memory for %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return reel_err_set(err, e, "clip %s: read at %zu: %s", path, got,
                                k < 0 ? strerror(e) : "short file");
        }
        got += (size_t)k;
    }
    close(fd);
    struct reel_err e2;
    int r = reel_sim_clip_parse(buf, n, codec, ret, &e2);
    if (r < 0)
        return reel_err_set(err, -r, "%s: %s", path, e2.msg);
    return 0;
}

void reel_sim_clip_free(struct reel_sim_clip *c)
{
    if (!c)
        return;
    free(c->bytes);
    free(c->pkts);
    free(c->aus);
    *c = (struct reel_sim_clip){0};
}

int reel_sim_clip_fmtp(const struct reel_sim_clip *c, char *out, size_t cap)
{
    char b[3][REEL_SIM_MAX_PSET * 4 / 3 + 8];
    int r;
    if ((r = reel_base64_encode(c->sps, c->sps_len, b[0], sizeof(b[0]))) < 0 ||
        (r = reel_base64_encode(c->pps, c->pps_len, b[1], sizeof(b[1]))) < 0)
        return r;
    int n;
    if (c->codec == REEL_SIM_H264) {
        n = snprintf(out, cap, "packetization-mode=1;profile-level-id=%02x%02x%02x;sprop-parameter-sets=%s,%s",
                     c->sps[1], c->sps[2], c->sps[3], b[0], b[1]);
    } else {
        if ((r = reel_base64_encode(c->vps, c->vps_len, b[2], sizeof(b[2]))) < 0)
            return r;
        n = snprintf(out, cap, "sprop-vps=%s;sprop-sps=%s;sprop-pps=%s", b[2], b[0], b[1]);
    }
    if (n < 0 || (size_t)n >= cap)
        return -EMSGSIZE;
    return n;
}
