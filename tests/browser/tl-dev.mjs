// dev only: screenshot the timeline against a running server
import { loadChromium, CHROMIUM_ARGS, CHROMIUM } from './harness.mjs';
const [base, pass, out, w, h, hash] = process.argv.slice(2);
const chromium = await loadChromium();
const b = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const p = await b.newPage({ viewport: { width: +w, height: +h }, timezoneId: 'Europe/Berlin' });
p.on('console', (m) => console.log('console', m.type(), m.text()));
p.on('pageerror', (e) => console.log('pageerror', e.message));
await p.goto(base + '/');
await p.fill('#username', 'admin'); await p.fill('#password', pass); await p.click('#login-submit');
await p.waitForSelector('#who:not([hidden])');
await p.evaluate((hh) => { location.hash = hh; }, hash || '#/timeline');
await p.waitForTimeout(4000);
console.log(JSON.stringify(await p.evaluate(() => { const i = window.ReelTimeline.info(); delete i.data; return i; })));
await p.screenshot({ path: out });
await b.close();
