// SPDX-License-Identifier: GPL-3.0-or-later
//
// Reel's browser test: the real recorder, the real HTTP server and the real
// page in Debian's chromium, driven by playwright-core (no downloaded
// browser). It starts reel-sim (an H.264 and an H.265 camera), `reel init`
// (reading the admin password from the file it writes), adds both cameras, runs
// `reel run --http 127.0.0.1:PORT`, lets it record ~8 s, then checks, one
// case at a time: the page without a session shows the sign-in form and the
// API answers 401; a wrong password is refused; signing in through the form
// works; the camera list shows the live camera; the H.264 camera plays a
// recorded range to currentTime >= 3 s without error and its download link
// serves the MP4 (Range too); what the H.265 camera does in this browser;
// no CSP violation or script error happened; signing out ends the session.
// Prints "ok"/"not ok" per case and a last line "N passed, N failed"; exit
// status 0 only when all passed, 77 (skip) when chromium or playwright-core
// is missing.
//
// Environment (meson sets the first three): REEL, REEL_SIM, REEL_CLIPS;
// REEL_CHROMIUM (default /usr/bin/chromium); REEL_KEEP_TMP=1 keeps the
// temporary directory. REEL_TEST_URL (with REEL_TEST_USER, REEL_TEST_PASSWORD)
// runs the browser cases against a server already running, with cameras
// cam264 and cam265, instead of starting one. Options: --screenshot FILE also writes the
// screenshot there (docs/img/web.png is made this way).
// Run it with tests/browser/run.sh, which does `npm ci` first when needed.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CHROMIUM, CLIPS, REEL, REEL_SIM, assert, freePort, loadChromium, makeHarness, reportCsp, requireFiles, sleep,
  waitFor, watchProblems,
} from './harness.mjs';

const RECORD_MS = 8000;

const args = process.argv.slice(2);
const shotArg = args.indexOf('--screenshot');
const screenshotOut = shotArg >= 0 ? path.resolve(args[shotArg + 1]) : null;

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['REEL_SIM', REEL_SIM], ['H.264 clip', path.join(CLIPS, 'h264.264')],
  ['H.265 clip', path.join(CLIPS, 'h265.265')]], `build first; clips: tests/data/make-clips.sh ${CLIPS}`);

// ---- processes ----

const h = makeHarness('reel-browser-');
const { tmp, data, procs, start, killAll, stop, reel, logs, startSim, readInitialPassword, check } = h;
let browserCtx = null;

// ---- cases ----

const notes = [];

async function main() {
  // Set-up failures are one failed case, with the logs.
  let base;
  let account;
  if (process.env.REEL_TEST_URL) {
    // Against a server that is already running (developing the page).
    base = process.env.REEL_TEST_URL.replace(/\/$/, '');
    account = { user: process.env.REEL_TEST_USER || 'admin', password: process.env.REEL_TEST_PASSWORD };
  } else try {
    const port264 = await startSim('sim264', 'h264', '264');
    const port265 = await startSim('sim265', 'h265', '265');
    const initOut = reel('init');
    account = readInitialPassword();
    assert(account.password, `no initial-admin-password file after reel init:\n${initOut}`);
    reel('camera', 'add', 'cam264', `rtsp://127.0.0.1:${port264}/cam/0`);
    reel('camera', 'add', 'cam265', `rtsp://127.0.0.1:${port265}/cam/0`);
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    const rec = start('reel', REEL, ['-d', data, 'run', '--http', `127.0.0.1:${httpPort}`]);
    await waitFor('GET /api/health', async () => {
      if (rec.exitCode !== null) throw new Error('reel run exited');
      const r = await fetch(`${base}/api/health`);
      return r.status === 200 && (await r.json()).ok === true;
    }, 20000);
    await sleep(RECORD_MS);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel-sim, reel init, camera add, reel run --http)\n  ${e.stack || e}\n${logs()}`);
    return;
  }

  await check('without a session the API answers 401 and the page is served with a CSP', async () => {
    const r = await fetch(`${base}/api/cameras`);
    assert(r.status === 401, `GET /api/cameras without a session: ${r.status}, expected 401`);
    const p = await fetch(`${base}/`);
    assert(p.status === 200, `GET /: ${p.status}`);
    assert(/text\/html/.test(p.headers.get('content-type') || ''), `GET / content-type ${p.headers.get('content-type')}`);
    const csp = p.headers.get('content-security-policy') || '';
    assert(/default-src 'self'/.test(csp), `GET / has no CSP default-src 'self': "${csp}"`);
    for (const d of ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"])
      assert(csp.split(';').map((s) => s.trim()).includes(d), `GET / CSP lacks ${d}: "${csp}"`);
  });

  browserCtx = await h.launchPersistent(chromium);
  const page = browserCtx.pages()[0] || await browserCtx.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  /* answers the page expects and handles: 401, 404 (a snapshot not there
   * yet), 409 (camera offline), 501 (no transcoding), 503 (viewer cap) */
  watchProblems(page, problems, /status of (40[1349]|50[13])/);
  await reportCsp(page);
  const shown = (sel) => page.locator(sel).isVisible();

  await check('the page without sign-in shows the sign-in form', async () => {
    await page.goto(`${base}/`);
    await page.locator('#login-view').waitFor({ state: 'visible' });
    assert(!(await shown('#app-view')), 'the camera view is visible before sign-in');
    assert(await page.getByLabel('User name').isVisible(), 'no visible field labelled "User name"');
    assert(await page.getByLabel('Password').isVisible(), 'no visible field labelled "Password"');
    const st = await page.evaluate(async () => (await fetch('/api/cameras')).status);
    assert(st === 401, `fetch('/api/cameras') from the page without a session: ${st}`);
  });

  await check('a wrong password is refused', async () => {
    await page.getByLabel('User name').fill(account.user);
    await page.getByLabel('Password').fill(`${account.password}-wrong`);
    await page.click('#login-submit');
    await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
    const msg = await page.textContent('#login-error');
    assert(/wrong/i.test(msg), `login error says "${msg}"`);
    assert(!(await shown('#app-view')), 'signed in with a wrong password');
  });

  await check('signing in through the form shows the cameras', async () => {
    await page.getByLabel('User name').fill(account.user);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    assert((await page.textContent('#user-name')) === account.user, 'user name not shown');
    const cookies = await browserCtx.cookies(base);
    const c = cookies.find((x) => x.name === 'reel_session');
    assert(c, 'no reel_session cookie');
    assert(c.httpOnly, 'reel_session is not HttpOnly');
    assert(c.sameSite === 'Strict', `reel_session SameSite=${c.sameSite}`);
  });

  await check('the shell: Live is the default page; the nav leads to Playback, the admin pages and back', async () => {
    await page.locator('#live-view').waitFor({ state: 'visible' });
    assert(await page.locator('#nav a[href="#/live"]').getAttribute('aria-current') === 'page', 'Live not current');
    assert(await page.locator('#nav-users').isVisible(), 'the admin sees no Users link');
    for (const r of ['cameras', 'storage', 'users']) {
      await page.click(`#nav a[href="#/${r}"]`);
      await page.locator('#admin-view').waitFor({ state: 'visible' });
      assert(!(await shown('#live-view')), `#/${r}: the live view is still shown`);
      const hasAdmin = await page.evaluate(() => !!window.reelAdmin);
      if (!hasAdmin) {
        assert(/not available/.test(await page.textContent('#admin-missing')), `#/${r} says nothing without admin.js`);
      } else {
        assert(await page.locator('#admin-root').evaluate((e) => e.childElementCount > 0), `#/${r}: admin.js drew nothing`);
      }
    }
    await page.getByRole('link', { name: 'Timeline' }).click();
    await page.locator('#timeline-view').waitFor({ state: 'visible' });
    assert(!(await shown('#admin-view')), 'the admin view is still shown');
    /* the range player (view.mp4 downloads), the former Playback page */
    await page.evaluate(() => { location.hash = '#/ranges'; });
    await page.locator('#playback-view').waitFor({ state: 'visible' });
  });

  await check('the camera list shows the live state', async () => {
    const li = page.locator('li[data-name="cam264"]');
    await li.waitFor({ state: 'visible' });
    await page.waitForFunction(() => {
      const b = document.querySelector('li[data-name="cam264"] .badge');
      return b && b.classList.contains('ok');
    }, null, { timeout: 20000 });
    const details = await li.locator('.details').textContent();
    assert(/fps/.test(details), `details of cam264: "${details}"`);
    assert(/H\.264 640×360/.test(details), `codec/size missing in "${details}"`);
    assert(await page.locator('li[data-name="cam265"]').isVisible(), 'cam265 is not listed');
  });

  let mp4Url = null;
  await check('H.264: pick the camera, play a recorded range to >= 3 s without error', async () => {
    await page.getByRole('button', { name: 'cam264' }).click();
    await page.locator('#player').waitFor({ state: 'visible' });
    await page.locator('#timeline .seg.span').first().waitFor({ state: 'attached' });
    assert((await page.inputValue('#range-start')) !== '', 'no default range');
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    const res = await page.waitForFunction(() => {
      const v = document.getElementById('video');
      if (v.error) return { error: v.error.code, msg: v.error.message };
      return v.currentTime >= 3 ? { t: v.currentTime, d: v.duration, w: v.videoWidth } : null;
    }, null, { timeout: 30000 }).then((h) => h.jsonValue());
    assert(!res.error, `video error ${res.error} ${res.msg}; page says "${await page.textContent('#range-error')}"`);
    assert(res.w === 640, `videoWidth ${res.w}`);
    assert(res.d >= 5, `duration ${res.d} s for ~${RECORD_MS / 1000} s recorded`);
    assert((await page.textContent('#range-error')) === '', 'an error message is shown');
    mp4Url = await page.getAttribute('#download', 'href');
    assert(await page.locator('#download').isVisible(), 'no download link');
    assert(/\/api\/cameras\/cam264\/view\.mp4\?start=.+&end=.+/.test(mp4Url), `download link ${mp4Url}`);
    await page.evaluate(() => document.getElementById('video').pause());
    const shot = path.join(tmp, 'web.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (screenshotOut) fs.copyFileSync(shot, screenshotOut);
  });

  await check('the download link serves the MP4, whole and by Range', async () => {
    assert(mp4Url, 'no download link from the previous case');
    const r = await page.evaluate(async (u) => {
      const full = await fetch(u);
      const buf = new Uint8Array(await full.arrayBuffer());
      const part = await fetch(u, { headers: { Range: 'bytes=4-7' } });
      return {
        status: full.status, type: full.headers.get('content-type'), len: buf.length,
        ftyp: String.fromCharCode(...buf.slice(4, 8)),
        pstatus: part.status, prange: part.headers.get('content-range'),
        pbody: String.fromCharCode(...new Uint8Array(await part.arrayBuffer())),
      };
    }, mp4Url);
    assert(r.status === 200, `GET view.mp4: ${r.status}`);
    assert(r.type === 'video/mp4', `content-type ${r.type}`);
    assert(r.ftyp === 'ftyp', `first box is "${r.ftyp}", not ftyp`);
    assert(r.len > 100000, `only ${r.len} bytes`);
    assert(r.pstatus === 206, `Range request: ${r.pstatus}`);
    assert(r.prange === `bytes 4-7/${r.len}`, `Content-Range ${r.prange}`);
    assert(r.pbody === 'ftyp', `Range body "${r.pbody}"`);
  });

  await check('H.265: plays, or the page says the browser cannot decode it', async () => {
    await page.getByRole('button', { name: 'cam265' }).click();
    await page.locator('#timeline .seg.span').first().waitFor({ state: 'attached' });
    const canPlay = await page.evaluate(() =>
      document.createElement('video').canPlayType('video/mp4; codecs="hvc1.1.6.L93.B0"'));
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    const res = await page.waitForFunction(() => {
      const v = document.getElementById('video');
      if (v.error) return { error: v.error.code };
      return v.currentTime >= 3 ? { t: v.currentTime } : null;
    }, null, { timeout: 30000 }).then((h) => h.jsonValue());
    if (res.error) {
      const msg = await page.textContent('#range-error');
      assert(/H\.265/.test(msg), `H.265 failed (error ${res.error}) without saying why: "${msg}"`);
      notes.push(`H.265 does not play in this chromium (canPlayType "${canPlay}", MediaError ${res.error}); the page says so`);
    } else {
      notes.push(`H.265 plays in this chromium (canPlayType "${canPlay}")`);
    }
  });

  await check('no CSP violation, script error or unexpected console error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });

  await check('signing out shows the form and ends the session', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#login-view').waitFor({ state: 'visible' });
    assert(!(await shown('#app-view')), 'camera view still visible');
    const st = await page.evaluate(async () => (await fetch('/api/cameras')).status);
    assert(st === 401, `GET /api/cameras after sign-out: ${st}`);
    await page.reload();
    await page.locator('#login-view').waitFor({ state: 'visible' });
  });

  if (!process.env.REEL_TEST_URL) {
    await check('reel run --tls: the page over HTTPS (self-signed, accepted), a __Host- Secure cookie', async () => {
      // its own data directory (the first one is locked by the recorder)
      const data2 = path.join(tmp, 'data-tls');
      const init = spawnSync(REEL, ['-d', data2, 'init'], { encoding: 'utf8', timeout: 60000 });
      assert(init.status === 0, `reel init: ${init.stdout}${init.stderr}`);
      const acc = readInitialPassword(data2);
      assert(acc.password, `no initial-admin-password file in ${data2}`);
      const port2 = await freePort();
      const rec2 = start('reel-tls', REEL, ['-d', data2, 'run', '--tls', '--http', `127.0.0.1:${port2}`]);
      const log2 = path.join(tmp, 'reel-tls.log');
      await waitFor('reel run --tls to listen', async () => {
        if (rec2.exitCode !== null) throw new Error('reel run --tls exited');
        return /listening on https:/.test(fs.readFileSync(log2, 'utf8'));
      }, 20000);
      await browserCtx.close();
      browserCtx = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(tmp, 'chromium-tls-')), {
        executablePath: CHROMIUM,
        headless: true,
        ignoreHTTPSErrors: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const p2 = browserCtx.pages()[0] || await browserCtx.newPage();
      p2.setDefaultTimeout(15000);
      const errs = [];
      p2.on('pageerror', (e) => errs.push(`script error: ${e.message}`));
      const base2 = `https://127.0.0.1:${port2}`;
      const resp = await p2.goto(`${base2}/`);
      assert(resp.headers()['strict-transport-security'] === 'max-age=31536000',
        `no HSTS on GET /: ${JSON.stringify(resp.headers())}`);
      await p2.locator('#login-view').waitFor({ state: 'visible' });
      await p2.getByLabel('User name').fill(acc.user);
      await p2.getByLabel('Password').fill(acc.password);
      await p2.getByRole('button', { name: 'Sign in' }).click();
      await p2.locator('#app-view').waitFor({ state: 'visible' });
      const cookies = await browserCtx.cookies(base2);
      const c = cookies.find((x) => x.name === '__Host-reel_session');
      assert(c, `no __Host-reel_session cookie: ${JSON.stringify(cookies)}`);
      assert(c.secure && c.httpOnly && c.sameSite === 'Strict' && c.path === '/',
        `cookie flags: ${JSON.stringify(c)}`);
      assert(!cookies.some((x) => x.name === 'reel_session'), 'a plain reel_session cookie too');
      const st = await p2.evaluate(async () => (await fetch('/api/cameras')).status);
      assert(st === 200, `GET /api/cameras over HTTPS with the session: ${st}`);
      assert(errs.length === 0, errs.join('\n'));
      await stop(rec2);
    });
  }
}

await h.runMain(main, async () => {
  if (browserCtx) await browserCtx.close().catch(() => {});
}, notes);
