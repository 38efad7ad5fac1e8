/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The auditor's page, #/audit (issue 14, ac-audit): who saw what.
 *  - Log: the audit log newest first (GET /api/audit), filtered by time,
 *    user, kind of action and camera, paged with "Older entries"; each row
 *    says in words what happened (a playback session's footage and reason,
 *    a setting's old and new value...) and opens to the raw entry and its
 *    hash. "Download CSV" is the same filter as /api/audit.csv.
 *  - Chain: the hash chain checked on the server (GET /api/audit/verify),
 *    optionally against a head written down earlier; the current head to
 *    copy.
 *  - Disclosures: the disclosure log (GET /api/disclosures) and a form to
 *    record one (POST /api/disclosures).
 * Admins and auditors see all three; operators (who hand footage out) only
 * the disclosure form. app.js mounts it as window.reelAudit. CSP-safe: no
 * inline code or style, server text only through textContent.
 */
(function () {
  'use strict';

  const PAGE = 50;
  /* the kinds of action offered as a filter: API action value -> label */
  const KINDS = [
    ['', 'Everything'],
    ['login', 'Sign-ins'],
    ['login.', 'Failed sign-ins'],
    ['logout', 'Sign-outs'],
    ['live.', 'Live views'],
    ['playback', 'Playback'],
    ['export.', 'Exports'],
    ['disclosure.', 'Disclosures'],
    ['lock.', 'Evidence locks'],
    ['camera.', 'Camera changes'],
    ['user.', 'User changes'],
    ['token.', 'API tokens'],
    ['settings.', 'Settings'],
    ['retention.', 'Retention'],
    ['redaction.', 'Redactions'],
  ];
  const LABELS = {
    'login': 'Signed in', 'login.failed': 'Failed sign-in', 'login.refused': 'Sign-in refused', 'logout': 'Signed out',
    'live.start': 'Live view opened', 'live.end': 'Live view closed', 'playback': 'Watched recordings',
    'export.create': 'Export', 'export.download': 'Export downloaded', 'export.delete': 'Export deleted',
    'disclosure.add': 'Disclosure', 'lock.add': 'Lock added', 'lock.remove': 'Lock removed',
    'lock.change': 'Lock changed', 'camera.add': 'Camera added', 'camera.change': 'Camera changed',
    'camera.delete': 'Camera removed', 'camera.enable': 'Camera enabled', 'camera.disable': 'Camera disabled',
    'user.add': 'User added', 'user.change': 'User changed', 'user.delete': 'User removed',
    'user.sessions_end': 'Sessions ended', 'token.add': 'Token created', 'token.delete': 'Token revoked',
    'settings.change': 'Setting changed', 'retention.delete': 'Retention deleted footage',
    'storage.add': 'Storage added', 'redaction.create': 'Redacted export',
  };
  const TONE = { 'login.failed': 'bad', 'login.refused': 'bad', 'retention.delete': 'warn', 'camera.delete': 'warn',
    'user.delete': 'warn', 'lock.remove': 'warn', 'disclosure.add': 'accent', 'export.create': 'accent' };

  let ctx = null, root = null, gen = 0;
  let next = null;          /* next_before of the last page */

  const el = window.reelDom.h;

  function when(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return iso || '';
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit',
      minute: '2-digit', second: '2-digit' });
  }
  function clock(iso) {
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  function secs(s) {
    s = Math.round(Number(s) || 0);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }
  function size(n) {
    n = Number(n) || 0;
    const u = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
    return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
  }
  function val(v) { return v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v); }

  /* One sentence for an entry's detail. */
  function summary(e) {
    const d = (e.detail && typeof e.detail === 'object') ? e.detail : {};
    const reason = d.reason ? ` — reason: “${d.reason}”` : '';
    switch (e.action) {
      case 'playback': {
        const r = Array.isArray(d.ranges) ? d.ranges : [];
        const spans = r.slice(0, 3).map((x) => `${when(x[0])} – ${clock(x[1])}`).join('; ');
        return `${secs(d.footage_s)} of footage in ${r.length} range${r.length === 1 ? '' : 's'}` +
          (spans ? ` (${spans}${r.length > 3 ? '; …' : ''})` : '') + `, ${d.requests} request${d.requests === 1 ? '' : 's'}` +
          reason;
      }
      case 'live.end': return `watched ${secs(d.seconds)} from ${clock(d.start)}, ${size(d.bytes)} sent` + reason;
      case 'live.start': return reason ? reason.slice(3) : 'live video';
      case 'settings.change': return `${d.key}: ${val(d.old)} → ${val(d.new)}`;
      case 'retention.delete':
        return (d.cameras || []).map((c) => `${c.camera}: ${c.recordings} recordings, ${size(c.bytes)} ` +
          `(${when(c.start)} – ${when(c.end)})`).join('; ');
      case 'disclosure.add':
        return `to ${d.recipient} on ${d.date}: ${d.reason}` + (d.export_id ? ` — export ${d.export_id}` : '');
      case 'camera.change': case 'camera.enable': case 'camera.disable': {
        if (!d.old || !d.new) return '';
        const ch = Object.keys(d.new).filter((k) => JSON.stringify(d.new[k]) !== JSON.stringify(d.old[k]));
        return ch.length ? ch.map((k) => `${k}: ${val(d.old[k])} → ${val(d.new[k])}`).join(', ') : 'no field changed';
      }
      case 'login.failed': return 'wrong user name, password or code';
      default: {
        const parts = Object.entries(d).filter(([, v]) => typeof v !== 'object' || v === null)
          .map(([k, v]) => `${k}: ${val(v)}`);
        return parts.join(', ');
      }
    }
  }

  function toLocalInput(ms) {
    const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
    return d.toISOString().slice(0, 16);
  }

  /* ---- the log ---- */

  function query(f, extra) {
    const q = new URLSearchParams();
    if (f.start) q.set('start', new Date(f.start).toISOString());
    if (f.end) q.set('end', new Date(f.end).toISOString());
    for (const k of ['user', 'action', 'camera']) if (f[k]) q.set(k, f[k]);
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    const s = q.toString();
    return s ? '?' + s : '';
  }

  function readFilter(form) {
    return {
      start: form.elements.start.value, end: form.elements.end.value, user: form.elements.user.value.trim(),
      action: form.elements.action.value, camera: form.elements.camera.value.trim(),
    };
  }

  function row(e) {
    const tone = TONE[e.action] || (e.action.startsWith('login') ? 'ok' : '');
    const who = el('div', { class: 'aud-who' },
      el('strong', { text: e.user || '—' }),
      el('span', { class: 'aud-via', text: [e.via, e.address].filter(Boolean).join(' · ') }));
    const raw = el('pre', { class: 'aud-raw', hidden: true,
      text: JSON.stringify({ id: e.id, time: e.time, user: e.user, via: e.via, address: e.address,
        action: e.action, camera: e.camera, detail: e.detail }, null, 2) + `\nhash ${e.hash}` });
    const more = el('button', { type: 'button', class: 'aud-more', 'aria-expanded': 'false', text: 'Details',
      onclick: () => {
        raw.hidden = !raw.hidden;
        more.setAttribute('aria-expanded', String(!raw.hidden));
      } });
    return el('li', { class: 'aud-row', 'data-action': e.action },
      el('div', { class: 'aud-time' }, el('span', { text: when(e.time) }), el('span', { class: 'aud-id', text: `#${e.id}` })),
      who,
      el('div', { class: 'aud-what' },
        el('span', { class: `aud-badge ${tone}`, text: LABELS[e.action] || e.action }),
        e.camera ? el('span', { class: 'aud-cam', text: e.camera }) : null),
      el('div', { class: 'aud-detail' }, el('span', { text: summary(e) }), more),
      raw);
  }

  async function loadLog(list, status, form, olderBtn, csv, append) {
    const my = gen;
    const f = readFilter(form);
    csv.href = '/api/audit.csv' + query(f);
    if (!append) next = null;
    status.textContent = 'Loading…';
    let r;
    try {
      r = await ctx.api('GET', '/api/audit' + query(f, Object.assign({ limit: PAGE }, append && next ? { before: next } : {})));
    } catch (e) {
      if (my === gen) status.textContent = 'The server cannot be reached.';
      return;
    }
    if (my !== gen) return;
    if (r.status !== 200) {
      status.textContent = (r.json && r.json.error) || `Error ${r.status}`;
      return;
    }
    if (!append) list.replaceChildren();
    for (const e of r.json.entries) list.append(row(e));
    next = r.json.more ? r.json.next_before : null;
    olderBtn.hidden = !next;
    const n = list.children.length;
    status.textContent = n ? `${n} entr${n === 1 ? 'y' : 'ies'}${next ? ' (more below)' : ''}` : 'No entries match.';
  }

  function logTab() {
    const list = el('ol', { class: 'aud-list', 'aria-label': 'Audit log entries' });
    const status = el('p', { class: 'muted', 'aria-live': 'polite' });
    const csv = el('a', { class: 'button-link', href: '/api/audit.csv', download: 'reel-audit.csv', text: 'Download CSV' });
    const older = el('button', { type: 'button', hidden: true, text: 'Older entries' });
    const kinds = el('select', { name: 'action', id: 'aud-action' },
      ...KINDS.map(([v, l]) => el('option', { value: v, text: l })));
    const form = el('form', { class: 'aud-filters', 'aria-label': 'Filter the audit log' },
      el('div', { class: 'aud-field' }, el('label', { for: 'aud-start', text: 'From' }),
        el('input', { id: 'aud-start', name: 'start', type: 'datetime-local' })),
      el('div', { class: 'aud-field' }, el('label', { for: 'aud-end', text: 'To' }),
        el('input', { id: 'aud-end', name: 'end', type: 'datetime-local' })),
      el('div', { class: 'aud-field' }, el('label', { for: 'aud-user', text: 'User' }),
        el('input', { id: 'aud-user', name: 'user', type: 'text', maxlength: 63, spellcheck: 'false',
          autocapitalize: 'none', placeholder: 'any' })),
      el('div', { class: 'aud-field' }, el('label', { for: 'aud-action', text: 'What' }), kinds),
      el('div', { class: 'aud-field' }, el('label', { for: 'aud-camera', text: 'Camera' }),
        el('input', { id: 'aud-camera', name: 'camera', type: 'text', maxlength: 63, spellcheck: 'false',
          autocapitalize: 'none', placeholder: 'any' })),
      el('div', { class: 'aud-buttons' }, el('button', { type: 'submit', text: 'Apply' }),
        el('button', { type: 'reset', text: 'Clear' }), csv));
    form.addEventListener('submit', (ev) => { ev.preventDefault(); gen++; loadLog(list, status, form, older, csv, false); });
    form.addEventListener('reset', () => setTimeout(() => { gen++; loadLog(list, status, form, older, csv, false); }));
    older.addEventListener('click', () => loadLog(list, status, form, older, csv, true));
    const tab = el('div', { class: 'aud-tab', id: 'aud-log' }, form, status, list, older);
    loadLog(list, status, form, older, csv, false);
    return tab;
  }

  /* ---- the chain ---- */

  function chainCard() {
    const state = el('p', { class: 'aud-chain-state', 'aria-live': 'polite', text: 'Not checked yet.' });
    const head = el('code', { class: 'aud-head', text: '…' });
    const against = el('input', { id: 'aud-against', type: 'text', spellcheck: 'false', autocapitalize: 'none',
      placeholder: 'ID:HASH written down earlier (optional)', maxlength: 90 });
    const btn = el('button', { type: 'button', class: 'aud-primary', text: 'Verify the chain' });
    const copy = el('button', { type: 'button', text: 'Copy head' });
    async function verify() {
      btn.disabled = true;
      state.className = 'aud-chain-state';
      state.textContent = 'Checking every entry…';
      const h = against.value.trim();
      try {
        const r = await ctx.api('GET', '/api/audit/verify' + (h ? '?head=' + encodeURIComponent(h) : ''));
        if (r.status !== 200) {
          state.className = 'aud-chain-state bad';
          state.textContent = (r.json && r.json.error) || `Error ${r.status}`;
        } else {
          state.className = 'aud-chain-state ' + (r.json.ok ? 'ok' : 'bad');
          state.textContent = (r.json.ok ? '✓ Intact: ' : '✗ Tampered: ') + r.json.message;
          if (r.json.ok) head.textContent = r.json.head.head || 'empty log';
        }
      } catch (e) {
        state.textContent = 'The server cannot be reached.';
      }
      btn.disabled = false;
    }
    btn.addEventListener('click', verify);
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(head.textContent);
        copy.textContent = 'Copied';
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(head);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
      }
      setTimeout(() => { copy.textContent = 'Copy head'; }, 1500);
    });
    ctx.api('GET', '/api/audit/head').then((r) => {
      if (r.status === 200) head.textContent = r.json.head || 'empty log';
    }).catch(() => {});
    setTimeout(verify, 0);
    return el('section', { class: 'aud-chain', 'aria-labelledby': 'aud-chain-title' },
      el('h3', { id: 'aud-chain-title', text: 'Hash chain' }),
      state,
      el('div', { class: 'aud-headline' }, el('span', { class: 'muted', text: 'Head:' }), head, copy),
      el('p', { class: 'muted', text: 'Write the head down (or send it elsewhere) now and then: checking against it later ' +
        'proves the log was not rewritten since.' }),
      el('div', { class: 'aud-verify' }, el('label', { for: 'aud-against', class: 'sr-only', text: 'Head to check against' }),
        against, btn));
  }

  /* ---- disclosures ---- */

  function disclosureTab(canRead, canAdd) {
    const list = el('ol', { class: 'aud-list', 'aria-label': 'Disclosures' });
    const status = el('p', { class: 'muted', 'aria-live': 'polite' });
    async function load() {
      if (!canRead) return;
      const r = await ctx.api('GET', '/api/disclosures?limit=200');
      if (r.status !== 200) {
        status.textContent = (r.json && r.json.error) || `Error ${r.status}`;
        return;
      }
      list.replaceChildren(...r.json.disclosures.map((d) => el('li', { class: 'aud-row aud-disc' },
        el('div', { class: 'aud-time' }, el('span', { text: d.date }), el('span', { class: 'aud-id', text: `#${d.id}` })),
        el('div', { class: 'aud-who' }, el('strong', { text: d.recipient }),
          el('span', { class: 'aud-via', text: `recorded by ${d.user}, ${when(d.created)}` })),
        el('div', { class: 'aud-detail' }, el('span', { text: d.reason })),
        el('div', { class: 'aud-hash' },
          d.export_id ? el('span', { text: `export ${d.export_id}` }) : null,
          d.export_hash ? el('code', { text: d.export_hash }) : null))));
      status.textContent = r.json.disclosures.length ? '' : 'No disclosures recorded.';
    }
    const today = new Date();
    const msg = el('p', { class: 'aud-msg', role: 'status' });
    const form = el('form', { class: 'aud-form', 'aria-labelledby': 'aud-disc-title' },
      el('h3', { id: 'aud-disc-title', text: 'Record a disclosure' }),
      el('div', { class: 'aud-grid' },
        el('div', { class: 'aud-field' }, el('label', { for: 'disc-date', text: 'Date given' }),
          el('input', { id: 'disc-date', name: 'date', type: 'date', required: true,
            value: toLocalInput(today.getTime()).slice(0, 10) })),
        el('div', { class: 'aud-field' }, el('label', { for: 'disc-recipient', text: 'Recipient' }),
          el('input', { id: 'disc-recipient', name: 'recipient', type: 'text', maxlength: 200, required: true,
            placeholder: 'e.g. Police, crime ref. 2026/114' })),
        el('div', { class: 'aud-field aud-wide' }, el('label', { for: 'disc-reason', text: 'Reason' }),
          el('input', { id: 'disc-reason', name: 'reason', type: 'text', maxlength: 1000, required: true,
            placeholder: 'e.g. subject access request, insurance claim' })),
        el('div', { class: 'aud-field' }, el('label', { for: 'disc-export', text: 'Export id' }),
          el('input', { id: 'disc-export', name: 'export_id', type: 'text', maxlength: 16, pattern: '[0-9a-fA-F]{16}',
            spellcheck: 'false', placeholder: '16 hex digits' })),
        el('div', { class: 'aud-field' }, el('label', { for: 'disc-hash', text: 'Export SHA-256' }),
          el('input', { id: 'disc-hash', name: 'export_hash', type: 'text', maxlength: 64, pattern: '[0-9a-fA-F]{64}',
            spellcheck: 'false', placeholder: '64 hex digits' }))),
      el('div', { class: 'aud-buttons' }, el('button', { type: 'submit', class: 'aud-primary', text: 'Record' })),
      msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const b = {};
      for (const k of ['date', 'recipient', 'reason', 'export_id', 'export_hash']) {
        const v = form.elements[k].value.trim();
        if (v) b[k] = v;
      }
      if (!b.export_id && !b.export_hash) {
        msg.className = 'aud-msg bad';
        msg.textContent = 'Give the export id or its hash: which footage was given.';
        return;
      }
      const r = await ctx.api('POST', '/api/disclosures', b);
      if (r.status === 201) {
        msg.className = 'aud-msg ok';
        msg.textContent = `Recorded as disclosure #${r.json.id} (audit entry #${r.json.audit_id}).`;
        form.reset();
        form.elements.date.value = toLocalInput(Date.now()).slice(0, 10);
        load();
      } else {
        msg.className = 'aud-msg bad';
        msg.textContent = (r.json && r.json.error) || `Error ${r.status}`;
      }
    });
    load();
    return el('div', { class: 'aud-tab', id: 'aud-disclosures' },
      canAdd ? form : null,
      canRead ? el('h3', { text: 'Disclosure log' }) : null,
      canRead ? status : el('p', { class: 'muted', text: 'Auditors and administrators see the disclosure log.' }),
      canRead ? list : null);
  }

  /* ---- the page ---- */

  function mount(container, c) {
    ctx = c;
    root = container;
    gen++;
    const role = c.user.role;
    const auditor = role === 'admin' || role === 'auditor';
    const adder = role === 'admin' || role === 'operator';
    const tabs = [];
    if (auditor) tabs.push(['log', 'Log']);
    tabs.push(['disclosures', 'Disclosures']);
    const body = el('div', { class: 'aud-body' });
    const bar = el('div', { class: 'aud-tabs', role: 'tablist' });
    function show(which) {
      for (const b of bar.children) b.setAttribute('aria-selected', String(b.dataset.tab === which));
      body.replaceChildren(which === 'log' ? logTab() : disclosureTab(auditor, adder));
    }
    for (const [id, label] of tabs) {
      bar.append(el('button', { type: 'button', role: 'tab', 'data-tab': id, text: label, onclick: () => show(id) }));
    }
    root.replaceChildren(el('div', { class: 'aud' },
      el('div', { class: 'toolbar' }, el('h2', { text: auditor ? 'Audit' : 'Disclosures' }),
        el('span', { class: 'muted', text: auditor ? 'Who saw what, and who was given it' : '' })),
      auditor ? chainCard() : null,
      tabs.length > 1 ? bar : null,
      body));
    show(tabs[0][0]);
  }

  function unmount() {
    gen++;
    if (root) root.replaceChildren();
    root = null;
  }

  window.reelAudit = { roles: ['admin', 'auditor', 'operator'], mount, unmount };
})();
