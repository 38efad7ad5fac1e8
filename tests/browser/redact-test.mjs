// SPDX-License-Identifier: GPL-3.0-or-later
//
// The redaction editor (src/web/redact.js, #/redact?camera=..&start=..&end=..)
// in Debian's chromium against the real recorder and reel-sim: an
// administrator opens a 10 s range, draws box 1 at 1 s and moves it at 8 s
// (two key points: the preview between them is interpolated), draws box 2
// at 2 s, makes it a black fill and resizes it at 9 s; types a reason,
// starts the export, sees the progress end in a download link; the
// downloaded MP4 decodes (ffmpeg) and at 2 s the fill box's area is black
// while the picture outside is not. The "Redacted export…" action is in
// window.ReelTimeline.actions; at 390 px the page does not scroll sideways;
// no CSP violation or script error. --screenshots DIR writes
// redact-editor.png (1440x900) and redact-phone.png (390x844) there.
// Run with tests/browser/run.sh --redact.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, loadChromium, makeHarness, requireFiles, screenshotDir, sleep, waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-redact-');
const { tmp, data, start, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

/* [wall90k] of the stored frames of cam0. */
function frames() {
  const r = spawnSync(REEL, ['-d', data, 'frames', '--camera', 'cam0'], { encoding: 'utf8', timeout: 30000 });
  return (r.stdout || '').split('\n').filter(Boolean).map((l) => Number(l.split(/\s+/)[1]));
}

async function main() {
  let base, account;
  try {
    const simPort = await startSim('sim', 'h264', '264');
    reel('init');
    account = readInitialPassword();
    assert(account.password, 'no initial-admin-password file after reel init');
    reel('camera', 'add', 'cam0', `rtsp://127.0.0.1:${simPort}/cam/0`);
    base = await h.startReel(['--rotate-s', '4', '--checkpoint-ms', '300']);
    await waitFor('12 s recorded', async () => {
      const f = frames();
      return f.length && f[f.length - 1] - f[0] >= 12 * 90000;
    }, 60000, 500);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel-sim, reel init, reel run --http)\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  const f = frames();
  const s0 = Math.ceil(f[0] / 90000) + 1;          /* whole seconds, inside the footage */
  const startIso = new Date(s0 * 1000).toISOString();
  const endIso = new Date((s0 + 10) * 1000).toISOString();

  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|503)/, 30000);
  browserCtx = ctx;
  await page.setViewportSize({ width: 1440, height: 900 });

  await check('sign in and open the editor for a 10 s range', async () => {
    await page.goto(`${base}/`);
    await page.fill('#username', account.user);
    await page.fill('#password', account.password);
    await page.click('#login-submit');
    await page.locator('#who').waitFor();
    assert(await page.locator('#nav-redact').isVisible(), 'no Redact link for an admin');
    await page.goto(`${base}/#/redact?camera=cam0&start=${encodeURIComponent(startIso)}&end=${encodeURIComponent(endIso)}`);
    await page.locator('#redact-video').waitFor();
    await page.waitForFunction(() => document.getElementById('redact-video').readyState >= 2, null, { timeout: 30000 });
    const acts = await page.evaluate(() => (window.ReelTimeline.actions || []).map((a) => `${a.id}:${a.label}`));
    assert(acts.includes('redact:Redacted export…'), `timeline actions: ${acts}`);
  });

  const seek = async (t) => {
    await page.evaluate((tt) => new Promise((res) => {
      const v = document.getElementById('redact-video');
      v.pause();
      const done = () => { v.removeEventListener('seeked', done); res(); };
      v.addEventListener('seeked', done);
      setTimeout(done, 3000);
      v.currentTime = tt;
    }), t);
    await sleep(100);
  };
  const box = async () => page.locator('#redact-overlay').boundingBox();
  const drag = async (x0, y0, x1, y1) => {
    const b = await box();
    await page.mouse.move(b.x + x0 * b.width, b.y + y0 * b.height);
    await page.mouse.down();
    for (let i = 1; i <= 5; i++) {
      await page.mouse.move(b.x + (x0 + (x1 - x0) * i / 5) * b.width, b.y + (y0 + (y1 - y0) * i / 5) * b.height);
    }
    await page.mouse.up();
  };
  const rectOf = async (i) => page.evaluate((k) => {
    const o = document.getElementById('redact-overlay').getBoundingClientRect();
    const e = document.querySelector(`.redact-box[data-box="${k}"]`).getBoundingClientRect();
    return { x: (e.left - o.left) / o.width, y: (e.top - o.top) / o.height, w: e.width / o.width, h: e.height / o.height };
  }, i);

  await check('draw two boxes with key points; the preview moves between them', async () => {
    await seek(1);
    await drag(0.10, 0.10, 0.35, 0.45);                    /* box 1 at 1 s */
    await seek(8);
    await drag(0.22, 0.27, 0.52, 0.47);                    /* grab box 1's middle, move it +0.30, +0.20 at 8 s */
    await seek(2);
    await drag(0.60, 0.50, 0.85, 0.85);                    /* box 2 at 2 s */
    await page.locator('#redact-boxes li').nth(1).locator('select').selectOption('fill');
    await seek(9);
    const r2 = await rectOf(1);
    const b = await box();
    await page.mouse.move(b.x + (r2.x + r2.w) * b.width - 1, b.y + (r2.y + r2.h) * b.height - 1);   /* the handle */
    await page.mouse.down();
    await page.mouse.move(b.x + (r2.x + r2.w - 0.08) * b.width, b.y + (r2.y + r2.h - 0.05) * b.height, { steps: 4 });
    await page.mouse.up();
    const items = await page.locator('#redact-boxes li').allTextContents();
    assert(items.length === 2, `boxes listed: ${items}`);
    assert(/2 key points/.test(items[0]) && /2 key points/.test(items[1]), `key points: ${items}`);
    await seek(4.5);                                        /* half way between 1 s and 8 s */
    const r1 = await rectOf(0);
    assert(Math.abs(r1.x - 0.25) < 0.03 && Math.abs(r1.y - 0.20) < 0.03, `box 1 at 4.5 s: ${JSON.stringify(r1)}`);
    assert(await page.locator('.redact-box.fill').count() === 1, 'box 2 is not a fill');
    if (shotDir) {
      fs.mkdirSync(shotDir, { recursive: true });
      await page.locator('#redact-reason').fill('Subject access request 2026-117 (disclosure to the data subject)');
      await page.screenshot({ path: path.join(shotDir, 'redact-editor.png') });
    }
  });

  await check('390 px wide: no sideways scroll', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const sw = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(sw <= 391, `scrollWidth ${sw}`);
    if (shotDir) await page.screenshot({ path: path.join(shotDir, 'redact-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  let file = null;
  await check('export with a reason: progress, then a download', async () => {
    await page.locator('#redact-reason').fill('Subject access request 2026-117');
    await page.click('#redact-start');
    await page.locator('#redact-download').waitFor({ state: 'visible', timeout: 120000 });
    const st = await page.locator('#redact-status').textContent();
    assert(/Done: \d+ frames/.test(st), `status: ${st}`);
    assert(await page.locator('#redact-progress').evaluate((p) => p.value) === 1, 'progress not full');
    const href = await page.locator('#redact-download').getAttribute('href');
    const bytes = await page.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer())), href);
    file = path.join(tmp, 'redacted.mp4');
    fs.writeFileSync(file, Buffer.from(bytes));
    assert(bytes.length > 10000, `download of ${bytes.length} bytes`);
  });

  await check('the download decodes and box 2 covers its area in black', async () => {
    assert(file, 'no file');
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', file],
      { encoding: 'utf8' });
    const [w, hh] = probe.stdout.trim().split(',').map(Number);
    assert(w > 0 && hh > 0, `ffprobe: ${probe.stdout}${probe.stderr}`);
    const r = spawnSync('ffmpeg', ['-v', 'error', '-ss', '2.0', '-i', file, '-frames:v', '1', '-f', 'rawvideo',
      '-pix_fmt', 'gray', '-'], { maxBuffer: 64 << 20 });
    const y = r.stdout;
    assert(y && y.length === w * hh, `decoded ${y && y.length} bytes, expected ${w * hh}: ${r.stderr}`);
    /* box 2 at 2 s: drawn from (0.60, 0.50) to (0.85, 0.85); 4 px in from its edges */
    const x0 = Math.ceil(0.60 * w) + 4, x1 = Math.floor(0.85 * w) - 4;
    const y0 = Math.ceil(0.50 * hh) + 4, y1 = Math.floor(0.85 * hh) - 4;
    let inside = 0, n = 0, outside = 0, m = 0;
    for (let j = 0; j < hh; j++) {
      for (let i = 0; i < w; i++) {
        const v = y[j * w + i];
        if (i >= x0 && i < x1 && j >= y0 && j < y1) { inside += v; n++; }
        else if (i < 0.55 * w && j > 0.55 * hh) { outside += v; m++; }
      }
    }
    assert(inside / n < 24, `mean luma inside the fill box ${inside / n}`);
    assert(outside / m > 40, `the picture outside is dark too (${outside / m}): not a real check`);
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => {
  if (browserCtx) await browserCtx.close().catch(() => {});
}, []);
