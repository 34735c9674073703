#!/usr/bin/env python3
"""Browser test of the CivicMap map page and widget in headless Chromium (selenium).

    python3 Tests/browser/test_map.py --base http://127.0.0.1:8080 \
        --second-origin-port 8765 --screenshot docs/screenshot.png

Needs a running server with the demo data plus the organisation named
'<img src=x onerror="window.__xss=1"><b>Жирный</b> НКО' (Yakutsk, RU-SA, ngo).
Prints one line per check and ends with `browser: N passed, M failed`; exits 1 on any failure.
"""
import argparse
import functools
import http.server
import json
import math
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service

# The test machine has no outside network: Selenium must not phone home or fetch drivers.
os.environ.setdefault("SE_AVOID_STATS", "true")
os.environ.setdefault("SE_OFFLINE", "true")
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

XSS_NAME = '<img src=x onerror="window.__xss=1"><b>Жирный</b> НКО'
KIND_NAMES = {'ru': {'ngo': 'НКО', 'tos': 'ТОС', 'internship_site': 'Стажировочная площадка'},
              'en': {'ngo': 'Non-profit (NGO)', 'tos': 'Territorial self-government (TOS)', 'internship_site': 'Internship site'}}
# Tile images cannot load without outside network: their failures are not the page's errors.
TILE_HOSTS = {'tile.openstreetmap.org'}

results = []


def check(name, ok, detail=''):
    results.append(bool(ok))
    print(('ok   ' if ok else 'FAIL ') + name + ('' if ok or not detail else ': ' + str(detail)), flush=True)
    return bool(ok)


def number(text):
    digits = re.sub(r'[^\d]', '', text or '')
    return int(digits) if digits else None


# ------------------------------------------------------------------ the second origin

class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def start_host(port, base):
    root = tempfile.mkdtemp(prefix='civicmap-host-')
    with open(os.path.join(root, 'host.html'), 'w', encoding='utf-8') as f:
        f.write(f'''<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Host page</title>
<link rel="icon" href="data:,">
<style>body{{font-family:sans-serif;margin:0 auto;max-width:900px;padding:1rem}} .tall{{height:3000px;background:linear-gradient(#fff,#ccd)}}</style>
</head><body>
<h1>A partner's site</h1>
<p>The CivicMap widget below is loaded by embed.js from another origin.</p>
<script src="{base}/embed.js" data-civicmap="lang=ru&amp;controls=filters,legend,list" data-height="300" async></script>
<div class="tall">The page goes on.</div>
</body></html>''')
    # A ministry's page: a strict CSP (as a meta tag: the same rules as the header), Russian, a site
    # rule for video frames (`iframe { height: 150px }`), one widget by its <script> and one in a
    # <div data-civicmap> in a 300 px sidebar, filled by a loader at the end of the page (1C-Bitrix
    # moves scripts there); the loader runs twice. Its own scripts only (no inline ones).
    with open(os.path.join(root, 'ministry.css'), 'w', encoding='utf-8') as f:
        f.write('body { font-family: serif; margin: 0 auto; max-width: 1100px; padding: 1rem; }\n'
                '.layout { display: flex; gap: 20px; } .content { flex: 1; min-width: 0; }\n'
                '.side { width: 300px; flex: none; } .tall { height: 2000px; }\n'
                'iframe { height: 150px; }\n')
    with open(os.path.join(root, 'watch.js'), 'w', encoding='utf-8') as f:
        f.write('window.__keys0 = Object.keys(window); window.__errors = []; window.__csp = [];\n'
                'window.addEventListener("error", function (e) { window.__errors.push(String(e.message)); });\n'
                'document.addEventListener("securitypolicyviolation", function (e) {\n'
                '  window.__csp.push(e.violatedDirective + " " + e.blockedURI); });\n')
    csp = ("default-src 'self'; script-src 'self' %s; frame-src 'self' %s; style-src 'self'; img-src 'self' data:"
           % (base, base))
    with open(os.path.join(root, 'ministry.html'), 'w', encoding='utf-8') as f:
        f.write(f'''<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Министерство территориального развития</title>
<meta http-equiv="Content-Security-Policy" content="{csp}">
<link rel="icon" href="data:,"><link rel="stylesheet" href="ministry.css"><script src="watch.js"></script>
</head><body>
<h1>Министерство</h1>
<div class="layout"><div class="content">
<p><a href="#" id="before-widget">Удалённые НКО Пермского края</a></p>
<script src="{base}/embed.js" data-civicmap="region_iso=RU-PER&amp;remote=1&amp;km=50" data-height="360" async></script>
<p><a href="#" id="after-widget">После карты</a></p>
<div class="tall"></div>
</div>
<aside class="side"><h2>Карта</h2><div id="side-map" data-civicmap="region_iso=RU-PER&amp;controls=legend,list"></div></aside>
</div>
<script src="{base}/embed.js" async></script>
</body></html>''')
    # A partner's page made for phones (a viewport meta): a widget with filters and the list, and a
    # locked one (its filters fixed by the site).
    with open(os.path.join(root, 'phone.html'), 'w', encoding='utf-8') as f:
        f.write(f'''<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Партнёр</title><link rel="icon" href="data:,"></head><body>
<h1>НКО нашего края</h1>
<script src="{base}/embed.js" data-civicmap="lang=ru&amp;controls=filters,list" data-height="300" async></script>
<p>Между картами.</p>
<script src="{base}/embed.js" data-civicmap="{PHONE_LOCKED}" data-height="300" async></script>
<p>Дальше страница.</p>
</body></html>''')
    # The widget's server down or refusing the frame: a loader whose widget page is a 404.
    os.makedirs(os.path.join(root, 'down'))
    with urllib.request.urlopen(base + '/embed.js', timeout=10) as r, \
            open(os.path.join(root, 'down', 'embed.js'), 'wb') as f:
        f.write(r.read())
    with open(os.path.join(root, 'down.html'), 'w', encoding='utf-8') as f:
        f.write('''<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Страница</title><link rel="icon" href="data:,"></head><body>
<h1>Министерство</h1>
<script src="/down/embed.js" data-civicmap="region_iso=RU-PER&amp;remote=1" async></script>
<p>Дальше страница.</p>
</body></html>''')
    # The iframe code written without allow="geolocation" (or with a CMS that drops the attribute).
    with open(os.path.join(root, 'plain.html'), 'w', encoding='utf-8') as f:
        f.write(f'''<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8"><title>Страница</title><link rel="icon" href="data:,"></head><body>
<iframe src="{base}/embed?region_iso=RU-PER&amp;controls=legend,list" width="100%" height="480" title="Карта НКО"></iframe>
</body></html>''')
    handler = functools.partial(QuietHandler, directory=root)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.root = root  # removed with the server
    return server


# ------------------------------------------------------------------ helpers in the page

def legend(driver):
    """{'ngo': n, 'tos': n, 'internship_site': n, 'total': n} from the legend, or None."""
    return driver.execute_script('''
        var out = {};
        var t = document.getElementById('cm-legend-total');
        if (!t) return null;
        document.querySelectorAll('.cm-legend__count[data-kind]').forEach(function (e) {
            out[e.getAttribute('data-kind')] = e.textContent; });
        out.total = t.textContent;
        return out;''')


def legend_numbers(driver):
    raw = legend(driver)
    if not raw:
        return None
    nums = {k: number(v) for k, v in raw.items()}
    return None if any(v is None for v in nums.values()) else nums


def idle(driver):
    """No refresh scheduled or in flight, no error shown (the app says data-state="idle")."""
    return driver.execute_script('''
        var app = document.getElementById('cm-app'), s = document.querySelector('.cm-status');
        return !!app && app.getAttribute('data-state') === 'idle' && !!s && !s.classList.contains('is-error');''')


def list_text(driver):
    return driver.execute_script('var l = document.getElementById("cm-list"); return l ? l.textContent : null;') or ''


def report_state(driver):
    """data-state of the report page's root ("busy" until the report and the regions are in)."""
    return driver.execute_script("var r = document.getElementById('cm-report'); return r ? r.getAttribute('data-state') : null;")


def report_totals(driver):
    """{'organizations': '3', 'remote': '1', …}: the texts of the report's figures (data-total)."""
    return driver.execute_script('''
        var out = {};
        document.querySelectorAll('#cm-report [data-total]').forEach(function (e) {
            out[e.getAttribute('data-total')] = e.textContent; });
        return out;''')


def get_json(url):
    with urllib.request.urlopen(urllib.request.Request(url, headers={'Accept': 'application/json'}), timeout=30) as r:
        return json.load(r)


def get_json_problem(url):
    """The problem+json the server answers url with ({} when it answers 2xx)."""
    try:
        urllib.request.urlopen(url, timeout=10)
        return {}
    except urllib.error.HTTPError as e:
        return json.load(e)


def json_url_of(page_url):
    """The report page's own URL asked for JSON (what the page itself fetches)."""
    u = urllib.parse.urlsplit(page_url)
    q = [(k, v) for k, v in urllib.parse.parse_qsl(u.query) if k not in ('lang', 'f', 'dialect')] + [('f', 'json')]
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, urllib.parse.urlencode(q), ''))


def nearby_state(driver, which):
    """data-state of the open card's matching section ('sites' or 'remote'), or None."""
    return driver.execute_script(
        "var s = document.querySelector('.leaflet-popup .cm-nearby--' + arguments[0]);"
        "return s ? s.getAttribute('data-state') : null;", which)


def data_credit(driver):
    """The widget's data credit: its text, {link text: href}, whether every link opens a new tab,
    whether it lies inside the window, and the map's attribution (the basemap's credit)."""
    return driver.execute_script('''
        var c = document.querySelector('.cm-credit'), a = document.querySelector('.leaflet-control-attribution');
        if (!c) { return null; }
        var links = {}, all = Array.from(c.querySelectorAll('a')), r = c.getBoundingClientRect();
        all.forEach(function (l) { links[l.textContent] = l.href; });
        return {text: c.textContent, links: links, blank: all.length > 0 && all.every(function (l) {
                    return l.target === '_blank' && /noopener/.test(l.rel); }),
                inView: r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 0.5,
                attribution: a ? a.textContent : ''};''')


def url_param(driver, name):
    return driver.execute_script("return new URLSearchParams(location.search).get(arguments[0])", name)


def popup_title(driver):
    return driver.execute_script(
        "var t = document.querySelector('.leaflet-popup .cm-card__title'); return t ? t.textContent : ''") or ''


def focused_icon(driver):
    """What has the focus: {'what': 'cluster' or 'marker', its name, its text (a cluster's count),
    whether it is drawn inside the map} for an icon on the map, else {'what': the element's id or tag}."""
    return driver.execute_script('''
        var a = document.activeElement, m = document.getElementById('cm-map').getBoundingClientRect();
        if (!a || !a.classList.contains('leaflet-marker-icon')) { return {what: a ? (a.id || a.tagName) : null}; }
        var r = a.getBoundingClientRect(), cluster = a.classList.contains('marker-cluster');
        return {what: cluster ? 'cluster' : 'marker', label: a.getAttribute('aria-label'), text: a.textContent,
                inMap: r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom};''')


def off_map(driver, lon, lat):
    """Whether (lon, lat) lies outside the map's view, from the centre and zoom in the URL (Web Mercator)."""
    def px(lo, la, z):
        s = 256 * 2 ** z
        return (lo + 180) / 360 * s, (1 - math.asinh(math.tan(math.radians(la))) / math.pi) / 2 * s
    z = int(url_param(driver, 'z'))
    cx, cy = px(float(url_param(driver, 'lon')), float(url_param(driver, 'lat')), z)
    x, y = px(lon, lat, z)
    size = driver.execute_script("var r = document.getElementById('cm-map').getBoundingClientRect(); return [r.width, r.height];")
    return abs(x - cx) > size[0] / 2 or abs(y - cy) > size[1] / 2


def focus_cluster(driver, kind):
    """Focuses the largest cluster whose name says `kind` ('приблизить': a click zooms in; 'в одном
    месте': its organisations lie at one place); (its name, its count), or (None, 0)."""
    found = driver.execute_script('''
        var kind = arguments[0], c = Array.from(document.querySelectorAll('.marker-cluster'))
            .filter(function (e) { return (e.getAttribute('aria-label') || '').indexOf(kind) >= 0; })
            .sort(function (a, b) { return Number(b.textContent) - Number(a.textContent); })[0];
        if (!c) { return null; }
        c.focus();
        return [c.getAttribute('aria-label'), c.textContent];''', kind)
    return (found[0], number(found[1])) if found else (None, 0)


def focus_on_part(driver, n):
    """After a cluster of n organisations is opened with the keyboard: waits (5 s at most) for the
    focus to reach a marker or cluster and the map to rest; what has the focus (focused_icon), with
    'ok' when it is a part of the cluster: named, smaller than the cluster, drawn inside the map."""
    try:
        wait(driver, lambda d: focused_icon(d)['what'] in ('cluster', 'marker') and idle(d), timeout=5, message='focus on a part')
    except TimeoutException:
        pass
    part = focused_icon(driver)
    count = number(part.get('text')) if part['what'] == 'cluster' else 1
    part['ok'] = bool(part['what'] in ('cluster', 'marker') and part['label'] and part['inMap'] and count and count < n)
    return part


def count_fetches(driver):
    """From now on the page records the URLs it fetches (window.__fetched)."""
    driver.execute_script('''
        window.__fetched = [];
        var f = window.fetch;
        window.fetch = function (u) { window.__fetched.push(String(u)); return f.apply(this, arguments); };''')


def fetched(driver, part):
    return [u for u in driver.execute_script('return window.__fetched || []') if part in u]


def load_map(driver, url):
    driver.get(url)
    wait(driver, lambda d: (legend_numbers(d) or {}).get('total', 0) > 0 and idle(d), message='map page loaded')


def wait(driver, fn, timeout=20, message=''):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: fn(d), message)


def severe_errors(driver):
    out = []
    for entry in driver.get_log('browser'):
        if entry.get('level') != 'SEVERE':
            continue
        msg = entry.get('message', '')
        if any(h in msg for h in TILE_HOSTS):
            continue
        out.append(msg)
    return out


def add_tile_hosts(base):
    """The basemap hosts named by /map-config.json (besides OSM's), whose failed loads are ignored."""
    try:
        with urllib.request.urlopen(base + '/map-config.json', timeout=10) as r:
            cfg = json.load(r)
        urls = [(cfg.get('tiles') or {}).get('url', '')] + [t.get('url', '') for t in cfg.get('localTiles') or []]
        for u in urls:
            host = urllib.parse.urlsplit(u).hostname
            if host and not u.startswith(base):
                TILE_HOSTS.add(host.replace('{s}.', ''))
    except Exception as e:  # the page itself will show whether the config loads
        print('note: /map-config.json not read (%s)' % e)


def make_driver(page_load='normal'):
    opts = webdriver.ChromeOptions()
    opts.page_load_strategy = page_load
    opts.binary_location = os.environ.get('CHROMIUM', '/usr/bin/chromium')
    for a in ('--headless=new', '--no-sandbox', '--window-size=1280,900', '--disable-gpu',
              '--disable-dev-shm-usage', '--lang=ru-RU',
              # no traffic beyond the servers under test
              '--disable-background-networking', '--disable-component-update', '--disable-sync',
              '--disable-domain-reliability', '--no-first-run', '--disable-default-apps'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    service = Service(os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver'))
    driver = webdriver.Chrome(service=service, options=opts)
    # the viewport itself is 1280×900 (the window size includes the browser's frame)
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride',
                           {'width': 1280, 'height': 900, 'deviceScaleFactor': 1, 'mobile': False})
    driver.set_page_load_timeout(30)
    return driver


# ------------------------------------------------------------------ phones and tablets

MOBILE_UA = ('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) '
             'Chrome/120.0.0.0 Mobile Safari/537.36')


def emulate(driver, width, height):
    """The viewport of a phone or tablet held as width × height (a rotation is a new size)."""
    driver.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
        'width': width, 'height': height, 'deviceScaleFactor': 2, 'mobile': True,
        'screenOrientation': {'type': 'portraitPrimary' if height >= width else 'landscapePrimary',
                              'angle': 0 if height >= width else 90}})


def make_mobile_driver(width, height):
    """Chromium as an Android phone: its user agent (Leaflet and markercluster behave as on a
    phone), touch input, a mobile viewport."""
    driver = make_driver()
    driver.execute_cdp_cmd('Emulation.setUserAgentOverride', {'userAgent': MOBILE_UA, 'platform': 'Android'})
    driver.execute_cdp_cmd('Emulation.setTouchEmulationEnabled', {'enabled': True, 'maxTouchPoints': 5})
    emulate(driver, width, height)
    return driver


def tap(driver, x, y):
    """A finger's tap at (x, y) in the viewport."""
    driver.execute_cdp_cmd('Input.dispatchTouchEvent', {'type': 'touchStart', 'touchPoints': [{'x': x, 'y': y}]})
    driver.execute_cdp_cmd('Input.dispatchTouchEvent', {'type': 'touchEnd', 'touchPoints': []})


def tap_element(driver, css):
    """Taps the middle of the first element matching css, the page scrolled to bring it to the middle
    of the screen first (only the page: scrollIntoView would also scroll the map's own box, which
    Leaflet never expects)."""
    at = driver.execute_script('''
        var e = document.querySelector(arguments[0]);
        if (!e) { return null; }
        var r = e.getBoundingClientRect();
        window.scrollBy(0, r.top + r.height / 2 - innerHeight / 2);
        r = e.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2];''', css)
    if at is None:
        raise WebDriverException('nothing to tap: ' + css)
    tap(driver, at[0], at[1])


def card_in_map(driver):
    """Whether a card is open with all of it and the place it points at inside the map."""
    return driver.execute_script('''
        var p = document.querySelector('.leaflet-popup'), m = document.getElementById('cm-map').getBoundingClientRect();
        if (!p) { return {open: false}; }
        var r = p.getBoundingClientRect(), t = p.querySelector('.leaflet-popup-tip').getBoundingClientRect();
        return {open: true, card: [Math.round(r.top), Math.round(r.bottom)], map: [Math.round(m.top), Math.round(m.bottom)],
                inside: r.top >= m.top - 1 && r.bottom <= m.bottom + 1 && r.left >= m.left - 1 && r.right <= m.right + 1,
                tip: t.bottom > m.top && t.bottom < m.bottom && t.left > m.left && t.right < m.right};''')


# What real organisations have and the demo's lack: contacts. Given to «Проектная среда» (id 20) in
# the answers the phone's page receives while enrich_card's script is on.
RICH_CARD = {
    'website': 'https://sreda.example.ru',
    'email': 'info@sreda.example.ru',
    'phone': '+7 (34260) 4-12-34',
}


def enrich_card(driver):
    """From the next page on, the answers for organisation 20 carry RICH_CARD (before any script of
    the page runs, so its first answer has them too)."""
    return driver.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source': '''
        (function () {
            var extra = %s, f = window.fetch;
            window.fetch = function (u) {
                return f.apply(this, arguments).then(function (r) {
                    if (!r.ok || String(u).indexOf('/collections/organizations/items?') < 0) { return r; }
                    return r.clone().json().then(function (fc) {
                        (fc.features || []).forEach(function (g) { if (g.id === 20) { Object.assign(g.properties, extra); } });
                        return new Response(JSON.stringify(fc), {status: r.status, headers: r.headers});
                    });
                });
            };
        })();''' % json.dumps(RICH_CARD, ensure_ascii=False)})


def mobile_checks(base, port):
    """The page on a phone and a tablet (mobile user agent, touch, small viewports)."""
    driver = make_mobile_driver(360, 640)
    try:
        mobile_card_checks(driver, base)
        mobile_list_checks(driver, base)
        landscape_checks(driver, base)
        phone_widget_checks(driver, port)
        slow_connection_checks(driver, base)
        overlay_checks(driver, base)
        phone_filters_checks(driver, base)
        tap_through_checks(driver, base)
        phone_card_checks(driver, base)
        tap_target_checks(driver, base)
        location_checks(driver, base)
        near_message_checks(driver, base)
        phone_report_checks(driver, base)
        back_button_checks(driver, base)
        legend_checks(driver, base)
    finally:
        driver.quit()


def mobile_card_checks(driver, base):
    """A card opened by a tap stays open: it fits the map (also after a rotation) and the map never
    pans its marker out of view (markercluster drops markers out of view on phones, and the card
    with them)."""
    name = 'Проектная среда'
    url = base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'lat': 59.0152, 'lon': 54.6532, 'z': 11})
    try:
        emulate(driver, 768, 1024)
        load_map(driver, url)
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: name in popup_title(d), timeout=5, message='card by a tap')
        # settled: its nearest sites are in (or it has gone) and the map rests
        wait(driver, lambda d: nearby_state(d, 'sites') != 'busy' and idle(d), message='card settled')
        time.sleep(0.5)
        where = card_in_map(driver)
        check('tablet 768×1024: a tapped card that grows (its nearest sites) stays open, inside the map, its marker in view '
              '(card %s, map %s)' % (where.get('card'), where.get('map')),
              where['open'] and where['inside'] and where['tip'], where)

        emulate(driver, 360, 640)
        load_map(driver, url)
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: name in popup_title(d), timeout=5, message='card by a tap')
        wait(driver, lambda d: nearby_state(d, 'sites') != 'busy' and idle(d), message='card settled')
        emulate(driver, 640, 360)
        time.sleep(1)                                   # the map's resize comes a frame or two later
        wait(driver, lambda d: idle(d), message='rotated')
        where = card_in_map(driver)
        check('phone turned to landscape with a card open: the card fits the smaller map, its marker in view (card %s, map %s)'
              % (where.get('card'), where.get('map')),
              where['open'] and where['inside'] and where['tip'], where)
    except (TimeoutException, WebDriverException) as e:
        check('phone: a tapped card stays open', False, (getattr(e, 'msg', e), card_in_map(driver)))


def in_viewport(driver, css):
    """Whether the first element matching css is shown whole in the viewport (None: no such element)."""
    return driver.execute_script('''
        var e = document.querySelector(arguments[0]);
        if (!e) { return null; }
        var r = e.getBoundingClientRect();
        return r.height > 0 && r.top >= -1 && r.bottom <= window.innerHeight + 1;''', css)


def mobile_list_checks(driver, base):
    """Phone 360×640: the list is under the map; a tap on an organisation in it brings the map (and
    the card) into view."""
    name = 'Проектная среда'
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?lang=ru')
        tap_element(driver, "#cm-list button.cm-item[data-id='20']")
        wait(driver, lambda d: name in popup_title(d) and idle(d), message='card from the list')
        wait(driver, lambda d: in_viewport(d, '.leaflet-popup'), timeout=3, message='card in view')
        check('phone: a tap on the list scrolls the map with the card into view', True)
    except (TimeoutException, WebDriverException) as e:
        check('phone: a tap on the list scrolls the map with the card into view', False,
              (getattr(e, 'msg', e), in_viewport(driver, '.leaflet-popup'), driver.execute_script('return window.scrollY')))


def landscape_checks(driver, base):
    """Phone held sideways (640×360): the map fills the screen under the header, with «Фильтры» and
    the list beside it; the filters open in that column, the map staying as it is, «Показать (N)» in view."""
    boxes = '''
        var out = {inner: innerHeight, header: Math.round(document.querySelector('.cm-header').getBoundingClientRect().bottom)};
        [['map', '#cm-map'], ['list', '#cm-listpanel'], ['toggle', '.cm-filters__toggle'], ['show', '.cm-filters__show']].forEach(function (x) {
            var r = document.querySelector(x[1]).getBoundingClientRect();
            out[x[0]] = [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)];
        });
        return out;'''
    try:
        emulate(driver, 640, 360)
        load_map(driver, base + '/?lang=ru')
        driver.execute_script('window.scrollTo(0, 0)')
        b = driver.execute_script(boxes)
        m, lst, tg = b['map'], b['list'], b['toggle']
        check('phone 640×360: the map fills the screen under the header (%d of %d px high), «Фильтры» and the list beside it'
              % (m[3] - m[1], b['inner']),
              m[1] == b['header'] and m[3] >= b['inner'] - 1 and lst[0] >= m[2] - 1 and lst[1] < b['inner'] - 100
              and tg[0] >= m[2] - 1 and tg[3] <= b['inner'], b)
        tap_element(driver, '.cm-filters__toggle')
        wait(driver, lambda d: in_viewport(d, '.cm-filters__show'), timeout=3, message='«Показать» in view')
        driver.execute_script('window.scrollTo(0, 0)')
        opened = driver.execute_script(boxes)
        tap_element(driver, '.cm-filters__show')
        wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, '.cm-filters__toggle').get_attribute('aria-expanded') == 'false'
             and in_viewport(d, '#cm-list-heading'), timeout=3, message='filters folded')
        check('phone 640×360: the filters open beside the map, which stays as it was, «Показать (N)» in view; it folds them',
              opened['map'] == m and opened['show'][0] >= m[2] - 1 and opened['show'][3] <= opened['inner'], (b, opened))
    except (TimeoutException, WebDriverException) as e:
        check('phone 640×360: the map fills the screen', False, getattr(e, 'msg', e))


def tap_in_frame(driver, frame, css):
    """Taps the middle of the first element matching css in frame (from the host page), the host page
    scrolled to bring it to the middle of the screen first."""
    driver.switch_to.frame(frame)
    try:
        r = driver.execute_script('''
            var e = document.querySelector(arguments[0]);
            if (!e) { return null; }
            var r = e.getBoundingClientRect();
            return [r.left, r.top, r.width, r.height];''', css)
    finally:
        driver.switch_to.default_content()
    if r is None:
        raise WebDriverException('nothing to tap in the frame: ' + css)
    at = driver.execute_script('''
        var f = arguments[0].getBoundingClientRect(), r = arguments[1];
        window.scrollBy(0, f.top + r[1] + r[3] / 2 - innerHeight / 2);
        f = arguments[0].getBoundingClientRect();
        return [f.left + r[0] + r[2] / 2, f.top + r[1] + r[3] / 2];''', frame, r)
    tap(driver, at[0], at[1])


PHONE_LOCKED = 'lang=ru&amp;controls=filters,list&amp;locked=1&amp;kind=ngo,tos&amp;region_iso=RU-PER&amp;remote=1&amp;km=50'


def phone_widget_checks(driver, port):
    """Phone 360×640, the widget with filters on a partner's page (phone.html of start_host): the filters
    fold behind «Фильтры» as on the full page, so the frame embed.js sizes is about a screen high, not
    the filters and then the map; open, they grow the frame, and «Показать (N)» folds them, shrinks it and
    shows the map. A locked widget says in a line what its fixed filters are."""
    frames = lambda d: d.find_elements(By.CSS_SELECTOR, 'iframe.civicmap-embed')
    height = lambda d, i: int(frames(d)[i].get_attribute('height'))
    inside = '''
        var app = document.getElementById('cm-app'), t = document.querySelector('.cm-filters__toggle');
        var body = document.getElementById('cm-filters-body'), s = document.querySelector('.cm-filters__summary');
        return {idle: app.getAttribute('data-state') === 'idle', toggle: !!t && t.getClientRects().length > 0,
                expanded: t && t.getAttribute('aria-expanded'), body: !!body && body.getClientRects().length > 0,
                summary: s && s.getClientRects().length ? s.textContent : null,
                mapTop: Math.round(document.getElementById('cm-map').getBoundingClientRect().top),
                listed: document.querySelectorAll('#cm-list button.cm-item').length,
                show: (document.querySelector('.cm-filters__show') || {}).textContent};'''

    def look(i):
        driver.switch_to.frame(frames(driver)[i])
        try:
            return driver.execute_script(inside)
        finally:
            driver.switch_to.default_content()

    try:
        emulate(driver, 360, 640)
        driver.get('http://127.0.0.1:%d/phone.html' % port)
        wait(driver, lambda d: len(frames(d)) == 2 and all(look(i)['idle'] for i in (0, 1)), message='the widgets')
        # the frames follow what the widgets report (settled when two looks a moment apart agree)
        wait(driver, lambda d: [height(d, 0), height(d, 1)] == (time.sleep(0.3) or [height(d, 0), height(d, 1)]),
             timeout=5, message='frames settled')
        folded, h0 = look(0), height(driver, 0)
        check('phone widget 360×640: the filters fold behind «Фильтры» and the frame is %d px high (the map %d px from its top)'
              % (h0, folded['mapTop']),
              folded['toggle'] and folded['expanded'] == 'false' and not folded['body'] and folded['mapTop'] <= 80
              and h0 <= 640, (folded, h0))

        tap_in_frame(driver, frames(driver)[0], '.cm-filters__toggle')
        wait(driver, lambda d: height(d, 0) > h0 + 200, timeout=5, message='the frame grows')
        opened, h1 = look(0), height(driver, 0)
        tap_in_frame(driver, frames(driver)[0], '.cm-filters__show')
        wait(driver, lambda d: height(d, 0) < h1 - 200, timeout=5, message='the frame shrinks')
        time.sleep(0.8)                                 # the smooth scroll to the map
        again = look(0)
        shown = driver.execute_script('''
            var f = arguments[0].getBoundingClientRect(), top = f.top + arguments[1];
            return top >= -1 && top + 100 <= innerHeight;''', frames(driver)[0], again['mapTop'])
        check('phone widget: «Фильтры» opens the filters and the frame grows (%d → %d px); «%s» folds them, the frame '
              'shrinks (→ %d px) and the map is in view' % (h0, h1, opened['show'], height(driver, 0)),
              opened['body'] and opened['expanded'] == 'true' and opened['show'] == 'Показать (%d)' % opened['listed']
              and not again['body'] and again['expanded'] == 'false' and shown, (opened, again, shown))

        # the host page scrolled down to the widget's list, the map above the screen: a tap on the list
        # brings the map back into view (from inside the frame it always looks in view)
        where = 'return arguments[0].getBoundingClientRect().top + arguments[1];'
        driver.execute_script('window.scrollBy(0, arguments[0].getBoundingClientRect().top + arguments[1] + 350);',
                              frames(driver)[0], again['mapTop'])
        hidden = driver.execute_script(where, frames(driver)[0], again['mapTop']) < -300
        driver.switch_to.frame(frames(driver)[0])
        try:
            driver.execute_script("document.querySelector('#cm-list button.cm-item').click();")
        finally:
            driver.switch_to.default_content()
        time.sleep(0.8)
        map_top = driver.execute_script(where, frames(driver)[0], again['mapTop'])
        check('phone widget: a tap on the list with the host page scrolled past the map brings the map into view '
              '(its top at %d px)' % map_top, hidden and -1 <= map_top and map_top + 100 <= 640, (hidden, map_top))

        locked, h2 = look(1), height(driver, 1)
        check('phone widget, locked: a line says what its fixed filters are («%s»), without the controls; the frame is %d px high'
              % (locked['summary'], h2),
              locked['summary'] == 'Фильтры заданы владельцем сайта: НКО, ТОС · Пермский край · не ближе 50\u00a0км к региональному центру.'
              and not locked['toggle'] and not locked['body'] and locked['mapTop'] <= 100 and h2 <= 640, (locked, h2))
    except (TimeoutException, WebDriverException) as e:
        driver.switch_to.default_content()
        check('phone widget: the folded filters', False, getattr(e, 'msg', e))


def slow_connection_checks(driver, base):
    """For a slow or lost connection: the pages load Leaflet and markercluster minified (the server
    serves both forms) and say «Загружаем карту…» until app.js runs; a request without an answer
    fails after CM.requestTimeoutMs with «Повторить», as any failed load does."""
    try:
        scripts, loading = {}, {}
        for page in ('/', '/embed'):
            req = urllib.request.Request(base + page, headers={'Accept': 'text/html'})
            with urllib.request.urlopen(req, timeout=10) as r:
                html = r.read().decode('utf-8')
            scripts[page] = re.findall(r'<script src="(/vendor/[^"]+)"', html)
            app = re.search(r'<div id="cm-app"[^>]*>(.*?)</div>', html, re.S)
            loading[page] = bool(app and re.search(r'<p class="cm-loading"[^>]*>Загружаем карту…</p>', app.group(1)))
        served = {}
        for src in set(sum(scripts.values(), [])):
            with urllib.request.urlopen(base + src, timeout=10) as r:
                served[src] = (r.status, len(r.read()))
        check('slow connection: the map page and the widget load Leaflet and markercluster minified (%s)'
              % ', '.join('%s %d KB' % (k.rsplit('/', 1)[-1], v[1] // 1024) for k, v in sorted(served.items())),
              all(len(v) == 2 and all(x.endswith('.min.js') for x in v) for v in scripts.values())
              and all(v[0] == 200 and v[1] > 10000 for v in served.values()), (scripts, served))
        load_map(driver, base + '/?lang=ru')
        check('slow connection: «Загружаем карту…» is in the page until app.js replaces it',
              all(loading.values()) and not driver.find_elements(By.CSS_SELECTOR, '#cm-app .cm-loading'), loading)
    except (TimeoutException, WebDriverException, urllib.error.URLError) as e:
        check('slow connection: minified scripts and «Загружаем карту…»', False, getattr(e, 'msg', e))
    try:
        # the next /overview is held by the browser (never answered); the page gives up after 1 s
        driver.execute_script('window.CivicMap.requestTimeoutMs = 1000')
        driver.execute_cdp_cmd('Fetch.enable', {'patterns': [{'urlPattern': '*/overview?*'}]})
        started = time.time()
        tap_element(driver, '#cm-point-centre')        # a new point: a new request
        wait(driver, lambda d: d.execute_script(
            "return !!document.querySelector('.cm-status.is-error button.cm-status__retry')"), timeout=6, message='«Повторить»')
        after = time.time() - started
        driver.execute_cdp_cmd('Fetch.disable', {})
        tap_element(driver, '.cm-status__retry')
        wait(driver, lambda d: idle(d) and (legend_numbers(d) or {}).get('total', 0) > 0, message='after «Повторить»')
        check('slow connection: a request without an answer fails after the timeout (%.1f s) with «Повторить», which loads again'
              % after, True)
    except (TimeoutException, WebDriverException) as e:
        check('slow connection: a request without an answer fails with «Повторить»', False, getattr(e, 'msg', e))
    finally:
        driver.execute_cdp_cmd('Fetch.disable', {})
        driver.execute_script('window.CivicMap.requestTimeoutMs = 25000')


def covered(driver, css):
    """What covers the first element matching css, looked at in a 7 × 7 grid of points: the classes
    of the topmost elements there that are not the element or inside it; None when there is no
    such element or it is not shown."""
    return driver.execute_script('''
        var e = document.querySelector(arguments[0]);
        if (!e || !e.getClientRects().length) { return null; }
        var r = e.getBoundingClientRect(), out = [];
        for (var i = 0; i < 7; i++) {
            for (var j = 0; j < 7; j++) {
                var x = r.left + r.width * (i + .5) / 7, y = r.top + r.height * (j + .5) / 7;
                if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) { continue; }
                var top = document.elementFromPoint(x, y), name = top && String(top.className || top.tagName);
                if (top && top !== e && !e.contains(top) && out.indexOf(name) < 0) { out.push(name); }
            }
        }
        return out;''', css)


def note_over(driver, css):
    """The area (px²) of the first element matching css that the basemap note covers (the note lets
    taps through, so it is measured, not hit-tested)."""
    return driver.execute_script('''
        var e = document.querySelector(arguments[0]), n = document.querySelector('.cm-tiles-note');
        if (!e || !n || !n.getClientRects().length) { return 0; }
        var a = e.getBoundingClientRect(), b = n.getBoundingClientRect();
        return Math.round(Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) *
                          Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)));''', css)


def overlay_checks(driver, base):
    """Phone 360×640 without a basemap: the note «Подложка карты не загрузилась» covers neither a
    card nor the error with «Повторить»; the error is as wide as its words need."""
    url = base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'lat': 59.0152, 'lon': 54.6532, 'z': 11, 'tile_timeout': 1})
    try:
        # no basemap even where the tile server answers: its tiles fail at once
        tiles = get_json(base + '/map-config.json')['tiles']['url'].split('{')[0] + '*'
        driver.execute_cdp_cmd('Network.enable', {})
        driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': [tiles]})
        emulate(driver, 360, 640)
        load_map(driver, url)
        wait(driver, lambda d: d.execute_script("return !document.querySelector('.cm-tiles-note').hidden"), timeout=5,
             message='the note')
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='card')
        over = note_over(driver, '.leaflet-popup')
        check('no basemap: the note covers no part of a card (%s)' % over, over == 0, over)
        tap_element(driver, '.leaflet-popup-close-button')
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup'), timeout=5, message='card closed')
        driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': [tiles, '*/overview?*']})
        tap_element(driver, '#cm-point-centre')
        wait(driver, lambda d: d.execute_script(
            "return !!document.querySelector('.cm-status.is-error button.cm-status__retry')"), message='«Повторить»')
        driver.execute_script("document.getElementById('cm-map').scrollIntoView()")
        over = [covered(driver, '.cm-status__retry'), note_over(driver, '.cm-status')]
        width = driver.execute_script('''
            return [document.querySelector('.cm-status').getBoundingClientRect().width,
                    document.getElementById('cm-map').getBoundingClientRect().width];''')
        check('no basemap, a failed load: «Повторить» is not covered (%s) and the message is wider than half the map (%d of %d px)'
              % (over, width[0], width[1]), over == [[], 0] and width[0] > width[1] / 2 + 1, (over, width))
    except (TimeoutException, WebDriverException, urllib.error.URLError, KeyError) as e:
        check('no basemap: the note covers neither a card nor «Повторить»', False, getattr(e, 'msg', e))
    finally:
        driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': []})


def phone_filters_checks(driver, base):
    """Phone 360×640: the folded filters hold only filters (export and «Встроить карту» come after
    the list); «Показать (N)» folds them and shows the map; a search sent from the touch keyboard
    lets go of the field (the keyboard goes down)."""
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?lang=ru')
        tap_element(driver, '.cm-filters__toggle')
        where = driver.execute_script('''
            var body = document.getElementById('cm-filters-body'), list = document.getElementById('cm-listpanel');
            return ['cm-export-csv', 'cm-embed'].map(function (id) {
                var e = document.getElementById(id);
                return !!e && !body.contains(e) && !!(list.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)
                    && e.getClientRects().length > 0;
            }).concat([Math.round(document.getElementById('cm-map').getBoundingClientRect().top + scrollY)]);''')
        check('phone: export and «Встроить карту» are not in the folded filters but after the list (the map starts %d px down with the filters open)'
              % where[2], where[:2] == [True, True], where)
        wait(driver, lambda d: d.execute_script(
            "return !!document.querySelector('#cm-region option[value=\"RU-PER\"]')"), message='regions loaded')
        driver.execute_script('''
            var s = document.getElementById('cm-region'); s.value = 'RU-PER';
            s.dispatchEvent(new Event('change', {bubbles: true}));''')
        wait(driver, lambda d: idle(d) and url_param(d, 'region_iso') == 'RU-PER', message='region chosen')
        label = driver.find_element(By.CSS_SELECTOR, '.cm-filters__show').text
        listed = len(driver.find_elements(By.CSS_SELECTOR, '#cm-list button.cm-item'))
        tap_element(driver, '.cm-filters__show')
        wait(driver, lambda d: in_viewport(d, '#cm-map'), timeout=3, message='map in view')
        folded = driver.find_element(By.CSS_SELECTOR, '.cm-filters__toggle').get_attribute('aria-expanded')
        check('phone: «%s» folds the filters and brings the map into view' % label,
              label == 'Показать (%d)' % listed and folded == 'false', (label, listed, folded))
        tap_element(driver, '.cm-filters__toggle')
        tap_element(driver, '#cm-q')
        driver.find_element(By.ID, 'cm-q').send_keys('Кудымкар', Keys.ENTER)
        wait(driver, lambda d: idle(d) and url_param(d, 'q') == 'Кудымкар', message='search')
        active = driver.execute_script('return document.activeElement && document.activeElement.id')
        check('phone: a search sent from the keyboard lets go of the field, so the keyboard goes down', active != 'cm-q', active)
    except (TimeoutException, WebDriverException) as e:
        check('phone: the filters', False, getattr(e, 'msg', e))


def hit_at_centre(driver, css):
    """What a tap at the middle of the first element matching css reaches: 'itself' (it or its
    inside), else the classes of what is on top there; None when there is no such element."""
    return driver.execute_script('''
        var e = document.querySelector(arguments[0]);
        if (!e) { return null; }
        var r = e.getBoundingClientRect(), top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return top && (top === e || e.contains(top)) ? 'itself' : top && String(top.className || top.tagName);''', css)


def tap_through_checks(driver, base):
    """Phone 360×640, Perm Krai chosen and the point at Perm: the region centre's star and the
    point's cross lie on the cluster of Perm's organisations and take none of its taps."""
    perm = (56.2502, 58.0105)
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'region_iso': 'RU-PER', 'lat': perm[1],
                                                                'lon': perm[0], 'z': 8, 'near': '%s,%s' % perm}))
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '.cm-centre') and d.find_elements(By.CSS_SELECTOR, '.cm-point-marker'),
             timeout=5, message='star and cross')
        driver.execute_script("document.getElementById('cm-map').scrollIntoView()")
        hit = hit_at_centre(driver, '.marker-cluster')
        check('phone: a tap on the cluster under the region centre\'s star and the point\'s cross reaches the cluster (%s)' % hit,
              hit == 'itself', hit)
    except (TimeoutException, WebDriverException) as e:
        check('phone: the star and the cross take no taps from the markers', False, getattr(e, 'msg', e))


def phone_card_checks(driver, base):
    """Phone 360×640, a card with contacts (RICH_CARD): they come first, each label above its value
    (the values get the card's width) and the phone number on one line."""
    script = enrich_card(driver)
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'lat': 59.0152, 'lon': 54.6532, 'z': 11}))
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='card')
        card = driver.execute_script('''
            var c = document.querySelector('.leaflet-popup .cm-card'), w = c.getBoundingClientRect().width;
            var tel = c.querySelector('a[href^="tel:"]'), dd = tel.closest('dd'), dt = dd.previousElementSibling;
            return {labels: Array.from(c.querySelectorAll('.cm-card__facts > dt')).slice(0, 3).map(function (e) { return e.textContent; }),
                    lines: tel.getClientRects().length, phone: tel.textContent,
                    value: Math.round(dd.getBoundingClientRect().width / w * 100),
                    above: dt.getBoundingClientRect().bottom <= dd.getBoundingClientRect().top + 1};''')
        check('phone: a card lists phone, e-mail and site first, each label above its value (%d %% of the card wide), '
              'the number «%s» on %d line(s)' % (card['value'], card['phone'], card['lines']),
              card['labels'] == ['Телефон', 'Эл. почта', 'Сайт'] and card['above'] and card['value'] >= 90
              and card['lines'] == 1 and card['phone'] == RICH_CARD['phone'], card)
    except (TimeoutException, WebDriverException) as e:
        check('phone: a card\'s contacts', False, getattr(e, 'msg', e))
    finally:
        driver.execute_cdp_cmd('Page.removeScriptToEvaluateOnNewDocument', script)


def small_targets(driver, sizes):
    """Of {css: (min width, min height)}, the shown elements smaller than that: [[css, w, h], …]."""
    return driver.execute_script('''
        var out = [], sizes = arguments[0];
        Object.keys(sizes).forEach(function (css) {
            document.querySelectorAll(css).forEach(function (e) {
                var r = e.getBoundingClientRect();
                if (r.width && (r.width < sizes[css][0] - .5 || r.height < sizes[css][1] - .5)) {
                    out.push([css, Math.round(r.width), Math.round(r.height)]);
                }
            });
        });
        return out;''', sizes)


def tap_target_checks(driver, base):
    """Phone 360×640 (a coarse pointer): the page's controls are at least 44 px tall, the map's own
    buttons 44 × 44 (a checkbox counts by its label, which spans its row)."""
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'lat': 59.0152, 'lon': 54.6532, 'z': 11}))
        tall, square = (0, 44), (44, 44)
        small = small_targets(driver, {'.cm-filters__toggle': tall, '#cm-near': tall, '#cm-point-centre': tall,
                                       '.cm-legend__title': tall, '.leaflet-control-zoom a': square})
        tap_element(driver, '.cm-filters__toggle')
        small += small_targets(driver, {'.cm-filters .cm-check label': tall, '#cm-region': tall, '#cm-q': tall,
                                        '.cm-filters .cm-button': tall})
        tap_element(driver, '.cm-filters__show')
        wait(driver, lambda d: in_viewport(d, '#cm-map'), timeout=3, message='map in view')
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='card')
        small += small_targets(driver, {'.leaflet-popup-close-button': square})
        tap_element(driver, '.leaflet-popup-close-button')
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup') and idle(d), timeout=5, message='card closed')
        driver.execute_cdp_cmd('Network.enable', {})
        driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': ['*/overview?*']})
        tap_element(driver, '#cm-point-centre')
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '.cm-status__retry'), message='«Повторить»')
        small += small_targets(driver, {'.cm-status__retry': tall})
        check('phone: buttons, fields, checkboxes, the legend, the card\'s × and «Повторить» are at least 44 px for a finger',
              not small, small)
    except (TimeoutException, WebDriverException) as e:
        check('phone: tap targets of 44 px', False, (getattr(e, 'msg', e), driver.current_url, driver.execute_script(
            "var s = document.querySelector('.cm-status'); return s && [s.className, s.textContent]")))
    finally:
        driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': []})


def location_checks(driver, base):
    """Phone 360×640: the hint speaks to a finger as well as a mouse («Нажмите на карту»); «Рядом со
    мной» refused says how to allow the location, a location not found says to check the device's."""
    info = lambda d: d.find_element(By.CSS_SELECTOR, '.cm-point__info').text
    origin = '{0.scheme}://{0.netloc}'.format(urllib.parse.urlsplit(base))
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?lang=ru')
        hint = info(driver)
        check('phone: the point hint says «%s»' % hint, hint.startswith('Нажмите на карту') and 'Щёлкните' not in hint, hint)
        said = {}
        for what, setup in (('refused', lambda: driver.execute_cdp_cmd('Browser.setPermission', {
                                 'origin': origin, 'permission': {'name': 'geolocation'}, 'setting': 'denied'})),
                            ('not found', lambda: (driver.execute_cdp_cmd('Browser.grantPermissions', {
                                 'origin': origin, 'permissions': ['geolocation']}),
                                driver.execute_cdp_cmd('Emulation.setGeolocationOverride', {})))):
            setup()
            tap_element(driver, '#cm-near')
            wait(driver, lambda d: d.find_element(By.ID, 'cm-near').is_enabled() and info(d) != 'Определяем местоположение…',
                 timeout=15, message='location ' + what)
            said[what] = info(driver)
        check('phone: «Рядом со мной» refused says how to allow it, not found says to check the device (%s)' % said,
              'Разрешите' in said['refused'] and 'настройках' in said['refused']
              and 'включена' in said['not found'] and 'Разрешите' not in said['not found'], said)
    except (TimeoutException, WebDriverException) as e:
        check('phone: the location messages', False, getattr(e, 'msg', e))
    finally:
        driver.execute_cdp_cmd('Emulation.clearGeolocationOverride', {})
        driver.execute_cdp_cmd('Browser.resetPermissions', {})


def near_message_checks(driver, base):
    """Phone 360×640: what «Рядом со мной» says (refused, nothing nearby) stays through the list's
    refreshes (a zoom) until the user dismisses it («Скрыть») or does something else with the point."""
    info = lambda d: d.find_element(By.CSS_SELECTOR, '.cm-point__text').text
    origin = '{0.scheme}://{0.netloc}'.format(urllib.parse.urlsplit(base))

    def zoom(direction):
        url = driver.current_url
        tap_element(driver, '.leaflet-control-zoom-' + direction)
        wait(driver, lambda d: d.current_url != url and idle(d), message='zoomed ' + direction)

    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'lat': 59.0152, 'lon': 54.6532, 'z': 8}))
        hint = info(driver)
        driver.execute_cdp_cmd('Browser.setPermission', {'origin': origin, 'permission': {'name': 'geolocation'}, 'setting': 'denied'})
        tap_element(driver, '#cm-near')
        wait(driver, lambda d: 'Разрешите' in info(d), timeout=15, message='refused')
        refused = info(driver)
        zoom('in')
        kept = info(driver)
        check('phone: «Рядом со мной» refused stays after the list is refreshed (a zoom)', kept == refused, (refused, kept))
        tap_element(driver, '.cm-point__dismiss')
        wait(driver, lambda d: info(d) == hint, timeout=3, message='dismissed')
        check('phone: «Скрыть» takes the message away, the hint is back',
              not driver.find_element(By.CSS_SELECTOR, '.cm-point__dismiss').is_displayed())

        # a location with nothing around it (the Arctic coast of Yakutia)
        driver.execute_cdp_cmd('Browser.grantPermissions', {'origin': origin, 'permissions': ['geolocation']})
        driver.execute_cdp_cmd('Emulation.setGeolocationOverride', {'latitude': 72.5, 'longitude': 150.0, 'accuracy': 50})
        tap_element(driver, '#cm-near')
        # The nearest organisation is hundreds of km away: the map widens to show it and the point.
        wait(driver, lambda d: info(d).startswith('Рядом с вами организаций нет; ближайшая') and idle(d), timeout=15, message='nothing nearby')
        none = info(driver)
        widened = int(url_param(driver, 'z') or 99)
        zoom('out')
        kept = info(driver)
        tap_element(driver, '#cm-point-centre')
        wait(driver, lambda d: info(d).startswith('Расстояния от точки') and idle(d), timeout=10, message='point at the centre')
        check('phone: «Рядом со мной» with nothing nearby names the nearest one and widens the map to it (zoom %d) («%s»), '
              'also after a zoom; a new point takes it away' % (widened, none),
              kept == none and widened < 10 and re.search(r'в [\d\u00a0 ]+[\u00a0 ]км', none), (none, kept, widened))
    except (TimeoutException, WebDriverException) as e:
        check('phone: the location messages stay', False, (getattr(e, 'msg', e), info(driver)))
    finally:
        driver.execute_cdp_cmd('Emulation.clearGeolocationOverride', {})
        driver.execute_cdp_cmd('Browser.resetPermissions', {})


def phone_report_checks(driver, base):
    """Phone 360×640, the report of RU-SA: no word in its tables is split across lines («НК/О»); the
    names of the most remote organisations get a column of at least 9 rem."""
    try:
        emulate(driver, 360, 640)
        driver.get(base + '/reports/regions/RU-SA?lang=ru')
        wait(driver, lambda d: report_state(d) == 'idle', message='report')
        found = driver.execute_script('''
            var split = [], walk = document.createTreeWalker(document.getElementById('cm-report'), NodeFilter.SHOW_TEXT), n;
            while ((n = walk.nextNode())) {
                if (!n.parentElement.closest('td, tbody th')) { continue; }
                var re = /\\S+/g, m;
                while ((m = re.exec(n.data))) {
                    if (m[0].length > 20) { continue; }
                    var r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
                    var tops = Array.from(r.getClientRects()).map(function (x) { return Math.round(x.top); });
                    if (tops.some(function (t) { return t !== tops[0]; }) && split.indexOf(m[0]) < 0) { split.push(m[0]); }
                }
            }
            var names = Array.from(document.querySelectorAll('.cm-table--remote tbody td:nth-child(2)'))
                .map(function (c) { return Math.round(c.getBoundingClientRect().width); });
            return {split: split, narrowest: Math.min.apply(null, names), rem: parseFloat(getComputedStyle(document.documentElement).fontSize)};''')
        check('phone: the report\'s tables split no word (%s) and give names %d px'
              % (', '.join(found['split'][:5]) or 'none', found['narrowest']),
              not found['split'] and found['narrowest'] >= 9 * found['rem'] - 1, found)
    except (TimeoutException, WebDriverException) as e:
        check('phone: the report\'s tables', False, getattr(e, 'msg', e))


def back_button_checks(driver, base):
    """Phone 360×640: Back (Android's button) with a card open closes the card and stays on the page,
    whose URL still follows the map; a card closed with × takes its history entry away again, so the
    next Back is not spent on nothing."""
    try:
        emulate(driver, 360, 640)
        load_map(driver, base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'lat': 59.0152, 'lon': 54.6532, 'z': 11}))
        driver.execute_script('window.__samePage = true')
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='card')
        driver.back()
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup'), timeout=5, message='card closed by Back')
        time.sleep(0.3)
        stayed = driver.execute_script("return [window.__samePage === true, location.pathname, new URLSearchParams(location.search).get('z')]")
        check('phone: Back with a card open closes the card and stays on the map (%s)' % stayed,
              stayed[0] and stayed[1] == '/' and stayed[2] == '11', stayed)
        tap_element(driver, '.leaflet-marker-icon.cm-marker')
        wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='card again')
        pushed = driver.execute_script('return history.state')
        tap_element(driver, '.leaflet-popup-close-button')
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup')
             and d.execute_script('return history.state') is None, timeout=5, message='entry taken away')
        check('phone: a card closed with × takes its history entry away again', pushed == {'cmCard': True}
              and driver.execute_script('return window.__samePage === true'), pushed)
    except (TimeoutException, WebDriverException) as e:
        check('phone: Back closes a card', False, (getattr(e, 'msg', e), driver.current_url))


def legend_checks(driver, base):
    """The legend starts folded where it would cover much of the map: on a phone held sideways
    (640×360, a wide but low map), not on a tablet (768×1024)."""
    try:
        opened = {}
        for w, h in ((640, 360), (768, 1024)):
            emulate(driver, w, h)
            load_map(driver, base + '/?lang=ru')
            opened['%d×%d' % (w, h)] = driver.execute_script("return document.querySelector('.cm-legend__details').open")
        check('the legend starts folded on a phone held sideways, open on a tablet (%s)' % opened,
              opened == {'640×360': False, '768×1024': True}, opened)
    except (TimeoutException, WebDriverException) as e:
        check('the legend folded on a low map', False, getattr(e, 'msg', e))


# ------------------------------------------------------------------ the checks

def search_elsewhere_check(driver, base):
    """A search that finds nothing in view (near Perm) says how many it finds elsewhere (in Yakutsk),
    and a button shows them."""
    try:
        driver.get(base + '/?lang=ru&lat=58&lon=56&z=7&q=%D0%A5%D0%B0%D1%80%D1%8B%D1%81%D1%85%D0%B0%D0%BB')
        button = wait(driver, lambda d: d.find_elements(By.ID, 'cm-elsewhere'), message='«За пределами карты»')[0]
        text = button.text
        button.click()
        wait(driver, lambda d: idle(d) and 'Харысхал' in list_text(d), message='the result after the button')
        check('a search with nothing in view offers what it finds elsewhere («%s») and shows it' % text,
              text.startswith('За пределами карты: 1 организация'), text)
    except (TimeoutException, WebDriverException) as e:
        check('a search with nothing in view offers what it finds elsewhere', False, (getattr(e, 'msg', e), list_text(driver)))
    # A widget without a list (the default: map and legend) says so on the map when nothing matches.
    status = lambda d: d.execute_script("var s = document.querySelector('.cm-status'); return s ? s.textContent : null")
    try:
        driver.get(base + '/embed?lang=ru&region_iso=RU-PER&remote=1&km=500')
        wait(driver, lambda d: idle(d) and status(d), message='the status line')
        check('a widget without a list says when nothing matches («%s»)' % status(driver),
              status(driver) == 'Нет организаций, подходящих под фильтры', status(driver))
    except (TimeoutException, WebDriverException) as e:
        check('a widget without a list says when nothing matches', False, (getattr(e, 'msg', e), status(driver)))


def run(args):
    driver = make_driver()
    base = args.base.rstrip('/')
    try:
        # 3. the map page
        driver.get(base + '/?lang=ru')
        try:
            wait(driver, lambda d: (legend_numbers(d) or {}).get('total', 0) > 0 and idle(d)
                 and d.execute_script("return document.querySelectorAll('.cm-marker, .marker-cluster, .cm-cell').length") > 0,
                 message='legend and markers')
            first = legend_numbers(driver)
            check('map page: markers and legend counts (total %d)' % first['total'], first['total'] > 0)
        except TimeoutException:
            check('map page: markers and legend counts', False, legend(driver))
            first = None
        check('map page: list is filled', len(driver.find_elements(By.CSS_SELECTOR, '#cm-list button.cm-item')) > 0)
        zoom = driver.execute_script("var b = document.querySelector('.leaflet-control-zoom-in'); return b && [b.title, b.getAttribute('aria-label')]")
        check('map page: the zoom buttons are labelled in Russian', zoom == ['Приблизить', 'Приблизить'], zoom)
        clusters = driver.execute_script('''
            return Array.from(document.querySelectorAll('.marker-cluster')).map(function (c) {
                return [c.getAttribute('role'), c.getAttribute('tabindex'), c.getAttribute('aria-label'), c.textContent]; });''')
        check('map page: %d cluster(s), each a focusable button named «Группа из N организаций, …»' % len(clusters),
              clusters and all(c[0] == 'button' and c[1] == '0' and c[2]
                               and re.match(r'Группа из %s организаци[йи](, | в одном месте, )' % c[3], c[2]) for c in clusters),
              clusters)
        attribution = driver.execute_script(
            "var a = document.querySelector('.leaflet-control-attribution a'); return a && [a.textContent, a.href]")
        check('map page: the attribution credits OpenStreetMap in Russian, linked',
              attribution == ['© участники OpenStreetMap', 'https://www.openstreetmap.org/copyright'], attribution)
        # Leaflet writes an inline outline:none on each key press; the focus ring must survive it.
        outline = driver.execute_script('''
            var m = document.querySelector('.leaflet-marker-icon[tabindex]');
            if (!m) { return 'no marker'; }
            m.focus();
            return null;''')
        if outline is None:
            ActionChains(driver).send_keys(Keys.SHIFT).perform()
            outline = driver.execute_script("var a = document.activeElement; return [getComputedStyle(a).outlineStyle, a.style.outline];")
        check('map page: a focused marker shows its focus ring after a key press', outline and outline[0] == 'solid', outline)
        if args.screenshot:
            os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
            driver.save_screenshot(args.screenshot)
            check('screenshot saved to ' + args.screenshot, os.path.getsize(args.screenshot) > 10000)

        # 4a. kind: only ТОС
        if first:
            for kind in ('ngo', 'internship_site'):
                driver.find_element(By.ID, 'cm-kind-' + kind).click()
            try:
                wait(driver, lambda d: idle(d) and (legend_numbers(d) or {}).get('total') == first['tos'],
                     message='legend after kind=tos')
                now = legend_numbers(driver)
                kinds_in_list = set(driver.execute_script(
                    "return Array.from(document.querySelectorAll('#cm-list button.cm-item')).map(function (b) {"
                    "  return b.className.replace(/.*cm-item--/, ''); });"))
                other_markers = driver.execute_script(
                    "return document.querySelectorAll('.cm-marker--ngo, .cm-marker--internship_site').length")
                check('kind filter ТОС: legend %d → %d, no other kinds' % (first['total'], now['total']),
                      now['ngo'] == 0 and now['internship_site'] == 0 and now['tos'] == first['tos']
                      and kinds_in_list <= {'tos'} and other_markers == 0 and now['total'] < first['total'],
                      (now, kinds_in_list, other_markers))
                check('kind filter in the URL', 'kind=tos' in driver.current_url, driver.current_url)
            except TimeoutException:
                check('kind filter ТОС changes the legend', False, legend(driver))
            for kind in ('ngo', 'internship_site'):
                driver.find_element(By.ID, 'cm-kind-' + kind).click()

        # 4c. a failed load: nothing stale stays on the map or in the list, and «Повторить» loads again
        earlier_errors = severe_errors(driver)
        if first:
            try:
                wait(driver, lambda d: idle(d) and (legend_numbers(d) or {}).get('total') == first['total'], message='all kinds back')
                driver.execute_cdp_cmd('Network.enable', {})
                driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': ['*/overview?*']})
                driver.find_element(By.ID, 'cm-kind-tos').click()
                wait(driver, lambda d: d.execute_script(
                    "return !!document.querySelector('.cm-status.is-error button.cm-status__retry')"), message='«Повторить» offered')
                stale = driver.execute_script(
                    "return [document.querySelectorAll('#cm-list button.cm-item').length,"
                    " document.querySelectorAll('.cm-marker, .marker-cluster, .cm-cell').length]")
                check('a failed load leaves no list or markers of the old filters, and offers «Повторить»', stale == [0, 0], stale)
                driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': []})
                driver.find_element(By.CSS_SELECTOR, '.cm-status__retry').click()
                wait(driver, lambda d: idle(d) and (legend_numbers(d) or {}).get('total', 0) > 0, message='after «Повторить»')
                after = legend_numbers(driver)
                check('«Повторить» loads the data of the filters chosen (no ТОС)',
                      after['tos'] == 0 and after['total'] == first['total'] - first['tos'], after)
            except TimeoutException as e:
                check('a failed load offers «Повторить»', False, e.msg)
            finally:
                driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': []})
                severe_errors(driver)  # the blocked request's own error
                driver.find_element(By.ID, 'cm-kind-tos').click()
                wait(driver, lambda d: idle(d) and (legend_numbers(d) or {}).get('total') == first['total'], message='ТОС back')

        # 4b. region RU-PER, remote only, 50 km
        try:
            wait(driver, lambda d: d.execute_script(
                "return !!document.querySelector('#cm-region option[value=\"RU-PER\"]')"), message='regions loaded')
            Select(driver.find_element(By.ID, 'cm-region')).select_by_value('RU-PER')
            remote = driver.find_element(By.ID, 'cm-remote')
            if not remote.is_selected():
                remote.click()
            km = driver.find_element(By.ID, 'cm-km')
            check('threshold defaults to 50 km', km.get_attribute('value') == '50', km.get_attribute('value'))
            wait(driver, lambda d: idle(d) and 'Проектная среда' in list_text(d)
                 and d.execute_script("return document.querySelectorAll('path.cm-ring').length") > 0,
                 message='ring and Проектная среда')
            check('RU-PER, remote ≥ 50 km: ring drawn, «Проектная среда» listed', True)
            card_ok = driver.execute_script('''
                var b = Array.from(document.querySelectorAll('#cm-list button.cm-item'))
                    .find(function (x) { return x.textContent.indexOf('Проектная среда') >= 0; });
                return b ? b.textContent : null;''')
            # A no-break space keeps the number and its unit on one line.
            check('list shows the distance to the centre (145,6 км)', card_ok and '145,6\u00a0км' in card_ok, card_ok)
            url = driver.current_url
            check('URL keeps region, remote and km', all(s in url for s in ('region_iso=RU-PER', 'remote=1', 'km=50')), url)
            csv_href = driver.find_element(By.ID, 'cm-export-csv').get_attribute('href')
            excel_href = driver.find_element(By.ID, 'cm-export-excel').get_attribute('href')
            with urllib.request.urlopen(excel_href, timeout=30) as r:
                bom = r.read(3) == b'\xef\xbb\xbf'
            check('export: «Excel» is the filtered CSV with dialect=excel (UTF-8 BOM)',
                  excel_href == csv_href + '&dialect=excel' and 'region_iso=RU-PER' in csv_href and bom, (csv_href, excel_href, bom))

            km.send_keys(Keys.CONTROL, 'a')
            km.send_keys('200', Keys.TAB)
            wait(driver, lambda d: idle(d) and 'Проектная среда' not in list_text(d) and 'km=200' in d.current_url,
                 message='threshold 200')
            check('threshold 200 km: «Проектная среда» gone from the list', True)

            # Chukotka's ring crosses the antimeridian: the server cuts it in two (RFC 7946), the
            # map draws the halves side by side as one circle (two lines, no edge along the cut).
            Select(driver.find_element(By.ID, 'cm-region')).select_by_value('RU-CHU')
            wait(driver, lambda d: idle(d) and 'region_iso=RU-CHU' in d.current_url and d.execute_script(
                "var p = document.querySelector('path.cm-ring'); return !!p && p.getAttribute('d').split('M').length === 3"),
                message='Chukotka ring')
            ring = driver.execute_script(
                "var p = document.querySelector('path.cm-ring'), b = p.getBBox(), r = p.getBoundingClientRect();"
                "var m = document.getElementById('cm-map').getBoundingClientRect();"
                "return {w: b.width, h: b.height, d: p.getAttribute('d'), inside: r.width < m.width * 1.5};")
            check('Chukotka, 200 km: the ring across the antimeridian is one circle in two lines, no closing edge',
                  ring['inside'] and 'z' not in ring['d'].lower() and 0.5 < ring['w'] / ring['h'] < 2,
                  {k: ring[k] for k in ('w', 'h', 'inside')})
        except TimeoutException as e:
            check('region RU-PER + remote threshold', False, '%s; list=%r' % (e.msg, list_text(driver)[:200]))

        errors = earlier_errors + severe_errors(driver)

        # 5. a name with HTML in it is text
        driver.get(base + '/?lang=ru')
        try:
            wait(driver, lambda d: (legend_numbers(d) or {}).get('total', 0) > 0 and idle(d), message='page loaded')
            q = driver.find_element(By.ID, 'cm-q')
            q.send_keys('Жирный', Keys.ENTER)
            wait(driver, lambda d: idle(d) and 'Жирный' in list_text(d) and 'q=' in d.current_url, message='search result')
            item = driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., 'Жирный')]")
            check('search q=Жирный lists the organisation with its name as text', XSS_NAME in item.text, item.text)
            item_id = item.get_attribute('data-id')
            item.click()
            wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '.leaflet-popup .cm-card'), message='card')
            # the card is complete (its nearest sites are in) and the map has stopped moving
            wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='card settled')
            popup = driver.find_element(By.CSS_SELECTOR, '.leaflet-popup .cm-card')
            text = popup.text
            check('card shows the literal <b>Жирный</b>', '<b>Жирный</b>' in text and '<img src=x' in text, text[:200])
            check('card: kind, region and distance', 'НКО' in text and 'Якутия' in text and 'км' in text, text[:300])
            state = driver.execute_script('''return {
                xss: typeof window.__xss,
                b: document.querySelectorAll('.leaflet-popup b').length,
                img: document.querySelectorAll('.leaflet-popup img, #cm-list img').length};''')
            check('no script ran and no <b>/<img> element was made',
                  state['xss'] == 'undefined' and state['b'] == 0 and state['img'] == 0, state)
            focused = driver.execute_script("return document.activeElement && document.activeElement.className")
            check('keyboard: the card takes the focus', focused == 'cm-card__title', focused)
            ActionChains(driver).send_keys(Keys.ESCAPE).perform()
            wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup'), timeout=5, message='card closed')
            back = driver.execute_script("return document.activeElement.getAttribute('data-id')")
            check('keyboard: Esc closes the card and gives the focus back to its list item',
                  back == item_id, (back, item_id))
        except (TimeoutException, WebDriverException) as e:
            check('card of the HTML-named organisation', False, getattr(e, 'msg', e))

        errors += severe_errors(driver)
        check('map page: no severe console errors', not errors, errors[:5])

        # 7. the card: nearest internship sites of an NGO, remote organisations around a site
        card_checks(driver, base)
        card_from_card_checks(driver, base)
        keyboard_checks(driver, base)
        errors = severe_errors(driver)
        check('map card matching: no severe console errors', not errors, errors[:5])
        nearby_problem_checks(driver, base)

        # 8. the printable region report
        report_checks(driver, base)
        errors = severe_errors(driver)
        check('report page: no severe console errors', not errors, errors[:5])

        # 6. the widget on another origin
        host_url = 'http://127.0.0.1:%d/host.html' % args.second_origin_port
        driver.get(host_url)
        try:
            frame = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, 'iframe.civicmap-embed'), message='iframe')
            check('embed.js inserted the iframe', frame.get_attribute('src').startswith(base + '/embed?'),
                  frame.get_attribute('src'))
            driver.switch_to.frame(frame)
            wait(driver, lambda d: (legend_numbers(d) or {}).get('total', 0) > 0 and idle(d), message='widget legend')
            n = legend_numbers(driver)
            markers = driver.execute_script("return document.querySelectorAll('.cm-marker, .marker-cluster, .cm-cell').length")
            check('widget: map with legend counts (total %d) and markers' % n['total'], n['total'] > 0 and markers > 0)
            check('widget: no header or footer', not driver.find_elements(By.CSS_SELECTOR, 'header, footer'))
            credit = data_credit(driver)
            check('widget: a line under the map credits the data sources, linked («%s»)' % (credit or {}).get('text'),
                  credit and credit['text'] == 'Данные: © GeoNames (CC BY 4.0), границы — DCW-GMT (LGPL)'
                  and credit['attribution'] == '© участники OpenStreetMap'
                  and credit['links'].get('GeoNames') == 'https://www.geonames.org/'
                  and credit['links'].get('CC BY 4.0', '').startswith('https://creativecommons.org/licenses/by/4.0/')
                  and credit['links'].get('DCW-GMT', '').startswith('https://') and credit['blank'], credit)
            z0 = driver.execute_script("return new URLSearchParams(location.search).get('z')")
            fmap = driver.find_element(By.ID, 'cm-map')
            ActionChains(driver).key_down(Keys.CONTROL).scroll_from_origin(ScrollOrigin.from_element(fmap), 0, -200) \
                .key_up(Keys.CONTROL).perform()
            try:
                wait(driver, lambda d: int(d.execute_script("return new URLSearchParams(location.search).get('z')") or 0)
                     > int(z0), timeout=5, message='ctrl zoom')
                check('widget: Ctrl + wheel zooms the map', True)
            except TimeoutException:
                check('widget: Ctrl + wheel zooms the map', False, z0)
            wait(driver, lambda d: idle(d), message='widget idle')
            zoom_before = driver.execute_script("return new URLSearchParams(location.search).get('z')")
            frame_height = driver.execute_script('return document.getElementById("cm-app").scrollHeight')
            driver.switch_to.default_content()
            try:
                wait(driver, lambda d: abs(int(d.find_element(By.CSS_SELECTOR, 'iframe.civicmap-embed').get_attribute('height'))
                                           - frame_height) <= 2, timeout=10, message='height message')
                check('embed.js sized the iframe from the widget\'s message (300 → %dpx)' % frame_height, frame_height > 300)
            except TimeoutException:
                check('embed.js sized the iframe from the widget\'s message', False,
                      (frame.get_attribute('height'), frame_height))

            y0 = driver.execute_script('return window.scrollY')
            ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(frame), 0, 400).perform()
            wait(driver, lambda d: d.execute_script('return window.scrollY') > y0, timeout=5, message='host scroll')
            check('host page scrolls with the wheel over the widget (scrollY %d → %d)'
                  % (y0, driver.execute_script('return window.scrollY')), True)
            driver.switch_to.frame(frame)
            credit = data_credit(driver)
            check('widget: the data credit is in view in the frame embed.js sized', credit and credit['inView'], credit)
            hint = driver.execute_script("var h = document.querySelector('.cm-hint'); return h ? h.textContent : ''")
            zoom_after = driver.execute_script("return new URLSearchParams(location.search).get('z')")
            check('widget: plain wheel shows the Ctrl hint and does not zoom',
                  'Ctrl' in hint and zoom_before is not None and zoom_before == zoom_after, (hint, zoom_before, zoom_after))
            driver.switch_to.default_content()

            # no kind chosen: a note makes the filters taller; all kinds again: the frame shrinks back
            frame_px = lambda d: int(d.find_element(By.CSS_SELECTOR, 'iframe.civicmap-embed').get_attribute('height'))
            heights = [frame_px(driver)]
            for state in ('off', 'on'):
                driver.switch_to.frame(frame)
                for kind in ('ngo', 'tos', 'internship_site'):
                    driver.find_element(By.ID, 'cm-kind-' + kind).click()
                driver.switch_to.default_content()
                try:
                    wait(driver, lambda d: (frame_px(d) > heights[0]) if state == 'off' else (frame_px(d) < heights[-1]),
                         timeout=5, message='iframe ' + state)
                except TimeoutException:
                    pass
                heights.append(frame_px(driver))
            check('embed.js grows and shrinks the iframe with the widget (%s px)' % ' → '.join(map(str, heights)),
                  heights[1] > heights[0] and abs(heights[2] - heights[0]) <= 2, heights)
        except (TimeoutException, WebDriverException) as e:
            driver.switch_to.default_content()
            check('widget on a second origin', False, getattr(e, 'msg', e))
        errors = severe_errors(driver)
        check('widget: no severe console errors', not errors, errors[:5])
        ministry_checks(driver, base, args.second_origin_port)
        try:
            driver.get(base + '/embed?lang=en')
            credit = wait(driver, lambda d: data_credit(d), timeout=10, message='widget data credit in English')
            check('widget ?lang=en: the data credit is in English («%s»)' % credit['text'],
                  credit['text'] == 'Data: © GeoNames (CC BY 4.0), outlines DCW-GMT (LGPL)'
                  and credit['links'].get('CC BY 4.0') == 'https://creativecommons.org/licenses/by/4.0/', credit)
        except (TimeoutException, WebDriverException) as e:
            check('widget ?lang=en: the data credit is in English', False, (getattr(e, 'msg', e), data_credit(driver)))
        search_elsewhere_check(driver, base)
    finally:
        driver.quit()

    # 9. tiles that hang (never load nor fail) are taken as missing after tile_timeout seconds
    tiles_hang_check(base)

    # 10. phones and tablets
    mobile_checks(base, args.second_origin_port)


FRAME_TITLE = 'Карта CivicMap: НКО, ТОС и стажировочные площадки'


def ministry_checks(driver, base, port):
    """The widget on a strict ministry page (ministry.html of start_host): CSP, two widgets, one of
    them in a <div> of a 300 px sidebar, the loader twice, a site's `iframe { height }` rule; the
    keyboard's way into the widget; text that follows the reader's font size; and a widget whose
    server answers with an error page (down.html)."""
    host = 'http://127.0.0.1:%d' % port
    try:
        driver.get(host + '/ministry.html')
        frames = lambda d: d.execute_script('''
            return Array.from(document.querySelectorAll('iframe')).map(function (f) {
                var r = f.getBoundingClientRect();
                return {src: f.src, title: f.title, lang: f.getAttribute('lang'), w: Math.round(r.width),
                        h: Math.round(r.height), attr: f.height, inSide: !!f.closest('#side-map'),
                        afterScript: !!(f.previousElementSibling && f.previousElementSibling.tagName === 'SCRIPT')};
            });''')
        # both widgets have spoken (the sidebar's list makes it taller than its 480), or a check says what is missing
        try:
            wait(driver, lambda d: len(frames(d)) == 2 and any(f['inSide'] and f['h'] > 480 for f in frames(d)),
                 timeout=15, message='two widgets sized')
        except TimeoutException:
            pass
        fs = frames(driver)
        main = next((f for f in fs if f['afterScript']), None)
        side = next((f for f in fs if f['inSide']), None)
        check('ministry page: embed.js loaded twice fills the script\'s place and the <div data-civicmap> once each',
              len(fs) == 2 and main and side and side['w'] == 300, fs)
        check('ministry page: the frames are named in Russian («%s»), lang=ru' % FRAME_TITLE,
              all(f['title'] == FRAME_TITLE and f['lang'] == 'ru' for f in fs), [(f['title'], f['lang']) for f in fs])
        check('ministry page: a site\'s `iframe { height: 150px }` does not squash the widget (%s px, data-height 360)'
              % (main or {}).get('h'), main and main['h'] == int(main['attr']) >= 360, main)
        state = driver.execute_script('''
            return {errors: window.__errors, csp: window.__csp,
                    globals: Object.keys(window).filter(function (k) {
                        return window.__keys0.indexOf(k) < 0 && !/^\\d+$/.test(k) && !/^(ret_nodes|__)/.test(k); }),
                    styles: document.querySelectorAll('style, link[rel=stylesheet]').length};''')
        check('ministry page: no CSP violation, no error, no new global, no style added by the widget',
              not state['errors'] and not state['csp'] and not state['globals'] and state['styles'] == 1, state)

        # a message of the same shape from anyone but the widget's own frame is not believed
        forged = driver.execute_script('''
            var f = document.querySelector('script[data-civicmap] + iframe'), before = f.height;
            window.postMessage({type: 'civicmap:height', height: 3000}, '*');
            var inner = document.createElement('iframe');
            document.body.appendChild(inner);
            inner.contentWindow.parent.postMessage({type: 'civicmap:height', height: 3000}, '*');
            inner.remove();
            return new Promise(function (done) { setTimeout(function () { done([before, f.height]); }, 500); });''')
        # … nor one from the other widget's frame (the same origin as the widget)
        driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, '#side-map iframe'))
        driver.execute_script("window.parent.postMessage({type: 'civicmap:height', height: 1234}, '*')")
        driver.switch_to.default_content()
        time.sleep(0.5)
        forged.append(driver.find_element(By.CSS_SELECTOR, 'script[data-civicmap] + iframe').get_attribute('height'))
        check('ministry page: a height message from the page itself or another frame is ignored (%s)' % ' → '.join(forged),
              forged[0] == forged[1] == forged[2], forged)
        # keyboard: Tab from the link before the widget goes into it, to the map, with a visible ring
        driver.execute_script("document.getElementById('before-widget').focus()")
        ActionChains(driver).send_keys(Keys.TAB).perform()
        inside = driver.execute_script("var a = document.activeElement; return a && a.tagName === 'IFRAME' && !a.closest('#side-map')")
        frame = driver.find_element(By.CSS_SELECTOR, 'script[data-civicmap] + iframe')
        driver.switch_to.frame(frame)
        ring = driver.execute_script("var a = document.activeElement; return [a.id, getComputedStyle(a).outlineStyle, getComputedStyle(a).outlineWidth]")
        check('ministry page: Tab goes into the widget, to the map, and the map shows its focus ring',
              inside and ring[0] == 'cm-map' and ring[1] == 'solid' and ring[2] == '3px', (inside, ring))
        # the reader's font size (a browser setting, or a page zoom of text only) reaches the widget's text
        sizes = driver.execute_script('''
            document.documentElement.style.fontSize = '24px';
            var out = [getComputedStyle(document.body).fontSize, getComputedStyle(document.querySelector('.cm-credit')).fontSize];
            document.documentElement.style.fontSize = '';
            return out;''')
        check('widget: its text follows the reader\'s font size (root 24px: body %s, credit %s)' % tuple(sizes),
              sizes == ['22.5px', '16.5px'], sizes)
        driver.switch_to.default_content()
    except (TimeoutException, WebDriverException) as e:
        driver.switch_to.default_content()
        check('widget on a ministry page', False, getattr(e, 'msg', e))
    severe_errors(driver)  # the tiles' and the host's own

    # «Рядом со мной» only where the frame may ask for the location: embed.js allows it, a bare iframe does not
    try:
        near = lambda d: d.execute_script('''
            var b = document.getElementById('cm-near'), i = document.querySelector('.cm-point__text');
            return b && i && i.textContent ? [!b.hidden && b.offsetWidth > 0, i.textContent] : null;''')
        driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, '#side-map iframe'))
        shown = wait(driver, near, timeout=10, message='the list of the sidebar widget')
        driver.switch_to.default_content()
        driver.get(host + '/plain.html')
        driver.switch_to.frame(wait(driver, lambda d: d.find_element(By.TAG_NAME, 'iframe'), message='plain iframe'))
        bare = wait(driver, near, timeout=15, message='the list of the bare iframe')
        driver.switch_to.default_content()
        check('widget: «Рядом со мной» where the frame may locate (embed.js), not in a frame without allow="geolocation"',
              shown[0] and 'Рядом со мной' in shown[1] and not bare[0] and 'Рядом со мной' not in bare[1]
              and 'Точка в центре карты' in bare[1], (shown, bare))
    except (TimeoutException, WebDriverException) as e:
        driver.switch_to.default_content()
        check('widget: «Рядом со мной» only where the frame may locate', False, getattr(e, 'msg', e))
    severe_errors(driver)

    # the widget's server answers with an error page: a line with a link instead of a broken box
    try:
        driver.get(host + '/down.html')
        note = wait(driver, lambda d: d.execute_script('''
            var n = document.querySelector('.civicmap-embed-fallback'), f = document.querySelector('iframe');
            return n && f && getComputedStyle(f).display === 'none' && n.offsetHeight > 0
                ? {text: n.textContent, href: n.querySelector('a').href, lang: n.getAttribute('lang')} : null;'''),
                    timeout=15, message='the line instead of the frame')
        check('widget whose server fails: the frame gives way to «%s» linking the map' % note['text'],
              note['text'] == 'Карта CivicMap сейчас не загрузилась. Открыть карту' and note['lang'] == 'ru'
              and note['href'] == host + '/down/?region_iso=RU-PER&remote=1', note)
    except (TimeoutException, WebDriverException) as e:
        check('widget whose server fails: a line instead of a broken box', False, getattr(e, 'msg', e))
    severe_errors(driver)  # the 404 of the frame


def card_checks(driver, base):
    """A demo NGO of Perm Krai that is not an internship site («Проектная среда», Кудымкар): its card
    lists the nearest internship sites; the first opens the site's card with its remote organisations."""
    name = 'Проектная среда'
    driver.get(base + '/?lang=ru')
    try:
        wait(driver, lambda d: (legend_numbers(d) or {}).get('total', 0) > 0 and idle(d), message='page loaded')
        driver.find_element(By.ID, 'cm-q').send_keys(name, Keys.ENTER)
        wait(driver, lambda d: idle(d) and name in list_text(d), message='search result')
        item = driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., '%s')]" % name)
        org_id = item.get_attribute('data-id')
        item.click()
        wait(driver, lambda d: nearby_state(d, 'sites') not in (None, 'busy') and idle(d), message='nearest sites loaded')
        expected = get_json('%s/matching/nearest-sites?organization=%s&k=3' % (base, org_id))
        want = [f['properties']['name'] for f in expected['features']]
        shown = driver.execute_script('''
            var s = document.querySelector('.leaflet-popup .cm-nearby--sites');
            return {
              heading: s.querySelector('h4').textContent,
              names: Array.from(s.querySelectorAll('.cm-nearby__item .cm-nearby__name')).map(function (b) { return b.textContent; }),
              meta: Array.from(s.querySelectorAll('.cm-nearby__meta')).map(function (m) { return m.textContent; }),
              csv: (s.querySelector('.cm-nearby__links a') || {}).href || '',
              report: (document.querySelector('.leaflet-popup a.cm-card__report') || {}).href || ''
            };''')
        check('NGO card: «Ближайшие стажировочные площадки» lists %d site(s), nearest first, as the API does' % len(shown['names']),
              nearby_state(driver, 'sites') == 'idle' and shown['heading'] == 'Ближайшие стажировочные площадки'
              and len(shown['names']) >= 1 and shown['names'] == want
              and all(re.search(r'\d\u00a0км', m) for m in shown['meta']), (shown, want))
        check('NGO card: «Все (CSV)» asks for the 10 nearest as CSV',
              all(x in shown['csv'] for x in ('/matching/nearest-sites?', 'organization=' + org_id, 'k=10', 'f=csv')), shown['csv'])
        check('NGO card: «Отчёт по региону» links to /reports/regions/RU-PER at the threshold in use',
              shown['report'].endswith('/reports/regions/RU-PER?threshold_km=50'), shown['report'])

        # the first site's card, opened from the list in the card (the site is filtered out by the
        # search, so it is a card of its own): it is in view, so the map does not zoom
        site = expected['features'][0]
        z0 = url_param(driver, 'z')
        driver.find_element(By.CSS_SELECTOR, '.leaflet-popup .cm-nearby--sites .cm-nearby__name').click()
        wait(driver, lambda d: d.execute_script(
            "var t = document.querySelector('.leaflet-popup .cm-card__title'); return t ? t.textContent : ''")
            == site['properties']['name'], message='site card')
        wait(driver, lambda d: nearby_state(d, 'remote') not in (None, 'busy') and idle(d), message='remote organisations loaded')
        check('card from a card: the site in view opens its card without zooming (z %s → %s)' % (z0, url_param(driver, 'z')),
              z0 and url_param(driver, 'z') == z0, (z0, url_param(driver, 'z')))
        remote = get_json('%s/matching/remote-organizations?site=%s&radius_km=200&threshold_km=50&same_region=true&limit=5'
                          % (base, site['id']))
        line = driver.execute_script('''
            var p = document.querySelector('.leaflet-popup .cm-nearby--remote .cm-nearby__summary');
            return p ? {text: p.textContent, count: p.getAttribute('data-count'),
                        items: document.querySelectorAll('.leaflet-popup .cm-nearby--remote .cm-nearby__item').length} : null;''')
        check('site card: «%s»' % (line or {}).get('text'),
              line is not None and 'удал' in line['text'] and 'в радиусе 200\u00a0км' in line['text']
              and int(line['count']) == remote['numberMatched'] and line['items'] == len(remote['features']),
              (line, remote.get('numberMatched'), len(remote.get('features', []))))
        focused = driver.execute_script("return document.activeElement && document.activeElement.className")
        check('site card takes the focus', focused == 'cm-card__title', focused)

        # the language switch redraws the open card (and the attribution) in English
        driver.find_element(By.CSS_SELECTOR, '.cm-langswitch').click()
        wait(driver, lambda d: nearby_state(d, 'remote') == 'idle' and d.execute_script(
            "var h = document.querySelector('.leaflet-popup .cm-nearby--remote h4'); return h && h.textContent")
            == 'Remote organisations nearby', timeout=5, message='card in English')
        card = driver.execute_script('''
            var p = document.querySelector('.leaflet-popup');
            return {title: p.querySelector('.cm-card__title').textContent,
                    report: (p.querySelector('a.cm-card__report') || {}).textContent,
                    close: p.querySelector('.leaflet-popup-close-button').getAttribute('aria-label'),
                    attribution: document.querySelector('.leaflet-control-attribution').textContent};''')
        check('language switch: the open card is redrawn in English', card['title'] == site['properties']['name']
              and card['report'] == 'Region report' and card['close'] == 'Close the card', card)
        check('language switch: the attribution says «© OpenStreetMap contributors»',
              card['attribution'] == '© OpenStreetMap contributors', card['attribution'])
    except (TimeoutException, WebDriverException, urllib.error.URLError, KeyError, IndexError) as e:
        check('map card: matching sections', False, getattr(e, 'msg', e))


def card_from_card_checks(driver, base):
    """A card opened from another card's list, its place off the map while the map is zoomed in
    (z 10): the map moves there at that zoom (a card of its own has no marker to uncluster), where
    it used to zoom in to 11."""
    name = 'Проектная среда'
    try:
        site = get_json(base + '/matching/nearest-sites?organization=20&k=1')['features'][0]
        load_map(driver, base + '/?' + urllib.parse.urlencode({'lang': 'ru', 'q': name, 'lat': 59.0152, 'lon': 54.6532, 'z': 10}))
        driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., '%s')]" % name).click()
        wait(driver, lambda d: nearby_state(d, 'sites') == 'idle' and idle(d), message='NGO card at z 10')
        off = off_map(driver, *site['geometry']['coordinates'])
        driver.find_element(By.CSS_SELECTOR, '.leaflet-popup .cm-nearby--sites .cm-nearby__name').click()
        wait(driver, lambda d: popup_title(d) == site['properties']['name'] and nearby_state(d, 'remote') == 'idle' and idle(d),
             message='site card')
        shown = driver.execute_script('''
            var m = document.getElementById('cm-map').getBoundingClientRect();
            var t = document.querySelector('.leaflet-popup-tip').getBoundingClientRect();
            return t.left >= m.left && t.right <= m.right && t.top >= m.top && t.bottom <= m.bottom;''')
        check('card from a card: a site off the map is shown at the zoom in use (z 10 → %s)' % url_param(driver, 'z'),
              off and url_param(driver, 'z') == '10' and shown, (off, url_param(driver, 'z'), shown))
    except (TimeoutException, WebDriverException, urllib.error.URLError, KeyError, IndexError) as e:
        check('card from a card keeps the zoom', False, getattr(e, 'msg', e))


def nearby_problem_checks(driver, base):
    """The card's nearest sites when the request fails (an organisation the server does not know, a
    real 404; a request it refuses, a real 400; no connection; a proxy's 502): told in the page's
    language by the problem's type or the status, without the server's English detail; the language
    switch tells it again in English."""
    missing = '999999999'
    try:
        urllib.request.urlopen(base + '/matching/nearest-sites?organization=%s&k=3' % missing, timeout=10)
        detail = None
    except urllib.error.HTTPError as e:
        detail = json.load(e).get('detail')
    status = lambda d: d.execute_script('''
        var s = document.querySelector('.leaflet-popup .cm-nearby--sites');
        var p = s && s.querySelector('.cm-nearby__status');
        return s ? {state: s.getAttribute('data-state'), problem: s.getAttribute('data-problem'),
                    text: p ? p.textContent : ''} : null;''')
    try:
        load_map(driver, base + '/?lang=ru')
        # the page asks for the nearest sites of an organisation the server does not know
        driver.execute_script('''
            var f = window.fetch, id = arguments[0];
            window.fetch = function (u, o) { return f.call(this, String(u).replace(/([?&]organization=)[^&]*/, '$1' + id), o); };''',
                              missing)
        name = 'Проектная среда'
        driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., '%s')]" % name).click()
        wait(driver, lambda d: (status(d) or {}).get('state') == 'error', timeout=10, message='nearest sites fail')
        ru = status(driver)
        check('card: a failed nearest-sites list is told in Russian by the problem type («%s»)' % ru['text'],
              detail and ru['problem'] == 'not-found' and detail not in ru['text']
              and ru['text'] == 'Не удалось загрузить список. Сервер не нашёл эту организацию — возможно, её удалили. Обновите карту.',
              (ru, detail))
        driver.find_element(By.CSS_SELECTOR, '.cm-langswitch').click()
        wait(driver, lambda d: (status(d) or {}).get('state') == 'error' and status(d)['text'].startswith('Could not'),
             timeout=10, message='the problem in English')
        en = status(driver)
        check('card: … and in English after the language switch («%s»)' % en['text'],
              en['text'] == 'Could not load the list. The server does not know this organisation; it may have been removed. Reload the map.',
              en)
        marker = driver.execute_script('''
            var name = arguments[0], m = Array.from(document.querySelectorAll('.leaflet-marker-icon.cm-marker'))
                .filter(function (e) { return e.title.indexOf(name) >= 0; })[0];
            return m ? [m.title, m.getAttribute('aria-label'), m.className.replace(/.*cm-marker--(\\w+).*/, '$1')] : null;''', name)
        check('language switch: the marker is named in English («%s»)' % (marker or [None, None])[1],
              marker and marker[1] == '%s, %s' % (marker[0], KIND_NAMES['en'].get(marker[2])), marker)
    except (TimeoutException, WebDriverException, urllib.error.URLError) as e:
        check('card: a failed nearest-sites list in the page\'s language', False, (getattr(e, 'msg', e), status(driver)))

    # the other ways the list fails, each in Russian and after the language switch in English: the
    # server refuses the request (its real 400 for k=0), the server is not reached (the request is
    # blocked in the browser), a proxy in front answers 502 with a page of its own (not JSON)
    refused = get_json_problem(base + '/matching/nearest-sites?organization=20&k=0')
    cases = [
        ('refused by the server (400 %s)' % refused.get('type', '').split(':')[-1], 'invalid',
         lambda: driver.execute_script('''
            var f = window.fetch;
            window.fetch = function (u, o) { return f.call(this, String(u).replace(/([?&]k=)\\d+/, '$10'), o); };'''),
         'Сервер не принял запрос.', 'The server did not accept the request.'),
        ('without a connection', 'network',
         lambda: driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': ['*/matching/nearest-sites?*']}),
         'Нет связи с сервером. Проверьте подключение.', 'The server cannot be reached. Check the connection.'),
        ('when a proxy answers 502', 'server',
         lambda: driver.execute_script('''
            var f = window.fetch;
            window.fetch = function (u, o) {
                if (String(u).indexOf('/matching/') < 0) { return f.apply(this, arguments); }
                return Promise.resolve(new Response('<html><h1>502 Bad Gateway</h1></html>', {status: 502, headers: {'Content-Type': 'text/html'}}));
            };'''),
         'Ошибка на сервере. Попробуйте позже.', 'The server ran into an error. Try again later.'),
    ]
    driver.execute_cdp_cmd('Network.enable', {})
    for what, kind, fail, ru_text, en_text in cases:
        try:
            load_map(driver, base + '/?lang=ru')
            fail()
            driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., 'Проектная среда')]").click()
            wait(driver, lambda d: (status(d) or {}).get('state') == 'error', timeout=10, message='nearest sites fail')
            ru = status(driver)
            driver.find_element(By.CSS_SELECTOR, '.cm-langswitch').click()
            wait(driver, lambda d: (status(d) or {}).get('state') == 'error' and status(d)['text'].startswith('Could not'),
                 timeout=10, message='the problem in English')
            en = status(driver)
            check('card: the nearest sites %s: «%s», in English «%s»' % (what, ru['text'], en['text']),
                  ru['problem'] == en['problem'] == kind and ru['text'] == 'Не удалось загрузить список. ' + ru_text
                  and en['text'] == 'Could not load the list. ' + en_text
                  and not (kind == 'invalid' and refused.get('detail', '?') in ru['text'] + en['text']), (ru, en))
        except (TimeoutException, WebDriverException) as e:
            check('card: the nearest sites %s, in the page\'s language' % what, False, (getattr(e, 'msg', e), status(driver)))
        finally:
            driver.execute_cdp_cmd('Network.setBlockedURLs', {'urls': []})
    unexpected = [e for e in severe_errors(driver) if 'organization=' + missing not in e
                  and not ('/matching/nearest-sites?' in e and ('k=0' in e or 'ERR_BLOCKED_BY_CLIENT' in e))]
    check('card problems: no console errors but the failed answers\' own', not unexpected, unexpected[:3])


def keyboard_checks(driver, base):
    """Clusters, markers, the region list and the reference point with the keyboard; a card opened
    from the list zooms in no further than its marker needs."""
    url = base + '/?lang=ru'
    try:
        load_map(driver, url)
        z0 = int(url_param(driver, 'z'))
        label, n = focus_cluster(driver, 'приблизить')
        if check('keyboard: a cluster to zoom into is named (%s)' % label, label):
            ActionChains(driver).send_keys(Keys.SPACE).perform()
            wait(driver, lambda d: int(url_param(d, 'z') or 0) > z0 and idle(d), timeout=5, message='zoom by Space')
            check('keyboard: Space on the cluster zooms in (z %d → %s)' % (z0, url_param(driver, 'z')), True)
            part = focus_on_part(driver, n)
            check('keyboard: … and the focus goes on to the first of its parts («%s»), not to the map' % part.get('label'),
                  part['ok'], part)
        z0 = int(url_param(driver, 'z'))
        label, n = focus_cluster(driver, 'приблизить')
        if label:
            ActionChains(driver).send_keys(Keys.ENTER).perform()
        part = focus_on_part(driver, n)
        check('keyboard: Enter on «%s» zooms in (z %d → %s) with the focus on its first part («%s»)'
              % (label, z0, url_param(driver, 'z'), part.get('label')),
              label and int(url_param(driver, 'z')) > z0 and part['ok'], part)
        label, n = focus_cluster(driver, 'в одном месте')
        if label:
            ActionChains(driver).send_keys(Keys.ENTER).perform()
        part = focus_on_part(driver, n)
        check('keyboard: Enter on «%s» spreads it out with the focus on its first organisation («%s»)'
              % (label, part.get('label')), label and part['ok'] and part['what'] == 'marker', part)
    except (TimeoutException, WebDriverException) as e:
        check('keyboard: Space and Enter on a cluster', False, getattr(e, 'msg', e))

    try:
        load_map(driver, url)
        marker = driver.execute_script('''
            var m = document.querySelector('.leaflet-marker-icon.cm-marker'); if (!m) { return null; } m.focus();
            return {title: m.title, role: m.getAttribute('role'), label: m.getAttribute('aria-label'),
                    kind: m.className.replace(/.*cm-marker--(\\w+).*/, '$1')};''')
        title = marker and marker['title']
        check('keyboard: a marker is a button named by name and kind («%s»)' % (marker or {}).get('label'),
              marker and marker['role'] == 'button' and title
              and marker['label'] == '%s, %s' % (title, KIND_NAMES['ru'].get(marker['kind'])), marker)
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        wait(driver, lambda d: popup_title(d) == title, timeout=5, message='card by Enter')
        in_card = driver.execute_script('return document.activeElement.className') == 'cm-card__title'
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup'), timeout=5, message='card closed by Esc')
        back = driver.execute_script(
            "var a = document.activeElement; return a.classList.contains('cm-marker') ? a.title : a.tagName;")
        check('keyboard: Enter on a marker opens its card with the focus in it, Esc gives the focus back to the marker',
              in_card and back == title, (in_card, back, title))
    except (TimeoutException, WebDriverException) as e:
        check('keyboard: Esc in a marker\'s card gives the focus back to the marker', False, getattr(e, 'msg', e))
    try:
        # the focus is back on the marker: Space does what Enter does
        driver.execute_script("var m = document.querySelector('.leaflet-marker-icon.cm-marker'); if (m && document.activeElement !== m) { m.focus(); }")
        title = driver.execute_script('return document.activeElement.title')
        ActionChains(driver).send_keys(Keys.SPACE).perform()
        wait(driver, lambda d: popup_title(d) == title, timeout=5, message='card by Space')
        in_card = driver.execute_script('return document.activeElement.className') == 'cm-card__title'
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup'), timeout=5, message='card closed by Esc')
        check('keyboard: Space on a marker opens its card too, with the focus in it', in_card, in_card)
    except (TimeoutException, WebDriverException) as e:
        check('keyboard: Space on a marker opens its card', False, getattr(e, 'msg', e))
    try:
        # Space finds the marker from its icon directly: no pass over all the markers (an object
        # whose values are all markers, listed with Object.keys) while the key is handled
        pressed = driver.execute_script('''
            var m = document.querySelector('.leaflet-marker-icon.cm-marker'), keys = Object.keys, scans = 0;
            Object.keys = function (o) {
                var k = keys(o);
                if (k.length > 1 && k.every(function (x) { return o[x] instanceof L.Marker; })) { scans += 1; }
                return k;
            };
            try {
                m.focus();
                m.dispatchEvent(new KeyboardEvent('keydown', {key: ' ', bubbles: true, cancelable: true}));
            } finally { Object.keys = keys; }
            return {title: m.title, scans: scans};''')
        wait(driver, lambda d: popup_title(d) == pressed['title'], timeout=5, message='card by Space')
        check('keyboard: Space on a marker takes its marker from the icon, not from a pass over all markers (%d)'
              % pressed['scans'], pressed['scans'] == 0, pressed)
        ActionChains(driver).send_keys(Keys.ESCAPE).perform()
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, '.leaflet-popup'), timeout=5, message='card closed by Esc')
    except (TimeoutException, WebDriverException) as e:
        check('keyboard: Space on a marker finds it from its icon', False, getattr(e, 'msg', e))

    try:
        load_map(driver, url)
        z0 = int(url_param(driver, 'z'))
        name = 'Проектная среда'
        driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., '%s')]" % name).click()
        wait(driver, lambda d: name in popup_title(d) and idle(d), message='card from the list')
        z1 = int(url_param(driver, 'z'))
        check('list: the card of a clustered organisation opens zoomed in only as far as needed (z %d → %d, not 13)'
              % (z0, z1), z0 < z1 < 13, (z0, z1))
        name = 'Фонд грантов губернатора Пермского края'
        driver.find_element(By.XPATH, "//ol[@id='cm-list']//button[contains(., '%s')]" % name).click()
        wait(driver, lambda d: name in popup_title(d) and idle(d), message='second card from the list')
        check('list: a card whose marker shows at this zoom keeps the zoom (z %s)' % url_param(driver, 'z'),
              int(url_param(driver, 'z')) == z1, url_param(driver, 'z'))
    except (TimeoutException, WebDriverException) as e:
        check('list: a card opens without zooming to z13', False, getattr(e, 'msg', e))

    try:
        load_map(driver, url)
        wait(driver, lambda d: d.execute_script(
            "return !!document.querySelector('#cm-region option[value=\"RU-PER\"]')"), message='regions loaded')
        count_fetches(driver)
        region = driver.find_element(By.ID, 'cm-region')
        driver.execute_script('arguments[0].focus()', region)
        ActionChains(driver).send_keys(Keys.ARROW_DOWN * 4).perform()
        wait(driver, lambda d: idle(d) and url_param(d, 'region_iso'), message='region applied')
        chosen = Select(region).first_selected_option.get_attribute('value')
        rings = fetched(driver, '/rings?')
        check('region list: 4 arrow keys apply only the region stopped at (%s): %d ring request(s)' % (chosen, len(rings)),
              url_param(driver, 'region_iso') == chosen and len(rings) == 1 and 'region_iso=' + chosen in rings[0], rings)

        button = driver.find_element(By.ID, 'cm-point-centre')
        driver.execute_script('arguments[0].focus()', button)
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        wait(driver, lambda d: url_param(d, 'near') and idle(d), message='point at the centre')
        near = [float(x) for x in url_param(driver, 'near').split(',')]
        centre = [float(url_param(driver, 'lon')), float(url_param(driver, 'lat'))]
        info = driver.find_element(By.CSS_SELECTOR, '.cm-point__info').text
        check('keyboard: «%s» sets the reference point at the map centre (near=%s)' % (button.text, url_param(driver, 'near')),
              button.text == 'Точка в центре карты' and abs(near[0] - centre[0]) < 1e-3 and abs(near[1] - centre[1]) < 1e-3
              and info.startswith('Расстояния от точки'), (near, centre, info))
    except (TimeoutException, WebDriverException) as e:
        check('region list and reference point with the keyboard', False, getattr(e, 'msg', e))


def tiles_hang_check(base):
    """Tile requests held by the browser (never answered): with tile_timeout=1 the map says within
    about a second that the basemap did not load. A browser of its own that does not wait for the
    page's load event, which the held tiles would hold up."""
    pattern = urllib.parse.urlsplit(get_json(base + '/map-config.json')['tiles']['url'].split('{')[0])
    driver = make_driver(page_load='eager')
    try:
        driver.execute_cdp_cmd('Fetch.enable', {'patterns': [{'urlPattern': '%s://%s/*' % (pattern.scheme, pattern.netloc)}]})
        driver.get(base + '/?lang=ru&tile_timeout=1')
        started = time.time()
        note = wait(driver, lambda d: d.execute_script('''
            var n = document.querySelector('.cm-tiles-note');
            return n && !n.hidden && document.getElementById('cm-app').classList.contains('cm-no-tiles') ? n.textContent : '';'''),
                    timeout=6, message='the note')
        check('tiles that hang: after %.1f s the map says «%s»' % (time.time() - started, note), 'Подложка карты' in note, note)
    except (TimeoutException, WebDriverException) as e:
        check('tiles that hang are taken as missing', False, getattr(e, 'msg', e))
    finally:
        driver.quit()


def report_checks(driver, base):
    """The report page for RU-PER against its JSON; changing the threshold; RU-SA with the HTML name."""
    url = base + '/reports/regions/RU-PER'
    try:
        driver.get(url)
        wait(driver, lambda d: report_state(d) == 'idle', message='report idle')
        data = get_json(url + '?f=json')
        h1 = driver.find_element(By.CSS_SELECTOR, '#cm-report h1').text
        check('report RU-PER: the heading is «%s»' % h1, 'Пермский край' in h1, h1)
        check('report: the document title names the region', 'Пермский край' in driver.title, driver.title)
        shown = report_totals(driver)
        tt = data['totals']
        got = (number(shown.get('organizations')), number(shown.get('remote')))
        check('report: totals as in the JSON (%s organisations, %s remote)' % got,
              got == (tt['organizations'], tt['remote']), (shown, tt))
        if tt.get('remote_share') is not None:
            check('report: remote share %s' % shown.get('remote_share'),
                  abs((number(shown.get('remote_share')) or -99) - round(tt['remote_share'] * 1000)) <= 1
                  and '%' in (shown.get('remote_share') or ''), (shown.get('remote_share'), tt['remote_share']))
        bins = data['distances']['bins']
        thr = data['parameters']['threshold_km']
        hist = driver.execute_script('''
            var s = document.querySelector('#cm-report svg.cm-hist');
            if (!s) return null;
            return {bars: s.querySelectorAll('rect.cm-hist__bar').length,
                    remote: s.querySelectorAll('rect.cm-hist__bar--remote').length,
                    line: s.querySelectorAll('line.cm-hist__threshold').length,
                    role: s.getAttribute('role'), title: (s.querySelector('title') || {}).textContent || '',
                    desc: (s.querySelector('desc') || {}).textContent || ''};''')
        far = sum(1 for b in bins if b['from_km'] >= thr)
        check('report: histogram with one bar per bin (%d), %d from the threshold on in the remote colour, a threshold line'
              % (len(bins), far),
              hist is not None and hist['bars'] == len(bins) and hist['remote'] == far and hist['line'] == 1, hist)
        check('report: histogram is an image with a text summary',
              hist is not None and hist['role'] == 'img' and hist['title'] and 'км' in hist['desc'], hist)
        kinds = driver.execute_script('''
            var s = document.querySelector('#cm-report svg.cm-kindchart');
            return s ? {all: s.querySelectorAll('rect.cm-chart__bar.cm-chart__bar--all').length,
                        remote: s.querySelectorAll('rect.cm-chart__bar.cm-chart__bar--remote').length,
                        title: (s.querySelector('title') || {}).textContent || '',
                        rows: document.querySelectorAll('#cm-report table.cm-table--kinds tbody tr').length} : null;''')
        n_kinds = len(data['by_kind'])
        check('report: by-kind chart (all and remote per kind) and table, %d kinds' % n_kinds,
              kinds is not None and kinds['all'] == n_kinds and kinds['remote'] == n_kinds and kinds['title']
              and kinds['rows'] == n_kinds, kinds)
        tables = driver.execute_script('''
            var r = document.querySelectorAll('#cm-report table.cm-table--remote tbody tr');
            var a = document.querySelector('#cm-report table.cm-table--remote a');
            return {remote: r.length, link: a ? a.getAttribute('href') : '', text: a ? a.textContent : '',
                    places: document.querySelectorAll('#cm-report table.cm-table--places tbody tr').length,
                    captions: document.querySelectorAll('#cm-report table > caption').length,
                    tables: document.querySelectorAll('#cm-report table').length};''')
        first = data['most_remote'][0] if data['most_remote'] else None
        at = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(tables['link']).query))
        check('report: the most-remote table (%d) links to the map at the organisation' % tables['remote'],
              tables['remote'] == len(data['most_remote']) and (first is None or (
                  tables['text'] == first['name'] and tables['link'].startswith('/?') and at.get('z') == '12'
                  and abs(float(at.get('lat', 'nan')) - first['lat']) < 1e-4
                  and abs(float(at.get('lon', 'nan')) - first['lon']) < 1e-4)), (tables, first))
        cov = data['coverage']
        check('report: coverage (%d of %d settlements uncovered, %d listed) as in the JSON'
              % (cov['uncovered'], cov['settlements'], tables['places']),
              number(shown.get('settlements')) == cov['settlements'] and number(shown.get('uncovered', '').split('(')[0]) == cov['uncovered']
              and tables['places'] == len(cov['uncovered_places']), (shown, tables))
        check('report: every table has a caption', tables['tables'] > 0 and tables['captions'] == tables['tables'], tables)
        links = {k: driver.find_element(By.ID, 'cm-report-' + k).get_attribute('href') for k in ('csv', 'excel', 'json')}
        ok = 'f=csv' in links['csv'] and 'dialect' not in links['csv'] and 'f=csv' in links['excel'] \
            and 'dialect=excel' in links['excel'] and 'f=json' in links['json']
        with urllib.request.urlopen(links['excel'], timeout=30) as r:
            body = r.read()
            ok = ok and r.headers.get('Content-Type', '').startswith('text/csv') and body.startswith(b'\xef\xbb\xbf')
        check('report: CSV, Excel CSV (BOM) and JSON links', ok, links)
        check('report: a print button', driver.find_element(By.ID, 'cm-report-print').text == 'Печать')

        # a new threshold: the URL changes and the remote total follows the JSON
        before = tt['remote']
        new_km = 200
        for k in (200, 100, 20, 10):
            if get_json(url + '?f=json&threshold_km=%d' % k)['totals']['remote'] != before:
                new_km = k
                break
        box = driver.find_element(By.ID, 'cm-report-threshold')
        box.send_keys(Keys.CONTROL, 'a')
        box.send_keys(str(new_km), Keys.ENTER)
        wait(driver, lambda d: 'threshold_km=%d' % new_km in d.current_url and report_state(d) == 'idle',
             message='report at %d km' % new_km)
        data2 = get_json(json_url_of(driver.current_url))
        now = number(report_totals(driver).get('remote'))
        check('report: threshold %d km → URL %s, remote %d → %d as in the JSON'
              % (new_km, urllib.parse.urlsplit(driver.current_url).query, before, now),
              now == data2['totals']['remote'] and now != before
              and data2['parameters']['threshold_km'] == new_km
              and driver.find_element(By.ID, 'cm-report-threshold').get_attribute('value') == str(new_km),
              (now, data2['totals'], before))

        # English
        driver.get(url + '?lang=en')
        wait(driver, lambda d: report_state(d) == 'idle', message='report in English')
        h1 = driver.find_element(By.CSS_SELECTOR, '#cm-report h1').text
        check('report ?lang=en: «%s», English labels' % h1,
              h1 == data['region']['name_en'] and driver.find_element(By.ID, 'cm-report-print').text == 'Print', h1)
    except (TimeoutException, WebDriverException, urllib.error.URLError, KeyError, IndexError) as e:
        check('report page RU-PER', False, getattr(e, 'msg', e))

    # RU-SA: the organisation named with HTML is text
    url = base + '/reports/regions/RU-SA'
    try:
        sa = get_json(url + '?f=json')
        names = [m['name'] for m in sa['most_remote']]
        if XSS_NAME not in names:
            url += '?top=100'
            sa = get_json(url.replace('?', '?f=json&'))
            names = [m['name'] for m in sa['most_remote']]
        driver.get(url)
        wait(driver, lambda d: report_state(d) == 'idle', message='report RU-SA')
        table = driver.execute_script(
            "var t = document.querySelector('#cm-report table.cm-table--remote'); return t ? t.textContent : ''")
        state = driver.execute_script('''return {
            xss: typeof window.__xss,
            b: document.querySelectorAll('#cm-report b').length,
            img: document.querySelectorAll('#cm-report img').length,
            h1: document.querySelector('#cm-report h1').textContent};''')
        if XSS_NAME in names:
            check('report RU-SA: the HTML-named organisation is listed as text', XSS_NAME in table, table[:300])
        else:
            print('note: the HTML-named organisation is not among RU-SA\'s most remote')
        check('report RU-SA: no script ran and no <b>/<img> element was made',
              state['xss'] == 'undefined' and state['b'] == 0 and state['img'] == 0 and 'Якутия' in state['h1'], state)
    except (TimeoutException, WebDriverException, urllib.error.URLError, KeyError) as e:
        check('report page RU-SA', False, getattr(e, 'msg', e))

    # the server's problems in the page's language, its own (English) words as secondary text
    try:
        driver.get(base + '/reports/regions/RU-XXX')
        wait(driver, lambda d: report_state(d) == 'idle', message='report of an unknown region')
        box = report_error(driver)
        check('report RU-XXX: «%s»' % (box or {}).get('message'),
              box and box['title'] == 'Не удалось построить отчёт.' and box['message'].startswith('Региона «RU-XXX» нет.')
              and box['server'].endswith('does not exist') and box['serverLang'] == 'en', box)
        driver.get(base + '/reports/regions/RU-PER?threshold_km=-5&lang=en')
        wait(driver, lambda d: report_state(d) == 'idle', message='report with a bad threshold')
        box = report_error(driver)
        check('report threshold_km=-5, lang=en: «%s» %s' % ((box or {}).get('message'), (box or {}).get('params')),
              box and box['message'].startswith('Some report settings are not valid')
              and len(box['params']) == 1 and box['params'][0].startswith('Remoteness threshold, km: '), box)
        driver.find_element(By.CSS_SELECTOR, '.cm-langswitch').click()
        box = report_error(driver)
        check('report: the problem follows the language switch («%s»)' % (box or {}).get('message'),
              box and box['message'].startswith('Параметры отчёта заданы неверно')
              and box['params'][0].startswith('Порог удалённости, км: '), box)
        unexpected = [e for e in severe_errors(driver) if 'RU-XXX' not in e and 'threshold_km=-5' not in e]
        check('report problems: no console errors but the failed answers\' own', not unexpected, unexpected[:3])
    except (TimeoutException, WebDriverException) as e:
        check('report problems in the page\'s language', False, getattr(e, 'msg', e))


def report_error(driver):
    """The report's error box: title, message, the server's words and their lang, the parameters listed."""
    return driver.execute_script('''
        var b = document.querySelector('#cm-report .cm-report__error');
        if (!b) { return null; }
        var s = b.querySelector('.cm-report__error-detail [lang], .cm-report__error-server');
        return {title: b.querySelector('.cm-report__error-title').textContent,
                message: (b.querySelector('.cm-report__error-message') || {}).textContent || '',
                server: s ? s.textContent : '', serverLang: s ? s.getAttribute('lang') : '',
                params: Array.from(b.querySelectorAll('li')).map(function (li) { return li.textContent; })};''')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--base', required=True, help='the CivicMap server, e.g. http://127.0.0.1:8080')
    ap.add_argument('--second-origin-port', type=int, default=8765, help='port for the host page (another origin)')
    ap.add_argument('--screenshot', default='', help='where to save a 1280×900 screenshot of the map page')
    args = ap.parse_args()
    started = time.time()
    add_tile_hosts(args.base.rstrip('/'))
    host = start_host(args.second_origin_port, args.base.rstrip('/'))
    try:
        run(args)
    except Exception:
        traceback.print_exc()
        check('browser test ran to the end', False)
    finally:
        host.shutdown()
        shutil.rmtree(host.root, ignore_errors=True)
    passed, failed = results.count(True), results.count(False)
    print('(%.0f s)' % (time.time() - started))
    print('browser: %d passed, %d failed' % (passed, failed))
    sys.exit(1 if failed or not results else 0)


if __name__ == '__main__':
    main()
