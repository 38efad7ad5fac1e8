/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Where a recording's scrub-preview thumbnails are cached (one pack file
 * per recording, src/media/thumbs.h): a single definition shared by the
 * thumbnail route, which writes packs, and the store's garbage collection,
 * which deletes a recording's pack with its sample file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "store/store.h"

int reel_store_thumb_path(const char *datadir, int64_t camera_id, int64_t rec_id, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/" REEL_THUMBS_DIR "/%" PRId64 "/%016" PRIx64 ".thm", datadir, camera_id,
                     (uint64_t)rec_id);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}
