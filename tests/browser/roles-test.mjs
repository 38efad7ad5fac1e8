// SPDX-License-Identifier: GPL-3.0-or-later
//
// Who may see what, in Debian's chromium (issue 14, ac-roles), against the
// real recorder and reel-sim with two cameras, "front" and "back":
//  - an administrator's Users page shows each user's role, the cameras they
//    may see and their two-factor state; the Cameras… dialog's checklist
//    saves a viewer's list;
//  - a viewer (who may see "front" only) sees only "front" in Playback and
//    on the live grid, no Cameras/Storage/Users in the nav, no download
//    (export) action; the API refuses "back" as if it did not exist;
//  - TOTP sign-in: an administrator enrols through the Two-factor dialog
//    (the code computed here with node's crypto HMAC-SHA1), signs out, and
//    the login form asks for a code after the password; a wrong code is
//    refused, the right one signs in;
//  - at 390 px no page scrolls sideways; no CSP violation or script error.
// --screenshots DIR writes roles-users-, roles-viewer-, roles-enrol- and
// roles-totp-{1440,390}.png there (docs/img/ is made this way).
// Run with tests/browser/run.sh --roles.

import crypto from 'node:crypto';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, assertNoSideScroll, loadChromium, makeHarness, pageApi, requireFiles, screenshotDir,
  signInAt, signOutOf, sleep, waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-roles-');
const { tmp, data, start, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

function b32decode(s) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let v = 0;
  const out = [];
  for (const c of s.replace(/\s+/g, '')) {
    v = (v << 5) | alpha.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((v >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = crypto.createHmac('sha1', b32decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/* Sleeps into the first 15 s of a 30 s step; returns the step. */
async function stepStart() {
  const t = Date.now() / 1000;
  if (t % 30 > 15) await sleep((30.5 - (t % 30)) * 1000);
  return Math.floor(Date.now() / 1000 / 30);
}

async function main() {
  let base;
  let account;
  try {
    const simPort = await startSim('sim', 'h264', '264');
    reel('init');
    account = readInitialPassword();
    assert(account.password, 'no initial-admin-password file after reel init');
    for (const n of ['front', 'back']) reel('camera', 'add', n, `rtsp://127.0.0.1:${simPort}/cam/0`);
    const pw = path.join(tmp, 'vera.pw');
    (await import('node:fs')).writeFileSync(pw, 'vera-password-1\n');
    reel('user', 'add', 'vera', '--role', 'viewer', '--cameras', 'front', '--password-file', pw);
    reel('user', 'add', 'otto', '--role', 'operator', '--cameras', 'all', '--password-file', pw);
    reel('user', 'add', 'audrey', '--role', 'auditor', '--password-file', pw);
    base = await h.startReel(['--backoff-max-s', '1']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel-sim, reel init, users, reel run --http)\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|503)/);
  browserCtx = ctx;
  page.on('dialog', (d) => d.accept());
  const api = pageApi(page);
  const signIn = (user, password) => signInAt(page, base, user, password, false);
  const signOut = () => signOutOf(page);
  const noSideScroll = (what) => assertNoSideScroll(page, what);
  const shot = async (name) => {
    if (!shotDir) return;
    await page.screenshot({ path: path.join(shotDir, name), fullPage: false });
  };

  await check('admin: users page shows roles, cameras and two-factor; the checklist saves a list', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(account.user, account.password);
    await page.waitForSelector('#app-view:not([hidden])');
    await page.goto(`${base}/#/users`);
    await page.waitForSelector('[data-user="vera"] [data-field="cameras"]');
    const sees = await page.textContent('[data-user="vera"] [data-field="cameras"]');
    assert(sees === 'Sees: front', `vera: ${sees}`);
    assert((await page.textContent('[data-user="otto"] [data-field="cameras"]')) === 'Sees: all cameras', 'otto');
    assert((await page.textContent('[data-user="audrey"] [data-field="cameras"]')) === 'Sees: no video', 'audrey');
    assert(await page.$('[data-user="audrey"] [data-action="cameras"]') === null, 'an auditor has no camera list');
    assert((await page.textContent('[data-user="vera"] [data-field="totp"]')) === 'Two-factor: off', 'totp off');
    await page.click('[data-user="vera"] [data-action="cameras"]');
    await page.waitForSelector('dialog.adm-dialog [data-camera="back"]');
    assert(await page.isChecked('dialog.adm-dialog [data-camera="front"]'), 'front ticked');
    assert(!(await page.isChecked('dialog.adm-dialog [data-camera="back"]')), 'back not ticked');
    await page.check('dialog.adm-dialog [data-camera="back"]');
    if (shotDir) await shot('roles-users-1440.png');
    await page.uncheck('dialog.adm-dialog [data-camera="back"]');
    await page.click('dialog.adm-dialog button[type="submit"]');
    await page.waitForSelector('dialog.adm-dialog', { state: 'detached' });
    const u = (await api('GET', '/api/users')).json.users.find((x) => x.name === 'vera');
    assert(JSON.stringify(u.cameras) === '["front"]', `saved: ${JSON.stringify(u.cameras)}`);
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    await noSideScroll('#/users');
    await shot('roles-users-390.png');
    await signOut();
  });

  await check('viewer: only its camera, no admin pages, no export; the API hides the other camera', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn('vera', 'vera-password-1');
    await page.waitForSelector('#app-view:not([hidden])');
    for (const r of ['cameras', 'storage', 'users'])
      assert(await page.isHidden(`#nav a[data-route="${r}"]`), `nav ${r} shown to a viewer`);
    assert(await page.isVisible('#nav a[data-route="live"]'), 'nav live hidden');
    assert((await page.getAttribute('body', 'data-role')) === 'viewer', 'body data-role');
    const names = (await api('GET', '/api/cameras')).json.cameras.map((c) => c.name);
    assert(JSON.stringify(names) === '["front"]', `cameras: ${names}`);
    const back = await api('GET', '/api/cameras/back/spans');
    const none = await api('GET', '/api/cameras/nosuch/spans');
    assert(back.status === 404 && none.status === 404, `back ${back.status}, nosuch ${none.status}`);
    assert(back.json.error.replace('back', 'X') === none.json.error.replace('nosuch', 'X'), 'same answer');
    // the live grid: only "front"
    await page.goto(`${base}/#/live`);
    await page.waitForSelector('#grid [data-camera="front"]');
    await sleep(500);
    assert(await page.$('#grid [data-camera="back"]') === null, 'back on the live grid');
    // no export or download action: the old Playback page's download link, or
    // (once the timeline replaces it) no visible export action
    await page.goto(`${base}/#/playback`);
    await sleep(1000);
    if (await page.isVisible('#cameras-section')) {
      await page.waitForSelector('#cameras li[data-name="front"]');
      assert(await page.$('#cameras li[data-name="back"]') === null, 'back listed in Playback');
      await page.click('#cameras li[data-name="front"] button');
      await page.waitForSelector('#player:not([hidden])');
      await sleep(500);
      const dl = await page.evaluate(() => getComputedStyle(document.getElementById('download')).display);
      assert(dl === 'none', `download shown to a viewer: ${dl}`);
    }
    const exp = await page.$$eval('[data-action="export"], [data-needs="export"]',
      (xs) => xs.filter((x) => x.offsetParent !== null).length);
    assert(exp === 0, `${exp} export action(s) shown to a viewer`);
    await page.goto(`${base}/#/live`);
    await page.waitForSelector('#grid [data-camera="front"]');
    await sleep(1500);
    await shot('roles-viewer-1440.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    await noSideScroll('#/live (viewer)');
    await page.click('#nav-toggle');   // the phone's menu: Live and Playback only
    await sleep(300);
    await shot('roles-viewer-390.png');
    await page.click('#nav-toggle');
    await signOut();
  });

  await check('TOTP: enrol in the Two-factor dialog, then sign in with password and code', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn(account.user, account.password);
    await page.waitForSelector('#twofa:not([hidden])');
    await page.click('#twofa');
    await page.click('#twofa-dialog button.rl-primary');
    await page.waitForSelector('#twofa-secret');
    await shot('roles-enrol-1440.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await noSideScroll('two-factor dialog');
    await shot('roles-enrol-390.png');
    await page.setViewportSize({ width: 1440, height: 900 });
    const secret = (await page.textContent('#twofa-secret')).replace(/\s+/g, '');
    assert(/^[A-Z2-7]{32}$/.test(secret), `secret ${secret}`);
    const uri = await page.getAttribute('#twofa-uri', 'href');
    assert(uri.startsWith('otpauth://totp/Reel:admin?secret=' + secret), uri);
    const s = await stepStart();
    await page.fill('#twofa-code', totp(secret, s - 1));
    await page.click('#twofa-dialog button[type="submit"]');
    await page.waitForSelector('#twofa-dialog', { state: 'detached' });
    await waitFor('two-factor on', async () => (await page.textContent('#twofa')) === 'Two-factor: on', 5000);
    await signOut();
    await page.fill('#username', account.user);
    await page.fill('#password', account.password);
    await page.click('#login-submit');
    await page.waitForSelector('#totp-field:not([hidden])');
    assert(/Enter the 6-digit code/.test(await page.textContent('#login-error')), 'asked for a code');
    await page.fill('#totp', totp(secret, s));
    await shot('roles-totp-1440.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await noSideScroll('login with code');
    await shot('roles-totp-390.png');
    await page.setViewportSize({ width: 1440, height: 900 });
    const wrong = totp(secret, s) === '000000' ? '111111' : '000000';
    await page.fill('#totp', wrong);
    await page.click('#login-submit');
    await waitFor('the wrong code refused', async () => /Wrong or already used code/.test(await page.textContent('#login-error')), 5000);
    assert(await page.isVisible('#login-view'), 'signed in with a wrong code');
    await page.fill('#password', account.password);
    await page.fill('#totp', totp(secret, s));
    await page.click('#login-submit');
    await page.waitForSelector('#app-view:not([hidden])');
    assert((await page.textContent('#user-name')) === account.user, 'signed in');
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => { if (browserCtx) await browserCtx.close(); }, []);
