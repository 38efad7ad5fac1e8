/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Signing of a redacted export (redact_sign.h): until the signing of
 * exports (src/proof) is merged, nothing is signed.
 */
#include "http/redact_sign.h"

int reel_redact_sign(const struct reel_redact_sign_in *in, bool *signed_, struct reel_err *err)
{
    (void)in;
    (void)err;
    *signed_ = false;
    return 0;
}
