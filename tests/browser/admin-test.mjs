// SPDX-License-Identifier: GPL-3.0-or-later
//
// The admin pages in Debian's chromium (admin.js mounted by the shell):
// against the real recorder and reel-sim, an administrator adds a camera
// through the Cameras page with Test (the result shows codec, size and a
// snapshot), the camera records within seconds (GET /api/cameras), its
// retention is edited, it is disabled and enabled, then removed by typing
// its name; the Storage page shows the data directory; the Users page adds
// a user and resets its password (the new one signs in); at 390 px wide no
// page scrolls sideways; no CSP violation or script error. Options:
// --screenshots DIR writes admin-add-camera.png (the Add dialog with a Test
// result) and admin-storage.png there (docs/img/ is made this way).
// Run with tests/browser/run.sh --admin. Environment as browser-test.mjs.

import fs from 'node:fs';
import path from 'node:path';
import {
  CHROMIUM, CLIPS, REEL, REEL_SIM, assert, loadChromium, makeHarness, pageApi, requireFiles, screenshotDir, sleep,
  waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')],
], `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

// ---- processes ----

const h = makeHarness('reel-browser-');
const { tmp, data, procs, start, killAll, stop, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

// ---- cases ----


async function main() {
  let base;
  let account;
  let simPort;
  try {
    simPort = await startSim('sim', 'h264', '264');
    reel('init');
    account = readInitialPassword();
    assert(account.password, 'no initial-admin-password file after reel init');
    base = await h.startReel(['--backoff-max-s', '1']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel-sim, reel init, reel run --http)\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|503)/);
  browserCtx = ctx;
  page.on('dialog', (d) => d.accept());
  const api = pageApi(page);
  const camUrl = `rtsp://127.0.0.1:${simPort}/cam/0`;
  const camState = async (name) => {
    const r = await api('GET', '/api/cameras');
    const c = r.json.cameras.find((x) => x.name === name);
    return c || null;
  };

  await check('sign in as the administrator', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('User name').fill(account.user);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
  });

  await check('Cameras: add a camera with Test; it records within seconds', async () => {
    await page.goto(`${base}/#/cameras`);
    await page.getByRole('button', { name: 'Add camera' }).click();
    const dlg = page.locator('dialog.adm-dialog');
    await dlg.waitFor({ state: 'visible' });
    await dlg.getByLabel('Name').fill('porch');
    await dlg.getByLabel('Main stream URL').fill(camUrl);
    await dlg.getByLabel('Keep at most GB').fill('200');
    await dlg.getByLabel('Keep days').fill('0');
    await dlg.getByRole('button', { name: 'Test' }).click();
    await dlg.locator('.adm-ok').waitFor({ state: 'visible', timeout: 15000 });
    const facts = await dlg.locator('.adm-facts').textContent();
    assert(/H\.264/.test(facts) && /fps/.test(facts) && /Mbit\/s/.test(facts), `test facts: ${facts}`);
    await dlg.locator('canvas.adm-snap[data-drawn="1"]').waitFor({ state: 'visible' });
    const w = await dlg.locator('canvas.adm-snap').evaluate((c) => c.width);
    assert(w > 0, 'the snapshot did not decode');
    const fc = await dlg.locator('.adm-forecast').textContent();
    assert(/^At \d+\.\d Mbit\/s, 200 GB keeps about/.test(fc), `forecast: ${fc}`);
    if (shotDir) {
      fs.mkdirSync(shotDir, { recursive: true });
      await page.setViewportSize({ width: 1000, height: 1250 });
      await sleep(300);
      await page.screenshot({ path: path.join(shotDir, 'admin-add-camera.png'), fullPage: false });
      await page.setViewportSize({ width: 1000, height: 900 });
    }
    const t0 = Date.now();
    await dlg.getByRole('button', { name: 'Add camera' }).click();
    await dlg.waitFor({ state: 'detached' });
    await page.locator('.adm-card[data-camera="porch"]').waitFor({ state: 'visible' });
    await waitFor('porch recording', async () => {
      const c = await camState('porch');
      return c && /^recording/.test(c.state);
    }, 15000, 250);
    console.log(`# porch recording ${((Date.now() - t0) / 1000).toFixed(1)} s after Add`);
  });

  await check('Cameras: edit retention', async () => {
    await page.locator('.adm-card[data-camera="porch"]').getByRole('button', { name: 'Edit' }).click();
    const dlg = page.locator('dialog.adm-dialog');
    await dlg.getByLabel('Keep days').fill('7');
    await dlg.getByLabel('Keep at most GB').fill('0');
    await dlg.getByRole('button', { name: 'Save' }).click();
    await dlg.waitFor({ state: 'detached' });
    const c = await camState('porch');
    assert(c.retain_seconds === 7 * 86400 && c.retain_bytes === 0, `retention ${c.retain_seconds} ${c.retain_bytes}`);
  });

  await check('Cameras: disable and enable', async () => {
    const card = page.locator('.adm-card[data-camera="porch"]');
    await card.getByRole('button', { name: 'Disable' }).click();
    await waitFor('porch disabled', async () => (await camState('porch')).enabled === false, 10000, 200);
    await card.getByRole('button', { name: 'Enable' }).click();
    await waitFor('porch recording again', async () => /^recording/.test((await camState('porch')).state), 15000, 250);
  });

  await check('Storage: the data directory with its use, cameras and days kept', async () => {
    await page.goto(`${base}/#/storage`);
    const card = page.locator('.adm-storage').first();
    await card.waitFor({ state: 'visible' });
    const t = await card.textContent();
    assert(t.includes(path.join(data, 'storage')) || t.includes('storage'), `storage card: ${t}`);
    assert(/porch/.test(t) && /Reel uses/.test(t) && /Keeps/.test(t), `storage card: ${t}`);
    await waitFor('a forecast', async () => {
      await page.reload();
      await page.locator('.adm-storage').first().waitFor({ state: 'visible' });
      return /about [\d.]+ (days|hours)/.test(await page.locator('.adm-storage').first().textContent());
    }, 20000, 1000);
    if (shotDir) await page.screenshot({ path: path.join(shotDir, 'admin-storage.png'), fullPage: true });
  });

  await check('Users: add a user and reset its password', async () => {
    await page.goto(`${base}/#/users`);
    const form = page.locator('form.adm-adduser');
    await form.waitFor({ state: 'visible' });
    await form.getByLabel('Name').fill('guard');
    await form.getByLabel('Password').fill('guard-password-1');
    await form.getByRole('button', { name: 'Add user' }).click();
    await page.locator('.adm-card[data-user="guard"]').waitFor({ state: 'visible' });
    await page.locator('.adm-card[data-user="guard"]').getByRole('button', { name: 'Reset password' }).click();
    const dlg = page.locator('dialog.adm-dialog');
    await dlg.getByLabel('New password').fill('guard-password-2');
    await dlg.getByRole('button', { name: 'Set password' }).click();
    await dlg.waitFor({ state: 'detached' });
    const login = async (pw) => (await fetch(`${base}/api/login`, { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'guard', password: pw }) })).status;
    assert(await login('guard-password-1') === 401, 'the old password still works');
    assert(await login('guard-password-2') === 200, 'the new password does not work');
  });

  await check('at 390 px no admin page scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const r of ['cameras', 'storage', 'users']) {
      await page.goto(`${base}/#/${r}`);
      await page.locator('#admin-root .adm-head').waitFor({ state: 'visible' });
      await sleep(500);
      const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
      assert(sw <= cw, `#/${r}: scrollWidth ${sw} > clientWidth ${cw}`);
    }
    await page.goto(`${base}/#/cameras`);
    await page.getByRole('button', { name: 'Add camera' }).click();
    const dlg = page.locator('dialog.adm-dialog');
    await dlg.waitFor({ state: 'visible' });
    const box = await dlg.boundingBox();
    assert(box.x >= 0 && box.x + box.width <= 390, `the dialog is ${box.width} px wide at x ${box.x}`);
    await dlg.getByRole('button', { name: 'Cancel' }).click();
    await page.setViewportSize({ width: 1000, height: 900 });
  });

  await check('Cameras: remove by typing the name (with its footage)', async () => {
    await page.goto(`${base}/#/cameras`);
    await page.locator('.adm-card[data-camera="porch"]').getByRole('button', { name: 'Remove' }).click();
    const dlg = page.locator('dialog.adm-dialog');
    const del = dlg.getByRole('button', { name: 'Delete camera and footage' });
    assert(await del.isDisabled(), 'delete enabled before the name was typed');
    await dlg.getByLabel('Type porch to delete it with its footage').fill('porc');
    assert(await del.isDisabled(), 'delete enabled with a wrong name');
    await dlg.getByLabel('Type porch to delete it with its footage').fill('porch');
    await del.click();
    await dlg.waitFor({ state: 'detached' });
    await waitFor('porch gone', async () => (await camState('porch')) === null, 10000, 200);
    await page.locator('.adm-card[data-camera="porch"]').waitFor({ state: 'detached' });
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

try {
  await main();
} catch (e) {
  h.failed++;
  console.log(`not ok - unexpected\n  ${e.stack || e}\n${logs()}`);
} finally {
  if (browserCtx) await browserCtx.close().catch(() => {});
  for (const p of procs) await stop(p).catch(() => {});
  killAll();
  if (h.failed) console.log(logs());
  if (h.failed || process.env.REEL_KEEP_TMP) console.log(`(kept ${tmp})`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`${h.passed} passed, ${h.failed} failed`);
process.exit(h.failed ? 1 : 0);
