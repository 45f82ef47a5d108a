/* huntbook charts: the shared runtime. Defined once per page; every chart's HTML
   carries a copy so that it draws anywhere on its own. */
(function () {
  if (window.huntbook) return;
  var hb = (window.huntbook = { kinds: {} });

  // Okabe-Ito: distinguishable with the common colour-vision deficiencies. Yellow
  // is last: it is faint on white.
  hb.palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"];
  hb.colour = function (i) { return hb.palette[((i % 8) + 8) % 8]; };
  hb.alertColour = "#D55E00";

  // Class names start with hb-chart or are scoped under it: the charts also sit in
  // huntbook's exported reports, whose own classes start with hb-.
  var css =
    ".hb-chart{font:12px/1.35 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;background:#fff;position:relative;max-width:100%;overflow:hidden;padding:4px}" +
    ".hb-chart canvas{display:block;touch-action:none}" +
    ".hb-chart-title{font-weight:600;font-size:14px;margin:0 0 4px}" +
    ".hb-chart .hb-legend{display:flex;flex-wrap:wrap;gap:2px 12px;margin:2px 0 4px}" +
    ".hb-chart .hb-legend span{display:inline-flex;align-items:center;gap:4px;white-space:nowrap}" +
    ".hb-chart .hb-legend i{display:inline-block;width:10px;height:10px;border-radius:50%}" +
    ".hb-chart .hb-tip{position:absolute;pointer-events:none;background:#fff;border:1px solid #999;border-radius:3px;padding:4px 6px;box-shadow:0 1px 4px rgba(0,0,0,.2);max-width:420px;z-index:10;display:none;word-break:break-all}" +
    ".hb-chart .hb-tip b{font-weight:600}" +
    ".hb-chart .hb-bar{display:flex;gap:6px;align-items:center;margin:2px 0 4px}" +
    ".hb-chart .hb-bar input{font:inherit;padding:1px 4px}.hb-bar button{font:inherit}" +
    ".hb-chart .hb-note{color:#666}";

  function addStyle() {
    if (document.getElementById("hb-style")) return;
    var s = document.createElement("style");
    s.id = "hb-style";
    s.textContent = css;
    document.head.appendChild(s);
  }

  hb.el = function (tag, cls, parent, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  };

  // A canvas sized in CSS pixels, sharp on high-density screens.
  hb.canvas = function (parent, w, h) {
    var cv = hb.el("canvas", null, parent);
    var r = window.devicePixelRatio || 1;
    cv.width = Math.round(w * r);
    cv.height = Math.round(h * r);
    cv.style.width = w + "px";
    cv.style.height = h + "px";
    var ctx = cv.getContext("2d");
    ctx.scale(r, r);
    ctx.font = "11px system-ui,sans-serif";
    return { cv: cv, ctx: ctx, w: w, h: h };
  };

  // The width a chart gets: what it asks for, at most its container's.
  hb.width = function (root, wanted) {
    var room = root.parentElement ? root.parentElement.clientWidth : 0;
    return Math.max(320, room > 0 ? Math.min(wanted || 900, room) : wanted || 900);
  };

  // A dictionary-coded column ({dict, codes}) read row by row.
  hb.text = function (col, i) {
    var c = col.codes[i];
    return c < 0 ? "" : col.dict[c];
  };

  hb.tip = function (root) {
    var d = hb.el("div", "hb-tip", root);
    return {
      el: d,
      // rows: [[label, value], ...]; x, y relative to the root.
      show: function (x, y, rows) {
        d.textContent = "";
        rows.forEach(function (r) {
          var line = hb.el("div", null, d);
          hb.el("b", null, line, r[0] + ": ");
          line.appendChild(document.createTextNode(r[1]));
        });
        d.style.display = "block";
        var w = d.offsetWidth, rw = root.clientWidth;
        d.style.left = Math.max(0, Math.min(x + 12, rw - w - 4)) + "px";
        d.style.top = y + 14 + "px";
      },
      hide: function () { d.style.display = "none"; },
    };
  };

  // items: [{label, colour, square}]; title names what the colours mean.
  hb.legend = function (parent, items, title) {
    var l = hb.el("div", "hb-legend", parent);
    if (title) hb.el("b", null, l, title + ":");
    items.forEach(function (it) {
      var s = hb.el("span", null, l);
      var sw = hb.el("i", null, s);
      sw.style.background = it.colour;
      if (it.square) sw.style.borderRadius = "0";
      s.appendChild(document.createTextNode(it.label));
    });
    return l;
  };

  function pad(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
  // Times are shown in UTC, as the data is stored.
  hb.isoTime = function (ms) {
    var d = new Date(ms);
    var s = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    var frac = ms - Math.floor(ms / 1000) * 1000;
    return frac ? s + "." + pad(Math.round(frac), 3) : s;
  };

  var SEC = 1000, MIN = 60 * SEC, HOUR = 60 * MIN, DAY = 24 * HOUR;
  var STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, SEC, 2 * SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC, MIN,
    2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY,
    2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY];

  // Round instants between a and b (epoch ms), about `count` of them, with labels
  // as precise as the step needs.
  hb.timeTicks = function (a, b, count) {
    var span = Math.max(b - a, 1), step = STEPS[STEPS.length - 1];
    for (var i = 0; i < STEPS.length; i++) if (span / STEPS[i] <= count) { step = STEPS[i]; break; }
    var first = Math.ceil(a / step) * step, out = [];
    for (var t = first; t <= b && out.length < 200; t += step) {
      var iso = hb.isoTime(t);
      var label = step >= DAY ? iso.slice(0, 10) : step >= MIN ? iso.slice(5, 16) :
        step >= SEC ? iso.slice(11, 19) : iso.slice(11, 23);
      out.push({ v: t, label: label });
    }
    return out;
  };

  // Round numbers between a and b, about `count` of them.
  hb.ticks = function (a, b, count) {
    var span = Math.max(b - a, 1e-12), raw = span / Math.max(count, 1);
    var mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
    [1, 2, 5, 10].some(function (m) { step = m * mag; return raw <= step; });
    var out = [];
    for (var v = Math.ceil(a / step) * step; v <= b + step * 1e-9 && out.length < 100; v += step) {
      var r = Math.round(v / step) * step;
      out.push({ v: r, label: Math.abs(r) >= 1e6 || (Math.abs(r) < 1e-3 && r) ? r.toExponential(1) : String(+r.toPrecision(6)) });
    }
    return out;
  };

  // The chart's state that tests and scripts read: marks drawn, domain in view.
  hb.report = function (root, state) {
    Object.keys(state).forEach(function (k) { root.dataset[k] = state[k]; });
  };

  hb.render = function (id) {
    addStyle();
    var root = document.getElementById(id);
    var spec = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
    if (spec.title) hb.el("div", "hb-chart-title", root, spec.title);
    var draw = hb.kinds[spec.kind];
    if (!draw) { hb.el("div", "hb-note", root, "huntbook: no renderer for chart kind " + spec.kind); return; }
    root.hbChart = draw(root, spec);
    // When the first drawing was done, in ms since the page started loading.
    root.dataset.drawnAt = Math.round(performance.now());
  };
})();
