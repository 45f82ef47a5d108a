/* huntbook charts: process trees. Rows come in tree order with their level, parent and
   subtree end (descendants of i are i+1 .. end[i]-1), so hiding a subtree is a skip
   and only the rows in view are drawn. */
huntbook.kinds.process_tree = function (root, spec) {
  var hb = huntbook, n = spec.level.length;
  var level = spec.level, parent = spec.parent, end = spec.end;
  var tips = spec.tips || [], cmd = spec.cmd == null ? null : tips[spec.cmd];
  var W = hb.width(root, spec.width);
  var ROW = 40, BOX = 34, PAD = 6, SB = 12, LINE = "#9aa5b1", MARK = hb.alertColour;
  var maxLevel = 0;
  for (var m = 0; m < n; m++) if (level[m] > maxLevel) maxLevel = level[m];
  var INDENT = Math.max(16, Math.min(28, (W - SB - 2 * PAD - 320) / Math.max(maxLevel, 1)));
  var BW = Math.max(240, Math.min(460, W - SB - 2 * PAD - maxLevel * INDENT));

  // The API speaks in rows of the table drawn; the spec's positions are tree order.
  var rowOf = spec.row, posOf = null;
  if (rowOf) { posOf = new Int32Array(n); rowOf.forEach(function (r, p) { posOf[r] = p; }); }
  function toRow(p) { return rowOf ? rowOf[p] : p; }
  function toPos(r) {
    if (!(r >= 0 && r < n)) throw new Error("process_tree: row " + r + " is not in the tree (" + n + " rows)");
    return rowOf ? posOf[r] : r;
  }

  var bar = hb.el("div", "hb-bar", root);
  var input = hb.el("input", null, bar);
  input.type = "search"; input.placeholder = "Find a process by name or pid"; input.size = 32;
  var fold = hb.el("button", null, bar, "Collapse all"), unfold = hb.el("button", null, bar, "Expand all");
  var note = hb.el("span", "hb-note", bar, n + " processes");
  // Legend labels come most frequent first, "(none)" last: the first ones get the
  // palette and then Tol's muted colours, the rest share one grey, rows without a
  // value a lighter one.
  var MORE = ["#332288", "#CC6677", "#117733", "#882255", "#DDCC77", "#44AA99", "#AA4499"];
  var labels = spec.legend || [], NONE = "(none)", OTHER = "#808080", EMPTY = "#c4c4c4";
  var none = labels[labels.length - 1] === NONE ? labels.length - 1 : -1;
  var values = none < 0 ? labels.length : none, K = values <= 15 ? values : 14;
  function paint(code) { return code < 8 ? hb.colour(code) : MORE[code - 8]; }
  if (spec.color && spec.show_legend && labels.length) {
    var items = labels.slice(0, K).map(function (l, i) { return { label: l, colour: paint(i), square: true }; });
    if (values > K) items.push({ label: "other (" + (values - K) + " values)", colour: OTHER, square: true });
    if (none >= 0) items.push({ label: NONE, colour: EMPTY, square: true });
    var leg = hb.legend(root, items);
    leg.insertBefore(hb.el("b", null, null, spec.legend_col + ":"), leg.firstChild);
  }

  // Rows shown (positions in tree order) once collapsed subtrees are skipped, and
  // where each position is among them (-1: hidden).
  var collapsed = new Uint8Array(n), at = new Int32Array(n), shown = [];
  function refresh() {
    shown = []; at.fill(-1);
    for (var i = 0; i < n;) { at[i] = shown.length; shown.push(i); i = collapsed[i] ? end[i] : i + 1; }
  }
  refresh();

  var H = Math.max(120, Math.min(spec.height || 700, shown.length * ROW + 2 * PAD));
  var c = hb.canvas(root, W, H), ctx = c.ctx, tip = hb.tip(root);
  var scroll = 0, selected = -1, chain = new Uint8Array(n), found = new Uint8Array(n), matches = [], current = -1;

  function maxScroll() { return Math.max(0, shown.length * ROW + 2 * PAD - H); }
  function clamp() { scroll = Math.max(0, Math.min(scroll, maxScroll())); }
  function boxX(i) { return PAD + level[i] * INDENT; }
  function rowTop(k) { return PAD + k * ROW - scroll; }
  function boxY(k) { return rowTop(k) + (ROW - BOX) / 2; }
  function hasKids(i) { return end[i] > i + 1; }
  function colour(i) {
    if (!spec.color) return hb.colour(level[i]);
    var code = spec.color[i];
    return code === none ? EMPTY : code < K ? paint(code) : OTHER;
  }
  // The rows in view: any part of their row inside the canvas.
  function range() {
    return [Math.max(0, Math.floor((scroll - PAD) / ROW)), Math.min(shown.length, Math.ceil((scroll + H - PAD) / ROW))];
  }

  // Text cut to fit `w` pixels, with an ellipsis.
  function fit(s, w) {
    if (ctx.measureText(s).width <= w) return s;
    var lo = 0, hi = s.length;
    while (lo < hi) { var mid = (lo + hi + 1) >> 1; if (ctx.measureText(s.slice(0, mid) + "…").width <= w) lo = mid; else hi = mid - 1; }
    return s.slice(0, lo) + "…";
  }

  function line(x0, y0, x1, y1) { ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); }

  // Elbows: down from under the parent's toggle, then across to the child's box.
  function connectors(a, b) {
    var kinds = [[LINE, 1, false], ["#222", 2, true]];
    kinds.forEach(function (kd) {
      ctx.strokeStyle = kd[0]; ctx.lineWidth = kd[1]; ctx.beginPath();
      for (var k = a; k < b; k++) {
        var i = shown[k], p = parent[i];
        if (p < 0 || !!(chain[i] && chain[p]) !== kd[2]) continue;
        var x = boxX(p) + 11.5, y = Math.round(boxY(k) + BOX / 2) + 0.5;
        line(x, Math.max(boxY(at[p]) + BOX, -2), x, y); line(x, y, boxX(i), y);
      }
      // Lines to children further down pass through the bottom edge: they come from
      // the ancestors of the first row below the view.
      if (b < shown.length && !kd[2]) {
        for (var q = parent[shown[b]]; q >= 0; q = parent[q]) {
          var qx = boxX(q) + 11.5;
          line(qx, Math.max(boxY(at[q]) + BOX, -2), qx, H + 2);
        }
      }
      ctx.stroke();
    });
  }

  function box(i, k) {
    var x = boxX(i), y = boxY(k), col = colour(i);
    ctx.fillStyle = "#fff"; ctx.fillRect(x, y, BW, BOX);
    ctx.globalAlpha = i === selected ? 0.5 : 0.2; ctx.fillStyle = col; ctx.fillRect(x, y, BW, BOX);
    ctx.globalAlpha = 1; ctx.fillRect(x, y, 4, BOX);
    var ring = found[i] ? MARK : chain[i] ? "#222" : "#b8c0c8";
    ctx.strokeStyle = ring; ctx.lineWidth = found[i] || chain[i] ? 2 : 1;
    ctx.strokeRect(x + 0.5, y + 0.5, BW - 1, BOX - 1);
    if (hasKids(i)) {
      ctx.fillStyle = "#fff"; ctx.fillRect(x + 7, y + 12, 10, 10);
      ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(x + 7.5, y + 12.5, 9, 9);
      ctx.beginPath(); line(x + 9.5, y + 17, x + 14.5, y + 17);
      if (collapsed[i]) line(x + 12, y + 14.5, x + 12, y + 19.5);
      ctx.stroke();
    }
    var tx = x + 22, room = BW - 28, name = hb.text(spec.name, i);
    ctx.fillStyle = "#111"; ctx.font = "600 12px system-ui,sans-serif"; ctx.textBaseline = "middle";
    name = fit(name, room * 0.7); ctx.fillText(name, tx, y + 11);
    var nw = ctx.measureText(name).width, pid = hb.text(spec.pid, i);
    ctx.font = "11px system-ui,sans-serif"; ctx.fillStyle = "#555";
    var extra = (pid ? spec.pid_label + ": " + pid : "") + (collapsed[i] ? "  (+" + (end[i] - i - 1) + " hidden)" : "");
    ctx.fillText(fit(extra, Math.max(room - nw - 10, 0)), tx + nw + 10, y + 11);
    if (cmd) { ctx.fillStyle = "#333"; ctx.fillText(fit(hb.text(cmd, i), room), tx, y + 25); }
  }

  function scrollbar() {
    var ms = maxScroll();
    if (!ms) return null;
    var th = Math.max(24, H * H / (H + ms)), ty = scroll / ms * (H - th);
    ctx.fillStyle = "#f0f0f0"; ctx.fillRect(W - SB, 0, SB, H);
    ctx.fillStyle = "#b0b0b0"; ctx.fillRect(W - SB + 2, ty, SB - 4, th);
    return { top: ty, height: th };
  }

  var thumb = null, drawn = [0, 0];
  function draw() {
    clamp();
    ctx.clearRect(0, 0, W, H);
    var r = range();
    connectors(r[0], r[1]);
    for (var k = r[0]; k < r[1]; k++) box(shown[k], k);
    thumb = scrollbar();
    drawn = r;
    hb.report(root, { marks: r[1] - r[0], first: r[0], shown: shown.length, scroll: scroll });
  }

  // Shows position p: opens the subtrees that hide it, and scrolls it into view.
  function reveal(p) {
    var opened = false;
    for (var a = parent[p]; a >= 0; a = parent[a]) if (collapsed[a]) { collapsed[a] = 0; opened = true; }
    if (opened) refresh();
    var top = PAD + at[p] * ROW;
    if (top < scroll || top + ROW > scroll + H) { scroll = top - (H - ROW) / 2; clamp(); }
  }

  function setCollapsed(p, yes) {
    if (!hasKids(p)) return;
    collapsed[p] = yes ? 1 : 0;
    refresh(); draw();
  }

  function select(p) {
    chain.fill(0); selected = p;
    var out = [];
    for (var a = p; a >= 0; a = parent[a]) { chain[a] = 1; out.unshift(a); }
    if (p >= 0) reveal(p);
    draw();
    return out.map(toRow);
  }

  function pidNumber(s) {
    s = s.toLowerCase();
    return /^0x[0-9a-f]+$/.test(s) ? parseInt(s.slice(2), 16) : /^[0-9]+$/.test(s) ? parseInt(s, 10) : NaN;
  }

  // Processes whose name holds the text or whose pid is it (hex or decimal alike).
  function search(text) {
    var q = String(text || "").trim().toLowerCase(), num = pidNumber(q);
    found.fill(0); matches = []; current = -1;
    if (q) {
      var byName = spec.name.dict.map(function (d) { return d.toLowerCase().indexOf(q) >= 0; });
      var byPid = spec.pid.dict.map(function (d) { return d.toLowerCase() === q || pidNumber(d) === num; });
      for (var i = 0; i < n; i++) {
        var a = spec.name.codes[i], b = spec.pid.codes[i];
        if ((a >= 0 && byName[a]) || (b >= 0 && byPid[b])) { found[i] = 1; matches.push(i); }
      }
      var opened = false;
      matches.forEach(function (p) {
        for (var a = parent[p]; a >= 0; a = parent[a]) if (collapsed[a]) { collapsed[a] = 0; opened = true; }
      });
      if (opened) refresh();
      if (matches.length) { current = 0; reveal(matches[0]); }
    }
    note.textContent = q ? matches.length + " match" + (matches.length === 1 ? "" : "es") + (matches.length > 1 ? " (Enter: next)" : "") : n + " processes";
    draw();
    return matches.map(toRow);
  }

  function hit(x, y) {
    var k = Math.floor((y + scroll - PAD) / ROW);
    if (k < 0 || k >= shown.length || x >= W - SB) return -1;
    var i = shown[k], bx = boxX(i), by = boxY(k);
    return x >= bx && x <= bx + BW && y >= by && y <= by + BOX ? i : -1;
  }

  function describe(i) {
    var rows = tips.map(function (t) { return [t.name, hb.text(t, i)]; });
    if (spec.time && spec.time[i] != null) rows.push([spec.time_column, hb.isoTime(spec.time[i] + spec.t0)]);
    if (hasKids(i)) rows.push(["Descendants", String(end[i] - i - 1)]);
    return rows;
  }

  function pos(e) { var b = c.cv.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; }
  var dragging = null;
  c.cv.addEventListener("wheel", function (e) {
    if (!maxScroll()) return;
    e.preventDefault();
    scroll += e.deltaY * (e.deltaMode === 1 ? ROW : e.deltaMode === 2 ? H : 1);
    tip.hide(); draw();
  }, { passive: false });
  c.cv.addEventListener("mousedown", function (e) {
    var p = pos(e);
    if (p[0] < W - SB || !thumb) return;
    e.preventDefault();
    if (p[1] >= thumb.top && p[1] <= thumb.top + thumb.height) dragging = { y: p[1], scroll: scroll };
    else { scroll += (p[1] < thumb.top ? -1 : 1) * (H - ROW); draw(); }
  });
  window.addEventListener("mouseup", function () { dragging = null; });
  window.addEventListener("mousemove", function (e) {
    if (!dragging) return;
    scroll = dragging.scroll + (pos(e)[1] - dragging.y) * maxScroll() / Math.max(H - thumb.height, 1);
    draw();
  });
  c.cv.addEventListener("mousemove", function (e) {
    if (dragging) return;
    var p = pos(e), i = hit(p[0], p[1]);
    c.cv.style.cursor = i >= 0 ? "pointer" : "default";
    if (i < 0) { tip.hide(); return; }
    var x = p[0] + c.cv.offsetLeft, y = p[1] + c.cv.offsetTop;
    tip.show(x, y, describe(i));
    // Near the bottom the tip goes above the pointer, or the chart would cut it off.
    var th = tip.el.offsetHeight;
    if (y + 14 + th > root.clientHeight) tip.el.style.top = Math.max(0, y - th - 10) + "px";
  });
  c.cv.addEventListener("mouseleave", function () { tip.hide(); });
  c.cv.addEventListener("click", function (e) {
    var p = pos(e), i = hit(p[0], p[1]);
    if (p[0] >= W - SB) return;
    if (i >= 0 && hasKids(i) && p[0] < boxX(i) + 20) setCollapsed(i, !collapsed[i]);
    else select(i === selected ? -1 : i);
  });
  // Collapse all: every process with children, so only the roots stay.
  fold.addEventListener("click", function () { for (var i = 0; i < n; i++) collapsed[i] = hasKids(i) ? 1 : 0; refresh(); draw(); });
  unfold.addEventListener("click", function () { collapsed.fill(0); refresh(); draw(); });
  input.addEventListener("input", function () { search(input.value); });
  input.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !matches.length) return;
    current = (current + 1) % matches.length; reveal(matches[current]); draw();
  });

  draw();
  return {
    // Rows not hidden by a collapsed subtree, in tree order.
    visibleRows: function () { return shown.map(toRow); },
    collapse: function (r) { setCollapsed(toPos(r), true); return shown.map(toRow); },
    expand: function (r) { setCollapsed(toPos(r), false); return shown.map(toRow); },
    search: function (text) { input.value = text; return search(text); },
    // The process and its ancestors, root first; select(-1) clears.
    select: function (r) { return select(r < 0 ? -1 : toPos(r)); },
    highlighted: function () { var o = []; for (var i = 0; i < n; i++) if (chain[i]) o.push(toRow(i)); return o; },
    // Canvas pixels of a row's box centre (and of its +/- toggle), scrolled into view.
    markAt: function (r) { var p = toPos(r); reveal(p); draw(); return [boxX(p) + BW / 2, boxY(at[p]) + BOX / 2]; },
    toggleAt: function (r) { var p = toPos(r); reveal(p); draw(); return [boxX(p) + 12, boxY(at[p]) + 17]; },
    scrollTo: function (px) { scroll = px; draw(); return scroll; },
    view: function () {
      return { first: drawn[0], end: drawn[1], shown: shown.length, scroll: scroll, width: W, height: H, rowHeight: ROW, pad: PAD,
        thumb: thumb ? [thumb.top, thumb.height] : null };
    },
  };
};
