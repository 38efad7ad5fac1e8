/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "api/api.h"
enum MHD_Result reel_api_recordings_list(struct reel_http_req *r) { return reel_http_send_error(r, 501, "todo"); }
enum MHD_Result reel_api_init_mp4(struct reel_http_req *r) { return reel_http_send_error(r, 501, "todo"); }
enum MHD_Result reel_api_frag(struct reel_http_req *r) { return reel_http_send_error(r, 501, "todo"); }
