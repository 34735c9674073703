/* CivicMap: the map page (index.html) and the widget (embed.html) share this code; the mode comes
 * from <div id="cm-app" data-mode="full|embed">.
 *
 * Loading strategy for 200,000 organisations: on every map move, /overview says how many match in
 * view. Up to config.detailLimit the real features of the view are fetched and clustered here;
 * above it the server's grid cells are drawn as bubbles. Stale requests are aborted. */
(function () {
  'use strict';

  var CM = window.CivicMap;
  var t = CM.t, el = CM.el;
  var KINDS = ['ngo', 'tos', 'internship_site'];
  var CONTROLS = ['filters', 'list', 'legend', 'search'];
  var RUSSIA = [[41.1, 19.6], [77.8, 190.5]];

  var root = document.getElementById('cm-app');
  if (!root || !window.L) { return; }
  var MODE = root.getAttribute('data-mode') === 'embed' ? 'embed' : 'full';

  var config = {
    tiles: {
      url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
      maxZoom: 19
    },
    localTiles: [],
    detailLimit: 2000,
    remoteThresholdKm: 50
  };

  var state = {
    kinds: KINDS.slice(),
    region: '',
    category: '',
    q: '',
    remote: false,
    km: null,          // null until config tells the default
    near: null,        // [lon, lat]
    exportBbox: false
  };
  var initialView = null;       // {lat, lon, z} or {bbox}
  var embed = { controls: ['legend'], locked: false };
  var builder = { controls: ['legend'], locked: false };

  var ui = {};                  // named DOM nodes
  var map, regionsLayer, regionDecor, clusterGroup, cellsLayer, pointMarker;
  var baseLayers = [];          // [{layer, local}]
  var regions = [];             // region features, sorted
  var regionByKey = {};         // iso or code → feature
  var categories = [];
  var markersById = {};
  var lastResult = { mode: 'none', features: [], numberMatched: 0, byKind: {} };
  var inflight = null;
  var ringRequest = null;
  var tilesLoaded = 0, tileErrors = 0;
  var tileTimeoutMs = 8000;     // no tile by then: the basemap is taken as missing (tile_timeout=s in the URL)
  var tilesTimedOut = false, tileTimer = null;

  // ---------------------------------------------------------------- URL state

  function readURL() {
    var p = new URLSearchParams(location.search);
    var lang = p.get('lang');
    CM.lang = lang === 'en' ? 'en' : 'ru';
    if (p.has('kind')) {
      var ks = p.get('kind').split(',').filter(function (k) { return KINDS.indexOf(k) >= 0; });
      if (ks.length) { state.kinds = KINDS.filter(function (k) { return ks.indexOf(k) >= 0; }); }
    }
    state.region = (p.get('region_iso') || '').trim();
    state.category = (p.get('categories') || '').trim();
    state.q = (p.get('q') || '').trim();
    state.remote = p.get('remote') === '1' || p.has('min_distance_km');
    var km = parseFloat(p.get('km') || p.get('min_distance_km'));
    if (isFinite(km) && km >= 0) { state.km = km; }
    var tt = parseFloat(p.get('tile_timeout'));
    if (isFinite(tt) && tt > 0) { tileTimeoutMs = Math.min(tt, 60) * 1000; }
    var near = parsePair(p.get('near'));
    if (near && Math.abs(near[1]) <= 90) { state.near = near; }
    var lat = parseFloat(p.get('lat')), lon = parseFloat(p.get('lon')), z = parseFloat(p.get('z'));
    if (isFinite(lat) && isFinite(lon) && Math.abs(lat) <= 90) {
      initialView = { lat: lat, lon: lon, z: isFinite(z) ? Math.max(1, Math.min(19, Math.round(z))) : 8 };
    } else if (p.has('bbox')) {
      var b = p.get('bbox').split(',').map(parseFloat);
      if (b.length === 4 && b.every(isFinite)) { initialView = { bbox: b }; }
    }
    if (MODE === 'embed') {
      if (p.has('controls')) {
        embed.controls = p.get('controls').split(',').map(function (s) { return s.trim(); })
          .filter(function (c) { return CONTROLS.indexOf(c) >= 0; });
      }
      embed.locked = p.get('locked') === '1';
    }
  }

  function parsePair(s) {
    if (!s) { return null; }
    var v = s.split(',').map(parseFloat);
    return v.length === 2 && v.every(isFinite) ? v : null;
  }

  function round(x, digits) { return Number(x.toFixed(digits)); }

  /** Filters as API query parameters (what /overview, items and /export take). */
  function filterParams() {
    var p = new URLSearchParams();
    if (state.kinds.length && state.kinds.length < KINDS.length) { p.set('kind', state.kinds.join(',')); }
    if (state.region) { p.set('region_iso', state.region); }
    if (state.category) { p.set('categories', state.category); }
    if (state.q) { p.set('q', state.q); }
    if (state.remote) { p.set('min_distance_km', String(threshold())); }
    return p;
  }

  function threshold() {
    return state.km != null ? state.km : config.remoteThresholdKm;
  }

  /** The shareable state: language, filters, view, point. */
  function stateParams(withView) {
    var p = new URLSearchParams();
    p.set('lang', CM.lang);
    if (state.kinds.length < KINDS.length) { p.set('kind', state.kinds.join(',')); }
    if (state.region) { p.set('region_iso', state.region); }
    if (state.category) { p.set('categories', state.category); }
    if (state.q) { p.set('q', state.q); }
    if (state.remote) { p.set('remote', '1'); }
    if (state.remote || (state.km != null && state.km !== config.remoteThresholdKm)) { p.set('km', String(threshold())); }
    if (withView && map) {
      var c = map.getCenter();
      p.set('lat', String(round(c.lat, 4)));
      p.set('lon', String(round(CM.wrapLon(c.lng), 4)));
      p.set('z', String(map.getZoom()));
    }
    if (state.near) { p.set('near', round(state.near[0], 5) + ',' + round(state.near[1], 5)); }
    return p;
  }

  function writeURL() {
    var p = stateParams(true);
    if (MODE === 'embed') {
      var orig = new URLSearchParams(location.search);
      ['controls', 'locked'].forEach(function (k) { if (orig.has(k)) { p.set(k, orig.get(k)); } });
    }
    var qs = CM.query(p);
    // the entry's state is kept: it marks the entry a card added (cardHistory)
    try { history.replaceState(history.state, '', location.pathname + (qs ? '?' + qs : '')); } catch (e) { /* sandboxed frames */ }
  }

  // ---------------------------------------------------------------- building the page

  function hasControl(c) { return MODE === 'full' || embed.controls.indexOf(c) >= 0; }
  function locked() { return MODE === 'embed' && embed.locked; }

  function kindIcon(kind, extraClass) {
    return el('span', {
      class: 'cm-kind-icon cm-kind-icon--' + kind + (extraClass ? ' ' + extraClass : ''),
      attrs: { 'aria-hidden': 'true' }
    }, [el('span', { class: 'cm-kind-icon__letter', i18n: 'kind.letter.' + kind })]);
  }

  function buildUI() {
    root.textContent = '';
    root.classList.add('cm-app--' + MODE);
    setBusy(true);
    var showFilters = hasControl('filters'), showSearch = hasControl('search');
    var showList = hasControl('list');

    if (showFilters || showSearch) { root.appendChild(buildFilters(showFilters, showSearch)); }
    else { root.classList.add('cm-app--no-filters'); }

    ui.mapWrap = el('div', { class: 'cm-mapwrap' }, [
      ui.map = el('div', { id: 'cm-map', class: 'cm-map', i18nAttrs: { 'aria-label': 'map.label' }, attrs: { role: 'region' } }),
      ui.status = el('div', { class: 'cm-status', attrs: { role: 'status', 'aria-live': 'polite' } }),
      ui.tilesNote = el('p', { class: 'cm-tiles-note', hidden: true, i18n: 'map.tiles.none', attrs: { role: 'status' } }),
      ui.hint = el('div', { class: 'cm-hint', attrs: { 'aria-hidden': 'true' } })
    ]);
    root.appendChild(ui.mapWrap);
    if (MODE === 'embed') {
      ui.credit = el('p', { class: 'cm-credit' });
      fillCredit();
      root.appendChild(ui.credit);
    }

    if (showList) { root.appendChild(buildList()); }
    else { root.classList.add('cm-app--no-list'); }
    placeTools();
    if (NARROW && ui.tools) {
      if (NARROW.addEventListener) { NARROW.addEventListener('change', placeTools); } else { NARROW.addListener(placeTools); }
    }
  }

  /** The widget has no footer: a line under its map credits the data sources whose licences ask for
   *  it wherever the data is shown (GeoNames: CC BY 4.0), linked (new tab). The full page's footer
   *  credits them. The basemap's credit stays in the map's attribution. */
  var CREDIT_LINKS = {
    geonames: function () { return ['https://www.geonames.org/', 'GeoNames']; },
    licence: function () { return ['https://creativecommons.org/licenses/by/4.0/' + (CM.lang === 'ru' ? 'deed.ru' : ''), 'CC BY 4.0']; },
    dcw: function () { return ['https://www.soest.hawaii.edu/pwessel/dcw/', 'DCW-GMT']; }
  };

  function fillCredit() {
    if (!ui.credit) { return; }
    ui.credit.textContent = '';
    t('embed.credit').split(/(\{\w+\})/).forEach(function (part) {
      var m = /^\{(\w+)\}$/.exec(part);
      if (m && Object.prototype.hasOwnProperty.call(CREDIT_LINKS, m[1])) {
        var l = CREDIT_LINKS[m[1]]();
        ui.credit.appendChild(CM.externalLink(l[0], l[1]));
      } else if (part) {
        ui.credit.appendChild(document.createTextNode(part));
      }
    });
  }

  function field(labelKey, control, id, extra) {
    return el('div', { class: 'cm-field' + (extra ? ' ' + extra : '') }, [
      el('label', { htmlFor: id, class: 'cm-label', i18n: labelKey }),
      control
    ]);
  }

  function buildFilters(showFilters, showSearch) {
    // the filters (not a search field alone) fold on narrow screens; a locked widget's are fixed, so
    // there a line says what they are instead (style.css)
    var panel = ui.filters = el('section', {
      class: 'cm-panel cm-filters' + (showFilters ? ' cm-filters--fold' : '') + (locked() ? ' cm-filters--locked' : ''),
      id: 'cm-filters', attrs: { 'aria-labelledby': 'cm-filters-heading' }
    });
    var head = el('div', { class: 'cm-panel__head' }, [
      el('h2', { id: 'cm-filters-heading', class: 'cm-panel__title', i18n: 'filters.heading' }),
      ui.filtersToggle = el('button', {
        type: 'button', class: 'cm-button cm-filters__toggle', text: t('filters.toggle'),
        attrs: { 'aria-expanded': 'false', 'aria-controls': 'cm-filters-body' },
        on: { click: function () { toggleFilters(); } }
      })
    ]);
    panel.appendChild(head);
    if (locked()) { panel.appendChild(ui.filtersSummary = el('p', { class: 'cm-note cm-filters__summary' })); }
    var body = ui.filtersBody = el('div', { class: 'cm-filters__body', id: 'cm-filters-body' });
    panel.appendChild(body);
    if (locked()) { body.appendChild(el('p', { class: 'cm-note cm-locked-note', i18n: 'filters.locked' })); }

    var form = el('form', { class: 'cm-form', attrs: { role: 'search' }, on: { submit: onFormSubmit } });
    body.appendChild(form);

    if (showSearch) {
      ui.q = el('input', {
        type: 'search', id: 'cm-q', name: 'q', class: 'cm-input', value: state.q, autocomplete: 'off',
        i18nAttrs: { placeholder: 'filters.q.placeholder' },
        on: {
          input: CM.debounce(applyQ, 450), search: applyQ,
          keydown: function (e) { if (e.key === 'Enter') { sendQ(); } }
        }
      });
      form.appendChild(field('filters.q', ui.q, 'cm-q', 'cm-field--q'));
    }

    if (showFilters) {
      var kinds = el('fieldset', { class: 'cm-field cm-kinds' }, [el('legend', { class: 'cm-label', i18n: 'filters.kind' })]);
      ui.kindBoxes = {};
      KINDS.forEach(function (k) {
        var box = ui.kindBoxes[k] = el('input', {
          type: 'checkbox', id: 'cm-kind-' + k, name: 'kind', value: k, checked: state.kinds.indexOf(k) >= 0,
          on: { change: onKindsChange }
        });
        kinds.appendChild(el('div', { class: 'cm-check' }, [
          box,
          el('label', { htmlFor: 'cm-kind-' + k }, [kindIcon(k), el('span', { i18n: 'kind.plural.' + k })])
        ]));
      });
      form.appendChild(kinds);

      ui.region = el('select', {
        id: 'cm-region', name: 'region_iso', class: 'cm-input',
        on: { change: onRegionChange, keydown: onRegionKey, pointerdown: function () { regionByKeys = false; }, blur: applyRegion }
      }, [
        el('option', { value: '', i18n: 'filters.region.all' })
      ]);
      form.appendChild(field('filters.region', ui.region, 'cm-region'));
      ui.regionsNote = el('p', { class: 'cm-note cm-note--warn', hidden: true, i18n: 'status.regions.error', attrs: { role: 'alert' } });
      form.appendChild(ui.regionsNote);

      ui.category = el('select', { id: 'cm-category', name: 'categories', class: 'cm-input', on: { change: onCategoryChange } }, [
        el('option', { value: '', i18n: 'filters.category.all' })
      ]);
      form.appendChild(field('filters.category', ui.category, 'cm-category'));

      ui.remote = el('input', { type: 'checkbox', id: 'cm-remote', name: 'remote', checked: state.remote, on: { change: onRemoteChange } });
      ui.km = el('input', {
        type: 'number', id: 'cm-km', name: 'km', class: 'cm-input cm-input--km', min: '0', max: '5000', step: '1',
        value: String(threshold()), attrs: { inputmode: 'decimal', 'aria-describedby': 'cm-km-hint' },
        on: { input: CM.debounce(onKmChange, 500), change: onKmChange }
      });
      form.appendChild(el('div', { class: 'cm-field cm-remote' }, [
        el('div', { class: 'cm-check' }, [ui.remote, el('label', { htmlFor: 'cm-remote', i18n: 'filters.remote' })]),
        el('div', { class: 'cm-km' }, [el('label', { htmlFor: 'cm-km', class: 'cm-label', i18n: 'filters.km' }), ui.km]),
        el('p', { id: 'cm-km-hint', class: 'cm-note', i18n: 'filters.km.hint' })
      ]));

      if (!locked()) {
        form.appendChild(el('div', { class: 'cm-field' }, [
          el('button', { type: 'button', class: 'cm-button cm-button--ghost', i18n: 'filters.reset', on: { click: resetFilters } })
        ]));
      }
      // phones: the folded filters cover the map; this closes them and shows what they found
      ui.filtersShow = el('button', {
        type: 'button', class: 'cm-button cm-filters__show', text: t('filters.show'), on: { click: showResults }
      });
      form.appendChild(el('div', { class: 'cm-field cm-filters__showfield' }, [ui.filtersShow]));
      ui.kindsNote = el('p', { class: 'cm-note cm-note--warn', hidden: true, attrs: { role: 'alert' } });
      form.appendChild(ui.kindsNote);
    }

    if (locked()) {
      form.querySelectorAll('input, select, button').forEach(function (c) { c.disabled = true; });
    }

    if (MODE === 'full') {
      ui.tools = el('div', { class: 'cm-tools' }, [buildExport(), buildEmbedBuilder()]);
      body.appendChild(ui.tools);
    }
    return panel;
  }

  function onFormSubmit(e) {
    e.preventDefault();
    if (ui.q) { sendQ(); }
  }

  /** Enter (a touch keyboard's «Найти»; the form has two text fields, so no submit) searches; on a
   *  touch screen the field lets go, or the keyboard stays up over half the screen. */
  function sendQ() {
    applyQ();
    if (COARSE && COARSE.matches) { ui.q.blur(); }
  }

  /** «Показать (N)» on phones: the filters fold and the map comes into view. The widget cannot see
   *  where its frame lies on the host page (scrolled down to this button), and its map fills the frame
   *  until the frame shrinks: it asks for its folded filters' bar, the map right under it, to be in view
   *  there ('nearest': only if it is not), at once (the frame's shrinking would cut a smooth scroll short). */
  function showResults() {
    toggleFilters(false);
    if (MODE === 'embed') { ui.filters.scrollIntoView({ block: 'nearest' }); }
    else { showMap(); }
    map.getContainer().focus({ preventScroll: true });
  }

  function updateFiltersShow() {
    if (!ui.filtersShow) { return; }
    var r = lastResult, counted = r.mode === 'detail' || r.mode === 'overview' || (r.mode === 'none' && !state.kinds.length);
    ui.filtersShow.textContent = counted ? t('filters.show.count', { n: CM.formatNumber(r.numberMatched || 0, 0) }) : t('filters.show');
  }

  var NARROW = window.matchMedia ? window.matchMedia('(max-width: 860px)') : null;   // style.css's one-column layout
  var COARSE = window.matchMedia ? window.matchMedia('(pointer: coarse)') : null;    // a touch screen

  /** On the one-column layout (phones) export and «Встроить карту» leave the folded filters, which
   *  would push the map far down, for a panel of their own after the list. */
  function placeTools() {
    if (!ui.tools) { return; }
    var narrow = !!(NARROW && NARROW.matches);
    if (narrow && !ui.toolsPanel) {
      ui.toolsPanel = el('section', { class: 'cm-panel cm-toolspanel', i18nAttrs: { 'aria-label': 'tools.label' } });
      root.appendChild(ui.toolsPanel);
    }
    (narrow ? ui.toolsPanel : ui.filtersBody).appendChild(ui.tools);
    if (ui.toolsPanel) { ui.toolsPanel.hidden = !narrow; }
  }

  /** On phones the filters fold away; the button says how many are set. */
  function updateFiltersToggle() {
    if (!ui.filtersToggle) { return; }
    var n = (state.kinds.length < KINDS.length ? 1 : 0) + (state.region ? 1 : 0) + (state.category ? 1 : 0) +
      (state.q ? 1 : 0) + (state.remote ? 1 : 0);
    ui.filtersToggle.textContent = t('filters.toggle') + (n ? ' (' + CM.formatNumber(n, 0) + ')' : '');
    updateFiltersSummary();
  }

  /** A locked widget on a narrow screen shows its fixed filters as one line, not as the controls. */
  function updateFiltersSummary() {
    if (!ui.filtersSummary) { return; }
    var parts = [];
    if (state.kinds.length < KINDS.length) {
      parts.push(state.kinds.map(function (k) { return t('kind.plural.' + k); }).join(', ') || t('filters.summary.nokind'));
    }
    if (state.region) { parts.push(regionByKey[state.region] ? String(regionName(regionByKey[state.region])) : state.region); }
    if (state.category) { parts.push(t('filters.summary.category', { c: state.category })); }
    if (state.q) { parts.push(t('filters.summary.q', { q: state.q })); }
    if (state.remote) { parts.push(t('filters.summary.remote', { km: CM.formatKm(threshold()) })); }
    ui.filtersSummary.textContent = t('filters.locked.summary', { filters: parts.length ? parts.join(' · ') : t('filters.summary.all') });
  }

  function toggleFilters(force) {
    var open = force != null ? force : !root.classList.contains('cm-filters-open');
    root.classList.toggle('cm-filters-open', open);
    ui.filtersToggle.setAttribute('aria-expanded', open ? 'true' : 'false');
  }

  function buildExport() {
    ui.exportBbox = el('input', {
      type: 'checkbox', id: 'cm-export-bbox', checked: state.exportBbox,
      on: { change: function () { state.exportBbox = ui.exportBbox.checked; updateExportLinks(); } }
    });
    ui.exportGeojson = el('a', { class: 'cm-button', i18n: 'export.geojson', id: 'cm-export-geojson', attrs: { download: '' } });
    ui.exportCsv = el('a', { class: 'cm-button', i18n: 'export.csv', id: 'cm-export-csv', attrs: { download: '' } });
    ui.exportExcel = el('a', {
      class: 'cm-button', i18n: 'export.excel', id: 'cm-export-excel', attrs: { download: '' },
      i18nAttrs: { title: 'export.excel.title' }
    });
    return el('section', { class: 'cm-subpanel cm-export', attrs: { 'aria-labelledby': 'cm-export-heading' } }, [
      el('h3', { id: 'cm-export-heading', class: 'cm-subpanel__title', i18n: 'export.heading' }),
      el('p', { class: 'cm-note', i18n: 'export.hint' }),
      el('div', { class: 'cm-check' }, [ui.exportBbox, el('label', { htmlFor: 'cm-export-bbox', i18n: 'export.bbox' })]),
      el('div', { class: 'cm-buttons' }, [ui.exportGeojson, ui.exportCsv, ui.exportExcel])
    ]);
  }

  function buildEmbedBuilder() {
    var checks = el('fieldset', { class: 'cm-field cm-embed__controls' }, [el('legend', { class: 'cm-label', i18n: 'embed.controls' })]);
    CONTROLS.forEach(function (c) {
      var box = el('input', {
        type: 'checkbox', id: 'cm-embed-' + c, value: c, checked: builder.controls.indexOf(c) >= 0,
        on: {
          change: function () {
            builder.controls = CONTROLS.filter(function (x) { return document.getElementById('cm-embed-' + x).checked; });
            updateEmbedSnippet();
          }
        }
      });
      checks.appendChild(el('div', { class: 'cm-check cm-check--inline' }, [box, el('label', { htmlFor: 'cm-embed-' + c, i18n: 'embed.control.' + c })]));
    });
    var lockBox = el('input', {
      type: 'checkbox', id: 'cm-embed-locked',
      on: { change: function () { builder.locked = lockBox.checked; updateEmbedSnippet(); } }
    });
    ui.snippetIframe = el('textarea', { id: 'cm-embed-iframe', class: 'cm-input cm-snippet', readOnly: true, rows: 4, spellcheck: false });
    ui.snippetScript = el('textarea', { id: 'cm-embed-script', class: 'cm-input cm-snippet', readOnly: true, rows: 3, spellcheck: false });
    ui.copyStatus = el('p', { class: 'cm-note cm-copy-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    return el('details', { class: 'cm-subpanel cm-embed', id: 'cm-embed' }, [
      el('summary', { class: 'cm-subpanel__title', i18n: 'embed.heading' }),
      el('p', { class: 'cm-note', i18n: 'embed.intro' }),
      checks,
      el('div', { class: 'cm-check' }, [lockBox, el('label', { htmlFor: 'cm-embed-locked', i18n: 'embed.locked' })]),
      el('div', { class: 'cm-field' }, [
        el('label', { htmlFor: 'cm-embed-iframe', class: 'cm-label', i18n: 'embed.iframe' }),
        ui.snippetIframe,
        copyButton(ui.snippetIframe)
      ]),
      el('div', { class: 'cm-field' }, [
        el('label', { htmlFor: 'cm-embed-script', class: 'cm-label', i18n: 'embed.script' }),
        ui.snippetScript,
        copyButton(ui.snippetScript)
      ]),
      ui.copyStatus
    ]);
  }

  function copyButton(area) {
    return el('button', {
      type: 'button', class: 'cm-button cm-button--small', i18n: 'embed.copy',
      on: {
        click: function () {
          var done = function () { ui.copyStatus.textContent = t('embed.copied'); setTimeout(function () { ui.copyStatus.textContent = ''; }, 2500); };
          var fallback = function () {
            area.focus(); area.select();
            try { if (document.execCommand('copy')) { done(); } } catch (e) { /* the text stays selected for Ctrl+C */ }
          };
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(area.value).then(done, fallback);
          } else { fallback(); }
        }
      }
    });
  }

  function buildList() {
    ui.nearButton = el('button', {
      type: 'button', class: 'cm-button', id: 'cm-near', i18n: 'list.near', hidden: !geolocationAllowed(), on: { click: nearMe }
    });
    // the keyboard's way to what a click on the map does
    ui.centreButton = el('button', { type: 'button', class: 'cm-button', id: 'cm-point-centre', i18n: 'list.point.centre', on: { click: nearCentre } });
    ui.pointInfo = el('span', { class: 'cm-point__text' });
    ui.nearDismiss = el('button', {
      type: 'button', class: 'cm-button cm-button--ghost cm-button--small cm-point__dismiss', i18n: 'list.near.dismiss', hidden: true,
      on: { click: function () { setNearMessage(null); } }
    });
    ui.pointClear = el('button', {
      type: 'button', class: 'cm-button cm-button--ghost cm-button--small', i18n: 'list.point.clear', hidden: true,
      on: { click: function () { setNear(null); } }
    });
    ui.listCount = el('span', { class: 'cm-list__count' });
    ui.listStatus = el('p', { class: 'cm-note cm-list__status', attrs: { 'aria-live': 'polite' } });
    ui.list = el('ol', { class: 'cm-list', id: 'cm-list' });
    return el('section', { class: 'cm-panel cm-listpanel', id: 'cm-listpanel', attrs: { 'aria-labelledby': 'cm-list-heading' } }, [
      el('div', { class: 'cm-panel__head' }, [
        el('h2', { id: 'cm-list-heading', class: 'cm-panel__title', tabIndex: -1 }, [el('span', { i18n: 'list.heading' }), ' ', ui.listCount])
      ]),
      el('div', { class: 'cm-point' }, [ui.nearButton, ui.centreButton, ui.pointClear]),
      el('p', { class: 'cm-note cm-point__info' }, [ui.pointInfo, ui.nearDismiss]),
      ui.listStatus,
      ui.list
    ]);
  }

  // ---------------------------------------------------------------- the map

  function createMap() {
    var embedTouch = MODE === 'embed' && L.Browser.mobile;
    map = L.map(ui.map, {
      minZoom: 2,
      maxZoom: 18,
      worldCopyJump: false,
      zoomControl: true,
      dragging: !embedTouch,      // widget on phones: two fingers move the map, one finger scrolls the page
      tap: !embedTouch,
      scrollWheelZoom: true,      // the widget lets the wheel through only with Ctrl (see guardWheel)
      preferCanvas: false
    });
    map.attributionControl.setPrefix(false);
    labelZoomControl();
    if (initialView && initialView.bbox) {
      var b = initialView.bbox;
      map.fitBounds([[b[1], b[0]], [b[3], b[2] < b[0] ? b[2] + 360 : b[2]]]);
    } else if (initialView) {
      map.setView([initialView.lat, initialView.lon], initialView.z);
    } else {
      map.fitBounds(RUSSIA);
    }

    map.createPane('cm-regions');
    map.getPane('cm-regions').classList.add('cm-pane-regions');
    map.createPane('cm-decor');
    map.getPane('cm-decor').classList.add('cm-pane-decor');

    regionDecor = L.layerGroup().addTo(map);
    cellsLayer = L.layerGroup().addTo(map);
    clusterGroup = L.markerClusterGroup({
      chunkedLoading: true,
      showCoverageOnHover: false,
      maxClusterRadius: 48,
      spiderfyOnMaxZoom: true,
      iconCreateFunction: clusterIcon
    });
    // On phones markercluster drops markers as soon as they leave the view, and a dropped marker
    // closes its card: keep those of half a view around it, as it keeps a whole view on desktops.
    clusterGroup._getExpandedVisibleBounds = function () {
      return this._checkBoundsMaxLat(this._map.getBounds().pad(L.Browser.mobile ? 0.5 : 1));
    };
    clusterGroup.addTo(map);

    if (hasControl('legend')) { buildLegend().addTo(map); }
    if (MODE === 'embed') { openFullControl().addTo(map); guardWheel(); }

    map.on('moveend', onMoveEnd);
    map.on('click', onMapClick);
    map.on('popupopen', onCardOpen);
    map.on('popupclose', onPopupClose);
    map.on('resize', onMapResize);
    onMapResize();
    map.getContainer().addEventListener('keydown', onBubbleKey);
    clusterGroup.on('clusterkeypress', function (e) {   // after markercluster's own, which zooms in on Enter
      if (e.originalEvent && e.originalEvent.keyCode === 13) { focusIntoCluster(e.layer); }
    });
  }

  /** Space on a bubble (a cluster or a server cell) does what Enter and a click do, as on any
   *  button; the focus waits on the map meanwhile (markercluster does the same for Enter) and then
   *  goes into a cluster's parts (focusIntoCluster). Space on an organisation's marker does what
   *  Enter does: its card opens (or closes) with the focus in it. */
  function onBubbleKey(e) {
    if (e.key !== ' ' && e.key !== 'Spacebar') { return; }
    var icon = e.target;
    if (!icon.classList) { return; }
    if (icon.classList.contains('cm-marker')) {
      var m = layerOfIcon(icon);
      if (!m || !m.togglePopup) { return; }
      e.preventDefault();
      if (!m.isPopupOpen()) { focusReturnId = null; focusCardOnOpen = true; }
      m.togglePopup();
      return;
    }
    if (!icon.classList.contains('cm-bubble')) { return; }
    e.preventDefault();
    var cluster = icon.classList.contains('marker-cluster') ? layerOfIcon(icon) : null;
    icon.click();
    map.getContainer().focus({ preventScroll: true });
    if (cluster && cluster.getAllChildMarkers) { focusIntoCluster(cluster); }
  }

  /** The marker or cluster of an icon element: Leaflet's own link (the one it routes the icon's
   *  events by), so no search through the markers. */
  function layerOfIcon(icon) {
    var id = icon._leaflet_id;
    return id != null && map._targets ? map._targets[id] || null : null;
  }

  /** A cluster opened with the keyboard zooms in to its parts (or spreads out markers at one place)
   *  and the focus waits on the map. Once the parts are drawn, it goes to the first of them in tab
   *  order: a screen-reader user who opened a group expects to be inside it and hears what it
   *  split into, and Tab goes on from there; the map itself says nothing new, and Tab from it
   *  starts again at the map's first marker. Not when the focus has moved meanwhile. */
  var clusterFocus = null;      // the latest such cluster's wait

  function focusIntoCluster(cluster) {
    var children = cluster.getAllChildMarkers(), wait = clusterFocus = {}, tries = 0;
    var look = function () {
      if (clusterFocus !== wait || document.activeElement !== map.getContainer()) { return; }
      var busy = clusterGroup._inZoomAnimation || map._animatingZoom, parts = [], view = map.getBounds();
      children.forEach(function (m) {
        var p = clusterGroup.getVisibleParent(m);
        if (p === cluster) { busy = true; }           // not split yet
        else if (p && p._icon && parts.indexOf(p) < 0 && view.contains(p.getLatLng())) { parts.push(p); }
      });
      if (busy || !parts.length) {
        if (++tries < 40) { setTimeout(look, 50); }
        return;
      }
      var first = parts.reduce(function (a, b) {
        return a._icon.compareDocumentPosition(b._icon) & Node.DOCUMENT_POSITION_PRECEDING ? b : a;
      });
      first._icon.focus({ preventScroll: true });
    };
    look();
  }

  var lastPopupClose = 0;

  /** A divIcon whose element also gets attrs (bubbles are buttons with a name). */
  var AttrIcon = L.DivIcon.extend({
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      var attrs = this.options.attrs || {};
      Object.keys(attrs).forEach(function (a) { div.setAttribute(a, attrs[a]); });
      return div;
    }
  });

  /** A bubble with the count, ringed by the share of each kind (a donut: colour is not the only
   *  cue — the count and the title carry the numbers). Used for client clusters and server cells. */
  function bubble(n, byKind, size, extraClass, attrs) {
    var inner = el('span', { class: 'cm-bubble__count', text: CM.formatCount(n) });
    var outer = el('span', { class: 'cm-bubble__ring' }, [inner]);
    var total = 0, stops = [], at = 0;
    KINDS.forEach(function (k) { total += Number(byKind[k]) || 0; });
    if (total > 0) {
      KINDS.forEach(function (k) {
        var share = (Number(byKind[k]) || 0) / total * 100;
        if (share <= 0) { return; }
        stops.push('var(--cm-' + (k === 'internship_site' ? 'site' : k) + ') ' + at.toFixed(2) + '% ' + (at + share).toFixed(2) + '%');
        at += share;
      });
      outer.style.backgroundImage = 'conic-gradient(' + stops.join(', ') + ')';
    }
    var cls = n < 100 ? 's' : n < 1000 ? 'm' : n < 10000 ? 'l' : 'xl';
    return new AttrIcon({
      html: outer,
      className: 'cm-bubble cm-bubble--' + cls + (extraClass ? ' ' + extraClass : ''),
      iconSize: [size, size],
      attrs: attrs
    });
  }

  function clusterIcon(cluster) {
    var byKind = {};
    cluster.getAllChildMarkers().forEach(function (m) {
      var k = m.feature && m.feature.properties.kind;
      byKind[k] = (byKind[k] || 0) + 1;
    });
    var n = cluster.getChildCount();
    var label = t(spiderfies(cluster) ? 'cluster.label.spread' : 'cluster.label', { n: n });
    return bubble(n, byKind, n < 10 ? 34 : n < 100 ? 40 : 46, 'marker-cluster', { role: 'button', tabindex: '0', 'aria-label': label });
  }

  /** Whether a click on the cluster spreads its markers out (they lie at one place, no zoom parts
   *  them) rather than zooming in: markercluster's own test. */
  function spiderfies(cluster) {
    var bottom = cluster;
    while (bottom._childClusters && bottom._childClusters.length === 1) { bottom = bottom._childClusters[0]; }
    return bottom._zoom === map.getMaxZoom() && bottom._childCount === cluster._childCount;
  }

  function addBaseLayers() {
    var layers = {}, raw = {};
    var osm = L.tileLayer(config.tiles.url, {
      attribution: tileAttribution(config.tiles.attribution),
      maxZoom: config.tiles.maxZoom || 19,
      minZoom: config.tiles.minZoom || 0,
      crossOrigin: false
    });
    layers[config.tiles.name || t('map.layers.osm')] = osm;
    raw[config.tiles.name || t('map.layers.osm')] = config.tiles.attribution;
    (config.localTiles || []).forEach(function (lt, i) {
      var name = lt.name || lt.title || ('MBTiles ' + (i + 1));
      raw[name] = lt.attribution;
      layers[name] = L.tileLayer(lt.url, {
        attribution: tileAttribution(lt.attribution),
        maxZoom: lt.maxZoom || 18,
        minZoom: lt.minZoom || 0,
        maxNativeZoom: lt.maxNativeZoom || lt.maxZoom || undefined
      });
    });
    var names = Object.keys(layers);
    layers[names[0]].addTo(map);
    names.forEach(function (n, i) {
      var layer = layers[n];
      baseLayers.push({ layer: layer, local: i > 0, attribution: raw[n] });
      layer.on('tileload', function () { tilesLoaded += 1; updateNoTiles(); });
      layer.on('tileerror', function () { tileErrors += 1; updateNoTiles(); });
    });
    watchTiles();
    map.on('baselayerchange', function () { watchTiles(); updateNoTiles(); });
    if (names.length > 1) {
      ui.layersControl = L.control.layers(layers, null, { position: 'topright' }).addTo(map);
    }
  }

  /** Counts the tiles of the basemap shown from now on; tiles that neither load nor fail (a tile
   *  server that hangs) count as missing once tileTimeoutMs has passed without any. */
  function watchTiles() {
    tilesLoaded = 0;
    tileErrors = 0;
    tilesTimedOut = false;
    clearTimeout(tileTimer);
    tileTimer = setTimeout(function () { tilesTimedOut = true; updateNoTiles(); }, tileTimeoutMs);
  }

  /** Without any tile (offline, blocked, hanging), the region outlines become the map and a note
   *  says why; on a closed network with local MBTiles configured, the map switches to them by itself.
   *  A tile that loads later takes the note away. */
  function updateNoTiles() {
    var noTiles = tilesLoaded === 0 && (tileErrors >= 4 || tilesTimedOut);
    if (noTiles && baseLayers.length > 1 && map.hasLayer(baseLayers[0].layer)) {
      map.removeLayer(baseLayers[0].layer);
      baseLayers[1].layer.addTo(map);
      watchTiles();
      return;
    }
    if (noTiles === root.classList.contains('cm-no-tiles')) { return; }
    root.classList.toggle('cm-no-tiles', noTiles);
    ui.tilesNote.hidden = !noTiles;
    if (regionsLayer) { regionsLayer.setStyle(regionStyle()); }
  }

  /** An attribution that only credits OpenStreetMap (the server's default is in Russian) is shown
   *  in the page's language with its link; any other text stays as the operator wrote it. */
  function tileAttribution(text) {
    text = String(text || '');
    var rest = text.replace(/<[^>]*>/g, '')
      .replace(/&copy;|©|openstreetmap\.org\/copyright|openstreetmap|участники|contributors|[()\s]/gi, '');
    if (!/openstreetmap/i.test(text) || rest) { return text; }
    return '<a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener noreferrer">' +
      CM.escapeAttr(t('map.attribution.osm')) + '</a>';
  }

  function translateAttributions() {
    baseLayers.forEach(function (b) {
      var now = tileAttribution(b.attribution), shown = map.hasLayer(b.layer);
      if (now === b.layer.options.attribution) { return; }
      if (shown) { map.attributionControl.removeAttribution(b.layer.options.attribution); }
      b.layer.options.attribution = now;
      if (shown) { map.attributionControl.addAttribution(now); }
    });
  }

  function regionStyle() {
    var noTiles = root.classList.contains('cm-no-tiles');
    return {
      color: '#5b6472', weight: noTiles ? 1 : 0.8, opacity: noTiles ? 0.9 : 0.6,
      fill: true, fillColor: '#f4f1ea', fillOpacity: noTiles ? 1 : 0.04
    };
  }

  /** Russia's only western-hemisphere land is Chukotka's east: draw it east of 180°. */
  function toLatLng(c) { return L.latLng(c[1], c[0] < 0 ? c[0] + 360 : c[0]); }

  function drawRegions(fc) {
    regionsLayer = L.geoJSON(fc, {
      pane: 'cm-regions',
      renderer: L.canvas({ pane: 'cm-regions', padding: 0.3 }),
      interactive: false,
      coordsToLatLng: toLatLng,
      style: regionStyle
    }).addTo(map);
  }

  function buildLegend() {
    var ctl = L.control({ position: 'bottomright' });
    ctl.onAdd = function () {
      var box = el('div', { class: 'cm-legend leaflet-control', id: 'cm-legend' });
      // folded at first on small maps (phones, also held sideways: wide but low), where it would cover too much
      var size = map.getSize();
      var details = el('details', { class: 'cm-legend__details', open: size.x >= 560 && size.y >= 400 }, [
        el('summary', { class: 'cm-legend__title', i18n: 'legend.heading' })
      ]);
      box.appendChild(details);
      var list = el('ul', { class: 'cm-legend__list' });
      ui.legendCounts = {};
      KINDS.forEach(function (k) {
        ui.legendCounts[k] = el('span', { class: 'cm-legend__count', attrs: { 'data-kind': k }, text: '…' });
        list.appendChild(el('li', { class: 'cm-legend__item cm-legend__item--' + k }, [
          kindIcon(k), el('span', { class: 'cm-legend__label', i18n: 'kind.plural.' + k }), ui.legendCounts[k]
        ]));
      });
      ui.legendTotal = el('span', { class: 'cm-legend__count cm-legend__count--total', id: 'cm-legend-total', text: '…' });
      list.appendChild(el('li', { class: 'cm-legend__item cm-legend__item--total' }, [
        el('span', { class: 'cm-legend__label', i18n: 'legend.total' }), ui.legendTotal
      ]));
      ui.legendRegion = el('li', { class: 'cm-legend__item cm-legend__item--region', hidden: true }, [
        el('span', { class: 'cm-legend__sym cm-legend__sym--centre', attrs: { 'aria-hidden': 'true' }, text: '★' }),
        el('span', { class: 'cm-legend__label', i18n: 'legend.centre' })
      ]);
      ui.legendRing = el('li', { class: 'cm-legend__item cm-legend__item--ring', hidden: true }, [
        el('span', { class: 'cm-legend__sym cm-legend__sym--ring', attrs: { 'aria-hidden': 'true' } }),
        ui.legendRingLabel = el('span', { class: 'cm-legend__label' })
      ]);
      list.appendChild(ui.legendRegion);
      list.appendChild(ui.legendRing);
      details.appendChild(list);
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    return ctl;
  }

  function openFullControl() {
    var ctl = L.control({ position: 'bottomleft' });
    ctl.onAdd = function () {
      ui.openFull = el('a', { class: 'cm-openfull leaflet-control', target: '_blank', rel: 'noopener', i18n: 'map.open.full' });
      L.DomEvent.disableClickPropagation(ui.openFull);
      return ui.openFull;
    };
    return ctl;
  }

  /** The widget must not steal the host page's scrolling: a plain wheel goes to the page and
   *  shows a hint; Ctrl (⌘) + wheel or a trackpad pinch zooms the map. */
  function guardWheel() {
    var hintTimer = null;
    var isMac = /Mac|iPhone|iPad/.test(navigator.platform || '');
    function showHint(key) {
      ui.hint.textContent = t(key);
      ui.hint.classList.add('is-visible');
      clearTimeout(hintTimer);
      hintTimer = setTimeout(function () { ui.hint.classList.remove('is-visible'); }, 1400);
    }
    map.getContainer().addEventListener('wheel', function (e) {
      if (e.ctrlKey || e.metaKey) { ui.hint.classList.remove('is-visible'); return; }
      // Stop Leaflet's wheel handler (registered on the same container, bubbling phase);
      // no preventDefault, so the page scrolls.
      e.stopPropagation();
      showHint(isMac ? 'map.wheel.hint.mac' : 'map.wheel.hint');
    }, { capture: true, passive: true });
    if (L.Browser.mobile) {
      map.getContainer().addEventListener('touchmove', function (e) {
        if (e.touches && e.touches.length === 1) { showHint('map.touch.hint'); }
      }, { passive: true });
    }
  }

  // ---------------------------------------------------------------- loading the data

  var debouncedRefresh = CM.debounce(refresh, 250);

  /** data-state on the app is "busy" from a scheduled refresh until its answer is shown, then
   *  "idle" (for tests and for styling). */
  function setBusy(busy) { root.setAttribute('data-state', busy ? 'busy' : 'idle'); }

  function scheduleRefresh() {
    setBusy(true);
    debouncedRefresh();
  }
  scheduleRefresh.cancel = function () { debouncedRefresh.cancel(); };

  function onMoveEnd() {
    writeURL();
    updateEmbedSnippet();
    if (state.exportBbox) { updateExportLinks(); }
    scheduleRefresh();
  }

  /** The view as a CRS84 bbox for the API: longitudes within ±180 (west > east crosses 180°). */
  function viewBbox() {
    var b = map.getBounds();
    var w = b.getWest(), e = b.getEast();
    var s = Math.max(-90, b.getSouth()), n = Math.min(90, b.getNorth());
    if (e - w >= 359.999) { w = -180; e = 180; }
    else {
      w = CM.wrapLon(w);
      e = CM.wrapLon(e);
      if (e === -180) { e = 180; }
    }
    return [w, s, e, n].map(function (x) { return round(x, 5); });
  }

  /** The last complete detail answer: while the view stays inside its bbox with the same filters
   *  and point, moving and zooming need no request (the list and legend are counted here). */
  var detailCache = null;
  var markersKey = null;        // the filters the markers on the map were loaded with

  function nearKey() { return state.near ? state.near.join(',') : ''; }

  function lonRange(b) { return [b[0], b[2] < b[0] ? b[2] + 360 : b[2]]; }

  function bboxContains(outer, inner) {
    if (inner[1] < outer[1] || inner[3] > outer[3]) { return false; }
    var o = lonRange(outer), i = lonRange(inner);
    if (o[1] - o[0] >= 360) { return true; }
    for (var k = -1; k <= 1; k++) {
      if (i[0] + 360 * k >= o[0] - 1e-9 && i[1] + 360 * k <= o[1] + 1e-9) { return true; }
    }
    return false;
  }

  function inBbox(b) {
    var r = lonRange(b);
    return function (f) {
      var c = f.geometry.coordinates;
      if (c[1] < b[1] || c[1] > b[3]) { return false; }
      var lon = c[0];
      while (lon < r[0]) { lon += 360; }
      while (lon - 360 >= r[0]) { lon -= 360; }
      return lon <= r[1];
    };
  }

  function refresh() {
    scheduleRefresh.cancel();
    setBusy(true);
    updateFiltersToggle();
    if (inflight) { inflight.abort(); inflight = null; }
    updateExportLinks();
    updateEmbedSnippet();
    updateOpenFull();
    if (!state.kinds.length) {
      showNothing();
      return;
    }
    if (ui.kindsNote) { ui.kindsNote.hidden = true; }
    var bbox = viewBbox();
    var fp = filterParams();
    var key = fp.toString();
    var asked = nearKey();
    if (markersKey !== key) {
      clusterGroup.clearLayers();
      markersById = {};
      markersKey = key;
    }
    if (detailCache && detailCache.key === key && detailCache.near === nearKey() && bboxContains(detailCache.bbox, bbox)) {
      showLocal(bbox);
      setStatus('');
      setBusy(false);
      checkNearby(asked, bbox);
      return;
    }
    var ctrl = inflight = new AbortController();
    var op = new URLSearchParams(fp);
    op.set('bbox', bbox.join(','));
    op.set('zoom', String(Math.round(map.getZoom())));
    setStatus('loading');
    CM.getJSON('/overview?' + CM.query(op), ctrl.signal)
      .then(function (ov) {
        if (ctrl.signal.aborted) { return; }
        var n = Number(ov.numberMatched) || 0;
        if (n <= config.detailLimit) { return loadDetail(bbox, fp, ctrl, ov); }
        renderLegend(ov.byKind || {}, n);
        showCells(ov.cells || [], n);
      })
      .then(function () {
        if (inflight === ctrl) { inflight = null; setStatus(''); setBusy(false); checkNearby(asked, bbox); }
      })
      .catch(function (err) {
        if (ctrl.signal.aborted || err.name === 'AbortError') { return; }
        if (inflight !== ctrl) { return; }
        inflight = null;
        showFailure();
        setBusy(false);
        if (window.console) { console.warn('CivicMap:', err.message); }
      });
  }

  /** A failed load leaves nothing of the previous filters on the map, in the legend or the
   *  list (they would claim what was not loaded), and offers to try again. */
  function showFailure() {
    cellsLayer.clearLayers();
    clusterGroup.clearLayers();
    markersById = {};
    markersKey = null;
    detailCache = null;
    renderLegend({}, 0);
    lastResult.mode = 'error';
    lastResult.features = [];
    lastResult.numberMatched = 0;
    renderList();
    setStatus('error');
  }

  function loadDetail(bbox, fp, ctrl, ov) {
    var done = function (feats, total) {
      renderLegend(ov.byKind || {}, Number(ov.numberMatched) || 0);
      detailCache = total <= feats.length
        ? { key: fp.toString(), near: nearKey(), bbox: bbox, features: feats }
        : null;
      showFeatures(feats, total);
    };
    if (!(Number(ov.numberMatched) > 0)) { done([], 0); return Promise.resolve(); }
    var p = new URLSearchParams(fp);
    p.set('f', 'json');
    p.set('bbox', bbox.join(','));
    p.set('limit', String(config.detailLimit));
    if (state.near) { p.set('near', state.near[0] + ',' + state.near[1]); }
    return CM.getJSON('/collections/organizations/items?' + CM.query(p), ctrl.signal).then(function (fc) {
      if (ctrl.signal.aborted) { return; }
      var feats = (fc.features || []).filter(function (f) {
        return f && f.geometry && f.geometry.type === 'Point' && Array.isArray(f.geometry.coordinates) && f.properties;
      });
      done(feats, typeof fc.numberMatched === 'number' ? fc.numberMatched : feats.length);
    });
  }

  /** The view is inside the last complete answer: count and list from it. */
  function showLocal(bbox) {
    var feats = detailCache.features.filter(inBbox(bbox));
    var byKind = {};
    feats.forEach(function (f) { byKind[f.properties.kind] = (byKind[f.properties.kind] || 0) + 1; });
    renderLegend(byKind, feats.length);
    syncMarkers(detailCache.features, false);
    lastResult.mode = 'detail';
    lastResult.features = feats;
    lastResult.numberMatched = feats.length;
    renderList();
  }

  function showNothing() {
    if (inflight) { inflight.abort(); inflight = null; }
    renderLegend({}, 0);
    cellsLayer.clearLayers();
    clusterGroup.clearLayers();
    markersById = {};
    markersKey = null;
    detailCache = null;
    lastResult.mode = 'none';
    lastResult.features = [];
    lastResult.numberMatched = 0;
    if (ui.kindsNote) { ui.kindsNote.textContent = t('filters.none'); ui.kindsNote.hidden = false; }
    renderList();
    setStatus('');
    setBusy(false);
  }

  // ---------------------------------------------------------------- markers and cells

  function featureLatLng(f) {
    var c = f.geometry.coordinates;
    return L.latLng(c[1], CM.nearLon(c[0], map.getCenter().lng));
  }

  /** A marker is a button named by the organisation's name and kind (its letter is aria-hidden). */
  function markerIcon(f) {
    var kind = f.properties.kind;
    if (KINDS.indexOf(kind) < 0) { kind = 'ngo'; }
    return new AttrIcon({
      className: 'cm-marker cm-marker--' + kind,
      html: el('span', { class: 'cm-marker__letter', text: t('kind.letter.' + kind), attrs: { 'aria-hidden': 'true' } }),
      iconSize: [22, 22],
      iconAnchor: [11, 11],
      popupAnchor: [0, -10],
      attrs: { role: 'button', 'aria-label': t('marker.label', { name: String(f.properties.name || ''), kind: t('kind.' + kind) }) }
    });
  }

  var MARKER_CAP = 6000;

  /** Puts feats on the map as markers, keeping those already there (an open card stays open).
   *  Markers of earlier answers with the same filters stay too, up to MARKER_CAP. */
  function syncMarkers(feats, prune) {
    cellsLayer.clearLayers();
    var keep = {}, add = [], remove = [];
    feats.forEach(function (f) {
      var id = String(f.id);
      keep[id] = true;
      var m = markersById[id];
      if (m && m.feature.properties.kind === f.properties.kind) {
        if (m.feature !== f) {
          // an open card is rebuilt only when its data changed (a rebuild loses the focus in it)
          var changed = m.isPopupOpen() && JSON.stringify(m.feature.properties) !== JSON.stringify(f.properties);
          var renamed = String(m.feature.properties.name || '') !== String(f.properties.name || '');
          m.feature = f;
          if (renamed) { m.setIcon(markerIcon(f)); }
          var ll = featureLatLng(f);
          if (!m.getLatLng().equals(ll)) { m.setLatLng(ll); }
          if (changed) { m.getPopup().update(); }
        }
        return;
      }
      if (m) { remove.push(m); }
      m = L.marker(featureLatLng(f), {
        icon: markerIcon(f),
        title: String(f.properties.name || ''),
        keyboard: true,
        riseOnHover: true
      });
      m.feature = f;
      m.on('keypress', onMarkerKey);      // before bindPopup's own: Enter opens the card after this
      m.bindPopup(new CardPopup().setContent(function (layer) { return buildCard(layer.feature); }));
      m.on('popupopen', onPopupOpen);
      markersById[id] = m;
      add.push(m);
    });
    var ids = Object.keys(markersById);
    if (prune || ids.length > MARKER_CAP) {
      ids.forEach(function (id) {
        if (!keep[id]) { remove.push(markersById[id]); delete markersById[id]; }
      });
    }
    if (remove.length) { clusterGroup.removeLayers(remove); }
    if (add.length) { clusterGroup.addLayers(add); }
  }

  function showFeatures(feats, total) {
    syncMarkers(feats, false);
    lastResult.mode = 'detail';
    lastResult.features = feats;
    lastResult.numberMatched = total;
    renderList();
  }

  /** Bubble diameter: grows with the logarithm of the count, never narrower than its label. */
  function bubbleSize(n, max) {
    var bySize = 32 + 22 * Math.sqrt(Math.log(1 + n) / Math.log(1 + Math.max(max, 2)));
    var byLabel = CM.formatCount(n).length * 6.8 + 16;
    return Math.round(Math.max(bySize, byLabel));
  }

  /** Server cells whose bubbles would overlap on screen become one bubble (counts and kinds summed,
   *  position weighted by count), so bubbles do not pile up at small zooms. */
  function mergeCells(cells) {
    var centreLon = map.getCenter().lng;
    var items = cells.filter(function (c) {
      return c && Number(c.count) > 0 && isFinite(c.lat) && isFinite(c.lon);
    }).map(function (c) {
      var lon = CM.nearLon(Number(c.lon), centreLon);
      var bk = {};
      KINDS.forEach(function (k) { bk[k] = Number((c.byKind || {})[k]) || 0; });
      return { lat: Number(c.lat), lon: lon, count: Number(c.count), byKind: bk };
    });
    var max = 1;
    items.forEach(function (c) { if (c.count > max) { max = c.count; } });
    for (var pass = 0; pass < 4; pass++) {
      items.sort(function (a, b) { return b.count - a.count; });
      items.forEach(function (c) { c.p = map.latLngToLayerPoint([c.lat, c.lon]); c.r = bubbleSize(c.count, max) / 2; });
      var out = [], merged = false;
      items.forEach(function (c) {
        for (var i = 0; i < out.length; i++) {
          var o = out[i];
          if (o.p.distanceTo(c.p) < o.r + c.r + 2) {
            var n = o.count + c.count;
            o.lat = (o.lat * o.count + c.lat * c.count) / n;
            o.lon = (o.lon * o.count + c.lon * c.count) / n;
            KINDS.forEach(function (k) { o.byKind[k] += c.byKind[k]; });
            o.count = n;
            merged = true;
            return;
          }
        }
        out.push(c);
      });
      items = out;
      if (!merged) { break; }
    }
    return { cells: items, max: max };
  }

  function showCells(cells, total) {
    clusterGroup.clearLayers();
    markersById = {};
    cellsLayer.clearLayers();
    var merged = mergeCells(cells);
    var max = merged.max;
    merged.cells.forEach(function (c) {
      var n = Number(c.count) || 0;
      if (!n || !isFinite(c.lat) || !isFinite(c.lon)) { return; }
      var size = bubbleSize(n, max);
      var bk = c.byKind || {};
      var title = t('cell.title', {
        count: t('list.count', { n: n }),
        ngo: CM.formatNumber(bk.ngo || 0, 0),
        tos: CM.formatNumber(bk.tos || 0, 0),
        internship_site: CM.formatNumber(bk.internship_site || 0, 0)
      });
      var m = L.marker([c.lat, c.lon], {
        icon: bubble(n, bk, size, 'cm-cell', { role: 'button', 'aria-label': title }),
        title: title,
        keyboard: true,
        riseOnHover: true
      });
      m.on('click', function () {
        map.setView(m.getLatLng(), Math.min(map.getMaxZoom(), map.getZoom() + 2));
      });
      m.on('keypress', function (e) {
        if (e.originalEvent && e.originalEvent.key === 'Enter') { m.fire('click'); }
      });
      cellsLayer.addLayer(m);
    });
    lastResult.mode = 'overview';
    lastResult.features = [];
    lastResult.numberMatched = total;
    renderList();
  }

  function renderLegend(byKind, total) {
    lastResult.byKind = byKind;
    lastResult.legendTotal = total;
    if (!ui.legendCounts) { return; }
    KINDS.forEach(function (k) {
      ui.legendCounts[k].textContent = CM.formatNumber(Number(byKind[k]) || 0, 0);
      ui.legendCounts[k].parentNode.classList.toggle('is-off', state.kinds.indexOf(k) < 0);
    });
    ui.legendTotal.textContent = CM.formatNumber(total, 0);
  }

  // ---------------------------------------------------------------- the card

  function row(dl, labelKey, value) {
    if (value == null || value === '' || (Array.isArray(value) && !value.length)) { return; }
    dl.appendChild(el('dt', { text: t(labelKey) }));
    var dd = el('dd');
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    dl.appendChild(dd);
  }

  function buildCard(f) {
    var p = f.properties || {};
    var kind = KINDS.indexOf(p.kind) >= 0 ? p.kind : null;
    var card = el('article', { class: 'cm-card' + (kind ? ' cm-card--' + kind : '') });
    var title = el('h3', { class: 'cm-card__title', tabIndex: -1, text: String(p.name || '') });
    card.appendChild(title);
    card.appendChild(el('p', { class: 'cm-card__kind' }, [
      kind ? kindIcon(kind) : null,
      el('span', { text: kind ? t('kind.' + kind) : String(p.kind || '') })
    ]));
    var dl = el('dl', { class: 'cm-card__facts' });
    // contacts first: on a phone they are what a card is opened for
    if (p.phone) { row(dl, 'card.phone', phoneLinks(String(p.phone).trim())); }
    if (p.email) {
      var email = String(p.email).trim();
      if (/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email)) {
        var a = el('a', { text: email });
        a.href = 'mailto:' + email;
        row(dl, 'card.email', a);
      } else { row(dl, 'card.email', email); }
    }
    if (p.website) { row(dl, 'card.website', CM.externalLink(p.website)); }
    row(dl, 'card.address', p.address);
    row(dl, 'card.settlement', p.settlement);
    row(dl, 'card.region', p.region_name);
    if (typeof p.distance_to_center_km === 'number') {
      row(dl, 'card.distance_centre', el('span', { class: 'cm-nowrap', text: CM.formatKm(p.distance_to_center_km) }));
    }
    if (typeof p.distance_km === 'number') {
      row(dl, 'card.distance_point', el('span', { class: 'cm-nowrap', text: CM.formatKm(p.distance_km) }));
    }
    if (Array.isArray(p.categories) && p.categories.length) {
      var cats = el('ul', { class: 'cm-tags' });
      p.categories.forEach(function (c) { cats.appendChild(el('li', { class: 'cm-tag', text: String(c) })); });
      row(dl, 'card.categories', cats);
    }
    if (p.founded_year) { row(dl, 'card.founded', String(p.founded_year)); }
    card.appendChild(dl);
    if (p.description) {
      card.appendChild(el('p', { class: 'cm-card__description', text: String(p.description) }));
    }
    if (Array.isArray(p.programmes) && p.programmes.length) {
      card.appendChild(el('h4', { class: 'cm-card__subtitle', text: t('card.programmes') }));
      var ul = el('ul', { class: 'cm-programmes' });
      p.programmes.forEach(function (pr) { ul.appendChild(buildProgramme(pr || {})); });
      card.appendChild(ul);
    }
    var nearby = buildNearby(f, kind);
    if (nearby) { card.appendChild(nearby); }
    var report = reportLink(p);
    if (report) { card.appendChild(report); }
    return card;
  }

  /** Each number of a phone field («+7 …, 8 914 …») a tel: link of its own that does not break
   *  across lines; anything without enough digits stays text. */
  function phoneLinks(text) {
    var span = el('span');
    text.split(/\s*[,;]\s*/).filter(Boolean).forEach(function (one, i) {
      if (i) { span.appendChild(document.createTextNode(', ')); }
      var digits = one.replace(/[^\d+]/g, '');
      if (digits.length < 5) { span.appendChild(document.createTextNode(one)); return; }
      var tel = el('a', { class: 'cm-nowrap', text: one });
      tel.href = 'tel:' + digits;
      span.appendChild(tel);
    });
    return span;
  }

  function buildProgramme(pr) {
    var li = el('li', { class: 'cm-programme' });
    li.appendChild(el('p', { class: 'cm-programme__title', text: String(pr.title || '') }));
    var dl = el('dl', { class: 'cm-card__facts cm-card__facts--small' });
    if (Array.isArray(pr.topics) && pr.topics.length) { row(dl, 'card.programme.topics', pr.topics.map(String).join(', ')); }
    var dates = [];
    if (pr.starts_on) { dates.push(CM.formatDate(pr.starts_on)); }
    if (pr.ends_on && pr.ends_on !== pr.starts_on) { dates.push(CM.formatDate(pr.ends_on)); }
    var when = dates.join(' – ');
    if (typeof pr.length_days === 'number') {
      var len = t('card.programme.length', { n: pr.length_days });
      when = when ? when + ' (' + len + ')' : len;
    }
    row(dl, 'card.programme.dates', when);
    if (typeof pr.capacity === 'number') { row(dl, 'card.programme.capacity', CM.formatNumber(pr.capacity, 0)); }
    if (pr.selection_status) {
      var key = 'status.selection.' + pr.selection_status;
      var label = t(key);
      row(dl, 'card.programme.status', label === key ? String(pr.selection_status) : label);
    }
    li.appendChild(dl);
    return li;
  }

  // ---------------------------------------------------------------- the card: matching, the region report

  var NEAR_SITES = 3, NEAR_SITES_CSV = 10;                      // internship sites nearest an organisation
  var REMOTE_RADIUS_KM = 200, REMOTE_SHOWN = 5;  // remote organisations around a site (the CSV holds them all)
  var matchCache = new Map();                                   // url → {at, promise}, the last few
  var MATCH_CACHE_MS = 5 * 60 * 1000, MATCH_CACHE_SIZE = 40;

  /** One request per URL for a few minutes: a card opened again or rebuilt reuses the answer. */
  function cachedJSON(url) {
    var hit = matchCache.get(url);
    if (hit && Date.now() - hit.at < MATCH_CACHE_MS) { return hit.promise; }
    var promise = CM.getJSON(url);
    matchCache.delete(url);
    matchCache.set(url, { at: Date.now(), promise: promise });
    promise.catch(function () {
      var now = matchCache.get(url);
      if (now && now.promise === promise) { matchCache.delete(url); }
    });
    if (matchCache.size > MATCH_CACHE_SIZE) { matchCache.delete(matchCache.keys().next().value); }
    return promise;
  }

  /** A link in a card; the widget opens it in a new tab. */
  function cardLink(href, text, opts) {
    var a = el('a', { href: CM.url(href), text: text, class: opts && opts.class });
    if (opts && opts.download) { a.setAttribute('download', ''); }
    if (MODE === 'embed') { a.target = '_blank'; a.rel = 'noopener'; }
    return a;
  }

  /** Organisations: the nearest internship sites. Internship sites: the remote organisations of
   *  their region around them. Asked for when the card is built (it opens); an answer for a card
   *  that has closed meanwhile is dropped, and a failure is a line of text (the card stays).
   *  The section carries data-state="busy|idle|error" for tests. */
  function buildNearby(f, kind) {
    if (f.id == null || !kind) { return null; }
    var site = kind === 'internship_site';
    var km = threshold();
    var p = new URLSearchParams(), csv;
    if (site) {
      p.set('site', String(f.id));
      p.set('radius_km', String(REMOTE_RADIUS_KM));
      p.set('threshold_km', String(km));
      p.set('same_region', 'true');
      csv = new URLSearchParams(p);
      p.set('limit', String(REMOTE_SHOWN));
    } else {
      p.set('organization', String(f.id));
      csv = new URLSearchParams(p);
      p.set('k', String(NEAR_SITES));
      csv.set('k', String(NEAR_SITES_CSV));
    }
    csv.set('f', 'csv');
    var path = site ? '/matching/remote-organizations' : '/matching/nearest-sites';
    var status = el('p', { class: 'cm-note cm-nearby__status', text: t('status.loading') });
    var section = el('section', {
      class: 'cm-nearby cm-nearby--' + (site ? 'remote' : 'sites'), attrs: { 'data-state': 'busy' }
    }, [
      el('h4', { class: 'cm-card__subtitle', text: t(site ? 'card.nearby.remote' : 'card.nearby.sites') }),
      status
    ]);
    cachedJSON(path + '?' + CM.query(p)).then(function (fc) {
      if (!section.isConnected) { return; }
      var feats = ((fc && fc.features) || []).filter(function (g) { return g && g.properties; });
      if (site) {
        var n = fc && typeof fc.numberMatched === 'number' ? fc.numberMatched : feats.length;
        section.insertBefore(el('p', {
          class: 'cm-nearby__summary', attrs: { 'data-count': String(n) },
          text: t('card.nearby.remote.count', { n: n, km: CM.formatKm(REMOTE_RADIUS_KM) })
        }), status);
        status.textContent = t('card.nearby.remote.note', { km: CM.formatKm(km) });
      } else {
        status.textContent = feats.length ? '' : t('card.nearby.sites.none');
      }
      status.hidden = !status.textContent;
      if (feats.length) {
        var list = el('ol', { class: 'cm-nearby__list' });
        feats.forEach(function (g) { list.appendChild(nearbyItem(g, site)); });
        section.appendChild(list);
      }
      section.appendChild(el('p', { class: 'cm-nearby__links' }, [
        cardLink(path + '?' + CM.query(csv), t('card.nearby.csv'), { download: true })
      ]));
      section.setAttribute('data-state', 'idle');
      keepCardInView(section);
    }, function (err) {
      if (!section.isConnected) { return; }
      // in the page's language by the problem's type or status; the server's English detail only in the console
      var kind = CM.problemKind(err);
      status.textContent = t('card.nearby.error') + (kind ? ' ' + t('card.nearby.problem.' + kind, { status: err.status }) : '');
      status.classList.add('cm-note--warn');
      section.setAttribute('data-state', 'error');
      section.setAttribute('data-problem', kind || '');
      if (window.console) { console.warn('CivicMap: matching', err && err.message, err && err.detail || ''); }
    });
    return section;
  }

  function nearbyItem(g, site) {
    var q = g.properties;
    var meta = [CM.formatKm(q.distance_km)];
    if (!site) {
      if (q.region_name) { meta.push(String(q.region_name)); }
      var open = (Array.isArray(q.programmes) ? q.programmes : []).filter(function (pr) {
        return pr && pr.selection_status === 'open';
      }).length;
      meta.push(open ? t('card.nearby.open', { n: open }) : t('card.nearby.open.none'));
    }
    var c = g.geometry && g.geometry.coordinates;
    var canOpen = g.id != null && Array.isArray(c) && isFinite(c[0]) && isFinite(c[1]);
    var name = canOpen
      ? el('button', {
        type: 'button', class: 'cm-linkbutton cm-nearby__name', text: String(q.name || ''),
        on: { click: function () { showFeatureCard(g); } }
      })
      : el('span', { class: 'cm-nearby__name', text: String(q.name || '') });
    return el('li', { class: 'cm-nearby__item' }, [
      name,
      el('span', { class: 'cm-nearby__meta', text: meta.filter(Boolean).join(' · ') })
    ]);
  }

  /** The card of a feature from a matching answer: its marker's card when it is on the map, else
   *  a card of its own at its place (the map flies there first when it is out of view). */
  function showFeatureCard(g) {
    var id = String(g.id);
    var m = markersById[id];
    if (m && m.feature.properties.kind === g.properties.kind) { openFeature(id); return; }
    var props = Object.assign({}, g.properties);
    delete props.distance_km;            // from the other organisation, not from the chosen point
    var f = { type: 'Feature', id: g.id, geometry: g.geometry, properties: props };
    var c = g.geometry.coordinates;
    var at = function () { return L.latLng(c[1], CM.nearLon(c[0], map.getCenter().lng)); };
    var open = function () {
      var popup = new CardPopup()
        .setLatLng(at())
        .setContent(function () { return buildCard(f); });
      map.openPopup(popup);
      var node = popup.getElement();
      var title = node && node.querySelector('.cm-card__title');
      if (title) { title.focus({ preventScroll: true }); }
    };
    // a card of its own has no marker to uncluster: no zoom is needed, only its place in view
    var zoom = zoomToShow(map.getZoom(), at());
    if (zoom == null) { open(); return; }
    map.closePopup();
    moveThen(at(), zoom, open);
  }

  /** A card that grew after it opened (a list came in) is moved back into view. Measured from
   *  where it is drawn now, so it also completes an auto-pan this replaces. Never so far that the
   *  place it points at leaves the map: its marker would go (markercluster drops markers out of
   *  view on phones) and take the card with it. */
  function keepCardInView(node) {
    var pop = node && node.closest ? node.closest('.leaflet-popup') : null;
    if (!pop || !map) { return; }
    var r = pop.getBoundingClientRect(), box = map.getContainer().getBoundingClientRect(), pad = 12;
    var dx = 0, dy = 0;
    if (r.right > box.right - pad) { dx = r.right - box.right + pad; }
    if (r.left - dx < box.left + pad) { dx = r.left - box.left - pad; }
    if (r.top < box.top + pad) { dy = r.top - box.top - pad; }
    else if (r.bottom > box.bottom - pad) { dy = Math.min(r.bottom - box.bottom + pad, r.top - box.top - pad); }
    if (openCard && openCard.getElement() === pop) {
      var at = map.latLngToContainerPoint(openCard.getLatLng()), edge = 16;
      dx = Math.max(at.x - box.width + edge, Math.min(at.x - edge, dx));
      dy = Math.max(at.y - box.height + edge, Math.min(at.y - edge, dy));
    }
    if (Math.abs(dx) >= 1 || Math.abs(dy) >= 1) {
      setBusy(true);                  // until the refresh that the move schedules is done
      map.panBy([Math.round(dx), Math.round(dy)]);
    }
  }

  /** «Отчёт по региону»: the printable report of the organisation's region at the threshold in use. */
  function reportLink(p) {
    var region = String(p.region_iso || p.region_code || '').trim();
    if (!region) { return null; }
    var q = new URLSearchParams();
    q.set('threshold_km', String(threshold()));
    if (CM.lang === 'en') { q.set('lang', 'en'); }
    return el('p', { class: 'cm-card__links' }, [
      cardLink('/reports/regions/' + encodeURIComponent(region) + '?' + CM.query(q), t('card.report'), { class: 'cm-card__report' })
    ]);
  }

  // A card opened from the list or with Enter on its marker takes the focus; when it closes
  // (Escape, ×) the focus goes back to that list item or marker, unless the user has already
  // moved it elsewhere.
  var focusReturnId = null;
  var focusCardOnOpen = false;
  var openCard = null;          // the popup shown, whatever opened it

  /** A card fits the map: on a phone it is narrower than the screen and scrolls inside. Room is
   *  left under it for its marker, so the map never has to pan the marker out of view to show it. */
  var CARD_ROOM_Y = 90;

  function popupOptions() {
    var size = map.getSize();
    return {
      maxWidth: Math.max(200, Math.min(340, size.x - 70)), minWidth: Math.min(240, size.x - 70),
      maxHeight: Math.max(100, size.y - CARD_ROOM_Y), autoPanPadding: [16, 16], className: 'cm-popup'
    };
  }

  /** A card takes its sizes when it opens, not when its marker is made (the map may have turned
   *  from portrait to landscape since). */
  var CardPopup = L.Popup.extend({
    onAdd: function (m) {
      L.setOptions(this, popupOptions());
      L.Popup.prototype.onAdd.call(this, m);
    }
  });

  /** Leaflet applies maxHeight only when it lays a card out; a card grows afterwards (its nearby
   *  list comes in) and the map changes size (rotation, the address bar): the CSS caps the card at
   *  what the map has room for now, and an open card is laid out again for the new size. */
  function onMapResize() {
    var size = map.getSize();
    map.getContainer().style.setProperty('--cm-card-max-h', Math.max(100, size.y - CARD_ROOM_Y) + 'px');
    if (!openCard || !openCard.isOpen()) { return; }
    L.setOptions(openCard, popupOptions());
    if (openCard._updateLayout) { openCard._updateLayout(); openCard._updatePosition(); }   // not update(): that rebuilds the card
    keepCardInView(openCard.getElement());
  }

  function onMarkerKey(e) {
    var key = e.originalEvent && e.originalEvent.key;
    if (key === 'Enter' && !e.target.isPopupOpen()) { focusReturnId = null; focusCardOnOpen = true; }
  }

  /** A marker's card (after onCardOpen): remembers what to give the focus back to. */
  function onPopupOpen(e) {
    e.popup.cmReturnId = focusCardOnOpen ? focusReturnId : null;
    e.popup.cmMarker = e.target;
    var title = e.popup.getElement().querySelector('.cm-card__title');
    if (title && focusCardOnOpen) { title.focus({ preventScroll: true }); }
    focusCardOnOpen = false;
  }

  /** Any card, a marker's or one of its own (showFeatureCard). */
  function onCardOpen(e) {
    openCard = e.popup;
    root.classList.add('cm-card-open');
    cardHistory.open();
    var node = e.popup.getElement();
    labelCloseButton(node);
    if (!node.hasAttribute('data-cm-escape')) {       // the same node for each opening of this popup
      node.setAttribute('data-cm-escape', '');
      node.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { map.closePopup(); } });
    }
  }

  function labelCloseButton(node) {
    var close = node && node.querySelector('.leaflet-popup-close-button');
    if (!close) { return; }
    close.setAttribute('role', 'button');
    close.setAttribute('aria-label', t('card.close'));
    close.title = t('card.close');
  }

  /** On a touch screen (Android's Back button or gesture) Back closes an open card instead of
   *  leaving the page: while a card is open the page has a history entry of its own (state
   *  cmCard), taken away again when the card is closed otherwise. The URL sync (writeURL) replaces
   *  whichever entry is current. Not in the widget: its frame's history is the host page's. */
  var cardHistory = (function () {
    var pushed = false, leaving = false;
    var wanted = function () { return MODE === 'full' && !!(COARSE && COARSE.matches) && !!history.pushState; };
    window.addEventListener('popstate', function () {
      if (leaving) { leaving = false; writeURL(); return; }     // our own step back after a card closed
      if (!pushed) { return; }
      pushed = false;
      if (openCard) { map.closePopup(); }
      writeURL();
    });
    return {
      open: function () {
        if (pushed || !wanted()) { return; }
        try { history.pushState({ cmCard: true }, '', location.href); pushed = true; } catch (e) { /* sandboxed frames */ }
      },
      // a card that closes because another opens keeps the entry: wait until that has happened
      closed: function () {
        if (!pushed) { return; }
        setTimeout(function () {
          if (!pushed || openCard) { return; }
          pushed = false;
          leaving = true;
          history.back();
        }, 0);
      }
    };
  }());

  /** The focus goes back where the card came from when it was in the card (the card's node is
   *  still there, fading out) or lost; from the list also when it is on the map. */
  function onPopupClose(e) {
    lastPopupClose = Date.now();
    if (openCard === e.popup) { openCard = null; }
    root.classList.toggle('cm-card-open', !!openCard);
    cardHistory.closed();
    var id = e.popup.cmReturnId;
    e.popup.cmReturnId = null;
    var node = e.popup.getElement(), ae = document.activeElement;
    var lost = !ae || ae === document.body || (node && node.contains(ae));
    if (!lost && !(id && ae === map.getContainer())) { return; }
    var back = id ? listButton(id) : markerElement(e.popup.cmMarker);
    if (back) { back.focus({ preventScroll: true }); } else if (lost) { map.getContainer().focus({ preventScroll: true }); }
  }

  function listButton(id) {
    return ui.list ? ui.list.querySelector('button[data-id="' + CSS.escape(id) + '"]') : null;
  }

  /** The marker's icon, or the cluster's that holds it now. */
  function markerElement(m) {
    if (!m || !clusterGroup.hasLayer(m)) { return null; }
    var shown = clusterGroup.getVisibleParent(m);
    return shown && shown._icon ? shown._icon : null;
  }

  /** The open card again, in the page's language (its content is a function of its feature). */
  function retranslateCard() {
    if (!openCard || !openCard.isOpen()) { return; }
    var node = openCard.getElement(), focused = node.contains(document.activeElement);
    openCard.update();
    labelCloseButton(node);
    var title = node.querySelector('.cm-card__title');
    if (focused && title) { title.focus({ preventScroll: true }); }
  }

  /** From the list: open the organisation's card, zooming in only as far as needed to show its
   *  marker, and not at all when it is drawn at the current zoom (then the map pans at most).
   *  Markers at the same place (one town, one address) never uncluster by zooming, so a small
   *  cluster is spiderfied instead of zooming to the street level. */
  function openFeature(id) {
    var m = markersById[id];
    if (!m) { return; }
    showMap();
    focusReturnId = id;
    focusCardOnOpen = true;
    var done = false;
    var open = function () {
      if (done) { return; }
      done = true;
      m.openPopup();
    };
    var reveal = function (tries) {
      if (clusterGroup._inZoomAnimation && tries < 30) {      // cluster transitions run after zoomend
        setTimeout(function () { reveal(tries + 1); }, 50);
        return;
      }
      var parent = clusterGroup.getVisibleParent(m);
      if (!parent || parent === m) { open(); return; }
      if (parent.getChildCount && parent.getChildCount() <= 40) {
        clusterGroup.once('spiderfied', open);
        parent.spiderfy();
        setTimeout(function () { if (!done) { clusterGroup.zoomToShowLayer(m, open); } }, 800);
        return;
      }
      clusterGroup.zoomToShowLayer(m, open);
    };
    var shown = clusterGroup.getVisibleParent(m);
    if (shown === m && map.getBounds().contains(m.getLatLng())) { open(); return; }
    var at = revealZoom(m);
    var zoom = zoomToShow(at == null ? 13 : at, shown && shown.getLatLng());
    if (zoom == null) { reveal(0); return; }
    moveThen(m.getLatLng(), zoom, function () { reveal(0); });
  }

  /** On phones the list is under the map, often with the map scrolled away: the page scrolls the
   *  map back into view before it moves, or a tap on the list would seem to do nothing. The widget's
   *  frame is as tall as its content, so from inside it the map always looks in view: only the host
   *  page can have scrolled it away, and 'nearest' scrolls that page only if it has. */
  function showMap() {
    if (MODE === 'embed') { ui.mapWrap.scrollIntoView({ block: 'nearest' }); return; }
    var r = ui.mapWrap.getBoundingClientRect();
    if (r.top >= 0 && r.bottom <= window.innerHeight) { return; }
    ui.mapWrap.scrollIntoView({
      block: r.height > window.innerHeight ? 'start' : 'nearest', behavior: reducedMotion() ? 'auto' : 'smooth'
    });
  }

  function reducedMotion() {
    return !!(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  }

  /** The zoom to show a card's organisation at, from the list and from another card alike: `need`
   *  when the map is further out (it never zooms out), or null when nothing has to move: the zoom
   *  stays and `shown` (where it is drawn now: its marker, its cluster or its card's place; null
   *  when nowhere) is on the map. */
  function zoomToShow(need, shown) {
    var zoom = Math.max(map.getZoom(), Math.min(need, map.getMaxZoom()));
    return zoom === map.getZoom() && shown && map.getBounds().contains(shown) ? null : zoom;
  }

  /** Moves the map to latlng at zoom, then done(). To a place off the map it flies (the user sees
   *  where the map goes), unless motion is reduced. */
  function moveThen(latlng, zoom, done) {
    map.once('moveend', done);
    if (reducedMotion() || map.getBounds().contains(latlng)) { map.setView(latlng, zoom); }
    else { map.flyTo(latlng, zoom, { duration: 1.2 }); }
  }

  /** The lowest zoom at which the marker is drawn by itself, or in a cluster of organisations at its
   *  very place (which no zoom parts); null while markercluster has not placed it yet. */
  function revealZoom(m) {
    var c = m.__parent;
    if (!c || typeof c._zoom !== 'number') { return null; }
    if (c._zoom < map.getMinZoom()) { return map.getMinZoom(); }          // never clustered
    if (!onePlace(c)) { return c._zoom + 1; }
    while (c.__parent && c.__parent._zoom >= map.getMinZoom() && onePlace(c.__parent)) { c = c.__parent; }
    return c._zoom;
  }

  function onePlace(cluster) {
    var b = cluster.getBounds();
    return b.isValid() && b.getNorthEast().equals(b.getSouthWest());
  }

  // ---------------------------------------------------------------- the list

  /** A search that finds nothing in view may find something elsewhere (a resident near Perm
   *  looking for «Харысхал», which is in Yakutsk): how many, and a button that shows them. */
  var elsewhere = { key: null, n: 0, bounds: null };

  function lookElsewhere() {
    var key = filterParams().toString();
    if (elsewhere.key === key) { showElsewhere(); return; }
    elsewhere = { key: key, n: 0, bounds: null };
    var p = filterParams();
    p.set('limit', '500');
    p.set('f', 'json');
    CM.getJSON('/collections/organizations/items?' + CM.query(p)).then(function (fc) {
      if (elsewhere.key !== key) { return; }
      var ref = map.getCenter().lng;
      var points = (fc.features || []).filter(function (f) { return f && f.geometry; }).map(function (f) {
        return [f.geometry.coordinates[1], CM.nearLon(f.geometry.coordinates[0], ref)];
      });
      elsewhere.n = Number(fc.numberMatched) || 0;
      elsewhere.bounds = points.length ? L.latLngBounds(points) : null;
      if (lastResult.mode === 'detail' && !lastResult.features.length && filterParams().toString() === key) { showElsewhere(); }
    }, function (err) {
      if (window.console) { console.warn('CivicMap: search elsewhere', err.message); }
    });
  }

  function showElsewhere() {
    if (!ui.listStatus || !elsewhere.n || !elsewhere.bounds) { return; }
    var bounds = elsewhere.bounds;
    ui.listStatus.textContent = t('list.empty') + ' ';
    ui.listStatus.appendChild(el('button', {
      type: 'button', class: 'cm-linkbutton', id: 'cm-elsewhere',
      text: t('list.elsewhere', { count: t('list.count', { n: elsewhere.n }) }),
      on: { click: function () { map.fitBounds(bounds, { padding: [32, 32], maxZoom: 12 }); } }
    }));
  }

  function renderList() {
    updateFiltersShow();
    if (!ui.list) { return; }
    var focused = document.activeElement && ui.list.contains(document.activeElement)
      ? document.activeElement.getAttribute('data-id') : null;
    ui.list.textContent = '';
    var r = lastResult;
    ui.listCount.textContent = (r.mode === 'none' && !state.kinds.length) || r.mode === 'error' ? '' : '(' + CM.formatNumber(r.numberMatched || 0, 0) + ')';
    updatePointInfo();
    if (r.mode === 'error') { ui.listStatus.textContent = t('status.error'); return; }
    if (r.mode === 'overview') {
      ui.listStatus.textContent = t('list.zoom', { count: t('list.count', { n: r.numberMatched }) });
      return;
    }
    if (!state.kinds.length) { ui.listStatus.textContent = t('filters.none'); return; }
    if (r.mode !== 'detail') { ui.listStatus.textContent = ''; return; }
    if (!r.features.length) {
      ui.listStatus.textContent = t('list.empty');
      if (state.q) { lookElsewhere(); }
      return;
    }

    var feats = r.features.slice();
    var byDistance = state.near && feats.every(function (f) { return typeof f.properties.distance_km === 'number'; });
    if (byDistance) {
      feats.sort(function (a, b) { return a.properties.distance_km - b.properties.distance_km; });
    } else {
      var coll = new Intl.Collator(CM.locale(), { ignorePunctuation: true, numeric: true });
      feats.sort(function (a, b) { return coll.compare(String(a.properties.name || ''), String(b.properties.name || '')); });
    }
    var status = t('status.found', { n: r.numberMatched });
    if (r.numberMatched > feats.length) { status = t('list.more', { shown: CM.formatNumber(feats.length, 0), total: CM.formatNumber(r.numberMatched, 0) }); }
    else if (!state.near) { status += '. ' + t('list.sorted.name'); }
    ui.listStatus.textContent = status;

    var frag = document.createDocumentFragment();
    feats.forEach(function (f) {
      var p = f.properties;
      var kind = KINDS.indexOf(p.kind) >= 0 ? p.kind : 'ngo';
      var where = [p.settlement, p.region_name].filter(Boolean).map(String);
      var metaParts = [t('kind.' + kind)].concat(where.length ? [where.join(', ')] : []);
      var body = el('span', { class: 'cm-item__body' }, [
        el('span', { class: 'cm-item__name', text: String(p.name || '') }),
        el('span', { class: 'cm-item__meta', text: metaParts.join(' · ') })
      ]);
      if (byDistance) {
        body.appendChild(el('span', { class: 'cm-item__dist', text: t('list.distance', { d: CM.formatKm(p.distance_km) }) }));
      } else if (state.remote && typeof p.distance_to_center_km === 'number') {
        body.appendChild(el('span', { class: 'cm-item__dist', text: t('card.distance_centre') + ': ' + CM.formatKm(p.distance_to_center_km) }));
      }
      var btn = el('button', {
        type: 'button', class: 'cm-item cm-item--' + kind, attrs: { 'data-id': String(f.id) },
        on: { click: function () { openFeature(String(f.id)); } }
      }, [kindIcon(kind, 'cm-item__icon'), body]);
      frag.appendChild(el('li', {}, [btn]));
    });
    ui.list.appendChild(frag);
    if (focused) {
      var again = ui.list.querySelector('button[data-id="' + CSS.escape(focused) + '"]');
      if (again) { again.focus({ preventScroll: true }); }
    }
  }

  function setStatus(kind) {
    if (!ui.status) { return; }
    ui.status.classList.toggle('is-error', kind === 'error');
    ui.status.classList.toggle('is-loading', kind === 'loading');
    // A widget without a list says on the map when nothing matches (its legend may be folded).
    if (!kind && !hasControl('list') && lastResult.mode === 'detail' && !lastResult.numberMatched) { kind = 'empty'; }
    ui.status.textContent = kind === 'loading' ? t('status.loading') : kind === 'error' ? t('status.error')
      : kind === 'empty' ? t('status.empty') : '';
    if (kind === 'error') {
      ui.status.appendChild(document.createTextNode(' '));
      ui.status.appendChild(el('button', { type: 'button', class: 'cm-status__retry', text: t('status.retry'), on: { click: refresh } }));
    }
  }

  // ---------------------------------------------------------------- the point

  function updatePointInfo() {
    if (!ui.pointInfo) { return; }
    ui.nearDismiss.hidden = !nearMessage || nearMessage === 'list.near.busy';
    if (nearMessage) {
      ui.pointInfo.textContent = t(nearMessage, nearParams);
    } else if (state.near) {
      var lat = state.near[1], lon = CM.wrapLon(state.near[0]);
      ui.pointInfo.textContent = t('list.point', {
        lat: t(lat >= 0 ? 'coord.n' : 'coord.s', { v: CM.formatNumber(Math.abs(lat), 3) }),
        lon: t(lon >= 0 ? 'coord.e' : 'coord.w', { v: CM.formatNumber(Math.abs(lon), 3) })
      });
    } else {
      ui.pointInfo.textContent = t(ui.nearButton.hidden ? 'list.point.hint.nogeo' : 'list.point.hint');
    }
    ui.pointClear.hidden = !state.near;
  }

  /** What «Рядом со мной» has to say (an i18n key: busy, refused, not found, nothing nearby) stays
   *  in place of the hint through the list's refreshes, until the user dismisses it or does
   *  something else with the point or the filters. */
  var nearMessage = null, nearParams = null;
  var NEAR_ZOOM = 10;           // «Рядом со мной» shows the location at least this close
  var nearLooking = null;       // the nearKey() of a location just found: is anything around it?

  function setNearMessage(key, params) {
    nearMessage = key;
    nearParams = params || null;
    nearLooking = null;
    updatePointInfo();
  }

  /** The user does something else with the point or the filters: the message has served. */
  function clearNearMessage() {
    if (nearMessage || nearLooking) { setNearMessage(null); }
  }

  /** After a refresh for the point `asked` over `bbox`: the first list that shows the surroundings of
   *  a location «Рядом со мной» found (the point in view, zoomed in) says so if it is empty. */
  function checkNearby(asked, bbox) {
    if (!nearLooking || nearLooking !== asked || asked !== nearKey() || map.getZoom() < NEAR_ZOOM) { return; }
    if (!inBbox(bbox)({ geometry: { coordinates: state.near } })) { return; }
    var none = lastResult.mode === 'detail' && !lastResult.features.length;
    if (none) { widenToNearest(asked); } else { setNearMessage(null); }
  }

  /** Nothing around a location «Рядом со мной» found: the nearest organisation that matches the
   *  filters (the API's geodesic order), and the map widened to show it beside the location. In
   *  much of Russia the nearest one lies farther than a view at zoom 10. */
  function widenToNearest(asked) {
    nearLooking = null;
    var p = filterParams();
    p.set('near', state.near.join(','));
    p.set('limit', '1');
    p.set('f', 'json');
    CM.getJSON('/collections/organizations/items?' + CM.query(p)).then(function (fc) {
      if (asked !== nearKey()) { return; }
      var f = fc && fc.features && fc.features[0];
      if (!f || !f.geometry) { setNearMessage('list.near.none'); return; }
      var here = [state.near[1], CM.nearLon(state.near[0], map.getCenter().lng)];
      var there = [f.geometry.coordinates[1], CM.nearLon(f.geometry.coordinates[0], here[1])];
      setNearMessage('list.near.nearest', { km: CM.formatNumber(Number(f.properties.distance_km) || 0, 0) });
      map.fitBounds(L.latLngBounds([here, there]), { padding: [48, 48], maxZoom: NEAR_ZOOM });
    }, function () {
      if (asked === nearKey()) { setNearMessage('list.near.none'); }
    });
  }

  function setNear(lonlat, opts) {
    clearNearMessage();
    state.near = lonlat ? [round(CM.wrapLon(lonlat[0]), 5), round(lonlat[1], 5)] : null;
    drawPoint();
    writeURL();
    if (opts && opts.view) {
      map.setView([lonlat[1], CM.nearLon(lonlat[0], map.getCenter().lng)], Math.max(map.getZoom(), NEAR_ZOOM));
      scheduleRefresh();      // with the new view (its moveend schedules it too)
    } else {
      refresh();
    }
  }

  function drawPoint() {
    if (pointMarker) { map.removeLayer(pointMarker); pointMarker = null; }
    if (!state.near) { return; }
    pointMarker = L.marker([state.near[1], CM.nearLon(state.near[0], map.getCenter().lng)], {
      icon: L.divIcon({ className: 'cm-point-marker', html: el('span', { text: '✚' }), iconSize: [26, 26] }),
      title: t('point.title'),
      keyboard: false,
      interactive: false,     // seen above the markers, but a tap goes through to them (or to the map)
      zIndexOffset: 1000
    }).addTo(map);
  }

  function onMapClick(e) {
    if (!hasControl('list')) { return; }
    if (Date.now() - lastPopupClose < 400) { return; }      // the click only closed a card
    setNear([e.latlng.lng, e.latlng.lat]);
  }

  function nearCentre() {
    var c = map.getCenter();
    setNear([c.lng, c.lat]);
  }

  /** Whether this document may ask for the location at all: a widget framed without
   *  allow="geolocation", or on a site whose Permissions-Policy forbids it (common on official
   *  sites), never gets one whatever the user allows, so it offers no «Рядом со мной» (and the
   *  hint does not name it) rather than a button that fails with a console error. */
  function geolocationAllowed() {
    var policy = document.permissionsPolicy || document.featurePolicy;
    return !policy || typeof policy.allowsFeature !== 'function' || policy.allowsFeature('geolocation');
  }

  /** A refusal says how to allow the location (the user can change it); no fix or a timeout says to
   *  check the device's location and try again. A page without https gets no location at all. */
  function nearMe() {
    if (!navigator.geolocation || window.isSecureContext === false) {
      setNearMessage('list.near.unsupported');
      return;
    }
    ui.nearButton.disabled = true;
    setNearMessage('list.near.busy');
    navigator.geolocation.getCurrentPosition(function (pos) {
      ui.nearButton.disabled = false;
      setNear([pos.coords.longitude, pos.coords.latitude], { view: true });
      nearLooking = nearKey();
    }, function (err) {
      ui.nearButton.disabled = false;
      setNearMessage(err && err.code === 1 ? 'list.near.denied' : 'list.near.unavailable');
    }, { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 });
  }

  // ---------------------------------------------------------------- filters

  function onKindsChange() {
    state.kinds = KINDS.filter(function (k) { return ui.kindBoxes[k].checked; });
    filtersChanged();
  }

  function onCategoryChange() {
    state.category = ui.category.value;
    filtersChanged();
  }

  function applyQ() {
    var q = ui.q.value.trim();
    if (q === state.q) { return; }
    state.q = q;
    filtersChanged();
  }

  function onRemoteChange() {
    state.remote = ui.remote.checked;
    readKm();
    filtersChanged();
  }

  function readKm() {
    var v = parseFloat(String(ui.km.value).replace(',', '.'));
    if (isFinite(v) && v >= 0) { state.km = v; }
  }

  function onKmChange() {
    var before = threshold();
    readKm();
    if (threshold() === before) { return; }
    drawRegionDecor();
    if (state.remote) { filtersChanged(); } else { writeURL(); updateEmbedSnippet(); }
  }

  // A closed <select> changes (and Chrome fires change) at each arrow key: a keyboard user walking
  // the regions gets the one they stop at (after a pause, or at once with Enter or on leaving the
  // field), not a fit and a request per region passed. A choice with the mouse applies at once.
  var regionByKeys = false, regionPending = false;
  var applyRegionLater = CM.debounce(applyRegion, 400);

  function onRegionKey(e) {
    regionByKeys = true;
    if (e.key === 'Enter') { applyRegion(); }
  }

  function onRegionChange() {
    if (!regionByKeys) { applyRegion(); return; }
    regionPending = true;
    setBusy(true);
    applyRegionLater();
  }

  function applyRegion() {
    applyRegionLater.cancel();
    var pending = regionPending;
    regionPending = false;
    if (ui.region.value === state.region) {
      if (pending) { scheduleRefresh(); }       // walked back to where it was: settle the busy state
      return;
    }
    state.region = ui.region.value;
    clearNearMessage();
    drawRegionDecor({ fit: true });
    writeURL();
    scheduleRefresh();      // after the fit's moveend, not for the old view
  }

  function resetFilters() {
    applyRegionLater.cancel();
    regionPending = false;
    var hadRegion = !!state.region;
    state.kinds = KINDS.slice();
    state.region = '';
    state.category = '';
    state.q = '';
    state.remote = false;
    state.km = config.remoteThresholdKm;
    syncControls();
    if (!hadRegion) { drawRegionDecor(); filtersChanged(); return; }
    clearNearMessage();
    drawRegionDecor({ fit: true });
    writeURL();
    scheduleRefresh();      // after the fit's moveend
  }

  function syncControls() {
    if (ui.kindBoxes) { KINDS.forEach(function (k) { ui.kindBoxes[k].checked = state.kinds.indexOf(k) >= 0; }); }
    if (ui.region) { ui.region.value = state.region; }
    if (ui.category) { ui.category.value = state.category; }
    if (ui.q) { ui.q.value = state.q; }
    if (ui.remote) { ui.remote.checked = state.remote; ui.km.value = String(threshold()); }
  }

  function filtersChanged() {
    clearNearMessage();
    writeURL();
    refresh();
  }

  // ---------------------------------------------------------------- regions

  function regionKey(f) { return f.properties.iso || f.properties.code; }

  function addRegion(f) {
    if (!f || !f.properties) { return; }
    regionByKey[regionKey(f)] = f;
    if (f.properties.code) { regionByKey[f.properties.code] = regionByKey[f.properties.code] || f; }
  }

  function regionName(f) {
    var p = f.properties;
    return CM.lang === 'en' && p.name_en ? p.name_en : p.name;
  }

  function fillRegions() {
    if (!ui.region) { return; }
    var coll = new Intl.Collator(CM.locale());
    var sorted = regions.slice().sort(function (a, b) { return coll.compare(regionName(a), regionName(b)); });
    var first = ui.region.options[0];
    ui.region.textContent = '';
    ui.region.appendChild(first);
    sorted.forEach(function (f) {
      ui.region.appendChild(el('option', { value: regionKey(f), text: String(regionName(f)) }));
    });
    if (state.region && !regionByKey[state.region]) {
      ui.region.appendChild(el('option', { value: state.region, text: state.region }));
    }
    ui.region.value = state.region;
    updateFiltersSummary();
  }

  function fillCategories() {
    if (!ui.category) { return; }
    var first = ui.category.options[0];
    ui.category.textContent = '';
    ui.category.appendChild(first);
    var seen = false;
    categories.forEach(function (c) {
      if (!c || !c.name) { return; }
      if (c.name === state.category) { seen = true; }
      var label = String(c.name) + (typeof c.count === 'number' ? ' (' + CM.formatNumber(c.count, 0) + ')' : '');
      ui.category.appendChild(el('option', { value: String(c.name), text: label }));
    });
    if (state.category && !seen) { ui.category.appendChild(el('option', { value: state.category, text: state.category })); }
    ui.category.value = state.category;
  }

  function currentRegion() { return state.region ? regionByKey[state.region] || null : null; }

  function regionBounds(f) {
    if (f.geometry) {
      var b = L.geoJSON(f, { coordsToLatLng: toLatLng }).getBounds();
      if (b.isValid()) { return b; }
    }
    var p = f.properties;
    if (isFinite(p.centre_lat) && isFinite(p.centre_lon)) {
      return L.latLng(p.centre_lat, p.centre_lon).toBounds(300000);
    }
    return null;
  }

  /** The chosen region: its outline, its administrative centre and the remoteness ring. */
  function drawRegionDecor(opts) {
    regionDecor.clearLayers();
    if (ringRequest) { ringRequest.abort(); ringRequest = null; }
    var f = currentRegion();
    if (ui.legendRegion) { ui.legendRegion.hidden = !f; ui.legendRing.hidden = true; }
    if (!f) {
      if (opts && opts.fit) { map.fitBounds(RUSSIA); }    // «Все регионы»: back to the whole country
      return;
    }
    var p = f.properties;
    if (f.geometry) {
      regionDecor.addLayer(L.geoJSON(f, {
        coordsToLatLng: toLatLng, interactive: false,
        style: { color: '#1d4ed8', weight: 2, opacity: 0.8, fill: false, className: 'cm-region-outline' }
      }));
    }
    if (opts && opts.fit) {
      var b = regionBounds(f);
      if (b) { map.fitBounds(b, { padding: [16, 16], maxZoom: 9 }); }
    }
    if (!isFinite(p.centre_lat) || !isFinite(p.centre_lon)) { return; }
    var centreName = String((CM.lang === 'en' && p.centre_name_en) || p.centre_name || '');
    var centre = L.marker([p.centre_lat, p.centre_lon < 0 ? p.centre_lon + 360 : p.centre_lon], {
      icon: L.divIcon({ className: 'cm-centre', html: el('span', { text: '★' }), iconSize: [26, 26] }),
      title: t('centre.title', { name: centreName }),
      keyboard: false,
      zIndexOffset: -1000     // under the markers and clusters there (the centre's town has many): a tap is theirs
    });
    centre.bindTooltip(el('span', { text: centreName }), { direction: 'top', offset: [0, -12], className: 'cm-centre-tooltip' });
    regionDecor.addLayer(centre);

    var km = threshold();
    if (!(km > 0)) { return; }
    var ctrl = ringRequest = new AbortController();
    var rp = new URLSearchParams();
    rp.set('region_iso', state.region);
    rp.set('km', String(km));
    CM.getJSON('/rings?' + CM.query(rp), ctrl.signal).then(function (ring) {
      if (ctrl.signal.aborted || ringRequest !== ctrl) { return; }
      ringRequest = null;
      var ref = p.centre_lon < 0 ? p.centre_lon + 360 : p.centre_lon;
      var layer = L.polyline(ringLines(ring.geometry, ref), {
        interactive: false, color: '#b4236c', weight: 2, opacity: 0.95, dashArray: '8 6', className: 'cm-ring'
      });
      regionDecor.addLayer(layer);
      if (ui.legendRing) {
        ui.legendRing.hidden = false;
        ui.legendRingLabel.textContent = t('ring.title', { km: CM.formatKm(km) });
      }
    }).catch(function (err) {
      if (err.name !== 'AbortError' && window.console) { console.warn('CivicMap: ring', err.message); }
    });
  }

  /** A ring's outline as lines near the centre's longitude `ref`. Across the antimeridian the
   *  server sends its two sides (RFC 7946); the edges along the cut are left out, so the two
   *  halves draw as one circle. */
  function ringLines(geometry, ref) {
    var polygons = geometry.type === 'MultiPolygon' ? geometry.coordinates : [geometry.coordinates];
    var lines = [];
    polygons.forEach(function (rings) {
      var outer = rings[0], line = [];
      outer.forEach(function (c, i) {
        var cut = i > 0 && Math.abs(c[0]) === 180 && Math.abs(outer[i - 1][0]) === 180;
        if (cut) { lines.push(line); line = []; }
        line.push(L.latLng(c[1], CM.nearLon(c[0], ref)));
      });
      lines.push(line);
    });
    return lines.filter(function (l) { return l.length > 1; });
  }

  // ---------------------------------------------------------------- export, embed, language

  function updateExportLinks() {
    if (!ui.exportGeojson) { return; }
    var p = filterParams();
    if (state.exportBbox && map) { p.set('bbox', viewBbox().join(',')); }
    var qs = CM.query(p);
    ui.exportGeojson.href = CM.url('/export/organizations.geojson') + (qs ? '?' + qs : '');
    ui.exportCsv.href = CM.url('/export/organizations.csv') + (qs ? '?' + qs : '');
    p.set('dialect', 'excel');
    ui.exportExcel.href = CM.url('/export/organizations.csv') + '?' + CM.query(p);
  }

  function updateEmbedSnippet() {
    if (!ui.snippetIframe || !map) { return; }
    var p = stateParams(true);
    p.set('controls', builder.controls.join(','));
    p.set('locked', builder.locked ? '1' : '0');
    var qs = CM.query(p);
    var origin = location.origin + CM.base;
    ui.snippetIframe.value = '<iframe src="' + CM.escapeAttr(origin + '/embed?' + qs) +
      '" width="100%" height="480" style="border:0" loading="lazy" title="' + CM.escapeAttr(t('embed.frame.title')) +
      '" allow="geolocation"></iframe>';
    ui.snippetScript.value = '<script src="' + CM.escapeAttr(origin + '/embed.js') +
      '" data-civicmap="' + CM.escapeAttr(qs) + '" async></' + 'script>';
  }

  function updateOpenFull() {
    if (!ui.openFull) { return; }
    ui.openFull.href = location.origin + CM.base + '/?' + CM.query(stateParams(true));
  }

  /** Leaflet's zoom buttons say "Zoom in" and "Zoom out" whatever the page's language. */
  function labelZoomControl() {
    if (!map) { return; }
    [['.leaflet-control-zoom-in', 'map.zoom.in'], ['.leaflet-control-zoom-out', 'map.zoom.out']].forEach(function (b) {
      var button = map.getContainer().querySelector(b[0]);
      if (button) { button.title = t(b[1]); button.setAttribute('aria-label', t(b[1])); }
    });
  }

  function applyLanguage() {
    document.documentElement.lang = CM.lang;
    labelZoomControl();
    document.title = t(MODE === 'embed' ? 'embed.title' : 'page.title');
    CM.translate(document.body);
    updateFiltersToggle();
    fillCredit();
    document.querySelectorAll('.cm-langswitch').forEach(function (b) {
      b.setAttribute('hreflang', CM.lang === 'ru' ? 'en' : 'ru');
      b.setAttribute('lang', CM.lang === 'ru' ? 'en' : 'ru');
    });
  }

  function switchLanguage() {
    CM.lang = CM.lang === 'ru' ? 'en' : 'ru';
    applyLanguage();
    fillRegions();
    // markers carry letters of the language
    Object.keys(markersById).forEach(function (id) {
      var m = markersById[id];
      m.setIcon(markerIcon(m.feature));
    });
    clusterGroup.refreshClusters();
    if (lastResult.byKind) { renderLegend(lastResult.byKind, lastResult.legendTotal || 0); }
    drawRegionDecor();
    drawPoint();
    renderList();
    translateAttributions();
    retranslateCard();
    writeURL();
    updateEmbedSnippet();
    updateOpenFull();
    if (lastResult.mode === 'overview') { refresh(); }
  }

  // ---------------------------------------------------------------- the widget's height

  function reportHeight() {
    if (MODE !== 'embed' || window.parent === window) { return; }
    var last = 0;
    // The page is exactly as tall as its frame and the map fills what is left, so the frame's own
    // height is taken out: what the widget needs is its other rows plus the map at its minimum
    // (--cm-embed-map-min). That does not change when the frame does, so the loader can shrink
    // the frame as well as grow it without the two chasing each other.
    var send = function () {
      var mapMin = parseFloat(getComputedStyle(root).getPropertyValue('--cm-embed-map-min')) || 300;
      var h = Math.ceil(root.scrollHeight - ui.mapWrap.getBoundingClientRect().height + mapMin);
      if (Math.abs(h - last) < 2) { return; }       // sub-pixel rounding
      last = h;
      window.parent.postMessage({ type: 'civicmap:height', height: h }, '*');
    };
    if (window.ResizeObserver) {
      var ro = new ResizeObserver(send);
      ro.observe(root);
      Array.prototype.forEach.call(root.children, function (c) { ro.observe(c); });
    }
    window.addEventListener('load', send);
    window.addEventListener('resize', send);
    send();
  }

  // ---------------------------------------------------------------- start

  function normaliseConfig(c) {
    if (!c || typeof c !== 'object') { return; }
    var tiles = c.tiles || c.basemap || c.osm;
    if (typeof tiles === 'string') { tiles = { url: tiles }; }
    if (!tiles && (c.tileUrl || c.tile_url)) { tiles = { url: c.tileUrl || c.tile_url, attribution: c.attribution, maxZoom: c.maxZoom }; }
    if (tiles && (tiles.url || tiles.urlTemplate)) {
      config.tiles = {
        url: tiles.url || tiles.urlTemplate,
        attribution: tiles.attribution != null ? tiles.attribution : config.tiles.attribution,
        maxZoom: tiles.maxZoom || tiles.max_zoom || 19,
        minZoom: tiles.minZoom || tiles.min_zoom || 0,
        name: tiles.name || tiles.title
      };
    }
    var local = c.localTiles || c.local_tiles;
    if (Array.isArray(local)) {
      config.localTiles = local.map(function (x) {
        if (typeof x === 'string') { return { url: x }; }
        return {
          url: x.url || x.urlTemplate, name: x.name || x.title, attribution: x.attribution,
          maxZoom: x.maxZoom || x.max_zoom, minZoom: x.minZoom || x.min_zoom
        };
      }).filter(function (x) { return x.url; });
    }
    var dl = Number(c.detailLimit || c.detail_limit);
    if (dl > 0) { config.detailLimit = dl; }
    var th = Number(c.remoteThresholdKm != null ? c.remoteThresholdKm : c.remote_threshold_km);
    if (isFinite(th) && th >= 0) { config.remoteThresholdKm = th; }
  }

  function start() {
    readURL();
    applyLanguage();
    buildUI();
    createMap();
    drawPoint();
    reportHeight();

    document.querySelectorAll('.cm-langswitch').forEach(function (b) {
      b.addEventListener('click', function (e) { e.preventDefault(); switchLanguage(); });
    });

    var configReady = CM.getJSON('/map-config.json').then(normaliseConfig, function (err) {
      if (window.console) { console.warn('CivicMap: map-config', err.message); }
    }).then(function () {
      if (state.km == null) { state.km = config.remoteThresholdKm; }
      if (ui.km) { ui.km.value = String(threshold()); }
      addBaseLayers();
    });

    var started = false;
    var regionsReady = CM.getJSON('/collections/regions/items?limit=100&f=json').then(function (fc) {
      regions = (fc.features || []).filter(function (f) { return f && f.properties; });
      regions.forEach(addRegion);
      // «ru-per» and «59» name a region as the API reads them: kept as its ISO code, which the
      // list shows. A region nobody knows is dropped, rather than failing every request.
      var named = state.region && (regionByKey[state.region] || regionByKey[state.region.toUpperCase()] || regionByKey['0' + state.region]);
      var unknown = state.region && !named;
      if (named) { state.region = regionKey(named); }
      if (unknown) {
        if (window.console) { console.warn('CivicMap: unknown region', state.region); }
        state.region = '';
      }
      drawRegions({ type: 'FeatureCollection', features: regions.filter(function (f) { return f.geometry; }) });
      fillRegions();
      if (started) {
        writeURL();
        if (unknown) { refresh(); }
      }
    }, function (err) {
      // The active region filter stays visible (by its code) and the page says what failed.
      fillRegions();
      if (ui.regionsNote) { ui.regionsNote.hidden = false; }
      if (window.console) { console.warn('CivicMap: regions', err.message); }
    });

    CM.getJSON('/categories').then(function (d) {
      categories = (d && d.categories) || [];
      fillCategories();
    }, function (err) {
      if (window.console) { console.warn('CivicMap: categories', err.message); }
    });

    // A link to a region fits the map to that region's own outline (one feature, fetched beside
    // the rest), not to all 89 (2.25 MB: 23 s before anything showed on a slow line).
    var needRegionFirst = state.region && !initialView;
    var regionFirst = needRegionFirst ? CM.getJSON('/collections/regions/items/' + encodeURIComponent(state.region) + '?f=json')
      .then(function (f) {
        addRegion(f);
        if (f && f.properties) { state.region = regionKey(f); }
      }, function () { return regionsReady; }) : null;
    if (needRegionFirst) { setStatus('loading'); }
    configReady.then(function () {
      return regionFirst;
    }).then(function () {
      started = true;
      if (state.region) { drawRegionDecor({ fit: needRegionFirst }); }
      writeURL();
      refresh();
      if (state.region) {
        regionsReady.then(function () { drawRegionDecor(); });
      }
    });
  }

  start();
}());
