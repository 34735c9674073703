/* CivicMap embed loader: <script src="https://HOST/embed.js" data-civicmap="kind=ngo&region_iso=RU-PER" async></script>
 * puts the map widget (HOST/embed?…) in an iframe right after itself and keeps the iframe as tall
 * as the widget says it needs (postMessage {type: "civicmap:height", height}), growing and
 * shrinking with it but never below data-height (default 480) — only messages from HOST and from
 * this iframe are believed. The widget's figure does not depend on the frame's height, so
 * following it both ways cannot loop.
 *
 * For sites whose CMS moves scripts (1C-Bitrix's «Перемещать весь JavaScript в конец страницы»)
 * or merges identical ones, the place may be an element instead: <div data-civicmap="…"></div>
 * gets the iframe inside it, from one <script src="https://HOST/embed.js" async></script> anywhere
 * on the page. Each script or element is filled once, however many times the loader runs.
 *
 * The iframe is named in the widget's language (data-title overrides it). When the widget does not
 * answer once its frame has loaded (the server down or refusing the frame, an error page), the
 * frame is hidden and a line with a link to the map takes its place, so the page shows no broken
 * box; a widget that speaks up later gets its frame back. Nothing is added to the host page's
 * globals or styles: the iframe and that line carry only their own inline styles. */
(function () {
  'use strict';
  var TEXT = {  // Russian first; the titles are the map page's 'embed.frame.title' (i18n.js)
    ru: { title: 'Карта CivicMap: НКО, ТОС и стажировочные площадки',
          down: 'Карта CivicMap сейчас не загрузилась.', open: 'Открыть карту' },
    en: { title: 'CivicMap: non-profits, TOS and internship sites',
          down: 'The CivicMap map did not load.', open: 'Open the map' }
  };
  var SILENCE_MS = 4000;  // after the frame's load: no word from the widget by then, it is not there

  var self = document.currentScript;
  var loaderSrc = self && self.src;
  if (!loaderSrc) {
    var loaders = document.querySelectorAll('script[src*="embed.js"]');
    if (loaders.length) { loaderSrc = loaders[loaders.length - 1].src; }
  }

  function mount(place, src) {
    place.setAttribute('data-civicmap-loaded', '1');
    var source = new URL(src, document.baseURI);
    var origin = source.origin;
    // The app's root: where embed.js lies (a proxy may serve the app under a path).
    var root = origin + source.pathname.replace(/\/embed\.js$/, '');
    var data = (place.getAttribute('data-civicmap') || '').replace(/^[?&]+/, '');
    var minHeight = parseInt(place.getAttribute('data-height'), 10);
    if (!(minHeight >= 200)) { minHeight = 480; }
    var lang = new URLSearchParams(data).get('lang') === 'en' ? 'en' : 'ru';
    var text = TEXT[lang];

    var iframe = document.createElement('iframe');
    iframe.src = root + '/embed' + (data ? '?' + data : '');
    iframe.width = '100%';
    iframe.height = String(minHeight);
    iframe.title = place.getAttribute('data-title') || text.title;
    iframe.setAttribute('lang', lang);
    iframe.setAttribute('loading', 'lazy');
    iframe.setAttribute('allow', 'geolocation');
    iframe.className = 'civicmap-embed';
    iframe.style.border = '0';
    iframe.style.display = 'block';
    iframe.style.width = '100%';
    iframe.style.maxWidth = '100%';
    iframe.style.height = minHeight + 'px';   // also against a site's own `iframe { height: … }`
    if (place.tagName === 'SCRIPT') { place.parentNode.insertBefore(iframe, place.nextSibling); }
    else { place.appendChild(iframe); }

    var heard = false, note = null, silence = null;
    iframe.addEventListener('load', function () {
      clearTimeout(silence);
      if (!heard) { silence = setTimeout(giveUp, SILENCE_MS); }
    });
    function giveUp() {
      if (heard || note) { return; }
      note = document.createElement('p');
      note.className = 'civicmap-embed-fallback';
      note.setAttribute('lang', lang);
      note.setAttribute('role', 'status');
      note.style.margin = '0';
      note.style.padding = '.75em 1em';
      note.style.border = '1px solid #d5dbe3';
      var link = document.createElement('a');
      link.href = root + '/' + (data ? '?' + data : '');
      link.target = '_blank';
      link.rel = 'noopener';
      link.textContent = text.open;
      note.appendChild(document.createTextNode(text.down + ' '));
      note.appendChild(link);
      iframe.style.display = 'none';
      iframe.parentNode.insertBefore(note, iframe.nextSibling);
    }

    window.addEventListener('message', function (event) {
      if (event.origin !== origin || event.source !== iframe.contentWindow) { return; }
      var d = event.data;
      if (!d || d.type !== 'civicmap:height') { return; }
      heard = true;
      clearTimeout(silence);
      if (note) { note.parentNode.removeChild(note); note = null; iframe.style.display = 'block'; }
      var h = Math.ceil(Number(d.height));
      if (!isFinite(h)) { return; }
      h = Math.max(minHeight, Math.min(h, 4000));
      if (String(h) === iframe.height) { return; }
      iframe.height = String(h);
      iframe.style.height = h + 'px';
    });
  }

  function mountAll() {
    var places = document.querySelectorAll('[data-civicmap]:not([data-civicmap-loaded])');
    for (var i = 0; i < places.length; i++) {
      var place = places[i];
      if (place.tagName === 'SCRIPT') { mount(place, place.src || loaderSrc); }
      else if (loaderSrc) { mount(place, loaderSrc); }
    }
  }

  mountAll();
  // elements further down a page still being parsed (a loader without async, early in the page)
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', mountAll); }
}());
