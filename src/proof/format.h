/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The signed-export format, shared by sign.c and verify.c (docs/accountability.md,
 * "Proof"). A signed export is an ordinary MP4 with one more top-level box at
 * its very end, a 'uuid' box (players skip boxes they do not know):
 *
 *   size (4, big endian) 'uuid' REEL_PROOF_UUID (16)
 *   payload:
 *     "RPF1"                      format and version (4)
 *     public key                  Ed25519 (32)
 *     signature                   Ed25519, detached (64), over the signed part
 *     signed part:
 *       "reel-proof-1" NUL        context (13)
 *       file bytes                big endian (8): the MP4 without this box
 *       file hash                 BLAKE2b-256 of those bytes (32)
 *       manifest                  JSON text (UTF-8, indented), the rest of the box
 *
 * The MP4 without this box is exactly the file's first "file bytes" bytes:
 * the box is last, so nothing can follow it unnoticed. The sidecar
 * FILE.sig.json carries the same box (base64, field "box") next to a copy of
 * the manifest for people; a verifier uses only the box.
 */
#ifndef REEL_PROOF_FORMAT_H
#define REEL_PROOF_FORMAT_H

#define REEL_PROOF_UUID "\x7e\x31\x5a\x2b\x8c\x44\x4f\x0d\x9a\x61\xd3\x52\x0e\x7b\xc9\x14"
#define REEL_PROOF_MAGIC "RPF1"
#define REEL_PROOF_CONTEXT "reel-proof-1" /* with its NUL: 13 bytes */
#define REEL_PROOF_CONTEXT_LEN 13
#define REEL_PROOF_HDR (8 + 16)          /* box header: size, type, uuid */
#define REEL_PROOF_FIXED (4 + 32 + 64)   /* magic, key, signature */
#define REEL_PROOF_SIGNED_FIXED (REEL_PROOF_CONTEXT_LEN + 8 + 32)
#define REEL_PROOF_BOX_MAX (16u << 20)   /* a manifest box is at most this (24 h of recordings is ~200 KiB) */
#define REEL_PROOF_SIDECAR ".sig.json"

#endif
