// SPDX-License-Identifier: GPL-3.0-or-later
//
// Screenshots of "Find cameras (ONVIF)" in the add-camera dialog (issue
// 15), at 1440 and 390 px: reel-sim, the ONVIF simulator (sim/onvif-sim.py,
// discovery on) and `reel run`; search, pick the device, enter its password,
// get the stream URLs (main and sub filled in). Not part of the suite (the
// discovery path is covered by tests/integration/test_onvif.py); run as root
// inside a network namespace so that multicast stays local:
//   ip netns add shots; ip -n shots link set lo up; ip -n shots link set lo multicast on
//   ip -n shots route add 224.0.0.0/4 dev lo
//   ip netns exec shots node tests/browser/onvif-shots.mjs DIR
import fs from 'node:fs';
import path from 'node:path';

import { REEL, assert, freePort, loadChromium, makeHarness, root, sleep, waitFor } from './harness.mjs';

const shotDir = path.resolve(process.argv[2] || 'docs/img');
const chromium = await loadChromium();
const h = makeHarness('reel-onvif-shots-');
const { data, start, reel, startSim, readInitialPassword } = h;
let ctx = null;

async function main() {
  const simPort = await startSim('sim', 'h264', '264');
  const osim = start('onvif', 'python3', [path.join(root, 'sim/onvif-sim.py'), '--name', 'Front Door',
    '--hardware', 'DS-2CD2143', '--password', 'cam-pass-1', '--rtsp-main', `rtsp://127.0.0.1:${simPort}/cam/0`,
    '--rtsp-sub', `rtsp://127.0.0.1:${simPort}/cam/0?sub=1`]);
  reel('init');
  const account = readInitialPassword();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  start('reel', REEL, ['-d', data, 'run', '--http', `127.0.0.1:${port}`]);
  await waitFor('reel run', async () => (await fetch(`${base}/api/health`).catch(() => ({ status: 0 }))).status === 200,
    20000);
  await sleep(500);
  assert(osim.exitCode === null, 'onvif-sim exited');
  ctx = await h.launchPersistent(chromium);
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(20000);
  await h.check('find a camera by ONVIF and fill its stream URLs', async () => {
    await page.setViewportSize({ width: 1440, height: 1100 });
    await page.goto(`${base}/`);
    await page.getByLabel('User name').fill(account.user);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    await page.goto(`${base}/#/cameras`);
    await page.getByRole('button', { name: 'Add camera' }).click();
    const dlg = page.locator('dialog.adm-dialog');
    await dlg.locator('summary', { hasText: 'Find cameras (ONVIF)' }).click();
    await dlg.getByRole('button', { name: 'Search the network' }).click();
    await dlg.locator('.adm-onvif-dev').first().waitFor({ state: 'visible' });
    await dlg.locator('.adm-onvif-dev').first().click();
    await dlg.getByLabel('ONVIF password').fill('cam-pass-1');
    await dlg.getByRole('button', { name: 'Get stream URLs' }).click();
    await dlg.locator('.adm-onvif-prof .adm-ok').waitFor({ state: 'visible' });
    const main = await dlg.getByLabel('Main stream URL').inputValue();
    assert(main === `rtsp://127.0.0.1:${simPort}/cam/0`, `main: ${main}`);
    const name = await dlg.getByLabel('Name', { exact: true }).inputValue();
    assert(name === 'Front-Door', `name: ${name}`);
    fs.mkdirSync(shotDir, { recursive: true });
    await sleep(300);
    await page.screenshot({ path: path.join(shotDir, 'onvif-find-1440.png') });
    await page.setViewportSize({ width: 390, height: 1400 });
    await sleep(300);
    await page.screenshot({ path: path.join(shotDir, 'onvif-find-390.png') });
  });
}

h.runMain(main, async () => { if (ctx) await ctx.close(); }, []);
