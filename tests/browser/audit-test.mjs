// SPDX-License-Identifier: GPL-3.0-or-later
//
// Who saw what, in Debian's chromium (issue 14, ac-audit), against the real
// recorder and reel-sim:
//  - an auditor signs in and lands on #/audit: the log lists what happened
//    (a failed sign-in with its address, a camera change with old and new,
//    a playback session, a disclosure...), the chain shows "Intact", the
//    filter narrows to failed sign-ins and the CSV link serves that filter;
//  - the disclosure tab lists what an operator recorded; an operator sees
//    only the disclosure form (nav "Disclosures") and records one with it;
//    a viewer has no link;
//  - with live.reason required, a viewer's page asks for a reason once and
//    the live view carries it (the audit row has it; without it: 400);
//  - reel.db edited behind the server's back (sqlite3): "Verify the chain"
//    says which entry was changed;
//  - at 390 px no page scrolls sideways; no CSP violation or script error.
// --screenshots DIR writes audit-log-, audit-disclosures-, audit-reason- and
// audit-tampered-{1440,390}.png there (docs/img/ is made this way).
// Run with tests/browser/run.sh --audit.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, assertNoSideScroll, loadChromium, makeHarness, requireFiles, screenshotDir, signInAt,
  signOutOf, sleep, waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-audit-');
const { tmp, data, start, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

async function main() {
  let base;
  let account;
  try {
    const simPort = await startSim('sim', 'h264', '264');
    reel('init');
    account = readInitialPassword();
    assert(account.password, 'no initial-admin-password file after reel init');
    reel('camera', 'add', 'front', `rtsp://127.0.0.1:${simPort}/cam/0`);
    const pw = path.join(tmp, 'u.pw');
    fs.writeFileSync(pw, 'user-password-1\n');
    reel('user', 'add', 'audrey', '--role', 'auditor', '--password-file', pw);
    reel('user', 'add', 'otto', '--role', 'operator', '--cameras', 'all', '--password-file', pw);
    reel('user', 'add', 'vera', '--role', 'viewer', '--cameras', 'front', '--password-file', pw);
    base = await h.startReel(['--backoff-max-s', '1', '--checkpoint-ms', '300']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel-sim, reel init, users, reel run --http)\n  ${e.stack || e}\n${logs()}`);
    return;
  }

  /* what people did, through the API as a browser would (Host/Origin from fetch) */
  const login = async (user, password) => {
    const r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user, password }) });
    const j = await r.json().catch(() => ({}));
    return { status: r.status, cookie: (r.headers.get('set-cookie') || '').split(';')[0], csrf: j.csrf_token };
  };
  const call = (s, method, p, body) => fetch(`${base}${p}`, { method, headers: { Cookie: s.cookie,
    'X-CSRF-Token': s.csrf, 'Content-Type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
  await check('activity to audit: a failed sign-in, playback, a camera change, a setting, a disclosure', async () => {
    assert((await login('otto', 'not-the-password')).status === 401, 'wrong password accepted');
    const admin = await login(account.user, account.password);
    assert(admin.status === 200, 'admin sign-in');
    await waitFor('footage', async () => {
      const r = await call(admin, 'GET', '/api/cameras/front/spans');
      return r.status === 200 && (await r.json()).spans.length > 0;
    }, 30000, 500);
    await sleep(3000);
    const now = Date.now() / 1000;
    for (let k = 0; k < 3; k++) await call(admin, 'GET', `/api/cameras/front/view.mp4?start=${now - 3 + k}&end=${now - 2 + k}`);
    let r = await call(admin, 'PATCH', '/api/cameras/front', { retain_seconds: 14 * 86400 });
    assert(r.status === 200 || r.status === 202, `camera change ${r.status}`);
    r = await call(admin, 'PATCH', '/api/settings', { 'playback.reason': 'optional', 'retention.max_days': 30 });
    assert(r.status === 200, `settings ${r.status}`);
    const otto = await login('otto', 'user-password-1');
    r = await call(otto, 'POST', '/api/disclosures', { date: new Date().toISOString().slice(0, 10),
      recipient: 'Police, crime ref. 2026/114', reason: 'theft from the loading bay on 5 December',
      export_id: '3f9a0c12d4e5b678', export_hash: 'c0ffee'.padEnd(64, '0') });
    assert(r.status === 201, `disclosure ${r.status}`);
  });

  /* 400: the live grid asks before the reason dialog is answered ("a reason is required"), then again with it */
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[01349]|503)/);
  browserCtx = ctx;
  const signIn = (user, password) => signInAt(page, base, user, password);
  const signOut = () => signOutOf(page);
  const noSideScroll = (what) => assertNoSideScroll(page, what);
  const shot = async (name) => {
    if (shotDir) await page.screenshot({ path: path.join(shotDir, name), fullPage: false });
  };
  const both = async (name, what) => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await sleep(300);
    await shot(`${name}-1440.png`);
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    await noSideScroll(what);
    await shot(`${name}-390.png`);
    await page.setViewportSize({ width: 1440, height: 900 });
  };

  await check('auditor: #/audit lists the entries, the chain is intact, filters and CSV work', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await signIn('audrey', 'user-password-1');
    await waitFor('sent to #/audit', async () => page.url().endsWith('#/audit'), 5000);
    assert(await page.isVisible('#nav-audit'), 'nav Audit hidden for an auditor');
    assert((await page.textContent('#nav-audit')) === 'Audit', 'nav label');
    await page.waitForSelector('.aud-row[data-action="camera.change"]');
    const change = await page.textContent('.aud-row[data-action="camera.change"] .aud-detail');
    assert(/retain_seconds: 0 → 1209600/.test(change), `camera change: ${change}`);
    const setting = await page.textContent('.aud-row[data-action="settings.change"] .aud-detail');
    assert(/retention.max_days: 0 → 30/.test(setting), `setting: ${setting}`);
    assert(await page.$('.aud-row[data-action="disclosure.add"]'), 'disclosure entry');
    await waitFor('chain intact', async () => /Intact: \d+ entries, chain intact/.test(
      await page.textContent('.aud-chain-state')), 10000);
    assert(/^\d+:[0-9a-f]{64}$/.test(await page.textContent('.aud-head')), 'head shown');
    await page.click('.aud-row[data-action="camera.change"] .aud-more');
    assert(/hash [0-9a-f]{64}/.test(await page.textContent('.aud-row[data-action="camera.change"] .aud-raw')), 'raw');
    await page.click('.aud-row[data-action="camera.change"] .aud-more');
    await both('audit-log', '#/audit log');
    await page.selectOption('#aud-action', 'login.');
    await page.click('.aud-filters button[type="submit"]');
    await waitFor('only failed sign-ins', async () => {
      const acts = await page.$$eval('.aud-row', (rs) => rs.map((r) => r.dataset.action));
      return acts.length === 1 && acts[0] === 'login.failed';
    }, 10000);
    const who = await page.textContent('.aud-row .aud-who');
    assert(/otto/.test(who) && /127\.0\.0\.1/.test(who), `failed sign-in: ${who}`);
    const href = await page.getAttribute('.aud-filters a.button-link', 'href');
    assert(href === '/api/audit.csv?action=login.', `csv href ${href}`);
    const csv = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
    }, href);
    assert(csv.status === 200 && /text\/csv/.test(csv.type), `csv ${csv.status} ${csv.type}`);
    const lines = csv.text.trim().split('\r\n');
    assert(lines.length === 2 && /"login.failed"/.test(lines[1]), `csv: ${csv.text}`);
  });

  await check('disclosures: the auditor reads the log (no form); an operator records one with the form', async () => {
    await page.click('.aud-tabs button[data-tab="disclosures"]');
    await page.waitForSelector('.aud-disc');
    assert(/Police, crime ref\. 2026\/114/.test(await page.textContent('.aud-disc')), 'disclosure listed');
    assert(await page.$('.aud-form') === null, 'an auditor got the add form');
    await signOut();
    await signIn('otto', 'user-password-1');
    assert((await page.textContent('#nav-audit')) === 'Disclosures', 'operator nav label');
    await page.goto(`${base}/#/audit`);
    await page.waitForSelector('.aud-form');
    assert(await page.$('.aud-chain') === null && await page.$('#aud-log') === null, 'operator sees the log');
    await page.fill('#disc-recipient', 'Insurer (claim 77-1234)');
    await page.fill('#disc-reason', 'damage to a parked car');
    await page.fill('#disc-export', '00112233aabbccdd');
    await page.click('.aud-form button[type="submit"]');
    await waitFor('recorded', async () => /Recorded as disclosure #2/.test(await page.textContent('.aud-msg')), 10000);
    await signOut();
    await signIn(account.user, account.password);
    await page.goto(`${base}/#/audit`);
    await page.click('.aud-tabs button[data-tab="disclosures"]');
    await waitFor('two disclosures', async () => (await page.$$('.aud-disc')).length === 2, 10000);
    await page.fill('#disc-recipient', 'Data subject (access request)');
    await both('audit-disclosures', '#/audit disclosures');
    await signOut();
    await signIn('vera', 'user-password-1');
    assert(await page.isHidden('#nav-audit'), 'a viewer has the audit link');
    await signOut();
  });

  await check('live.reason required: the page asks once, the live view carries it into the audit log', async () => {
    const admin = await login(account.user, account.password);
    const r = await call(admin, 'PATCH', '/api/settings', { 'live.reason': 'required' });
    assert(r.status === 200, `settings ${r.status}`);
    await signIn('vera', 'user-password-1');
    await page.waitForSelector('#reason-dialog[open]');
    await page.fill('#reason-text', 'checking the loading bay after an alarm');
    await page.setViewportSize({ width: 390, height: 844 });
    await noSideScroll('reason dialog');
    await shot('audit-reason-390.png');
    await page.setViewportSize({ width: 1440, height: 900 });
    await shot('audit-reason-1440.png');
    await page.click('#reason-dialog button[type="submit"]');
    await waitFor('a live view with the reason', async () => {
      const a = await (await call(admin, 'GET', '/api/audit?action=live.start&user=vera')).json();
      return a.entries && a.entries.some((e) => e.detail.reason === 'checking the loading bay after an alarm');
    }, 20000, 500);
    /* a new sign-in (another session) must give it again */
    const resp = await call(await login('vera', 'user-password-1'), 'GET', '/api/cameras/front/live.mp4');
    if (resp.status !== 400) await resp.body.cancel();
    assert(resp.status === 400, `without a reason: ${resp.status}`);
    const refused = await resp.json();
    assert(refused.error === 'a reason is required', `without a reason: ${JSON.stringify(refused)}`);
    await signOut();
    await call(admin, 'PATCH', '/api/settings', { 'live.reason': 'optional' });
  });

  await check('reel.db edited behind the server: "Verify the chain" names the entry', async () => {
    /* the server writes reel.db meanwhile: wait for its lock instead of failing at once */
    const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', path.join(data, 'reel.db'),
      "UPDATE audit SET detail = replace(detail, 'not-used', 'x'), user = 'nobody' WHERE id = 3"], { encoding: 'utf8' });
    assert(r.status === 0, `sqlite3: ${r.stderr}`);
    await signIn('audrey', 'user-password-1');
    await page.waitForSelector('.aud-chain-state');
    await waitFor('tampering shown', async () => /Tampered: entry 3 was changed/.test(
      await page.textContent('.aud-chain-state')), 10000);
    await both('audit-tampered', '#/audit tampered');
  });

  await check('no CSP violation or script error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => { if (browserCtx) await browserCtx.close(); }, []);
