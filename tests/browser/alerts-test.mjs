// SPDX-License-Identifier: GPL-3.0-or-later
//
// The Alerts page (src/web/notify.js, #/alerts) in Debian's chromium against
// the real recorder and a webhook receiver run by this test (node's http
// server on 127.0.0.1): an operator has no Alerts link and GET /api/webhooks
// answers 403; an administrator adds a webhook through the dialog and the
// signing secret is shown once; "Send test" reaches the receiver with
// X-Reel-Signature = sha256=HMAC-SHA256(secret, timestamp "." body) of that
// secret (checked here with node's crypto); with the receiver answering 500
// the card says the note is waiting and Pending lists it with the error;
// Pause and Delete work from the card; at 390 px nothing scrolls sideways;
// no CSP violation or script error. --screenshots DIR writes alerts-1440.png
// and alerts-390.png. Run with tests/browser/run.sh --alerts.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  CLIPS, REEL, REEL_SIM, assert, assertNoSideScroll, loadChromium, makeHarness, pageApi, requireFiles, screenshotDir,
  signInAt, signOutOf, sleep, waitFor,
} from './harness.mjs';

const shotDir = screenshotDir();

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')]],
  `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-alerts-');
const { tmp, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

/* The receiver: every POST kept with its headers and body; answers `status`. */
const got = [];
const receiver = { status: 200 };
const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size <= 1 << 20) chunks.push(c);
  });
  req.on('end', () => {
    got.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(receiver.status, { 'Content-Type': 'text/plain' });
    res.end(receiver.status === 200 ? 'ok' : 'receiver says no');
  });
});

async function main() {
  let base;
  let account;
  let hookUrl;
  try {
    await new Promise((res) => server.listen(0, '127.0.0.1', res));
    hookUrl = `http://127.0.0.1:${server.address().port}/hooks/reel`;
    const simPort = await startSim('sim', 'h264', '264');
    reel('init');
    account = readInitialPassword();
    assert(account.password, 'no initial-admin-password file after reel init');
    reel('camera', 'add', 'porch', `rtsp://127.0.0.1:${simPort}/cam/0`);
    const pw = path.join(tmp, 'opal.pw');
    fs.writeFileSync(pw, 'opal-password-1\n');
    reel('user', 'add', 'opal', '--role', 'operator', '--password-file', pw, '--cameras', 'porch');
    base = await h.startReel(['--backoff-max-s', '1']);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (receiver, reel-sim, reel init, users, reel run --http)\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  /* 403: the operator's refused GET /api/webhooks; 500: the receiver's answer shown in Pending */
  const { ctx, page, problems } = await h.openPage(chromium, /status of (40[1349]|503)/);
  browserCtx = ctx;
  const api = pageApi(page);
  const card = () => page.locator('section.al-card').filter({ hasText: 'front door hook' }).first();

  await check('an operator has no Alerts link and GET /api/webhooks answers 403', async () => {
    await signInAt(page, base, 'opal', 'opal-password-1');
    await sleep(500);
    assert(await page.locator('#nav-alerts').isHidden(), 'an operator sees the Alerts link');
    const r = await api('GET', '/api/webhooks');
    assert(r.status === 403, `GET /api/webhooks as an operator: ${r.status}`);
    await signOutOf(page);
  });

  let secret = null;
  await check('an administrator adds a webhook in the dialog; the secret is shown once', async () => {
    await signInAt(page, base, account.user, account.password);
    await page.locator('#nav-alerts').click();
    await page.locator('#al-add').click();
    const dlg = page.locator('dialog.adm-dialog[aria-label="Add a webhook"]');
    await dlg.waitFor({ state: 'visible' });
    await dlg.getByLabel('Name').fill('front door hook');
    await dlg.getByLabel('URL').fill(hookUrl);
    await dlg.getByRole('button', { name: 'Add webhook' }).click();
    const sd = page.locator('dialog.adm-dialog[aria-label="Webhook secret"]');
    await sd.waitFor({ state: 'visible' });
    secret = await sd.locator('input.al-secret').inputValue();
    assert(secret.length >= 16, `secret "${secret}"`);
    await sd.getByRole('button', { name: 'Done' }).click();
    await card().waitFor();
    const t = await card().textContent();
    assert(t.includes('Delivering'), `card: ${t}`);
    const list = await api('GET', '/api/webhooks');
    assert(list.status === 200 && list.json.webhooks.length === 1, JSON.stringify(list.json));
    assert(!JSON.stringify(list.json).includes(secret), 'the list shows the secret again');
  });

  await check('Send test reaches the receiver, signed with that secret', async () => {
    assert(secret, 'no secret from the previous case');
    await card().getByRole('button', { name: 'Send test' }).click();
    const p = await waitFor('a POST at the receiver', async () => got.find((x) => x.method === 'POST'), 15000, 100);
    assert(p.url === '/hooks/reel', p.url);
    const ts = p.headers['x-reel-timestamp'];
    const sig = p.headers['x-reel-signature'];
    assert(ts && sig && p.headers['x-reel-delivery'], JSON.stringify(p.headers));
    const want = 'sha256=' + crypto.createHmac('sha256', secret).update(`${ts}.${p.body}`).digest('hex');
    assert(sig === want, `signature ${sig}, computed ${want}`);
    const b = JSON.parse(p.body);
    assert(b.event && b.event.kind === 'test' && b.type === 'instant', p.body);
    assert(Math.abs(Number(ts) - Date.now() / 1000) < 120, `timestamp ${ts}`);
  });

  await check('a receiver answering 500: the card says waiting, Pending lists the error', async () => {
    receiver.status = 500;
    const before = got.length;
    await card().getByRole('button', { name: 'Send test' }).click();
    await waitFor('the refused POST', async () => got.length > before, 15000, 100);
    await waitFor('the card saying waiting', async () => {
      await page.goto(`${base}/#/alerts`);
      await card().waitFor();
      return /waiting/.test(await card().textContent());
    }, 20000, 1000);
    await card().getByRole('button', { name: 'Pending' }).click();
    const row = card().locator('.al-deliveries tbody tr').first();
    await row.waitFor();
    const t = await row.textContent();
    assert(/Test/.test(t) && /500/.test(t), `pending row: ${t}`);
    if (shotDir) {
      fs.mkdirSync(shotDir, { recursive: true });
      await page.setViewportSize({ width: 1440, height: 900 });
      await sleep(300);
      await page.screenshot({ path: path.join(shotDir, 'alerts-1440.png') });
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    await assertNoSideScroll(page, '#/alerts at 390 px');
    if (shotDir) await page.screenshot({ path: path.join(shotDir, 'alerts-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1000, height: 900 });
    receiver.status = 200;
  });

  await check('Pause and Delete from the card', async () => {
    await card().getByRole('button', { name: 'Pause' }).click();
    await waitFor('paused', async () => /Paused/.test(await card().textContent()), 10000, 200);
    let r = await api('GET', '/api/webhooks');
    assert(r.json.webhooks[0].enabled === false, JSON.stringify(r.json));
    await card().getByRole('button', { name: 'Delete' }).click();
    const confirm = page.locator('dialog.adm-dialog').last();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No webhooks yet.').waitFor();
    r = await api('GET', '/api/webhooks');
    assert(r.json.webhooks.length === 0, JSON.stringify(r.json));
  });

  await check('no CSP violation or script error', async () => {
    const bad = problems.filter((p) => !/status of 500/.test(p));
    assert(!bad.length, bad.join('\n'));
  });
}

await h.runMain(main, async () => {
  server.close();
  if (browserCtx) await browserCtx.close().catch(() => {});
}, []);
