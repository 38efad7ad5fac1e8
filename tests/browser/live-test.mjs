// SPDX-License-Identifier: GPL-3.0-or-later
//
// Reel's live view in a browser: the real recorder and HTTP server, the
// real page (src/web/live.js) in Debian's chromium driven by playwright-core.
// Cameras: cam-a (reel-sim, with a sub-stream), cam-b (reel-sim, stopped
// and restarted on the same port), cam-c (GStreamer's RTSP server,
// tests/integration/gst_rtsp_server.py; a second reel-sim when the gi
// bindings are missing), cam-d (reel-sim) and cam-h265 (reel-sim, H.265).
// Cases: the 4-tile grid plays (all four tiles 'playing' with frames
// advancing, the sub-stream used where there is one); first picture and
// steady delay per tile (measured by the page: tile.dataset.firstPictureMs
// from opening the stream to the first frame shown, tile.dataset.delayMs =
// now - the recorder's receipt time of the frame on screen from the prft
// box), printed; the camera page plays the main stream; a camera whose
// server is killed and started again reconnects on its own; the H.265
// camera plays (natively, or through the server's stream=h264; skipped
// when this build answers 501 to stream=h264); a hidden tab stops the
// streams and a shown one restarts them; the layout is remembered; the
// phone layout (390x844) has no horizontal scroll, a collapsed nav and
// visible tiles, and a tile off screen does not stream until scrolled to;
// no CSP violation or script error.
// Prints "ok"/"not ok"/"ok # SKIP" per case, "# ..." figures and a last line
// "N passed, N failed".
//
// Environment (meson sets them): REEL, REEL_SIM, REEL_CLIPS, REEL_GST_SERVER;
// REEL_CHROMIUM (default /usr/bin/chromium); REEL_KEEP_TMP=1 keeps the
// temporary directory. Options: --screenshots DIR writes live-grid.png,
// live-camera.png and live-phone.png there (docs/img/ is made this way).
// Run it with tests/browser/run.sh --live.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CHROMIUM, CHROMIUM_ARGS, CLIPS, REEL, REEL_SIM, alive, assert, freePort, loadChromium, makeHarness, reportCsp, root,
  screenshotDir, Skip, sleep, waitFor, watchProblems,
} from './harness.mjs';

const GST = process.env.REEL_GST_SERVER || path.join(root, 'tests/integration/gst_rtsp_server.py');

/* The targets; the test prints whether they were met and fails
 * only beyond the looser bounds below (a loaded 2-core CI machine). */
const TARGET_FIRST_MS = 500;
const TARGET_DELAY_MS = 500;
const BOUND_FIRST_MS = 5000;
const BOUND_DELAY_MS = 2000;

const shotDir = screenshotDir();

const chromium = await loadChromium();

const h = makeHarness('reel-live-');
const { tmp, data, procs, start, killAll, reel, check } = h;
const logs = () => h.logs(3000);
let browser = null;

async function stop(p, sig = 'SIGTERM', timeoutMs = 15000) {
  if (!alive(p)) return;
  process.kill(-p.pid, sig);
  const t = setTimeout(() => {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch (e) {
      /* gone */
    }
  }, timeoutMs);
  await p.exited;
  clearTimeout(t);
}

async function startSim(name, codec, clip, port = 0, extra = []) {
  const ready = path.join(tmp, `${name}.ready`);
  fs.rmSync(ready, { force: true });
  const p = start(name, REEL_SIM, ['--clip', path.join(CLIPS, clip), '--codec', codec,
    '--listen', '127.0.0.1', '--port', String(port), '--ready-file', ready, ...extra]);
  const got = await waitFor(`${name} ready file`, async () => {
    if (!alive(p)) throw new Error(`${name} exited`);
    const s = fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim();
    return s && Number(s);
  }, 15000);
  return { proc: p, port: got };
}

function gstUsable() {
  if (!fs.existsSync(GST)) return false;
  const r = spawnSync('/usr/bin/python3', ['-c',
    'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer'],
  { encoding: 'utf8', timeout: 20000 });
  return r.status === 0;
}

async function startGst(name) {
  const port = await freePort();
  const ready = path.join(tmp, `${name}.ready`);
  const p = start(name, '/usr/bin/python3', [GST, '--port', String(port), '--clip', path.join(CLIPS, 'h264.mp4'),
    '--codec', 'h264', '--mount', '/cam', '--ready-file', ready]);
  await waitFor(`${name} ready file`, async () => {
    if (!alive(p)) throw new Error(`${name} exited`);
    return fs.existsSync(ready);
  }, 20000);
  return { proc: p, port };
}

// ---- cases ----

const notes = [];

const tileSel = (cam) => `.tile[data-camera="${cam}"]`;

/* The tile's dataset, or null. */
function tileData(page, cam) {
  return page.evaluate((sel) => {
    const t = document.querySelector(sel);
    return t ? { ...t.dataset } : null;
  }, tileSel(cam));
}

/* Waits until the tile is 'playing' and its frame count moves. */
async function waitPlaying(page, cam, timeoutMs) {
  const first = await waitFor(`${cam} playing`, async () => {
    const d = await tileData(page, cam);
    return d && d.state === 'playing' && Number(d.frames || 0) > 0 ? d : null;
  }, timeoutMs, 100).catch(async (e) => {
    throw new Error(`${e.message}; tile: ${JSON.stringify(await tileData(page, cam))}`);
  });
  const n0 = Number(first.frames);
  await waitFor(`${cam} frames advancing`, async () => {
    const d = await tileData(page, cam);
    return d && d.state === 'playing' && Number(d.frames) >= n0 + 5;
  }, 10000, 100).catch(async (e) => {
    throw new Error(`${e.message}; tile: ${JSON.stringify(await tileData(page, cam))}`);
  });
  return first;
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

async function main() {
  let base;
  let account;
  const sims = {};
  let camC = 'GStreamer';
  try {
    sims.a = await startSim('sim-a', 'h264', 'h264.264', 0, ['--cameras', '2']);
    sims.b = await startSim('sim-b', 'h264', 'h264.264');
    if (gstUsable()) {
      sims.c = await startGst('gst-c');
    } else {
      camC = 'reel-sim (no GStreamer RTSP server here)';
      sims.c = await startSim('sim-c', 'h264', 'h264.264');
    }
    sims.d = await startSim('sim-d', 'h264', 'h264.264');
    sims.e = await startSim('sim-e', 'h265', 'h265.265');
    reel('init');
    const pwFile = path.join(data, 'initial-admin-password');
    account = { user: 'admin', password: fs.readFileSync(pwFile, 'utf8').trim() };
    reel('camera', 'add', 'cam-a', `rtsp://127.0.0.1:${sims.a.port}/cam/0`,
      '--sub-url', `rtsp://127.0.0.1:${sims.a.port}/cam/1`);
    reel('camera', 'add', 'cam-b', `rtsp://127.0.0.1:${sims.b.port}/cam/0`);
    reel('camera', 'add', 'cam-c', `rtsp://127.0.0.1:${sims.c.port}/${sims.c.proc.name === 'gst-c' ? 'cam' : 'cam/0'}`);
    reel('camera', 'add', 'cam-d', `rtsp://127.0.0.1:${sims.d.port}/cam/0`);
    reel('camera', 'add', 'cam-h265', `rtsp://127.0.0.1:${sims.e.port}/cam/0`);
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    const rec = start('reel', REEL, ['-d', data, 'run', '--http', `127.0.0.1:${httpPort}`]);
    await waitFor('GET /api/health', async () => {
      if (!alive(rec)) throw new Error('reel run exited');
      const r = await fetch(`${base}/api/health`);
      return r.status === 200;
    }, 20000);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel-sim, GStreamer RTSP server, reel init, camera add, reel run)\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  notes.push(`cam-c is served by ${camC}`);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const problems = [];
  const watch = (p) => {
    p.setDefaultTimeout(15000);
    /* answers the page expects and handles: 401/404 (no snapshot yet), 409
     * (camera offline), 501 (no transcoding), 503 (viewer cap) */
    watchProblems(p, problems, /status of (40[1349]|50[13])/);
  };
  await reportCsp(ctx);
  const page = await ctx.newPage();
  watch(page);

  // Sign in, and make sure every camera records before the grid opens.
  await check('sign in; the recorder has all five cameras connected', async () => {
    await page.goto(`${base}/`);
    await page.getByLabel('User name').fill(account.user);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    await waitFor('all cameras connected', () => page.evaluate(async () => {
      const r = await fetch('/api/cameras');
      const j = await r.json();
      return j.cameras.length === 5 && j.cameras.every((c) => c.connected);
    }), 30000, 250);
  });

  await check('the 4-tile grid plays: all four tiles playing, frames advancing, the sub-stream where there is one', async () => {
    await page.evaluate(() => { location.hash = '#/live'; });
    await page.locator('#live-view').waitFor({ state: 'visible' });
    await page.click('#live-view .layout[data-n="4"]');
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile').length === 4);
    const names = await page.$$eval('#grid .tile', (ts) => ts.map((t) => t.dataset.camera));
    assert(JSON.stringify(names) === JSON.stringify(['cam-a', 'cam-b', 'cam-c', 'cam-d']), `tiles ${names}`);
    await Promise.all(names.map((n) => waitPlaying(page, n, 20000)));
    const a = await tileData(page, 'cam-a');
    assert(a.stream === 'sub', `cam-a plays stream ${a.stream}, not its sub-stream`);
    const b = await tileData(page, 'cam-b');
    assert(b.stream === 'main', `cam-b plays stream ${b.stream}`);
    assert(await page.locator('#live-view .pager').isHidden() === false, 'no pager with 5 cameras in a 4-grid');
  });

  await check(`first picture (target <= ${TARGET_FIRST_MS} ms) and steady delay (target <= ${TARGET_DELAY_MS} ms) per tile`, async () => {
    /* steady: after the tiles caught up with the live edge (a tile starts at
     * the cached GOP's key frame and catches up by jumping or playing faster) */
    await sleep(5000);
    const samples = {};
    const parts = {};
    const lastFrames = {};
    for (let i = 0; i < 12; i++) {
      for (const n of ['cam-a', 'cam-b', 'cam-c', 'cam-d']) {
        const d = await tileData(page, n);
        /* only while its picture moves (the GStreamer clip ends after 10 s:
         * a frozen last frame's "delay" grows, and says nothing) */
        const moving = d && Number(d.frames) > (lastFrames[n] || 0);
        if (d) lastFrames[n] = Number(d.frames);
        if (moving && d.state === 'playing' && d.delayMs !== undefined) {
          (samples[n] ||= []).push(Number(d.delayMs));
          (parts[n] ||= { arrival: [], buffer: [] }).arrival.push(Number(d.arrivalMs));
          parts[n].buffer.push(Number(d.bufferMs));
        }
      }
      await sleep(250);
    }
    const bad = [];
    for (const n of ['cam-a', 'cam-b', 'cam-c', 'cam-d']) {
      const d = await tileData(page, n);
      const first = Number(d.firstPictureMs);
      const s = samples[n] || [];
      const med = median(s);
      const max = s.length ? Math.max(...s) : NaN;
      notes.push(`${n} (${d.stream}): first picture ${first} ms (by ${d.firstPictureBy}), steady delay median ` +
        `${med} ms, max ${max} ms over ${s.length} samples (of which: fragments reach the page ` +
        `${parts[n] ? median(parts[n].arrival) : '?'} ms after the recorder got them, buffered ahead of the play ` +
        `position ${parts[n] ? median(parts[n].buffer) : '?'} ms); targets ${first <= TARGET_FIRST_MS ? 'met' : 'MISSED'}` +
        `/${med <= TARGET_DELAY_MS ? 'met' : 'MISSED'}`);
      if (n === 'cam-c' && s.length < 6) {   /* the GStreamer clip is 10 s long: it may have ended */
        notes.push('cam-c: too few samples for a steady delay (its 10 s clip ended)');
        continue;
      }
      if (!(first <= BOUND_FIRST_MS)) bad.push(`${n}: first picture ${first} ms > ${BOUND_FIRST_MS}`);
      if (!(med <= BOUND_DELAY_MS)) bad.push(`${n}: steady delay ${med} ms > ${BOUND_DELAY_MS}`);
    }
    assert(!bad.length, bad.join('; '));
    if (shotDir) await page.screenshot({ path: path.join(shotDir, 'live-grid.png') });
  });

  await check('a click on a tile opens the camera page: the main stream large, its state, a link to its playback', async () => {
    await page.click(tileSel('cam-a'));
    await page.waitForFunction(() => location.hash === '#/camera/cam-a');
    await page.locator('#camera-view').waitFor({ state: 'visible' });
    await waitPlaying(page, 'cam-a', 20000);
    const d = await tileData(page, 'cam-a');
    assert(d.stream === 'main', `the camera page plays ${d.stream}`);
    assert((await page.textContent('#camera-title')) === 'cam-a', 'title');
    assert(/recording/.test(await page.textContent('#camera-badge')), 'state badge');
    assert((await page.getAttribute('#camera-playback', 'href')) === '#/playback/cam-a', 'playback link');
    await sleep(1500);
    if (shotDir) await page.screenshot({ path: path.join(shotDir, 'live-camera.png') });
    /* "Playback" opens the timeline (issue 13) with this camera played */
    await page.click('#camera-playback');
    await page.locator('#timeline-view').waitFor({ state: 'visible' });
    await page.locator('.tl-chip[data-cam="cam-a"][aria-pressed="true"]').waitFor({ state: 'visible', timeout: 15000 });
  });

  await check('a camera stopped and started again on the same port reconnects on its own', async () => {
    await page.evaluate(() => { location.hash = '#/live'; });
    await waitPlaying(page, 'cam-b', 20000);
    const port = sims.b.port;
    await stop(sims.b.proc, 'SIGKILL');
    await waitFor('cam-b to lose its picture', async () => {
      const d = await tileData(page, 'cam-b');
      return d && d.state !== 'playing';
    }, 20000, 100);
    const why = (await tileData(page, 'cam-b')).reason;
    await sleep(1000);
    sims.b = await startSim('sim-b2', 'h264', 'h264.264', port);
    const t0 = Date.now();
    await waitPlaying(page, 'cam-b', 45000);
    notes.push(`cam-b: after the restart its tile said "${why}" and played again ${Date.now() - t0} ms after the server was back`);
  });

  await check('the H.265 camera plays (natively, or transcoded with stream=h264)', async () => {
    await page.evaluate(() => { location.hash = '#/camera/cam-h265'; });
    const d = await waitFor('cam-h265 playing or refused', async () => {
      const x = await tileData(page, 'cam-h265');
      return x && ['playing', 'unsupported'].includes(x.state) ? x : null;
    }, 30000, 100);
    const hevc = await page.evaluate(() => MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L93.B0"'));
    if (d.state === 'unsupported' && d.httpStatus === '501') {
      assert(/H\.265/.test(d.reason), `the tile does not say why: "${d.reason}"`);
      throw new Skip(`this chromium has no H.265 (isTypeSupported ${hevc}) and this build answers 501 to ` +
        'stream=h264 (no transcoder yet); the tile says so');
    }
    await waitPlaying(page, 'cam-h265', 30000);
    await sleep(4000);
    const e = await tileData(page, 'cam-h265');
    notes.push(`cam-h265 plays as stream=${e.stream} (${e.codecs}); native H.265 in this chromium: ${hevc}; ` +
      `first picture ${e.firstPictureMs} ms, delay ${e.delayMs} ms after 4 s (buffered ahead ${e.bufferMs} ms)`);
    assert(Number(e.delayMs) <= BOUND_DELAY_MS * 2, `cam-h265 delay ${e.delayMs} ms`);
  });

  await check('a hidden tab stops every stream; shown again they play', async () => {
    await page.evaluate(() => { location.hash = '#/live'; });
    await waitPlaying(page, 'cam-a', 20000);
    const setHidden = (h) => page.evaluate((hidden) => {
      Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
      Object.defineProperty(document, 'visibilityState', { value: hidden ? 'hidden' : 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, h);
    await setHidden(true);
    const states = await page.$$eval('#grid .tile', (ts) => ts.map((t) => t.dataset.state));
    assert(states.every((s) => s === 'paused'), `tiles while hidden: ${states}`);
    const v = await page.$$eval('#grid .tile video', (vs) => vs.map((x) => x.getAttribute('src')));
    assert(v.every((s) => !s), 'a hidden tile keeps its MediaSource');
    await setHidden(false);
    await Promise.all(['cam-a', 'cam-b', 'cam-d'].map((n) => waitPlaying(page, n, 20000)));
  });

  await check('the number of tiles is remembered in this browser', async () => {
    await page.click('#live-view .layout[data-n="9"]');
    await page.reload();
    await page.locator('#grid.n9').waitFor({ state: 'attached' });
    /* the tiles come with the camera list, which is fetched after the page loads */
    await waitFor('the 9-grid shows all 5 cameras', async () => (await page.locator('#grid .tile').count()) === 5, 15000);
  });

  await check('the phone layout (390x844): no horizontal scroll, nav collapsed, tiles visible; off-screen tiles do not stream', async () => {
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2,
      storageState: await ctx.storageState(),
    });
    const p = await phone.newPage();
    watch(p);
    await p.goto(`${base}/#/live`);
    await p.locator('#grid .tile').first().waitFor({ state: 'visible' });
    await waitPlaying(p, 'cam-a', 20000);
    const m = await p.evaluate(() => ({
      sw: document.documentElement.scrollWidth, w: window.innerWidth,
      cols: getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length,
      tile: document.querySelector('#grid .tile').getBoundingClientRect().width,
    }));
    assert(m.sw <= m.w, `horizontal scroll: scrollWidth ${m.sw} > ${m.w}`);
    assert(m.cols === 1, `${m.cols} columns on a phone`);
    assert(m.tile > 300 && m.tile <= 390, `tile width ${m.tile}`);
    assert(await p.locator('#nav').isHidden(), 'the nav is not collapsed');
    assert(await p.locator('#nav-toggle').isVisible(), 'no menu button');
    await p.click('#nav-toggle');
    assert(await p.locator('#nav a[href="#/timeline"]').isVisible(), 'the menu does not open');
    await p.click('#nav-toggle');
    if (shotDir) {
      await sleep(1000);
      await p.screenshot({ path: path.join(shotDir, 'live-phone.png') });
    }
    const last = 'cam-h265';
    const d0 = await tileData(p, last);
    assert(d0.state === 'idle', `the off-screen tile ${last} is ${d0.state}, expected idle (not streaming)`);
    await p.locator(tileSel(last)).scrollIntoViewIfNeeded();
    await waitFor(`${last} to start once on screen`, async () => (await tileData(p, last)).state !== 'idle', 10000);
    await phone.close();
  });

  await check('no CSP violation, script error or unexpected console error', async () => {
    assert(problems.length === 0, problems.join('\n'));
  });
}

await h.runMain(main, async () => {
  if (browser) await browser.close().catch(() => {});
}, notes, logs);
