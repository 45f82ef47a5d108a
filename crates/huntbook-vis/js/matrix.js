/* huntbook charts: interaction matrices (x labels across, y labels down, a circle per
   pair seen). The view is a window of label positions on each axis: wheel zooms,
   drag pans, double-click goes back to the first view. */
huntbook.kinds.matrix = function (root, spec) {
  var hb = huntbook;
  var xl = spec.x_labels, yl = spec.y_labels, nx = xl.length, ny = yl.length, n = spec.x.length;
  var W = hb.width(root, spec.width), H = spec.height || 700;
  var FONT = 11, MIN_CELL = FONT + 2, COLOUR = hb.colour(0);

  var measure = hb.canvas(document.createElement("div"), 1, 1).ctx;
  function widest(labels) {
    var w = 0;
    for (var i = 0; i < labels.length && i < 2000; i++) w = Math.max(w, measure.measureText(labels[i]).width);
    return Math.ceil(w);
  }
  // Room for the labels: y labels on the left, x labels turned upright below; longer
  // labels are cut to fit (the tooltip has them whole).
  var yRoom = Math.min(150, widest(yl)), xRoom = Math.min(150, widest(xl));
  var left = yRoom + 26, bottom = xRoom + 34, top = 8, right = 12;
  var fitted = {};
  function fit(s, room) {
    var key = room + "|" + s;
    if (fitted[key] === undefined) {
      var t = s;
      if (measure.measureText(s).width > room) while (t.length > 1 && measure.measureText(t + "…").width > room) t = t.slice(0, -1);
      fitted[key] = t === s ? s : t + "…";
    }
    return fitted[key];
  }
  var note = hb.el("div", "hb-note", root);
  var main = hb.canvas(root, W, H), ctx = main.ctx, tip = hb.tip(root);
  var plotW = W - left - right, plotH = H - top - bottom;

  // The first view: everything, or as many labels as can be read from the start.
  var home = { x: [0, Math.min(nx, Math.max(1, Math.floor(plotW / MIN_CELL)))],
               y: [0, Math.min(ny, Math.max(1, Math.floor(plotH / MIN_CELL)))] };
  var vx = home.x.slice(), vy = home.y.slice();

  // Cell of each (x, y) pair, for hovering.
  var at = {};
  for (var i = 0; i < n; i++) at[spec.x[i] * ny + spec.y[i]] = i;

  function X(p) { return left + (p - vx[0]) / (vx[1] - vx[0]) * plotW; }
  function Y(p) { return top + (p - vy[0]) / (vy[1] - vy[0]) * plotH; }
  function inView(i) {
    var cx = spec.x[i] + 0.5, cy = spec.y[i] + 0.5;
    return cx >= vx[0] && cx <= vx[1] && cy >= vy[0] && cy <= vy[1];
  }

  // Every k-th label of an axis, so that labels never overlap.
  function labels(first, last, cell, draw) {
    var step = Math.max(1, Math.ceil(MIN_CELL / Math.max(cell, 1e-9)));
    for (var p = Math.ceil(first / step) * step; p < last; p += step) draw(p);
  }

  function axes() {
    var cw = plotW / (vx[1] - vx[0]), ch = plotH / (vy[1] - vy[0]);
    var x0 = Math.max(0, Math.floor(vx[0])), x1 = Math.min(nx, Math.ceil(vx[1]));
    var y0 = Math.max(0, Math.floor(vy[0])), y1 = Math.min(ny, Math.ceil(vy[1]));
    ctx.save(); ctx.beginPath(); ctx.rect(left, top, plotW, plotH); ctx.clip();
    ctx.strokeStyle = "#e8e8e8"; ctx.lineWidth = 1; ctx.beginPath();
    if (cw >= 4) for (var a = x0; a < x1; a++) { var gx = Math.round(X(a + 0.5)) + 0.5; ctx.moveTo(gx, top); ctx.lineTo(gx, top + plotH); }
    if (ch >= 4) for (var b = y0; b < y1; b++) { var gy = Math.round(Y(b + 0.5)) + 0.5; ctx.moveTo(left, gy); ctx.lineTo(left + plotW, gy); }
    ctx.stroke(); ctx.restore();
    ctx.strokeStyle = "#999"; ctx.strokeRect(left + 0.5, top + 0.5, plotW, plotH);
    ctx.fillStyle = "#333"; ctx.font = FONT + "px system-ui,sans-serif";
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    labels(y0, y1, ch, function (p) { var y = Y(p + 0.5); if (y >= top && y <= top + plotH) ctx.fillText(fit(yl[p], yRoom), left - 6, y); });
    labels(x0, x1, cw, function (p) {
      var x = X(p + 0.5); if (x < left || x > left + plotW) return;
      ctx.save(); ctx.translate(x, top + plotH + 6); ctx.rotate(-Math.PI / 2); ctx.fillText(fit(xl[p], xRoom), 0, 0); ctx.restore();
    });
    // Axis titles: the column names.
    ctx.font = "600 " + FONT + "px system-ui,sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.fillText(spec.x_column, left + plotW / 2, H - 2);
    ctx.save(); ctx.translate(12, top + plotH / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(spec.y_column, 0, 0); ctx.restore();
    ctx.font = FONT + "px system-ui,sans-serif";
    return Math.min(cw, ch);
  }

  var hover = -1;
  function draw() {
    ctx.clearRect(0, 0, W, H);
    var cell = axes(), room = Math.max(cell / 2 - 1, 1.5), marks = 0;
    ctx.save(); ctx.beginPath(); ctx.rect(left, top, plotW, plotH); ctx.clip();
    // The hovered cell's row and column, faintly: its labels are easy to follow.
    if (hover >= 0 && inView(hover)) {
      ctx.fillStyle = "rgba(0,0,0,0.05)";
      ctx.fillRect(X(spec.x[hover]), top, X(1) - X(0), plotH);
      ctx.fillRect(left, Y(spec.y[hover]), plotW, Y(1) - Y(0));
    }
    ctx.fillStyle = COLOUR; ctx.strokeStyle = COLOUR; ctx.globalAlpha = 0.65; ctx.beginPath();
    var crosses = [];
    for (var i = 0; i < n; i++) {
      if (!inView(i)) continue;
      marks++;
      var cx = X(spec.x[i] + 0.5), cy = Y(spec.y[i] + 0.5);
      var r = spec.intersect ? Math.min(room, 5) : Math.max(1.5, spec.size[i] * room);
      ctx.moveTo(cx + r, cy); ctx.arc(cx, cy, r, 0, 6.2832);
      if (spec.intersect) crosses.push(cx, cy, r);
    }
    ctx.fill(); ctx.globalAlpha = 1;
    if (crosses.length) {
      ctx.strokeStyle = "#fff"; ctx.beginPath();
      for (var k = 0; k < crosses.length; k += 3) {
        ctx.moveTo(crosses[k] - crosses[k + 2], crosses[k + 1]); ctx.lineTo(crosses[k] + crosses[k + 2], crosses[k + 1]);
        ctx.moveTo(crosses[k], crosses[k + 1] - crosses[k + 2]); ctx.lineTo(crosses[k], crosses[k + 1] + crosses[k + 2]);
      }
      ctx.stroke();
    }
    if (hover >= 0 && inView(hover)) {
      var hr = spec.intersect ? Math.min(room, 5) : Math.max(1.5, spec.size[hover] * room);
      ctx.strokeStyle = hb.alertColour; ctx.lineWidth = 2; ctx.beginPath();
      ctx.arc(X(spec.x[hover] + 0.5), Y(spec.y[hover] + 0.5), hr + 2, 0, 6.2832); ctx.stroke(); ctx.lineWidth = 1;
    }
    ctx.restore();
    var part = vx[1] - vx[0] < nx || vy[1] - vy[0] < ny;
    note.textContent = n + " pairs of " + nx + " " + spec.x_column + " × " + ny + " " + spec.y_column +
      " values; circle size: " + spec.value_name +
      (part ? ". Showing part: wheel to zoom, drag to move, double-click for the first view." : ". Wheel to zoom, drag to move.");
    hb.report(root, { marks: marks, view: [vx[0], vx[1], vy[0], vy[1]].join(",") });
  }

  // A window of at least one label and at most the whole axis, kept on the axis.
  function clampRange(r, count) {
    var w = Math.min(Math.max(r[1] - r[0], 1), Math.max(count, 1));
    var a = Math.max(0, Math.min(r[0], Math.max(count, 1) - w));
    return [a, a + w];
  }
  function setView(x, y) { vx = clampRange(x, nx); vy = clampRange(y, ny); draw(); }

  function pos(e) { var r = main.cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  function cellAt(px, py) {
    if (px < left || px > left + plotW || py < top || py > top + plotH) return -1;
    var cx = Math.floor(vx[0] + (px - left) / plotW * (vx[1] - vx[0]));
    var cy = Math.floor(vy[0] + (py - top) / plotH * (vy[1] - vy[0]));
    var i = at[cx * ny + cy];
    return i === undefined || cx < 0 || cy < 0 || cx >= nx || cy >= ny ? -1 : i;
  }

  var drag = null;
  main.cv.addEventListener("wheel", function (e) {
    e.preventDefault();
    var p = pos(e), k = Math.pow(1.2, e.deltaY / 100);
    var ax = vx[0] + (p[0] - left) / plotW * (vx[1] - vx[0]), ay = vy[0] + (p[1] - top) / plotH * (vy[1] - vy[0]);
    setView([ax - (ax - vx[0]) * k, ax + (vx[1] - ax) * k], [ay - (ay - vy[0]) * k, ay + (vy[1] - ay) * k]);
  }, { passive: false });
  main.cv.addEventListener("mousedown", function (e) { drag = { p: pos(e), x: vx.slice(), y: vy.slice() }; });
  window.addEventListener("mouseup", function () { drag = null; });
  main.cv.addEventListener("dblclick", function () { setView(home.x, home.y); });
  main.cv.addEventListener("mousemove", function (e) {
    var p = pos(e);
    if (drag) {
      var dx = (p[0] - drag.p[0]) / plotW * (drag.x[1] - drag.x[0]), dy = (p[1] - drag.p[1]) / plotH * (drag.y[1] - drag.y[0]);
      setView([drag.x[0] - dx, drag.x[1] - dx], [drag.y[0] - dy, drag.y[1] - dy]); tip.hide(); return;
    }
    var i = cellAt(p[0], p[1]);
    if (i !== hover) { hover = i; draw(); }
    if (i < 0) { tip.hide(); return; }
    tip.show(p[0] + main.cv.offsetLeft, p[1] + main.cv.offsetTop, [
      [spec.x_column, xl[spec.x[i]]], [spec.y_column, yl[spec.y[i]]], [spec.value_name, String(spec.value[i])]]);
  });
  main.cv.addEventListener("mouseleave", function () { tip.hide(); if (hover >= 0) { hover = -1; draw(); } });

  draw();
  return {
    // The label positions in view: {x: [from, to], y: [from, to]} (cell i spans [i, i + 1]).
    view: function () { return { x: vx.slice(), y: vy.slice() }; },
    setView: function (x, y) { setView(x, y); },
    reset: function () { setView(home.x, home.y); },
    // The cells whose centre is in view.
    visible: function () { var out = []; for (var i = 0; i < n; i++) if (inView(i)) out.push(i); return out; },
    // Where cell i is drawn, in canvas pixels.
    markAt: function (i) { return [X(spec.x[i] + 0.5), Y(spec.y[i] + 0.5)]; },
    plotArea: function () { return { left: left, top: top, width: plotW, height: plotH }; },
  };
};
