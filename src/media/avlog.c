/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "media/avlog.h"

#include <libavutil/log.h>

void reel_media_avlog_quiet(void)
{
    av_log_set_level(AV_LOG_FATAL);
}
