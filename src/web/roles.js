/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Who may see what, on the page (issue 14, ac-roles): when app.js signs in
 * or out it sends a "reel:session" event ({user, role} or null); this file
 * then
 *  - marks <body data-role="..."> so that CSS hides what the role cannot
 *    use (e.g. a viewer's export and download actions: app.css, elements
 *    with data-needs="export"),
 *  - hides the nav links of pages the role cannot use (Cameras, Storage and
 *    Users are an admin's; Live and Playback not an auditor's, who is sent
 *    to #/audit),
 *  - offers "Two-factor": the caller's TOTP enrolment (secret + otpauth://
 *    link, confirmed by a code) or removal (with a code), and opens it by
 *    itself when the server lets an administrator in only to enrol
 *    (totp.required_admin).
 * The server enforces all of this (src/http/access.c); hiding is comfort.
 * CSP-safe: no inline script or style, server text via textContent.
 */
(function () {
  'use strict';

  /* pages -> the roles that may use them (others' pages are left to them) */
  const PAGES = {
    live: ['admin', 'operator', 'viewer'],
    camera: ['admin', 'operator', 'viewer'],
    playback: ['admin', 'operator', 'viewer'],
    timeline: ['admin', 'operator', 'viewer'],
    events: ['admin', 'operator', 'viewer'],
    search: ['admin', 'operator', 'viewer'],
    motion: ['admin', 'operator', 'viewer'],
    cameras: ['admin'],
    storage: ['admin'],
    users: ['admin'],
  };

  let session = null;   /* GET /api/session's answer */

  function $(id) { return document.getElementById(id); }

  const el = window.reelDom.h;

  async function call(method, path, body) {
    const headers = {};
    if (session && session.csrf_token) headers['X-CSRF-Token'] = session.csrf_token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method, headers, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let json = null;
    try { json = await res.json(); } catch (e) { /* not JSON */ }
    return { status: res.status, json };
  }

  function pageOf(hash) { return (hash || '').replace(/^#\/?/, '').split(/[/?]/)[0] || 'live'; }

  function applyRole(role) {
    if (role) document.body.dataset.role = role;
    else delete document.body.dataset.role;
    for (const a of document.querySelectorAll('#nav a[data-route]')) {
      const allowed = PAGES[a.dataset.route];
      if (allowed) a.hidden = !role || !allowed.includes(role);
    }
    if (role === 'auditor' && PAGES[pageOf(location.hash)] && !PAGES[pageOf(location.hash)].includes(role))
      location.hash = '#/audit';
  }

  window.addEventListener('hashchange', () => {
    const role = document.body.dataset.role;
    if (role === 'auditor' && PAGES[pageOf(location.hash)] && !PAGES[pageOf(location.hash)].includes(role))
      location.hash = '#/audit';
  });

  /* ---- the two-factor dialog ---- */

  function closeDialog() {
    const d = $('twofa-dialog');
    if (d) d.close();
  }

  function dialogShell(title, ...body) {
    closeDialog();
    const d = el('dialog', { id: 'twofa-dialog', class: 'rl-dialog', 'aria-label': title },
      el('h2', { text: title }), ...body);
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();
    return d;
  }

  function codeInput() {
    return el('input', { id: 'twofa-code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
      pattern: '[0-9]{6}', maxlength: '6', required: true, spellcheck: 'false' });
  }

  async function openTwofa() {
    const s = await call('GET', '/api/session');
    if (s.status !== 200 || !s.json) return;
    session = s.json;
    const msg = el('p', { class: 'error', role: 'alert' });
    const close = el('button', { type: 'button', text: 'Close' });
    close.addEventListener('click', closeDialog);
    if (session.totp) {
      const code = codeInput();
      const rm = el('button', { type: 'submit', text: 'Remove two-factor' });
      const form = el('form', { class: 'rl-form' },
        el('p', { text: 'Two-factor sign-in is on: signing in needs your password and a code from your authenticator app.' }),
        el('label', { for: 'twofa-code', text: 'A current code, to remove it' }), code, msg,
        el('div', { class: 'rl-buttons' }, close, rm));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r = await call('DELETE', '/api/session/totp', { code: code.value.trim() });
        if (r.status === 200) { closeDialog(); refreshSession(); } else msg.textContent = (r.json && r.json.error) || `HTTP ${r.status}`;
      });
      dialogShell('Two-factor sign-in', form);
      return;
    }
    const start = el('button', { type: 'button', text: 'Set up two-factor', class: 'rl-primary' });
    const body = el('div', {});
    const intro = el('p', { text: session.totp_enrol_required
      ? 'This server requires administrators to sign in with a second factor. Set it up now: until then you can do nothing else.'
      : 'Sign in with your password and a 6-digit code from an authenticator app (any RFC 6238 app: Aegis, FreeOTP, Google Authenticator...).' });
    body.append(intro, msg, el('div', { class: 'rl-buttons' }, close, start));
    start.addEventListener('click', async () => {
      const r = await call('POST', '/api/session/totp');
      if (r.status !== 200) { msg.textContent = (r.json && r.json.error) || `HTTP ${r.status}`; return; }
      const code = codeInput();
      const ok = el('button', { type: 'submit', text: 'Turn on', class: 'rl-primary' });
      const form = el('form', { class: 'rl-form' },
        el('p', { text: 'Add this account to your authenticator app: open the link on your phone, or type the key.' }),
        el('a', { href: r.json.uri, class: 'rl-uri', id: 'twofa-uri', text: 'Open in authenticator app' }),
        el('p', { class: 'rl-secret', id: 'twofa-secret', text: r.json.secret.replace(/(.{4})/g, '$1 ').trim() }),
        el('label', { for: 'twofa-code', text: 'Then enter the code it shows' }), code, msg,
        el('div', { class: 'rl-buttons' }, close, ok));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r2 = await call('POST', '/api/session/totp/confirm', { code: code.value.trim() });
        if (r2.status === 200) {
          closeDialog();
          await refreshSession();
          if (session && !session.totp_enrol_required) location.reload();
        } else msg.textContent = (r2.json && r2.json.error) || `HTTP ${r2.status}`;
      });
      body.replaceChildren(form);
      code.focus();
    });
    dialogShell('Two-factor sign-in', body);
  }

  async function refreshSession() {
    const s = await call('GET', '/api/session');
    session = s.status === 200 ? s.json : null;
    const b = $('twofa');
    if (!b) return;
    b.hidden = !session || session.auth !== 'session';
    b.textContent = session && session.totp ? 'Two-factor: on' : 'Two-factor';
    if (session && session.totp_enrol_required) openTwofa();
  }

  document.addEventListener('reel:session', (ev) => {
    const d = ev.detail;
    applyRole(d ? d.role : null);
    if (d) refreshSession();
    else {
      session = null;
      closeDialog();
      if ($('twofa')) $('twofa').hidden = true;
    }
  });

  function boot() {
    const b = $('twofa');
    if (b) b.addEventListener('click', openTwofa);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
