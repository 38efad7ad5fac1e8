/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Motion search (#/search, issue 15; API: docs/api.md, GET
 * /api/cameras/{camera}/motion/search): pick a camera, see its picture (a
 * current snapshot, or the thumbnail at a chosen time) under the 16x16 motion
 * grid, drag over cells to select the region (a drag that starts on a
 * selected cell clears), pick a range (24 h, 7 days, 31 days or custom) and
 * list every moment something moved there, answered from the stored grid
 * without decoding video again: a thumbnail, the time and length of each
 * moment, and the answer's took_ms. A click opens the timeline there.
 * The region is sent as 64 hex digits: bit (y*16+x), byte bit/8 first, bit
 * bit%8 of the byte (src/motion/grid.h).
 * window.reelSearch = {roles, mount(root, ctx, query), unmount(), regionHex}.
 * No inline script or style (CSP); every server string goes in as text.
 */
(function () {
  'use strict';

  const ROLES = ['admin', 'operator', 'viewer'];
  const N = 16;
  const PRESETS = [['24h', '24 hours', 86400], ['7d', '7 days', 7 * 86400], ['31d', '31 days', 31 * 86400], ['custom', 'Custom', 0]];
  const LIMIT = 500;

  const el = window.reelDom.el;
  const pad = (n) => String(n).padStart(2, '0');
  function toLocalInput(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  function when(ms) {
    const d = new Date(ms);
    return `${d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  const errText = (r) => (r.json && r.json.error) || `HTTP ${r.status}`;

  /* cells: a Uint8Array(256) of 0/1 -> 64 lower-case hex digits */
  function regionHex(cells) {
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 256; i++) if (cells[i]) bytes[i >> 3] |= 1 << (i & 7);
    return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  }

  let S = null;

  function paintCells() {
    const kids = S.gridEl.children;
    let n = 0;
    for (let i = 0; i < 256; i++) {
      kids[i].classList.toggle('se-on', !!S.cells[i]);
      n += S.cells[i];
    }
    S.count.textContent = n ? `${n} of 256 cells selected` : 'No cells selected: drag over the picture';
    S.go.disabled = !n || !S.camera;
  }

  function cellAt(ev) {
    const r = S.gridEl.getBoundingClientRect();
    const x = Math.floor(((ev.clientX - r.left) / r.width) * N);
    const y = Math.floor(((ev.clientY - r.top) / r.height) * N);
    if (x < 0 || y < 0 || x >= N || y >= N) return null;
    return [x, y];
  }

  /* a drag selects (or clears) the rectangle from the first cell to the current one */
  function onDown(ev) {
    if (ev.button > 0) return;
    const c = cellAt(ev);
    if (!c) return;
    S.drag = { from: c, set: S.cells[c[1] * N + c[0]] ? 0 : 1, before: S.cells.slice() };
    S.gridEl.setPointerCapture(ev.pointerId);
    onMove(ev);
    ev.preventDefault();
  }
  function onMove(ev) {
    if (!S.drag) return;
    const c = cellAt(ev) || S.drag.last;
    if (!c) return;
    S.drag.last = c;
    S.cells = S.drag.before.slice();
    const [x0, x1] = [Math.min(c[0], S.drag.from[0]), Math.max(c[0], S.drag.from[0])];
    const [y0, y1] = [Math.min(c[1], S.drag.from[1]), Math.max(c[1], S.drag.from[1])];
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) S.cells[y * N + x] = S.drag.set;
    paintCells();
  }
  function onUp(ev) {
    if (!S.drag) return;
    S.drag = null;
    try {
      S.gridEl.releasePointerCapture(ev.pointerId);
    } catch (e) {
      /* not captured */
    }
  }

  function range() {
    const p = PRESETS.find((x) => x[0] === S.preset.value);
    if (p && p[2]) {
      const to = Date.now();
      return { from: to - p[2] * 1000, to };
    }
    const from = new Date(S.from.value).getTime();
    const to = new Date(S.to.value).getTime();
    return { from, to };
  }

  function picture() {
    if (!S.camera) {
      S.img.removeAttribute('src');
      S.stage.classList.add('se-nopic');
      return;
    }
    const cam = encodeURIComponent(S.camera);
    const at = S.at.value ? new Date(S.at.value).getTime() : NaN;
    const urls = isFinite(at) ? [`/api/cameras/${cam}/thumb.jpg?t=${encodeURIComponent(new Date(at).toISOString())}&w=320`]
      : [`/api/cameras/${cam}/snapshot.jpg?_=${Date.now()}`,
        `/api/cameras/${cam}/thumb.jpg?t=${encodeURIComponent(new Date(Date.now() - 15000).toISOString())}&w=320`];
    let i = 0;
    S.img.onerror = () => {
      i++;
      if (i < urls.length) S.img.src = urls[i];
      else S.stage.classList.add('se-nopic');
    };
    S.img.onload = () => {
      S.stage.classList.remove('se-nopic');
      if (S.img.naturalWidth) S.stage.style.aspectRatio = `${S.img.naturalWidth} / ${S.img.naturalHeight}`;
    };
    S.img.src = urls[0];
  }

  async function search(ev) {
    if (ev) ev.preventDefault();
    const { from, to } = range();
    S.results.replaceChildren();
    if (!isFinite(from) || !isFinite(to) || to <= from) {
      S.msg.textContent = 'Choose a range: "To" after "From".';
      return;
    }
    if (to - from > 62 * 86400 * 1000) {
      S.msg.textContent = 'A search covers at most 62 days.';
      return;
    }
    const gen = ++S.gen;
    const hex = regionHex(S.cells);
    const q = `from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}` +
      `&region=${hex}&min_cells=${Number(S.minCells.value) || 1}&limit=${LIMIT}`;
    S.msg.textContent = 'Searching…';
    S.summary.textContent = '';
    S.go.disabled = true;
    const t0 = performance.now();
    let r;
    try {
      r = await S.ctx.api('GET', `/api/cameras/${encodeURIComponent(S.camera)}/motion/search?${q}`);
    } catch (e) {
      if (S && gen === S.gen) S.msg.textContent = 'The server cannot be reached.';
      return;
    } finally {
      if (S) S.go.disabled = false;
    }
    if (!S || gen !== S.gen) return;
    const wall = Math.round(performance.now() - t0);
    if (r.status === 404 && !(r.json && /camera/i.test(r.json.error || ''))) {
      S.msg.textContent = 'This server has no motion search yet (GET /api/cameras/{camera}/motion/search is missing).';
      return;
    }
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.moments)) {
      S.msg.textContent = `The search failed: ${errText(r)}.`;
      return;
    }
    const ms = r.json.moments.map((m) => ({ start: Date.parse(m.start), end: Date.parse(m.end),
      seconds: Number(m.seconds) || 0, cells: Number(m.peak_cells) || 0 })).filter((m) => isFinite(m.start))
      .sort((a, b) => b.start - a.start);
    S.msg.textContent = '';
    const took = Number.isFinite(Number(r.json.took_ms)) ? `${Number(r.json.took_ms)} ms on the server` : '';
    const mins = Number(r.json.minutes_scanned);
    const scanned = Number.isFinite(mins) ? `${mins} minute${mins === 1 ? '' : 's'} with motion scanned` : '';
    S.summary.textContent = [ms.length ? `${ms.length}${r.json.truncated ? '+' : ''} moment${ms.length === 1 ? '' : 's'}` : 'None found',
      took, scanned, `${wall} ms in all`].filter(Boolean).join(' · ');
    S.summary.dataset.count = String(ms.length);
    if (!ms.length) {
      S.results.append(el('li', 'se-none', 'Nothing moved in the selected cells in this range.'));
      return;
    }
    if (r.json.truncated) S.msg.textContent = `Only the first ${ms.length} moments are listed: narrow the range or the region.`;
    const cam = S.camera;
    for (const m of ms) {
      const li = el('li', 'se-item');
      const b = el('button', 'se-open');
      b.type = 'button';
      const th = el('div', 'se-thumb');
      const img = el('img');
      img.alt = '';
      img.loading = 'lazy';
      img.addEventListener('error', () => img.remove());
      img.src = `/api/cameras/${encodeURIComponent(cam)}/thumb.jpg?t=${encodeURIComponent(new Date(m.start + 500).toISOString())}&w=160`;
      th.append(img);
      const body = el('div', 'se-body');
      body.append(el('strong', null, when(m.start)),
        el('span', 'se-facts', `${m.seconds} s of motion · up to ${m.cells} cell${m.cells === 1 ? '' : 's'}`));
      b.append(th, body);
      b.addEventListener('click', () => {
        const link = window.reelEventKinds ? window.reelEventKinds.timelineHash(cam, m.start - 3000, 300)
          : `#/timeline?cams=${encodeURIComponent(cam)}&t=${encodeURIComponent(new Date(m.start - 3000).toISOString())}&span=300`;
        S.ctx.navigate(link);
      });
      li.append(b);
      S.results.append(li);
    }
  }

  const parseQuery = window.reelDom.parseQuery;

  function mount(root, ctx, query) {
    unmount();
    const q = parseQuery(query);
    const cams = (ctx.cameras() || []).map((c) => c.name).filter(Boolean);
    S = { root, ctx, cells: new Uint8Array(256), gen: 0, drag: null,
      camera: cams.includes(q.camera) ? q.camera : cams[0] || null };
    const wrap = el('div', 'se');
    const top = el('div', 'se-top');
    const h = el('h2', null, 'Motion search');
    top.append(h, el('p', 'se-hint', 'Select where to look; Reel lists every moment something moved there, from the ' +
      'stored motion grid (no video is decoded again).'));
    const grid = el('div', 'se-grid');
    const left = el('section', 'se-left');
    const controls = el('div', 'se-controls');
    const camSel = el('select');
    camSel.id = 'se-camera';
    for (const n of cams) {
      const o = el('option', null, n);
      o.value = n;
      camSel.append(o);
    }
    if (S.camera) camSel.value = S.camera;
    const cl = el('label', 'se-field');
    cl.append(el('span', null, 'Camera'), camSel);
    S.at = el('input');
    S.at.type = 'datetime-local';
    S.at.id = 'se-at';
    const al = el('label', 'se-field');
    al.append(el('span', null, 'Picture at (empty: now)'), S.at);
    controls.append(cl, al);
    S.stage = el('div', 'se-stage');
    S.img = el('img', 'se-img');
    S.img.alt = 'The camera\'s picture';
    S.gridEl = el('div', 'se-cells');
    S.gridEl.id = 'se-cells';
    S.gridEl.setAttribute('role', 'group');
    S.gridEl.setAttribute('aria-label', 'Motion grid: drag to select the region to search');
    for (let i = 0; i < 256; i++) S.gridEl.append(el('span', 'se-cell'));
    S.stage.append(S.img, S.gridEl, el('span', 'se-nopic-text', 'No picture at this time.'));
    S.gridEl.addEventListener('pointerdown', onDown);
    S.gridEl.addEventListener('pointermove', onMove);
    S.gridEl.addEventListener('pointerup', onUp);
    S.gridEl.addEventListener('pointercancel', onUp);
    const tools = el('div', 'se-row');
    S.count = el('span', 'se-hint');
    S.count.id = 'se-count';
    const clear = el('button', null, 'Clear');
    clear.type = 'button';
    clear.addEventListener('click', () => {
      S.cells.fill(0);
      paintCells();
    });
    const all = el('button', null, 'Whole picture');
    all.type = 'button';
    all.addEventListener('click', () => {
      S.cells.fill(1);
      paintCells();
    });
    tools.append(S.count, clear, all);
    left.append(controls, S.stage, tools);

    const right = el('section', 'se-right');
    const form = el('form', 'se-form');
    form.noValidate = true;
    S.preset = el('select');
    S.preset.id = 'se-range';
    for (const [v, t] of PRESETS) {
      const o = el('option', null, t === 'Custom' ? 'Custom…' : `Last ${t}`);
      o.value = v;
      S.preset.append(o);
    }
    S.preset.value = PRESETS.some((p) => p[0] === q.range) ? q.range : '24h';
    const rl = el('label', 'se-field');
    rl.append(el('span', null, 'Range'), S.preset);
    const custom = el('div', 'se-two');
    S.from = el('input');
    S.from.type = 'datetime-local';
    S.from.id = 'se-from';
    S.to = el('input');
    S.to.type = 'datetime-local';
    S.to.id = 'se-to';
    S.from.value = toLocalInput(Date.now() - 86400 * 1000);
    S.to.value = toLocalInput(Date.now());
    const fl = el('label', 'se-field');
    fl.append(el('span', null, 'From'), S.from);
    const tl = el('label', 'se-field');
    tl.append(el('span', null, 'To'), S.to);
    custom.append(fl, tl);
    const showCustom = () => { custom.hidden = S.preset.value !== 'custom'; };
    S.preset.addEventListener('change', showCustom);
    showCustom();
    S.minCells = el('input');
    S.minCells.type = 'number';
    S.minCells.id = 'se-min-cells';
    S.minCells.min = '1';
    S.minCells.max = '256';
    S.minCells.value = '1';
    const ml = el('label', 'se-field');
    ml.append(el('span', null, 'At least this many cells moving'), S.minCells);
    S.go = el('button', 'se-go', 'Search');
    S.go.type = 'submit';
    S.go.id = 'se-go';
    form.append(rl, custom, ml, S.go);
    form.addEventListener('submit', search);
    S.msg = el('p', 'se-msg');
    S.msg.setAttribute('role', 'status');
    S.summary = el('p', 'se-summary');
    S.summary.id = 'se-summary';
    S.results = el('ul', 'se-results');
    S.results.id = 'se-results';
    right.append(form, S.msg, S.summary, S.results);
    grid.append(left, right);
    wrap.append(top, grid);
    if (!cams.length) wrap.append(el('p', 'se-msg', 'No cameras you may see.'));
    root.replaceChildren(wrap);
    camSel.addEventListener('change', () => {
      S.camera = camSel.value;
      S.results.replaceChildren();
      S.summary.textContent = '';
      history.replaceState(null, '', `#/search?camera=${encodeURIComponent(S.camera)}`);
      picture();
    });
    S.at.addEventListener('change', picture);
    paintCells();
    picture();
  }

  function unmount() {
    if (!S) return;
    S.root.replaceChildren();
    S = null;
  }

  window.reelSearch = { roles: ROLES, mount, unmount, regionHex,
    select: (x0, y0, x1, y1) => {   /* for tests: select a rectangle of cells */
      if (!S) return;
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) S.cells[y * N + x] = 1;
      paintCells();
    } };
})();
