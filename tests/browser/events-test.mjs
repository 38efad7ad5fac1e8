// SPDX-License-Identifier: GPL-3.0-or-later
//
// The events page in Debian's chromium (src/web/events.js) against the real
// recorder and reel-sim: a viewer (PLAYBACK) sees "Events" and "Search" in
// the top bar; the camera goes offline (its reel-sim is stopped) while
// #/events is open and the camera.offline event appears without a reload
// (GET /api/events/stream), marked "ongoing"; the sim comes back on the same
// port and the same row gets its duration in place; the event is drawn on
// the timeline (its data has it, and hovering its marker says "Camera
// offline"); a click on the row opens the timeline at the event's start
// minus the pre-roll; at 390 px nothing scrolls sideways; no CSP violation
// or script error. --screenshots DIR writes events-1440.png, events-390.png
// and timeline-events-1440.png. Run with tests/browser/run.sh --events.

import fs from 'node:fs';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, loadChromium, makeHarness, requireFiles, screenshotDir, sleep, waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-events-');
const { tmp, data, start, stop, reel, logs, check } = h;
let browserCtx = null;

async function main() {
  let base;
  let simPort;
  let sim;
  const startSim = async (port) => {
    const ready = path.join(tmp, `sim-${Date.now()}.ready`);
    const p = start('sim', REEL_SIM, ['--clip', path.join(CLIPS, 'h264.264'), '--codec', 'h264', '--cameras', '2',
      '--listen', '127.0.0.1', '--port', String(port), '--ready-file', ready]);
    const got = await waitFor('sim ready file', async () => {
      const s = fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim();
      return s && Number(s);
    }, 15000);
    return [p, got];
  };
  try {
    [sim, simPort] = await startSim(0);
    reel('init');
    reel('camera', 'add', 'porch', `rtsp://127.0.0.1:${simPort}/cam/0`);
    reel('camera', 'add', 'yard', `rtsp://127.0.0.1:${simPort}/cam/1`);
    const pw = path.join(tmp, 'vic.pw');
    fs.writeFileSync(pw, 'vic-password-1\n');
    reel('user', 'add', 'vic', '--role', 'viewer', '--password-file', pw, '--cameras', 'porch,yard');
    base = await h.startReel(['--backoff-max-s', '1']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  // 416: the timeline's player asking past the end of the recording the outage closed (an
  // answer it expects and skips: timeline.js appendFrag, docs/api.md frag.m4s)
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|416|503)/);
  browserCtx = ctx;
  const shot = async (name, width) => {
    if (!shotDir) return;
    fs.mkdirSync(shotDir, { recursive: true });
    await page.setViewportSize({ width, height: width > 600 ? 900 : 844 });
    await sleep(500);
    await page.screenshot({ path: path.join(shotDir, name) });
  };

  await check('a viewer sees Events and Search in the top bar', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('User name').fill('vic');
    await page.getByLabel('Password').fill('vic-password-1');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    await page.locator('#nav-events').waitFor({ state: 'visible' });
    await page.locator('#nav-search').waitFor({ state: 'visible' });
  });

  let evId = null;
  await check('a camera going offline appears live in #/events, then ends in place', async () => {
    // footage first, so that the thumbnail and the timeline have something
    await waitFor('both cameras recording', async () => {
      const r = await page.evaluate(async () => (await fetch('/api/cameras')).json());
      return r.cameras.every((c) => /^recording/.test(c.state || ''));
    }, 30000, 300);
    await sleep(3000);
    await page.locator('#nav-events').click();
    await page.locator('#events-live[data-state="on"]').waitFor({ timeout: 15000 });
    const before = await page.locator('#events-list li').count();
    await stop(sim);
    const row = page.locator('#events-list li[data-kind="camera.offline"]').first();
    await row.waitFor({ timeout: 20000 });
    evId = Number(await row.getAttribute('data-id'));
    assert(await page.locator('#events-list li').count() > before, 'no new row');
    const t = await row.textContent();
    assert(/Camera offline/.test(t) && /(porch|yard)/.test(t) && /ongoing/.test(t), `row: ${t}`);
    // the page was not reloaded: the marker set before is still there
    [sim] = await startSim(simPort);
    await waitFor('the row ends', async () => {
      const r = page.locator(`#events-list li[data-id="${evId}"]`);
      const s = await r.textContent();
      return !/ongoing/.test(s) && /\d+ s|min/.test(s);
    }, 25000, 300);
    await shot('events-1440.png', 1440);
    await shot('events-390.png', 390);
    if (shotDir) {
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(w <= 390, `scrollWidth ${w} at 390 px`);
    }
    await page.setViewportSize({ width: 1000, height: 900 });
  });

  await check('the filters: kind motion hides it, camera.offline shows it', async () => {
    await page.locator('#events-kind').selectOption('motion');
    await waitFor('filtered', async () => (await page.locator(`#events-list li[data-id="${evId}"]`).count()) === 0, 10000);
    await page.locator('#events-kind').selectOption('camera.offline');
    await page.locator(`#events-list li[data-id="${evId}"]`).waitFor();
  });

  await check('a click opens the timeline at the event, where it is drawn and hovered', async () => {
    const row = page.locator(`#events-list li[data-id="${evId}"] button`);
    const cam = (await row.textContent()).includes('porch') ? 'porch' : 'yard';
    await row.click();
    await waitFor('the timeline', async () => /#\/timeline\?/.test(page.url()), 10000);
    const u = new URL(page.url().replace('#/timeline?', '?'));
    assert(u.searchParams.get('cams') === cam, `cams=${u.searchParams.get('cams')}`);
    const info = await waitFor('the timeline data with the event', async () => page.evaluate((id) => {
      const S = window.ReelTimeline.state;
      if (!S || !S.data) return null;
      for (const [name, d] of S.data) {
        const e = d.events.find((x) => x.id === id);
        if (e) return { name, start: e.start, kind: e.kind, end: e.end, info: window.ReelTimeline.info() };
      }
      return null;
    }, evId), 20000, 300);
    assert(info.kind === 'camera.offline' && info.end !== null, JSON.stringify(info));
    const t = Date.parse(u.searchParams.get('t'));
    assert(info.start - t >= 0 && info.start - t <= 60000, `t ${t} vs start ${info.start}`);
    // hover the marker
    const lane = info.info.lanes.find((l) => l.name === info.name);
    const box = await page.locator('.tl-bar canvas, canvas').first().boundingBox();
    const x = box.x + ((info.start - (info.info.center - info.info.span / 2)) / info.info.span) * info.info.width;
    await page.mouse.move(x, box.y + lane.y + 30 + 2);
    await waitFor('the tooltip', async () => /Camera offline/.test(await page.locator('.tl-tip').textContent()), 5000);
    await shot('timeline-events-1440.png', 1440);
    await page.setViewportSize({ width: 1000, height: 900 });
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => { if (browserCtx) await browserCtx.close().catch(() => {}); }, []);
