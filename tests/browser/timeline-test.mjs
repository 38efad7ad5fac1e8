// SPDX-License-Identifier: GPL-3.0-or-later
//
// The timeline page (src/web/timeline.js) in Debian's chromium against the
// real recorder over 31 days of footage for 4 cameras made by
// reel-bench-tl-fill (gaps of every reason): zoom from 31 days to 1 minute
// (buttons and wheel), scrub with previews, click-to-play time measured at
// points spread over the 31 days (performance.now at the click -> first
// video frame), playback across a recording boundary and over a gap (the gap
// shown), 16x, 4 cameras in sync (drift measured), export of a selected range
// whose file ffprobe decodes cleanly, a clip link opening at its moment, the
// gap reason on hover and on tap (phone), no page scrolling sideways at
// 390 px, no CSP violation or script error. Cases whose server route is
// missing in this tree (thumb.jpg, /api/exports) report SKIP.
// Options: --screenshots DIR writes timeline-desktop.png (1440x900),
// timeline-phone.png (390x844), timeline-export.png and timeline-gap.png.
// Run with tests/browser/run.sh --timeline. Environment as browser-test.mjs,
// plus REEL_TL_FILL (build/bench/reel-bench-tl-fill) and REEL_FFPROBE.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLIPS, REEL, assert, freePort, loadChromium, makeHarness, reportCsp, requireFiles, root, screenshotDir, Skip, sleep,
  waitFor, watchProblems,
} from './harness.mjs';

const shotDir = screenshotDir();
const FILL = process.env.REEL_TL_FILL || path.join(root, 'build/bench/reel-bench-tl-fill');
const FFPROBE = process.env.REEL_FFPROBE || '/usr/bin/ffprobe';
const CLIP = path.join(CLIPS, 'h264-small.264');

const chromium = await loadChromium();
requireFiles([['REEL', REEL], ['reel-bench-tl-fill', FILL], ['H.264 clip', CLIP]],
  `build first (ninja -C build bench/reel-bench-tl-fill); clips: tests/data/make-clips.sh ${CLIPS}`);

const h = makeHarness('reel-timeline-');
const { data, start, logs, reel, readInitialPassword, check } = h;
const figures = [];

async function main() {
  let base;
  let account;
  const t0 = Date.now();
  try {
    reel('init');
    account = readInitialPassword();
    const f = spawnSync(FILL, [data, CLIP, '--cameras', '4', '--days', '31'], { encoding: 'utf8', timeout: 120000 });
    if (f.status !== 0) throw new Error(`fill exited ${f.status}: ${f.stdout}${f.stderr}`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const rec = start('reel', REEL, ['-d', data, 'run', '--http', `127.0.0.1:${port}`]);
    await waitFor('GET /api/health', async () => {
      if (rec.exitCode !== null) throw new Error('reel run exited');
      return (await fetch(`${base}/api/health`)).status === 200;
    }, 20000);
  } catch (e) {
    h.failed++;
    console.log(`not ok - set-up (reel init, reel-bench-tl-fill, reel run)\n  ${e.stack || e}\n${logs()}`);
    return;
  }
  console.log(`# set-up (31 days x 4 cameras) took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const browser = await chromium.launch({ executablePath: process.env.REEL_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--autoplay-policy=no-user-gesture-required'] });
  try {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: 'Europe/Berlin',
      acceptDownloads: true });
    await reportCsp(ctx);
    const page = await ctx.newPage();
    page.setDefaultTimeout(20000);
    const problems = [];
    watchProblems(page, problems, /status of (40[14]|503)/);
    await page.goto(`${base}/`);
    await page.fill('#username', account.user);
    await page.fill('#password', account.password);
    await page.click('#login-submit');
    await page.waitForSelector('#who:not([hidden])');
    const info = () => page.evaluate(() => window.ReelTimeline.info());
    const route = async (p) => (await page.evaluate(async (u) => (await fetch(u)).status, p));
    /* footage exists 2 h ago on every camera: a 404 there means no route */
    const hasThumbs = async () => (await route(`/api/cameras/cam0/thumb.jpg?t=${new Date(Date.now() - 7200e3).toISOString()}`)) !== 404;
    const canvasBox = async () => page.locator('.tl-canvas').boundingBox();

    await check('#/playback opens the timeline, 4 bars with footage', async () => {
      await page.evaluate(() => { location.hash = '#/playback'; });
      await page.locator('#timeline-view .tl-canvas').waitFor();
      await waitFor('timeline data', async () => (await info()).data.filter((d) => d.spans > 0).length === 4, 15000);
      const i = await info();
      assert(i.lanes.length === 4, `lanes ${i.lanes.length}`);
    });

    await check('zoom from 31 days to 1 minute (buttons, wheel)', async () => {
      await page.click('.tl-zooms button[data-span="2678400000"]');
      assert((await info()).span === 31 * 864e5, 'not 31 days');
      await waitFor('31 days loaded', async () => (await info()).data.every((d) => d.spans > 0), 15000);
      const b = await canvasBox();
      await page.mouse.move(b.x + b.width / 2, b.y + 50);
      let last = (await info()).span;
      for (let i = 0; i < 40 && last > 60e3; i++) {
        await page.mouse.wheel(0, -400);
        await sleep(30);
        last = (await info()).span;
      }
      assert(last === 60e3, `wheel stopped at ${last} ms`);
      await page.click('.tl-zooms button[aria-label="Zoom out (-)"]');
      assert((await info()).span === 120e3, 'zoom out button');
      await page.click('.tl-zooms button[data-span="3600000"]');
    });

    await check('scrub: dragging moves the time, the preview shows a picture', async () => {
      /* start in the middle of the longest stretch between two gaps of the
       * first camera, so that the drag ends on footage whatever the hour */
      const g0 = (await info()).data[0].gaps.slice().sort((x, y) => x.start - y.start);
      let mid = null;
      let best = 0;
      for (let k = 1; k < g0.length; k++) {
        if (g0[k].start - g0[k - 1].end > best) {
          best = g0[k].start - g0[k - 1].end;
          mid = (g0[k].start + g0[k - 1].end) / 2;
        }
      }
      /* one drag; tried up to 3 times (a busy machine has failed it once
       * with the preview still empty, cause unknown: the message says what
       * the preview held) */
      const drag = async () => {
        if (mid !== null) {
          await page.evaluate((c) => window.ReelTimeline.setView(c, 3600e3), mid);
          await sleep(500);
        }
        const b = await canvasBox();
        const before = (await info()).cursor;
        await page.mouse.move(b.x + b.width / 2, b.y + 45);
        await page.mouse.down();
        for (let i = 1; i <= 8; i++) await page.mouse.move(b.x + b.width / 2 + i * 30, b.y + 45);
        const shown = await page.locator('.tl-preview').isVisible();
        /* the preview's picture element comes when its thumbnail is queued
         * (after the video's fragments: up to 1.5 s on a busy machine) */
        let img = null;
        for (let k = 0; k < 50 && !img; k++) {
          img = await page.evaluate(() => {
            const i = document.querySelector('.tl-preview img');
            return i ? { w: i.naturalWidth, src: i.src } : null;
          });
          if (!img) await sleep(100);
        }
        const text = await page.textContent('.tl-preview').catch(() => '?');
        await page.mouse.up();
        const after = (await info()).cursor;
        return { shown, before, after, img, text };
      };
      let d = await drag();
      const tries = [d.text];
      for (let k = 1; k < 3 && !d.img; k++) {
        d = await drag();
        tries.push(d.text);
      }
      const { shown, before, after, img } = d;
      assert(shown, 'no preview while dragging');
      assert(after < before - 5 * 60e3, `cursor moved ${(after - before) / 1000} s`);
      if (!img) throw new Error(`no preview picture in 3 drags: the preview said ${JSON.stringify(tries)} (view centred on ${mid === null ? 'nothing' : new Date(mid).toISOString()})`);
      if (tries.length > 1) console.log(`# scrub preview: ${tries.length} drags needed (${JSON.stringify(tries.slice(0, -1))})`);
      if (!(await hasThumbs())) throw new Skip('thumb.jpg is not served by this tree (tl-media)');
      await waitFor('preview picture decoded', async () => page.evaluate((s) => {
        const i = [...document.images].find((x) => x.src === s);
        return !i || i.naturalWidth > 0;
      }, img.src), 15000);
    });

    await check('click anywhere in 31 days -> moving picture (timed)', async () => {
      await page.click('.tl-zooms button[data-span="2678400000"]');
      await sleep(300);
      const b = await canvasBox();
      const i0 = await info();
      const times = [];
      for (const frac of [0.12, 0.31, 0.47, 0.63, 0.78, 0.9]) {
        const x = b.x + b.width * frac;
        await page.mouse.click(x, b.y + i0.lanes[0].y + 15);
        const st = await waitFor('first frame', async () => {
          const s = (await info()).stats;
          return s.firstFrame !== null ? s : null;
        }, 10000);
        times.push(Math.round(st.lastClickToPlay));
        await sleep(300);
      }
      figures.push(`click-to-play over 31 days (ms): ${times.join(', ')}; ` +
        `median ${times.slice().sort((a, c) => a - c)[times.length >> 1]}`);
      console.log(`# ${figures[figures.length - 1]}`);
      const p = (await info()).players[0];
      console.log(`# player: ${p.fallback ? 'view.mp4 fallback (no frag.m4s in this tree)' : 'MSE init.mp4 + frag.m4s'}`);
      assert(times.every((t) => t < 5000), `a click took ${Math.max(...times)} ms`);
    });

    await check('playback continues across a recording boundary', async () => {
      const i = await info();
      /* the fill cuts recordings on the minute: start 3 s before one */
      const minute = Math.floor((Date.now() - 2 * 864e5) / 60e3) * 60e3;
      await page.evaluate((t) => window.ReelTimeline.seek(t), minute - 3000);
      void i;
      await waitFor('past the boundary', async () => {
        const p = (await info()).players[0];
        return p && p.wall > minute + 2000;
      }, 15000);
    });

    await check('the gap reason on hover, playback skips the gap and says so', async () => {
      const i = await info();
      const gaps = i.data[0].gaps.filter((g) => g.reason && g.reason !== 'not recorded' &&
        g.end - g.start >= 40 * 60e3 && g.end < Date.now() - 3600e3 && g.start > Date.now() - 29 * 864e5);
      assert(gaps.length, `no gap with a reason in ${JSON.stringify(i.data[0].gaps).slice(0, 300)}`);
      const g = gaps[gaps.length - 1];
      const gs = g.start;
      const ge = g.end;
      await page.evaluate(([c, s]) => window.ReelTimeline.setView(c, s), [(gs + ge) / 2, (ge - gs) * 3]);
      await sleep(600);
      const b = await canvasBox();
      const lane = (await info()).lanes[0];
      let tip = '';
      await waitFor('the reason in the tooltip', async () => {
        await page.mouse.move(b.x + b.width / 2 + (Math.random() * 6 - 3), b.y + lane.y + 15);
        tip = await page.textContent('.tl-tip');
        return tip.includes(g.reason);
      }, 8000).catch(() => { throw new Error(`tooltip "${tip}" lacks "${g.reason}"`); });
      if (shotDir) await page.screenshot({ path: path.join(shotDir, 'timeline-gap.png') });
      /* play a day after the gap first: the player then knows a recording
       * far ahead, and must still land on the one right after the gap */
      await page.evaluate((t) => window.ReelTimeline.seek(t), ge + 864e5);
      await waitFor('playing a day later', async () => {
        const p = (await info()).players[0];
        return p && p.wall > ge + 864e5 - 60e3;
      }, 15000);
      await page.evaluate((t) => window.ReelTimeline.seek(t), gs - 3000);
      let last = null;
      await waitFor('played past the gap', async () => {
        const x = await info();
        last = x;
        return x.players[0] && x.players[0].wall > ge && x.stats.gapsSkipped > 0;
      }, 25000).catch((e) => {
        throw new Error(`${e.message}: gap ${gs}..${ge}, players ${JSON.stringify(last && last.players)}, ` +
          `skipped ${last && last.stats.gapsSkipped}`);
      });
      const landed = last.players[0].wall;
      assert(landed < ge + 60e3, `after the gap (ends ${ge}) playback landed ${((landed - ge) / 60e3).toFixed(1)} min later`);
      const note = await page.textContent('.tl-gapnote');
      assert(/Skipped/.test(note), `gap note "${note}"`);
    });

    await check('16x playback', async () => {
      await page.evaluate(() => window.ReelTimeline.seek(Date.now() - 3 * 864e5));
      await waitFor('playing', async () => (await info()).stats.firstFrame !== null, 10000);
      await page.click('.tl-speeds button[data-speed="16"]');
      await sleep(500);
      const a = (await info()).players[0].wall;
      await sleep(3000);
      const i = await info();
      const adv = (i.players[0].wall - a) / 1000;
      figures.push(`16x: ${adv.toFixed(1)} s of footage in 3 s of wall time (keys=1: ${i.players[0].keys})`);
      console.log(`# ${figures[figures.length - 1]}`);
      assert(adv > 16, `only ${adv} s played in 3 s at 16x`);
      await page.click('.tl-speeds button[data-speed="1"]');
    });

    await check('4 cameras in sync (within 100 ms)', async () => {
      for (const c of ['cam1', 'cam2', 'cam3']) await page.click(`.tl-chip[data-cam="${c}"]`);
      await page.evaluate(() => window.ReelTimeline.seek(Date.now() - 5 * 864e5));
      await waitFor('4 playing', async () => (await info()).players.filter((p) => !p.paused && p.readyState >= 3).length === 4, 15000);
      await sleep(2500);
      let worst = 0;
      for (let k = 0; k < 12; k++) {
        const walls = (await info()).players.map((p) => p.wall);
        worst = Math.max(worst, Math.max(...walls) - Math.min(...walls));
        await sleep(250);
      }
      figures.push(`4 cameras: worst spread ${worst.toFixed(0)} ms over 3 s of samples`);
      console.log(`# ${figures[figures.length - 1]}`);
      assert(worst <= 100, `cameras ${worst} ms apart`);
    });

    await check('export a selected range; the file decodes cleanly (ffprobe)', async () => {
      if (await route('/api/exports') === 404) throw new Skip('/api/exports is not served by this tree (tl-media)');
      const t = Date.now() - 2 * 864e5;   /* footage on every camera then (the fill's gaps are elsewhere) */
      await page.evaluate(([a, b]) => window.ReelTimeline.select(a, b), [t, t + 20000]);
      await page.click('.tl-selmenu button[data-action="export"]');
      await page.fill('.tl-exp-reason', 'browser test');
      if (shotDir) await page.screenshot({ path: path.join(shotDir, 'timeline-export.png') });
      await page.click('.tl-exp-go');
      await waitFor('export done', async () => {
        const e = await page.textContent('.tl-exp-error');
        if (e) throw new Error(`export error: ${e}`);
        return page.locator('.tl-exp-dl').isVisible();
      }, 30000).catch(async (e) => {
        await page.click('.tl-exp-btns button[type="button"]');
        throw e;
      });
      const [dl] = await Promise.all([page.waitForEvent('download'), page.click('.tl-exp-dl')]);
      const file = path.join(h.tmp, 'export.bin');
      await dl.saveAs(file);
      let mp4 = file;
      if (fs.readFileSync(file).subarray(0, 2).toString() === 'PK') {
        spawnSync('unzip', ['-o', '-d', path.join(h.tmp, 'x'), file]);
        mp4 = path.join(h.tmp, 'x', fs.readdirSync(path.join(h.tmp, 'x'))[0]);
      }
      const r = spawnSync(FFPROBE, ['-v', 'error', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', mp4],
        { encoding: 'utf8' });
      assert(r.status === 0 && r.stderr.trim() === '', `ffprobe: ${r.stderr}`);
      assert(Number(r.stdout.trim().split('\n')[0]) > 100, `frames ${r.stdout}`);
      await page.click('.tl-exp-btns button[type="button"]');
    });

    await check('a clip link opens the timeline at its moment', async () => {
      const t = Date.now() - 6 * 864e5 + 1234;
      const link = await page.evaluate((x) => window.ReelTimeline.clipLink(x, 600000), t);
      assert(/#\/timeline\?cams=cam0,cam1,cam2,cam3&t=.*&span=600$/.test(link), link);
      await page.click('.tl-play');   /* pause the first page: its fetches share the connections */
      const p2 = await ctx.newPage();
      watchProblems(p2, problems, /status of (40[14]|503)/);
      await p2.goto(link, { waitUntil: 'domcontentloaded' });
      await p2.locator('.tl-canvas').waitFor();
      const i = await waitFor('played', async () => {
        const x = await p2.evaluate(() => window.ReelTimeline.info());
        return x && x.players.length === 4 && x.stats.firstFrame !== null ? x : null;
      }, 15000);
      assert(Math.abs(i.stats.target - t) < 1000, `target ${i.stats.target} vs ${t}`);
      assert(i.span === 600000, `span ${i.span}`);
      assert(Math.abs(i.players[0].wall - t) < 8000, `plays at ${i.players[0].wall} vs ${t}`);
      await p2.close();
    });

    await check('time zone: a daylight-saving day has 25 hours of ticks', async () => {
      const r = await page.evaluate(() => {
        const a = new Date(2026, 9, 25).getTime();
        const b = new Date(2026, 9, 26).getTime();
        return { len: (b - a) / 3600e3, dst: window.ReelTimeline.dstChanges(a, b).map((x) => new Date(x).toISOString()),
          ticks: window.ReelTimeline.ticks(a, b, 30, 1200).list.map((x) => new Date(x).getHours()) };
      });
      assert(r.len === 25, `day ${r.len} h`);
      assert(r.dst.length === 1 && r.dst[0] === '2026-10-25T01:00:00.000Z', `dst ${r.dst}`);
      assert(r.ticks.filter((x) => x === 2).length === 2, `ticks ${r.ticks}`);
    });

    if (shotDir) {
      fs.mkdirSync(shotDir, { recursive: true });
      /* a day with gaps of several reasons, 4 cameras playing */
      const g = await page.evaluate(async () => {
        const e = new Date();
        const st = new Date(e.getTime() - 30 * 864e5);
        const j = await (await fetch(`/api/timeline?start=${st.toISOString()}&end=${e.toISOString()}&cameras=cam0&min_gap=60`)).json();
        const x = j.cameras[0].gaps.find((y) => y.reason === 'wrong password') || j.cameras[0].gaps[0];
        return { start: Date.parse(x.start), end: Date.parse(x.end) };
      });
      await page.evaluate(([c]) => window.ReelTimeline.setView(c, 12 * 3600e3), [g.start]);
      await page.evaluate((t) => window.ReelTimeline.seek(t), g.start - 2 * 3600e3);
      await page.click('.tl-play');
      await sleep(2500);
      await page.screenshot({ path: path.join(shotDir, 'timeline-desktop.png') });
      await page.click('.tl-play');
    }

    await check('phone (390 px): no sideways scroll, tap on a gap shows its reason', async () => {
      const p = await ctx.newPage();
      watchProblems(p, problems, /status of (40[14]|503)/);
      await p.setViewportSize({ width: 390, height: 844 });
      await p.goto(`${base}/#/timeline?cams=cam0`, { waitUntil: 'domcontentloaded' });
      await p.locator('.tl-canvas').waitFor();
      await waitFor('data', async () => p.evaluate(() => window.ReelTimeline.info().data.length === 4), 15000);
      const sw = await p.evaluate(() => document.documentElement.scrollWidth);
      assert(sw <= 390, `page is ${sw} px wide`);
      const i = await p.evaluate(() => window.ReelTimeline.info());
      const g = i.data[0].gaps.filter((x) => x.reason && x.reason !== 'not recorded').pop();
      if (g) {
        const gs = g.start;
        const ge = g.end;
        /* the view may still be following the first playback's start: set it
         * until it stays where it was put */
        const want = (gs + ge) / 2;
        await waitFor('the view on the gap', async () => {
          await p.evaluate(([c, s]) => window.ReelTimeline.setView(c, s), [want, (ge - gs) * 3]);
          await sleep(400);
          const v = await p.evaluate(() => window.ReelTimeline.info());
          return Math.abs(v.center - want) < (ge - gs) / 4;
        }, 15000);
        const b = await p.locator('.tl-canvas').boundingBox();
        await p.evaluate(([x, y]) => {
          const c = document.querySelector('.tl-canvas');
          const r = c.getBoundingClientRect();
          const o = { bubbles: true, pointerId: 7, pointerType: 'touch', clientX: r.x + x, clientY: r.y + y, isPrimary: true };
          c.dispatchEvent(new PointerEvent('pointerdown', o));
          c.dispatchEvent(new PointerEvent('pointerup', o));
        }, [b.width / 2, i.lanes[0].y + 15]);
        const tip = await p.textContent('.tl-tip');
        assert(tip.includes(g.reason), `tap tooltip "${tip}"`);
      }
      if (shotDir) {
        await sleep(1200);
        await p.screenshot({ path: path.join(shotDir, 'timeline-phone.png') });
      }
      await p.close();
    });

    await check('no CSP violation or script error', async () => {
      assert(problems.length === 0, problems.slice(0, 5).join('\n'));
    });
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (e) {
  h.failed++;
  console.log(`not ok - unexpected\n  ${e.stack || e}\n${logs()}`);
} finally {
  h.killAll();
}
for (const f of figures) console.log(`# figure: ${f}`);
console.log(`${h.passed} passed, ${h.failed} failed`);
if (!process.env.REEL_KEEP_TMP) fs.rmSync(h.tmp, { recursive: true, force: true });
process.exit(h.failed ? 1 : 0);
