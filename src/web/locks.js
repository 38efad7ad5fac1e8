/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Evidence locks in the web page (docs/accountability.md, API: docs/api.md):
 *  - "Lock as evidence…" in the timeline's selection menu: pushed into
 *    window.ReelTimeline.actions (created if the timeline is not loaded
 *    yet); run(sel) opens the lock dialog for sel = {cameras, start, end};
 *  - the lock dialog: cameras, range, case, reason, expiry -> POST /api/locks;
 *  - the #/locks page (operators and admins): every lock on a camera the user
 *    may see, filtered by camera, state and text; admins change a lock's
 *    expiry or unlock it (PATCH/DELETE /api/locks/ID).
 * window.reelLocks = {mount(root, ctx), unmount(), openDialog(sel)}: app.js
 * mounts the page; openDialog is also what the timeline's action calls.
 * No inline script or style (CSP); all text goes in as text, never HTML.
 */
(function () {
  'use strict';

  const ROLES = ['admin', 'operator'];

  /* ---- the API, with the session's CSRF token (asked once) ---- */

  let csrf = null;
  let role = null;
  async function session() {
    if (csrf) return;
    const r = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) throw new Error('not signed in');
    const j = await r.json();
    csrf = j.csrf_token;
    role = j.role || null;
  }
  async function api(method, path, body) {
    if (method !== 'GET') await session();
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
    const res = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    try { json = await res.json(); } catch (e) { json = null; }
    if (res.status === 403 && method !== 'GET') csrf = null; /* maybe a new session: ask again next time */
    return { status: res.status, json };
  }
  const errText = (r) => (r.json && r.json.error) || `the server answered ${r.status}`;

  /* ---- small helpers ---- */

  const el = window.reelDom.el;
  const pad = (n) => String(n).padStart(2, '0');
  function toLocalInput(d) {
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }
  function fromLocalInput(v) {
    const t = new Date(v).getTime();
    return Number.isFinite(t) ? new Date(t) : null;
  }
  function when(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit',
      minute: '2-digit', second: '2-digit' });
  }
  function bytes(n) {
    if (!n) return '0 B';
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return `${n.toFixed(i && n < 10 ? 1 : 0)} ${u[i]}`;
  }
  function field(label, input, hint) {
    const f = el('div', 'lk-field');
    const l = el('label', null, label);
    if (!input.id) input.id = 'lk-' + Math.random().toString(36).slice(2);
    l.htmlFor = input.id;
    f.append(l, input);
    if (hint) f.append(el('span', 'lk-hint', hint));
    return f;
  }

  /* ---- the lock dialog ---- */

  const EXPIRY = [['never', 'Never (until an admin unlocks)'], ['30', 'In 30 days'], ['90', 'In 90 days'],
    ['365', 'In 1 year'], ['date', 'On a date…']];

  async function openDialog(sel) {
    sel = sel || {};
    const end = sel.end instanceof Date ? sel.end : new Date();
    const start = sel.start instanceof Date ? sel.start : new Date(end.getTime() - 3600 * 1000);
    const chosen = new Set(sel.cameras || []);
    const dlg = el('dialog', 'lk-dialog');
    dlg.id = 'lock-dialog';
    dlg.setAttribute('aria-labelledby', 'lock-dialog-title');
    const form = el('form');
    form.method = 'dialog';
    form.noValidate = true; /* our own messages, in the dialog */
    form.append(el('h2', null, 'Lock as evidence'));
    form.firstChild.id = 'lock-dialog-title';
    form.append(el('p', 'lk-hint', 'Locked footage is never deleted by retention or when the disk is full, ' +
      'until the lock expires or an administrator removes it. The lock and its reason are audited.'));
    const camBox = el('fieldset', 'lk-cams');
    camBox.append(el('legend', null, 'Cameras'));
    const camList = el('div', 'lk-camlist');
    camBox.append(camList);
    camList.append(el('span', 'lk-hint', 'Loading cameras…'));
    form.append(camBox);
    const from = el('input');
    from.type = 'datetime-local';
    from.step = '1';
    from.required = true;
    from.id = 'lock-from';
    from.value = toLocalInput(start);
    const to = el('input');
    to.type = 'datetime-local';
    to.step = '1';
    to.required = true;
    to.id = 'lock-to';
    to.value = toLocalInput(end);
    const two = el('div', 'lk-two');
    two.append(field('From', from), field('To', to));
    form.append(two);
    const cs = el('input');
    cs.id = 'lock-case';
    cs.maxLength = 127;
    cs.required = true;
    cs.placeholder = 'e.g. Police ref. 2026/4411';
    form.append(field('Case', cs));
    const why = el('textarea');
    why.id = 'lock-reason';
    why.maxLength = 1023;
    why.required = true;
    why.rows = 3;
    why.placeholder = 'Why this footage must be kept';
    form.append(field('Reason', why));
    const exp = el('select');
    exp.id = 'lock-expiry';
    for (const [v, t] of EXPIRY) {
      const o = el('option', null, t);
      o.value = v;
      exp.append(o);
    }
    const expDate = el('input');
    expDate.type = 'date';
    expDate.id = 'lock-expiry-date';
    expDate.hidden = true;
    exp.addEventListener('change', () => { expDate.hidden = exp.value !== 'date'; });
    const ef = field('Expires', exp);
    ef.append(expDate);
    form.append(ef);
    const msg = el('p', 'lk-msg');
    msg.setAttribute('role', 'alert');
    msg.id = 'lock-msg';
    form.append(msg);
    const buttons = el('div', 'lk-buttons');
    const cancel = el('button', null, 'Cancel');
    cancel.type = 'button';
    cancel.addEventListener('click', () => dlg.close());
    const ok = el('button', 'lk-primary', 'Lock');
    ok.type = 'submit';
    ok.id = 'lock-submit';
    buttons.append(cancel, ok);
    form.append(buttons);
    dlg.append(form);
    form.addEventListener('input', () => { msg.textContent = ''; });
    dlg.addEventListener('close', () => dlg.remove());
    document.body.append(dlg);
    dlg.showModal();

    /* the cameras the user may see (the API lists only those) */
    try {
      const r = await api('GET', '/api/cameras');
      camList.replaceChildren();
      const cams = (r.json && r.json.cameras) || [];
      if (!cams.length) camList.append(el('span', 'lk-hint', 'No cameras.'));
      for (const c of cams) {
        const lab = el('label', 'lk-check');
        const cb = el('input');
        cb.type = 'checkbox';
        cb.value = c.name;
        cb.checked = chosen.has(c.name) || (chosen.size === 0 && cams.length === 1);
        lab.append(cb, document.createTextNode(c.name));
        camList.append(lab);
      }
    } catch (e) {
      camList.replaceChildren(el('span', 'lk-bad', 'The camera list could not be loaded.'));
    }

    return new Promise((resolve) => {
      dlg.addEventListener('close', () => resolve(dlg.returnValue === 'locked' ? dlg.lockResult : null));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        msg.textContent = '';
        msg.className = 'lk-msg';
        const cameras = [...camList.querySelectorAll('input:checked')].map((x) => x.value);
        const s = fromLocalInput(from.value);
        const e = fromLocalInput(to.value);
        let expires = null;
        if (exp.value === 'date') {
          const d = expDate.value ? new Date(expDate.value + 'T23:59:59') : null;
          if (!d || !Number.isFinite(d.getTime())) { msg.textContent = 'Pick the expiry date.'; return; }
          expires = d.toISOString();
        } else if (exp.value !== 'never') {
          expires = new Date(Date.now() + Number(exp.value) * 86400 * 1000).toISOString();
        }
        if (!cameras.length) { msg.textContent = 'Choose at least one camera.'; return; }
        if (!s || !e || e <= s) { msg.textContent = 'The end must be after the start.'; return; }
        if (!cs.value.trim()) { msg.textContent = 'A case name is required.'; return; }
        if (!why.value.trim()) { msg.textContent = 'A reason is required.'; return; }
        ok.disabled = true;
        try {
          const r = await api('POST', '/api/locks', { cameras, start: s.toISOString(), end: e.toISOString(),
            case: cs.value.trim(), reason: why.value.trim(), expires });
          if (r.status === 201) {
            dlg.lockResult = r.json;
            dlg.close('locked');
            document.dispatchEvent(new CustomEvent('reel-lock-changed', { detail: r.json }));
            return;
          }
          msg.textContent = errText(r);
        } catch (err) {
          msg.textContent = 'The server cannot be reached.';
        }
        ok.disabled = false;
      });
    });
  }

  /* ---- the timeline's selection action ---- */

  window.ReelTimeline = window.ReelTimeline || { actions: [] };
  if (!Array.isArray(window.ReelTimeline.actions)) window.ReelTimeline.actions = [];
  if (!window.ReelTimeline.actions.some((a) => a.id === 'lock')) {
    window.ReelTimeline.actions.push({ id: 'lock', label: 'Lock as evidence…', roles: ROLES.slice(),
      run: (sel) => openDialog(sel) });
  }

  /* ---- the #/locks page ---- */

  let page = null; /* {root, ctx, timer, locks} */

  function render() {
    if (!page) return;
    const { list, ctx } = page;
    const camF = page.cam.value;
    const stF = page.state.value;
    const q = page.q.value.trim().toLowerCase();
    const admin = ctx.user && ctx.user.role === 'admin';
    const rows = page.locks.filter((l) => (!camF || l.cameras.includes(camF)) &&
      (stF === 'all' || (stF === 'active') === l.active) &&
      (!q || (l.case + ' ' + l.reason + ' ' + l.created_by).toLowerCase().includes(q)));
    list.replaceChildren();
    page.count.textContent = `${rows.length} of ${page.locks.length} lock${page.locks.length === 1 ? '' : 's'}`;
    if (!rows.length) {
      list.append(el('p', 'lk-hint', page.locks.length ? 'No lock matches the filter.' :
        'No evidence locks. Select a range on the timeline and choose "Lock as evidence…", or use New lock.'));
      return;
    }
    for (const l of rows) {
      const card = el('article', 'lk-card' + (l.active ? '' : ' lk-expired'));
      card.dataset.id = String(l.id);
      const head = el('div', 'lk-card-head');
      head.append(el('h3', 'lk-case', l.case));
      head.append(el('span', 'lk-state ' + (l.active ? 'lk-ok' : 'lk-muted'), l.active ? 'Active' : 'Expired'));
      card.append(head);
      const facts = el('dl', 'lk-facts');
      const add = (k, v) => { facts.append(el('dt', null, k), el('dd', null, v)); };
      add('Cameras', l.cameras.join(', '));
      add('Footage', `${when(l.start)} – ${when(l.end)}`);
      add('Reason', l.reason);
      add('Locked by', `${l.created_by}, ${when(l.created)}`);
      add('Expires', l.expires ? when(l.expires) : 'Never');
      add('Held', l.active ? bytes(l.held_bytes) : '—');
      card.append(facts);
      if (admin) {
        const act = el('div', 'lk-actions');
        const ch = el('button', null, 'Change expiry…');
        ch.type = 'button';
        ch.addEventListener('click', () => changeExpiry(l));
        const un = el('button', 'lk-danger', 'Unlock');
        un.type = 'button';
        un.dataset.action = 'unlock';
        un.addEventListener('click', () => unlock(l));
        act.append(ch, un);
        card.append(act);
      }
      list.append(card);
    }
  }

  async function load() {
    if (!page) return;
    const gen = page.gen;
    try {
      const r = await page.ctx.api('GET', '/api/locks');
      if (!page || gen !== page.gen) return;
      if (r.status !== 200) {
        page.msg.textContent = errText(r);
        return;
      }
      page.locks = r.json.locks || [];
      const cams = new Set();
      for (const l of page.locks) for (const c of l.cameras) cams.add(c);
      const cur = page.cam.value;
      page.cam.replaceChildren(new Option('All cameras', ''));
      for (const c of [...cams].sort()) page.cam.append(new Option(c, c));
      page.cam.value = cams.has(cur) ? cur : '';
      render();
    } catch (e) {
      if (page) page.msg.textContent = 'The server cannot be reached.';
    }
  }

  function confirmDialog(title, text, okLabel, extra) {
    return new Promise((resolve) => {
      const dlg = el('dialog', 'lk-dialog');
      const form = el('form');
      form.method = 'dialog';
      form.append(el('h2', null, title), el('p', null, text));
      if (extra) form.append(extra);
      const b = el('div', 'lk-buttons');
      const c = el('button', null, 'Cancel');
      c.value = 'cancel';
      const o = el('button', 'lk-primary', okLabel);
      o.value = 'ok';
      o.id = 'lk-confirm';
      b.append(c, o);
      form.append(b);
      dlg.append(form);
      dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
      document.body.append(dlg);
      dlg.showModal();
    });
  }

  async function unlock(l) {
    const yes = await confirmDialog('Unlock?', `Lock "${l.case}" (${l.cameras.join(', ')}) will be removed; its ` +
      'footage goes back to normal retention and may be deleted. This is audited.', 'Unlock');
    if (!yes || !page) return;
    const r = await page.ctx.api('DELETE', `/api/locks/${l.id}`);
    page.msg.textContent = r.status === 200 ? `Lock "${l.case}" removed.` : errText(r);
    load();
  }

  async function changeExpiry(l) {
    const d = el('input');
    d.type = 'date';
    d.id = 'lk-new-expiry';
    const never = el('label', 'lk-check');
    const nb = el('input');
    nb.type = 'checkbox';
    nb.checked = !l.expires;
    never.append(nb, document.createTextNode('Never expires'));
    if (l.expires) d.value = l.expires.slice(0, 10);
    const box = el('div');
    box.append(field('New expiry', d), never);
    const yes = await confirmDialog('Change expiry', `Lock "${l.case}"`, 'Save', box);
    if (!yes || !page) return;
    let expires = null;
    if (!nb.checked) {
      const t = new Date(d.value + 'T23:59:59');
      if (!d.value || !Number.isFinite(t.getTime())) { page.msg.textContent = 'Pick a date.'; return; }
      expires = t.toISOString();
    }
    const r = await page.ctx.api('PATCH', `/api/locks/${l.id}`, { expires });
    page.msg.textContent = r.status === 200 ? `Lock "${l.case}" changed.` : errText(r);
    load();
  }

  function mount(root, ctx) {
    unmount();
    const wrap = el('div', 'lk');
    const head = el('div', 'lk-head');
    head.append(el('h2', null, 'Evidence locks'));
    const add = el('button', 'lk-primary', 'New lock…');
    add.type = 'button';
    add.id = 'lk-new';
    add.addEventListener('click', () => openDialog({}));
    head.append(add);
    wrap.append(head);
    const filters = el('div', 'lk-filters');
    const cam = el('select');
    cam.id = 'lk-filter-camera';
    cam.append(new Option('All cameras', ''));
    const st = el('select');
    st.id = 'lk-filter-state';
    for (const [v, t] of [['active', 'Active'], ['expired', 'Expired'], ['all', 'All']]) st.append(new Option(t, v));
    const q = el('input');
    q.type = 'search';
    q.id = 'lk-filter-q';
    q.placeholder = 'Case, reason or user';
    filters.append(field('Camera', cam), field('State', st), field('Search', q));
    wrap.append(filters);
    const count = el('p', 'lk-hint');
    const msg = el('p', 'lk-msg');
    msg.setAttribute('aria-live', 'polite');
    const list = el('div', 'lk-list');
    list.id = 'lk-list';
    wrap.append(msg, count, list);
    root.replaceChildren(wrap);
    page = { root, ctx, list, cam, state: st, q, msg, count, locks: [], gen: 1, timer: null };
    for (const x of [cam, st]) x.addEventListener('change', render);
    q.addEventListener('input', render);
    page.onChanged = () => load();
    document.addEventListener('reel-lock-changed', page.onChanged);
    page.timer = setInterval(load, 10000);
    load();
  }

  function unmount() {
    if (!page) return;
    clearInterval(page.timer);
    document.removeEventListener('reel-lock-changed', page.onChanged);
    page.gen++;
    page = null;
  }

  window.reelLocks = { mount, unmount, openDialog, roles: ROLES };
})();
