/* SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The small DOM helpers every page script shares, as window.reelDom. It is
 * the first script index.html loads (the others are deferred after it, and
 * admin.js is added later by app.js). No inline script or style: text goes
 * in with textContent, handlers with addEventListener.
 *
 *   el(tag, cls, text)       an element with a class and a text
 *   h(tag, attrs, ...kids)   an element from attributes: class, text, onX
 *                            (a listener), true (an empty attribute); null,
 *                            undefined and false are left out, as are
 *                            null/undefined children
 *   parseQuery(q)            "a=1&b=x%20y" -> { a: '1', b: 'x y' } (a part
 *                            that does not decode is skipped)
 *
 * and the admin-style forms' pieces (admin.css's adm-* classes), used by
 * admin.js and notify.js:
 *
 *   errText(r, what)         "what: the server's error" from an api() answer
 *   say(el, text, bad)       a status line's text, marked bad or not
 *   field(label, input, hint) a labelled field (the input gets a fresh id)
 *   dialog(title, body, buttons) a modal <dialog>, removed when closed
 */
(function () {
  'use strict';

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v === true) e.setAttribute(k, '');
      else e.setAttribute(k, String(v));
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  function parseQuery(q) {
    const o = {};
    for (const part of String(q || '').split('&')) {
      const i = part.indexOf('=');
      if (i <= 0) continue;
      try {
        o[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
      } catch (e) {
        /* skip */
      }
    }
    return o;
  }

  function errText(r, what) {
    const m = r && r.json && r.json.error ? r.json.error : 'HTTP ' + (r ? r.status : '?');
    return what ? what + ': ' + m : m;
  }

  function say(e, text, bad) {
    e.textContent = text || '';
    e.classList.toggle('adm-bad', !!bad);
  }

  function field(label, input, hint) {
    const id = 'f-' + Math.random().toString(36).slice(2);
    input.id = id;
    return h('div', { class: 'adm-field' }, h('label', { for: id, text: label }), input,
      hint ? h('small', { class: 'adm-hint', text: hint }) : null);
  }

  function dialog(title, body, buttons) {
    const d = h('dialog', { class: 'adm-dialog', 'aria-label': title });
    const form = h('form', { method: 'dialog', class: 'adm-form' });
    form.append(h('h2', { text: title }), body);
    const row = h('div', { class: 'adm-buttons' });
    for (const b of buttons) row.append(b);
    form.append(row);
    d.append(form);
    d.addEventListener('close', () => d.remove());
    document.body.append(d);
    d.showModal();
    return d;
  }

  window.reelDom = Object.freeze({ el, h, parseQuery, errText, say, field, dialog });
})();
