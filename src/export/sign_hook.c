/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Signing of exported MP4s (issue 14, ac-proof): each MP4 an export job
 * writes is signed with the site key before it is zipped or published: a
 * manifest box inside (players ignore it) and path + ".sig.json" next to it
 * (export.c zips it with the MP4). See sign_hook.h for when it is called,
 * src/proof/sign.h for the manifest. A failure fails the job: an export
 * that cannot be signed is not handed out as if it were.
 */
#include "export/sign_hook.h"

#include "proof/sign_ids.h"

int reel_export_sign_hook(const struct reel_export_job_file *f, struct reel_err *err)
{
    return reel_proof_sign_export(f->datadir, f->path, f->camera, f->start90k, f->end90k, f->recordings,
                                  f->nrecordings, f->frames, f->user, f->reason, f->created_ns, err);
}
