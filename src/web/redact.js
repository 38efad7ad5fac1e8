/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The redaction editor (#/redact?camera=NAME&start=T&end=T; issue 14,
 * "Disclosure"): plays view.mp4 of the range, lets the user draw
 * rectangles over the picture, move and resize them at any moment (each
 * change at a moment is a key point; a box moves linearly between its key
 * points and holds its first and last place before and after them, the
 * same rule the server paints by), pick blur or fill per box, watch the
 * interpolated boxes while it plays, type a reason, start the export
 * (POST /api/redactions), follow its progress and download the signed MP4.
 * Nothing is detected: every rectangle is the user's.
 *
 * window.reelRedact = {mount(root, ctx, query), unmount(), roles}: app.js
 * mounts the page. It also pushes "Redacted export…" into
 * window.ReelTimeline.actions (the timeline's selection menu).
 * No inline script or style (CSP); all text goes in as text, never HTML.
 */
(function () {
  'use strict';

  const ROLES = ['admin', 'operator'];
  const MAX_MS = 10 * 60 * 1000;       /* the server's cap on a redacted export */
  const MAX_BOXES = 32;
  const MAX_KEYS = 64;
  const KEY_SNAP_S = 0.05;             /* a change within this of a key point edits that key point */
  const MIN_SIZE = 0.01;

  let cur = null;                      /* the mounted page's state */

  const el = window.reelDom.el;

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const r4 = (v) => Math.round(v * 10000) / 10000;

  /* Where a box is at t (seconds into the range): see the header. */
  function boxAt(b, t) {
    const k = b.keys;
    if (k.length === 1 || t <= k[0].t) return { ...k[0] };
    if (t >= k[k.length - 1].t) return { ...k[k.length - 1] };
    let i = 1;
    while (i < k.length && k[i].t <= t) i++;
    const a = k[i - 1], c = k[i];
    const f = (t - a.t) / (c.t - a.t);
    return { t, x: a.x + (c.x - a.x) * f, y: a.y + (c.y - a.y) * f, w: a.w + (c.w - a.w) * f, h: a.h + (c.h - a.h) * f };
  }

  /* Sets the box's rectangle at t: edits a key point within KEY_SNAP_S, else adds one. */
  function setKey(b, t, r) {
    const rect = { t, x: r4(clamp(r.x, 0, 1 - r.w)), y: r4(clamp(r.y, 0, 1 - r.h)), w: r4(r.w), h: r4(r.h) };
    const near = b.keys.find((k) => Math.abs(k.t - t) <= KEY_SNAP_S);
    if (near) Object.assign(near, rect, { t: near.t });
    else if (b.keys.length < MAX_KEYS) b.keys.push(rect);
    else return false;
    b.keys.sort((p, q) => p.t - q.t);
    return true;
  }

  function fmtTime(ms) {
    return new Date(ms).toLocaleString();
  }

  function fmtClock(s) {
    s = Math.max(0, s);
    const m = Math.floor(s / 60);
    return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}.${String(Math.floor((s % 1) * 10))}`;
  }

  function parseQuery(q) {
    const p = new URLSearchParams(q || '');
    const start = Date.parse(p.get('start') || '');
    const end = Date.parse(p.get('end') || '');
    return { camera: p.get('camera') || '', start, end };
  }

  /* ---- the page ---- */

  function mount(root, ctx, query) {
    unmount();
    const q = parseQuery(query);
    const st = {
      root, ctx, camera: q.camera, start: q.start, end: q.end,
      boxes: [], sel: -1, drag: null, timer: null, job: null, raf: 0, alive: true,
    };
    cur = st;
    root.replaceChildren();
    root.classList.add('redact');
    const head = el('div', 'toolbar');
    head.append(el('h2', null, 'Redacted export'));
    root.append(head);
    if (!ROLES.includes(ctx.user.role)) {
      root.append(el('p', 'muted', 'Only operators and administrators make exports.'));
      return;
    }
    if (!st.camera || !Number.isFinite(st.start) || !Number.isFinite(st.end) || st.end <= st.start) {
      pickForm(st);
      return;
    }
    if (st.end - st.start > MAX_MS) {
      root.append(el('p', 'error', 'A redacted export is at most 10 minutes long: choose a shorter range.'));
      pickForm(st);
      return;
    }
    editor(st);
  }

  /* Camera and range, when the link did not say. */
  async function pickForm(st) {
    const f = el('form', 'redact-pick');
    const cam = el('select');
    cam.id = 'redact-camera';
    const from = el('input');
    from.type = 'datetime-local';
    from.step = '1';
    from.id = 'redact-from';
    const to = el('input');
    to.type = 'datetime-local';
    to.step = '1';
    to.id = 'redact-to';
    const now = Date.now();
    const local = (ms) => {
      const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
      return d.toISOString().slice(0, 19);
    };
    from.value = local(now - 120000);
    to.value = local(now - 60000);
    const lab = (t, c) => { const l = el('label', null, t); l.htmlFor = c.id; return l; };
    const go = el('button', null, 'Open');
    go.type = 'submit';
    f.append(lab('Camera', cam), cam, lab('From', from), from, lab('To', to), to, go);
    st.root.append(el('p', 'muted', 'Pick a camera and a range of at most 10 minutes to redact.'), f);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const s = new Date(from.value).getTime(), e = new Date(to.value).getTime();
      st.ctx.navigate(`#/redact?camera=${encodeURIComponent(cam.value)}&start=${encodeURIComponent(new Date(s).toISOString())}` +
        `&end=${encodeURIComponent(new Date(e).toISOString())}`);
    });
    const r = await st.ctx.api('GET', '/api/cameras');
    if (!st.alive || cur !== st) return;
    for (const c of (r.json && r.json.cameras) || []) {
      const o = el('option', null, c.name);
      o.value = c.name;
      if (c.name === st.camera) o.selected = true;
      cam.append(o);
    }
  }

  function editor(st) {
    const root = st.root;
    const len = (st.end - st.start) / 1000;
    root.append(el('p', 'muted redact-range',
      `${st.camera} · ${fmtTime(st.start)} – ${fmtTime(st.end)} (${Math.round(len)} s). ` +
      'Draw a rectangle over what must not be seen; move or resize it at other moments and it follows ' +
      'in straight lines between those moments. Nothing is found automatically.'));
    const layout = el('div', 'redact-layout');
    const left = el('div', 'redact-stage-col');
    const stage = el('div', 'redact-stage');
    const video = el('video');
    video.id = 'redact-video';
    video.muted = true;
    video.playsInline = true;
    video.preload = 'auto';
    video.src = `/api/cameras/${encodeURIComponent(st.camera)}/view.mp4?start=${encodeURIComponent(new Date(st.start).toISOString())}` +
      `&end=${encodeURIComponent(new Date(st.end).toISOString())}&audio=0`;
    const overlay = el('div', 'redact-overlay');
    overlay.id = 'redact-overlay';
    overlay.setAttribute('aria-label', 'Draw rectangles here');
    stage.append(video, overlay);
    const controls = el('div', 'redact-controls');
    const play = el('button', null, 'Play');
    play.type = 'button';
    play.id = 'redact-play';
    const scrub = el('input');
    scrub.type = 'range';
    scrub.id = 'redact-scrub';
    scrub.min = '0';
    scrub.max = String(len);
    scrub.step = '0.01';
    scrub.value = '0';
    scrub.setAttribute('aria-label', 'Position in the range');
    const clock = el('span', 'redact-clock', '0:00.0');
    clock.id = 'redact-clock';
    controls.append(play, scrub, clock);
    const ticks = el('div', 'redact-ticks');
    ticks.setAttribute('aria-hidden', 'true');
    const note = el('p', 'muted redact-note');
    note.id = 'redact-note';
    left.append(stage, controls, ticks, note);

    const side = el('div', 'redact-side');
    side.append(el('h3', 'sub', 'Boxes'));
    const list = el('ul', 'redact-boxes');
    list.id = 'redact-boxes';
    const hint = el('p', 'muted', 'No box yet: drag on the picture to draw one.');
    hint.id = 'redact-hint';
    const form = el('form', 'redact-form');
    const rl = el('label', null, 'Reason');
    const reason = el('textarea');
    reason.id = 'redact-reason';
    reason.rows = 2;
    reason.maxLength = 1000;
    reason.placeholder = 'e.g. subject access request 2026-117';
    rl.htmlFor = reason.id;
    const startBtn = el('button', 'primary', 'Start redacted export');
    startBtn.type = 'submit';
    startBtn.id = 'redact-start';
    const prog = el('progress');
    prog.id = 'redact-progress';
    prog.max = 1;
    prog.value = 0;
    prog.hidden = true;
    const status = el('p', 'muted');
    status.id = 'redact-status';
    status.setAttribute('aria-live', 'polite');
    const dl = el('a', 'button-link', 'Download');
    dl.id = 'redact-download';
    dl.hidden = true;
    form.append(rl, reason, startBtn, prog, status, dl);
    side.append(list, hint, form);
    layout.append(left, side);
    root.append(layout);
    Object.assign(st, { video, overlay, stage, scrub, clock, play, list, hint, ticks, note, reason, startBtn, prog, status, dl, len });

    video.addEventListener('loadedmetadata', () => {
      if (video.videoWidth && video.videoHeight) stage.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
      draw(st);
    });
    video.addEventListener('error', () => {
      note.textContent = 'This range cannot be played here (no footage, or a codec the browser lacks); boxes can still be drawn.';
    });
    video.addEventListener('play', () => { play.textContent = 'Pause'; loop(st); });
    video.addEventListener('pause', () => { play.textContent = 'Play'; draw(st); });
    video.addEventListener('seeked', () => draw(st));
    play.addEventListener('click', () => (video.paused ? video.play().catch(() => {}) : video.pause()));
    scrub.addEventListener('input', () => {
      video.pause();
      try { video.currentTime = Number(scrub.value); } catch (e) { /* not loaded */ }
      st.tOverride = Number(scrub.value);
      draw(st);
    });
    overlay.addEventListener('pointerdown', (ev) => onDown(st, ev));
    overlay.addEventListener('pointermove', (ev) => onMove(st, ev));
    overlay.addEventListener('pointerup', (ev) => onUp(st, ev));
    overlay.addEventListener('pointercancel', (ev) => onUp(st, ev));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); startExport(st); });
    renderList(st);
    draw(st);
  }

  function now(st) {
    const t = Number.isFinite(st.video.currentTime) ? st.video.currentTime : 0;
    if (st.tOverride !== undefined && st.video.readyState < 1) return clamp(st.tOverride, 0, st.len);
    return clamp(t, 0, st.len);
  }

  function loop(st) {
    cancelAnimationFrame(st.raf);
    const step = () => {
      if (!st.alive || st.video.paused) return;
      draw(st);
      st.raf = requestAnimationFrame(step);
    };
    st.raf = requestAnimationFrame(step);
  }

  function point(st, ev) {
    const r = st.overlay.getBoundingClientRect();
    return { x: clamp((ev.clientX - r.left) / r.width, 0, 1), y: clamp((ev.clientY - r.top) / r.height, 0, 1) };
  }

  function onDown(st, ev) {
    if (st.job && st.job.status === 'running') return;
    ev.preventDefault();
    st.video.pause();
    const p = point(st, ev);
    const t = now(st);
    const target = ev.target;
    const bi = target.dataset && target.dataset.box !== undefined ? Number(target.dataset.box) : -1;
    if (bi >= 0) {
      st.sel = bi;
      const r = boxAt(st.boxes[bi], t);
      st.drag = { kind: target.dataset.handle ? 'resize' : 'move', box: bi, p0: p, r0: r, t };
    } else {
      if (st.boxes.length >= MAX_BOXES) {
        st.note.textContent = `At most ${MAX_BOXES} boxes.`;
        return;
      }
      st.drag = { kind: 'new', p0: p, t, box: -1 };
    }
    st.overlay.setPointerCapture(ev.pointerId);
  }

  function onMove(st, ev) {
    const d = st.drag;
    if (!d) return;
    const p = point(st, ev);
    if (d.kind === 'new') {
      d.rect = { x: Math.min(p.x, d.p0.x), y: Math.min(p.y, d.p0.y), w: Math.abs(p.x - d.p0.x), h: Math.abs(p.y - d.p0.y) };
      draw(st);
      return;
    }
    const b = st.boxes[d.box];
    const r = { ...d.r0 };
    if (d.kind === 'move') {
      r.x = clamp(d.r0.x + p.x - d.p0.x, 0, 1 - r.w);
      r.y = clamp(d.r0.y + p.y - d.p0.y, 0, 1 - r.h);
    } else {
      r.w = clamp(d.r0.w + p.x - d.p0.x, MIN_SIZE, 1 - r.x);
      r.h = clamp(d.r0.h + p.y - d.p0.y, MIN_SIZE, 1 - r.y);
    }
    if (!setKey(b, d.t, r)) st.note.textContent = `At most ${MAX_KEYS} key points a box.`;
    draw(st);
  }

  function onUp(st, ev) {
    const d = st.drag;
    st.drag = null;
    if (!d) return;
    if (d.kind === 'new' && d.rect && d.rect.w >= MIN_SIZE && d.rect.h >= MIN_SIZE) {
      const b = { mode: 'blur', keys: [] };
      setKey(b, d.t, d.rect);
      st.boxes.push(b);
      st.sel = st.boxes.length - 1;
    }
    renderList(st);
    draw(st);
  }

  /* The boxes over the picture at the current moment, and the key ticks of the selected one. */
  function draw(st) {
    if (!st.alive) return;
    const t = now(st);
    if (document.activeElement !== st.scrub) st.scrub.value = String(t);
    st.clock.textContent = `${fmtClock(t)} / ${fmtClock(st.len)}`;
    st.overlay.replaceChildren();
    st.boxes.forEach((b, i) => {
      const r = boxAt(b, t);
      const e = el('div', `redact-box ${b.mode}${i === st.sel ? ' is-sel' : ''}`);
      e.dataset.box = String(i);
      e.style.left = `${r.x * 100}%`;
      e.style.top = `${r.y * 100}%`;
      e.style.width = `${r.w * 100}%`;
      e.style.height = `${r.h * 100}%`;
      const lab = el('span', 'redact-label', String(i + 1));
      lab.dataset.box = String(i);
      e.append(lab);
      if (i === st.sel) {
        const h = el('span', 'redact-handle');
        h.dataset.box = String(i);
        h.dataset.handle = '1';
        e.append(h);
      }
      st.overlay.append(e);
    });
    if (st.drag && st.drag.kind === 'new' && st.drag.rect) {
      const r = st.drag.rect;
      const e = el('div', 'redact-box drawing');
      e.style.left = `${r.x * 100}%`;
      e.style.top = `${r.y * 100}%`;
      e.style.width = `${r.w * 100}%`;
      e.style.height = `${r.h * 100}%`;
      st.overlay.append(e);
    }
    st.ticks.replaceChildren();
    const b = st.boxes[st.sel];
    if (b) {
      for (const k of b.keys) {
        const tk = el('span', 'redact-tick');
        tk.style.left = `${(k.t / st.len) * 100}%`;
        st.ticks.append(tk);
      }
    }
  }

  function renderList(st) {
    st.list.replaceChildren();
    st.hint.hidden = st.boxes.length > 0;
    st.boxes.forEach((b, i) => {
      const li = el('li', i === st.sel ? 'is-sel' : '');
      const name = el('button', 'redact-name', `Box ${i + 1}`);
      name.type = 'button';
      name.addEventListener('click', () => { st.sel = i; renderList(st); draw(st); });
      const mode = el('select');
      mode.setAttribute('aria-label', `Box ${i + 1}: blur or fill`);
      for (const [v, t] of [['blur', 'Blur'], ['fill', 'Black fill']]) {
        const o = el('option', null, t);
        o.value = v;
        if (b.mode === v) o.selected = true;
        mode.append(o);
      }
      mode.addEventListener('change', () => { b.mode = mode.value; draw(st); });
      const keys = el('span', 'muted', `${b.keys.length} key point${b.keys.length === 1 ? '' : 's'}`);
      const delKey = el('button', null, 'Remove key here');
      delKey.type = 'button';
      delKey.title = 'Remove the key point at this moment';
      delKey.addEventListener('click', () => {
        const t = now(st);
        const k = b.keys.findIndex((x) => Math.abs(x.t - t) <= KEY_SNAP_S);
        if (k >= 0 && b.keys.length > 1) b.keys.splice(k, 1);
        renderList(st);
        draw(st);
      });
      const del = el('button', 'danger', 'Delete');
      del.type = 'button';
      del.addEventListener('click', () => {
        st.boxes.splice(i, 1);
        st.sel = Math.min(st.sel, st.boxes.length - 1);
        renderList(st);
        draw(st);
      });
      li.append(name, mode, keys, delKey, del);
      st.list.append(li);
    });
  }

  function body(st) {
    const iso = (s) => new Date(st.start + Math.round(s * 1000)).toISOString();
    return {
      camera: st.camera,
      start: new Date(st.start).toISOString(),
      end: new Date(st.end).toISOString(),
      reason: st.reason.value,
      boxes: st.boxes.map((b) => ({ mode: b.mode, keys: b.keys.map((k) => ({ t: iso(k.t), x: k.x, y: k.y, w: k.w, h: k.h })) })),
    };
  }

  async function startExport(st) {
    if (!st.boxes.length) {
      st.status.textContent = 'Draw at least one box first.';
      return;
    }
    st.startBtn.disabled = true;
    st.dl.hidden = true;
    st.status.textContent = 'Starting…';
    const r = await st.ctx.api('POST', '/api/redactions', body(st));
    if (!st.alive || cur !== st) return;
    if (r.status !== 202) {
      st.startBtn.disabled = false;
      st.status.textContent = (r.json && r.json.error) || `The export was refused (${r.status}).`;
      return;
    }
    st.job = r.json;
    st.prog.hidden = false;
    poll(st);
  }

  async function poll(st) {
    const r = await st.ctx.api('GET', `/api/redactions/${encodeURIComponent(st.job.id)}`);
    if (!st.alive || cur !== st) return;
    if (r.status !== 200 || !r.json) {
      st.status.textContent = 'The export is gone.';
      st.startBtn.disabled = false;
      return;
    }
    const j = r.json;
    st.job = j;
    st.prog.value = j.progress || 0;
    if (j.status === 'running') {
      st.status.textContent = `Re-encoding… ${Math.round((j.progress || 0) * 100)} %`;
      st.timer = setTimeout(() => poll(st), 700);
      return;
    }
    st.startBtn.disabled = false;
    if (j.status === 'done') {
      st.prog.value = 1;
      st.status.textContent = `Done: ${j.frames} frames, ${(j.bytes / 1048576).toFixed(1)} MiB${j.signed ? ', signed' : ''}.`;
      st.dl.href = `/api/redactions/${encodeURIComponent(j.id)}/file`;
      st.dl.setAttribute('download', j.file);
      st.dl.textContent = `Download ${j.file}`;
      st.dl.hidden = false;
    } else {
      st.status.textContent = `Failed: ${j.error || 'unknown error'}`;
    }
  }

  function unmount() {
    if (!cur) return;
    cur.alive = false;
    clearTimeout(cur.timer);
    cancelAnimationFrame(cur.raf);
    if (cur.video) {
      cur.video.pause();
      cur.video.removeAttribute('src');
      cur.video.load();
    }
    cur.root.classList.remove('redact');
    cur = null;
  }

  /* The timeline's selection menu. */
  window.ReelTimeline = window.ReelTimeline || { actions: [] };
  if (!Array.isArray(window.ReelTimeline.actions)) window.ReelTimeline.actions = [];
  if (!window.ReelTimeline.actions.some((a) => a.id === 'redact')) {
    window.ReelTimeline.actions.push({
      id: 'redact',
      label: 'Redacted export…',
      roles: ROLES.slice(),
      run(sel) {
        const cam = sel && sel.cameras && sel.cameras[0];
        if (!cam) return;
        const s = new Date(sel.start), e = new Date(sel.end);
        location.hash = `#/redact?camera=${encodeURIComponent(cam)}&start=${encodeURIComponent(s.toISOString())}` +
          `&end=${encodeURIComponent(e.toISOString())}`;
      },
    });
  }

  window.reelRedact = { mount, unmount, roles: ROLES };
})();
