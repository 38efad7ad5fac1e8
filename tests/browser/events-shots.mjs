// SPDX-License-Identifier: GPL-3.0-or-later
//
// Not a test: retakes the screenshots of the issue-15 pages (docs/screenshots/) against the
// real recorder: reel-sim serves the motion clip (tests/data/make-clips.sh) as three cameras,
// motion detection is turned on with a zone and a mask, and after DEV_WAIT ms (default 80 s)
// of real events and motion grid the events page, a camera's motion settings, a motion search
// and the timeline are shot at 1440 and 390 px.
//   REEL=build/src/reel/reel REEL_SIM=build/sim/reel-sim REEL_CLIPS=build/clips \
//     node tests/browser/events-shots.mjs docs/screenshots
import fs from 'node:fs';
import path from 'node:path';
import { CLIPS, REEL, REEL_SIM, freePort, loadChromium, makeHarness, sleep, waitFor, watchProblems, reportCsp } from './harness.mjs';
const out = process.argv[2] || '/tmp/modev';
const chromium = await loadChromium();
const h = makeHarness('reel-dev-');
const { tmp, data, start, reel, readInitialPassword } = h;
const ready = path.join(tmp, 'sim.ready');
start('sim', REEL_SIM, ['--clip', [path.join(CLIPS, 'motion-walk.264'), path.join(CLIPS, 'motion.264')].find((f) => fs.existsSync(f)), '--codec', 'h264', '--cameras', '3', '--listen', '127.0.0.1', '--port', '0', '--ready-file', ready]);
const simPort = await waitFor('sim', async () => { const s = fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim(); return s && Number(s); }, 15000);
reel('init');
const acc = readInitialPassword();
reel('camera', 'add', 'porch', `rtsp://127.0.0.1:${simPort}/cam/0`);
reel('camera', 'add', 'yard', `rtsp://127.0.0.1:${simPort}/cam/1`);
reel('camera', 'add', 'driveway', `rtsp://127.0.0.1:${simPort}/cam/2`);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
start('reel', REEL, ['-d', data, 'run', '--http', `127.0.0.1:${port}`, '--backoff-max-s', '1']);
await waitFor('health', async () => (await fetch(`${base}/api/health`)).status === 200, 20000);
process.on('uncaughtException', (e) => { console.log(e); h.killAll(); process.exit(1); });
process.on('unhandledRejection', (e) => { console.log(e); h.killAll(); process.exit(1); });
const ctx = await h.launchPersistent(chromium);
const page = ctx.pages()[0];
const problems = [];
watchProblems(page, problems, /status of (40[1349]|503)/);
await reportCsp(page);
await page.goto(base + '/');
await page.getByLabel('User name').fill(acc.user);
await page.getByLabel('Password').fill(acc.password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.locator('#app-view').waitFor({ state: 'visible' });
await sleep(3000);
const put = (cam, body) => page.evaluate(async ([c, b]) => {
  const s = await (await fetch('/api/session')).json();
  const r = await fetch(`/api/cameras/${c}/motion`, { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token }, body: JSON.stringify(b) });
  return r.status + ' ' + await r.text();
}, [cam, body]);
console.log(await put('porch', { motion: 'decode', zones: [{ name: 'door', kind: 'zone', points: [[0.05, 0.2], [0.48, 0.2], [0.48, 0.85], [0.05, 0.85]] }, { name: 'street', kind: 'mask', points: [[0.6, 0.05], [0.98, 0.05], [0.98, 0.3], [0.6, 0.3]] }] }));
console.log(await put('yard', { motion: 'decode' }));
console.log(await put('driveway', { motion: 'decode', zones: [{ name: 'gate', kind: 'zone', points: [[0.55, 0.2], [0.95, 0.2], [0.95, 0.8], [0.55, 0.8]] }] }));
await sleep(Number(process.env.DEV_WAIT || 80000));
for (const [name, hash] of [['events', '#/events'], ['motion', '#/motion/porch'], ['search', '#/search'], ['timeline', '#/timeline?cams=porch,driveway&span=600']]) {
  for (const w of [1440, 390]) {
    await page.setViewportSize({ width: w, height: w > 600 ? 900 : 844 });
    await page.goto(base + '/' + hash);
    await sleep(2500);
    if (name === 'motion') {
      await page.locator('.mo-item-btn', { hasText: 'door' }).click();
    }
    if (name === 'search') {
      await page.evaluate(() => window.reelSearch.select(2, 3, 9, 10));
      await page.locator('#se-go').click();
      await sleep(1500);
    }
    await page.screenshot({ path: path.join(out, `${name}-${w}.png`), fullPage: w < 600 && name !== 'events' });
  }
}
console.log(problems.join('\n'));
await ctx.close();
h.killAll();
process.exit(0);
