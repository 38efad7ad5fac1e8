/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reel's web page: the sign-in form and the shell (a top bar with the
 * pages Live, Playback, Cameras, Storage and Users, chosen by the URL's
 * hash: #/live, #/camera/NAME, #/timeline (timeline.js; #/playback is an alias),
 * #/ranges[/NAME] (a range played or downloaded as view.mp4), #/cameras, #/storage,
 * #/users, #/audit, #/redact?..., #/locks, #/events, #/motion/NAME, #/search). Live and the camera page are drawn by live.js
 * (window.reelLive), the admin pages by admin.js (window.reelAdmin, when it
 * is built in). Playback is here: the camera list (refreshed every few
 * seconds), the last hour of one camera drawn as a bar of recorded spans
 * and gaps, a range picker, a <video> playing view.mp4 for the range and a
 * download link for it. Vanilla JS, no build step. It runs under the
 * server's CSP (default-src 'self'): no inline code, no eval, styles only
 * through CSSOM. Everything the server sends is put on the page with
 * textContent, never parsed as HTML. The API it uses is in docs/api.md.
 */
'use strict';

(function () {
  const POLL_MS = 5000;              /* camera list and timeline refresh */
  const HOUR_MS = 3600 * 1000;
  const DEFAULT_MS = 5 * 60 * 1000;  /* default range: the last 5 minutes of footage */
  const LOOKBACK_MS = 7 * 24 * HOUR_MS; /* how far back "latest span" looks; also the server's cap */

  const $ = (id) => document.getElementById(id);

  const state = {
    user: null,
    csrf: null,
    role: null,
    view: null,           /* the page shown: 'live', 'camera', 'playback', 'cameras', ... */
    mounted: null,        /* 'live' or 'admin': whose unmount() to call when leaving */
    pendingCamera: null,  /* #/playback/NAME before the camera list arrived */
    timer: null,
    cameras: new Map(),   /* name -> last camera object from /api/cameras */
    camera: null,         /* selected camera name */
    spans: [],            /* last hour, from /spans */
    gaps: [],
    win: null,            /* {start, end} of the timeline, ms */
    range: null,          /* {start, end} chosen, ms */
    gen: 0,               /* bumped on camera change, so late answers are dropped */
  };

  /* ---- API ---- */

  class Unauthorized extends Error {}

  /* fetch + JSON. Sends the CSRF token on every state-changing request.
   * A 401 anywhere but the login and the session probe means the session
   * is gone: back to the sign-in form. */
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    const res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      json = null;
    }
    if (res.status === 401 && path !== '/api/login' && path !== '/api/session') {
      signedOut('Your session has ended. Please sign in again.');
      throw new Unauthorized('401');
    }
    return { status: res.status, json };
  }

  /* ---- time and number formatting ---- */

  const pad = (n, w = 2) => String(n).padStart(w, '0');

  /* Date -> "YYYY-MM-DDTHH:MM:SS" in local time, for <input type=datetime-local>. */
  function toLocalInput(ms) {
    const d = new Date(ms);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
      `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  /* The input's local time back to ms since the epoch; NaN when empty or bad. */
  function fromLocalInput(v) {
    return v ? new Date(v).getTime() : NaN;
  }

  const hms = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false });
  const dateTime = (ms) => new Date(ms).toLocaleString([], { hour12: false });

  function bytes(n) {
    if (typeof n !== 'number' || !isFinite(n)) return '?';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  function duration(s) {
    if (typeof s !== 'number' || !isFinite(s)) return '?';
    if (s < 120) return `${Math.round(s)} s`;
    if (s < 7200) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} days`;
  }

  function bitrate(bps) {
    if (typeof bps !== 'number' || !isFinite(bps)) return '?';
    return bps >= 1e6 ? `${(bps / 1e6).toFixed(2)} Mbit/s` : `${Math.round(bps / 1e3)} kbit/s`;
  }

  /* The API gives "h264"/"h265" in codec and the RFC 6381 string
   * ("avc1.64001e", "hvc1.1.6.L93.B0") in codec_string. */
  function codecName(codec) {
    if (/^(h\.?264|avc[13])/i.test(codec)) return 'H.264';
    if (/^(h\.?265|hevc|hvc1|hev1)/i.test(codec)) return 'H.265';
    return String(codec);
  }

  /* '' when this browser says it cannot play the camera's video. */
  function canPlay(c) {
    if (!c || !c.codec) return 'maybe';
    const name = codecName(c.codec);
    const rfc6381 = c.codec_string ||
      (name === 'H.264' ? 'avc1.42E01E' : name === 'H.265' ? 'hvc1.1.6.L93.B0' : c.codec);
    return $('video').canPlayType(`video/mp4; codecs="${rfc6381}"`);
  }

  const el = window.reelDom.el;

  /* ---- sign in / out ---- */

  function showLogin(message) {
    $('app-view').hidden = true;
    $('who').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    $('password').value = '';
    (($('username').value) ? $('password') : $('username')).focus();
  }

  function signedIn(user, csrf, role) {
    state.user = user;
    state.csrf = csrf;
    state.role = role || null;
    $('user-name').textContent = user;
    $('who').hidden = false;
    $('nav').hidden = false;
    $('nav-toggle').hidden = false;
    $('nav-users').hidden = state.role !== 'admin';
    /* the audit page (audit.js): admins and auditors; operators see its disclosure form */
    $('nav-audit').hidden = !(window.reelAudit && window.reelAudit.roles.includes(state.role));
    $('nav-audit').textContent = state.role === 'operator' ? 'Disclosures' : 'Audit';
    /* redacted exports (redact.js): operators and admins */
    $('nav-redact').hidden = !(window.reelRedact && window.reelRedact.roles.includes(state.role));
    /* evidence locks (locks.js): operators and admins */
    $('nav-locks').hidden = !(window.reelLocks && window.reelLocks.roles.includes(state.role));
    /* alerts: webhooks and MQTT (notify.js): admins */
    $('nav-alerts').hidden = !(window.reelAlerts && window.reelAlerts.roles.includes(state.role));
    /* events and motion search (events.js, search.js): roles with playback */
    $('nav-events').hidden = !(window.reelEvents && window.reelEvents.roles.includes(state.role));
    $('nav-search').hidden = !(window.reelSearch && window.reelSearch.roles.includes(state.role));
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    $('login-error').textContent = '';
    $('totp-field').hidden = true;
    $('totp').value = '';
    /* roles.js (and other modules) adapt the page to the role */
    document.dispatchEvent(new CustomEvent('reel:session', { detail: { user, role: state.role } }));
    route();
    refresh();
    if (!state.timer) state.timer = setInterval(refresh, POLL_MS);
  }

  /* ---- the shell: pages chosen by the hash ---- */

  const ADMIN_ROUTES = ['cameras', 'storage', 'users'];

  function navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function unmountPage() {
    try {
      if (state.mounted === 'live' && window.reelLive) window.reelLive.unmount();
      if (state.mounted === 'admin' && window.reelAdmin && window.reelAdmin.unmount) window.reelAdmin.unmount();
      if (state.mounted === 'audit' && window.reelAudit) window.reelAudit.unmount();
      if (state.mounted === 'redact' && window.reelRedact) window.reelRedact.unmount();
      if (state.mounted === 'locks' && window.reelLocks) window.reelLocks.unmount();
      if (state.mounted === 'alerts' && window.reelAlerts) window.reelAlerts.unmount();
      if (state.mounted === 'events' && window.reelEvents) window.reelEvents.unmount();
      if (state.mounted === 'motion' && window.reelMotion) window.reelMotion.unmount();
      if (state.mounted === 'search' && window.reelSearch) window.reelSearch.unmount();
      if (state.mounted === 'timeline' && window.ReelTimeline && window.ReelTimeline.unmount) window.ReelTimeline.unmount();
    } catch (e) {
      console.warn('unmount failed', e);
    }
    state.mounted = null;
  }

  /* Shows the page the hash names (#/live when none or unknown). */
  function route() {
    if (!state.user) return;
    const hash = location.hash || '';
    const qi = hash.indexOf('?');
    const query = qi >= 0 ? hash.slice(qi + 1) : '';
    const hashQuery = query;   /* "#/redact?camera=..": the query after '?' goes to the page */
    const parts = (qi >= 0 ? hash.slice(0, qi) : hash).replace(/^#\/?/, '').split('/').map((x) => {
      try {
        return decodeURIComponent(x);
      } catch (e) {
        return '';
      }
    });
    let view = parts[0] || 'live';
    const arg = parts[1] || '';
    if (view === 'playback') view = 'timeline';   /* the old name of the page */
    if (!['live', 'camera', 'timeline', 'ranges', 'audit', 'redact', 'locks', 'alerts', 'events', 'motion', 'search',
      ...ADMIN_ROUTES].includes(view)) view = 'live';
    if (view === 'camera' && !arg) view = 'live';
    unmountPage();
    state.view = view;
    $('nav').classList.remove('open');
    $('nav-toggle').setAttribute('aria-expanded', 'false');
    for (const a of document.querySelectorAll('#nav a')) {
      const on = a.dataset.route === view || (view === 'camera' && a.dataset.route === 'live');
      if (on) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const admin = ADMIN_ROUTES.includes(view);
    $('live-view').hidden = view !== 'live';
    $('camera-view').hidden = view !== 'camera';
    $('playback-view').hidden = view !== 'ranges';
    $('timeline-view').hidden = view !== 'timeline';
    $('admin-view').hidden = !admin;
    $('audit-view').hidden = view !== 'audit';
    $('redact-view').hidden = view !== 'redact';
    $('locks-view').hidden = view !== 'locks';
    $('alerts-view').hidden = view !== 'alerts';
    $('events-view').hidden = view !== 'events';
    $('motion-view').hidden = view !== 'motion';
    $('search-view').hidden = view !== 'search';
    if (view === 'live' || view === 'camera') {
      if (window.reelLive) {
        const ctx = liveCtx();
        if (view === 'live') window.reelLive.mountGrid($('grid'), ctx);
        else window.reelLive.mountCamera(arg, ctx);
        state.mounted = 'live';
      }
      /* the camera page links to its motion settings (motion.js; read-only but for admins) */
      $('camera-motion').hidden = !(view === 'camera' && window.reelMotion && window.reelMotion.roles.includes(state.role));
      $('camera-motion').href = `#/motion/${encodeURIComponent(arg)}`;
    } else if (view === 'events' || view === 'motion' || view === 'search') {
      mountMotionPage(view, query, arg);
    } else if (view === 'redact') {
      if (window.reelRedact) {
        window.reelRedact.mount($('redact-view'), { api, user: { name: state.user, role: state.role }, navigate },
                                hashQuery || '');
        state.mounted = 'redact';
      }
    } else if (view === 'timeline') {
      mountTimeline(query, arg);
    } else if (view === 'ranges') {
      /* the range player and view.mp4 download (the former Playback page) */
      if (arg && arg !== state.camera && state.cameras.has(arg)) selectCamera(arg);
      else if (arg && arg !== state.camera) state.pendingCamera = arg;
    } else if (view === 'audit') {
      if (window.reelAudit && window.reelAudit.roles.includes(state.role)) {
        window.reelAudit.mount($('audit-view'), { api, user: { name: state.user, role: state.role }, navigate });
        state.mounted = 'audit';
      }
    } else if (view === 'locks') {
      if (window.reelLocks) {
        window.reelLocks.mount($('locks-view'), { api, user: { name: state.user, role: state.role }, navigate });
        state.mounted = 'locks';
      }
    } else if (view === 'alerts') {
      if (window.reelAlerts && window.reelAlerts.roles.includes(state.role)) {
        window.reelAlerts.mount($('alerts-view'), { api, user: { name: state.user, role: state.role }, navigate });
        state.mounted = 'alerts';
      }
    } else if (admin) {
      const root = $('admin-root');
      root.replaceChildren();
      const ok = window.reelAdmin && typeof window.reelAdmin.mount === 'function' &&
        (view !== 'users' || state.role === 'admin');
      $('admin-missing').hidden = !!ok;
      $('admin-missing').textContent = view === 'users' && state.role !== 'admin'
        ? 'Only administrators manage users.' : 'This page is not available in this build.';
      if (ok) {
        try {
          window.reelAdmin.mount(view, root, {
            api,
            user: { name: state.user, role: state.role },
            navigate,
          });
          state.mounted = 'admin';
        } catch (e) {
          console.error('admin page failed', e);
          $('admin-missing').hidden = false;
          $('admin-missing').textContent = 'This page failed to load.';
        }
      }
    }
  }

  /* Events, a camera's motion settings and motion search (events.js,
   * motion.js, search.js) need the camera list: mounted once it is there
   * (refresh() calls again when the page waits for it). */
  function mountMotionPage(view, query, arg) {
    state.motionArgs = [view, query, arg];
    const mod = { events: window.reelEvents, motion: window.reelMotion, search: window.reelSearch }[view];
    const root = $(`${view}-view`);
    if (!mod || !mod.roles.includes(state.role)) {
      root.replaceChildren();
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent = mod ? 'Your role cannot see recorded footage or events.' : 'This page is not available in this build.';
      root.append(p);
      return;
    }
    if (!state.cameras.size && !state.camerasLoaded) return;
    mod.mount(root, liveCtx(), view === 'motion' ? arg : query);
    state.mounted = view;
  }

  /* The timeline (timeline.js) needs the camera list: mounted once it is
   * there (refresh() calls again when the page waits for it). */
  function mountTimeline(query, arg) {
    state.timelineArgs = [query, arg];
    if (!window.ReelTimeline || !window.ReelTimeline.mount) return;
    if (!state.cameras.size && !state.camerasLoaded) return;
    window.ReelTimeline.mount($('timeline-root'), liveCtx(), query, arg);
    state.mounted = 'timeline';
  }

  function liveCtx() {
    return {
      api,
      user: { name: state.user, role: state.role },
      navigate,
      cameras: () => [...state.cameras.values()],
    };
  }

  function signedOut(message) {
    unmountPage();
    $('nav').hidden = true;
    $('nav-toggle').hidden = true;
    for (const v of ['live-view', 'camera-view', 'playback-view', 'timeline-view', 'admin-view', 'audit-view', 'alerts-view']) $(v).hidden = true;
    for (const v of ['live-view', 'camera-view', 'playback-view', 'timeline-view', 'admin-view', 'audit-view',
      'events-view', 'motion-view', 'search-view']) $(v).hidden = true;
    state.view = null;
    state.role = null;
    document.dispatchEvent(new CustomEvent('reel:session', { detail: null }));
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    state.user = state.csrf = state.camera = state.pendingCamera = null;
    state.cameras.clear();
    state.gen++;
    $('cameras').replaceChildren();
    $('player').hidden = true;
    const v = $('video');
    v.removeAttribute('src');
    v.load();
    showLogin(message);
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const btn = $('login-submit');
    btn.disabled = true;
    $('login-error').textContent = '';
    $('login-error').classList.remove('info');
    try {
      const body = { username: $('username').value, password: $('password').value };
      const code = $('totp').value.trim();
      if (!$('totp-field').hidden && code) body.totp = code;
      const r = await api('POST', '/api/login', body);
      if (r.status === 200 && r.json) {
        $('password').value = '';
        signedIn(r.json.user, r.json.csrf_token, r.json.role);
      } else if (r.status === 401 && r.json && r.json.totp_required) {
        /* the password was right; the account has a second factor */
        const first = $('totp-field').hidden;
        $('totp-field').hidden = false;
        const ask = first && !code;
        $('login-error').textContent = ask ? 'Enter the 6-digit code from your authenticator app.'
          : 'Wrong or already used code. Wait for the next code, then try again.';
        $('login-error').classList.toggle('info', ask);
        $('totp').value = '';
        $('totp').focus();
      } else if (r.status === 401) {
        $('login-error').textContent = 'Wrong user name or password.';
        $('password').select();
      } else if (r.status === 429) {
        $('login-error').textContent = 'Too many attempts. Wait a minute, then try again.';
      } else {
        $('login-error').textContent = `Sign-in failed (HTTP ${r.status}).`;
      }
    } catch (e) {
      $('login-error').textContent = 'The server cannot be reached.';
    } finally {
      btn.disabled = false;
    }
  }

  async function onLogout() {
    try {
      await api('POST', '/api/logout');
    } catch (e) {
      /* signed out locally anyway */
    }
    signedOut('Signed out.');
  }

  /* ---- cameras ---- */

  async function refresh() {
    try {
      const r = await api('GET', '/api/cameras');
      if (r.status !== 200 || !r.json || !Array.isArray(r.json.cameras)) {
        $('cameras-status').textContent = `Could not read the cameras (HTTP ${r.status}).`;
        return;
      }
      renderCameras(r.json.cameras);
      if (window.reelLive && state.mounted === 'live') window.reelLive.update([...state.cameras.values()]);
      state.camerasLoaded = true;
      if (state.view === 'timeline' && state.mounted !== 'timeline' && state.timelineArgs) {
        mountTimeline(...state.timelineArgs);
      }
      if (['events', 'motion', 'search'].includes(state.view) && state.mounted !== state.view && state.motionArgs) {
        mountMotionPage(...state.motionArgs);
      }
      if (state.pendingCamera && state.cameras.has(state.pendingCamera) && state.view === 'ranges') {
        const n = state.pendingCamera;
        state.pendingCamera = null;
        selectCamera(n);
      }
      $('cameras-status').textContent = r.json.cameras.length
        ? `Updated ${hms(Date.now())}.` : 'No cameras configured (reel camera add).';
      if (state.camera) loadTimeline(false);
    } catch (e) {
      if (!(e instanceof Unauthorized)) $('cameras-status').textContent = 'The server cannot be reached.';
    }
  }

  /* Updates the list in place, so focus and the selection survive a refresh. */
  function renderCameras(list) {
    const ul = $('cameras');
    const seen = new Set();
    for (const c of list) {
      if (typeof c.name !== 'string') continue;
      seen.add(c.name);
      state.cameras.set(c.name, c);
      let li = ul.querySelector(`li[data-name="${CSS.escape(c.name)}"]`);
      if (!li) {
        li = el('li', 'camera');
        li.dataset.name = c.name;
        const b = el('button', 'cam-name', c.name);
        b.type = 'button';
        b.addEventListener('click', () => selectCamera(c.name));
        li.append(b, el('span', 'badge'), el('p', 'details'), el('p', 'cam-error'));
        ul.append(li);
      }
      const badge = li.querySelector('.badge');
      badge.textContent = c.state || (c.connected ? 'connected' : 'disconnected');
      badge.className = `badge ${c.connected ? 'ok' : 'bad'}`;
      const codec = c.codec ? `${codecName(c.codec)}${c.width ? ` ${c.width}×${c.height}` : ''}` : '';
      li.querySelector('.details').textContent = [
        c.connected ? `${Number(c.fps || 0).toFixed(1)} fps` : null,
        c.connected ? bitrate(c.bitrate_bps) : null,
        codec || null,
        `kept ${bytes(c.bytes_kept)}, ${duration(c.seconds_kept)}`,
        c.oldest ? `since ${dateTime(Date.parse(c.oldest))}` : null,
      ].filter(Boolean).join(' · ');
      li.querySelector('.cam-error').textContent = c.last_error ? `Last error: ${c.last_error}` : '';
      li.querySelector('.cam-name').setAttribute('aria-pressed', String(c.name === state.camera));
    }
    for (const li of [...ul.children]) {
      if (!seen.has(li.dataset.name)) {
        state.cameras.delete(li.dataset.name);
        li.remove();
      }
    }
  }

  async function selectCamera(name) {
    state.camera = name;
    state.gen++;
    for (const b of document.querySelectorAll('#cameras .cam-name')) {
      b.setAttribute('aria-pressed', String(b.textContent === name));
    }
    $('player').hidden = false;
    $('player-title').textContent = `Playback: ${name}`;
    $('range-error').textContent = '';
    const v = $('video');
    v.removeAttribute('src');
    v.load();
    $('download').hidden = true;
    codecNote();
    await loadTimeline(true);
  }

  /* H.265 plays only where the browser has a decoder for it; say so early. */
  function codecNote() {
    const c = state.cameras.get(state.camera);
    if (c && c.codec && !canPlay(c)) {
      $('range-error').textContent = `This browser cannot decode ${codecName(c.codec)}: ` +
        'use the download link and play the file in a video player.';
    }
  }

  /* ---- timeline ---- */

  const spansUrl = (cam, s, e) =>
    `/api/cameras/${encodeURIComponent(cam)}/spans?start=${encodeURIComponent(new Date(s).toISOString())}` +
    `&end=${encodeURIComponent(new Date(e).toISOString())}`;

  async function loadTimeline(pickDefault) {
    const cam = state.camera;
    const gen = state.gen;
    const now = Date.now();
    const win = { start: now - HOUR_MS, end: now };
    let r;
    try {
      r = await api('GET', spansUrl(cam, win.start, win.end));
    } catch (e) {
      return;
    }
    if (gen !== state.gen) return;
    if (r.status !== 200 || !r.json) {
      $('timeline-summary').textContent = `Could not read the recordings (HTTP ${r.status}).`;
      return;
    }
    state.win = win;
    state.spans = parseIntervals(r.json.spans);
    state.gaps = parseIntervals(r.json.gaps);
    drawTimeline();
    if (pickDefault) await defaultRange(gen);
  }

  function parseIntervals(a) {
    if (!Array.isArray(a)) return [];
    return a.map((x) => ({ start: Date.parse(x.start), end: Date.parse(x.end), reason: x.reason }))
      .filter((x) => isFinite(x.start) && isFinite(x.end) && x.end >= x.start)
      .sort((x, y) => x.start - y.start);
  }

  /* Gaps are coloured by kind: an outage (the camera failed, the recorder
   * stopped), footage deleted by retention, or time never recorded. */
  function gapKind(reason) {
    if (!reason || /not recorded/i.test(reason)) return 'none';
    if (/retention|deleted/i.test(reason)) return 'retention';
    return 'outage';
  }

  function drawTimeline() {
    const bar = $('timeline');
    const { start, end } = state.win;
    const len = end - start;
    const place = (e, s, t) => {
      const a = Math.max(s, start);
      const b = Math.min(t, end);
      e.style.left = `${((a - start) / len) * 100}%`;
      e.style.width = `${(Math.max(b - a, 0) / len) * 100}%`;
    };
    const parts = [];
    for (const g of state.gaps) {
      const d = el('div', `seg gap ${gapKind(g.reason)}`);
      const label = `Gap ${hms(g.start)} to ${hms(g.end)}: ${g.reason || 'no footage'}`;
      d.title = label;
      d.setAttribute('role', 'img');
      d.setAttribute('aria-label', label);
      place(d, g.start, g.end);
      parts.push(d);
    }
    for (const s of state.spans) {
      const b = el('button', 'seg span');
      b.type = 'button';
      const label = `Recorded ${hms(s.start)} to ${hms(s.end)}`;
      b.title = `${label} (select to pick this range)`;
      b.setAttribute('aria-label', label);
      b.addEventListener('click', () => {
        setRange(Math.max(s.start, s.end - HOUR_MS), s.end);
        play();
      });
      place(b, s.start, s.end);
      parts.push(b);
    }
    if (state.range) {
      const sel = el('div', 'sel');
      sel.setAttribute('aria-hidden', 'true');
      place(sel, state.range.start, state.range.end);
      parts.push(sel);
    }
    bar.replaceChildren(...parts);
    $('axis-start').textContent = hms(start);
    $('axis-end').textContent = hms(end);
    const n = state.spans.length;
    const g = state.gaps.filter((x) => gapKind(x.reason) !== 'none').length;
    $('timeline-summary').textContent = n
      ? `${n} recorded span${n === 1 ? '' : 's'}, ${g} outage${g === 1 ? '' : 's'} in the last hour.`
      : 'No footage in the last hour.';
  }

  /* ---- range and playback ---- */

  /* Whole seconds: the inputs show seconds, and the range must not lose its
   * last partial second. */
  function setRange(s, e) {
    s = Math.floor(s / 1000) * 1000;
    e = Math.ceil(e / 1000) * 1000;
    state.range = { start: s, end: e };
    $('range-start').value = toLocalInput(s);
    $('range-end').value = toLocalInput(e);
    $('range-error').textContent = '';
    if (state.win) drawTimeline();
    updateDownload();
  }

  /* The latest span: from this hour's spans, else looked up over the last
   * 7 days. Returns null when there is none. */
  async function latestSpan(gen) {
    if (state.spans.length) return state.spans[state.spans.length - 1];
    const now = Date.now();
    try {
      const r = await api('GET', spansUrl(state.camera, now - LOOKBACK_MS, now));
      if (gen !== state.gen || r.status !== 200 || !r.json) return null;
      const all = parseIntervals(r.json.spans);
      return all.length ? all[all.length - 1] : null;
    } catch (e) {
      return null;
    }
  }

  /* The last 5 minutes of footage (while recording: the last 5 minutes). */
  async function defaultRange(gen) {
    const s = await latestSpan(gen);
    if (gen !== state.gen) return;
    const end = s ? s.end : Date.now();
    setRange(end - DEFAULT_MS, end);
    if (!s) $('range-error').textContent = 'This camera has no footage from the last 7 days.';
    else codecNote();
  }

  function viewUrl() {
    const { start, end } = state.range;
    const u = `/api/cameras/${encodeURIComponent(state.camera)}/view.mp4` +
      `?start=${encodeURIComponent(new Date(start).toISOString())}` +
      `&end=${encodeURIComponent(new Date(end).toISOString())}`;
    return window.reelReason ? window.reelReason.add(u, 'playback') : u;   /* reason.js */
  }

  /* Reads the inputs into state.range; false (with a message) when invalid. */
  function readRange() {
    const s = fromLocalInput($('range-start').value);
    const e = fromLocalInput($('range-end').value);
    let msg = '';
    if (!isFinite(s) || !isFinite(e)) msg = 'Enter both times.';
    else if (e <= s) msg = '"To" must be after "From".';
    else if (e - s > LOOKBACK_MS) msg = 'A range can be at most 7 days long.';
    if (msg) {
      $('range-error').textContent = msg;
      $('download').hidden = true;
      return false;
    }
    state.range = { start: s, end: e };
    $('range-error').textContent = '';
    return true;
  }

  function updateDownload() {
    const a = $('download');
    if (!state.camera || !state.range) {
      a.hidden = true;
      return;
    }
    a.href = viewUrl();
    const t = new Date(state.range.start).toISOString().replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
    a.setAttribute('download', `${state.camera}-${t}.mp4`);
    a.hidden = false;
  }

  function play() {
    if (!state.camera || !readRange()) return;
    updateDownload();
    if (state.win) drawTimeline();
    const v = $('video');
    v.src = viewUrl();
    const p = v.play();
    if (p && p.catch) p.catch(() => { /* reported by the error event, or paused by the user */ });
  }

  function onVideoError() {
    const v = $('video');
    if (!v.getAttribute('src')) return;
    const codes = { 1: 'aborted', 2: 'network error', 3: 'cannot decode', 4: 'not supported or no footage' };
    const code = v.error ? v.error.code : 0;
    let msg = `The video could not be played (${codes[code] || 'error'}).`;
    const c = state.cameras.get(state.camera);
    if (c && c.codec && (code === 3 || code === 4) && !canPlay(c)) {
      msg += ` This browser cannot decode ${codecName(c.codec)}: use the download link.`;
    } else if (code === 4) {
      msg += ' Is there footage in this range?';
    }
    $('range-error').textContent = msg;
  }

  /* ---- start ---- */

  /* admin.js and admin.css are built in only when src/web/admin.js exists:
   * ask first (a 404 is quiet), then add them; a page waiting for them is
   * drawn again once they are there. */
  async function loadAdmin() {
    let r;
    try {
      r = await fetch('/admin.js', { method: 'HEAD', credentials: 'same-origin' });
    } catch (e) {
      return;
    }
    if (!r.ok || !/javascript/.test(r.headers.get('content-type') || '')) return;
    const css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = '/admin.css';
    const js = document.createElement('script');
    js.src = '/admin.js';
    js.addEventListener('load', () => {
      if (ADMIN_ROUTES.includes(state.view) && state.mounted !== 'admin') route();
    });
    try {
      const c = await fetch('/admin.css', { method: 'HEAD', credentials: 'same-origin' });
      if (c.ok) document.head.append(css);
    } catch (e) {
      /* no styles then */
    }
    document.head.append(js);
  }

  async function boot() {
    loadAdmin();
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('range-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      play();
    });
    $('range-last5').addEventListener('click', () => {
      const now = Date.now();
      setRange(now - DEFAULT_MS, now);
      play();
    });
    $('range-latest').addEventListener('click', async () => {
      const gen = state.gen;
      const s = await latestSpan(gen);
      if (gen !== state.gen) return;
      if (!s) {
        $('range-error').textContent = 'This camera has no footage from the last 7 days.';
        return;
      }
      setRange(Math.max(s.start, s.end - HOUR_MS), s.end);
      play();
    });
    for (const id of ['range-start', 'range-end']) {
      $(id).addEventListener('change', () => {
        if (readRange()) {
          updateDownload();
          if (state.win) drawTimeline();
        }
      });
    }
    $('video').addEventListener('error', onVideoError);
    window.addEventListener('hashchange', route);
    $('nav-toggle').addEventListener('click', () => {
      const open = $('nav').classList.toggle('open');
      $('nav-toggle').setAttribute('aria-expanded', String(open));
    });
    try {
      const r = await api('GET', '/api/session');
      if (r.status === 200 && r.json && r.json.user) signedIn(r.json.user, r.json.csrf_token, r.json.role);
      else showLogin();
    } catch (e) {
      if (!(e instanceof Unauthorized)) showLogin('The server cannot be reached.');
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
