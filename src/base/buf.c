/* SPDX-License-Identifier: GPL-3.0-or-later
 * Capped growable byte buffer. */
#include "base/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reel_buf_init(struct reel_buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void reel_buf_free(struct reel_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->alloc = 0;
}

int reel_buf_reserve(struct reel_buf *b, size_t n)
{
    if (n > b->cap || b->len > b->cap - n)
        return -EMSGSIZE;
    size_t need = b->len + n;
    if (need <= b->alloc)
        return 0;
    size_t na = b->alloc ? b->alloc : 256;
    while (na < need)
        na = na > SIZE_MAX / 2 ? need : na * 2;
    if (na > b->cap)
        na = b->cap;
    uint8_t *p = realloc(b->data, na);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->alloc = na;
    return 0;
}

int reel_buf_append(struct reel_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int r = reel_buf_reserve(b, n);
    if (r < 0)
        return r;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int reel_buf_append_u8(struct reel_buf *b, uint8_t v) { return reel_buf_append(b, &v, 1); }

int reel_buf_append_be16(struct reel_buf *b, uint16_t v)
{
    uint8_t x[2];
    reel_wr_be16(x, v);
    return reel_buf_append(b, x, 2);
}

int reel_buf_append_be32(struct reel_buf *b, uint32_t v)
{
    uint8_t x[4];
    reel_wr_be32(x, v);
    return reel_buf_append(b, x, 4);
}

int reel_buf_append_be64(struct reel_buf *b, uint64_t v)
{
    int r = reel_buf_append_be32(b, (uint32_t)(v >> 32));
    return r < 0 ? r : reel_buf_append_be32(b, (uint32_t)v);
}

int reel_buf_printf(struct reel_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    int r = reel_buf_reserve(b, (size_t)n + 1);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void reel_buf_consume(struct reel_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

int reel_array_grow(void *arrp, size_t *alloc, size_t n, size_t elem, size_t first)
{
    if (n < *alloc)
        return 0;
    size_t na = *alloc ? *alloc : (first ? first : 8);
    while (na <= n) {
        if (na > SIZE_MAX / 2)
            return -EOVERFLOW;
        na *= 2;
    }
    if (na > SIZE_MAX / elem)
        return -EOVERFLOW;
    void *old;
    memcpy(&old, arrp, sizeof(old));
    void *p = realloc(old, na * elem);
    if (!p)
        return -ENOMEM;
    memcpy(arrp, &p, sizeof(p));
    *alloc = na;
    return 0;
}
