/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reel's live view: the grid (#/live: 1, 4, 9 or 16 tiles a page, the
 * choice remembered in localStorage) and the camera page (#/camera/NAME:
 * the main stream large, its state, a link to its playback). app.js calls
 * window.reelLive.mountGrid(el, ctx), mountCamera(name, ctx), update(list)
 * (every /api/cameras refresh) and unmount().
 *
 * A tile is a <video muted playsinline> fed by Media Source Extensions
 * (ManagedMediaSource where it exists, else MediaSource; mode 'segments')
 * from fetch('/api/cameras/NAME/live.mp4?stream=...') read as a stream:
 * the body is an init segment (ftyp, moov) then one fragment a frame (prft,
 * moof, mdat), see docs/api.md. The page splits the bytes into boxes and
 * appends the init segment and each moof+mdat. It stays at the live edge:
 * more than 1.5 s buffered ahead jumps to the end - 0.2 s, 0.5 to 1.5 s
 * plays at 1.1 to 1.25x, else 1x; it keeps ~10 s behind the play position
 * and removes older data, so memory stays bounded. A tile off screen
 * (IntersectionObserver) or in a hidden tab stops streaming (the fetch is
 * aborted) and starts again when seen. A tile without picture says why
 * (offline with the recorder's reason, disabled, no permission, codec not
 * supported, too many viewers) and reconnects on its own with a backoff.
 *
 * Stream choice: the grid uses the sub-stream where the camera has one,
 * the camera page the main stream; an H.265 stream plays natively when
 * MediaSource.isTypeSupported says so, else the grid falls back to an
 * H.264 sub-stream, else to stream=h264 (the server's transcode).
 *
 * Delay: each fragment's prft box carries the NTP wall time the recorder
 * received that frame and its tfdt the decode time; the tile maps the
 * video's currentTime to that wall time and shows now - wall as its delay
 * (tile.dataset.delayMs; tile.dataset.firstPictureMs is the time from
 * opening the stream to the first frame shown). Same clock on both ends is
 * assumed (NTP); the figure is what the viewer sees, not a server metric.
 */
'use strict';

(function () {
  const LAYOUTS = [1, 4, 9, 16];
  const LAYOUT_KEY = 'reel.live.tiles';
  const KEEP_S = 10;           /* buffer kept behind the play position */
  const JUMP_S = 1.5;          /* further behind the edge than this: jump */
  const SLOW_S = 0.5;          /* between SLOW_S and JUMP_S: play faster */
  const EDGE_S = 0.2;          /* where a jump lands, before the end */
  const TICK_MS = 250;
  const STALL_MS = 15000;      /* no byte for this long: reconnect */
  const QUEUE_MAX = 16 << 20;  /* bytes waiting for appendBuffer: over it, reconnect */
  const BOX_MAX = 32 << 20;    /* a single box over this is a broken stream */
  const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
  const HEVC_PROBE = 'hvc1.1.6.L93.B0';
  const NTP_UNIX_S = 2208988800;

  const MS = window.ManagedMediaSource || window.MediaSource || null;

  const isH264 = (c) => /^(h\.?264|avc[13])/i.test(c || '');
  const isH265 = (c) => /^(h\.?265|hevc|hvc1|hev1)/i.test(c || '');

  function mimeOk(codecs) {
    try {
      return !!MS && MS.isTypeSupported(`video/mp4; codecs="${codecs}"`);
    } catch (e) {
      return false;
    }
  }

  const el = window.reelDom.el;

  /* ---- MP4 boxes ---- */

  const fourcc = (b, o) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
  const u32 = (b, o) => ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
  const u64 = (b, o) => u32(b, o) * 4294967296 + u32(b, o + 4);

  /* Splits a byte stream into top-level boxes: push() chunks, get back the
   * complete boxes ({type, data}) so far. */
  class BoxSplitter {
    constructor() {
      this.buf = new Uint8Array(0);
    }

    push(chunk) {
      if (this.buf.length) {
        const b = new Uint8Array(this.buf.length + chunk.length);
        b.set(this.buf);
        b.set(chunk, this.buf.length);
        this.buf = b;
      } else {
        this.buf = chunk;
      }
      const out = [];
      let o = 0;
      while (this.buf.length - o >= 8) {
        let size = u32(this.buf, o);
        let hdr = 8;
        if (size === 1) {
          if (this.buf.length - o < 16) break;
          size = u64(this.buf, o + 8);
          hdr = 16;
        }
        if (size < hdr || size > BOX_MAX) throw new Error(`bad box size ${size}`);
        if (this.buf.length - o < size) break;
        out.push({ type: fourcc(this.buf, o + 4), data: this.buf.subarray(o, o + size), hdr });
        o += size;
      }
      this.buf = o ? this.buf.slice(o) : this.buf;
      return out;
    }
  }

  /* The children of a box's payload from `start` (offset in data). */
  function children(data, start) {
    const out = [];
    let o = start;
    while (data.length - o >= 8) {
      const size = u32(data, o);
      if (size < 8 || o + size > data.length) break;
      out.push({ type: fourcc(data, o + 4), data: data.subarray(o, o + size) });
      o += size;
    }
    return out;
  }

  function find(data, start, path) {
    let cur = { data };
    let off = start;
    for (const t of path) {
      cur = children(cur.data, off).find((c) => c.type === t);
      if (!cur) return null;
      off = 8;
    }
    return cur;
  }

  /* prft: version, flags, reference_track_ID, ntp_timestamp (64), media_time
   * -> the wall time in ms since 1970. */
  function parsePrft(d) {
    if (d.length < 24) return null;
    const sec = u32(d, 16);
    const frac = u32(d, 20);
    return (sec - NTP_UNIX_S) * 1000 + (frac / 4294967296) * 1000;
  }

  /* moof -> traf -> tfdt baseMediaDecodeTime; a prft inside moof too. */
  function parseMoof(d) {
    const tfdt = find(d, 8, ['traf', 'tfdt']);
    let t = null;
    if (tfdt) t = tfdt.data[8] === 1 ? u64(tfdt.data, 12) : u32(tfdt.data, 12);
    const prft = children(d, 8).find((c) => c.type === 'prft');
    return { decode: t, wall: prft ? parsePrft(prft.data) : null };
  }

  /* The RFC 6381 codec string and timescale from the init segment's moov. */
  function parseMoov(d) {
    const mdhd = find(d, 8, ['trak', 'mdia', 'mdhd']);
    let timescale = 90000;
    if (mdhd) timescale = u32(mdhd.data, mdhd.data[8] === 1 ? 28 : 20) || 90000;
    const stsd = find(d, 8, ['trak', 'mdia', 'minf', 'stbl', 'stsd']);
    if (!stsd) return { timescale, codecs: null };
    const entry = children(stsd.data, 16)[0];
    if (!entry) return { timescale, codecs: null };
    const hex = (n) => n.toString(16).toUpperCase().padStart(2, '0');
    const conf = children(entry.data, 8 + 78);
    const avcC = conf.find((c) => c.type === 'avcC');
    if (avcC && avcC.data.length >= 12) {
      const b = avcC.data;
      return { timescale, codecs: `${entry.type}.${hex(b[9])}${hex(b[10])}${hex(b[11])}`.toLowerCase() };
    }
    const hvcC = conf.find((c) => c.type === 'hvcC');
    if (hvcC && hvcC.data.length >= 8 + 13) {
      const b = hvcC.data.subarray(8);
      const space = ['', 'A', 'B', 'C'][b[1] >> 6];
      const tier = (b[1] & 0x20) ? 'H' : 'L';
      const profile = b[1] & 0x1f;
      let compat = u32(b, 2);
      let rev = 0;
      for (let i = 0; i < 32; i++) {
        rev = (rev * 2) + (compat & 1);
        compat >>>= 1;
      }
      const cons = Array.from(b.subarray(6, 12));
      while (cons.length && cons[cons.length - 1] === 0) cons.pop();
      const tail = cons.map((x) => `.${hex(x)}`).join('');
      return { timescale, codecs: `${entry.type}.${space}${profile}.${rev.toString(16).toUpperCase()}.${tier}${b[12]}${tail}` };
    }
    return { timescale, codecs: entry.type };
  }

  /* ---- which stream ---- */

  const streamInfo = (cam, which) => (which === 'main' ? cam : cam && cam.streams && cam.streams[which]) || null;

  function playable(st) {
    if (!st || !st.codec) return false;
    if (isH264(st.codec)) return mimeOk(st.codec_string || 'avc1.42E01E');
    if (isH265(st.codec)) return mimeOk(st.codec_string || HEVC_PROBE) || mimeOk(HEVC_PROBE);
    return false;
  }

  /* 'main', 'sub' or 'h264'. big: the camera page (main stream wanted). */
  function pickStream(cam, big, noTranscode) {
    const sub = streamInfo(cam, 'sub');
    const hasSub = sub && sub.enabled !== false;
    /* a sub-stream that has not recorded yet has no codec: try it anyway */
    if (!big && hasSub && (!sub.codec || playable(sub))) return 'sub';
    if (!cam.codec || playable(cam)) return 'main';
    if (hasSub && isH264(sub.codec) && (!big || noTranscode)) return 'sub';
    return noTranscode ? 'main' : 'h264';
  }

  /* ---- a tile ---- */

  class Tile {
    constructor(name, big, ctx) {
      this.name = name;
      this.big = big;
      this.ctx = ctx;
      this.cam = null;
      this.visible = false;
      this.active = false;
      this.gen = 0;
      this.ac = null;
      this.retryTimer = null;
      this.retries = 0;
      this.noTranscode = false;
      this.forceH264 = false;
      this.holdReason = null;     /* a reason that needs no retry (disabled, no permission) */

      const t = el('div', `tile${big ? ' big' : ''}`);
      t.dataset.camera = name;
      t.dataset.state = 'idle';
      t.tabIndex = big ? -1 : 0;
      t.setAttribute('role', big ? 'group' : 'link');
      t.setAttribute('aria-label', big ? `${name}, live` : `${name}, live: open the camera page`);
      this.poster = el('img', 'poster');
      this.poster.alt = '';
      this.poster.hidden = true;
      this.poster.addEventListener('load', () => { this.poster.hidden = false; });
      this.poster.addEventListener('error', () => { this.poster.hidden = true; });
      this.video = el('video');
      this.video.muted = true;
      this.video.playsInline = true;
      this.video.setAttribute('playsinline', '');
      this.video.setAttribute('muted', '');
      this.video.disableRemotePlayback = true;
      this.video.setAttribute('aria-label', `${name} live video`);
      const label = el('div', 'label');
      this.infoEl = el('span', 'info');
      label.append(el('span', 'dot'), el('span', 'name', name), this.infoEl);
      this.whyEl = el('p', 'why');
      this.whyEl.setAttribute('aria-live', 'polite');
      t.append(this.poster, this.video, label, this.whyEl);
      if (!big) {
        const open = () => ctx.navigate(`#/camera/${encodeURIComponent(name)}`);
        t.addEventListener('click', open);
        t.addEventListener('keydown', (ev) => {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            open();
          }
        });
      }
      this.el = t;
      this.video.addEventListener('playing', () => {
        if (!('requestVideoFrameCallback' in this.video)) this.firstPicture('playing');
      });
      this.tick = setInterval(() => this.onTick(), TICK_MS);
    }

    setState(s, why, bad) {
      this.el.dataset.state = s;
      this.el.classList.toggle('playing', s === 'playing');
      this.el.classList.toggle('bad', !!bad);
      this.whyEl.textContent = why || '';
      this.el.dataset.reason = why || '';
    }

    /* A new /api/cameras entry for this camera. */
    setCamera(cam) {
      const was = this.cam;
      this.cam = cam;
      if (!cam) {
        this.stop();
        this.setState('error', 'This camera is no longer configured.', true);
        return;
      }
      if (cam.enabled === false) {
        this.holdReason = 'disabled';
        this.stop();
        this.setState('disabled', 'Disabled: not recorded.', true);
        return;
      }
      if (this.holdReason === 'disabled') {
        this.holdReason = null;
        this.retries = 0;
      }
      /* the camera came back: try now rather than at the end of the backoff */
      if (was && !was.connected && cam.connected && this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = null;
        this.retries = 0;
        this.sync();
        return;
      }
      if (!this.ac && !this.retryTimer) this.sync();
    }

    setVisible(v) {
      this.visible = v;
      this.sync();
    }

    /* Streams when mounted, on screen, the tab shown and nothing holds it. */
    sync() {
      const want = this.visible && !document.hidden && !!this.cam && !this.holdReason && !this.dead;
      if (want && !this.ac && !this.retryTimer) this.start();
      else if (!want && (this.ac || this.retryTimer)) {
        this.stop();
        if (!this.holdReason && this.cam && this.cam.enabled !== false) this.setState('paused', '', false);
      }
    }

    url(stream) {
      const u = `/api/cameras/${encodeURIComponent(this.name)}/live.mp4?stream=${stream}`;
      return window.reelReason ? window.reelReason.add(u, 'live') : u;   /* reason.js: the site's reason policy */
    }

    retry(why, ms) {
      this.teardown();
      if (this.dead) return;
      const wait = ms !== undefined ? ms : BACKOFF_MS[Math.min(this.retries, BACKOFF_MS.length - 1)];
      this.retries++;
      this.el.dataset.retries = String(this.retries);
      if (why) this.whyEl.textContent = `${why} Retrying in ${Math.round(wait / 1000) || 1} s.`;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.sync();
      }, wait);
    }

    stop() {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.teardown();
    }

    teardown() {
      this.gen++;
      if (this.ac) this.ac.abort();
      this.ac = null;
      this.sb = null;
      this.queue = [];
      this.queued = 0;
      if (this.msUrl) {
        this.video.removeAttribute('src');
        this.video.load();
        URL.revokeObjectURL(this.msUrl);
        this.msUrl = null;
      }
      this.ms = null;
      this.el.classList.remove('playing');
    }

    destroy() {
      this.dead = true;
      this.stop();
      clearInterval(this.tick);
      this.el.remove();
    }

    async start() {
      const cam = this.cam;
      const gen = ++this.gen;
      const ac = new AbortController();
      this.ac = ac;
      this.t0 = performance.now();
      this.shown = false;
      this.frames = 0;
      this.frags = [];
      this.queue = [];
      this.queued = 0;
      this.lastData = performance.now();
      this.init = [];
      this.timescale = 90000;
      this.unsupported = false;
      this.playRequested = false;
      this.moof = null;
      this.pendingWall = null;
      this.lastCt = undefined;
      const stream = this.forceH264 ? 'h264' : pickStream(cam, this.big, this.noTranscode);
      this.stream = stream;
      this.el.dataset.stream = stream;
      if (!this.poster.src) {
        const snap = `/api/cameras/${encodeURIComponent(this.name)}/snapshot.jpg` +
          `?stream=${stream === 'sub' ? 'sub' : 'main'}`;
        this.poster.src = window.reelReason ? window.reelReason.add(snap, 'live') : snap;
      }
      if (!MS) {
        this.setState('error', 'This browser has no Media Source Extensions: live video cannot play here.', true);
        this.holdReason = 'nomse';
        this.ac = null;
        return;
      }
      if (this.retries) this.el.dataset.state = 'connecting';
      else this.setState('connecting', 'Connecting…', false);
      let res;
      try {
        res = await fetch(this.url(stream), { signal: ac.signal, credentials: 'same-origin', cache: 'no-store' });
      } catch (e) {
        if (gen !== this.gen) return;
        this.setState('error', 'The recorder cannot be reached.', true);
        this.retry('', undefined);
        return;
      }
      if (gen !== this.gen) return;
      if (res.status !== 200) {
        await this.refused(res, stream);
        return;
      }
      try {
        await this.openSource(gen);
        if (gen !== this.gen) return;
        this.watchFrames(gen);
        const reader = res.body.getReader();
        const split = new BoxSplitter();
        for (;;) {
          const { done, value } = await reader.read();
          if (gen !== this.gen) return;
          if (done) break;
          this.lastData = performance.now();
          for (const box of split.push(value)) this.onBox(box, gen);
          if (gen !== this.gen) return;
        }
        this.setState('ended', 'The stream ended (camera restarted or stopped).', true);
        this.retry('The stream ended.', this.shown ? 300 : undefined);
      } catch (e) {
        if (gen !== this.gen) return;
        if (this.unsupported) return;
        this.setState('error', `The stream broke off (${e.message || e}).`, true);
        this.retry('', undefined);
      }
    }

    /* A non-200 answer: say why; retry unless retrying cannot help. */
    async refused(res, stream) {
      let j = null;
      try {
        j = await res.json();
      } catch (e) {
        j = null;
      }
      const msg = j && typeof j.error === 'string' ? j.error : '';
      const s = res.status;
      this.el.dataset.httpStatus = String(s);
      if (s === 401 || s === 403) {
        this.holdReason = 'perm';
        this.teardown();
        this.setState('denied', s === 401 ? 'Not signed in.' : 'No permission to watch this camera.', true);
        return;
      }
      if (s === 409) {
        const reason = j && j.reason;
        if (reason === 'disabled') {
          this.setState('disabled', 'Disabled: not recorded.', true);
          this.retry('', 15000);
        } else {
          const why = `Offline${msg ? `: ${msg}` : (this.cam && this.cam.last_error ? `: ${this.cam.last_error}` : '.')}`;
          this.setState('offline', why, true);
          this.retry('', undefined);
        }
        return;
      }
      if (s === 503) {
        const ra = Number(res.headers.get('Retry-After')) || 5;
        this.setState('busy', 'Too many viewers.', true);
        this.retry('', Math.min(ra, 60) * 1000);
        return;
      }
      if ((s === 501 || s === 404) && stream === 'h264') {
        /* no transcoding in this build: an H.264 sub-stream if there is one */
        this.noTranscode = true;
        this.forceH264 = false;
        const sub = streamInfo(this.cam, 'sub');
        if (sub && isH264(sub.codec)) {
          this.retry('', 0);
          return;
        }
        this.holdReason = 'codec';
        this.teardown();
        this.setState('unsupported', `This browser cannot decode ${isH265(this.cam.codec) ? 'H.265' : 'this codec'} ` +
          'and the server does not transcode: open Playback to download the footage.', true);
        return;
      }
      if (s === 404) {
        this.setState('error', msg ? `Not available: ${msg}` : 'No live video here (404).', true);
        this.retry('', 15000);
        return;
      }
      this.setState('error', `The server answered ${s}${msg ? `: ${msg}` : ''}.`, true);
      this.retry('', undefined);
    }

    openSource(gen) {
      return new Promise((resolve, reject) => {
        const ms = new MS();
        this.ms = ms;
        this.msUrl = URL.createObjectURL(ms);
        ms.addEventListener('sourceopen', () => resolve(), { once: true });
        this.video.src = this.msUrl;
        setTimeout(() => {
          if (gen === this.gen && ms.readyState !== 'open') reject(new Error('MediaSource did not open'));
        }, 10000);
      });
    }

    onBox(box, gen) {
      switch (box.type) {
        case 'ftyp':
          this.init = [box.data];
          break;
        case 'moov': {
          this.init.push(box.data);
          const m = parseMoov(box.data);
          this.timescale = m.timescale;
          this.addSourceBuffer(m.codecs, gen);
          this.enqueue(concat(this.init));
          break;
        }
        case 'prft':
          this.pendingWall = parsePrft(box.data);
          break;
        case 'moof': {
          const m = parseMoof(box.data);
          const wall = m.wall !== null ? m.wall : this.pendingWall;
          this.pendingWall = null;
          if (m.decode !== null && wall !== null && wall !== undefined) {
            this.frags.push({ t: m.decode / this.timescale, wall });
            this.arrival = Date.now() - wall;
            if (this.frags.length > 600) this.frags.splice(0, this.frags.length - 300);
          }
          this.moof = box.data;
          break;
        }
        case 'mdat':
          if (this.moof) this.enqueue(concat([this.moof, box.data]));
          this.moof = null;
          break;
        default:
          break;
      }
    }

    addSourceBuffer(codecs, gen) {
      if (this.sb) return;
      const type = `video/mp4; codecs="${codecs}"`;
      this.el.dataset.codecs = codecs || '';
      if (!codecs || !mimeOk(codecs)) {
        if (this.stream !== 'h264' && !this.noTranscode) {
          /* H.265 this browser cannot play: ask for the server's H.264 */
          this.forceH264 = true;
          this.unsupported = false;
          this.retry('', 0);
          throw new Error('unsupported codec');
        }
        this.unsupported = true;
        this.holdReason = 'codec';
        this.teardown();
        this.setState('unsupported', `This browser cannot decode ${codecs || 'this video'}.`, true);
        throw new Error('unsupported codec');
      }
      const sb = this.ms.addSourceBuffer(type);
      sb.mode = 'segments';
      sb.addEventListener('updateend', () => {
        if (gen !== this.gen) return;
        this.trim();
        this.pump();
      });
      sb.addEventListener('error', () => {
        if (gen !== this.gen) return;
        this.setState('error', 'The browser could not decode the stream.', true);
        this.retry('', undefined);
      });
      this.sb = sb;
    }

    enqueue(buf) {
      this.queue.push(buf);
      this.queued += buf.length;
      if (this.queued > QUEUE_MAX) {
        this.setState('error', 'The browser falls behind the stream.', true);
        this.retry('', 1000);
        return;
      }
      this.pump();
    }

    pump() {
      const sb = this.sb;
      if (!sb || sb.updating || !this.queue.length || !this.ms || this.ms.readyState !== 'open') return;
      const buf = this.queue.shift();
      this.queued -= buf.length;
      try {
        sb.appendBuffer(buf);
      } catch (e) {
        if (e.name === 'QuotaExceededError') {
          this.queue.unshift(buf);
          this.queued += buf.length;
          this.trim(true);
          return;
        }
        this.setState('error', `The browser refused the video (${e.name}).`, true);
        this.retry('', undefined);
        return;
      }
      if (!this.playRequested && this.frags.length) {
        this.playRequested = true;
        const p = this.video.play();
        if (p && p.catch) p.catch(() => { /* muted autoplay is allowed; a pause by the user is fine */ });
      }
    }

    /* Removes what lies more than KEEP_S behind the play position. */
    trim(force) {
      const sb = this.sb;
      if (!sb || sb.updating) return;
      const b = sb.buffered;
      if (!b.length) return;
      const ct = this.video.currentTime;
      const keep = force ? 2 : KEEP_S;
      if (ct - b.start(0) > keep + 2) {
        try {
          sb.remove(0, ct - keep);
        } catch (e) {
          /* retried on the next updateend */
        }
      }
    }

    firstPicture(how) {
      if (this.shown || !this.ac) return;
      this.shown = true;
      const ms = Math.round(performance.now() - this.t0);
      this.el.dataset.firstPictureMs = String(ms);
      this.el.dataset.firstPictureBy = how;
      this.setState('playing', '', false);
      this.retries = 0;
      this.el.classList.add('playing');
    }

    /* Counts the frames shown (requestVideoFrameCallback); the first one
     * is the first picture. Without it, 'playing' and the clock moving. */
    watchFrames(gen) {
      const v = this.video;
      if (!('requestVideoFrameCallback' in v)) return;
      const cb = () => {
        if (gen !== this.gen) return;
        this.frames++;
        this.el.dataset.frames = String(this.frames);
        if (!this.shown) this.firstPicture('frame');
        v.requestVideoFrameCallback(cb);
      };
      v.requestVideoFrameCallback(cb);
    }

    onTick() {
      if (!this.ac || !this.sb) return;
      const v = this.video;
      if (performance.now() - this.lastData > STALL_MS) {
        this.setState('error', 'No data from the recorder for 15 s.', true);
        this.retry('', 0);
        return;
      }
      let b;
      try {
        b = this.sb.buffered;
      } catch (e) {
        return;
      }
      if (!b.length) return;
      const end = b.end(b.length - 1);
      const ct = v.currentTime;
      if (ct < b.start(0)) {
        v.currentTime = Math.max(b.start(0), end - EDGE_S);
      } else {
        const lag = end - ct;
        this.el.dataset.bufferMs = String(Math.round(lag * 1000));
        if (this.arrival !== undefined) this.el.dataset.arrivalMs = String(Math.round(this.arrival));
        if (lag > JUMP_S) {
          v.currentTime = end - EDGE_S;
          v.playbackRate = 1;
        } else if (lag > SLOW_S) {
          v.playbackRate = 1.1 + Math.min(0.15, ((lag - SLOW_S) / (JUMP_S - SLOW_S)) * 0.15);
        } else {
          v.playbackRate = 1;
        }
      }
      if (v.paused && this.frags.length && !v.ended) {
        const p = v.play();
        if (p && p.catch) p.catch(() => {});
      }
      if (!('requestVideoFrameCallback' in v)) {
        /* no frame callback: count progress of the clock instead */
        if (this.lastCt !== undefined && ct > this.lastCt) {
          this.frames++;
          this.el.dataset.frames = String(this.frames);
          if (!this.shown) this.firstPicture('time');
        }
        this.lastCt = ct;
      }
      this.delay(ct);
    }

    /* now - the wall time the recorder received the frame on screen. */
    delay(ct) {
      const f = this.frags;
      if (!f.length || !this.shown) return;
      let i = f.length - 1;
      while (i > 0 && f[i].t > ct) i--;
      if (f[i].t > ct) return;
      const wall = f[i].wall + (ct - f[i].t) * 1000;
      const d = Math.max(0, Math.round(Date.now() - wall));
      this.el.dataset.delayMs = String(d);
      const rate = this.video.playbackRate > 1.01 ? ' (catching up)' : '';
      this.infoEl.textContent = `${this.stream === 'h264' ? 'H.264 (transcoded) · ' : ''}` +
        `${d < 1000 ? `${d} ms` : `${(d / 1000).toFixed(1)} s`} behind${rate}`;
    }
  }

  function concat(parts) {
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /* ---- the grid and the camera page ---- */

  const live = {
    tiles: new Map(),   /* name -> Tile */
    ctx: null,
    mode: null,         /* 'grid' | 'camera' */
    camera: null,
    page: 0,
    io: null,
  };

  function layout() {
    let n = 4;
    try {
      n = Number(localStorage.getItem(LAYOUT_KEY)) || 4;
    } catch (e) {
      n = 4;
    }
    return LAYOUTS.includes(n) ? n : 4;
  }

  function observer() {
    if (live.io || !('IntersectionObserver' in window)) return live.io;
    live.io = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const t = live.tiles.get(e.target.dataset.camera);
        if (t && t.el === e.target) t.setVisible(e.isIntersecting);
      }
    }, { threshold: 0.01 });
    return live.io;
  }

  function addTile(name, big, parent) {
    const t = new Tile(name, big, live.ctx);
    live.tiles.set(name, t);
    parent.append(t.el);
    const io = observer();
    if (io) io.observe(t.el);
    else t.setVisible(true);
    return t;
  }

  function dropTiles(keep) {
    for (const [name, t] of live.tiles) {
      if (keep && keep.has(name)) continue;
      if (live.io) live.io.unobserve(t.el);
      t.destroy();
      live.tiles.delete(name);
    }
  }

  function renderGrid() {
    const grid = live.gridEl;
    const n = layout();
    const cams = live.ctx.cameras();
    const pages = Math.max(1, Math.ceil(cams.length / n));
    live.page = Math.min(live.page, pages - 1);
    const shown = cams.slice(live.page * n, live.page * n + n);
    grid.className = `grid n${n}`;
    for (const b of document.querySelectorAll('#live-view .layout')) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.n) === n));
    }
    const pager = document.querySelector('#live-view .pager');
    if (pager) pager.hidden = pages < 2;
    const label = document.getElementById('live-page');
    if (label) label.textContent = `${live.page + 1} / ${pages}`;
    const names = new Set(shown.map((c) => c.name));
    dropTiles(names);
    for (const c of shown) {
      let t = live.tiles.get(c.name);
      if (!t) t = addTile(c.name, false, grid);
      else grid.append(t.el);   /* keeps the order */
      t.setCamera(c);
    }
    const status = document.getElementById('live-status');
    if (status) status.textContent = cams.length ? '' : 'No cameras yet. An administrator adds them under Cameras.';
  }

  function renderCamera() {
    const cam = live.ctx.cameras().find((c) => c.name === live.camera);
    const $ = (id) => document.getElementById(id);
    $('camera-title').textContent = live.camera;
    $('camera-playback').href = `#/playback/${encodeURIComponent(live.camera)}`;
    let t = live.tiles.get(live.camera);
    if (!t) t = addTile(live.camera, true, $('camera-tile'));
    if (!cam) {
      $('camera-badge').textContent = live.loaded ? 'unknown camera' : '';
      $('camera-details').textContent = '';
      $('camera-error').textContent = '';
      if (live.loaded) t.setCamera(null);
      return;
    }
    $('camera-badge').textContent = cam.state || (cam.connected ? 'connected' : 'disconnected');
    $('camera-badge').className = `badge ${cam.connected ? 'ok' : 'bad'}`;
    const codec = cam.codec ? `${isH265(cam.codec) ? 'H.265' : isH264(cam.codec) ? 'H.264' : cam.codec}` +
      `${cam.width ? ` ${cam.width}×${cam.height}` : ''}` : '';
    const sub = streamInfo(cam, 'sub');
    $('camera-details').textContent = [
      cam.connected ? `${Number(cam.fps || 0).toFixed(1)} fps` : null,
      cam.connected && cam.bitrate_bps ? `${(cam.bitrate_bps / 1e6).toFixed(2)} Mbit/s` : null,
      codec || null,
      sub ? `sub-stream ${sub.width || '?'}×${sub.height || '?'}` : null,
    ].filter(Boolean).join(' · ');
    $('camera-error').textContent = cam.last_error ? `Last error: ${cam.last_error}` : '';
    t.setCamera(cam);
  }

  function onVisibility() {
    for (const t of live.tiles.values()) t.sync();
  }

  let wired = false;
  function wire() {
    if (wired) return;
    wired = true;
    document.addEventListener('visibilitychange', onVisibility);
    for (const b of document.querySelectorAll('#live-view .layout')) {
      b.addEventListener('click', () => {
        try {
          localStorage.setItem(LAYOUT_KEY, b.dataset.n);
        } catch (e) {
          /* not remembered then */
        }
        live.page = 0;
        if (live.mode === 'grid') renderGrid();
      });
    }
    const prev = document.getElementById('live-prev');
    const next = document.getElementById('live-next');
    if (prev) prev.addEventListener('click', () => { live.page = Math.max(0, live.page - 1); renderGrid(); });
    if (next) next.addEventListener('click', () => { live.page++; renderGrid(); });
  }

  window.reelLive = {
    mountGrid(el, ctx) {
      wire();
      live.ctx = ctx;
      live.mode = 'grid';
      live.gridEl = el;
      live.loaded = ctx.cameras().length > 0;
      renderGrid();
    },
    mountCamera(name, ctx) {
      wire();
      live.ctx = ctx;
      live.mode = 'camera';
      live.camera = name;
      live.loaded = ctx.cameras().length > 0;
      document.getElementById('camera-tile').replaceChildren();
      renderCamera();
    },
    update() {
      live.loaded = true;
      if (live.mode === 'grid') renderGrid();
      else if (live.mode === 'camera') renderCamera();
    },
    unmount() {
      dropTiles(null);
      live.mode = null;
    },
    /* for tests and debugging: the tiles' figures */
    stats() {
      return [...live.tiles.values()].map((t) => ({ camera: t.name, ...t.el.dataset }));
    },
    _parse: { parseMoov, parseMoof, parsePrft, BoxSplitter },
  };
})();
