// SPDX-License-Identifier: GPL-3.0-or-later
//
// The harness the browser tests share (browser-test.mjs, admin-test.mjs,
// live-test.mjs, audio-test.mjs): where the binaries are, skipping when
// chromium or playwright-core is missing, a temporary directory with the
// data directory in it, processes started in their own process group with
// their output in TMP/NAME.log, `reel -d DATA ...`, waiting, a free port,
// reel-sim, the initial admin password, the check()/assert() machinery with
// its counters, and the script-error/console/CSP watchers of a page.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const REEL = process.env.REEL || path.join(root, 'build/src/reel/reel');
export const REEL_SIM = process.env.REEL_SIM || path.join(root, 'build/sim/reel-sim');
export const CLIPS = process.env.REEL_CLIPS || path.join(root, 'build/clips');
export const CHROMIUM = process.env.REEL_CHROMIUM || '/usr/bin/chromium';

/* chromium's flags for the tests: headless, no network of its own. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function skip(why) {
  console.log(`SKIP: ${why}`);
  console.log('0 passed, 0 failed');
  process.exit(77);
}

/* playwright-core's chromium, or a skip (exit 77) when it or the chromium
 * binary is missing. */
export async function loadChromium() {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    skip(`playwright-core is not installed (cd tests/browser && npm ci): ${e.message}`);
  }
  if (!fs.existsSync(CHROMIUM)) skip(`${CHROMIUM} not found (apt-get install chromium)`);
  return chromium;
}

/* Exits 1 ("0 passed, 1 failed") when one of the [what, file] is missing. */
export function requireFiles(files, hint) {
  for (const [what, f] of files) {
    if (!fs.existsSync(f)) {
      console.log(`${what} not found: ${f} (${hint})`);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, fn, timeoutMs, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/* Thrown by a case to report "ok - NAME # SKIP why". */
export class Skip extends Error {}

export function alive(p) {
  return p.exitCode === null && p.signalCode === null;
}

/* Collects script errors and console errors of page p into problems, except
 * "status of NNN" errors matching okStatus (answers the page expects). */
export function watchProblems(p, problems, okStatus) {
  p.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  p.on('console', (m) => {
    if (m.type() === 'error' && !okStatus.test(m.text())) problems.push(`console: ${m.text()}`);
  });
}

/* The directory after --screenshots in argv, resolved, or null. */
export function screenshotDir(argv = process.argv.slice(2), flag = '--screenshots') {
  const i = argv.indexOf(flag);
  return i >= 0 && argv[i + 1] ? path.resolve(argv[i + 1]) : null;
}

/* An API call from inside the page (its session cookie, the session's CSRF
 * token): { status, json } (json null when the body is not JSON). */
export function pageApi(page) {
  return (method, p, body) => page.evaluate(async ([m, u, b]) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch(u, { method: m, headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: b === null ? undefined : JSON.stringify(b) });
    let j = null;
    try { j = await r.json(); } catch (e) { j = null; }
    return { status: r.status, json: j };
  }, [method, p, body === undefined ? null : body]);
}

/* Signs in through the login form at base/#/live; waits for the app view
 * unless waitApp is false (a caller that expects a refusal). */
export async function signInAt(page, base, user, password, waitApp = true) {
  await page.goto(`${base}/#/live`);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('#login-submit');
  if (waitApp) await page.waitForSelector('#app-view:not([hidden])');
}

/* Signs out from the top bar (at 1440 px, where the button is shown). */
export async function signOutOf(page) {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
}

/* Fails when the page scrolls sideways. */
export async function assertNoSideScroll(page, what) {
  const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert(sw <= cw, `${what}: scrollWidth ${sw} > clientWidth ${cw}`);
}

/* Makes every CSP violation in pages of target (a page or a context) a
 * console error, which watchProblems collects. */
export async function reportCsp(target) {
  await target.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
}

/* One test run: a fresh temporary directory os.tmpdir()/PREFIX*, with the
 * data directory DATA in it, the processes started, and the counters. */
export function makeHarness(prefix) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const data = path.join(tmp, 'data');
  const procs = [];
  const h = { tmp, data, procs, passed: 0, failed: 0, skipped: 0 };

  h.start = (name, cmd, argv) => {
    const log = fs.openSync(path.join(tmp, `${name}.log`), 'a');
    const p = spawn(cmd, argv, { stdio: ['ignore', log, log], detached: true });
    fs.closeSync(log);
    p.name = name;
    p.exited = new Promise((res) => p.on('exit', (code, sig) => res({ code, sig })));
    procs.push(p);
    return p;
  };

  h.killAll = () => {
    for (const p of procs) {
      if (alive(p)) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch (e) {
          /* already gone */
        }
      }
    }
  };

  /* SIGTERM to p's group; SIGKILL to every group after timeoutMs. */
  h.stop = async (p, timeoutMs = 15000) => {
    if (!alive(p)) return;
    process.kill(-p.pid, 'SIGTERM');
    const t = setTimeout(() => h.killAll(), timeoutMs);
    await p.exited;
    clearTimeout(t);
  };

  h.reel = (...argv) => {
    const r = spawnSync(REEL, ['-d', data, ...argv], { encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`reel ${argv.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
    return r.stdout + r.stderr;
  };

  /* The last `tail` characters of each process's log. */
  h.logs = (tail = 4000) => procs.map((p) => {
    const f = path.join(tmp, `${p.name}.log`);
    const s = fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
    return `---- ${p.name}.log\n${s.slice(-tail)}`;
  }).join('\n');

  /* reel-sim serving CLIPS/CODEC.EXT on a port of its choice; returns the port. */
  h.startSim = async (name, codec, ext) => {
    const ready = path.join(tmp, `${name}.ready`);
    h.start(name, REEL_SIM, ['--clip', path.join(CLIPS, `${codec}.${ext}`), '--codec', codec,
      '--listen', '127.0.0.1', '--port', '0', '--ready-file', ready]);
    return waitFor(`${name} ready file`, async () => {
      const s = fs.existsSync(ready) && fs.readFileSync(ready, 'utf8').trim();
      return s && Number(s);
    }, 15000);
  };

  /* The admin account `reel init` creates: its password is in a 0600 file in
   * the data directory (the output only says where). */
  h.readInitialPassword = (dir = data) => {
    const f = path.join(dir, 'initial-admin-password');
    return { user: 'admin', password: fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : null };
  };

  /* Runs one case: "ok - NAME", "ok - NAME # SKIP why" (Skip thrown) or
   * "not ok - NAME" with the error. */
  h.check = async (name, fn) => {
    try {
      await fn();
      h.passed++;
      console.log(`ok - ${name}`);
    } catch (e) {
      if (e instanceof Skip) {
        h.skipped++;
        console.log(`ok - ${name} # SKIP ${e.message}`);
        return;
      }
      h.failed++;
      console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
    }
  };

  /* `reel -d DATA run --http 127.0.0.1:PORT ARGS` as process "reel", once
   * GET /api/health answers; returns the base URL. */
  h.startReel = async (args = [], timeoutMs = 20000) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const rec = h.start('reel', REEL, ['-d', data, 'run', '--http', `127.0.0.1:${port}`, ...args]);
    await waitFor('GET /api/health', async () => {
      if (rec.exitCode !== null) throw new Error('reel run exited');
      return (await fetch(`${base}/api/health`)).status === 200;
    }, timeoutMs);
    return base;
  };

  /* chromium's page with a default timeout, its problems (script errors,
   * console errors but answers matching okStatus, CSP violations) collected:
   * { ctx, page, problems }. */
  h.openPage = async (chromium, okStatus, timeoutMs = 20000) => {
    const ctx = await h.launchPersistent(chromium);
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(timeoutMs);
    const problems = [];
    watchProblems(page, problems, okStatus);
    await reportCsp(page);
    return { ctx, page, problems };
  };

  /* chromium with a profile in TMP, a 1000x900 viewport. */
  h.launchPersistent = (chromium) => chromium.launchPersistentContext(fs.mkdtempSync(path.join(tmp, 'chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 900 },
  });

  /* Runs main() and exits: on SIGTERM/SIGINT kills everything and counts a
   * failure; afterwards closes the browser (close()), stops `reel`, kills the
   * rest, prints the notes ("# ..."), the logs when a case failed (unless
   * REEL_KEEP_TMP), keeps TMP when a case failed or REEL_KEEP_TMP is set,
   * and prints "N passed, N failed[, N skipped]". */
  h.runMain = async (main, close, notes, logs = h.logs) => {
    let code = 1;
    const onSignal = (sig) => {
      h.killAll();
      console.log(`interrupted by ${sig}`);
      console.log(`${h.passed} passed, ${h.failed + 1} failed`);
      process.exit(1);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      await main();
    } catch (e) {
      h.failed++;
      console.log(`not ok - unexpected error\n  ${e.stack || e}`);
    } finally {
      await close();
      const r = procs.find((p) => p.name === 'reel');
      if (r) await h.stop(r).catch(() => {});
      h.killAll();
      for (const n of notes) console.log(`# ${n}`);
      if (h.failed && !process.env.REEL_KEEP_TMP) console.log(logs());
      if (h.failed || process.env.REEL_KEEP_TMP) console.log(`(kept ${tmp})`);
      else fs.rmSync(tmp, { recursive: true, force: true });
      console.log(`${h.passed} passed, ${h.failed} failed${h.skipped ? `, ${h.skipped} skipped` : ''}`);
      code = h.failed ? 1 : 0;
    }
    process.exit(code);
  };

  return h;
}
