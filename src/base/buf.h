/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A growable byte buffer with a hard cap. Every buffer whose size input can
 * influence is a reel_buf with a cap: appending past the cap fails with
 * -EMSGSIZE and leaves the buffer unchanged.
 *
 * Ownership: the buffer owns .data; reel_buf_free() releases it. A zeroed
 * struct with .cap set (or reel_buf_init()) is a valid empty buffer.
 */
#ifndef REEL_BASE_BUF_H
#define REEL_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

struct reel_buf {
    uint8_t *data;
    size_t len;
    size_t alloc;
    size_t cap;      /* len never exceeds cap */
};

void reel_buf_init(struct reel_buf *b, size_t cap);
void reel_buf_free(struct reel_buf *b);
/* Makes room for n more bytes. 0, -EMSGSIZE (over the cap), -ENOMEM. */
int reel_buf_reserve(struct reel_buf *b, size_t n);
int reel_buf_append(struct reel_buf *b, const void *p, size_t n);
int reel_buf_append_u8(struct reel_buf *b, uint8_t v);
int reel_buf_append_be16(struct reel_buf *b, uint16_t v);
int reel_buf_append_be32(struct reel_buf *b, uint32_t v);
int reel_buf_append_be64(struct reel_buf *b, uint64_t v);
int reel_buf_printf(struct reel_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes (n <= len). */
void reel_buf_consume(struct reel_buf *b, size_t n);
static inline void reel_buf_reset(struct reel_buf *b) { b->len = 0; }

/* Makes room in a malloc'd array for element index n (n + 1 elements of
 * elem bytes), doubling the capacity from `first`. arrp is the address of
 * the array pointer (e.g. &v for `struct x *v`), *alloc its capacity in
 * elements. 0, or -ENOMEM / -EOVERFLOW with the array left as it was. */
int reel_array_grow(void *arrp, size_t *alloc, size_t n, size_t elem, size_t first);

static inline uint16_t reel_rd_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t reel_rd_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void reel_wr_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void reel_wr_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif
