/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A lenient SDP parser (RFC 8866) for what an RTSP DESCRIBE returns: session
 * level a=control and a=tool; for each m= line the media type, port, proto
 * and payload types, with a=rtpmap (static RFC 3551 table when absent; an
 * explicit rtpmap wins), a=fmtp and a=control for the payload type chosen
 * for the media. For H.264 it decodes sprop-parameter-sets, for H.265
 * sprop-vps/sps/pps (kept only when all three are there), as hints. Lines it
 * does not understand are ignored; a media it cannot parse is skipped.
 * For audio it keeps the channel count of the rtpmap and recognises the
 * codecs Reel records (docs/audio.md): PCMU and PCMA (also as static payload
 * types 0 and 8), mpeg4-generic in mode AAC-hbr (sizelength, indexlength,
 * indexdeltalength, config = the hex AudioSpecificConfig, at most
 * REEL_AAC_CONFIG_MAX bytes) and opus; MP4A-LATM is recognised as such
 * (so that the caller can say it is unsupported).
 *
 * Caps: REEL_SDP_MEDIA_MAX media (the rest ignored), REEL_SDP_LINE_MAX bytes
 * per line (longer lines ignored), REEL_SDP_SPROP_MAX parameter sets.
 */
#ifndef REEL_RTSP_SDP_H
#define REEL_RTSP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "codec/audio_entry.h"
#include "codec/params.h"

#define REEL_SDP_MEDIA_MAX 16
#define REEL_SDP_LINE_MAX 4096
#define REEL_SDP_PT_MAX 16           /* payload types kept per m= line */
#define REEL_SDP_SPROP_MAX 8         /* parameter set NALs kept per media */
#define REEL_SDP_CONTROL_MAX 1024
#define REEL_SDP_TEXT_MAX 1024       /* a=tool, raw fmtp */

struct reel_sdp_media {
    char type[16];                   /* "video", "audio", "application", ... */
    uint16_t port;
    char proto[32];                  /* "RTP/AVP" */
    uint8_t pts[REEL_SDP_PT_MAX];
    size_t n_pts;
    /* The payload type used for this media: the first H.264/H.265 one for
     * video, else the first listed. */
    uint8_t pt;
    char encoding[32];               /* from rtpmap or the static table; "" if unknown */
    uint32_t clock_rate;             /* 0 if unknown */
    bool has_rtpmap;
    enum reel_codec codec;           /* 0 unless H264 / H265 */
    char fmtp[REEL_SDP_TEXT_MAX];    /* raw fmtp parameters for pt, "" if none */
    char control[REEL_SDP_CONTROL_MAX];  /* a=control, "" if none */
    /* H.264 / H.265 hints from fmtp */
    int packetization_mode;          /* -1 absent */
    bool has_profile_level_id;
    uint32_t profile_level_id;       /* 24 bits; hint only, may be wrong */
    uint8_t sprop[REEL_SDP_SPROP_MAX][REEL_PARAM_SET_MAX];
    size_t sprop_len[REEL_SDP_SPROP_MAX];
    size_t n_sprop;
    /* Audio (type "audio" only) */
    uint8_t channels;                /* rtpmap's third field; 0 if absent */
    enum reel_audio_codec audio_codec;   /* REEL_AUDIO_NONE unless supported (AAC: mode AAC-hbr with a config) */
    bool latm;                       /* MP4A-LATM (not supported) */
    bool aac;                        /* mpeg4-generic, whatever the mode */
    char aac_mode[16];               /* fmtp mode=, "" if absent */
    int size_length, index_length, index_delta_length;   /* -1 absent */
    uint8_t aac_config[REEL_AAC_CONFIG_MAX];
    size_t aac_config_len;           /* 0: absent or unusable */
};

struct reel_sdp {
    char control[REEL_SDP_CONTROL_MAX];  /* session-level a=control, "" if none */
    char tool[REEL_SDP_TEXT_MAX];        /* a=tool, "" if none */
    size_t n_media;
    struct reel_sdp_media media[REEL_SDP_MEDIA_MAX];
    size_t skipped_media;                /* m= lines not parsed or over the cap */
};

/* Parses text[0..len) (need not be NUL-terminated). Allocates *ret (free
 * with reel_sdp_free). -EINVAL with err when it is not SDP at all (no v= or
 * m= line), -ENOMEM. *ret untouched on failure. */
int reel_sdp_parse(const char *text, size_t len, struct reel_sdp **ret, struct reel_err *err);
void reel_sdp_free(struct reel_sdp *s);   /* NULL ok */

/* Index of the first media with codec H.264 or H.265, or -ENOENT. */
int reel_sdp_find_video(const struct reel_sdp *s);

/* Index of the first media of type audio (supported or not), or -ENOENT. */
int reel_sdp_find_audio(const struct reel_sdp *s);

/* Fuzzing entry point. */
int reel_sdp_fuzz(const uint8_t *p, size_t n);

#endif
