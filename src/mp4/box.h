/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A small ISO BMFF box writer over a capped struct reel_buf. Boxes nest: open
 * one, write its fields, open children, close it, and its 32-bit size is
 * patched in place. Errors are sticky: after the first failure (over the cap,
 * out of memory, nesting too deep, a box over 4 GiB) every later call is a
 * no-op and reel_boxw_finish() reports the first error, so a builder can write
 * a whole tree and check once.
 *
 * Ownership: the writer owns w->buf; reel_boxw_free() releases it, or the
 * caller takes w->buf.data over (then sets it to NULL) after a successful
 * reel_boxw_finish().
 */
#ifndef REEL_MP4_BOX_H
#define REEL_MP4_BOX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define REEL_BOX_DEPTH_MAX 16

struct reel_boxw {
    struct reel_buf buf;
    int err;                              /* first error (negative errno) or 0 */
    size_t open[REEL_BOX_DEPTH_MAX];      /* start offsets of the open boxes */
    size_t depth;
};

void reel_boxw_init(struct reel_boxw *w, size_t cap);
void reel_boxw_free(struct reel_boxw *w);

/* Opens a box (size placeholder + type); type is 4 characters. */
void reel_box_open(struct reel_boxw *w, const char *type);
/* Opens a full box: header, then version (8 bits) and flags (24 bits). */
void reel_box_open_full(struct reel_boxw *w, const char *type, uint8_t version, uint32_t flags);
/* Closes the innermost open box, patching its size. -EFBIG (sticky) when the
 * box exceeds 32 bits, -EINVAL when no box is open. */
void reel_box_close(struct reel_boxw *w);
/* Writes a box header for a box whose payload of payload_len bytes lives
 * elsewhere (e.g. 'mdat'): 8 bytes, or 16 with a 64-bit largesize when the
 * box would exceed 32 bits. Returns the header length written (8 or 16). */
size_t reel_box_header_ext(struct reel_boxw *w, const char *type, uint64_t payload_len);

void reel_box_u8(struct reel_boxw *w, uint8_t v);
void reel_box_u16(struct reel_boxw *w, uint16_t v);
void reel_box_u32(struct reel_boxw *w, uint32_t v);
void reel_box_u64(struct reel_boxw *w, uint64_t v);
/* Writes v as 32 bits (version 0 box) or 64 bits (version 1). */
void reel_box_uv(struct reel_boxw *w, uint8_t version, uint64_t v);
void reel_box_fourcc(struct reel_boxw *w, const char *type);
void reel_box_bytes(struct reel_boxw *w, const void *p, size_t n);
void reel_box_zeros(struct reel_boxw *w, size_t n);
/* Reserves room for n more bytes (a hint for big tables; sticky on error). */
void reel_box_reserve(struct reel_boxw *w, size_t n);

/* 0 when every call succeeded and all boxes are closed; otherwise the first
 * error (-EMSGSIZE over the cap, -ENOMEM, -EFBIG, -EINVAL). */
int reel_boxw_finish(const struct reel_boxw *w);

#endif
