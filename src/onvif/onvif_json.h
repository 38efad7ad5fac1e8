/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * JSON of ONVIF results (json.c): {"devices":[{"xaddr","address","name",
 * "hardware","scopes":[..]}]} and {"profiles":[{"token","name","codec",
 * "width","height","fps","uri"}],"suggest":{"main":uri|null,"sub":uri|null}}.
 * New references (NULL when out of memory).
 */
#ifndef REEL_ONVIF_ONVIF_JSON_H
#define REEL_ONVIF_ONVIF_JSON_H

#include <jansson.h>

#include "onvif/onvif.h"

json_t *reel_onvif_devices_json(const struct reel_onvif_device *d, size_t n);
json_t *reel_onvif_profiles_json(const struct reel_onvif_profile *p, size_t n);

#endif
