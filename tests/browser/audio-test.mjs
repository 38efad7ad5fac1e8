// SPDX-License-Identifier: GPL-3.0-or-later
//
// Reel's browser audio test: view.mp4 with an audio track, played by
// Debian's chromium (driven by playwright-core) from the real HTTP server.
// The data directory is made by mp4-audio-fixture (tests/unit/
// test_mp4_audio_fixture.c: cameras whose H.264 video and AAC / G.711 µ-law /
// A-law / Opus audio, a 440 Hz tone, are recorded through the real store into
// "<camera>" and "<camera>~audio" rows, the rows disabled so that `reel run`
// only serves them). Then `reel user add`, `reel run --http`, sign-in with
// POST /api/login, and for each camera a <video> playing
// /api/cameras/NAME/view.mp4 for the recorded range, its sound routed
// through the Web Audio API (createMediaElementSource -> AnalyserNode):
//   - with audio: playback advances (currentTime >= 1.5 s; the camera with a
//     gap is played from 2 s, across it) without a media
//     error, audio bytes are decoded (webkitAudioDecodedByteCount > 0), the
//     signal's peak is above 0.05 and its strongest frequency is 440 Hz
//     (+-15 Hz: the G.711 tables and the AAC/Opus decoders are right);
//   - the camera without audio, and ?audio=0: no audio decoded, silence.
// Prints "ok"/"not ok" per case and "N passed, N failed"; exit 0 only when
// all passed, 77 (skip) when chromium or playwright-core is missing.
//
// Environment (meson sets them): REEL, REEL_MP4_AUDIO_FIXTURE; REEL_FFMPEG
// (default ffmpeg); REEL_CHROMIUM (default /usr/bin/chromium);
// REEL_KEEP_TMP=1 keeps the temporary directory.
// Run it with tests/browser/run.sh --audio.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CHROMIUM, REEL, assert, freePort, loadChromium, makeHarness, requireFiles, root, skip, sleep,
} from './harness.mjs';

const FIXTURE = process.env.REEL_MP4_AUDIO_FIXTURE || path.join(root, 'build/src/mp4/mp4-audio-fixture');
const FFMPEG = process.env.REEL_FFMPEG || 'ffmpeg';

const chromium = await loadChromium();
if (spawnSync(FFMPEG, ['-version']).status !== 0) skip(`${FFMPEG} not found`);
requireFiles([['REEL', REEL], ['REEL_MP4_AUDIO_FIXTURE', FIXTURE]], 'build first');

const h = makeHarness('reel-audio-');
const { tmp, data, reel, check } = h;
let server = null;
let browser = null;

// Plays src in a fresh <video> for about 2 s with its sound going through
// an AnalyserNode; returns what was seen.
async function play(page, src, seek = 0) {
  return page.evaluate(async ([url, seekTo]) => {
    const v = document.createElement('video');
    document.body.appendChild(v);
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    ctx.createMediaElementSource(v).connect(an);
    v.src = url;
    const res = { ctx: ctx.state };
    if (seekTo > 0) {
      await new Promise((ok) => v.addEventListener('loadedmetadata', ok, { once: true }));
      v.currentTime = seekTo;
    }
    try {
      await v.play();
    } catch (e) {
      res.playError = String(e);
    }
    const td = new Float32Array(an.fftSize);
    const fd = new Float32Array(an.frequencyBinCount);
    let peak = 0;
    let hz = 0;
    for (let i = 0; i < 25 && !v.error; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      an.getFloatTimeDomainData(td);
      for (const x of td) peak = Math.max(peak, Math.abs(x));
      if (i === 15) {
        an.getFloatFrequencyData(fd);
        let best = -Infinity;
        fd.forEach((d, k) => {
          if (d > best) {
            best = d;
            hz = (k * ctx.sampleRate) / an.fftSize;
          }
        });
      }
    }
    Object.assign(res, {
      t: v.currentTime,
      error: v.error ? `${v.error.code} ${v.error.message}` : null,
      audioBytes: v.webkitAudioDecodedByteCount,
      videoBytes: v.webkitVideoDecodedByteCount,
      peak,
      hz: peak > 0 ? hz : 0,
    });
    v.pause();
    v.removeAttribute('src');
    v.load();
    v.remove();
    await ctx.close();
    return res;
  }, [src, seek]);
}

async function main() {
  let base;
  let cams;
  try {
    const fx = spawnSync(FIXTURE, [data, FFMPEG], { encoding: 'utf8', timeout: 120000 });
    if (fx.status !== 0) throw new Error(`mp4-audio-fixture exited ${fx.status}: ${fx.stdout}${fx.stderr}`);
    cams = fx.stdout.trim().split('\n').map((l) => {
      const [name, start, end, codec] = l.split(' ');
      return { name, start: Number(start), end: Number(end), codec };
    });
    fs.writeFileSync(path.join(tmp, 'pw'), 'audio-test-password\n');
    reel('user', 'add', 'tester', '--password-file', path.join(tmp, 'pw'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const log = fs.openSync(path.join(tmp, 'reel.log'), 'a');
    server = spawn(REEL, ['-d', data, 'run', '--http', `127.0.0.1:${port}`],
      { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    const end = Date.now() + 20000;
    for (;;) {
      const ok = await fetch(`${base}/api/health`).then((r) => r.status === 200).catch(() => false);
      if (ok) break;
      if (server.exitCode !== null || Date.now() > end) throw new Error('reel run did not answer /api/health');
      await sleep(100);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  } catch (e) {
    h.failed++;
    const log = path.join(tmp, 'reel.log');
    console.log(`not ok - set-up (mp4-audio-fixture, reel user add, reel run --http, chromium)\n  ${e.stack || e}\n` +
      (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-3000) : ''));
    return;
  }
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${base}/login`);

  await check('sign in through POST /api/login', async () => {
    const st = await page.evaluate(async () => {
      const r = await fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'tester', password: 'audio-test-password' }) });
      return r.status;
    });
    assert(st === 200, `POST /api/login: ${st}`);
  });

  const url = (c, extra = '') => {
    const from = Math.floor(c.start / 90000) - 1;
    const to = Math.ceil(c.end / 90000) + 1;
    return `/api/cameras/${c.name}/view.mp4?start=${from}&end=${to}${extra}`;
  };

  for (const c of cams) {
    if (c.codec === '-') continue;
    if (c.name === 'opus' && c.codec === '-') continue;
    // The gap camera: from 2 s on, across the gap squeezed out at 3 s (the
    // tone is measured 1.6 s after the start, after the gap).
    const seek = c.name === 'gap' ? 2 : 0;
    const what = seek ? `, from ${seek} s across a gap,` : '';
    await check(`view.mp4 of ${c.name} with ${c.codec} audio plays in chromium${what} and its 440 Hz tone is decoded`, async () => {
      const r = await play(page, url(c), seek);
      console.log(`  # ${c.name}: ${JSON.stringify(r)}`);
      assert(!r.error && !r.playError, `media error: ${r.error || r.playError}`);
      assert(r.t >= seek + 1.5, `currentTime ${r.t} after 2.5 s`);
      assert(r.audioBytes > 0, `webkitAudioDecodedByteCount ${r.audioBytes}`);
      assert(r.peak > 0.05, `audio peak ${r.peak}: silence`);
      assert(Math.abs(r.hz - 440) <= 15, `strongest frequency ${r.hz} Hz, expected 440`);
    });
  }
  for (const [c, extra, what] of [[cams.find((x) => x.name === 'noaudio'), '', 'a camera without audio'],
    [cams.find((x) => x.name === 'ulaw'), '&audio=0', 'view.mp4?audio=0']]) {
    await check(`${what} plays with no audio track`, async () => {
      const r = await play(page, url(c, extra));
      console.log(`  # ${c.name}${extra}: ${JSON.stringify(r)}`);
      assert(!r.error && !r.playError, `media error: ${r.error || r.playError}`);
      assert(r.t >= 1.5, `currentTime ${r.t}`);
      assert(r.audioBytes === 0, `webkitAudioDecodedByteCount ${r.audioBytes}`);
      assert(r.peak === 0, `audio peak ${r.peak}`);
    });
  }
  await check('view.mp4?audio=2 is refused', async () => {
    const st = await page.evaluate(async (u) => (await fetch(u)).status, url(cams[0], '&audio=2'));
    assert(st === 400, `status ${st}`);
  });
}

try {
  await main();
} catch (e) {
  h.failed++;
  console.log(`not ok - unexpected error\n  ${e.stack || e}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch (e) {
      /* gone */
    }
    const t = setTimeout(() => {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch (e) {
        /* gone */
      }
    }, 10000);
    await new Promise((ok) => (server.exitCode !== null ? ok() : server.on('exit', ok)));
    clearTimeout(t);
  }
  if (process.env.REEL_KEEP_TMP) console.log(`# kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`${h.passed} passed, ${h.failed} failed`);
process.exit(h.failed === 0 ? 0 : 1);
