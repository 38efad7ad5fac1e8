// SPDX-License-Identifier: GPL-3.0-or-later
//
// A signed export (issue 14) still plays in chromium: the manifest box at the
// end of the MP4 is a top-level 'uuid' box that players skip. Records a few
// seconds from reel-sim, `reel export` (signed by default), checks it with
// reel-verify, then plays it in a <video> from a file:// page: it must reach
// HAVE_ENOUGH_DATA, advance, show 1920-wide frames and report no error.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { REEL, assert, loadChromium, makeHarness, waitFor } from './harness.mjs';

const REEL_VERIFY = process.env.REEL_VERIFY || path.join(path.dirname(REEL), '../proof/reel-verify');
const h = makeHarness('reel-proof-');
let ctx = null;

async function main() {
  const chromium = await loadChromium();
  h.reel('init');
  const port = await h.startSim('sim', 'h264', '264');
  h.reel('camera', 'add', 'front', `rtsp://127.0.0.1:${port}/cam/0`);
  h.start('reel', REEL, ['-d', h.data, 'run', '--no-http', '--rotate-s', '2']);
  await waitFor('two recordings', async () => {
    const r = spawnSync(REEL, ['-d', h.data, 'recordings', '--camera', 'front'], { encoding: 'utf8' });
    return (r.stdout.match(/blake2b=/g) || []).length >= 2;
  }, 40000, 250);
  const mp4 = path.join(h.tmp, 'signed.mp4');
  h.reel('export', '--camera', 'front', '--from', '-60s', '--to', 'now', '-o', mp4, '--reason', 'browser test');

  await h.check('the export is signed and verifies', async () => {
    assert(fs.existsSync(`${mp4}.sig.json`), 'no sidecar');
    const r = spawnSync(REEL_VERIFY, [mp4, '--pub', path.join(h.data, 'site.pub')], { encoding: 'utf8' });
    assert(r.status === 0, `reel-verify: ${r.stdout}${r.stderr}`);
  });

  await h.check('the signed export plays in chromium', async () => {
    fs.writeFileSync(path.join(h.tmp, 'play.html'),
      '<!doctype html><video id="v" src="signed.mp4" muted autoplay playsinline></video>');
    ctx = await chromium.launch({ executablePath: process.env.REEL_CHROMIUM || '/usr/bin/chromium', headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files',
        '--autoplay-policy=no-user-gesture-required'] });
    const page = await ctx.newPage();
    await page.goto(`file://${path.join(h.tmp, 'play.html')}`);
    const state = () => page.evaluate(() => {
      const v = document.getElementById('v');
      return { rs: v.readyState, t: v.currentTime, w: v.videoWidth, err: v.error && `${v.error.code} ${v.error.message}` };
    });
    await waitFor('playing past 1 s', async () => {
      const s = await state();
      if (s.err) throw new Error(`video error ${s.err}`);
      return s.rs >= 3 && s.t > 1 ? s : null;
    }, 30000, 200);
    const s = await state();
    assert(s.w > 0, `no frame size: ${JSON.stringify(s)}`);
    assert(!s.err, s.err);
  });
}

await h.runMain(main, async () => { if (ctx) await ctx.close().catch(() => {}); }, []);
