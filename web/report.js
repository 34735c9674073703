/* CivicMap: the printable region report (report.html), served at /reports/regions/{region}.
 *
 * The region comes from the path, the parameters (threshold_km, coverage_radius_km, kind, top)
 * from the query; the page asks the same path with f=json and draws it: totals, a table and a
 * grouped bar chart by kind, a histogram of distances, the most remote organisations and the
 * coverage of settlements. Charts are SVG made here (no library). Data goes in as text only.
 * The page's root carries data-state="busy|idle" (idle: nothing pending or in flight) for tests. */
(function () {
  'use strict';

  var CM = window.CivicMap;
  var t = CM.t, el = CM.el;
  var KINDS = ['ngo', 'tos', 'internship_site'];
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var PATH = /\/reports\/regions\/([^/]+)\/?$/;  // under the app's base, wherever it is

  var root = document.getElementById('cm-report');
  if (!root) { return; }

  var page = {
    region: '',        // from the path: an ISO code (RU-PER) or a two-digit code
    params: null,      // the report's parameters from the query (without lang, f, dialect)
    data: null,        // the last answer
    error: null
  };
  var regions = [];    // region features, for the select
  var regionByKey = {};
  var ui = {};
  var uid = 0;

  // ---------------------------------------------------------------- URL

  function readURL() {
    var p = new URLSearchParams(location.search);
    CM.lang = p.get('lang') === 'en' ? 'en' : 'ru';
    var m = PATH.exec(location.pathname);
    var region = '';
    if (m) {
      try { region = decodeURIComponent(m[1]); } catch (e) { region = m[1]; }
    } else {
      region = p.get('region') || '';      // opened as /static/report.html?region=RU-PER
    }
    ['lang', 'f', 'dialect', 'region'].forEach(function (k) { p.delete(k); });
    page.region = region.trim();
    page.params = p;
  }

  /** The report in another format, with the page's parameters. */
  function reportURL(format, dialect) {
    var p = new URLSearchParams(page.params);
    p.set('f', format);
    if (dialect) { p.set('dialect', dialect); }
    return CM.url('/reports/regions/' + encodeURIComponent(page.region)) + '?' + CM.query(p);
  }

  /** The page for a region and parameters, in the current language. */
  function pageURL(region, params) {
    var p = new URLSearchParams(params);
    if (CM.lang === 'en') { p.set('lang', 'en'); } else { p.delete('lang'); }
    var qs = CM.query(p);
    return CM.url('/reports/regions/' + encodeURIComponent(region)) + (qs ? '?' + qs : '');
  }

  function mapURL(lat, lon) {
    var p = new URLSearchParams();
    if (CM.lang === 'en') { p.set('lang', 'en'); }
    p.set('lat', String(Number(lat.toFixed(5))));
    p.set('lon', String(Number(lon.toFixed(5))));
    p.set('z', '12');
    return CM.url('/?' + CM.query(p));    // behind a proxy's sub-path too
  }

  // ---------------------------------------------------------------- formats

  function num(x) { return typeof x === 'number' && isFinite(x) ? x : null; }

  function count(x) { return num(x) == null ? t('report.none') : CM.formatNumber(x, 0); }

  function km(x) { return num(x) == null ? t('report.none') : CM.formatKm(x); }

  function share(x) { return num(x) == null ? t('report.none') : CM.formatPercent(x); }

  function kindLabel(row) {
    if (KINDS.indexOf(row.kind) >= 0) { return t('kind.plural.' + row.kind); }
    return String((CM.lang === 'en' ? row.title_en : row.title_ru) || row.title_ru || row.kind || '');
  }

  function kindName(kind) {
    return KINDS.indexOf(kind) >= 0 ? t('kind.' + kind) : String(kind || '');
  }

  function regionKey(f) { return f.properties.iso || f.properties.code; }

  function regionName(p) {
    if (!p) { return ''; }
    return String((CM.lang === 'en' && p.name_en) || p.name || '');
  }

  // ---------------------------------------------------------------- the page

  function setBusy(busy) { root.setAttribute('data-state', busy ? 'busy' : 'idle'); }

  function build() {
    root.textContent = '';
    ui.title = el('h1', { class: 'cm-report__title', id: 'cm-report-title', text: page.region || t('report.kicker') });
    ui.centre = el('p', { class: 'cm-report__meta', hidden: true });
    ui.paramsLine = el('p', { class: 'cm-report__meta cm-report__params', hidden: true });
    ui.generated = el('p', { class: 'cm-report__meta', hidden: true });
    root.appendChild(el('header', { class: 'cm-report__head' }, [
      el('p', { class: 'cm-report__kicker', i18n: 'report.kicker' }),
      ui.title, ui.centre, ui.paramsLine, ui.generated
    ]));
    root.appendChild(buildToolbar());
    ui.status = el('p', { class: 'cm-report__status', attrs: { role: 'status', 'aria-live': 'polite' } });
    root.appendChild(ui.status);
    ui.content = el('div', { class: 'cm-report__content', id: 'cm-report-content', tabIndex: -1 });
    root.appendChild(ui.content);
  }

  function field(labelKey, control, id) {
    return el('div', { class: 'cm-field' }, [el('label', { htmlFor: id, class: 'cm-label', i18n: labelKey }), control]);
  }

  function buildToolbar() {
    var p = page.params;
    // Applied with the form's button (or Enter), not on change: arrow keys step through the
    // options, and a reload on each would throw a keyboard user back to the top (WCAG 3.2.2).
    ui.region = el('select', { id: 'cm-report-region', name: 'region', class: 'cm-input' }, [
      el('option', { value: '', i18n: 'report.form.region.choose' })
    ]);
    if (page.region) { ui.region.appendChild(el('option', { value: page.region, text: page.region })); }
    ui.region.value = page.region;
    ui.threshold = el('input', {
      type: 'number', id: 'cm-report-threshold', name: 'threshold_km', class: 'cm-input cm-input--km',
      min: '0', max: '20100', step: 'any', value: p.get('threshold_km') || '', attrs: { inputmode: 'decimal' }
    });
    ui.radius = el('input', {
      type: 'number', id: 'cm-report-radius', name: 'coverage_radius_km', class: 'cm-input cm-input--km',
      min: '0', max: '500', step: 'any', value: p.get('coverage_radius_km') || '', attrs: { inputmode: 'decimal' }
    });
    var asked = p.has('kind') ? p.get('kind').split(',') : KINDS;
    var kinds = el('fieldset', { class: 'cm-field cm-report__kinds' }, [el('legend', { class: 'cm-label', i18n: 'report.form.kinds' })]);
    ui.kindBoxes = {};
    KINDS.forEach(function (k) {
      var box = ui.kindBoxes[k] = el('input', {
        type: 'checkbox', id: 'cm-report-kind-' + k, name: 'kind', value: k, checked: asked.indexOf(k) >= 0,
        on: { change: navigate }
      });
      kinds.appendChild(el('div', { class: 'cm-check cm-check--inline' }, [
        box, el('label', { htmlFor: 'cm-report-kind-' + k, i18n: 'kind.plural.' + k })
      ]));
    });
    ui.formNote = el('p', { class: 'cm-note cm-note--warn cm-report__formnote', hidden: true, attrs: { role: 'alert' } });
    var form = el('form', {
      class: 'cm-report__form', id: 'cm-report-form', attrs: { 'aria-labelledby': 'cm-report-form-heading' },
      on: { submit: function (e) { e.preventDefault(); navigate(); } }
    }, [
      field('report.form.region', ui.region, 'cm-report-region'),
      field('report.form.threshold', ui.threshold, 'cm-report-threshold'),
      field('report.form.radius', ui.radius, 'cm-report-radius'),
      kinds,
      el('div', { class: 'cm-field' }, [el('button', { type: 'submit', class: 'cm-button', id: 'cm-report-submit', i18n: 'report.form.submit' })])
    ]);

    var has = !!page.region;
    var actions = el('div', { class: 'cm-report__actions', attrs: { role: 'group', 'aria-labelledby': 'cm-report-actions-label' } }, [
      el('span', { class: 'cm-label cm-report__actions-label', id: 'cm-report-actions-label', i18n: 'report.actions' }),
      el('button', { type: 'button', class: 'cm-button', id: 'cm-report-print', i18n: 'report.print', on: { click: function () { window.print(); } } }),
      has ? el('a', { class: 'cm-button cm-button--ghost', id: 'cm-report-csv', href: reportURL('csv'), i18n: 'report.download.csv', attrs: { download: '' } }) : null,
      has ? el('a', {
        class: 'cm-button cm-button--ghost', id: 'cm-report-excel', href: reportURL('csv', 'excel'), i18n: 'report.download.excel',
        i18nAttrs: { title: 'report.download.excel.title' }, attrs: { download: '' }
      }) : null,
      has ? el('a', { class: 'cm-button cm-button--ghost', id: 'cm-report-json', href: reportURL('json'), i18n: 'report.download.json', attrs: { type: 'application/json' } }) : null
    ]);

    return el('section', { class: 'cm-report__toolbar', attrs: { 'aria-labelledby': 'cm-report-form-heading' } }, [
      el('h2', { class: 'cm-report__toolbar-title', id: 'cm-report-form-heading', i18n: 'report.form.heading' }),
      el('p', { class: 'cm-note', i18n: 'report.form.hint' }),
      form,
      ui.formNote,
      actions
    ]);
  }

  function parseNumber(input) {
    var s = String(input.value == null ? '' : input.value).trim().replace(',', '.');
    if (!s) { return { empty: true }; }
    var v = parseFloat(s);
    return { empty: false, value: isFinite(v) ? v : NaN };
  }

  /** The form as a new URL: the report is reloaded there, so the address is always shareable. */
  function navigate() {
    var region = ui.region.value || page.region;
    var kinds = KINDS.filter(function (k) { return ui.kindBoxes[k].checked; });
    var thr = parseNumber(ui.threshold), rad = parseNumber(ui.radius);
    var problem = !region ? 'report.noregion'
      : !kinds.length ? 'report.form.nokinds'
        : (!thr.empty && !(thr.value >= 0)) || (!rad.empty && !(rad.value > 0)) ? 'report.form.invalid' : null;
    ui.formNote.hidden = !problem;
    ui.formNote.textContent = problem ? t(problem) : '';
    if (problem) { return; }
    var p = new URLSearchParams(page.params);
    if (thr.empty) { p.delete('threshold_km'); } else { p.set('threshold_km', String(thr.value)); }
    if (rad.empty) { p.delete('coverage_radius_km'); } else { p.set('coverage_radius_km', String(rad.value)); }
    p.set('kind', kinds.join(','));
    var url = pageURL(region, p);
    if (url === location.pathname + location.search) { return; }
    setBusy(true);
    location.assign(url);
  }

  /** The form shows what the report was built with (the server's defaults included). */
  function syncForm(params) {
    if (!params) { return; }
    if (num(params.threshold_km) != null) { ui.threshold.value = String(params.threshold_km); }
    if (num(params.coverage_radius_km) != null) { ui.radius.value = String(params.coverage_radius_km); }
    if (Array.isArray(params.kinds) && params.kinds.length) {
      KINDS.forEach(function (k) { ui.kindBoxes[k].checked = params.kinds.indexOf(k) >= 0; });
    }
  }

  function fillRegions() {
    var coll = new Intl.Collator(CM.locale());
    var sorted = regions.slice().sort(function (a, b) { return coll.compare(regionName(a.properties), regionName(b.properties)); });
    var first = ui.region.options[0];
    ui.region.textContent = '';
    ui.region.appendChild(first);
    sorted.forEach(function (f) {
      ui.region.appendChild(el('option', { value: regionKey(f), text: regionName(f.properties) }));
    });
    var current = regionByKey[page.region];
    if (page.region && !current) { ui.region.appendChild(el('option', { value: page.region, text: page.region })); }
    ui.region.value = current ? regionKey(current) : page.region;
  }

  // ---------------------------------------------------------------- loading

  function loadReport() {
    if (!page.region) {
      ui.status.textContent = t('report.noregion');
      return Promise.resolve();
    }
    ui.status.textContent = t('report.loading');
    return CM.getJSON(reportURL('json')).then(function (d) {
      page.data = d && typeof d === 'object' ? d : {};
      page.error = null;
    }, function (err) {
      page.data = null;
      page.error = err;
      if (window.console) { console.warn('CivicMap: report', err.message); }
    }).then(render);
  }

  function loadRegions() {
    return CM.getJSON('/collections/regions/items?limit=100&f=json').then(function (fc) {
      regions = (fc.features || []).filter(function (f) { return f && f.properties && regionKey(f); });
      regions.forEach(function (f) {
        regionByKey[regionKey(f)] = f;
        if (f.properties.code) { regionByKey[f.properties.code] = regionByKey[f.properties.code] || f; }
      });
      fillRegions();
      if (!page.data) { renderHead(); }
    }, function (err) {
      if (window.console) { console.warn('CivicMap: regions', err.message); }
    });
  }

  // ---------------------------------------------------------------- drawing the report

  function render() {
    renderHead();
    ui.content.textContent = '';
    ui.status.textContent = '';
    if (page.error) {
      ui.content.appendChild(errorBox(page.error));
      return;
    }
    var d = page.data;
    if (!d) { return; }
    syncForm(d.parameters);
    [totalsSection, kindsSection, distancesSection, mostRemoteSection, coverageSection].forEach(function (fn) {
      ui.content.appendChild(fn(d));
    });
  }

  var PARAM_LABELS = {
    threshold_km: 'report.form.threshold', coverage_radius_km: 'report.form.radius', kind: 'report.form.kinds',
    top: 'report.param.top', region: 'report.form.region'
  };

  /** What went wrong, in the page's language (CM.problemKind: by the problem's type, else by the
   *  HTTP status, or no connection). null when nothing more than the title can be said. */
  function problemKey(err) {
    var kind = CM.problemKind(err);
    return kind ? 'report.problem.' + kind : null;
  }

  function own(table, key) { return Object.prototype.hasOwnProperty.call(table, key); }

  /** The server's own words (English) as secondary text, marked as English for screen readers. */
  function serverWords(text) {
    return el('span', { class: 'cm-report__error-server', text: String(text), attrs: { lang: 'en' } });
  }

  function errorBox(err) {
    var key = problemKey(err);
    var params = (Array.isArray(err.invalidParams) ? err.invalidParams : []).filter(Boolean);
    var box = el('div', { class: 'cm-report__error', attrs: { role: 'alert', 'data-problem': err.type || String(err.status || '') } }, [
      el('p', { class: 'cm-report__error-title', text: t('report.error') }),
      key ? el('p', { class: 'cm-report__error-message', text: t(key, { region: page.region, status: err.status }) }) : null
    ]);
    if (params.length) {
      box.appendChild(el('ul', {}, params.map(function (ip) {
        var name = String(ip.name || '');
        return el('li', {}, [
          el('span', { text: own(PARAM_LABELS, name) ? t(PARAM_LABELS[name]) : name }),
          ip.reason ? ': ' : null,
          ip.reason ? serverWords(ip.reason) : null
        ]);
      })));
    } else if (err.detail) {
      box.appendChild(el('p', { class: 'cm-report__error-detail' }, [t('report.problem.detail') + ' ', serverWords(err.detail)]));
    }
    return box;
  }

  function renderHead() {
    var d = page.data || {};
    var r = d.region || null;
    var listed = regionByKey[page.region];
    var name = r ? regionName(r) : listed ? regionName(listed.properties) : '';
    ui.title.textContent = name || page.region || t('report.kicker');
    document.title = name || page.region ? t('report.title', { name: name || page.region }) : t('report.title.empty');

    var centreName = r ? String((CM.lang === 'en' && r.centre_name_en) || r.centre_name || '') : '';
    var c = r && r.centre;
    if (centreName && c && num(c.lat) != null && num(c.lon) != null) {
      ui.centre.textContent = t('report.centre.at', {
        name: centreName,
        lat: t(c.lat >= 0 ? 'coord.n' : 'coord.s', { v: CM.formatNumber(Math.abs(c.lat), 3) }),
        lon: t(c.lon >= 0 ? 'coord.e' : 'coord.w', { v: CM.formatNumber(Math.abs(c.lon), 3) })
      });
    } else {
      ui.centre.textContent = centreName ? t('report.centre', { name: centreName }) : '';
    }
    ui.centre.hidden = !ui.centre.textContent;

    var pp = d.parameters;
    ui.paramsLine.textContent = pp ? t('report.params', {
      threshold: km(pp.threshold_km),
      radius: km(pp.coverage_radius_km),
      kinds: (Array.isArray(pp.kinds) ? pp.kinds : []).map(function (k) { return kindLabel({ kind: k }); }).join(', ')
    }) : '';
    ui.paramsLine.hidden = !ui.paramsLine.textContent;
    ui.generated.textContent = d.generated_at ? t('report.generated', { date: CM.formatDateTime(d.generated_at) }) : '';
    ui.generated.hidden = !ui.generated.textContent;
  }

  function section(id, headingKey, children) {
    var hid = 'cm-report-' + id + '-heading';
    return el('section', {
      class: 'cm-report__section cm-report__section--' + id, id: 'cm-report-' + id, attrs: { 'aria-labelledby': hid }
    }, [el('h2', { class: 'cm-report__h2', id: hid, text: t(headingKey) })].concat(children));
  }

  function stat(label, value, key, extra) {
    return el('div', { class: 'cm-stat' + (extra ? ' ' + extra : '') }, [
      el('dt', { class: 'cm-stat__label', text: label }),
      el('dd', { class: 'cm-stat__value', text: value, attrs: key ? { 'data-total': key } : null })
    ]);
  }

  /** A table: caption, column heads (numeric columns right-aligned), rows of cells; a cell is a
   *  string or a node; the first cell of a row is its header. Wrapped to scroll sideways on phones. */
  function table(cls, caption, heads, rows, foot) {
    var numeric = heads.map(function (h) { return h.num; });
    var cell = function (tag, v, i, scope) {
      var c = el(tag, { class: numeric[i] ? 'cm-num' : null, attrs: scope ? { scope: scope } : null });
      if (v instanceof Node) { c.appendChild(v); } else { c.textContent = v == null ? '' : String(v); }
      return c;
    };
    var row = function (cells) {
      return el('tr', {}, cells.map(function (v, i) { return cell(i === 0 ? 'th' : 'td', v, i, i === 0 ? 'row' : null); }));
    };
    return el('div', { class: 'cm-table-wrap' }, [el('table', { class: 'cm-table ' + cls }, [
      el('caption', { text: caption }),
      el('thead', {}, [el('tr', {}, heads.map(function (h, i) { return cell('th', h.text, i, 'col'); }))]),
      el('tbody', {}, rows.map(row)),
      foot ? el('tfoot', {}, [row(foot)]) : null
    ])]);
  }

  function totalsSection(d) {
    var tt = d.totals || {};
    var thr = (d.parameters || {}).threshold_km;
    return section('totals', 'report.totals.heading', [
      el('dl', { class: 'cm-stats' }, [
        stat(t('report.totals.organizations'), count(tt.organizations), 'organizations'),
        stat(t('report.totals.remote', { km: km(thr) }), count(tt.remote), 'remote', 'cm-stat--remote'),
        stat(t('report.totals.share'), share(tt.remote_share), 'remote_share', 'cm-stat--remote')
      ]),
      el('p', { class: 'cm-note', text: t('report.totals.note') })
    ]);
  }

  function kindsSection(d) {
    var rows = (Array.isArray(d.by_kind) ? d.by_kind : []).filter(function (r) { return r && r.kind; });
    if (!rows.length) { return section('kinds', 'report.kinds.heading', [el('p', { class: 'cm-note', text: t('report.kinds.empty') })]); }
    var tt = d.totals || {};
    return section('kinds', 'report.kinds.heading', [
      kindChart(rows),
      table('cm-table--kinds', t('report.kinds.caption'), [
        { text: t('report.col.kind') }, { text: t('report.col.organizations'), num: true },
        { text: t('report.col.remote'), num: true }, { text: t('report.col.share'), num: true }
      ], rows.map(function (r) {
        return [kindLabel(r), count(r.organizations), count(r.remote), share(r.remote_share)];
      }), [t('report.col.total'), count(tt.organizations), count(tt.remote), share(tt.remote_share)])
    ]);
  }

  function distancesSection(d) {
    var dist = d.distances || {};
    var bins = (Array.isArray(dist.bins) ? dist.bins : []).filter(function (b) { return b && num(b.from_km) != null && num(b.to_km) != null; });
    var thr = (d.parameters || {}).threshold_km;
    var children = [histogram(d, bins, thr)];
    if (!bins.length) { children.push(el('p', { class: 'cm-note', text: t('report.dist.empty') })); }
    children.push(el('dl', { class: 'cm-stats cm-stats--small' }, [
      stat(t('report.stats.median'), km(dist.median_km), 'median_km'),
      stat(t('report.stats.p90'), km(dist.p90_km), 'p90_km'),
      stat(t('report.stats.max'), km(dist.max_km), 'max_km'),
      stat(t('report.stats.mean'), km(dist.mean_km), 'mean_km')
    ]));
    if (bins.length) {
      children.push(el('details', { class: 'cm-report__details' }, [
        el('summary', { text: t('report.dist.table') }),
        table('cm-table--bins', t('report.dist.caption'), [
          { text: t('report.col.range') }, { text: t('report.col.count'), num: true }
        ], bins.map(function (b) {
          return [CM.formatNumber(b.from_km, 0) + '–' + CM.formatNumber(b.to_km, 0), count(b.organizations)];
        }))
      ]));
    }
    return section('distances', 'report.dist.heading', children);
  }

  function mostRemoteSection(d) {
    var rows = (Array.isArray(d.most_remote) ? d.most_remote : []).filter(Boolean);
    if (!rows.length) { return section('remote', 'report.remote.heading', [el('p', { class: 'cm-note', text: t('report.remote.none') })]); }
    return section('remote', 'report.remote.heading', [
      table('cm-table--remote', t('report.remote.caption', { n: CM.formatNumber(rows.length, 0) }), [
        { text: t('report.col.rank'), num: true }, { text: t('report.col.name') }, { text: t('report.col.kind') },
        { text: t('report.col.settlement') }, { text: t('report.col.distance'), num: true }
      ], rows.map(function (o, i) {
        var name = String(o.name || '');
        var cellName = num(o.lat) != null && num(o.lon) != null
          ? el('a', { href: mapURL(o.lat, o.lon), text: name, class: 'cm-report__maplink' })
          : name;
        return [CM.formatNumber(i + 1, 0), cellName, kindName(o.kind), String(o.settlement || ''), km(o.distance_to_center_km)];
      }))
    ]);
  }

  function coverageSection(d) {
    var c = d.coverage || {};
    var of = function (n, whole) {
      if (num(n) == null) { return t('report.none'); }
      if (!(num(whole) > 0)) { return CM.formatNumber(n, 0); }
      return t('report.cov.with_share', { n: CM.formatNumber(n, 0), share: CM.formatPercent(n / whole) });
    };
    var children = [
      el('p', { class: 'cm-note', text: t('report.cov.intro', { km: km(c.radius_km) }) }),
      el('dl', { class: 'cm-stats' }, [
        stat(t('report.cov.settlements'), count(c.settlements), 'settlements'),
        stat(t('report.cov.covered'), of(c.covered, c.settlements), 'covered'),
        stat(t('report.cov.uncovered'), of(c.uncovered, c.settlements), 'uncovered', 'cm-stat--remote'),
        stat(t('report.cov.population'), count(c.population), 'population'),
        stat(t('report.cov.uncovered_population'), of(c.uncovered_population, c.population), 'uncovered_population', 'cm-stat--remote')
      ])
    ];
    var places = (Array.isArray(c.uncovered_places) ? c.uncovered_places : []).filter(Boolean);
    if (places.length) {
      children.push(table('cm-table--places', t('report.cov.places.caption'), [
        { text: t('report.col.rank'), num: true }, { text: t('report.col.place') },
        { text: t('report.col.population'), num: true }, { text: t('report.col.nearest'), num: true }
      ], places.map(function (pl, i) {
        return [
          CM.formatNumber(i + 1, 0), String(pl.name || ''),
          num(pl.population) > 0 ? CM.formatNumber(pl.population, 0) : t('report.unknown'),
          km(pl.nearest_km)
        ];
      })));
      if (places.some(function (pl) { return num(pl.nearest_km) == null; })) {
        children.push(el('p', { class: 'cm-note', text: t('report.cov.nearest.none') }));
      }
      if (num(c.uncovered) > places.length) {
        children.push(el('p', { class: 'cm-note', text: t('report.cov.places.more', { shown: CM.formatNumber(places.length, 0), total: CM.formatNumber(c.uncovered, 0) }) }));
      }
    } else if (num(c.uncovered) === 0) {
      children.push(el('p', { class: 'cm-note', text: t('report.cov.places.none') }));
    }
    return section('coverage', 'report.cov.heading', children);
  }

  // ---------------------------------------------------------------- charts (SVG)

  /** An SVG element; attrs are set with setAttribute (presentation attributes are CSP-safe). */
  function svg(tag, attrs, children) {
    var e = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] != null) { e.setAttribute(k, String(attrs[k])); }
    });
    (children || []).forEach(function (c) {
      if (c == null) { return; }
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }

  /** The chart's frame: role="img" named by its <title>, described by its <desc> (the numbers
   *  in words; the tables next to the charts hold them too). */
  function chart(cls, width, height, title, desc) {
    var id = 'cm-chart-' + (++uid);
    return svg('svg', {
      class: 'cm-chart ' + cls, viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      'aria-labelledby': id + '-title', 'aria-describedby': id + '-desc', preserveAspectRatio: 'xMidYMid meet'
    }, [
      svg('title', { id: id + '-title' }, [title]),
      svg('desc', { id: id + '-desc' }, [desc])
    ]);
  }

  /** 1, 2 or 5 × 10^k: a step giving about target ticks over range. */
  function niceStep(range, target) {
    if (!(range > 0)) { return 1; }
    var raw = range / target;
    var pow = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var f = raw / pow;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
  }

  function r1(x) { return Math.round(x * 10) / 10; }

  /** Charts are drawn in user units as wide as the page shows them (340…640), so their text keeps
   *  its size on phones; printing scales them to the paper. */
  function chartWidth() {
    var w = ui.content.clientWidth - 40;
    return Math.max(340, Math.min(640, Math.round(w > 0 ? w : 640)));
  }

  /** Up to two lines of about maxChars each (long kind names under narrow bars). */
  function labelLines(text, maxChars) {
    if (text.length <= maxChars) { return [text]; }
    var words = text.split(/\s+/), first = '';
    while (words.length > 1 && (first + ' ' + words[0]).trim().length <= maxChars) { first = (first + ' ' + words.shift()).trim(); }
    if (!first) { first = words.shift(); }
    return [first, words.join(' ')].filter(Boolean);
  }

  /** Horizontal grid lines and counts on the left axis, 0…top. */
  function yAxis(g, top, step, box) {
    for (var v = 0; v <= top + 1e-9; v += step) {
      var y = r1(box.y(v));
      g.appendChild(svg('line', { class: v === 0 ? 'cm-chart__axis' : 'cm-chart__grid', x1: box.left, x2: box.right, y1: y, y2: y }));
      g.appendChild(svg('text', { class: 'cm-chart__tick', x: box.left - 6, y: y + 4, 'text-anchor': 'end' }, [CM.formatNumber(v, 0)]));
    }
  }

  function legendItem(x, y, cls, label) {
    return svg('g', { class: 'cm-chart__legend' }, [
      svg('rect', { class: cls, x: x, y: y - 10, width: 12, height: 12, rx: 2 }),
      svg('text', { class: 'cm-chart__legend-text', x: x + 17, y: y }, [label])
    ]);
  }

  /** Grouped bars: per kind, all organisations and the remote ones. */
  function kindChart(rows) {
    var W = chartWidth(), H = 280, box = { left: 48, right: W - 12, top: 40, bottom: H - 44 };
    var max = 1;
    rows.forEach(function (r) { max = Math.max(max, num(r.organizations) || 0, num(r.remote) || 0); });
    var step = Math.max(1, niceStep(max, 4));
    var top = Math.ceil(max / step) * step;
    box.y = function (v) { return box.bottom - (box.bottom - box.top) * v / top; };
    var desc = rows.map(function (r) {
      return t('report.kinds.chart.item', { kind: kindLabel(r), all: count(r.organizations), remote: count(r.remote) });
    }).join('; ') + '.';
    var s = chart('cm-kindchart', W, H, t('report.kinds.chart.title'), desc);
    var g = svg('g', { 'aria-hidden': 'true' });
    s.appendChild(g);
    yAxis(g, top, step, box);
    g.appendChild(legendItem(box.left, 18, 'cm-chart__swatch cm-chart__bar--all', t('report.chart.all')));
    g.appendChild(legendItem(box.left + 110, 18, 'cm-chart__swatch cm-chart__bar--remote', t('report.chart.remote')));
    var groupW = (box.right - box.left) / rows.length;
    var barW = Math.min(64, groupW * 0.32), gap = 6;
    rows.forEach(function (r, i) {
      var cx = box.left + groupW * (i + 0.5);
      var label = kindLabel(r);
      [['all', num(r.organizations) || 0, cx - gap / 2 - barW], ['remote', num(r.remote) || 0, cx + gap / 2]].forEach(function (b) {
        var y = box.y(b[1]);
        g.appendChild(svg('rect', {
          class: 'cm-chart__bar cm-chart__bar--' + b[0], x: r1(b[2]), y: r1(y), width: r1(barW), height: r1(box.bottom - y)
        }, [svg('title', {}, [t('report.chart.bar', { label: label, series: t('report.chart.' + b[0]), n: CM.formatNumber(b[1], 0) })])]));
        g.appendChild(svg('text', { class: 'cm-chart__value', x: r1(b[2] + barW / 2), y: r1(y - 5), 'text-anchor': 'middle' }, [CM.formatNumber(b[1], 0)]));
      });
      var lines = labelLines(label, Math.max(6, Math.floor(groupW / 7.5)));
      g.appendChild(svg('text', { class: 'cm-chart__label', x: r1(cx), y: box.bottom + 18, 'text-anchor': 'middle' }, lines.map(function (line, k) {
        return svg('tspan', { x: r1(cx), dy: k ? 15 : 0 }, [line]);
      })));
    });
    return s;
  }

  /** Organisations by distance to the centre: one bar per bin, the bins at or beyond the
   *  threshold in the remote colour, and a line at the threshold. */
  function histogram(d, bins, thr) {
    var W = chartWidth(), H = 300, box = { left: 48, right: W - 16, top: 34, bottom: H - 52 };
    var dist = d.distances || {}, tt = d.totals || {};
    var xMax = 0, yMaxCount = 1;
    bins.forEach(function (b) { xMax = Math.max(xMax, b.to_km); yMaxCount = Math.max(yMaxCount, num(b.organizations) || 0); });
    if (num(thr) != null) { xMax = Math.max(xMax, thr); }
    if (!(xMax > 0)) { xMax = num(dist.bin_km) || 25; }
    var step = Math.max(1, niceStep(yMaxCount, 4));
    var top = Math.ceil(yMaxCount / step) * step;
    box.y = function (v) { return box.bottom - (box.bottom - box.top) * v / top; };
    var x = function (k) { return box.left + (box.right - box.left) * k / xMax; };

    var organizations = num(tt.organizations) || 0, remote = num(tt.remote) || 0;
    var desc = t('report.dist.chart.desc', {
      bin: km(dist.bin_km), max: km(bins.length ? bins[bins.length - 1].to_km : 0), threshold: km(thr),
      near: t('list.count', { n: Math.max(0, organizations - remote) }), far: t('list.count', { n: remote })
    });
    if (num(dist.median_km) != null) { desc += ' ' + t('report.stats.median') + ': ' + km(dist.median_km) + '.'; }
    var s = chart('cm-hist', W, H, t('report.dist.chart.title'), desc);
    var g = svg('g', { 'aria-hidden': 'true' });
    s.appendChild(g);
    yAxis(g, top, step, box);

    var bars = svg('g', { class: 'cm-hist__bars' });
    g.appendChild(bars);
    bins.forEach(function (b) {
      var n = num(b.organizations) || 0;
      var x0 = x(b.from_km), x1 = x(b.to_km), y = box.y(n);
      var far = num(thr) != null && b.from_km >= thr - 1e-9;
      var w = Math.max(0.5, x1 - x0 - (x1 - x0 > 4 ? 1 : 0));
      bars.appendChild(svg('rect', {
        class: 'cm-hist__bar' + (far ? ' cm-hist__bar--remote' : ''), x: r1(x0), y: r1(y), width: r1(w), height: r1(box.bottom - y)
      }, [svg('title', {}, [t('report.dist.bar', {
        from: CM.formatNumber(b.from_km, 0), to: CM.formatNumber(b.to_km, 0), count: t('list.count', { n: n })
      })])]));
      if (n > 0 && x1 - x0 >= 18) {
        g.appendChild(svg('text', { class: 'cm-chart__value', x: r1((x0 + x1) / 2), y: r1(y - 4), 'text-anchor': 'middle' }, [CM.formatNumber(n, 0)]));
      }
    });

    var xStep = niceStep(xMax, W < 480 ? 4 : 6);
    for (var v = 0; v <= xMax + 1e-9; v += xStep) {
      var xv = r1(x(v));
      g.appendChild(svg('line', { class: 'cm-chart__axis', x1: xv, x2: xv, y1: box.bottom, y2: box.bottom + 5 }));
      g.appendChild(svg('text', { class: 'cm-chart__tick', x: xv, y: box.bottom + 19, 'text-anchor': 'middle' }, [CM.formatNumber(v, 0)]));
    }
    g.appendChild(svg('text', { class: 'cm-chart__axis-title', x: r1((box.left + box.right) / 2), y: H - 8, 'text-anchor': 'middle' }, [t('report.dist.axis.x')]));
    g.appendChild(svg('text', { class: 'cm-chart__axis-title', x: box.left - 40, y: box.top - 16, 'text-anchor': 'start' }, [t('report.dist.axis.y')]));

    if (num(thr) != null && thr >= 0 && thr <= xMax) {
      var xt = r1(x(thr));
      g.appendChild(svg('line', { class: 'cm-hist__threshold', x1: xt, x2: xt, y1: box.top - 8, y2: box.bottom }));
      var right = xt > box.right - 110;
      g.appendChild(svg('text', {
        class: 'cm-hist__threshold-label', x: right ? xt - 5 : xt + 5, y: box.top - 1, 'text-anchor': right ? 'end' : 'start'
      }, [t('report.dist.threshold', { km: km(thr) })]));
    }
    return s;
  }

  // ---------------------------------------------------------------- language

  function applyLanguage() {
    document.documentElement.lang = CM.lang;
    CM.translate(document.body);
    document.querySelectorAll('.cm-langswitch').forEach(function (b) {
      b.setAttribute('hreflang', CM.lang === 'ru' ? 'en' : 'ru');
      b.setAttribute('lang', CM.lang === 'ru' ? 'en' : 'ru');
    });
    document.querySelectorAll('a.cm-maplink').forEach(function (a) { a.href = CM.url(CM.lang === 'en' ? '/?lang=en' : '/'); });
  }

  function switchLanguage() {
    CM.lang = CM.lang === 'ru' ? 'en' : 'ru';
    applyLanguage();
    if (regions.length) { fillRegions(); }
    if (page.data || page.error) { render(); } else { renderHead(); }
    if (ui.formNote.textContent) { ui.formNote.hidden = true; ui.formNote.textContent = ''; }
    var p = new URLSearchParams(location.search);
    if (CM.lang === 'en') { p.set('lang', 'en'); } else { p.delete('lang'); }
    var qs = CM.query(p);
    try { history.replaceState(null, '', location.pathname + (qs ? '?' + qs : '')); } catch (e) { /* ignore */ }
  }

  // ---------------------------------------------------------------- start

  function start() {
    readURL();
    build();
    applyLanguage();
    renderHead();
    setBusy(true);
    document.querySelectorAll('.cm-langswitch').forEach(function (b) {
      b.addEventListener('click', function (e) { e.preventDefault(); switchLanguage(); });
    });
    Promise.all([loadReport(), loadRegions()]).catch(function (err) {
      if (window.console) { console.error('CivicMap: report', err); }
    }).then(function () { setBusy(false); });
  }

  start();
}());
