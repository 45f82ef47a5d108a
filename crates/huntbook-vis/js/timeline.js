/* huntbook charts: timelines (events in lanes, values over time, durations). */
huntbook.kinds.timeline = function (root, spec) {
  var hb = huntbook, mode = spec.mode, t0 = spec.t0;
  var W = hb.width(root, spec.width);
  var series = spec.series || [];
  var lanes = spec.lanes || [];
  var OVERLAY = "#555555";

  // Legend: lanes or colour values for events, series for values.
  if (spec.legend) {
    var items = [];
    if (mode === "events") {
      var labels = series.length && series[0].color ? spec.colors : lanes;
      labels.forEach(function (l, i) { items.push({ label: l, colour: hb.colour(i) }); });
      series.forEach(function (s) { if (s.overlay) items.push({ label: s.name, colour: OVERLAY, square: true }); });
    } else if (mode === "values" && series.length > 1) {
      series.forEach(function (s, i) { items.push({ label: s.name, colour: s.colour || hb.colour(i) }); });
    }
    if (items.length > 1 && items.length <= 60) hb.legend(root, items, mode === "events" ? spec.color_by : null);
  }

  // Where things go.
  var measure = hb.canvas(document.createElement("div"), 1, 1).ctx;
  var labelW = 0;
  lanes.forEach(function (l) { labelW = Math.max(labelW, measure.measureText(l).width); });
  var left = mode === "values" ? 56 : Math.min(180, Math.ceil(labelW) + 12), right = 12, top = 14, bottom = 26;
  var nRows = mode === "values" ? 1 : Math.max(lanes.length, 1);
  var H = spec.height || (mode === "values" ? 320 : Math.max(140, top + bottom + nRows * 26));
  var plotW = W - left - right, plotH = H - top - bottom, laneH = plotH / nRows;
  var main = hb.canvas(root, W, H), ctx = main.ctx;
  var range = spec.range_tool ? hb.canvas(root, W, 44) : null;
  var tip = hb.tip(root);

  // The whole time span, a little wider than the data.
  var lo = Infinity, hi = -Infinity;
  function span(arr) { for (var i = 0; i < arr.length; i++) { if (arr[i] < lo) lo = arr[i]; if (arr[i] > hi) hi = arr[i]; } }
  if (mode === "duration") { span(spec.start); span(spec.end); } else series.forEach(function (s) { span(s.t); });
  (spec.refs || []).forEach(function (r) { span([r.t]); });
  if (!isFinite(lo)) { lo = 0; hi = 1000; }
  var padT = Math.max((hi - lo) * 0.03, 500);
  var full = [lo - padT, hi + padT], dom = full.slice();

  // Values: the y range of every series (bars start from zero).
  var ylo = Infinity, yhi = -Infinity;
  if (mode === "values") {
    series.forEach(function (s) {
      s.y.forEach(function (v) { if (v != null) { if (v < ylo) ylo = v; if (v > yhi) yhi = v; } });
      if (s.kind === "vbar") { ylo = Math.min(ylo, 0); yhi = Math.max(yhi, 0); }
    });
    if (!isFinite(ylo)) { ylo = 0; yhi = 1; }
    var ypad = (yhi - ylo) * 0.06 || 1;
    // Bars stand on zero: no padding below it.
    if (ylo !== 0) ylo -= ypad;
    yhi += ypad;
  }

  function X(t) { return left + (t - dom[0]) / (dom[1] - dom[0]) * plotW; }
  function T(x) { return dom[0] + (x - left) / plotW * (dom[1] - dom[0]); }
  function Y(v) { return top + (1 - (v - ylo) / (yhi - ylo)) * plotH; }
  function laneY(l) { return top + (l + 0.5) * laneH; }
  // First index in sorted arr[a, b) whose value is >= v.
  function lower(arr, a, b, v) { while (a < b) { var m = (a + b) >> 1; if (arr[m] < v) a = m + 1; else b = m; } return a; }

  function axis() {
    ctx.strokeStyle = "#e4e4e4"; ctx.fillStyle = "#444"; ctx.lineWidth = 1;
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    hb.timeTicks(dom[0] + t0, dom[1] + t0, Math.max(2, plotW / 110)).forEach(function (k) {
      var x = Math.round(X(k.v - t0)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + plotH); ctx.stroke();
      // Labels at the edges stay inside the canvas.
      var half = ctx.measureText(k.label).width / 2;
      ctx.fillText(k.label, Math.min(Math.max(x, half), W - half), top + plotH + 6);
    });
    ctx.strokeStyle = "#999"; ctx.strokeRect(left + 0.5, top + 0.5, plotW, plotH);
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    if (mode === "values") {
      hb.ticks(ylo, yhi, Math.max(2, plotH / 50)).forEach(function (k) {
        var y = Math.round(Y(k.v)) + 0.5;
        ctx.strokeStyle = "#eee"; ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + plotW, y); ctx.stroke();
        ctx.fillText(k.label, left - 6, y);
      });
    } else {
      lanes.forEach(function (l, i) {
        if (i % 2) { ctx.fillStyle = "#f7f7f7"; ctx.fillRect(left + 1, top + i * laneH, plotW - 1, laneH); }
        ctx.fillStyle = "#333";
        ctx.fillText(l.length > 28 ? l.slice(0, 27) + "…" : l, left - 6, laneY(i));
      });
    }
  }

  function references() {
    (spec.refs || []).forEach(function (r, k) {
      var x = Math.round(X(r.t)) + 0.5;
      if (x < left || x > left + plotW) return;
      ctx.strokeStyle = r.alert ? hb.alertColour : "#777"; ctx.lineWidth = r.alert ? 2 : 1;
      ctx.setLineDash(r.alert ? [] : [4, 3]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + plotH); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = ctx.strokeStyle; ctx.textAlign = "left"; ctx.textBaseline = "top";
      if (r.alert) { ctx.beginPath(); ctx.moveTo(x - 5, top); ctx.lineTo(x + 5, top); ctx.lineTo(x, top + 7); ctx.fill(); }
      // Labels step down so that lines close together stay readable.
      ctx.fillText(r.label, x + 4, top + 2 + (k % 4) * 13);
    });
    ctx.lineWidth = 1;
  }

  // Marks are gathered by colour and filled as one path per colour: one fill call
  // for thousands of points keeps a 100k-event redraw quick.
  function paint(groups, shape) {
    Object.keys(groups).forEach(function (c) {
      var pts = groups[c];
      ctx.fillStyle = c; ctx.globalAlpha = 0.75; ctx.beginPath();
      for (var i = 0; i < pts.length; i += 2) {
        if (shape === "square") ctx.rect(pts[i] - 3, pts[i + 1] - 3, 6, 6);
        else if (shape === "dot") { ctx.moveTo(pts[i] + 2.5, pts[i + 1]); ctx.arc(pts[i], pts[i + 1], 2.5, 0, 6.2832); }
        else { ctx.moveTo(pts[i] + 4, pts[i + 1]); ctx.arc(pts[i], pts[i + 1], 4, 0, 6.2832); }
      }
      ctx.fill(); ctx.globalAlpha = 1;
    });
  }

  function drawEvents() {
    var marks = 0;
    series.forEach(function (s) {
      var groups = {}, dy = s.overlay ? laneH * 0.22 : 0;
      for (var l = 0; l < lanes.length; l++) {
        var a = lower(s.t, s.lane_start[l], s.lane_start[l + 1], dom[0]);
        var b = lower(s.t, a, s.lane_start[l + 1], dom[1] + 1e-9);
        var y = laneY(l) + dy;
        for (var i = a; i < b; i++) {
          var c = s.overlay ? OVERLAY : hb.colour(s.color ? s.color[i] : l);
          (groups[c] || (groups[c] = [])).push(X(s.t[i]), y);
        }
        marks += b - a;
      }
      paint(groups, s.overlay ? "square" : "circle");
    });
    return marks;
  }

  function drawValues() {
    var marks = 0;
    series.forEach(function (s, si) {
      var colour = s.colour || hb.colour(si), n = s.t.length;
      var a = lower(s.t, 0, n, dom[0]), b = lower(s.t, a, n, dom[1] + 1e-9);
      marks += b - a;
      ctx.fillStyle = ctx.strokeStyle = colour;
      if (s.kind === "line") {
        // One point either side keeps the line running to the edges.
        var from = Math.max(a - 1, 0), to = Math.min(b + 1, n), started = false;
        ctx.save(); ctx.beginPath(); ctx.rect(left, top, plotW, plotH); ctx.clip();
        ctx.lineWidth = 1.5; ctx.setLineDash(s.dashed ? [5, 4] : []); ctx.beginPath();
        for (var i = from; i < to; i++) {
          if (s.y[i] == null) { started = false; continue; }
          if (started) ctx.lineTo(X(s.t[i]), Y(s.y[i])); else { ctx.moveTo(X(s.t[i]), Y(s.y[i])); started = true; }
        }
        ctx.stroke(); ctx.restore();
        // Few points in view: mark each, so a series of one value still shows.
        if (b - a < 200) { var v = {}; v[colour] = []; for (var p = a; p < b; p++) if (s.y[p] != null) v[colour].push(X(s.t[p]), Y(s.y[p])); paint(v, "dot"); }
      } else if (s.kind === "vbar") {
        var bw = Math.max(1, Math.min(12, plotW / Math.max(b - a, 1) * 0.7)), y0 = Y(Math.max(ylo, Math.min(0, yhi)));
        for (var j = a; j < b; j++) if (s.y[j] != null) ctx.fillRect(X(s.t[j]) - bw / 2, Math.min(y0, Y(s.y[j])), bw, Math.abs(Y(s.y[j]) - y0) || 1);
      } else {
        var g = {}; g[colour] = [];
        for (var k = a; k < b; k++) if (s.y[k] != null) g[colour].push(X(s.t[k]), Y(s.y[k]));
        paint(g, "circle");
      }
    });
    return marks;
  }

  function drawDurations() {
    var marks = 0;
    for (var l = 0; l < lanes.length; l++) {
      if (spec.end[l] < dom[0] || spec.start[l] > dom[1]) continue;
      var x0 = Math.max(X(spec.start[l]), left), x1 = Math.min(X(spec.end[l]), left + plotW);
      ctx.fillStyle = hb.colour(l); ctx.globalAlpha = 0.8;
      ctx.fillRect(x0, laneY(l) - laneH * 0.3, Math.max(x1 - x0, 3), laneH * 0.6); ctx.globalAlpha = 1;
      marks++;
    }
    return marks;
  }

  function draw() {
    ctx.clearRect(0, 0, W, H);
    axis();
    ctx.save(); ctx.beginPath(); ctx.rect(left, top, plotW, plotH); ctx.clip();
    var marks = mode === "events" ? drawEvents() : mode === "values" ? drawValues() : drawDurations();
    ctx.restore();
    references();
    hb.report(root, { marks: marks, domain: (dom[0] + t0) + "," + (dom[1] + t0) });
    drawRange();
  }

  // The range selector: every event in small, and the window in view.
  var overview = null;
  function drawRange() {
    if (!range) return;
    var c = range.ctx, w = range.w, h = range.h;
    function RX(t) { return left + (t - full[0]) / (full[1] - full[0]) * plotW; }
    if (!overview) {
      overview = document.createElement("canvas");
      overview.width = range.cv.width; overview.height = range.cv.height;
      var o = overview.getContext("2d"), r = window.devicePixelRatio || 1;
      o.scale(r, r); o.fillStyle = "#888"; o.globalAlpha = 0.6;
      var rowH = (h - 8) / nRows;
      if (mode === "duration") lanes.forEach(function (_, l) { o.fillRect(RX(spec.start[l]), 4 + l * rowH, Math.max(RX(spec.end[l]) - RX(spec.start[l]), 1), Math.max(rowH, 1)); });
      else series.forEach(function (s) {
        for (var l = 0; l < nRows; l++) {
          var a = mode === "events" ? s.lane_start[l] : 0, b = mode === "events" ? s.lane_start[l + 1] : s.t.length;
          for (var i = a; i < b; i++) o.fillRect(RX(s.t[i]), 4 + l * rowH, 1, Math.max(rowH, 1));
        }
      });
    }
    c.clearRect(0, 0, w, h);
    c.drawImage(overview, 0, 0, w, h);
    c.strokeStyle = "#999"; c.strokeRect(left + 0.5, 0.5, plotW, h - 1);
    var b0 = RX(dom[0]), b1 = RX(dom[1]);
    c.fillStyle = "rgba(0,114,178,0.15)"; c.fillRect(b0, 0, b1 - b0, h);
    c.strokeStyle = "#0072B2"; c.strokeRect(b0 + 0.5, 0.5, Math.max(b1 - b0 - 1, 1), h - 1);
  }

  function setDomain(a, b) {
    if (!(b > a)) return;
    var minSpan = 10, width = Math.max(b - a, minSpan);
    dom = [a, a + width];
    draw();
  }

  // Hover: the mark nearest the mouse, within a few pixels.
  function nearest(mx, my) {
    var best = null, bestD = 8;
    function consider(d, row) { if (d < bestD) { bestD = d; best = row; } }
    var t = T(mx);
    if (mode === "events") {
      var l = Math.floor((my - top) / laneH);
      if (l < 0 || l >= lanes.length) return null;
      series.forEach(function (s, si) {
        var y = laneY(l) + (s.overlay ? laneH * 0.22 : 0);
        var i = lower(s.t, s.lane_start[l], s.lane_start[l + 1], t);
        [i - 1, i].forEach(function (j) {
          if (j >= s.lane_start[l] && j < s.lane_start[l + 1]) consider(Math.hypot(X(s.t[j]) - mx, y - my), { s: si, i: j, lane: l });
        });
      });
    } else if (mode === "values") {
      series.forEach(function (s, si) {
        var i = lower(s.t, 0, s.t.length, t);
        for (var j = Math.max(i - 3, 0); j < Math.min(i + 3, s.t.length); j++)
          if (s.y[j] != null) consider(Math.hypot(X(s.t[j]) - mx, Y(s.y[j]) - my) * (s.kind === "vbar" ? 0.1 : 1), { s: si, i: j });
      });
    } else {
      var ln = Math.floor((my - top) / laneH);
      if (ln >= 0 && ln < lanes.length && t >= spec.start[ln] - 8 * (dom[1] - dom[0]) / plotW && t <= spec.end[ln] + 8 * (dom[1] - dom[0]) / plotW) best = { lane: ln };
    }
    return best;
  }

  function describe(hit) {
    if (mode === "duration") {
      var l = hit.lane;
      return [["Group", lanes[l]], ["First", hb.isoTime(spec.start[l] + t0)], ["Last", hb.isoTime(spec.end[l] + t0)], ["Events", String(spec.count[l])]];
    }
    var s = series[hit.s], rows = [["Time", hb.isoTime(s.t[hit.i] + t0)]];
    if (mode === "events") {
      rows.push([spec.color_by || "Group", s.color ? spec.colors[s.color[hit.i]] : lanes[hit.lane]]);
      if (s.overlay) rows.push(["Data", s.name]);
    } else {
      rows.push([series.length > 1 ? s.name : spec.value_column, String(s.y[hit.i])]);
    }
    (s.tips || []).forEach(function (c) { rows.push([c.name, hb.text(c, hit.i)]); });
    return rows;
  }

  // Mouse: wheel zooms round the pointer, drag pans, double-click shows everything.
  var drag = null;
  function pos(e, cv) { var r = cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  main.cv.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = pos(e, main.cv), at = T(p[0]), k = Math.pow(1.2, e.deltaY / 100);
    setDomain(at - (at - dom[0]) * k, at + (dom[1] - at) * k);
  }, { passive: false });
  main.cv.addEventListener("mousedown", function (e) { drag = { x: pos(e, main.cv)[0], dom: dom.slice() }; });
  window.addEventListener("mouseup", function () { drag = null; rangeDrag = null; });
  main.cv.addEventListener("dblclick", function () { setDomain(full[0], full[1]); });
  main.cv.addEventListener("mousemove", function (e) {
    var p = pos(e, main.cv);
    if (drag) {
      var dt = (p[0] - drag.x) / plotW * (drag.dom[1] - drag.dom[0]);
      setDomain(drag.dom[0] - dt, drag.dom[1] - dt); tip.hide(); return;
    }
    var hit = nearest(p[0], p[1]);
    if (hit) tip.show(p[0] + main.cv.offsetLeft, p[1] + main.cv.offsetTop, describe(hit)); else tip.hide();
  });
  main.cv.addEventListener("mouseleave", function () { tip.hide(); });

  // The range selector: drag the window to move it, its edges to resize it, or
  // elsewhere to draw a new one.
  var rangeDrag = null;
  if (range) {
    var RT = function (x) { return full[0] + (x - left) / plotW * (full[1] - full[0]); };
    var RX = function (t) { return left + (t - full[0]) / (full[1] - full[0]) * plotW; };
    range.cv.addEventListener("mousedown", function (e) {
      var x = pos(e, range.cv)[0], b0 = RX(dom[0]), b1 = RX(dom[1]);
      if (Math.abs(x - b0) < 5) rangeDrag = { edge: 0 };
      else if (Math.abs(x - b1) < 5) rangeDrag = { edge: 1 };
      else if (x > b0 && x < b1) rangeDrag = { move: x, dom: dom.slice() };
      else rangeDrag = { from: RT(x) };
      e.preventDefault();
    });
    range.cv.addEventListener("mousemove", function (e) {
      if (!rangeDrag) return;
      var x = pos(e, range.cv)[0], t = RT(x);
      if (rangeDrag.edge === 0) setDomain(Math.min(t, dom[1] - 10), dom[1]);
      else if (rangeDrag.edge === 1) setDomain(dom[0], Math.max(t, dom[0] + 10));
      else if (rangeDrag.move != null) { var dt = RT(x) - RT(rangeDrag.move); setDomain(rangeDrag.dom[0] + dt, rangeDrag.dom[1] + dt); }
      else setDomain(Math.min(rangeDrag.from, t), Math.max(rangeDrag.from, t));
    });
  }

  draw();
  return {
    // Epoch milliseconds of the window in view.
    domain: function () { return [dom[0] + t0, dom[1] + t0]; },
    setDomain: function (a, b) { setDomain(a - t0, b - t0); },
    reset: function () { setDomain(full[0], full[1]); },
    plotArea: function () { return { left: left, top: top, width: plotW, height: plotH, laneHeight: laneH }; },
    // Where a row is drawn (events: series s, index i in its sorted order).
    markAt: function (s, i) {
      var sr = series[s];
      if (mode === "values") return [X(sr.t[i]), Y(sr.y[i])];
      var l = 0; while (sr.lane_start[l + 1] <= i) l++;
      return [X(sr.t[i]), laneY(l) + (sr.overlay ? laneH * 0.22 : 0)];
    },
  };
};
