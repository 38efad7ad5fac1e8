/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The timeline page (#/timeline, #/playback is an alias), mounted by app.js:
 * one bar per camera drawn on a canvas, zoomable from 1 minute to 31 days
 * (wheel, pinch, buttons), dragged to scrub with previews (thumb.jpg,
 * prefetched per zoom level), gaps shaded by reason (hover or tap shows it),
 * locks and events when /api/timeline has them, a calendar of the days with
 * footage, "now", times in the viewer's time zone (ticks made from local
 * calendar fields, so a 23- or 25-hour day is drawn as such).
 * Playback: Media Source Extensions fed with init.mp4 + frag.m4s, one
 * recording after the other (gaps skipped and shown), 0.5x to 16x (key
 * frames only above 4x), frame steps when paused, up to 4 cameras kept within
 * a few tens of ms of the first one. Selection -> menu: Export… (dialog with
 * progress and recent exports) and the actions other modules push to
 * window.ReelTimeline.actions ({id, label, roles, run(sel)}).
 * No inline style or script (CSP): sizes and positions are set through the
 * CSSOM, drawing is on canvas.
 */
(function () {
  'use strict';
  const TL = window.ReelTimeline || (window.ReelTimeline = {});
  if (!Array.isArray(TL.actions)) TL.actions = [];

  const SEC = 1000;
  const MIN = 60 * SEC;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  const MIN_SPAN = MIN;
  const MAX_SPAN = 31 * DAY;
  const HISTORY = 62 * DAY;
  const MAX_PLAY = 4;
  const KEYS_ABOVE = 4;            /* speeds above this play key frames only */
  const SPEEDS = [0.5, 1, 2, 4, 8, 16];
  const ZOOMS = [['1m', MIN], ['10m', 10 * MIN], ['1h', HOUR], ['6h', 6 * HOUR], ['1d', DAY], ['7d', 7 * DAY],
    ['31d', 31 * DAY]];
  const T90 = 90;                  /* 90 kHz ticks per ms */

  let S = null;                    /* the mounted page's state; null when not mounted */

  const pad = (n, w = 2) => String(n).padStart(w, '0');
  const clamp = (v, a, b) => Math.min(b, Math.max(a, v));
  const iso = (ms) => new Date(ms).toISOString();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const el = window.reelDom.el;
  function button(cls, text, title) {
    const b = el('button', cls, text);
    b.type = 'button';
    if (title) {
      b.title = title;
      b.setAttribute('aria-label', title);
    }
    return b;
  }

  /* ---- time in the viewer's zone ---- */

  const WD = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MO = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function hm(ms) {
    const d = new Date(ms);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function hms(ms) {
    const d = new Date(ms);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function dayLabel(ms) {
    const d = new Date(ms);
    return `${WD[d.getDay()]} ${d.getDate()} ${MO[d.getMonth()]}`;
  }
  function full(ms) {
    const d = new Date(ms);
    return `${dayLabel(ms)} ${d.getFullYear()}, ${hms(ms)}`;
  }
  function dur(ms) {
    const s = Math.round(ms / 1000);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60 ? `${s % 60} s` : ''}`.trim();
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
  }
  function utcOffset(ms) {
    const o = -new Date(ms).getTimezoneOffset();
    return `UTC${o >= 0 ? '+' : '-'}${Math.floor(Math.abs(o) / 60)}${Math.abs(o) % 60 ? `:${pad(Math.abs(o) % 60)}` : ''}`;
  }
  const localMidnight = (ms) => {
    const d = new Date(ms);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  };
  function toLocalInput(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${hms(ms)}`;
  }
  function fromLocalInput(v) {
    const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?/.exec(v || '');
    if (!m) return NaN;
    return new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)).getTime();
  }

  /* Tick steps: [ms, kind]; steps of an hour or more are made from local
   * calendar fields (Date(y, m, d, h)), so daylight-saving days come out
   * 23 or 25 hours long and labels say the wall-clock hour. */
  const STEPS = [[SEC, 's'], [5 * SEC, 's'], [10 * SEC, 's'], [30 * SEC, 's'], [MIN, 'm'], [5 * MIN, 'm'],
    [10 * MIN, 'm'], [15 * MIN, 'm'], [30 * MIN, 'm'], [HOUR, 'h'], [3 * HOUR, 'h'], [6 * HOUR, 'h'],
    [12 * HOUR, 'h'], [DAY, 'd'], [2 * DAY, 'd'], [7 * DAY, 'd']];
  function ticks(start, end, minPx, width) {
    const per = (end - start) / width;
    let step = STEPS[STEPS.length - 1];
    for (const s of STEPS) {
      if (s[0] / per >= minPx) {
        step = s;
        break;
      }
    }
    const out = [];
    const [ms, kind] = step;
    if (kind === 's' || kind === 'm') {
      const m0 = localMidnight(start);
      let t = m0 + Math.ceil((start - m0) / ms) * ms;
      for (; t <= end && out.length < 400; t += ms) out.push(t);
    } else if (kind === 'h') {
      /* absolute hours, kept where the local hour is a multiple of the
       * step: a 25-hour day shows its repeated hour twice */
      const h = ms / HOUR;
      let t = Math.floor(start / HOUR) * HOUR;
      for (let n = 0; t <= end && n < 20000 && out.length < 400; t += HOUR, n++) {
        const d = new Date(t);
        if (t >= start && d.getMinutes() === 0 && d.getHours() % h === 0) out.push(t);
      }
    } else {
      const n = ms / DAY;
      const d = new Date(localMidnight(start));
      for (let i = 0; out.length < 400; i += n) {
        const t = new Date(d.getFullYear(), d.getMonth(), d.getDate() + i).getTime();
        if (t > end) break;
        if (t >= start) out.push(t);
      }
    }
    return { step: ms, kind, list: out };
  }
  TL.ticks = ticks;    /* for the browser test (time-zone checks) */

  function tickLabel(t, kind) {
    if (kind === 'd') return dayLabel(t);
    const d = new Date(t);
    if (kind === 's') return hms(t);
    if (d.getHours() === 0 && d.getMinutes() === 0) return dayLabel(t);
    return hm(t);
  }

  /* ---- gap reasons ---- */

  function gapKind(reason) {
    const r = String(reason || '').toLowerCase();
    if (!r || r === 'not recorded') return 'none';
    if (r.includes('retention') || r.includes('deleted')) return 'retention';
    if (r.includes('password') || r.includes('refused')) return 'auth';
    if (r.includes('stopped')) return 'stopped';
    if (r.includes('write')) return 'error';
    return 'offline';
  }
  const GAP_COLOURS = {
    offline: '#c2542d', auth: '#b8407a', stopped: '#7a6bd1', error: '#d13c3c', retention: '#4a5260', none: '#262d36',
  };
  const GAP_NAMES = {
    offline: 'camera offline / stalled', auth: 'refused / wrong password', stopped: 'recorder stopped',
    error: 'write error', retention: 'deleted by retention', none: 'not recorded',
  };

  /* ---- data ---- */

  function parseIv(a) {
    if (!Array.isArray(a)) return [];
    return a.map((x) => (Array.isArray(x) ? { start: Date.parse(x[0]), end: Date.parse(x[1]) }
      : { start: Date.parse(x.start), end: Date.parse(x.end), reason: x.reason, id: x.id, case: x.case,
        label: x.label || x.type || x.kind })).filter((x) => isFinite(x.start) && isFinite(x.end) && x.end >= x.start)
      .sort((x, y) => x.start - y.start);
  }

  /* events of /api/timeline: {id, kind, start, end|null (ongoing), zones, peak} */
  function parseEvents(a) {
    if (!Array.isArray(a)) return [];
    return a.map((x) => ({ id: x.id, kind: String(x.kind || x.type || ''), start: Date.parse(x.start),
      end: x.end ? Date.parse(x.end) : null, zones: Array.isArray(x.zones) ? x.zones.map(String).slice(0, 16) : [],
      peak: typeof x.peak === 'number' ? x.peak : null })).filter((x) => isFinite(x.start) && (x.end === null || isFinite(x.end)))
      .sort((x, y) => x.start - y.start);
  }
  /* an event kind's name and colour (events.js shares them) */
  function evKind(k) {
    const K = window.reelEventKinds;
    return K ? K.info(k) : [k || 'event', '', '#4da3ff'];
  }

  /* motion activity bars (GET /api/cameras/{camera}/motion/activity), when
   * the server has the route: {start, step, levels} per camera */
  async function fetchActivity(out, start, end) {
    if (S.noActivity) return;
    const buckets = clamp(Math.round(S.width * (end - start) / S.span / 3), 1, 2000);
    await Promise.all([...out.keys()].map(async (n) => {
      const r = await S.ctx.api('GET', `/api/cameras/${encodeURIComponent(n)}/motion/activity?from=${encodeURIComponent(iso(start))}` +
        `&to=${encodeURIComponent(iso(end))}&buckets=${buckets}`);
      if (r.status === 404 && !(r.json && /camera/i.test(r.json.error || ''))) S.noActivity = true;
      if (r.status !== 200 || !r.json || !Array.isArray(r.json.levels) || !(r.json.step90k > 0)) return;
      out.get(n).activity = { start, step: r.json.step90k / T90, levels: r.json.levels.slice(0, 2000) };
    }));
  }

  /* url with the playback reason when the site asks for one (reason.js;
   * the server remembers it per session, sending it again is harmless) */
  function withReason(url) {
    return window.reelReason ? window.reelReason.add(url, 'playback') : url;
  }

  /* /api/timeline for [start, end]; falls back to each camera's /spans
   * (at most 7 days) when the route is missing. */
  async function fetchTimeline(start, end, minGapS) {
    const names = S.lanes.map((l) => l.name);
    if (!names.length) return null;
    if (!S.noTimelineApi) {
      const q = `/api/timeline?start=${encodeURIComponent(iso(start))}&end=${encodeURIComponent(iso(end))}` +
        `&cameras=${names.map(encodeURIComponent).join(',')}&min_gap=${Math.max(0, Math.floor(minGapS))}`;
      const r = await S.ctx.api('GET', withReason(q));
      if (r.status === 200 && r.json && Array.isArray(r.json.cameras)) {
        const out = new Map();
        for (const c of r.json.cameras) {
          out.set(c.name, { spans: parseIv(c.spans), gaps: parseIv(c.gaps), locks: parseIv(c.locks),
            events: parseEvents(c.events) });
        }
        if (r.json.now) S.serverSkew = Date.parse(r.json.now) - Date.now();
        return out;
      }
      if (r.status !== 404 || (r.json && /camera/i.test(r.json.error || ''))) return null;
      S.noTimelineApi = true;
    }
    const s = Math.max(start, end - 7 * DAY + MIN);
    const out = new Map();
    await Promise.all(names.map(async (n) => {
      const r = await S.ctx.api('GET', `/api/cameras/${encodeURIComponent(n)}/spans?start=${encodeURIComponent(iso(s))}` +
        `&end=${encodeURIComponent(iso(end))}`);
      if (r.status === 200 && r.json) {
        out.set(n, { spans: parseIv(r.json.spans), gaps: parseIv(r.json.gaps), locks: [], events: [] });
      }
    }));
    return out;
  }

  const now = () => Date.now() + (S ? S.serverSkew : 0);

  /* Loads the timeline around the view (one width either side) unless what
   * is loaded already covers it at this zoom. */
  function scheduleLoad() {
    clearTimeout(S.loadTimer);
    S.loadTimer = setTimeout(loadView, 80);
  }
  async function loadView() {
    const { start, end } = viewRange();
    const span = end - start;
    const have = S.loaded;
    if (have && have.start <= start && have.end >= Math.min(end, now()) && have.span <= span * 2 &&
        have.span >= span / 2 && Date.now() - have.at < 15000) return;
    const ls = Math.max(start - span, now() - HISTORY + MIN);
    const le = Math.min(end + span, now());
    if (le <= ls) return;
    const gen = ++S.loadGen;
    let data;
    try {
      data = await fetchTimeline(ls, le, (span / 1000) / Math.max(400, S.width));
    } catch (e) {
      return;
    }
    if (!S || gen !== S.loadGen || !data) return;
    try {
      await fetchActivity(data, ls, le);
    } catch (e) {
      /* no bars then */
    }
    if (!S || gen !== S.loadGen) return;
    S.data = data;
    S.loaded = { start: ls, end: le, span, at: Date.now() };
    draw();
  }

  async function loadCalendar() {
    const end = now();
    const start = end - HISTORY + MIN;
    let data;
    try {
      data = await fetchTimeline(start, end, 1800);
    } catch (e) {
      return;
    }
    if (!S || !data) return;
    const days = new Set();
    for (const c of data.values()) {
      for (const sp of c.spans) {
        for (let d = localMidnight(sp.start); d < sp.end; d = new Date(new Date(d).setDate(new Date(d).getDate() + 1)).getTime()) {
          days.add(d);
        }
      }
    }
    S.footageDays = days;
    if (!S.loaded && data) {
      S.data = data;
      draw();
    }
    if (S.calOpen) renderCalendar();
  }

  /* ---- view ---- */

  function viewRange() {
    return { start: S.center - S.span / 2, end: S.center + S.span / 2 };
  }
  const xOf = (t) => ((t - (S.center - S.span / 2)) / S.span) * S.width;
  const tOf = (x) => S.center - S.span / 2 + (x / S.width) * S.span;

  function setView(center, span, opts) {
    S.span = clamp(span, MIN_SPAN, MAX_SPAN);
    S.center = clamp(center, now() - HISTORY, now() + S.span * 0.25);
    if (!opts || !opts.noLoad) scheduleLoad();
    if (!opts || !opts.noThumbs) schedulePrefetch();
    updateZoomButtons();
    draw();
  }

  function updateZoomButtons() {
    for (const b of S.zoomBtns) b.setAttribute('aria-pressed', String(Math.abs(+b.dataset.span - S.span) < 1));
  }

  /* ---- drawing ---- */

  const LANE_H = 30;
  const LANE_GAP = 6;
  const RULER_H = 26;

  function layout() {
    const rect = S.bar.getBoundingClientRect();
    S.width = Math.max(100, rect.width);
    const h = RULER_H + S.lanes.length * (LANE_H + LANE_GAP) + 8;
    S.height = h;
    const dpr = window.devicePixelRatio || 1;
    S.canvas.width = Math.round(S.width * dpr);
    S.canvas.height = Math.round(h * dpr);
    S.canvas.style.height = `${h}px`;
    S.canvas.style.width = `${S.width}px`;
    S.dpr = dpr;
    draw();
  }

  function draw() {
    if (!S || !S.canvas || S.drawQueued) return;
    S.drawQueued = true;
    requestAnimationFrame(() => {
      if (!S) return;
      S.drawQueued = false;
      paint();
    });
  }

  function paint() {
    const c = S.canvas.getContext('2d');
    const W = S.width;
    c.setTransform(S.dpr, 0, 0, S.dpr, 0, 0);
    c.clearRect(0, 0, W, S.height);
    const { start, end } = viewRange();
    const nowMs = now();
    /* day shading: alternate local days */
    const tk = ticks(start, end, S.width < 500 ? 64 : 84, W);
    let d0 = localMidnight(start);
    for (let i = 0; d0 < end && i < 64; i++) {
      const d = new Date(d0);
      const d1 = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime();
      if (Math.floor(d0 / DAY) % 2 === 0) {
        c.fillStyle = 'rgba(255,255,255,0.025)';
        c.fillRect(xOf(d0), RULER_H, xOf(d1) - xOf(d0), S.height - RULER_H);
      }
      d0 = d1;
    }
    /* ruler */
    c.font = '11px system-ui, sans-serif';
    c.textBaseline = 'middle';
    for (const t of tk.list) {
      const x = Math.round(xOf(t)) + 0.5;
      const dt = new Date(t);
      const major = dt.getHours() === 0 && dt.getMinutes() === 0 && dt.getSeconds() === 0;
      c.strokeStyle = major ? 'rgba(255,255,255,0.28)' : 'rgba(255,255,255,0.09)';
      c.beginPath();
      c.moveTo(x, major ? 4 : RULER_H - 8);
      c.lineTo(x, S.height);
      c.stroke();
      c.fillStyle = major ? '#e6e9ee' : '#98a2b0';
      c.fillText(tickLabel(t, tk.kind), x + 4, RULER_H / 2);
    }
    /* daylight-saving changes in view: a marker where the offset changes */
    const dst = dstChanges(start, end);
    for (const t of dst) {
      const x = xOf(t);
      c.strokeStyle = '#d29922';
      c.setLineDash([3, 3]);
      c.beginPath();
      c.moveTo(x, RULER_H);
      c.lineTo(x, S.height);
      c.stroke();
      c.setLineDash([]);
      c.fillStyle = '#d29922';
      c.fillText(`${utcOffset(t - 1)} → ${utcOffset(t)}`, x + 4, RULER_H + 6);
    }
    S.dstInView = dst;
    /* lanes */
    S.lanes.forEach((lane, i) => {
      const y = RULER_H + i * (LANE_H + LANE_GAP) + 2;
      lane.y = y;
      c.fillStyle = '#161b22';
      roundRect(c, 0, y, W, LANE_H, 6);
      c.fill();
      const data = S.data && S.data.get(lane.name);
      if (data) {
        const grad = c.createLinearGradient(0, y, 0, y + LANE_H);
        grad.addColorStop(0, lane.playing ? '#3fc373' : '#2f9e5f');
        grad.addColorStop(1, lane.playing ? '#2a9457' : '#23784a');
        c.fillStyle = grad;
        for (const sp of data.spans) {
          const a = xOf(sp.start);
          const b = xOf(Math.min(sp.end, nowMs));
          if (b < 0 || a > W) continue;
          roundRect(c, a, y + 3, Math.max(1.5, b - a), LANE_H - 6, Math.min(4, (b - a) / 2));
          c.fill();
        }
        for (const g of data.gaps) {
          const a = xOf(g.start);
          const b = xOf(g.end);
          if (b < 0 || a > W) continue;
          const k = gapKind(g.reason);
          c.fillStyle = GAP_COLOURS[k];
          c.fillRect(a, y + 4, Math.max(1, b - a), LANE_H - 8);
          if (k !== 'none' && b - a > 6) {
            c.save();
            c.beginPath();
            c.rect(a, y + 4, b - a, LANE_H - 8);
            c.clip();
            c.strokeStyle = 'rgba(0,0,0,0.25)';
            for (let hx = a - LANE_H; hx < b; hx += 7) {
              c.beginPath();
              c.moveTo(hx, y + LANE_H - 4);
              c.lineTo(hx + LANE_H, y + 4);
              c.stroke();
            }
            c.restore();
          }
        }
        for (const l of data.locks) {
          const a = xOf(l.start);
          const b = xOf(l.end);
          if (b < 0 || a > W) continue;
          c.fillStyle = '#d29922';
          c.fillRect(a, y, Math.max(2, b - a), 3);
        }
        if (data.activity) {
          /* motion activity: bars rising from the lane's foot, their height the share of seconds with motion */
          const act = data.activity;
          c.fillStyle = 'rgba(255, 214, 90, 0.75)';
          act.levels.forEach((lv, k) => {
            if (!(lv > 0)) return;
            const a = xOf(act.start + k * act.step);
            const b = xOf(act.start + (k + 1) * act.step);
            if (b < 0 || a > W) return;
            const hgt = Math.max(2, (LANE_H - 10) * Math.min(100, lv) / 100);
            c.fillRect(a, y + LANE_H - 3 - hgt, Math.max(1, b - a - 0.5), hgt);
          });
        }
        for (const e of data.events) {
          const x = xOf(e.start);
          const xe = xOf(e.end === null ? nowMs : e.end);
          if (xe < -4 || x > W + 4) continue;
          const colour = evKind(e.kind)[2];
          c.fillStyle = colour;
          /* its length: a band under the lane; ongoing: to now */
          if (xe - x >= 1) c.fillRect(x, y + LANE_H + 1, xe - x, 3);
          c.beginPath();
          c.moveTo(x, y + LANE_H - 2);
          c.lineTo(x - 4, y + LANE_H + 4);
          c.lineTo(x + 4, y + LANE_H + 4);
          c.fill();
        }
      }
      c.fillStyle = lane.playing ? '#ffffff' : '#c9d1d9';
      c.font = `${lane.playing ? '600 ' : ''}11px system-ui, sans-serif`;
      const label = lane.name;
      const tw = c.measureText(label).width;
      c.fillStyle = 'rgba(13,17,23,0.78)';
      roundRect(c, 4, y + 7, tw + 12, 16, 4);
      c.fill();
      c.fillStyle = lane.playing ? '#ffffff' : '#aeb7c2';
      c.fillText(label, 10, y + LANE_H / 2);
      c.font = '11px system-ui, sans-serif';
    });
    /* future: hatched */
    const xn = xOf(nowMs);
    if (xn < W) {
      c.fillStyle = 'rgba(15,19,24,0.75)';
      c.fillRect(Math.max(0, xn), RULER_H, W - Math.max(0, xn), S.height - RULER_H);
      c.strokeStyle = '#4da3ff';
      c.lineWidth = 1.5;
      c.beginPath();
      c.moveTo(xn, RULER_H - 4);
      c.lineTo(xn, S.height);
      c.stroke();
      c.lineWidth = 1;
      c.fillStyle = '#4da3ff';
      c.fillText('now', Math.min(xn + 4, W - 26), RULER_H - 6);
    }
    /* selection */
    if (S.sel) {
      const a = xOf(S.sel.start);
      const b = xOf(S.sel.end);
      c.fillStyle = 'rgba(77,163,255,0.22)';
      c.fillRect(a, RULER_H, b - a, S.height - RULER_H);
      c.fillStyle = '#4da3ff';
      c.fillRect(a - 1, RULER_H, 2, S.height - RULER_H);
      c.fillRect(b - 1, RULER_H, 2, S.height - RULER_H);
      for (const x of [a, b]) {
        roundRect(c, x - 5, S.height / 2 + 4, 10, 22, 3);
        c.fill();
      }
    }
    /* playhead */
    const xp = xOf(S.cursor);
    c.fillStyle = '#ffd33d';
    c.fillRect(Math.round(xp) - 1, RULER_H - 2, 2, S.height - RULER_H + 2);
    c.beginPath();
    c.moveTo(xp - 6, RULER_H - 8);
    c.lineTo(xp + 6, RULER_H - 8);
    c.lineTo(xp, RULER_H - 1);
    c.fill();
    S.timeLabel.textContent = full(S.cursor);
    S.zoneLabel.textContent = utcOffset(S.cursor);
    S.rangeLabel.textContent = `${dur(S.span)} across`;
  }

  function roundRect(c, x, y, w, h, r) {
    r = Math.max(0, Math.min(r, w / 2, h / 2));
    c.beginPath();
    c.moveTo(x + r, y);
    c.arcTo(x + w, y, x + w, y + h, r);
    c.arcTo(x + w, y + h, x, y + h, r);
    c.arcTo(x, y + h, x, y, r);
    c.arcTo(x, y, x + w, y, r);
    c.closePath();
  }

  /* The instants in [start, end] where the local UTC offset changes,
   * found hour by hour then narrowed to the minute. */
  function dstChanges(start, end) {
    const out = [];
    if (end - start > 62 * DAY) return out;
    let prev = new Date(start).getTimezoneOffset();
    for (let t = start + HOUR; t <= end + HOUR; t += HOUR) {
      const o = new Date(Math.min(t, end)).getTimezoneOffset();
      if (o !== prev) {
        let a = t - HOUR;
        let b = Math.min(t, end);
        while (b - a > MIN) {
          const m = a + Math.floor((b - a) / 2 / MIN) * MIN || a + MIN;
          if (new Date(m).getTimezoneOffset() === prev) a = m;
          else b = m;
        }
        out.push(b);
        prev = o;
      }
      if (t >= end) break;
    }
    return out;
  }
  TL.dstChanges = dstChanges;

  /* ---- hit testing, tooltip ---- */

  function hit(x, y) {
    const t = tOf(x);
    const lane = S.lanes.find((l) => y >= l.y && y <= l.y + LANE_H + 4);
    if (!lane) return { t };
    const data = S.data && S.data.get(lane.name);
    if (!data) return { t, lane };
    const tol = S.span / S.width * 3;
    const ev = data.events.find((e) => Math.abs(e.start - t) <= tol) ||
      data.events.find((e) => t >= e.start && t <= (e.end === null ? now() : e.end) && y >= lane.y + LANE_H - 4);
    const lock = data.locks.find((l) => t >= l.start && t <= l.end) && y <= lane.y + 6
      ? data.locks.find((l) => t >= l.start && t <= l.end) : null;
    const gap = data.gaps.find((g) => t >= g.start && t < g.end);
    const span = data.spans.find((s) => t >= s.start && t < s.end);
    return { t, lane, gap, lock, ev, span: gap ? null : span };
  }

  function showTip(x, y, h, sticky) {
    const tip = S.tip;
    const lines = [full(h.t)];
    if (h.lane) lines.unshift(h.lane.name);
    if (h.gap) lines.push(`No footage: ${h.gap.reason || 'not recorded'} (${hm(h.gap.start)}–${hm(h.gap.end)}, ${dur(h.gap.end - h.gap.start)})`);
    else if (h.lane && h.span) lines.push('Recorded');
    else if (h.lane && !h.span && h.t < now()) lines.push('No footage');
    if (h.lock) lines.push(`Locked${h.lock.case ? `: ${h.lock.case}` : ''}`);
    if (h.ev) {
      const e = h.ev;
      lines.push(`${evKind(e.kind)[0]} ${hms(e.start)}–${e.end === null ? 'ongoing' : `${hms(e.end)} (${dur(e.end - e.start)})`}`);
      if (e.zones.length) lines.push(`Zones: ${e.zones.join(', ')}`);
      if (e.peak !== null && e.kind === 'motion') lines.push(`Peak ${e.peak}`);
    }
    tip.replaceChildren(...lines.map((l, i) => el('div', i === 0 ? 'tl-tip-h' : (l.startsWith('No footage:') ? 'tl-tip-gap' : ''), l)));
    tip.hidden = false;
    const w = tip.offsetWidth;
    tip.style.left = `${clamp(x - w / 2, 0, S.width - w)}px`;
    tip.style.top = `${Math.max(0, y - tip.offsetHeight - 10)}px`;
    clearTimeout(S.tipTimer);
    if (sticky) S.tipTimer = setTimeout(() => { if (S) S.tip.hidden = true; }, 3500);
  }

  /* ---- previews ---- */

  function thumbQuantum() {
    return Math.max(2 * SEC, S.span / 24);
  }
  function thumbUrl(cam, t) {
    const q = thumbQuantum();
    const tq = Math.floor(t / q) * q + Math.floor(q / 2);
    return withReason(`/api/cameras/${encodeURIComponent(cam)}/thumb.jpg?t=${encodeURIComponent(iso(tq))}&w=160`);
  }
  function thumbFor(cam, t, urgent) {
    const u = thumbUrl(cam, t);
    let img = S.thumbs.get(u);
    if (!img) {
      img = new Image();
      img.decoding = 'async';
      img.alt = '';
      img.className = 'tl-thumb';
      img.dataset.src = u;
      S.thumbs.set(u, img);
      if (S.thumbs.size > 600) S.thumbs.delete(S.thumbs.keys().next().value);
    }
    if (!img.getAttribute('src')) {
      /* not loaded yet: queued again (a new zoom level empties the queue) */
      const i = S.thumbQueue.indexOf(img);
      if (urgent) {
        if (i >= 0) S.thumbQueue.splice(i, 1);
        S.thumbQueue.unshift(img);
      } else if (i < 0) {
        S.thumbQueue.push(img);
      }
    }
    pumpThumbs();
    return img;
  }

  /* At most 2 previews load at a time, and none while a seek starts: the
   * browser has 6 connections per server and the fragments come first. */
  function pumpThumbs() {
    if (S.starting && performance.now() < S.startingUntil) {
      clearTimeout(S.thumbRetry);
      S.thumbRetry = setTimeout(() => { if (S) pumpThumbs(); }, S.startingUntil - performance.now() + 10);
      return;
    }
    while (S.thumbBusy < 2 && S.thumbQueue.length) {
      const img = S.thumbQueue.shift();
      if (img.getAttribute('src')) continue;
      S.thumbBusy++;
      const done = () => {
        if (!S) return;
        S.thumbBusy--;
        pumpThumbs();
      };
      img.addEventListener('load', done, { once: true });
      img.addEventListener('error', done, { once: true });
      img.src = img.dataset.src;
    }
  }
  function schedulePrefetch() {
    clearTimeout(S.thumbTimer);
    S.thumbTimer = setTimeout(prefetchThumbs, 150);
  }
  /* Loads the previews of the whole view (and half a width either side) at
   * this zoom's quantum for the cameras played, so that scrubbing shows
   * them at once. Only where there is footage. */
  function prefetchThumbs() {
    if (!S) return;
    S.thumbQueue = [];
    const q = thumbQuantum();
    const { start, end } = viewRange();
    for (const cam of S.playing) {
      const data = S.data && S.data.get(cam);
      for (let t = Math.floor((start - S.span / 2) / q) * q; t < end + S.span / 2; t += q) {
        const mid = t + Math.floor(q / 2);
        if (mid > now()) break;
        if (data && !data.spans.some((s) => mid >= s.start && mid < s.end)) continue;
        thumbFor(cam, mid);
      }
    }
  }
  function showPreview(t) {
    const cams = S.playing.slice(0, 4);
    const box = S.preview;
    const kids = [];
    for (const cam of cams) {
      const data = S.data && S.data.get(cam);
      const has = !data || data.spans.some((s) => t >= s.start && t < s.end);
      const fig = el('div', 'tl-prev-item');
      if (has) {
        const img = thumbFor(cam, t, true);
        fig.append(img);
      } else {
        const gap = data.gaps.find((g) => t >= g.start && t < g.end);
        fig.append(el('div', 'tl-prev-none', gap ? gap.reason : 'no footage'));
      }
      if (cams.length > 1) fig.append(el('span', 'tl-prev-cam', cam));
      kids.push(fig);
    }
    kids.push(el('div', 'tl-prev-time', `${dayLabel(t)} ${hms(t)}`));
    box.replaceChildren(...kids);
    box.hidden = false;
    const x = xOf(t);
    const w = box.offsetWidth;
    box.style.left = `${clamp(x - w / 2, 0, S.width - w)}px`;
  }

  /* ---- pointer: scrub, select, pinch, wheel ---- */

  function onPointerDown(ev) {
    if (ev.button > 0) return;
    try {
      S.canvas.setPointerCapture(ev.pointerId);
    } catch (e) {
      /* a synthetic pointer: no capture */
    }
    S.pointers.set(ev.pointerId, { x: ev.offsetX, y: ev.offsetY });
    if (S.pointers.size === 2) {
      const [a, b] = [...S.pointers.values()];
      S.pinch = { d: Math.abs(a.x - b.x) || 1, span: S.span, center: S.center };
      S.drag = null;
      S.preview.hidden = true;
      return;
    }
    const x = ev.offsetX;
    const selHandle = S.sel && [['start', xOf(S.sel.start)], ['end', xOf(S.sel.end)]].find((p) => Math.abs(p[1] - x) < 10);
    if (selHandle) {
      S.drag = { mode: 'handle', which: selHandle[0], x0: x, moved: true };
    } else if (ev.shiftKey || S.selectMode) {
      const t = tOf(x);
      S.drag = { mode: 'select', t0: t, x0: x, moved: false };
    } else {
      S.drag = { mode: 'scrub', x0: x, y0: ev.offsetY, c0: S.center, cur0: S.cursor, moved: false, ts: ev.timeStamp };
      S.scrubbing = true;
    }
  }

  function onPointerMove(ev) {
    const p = S.pointers.get(ev.pointerId);
    if (p) {
      p.x = ev.offsetX;
      p.y = ev.offsetY;
    }
    if (S.pinch && S.pointers.size === 2) {
      const [a, b] = [...S.pointers.values()];
      const d = Math.abs(a.x - b.x) || 1;
      S.userViewAt = Date.now();
      setView(S.center, S.pinch.span * (S.pinch.d / d));
      return;
    }
    const d = S.drag;
    if (!d) {
      if (ev.pointerType === 'mouse') {
        const h = hit(ev.offsetX, ev.offsetY);
        showTip(ev.offsetX, ev.offsetY, h, false);
        prefetchAt(h.t);
      }
      return;
    }
    const dx = ev.offsetX - d.x0;
    if (Math.abs(dx) > 4) d.moved = true;
    if (d.mode === 'scrub' && d.moved) {
      S.tip.hidden = true;
      /* the bar moves under a fixed playhead, as in a phone's gallery scrubber */
      const dt = -dx * (S.span / S.width);
      S.cursor = clamp(d.cur0 + dt, now() - HISTORY, now());
      setView(d.c0 + dt, S.span, { noThumbs: true });
      showPreview(S.cursor);
    } else if (d.mode === 'select') {
      const t = tOf(ev.offsetX);
      if (d.moved) setSel(Math.min(d.t0, t), Math.max(d.t0, t), false);
    } else if (d.mode === 'handle') {
      const t = tOf(ev.offsetX);
      const o = { ...S.sel };
      o[d.which] = t;
      if (o.end - o.start > 1000) setSel(o.start, o.end, false);
    }
  }

  /* Hovering looks up the recordings under the pointer (throttled), so a
   * click there needs one request (the fragment) instead of two. */
  function prefetchAt(t) {
    if (S.prefetchBusy || t > now()) return;
    S.prefetchBusy = true;
    setTimeout(() => { if (S) S.prefetchBusy = false; }, 150);
    const t90 = Math.round(t * T90);
    for (const cam of S.playing.slice(0, MAX_PLAY)) {
      const p = tileFor(cam).player;
      if (p.fallback || p.recs.some((x) => t90 >= x.s90 && t90 < x.e90)) continue;
      p.lookup(t - 2 * SEC, t + 20 * MIN).catch(() => {});
    }
  }

  function onPointerUp(ev) {
    S.pointers.delete(ev.pointerId);
    if (S.pinch) {
      if (S.pointers.size < 2) S.pinch = null;
      return;
    }
    const d = S.drag;
    S.drag = null;
    S.scrubbing = false;
    S.preview.hidden = true;
    if (!d) return;
    if (d.mode === 'scrub') {
      const h = hit(ev.offsetX, ev.offsetY);
      if (!d.moved) {
        /* a click or tap: play from there; on touch a gap also shows its reason */
        if (ev.pointerType !== 'mouse' && (h.gap || h.lock || h.ev)) showTip(ev.offsetX, ev.offsetY, h, true);
        if (h.lane && !S.playing.includes(h.lane.name) && ev.offsetX < 90) togglePlaying(h.lane.name);
        S.stats.clickAt = ev.timeStamp;
        seek(h.t, { center: false });
      } else {
        S.stats.clickAt = performance.now();
        seek(S.cursor, { center: false });
      }
      schedulePrefetch();
    } else if (d.mode === 'select') {
      if (S.sel) openSelMenu();
      else {
        seek(tOf(ev.offsetX));
      }
    } else if (d.mode === 'handle') {
      openSelMenu();
    }
  }

  function onWheel(ev) {
    ev.preventDefault();
    S.userViewAt = Date.now();
    if (Math.abs(ev.deltaX) > Math.abs(ev.deltaY) && !ev.ctrlKey) {
      setView(S.center + ev.deltaX * (S.span / S.width), S.span);
      return;
    }
    const f = Math.exp(ev.deltaY * (ev.ctrlKey ? 0.01 : 0.0015));
    /* zoom about the pointer */
    const t = tOf(ev.offsetX);
    const span = clamp(S.span * f, MIN_SPAN, MAX_SPAN);
    const c = t - (ev.offsetX / S.width - 0.5) * span;
    setView(c, span);
  }

  function zoomBy(f) {
    S.userViewAt = Date.now();
    setView(S.cursor, S.span * f);
  }

  /* ---- selection ---- */

  function setSel(start, end, open) {
    if (!(end > start)) {
      S.sel = null;
      S.selMenu.hidden = true;
    } else {
      S.sel = { start: Math.max(start, now() - HISTORY), end: Math.min(end, now()) };
    }
    draw();
    if (open && S.sel) openSelMenu();
  }

  function openSelMenu() {
    if (!S.sel) return;
    const m = S.selMenu;
    const sel = { cameras: S.playing.slice(), start: new Date(S.sel.start), end: new Date(S.sel.end) };
    const items = [el('div', 'tl-sel-h', `${dayLabel(S.sel.start)} ${hms(S.sel.start)} – ${hms(S.sel.end)} · ${dur(S.sel.end - S.sel.start)}`)];
    const role = S.ctx.user && S.ctx.user.role;
    const exp = button('tl-sel-item primary', 'Export…');
    exp.dataset.action = 'export';
    exp.addEventListener('click', () => { m.hidden = true; openExport(); });
    if (!role || role === 'admin' || role === 'operator') items.push(exp);
    for (const a of TL.actions) {
      if (!a || typeof a.run !== 'function') continue;
      if (Array.isArray(a.roles) && role && !a.roles.includes(role)) continue;
      const b = button('tl-sel-item', a.label || a.id);
      b.dataset.action = a.id || '';
      b.addEventListener('click', () => {
        m.hidden = true;
        try {
          a.run(sel);
        } catch (e) {
          console.error('timeline action failed', e);
        }
      });
      items.push(b);
    }
    const play = button('tl-sel-item', 'Play selection');
    play.addEventListener('click', () => { m.hidden = true; seek(S.sel.start); });
    const link = button('tl-sel-item', 'Copy link');
    link.addEventListener('click', () => { m.hidden = true; copyLink(S.sel.start, S.sel.end - S.sel.start); });
    const clear = button('tl-sel-item', 'Clear');
    clear.addEventListener('click', () => setSel(0, 0));
    items.push(play, link, clear);
    m.replaceChildren(...items);
    m.hidden = false;
    const x = xOf((S.sel.start + S.sel.end) / 2);
    const w = m.offsetWidth;
    m.style.left = `${clamp(x - w / 2, 0, S.width - w)}px`;
  }

  /* ---- calendar ---- */

  function renderCalendar() {
    const box = S.cal;
    const base = new Date(S.calMonth);
    const y = base.getFullYear();
    const mo = base.getMonth();
    const head = el('div', 'tl-cal-head');
    const prev = button('tl-cal-nav', '‹', 'Previous month');
    const next = button('tl-cal-nav', '›', 'Next month');
    prev.addEventListener('click', () => { S.calMonth = new Date(y, mo - 1, 1).getTime(); renderCalendar(); });
    next.addEventListener('click', () => { S.calMonth = new Date(y, mo + 1, 1).getTime(); renderCalendar(); });
    head.append(prev, el('strong', '', `${MO[mo]} ${y}`), next);
    const grid = el('div', 'tl-cal-grid');
    for (const w of ['Mo', 'Tu', 'We', 'Th', 'Fr', 'Sa', 'Su']) grid.append(el('span', 'tl-cal-wd', w));
    const first = new Date(y, mo, 1);
    const lead = (first.getDay() + 6) % 7;
    for (let i = 0; i < lead; i++) grid.append(el('span', ''));
    const dim = new Date(y, mo + 1, 0).getDate();
    const today = localMidnight(now());
    for (let d = 1; d <= dim; d++) {
      const t = new Date(y, mo, d).getTime();
      const b = button('tl-cal-day', String(d));
      const has = S.footageDays && S.footageDays.has(t);
      if (has) b.classList.add('has');
      if (t === today) b.classList.add('today');
      if (t === localMidnight(S.cursor)) b.setAttribute('aria-current', 'date');
      b.disabled = t > today || t < localMidnight(now() - HISTORY);
      b.dataset.day = toLocalInput(t).slice(0, 10);
      b.setAttribute('aria-label', `${dayLabel(t)}${has ? ', footage' : ', no footage'}`);
      b.addEventListener('click', () => {
        const e = new Date(y, mo, d + 1).getTime();
        S.calOpen = false;
        box.hidden = true;
        setView((t + e) / 2, e - t);
        seek(t + 12 * HOUR > now() ? Math.max(t, now() - 5 * MIN) : t + 12 * HOUR, { center: false });
      });
      grid.append(b);
    }
    const legend = el('div', 'tl-cal-legend');
    legend.append(el('span', 'tl-cal-dot'), document.createTextNode(' footage recorded'));
    box.replaceChildren(head, grid, legend);
  }

  /* ---- clip links ---- */

  function clipLink(t, span) {
    const cams = S.playing.map(encodeURIComponent).join(',');
    return `${location.origin}${location.pathname}#/timeline?cams=${cams}&t=${encodeURIComponent(iso(t))}` +
      `&span=${Math.round((span || S.span) / 1000)}`;
  }
  async function copyLink(t, span) {
    const url = clipLink(t === undefined ? S.cursor : t, span);
    S.lastLink = url;
    let ok = false;
    try {
      await navigator.clipboard.writeText(url);
      ok = true;
    } catch (e) {
      ok = false;
    }
    toast(ok ? 'Link copied: it opens this moment for any signed-in user.' : 'Copy this link:', ok ? null : url);
  }

  function toast(msg, extra) {
    const t = S.toast;
    t.replaceChildren(el('span', '', msg));
    if (extra) {
      const i = el('input', 'tl-toast-input');
      i.value = extra;
      i.readOnly = true;
      t.append(i);
      setTimeout(() => i.select(), 0);
    }
    t.hidden = false;
    clearTimeout(S.toastTimer);
    S.toastTimer = setTimeout(() => { if (S) t.hidden = true; }, extra ? 12000 : 3500);
  }

  /* ---- export ---- */

  async function openExport() {
    const dlg = S.exportDlg;
    const sel = S.sel || { start: S.cursor - 5 * MIN, end: Math.min(now(), S.cursor + 5 * MIN) };
    const camsBox = dlg.querySelector('.tl-exp-cams');
    camsBox.replaceChildren(...S.lanes.map((l) => {
      const lab = el('label', 'tl-check');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.value = l.name;
      cb.checked = S.playing.includes(l.name);
      lab.append(cb, document.createTextNode(` ${l.name}`));
      return lab;
    }));
    dlg.querySelector('.tl-exp-from').value = toLocalInput(sel.start);
    dlg.querySelector('.tl-exp-to').value = toLocalInput(sel.end);
    const reason = dlg.querySelector('.tl-exp-reason');
    reason.value = '';
    reason.required = S.reasonRequired;
    dlg.querySelector('.tl-exp-reason-label').textContent = S.reasonRequired ? 'Reason (required)' : 'Reason (optional)';
    dlg.querySelector('.tl-exp-error').textContent = '';
    dlg.querySelector('.tl-exp-progress').hidden = true;
    dlg.querySelector('.tl-exp-go').disabled = false;
    loadRecent();
    if (typeof dlg.showModal === 'function') dlg.showModal();
    else dlg.setAttribute('open', '');
  }

  async function startExport(ev) {
    ev.preventDefault();
    const dlg = S.exportDlg;
    const err = dlg.querySelector('.tl-exp-error');
    const cams = [...dlg.querySelectorAll('.tl-exp-cams input:checked')].map((c) => c.value);
    const s = fromLocalInput(dlg.querySelector('.tl-exp-from').value);
    const e = fromLocalInput(dlg.querySelector('.tl-exp-to').value);
    const reason = dlg.querySelector('.tl-exp-reason').value.trim();
    let msg = '';
    if (!cams.length) msg = 'Choose at least one camera.';
    else if (!isFinite(s) || !isFinite(e) || e <= s) msg = '"To" must be after "From".';
    else if (e - s > DAY) msg = 'An export can be at most 24 hours long.';
    else if (S.reasonRequired && !reason) msg = 'Give a reason for this export.';
    err.textContent = msg;
    if (msg) return;
    const go = dlg.querySelector('.tl-exp-go');
    go.disabled = true;
    const r = await S.ctx.api('POST', '/api/exports', { cameras: cams, start: iso(s), end: iso(e), reason, audio: true });
    if (r.status !== 202 && r.status !== 200) {
      go.disabled = false;
      err.textContent = (r.json && r.json.error) || `The export could not start (HTTP ${r.status}).`;
      return;
    }
    followExport(r.json);
  }

  async function followExport(x) {
    const dlg = S.exportDlg;
    const prog = dlg.querySelector('.tl-exp-progress');
    const bar = prog.querySelector('progress');
    const txt = prog.querySelector('.tl-exp-status');
    const link = prog.querySelector('a');
    prog.hidden = false;
    link.hidden = true;
    const gen = S.gen;
    let cur = x;
    for (let i = 0; i < 3600 && S && gen === S.gen; i++) {
      bar.value = Math.round((cur.progress || 0) * 100);
      txt.textContent = cur.status === 'done' ? `Ready: ${cur.file} (${Math.round((cur.bytes || 0) / 1024)} KiB)`
        : cur.status === 'failed' ? `Failed: ${cur.error || 'unknown error'}`
          : `Exporting… ${Math.round((cur.progress || 0) * 100)} %`;
      if (cur.status === 'done') {
        link.href = `/api/exports/${encodeURIComponent(cur.id)}/file`;
        link.setAttribute('download', cur.file || '');
        link.textContent = `Download ${cur.file || ''}`;
        link.hidden = false;
        dlg.querySelector('.tl-exp-go').disabled = false;
        loadRecent();
        return;
      }
      if (cur.status === 'failed') {
        dlg.querySelector('.tl-exp-go').disabled = false;
        return;
      }
      await sleep(400);
      const r = await S.ctx.api('GET', `/api/exports/${encodeURIComponent(cur.id)}`);
      if (r.status === 200 && r.json) cur = r.json.export || r.json;
    }
  }

  async function loadRecent() {
    const list = S.exportDlg.querySelector('.tl-exp-recent');
    let r;
    try {
      r = await S.ctx.api('GET', '/api/exports');
    } catch (e) {
      return;
    }
    const items = r.status === 200 && r.json ? (r.json.exports || []) : [];
    list.replaceChildren(...items.slice(0, 8).map((x) => {
      const li = el('li');
      if (x.status === 'done') {
        const a = el('a', '', x.file || x.id);
        a.href = `/api/exports/${encodeURIComponent(x.id)}/file`;
        a.setAttribute('download', x.file || '');
        li.append(a);
      } else {
        li.append(el('span', '', `${(x.cameras || []).join(', ')} (${x.status})`));
      }
      li.append(el('span', 'muted', ` · ${full(Date.parse(x.start))} · ${dur(Date.parse(x.end) - Date.parse(x.start))}`));
      return li;
    }));
    if (!items.length) list.replaceChildren(el('li', 'muted', 'No exports in the last 7 days.'));
  }

  /* ---- playback (MSE) ---- */

  /* One camera's video: recordings looked up around the play position, the
   * init segment per sample entry, fragments appended one after the other
   * with timestampOffset = recording start - base (so the media time of all
   * cameras is the same wall clock), gaps left as holes in the buffer that
   * the clock jumps over. */
  class Player {
    constructor(cam, video) {
      this.cam = cam;
      this.video = video;
      this.recs = [];
      this.gen = 0;
      this.inits = new Map();
      this.ms = null;
      this.sb = null;
      this.mime = null;
      this.fallback = false;
    }

    camUrl(p) {
      return withReason(`/api/cameras/${encodeURIComponent(this.cam)}/${p}`);
    }

    /* The recordings overlapping [a, b] (ms), merged into this.recs. */
    async lookup(a, b) {
      const r = await fetch(this.camUrl(`recordings?start=${encodeURIComponent(iso(a))}&end=${encodeURIComponent(iso(b))}`),
        { credentials: 'same-origin', cache: 'no-store' });
      if (r.status === 404) {
        const j = await r.json().catch(() => null);
        if (!j || !/camera/i.test(j.error || '')) this.fallback = true;
        return [];
      }
      if (!r.ok) return [];
      const j = await r.json();
      const list = (j.recordings || []).map((x) => ({ ...x, s90: x.start90k, e90: x.start90k + x.duration90k }))
        .sort((p, q) => p.s90 - q.s90);
      const byId = new Map(this.recs.map((x) => [x.id, x]));
      for (const x of list) byId.set(x.id, x);
      this.recs = [...byId.values()].sort((p, q) => p.s90 - q.s90);
      return list;
    }

    /* The recording holding t90 or the first one after it (within 62 days).
     * "After" comes from a lookup's own answer, never from this.recs alone:
     * the cache only holds what earlier positions asked for, so its next
     * entry can be days past recordings it never saw. */
    async recAt(t90, fresh) {
      const r = !fresh && this.recs.find((x) => t90 >= x.s90 && t90 < x.e90);
      if (r) return r;
      return this.firstEndingAfter(t90, [20 * MIN, DAY, 7 * DAY, 62 * DAY]);
    }

    /* The first recording ending after t90, asking windows of the given
     * lengths in turn (a window's answer is complete, up to the server's
     * 1000 recordings from its start). */
    async firstEndingAfter(t90, windows, exclude) {
      const t = t90 / T90;
      for (const ahead of windows) {
        const list = await this.lookup(t - 2 * SEC, Math.min(t + ahead, now() + MIN));
        const r = list.find((x) => x.e90 > t90 && x.id !== exclude);
        if (r) return r;
        if (this.fallback || t + ahead >= now()) break;
      }
      return null;
    }

    /* The recording after rec: the cached one when it follows on at once,
     * else the server's answer. */
    async nextOf(rec) {
      const c = this.recs.find((x) => x.s90 >= rec.e90 - 1 && x.id !== rec.id);
      if (c && c.s90 <= rec.e90 + 90000) return c;
      return this.firstEndingAfter(rec.e90, [6 * HOUR, 7 * DAY, 62 * DAY], rec.id);
    }

    async init(rec) {
      let p = this.inits.get(rec.entry);
      if (!p) {
        p = fetch(this.camUrl(`init.mp4?entry=${rec.entry}`), { credentials: 'same-origin' })
          .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`init.mp4: HTTP ${r.status}`))));
        this.inits.set(rec.entry, p);
        p.catch(() => this.inits.delete(rec.entry));
      }
      return p;
    }

    append(buf) {
      return new Promise((res, rej) => {
        const sb = this.sb;
        if (!sb || !this.ms || this.ms.readyState !== 'open') {
          rej(new Error('closed'));
          return;
        }
        const done = () => {
          sb.removeEventListener('updateend', done);
          sb.removeEventListener('error', fail);
          res();
        };
        const fail = () => {
          sb.removeEventListener('updateend', done);
          sb.removeEventListener('error', fail);
          rej(new Error('append failed'));
        };
        sb.addEventListener('updateend', done);
        sb.addEventListener('error', fail);
        try {
          sb.appendBuffer(buf);
        } catch (e) {
          sb.removeEventListener('updateend', done);
          sb.removeEventListener('error', fail);
          rej(e);
        }
      });
    }

    remove(a, b) {
      return new Promise((res) => {
        const sb = this.sb;
        if (!sb || b <= a || sb.updating) {
          res();
          return;
        }
        const done = () => {
          sb.removeEventListener('updateend', done);
          res();
        };
        sb.addEventListener('updateend', done);
        try {
          sb.remove(a, b);
        } catch (e) {
          sb.removeEventListener('updateend', done);
          res();
        }
      });
    }

    /* A fresh MediaSource per seek: nothing of the last position stays
     * buffered (it would look like footage after a gap), and the last
     * pump's pending appends fail at once instead of waiting. */
    async openSource(mime) {
      const ms = new MediaSource();
      this.ms = ms;
      this.sb = null;
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = URL.createObjectURL(ms);
      this.video.src = this.url;
      await new Promise((res) => ms.addEventListener('sourceopen', res, { once: true }));
      this.sb = ms.addSourceBuffer(mime);
      this.mime = mime;
      this.lastEntry = null;
    }

    /* Starts playing at t (ms) on the shared media clock base90. */
    async start(t, base90, speed) {
      const gen = ++this.gen;
      this.base90 = base90;
      this.keys = speed > KEYS_ABOVE;
      let t90 = Math.round(t * T90);
      let rec = await this.recAt(t90);
      if (gen !== this.gen) return false;
      if (!rec && !this.fallback) {
        /* nothing from t on (the timeline reaches "now"): the last 20 s
         * recorded before t */
        await this.lookup(t - 6 * HOUR, t);
        const last = this.recs.filter((x) => x.s90 < t90).pop();
        if (gen !== this.gen) return false;
        if (last) {
          rec = last;
          t90 = Math.max(last.s90, last.e90 - 20 * 90000);
        }
      }
      if (!rec) {
        if (this.fallback) return this.startFallback(t);
        return false;
      }
      const h264 = !MediaSource.isTypeSupported(`video/mp4; codecs="${rec.codec}"`);
      this.h264 = h264;
      const mime = h264 ? 'video/mp4; codecs="avc1.640028"' : `video/mp4; codecs="${rec.codec}"`;
      const initP = h264 ? null : this.init(rec);
      const from = Math.max(0, t90 - rec.s90);
      /* the first fragment is short (a moving picture soon), the next ones longer */
      const fragP = this.fetchFrag(rec, from, from + 3 * 90000 * Math.max(1, speed));
      await this.openSource(mime);
      if (gen !== this.gen) return false;
      this.cur = { rec, from };
      const first = await fragP;
      this.why = null;
      if (h264 && !first.buf) {
        this.why = 'This browser cannot decode this camera\'s H.265 video and the server did not convert it: use Export.';
        return false;
      }
      const ok = await this.appendFrag(rec, initP, first, gen);
      if (!ok || gen !== this.gen) return false;
      const mt = Math.max((t90 - base90) / 90000, this.sb.buffered.length ? this.sb.buffered.start(0) : 0);
      this.video.currentTime = mt;
      this.pump(gen);
      return true;
    }

    /* No recordings API on this server: view.mp4 in chunks of up to 10
     * minutes of one span of the timeline data, the next chunk (or the next
     * span, the gap shown) when one ends. */
    startFallback(t) {
      const data = S.data && S.data.get(this.cam);
      const spans = data ? data.spans : [];
      let sp = spans.find((x) => t >= x.start && t < x.end - 500);
      const inGap = data && data.gaps.some((g) => t >= g.start && t < g.end);
      if (!sp && inGap) {
        sp = spans.find((x) => x.start > t);
        if (!sp) return false;
        if (this.fallbackStart !== undefined) showGapNote(gapAt(this.cam, t), t, sp.start);
        t = sp.start;
      }
      const end = Math.min(now(), t + 3 * MIN, sp ? sp.end : t + 3 * MIN);
      this.ms = null;
      this.sb = null;
      this.fallbackStart = t;
      this.fallbackEnd = end;
      this.video.src = this.camUrl(`view.mp4?start=${encodeURIComponent(iso(t))}&end=${encodeURIComponent(iso(end))}`);
      if (!this.endedHooked) {
        this.endedHooked = true;
        this.video.addEventListener('ended', () => {
          if (!S || !this.fallback || this.ms) return;
          if (this.startFallback(this.fallbackEnd)) {
            this.video.playbackRate = S.speed;
            if (!S.paused) this.video.play().catch(() => {});
          }
        });
      }
      return true;
    }

    fetchFrag(rec, from, to) {
      let q = `frag.m4s?rec=${rec.id}&from=${Math.max(0, Math.floor(from))}`;
      if (to !== undefined) q += `&to=${Math.floor(to)}`;
      if (this.keys) q += '&keys=1';
      if (this.h264) q += '&h264=1';
      return fetch(this.camUrl(q), { credentials: 'same-origin' }).then(async (r) => ({
        status: r.status,
        xto: Number(r.headers.get('X-Reel-To')),
        /* 204: the live edge of a recording still being written (nothing yet) */
        buf: r.ok && r.status !== 204 ? await r.arrayBuffer() : null,
      })).catch(() => ({ status: 0, buf: null }));
    }

    async appendFrag(rec, initP, f, gen) {
      if (!f.buf) {
        this.cur = { rec, from: rec.e90 - rec.s90 };
        return f.status === 404 || f.status === 416 || f.status === 204;
      }
      try {
        if (!this.h264 && this.lastEntry !== rec.entry) {
          const init = await (initP || this.init(rec));
          if (gen !== this.gen) return false;
          await this.append(init);
          this.lastEntry = rec.entry;
        }
        this.sb.timestampOffset = (rec.s90 - this.base90) / 90000;
        await this.append(f.buf);
      } catch (e) {
        if (e && e.name === 'QuotaExceededError') {
          await this.trim(true);
          return true;
        }
        return false;
      }
      const end = isFinite(f.xto) && f.xto > 0 ? f.xto : rec.e90 - rec.s90;
      this.cur = { rec, from: end };
      return true;
    }

    async trim(hard) {
      const v = this.video;
      const b = this.sb && this.sb.buffered;
      if (!b || !b.length) return;
      const keep = hard ? 5 : 60;
      if (v.currentTime - b.start(0) > keep + 30) await this.remove(0, v.currentTime - keep);
    }

    ahead() {
      const v = this.video;
      const b = this.sb && this.sb.buffered;
      if (!b) return 0;
      let end = v.currentTime;
      for (let i = 0; i < b.length; i++) if (b.end(i) > end && b.start(i) <= end + 3600) end = Math.max(end, b.end(i));
      return end - v.currentTime;
    }

    /* Keeps about 20 s (times the speed) buffered ahead: the rest of this
     * recording, then the next ones (their own init segment when the sample
     * entry changes). */
    async pump(gen) {
      while (gen === this.gen && S) {
        const speed = S.speed;
        if (this.ahead() > 20 * Math.max(1, speed) || !this.cur) {
          await sleep(250);
          continue;
        }
        let { rec, from } = this.cur;
        if (from >= rec.e90 - rec.s90 - 1) {
          const nx = await this.nextOf(rec);
          if (gen !== this.gen) return;
          if (!nx || nx.e90 <= rec.e90) {
            /* the live edge: the open recording grows */
            const cur = this.recs.find((x) => x.id === rec.id);
            if (cur && cur.e90 > rec.e90) {
              this.cur = { rec: cur, from };
              continue;
            }
            await sleep(2000);
            continue;
          }
          rec = nx;
          from = 0;
        }
        const f = await this.fetchFrag(rec, from, from + 30 * 90000 * Math.max(1, speed));
        if (gen !== this.gen) return;
        const ok = await this.appendFrag(rec, null, f, gen);
        if (!ok) {
          await sleep(500);
          if (gen !== this.gen) return;
        }
        await this.trim(false);
      }
    }

    stop() {
      this.gen++;
      try {
        this.video.pause();
      } catch (e) {
        /* none */
      }
    }

    /* The wall-clock time (ms) shown. */
    wall() {
      if (this.fallback && !this.ms) return this.fallbackStart + this.video.currentTime * 1000;
      return (this.base90 + this.video.currentTime * 90000) / T90;
    }

    /* The start of the buffered range after media time mt, or null. */
    nextBuffered(mt) {
      const b = this.sb && this.sb.buffered;
      if (!b) return null;
      for (let i = 0; i < b.length; i++) if (b.start(i) > mt + 0.01) return b.start(i);
      return null;
    }
    hasAt(mt) {
      const b = this.sb && this.sb.buffered;
      if (!b) return false;
      for (let i = 0; i < b.length; i++) if (mt >= b.start(i) - 0.02 && mt < b.end(i) - 0.05) return true;
      return false;
    }
    /* Stopped on the last frame of a buffered range: the browser holds the
     * last frame's start, which is up to a frame's length (67 ms at 15 fps,
     * more at low rates) before the range's end, so hasAt still says yes. */
    stalledAtEnd(mt) {
      const b = this.sb && this.sb.buffered;
      if (!b || this.video.readyState >= 3 || this.video.seeking) return false;
      for (let i = 0; i < b.length; i++) if (mt >= b.start(i) - 0.02 && mt < b.end(i)) return mt >= b.end(i) - 0.5;
      return false;
    }
  }

  function tileFor(cam) {
    let t = S.tiles.get(cam);
    if (t) return t;
    const box = el('div', 'tl-tile');
    const v = el('video');
    v.muted = true;
    v.playsInline = true;
    v.setAttribute('playsinline', '');
    v.setAttribute('aria-label', `Recorded video of ${cam}`);
    const name = el('span', 'tl-tile-name', cam);
    const over = el('div', 'tl-tile-over');
    over.hidden = true;
    box.append(v, name, over);
    t = { box, video: v, over, player: new Player(cam, v) };
    v.addEventListener('error', () => {
      if (!v.getAttribute('src')) return;
      over.textContent = 'This video cannot be played here.';
      over.hidden = false;
    });
    S.tiles.set(cam, t);
    return t;
  }

  function renderStage() {
    const cams = S.playing.slice(0, MAX_PLAY);
    for (const [cam, t] of S.tiles) {
      if (!cams.includes(cam)) {
        t.player.stop();
        t.video.removeAttribute('src');
        t.video.load();
        t.box.remove();
        S.tiles.delete(cam);
      }
    }
    S.stage.dataset.n = String(cams.length);
    S.stage.replaceChildren(...cams.map((c) => tileFor(c).box));
    if (!cams.length) S.stage.append(el('p', 'tl-empty', 'Choose a camera below (tap its name) to play it.'));
    for (const l of S.lanes) l.playing = cams.includes(l.name);
    for (const b of S.camChips) b.setAttribute('aria-pressed', String(cams.includes(b.dataset.cam)));
  }

  function togglePlaying(cam) {
    const i = S.playing.indexOf(cam);
    if (i >= 0) {
      if (S.playing.length === 1) return;
      S.playing.splice(i, 1);
    } else {
      if (S.playing.length >= MAX_PLAY) {
        toast(`At most ${MAX_PLAY} cameras play together.`);
        return;
      }
      S.playing.push(cam);
    }
    renderStage();
    draw();
    seek(S.cursor, { center: false });
  }

  /* Plays every chosen camera from t (ms). */
  async function seek(t, opts) {
    t = clamp(t, now() - HISTORY, now() - 500);
    S.cursor = t;
    S.gapNote.hidden = true;
    if (!opts || opts.center !== false || xOf(t) < 0 || xOf(t) > S.width) setView(t, S.span, { noThumbs: true });
    else draw();
    const gen = ++S.gen;
    S.stats.firstFrame = null;
    S.stats.target = t;
    S.base90 = Math.round((t - HOUR) * T90);
    const tiles = S.playing.slice(0, MAX_PLAY).map(tileFor);
    for (const tile of tiles) tile.over.hidden = true;
    S.starting = true;
    S.startingUntil = performance.now() + 1500;   /* previews wait at most that long */
    const results = await Promise.all(tiles.map((tile) => tile.player.start(t, S.base90, S.speed).catch((e) => {
      console.warn('play failed', e);
      return false;
    })));
    if (!S || gen !== S.gen) return;
    S.starting = false;
    pumpThumbs();
    S.master = null;
    tiles.forEach((tile, i) => {
      if (!results[i]) {
        tile.over.textContent = tile.player.why || 'No footage from here on.';
        tile.over.hidden = false;
        return;
      }
      if (!S.master) S.master = tile.player;
      watchFirstFrame(tile.video, gen);
      tile.video.playbackRate = S.speed;
      if (!S.paused) {
        const p = tile.video.play();
        if (p && p.catch) p.catch(() => {});
      }
    });
    const m = S.master;
    if (m && m.wall() > t + 2000) {
      const gap = gapAt(m.cam, t);
      showGapNote(gap, t, m.wall());
    }
  }

  function watchFirstFrame(v, gen) {
    const done = () => {
      if (S && gen === S.gen && S.stats.firstFrame === null) {
        S.stats.firstFrame = performance.now();
        S.stats.lastClickToPlay = S.stats.firstFrame - (S.stats.clickAt || S.stats.firstFrame);
        S.stats.history.push(S.stats.lastClickToPlay);
      }
    };
    if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(() => done());
    v.addEventListener('timeupdate', function once() {
      if (v.currentTime > 0) {
        v.removeEventListener('timeupdate', once);
        done();
      }
    });
  }

  function gapAt(cam, t) {
    const data = S.data && S.data.get(cam);
    return data ? data.gaps.find((g) => t >= g.start - 2000 && t < g.end) : null;
  }
  function showGapNote(gap, from, to) {
    S.gapNote.textContent = `Skipped ${dur(to - from)} without footage${gap && gap.reason ? ` (${gap.reason})` : ''}: ${hms(from)} → ${hms(to)}`;
    S.gapNote.hidden = false;
    S.stats.gapsSkipped++;
    clearTimeout(S.gapTimer);
    S.gapTimer = setTimeout(() => { if (S) S.gapNote.hidden = true; }, 5000);
  }

  /* The clock: every 100 ms the first camera with footage leads, the others
   * follow it (rate nudged by up to 10 %, a seek past 0.5 s), a hole in the
   * buffer of all of them is a gap and is jumped over. */
  function tick() {
    if (!S) return;
    const tiles = S.playing.slice(0, MAX_PLAY).map((c) => S.tiles.get(c)).filter(Boolean);
    const players = tiles.map((t) => t.player).filter((p) => p.sb || p.fallback);
    if (!players.length || S.scrubbing || (S.starting && performance.now() < S.startingUntil)) return;
    let m = S.master && players.includes(S.master) ? S.master : players[0];
    if (m.fallback && !m.ms) {
      /* view.mp4 players (no frag.m4s on this server): the others follow
       * the first one's wall clock */
      const mw = m.wall();
      let spread = 0;
      for (const p of players) {
        if (p === m || p.video.readyState < 2) continue;
        const d = (p.wall() - mw) / 1000;
        spread = Math.max(spread, Math.abs(d));
        if (S.paused) continue;
        if (Math.abs(d) > 0.5) p.video.currentTime = Math.max(0, p.video.currentTime - d + 0.05 * S.speed);
        else p.video.playbackRate = S.speed * clamp(1 - d * 0.8, 0.9, 1.1);
      }
      S.stats.spread = spread;
      S.cursor = mw;
      if (!S.drag) followCursor();
      return;
    }
    const mt = m.video.currentTime;
    if (!m.hasAt(mt) || m.stalledAtEnd(mt)) {
      const other = players.find((p) => p !== m && p.hasAt(mt));
      if (other) {
        m = other;
        other.video.currentTime = mt;
        S.master = other;
      } else if (!m.video.seeking) {
        const nexts = players.map((p) => p.nextBuffered(mt)).filter((x) => x !== null);
        if (nexts.length) {
          const to = Math.min(...nexts);
          const fromWall = (S.base90 + mt * 90000) / T90;
          const toWall = (S.base90 + to * 90000) / T90;
          if (toWall - fromWall > 400) showGapNote(gapAt(m.cam, fromWall + 500) || gapAt(m.cam, fromWall), fromWall, toWall);
          for (const p of players) {
            p.video.currentTime = to + 0.001;
            if (!S.paused) p.video.play().catch(() => {});
          }
          S.master = players.find((p) => p.hasAt(to + 0.01)) || m;
          return;
        }
      }
    }
    S.master = m;
    const mtNow = m.video.currentTime;
    let spread = 0;
    for (const p of players) {
      const t = S.tiles.get(p.cam);
      if (p === m) {
        if (!S.paused && p.video.paused && p.hasAt(mtNow)) p.video.play().catch(() => {});
        if (!S.paused && p.video.playbackRate !== S.speed) p.video.playbackRate = S.speed;
        t.over.hidden = true;
        continue;
      }
      if (!p.hasAt(mtNow)) {
        if (!p.video.paused) p.video.pause();
        const gap = gapAt(p.cam, (S.base90 + mtNow * 90000) / T90);
        t.over.textContent = `No footage${gap && gap.reason ? `: ${gap.reason}` : ''}`;
        t.over.hidden = false;
        continue;
      }
      t.over.hidden = true;
      const d = p.video.currentTime - mtNow;
      spread = Math.max(spread, Math.abs(d));
      if (S.paused) {
        if (Math.abs(d) > 0.02) p.video.currentTime = mtNow;
        continue;
      }
      if (p.video.paused) {
        p.video.currentTime = mtNow;
        p.video.play().catch(() => {});
      } else if (Math.abs(d) > 0.5) {
        p.video.currentTime = mtNow + 0.05 * S.speed;
      } else {
        p.video.playbackRate = S.speed * clamp(1 - d * 0.8, 0.9, 1.1);
      }
    }
    S.stats.spread = spread;
    S.cursor = (S.base90 + mtNow * 90000) / T90;
    followCursor();
  }

  /* The view follows the playhead when it leaves the middle 80 %. */
  function followCursor() {
    if (S.drag || S.pinch) return;
    /* the user moved the view: leave it alone for a while */
    if (Date.now() - (S.userViewAt || 0) < 8000) {
      draw();
      return;
    }
    const x = xOf(S.cursor);
    if (x < S.width * 0.1 || (x > S.width * 0.9 && viewRange().end < now())) {
      setView(Math.min(S.cursor + S.span * 0.3, now() - S.span * 0.45), S.span);
    } else {
      draw();
    }
  }

  function setSpeed(v) {
    const was = S.speed;
    S.speed = v;
    for (const b of S.speedBtns) b.setAttribute('aria-pressed', String(+b.dataset.speed === v));
    const keysChanged = (was > KEYS_ABOVE) !== (v > KEYS_ABOVE);
    if (keysChanged) seek(S.cursor, { center: false });
    else for (const t of S.tiles.values()) t.video.playbackRate = v;
  }

  function setPaused(p) {
    S.paused = p;
    S.playBtn.textContent = p ? '▶' : '❚❚';
    S.playBtn.setAttribute('aria-label', p ? 'Play' : 'Pause');
    S.playBtn.title = p ? 'Play (space)' : 'Pause (space)';
    for (const t of S.tiles.values()) {
      if (p) t.video.pause();
      else t.video.play().catch(() => {});
    }
  }

  function step(dir) {
    setPaused(true);
    const m = S.master || (S.tiles.values().next().value || {}).player;
    if (!m || !m.cur) return;
    const r = m.cur.rec;
    const fps = r && r.frames && r.duration90k ? r.frames / (r.duration90k / 90000) : 25;
    const mt = m.video.currentTime + dir / fps;
    for (const t of S.tiles.values()) t.video.currentTime = Math.max(0, mt);
    S.cursor = (S.base90 + mt * 90000) / T90;
    draw();
  }

  function onKey(ev) {
    if (!S || ev.target.closest('input, textarea, select, dialog')) return;
    if (ev.key === ' ') {
      ev.preventDefault();
      setPaused(!S.paused);
    } else if (ev.key === ',' || (ev.key === 'ArrowLeft' && S.paused && !ev.shiftKey)) {
      step(-1);
    } else if (ev.key === '.' || (ev.key === 'ArrowRight' && S.paused && !ev.shiftKey)) {
      step(1);
    } else if (ev.key === 'ArrowLeft') {
      seek(S.cursor - S.span / 10, { center: false });
    } else if (ev.key === 'ArrowRight') {
      seek(S.cursor + S.span / 10, { center: false });
    } else if (ev.key === '+' || ev.key === '=') {
      zoomBy(0.5);
    } else if (ev.key === '-') {
      zoomBy(2);
    } else if (ev.key === 'Escape') {
      setSel(0, 0);
    }
  }

  /* ---- building the page ---- */

  function build(root) {
    root.replaceChildren();
    root.classList.add('tl');
    const top = el('div', 'tl-top');
    const title = el('h2', 'tl-title', 'Timeline');
    const chips = el('div', 'tl-chips');
    chips.setAttribute('role', 'group');
    chips.setAttribute('aria-label', 'Cameras played (up to 4)');
    S.camChips = S.lanes.map((l) => {
      const b = button('tl-chip', l.name);
      b.dataset.cam = l.name;
      b.addEventListener('click', () => togglePlaying(l.name));
      return b;
    });
    chips.append(...S.camChips);
    const dateBtn = button('tl-date', '', 'Calendar: days with footage');
    S.timeLabel = el('span', 'tl-time');
    S.zoneLabel = el('span', 'tl-zone');
    dateBtn.append(el('span', 'tl-cal-icon', '▦'), S.timeLabel, S.zoneLabel);
    dateBtn.addEventListener('click', () => {
      S.calOpen = !S.calOpen;
      S.cal.hidden = !S.calOpen;
      if (S.calOpen) {
        S.calMonth = new Date(new Date(S.cursor).getFullYear(), new Date(S.cursor).getMonth(), 1).getTime();
        renderCalendar();
      }
    });
    const link = button('tl-linkbtn', 'Link', 'Copy a link to this moment');
    link.addEventListener('click', () => copyLink());
    top.append(title, dateBtn, chips, link);

    S.cal = el('div', 'tl-cal');
    S.cal.hidden = true;

    S.stage = el('div', 'tl-stage');
    S.gapNote = el('div', 'tl-gapnote');
    S.gapNote.hidden = true;
    S.gapNote.setAttribute('role', 'status');
    const stageWrap = el('div', 'tl-stage-wrap');
    stageWrap.append(S.stage, S.gapNote);

    const tr = el('div', 'tl-transport');
    const back = button('tl-btn', '❚◀', 'Previous frame (,)');
    back.addEventListener('click', () => step(-1));
    S.playBtn = button('tl-btn tl-play', '❚❚', 'Pause (space)');
    S.playBtn.addEventListener('click', () => setPaused(!S.paused));
    const fwd = button('tl-btn', '▶❚', 'Next frame (.)');
    fwd.addEventListener('click', () => step(1));
    const speeds = el('div', 'tl-speeds');
    speeds.setAttribute('role', 'group');
    speeds.setAttribute('aria-label', 'Speed');
    S.speedBtns = SPEEDS.map((v) => {
      const b = button('tl-seg', `${v}×`);
      b.dataset.speed = String(v);
      b.setAttribute('aria-pressed', String(v === 1));
      b.addEventListener('click', () => setSpeed(v));
      return b;
    });
    speeds.append(...S.speedBtns);
    const zooms = el('div', 'tl-zooms');
    zooms.setAttribute('role', 'group');
    zooms.setAttribute('aria-label', 'Zoom');
    const zout = button('tl-btn', '−', 'Zoom out (-)');
    zout.addEventListener('click', () => zoomBy(2));
    const zin = button('tl-btn', '+', 'Zoom in (+)');
    zin.addEventListener('click', () => zoomBy(0.5));
    S.zoomBtns = ZOOMS.map(([label, ms]) => {
      const b = button('tl-seg', label);
      b.dataset.span = String(ms);
      b.title = `${dur(ms)} across`;
      /* long spans end at "now" rather than half in the future */
      b.addEventListener('click', () => (S.userViewAt = Date.now()) && setView(ms >= DAY ? Math.min(S.cursor, now() - ms * 0.45) : S.cursor, ms));
      return b;
    });
    zooms.append(zout, ...S.zoomBtns, zin);
    const nowBtn = button('tl-btn tl-now', 'Now', 'Jump to the latest footage');
    nowBtn.addEventListener('click', () => { S.stats.clickAt = performance.now(); seek(now() - 10 * SEC); });
    S.selBtn = button('tl-btn tl-selbtn', 'Select', 'Select a range (or shift-drag on the bar)');
    S.selBtn.setAttribute('aria-pressed', 'false');
    S.selBtn.addEventListener('click', () => {
      S.selectMode = !S.selectMode;
      S.selBtn.setAttribute('aria-pressed', String(S.selectMode));
      if (S.selectMode && !S.sel) {
        setSel(S.cursor - S.span / 10, Math.min(now(), S.cursor + S.span / 10), true);
      }
    });
    S.rangeLabel = el('span', 'tl-range muted');
    tr.append(el('div', 'tl-tr-left'), zooms, nowBtn, S.selBtn);
    tr.firstChild.append(back, S.playBtn, fwd, speeds);

    const barWrap = el('div', 'tl-bar');
    S.bar = barWrap;
    S.canvas = el('canvas', 'tl-canvas');
    S.canvas.setAttribute('role', 'slider');
    S.canvas.setAttribute('tabindex', '0');
    S.canvas.setAttribute('aria-label', 'Timeline: drag to scrub, wheel or pinch to zoom, shift-drag to select');
    S.tip = el('div', 'tl-tip');
    S.tip.hidden = true;
    S.tip.setAttribute('role', 'tooltip');
    S.preview = el('div', 'tl-preview');
    S.preview.hidden = true;
    S.selMenu = el('div', 'tl-selmenu');
    S.selMenu.hidden = true;
    S.selMenu.setAttribute('role', 'menu');
    barWrap.append(S.canvas, S.tip, S.preview, S.selMenu);

    const legend = el('ul', 'tl-legend');
    const keys = [['rec', 'recorded'], ['offline', GAP_NAMES.offline], ['auth', GAP_NAMES.auth],
      ['stopped', GAP_NAMES.stopped], ['error', GAP_NAMES.error], ['retention', GAP_NAMES.retention],
      ['lock', 'locked'], ['event', 'motion event'], ['event-sys', 'camera/storage event'], ['activity', 'motion']];
    for (const [k, n] of keys) {
      const li = el('li');
      li.append(el('span', `tl-key tl-key-${k}`), document.createTextNode(n));
      legend.append(li);
    }
    const foot = el('div', 'tl-foot');
    foot.append(legend, S.rangeLabel);

    S.toast = el('div', 'tl-toast');
    S.toast.hidden = true;
    S.toast.setAttribute('role', 'status');

    S.exportDlg = buildExportDialog();
    root.append(top, S.cal, stageWrap, tr, barWrap, foot, S.toast, S.exportDlg);

    S.canvas.addEventListener('pointerdown', onPointerDown);
    S.canvas.addEventListener('pointermove', onPointerMove);
    S.canvas.addEventListener('pointerup', onPointerUp);
    S.canvas.addEventListener('pointercancel', onPointerUp);
    S.canvas.addEventListener('pointerleave', (ev) => { if (!S.drag && ev.pointerType === 'mouse') S.tip.hidden = true; });
    S.canvas.addEventListener('wheel', onWheel, { passive: false });
    S.canvas.addEventListener('contextmenu', (ev) => ev.preventDefault());
  }

  function buildExportDialog() {
    const dlg = el('dialog', 'tl-export');
    dlg.setAttribute('aria-labelledby', 'tl-exp-title');
    const form = el('form', 'tl-exp-form');
    form.method = 'dialog';
    const h = el('h3', '', 'Export footage');
    h.id = 'tl-exp-title';
    const cams = el('fieldset', 'tl-exp-cams');
    const row = el('div', 'tl-exp-row');
    const f1 = el('label', 'tl-field', 'From');
    const from = el('input', 'tl-exp-from');
    from.type = 'datetime-local';
    from.step = '1';
    f1.append(from);
    const f2 = el('label', 'tl-field', 'To');
    const to = el('input', 'tl-exp-to');
    to.type = 'datetime-local';
    to.step = '1';
    f2.append(to);
    row.append(f1, f2);
    const f3 = el('label', 'tl-field');
    const rl = el('span', 'tl-exp-reason-label', 'Reason');
    const reason = el('textarea', 'tl-exp-reason');
    reason.rows = 2;
    reason.maxLength = 500;
    reason.placeholder = 'e.g. insurance claim 2026-114, requested by J. Smith';
    f3.append(rl, reason);
    const note = el('p', 'muted tl-exp-note', 'One MP4 per camera; several cameras come as one .zip. At most 24 hours.');
    const err = el('p', 'error tl-exp-error');
    err.setAttribute('role', 'alert');
    const prog = el('div', 'tl-exp-progress');
    prog.hidden = true;
    const bar = el('progress');
    bar.max = 100;
    bar.value = 0;
    const status = el('span', 'tl-exp-status');
    status.setAttribute('aria-live', 'polite');
    const dl = el('a', 'tl-exp-dl button-link');
    dl.hidden = true;
    prog.append(bar, status, dl);
    const btns = el('div', 'tl-exp-btns');
    const cancel = button('', 'Close');
    cancel.addEventListener('click', () => dlg.close());
    const go = el('button', 'tl-exp-go primary', 'Export');
    go.type = 'submit';
    btns.append(cancel, go);
    const rh = el('h4', '', 'Recent exports');
    const recent = el('ul', 'tl-exp-recent');
    form.append(h, cams, row, f3, note, err, prog, btns, rh, recent);
    form.addEventListener('submit', startExport);
    dlg.append(form);
    return dlg;
  }

  /* ---- mount / unmount (app.js) ---- */

  const parseQuery = window.reelDom.parseQuery;

  /* ctx: {api, user: {name, role}, navigate, cameras()}; query: the part
   * of the hash after '?' (cams, t, span), arg: #/playback/NAME's name. */
  TL.mount = function mount(root, ctx, query, arg) {
    if (S) TL.unmount();
    const q = parseQuery(query);
    const all = (ctx.cameras() || []).filter((c) => c && c.name);
    const names = all.map((c) => c.name).slice(0, 16);
    let playing = (q.cams ? q.cams.split(',') : arg ? [arg] : names.slice(0, 1)).filter((n) => names.includes(n) || !names.length);
    if (!playing.length && names.length) playing = names.slice(0, 1);
    S = {
      ctx, root, lanes: names.map((name) => ({ name, y: 0, playing: false })), playing: playing.slice(0, MAX_PLAY),
      data: null, loaded: null, loadGen: 0, gen: 0, serverSkew: 0, span: 6 * HOUR, center: Date.now(), cursor: Date.now(),
      width: 800, height: 100, dpr: 1, pointers: new Map(), drag: null, pinch: null, sel: null, thumbs: new Map(),
      tiles: new Map(), thumbQueue: [], thumbBusy: 0, starting: false, speed: 1, paused: false, footageDays: null, reasonRequired: true,
      stats: { clickAt: null, firstFrame: null, lastClickToPlay: null, history: [], spread: 0, gapsSkipped: 0 },
    };
    TL.state = S;
    build(root);
    renderStage();
    const t = Date.parse(q.t || '');
    const span = Number(q.span) * 1000;
    if (isFinite(span) && span > 0) S.span = clamp(span, MIN_SPAN, MAX_SPAN);
    S.cursor = isFinite(t) ? t : Date.now() - 30 * SEC;
    S.center = isFinite(t) ? t : S.cursor - S.span * 0.3;
    layout();
    S.ro = new ResizeObserver(() => layout());
    S.ro.observe(S.bar);
    S.keyHandler = onKey;
    document.addEventListener('keydown', onKey);
    S.ticker = setInterval(tick, 100);
    S.refresher = setInterval(() => { if (S) { S.loaded = null; scheduleLoad(); } }, 30000);
    setView(S.center, S.span);
    loadCalendar();
    ctx.api('GET', '/api/session').then((r) => {
      if (S && r.json) S.reasonRequired = r.json.export_reason_required !== false;
    }).catch(() => {});
    if (names.length) startWhenLoaded(isFinite(t));
  };

  /* The first play: at the link's moment, else 30 s before the end of the
   * latest footage of the first camera (once the timeline data is there). */
  async function startWhenLoaded(fromLink) {
    const gen = S.gen;
    for (let i = 0; i < 50 && S && !S.data && gen === S.gen; i++) await sleep(100);
    if (!S || gen !== S.gen) return;
    if (!fromLink && S.data) {
      let last = 0;
      for (const c of S.playing) {
        const d = S.data.get(c);
        if (d && d.spans.length) last = Math.max(last, d.spans[d.spans.length - 1].end);
      }
      if (last) S.cursor = Math.max(last - 30 * SEC, now() - HISTORY);
    }
    S.stats.clickAt = performance.now();
    seek(S.cursor, { center: !fromLink && xOf(S.cursor) > S.width * 0.9 });
  }

  TL.unmount = function unmount() {
    if (!S) return;
    document.removeEventListener('keydown', S.keyHandler);
    clearInterval(S.ticker);
    clearInterval(S.refresher);
    clearTimeout(S.loadTimer);
    clearTimeout(S.thumbTimer);
    if (S.ro) S.ro.disconnect();
    for (const t of S.tiles.values()) {
      t.player.stop();
      t.video.removeAttribute('src');
      t.video.load();
    }
    S.root.replaceChildren();
    S = null;
    TL.state = null;
  };

  /* For tests and other modules: the state's useful parts. */
  TL.info = function info() {
    if (!S) return null;
    return {
      cursor: S.cursor, center: S.center, span: S.span, width: S.width, speed: S.speed, paused: S.paused,
      playing: S.playing.slice(), sel: S.sel, stats: { ...S.stats, history: S.stats.history.slice() },
      lanes: S.lanes.map((l) => ({ name: l.name, y: l.y })), rulerH: RULER_H, laneH: LANE_H, dst: S.dstInView || [],
      players: [...S.tiles.values()].map((t) => ({ cam: t.player.cam, wall: t.player.wall(), mt: t.video.currentTime,
        paused: t.video.paused, rate: t.video.playbackRate, keys: !!t.player.keys && !t.player.fallback, h264: !!t.player.h264,
        fallback: !!t.player.fallback, readyState: t.video.readyState,
        buffered: t.player.sb ? [...Array(t.player.sb.buffered.length).keys()].map((k) => [t.player.sb.buffered.start(k),
          t.player.sb.buffered.end(k)]) : [] })),
      data: S.data ? [...S.data.entries()].map(([k, v]) => ({ name: k, spans: v.spans.length, gaps: v.gaps })) : [],
      link: S.lastLink || null,
    };
  };
  TL.seek = (t) => S && seek(t);
  TL.setView = (c, s) => {
    if (!S) return;
    S.userViewAt = Date.now();
    setView(c, s);
  };
  TL.select = (a, b) => S && setSel(a, b, true);
  TL.clipLink = (t, span) => S && clipLink(t, span);
})();
