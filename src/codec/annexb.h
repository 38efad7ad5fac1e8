/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Annex-B byte streams (NAL units separated by 00 00 01 / 00 00 00 01 start
 * codes) and a digest over the picture data of an access unit.
 */
#ifndef REEL_CODEC_ANNEXB_H
#define REEL_CODEC_ANNEXB_H

#include <stddef.h>
#include <stdint.h>

#include "codec/params.h"

/* One NAL unit; p points into the caller's buffer (borrowed). */
struct reel_nal {
    const uint8_t *p;
    size_t len;
};

/* Iterates over the NAL units of an Annex-B buffer. *pos starts at 0. Bytes
 * before the first start code, if any and not all zero, count as a NAL unit
 * (a payload that is a bare NAL followed by more start-coded ones); zero
 * bytes in front of a start code (trailing_zero_8bits, 4-byte start codes)
 * are not part of the NAL unit before it. Empty NAL units are skipped.
 * Returns 1 and sets *ret, or 0 at the end. */
int reel_annexb_next(const uint8_t *buf, size_t len, size_t *pos, struct reel_nal *ret);

/* Splits buf into at most max NAL units stored in ret[] (pointers into buf).
 * Returns the number found, or -EMSGSIZE if there are more than max (ret[]
 * then holds the first max). */
int reel_annexb_split(const uint8_t *buf, size_t len, struct reel_nal *ret, size_t max);

#define REEL_VCL_DIGEST_LEN 32

/* SHA-256 over the VCL NAL units only (H.264 types 1..5, H.265 types 0..31)
 * of an access unit given as 4-byte big-endian length-prefixed NAL units
 * (struct reel_au data, or an MP4 sample). Each VCL NAL unit is fed to the
 * hash as its 4-byte big-endian length followed by its bytes, both without
 * trailing zero bytes (trailing_zero_8bits, which packagers keep or drop); parameter sets,
 * SEI and AUDs are left out, so a frame can be compared between what a test
 * sent and what Reel stored, whatever non-picture NAL units travelled with it.
 * Returns 0 and fills ret (32 bytes), -EBADMSG if a length prefix runs past
 * the end, -ENOMEM / -EIO if libcrypto fails. */
int reel_vcl_digest(enum reel_codec codec, const uint8_t *au, size_t len,
                    uint8_t ret[REEL_VCL_DIGEST_LEN]);

#endif
