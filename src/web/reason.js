/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The site's reason policy on the page (issue 14, ac-audit): when GET
 * /api/session says live_reason_required / playback_reason_required, the
 * first live view or playback needs a reason. This file asks for it once
 * per kind (a small dialog when the user opens Live, a camera or Playback)
 * and keeps it for the page's life; live.js and app.js add it to their
 * requests as ?reason=... (window.reelReason.param(kind)). The server
 * remembers a reason for 30 minutes of activity (docs/accountability.md),
 * so sending it again is harmless. Export reasons are the export dialog's.
 * CSP-safe: no inline code or style, server text via textContent.
 */
(function () {
  'use strict';

  const reasons = { live: '', playback: '' };
  let need = { live: false, playback: false };
  let asking = null;

  const KIND_OF = { live: 'live', camera: 'live', playback: 'playback', timeline: 'playback' };

  function param(kind) {
    return reasons[kind] ? `reason=${encodeURIComponent(reasons[kind])}` : '';
  }

  /* url + the reason parameter for kind, when one was given. */
  function add(url, kind) {
    const p = param(kind);
    return p ? url + (url.includes('?') ? '&' : '?') + p : url;
  }

  function ask(kind) {
    if (asking) return;
    const d = document.createElement('dialog');
    d.className = 'rl-dialog';
    d.id = 'reason-dialog';
    const form = document.createElement('form');
    form.className = 'rl-form';
    const h = document.createElement('h2');
    h.textContent = kind === 'live' ? 'Why are you watching live video?' : 'Why are you viewing recordings?';
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'This site asks for a reason; it is kept in the audit log with what you watch.';
    const label = document.createElement('label');
    label.htmlFor = 'reason-text';
    label.textContent = 'Reason';
    const input = document.createElement('input');
    input.id = 'reason-text';
    input.required = true;
    input.maxLength = 500;
    input.autocomplete = 'off';
    const ok = document.createElement('button');
    ok.type = 'submit';
    ok.textContent = 'Continue';
    form.append(h, p, label, input, ok);
    d.append(form);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = input.value.trim();
      if (!v) return;
      reasons[kind] = v;
      d.close();
      d.remove();
      asking = null;
      window.dispatchEvent(new HashChangeEvent('hashchange'));   /* the page starts again, now with the reason */
    });
    d.addEventListener('cancel', () => { asking = null; d.remove(); });
    document.body.append(d);
    asking = d;
    d.showModal();
  }

  function check() {
    const page = (location.hash || '#/live').replace(/^#\/?/, '').split(/[/?]/)[0] || 'live';
    const kind = KIND_OF[page];
    if (kind && need[kind] && !reasons[kind]) ask(kind);
  }

  document.addEventListener('reel:session', async (ev) => {
    if (!ev.detail) {
      reasons.live = reasons.playback = '';
      need = { live: false, playback: false };
      return;
    }
    try {
      const r = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
      const s = await r.json();
      need = { live: !!s.live_reason_required, playback: !!s.playback_reason_required };
    } catch (e) {
      return;
    }
    check();
  });
  window.addEventListener('hashchange', check);

  window.reelReason = { param, add, required: (kind) => need[kind] };
})();
