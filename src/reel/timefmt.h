/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Moved to base/timefmt.h (the HTTP server parses times too); this header
 * stays so that the commands' includes keep working.
 */
#ifndef REEL_REEL_TIMEFMT_H
#define REEL_REEL_TIMEFMT_H

#include "base/timefmt.h"

#endif
