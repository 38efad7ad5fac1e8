/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Audio sample entries for the MP4 side: 'mp4a'+'esds' (AAC), 'Opus'+'dOps'
 * and the G.711 'ulaw'/'alaw' SoundSampleEntry, built into a fixed buffer.
 * See audio_entry.h.
 */
#include "codec/audio_entry.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "codec/bitreader.h"

static const uint32_t aac_rates[13] = {
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
};

const char *reel_audio_codec_name(enum reel_audio_codec c)
{
    switch (c) {
    case REEL_AUDIO_AAC: return "AAC";
    case REEL_AUDIO_PCMU: return "PCMU";
    case REEL_AUDIO_PCMA: return "PCMA";
    case REEL_AUDIO_OPUS: return "Opus";
    case REEL_AUDIO_NONE: break;
    }
    return "none";
}

int reel_aac_config_parse(const uint8_t *asc, size_t len, struct reel_aac_config *ret,
                          struct reel_err *err)
{
    if (!asc || len < 2)
        return reel_err_set(err, EINVAL, "AAC: AudioSpecificConfig of %zu bytes is too short", len);
    struct reel_bitreader br;
    reel_br_init(&br, asc, len);
    struct reel_aac_config c = { 0 };
    c.object_type = reel_br_u(&br, 5);
    if (c.object_type == 31)
        c.object_type = 32 + reel_br_u(&br, 6);
    unsigned idx = reel_br_u(&br, 4);
    if (idx == 15)
        c.sample_rate = reel_br_u(&br, 24);
    else if (idx < 13)
        c.sample_rate = aac_rates[idx];
    c.channel_config = reel_br_u(&br, 4);
    c.frame_length = 1024;
    /* GASpecificConfig for the object types that have it (AAC main, LC,
     * SSR, LTP, scalable, TwinVQ): its first bit is frameLengthFlag. */
    if (c.object_type == 1 || c.object_type == 2 || c.object_type == 3 || c.object_type == 4 ||
        c.object_type == 6 || c.object_type == 7) {
        if (reel_br_left(&br) >= 1 && reel_br_flag(&br))
            c.frame_length = 960;
    }
    if (!reel_br_ok(&br))
        return reel_err_set(err, EINVAL, "AAC: AudioSpecificConfig truncated");
    if (c.object_type == 0 || c.sample_rate == 0)
        return reel_err_set(err, EINVAL, "AAC: AudioSpecificConfig with object type %u, sampling "
                            "index %u", c.object_type, idx);
    if (c.channel_config == 0 || c.channel_config > 7)
        return reel_err_set(err, EINVAL, "AAC: channel configuration %u is not supported",
                            c.channel_config);
    *ret = c;
    return 0;
}

/* A tiny bounded writer over the params' fixed buffer. */
struct w {
    uint8_t *p;
    size_t len, cap;
    bool over;
};

static void put(struct w *w, const void *p, size_t n)
{
    if (w->over || n > w->cap - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}
static void u8(struct w *w, uint8_t v) { put(w, &v, 1); }
static void be16(struct w *w, uint16_t v)
{
    uint8_t b[2];
    reel_wr_be16(b, v);
    put(w, b, 2);
}
static void be32(struct w *w, uint32_t v)
{
    uint8_t b[4];
    reel_wr_be32(b, v);
    put(w, b, 4);
}
static size_t box_begin(struct w *w, const char *type)
{
    size_t at = w->len;
    be32(w, 0);
    put(w, type, 4);
    return at;
}
static void box_end(struct w *w, size_t at)
{
    if (!w->over)
        reel_wr_be32(w->p + at, (uint32_t)(w->len - at));
}

/* SampleEntry + AudioSampleEntry (version 0) fields after the box header. */
static void audio_fields(struct w *w, unsigned channels, uint32_t rate)
{
    static const uint8_t zero6[6];
    put(w, zero6, 6);                 /* reserved */
    be16(w, 1);                       /* data_reference_index */
    be32(w, 0);                       /* reserved[2] */
    be32(w, 0);
    be16(w, (uint16_t)channels);      /* channelcount */
    be16(w, 16);                      /* samplesize */
    be16(w, 0);                       /* pre_defined */
    be16(w, 0);                       /* reserved */
    be32(w, rate <= 0xffff ? rate << 16 : 0);   /* samplerate, 16.16 */
}

/* An MPEG-4 descriptor header: tag and the size in 7-bit groups (one byte
 * when it fits, which is always the case for what is built here). */
static void desc(struct w *w, uint8_t tag, size_t size)
{
    u8(w, tag);
    if (size < 0x80) {
        u8(w, (uint8_t)size);
    } else {
        u8(w, (uint8_t)(0x80 | (size >> 7)));
        u8(w, (uint8_t)(size & 0x7f));
    }
}

static size_t desc_len(size_t size) { return (size < 0x80 ? 2 : 3) + size; }

static void esds(struct w *w, const uint8_t *asc, size_t asc_len)
{
    size_t at = box_begin(w, "esds");
    be32(w, 0);                                   /* version 0, flags */
    size_t dsi = desc_len(asc_len);               /* DecoderSpecificInfo */
    size_t dcd = desc_len(13 + dsi);              /* DecoderConfigDescriptor */
    size_t slc = desc_len(1);                     /* SLConfigDescriptor */
    desc(w, 0x03, 3 + dcd + slc);                 /* ES_Descriptor */
    be16(w, 0);                                   /* ES_ID */
    u8(w, 0);                                     /* no dependency, URL, OCR */
    desc(w, 0x04, 13 + dsi);
    u8(w, 0x40);                                  /* objectTypeIndication: MPEG-4 audio */
    u8(w, 0x15);                                  /* streamType audio (5) << 2 | upStream 0 | reserved 1 */
    u8(w, 0);                                     /* bufferSizeDB, 24 bits */
    be16(w, 0);
    be32(w, 0);                                   /* maxBitrate */
    be32(w, 0);                                   /* avgBitrate */
    desc(w, 0x05, asc_len);
    put(w, asc, asc_len);
    desc(w, 0x06, 1);
    u8(w, 0x02);                                  /* predefined: MP4 */
    box_end(w, at);
}

/* OpusSpecificBox: a plain Box (no version/flags). Channel mapping family 0
 * (mono or stereo), no pre-skip known from RTP, gain 0. */
static void dops(struct w *w, unsigned channels, uint32_t input_rate)
{
    size_t at = box_begin(w, "dOps");
    u8(w, 0);                                     /* Version */
    u8(w, (uint8_t)channels);                     /* OutputChannelCount */
    be16(w, 0);                                   /* PreSkip */
    be32(w, input_rate);                          /* InputSampleRate */
    be16(w, 0);                                   /* OutputGain */
    u8(w, 0);                                     /* ChannelMappingFamily */
    box_end(w, at);
}

int reel_audio_params_build(enum reel_audio_codec codec, uint32_t rate, unsigned channels,
                            const uint8_t *asc, size_t asc_len, struct reel_audio_params *ret,
                            struct reel_err *err)
{
    struct reel_audio_params p;
    memset(&p, 0, sizeof(p));
    p.codec = codec;
    if (channels == 0)
        channels = 1;
    struct w w = { p.sample_entry, 0, sizeof(p.sample_entry), false };
    size_t at;
    switch (codec) {
    case REEL_AUDIO_AAC: {
        struct reel_aac_config ac;
        int r = reel_aac_config_parse(asc, asc_len, &ac, err);
        if (r < 0)
            return r;
        if (asc_len > REEL_AAC_CONFIG_MAX)
            return reel_err_set(err, EINVAL, "AAC: AudioSpecificConfig of %zu bytes is over the "
                                "%d-byte cap", asc_len, REEL_AAC_CONFIG_MAX);
        rate = ac.sample_rate;
        channels = ac.channel_config == 7 ? 8 : ac.channel_config;
        p.samples_per_au = ac.frame_length;
        snprintf(p.codec_string, sizeof(p.codec_string), "mp4a.40.%u", ac.object_type);
        at = box_begin(&w, "mp4a");
        audio_fields(&w, channels, rate);
        esds(&w, asc, asc_len);
        box_end(&w, at);
        break;
    }
    case REEL_AUDIO_OPUS:
        /* RFC 7587: always "opus/48000/2" in the SDP whatever the stream
         * holds; the decoder outputs stereo for mono packets too. */
        if (channels > 2)
            channels = 2;
        snprintf(p.codec_string, sizeof(p.codec_string), "opus");
        at = box_begin(&w, "Opus");
        audio_fields(&w, channels, 48000);
        dops(&w, channels, rate ? rate : 48000);
        box_end(&w, at);
        rate = 48000;
        break;
    case REEL_AUDIO_PCMU:
    case REEL_AUDIO_PCMA:
        if (rate == 0)
            rate = 8000;
        snprintf(p.codec_string, sizeof(p.codec_string), codec == REEL_AUDIO_PCMU ? "ulaw" : "alaw");
        at = box_begin(&w, codec == REEL_AUDIO_PCMU ? "ulaw" : "alaw");
        audio_fields(&w, channels, rate);
        box_end(&w, at);
        break;
    default:
        return reel_err_set(err, EINVAL, "unsupported audio codec");
    }
    if (rate == 0 || rate > 0xffff)
        return reel_err_set(err, EINVAL, "%s: sample rate %u is not supported",
                            reel_audio_codec_name(codec), (unsigned)rate);
    if (channels > 8)
        return reel_err_set(err, EINVAL, "%s: %u channels is over the cap of 8",
                            reel_audio_codec_name(codec), channels);
    if (w.over)
        return reel_err_set(err, EINVAL, "%s: sample entry over %d bytes",
                            reel_audio_codec_name(codec), REEL_AUDIO_ENTRY_MAX);
    p.sample_rate = rate;
    p.channels = (uint8_t)channels;
    p.sample_entry_len = w.len;
    *ret = p;
    return 0;
}
