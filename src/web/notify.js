/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The Alerts page (#/alerts, administrators; docs/alerts.md): webhooks
 * (list, add, enable/disable, test, pending deliveries, delete; the secret
 * is shown once, right after it is made) and MQTT (broker, credentials,
 * topic prefixes; Home Assistant finds the cameras by discovery), with how
 * long undelivered webhook notes are kept, and the MQTT connection's state.
 * API: /api/webhooks, /api/settings and /api/alerts/status (docs/api.md).
 * window.reelAlerts = {mount(root, ctx), unmount(), roles}: app.js mounts
 * it with ctx.api(method, path, body) -> {status, json} (CSRF added).
 * Uses admin.css's adm-* classes and notify.css. No inline script or style
 * (CSP); every text from the server goes in with textContent.
 */
(function () {
  'use strict';

  const ROLES = ['admin'];
  const KINDS = [
    ['motion', 'Motion'],
    ['camera.offline', 'Camera offline / back'],
    ['storage.error', 'Storage write error'],
    ['disk.full', 'Disk nearly full'],
    ['retention.blocked', 'Retention cannot make room'],
    ['lock.blocking', 'Evidence locks hold footage'],
  ];
  const KIND_NAME = Object.assign(Object.fromEntries(KINDS), { test: 'Test' });

  let page = null;   /* { root, ctx, gen, timer } */
  let gen = 0;

  const { h, say, field, dialog } = window.reelDom;
  const err = window.reelDom.errText;

  function when(t) {
    if (!t) return '–';
    const d = new Date(t);
    return isNaN(d) ? t : d.toLocaleString();
  }

  function kindsText(kinds) {
    if (!kinds || !kinds.length) return '–';
    if (kinds.includes('*')) return 'All events';
    return kinds.map((k) => KIND_NAME[k] || k).join(', ');
  }

  /* ---- webhooks ---- */

  function secretDialog(name, secret) {
    const box = h('input', { type: 'text', readonly: true, class: 'al-secret', value: secret, spellcheck: 'false' });
    const copied = h('span', { class: 'adm-hint', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', text: 'Copy', onclick: async () => {
      box.select();
      try {
        await navigator.clipboard.writeText(secret);
        copied.textContent = 'Copied.';
      } catch (e) {
        copied.textContent = 'Select the text and copy it.';
      }
    } });
    const body = h('div', null,
      h('p', { text: `The signing secret of “${name}”. It is shown only now: keep it in the receiver.` }),
      h('div', { class: 'al-secret-row' }, box, copy), copied,
      h('p', { class: 'adm-hint', text: 'Each POST carries X-Reel-Timestamp and X-Reel-Signature: sha256=HMAC-SHA256' +
        '(secret, timestamp + "." + body) in hex. Check it, and refuse timestamps older than a few minutes.' }));
    const done = h('button', { type: 'submit', class: 'adm-primary', text: 'Done' });
    dialog('Webhook secret', body, [done]);
    box.select();
  }

  function kindPicker(value) {
    const all = h('input', { type: 'checkbox', checked: !value || value.includes('*') });
    const boxes = KINDS.map(([k, label]) => {
      const c = h('input', { type: 'checkbox', value: k, checked: !!value && !value.includes('*') && value.includes(k) });
      return [c, h('label', { class: 'adm-check' }, c, document.createTextNode(label))];
    });
    const list = h('div', { class: 'al-kinds' }, ...boxes.map((b) => b[1]));
    function sync() {
      for (const [c] of boxes) c.disabled = all.checked;
      list.classList.toggle('al-off', all.checked);
    }
    all.addEventListener('change', sync);
    sync();
    const wrap = h('fieldset', { class: 'al-fieldset' }, h('legend', { text: 'Events' }),
      h('label', { class: 'adm-check' }, all, document.createTextNode('All events (also kinds added later)')), list);
    wrap.kinds = () => (all.checked ? ['*'] : boxes.filter(([c]) => c.checked).map(([c]) => c.value));
    return wrap;
  }

  function addDialog(ctx, done) {
    const name = h('input', { type: 'text', maxlength: 63, required: true, placeholder: 'Home Assistant', autocomplete: 'off' });
    const url = h('input', { type: 'url', maxlength: 1023, required: true, placeholder: 'https://example.org/hooks/reel',
      spellcheck: 'false', autocomplete: 'off' });
    const kinds = kindPicker(null);
    const secret = h('input', { type: 'text', maxlength: 128, placeholder: 'leave empty: Reel makes one',
      spellcheck: 'false', autocomplete: 'off' });
    const msg = h('p', { class: 'adm-msg', role: 'alert' });
    const body = h('div', null, field('Name', name), field('URL', url, 'http:// or https://. Redirects are not followed.'),
      kinds, field('Signing secret', secret, '16 to 128 characters; shown once.'), msg);
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    const save = h('button', { type: 'submit', class: 'adm-primary', text: 'Add webhook' });
    const d = dialog('Add a webhook', body, [cancel, save]);
    cancel.addEventListener('click', () => d.close());
    save.addEventListener('click', async (ev) => {
      ev.preventDefault();
      const b = { name: name.value.trim(), url: url.value.trim(), kinds: kinds.kinds() };
      if (!b.kinds.length) return say(msg, 'Pick at least one kind of event.', true);
      if (secret.value) b.secret = secret.value;
      save.disabled = true;
      const r = await ctx.api('POST', '/api/webhooks', b);
      save.disabled = false;
      if (r.status !== 201) return say(msg, err(r, 'Not added'), true);
      d.close();
      done();
      secretDialog(r.json.webhook.name, r.json.secret);
    });
    name.focus();
  }

  async function showDeliveries(ctx, w, box) {
    if (!box.hidden) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.replaceChildren(h('p', { class: 'adm-hint', text: 'Loading…' }));
    const r = await ctx.api('GET', `/api/webhooks/${w.id}/deliveries`);
    if (r.status !== 200) return box.replaceChildren(h('p', { class: 'adm-bad', text: err(r) }));
    const rows = r.json.deliveries;
    if (!rows.length) return box.replaceChildren(h('p', { class: 'adm-hint', text: 'Nothing waiting: every note was delivered.' }));
    const t = h('table', { class: 'al-table' }, h('thead', null, h('tr', null,
      h('th', { text: 'Event' }), h('th', { text: 'Queued' }), h('th', { text: 'Tries' }),
      h('th', { text: 'Next try' }), h('th', { text: 'Last error' }))));
    const tb = h('tbody');
    for (const d of rows) {
      tb.append(h('tr', null, h('td', { text: KIND_NAME[d.kind] || d.kind }), h('td', { text: when(d.created) }),
        h('td', { text: String(d.attempts) }), h('td', { text: when(d.next) }),
        h('td', { class: 'adm-small', text: d.last_error || '–' })));
    }
    t.append(tb);
    box.replaceChildren(h('div', { class: 'al-scroll' }, t));
    if (r.json.pending > rows.length) box.append(h('p', { class: 'adm-hint', text: `${r.json.pending} waiting in all.` }));
  }

  function card(ctx, w, refresh) {
    const msg = h('p', { class: 'adm-msg', 'aria-live': 'polite' });
    const box = h('div', { class: 'al-deliveries', hidden: true });
    const state = w.enabled
      ? (w.pending ? h('span', { class: 'adm-state adm-warn', text: `${w.pending} waiting` })
        : h('span', { class: 'adm-state adm-ok', text: 'Delivering' }))
      : h('span', { class: 'adm-state adm-muted', text: 'Paused' });
    const test = h('button', { type: 'button', text: 'Send test', onclick: async () => {
      test.disabled = true;
      const r = await ctx.api('POST', `/api/webhooks/${w.id}/test`);
      test.disabled = false;
      if (r.status !== 202) return say(msg, err(r, 'Test'), true);
      say(msg, 'Test queued: it goes out within a second; see Pending for failures.');
      setTimeout(refresh, 2500);
    } });
    const pend = h('button', { type: 'button', text: 'Pending', onclick: () => showDeliveries(ctx, w, box) });
    const toggle = h('button', { type: 'button', text: w.enabled ? 'Pause' : 'Resume', onclick: async () => {
      const r = await ctx.api('PATCH', `/api/webhooks/${w.id}`, { enabled: !w.enabled });
      if (r.status !== 200) return say(msg, err(r), true);
      refresh();
    } });
    const del = h('button', { type: 'button', class: 'adm-danger', text: 'Delete', onclick: () => {
      const no = h('button', { type: 'button', text: 'Keep' });
      const yes = h('button', { type: 'submit', class: 'adm-danger', text: 'Delete' });
      const d = dialog('Delete webhook', h('p', { text: `Delete “${w.name}”` +
        (w.pending ? ` and the ${w.pending} notes waiting for it?` : '?') }), [no, yes]);
      no.addEventListener('click', () => d.close());
      yes.addEventListener('click', async (ev) => {
        ev.preventDefault();
        const r = await ctx.api('DELETE', `/api/webhooks/${w.id}`);
        d.close();
        if (r.status !== 200) return say(msg, err(r), true);
        refresh();
      });
    } });
    return h('section', { class: 'adm-card al-card' },
      h('div', { class: 'adm-card-main' },
        h('div', { class: 'al-title' }, h('strong', { class: 'adm-name', text: w.name }), state),
        h('span', { class: 'adm-path adm-small', text: w.url }),
        h('span', { class: 'adm-meta', text: kindsText(w.kinds) })),
      h('div', { class: 'adm-actions' }, test, pend, toggle, del), msg, box);
  }

  async function loadWebhooks(ctx, list, g) {
    const r = await ctx.api('GET', '/api/webhooks');
    if (!page || page.gen !== g) return;
    if (r.status !== 200) return list.replaceChildren(h('p', { class: 'adm-bad', text: err(r, 'Webhooks') }));
    const hooks = r.json.webhooks;
    if (!hooks.length) {
      return list.replaceChildren(h('div', { class: 'al-empty' },
        h('p', { text: 'No webhooks yet.' }),
        h('p', { class: 'adm-hint', text: 'A webhook POSTs each event (motion, a camera going offline, a full disk…) as ' +
          'signed JSON to a URL: Home Assistant, Node-RED, n8n, a chat bot.' })));
    }
    list.replaceChildren(...hooks.map((w) => card(ctx, w, () => loadWebhooks(ctx, list, g))));
  }

  /* ---- settings: MQTT and the webhooks' expiry ---- */

  const MQTT_STATE = {
    off: ['adm-muted', 'Off'],
    connecting: ['adm-warn', 'Connecting'],
    connected: ['adm-ok', 'Connected'],
    error: ['adm-bad', 'Refused'],
  };

  /* The connection's state line (GET /api/alerts/status). */
  async function mqttStatus(ctx, line, g) {
    const r = await ctx.api('GET', '/api/alerts/status');
    if (!page || page.gen !== g) return;
    if (r.status !== 200) return line.replaceChildren(h('span', { class: 'adm-bad', text: err(r, 'Status') }));
    const m = r.json.mqtt;
    const [cls, label] = MQTT_STATE[m.state] || ['adm-muted', m.state];
    const parts = [];
    if (m.broker) parts.push(m.broker);
    if (m.state === 'connected') parts.push(`${m.cameras} camera${m.cameras === 1 ? '' : 's'} announced`);
    if (m.since) parts.push('since ' + when(m.since));
    if (m.error && m.state !== 'connected') parts.push(m.error);
    line.replaceChildren(h('span', { class: 'al-dot ' + cls, 'aria-hidden': 'true' }),
      h('strong', { class: 'adm-state ' + cls, text: label }),
      h('span', { class: 'adm-meta', text: parts.join(' · ') }));
  }

  async function mqttForm(ctx, wrap, keepWrap, g) {
    const r = await ctx.api('GET', '/api/settings');
    if (!page || page.gen !== g) return;
    if (r.status !== 200) return wrap.replaceChildren(h('p', { class: 'adm-bad', text: err(r, 'Settings') }));
    const s = r.json.settings;
    const url = h('input', { type: 'text', value: s['mqtt.url'] || '', placeholder: 'mqtt://broker.lan:1883',
      spellcheck: 'false', autocomplete: 'off', maxlength: 511 });
    const user = h('input', { type: 'text', value: s['mqtt.user'] || '', autocomplete: 'off', maxlength: 127 });
    const pw = h('input', { type: 'password', autocomplete: 'new-password', maxlength: 255,
      placeholder: s['mqtt.password_set'] ? 'set (leave empty to keep)' : 'none' });
    const clearPw = h('input', { type: 'checkbox' });
    const prefix = h('input', { type: 'text', value: s['mqtt.prefix'], spellcheck: 'false', maxlength: 63 });
    const dprefix = h('input', { type: 'text', value: s['mqtt.discovery_prefix'], spellcheck: 'false', maxlength: 63 });
    const msg = h('p', { class: 'adm-msg', 'aria-live': 'polite' });
    const save = h('button', { type: 'submit', class: 'adm-primary', text: 'Save MQTT' });
    const form = h('form', { class: 'al-form' },
      field('Broker', url, 'mqtt://host:port or mqtts://host:port (TLS). Empty: MQTT off.'),
      h('div', { class: 'adm-two' }, field('User', user), field('Password', pw)),
      s['mqtt.password_set'] ? h('label', { class: 'adm-check' }, clearPw, document.createTextNode('Remove the password')) : null,
      h('div', { class: 'adm-two' }, field('Topic prefix', prefix, `${s['mqtt.prefix']}/<camera>/motion, …/status, …/events`),
        field('Discovery prefix', dprefix, 'Home Assistant: homeassistant')),
      h('div', { class: 'adm-buttons' }, save), msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const b = {};
      const put = (k, v) => { if (v !== (s[k] || '')) b[k] = v; };
      put('mqtt.url', url.value.trim());
      put('mqtt.user', user.value);
      put('mqtt.prefix', prefix.value.trim());
      put('mqtt.discovery_prefix', dprefix.value.trim());
      if (pw.value) b['mqtt.password'] = pw.value;
      else if (clearPw.checked) b['mqtt.password'] = '';
      if (!Object.keys(b).length) return say(msg, 'Nothing changed.');
      save.disabled = true;
      const r2 = await ctx.api('PATCH', '/api/settings', b);
      save.disabled = false;
      if (r2.status !== 200) return say(msg, err(r2, 'Not saved'), true);
      say(msg, b['mqtt.url'] === '' ? 'Saved: MQTT is off.' : 'Saved. Reel connects within a few seconds; ' +
        `${prefix.value.trim()}/availability says “online” once it is connected.`);
      if (page && page.mqttNow) page.mqttNow();
      mqttForm(ctx, wrap, keepWrap, g);
    });
    wrap.replaceChildren(form);

    const hours = h('input', { type: 'number', min: 1, max: 720, step: 1, value: s['webhook.expire_hours'] });
    const kmsg = h('span', { class: 'adm-msg', 'aria-live': 'polite' });
    const ksave = h('button', { type: 'submit', text: 'Save' });
    const kform = h('form', { class: 'al-keep' }, field('Keep undelivered notes for (hours)', hours,
      'Retries back off from 1 s to 10 min; a note older than this is dropped.'), ksave, kmsg);
    kform.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const r3 = await ctx.api('PATCH', '/api/settings', { 'webhook.expire_hours': Number(hours.value) });
      say(kmsg, r3.status === 200 ? 'Saved.' : err(r3, 'Not saved'), r3.status !== 200);
    });
    keepWrap.replaceChildren(kform);
  }

  function mount(root, ctx) {
    unmount();
    const g = ++gen;
    page = { root, ctx, gen: g };
    const list = h('div', { class: 'adm-list' }, h('p', { class: 'adm-hint', text: 'Loading…' }));
    const keep = h('div');
    const mq = h('div', null, h('p', { class: 'adm-hint', text: 'Loading…' }));
    const refresh = () => loadWebhooks(ctx, list, g);
    const mline = h('p', { class: 'al-status', 'aria-live': 'polite' });
    const add = h('button', { type: 'button', class: 'adm-primary', id: 'al-add', text: 'Add webhook…',
      onclick: () => addDialog(ctx, refresh) });
    const wrap = h('div', { class: 'adm al' },
      h('div', { class: 'adm-head' }, h('h2', { text: 'Alerts' })),
      h('p', { class: 'adm-hint al-lead', text: 'Tell other systems when something happens: motion, a camera going ' +
        'offline, storage trouble. Reel never waits for them; undelivered notes are kept and retried.' }),
      h('section', { class: 'al-section', 'aria-labelledby': 'al-wh' },
        h('div', { class: 'adm-head' }, h('h3', { id: 'al-wh', text: 'Webhooks' }), add), list, keep),
      h('section', { class: 'al-section', 'aria-labelledby': 'al-mq' },
        h('div', { class: 'adm-head' }, h('h3', { id: 'al-mq', text: 'MQTT and Home Assistant' })),
        h('p', { class: 'adm-hint', text: 'Each camera appears in Home Assistant as a device with a Motion and a ' +
          'Connection sensor (MQTT discovery). Every event also goes to <prefix>/events as JSON.' }), mline, mq));
    root.replaceChildren(wrap);
    refresh();
    mqttForm(ctx, mq, keep, g);
    mqttStatus(ctx, mline, g);
    page.timer = setInterval(() => {
      if (!document.querySelector('.al-deliveries:not([hidden])')) refresh();
      mqttStatus(ctx, mline, g);
    }, 5000);
    page.mqttNow = () => setTimeout(() => mqttStatus(ctx, mline, g), 2500);
  }

  function unmount() {
    if (!page) return;
    clearInterval(page.timer);
    page.gen = -1;
    page = null;
  }

  window.reelAlerts = { mount, unmount, roles: ROLES };
})();
