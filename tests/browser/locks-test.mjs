// SPDX-License-Identifier: GPL-3.0-or-later
//
// Evidence locks in Debian's chromium (src/web/locks.js) against the real
// recorder and reel-sim: an operator opens the lock dialog through the
// timeline's selection action ("Lock as evidence…" in
// window.ReelTimeline.actions; called from the page directly, so that this
// test does not depend on the timeline page's own selection UI), fills case,
// reason and expiry and locks; the lock is in GET /api/locks and on the
// #/locks page; the operator sees no Unlock and DELETE answers 403; an
// administrator unlocks it from the page; at 390 px nothing scrolls
// sideways; no CSP violation or script error. --screenshots DIR writes
// locks-dialog-1440.png, locks-page-1440.png, locks-dialog-390.png and
// locks-page-390.png. Run with tests/browser/run.sh --locks.

import fs from 'node:fs';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, loadChromium, makeHarness, pageApi, requireFiles, screenshotDir, signInAt, sleep,
  waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-locks-');
const { tmp, data, start, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

async function main() {
  let base;
  let account;
  try {
    const simPort = await startSim('sim', 'h264', '264');
    reel('init');
    account = readInitialPassword();
    reel('camera', 'add', 'porch', `rtsp://127.0.0.1:${simPort}/cam/0`);
    reel('camera', 'add', 'gate', `rtsp://127.0.0.1:${simPort}/cam/1`);
    const pw = path.join(tmp, 'opal.pw');
    fs.writeFileSync(pw, 'opal-password-1\n');
    reel('user', 'add', 'opal', '--role', 'operator', '--password-file', pw, '--cameras', 'porch,gate');
    base = await h.startReel(['--backoff-max-s', '1']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|503)/);
  browserCtx = ctx;
  const api = pageApi(page);
  const signIn = (user, password) => signInAt(page, base, user, password);
  const shot = async (name, width) => {
    if (!shotDir) return;
    fs.mkdirSync(shotDir, { recursive: true });
    await page.setViewportSize({ width, height: width > 600 ? 900 : 844 });
    await sleep(400);
    await page.screenshot({ path: path.join(shotDir, name) });
  };
  let lockId = null;

  await check('an operator sees the Locks link', async () => {
    await signIn('opal', 'opal-password-1');
    await page.locator('#nav-locks').waitFor({ state: 'visible' });
  });

  await check('the timeline action "Lock as evidence…" opens the dialog and locks', async () => {
    await page.goto(`${base}/#/locks`);
    await page.locator('#lk-list').waitFor({ state: 'visible' });
    const label = await page.evaluate(() => {
      const a = window.ReelTimeline.actions.find((x) => x.id === 'lock');
      return a ? `${a.label}|${a.roles.join(',')}` : null;
    });
    assert(label === 'Lock as evidence…|admin,operator', `action: ${label}`);
    await page.evaluate(() => {
      const a = window.ReelTimeline.actions.find((x) => x.id === 'lock');
      const end = new Date();
      window.lockRun = a.run({ cameras: ['porch', 'gate'], start: new Date(end.getTime() - 10 * 60 * 1000), end });
    });
    const dlg = page.locator('dialog#lock-dialog');
    await dlg.waitFor({ state: 'visible' });
    await dlg.locator('input[type=checkbox][value="gate"]').waitFor();
    assert(await dlg.locator('input[value="porch"]').isChecked(), 'porch not pre-selected');
    // a missing reason is refused in the dialog
    await dlg.getByLabel('Case').fill('Police ref. 2026/4411');
    await dlg.getByRole('button', { name: 'Lock' }).click();
    await waitFor('the reason message', async () => /reason/i.test(await dlg.locator('#lock-msg').textContent()),
      5000);
    await dlg.getByLabel('Reason').fill('Break-in at the side gate, footage requested by the police');
    await dlg.getByLabel('Expires').selectOption('90');
    await shot('locks-dialog-1440.png', 1440);
    await shot('locks-dialog-390.png', 390);
    if (shotDir) {
      const box = await dlg.boundingBox();
      assert(box.x >= 0 && box.x + box.width <= 390, `the dialog is ${box.width} px wide at x ${box.x}`);
    }
    await page.setViewportSize({ width: 1000, height: 900 });
    await dlg.getByRole('button', { name: 'Lock' }).click();
    await dlg.waitFor({ state: 'detached' });
    const res = await page.evaluate(() => window.lockRun);
    assert(res && res.id, `run() resolved to ${JSON.stringify(res)}`);
    lockId = res.id;
    const r = await api('GET', '/api/locks');
    const l = r.json.locks.find((x) => x.id === lockId);
    assert(l && l.case === 'Police ref. 2026/4411' && l.cameras.join(',') === 'gate,porch' && l.expires &&
      l.created_by === 'opal', `lock: ${JSON.stringify(l)}`);
    const days = (new Date(l.expires) - Date.now()) / 86400000;
    assert(days > 89 && days < 91, `expires in ${days} days`);
  });

  await check('the lock is listed; the operator can neither unlock nor change it', async () => {
    const card = page.locator(`.lk-card[data-id="${lockId}"]`);
    await card.waitFor({ state: 'visible' });
    const text = await card.textContent();
    assert(/Police ref\. 2026\/4411/.test(text) && /gate, porch/.test(text) && /Active/.test(text), text);
    assert(await card.getByRole('button', { name: 'Unlock' }).count() === 0, 'an operator sees Unlock');
    const d = await api('DELETE', `/api/locks/${lockId}`);
    assert(d.status === 403, `operator DELETE: ${d.status}`);
    const p = await api('PATCH', `/api/locks/${lockId}`, { expires: null });
    assert(p.status === 403, `operator PATCH: ${p.status}`);
    // the filters
    await page.locator('#lk-filter-q').fill('no such case');
    assert(await page.locator('.lk-card').count() === 0, 'the search did not filter');
    await page.locator('#lk-filter-q').fill('4411');
    assert(await page.locator('.lk-card').count() === 1, 'the search lost the lock');
    await page.locator('#lk-filter-state').selectOption('expired');
    assert(await page.locator('.lk-card').count() === 0, 'an active lock is listed as expired');
    await page.locator('#lk-filter-state').selectOption('active');
  });

  await check('at 390 px the locks page does not scroll sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= 390, `scrollWidth ${w}`);
    await shot('locks-page-390.png', 390);
    await page.setViewportSize({ width: 1000, height: 900 });
  });

  await check('an administrator changes the expiry and unlocks', async () => {
    await page.locator('#logout').click();
    await page.locator('#login-view').waitFor({ state: 'visible' });
    await signIn(account.user, account.password);
    // a second lock so that the page screenshot shows more than one
    const r2 = await api('POST', '/api/locks', { cameras: ['gate'], start: new Date(Date.now() - 3600e3).toISOString(),
      end: new Date(Date.now() - 1800e3).toISOString(), case: 'Insurance claim 88-1203',
      reason: 'Delivery van damaged the gate', expires: null });
    assert(r2.status === 201, `second lock: ${r2.status}`);
    await page.goto(`${base}/#/locks`);
    const card = page.locator(`.lk-card[data-id="${lockId}"]`);
    await card.waitFor({ state: 'visible' });
    await shot('locks-page-1440.png', 1440);
    await page.setViewportSize({ width: 1000, height: 900 });
    await card.getByRole('button', { name: 'Change expiry…' }).click();
    await page.locator('#lk-new-expiry').waitFor();
    await page.getByLabel('Never expires').check();
    await page.locator('#lk-confirm').click();
    await waitFor('expiry removed', async () => {
      const r = await api('GET', '/api/locks');
      const l = r.json.locks.find((x) => x.id === lockId);
      return l && l.expires === null;
    }, 10000);
    await card.getByRole('button', { name: 'Unlock' }).click();
    await page.locator('#lk-confirm').click();
    await card.waitFor({ state: 'detached' });
    const r = await api('GET', '/api/locks');
    assert(!r.json.locks.some((x) => x.id === lockId), 'the lock is still there');
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => { if (browserCtx) await browserCtx.close().catch(() => {}); }, []);
