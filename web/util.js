/* CivicMap: small helpers shared by the map page and the widget.
 * Everything that comes from the data is put into the page as text (textContent, properties),
 * never as HTML. */
(function () {
  'use strict';

  var CM = window.CivicMap = window.CivicMap || {};
  var dict = window.CivicMapI18n;

  CM.lang = 'ru';

  /** The string for key in the current language; {name} placeholders come from vars.
   *  Plural entries pick their form by vars.n. */
  CM.t = function (key, vars) {
    var table = dict[CM.lang] || dict.ru;
    var s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : dict.ru[key];
    if (s == null) { return key; }
    if (typeof s === 'object') {
      var n = vars && typeof vars.n === 'number' ? vars.n : 0;
      var form = new Intl.PluralRules(table.locale).select(n);
      s = s[form] || s.other;
      vars = Object.assign({}, vars, { n: CM.formatNumber(n, 0) });
    }
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
      });
    }
    return s;
  };

  CM.locale = function () { return (dict[CM.lang] || dict.ru).locale; };

  var numberFormats = {};
  CM.formatNumber = function (n, digits) {
    var key = CM.locale() + '|' + digits;
    if (!numberFormats[key]) {
      numberFormats[key] = new Intl.NumberFormat(CM.locale(), {
        minimumFractionDigits: digits, maximumFractionDigits: digits
      });
    }
    return numberFormats[key].format(n);
  };

  /** "145,6 км" / "145.6 km" */
  CM.formatKm = function (km) {
    if (typeof km !== 'number' || !isFinite(km)) { return ''; }
    return CM.t('km', { d: CM.formatNumber(km, Number.isInteger(km) ? 0 : 1) });
  };

  /** A share (0.6667) as "66,7 %" / "66.7%"; '' when unknown (null). */
  CM.formatPercent = function (share, digits) {
    if (typeof share !== 'number' || !isFinite(share)) { return ''; }
    return CM.t('percent', { v: CM.formatNumber(share * 100, digits == null ? 1 : digits) });
  };

  /** A short label for a count in a cluster bubble. */
  CM.formatCount = function (n) {
    if (n < 10000) { return CM.formatNumber(n, 0); }
    return CM.formatNumber(Math.round(n / 1000), 0) + (CM.lang === 'ru' ? '\u00a0тыс.' : 'k');
  };

  /** "2023-08-02" → a local date, without time zone surprises. */
  CM.formatDate = function (iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ''));
    if (!m) { return String(iso || ''); }
    var d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    return new Intl.DateTimeFormat(CM.locale(), { day: 'numeric', month: 'long', year: 'numeric' }).format(d);
  };

  /** "2026-11-23T16:00:00Z" → a local date and time. */
  CM.formatDateTime = function (iso) {
    var d = new Date(String(iso || ''));
    if (isNaN(d.getTime())) { return String(iso || ''); }
    return new Intl.DateTimeFormat(CM.locale(), {
      day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit'
    }).format(d);
  };

  /**
   * Creates an element. opts: class, text, i18n (a dictionary key for textContent),
   * i18nAttrs ({attribute: key}), attrs ({name: value}, via setAttribute), on ({event: fn}),
   * anything else is set as a DOM property (id, type, value, checked, href, htmlFor, …).
   * children: nodes or strings (strings become text nodes).
   */
  CM.el = function (tag, opts, children) {
    var e = document.createElement(tag);
    opts = opts || {};
    Object.keys(opts).forEach(function (k) {
      var v = opts[k];
      if (v == null || v === false && k !== 'checked' && k !== 'disabled') { return; }
      if (k === 'class') { e.className = v; }
      else if (k === 'text') { e.textContent = v; }
      else if (k === 'i18n') { e.setAttribute('data-i18n', v); e.textContent = CM.t(v); }
      else if (k === 'i18nAttrs') {
        e.setAttribute('data-i18n-attrs', Object.keys(v).map(function (a) { return a + ':' + v[a]; }).join(';'));
        Object.keys(v).forEach(function (a) { e.setAttribute(a, CM.t(v[a])); });
      }
      else if (k === 'attrs') { Object.keys(v).forEach(function (a) { e.setAttribute(a, v[a]); }); }
      else if (k === 'on') { Object.keys(v).forEach(function (ev) { e.addEventListener(ev, v[ev]); }); }
      else { e[k] = v; }
    });
    (children || []).forEach(function (c) {
      if (c == null || c === false) { return; }
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  };

  /** Re-translates every element made with i18n / i18nAttrs under root. */
  CM.translate = function (root) {
    root.querySelectorAll('[data-i18n]').forEach(function (e) { e.textContent = CM.t(e.getAttribute('data-i18n')); });
    root.querySelectorAll('[data-i18n-attrs]').forEach(function (e) {
      e.getAttribute('data-i18n-attrs').split(';').forEach(function (pair) {
        var i = pair.indexOf(':');
        e.setAttribute(pair.slice(0, i), CM.t(pair.slice(i + 1)));
      });
    });
  };

  /** A link only for http(s) addresses; anything else stays text. */
  CM.externalLink = function (url, text) {
    var s = String(url == null ? '' : url).trim();
    if (!/^https?:\/\//i.test(s)) { return document.createTextNode(s); }
    var a = document.createElement('a');
    a.href = s;
    a.textContent = text == null ? s : text;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  };

  /** Escapes text for an HTML attribute value in a generated snippet (the snippet is shown as text). */
  CM.escapeAttr = function (s) {
    return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  };

  /** The app's path under its host: "" at the root, "/civicmap" behind a proxy's sub-path
   *  (the server writes it into the page when --public-url has a path). */
  CM.base = (function () {
    var meta = document.querySelector('meta[name="civicmap-base"]');
    return meta ? meta.getAttribute('content').replace(/\/+$/, '') : '';
  })();

  /** An app path ("/collections/…") under the app's base; other URLs, and paths already
   *  under the base, as they are. */
  CM.url = function (path) {
    if (path.charAt(0) !== '/' || path.charAt(1) === '/') { return path; }
    if (CM.base && (path === CM.base || path.indexOf(CM.base + '/') === 0 || path.indexOf(CM.base + '?') === 0)) { return path; }
    return CM.base + path;
  };

  /** How long a request may wait for its answer to begin before it counts as failed (a phone that
   *  lost its connection would otherwise wait for ever, with no «Повторить»). Once the answer has
   *  begun, a slow link may take its time over the body (the regions' outlines: about 0.9 MB). */
  CM.requestTimeoutMs = 25000;

  /** fetch + JSON with an AbortSignal; rejects with an Error carrying .status on HTTP errors, and
   *  from an RFC 9457 problem body its .type (the last part: "not-found", "invalid-parameter"…),
   *  .detail and .invalidParams ([{name, reason}]), to show as text. With no answer after
   *  CM.requestTimeoutMs it rejects with a TimeoutError (not an AbortError: the caller did not cancel it). */
  CM.getJSON = function (url, signal) {
    var ctrl = new AbortController(), timedOut = false;
    var stop = function () { ctrl.abort(); };
    if (signal) {
      if (signal.aborted) { ctrl.abort(); } else { signal.addEventListener('abort', stop); }
    }
    var timer = setTimeout(function () { timedOut = true; ctrl.abort(); }, CM.requestTimeoutMs);
    var done = function () {
      clearTimeout(timer);
      if (signal) { signal.removeEventListener('abort', stop); }
    };
    return fetch(CM.url(url), { signal: ctrl.signal, headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) {
        clearTimeout(timer);
        if (!r.ok) {
          var err = new Error('HTTP ' + r.status + ' for ' + url);
          err.status = r.status;
          return r.json().then(function (body) {
            if (body && typeof body.type === 'string') { err.type = body.type.replace(/^.*:/, ''); }
            if (body && typeof body.detail === 'string') { err.detail = body.detail; }
            if (body && Array.isArray(body['invalid-params'])) { err.invalidParams = body['invalid-params']; }
            throw err;
          }, function () { throw err; });
        }
        return r.json();
      })
      .then(function (body) { done(); return body; }, function (err) {
        done();
        if (timedOut && !(signal && signal.aborted)) {
          err = new Error('no answer within ' + CM.requestTimeoutMs / 1000 + ' s for ' + url);
          err.name = 'TimeoutError';
        }
        throw err;
      });
  };

  var PROBLEM_KINDS = {
    'not-found': 'not-found', 'invalid-parameter': 'invalid',
    'not-ready': 'unavailable', timeout: 'unavailable', unhealthy: 'unavailable'
  };

  /** What went wrong with a request of CM.getJSON, to be told in the page's language: by the
   *  problem's type (RFC 9457), else by the HTTP status — 'not-found', 'invalid', 'unavailable',
   *  'server', 'other' —, 'network' when the server was not reached or did not answer in time,
   *  null when nothing can be said (an aborted request). Each page has its own sentence per kind
   *  ('report.problem.<kind>', 'card.nearby.problem.<kind>'); the server's English words are never
   *  the message. */
  CM.problemKind = function (err) {
    if (!err) { return null; }
    if (typeof err.type === 'string' && Object.prototype.hasOwnProperty.call(PROBLEM_KINDS, err.type)) {
      return PROBLEM_KINDS[err.type];
    }
    var s = err.status;
    if (!s) { return err.name === 'TypeError' || err.name === 'TimeoutError' ? 'network' : null; }
    return s === 404 ? 'not-found' : s === 400 ? 'invalid' : s === 503 ? 'unavailable' : s >= 500 ? 'server' : 'other';
  };

  /** URLSearchParams as a query string that keeps commas readable (kind=ngo,tos; bbox=…). */
  CM.query = function (params) {
    return params.toString().replace(/%2C/gi, ',');
  };

  CM.debounce = function (fn, ms) {
    var timer = null;
    var d = function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { timer = null; fn.apply(self, args); }, ms);
    };
    d.cancel = function () { clearTimeout(timer); timer = null; };
    return d;
  };

  /** Longitude moved by whole turns to lie within 180° of ref (so the Far East draws in one piece). */
  CM.nearLon = function (lon, ref) {
    return lon + 360 * Math.round((ref - lon) / 360);
  };

  /** Longitude wrapped into [-180, 180]. */
  CM.wrapLon = function (lon) {
    var w = ((lon + 180) % 360 + 360) % 360 - 180;
    return w;
  };
}());
