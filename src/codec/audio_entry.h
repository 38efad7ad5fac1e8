/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Audio parameters and the ISO BMFF AudioSampleEntry box an MP4 needs to
 * decode audio samples, for the codecs Reel records (docs/audio.md): AAC
 * ('mp4a' with an 'esds' holding the AudioSpecificConfig, ISO/IEC 14496-14),
 * Opus ('Opus' with 'dOps', "Encapsulation of Opus in ISO Base Media File
 * Format") and G.711 ('ulaw' / 'alaw', a bare SoundSampleEntry). The store
 * keeps the box as an opaque sample entry (CONTRACTS section 5): width =
 * channels, height = 0, the codec string below. Pure functions; no I/O.
 */
#ifndef REEL_CODEC_AUDIO_ENTRY_H
#define REEL_CODEC_AUDIO_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

enum reel_audio_codec {
    REEL_AUDIO_NONE = 0,
    REEL_AUDIO_AAC,        /* RTP mpeg4-generic, mode AAC-hbr (RFC 3640) */
    REEL_AUDIO_PCMU,       /* G.711 µ-law */
    REEL_AUDIO_PCMA,       /* G.711 A-law */
    REEL_AUDIO_OPUS,       /* RFC 7587 */
};

#define REEL_AAC_CONFIG_MAX 64        /* AudioSpecificConfig bytes kept */
#define REEL_AUDIO_ENTRY_MAX 256      /* the largest sample entry built */

struct reel_audio_params {
    enum reel_audio_codec codec;
    uint32_t sample_rate;             /* Hz, as written in the sample entry */
    uint8_t channels;
    uint32_t samples_per_au;          /* AAC: 1024 or 960; 0 for the others (RTP timestamps rule) */
    char codec_string[16];            /* "mp4a.40.2", "opus", "ulaw", "alaw" */
    uint8_t sample_entry[REEL_AUDIO_ENTRY_MAX];
    size_t sample_entry_len;
};

/* Name of the codec for log lines ("AAC", "PCMU", ...). */
const char *reel_audio_codec_name(enum reel_audio_codec c);

/* Builds *ret. rate and channels come from the SDP rtpmap (channels 0 is
 * taken as 1); for AAC, asc[0..asc_len) is the AudioSpecificConfig (the
 * fmtp config=), which wins over the rtpmap for rate and channels and is
 * required. -EINVAL with err for an unusable config, channels over 8, a
 * rate of 0; *ret untouched on failure. */
int reel_audio_params_build(enum reel_audio_codec codec, uint32_t rate, unsigned channels,
                            const uint8_t *asc, size_t asc_len, struct reel_audio_params *ret,
                            struct reel_err *err);

/* Parses the start of an AudioSpecificConfig: audio object type (with the
 * escape), sampling rate (index or explicit), channel configuration and the
 * GASpecificConfig frameLengthFlag (1024 or 960 samples per AU). */
struct reel_aac_config {
    unsigned object_type;
    uint32_t sample_rate;
    unsigned channel_config;
    uint32_t frame_length;
};
int reel_aac_config_parse(const uint8_t *asc, size_t len, struct reel_aac_config *ret,
                          struct reel_err *err);

#endif
