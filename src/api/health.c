/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GET /api/health: public; says the server runs (for monitors and load
 * balancers).
 */
#include "api/api.h"

enum MHD_Result reel_api_health(struct reel_http_req *r)
{
    return reel_http_send_json(r, MHD_HTTP_OK, json_pack("{s:b}", "ok", 1), NULL);
}
