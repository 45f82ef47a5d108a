/* huntbook charts: network and entity graphs (nodes laid out in Rust). */
huntbook.kinds.network = function (root, spec) {
  var hb = huntbook, N = spec.nodes, E = spec.edges, n = N.label.length, m = E.s.length;
  var W = hb.width(root, spec.width), H = spec.height || 700, PAD = 24;
  var kinds = spec.kinds || [];

  // Legend: only the kinds there are.
  var present = {};
  N.kind.forEach(function (k) { present[k] = true; });
  var items = kinds.map(function (k, i) { return { label: k, colour: hb.colour(i) }; })
    .filter(function (_, i) { return present[i]; });
  if (items.length > 1) hb.legend(root, items);
  var note = hb.el("div", "hb-note", root, n + " nodes, " + m + " edges" +
    (spec.dropped ? ", " + spec.dropped + " rows without both ends left out" : "") +
    ". Scroll to zoom, drag to pan, double-click to fit.");
  note.style.marginBottom = "2px";

  var c = hb.canvas(root, W, H), ctx = c.ctx, tip = hb.tip(root);
  var font = (spec.font_size || 10) + "px system-ui,sans-serif";

  // Neighbours by edge, and the order labels are tried in: best connected first.
  var adj = [], maxDeg = 1, i;
  for (i = 0; i < n; i++) { adj.push([]); if (N.degree[i] > maxDeg) maxDeg = N.degree[i]; }
  for (i = 0; i < m; i++) { adj[E.s[i]].push(i); if (E.t[i] !== E.s[i]) adj[E.t[i]].push(i); }
  var byDegree = N.label.map(function (_, j) { return j; });
  byDegree.sort(function (a, b) { return N.degree[b] - N.degree[a] || a - b; });
  var maxCount = 1;
  E.count.forEach(function (v) { if (v > maxCount) maxCount = v; });

  // The view: screen = layout * k + (tx, ty). The fit shows every node.
  var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (i = 0; i < n; i++) {
    x0 = Math.min(x0, N.x[i]); x1 = Math.max(x1, N.x[i]);
    y0 = Math.min(y0, N.y[i]); y1 = Math.max(y1, N.y[i]);
  }
  if (!n) { x0 = y0 = 0; x1 = y1 = 1; }
  // Labels go right of their nodes: the fit leaves them more room on the right.
  var LABEL_ROOM = Math.min(120, W / 6);
  var fitK = Math.min((W - 2 * PAD - LABEL_ROOM) / Math.max(x1 - x0, 1e-9), (H - 2 * PAD) / Math.max(y1 - y0, 1e-9), 150);
  var view = {};
  function fit() {
    view.k = fitK;
    view.tx = (W - LABEL_ROOM) / 2 - (x0 + x1) / 2 * fitK;
    view.ty = H / 2 - (y0 + y1) / 2 * fitK;
  }
  fit();
  function SX(j) { return N.x[j] * view.k + view.tx; }
  function SY(j) { return N.y[j] * view.k + view.ty; }

  // Radius by degree; shrunk while nodes are closer on screen than they are big,
  // back to full size when zoomed in.
  var base = (spec.node_size || 25) / 2;
  function radius(j) {
    var r = base * (0.35 + 0.65 * Math.sqrt(N.degree[j] / maxDeg));
    var shrink = Math.min(1, Math.max(0.2, view.k * 0.32 / (base * 0.35)));
    return Math.max(2, r * shrink);
  }
  // A node is in view (drawn and counted) when its centre is on the canvas.
  function inView(j) {
    var x = SX(j), y = SY(j);
    return x >= 0 && x <= W && y >= 0 && y <= H;
  }

  var hover = null; // {node: j} or {edge: e}
  function draw() {
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#ddd"; ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
    var focus = hover && hover.node != null ? hover.node : -1, near = {};
    if (focus >= 0) { near[focus] = true; adj[focus].forEach(function (e) { near[E.s[e]] = near[E.t[e]] = true; }); }
    var shown = [], drawnEdges = 0, e, j, r;
    for (j = 0; j < n; j++) if (inView(j)) shown.push(j);
    // Edges: those with an end in view, or crossing it.
    ctx.lineCap = "round";
    for (e = 0; e < m; e++) {
      var a = E.s[e], b = E.t[e];
      var ax = SX(a), ay = SY(a), bx = SX(b), by = SY(b);
      if (Math.max(ax, bx) < 0 || Math.min(ax, bx) > W || Math.max(ay, by) < 0 || Math.min(ay, by) > H) continue;
      drawnEdges++;
      var mine = focus >= 0 && (a === focus || b === focus), lit = hover && hover.edge === e;
      ctx.globalAlpha = focus >= 0 && !mine ? 0.08 : mine || lit ? 0.9 : 0.35;
      ctx.strokeStyle = mine || lit ? "#333" : "#888";
      ctx.lineWidth = (lit ? 2 : 0) + 0.8 + 2.2 * Math.log(E.count[e]) / Math.log(maxCount + 1);
      ctx.beginPath();
      if (a === b) { var o = loop(a); ctx.arc(o[0], o[1], o[2], 0, 6.2832); } else { ctx.moveTo(ax, ay); ctx.lineTo(bx, by); }
      ctx.stroke();
      if (spec.directed && a !== b) arrow(ax, ay, bx, by, radius(b));
    }
    ctx.globalAlpha = 1;
    // Nodes, one fill per kind and fading, biggest last so they stay on top.
    for (var s = 0; s < shown.length; s++) {
      j = shown[s]; r = radius(j);
      ctx.globalAlpha = focus >= 0 && !near[j] ? 0.2 : 1;
      ctx.fillStyle = hb.colour(N.kind[j]);
      ctx.beginPath(); ctx.arc(SX(j), SY(j), r, 0, 6.2832); ctx.fill();
      ctx.strokeStyle = j === focus ? "#000" : "#fff"; ctx.lineWidth = j === focus ? 2 : 1; ctx.stroke();
    }
    ctx.globalAlpha = 1;
    var labels = drawLabels(focus, near);
    hb.report(root, { marks: shown.length, edges: drawnEdges, labels: labels, zoom: view.k / fitK });
  }

  // A self-loop (rows from a node to itself): a small ring on the node's upper right.
  function loop(j) {
    var r = radius(j);
    return [SX(j) + r * 0.8, SY(j) - r * 0.8, r * 0.6 + 4];
  }

  function arrow(ax, ay, bx, by, r) {
    var d = Math.hypot(bx - ax, by - ay);
    if (d < r + 14) return;
    var ux = (bx - ax) / d, uy = (by - ay) / d, px = bx - ux * (r + 1), py = by - uy * (r + 1);
    ctx.fillStyle = ctx.strokeStyle; ctx.beginPath(); ctx.moveTo(px, py);
    ctx.lineTo(px - ux * 8 - uy * 4, py - uy * 8 + ux * 4); ctx.lineTo(px - ux * 8 + uy * 4, py - uy * 8 - ux * 4); ctx.fill();
  }

  // Labels where they fit: best-connected nodes first, each skipped if it would
  // overlap a label already drawn (checked on a coarse grid of the screen).
  function drawLabels(focus, near) {
    ctx.font = font; ctx.textBaseline = "middle"; ctx.textAlign = "left";
    // At most one label per 9,000 square pixels, so a dense fit stays a picture
    // and zooming in (fewer nodes in view) names more of them.
    var fs = spec.font_size || 10, cell = 40, taken = {}, count = 0, most = Math.max(20, W * H / 9000);
    function boxes(x, y, w) {
      var out = [];
      for (var gx = Math.floor(x / cell); gx <= Math.floor((x + w) / cell); gx++)
        for (var gy = Math.floor((y - fs) / cell); gy <= Math.floor((y + fs) / cell); gy++) out.push(gx + "," + gy);
      return out;
    }
    function fits(x, y, w, keys) {
      return keys.every(function (k) {
        return !(taken[k] || []).some(function (b) { return x < b[0] + b[2] && b[0] < x + w && Math.abs(y - b[1]) < fs + 2; });
      });
    }
    var order = focus >= 0 ? [focus].concat(byDegree.filter(function (j) { return near[j] && j !== focus; })).concat(byDegree) : byDegree;
    var done = {};
    for (var o = 0; o < order.length && (count < most || focus >= 0); o++) {
      var j = order[o];
      if (done[j]) continue;
      done[j] = true;
      var r = radius(j);
      if (!inView(j)) continue;
      var text = N.label[j].length > 32 ? N.label[j].slice(0, 31) + "…" : N.label[j];
      var x = SX(j) + r + 3, y = SY(j), w = ctx.measureText(text).width, keys = boxes(x, y, w);
      // The hovered node is always named; while one is hovered, only its neighbours.
      if (j !== focus && (!fits(x, y, w, keys) || (focus >= 0 && !near[j]))) continue;
      keys.forEach(function (k) { (taken[k] || (taken[k] = [])).push([x, y, w]); });
      ctx.fillStyle = "rgba(255,255,255,0.65)"; ctx.fillRect(x - 1, y - fs / 2 - 1, w + 2, fs + 2);
      ctx.fillStyle = "#222"; ctx.fillText(text, x, y);
      count++;
    }
    return count;
  }

  // What is under the mouse: a node within a few pixels of its disc, or else an
  // edge within a few pixels of its line.
  function find(mx, my) {
    var best = -1, bestD = Infinity, j;
    for (j = 0; j < n; j++) {
      var d = Math.hypot(SX(j) - mx, SY(j) - my) - radius(j);
      if (d < bestD) { bestD = d; best = j; }
    }
    if (best >= 0 && bestD <= 3) return { node: best };
    var edge = -1, edgeD = 5;
    for (var e = 0; e < m; e++) {
      var ax = SX(E.s[e]), ay = SY(E.s[e]), bx = SX(E.t[e]), by = SY(E.t[e]), dd;
      if (E.s[e] === E.t[e]) { var o = loop(E.s[e]); dd = Math.abs(Math.hypot(o[0] - mx, o[1] - my) - o[2]); }
      else {
        var dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
        var t = l2 ? Math.max(0, Math.min(1, ((mx - ax) * dx + (my - ay) * dy) / l2)) : 0;
        dd = Math.hypot(ax + t * dx - mx, ay + t * dy - my);
      }
      if (dd < edgeD) { edgeD = dd; edge = e; }
    }
    return edge >= 0 ? { edge: edge } : null;
  }

  function rows(cols, i, out) {
    (cols || []).forEach(function (col) { var v = hb.text(col, i); if (v !== "") out.push([col.name, v]); });
    return out;
  }
  function describe(hit) {
    if (hit.node != null) {
      var j = hit.node;
      return rows(N.tips, j, [["Name", N.label[j]], ["Kind", kinds[N.kind[j]]], ["Connections", String(N.degree[j])]]);
    }
    var e = hit.edge, join = spec.directed ? " → " : " – ";
    var out = [["Edge", N.label[E.s[e]] + join + N.label[E.t[e]]]];
    if (spec.mode !== "entities") out.push(["Count", String(E.count[e])]);
    return rows(E.tips, e, out);
  }

  function zoom(k, cx, cy) {
    var nk = Math.max(fitK * 0.5, Math.min(fitK * 200, view.k * k));
    view.tx = cx - (cx - view.tx) * nk / view.k;
    view.ty = cy - (cy - view.ty) * nk / view.k;
    view.k = nk;
    draw();
  }

  var drag = null;
  function pos(ev) { var b = c.cv.getBoundingClientRect(); return [ev.clientX - b.left, ev.clientY - b.top]; }
  c.cv.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var p = pos(ev);
    zoom(Math.pow(1.2, -ev.deltaY / 100), p[0], p[1]);
  }, { passive: false });
  c.cv.addEventListener("mousedown", function (ev) { var p = pos(ev); drag = { x: p[0], y: p[1], tx: view.tx, ty: view.ty }; });
  window.addEventListener("mouseup", function () { drag = null; });
  c.cv.addEventListener("dblclick", function () { fit(); draw(); });
  c.cv.addEventListener("mousemove", function (ev) {
    var p = pos(ev);
    if (drag) {
      view.tx = drag.tx + p[0] - drag.x; view.ty = drag.ty + p[1] - drag.y;
      tip.hide(); draw(); return;
    }
    var hit = find(p[0], p[1]);
    var same = hit && hover && hit.node === hover.node && hit.edge === hover.edge;
    if (!same && (hit || hover)) { hover = hit; draw(); }
    if (hit) tip.show(p[0] + c.cv.offsetLeft, p[1] + c.cv.offsetTop, describe(hit)); else tip.hide();
  });
  c.cv.addEventListener("mouseleave", function () { tip.hide(); if (hover) { hover = null; draw(); } });

  draw();
  return {
    // Where node i is drawn, in canvas pixels.
    nodeAt: function (j) { return [SX(j), SY(j)]; },
    edgeAt: function (e) { return [(SX(E.s[e]) + SX(E.t[e])) / 2, (SY(E.s[e]) + SY(E.t[e])) / 2]; },
    // Multiplies the zoom by k around the canvas point (cx, cy).
    zoom: zoom,
    setView: function (k, tx, ty) { view.k = k; view.tx = tx; view.ty = ty; draw(); },
    view: function () { return { k: view.k, tx: view.tx, ty: view.ty, fit: fitK }; },
    // Indexes of the nodes drawn in view.
    visibleNodes: function () {
      var out = [];
      for (var j = 0; j < n; j++) if (inView(j)) out.push(j);
      return out;
    },
    size: function () { return [W, H]; },
  };
};
