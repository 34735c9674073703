/* CivicMap embed loader: <script src="https://HOST/embed.js" data-civicmap="kind=ngo&region_iso=RU-PER" async></script>
 * puts the map widget (HOST/embed?…) in an iframe right after itself and keeps the iframe as tall
 * as the widget says it needs (postMessage {type: "civicmap:height", height}), growing and
 * shrinking with it but never below data-height (default 480) — only messages from HOST and from
 * this iframe are believed. The widget's figure does not depend on the frame's height, so
 * following it both ways cannot loop. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[data-civicmap]');
    for (var i = 0; i < all.length; i++) {
      if (!all[i].hasAttribute('data-civicmap-loaded')) { script = all[i]; break; }
    }
  }
  if (!script || script.hasAttribute('data-civicmap-loaded')) { return; }
  script.setAttribute('data-civicmap-loaded', '1');

  var source = new URL(script.src, document.baseURI);
  var origin = source.origin;
  // The app's root: where embed.js lies (a proxy may serve the app under a path).
  var root = origin + source.pathname.replace(/\/embed\.js$/, '');
  var data = (script.getAttribute('data-civicmap') || '').replace(/^[?&]+/, '');
  var minHeight = parseInt(script.getAttribute('data-height'), 10);
  if (!(minHeight >= 200)) { minHeight = 480; }

  var iframe = document.createElement('iframe');
  iframe.src = root + '/embed' + (data ? '?' + data : '');
  iframe.width = '100%';
  iframe.height = String(minHeight);
  iframe.title = script.getAttribute('data-title') || 'CivicMap';
  iframe.setAttribute('loading', 'lazy');
  iframe.setAttribute('allow', 'geolocation');
  iframe.className = 'civicmap-embed';
  iframe.style.border = '0';
  iframe.style.display = 'block';
  iframe.style.width = '100%';
  iframe.style.maxWidth = '100%';
  script.parentNode.insertBefore(iframe, script.nextSibling);

  window.addEventListener('message', function (event) {
    if (event.origin !== origin || event.source !== iframe.contentWindow) { return; }
    var d = event.data;
    if (!d || d.type !== 'civicmap:height') { return; }
    var h = Math.ceil(Number(d.height));
    if (!isFinite(h)) { return; }
    h = Math.max(minHeight, Math.min(h, 4000));
    if (String(h) === iframe.height) { return; }
    iframe.height = String(h);
    iframe.style.height = h + 'px';
  });
}());
