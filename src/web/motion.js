/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A camera's motion settings (#/motion/NAME, issue 15; API: docs/api.md,
 * GET/PUT /api/cameras/{camera}/motion): the mode (off, decode the picture,
 * or the camera's own ONVIF events), rate, sensitivity, minimum area,
 * pre-/post-roll, how long event footage is kept, the ONVIF address and
 * account, and a polygon editor over a current snapshot of the camera for
 * zones (with their own sensitivity and minimum area) and masks (never
 * analysed; drawn hatched). Click to add points, drag a point to move it,
 * drag a shape's inside to move all of it; Finish (or a click on the first
 * point) closes a shape. Points are fractions of the picture (0..1).
 * Admins edit and save (PUT, audited as camera.change); other roles with
 * PLAYBACK see it read-only. The ONVIF password is write-only: the page
 * shows whether one is set, never the password.
 * window.reelMotion = {roles, mount(root, ctx, camera), unmount()} (app.js).
 * No inline script or style (CSP): SVG built with createElementNS, every
 * server string set as text or attribute value.
 */
(function () {
  'use strict';

  const ROLES = ['admin', 'operator', 'viewer'];
  const SVGNS = 'http://www.w3.org/2000/svg';
  const MAX_ZONES = 16;
  const MAX_POINTS = 32;
  const VB = 1000;   /* the SVG's viewBox: 0..1000 both ways over the picture */

  const el = window.reelDom.el;
  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }
  const clamp = (v, a, b) => Math.min(b, Math.max(a, v));
  const round3 = (v) => Math.round(v * 1000) / 1000;
  const errText = (r) => (r.json && r.json.error) || `HTTP ${r.status}`;

  function field(label, input, hint) {
    const f = el('label', 'mo-field');
    f.append(el('span', 'mo-label', label), input);
    if (hint) f.append(el('span', 'mo-hint', hint));
    return f;
  }
  function num(id, min, max, step) {
    const i = el('input');
    i.type = 'number';
    i.id = id;
    i.min = String(min);
    i.max = String(max);
    i.step = String(step || 1);
    i.inputMode = step && step < 1 ? 'decimal' : 'numeric';
    return i;
  }

  let M = null;

  /* ---- the shapes ---- */

  function zoneDefaults(kind) {
    const n = M.zones.filter((z) => z.kind === kind).length + 1;
    return { name: `${kind === 'mask' ? 'mask' : 'zone'}${n}`, kind, points: [],
      sensitivity: Number(M.f.sens.value) || 50, min_area: Number(M.f.area.value) || 0.5 };
  }

  function toXY(ev) {
    const r = M.svg.getBoundingClientRect();
    return [clamp((ev.clientX - r.left) / r.width, 0, 1), clamp((ev.clientY - r.top) / r.height, 0, 1)];
  }

  function drawShapes() {
    const g = M.layer;
    g.replaceChildren();
    M.zones.forEach((z, i) => {
      const sel = i === M.sel;
      const pts = z.points.map(([x, y]) => `${x * VB},${y * VB}`).join(' ');
      const shape = svg(z.points.length >= 3 && !(sel && M.drawing) ? 'polygon' : 'polyline', {
        points: pts, class: `mo-shape mo-${z.kind}${sel ? ' mo-sel' : ''}`, 'data-i': i,
        'vector-effect': 'non-scaling-stroke',
      });
      if (z.kind === 'mask') shape.setAttribute('fill', 'url(#mo-hatch)');
      g.append(shape);
      if (z.points.length) {
        const [cx, cy] = centroid(z.points);
        const t = svg('text', { x: cx * VB, y: cy * VB, class: `mo-tag mo-tag-${z.kind}`, 'text-anchor': 'middle' });
        t.textContent = z.name;
        g.append(t);
      }
      if (sel && M.editable) {
        z.points.forEach(([x, y], j) => {
          g.append(svg('circle', { cx: x * VB, cy: y * VB, r: 1, class: `mo-handle${j === 0 && M.drawing ? ' mo-first' : ''}`,
            'data-i': i, 'data-j': j }));
        });
      }
    });
    sizeHandles();
  }

  /* handles and labels: a constant size on screen whatever the picture's size */
  function sizeHandles() {
    const r = M.svg.getBoundingClientRect();
    if (!r.width) return;
    const sx = VB / r.width;
    const sy = VB / r.height;
    for (const c of M.layer.querySelectorAll('circle')) {
      c.setAttribute('r', String(7 * sx));
      c.setAttribute('transform', `translate(${c.getAttribute('cx')} ${c.getAttribute('cy')}) scale(1 ${sy / sx}) ` +
        `translate(${-c.getAttribute('cx')} ${-c.getAttribute('cy')})`);
    }
    for (const t of M.layer.querySelectorAll('text')) {
      t.setAttribute('font-size', String(13 * sy));
      t.setAttribute('transform', `translate(${t.getAttribute('x')} ${t.getAttribute('y')}) scale(${sx / sy} 1) ` +
        `translate(${-t.getAttribute('x')} ${-t.getAttribute('y')})`);
    }
  }

  function centroid(p) {
    let x = 0;
    let y = 0;
    for (const [a, b] of p) {
      x += a;
      y += b;
    }
    return [x / p.length, y / p.length];
  }

  function onDown(ev) {
    if (!M.editable || ev.button > 0) return;
    const t = ev.target;
    const [x, y] = toXY(ev);
    if (t.classList.contains('mo-handle')) {
      const i = Number(t.dataset.i);
      const j = Number(t.dataset.j);
      if (M.drawing && i === M.sel && j === 0 && M.zones[i].points.length >= 3) {
        finish();
        ev.preventDefault();
        return;
      }
      M.drag = { type: 'point', i, j };
    } else if (M.drawing) {
      const z = M.zones[M.sel];
      if (z.points.length >= MAX_POINTS) {
        say(`A shape has at most ${MAX_POINTS} points.`);
        return;
      }
      z.points.push([round3(x), round3(y)]);
      M.dirty = true;
      drawShapes();
      renderList();
      ev.preventDefault();
      return;
    } else if (t.classList.contains('mo-shape')) {
      const i = Number(t.dataset.i);
      selectZone(i);
      M.drag = { type: 'shape', i, x, y, orig: M.zones[i].points.map((p) => p.slice()) };
    } else {
      selectZone(-1);
      return;
    }
    M.svg.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  }

  function onMove(ev) {
    if (!M.drag) return;
    const [x, y] = toXY(ev);
    const z = M.zones[M.drag.i];
    if (M.drag.type === 'point') {
      z.points[M.drag.j] = [round3(x), round3(y)];
    } else {
      let dx = x - M.drag.x;
      let dy = y - M.drag.y;
      for (const [px, py] of M.drag.orig) {
        dx = clamp(dx, -px, 1 - px);
        dy = clamp(dy, -py, 1 - py);
      }
      z.points = M.drag.orig.map(([px, py]) => [round3(px + dx), round3(py + dy)]);
    }
    M.dirty = true;
    drawShapes();
  }

  function onUp(ev) {
    if (!M.drag) return;
    M.drag = null;
    try {
      M.svg.releasePointerCapture(ev.pointerId);
    } catch (e) {
      /* not captured */
    }
    renderList();
  }

  function startShape(kind) {
    if (M.drawing) finish();
    if (M.zones.length >= MAX_ZONES) {
      say(`At most ${MAX_ZONES} zones and masks.`);
      return;
    }
    M.zones.push(zoneDefaults(kind));
    M.sel = M.zones.length - 1;
    M.drawing = true;
    M.dirty = true;
    say(`Click on the picture to add the ${kind}'s points; click the first point, Finish or Enter to close it ` +
      '(Backspace takes the last point back).');
    drawShapes();
    renderList();
  }

  function finish() {
    const z = M.zones[M.sel];
    M.drawing = false;
    if (z && z.points.length < 3) {
      M.zones.splice(M.sel, 1);
      M.sel = -1;
      say('A shape needs at least 3 points: removed.');
    } else {
      say('');
    }
    drawShapes();
    renderList();
  }

  function selectZone(i) {
    if (M.drawing && i !== M.sel) finish();
    M.sel = i;
    drawShapes();
    renderList();
  }

  function say(t, bad) {
    M.msg.textContent = t || '';
    M.msg.classList.toggle('mo-bad', !!bad);
  }

  /* the list of shapes, and the selected one's properties */
  function renderList() {
    const ul = M.list;
    ul.replaceChildren();
    if (!M.zones.length) ul.append(el('li', 'mo-hint', M.editable ? 'No zones: the whole picture is analysed. ' +
      'Add a zone to watch only part of it, or a mask to ignore a part (a road, a tree, a clock).' :
      'No zones: the whole picture is analysed.'));
    M.zones.forEach((z, i) => {
      const li = el('li', `mo-item${i === M.sel ? ' mo-item-sel' : ''}`);
      const b = el('button', 'mo-item-btn');
      b.type = 'button';
      b.append(el('span', `mo-swatch mo-swatch-${z.kind}`), el('span', 'mo-item-name', z.name || '(no name)'),
        el('span', 'mo-hint', z.kind === 'mask' ? 'mask' : `zone · sens. ${z.sensitivity} · ${z.min_area}%`));
      b.addEventListener('click', () => selectZone(i === M.sel ? -1 : i));
      li.append(b);
      if (i === M.sel) li.append(props(z, i));
      ul.append(li);
    });
    M.addZone.disabled = M.addMask.disabled = !M.editable || M.zones.length >= MAX_ZONES;
  }

  function props(z, i) {
    const box = el('div', 'mo-props');
    const name = el('input');
    name.id = 'mo-zone-name';
    name.maxLength = 31;
    name.value = z.name;
    name.disabled = !M.editable;
    name.addEventListener('input', () => {
      z.name = name.value;
      M.dirty = true;
      drawShapes();
      const n = M.list.querySelector('.mo-item-sel .mo-item-name');
      if (n) n.textContent = z.name || '(no name)';
    });
    const kind = el('select');
    kind.id = 'mo-zone-kind';
    for (const [v, t] of [['zone', 'Zone (watched)'], ['mask', 'Mask (ignored)']]) {
      const o = el('option', null, t);
      o.value = v;
      kind.append(o);
    }
    kind.value = z.kind;
    kind.disabled = !M.editable;
    kind.addEventListener('change', () => {
      z.kind = kind.value;
      M.dirty = true;
      drawShapes();
      renderList();
    });
    box.append(field('Name', name), field('Kind', kind));
    if (z.kind === 'zone') {
      const s = num('mo-zone-sens', 1, 100, 1);
      s.value = String(z.sensitivity);
      const a = num('mo-zone-area', 0, 100, 0.1);
      a.value = String(z.min_area);
      for (const [inp, key] of [[s, 'sensitivity'], [a, 'min_area']]) {
        inp.disabled = !M.editable;
        inp.addEventListener('change', () => {
          z[key] = Number(inp.value);
          M.dirty = true;
        });
      }
      const two = el('div', 'mo-two');
      two.append(field('Sensitivity', s, '1..100'), field('Min. area %', a, 'of the zone'));
      box.append(two);
    }
    if (M.editable) {
      const row = el('div', 'mo-row');
      if (M.drawing && i === M.sel) {
        const undo = el('button', null, 'Undo point');
        undo.type = 'button';
        undo.addEventListener('click', () => {
          z.points.pop();
          drawShapes();
        });
        const fin = el('button', 'mo-primary', 'Finish shape');
        fin.type = 'button';
        fin.id = 'mo-finish';
        fin.addEventListener('click', finish);
        row.append(undo, fin);
      }
      const del = el('button', 'mo-danger', 'Delete');
      del.type = 'button';
      del.addEventListener('click', () => {
        M.zones.splice(i, 1);
        M.sel = -1;
        M.drawing = false;
        M.dirty = true;
        drawShapes();
        renderList();
      });
      row.append(del);
      box.append(row);
    }
    return box;
  }

  /* ---- the settings ---- */

  function fill(cfg) {
    const f = M.f;
    f.mode.value = ['off', 'decode', 'onvif'].includes(cfg.motion) ? cfg.motion : 'off';
    f.fps.value = String(cfg.fps ?? 5);
    f.sens.value = String(cfg.sensitivity ?? 50);
    f.sensOut.textContent = f.sens.value;
    f.area.value = String(cfg.min_area ?? 0.5);
    f.pre.value = String(cfg.pre_roll_s ?? 5);
    f.post.value = String(cfg.post_roll_s ?? 5);
    f.keep.value = String(cfg.event_retain_days ?? 30);
    const o = cfg.onvif || {};
    f.xaddr.value = typeof o.xaddr === 'string' ? o.xaddr : '';
    f.ouser.value = typeof o.user === 'string' ? o.user : '';
    f.opass.value = '';
    f.opass.placeholder = o.password_set ? 'set (type to replace)' : 'not set';
    M.source.textContent = cfg.source === 'main' ? 'Analyses the main stream (the camera has no sub-stream).'
      : cfg.source === 'sub' ? 'Analyses the sub-stream (cheaper to decode).' : '';
    M.zones = (Array.isArray(cfg.zones) ? cfg.zones : []).slice(0, MAX_ZONES).map((z) => ({
      name: String(z.name || ''), kind: z.kind === 'mask' ? 'mask' : 'zone',
      points: (Array.isArray(z.points) ? z.points : []).slice(0, MAX_POINTS)
        .map((p) => [clamp(Number(p[0]) || 0, 0, 1), clamp(Number(p[1]) || 0, 0, 1)]),
      sensitivity: Number(z.sensitivity ?? cfg.sensitivity ?? 50), min_area: Number(z.min_area ?? cfg.min_area ?? 0.5),
    }));
    M.sel = -1;
    M.drawing = false;
    M.dirty = false;
    modeChanged();
    drawShapes();
    renderList();
  }

  function modeChanged() {
    const m = M.f.mode.value;
    M.onvifBox.hidden = m !== 'onvif';
    M.decodeBox.hidden = m !== 'decode';
  }

  function collect() {
    const f = M.f;
    const body = {
      motion: f.mode.value, fps: Number(f.fps.value), sensitivity: Number(f.sens.value), min_area: Number(f.area.value),
      pre_roll_s: Number(f.pre.value), post_roll_s: Number(f.post.value), event_retain_days: Number(f.keep.value),
      zones: M.zones.map((z) => (z.kind === 'mask' ? { name: z.name.trim(), kind: 'mask', points: z.points }
        : { name: z.name.trim(), kind: 'zone', points: z.points, sensitivity: Number(z.sensitivity),
          min_area: Number(z.min_area) })),
      onvif: { xaddr: f.xaddr.value.trim(), user: f.ouser.value },
    };
    if (f.opass.value) body.onvif.password = f.opass.value;
    return body;
  }

  function validate(b) {
    if (!Number.isInteger(b.fps) || b.fps < 1 || b.fps > 15) return 'The rate must be 1 to 15 frames a second.';
    if (!(b.sensitivity >= 1 && b.sensitivity <= 100)) return 'Sensitivity is 1 to 100.';
    if (!(b.min_area >= 0 && b.min_area <= 100)) return 'The minimum area is 0 to 100 %.';
    if (!(b.pre_roll_s >= 0 && b.pre_roll_s <= 60 && b.post_roll_s >= 0 && b.post_roll_s <= 60)) {
      return 'Pre- and post-roll are 0 to 60 s.';
    }
    if (!(b.event_retain_days >= 0)) return 'Enter how many days event footage is kept.';
    const names = new Set();
    for (const z of b.zones) {
      if (!z.name) return 'Every zone and mask needs a name.';
      if (!/^[A-Za-z0-9 _.-]{1,31}$/.test(z.name)) return `"${z.name}": a name is 1 to 31 letters, digits, spaces, _ . or -.`;
      if (names.has(z.name)) return `Two shapes are called "${z.name}".`;
      names.add(z.name);
      if (z.points.length < 3) return `"${z.name}" needs at least 3 points.`;
      if (z.kind === 'zone' && !(z.sensitivity >= 1 && z.sensitivity <= 100)) return `"${z.name}": sensitivity is 1 to 100.`;
    }
    if (b.motion === 'onvif' && !/^https?:\/\/.+/i.test(b.onvif.xaddr)) return 'Enter the camera\'s ONVIF address (http://…).';
    return '';
  }

  async function save(ev) {
    ev.preventDefault();
    if (M.drawing) finish();
    const b = collect();
    const bad = validate(b);
    if (bad) {
      say(bad, true);
      return;
    }
    M.save.disabled = true;
    say('Saving…');
    try {
      const r = await M.ctx.api('PUT', `/api/cameras/${encodeURIComponent(M.camera)}/motion`, b);
      if (!M) return;
      if (r.status === 200 || r.status === 204) {
        if (r.json && typeof r.json === 'object' && 'motion' in r.json) fill(r.json);
        M.dirty = false;
        M.f.opass.value = '';
        say('Saved. The recorder uses the new settings now.');
      } else {
        say(`Not saved: ${errText(r)}.`, true);
      }
    } catch (e) {
      if (M) say('Not saved: the server cannot be reached.', true);
    }
    if (M) M.save.disabled = false;
  }

  /* ---- the picture: a current snapshot, else the latest thumbnail ---- */

  function loadPicture() {
    const cam = encodeURIComponent(M.camera);
    const img = M.img;
    let tried = 0;
    const urls = [`/api/cameras/${cam}/snapshot.jpg?_=${Date.now()}`,
      `/api/cameras/${cam}/thumb.jpg?t=${encodeURIComponent(new Date(Date.now() - 15000).toISOString())}&w=320`];
    img.addEventListener('error', () => {
      tried++;
      if (tried < urls.length) img.src = urls[tried];
      else M.stage.classList.add('mo-nopic');
    });
    img.addEventListener('load', () => {
      if (img.naturalWidth && img.naturalHeight) {
        M.stage.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`;
      }
      M.stage.classList.remove('mo-nopic');
      requestAnimationFrame(() => M && sizeHandles());
    });
    img.src = urls[0];
  }

  /* ---- mount ---- */

  function build(root) {
    const wrap = el('div', 'mo');
    const top = el('div', 'mo-top');
    const h = el('h2', null, `Motion: ${M.camera}`);
    h.id = 'motion-title';
    const back = el('a', 'button-link', 'Events');
    back.href = `#/events?camera=${encodeURIComponent(M.camera)}`;
    const search = el('a', 'button-link', 'Search motion');
    search.href = `#/search?camera=${encodeURIComponent(M.camera)}`;
    top.append(h, back, search);
    if (!M.editable) top.append(el('span', 'mo-ro', 'Read-only: only an administrator changes these settings.'));

    const grid = el('div', 'mo-grid');
    /* left: the picture and the shapes */
    const pic = el('section', 'mo-pic');
    pic.setAttribute('aria-label', 'Zones and masks over the camera\'s picture');
    M.stage = el('div', 'mo-stage');
    M.img = el('img', 'mo-img');
    M.img.alt = `Current picture of ${M.camera}`;
    M.svg = svg('svg', { viewBox: `0 0 ${VB} ${VB}`, preserveAspectRatio: 'none', class: 'mo-svg', id: 'mo-svg' });
    const defs = svg('defs');
    const pat = svg('pattern', { id: 'mo-hatch', patternUnits: 'userSpaceOnUse', width: 16, height: 16,
      patternTransform: 'rotate(45)' });
    pat.append(svg('rect', { width: 16, height: 16, fill: 'rgba(229,83,75,0.18)' }),
      svg('line', { x1: 0, y1: 0, x2: 0, y2: 16, stroke: 'rgba(255,120,110,0.85)', 'stroke-width': 6 }));
    defs.append(pat);
    M.layer = svg('g');
    M.svg.append(defs, M.layer);
    M.stage.append(M.img, M.svg, el('span', 'mo-nopic-text', 'No picture from this camera right now.'));
    M.svg.addEventListener('pointerdown', onDown);
    M.svg.addEventListener('pointermove', onMove);
    M.svg.addEventListener('pointerup', onUp);
    M.svg.addEventListener('pointercancel', onUp);
    const tools = el('div', 'mo-row');
    M.addZone = el('button', null, '+ Zone');
    M.addZone.type = 'button';
    M.addZone.id = 'mo-add-zone';
    M.addZone.addEventListener('click', () => startShape('zone'));
    M.addMask = el('button', null, '+ Mask');
    M.addMask.type = 'button';
    M.addMask.id = 'mo-add-mask';
    M.addMask.addEventListener('click', () => startShape('mask'));
    const refresh = el('button', null, 'New picture');
    refresh.type = 'button';
    refresh.addEventListener('click', loadPicture);
    if (M.editable) tools.append(M.addZone, M.addMask);
    tools.append(refresh);
    const legend = el('p', 'mo-hint');
    legend.append(el('span', 'mo-swatch mo-swatch-zone'), document.createTextNode(' zone: motion counts only inside '),
      el('span', 'mo-swatch mo-swatch-mask'), document.createTextNode(' mask: never analysed'));
    M.list = el('ul', 'mo-list');
    M.list.id = 'mo-list';
    pic.append(M.stage, tools, legend, M.list);

    /* right: the settings */
    const form = el('form', 'mo-form');
    form.id = 'mo-form';
    form.noValidate = true;
    const f = {};
    f.mode = el('select');
    f.mode.id = 'mo-mode';
    for (const [v, t] of [['off', 'Off'], ['decode', 'Detect in the picture (decode)'], ['onvif', 'The camera\'s own events (ONVIF)']]) {
      const o = el('option', null, t);
      o.value = v;
      f.mode.append(o);
    }
    f.mode.addEventListener('change', modeChanged);
    form.append(el('h3', null, 'Detection'), field('Motion detection', f.mode));
    M.source = el('p', 'mo-hint');
    M.decodeBox = el('div', 'mo-box');
    f.fps = num('mo-fps', 1, 15, 1);
    f.sens = el('input');
    f.sens.type = 'range';
    f.sens.id = 'mo-sens';
    f.sens.min = '1';
    f.sens.max = '100';
    f.sensOut = el('output', 'mo-out');
    f.sens.addEventListener('input', () => { f.sensOut.textContent = f.sens.value; });
    const sensWrap = el('div', 'mo-range');
    sensWrap.append(f.sens, f.sensOut);
    f.area = num('mo-area', 0, 100, 0.1);
    const two = el('div', 'mo-two');
    two.append(field('Analysed frames/s', f.fps, '1..15'), field('Min. area %', f.area, 'of the picture'));
    const sf = field('Sensitivity', sensWrap, 'higher finds smaller changes');
    M.decodeBox.append(M.source, two, sf);
    M.onvifBox = el('div', 'mo-box');
    f.xaddr = el('input');
    f.xaddr.id = 'mo-xaddr';
    f.xaddr.type = 'url';
    f.xaddr.maxLength = 512;
    f.xaddr.placeholder = 'http://192.0.2.10/onvif/device_service';
    f.ouser = el('input');
    f.ouser.id = 'mo-ouser';
    f.ouser.maxLength = 128;
    f.ouser.autocomplete = 'off';
    f.opass = el('input');
    f.opass.id = 'mo-opass';
    f.opass.type = 'password';
    f.opass.maxLength = 128;
    f.opass.autocomplete = 'new-password';
    const two2 = el('div', 'mo-two');
    two2.append(field('ONVIF user', f.ouser), field('ONVIF password', f.opass, 'write-only'));
    M.onvifBox.append(field('ONVIF device address', f.xaddr), two2);
    form.append(M.decodeBox, M.onvifBox);
    form.append(el('h3', null, 'Events and footage'));
    f.pre = num('mo-pre', 0, 60, 1);
    f.post = num('mo-post', 0, 60, 1);
    const two3 = el('div', 'mo-two');
    two3.append(field('Pre-roll (s)', f.pre), field('Post-roll (s)', f.post));
    f.keep = num('mo-keep', 0, 3650, 1);
    form.append(two3, field('Keep event footage (days)', f.keep,
      'Footage around events (with the rolls) is kept this long, even after continuous footage is deleted; ' +
      '0: as long as the rest.'));
    M.msg = el('p', 'mo-msg');
    M.msg.id = 'mo-msg';
    M.msg.setAttribute('role', 'status');
    M.save = el('button', 'mo-primary', 'Save');
    M.save.type = 'submit';
    M.save.id = 'mo-save';
    const row = el('div', 'mo-row mo-end');
    if (M.editable) row.append(M.save);
    form.append(M.msg, row);
    form.addEventListener('submit', save);
    if (!M.editable) for (const k of Object.keys(f)) if (f[k].disabled !== undefined) f[k].disabled = true;
    M.f = f;
    grid.append(pic, form);
    wrap.append(top, grid);
    root.replaceChildren(wrap);
    M.ro = new ResizeObserver(() => M && sizeHandles());
    M.ro.observe(M.stage);
    /* Escape or Enter closes the shape being drawn; Backspace takes its last point back */
    M.onKey = (ev) => {
      if (!M || !M.drawing || /^(INPUT|SELECT|TEXTAREA)$/.test(ev.target.tagName)) return;
      if (ev.key === 'Escape' || ev.key === 'Enter') {
        finish();
        ev.preventDefault();
      } else if (ev.key === 'Backspace') {
        const z = M.zones[M.sel];
        if (z) z.points.pop();
        drawShapes();
        ev.preventDefault();
      }
    };
    document.addEventListener('keydown', M.onKey);
    modeChanged();
    renderList();
  }

  async function mount(root, ctx, camera) {
    unmount();
    M = { root, ctx, camera, editable: !!(ctx.user && ctx.user.role === 'admin'), zones: [], sel: -1, drawing: false,
      drag: null, dirty: false };
    const me = M;
    if (!camera) {
      const cams = (ctx.cameras() || []).map((c) => c.name).filter(Boolean);
      const wrap = el('div', 'mo');
      wrap.append(el('h2', null, 'Motion settings'), el('p', 'mo-hint', 'Choose a camera:'));
      const ul = el('ul', 'mo-camlist');
      for (const n of cams) {
        const li = el('li');
        const a = el('a', 'button-link', n);
        a.href = `#/motion/${encodeURIComponent(n)}`;
        li.append(a);
        ul.append(li);
      }
      if (!cams.length) ul.append(el('li', 'mo-hint', 'No cameras.'));
      wrap.append(ul);
      root.replaceChildren(wrap);
      return;
    }
    build(root);
    say('Loading…');
    loadPicture();
    let r;
    try {
      r = await ctx.api('GET', `/api/cameras/${encodeURIComponent(camera)}/motion`);
    } catch (e) {
      if (M === me) say('The server cannot be reached.', true);
      return;
    }
    if (M !== me) return;
    if (r.status === 200 && r.json) {
      fill(r.json);
      say('');
    } else if (r.status === 404 && !(r.json && /camera/i.test(r.json.error || ''))) {
      M.editable = false;
      say('This server has no motion settings yet (GET /api/cameras/{camera}/motion is missing).', true);
      M.save.disabled = true;
    } else {
      say(`The motion settings could not be read: ${errText(r)}.`, true);
      M.save.disabled = true;
    }
  }

  function unmount() {
    if (!M) return;
    if (M.ro) M.ro.disconnect();
    if (M.onKey) document.removeEventListener('keydown', M.onKey);
    M.root.replaceChildren();
    M = null;
  }

  /* for tests: the editor's shapes */
  function info() {
    return M ? { camera: M.camera, zones: M.zones.map((z) => ({ ...z, points: z.points.map((p) => p.slice()) })),
      drawing: M.drawing, sel: M.sel, editable: M.editable, dirty: M.dirty } : null;
  }

  window.reelMotion = { roles: ROLES, mount, unmount, info };
})();
