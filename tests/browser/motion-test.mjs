// SPDX-License-Identifier: GPL-3.0-or-later
//
// A camera's motion settings and motion search in Debian's chromium
// (src/web/motion.js, search.js) against the real recorder and reel-sim:
// an administrator opens "Motion" from the admin camera row, turns detection
// on, draws a zone (4 clicks + Finish) and a mask (3 clicks, then a click on
// the first point) over the snapshot, drags a point, names the zone, saves;
// after a reload both are there as drawn (page and GET .../motion); a viewer
// sees the page read-only (no Save, no drawing); motion search with a region
// dragged over the grid finds the clip's moving box (after a whole loop of the
// clip, detection is turned off, which writes the minute's grid) and shows the
// answer's took_ms, and a moment opens the timeline; at 390 px nothing scrolls sideways; no CSP
// violation or script error. --screenshots DIR writes motion-1440.png,
// motion-390.png, search-1440.png, search-390.png. Run with
// tests/browser/run.sh --motion.

import fs from 'node:fs';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, loadChromium, makeHarness, requireFiles, screenshotDir, signInAt, sleep, waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
/* the motion clip (a box moving at known times, tests/data/make-clips.sh), else the plain one */
const clip = process.env.REEL_MOTION_CLIP ||
  [path.join(CLIPS, 'motion-walk.264'), path.join(CLIPS, 'motion.264'), path.join(CLIPS, 'h264.264')].find((f) => fs.existsSync(f)) || path.join(CLIPS, 'h264.264');
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', clip]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-motion-');
const { tmp, data, start, reel, logs, check, readInitialPassword } = h;
let browserCtx = null;

async function main() {
  let base;
  let account;
  try {
    const ready = path.join(tmp, 'sim.ready');
    start('sim', REEL_SIM, ['--clip', clip, '--codec', 'h264', '--listen', '127.0.0.1', '--port', '0',
      '--ready-file', ready]);
    const simPort = await waitFor('sim ready file', async () => {
      const s = fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim();
      return s && Number(s);
    }, 15000);
    reel('init');
    account = readInitialPassword();
    reel('camera', 'add', 'porch', `rtsp://127.0.0.1:${simPort}/cam/0`);
    const pw = path.join(tmp, 'vic.pw');
    fs.writeFileSync(pw, 'vic-password-1\n');
    reel('user', 'add', 'vic', '--role', 'viewer', '--password-file', pw, '--cameras', 'porch');
    base = await h.startReel(['--backoff-max-s', '1']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|503)/);
  browserCtx = ctx;
  const shot = async (name, width) => {
    if (!shotDir) return;
    fs.mkdirSync(shotDir, { recursive: true });
    await page.setViewportSize({ width, height: width > 600 ? 900 : 844 });
    await sleep(600);
    await page.screenshot({ path: path.join(shotDir, name), fullPage: width < 600 });
  };
  const signIn = (user, password) => signInAt(page, base, user, password);
  /* a click at (fx, fy), fractions of the editor's picture */
  const at = async (fx, fy) => {
    const b = await page.locator('#mo-svg').boundingBox();
    return [b.x + fx * b.width, b.y + fy * b.height];
  };
  const clickAt = async (fx, fy) => {
    const [x, y] = await at(fx, fy);
    await page.mouse.click(x, y);
  };
  const near = (a, b) => Math.abs(a - b) < 0.02;
  let savedAt = 0;
  /* PUT .../motion as the admin from here (the page is signed in as the viewer then) */
  const adminPut = async (body) => {
    const l = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: account.user, password: account.password }) });
    const cookie = (l.headers.get('set-cookie') || '').split(';')[0];
    const { csrf_token: csrf } = await l.json();
    const r = await fetch(`${base}/api/cameras/porch/motion`, { method: 'PUT', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf } });
    return r.status;
  };

  await check('an admin draws a zone and a mask, saves; after a reload they are there', async () => {
    await signIn(account.user, account.password);
    await waitFor('recording', async () => {
      const r = await page.evaluate(async () => (await fetch('/api/cameras')).json());
      return r.cameras.every((c) => /^recording/.test(c.state || ''));
    }, 30000, 300);
    await page.goto(`${base}/#/cameras`);
    await page.locator('.adm-card[data-camera="porch"] a', { hasText: 'Motion' }).click();
    await page.locator('#mo-form').waitFor();
    await waitFor('the settings', async () => (await page.locator('#mo-msg').textContent()) === '', 10000);
    await page.locator('#mo-mode').selectOption('decode');
    await page.locator('#mo-add-zone').click();
    for (const [x, y] of [[0.1, 0.2], [0.5, 0.2], [0.5, 0.8], [0.1, 0.8]]) await clickAt(x, y);
    await page.locator('#mo-finish').click();
    await page.locator('#mo-zone-name').fill('door');
    await page.locator('#mo-zone-sens').fill('70');
    await page.locator('#mo-zone-sens').dispatchEvent('change');
    await page.locator('#mo-add-mask').click();
    for (const [x, y] of [[0.7, 0.1], [0.95, 0.1], [0.95, 0.4]]) await clickAt(x, y);
    await clickAt(0.7, 0.1);   /* the first point closes it */
    let info = await page.evaluate(() => window.reelMotion.info());
    assert(!info.drawing && info.zones.length === 2 && info.zones[1].kind === 'mask' && info.zones[1].points.length === 3,
      JSON.stringify(info));
    // drag the zone's first point: select the zone from the list, then drag
    await page.locator('.mo-item-btn', { hasText: 'door' }).click();
    const [x0, y0] = await at(0.1, 0.2);
    const [x1, y1] = await at(0.2, 0.3);
    await page.mouse.move(x0, y0);
    await page.mouse.down();
    await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 3 });
    await page.mouse.move(x1, y1, { steps: 3 });
    await page.mouse.up();
    info = await page.evaluate(() => window.reelMotion.info());
    assert(near(info.zones[0].points[0][0], 0.2) && near(info.zones[0].points[0][1], 0.3), JSON.stringify(info.zones[0]));
    await shot('motion-1440.png', 1440);
    await page.setViewportSize({ width: 1000, height: 900 });
    await page.locator('#mo-save').click();
    await waitFor('saved', async () => /^Saved/.test(await page.locator('#mo-msg').textContent()), 10000);
    savedAt = Date.now();
    await page.reload();
    await page.locator('#mo-form').waitFor();
    info = await waitFor('the zones again', async () => {
      const i = await page.evaluate(() => window.reelMotion && window.reelMotion.info());
      return i && i.zones.length === 2 ? i : null;
    }, 10000);
    const z = info.zones.find((x) => x.name === 'door');
    const m = info.zones.find((x) => x.kind === 'mask');
    assert(z && z.kind === 'zone' && z.points.length === 4 && near(z.points[0][0], 0.2) && near(z.points[2][1], 0.8) &&
      z.sensitivity === 70, JSON.stringify(z));
    assert(m && m.points.length === 3 && near(m.points[1][0], 0.95), JSON.stringify(m));
    assert(await page.locator('#mo-mode').inputValue() === 'decode', 'mode not kept');
    assert(await page.locator('#mo-svg polygon.mo-mask').count() === 1, 'the mask is not drawn');
    const fill = await page.locator('#mo-svg polygon.mo-mask').getAttribute('fill');
    assert(fill === 'url(#mo-hatch)', `mask fill ${fill}`);
  });

  await check('at 390 px the motion page does not scroll sideways', async () => {
    await shot('motion-390.png', 390);
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 390, `scrollWidth ${w}`);
    await page.setViewportSize({ width: 1000, height: 900 });
  });

  await check('a viewer sees the settings read-only', async () => {
    await page.locator('#logout').click();
    await page.locator('#login-view').waitFor({ state: 'visible' });
    await signIn('vic', 'vic-password-1');
    await page.goto(`${base}/#/motion/porch`);
    await page.locator('#mo-form').waitFor();
    await waitFor('the zones', async () => {
      const i = await page.evaluate(() => window.reelMotion && window.reelMotion.info());
      return i && i.zones.length === 2;
    }, 10000);
    assert(await page.locator('#mo-save').count() === 0, 'a viewer has Save');
    assert(await page.locator('#mo-add-zone').count() === 0, 'a viewer has + Zone');
    assert(await page.locator('#mo-mode').isDisabled(), 'the mode is editable');
  });

  await check('motion search over a dragged region finds the box, and a moment opens the timeline', async () => {
    // the clip's box moves in the left half from 4 s to 7 s of every 20 s: after a whole loop
    // with detection on, turning it off writes the minute being filled (the grid is per minute)
    assert(savedAt, 'detection was never turned on');
    await sleep(Math.max(0, savedAt + 22000 - Date.now()));
    assert(await adminPut({ motion: 'off' }) === 200, 'PUT motion off');
    await sleep(1500);
    await page.locator('#nav-search').click();
    await page.locator('#se-cells').waitFor();
    const b = await page.locator('#se-cells').boundingBox();
    const cx = (i) => b.x + (i + 0.5) * b.width / 16;
    const cy = (i) => b.y + (i + 0.5) * b.height / 16;
    await page.mouse.move(cx(2), cy(3));
    await page.mouse.down();
    await page.mouse.move(cx(6), cy(5), { steps: 4 });
    await page.mouse.move(cx(9), cy(9), { steps: 4 });
    await page.mouse.up();
    const count = await page.locator('#se-count').textContent();
    assert(/^56 of 256/.test(count), count);   /* 8 x 7 cells */
    const hex = await page.evaluate(() => {
      const c = new Uint8Array(256);
      c[0] = 1;
      c[17] = 1;
      c[255] = 1;
      return window.reelSearch.regionHex(c);
    });
    assert(hex === `0100${'02'}${'00'.repeat(28)}80`, hex);
    await page.locator('#se-go').click();
    await waitFor('the answer', async () => (await page.locator('#se-summary').textContent()).length > 0, 20000);
    const s = await page.locator('#se-summary').textContent();
    assert(/moment|None found/.test(s) && /ms/.test(s), s);
    await shot('search-1440.png', 1440);
    await shot('search-390.png', 390);
    await page.setViewportSize({ width: 390, height: 844 });
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 390, `scrollWidth ${w}`);
    await page.setViewportSize({ width: 1000, height: 900 });
    const n = Number(await page.locator('#se-summary').getAttribute('data-count'));
    console.log(`# search: ${s}`);
    assert(n > 0, `no moment found: ${s}`);
    await page.locator('#se-results .se-open').first().click();
    await waitFor('the timeline', async () => /#\/timeline\?cams=porch&t=/.test(page.url()), 10000);
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => { if (browserCtx) await browserCtx.close().catch(() => {}); }, []);
