/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The events page (#/events, issue 15; API: docs/api.md "Events"): what
 * happened, newest first — motion (with its zones and peak), a camera going
 * offline and back, storage errors, a disk nearly full, retention unable to
 * make room, locks blocking retention. Filters (camera, kind, range), live
 * updates from GET /api/events/stream (EventSource: a new event is put on top,
 * an ended one updated in place, without reloading), a thumbnail per event
 * (thumb.jpg at the event's start), "Load older" with before_id, and a click
 * opens the timeline at the event's start minus the camera's pre-roll.
 * Also window.reelEventKinds: the names, glyphs and colours of the kinds,
 * which the timeline and the search page share.
 * window.reelEvents = {roles, mount(root, ctx, query), unmount()} (app.js).
 * No inline script or style (CSP); every server string goes in as text.
 */
(function () {
  'use strict';

  const ROLES = ['admin', 'operator', 'viewer'];   /* PLAYBACK */
  const PAGE = 50;
  const MAX_ROWS = 1000;                            /* the list's cap; older ones: Load older */
  const DEFAULT_PRE_ROLL_S = 5;

  /* kind -> [label, glyph, colour]; the colours are also the timeline's. */
  const KINDS = {
    motion: ['Motion', '≋', '#4da3ff'],
    'camera.offline': ['Camera offline', '⊘', '#e5534b'],
    'storage.error': ['Storage error', '⚠', '#ff7b72'],
    'disk.full': ['Disk nearly full', '▤', '#e8703a'],
    'retention.blocked': ['Retention blocked', '⟳', '#c297ff'],
    'lock.blocking': ['Lock blocking retention', '◆', '#d29922'],
  };
  const kindInfo = (k) => KINDS[k] || [String(k || 'event'), '•', '#98a2b0'];
  window.reelEventKinds = { KINDS, info: kindInfo };

  const RANGES = [['1h', 'Last hour', 3600], ['24h', 'Last 24 hours', 86400], ['7d', 'Last 7 days', 7 * 86400],
    ['31d', 'Last 31 days', 31 * 86400], ['all', 'Everything', 0]];

  const el = window.reelDom.el;
  const pad = (n) => String(n).padStart(2, '0');
  function when(ms) {
    const d = new Date(ms);
    const today = new Date();
    const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    if (d.toDateString() === today.toDateString()) return `Today ${t}`;
    return `${d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' })} ${t}`;
  }
  function dur(s) {
    if (!isFinite(s) || s < 0) return '';
    if (s < 1) return '< 1 s';
    if (s < 120) return `${Math.round(s)} s`;
    if (s < 7200) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
    return `${(s / 3600).toFixed(1)} h`;
  }
  const errText = (r) => (r.json && r.json.error) || `HTTP ${r.status}`;

  /* A link to the timeline at t (ms) for camera cam (null: the page's default). */
  function timelineHash(cam, t, spanS) {
    const q = [];
    if (cam) q.push(`cams=${encodeURIComponent(cam)}`);
    q.push(`t=${encodeURIComponent(new Date(t).toISOString())}`);
    q.push(`span=${spanS || 600}`);
    return `#/timeline?${q.join('&')}`;
  }
  window.reelEventKinds.timelineHash = timelineHash;

  /* the event JSON of the API/SSE -> ours, or null when unusable */
  function parseEvent(e) {
    if (!e || typeof e !== 'object' || !Number.isFinite(Number(e.id))) return null;
    const start = Date.parse(e.start);
    if (!isFinite(start)) return null;
    const end = e.end ? Date.parse(e.end) : null;
    return {
      id: Number(e.id), camera: typeof e.camera === 'string' && e.camera ? e.camera : null,
      kind: String(e.kind || ''), source: String(e.source || ''), start, end: isFinite(end) ? end : null,
      zones: Array.isArray(e.zones) ? e.zones.filter((z) => typeof z === 'string').slice(0, 16) : [],
      peak: Number.isFinite(Number(e.peak)) && e.peak !== null ? Number(e.peak) : null,
      detail: typeof e.detail === 'string' ? e.detail.slice(0, 300) : '',
    };
  }

  let P = null;   /* the mounted page */

  function matches(ev) {
    const f = P.filter;
    if (f.camera && ev.camera !== f.camera) return false;
    if (f.kind && ev.kind !== f.kind) return false;
    return true;
  }

  function fromOf(f) {
    const r = RANGES.find((x) => x[0] === f.range);
    return r && r[2] ? Date.now() - r[2] * 1000 : null;
  }

  async function preRoll(cam) {
    if (!cam) return DEFAULT_PRE_ROLL_S;
    if (P.preRoll.has(cam)) return P.preRoll.get(cam);
    let s = DEFAULT_PRE_ROLL_S;
    try {
      const r = await P.ctx.api('GET', `/api/cameras/${encodeURIComponent(cam)}/motion`);
      if (r.status === 200 && r.json && Number.isFinite(Number(r.json.pre_roll_s))) s = Number(r.json.pre_roll_s);
    } catch (e) {
      /* the default then */
    }
    if (P) P.preRoll.set(cam, s);
    return s;
  }

  async function open(ev) {
    const pr = await preRoll(ev.camera);
    if (!P) return;
    P.ctx.navigate(timelineHash(ev.camera, ev.start - pr * 1000, 600));
  }

  function thumbUrl(ev) {
    /* a second in: the key frame at or before it shows the scene as it began */
    const t = new Date(ev.kind === 'camera.offline' ? ev.start - 2000 : ev.start + 1000).toISOString();
    return `/api/cameras/${encodeURIComponent(ev.camera)}/thumb.jpg?t=${encodeURIComponent(t)}&w=160`;
  }

  function row(ev) {
    const [label, glyph, colour] = kindInfo(ev.kind);
    const li = el('li', 'ev-row');
    li.dataset.id = String(ev.id);
    li.dataset.kind = ev.kind;
    const b = el('button', 'ev-open');
    b.type = 'button';
    const th = el('div', 'ev-thumb');
    const icon = el('span', 'ev-thumb-icon', glyph);
    icon.style.color = colour;
    th.append(icon);
    if (ev.camera) {
      /* a fresh event's footage may not be readable yet: tried again a few times, 5 s apart */
      let tries = 0;
      const img = el('img');
      img.alt = '';
      img.loading = 'lazy';
      img.decoding = 'async';
      const load = () => {
        if (!P || !img.isConnected && tries) return;
        tries++;
        img.src = thumbUrl(ev) + (tries > 1 ? `&_=${tries}` : '');
      };
      img.addEventListener('load', () => th.classList.add('ev-has-img'));
      img.addEventListener('error', () => {
        img.removeAttribute('src');
        if (tries < 6 && Date.now() - ev.start < 5 * 60000) setTimeout(load, 5000);
      });
      th.append(img);
      if (ev.start < Date.now() - 1500) load();
      else setTimeout(load, 3000);
    }
    const body = el('div', 'ev-body');
    const head = el('div', 'ev-head');
    const kind = el('span', 'ev-kind');
    const dot = el('span', 'ev-glyph', glyph);
    dot.style.color = colour;
    dot.setAttribute('aria-hidden', 'true');
    kind.style.borderColor = colour;
    kind.append(dot, document.createTextNode(label));
    head.append(kind, el('strong', 'ev-cam', ev.camera || 'All of the recorder'));
    const facts = el('div', 'ev-facts');
    facts.append(el('span', 'ev-when', when(ev.start)));
    if (ev.kind === 'storage.error' || ev.kind === 'retention.blocked' || ev.kind === 'lock.blocking') {
      /* instant */
    } else if (ev.end === null) {
      facts.append(el('span', 'ev-ongoing', 'ongoing'));
    } else {
      facts.append(el('span', 'ev-dur', dur((ev.end - ev.start) / 1000)));
    }
    if (ev.zones.length) facts.append(el('span', 'ev-zones', `zones: ${ev.zones.join(', ')}`));
    if (ev.peak !== null && ev.kind === 'motion') facts.append(el('span', 'ev-peak', `peak ${ev.peak}`));
    if (ev.source && ev.source !== 'motion' && ev.kind === 'motion') facts.append(el('span', 'ev-src', `via ${ev.source}`));
    body.append(head, facts);
    if (ev.detail) body.append(el('div', 'ev-detail', ev.detail));
    b.append(th, body);
    b.setAttribute('aria-label', `${label}, ${ev.camera || 'recorder'}, ${when(ev.start)}: open on the timeline`);
    b.addEventListener('click', () => open(ev));
    li.append(b);
    return li;
  }

  function render() {
    const list = P.list;
    const shown = P.events.filter(matches);
    list.replaceChildren(...shown.map(row));
    P.empty.hidden = shown.length > 0 || P.loading || !!P.unavailable;
    P.more.hidden = P.nextBefore === null;
    P.count.textContent = shown.length ? `${shown.length} event${shown.length === 1 ? '' : 's'}` : '';
  }

  async function load(older) {
    const gen = ++P.gen;
    const f = P.filter;
    const q = [`limit=${PAGE}`];
    if (f.camera) q.push(`camera=${encodeURIComponent(f.camera)}`);
    if (f.kind) q.push(`kind=${encodeURIComponent(f.kind)}`);
    const from = fromOf(f);
    if (from) q.push(`from=${encodeURIComponent(new Date(from).toISOString())}`);
    if (older && P.nextBefore !== null) q.push(`before_id=${P.nextBefore}`);
    P.loading = true;
    P.msg.textContent = older ? 'Loading older events…' : 'Loading…';
    let r;
    try {
      r = await P.ctx.api('GET', `/api/events?${q.join('&')}`);
    } catch (e) {
      if (P && gen === P.gen) P.msg.textContent = 'The server cannot be reached.';
      return;
    }
    if (!P || gen !== P.gen) return;
    P.loading = false;
    if (r.status === 404 && !(r.json && /camera/i.test(r.json.error || ''))) {
      P.msg.textContent = 'This server has no events API yet (GET /api/events is missing).';
      P.unavailable = true;
      render();
      return;
    }
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.events)) {
      P.msg.textContent = `The events could not be read: ${errText(r)}.`;
      render();
      return;
    }
    P.msg.textContent = '';
    const got = r.json.events.map(parseEvent).filter(Boolean);
    if (!older) P.events = [];
    const have = new Set(P.events.map((e) => e.id));
    for (const e of got) if (!have.has(e.id)) P.events.push(e);
    P.events.sort((a, b) => b.start - a.start || b.id - a.id);
    if (P.events.length > MAX_ROWS) P.events.length = MAX_ROWS;
    const nb = r.json.next_before_id;
    P.nextBefore = Number.isFinite(Number(nb)) && nb !== null ? Number(nb) : null;
    render();
  }

  /* ---- live: GET /api/events/stream ---- */

  function onNote(type, data) {
    if (!P) return;
    let n;
    try {
      n = JSON.parse(data);
    } catch (e) {
      return;
    }
    const ev = parseEvent(n && n.event);
    if (!ev) return;
    const i = P.events.findIndex((e) => e.id === ev.id);
    if (i >= 0) {
      P.events[i] = ev;
      if (!matches(ev)) return;
      const old = P.list.querySelector(`li[data-id="${ev.id}"]`);
      if (old) old.replaceWith(row(ev));
      else render();
      return;
    }
    if (type === 'end' && !matches(ev)) return;
    P.events.unshift(ev);
    P.events.sort((a, b) => b.start - a.start || b.id - a.id);
    if (P.events.length > MAX_ROWS) P.events.length = MAX_ROWS;
    if (!matches(ev)) return;
    const li = row(ev);
    li.classList.add('ev-new');
    const idx = P.events.filter(matches).indexOf(ev);
    const before = P.list.children[idx];
    if (before) P.list.insertBefore(li, before);
    else P.list.append(li);
    P.empty.hidden = true;
    const n2 = P.list.children.length;
    P.count.textContent = `${n2} event${n2 === 1 ? '' : 's'}`;
  }

  function setLive(state, text) {
    P.live.dataset.state = state;
    P.liveText.textContent = text;
  }

  function connect() {
    if (!P || typeof EventSource !== 'function') return;
    const es = new EventSource('/api/events/stream', { withCredentials: true });
    P.es = es;
    setLive('wait', 'Connecting…');
    let opened = false;
    es.addEventListener('open', () => {
      if (!P || P.es !== es) return;
      if (opened || P.wasOpen) load(false);   /* after a reconnect: what was missed */
      opened = true;
      P.wasOpen = true;
      P.retries = 0;
      setLive('on', 'Live');
    });
    for (const t of ['start', 'end', 'instant']) es.addEventListener(t, (m) => onNote(t, m.data));
    es.addEventListener('message', (m) => onNote('message', m.data));
    es.addEventListener('error', () => {
      if (!P || P.es !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        /* a 404/503 closes it for good: try again ourselves, slower each time */
        es.close();
        P.es = null;
        P.retries = (P.retries || 0) + 1;
        setLive('off', P.unavailable ? 'No live updates (not on this server)' : 'Live updates lost: retrying…');
        if (!P.unavailable) P.retry = setTimeout(connect, Math.min(30000, 2000 * P.retries));
      } else {
        setLive('wait', 'Reconnecting…');
      }
    });
  }

  /* ---- the page ---- */

  function select(id, label, options, value) {
    const wrap = el('label', 'ev-field');
    wrap.append(el('span', null, label));
    const s = el('select');
    s.id = id;
    for (const [v, t] of options) {
      const o = el('option', null, t);
      o.value = v;
      s.append(o);
    }
    s.value = value;
    wrap.append(s);
    return [wrap, s];
  }

  const parseQuery = window.reelDom.parseQuery;

  function mount(root, ctx, query) {
    unmount();
    const q = parseQuery(query);
    P = { root, ctx, events: [], nextBefore: null, gen: 0, preRoll: new Map(), loading: true,
      filter: { camera: q.camera || '', kind: q.kind || '', range: q.range || '24h' } };
    const wrap = el('div', 'ev');
    const head = el('div', 'ev-top');
    const h = el('h2', null, 'Events');
    h.id = 'events-title';
    P.live = el('span', 'ev-live');
    P.live.setAttribute('role', 'status');
    P.live.id = 'events-live';
    P.live.append(el('span', 'ev-live-dot'));
    P.liveText = el('span', null, '');
    P.live.append(P.liveText);
    P.count = el('span', 'ev-count');
    head.append(h, P.live, P.count);
    const cams = (ctx.cameras() || []).map((c) => c.name).filter(Boolean);
    const [fc, sc] = select('events-camera', 'Camera', [['', 'All cameras'], ...cams.map((n) => [n, n])], P.filter.camera);
    const [fk, sk] = select('events-kind', 'Kind', [['', 'All kinds'], ...Object.entries(KINDS).map(([k, v]) => [k, v[0]])],
      P.filter.kind);
    const [fr, sr] = select('events-range', 'Range', RANGES.map((r) => [r[0], r[1]]), P.filter.range);
    const filters = el('div', 'ev-filters');
    filters.append(fc, fk, fr);
    /* motion search, and the chosen camera's motion settings */
    const links = el('div', 'ev-links');
    const srch = el('a', 'button-link', 'Motion search');
    const mset = el('a', 'button-link', 'Motion settings');
    links.append(srch, mset);
    filters.append(links);
    const setLinks = () => {
      const c = P.filter.camera;
      srch.href = c ? `#/search?camera=${encodeURIComponent(c)}` : '#/search';
      mset.href = `#/motion/${encodeURIComponent(c)}`;
      mset.hidden = !c;
    };
    setLinks();
    const change = () => {
      P.filter = { camera: sc.value, kind: sk.value, range: sr.value };
      setLinks();
      const qs = Object.entries(P.filter).filter(([, v]) => v).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
      history.replaceState(null, '', `#/events${qs ? `?${qs}` : ''}`);
      P.nextBefore = null;
      load(false);
    };
    for (const s of [sc, sk, sr]) s.addEventListener('change', change);
    P.msg = el('p', 'ev-msg muted');
    P.msg.setAttribute('aria-live', 'polite');
    P.list = el('ul', 'ev-list');
    P.list.id = 'events-list';
    P.empty = el('p', 'ev-empty', 'No events in this range. Motion, cameras going offline and storage trouble appear here as they happen.');
    P.empty.hidden = true;
    P.more = el('button', 'ev-more', 'Load older');
    P.more.type = 'button';
    P.more.id = 'events-more';
    P.more.hidden = true;
    P.more.addEventListener('click', () => load(true));
    wrap.append(head, filters, P.msg, P.list, P.empty, P.more);
    root.replaceChildren(wrap);
    load(false).then(() => connect());
  }

  function unmount() {
    if (!P) return;
    if (P.es) P.es.close();
    clearTimeout(P.retry);
    P.root.replaceChildren();
    P = null;
  }

  window.reelEvents = { roles: ROLES, mount, unmount, parseEvent };
})();
