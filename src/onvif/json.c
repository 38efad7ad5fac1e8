/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The JSON shapes of discovery and profiles (docs/api.md "ONVIF"), shared by
 * POST /api/onvif/discover, /profiles and `reel onvif` so that both say the same thing.
 */
#include "onvif/onvif_json.h"

json_t *reel_onvif_devices_json(const struct reel_onvif_device *d, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        json_t *sc = json_array();
        for (int k = 0; sc && k < d[i].nscopes; k++)
            json_array_append_new(sc, json_string(d[i].scopes[k]));
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:o}", "xaddr", d[i].xaddr, "address",
                                             d[i].address, "name", d[i].name, "hardware", d[i].hardware, "scopes",
                                             sc ? sc : json_array()));
    }
    return json_pack("{s:o}", "devices", arr ? arr : json_array());
}

json_t *reel_onvif_profiles_json(const struct reel_onvif_profile *p, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:s}", "token", p[i].token, "name",
                                             p[i].name, "codec", p[i].codec, "width", p[i].width, "height",
                                             p[i].height, "fps", p[i].fps, "uri", p[i].uri));
    int m, s;
    reel_onvif_suggest(p, n, &m, &s);
    return json_pack("{s:o, s:{s:o, s:o}}", "profiles", arr ? arr : json_array(), "suggest", "main",
                     m >= 0 ? json_string(p[m].uri) : json_null(), "sub", s >= 0 ? json_string(p[s].uri) : json_null());
}
