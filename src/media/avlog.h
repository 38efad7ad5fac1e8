/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libavcodec/libswscale print their own warnings to stderr (a camera's
 * damaged slice, swscale's "deprecated pixel format"), one line per frame
 * at worst. src/media reports every failure through struct reel_err, so the
 * program silences libav's log once at start. libav's log level is
 * process-global: only a program's main calls this, never library code.
 */
#ifndef REEL_MEDIA_AVLOG_H
#define REEL_MEDIA_AVLOG_H

void reel_media_avlog_quiet(void);

#endif
