/* huntbook charts: maps. Points arrive projected (Web Mercator, 0..1 across the
   world); the view is a centre and a whole zoom level (the world is 256 * 2^zoom
   pixels wide, as with map tiles). Markers are clustered per zoom level on a grid of
   screen cells; a cluster shows its count and, in slices, its layers, and a click on
   it zooms in, where it splits. Tiles are drawn only when the spec names a tile URL:
   without one the map draws the world outline it carries and fetches nothing. */
huntbook.kinds.map = function (root, spec) {
  var hb = huntbook, S = spec.scale, n = spec.x.length;
  var W = hb.width(root, spec.width), H = spec.height || 500;
  var layers = spec.layers || null, layerOf = spec.layer || null;
  var MINZ = 0, MAXZ = 18, GRID = 64, CLUSTER_UNTIL = 16;
  var px = new Float64Array(n), py = new Float64Array(n);
  for (var i = 0; i < n; i++) { px[i] = spec.x[i] / S; py[i] = spec.y[i] / S; }
  var home = { z: spec.zoom, x: spec.centre[0], y: spec.centre[1] };
  var z = home.z, cx = home.x, cy = home.y, hidden = {};

  // Controls, legend (a click hides or shows a layer), the map, tooltip and popup.
  var bar = hb.el("div", "hb-bar", root);
  function button(label, title, act) { var b = hb.el("button", null, bar, label); b.title = title; b.onclick = act; return b; }
  button("+", "Zoom in", function () { zoomAt(W / 2, H / 2, z + 1); });
  button("−", "Zoom out", function () { zoomAt(W / 2, H / 2, z - 1); });
  button("Reset", "Back to the first view", function () { setView(home.z, home.x, home.y); });
  var note = hb.el("span", "hb-note", bar);
  var legendSpans = [];
  if (layers) {
    var legend = hb.legend(root, layers.map(function (l, k) { return { label: l || "(none)", colour: hb.colour(k) }; }), spec.layer_column);
    legendSpans = [].slice.call(legend.querySelectorAll("span"));
    legendSpans.forEach(function (s, k) {
      s.style.cursor = "pointer"; s.title = "Click to hide or show";
      s.onclick = function () { toggle(k); };
    });
  }
  var main = hb.canvas(root, W, H), ctx = main.ctx, tip = hb.tip(root), popup = hb.tip(root);

  function size() { return 256 * Math.pow(2, z); }
  function SX(x) { return (x - cx) * size() + W / 2; }
  function SY(y) { return (y - cy) * size() + H / 2; }
  function WX(sx) { return cx + (sx - W / 2) / size(); }
  function WY(sy) { return cy + (sy - H / 2) / size(); }

  // Markers of the current zoom level: a cluster per grid cell, or one per point when
  // clustering is off or the view is close enough. `layers` counts its points by layer.
  var clusterCache = {};
  function markers() {
    if (clusterCache[z]) return clusterCache[z];
    var out = [], cells = {}, s = size(), grouped = spec.cluster && z < CLUSTER_UNTIL;
    for (var i = 0; i < n; i++) {
      var l = layerOf ? layerOf[i] : 0;
      if (hidden[l]) continue;
      var one = {}; one[l] = 1;
      if (!grouped) { out.push({ x: px[i], y: py[i], count: 1, layers: one, rows: [i] }); continue; }
      var key = Math.floor(px[i] * s / GRID) + ":" + Math.floor(py[i] * s / GRID), c = cells[key];
      if (!c) { c = cells[key] = { x: 0, y: 0, count: 0, layers: {}, rows: [] }; out.push(c); }
      c.x += px[i]; c.y += py[i]; c.count++; c.rows.push(i); c.layers[l] = (c.layers[l] || 0) + 1;
    }
    if (grouped) out.forEach(function (c) { c.x /= c.count; c.y /= c.count; });
    return (clusterCache[z] = out);
  }
  function radius(c) { return c.count > 1 ? 11 + 3 * Math.log(c.count) / Math.LN10 : 5; }

  // Tiles, when configured: the tiles of this zoom level in view, each fetched once.
  var tiles = {}, pending = false;
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(function () { pending = false; draw(); }); } }
  function drawTiles() {
    var count = Math.pow(2, z);
    for (var tx = Math.floor(WX(0) * count); tx <= Math.floor(WX(W) * count); tx++) {
      for (var ty = Math.max(0, Math.floor(WY(0) * count)); ty <= Math.min(count - 1, Math.floor(WY(H) * count)); ty++) {
        var wrapped = ((tx % count) + count) % count, key = z + "/" + wrapped + "/" + ty, img = tiles[key];
        if (!img) {
          img = tiles[key] = new Image();
          img.onload = schedule;
          img.src = spec.tiles.replace("{z}", z).replace("{x}", wrapped).replace("{y}", ty).replace("{s}", "a");
        }
        if (img.complete && img.naturalWidth) ctx.drawImage(img, SX(tx / count), SY(ty / count), 256, 256);
      }
    }
  }

  function outline() {
    var w = spec.world, k = w.scale;
    ctx.beginPath();
    w.rings.forEach(function (r) {
      var x = r[0], y = r[1];
      ctx.moveTo(SX(x / k), SY(y / k));
      for (var j = 2; j < r.length; j += 2) { x += r[j]; y += r[j + 1]; ctx.lineTo(SX(x / k), SY(y / k)); }
      ctx.closePath();
    });
    if (!spec.tiles) { ctx.fillStyle = "#f2f0e9"; ctx.fill("evenodd"); }
    ctx.strokeStyle = spec.tiles ? "rgba(80,80,80,0.35)" : "#b9b6aa"; ctx.lineWidth = 0.8; ctx.stroke();
  }

  var drawn = [];
  function draw() {
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#e6eff5"; ctx.fillRect(0, 0, W, H);
    if (spec.tiles) drawTiles();
    outline();
    drawn = []; var points = 0;
    markers().forEach(function (c) {
      var sx = SX(c.x), sy = SY(c.y);
      if (sx < 0 || sx > W || sy < 0 || sy > H) return;
      drawn.push({ x: sx, y: sy, r: radius(c), c: c }); points += c.count;
    });
    // Big clusters first, so that a smaller one at the same place shows on top.
    drawn.sort(function (a, b) { return b.c.count - a.c.count; });
    drawn.forEach(function (d) {
      // A slice per layer, in proportion to its points.
      var from = -Math.PI / 2;
      Object.keys(d.c.layers).forEach(function (l) {
        var to = from + 2 * Math.PI * d.c.layers[l] / d.c.count;
        ctx.beginPath(); ctx.moveTo(d.x, d.y); ctx.arc(d.x, d.y, d.r, from, to); ctx.closePath();
        ctx.fillStyle = hb.colour(+l); ctx.globalAlpha = 0.9; ctx.fill(); from = to;
      });
      ctx.globalAlpha = 1; ctx.beginPath(); ctx.arc(d.x, d.y, d.r, 0, 6.2832);
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.5; ctx.stroke();
      if (d.c.count > 1) {
        ctx.font = "600 11px system-ui,sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
        ctx.strokeStyle = "rgba(0,0,0,0.6)"; ctx.lineWidth = 3; ctx.strokeText(String(d.c.count), d.x, d.y);
        ctx.fillStyle = "#fff"; ctx.fillText(String(d.c.count), d.x, d.y);
      }
    });
    ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
    note.textContent = "zoom " + z + " · " + points + " of " + n + " points in view" +
      (spec.dropped ? " · " + spec.dropped + " rows without coordinates not shown" : "") +
      (spec.tiles ? " · tiles: " + spec.tiles.split("/")[2] : "");
    hb.report(root, { marks: drawn.length, points: points, zoom: z, centre: cx + "," + cy });
  }

  function clampView() { cx = Math.max(0, Math.min(1, cx)); cy = Math.max(0, Math.min(1, cy)); }
  function setView(zoom, x, y) { z = Math.max(MINZ, Math.min(MAXZ, Math.round(zoom))); cx = x; cy = y; clampView(); popup.hide(); draw(); }
  // Zooms to `zoom`, keeping the place under the screen point (sx, sy) where it is.
  function zoomAt(sx, sy, zoom) {
    var wx = WX(sx), wy = WY(sy), to = Math.max(MINZ, Math.min(MAXZ, zoom)), s = 256 * Math.pow(2, to);
    setView(to, wx - (sx - W / 2) / s, wy - (sy - H / 2) / s);
  }
  function toggle(k) {
    hidden[k] = !hidden[k]; clusterCache = {};
    if (legendSpans[k]) legendSpans[k].style.opacity = hidden[k] ? 0.35 : 1;
    draw();
  }

  function rowsText(cols, i) { return cols.map(function (c) { return [c.name, hb.text(c, i)]; }); }
  function describe(c) {
    var rows = [], names = Object.keys(c.layers);
    if (c.count > 1) rows.push(["Points", c.count + " (click to zoom in)"]);
    if (layers) names.forEach(function (l) {
      rows.push(c.count > 1 ? [spec.layer_column + " " + (layers[l] || "(none)"), String(c.layers[l])] : [spec.layer_column, layers[l] || "(none)"]);
    });
    return c.count > 1 ? rows : rows.concat(rowsText(spec.tips, c.rows[0]));
  }
  function hit(p) {
    for (var k = drawn.length - 1; k >= 0; k--) if (Math.hypot(drawn[k].x - p[0], drawn[k].y - p[1]) <= drawn[k].r + 2) return drawn[k];
    return null;
  }

  // Mouse: wheel zooms a level at a time round the pointer, drag pans, a click on a
  // cluster zooms into it, a click on a point opens its popup.
  var drag = null, wheel = 0;
  function pos(e) { var r = main.cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  main.cv.addEventListener("wheel", function (e) {
    e.preventDefault();
    // Small trackpad steps add up to one level.
    wheel += e.deltaY;
    if (Math.abs(wheel) < 50) return;
    var p = pos(e); zoomAt(p[0], p[1], z + (wheel < 0 ? 1 : -1)); wheel = 0;
  }, { passive: false });
  main.cv.addEventListener("mousedown", function (e) { drag = { p: pos(e), x: cx, y: cy, moved: false }; });
  window.addEventListener("mouseup", function (e) {
    if (!drag) return;
    var d = drag; drag = null;
    if (d.moved || e.target !== main.cv) return;
    var h = hit(d.p);
    if (!h) { popup.hide(); return; }
    if (h.c.count > 1) { setView(z + 1, h.c.x, h.c.y); return; }
    var rows = rowsText(spec.popups, h.c.rows[0]);
    if (rows.length) popup.show(h.x + main.cv.offsetLeft, h.y + main.cv.offsetTop, rows);
  });
  main.cv.addEventListener("mousemove", function (e) {
    var p = pos(e);
    if (drag) {
      var dx = p[0] - drag.p[0], dy = p[1] - drag.p[1];
      if (drag.moved || Math.abs(dx) + Math.abs(dy) > 3) {
        drag.moved = true; cx = drag.x - dx / size(); cy = drag.y - dy / size(); clampView(); tip.hide(); draw();
      }
      return;
    }
    var h = hit(p);
    main.cv.style.cursor = h ? "pointer" : "grab";
    if (h) tip.show(p[0] + main.cv.offsetLeft, p[1] + main.cv.offsetTop, describe(h.c)); else tip.hide();
  });
  main.cv.addEventListener("mouseleave", function () { tip.hide(); });
  main.cv.addEventListener("dblclick", function (e) { var p = pos(e); if (!hit(p)) zoomAt(p[0], p[1], z + 1); });

  draw();
  return {
    // Zoom level, centre and the world-unit box in view [x0, y0, x1, y1].
    view: function () { return { zoom: z, centre: [cx, cy], bounds: [WX(0), WY(0), WX(W), WY(H)] }; },
    setView: function (zoom, x, y) { setView(zoom, x, y); },
    zoomAt: function (sx, sy, zoom) { zoomAt(sx, sy, zoom); },
    reset: function () { setView(home.z, home.x, home.y); },
    // The markers drawn, bottom to top: canvas position, how many points, how many of
    // each layer, and their rows.
    markers: function () { return drawn.map(function (d) { return { x: d.x, y: d.y, count: d.c.count, layers: d.c.layers, rows: d.c.rows.slice() }; }); },
    // Where point i (in the spec's order) is, in canvas pixels.
    markAt: function (i) { return [SX(px[i]), SY(py[i])]; },
    toggleLayer: toggle,
  };
};
