/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reel's admin pages, mounted by the shell (app.js) as
 * window.reelAdmin.mount(route, el, ctx) for #/cameras, #/storage and
 * #/users, and unmount() when leaving. ctx.api(method, path, body) ->
 * {status, json} adds the CSRF token. Plain JS, no framework; CSP-safe (no
 * inline script or style attribute, no innerHTML: every text from the
 * server goes in with textContent). Works at 390 px wide (admin.css).
 */
(function () {
  'use strict';

  let cur = null;       /* { el, ctx, timers: [], gen } */
  let gen = 0;

  /* ---- small helpers ---- */

  const { h, dialog, field } = window.reelDom;
  const err = window.reelDom.errText;
  const status = window.reelDom.say;

  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    let i = 0;
    let v = Number(n);
    while (v >= 1000 && i < u.length - 1) { v /= 1000; i++; }
    return (i === 0 ? v.toFixed(0) : v.toFixed(v < 10 ? 1 : 0)) + ' ' + u[i];
  }

  function mbit(bps) { return (Number(bps) / 1e6).toFixed(1) + ' Mbit/s'; }

  function days(d) {
    if (d === null || d === undefined) return 'unknown (no bitrate yet)';
    if (d < 1) return 'about ' + Math.max(0.1, Math.round(d * 24 * 10) / 10) + ' hours';
    return 'about ' + (Math.round(d * 10) / 10) + ' days';
  }

  function alive(g) { return cur && cur.gen === g; }

  function input(type, attrs) { return h('input', Object.assign({ type }, attrs || {})); }

  /* ---- Cameras ---- */

  const FORECAST_GB = 'adm-forecast';

  function forecastText(bps, retainGB, retainDays) {
    if (!bps) return 'Run Test to measure the bitrate and see how long this keeps.';
    const perDay = bps / 8 * 86400;
    const parts = [];
    if (retainGB > 0) parts.push(`${retainGB} GB keeps ${days(retainGB * 1e9 / perDay)}`);
    if (retainDays > 0) parts.push(`${retainDays} days take about ${bytes(perDay * retainDays)}`);
    if (!parts.length) parts.push(`one day takes about ${bytes(perDay)}`);
    return `At ${mbit(bps)}, ` + parts.join('; ') + '.';
  }

  function testResult(box, r) {
    box.replaceChildren();
    if (!r || r.status !== 200 || !r.json) {
      box.append(h('p', { class: 'adm-bad', text: err(r, 'Test failed') }));
      return null;
    }
    const j = r.json;
    if (!j.ok) {
      const why = {
        unreachable: 'The camera cannot be reached (address or network).',
        refused: 'The camera refused the connection (wrong port, or RTSP off).',
        auth: 'The user name or password is wrong.',
        no_video: 'The stream has no H.264 or H.265 video (wrong path?).',
        unsupported_codec: 'The camera sends a codec Reel does not record.',
        timeout: 'The camera did not answer or send video within 10 s.',
        protocol: 'The camera answered something Reel does not understand.',
        redirect: 'The camera redirected elsewhere; refused.',
      }[j.reason] || 'The test failed.';
      box.append(h('p', { class: 'adm-bad', text: why }), h('p', { class: 'adm-hint', text: j.error || '' }));
      return null;
    }
    if (j.snapshot && /^data:image\/jpeg;base64,/.test(j.snapshot)) {
      /* decoded with createImageBitmap onto a canvas: the page's CSP allows
       * images from 'self' only, and a data: URL is not one */
      const c = h('canvas', { class: 'adm-snap', role: 'img', 'aria-label': 'Snapshot from the camera' });
      box.append(c);
      const bin = atob(j.snapshot.slice(j.snapshot.indexOf(',') + 1));
      const buf = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
      createImageBitmap(new Blob([buf], { type: 'image/jpeg' })).then((bm) => {
        c.width = bm.width;
        c.height = bm.height;
        c.getContext('2d').drawImage(bm, 0, 0);
        c.dataset.drawn = '1';
      }).catch(() => c.remove());
    }
    const dl = h('dl', { class: 'adm-facts' });
    const add = (k, v) => dl.append(h('dt', { text: k }), h('dd', { text: v }));
    add('Codec', j.codec === 'h265' ? 'H.265' : 'H.264');
    add('Profile', j.codec_string);
    add('Resolution', `${j.width} × ${j.height}`);
    add('Frame rate', `${Number(j.fps).toFixed(1)} fps`);
    add('Bitrate', mbit(j.bitrate_bps));
    add('Audio', j.audio ? j.audio.toUpperCase() : 'none');
    box.prepend(h('p', { class: 'adm-ok', text: 'Connected: the camera works.' }));
    box.append(dl);
    return j;
  }

  /* "Find cameras (ONVIF)" in the add-camera dialog: WS-Discovery on the
   * server's network (POST /api/onvif/discover), pick a device (or type its
   * address), enter its credentials, read its profiles (POST
   * /api/onvif/profiles) and fill the main and sub-stream URLs with the
   * suggested pair. done({main, sub, user, password, name}). */
  function onvifFinder(ctx, g, done) {
    const box = h('details', { class: 'adm-host adm-onvif' },
      h('summary', { text: 'Find cameras (ONVIF)' }));
    const searchBtn = h('button', { type: 'button', class: 'adm-secondary', text: 'Search the network' });
    const found = h('ul', { class: 'adm-onvif-list', 'aria-label': 'ONVIF devices found' });
    const found_msg = h('p', { class: 'adm-hint', 'aria-live': 'polite' });
    const xaddr = input('text', { maxlength: 511, placeholder: 'http://192.168.1.20/onvif/device_service',
      inputmode: 'url', autocomplete: 'off' });
    const ouser = input('text', { maxlength: 128, autocomplete: 'off', value: 'admin' });
    const opass = input('password', { maxlength: 128, autocomplete: 'new-password' });
    const profBtn = h('button', { type: 'button', class: 'adm-secondary', text: 'Get stream URLs' });
    const prof = h('div', { class: 'adm-onvif-prof', 'aria-live': 'polite' });
    let devName = '';
    searchBtn.addEventListener('click', async () => {
      searchBtn.disabled = true;
      found.replaceChildren();
      status(found_msg, 'Searching… (2 s)');
      try {
        const r = await ctx.api('POST', '/api/onvif/discover', { timeout_ms: 2000 });
        if (!alive(g)) return;
        if (r.status !== 200) { status(found_msg, err(r, 'Search failed'), true); return; }
        const devs = r.json.devices || [];
        status(found_msg, devs.length ? `${devs.length} found: pick one.` :
          'None answered. Cameras on another subnet or with discovery off: type the address below.');
        for (const d of devs) {
          const label = (d.name || d.hardware || 'ONVIF device') + (d.hardware && d.name ? ` · ${d.hardware}` : '');
          const b = h('button', { type: 'button', class: 'adm-onvif-dev' },
            h('strong', { text: label }), h('span', { class: 'adm-hint', text: d.xaddr }));
          b.addEventListener('click', () => {
            xaddr.value = d.xaddr;
            devName = (d.name || '').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
            for (const x of found.querySelectorAll('.adm-onvif-dev')) x.classList.toggle('adm-picked', x === b);
            opass.focus();
          });
          found.append(h('li', {}, b));
        }
      } finally { searchBtn.disabled = false; }
    });
    profBtn.addEventListener('click', async () => {
      if (!xaddr.value.trim()) { prof.replaceChildren(h('p', { class: 'adm-bad', text: 'Pick a device or type its address.' })); return; }
      profBtn.disabled = true;
      prof.replaceChildren(h('p', { class: 'adm-hint', text: 'Asking the device… (up to 15 s)' }));
      try {
        const r = await ctx.api('POST', '/api/onvif/profiles',
          { xaddr: xaddr.value.trim(), user: ouser.value, password: opass.value });
        if (!alive(g)) return;
        if (r.status !== 200) { prof.replaceChildren(h('p', { class: 'adm-bad', text: err(r, 'The device said no') })); return; }
        const j = r.json;
        const dl = h('dl', { class: 'adm-facts' });
        for (const p of j.profiles || []) {
          dl.append(h('dt', { text: p.name || p.token }),
            h('dd', { text: `${p.codec || '?'} ${p.width}×${p.height}${p.fps ? ' ' + p.fps + ' fps' : ''}` +
              (p.uri === j.suggest.main ? ' (main)' : p.uri === j.suggest.sub ? ' (sub-stream)' : '') }));
        }
        if (!j.suggest.main) {
          prof.replaceChildren(h('p', { class: 'adm-bad', text: 'The device gave no RTSP stream URL.' }), dl);
          return;
        }
        prof.replaceChildren(h('p', { class: 'adm-ok',
          text: j.suggest.sub ? 'Filled in the main and sub-stream URLs below.' : 'Filled in the main stream URL below.' }), dl);
        done({ main: j.suggest.main, sub: j.suggest.sub, user: ouser.value, password: opass.value, name: devName });
      } finally { profBtn.disabled = false; }
    });
    box.append(h('div', { class: 'adm-testrow' }, searchBtn,
      h('span', { class: 'adm-hint', text: 'WS-Discovery on the recorder\'s local network' })),
    found_msg, found, field('Device address', xaddr),
    h('div', { class: 'adm-two' }, field('ONVIF user', ouser), field('ONVIF password', opass)),
    h('div', { class: 'adm-testrow' }, profBtn,
      h('span', { class: 'adm-hint', text: 'Reads the profiles and suggests main and sub-stream' })), prof);
    return box;
  }

  async function cameraDialog(ctx, existing, refresh) {
    const g = cur.gen;
    let cfg = null;
    if (existing) {
      const r = await ctx.api('GET', `/api/cameras/${encodeURIComponent(existing)}/config`);
      if (r.status !== 200) { alert(err(r)); return; }
      cfg = r.json;
    }
    const st = await ctx.api('GET', '/api/storage');
    if (!alive(g)) return;
    const name = input('text', { required: true, maxlength: 63, pattern: '[A-Za-z0-9_\\-]{1,63}', autocomplete: 'off',
      value: cfg ? cfg.name : '', disabled: !!cfg });
    const url = input('text', { required: true, maxlength: 1023, placeholder: 'rtsp://192.168.1.20:554/stream1',
      value: cfg ? cfg.url : '', inputmode: 'url', autocomplete: 'off' });
    const user = input('text', { maxlength: 127, value: cfg ? cfg.user : '', autocomplete: 'off' });
    const pass = input('password', { maxlength: 255, autocomplete: 'new-password',
      placeholder: cfg && cfg.has_password ? '(unchanged)' : '' });
    const sub = input('text', { maxlength: 1023, placeholder: 'optional: rtsp://…/stream2',
      value: cfg && cfg.sub ? cfg.sub.url : '', autocomplete: 'off' });
    const udp = input('checkbox', { checked: cfg ? cfg.udp : false });
    const rdays = input('number', { min: 0, step: 1, inputmode: 'numeric',
      value: cfg ? Math.round(cfg.retain_seconds / 86400) : 30 });
    const rgb = input('number', { min: 0, step: 1, inputmode: 'numeric',
      value: cfg ? Math.round(cfg.retain_bytes / 1e9) : 0 });
    const dir = h('select', {});
    for (const d of (st.status === 200 && Array.isArray(st.json) ? st.json : [])) {
      dir.append(h('option', { value: d.id, text: `${d.path} (${bytes(d.free_bytes)} free)` }));
    }
    if (cfg && cfg.storage) dir.value = String(cfg.storage);
    const result = h('div', { class: 'adm-test', 'aria-live': 'polite' });
    const forecast = h('p', { class: FORECAST_GB });
    const msg = h('p', { class: 'adm-msg', role: 'alert' });
    let bps = 0;
    const upd = () => { forecast.textContent = forecastText(bps, Number(rgb.value), Number(rdays.value)); };
    rdays.addEventListener('input', upd);
    rgb.addEventListener('input', upd);
    upd();
    const hostBox = h('details', { class: 'adm-host' },
      h('summary', { text: 'Build the URL from host, port and path' }));
    const host = input('text', { placeholder: '192.168.1.20', autocomplete: 'off' });
    const port = input('number', { min: 1, max: 65535, value: 554 });
    const path = input('text', { placeholder: '/stream1', autocomplete: 'off' });
    const mk = () => {
      if (host.value) url.value = `rtsp://${host.value}:${port.value || 554}${path.value.startsWith('/') ? '' : '/'}${path.value}`;
    };
    for (const e of [host, port, path]) e.addEventListener('input', mk);
    hostBox.append(field('Host', host), field('Port', port), field('Path', path));

    const onvifBox = cfg ? null : onvifFinder(ctx, g, (found) => {
      url.value = found.main;
      sub.value = found.sub || '';
      if (found.user !== undefined) user.value = found.user;
      if (found.password) pass.value = found.password;
      if (!name.value && found.name) name.value = found.name;
      url.dispatchEvent(new Event('input'));
    });

    const body = () => {
      const b = { url: url.value.trim(), user: user.value, udp: udp.checked,
        retain_seconds: Math.max(0, Math.round(Number(rdays.value) * 86400)),
        retain_bytes: Math.max(0, Math.round(Number(rgb.value) * 1e9)) };
      if (!cfg) b.name = name.value.trim();
      if (pass.value) b.password = pass.value;
      if (dir.value) b.storage = Number(dir.value);
      if (sub.value.trim()) b.sub_url = sub.value.trim();
      else if (cfg && cfg.sub) b.sub_url = null;
      return b;
    };
    const testBtn = h('button', { type: 'button', class: 'adm-secondary', text: 'Test' });
    testBtn.addEventListener('click', async () => {
      testBtn.disabled = true;
      result.replaceChildren(h('p', { class: 'adm-hint', text: 'Connecting… (up to 10 s)' }));
      try {
        const b = { url: url.value.trim(), user: user.value, udp: udp.checked };
        if (pass.value) b.password = pass.value;
        else if (cfg) { delete b.url; delete b.user; delete b.udp; b.camera = cfg.name; }
        const r = await ctx.api('POST', '/api/cameras/test', b);
        const j = testResult(result, r);
        if (j) { bps = j.bitrate_bps; upd(); }
      } finally { testBtn.disabled = false; }
    });
    const save = h('button', { type: 'submit', class: 'adm-primary', text: cfg ? 'Save' : 'Add camera' });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    const content = h('div', {},
      onvifBox,
      field('Name', name, 'Letters, digits, _ and -'),
      field('Main stream URL', url), hostBox,
      h('div', { class: 'adm-two' }, field('User', user), field('Password', pass)),
      h('label', { class: 'adm-check' }, udp, ' RTP over UDP (instead of TCP)'),
      h('div', { class: 'adm-testrow' }, testBtn,
        h('span', { class: 'adm-hint', text: 'Connects the way the recorder will and shows what the camera sends' })),
      result,
      field('Sub-stream URL', sub, 'A low-resolution second stream for the live grid'),
      h('div', { class: 'adm-two' }, field('Keep days', rdays, '0 = no age limit'),
        field('Keep at most GB', rgb, '0 = no size limit')),
      forecast,
      field('Storage directory', dir), msg);
    const d = dialog(cfg ? `Edit ${cfg.name}` : 'Add a camera', content, [cancel, save]);
    cancel.addEventListener('click', () => d.close());
    d.querySelector('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      status(msg, 'Saving…');
      try {
        const r = cfg ? await ctx.api('PATCH', `/api/cameras/${encodeURIComponent(cfg.name)}`, body())
          : await ctx.api('POST', '/api/cameras', body());
        if (r.status >= 200 && r.status < 300) { d.close(); refresh(); return; }
        status(msg, err(r), true);
      } finally { save.disabled = false; }
    });
    (cfg ? url : name).focus();
  }

  function removeDialog(ctx, name, refresh) {
    const typed = input('text', { autocomplete: 'off', 'aria-describedby': 'adm-rm-why' });
    const msg = h('p', { class: 'adm-msg', role: 'alert' });
    const keep = h('button', { type: 'button', text: 'Keep footage: disable only' });
    const del = h('button', { type: 'button', class: 'adm-danger', text: 'Delete camera and footage', disabled: true });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    typed.addEventListener('input', () => { del.disabled = typed.value !== name; });
    const content = h('div', {},
      h('p', { id: 'adm-rm-why', text: `Removing ${name} deletes its recordings. To keep them, disable the camera instead: ` +
        'it stops recording and its footage stays until retention removes it.' }),
      field(`Type ${name} to delete it with its footage`, typed), msg);
    const d = dialog(`Remove ${name}`, content, [cancel, keep, del]);
    cancel.addEventListener('click', () => d.close());
    keep.addEventListener('click', async () => {
      const r = await ctx.api('POST', `/api/cameras/${encodeURIComponent(name)}/disable`);
      if (r.status < 300) { d.close(); refresh(); } else status(msg, err(r), true);
    });
    del.addEventListener('click', async () => {
      del.disabled = true;
      const q = `?delete_footage=1&confirm=${encodeURIComponent(name)}`;
      const r = await ctx.api('DELETE', `/api/cameras/${encodeURIComponent(name)}${q}`);
      if (r.status < 300) { d.close(); refresh(); } else { status(msg, err(r), true); del.disabled = false; }
    });
    typed.focus();
  }

  function mountCameras(el, ctx) {
    const g = cur.gen;
    const list = h('div', { class: 'adm-list', 'aria-live': 'polite' });
    const msg = h('p', { class: 'adm-msg', role: 'status' });
    const add = h('button', { type: 'button', class: 'adm-primary', text: 'Add camera' });
    const isAdmin = ctx.user && ctx.user.role === 'admin';
    add.hidden = !isAdmin;
    el.append(h('div', { class: 'adm-head' }, h('h2', { text: 'Cameras' }), add), msg, list);
    const refresh = async () => {
      const r = await ctx.api('GET', '/api/cameras');
      if (!alive(g)) return;
      if (r.status !== 200) { status(msg, err(r), true); return; }
      status(msg, r.json.cameras.length ? '' : 'No cameras yet: add one.');
      list.replaceChildren();
      for (const c of r.json.cameras) {
        const state = c.enabled ? c.state : 'disabled';
        const good = /^recording/.test(state);
        const meta = [];
        if (c.width) meta.push(`${c.width}×${c.height} ${c.codec === 'h265' ? 'H.265' : 'H.264'}`);
        if (c.bitrate_bps) meta.push(mbit(c.bitrate_bps));
        if (c.bytes_kept) meta.push(`${bytes(c.bytes_kept)} kept`);
        if (c.streams && c.streams.sub) meta.push('sub-stream');
        const row = h('div', { class: 'adm-card', 'data-camera': c.name },
          h('div', { class: 'adm-card-main' },
            h('strong', { class: 'adm-name', text: c.name }),
            h('span', { class: 'adm-state ' + (good ? 'adm-ok' : c.enabled ? 'adm-warn' : 'adm-muted'), text: state }),
            h('span', { class: 'adm-meta', text: meta.join(' · ') }),
            c.last_error && !good ? h('span', { class: 'adm-bad adm-small', text: c.last_error }) : null));
        if (isAdmin) {
          const btns = h('div', { class: 'adm-actions' });
          const edit = h('button', { type: 'button', text: 'Edit' });
          edit.addEventListener('click', () => cameraDialog(ctx, c.name, refresh));
          const tog = h('button', { type: 'button', text: c.enabled ? 'Disable' : 'Enable' });
          tog.addEventListener('click', async () => {
            tog.disabled = true;
            const r2 = await ctx.api('POST', `/api/cameras/${encodeURIComponent(c.name)}/${c.enabled ? 'disable' : 'enable'}`);
            if (r2.status >= 300) status(msg, err(r2), true);
            refresh();
          });
          const rm = h('button', { type: 'button', class: 'adm-danger', text: 'Remove' });
          rm.addEventListener('click', () => removeDialog(ctx, c.name, refresh));
          /* the camera's motion settings and zones (motion.js, #/motion/NAME) */
          const motion = h('a', { class: 'button-link adm-motion', href: `#/motion/${encodeURIComponent(c.name)}`,
            text: 'Motion' });
          btns.append(edit, motion, tog, rm);
          row.append(btns);
        }
        list.append(row);
      }
    };
    add.addEventListener('click', () => cameraDialog(ctx, null, refresh));
    refresh();
    cur.timers.push(setInterval(refresh, 5000));
  }

  /* ---- Storage ---- */

  function mountStorage(el, ctx) {
    const g = cur.gen;
    const list = h('div', { class: 'adm-list' });
    const msg = h('p', { class: 'adm-msg', role: 'status' });
    el.append(h('div', { class: 'adm-head' }, h('h2', { text: 'Storage' })), msg, list);
    const refresh = async () => {
      const r = await ctx.api('GET', '/api/storage');
      if (!alive(g)) return;
      if (r.status !== 200) { status(msg, err(r), true); return; }
      status(msg, '');
      list.replaceChildren();
      for (const d of r.json) {
        const size = d.size_bytes || 1;
        const usedAll = size - d.free_bytes;
        const other = Math.max(0, usedAll - d.used_bytes);
        const bar = h('div', { class: 'adm-bar', role: 'img',
          'aria-label': `Reel ${bytes(d.used_bytes)}, other files ${bytes(other)}, free ${bytes(d.free_bytes)} of ${bytes(d.size_bytes)}` },
        h('span', { class: 'adm-bar-reel' }), h('span', { class: 'adm-bar-other' }));
        /* widths through the CSSOM (allowed by the CSP, unlike style attributes) */
        bar.children[0].style.width = (100 * d.used_bytes / size).toFixed(2) + '%';
        bar.children[1].style.width = (100 * other / size).toFixed(2) + '%';
        const ok = d.state === 'ok';
        const dl = h('dl', { class: 'adm-facts' });
        const add = (k, v) => dl.append(h('dt', { text: k }), h('dd', { text: v }));
        add('Size', bytes(d.size_bytes));
        add('Free', bytes(d.free_bytes));
        add('Reel uses', bytes(d.used_bytes));
        add('Cameras', d.cameras.length ? d.cameras.join(', ') : 'none');
        add('Keeps', days(d.forecast_days));
        add('Write errors', d.write_errors === null || d.write_errors === undefined ? 'not counted (see state)'
          : String(d.write_errors));
        const streams = h('ul', { class: 'adm-streams' });
        for (const s of d.streams || []) {
          const lim = [];
          if (s.retain_days) lim.push(`${s.retain_days} days`);
          if (s.retain_bytes) lim.push(bytes(s.retain_bytes));
          streams.append(h('li', { text: `${s.name}: ${bytes(s.used_bytes)}` +
            (s.bitrate_bps ? `, ${mbit(s.bitrate_bps)}` : '') + `, keeps ${lim.length ? lim.join(' or ') : 'until the disk is full'}` +
            (s.enabled ? '' : ' (disabled)') }));
        }
        list.append(h('section', { class: 'adm-card adm-storage' },
          h('div', { class: 'adm-card-main' },
            h('strong', { class: 'adm-name adm-path', text: d.path }),
            h('span', { class: 'adm-state ' + (ok ? 'adm-ok' : 'adm-bad'), text: ok ? 'ok' : 'unusable' }),
            ok ? null : h('span', { class: 'adm-bad adm-small', text: d.reason || '' }),
            bar,
            h('div', { class: 'adm-legend' }, h('span', { class: 'adm-key adm-key-reel', text: 'Reel' }),
              h('span', { class: 'adm-key adm-key-other', text: 'Other files' }),
              h('span', { class: 'adm-key adm-key-free', text: 'Free' })),
            dl, streams)));
      }
    };
    refresh();
    cur.timers.push(setInterval(refresh, 10000));
  }

  /* ---- Users ---- */

  const ROLES = ['admin', 'operator', 'viewer', 'auditor'];

  function roleSelect(value) {
    const s = h('select', {});
    for (const r of ROLES) s.append(h('option', { value: r, text: r }));
    s.value = value || 'viewer';
    return s;
  }

  function passwordDialog(ctx, name, done) {
    const p1 = input('password', { minlength: 8, maxlength: 1024, required: true, autocomplete: 'new-password' });
    const msg = h('p', { class: 'adm-msg', role: 'alert' });
    const ok = h('button', { type: 'submit', class: 'adm-primary', text: 'Set password' });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    const d = dialog(`New password for ${name}`, h('div', {},
      field('New password', p1, 'At least 8 characters. Signs the user out everywhere and revokes their API tokens.'),
      msg), [cancel, ok]);
    cancel.addEventListener('click', () => d.close());
    d.querySelector('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      ok.disabled = true;
      const r = await ctx.api('PATCH', `/api/users/${encodeURIComponent(name)}`, { password: p1.value });
      ok.disabled = false;
      if (r.status === 200) { d.close(); done(`Password of ${name} changed.`); } else status(msg, err(r), true);
    });
    p1.focus();
  }

  /* What each role may do (docs/accountability.md "Who may see what"). */
  const ROLE_HINT = 'admin: everything. operator: live, playback, export, evidence locks. viewer: live and ' +
    'playback, no export. auditor: the audit and disclosure logs, no video. Operators and viewers see only ' +
    'the cameras ticked for them.';

  function hasCameras(role) { return role === 'operator' || role === 'viewer'; }

  function camerasText(u) {
    if (!hasCameras(u.role)) return u.role === 'admin' ? 'all cameras' : 'no video';
    if (u.cameras === 'all') return 'all cameras';
    if (!u.cameras || !u.cameras.length) return 'no cameras';
    return u.cameras.join(', ');
  }

  /* A checklist of cameras with "All cameras (also those added later)";
   * value() -> "all" or [names]. */
  function cameraPicker(names, value) {
    const all = input('checkbox', { 'data-camera-all': '' });
    all.checked = value === 'all';
    const boxes = names.map((n) => {
      const b = input('checkbox', { value: n, 'data-camera': n });
      b.checked = value === 'all' || (Array.isArray(value) && value.includes(n));
      b.disabled = all.checked;
      return b;
    });
    all.addEventListener('change', () => { for (const b of boxes) { b.disabled = all.checked; if (all.checked) b.checked = true; } });
    const wrap = h('fieldset', { class: 'adm-cams' }, h('legend', { text: 'Cameras' }),
      h('label', { class: 'adm-check' }, all, 'All cameras, also those added later'),
      h('div', { class: 'adm-camlist' }, ...boxes.map((b) => h('label', { class: 'adm-check' }, b, b.value))),
      names.length ? null : h('p', { class: 'adm-hint', text: 'No cameras yet.' }));
    return { el: wrap, value: () => (all.checked ? 'all' : boxes.filter((b) => b.checked).map((b) => b.value)) };
  }

  async function cameraNames(ctx) {
    const r = await ctx.api('GET', '/api/cameras');
    return r.status === 200 ? r.json.cameras.map((c) => c.name) : [];
  }

  async function camerasDialog(ctx, u, done) {
    const picker = cameraPicker(await cameraNames(ctx), u.cameras);
    const msg = h('p', { class: 'adm-msg', role: 'alert' });
    const ok = h('button', { type: 'submit', class: 'adm-primary', text: 'Save' });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    const d = dialog(`Cameras ${u.name} may see`, h('div', {}, picker.el,
      h('p', { class: 'adm-hint', text: 'Cameras not ticked do not exist for this user: not listed, not playable, not exportable.' }),
      msg), [cancel, ok]);
    cancel.addEventListener('click', () => d.close());
    d.querySelector('form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      ok.disabled = true;
      const r = await ctx.api('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { cameras: picker.value() });
      ok.disabled = false;
      if (r.status === 200) { d.close(); done(`Cameras of ${u.name} saved.`); } else status(msg, err(r), true);
    });
  }

  function mountUsers(el, ctx) {
    const g = cur.gen;
    const list = h('div', { class: 'adm-list' });
    const msg = h('p', { class: 'adm-msg', role: 'status' });
    const name = input('text', { required: true, maxlength: 63, pattern: '[A-Za-z0-9_\\-]{1,63}', autocomplete: 'off' });
    const pw = input('password', { required: true, minlength: 8, maxlength: 1024, autocomplete: 'new-password' });
    const role = roleSelect('viewer');
    const addBtn = h('button', { type: 'submit', class: 'adm-primary', text: 'Add user' });
    const pickBox = h('div', {});
    let picker = null;
    const showPicker = () => { pickBox.hidden = !hasCameras(role.value); };
    role.addEventListener('change', showPicker);
    cameraNames(ctx).then((names) => {
      if (!alive(g)) return;
      picker = cameraPicker(names, []);
      pickBox.replaceChildren(picker.el);
    });
    const form = h('form', { class: 'adm-card adm-adduser' }, h('h3', { text: 'Add a user' }),
      h('div', { class: 'adm-two' }, field('Name', name), field('Password', pw, 'At least 8 characters')),
      field('Role', role, ROLE_HINT), pickBox,
      h('div', { class: 'adm-buttons' }, addBtn));
    el.append(h('div', { class: 'adm-head' }, h('h2', { text: 'Users' })), msg, list, form);
    const refresh = async () => {
      const r = await ctx.api('GET', '/api/users');
      if (!alive(g)) return;
      if (r.status !== 200) { status(msg, err(r), true); return; }
      list.replaceChildren();
      for (const u of r.json.users) {
        const sel = roleSelect(u.role);
        sel.setAttribute('aria-label', `Role of ${u.name}`);
        sel.addEventListener('change', async () => {
          const r2 = await ctx.api('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { role: sel.value });
          status(msg, r2.status === 200 ? `${u.name} is now ${sel.value}.` : err(r2), r2.status !== 200);
          refresh();
        });
        const pwb = h('button', { type: 'button', text: 'Reset password' });
        pwb.addEventListener('click', () => passwordDialog(ctx, u.name, (t) => { status(msg, t); refresh(); }));
        const end = h('button', { type: 'button', text: `End sessions (${u.sessions})`, disabled: !u.sessions });
        end.addEventListener('click', async () => {
          const r2 = await ctx.api('DELETE', `/api/users/${encodeURIComponent(u.name)}/sessions`);
          status(msg, r2.status === 200 ? `${u.name}: ${r2.json.ended} session(s) ended.` : err(r2), r2.status !== 200);
          refresh();
        });
        const rm = h('button', { type: 'button', class: 'adm-danger', text: 'Remove' });
        rm.addEventListener('click', async () => {
          if (!confirm(`Remove user ${u.name} with their sessions and API tokens?`)) return;
          const r2 = await ctx.api('DELETE', `/api/users/${encodeURIComponent(u.name)}`);
          status(msg, r2.status === 200 ? `${u.name} removed.` : err(r2), r2.status !== 200);
          refresh();
        });
        const me = ctx.user && ctx.user.name === u.name;
        const camb = hasCameras(u.role) ? h('button', { type: 'button', text: 'Cameras…', 'data-action': 'cameras' }) : null;
        if (camb) camb.addEventListener('click', () => camerasDialog(ctx, u, (t) => { status(msg, t); refresh(); }));
        const totpb = u.totp ? h('button', { type: 'button', text: 'Reset 2FA', 'data-action': 'totp-reset' }) : null;
        if (totpb) {
          totpb.addEventListener('click', async () => {
            if (!confirm(`Remove the two-factor code of ${u.name}? They sign in with their password alone until they enrol again.`)) return;
            const r2 = await ctx.api('DELETE', `/api/users/${encodeURIComponent(u.name)}/totp`);
            status(msg, r2.status === 200 ? `${u.name}: two-factor code removed.` : err(r2), r2.status !== 200);
            refresh();
          });
        }
        list.append(h('div', { class: 'adm-card', 'data-user': u.name },
          h('div', { class: 'adm-card-main' },
            h('strong', { class: 'adm-name', text: u.name + (me ? ' (you)' : '') }),
            h('span', { class: 'adm-meta', text: `${u.sessions} session(s), ${u.tokens} API token(s)` }),
            h('span', { class: 'adm-meta', 'data-field': 'cameras', text: `Sees: ${camerasText(u)}` }),
            h('span', { class: 'adm-meta ' + (u.totp ? 'adm-ok' : ''), 'data-field': 'totp',
              text: u.totp ? 'Two-factor: on' : 'Two-factor: off' }), sel),
          h('div', { class: 'adm-actions' }, camb, totpb, pwb, end, rm)));
      }
    };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      addBtn.disabled = true;
      const body = { name: name.value.trim(), password: pw.value, role: role.value };
      if (hasCameras(role.value) && picker) body.cameras = picker.value();
      const r = await ctx.api('POST', '/api/users', body);
      addBtn.disabled = false;
      if (r.status === 201) {
        status(msg, `${r.json.name} added (${r.json.role}).`);
        form.reset();
        showPicker();
        refresh();
      } else status(msg, err(r), true);
    });
    refresh();
  }

  /* ---- the shell's interface ---- */

  function unmount() {
    if (!cur) return;
    for (const t of cur.timers) clearInterval(t);
    for (const d of document.querySelectorAll('dialog.adm-dialog')) d.close();
    cur.el.replaceChildren();
    cur = null;
  }

  function mount(route, el, ctx) {
    unmount();
    cur = { el, ctx, timers: [], gen: ++gen };
    el.classList.add('adm');
    if (route === 'cameras') mountCameras(el, ctx);
    else if (route === 'storage') mountStorage(el, ctx);
    else if (route === 'users') mountUsers(el, ctx);
    else el.append(h('p', { text: 'Unknown page.' }));
  }

  window.reelAdmin = { mount, unmount };
})();
