/* siting: weights in the browser (the data is built by siting/outputs/maps/weights.py).
 *
 * Moving a slider re-aggregates every cell's criterion values (0..1, computed in Python by the profile's value
 * functions) with the profile's own formula, exactly as siting.kernels.mcda: weighted sum, weighted product or
 * TOPSIS (ideal and anti-ideal over all scored cells). The score surface is recoloured on the same
 * Web-Mercator grid as the score image, and the best cell of each province is listed and marked. The weights
 * go into the page address (#weights=name:value,...), so a view can be shared and reopened.
 *
 * Every text that comes from data goes into the page with textContent, never as HTML.
 */
var sitingWeights = (function () {
  "use strict";

  var R = 6378137.0; // Web-Mercator sphere
  var S = { rescored: 0, timings: [] };

  function bytes(b64) {
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function inflate(b64) {
    var stream = new Blob([bytes(b64)]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function rint(x) { // numpy's rint: halves to even
    var r = Math.round(x);
    if (r - x === 0.5 && r % 2 !== 0) r -= 1;
    return r;
  }

  function packColours(palette) {
    var out = new Uint32Array(palette.length);
    for (var i = 0; i < palette.length; i++) {
      var c = palette[i];
      out[i] = ((255 << 24) | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0; // RGBA bytes, little-endian
    }
    return out;
  }

  // ---------------------------------------------------------------------------------- aggregation

  function effectiveWeights(raw) {
    var sum = raw.reduce(function (a, b) { return a + b; }, 0);
    if (!(sum > 0)) return null;
    if (Math.abs(sum - 1) < 1e-9) return raw.slice(); // the profile's own weights, unchanged
    return raw.map(function (w) { return w / sum; });
  }

  function aggregate(w) {
    var n = S.n, k = S.k, v = S.values, out = S.scores, i, j;
    if (S.method === "weighted_sum") {
      out.fill(0);
      for (j = 0; j < k; j++) { var vj = v[j], wj = w[j]; for (i = 0; i < n; i++) out[i] += wj * vj[i]; }
      for (i = 0; i < n; i++) out[i] *= 100;
    } else if (S.method === "weighted_product") {
      out.fill(0);
      for (j = 0; j < k; j++) {
        if (!(w[j] > 0)) continue; // 0^0 = 1: a zero-weight criterion does not count
        var lv = v[j], lw = w[j];
        for (i = 0; i < n; i++) out[i] += Math.log(lv[i]) * lw;
      }
      for (i = 0; i < n; i++) out[i] = 100 * Math.exp(out[i]);
    } else { // topsis
      var best = [], worst = [];
      for (j = 0; j < k; j++) { best.push(w[j] * S.vmax[j]); worst.push(w[j] * S.vmin[j]); }
      for (i = 0; i < n; i++) {
        var dp = 0, dm = 0;
        for (j = 0; j < k; j++) {
          var x = v[j][i] * w[j], a = x - best[j], b = x - worst[j];
          dp += a * a;
          dm += b * b;
        }
        dp = Math.sqrt(dp);
        dm = Math.sqrt(dm);
        var total = dp + dm;
        out[i] = 100 * (total > 0 ? dm / total : 0.5);
      }
    }
    return out;
  }

  function bestPerProvince(scores) {
    var np = S.provinces.length, best = new Int32Array(np).fill(-1), prov = S.province;
    for (var i = 0; i < S.n; i++) { // cells are in H3-id order: ties go to the lower id, as siting score
      var p = prov[i], b = best[p];
      if (b < 0 || scores[i] > scores[b]) best[p] = i;
    }
    return best;
  }

  // ---------------------------------------------------------------------------------- drawing

  function paint(canvas, image, colourOf) {
    var px = new Uint32Array(image.data.buffer), idx = S.index;
    for (var p = 0; p < idx.length; p++) px[p] = colourOf[idx[p]];
    canvas.getContext("2d").putImageData(image, 0, 0);
  }

  function newCanvas() {
    var c = el("canvas");
    c.width = S.width;
    c.height = S.height;
    c.style.imageRendering = "pixelated";
    return c;
  }

  function adopt(layer, canvas, className) { // make an ImageOverlay draw a canvas instead of its image
    var on = S.map.hasLayer(layer);
    if (on) S.map.removeLayer(layer);
    L.DomUtil.addClass(canvas, "leaflet-image-layer");
    if (S.map.options.zoomAnimation && L.Browser.any3d) L.DomUtil.addClass(canvas, "leaflet-zoom-animated");
    L.DomUtil.addClass(canvas, className);
    canvas.onselectstart = L.Util.falseFn;
    canvas.onmousemove = L.Util.falseFn;
    layer._image = canvas;
    if (on) S.map.addLayer(layer);
    layer.setOpacity(layer.options.opacity);
  }

  function restack() { // images under the vector layers: score surface, then the top-share layer
    if (S.share && S.map.hasLayer(S.share)) S.share.bringToBack();
    if (S.map.hasLayer(S.overlay)) S.overlay.bringToBack();
  }

  function cellLatLng(i) {
    if (!(S.count[i] > 0)) return null;
    var x = S.x0 + (S.sumX[i] / S.count[i] + 0.5) * S.pixelX;
    var y = S.y1 - (S.sumY[i] / S.count[i] + 0.5) * S.pixelY;
    return L.latLng((Math.atan(Math.sinh(y / R)) * 180) / Math.PI, ((x / R) * 180) / Math.PI);
  }

  function cellId(i) { return S.ids[i].toString(16); }

  // ---------------------------------------------------------------------------------- re-scoring

  function rescore(t0) {
    var w = effectiveWeights(S.weights);
    S.note.textContent = w ? "" : "Every weight is zero: set at least one above zero.";
    if (!w) return;
    var scores = aggregate(w);
    var colour = S.cellColour;
    for (var i = 0; i < S.n; i++) colour[i + 1] = S.palette[Math.min(100, Math.max(0, rint(scores[i])))];
    if (!S.canvas) {
      S.canvas = newCanvas();
      S.image = new ImageData(S.width, S.height);
      adopt(S.overlay, S.canvas, "siting-score-canvas");
      restack();
    }
    paint(S.canvas, S.image, colour);
    var best = bestPerProvince(scores);
    showBest(best, scores);
    S.sliders.forEach(function (s, j) { S.shares[j].textContent = w ? (100 * w[j]).toFixed(1) + " %" : ""; });
    var ms = performance.now() - t0;
    S.rescored += 1;
    var count = S.rescored;
    requestAnimationFrame(function () {
      S.timings.push({ compute: ms, frame: performance.now() - t0 });
      document.documentElement.setAttribute("data-siting-rescored", String(count));
    });
  }

  function showBest(best, scores) {
    var list = S.list;
    while (list.firstChild) list.removeChild(list.firstChild);
    S.markers.clearLayers();
    S.provinces.forEach(function (prov, p) {
      var i = best[p];
      if (i < 0) return;
      var id = cellId(i), at = cellLatLng(i), score = scores[i].toFixed(1);
      var li = el("li", { "class": "siting-best", "data-iso": prov.iso, "data-cell": id, "data-score": scores[i].toFixed(6) });
      li.appendChild(el("b", {}, prov.name));
      li.appendChild(document.createTextNode(" — score " + score + " · cell " + id));
      if (at) {
        li.style.cursor = "pointer";
        li.addEventListener("click", function () { S.map.setView(at, Math.max(S.map.getZoom(), 9)); });
        var tip = el("div", {}, prov.name);
        tip.appendChild(el("div", {}, "best cell with these weights: score " + score));
        tip.appendChild(el("div", {}, "H3 cell " + id));
        L.circleMarker(at, { radius: 9, color: "#000", weight: 3, fill: false, className: "siting-best-marker" })
          .bindTooltip(tip).addTo(S.markers);
      }
      list.appendChild(li);
    });
  }

  // ---------------------------------------------------------------------------------- address

  function hashWeights() {
    var m = /(?:^#|&)weights=([^&]*)/.exec(location.hash);
    if (!m) return null;
    var out = S.defaults.slice();
    decodeURIComponent(m[1]).split(",").forEach(function (pair) {
      var kv = pair.split(":"), j = S.names.indexOf(kv[0]), x = parseFloat(kv[1]);
      if (j >= 0 && isFinite(x) && x >= 0) out[j] = x;
    });
    return out;
  }

  function writeHash() {
    var text = S.names.map(function (n, j) { return n + ":" + +S.weights[j].toFixed(6); }).join(",");
    history.replaceState(null, "", "#weights=" + encodeURIComponent(text).replace(/%3A/g, ":").replace(/%2C/g, ","));
  }

  function setWeights(w, t0) {
    S.weights = w.slice();
    S.sliders.forEach(function (s, j) { s.value = String(w[j]); });
    rescore(t0);
  }

  // ---------------------------------------------------------------------------------- panel

  function panel(data) {
    var box = el("details", { "class": "siting-weights", open: "" });
    box.style.cssText = "position:fixed;z-index:1001;top:118px;left:10px;width:290px;max-height:calc(100vh - 180px);" +
      "overflow:auto;background:rgba(255,255,255,0.95);padding:6px 9px;border-radius:4px;" +
      "box-shadow:0 1px 5px rgba(0,0,0,0.4);font:12px/1.35 Arial,Helvetica,sans-serif;color:#222";
    box.appendChild(el("summary", { style: "cursor:pointer;font-size:13px;font-weight:bold" }, "Weights: move them and the map re-scores"));
    var how = { weighted_sum: "weighted sum", weighted_product: "weighted product", topsis: "TOPSIS" }[data.aggregation];
    box.appendChild(el("div", { style: "color:#555" }, "Profile " + data.profile + ", " + how +
      " (as siting score); weights are rescaled to sum to 100 %. Hard constraints stay applied."));
    S.sliders = [];
    S.shares = [];
    data.criteria.forEach(function (c, j) {
      var row = el("div", { "class": "siting-weight", style: "margin-top:4px", title: c.why + " (" + c.scale + ")" });
      var head = el("div", { style: "display:flex;justify-content:space-between" });
      head.appendChild(el("label", { "for": "siting-w-" + j }, c.label));
      var share = el("span", { "class": "siting-weight-share", style: "font-weight:bold" });
      head.appendChild(share);
      row.appendChild(head);
      var input = el("input", { type: "range", min: "0", max: "1", step: "0.01", id: "siting-w-" + j,
        "data-criterion": c.name, style: "width:100%;margin:0" });
      input.value = String(c.weight);
      input.addEventListener("input", function (ev) {
        S.weights[j] = parseFloat(input.value);
        writeHash();
        rescore(ev.timeStamp || performance.now());
      });
      row.appendChild(input);
      row.appendChild(el("div", { "class": "siting-why", style: "color:#666;font-size:10px;line-height:1.2" }, c.why));
      box.appendChild(row);
      S.sliders.push(input);
      S.shares.push(share);
    });
    var reset = el("button", { type: "button", "class": "siting-reset", style: "margin-top:6px" }, "Reset to the profile's weights");
    reset.addEventListener("click", function (ev) {
      history.replaceState(null, "", location.pathname + location.search);
      setWeights(S.defaults, ev.timeStamp || performance.now());
    });
    box.appendChild(reset);
    S.note = el("div", { style: "color:#c92a2a" });
    box.appendChild(S.note);
    box.appendChild(el("div", { style: "margin-top:6px;font-weight:bold" }, "Best cell of each province"));
    S.list = el("ol", { "class": "siting-best-list", style: "margin:2px 0;padding-left:18px" });
    box.appendChild(S.list);
    box.appendChild(el("div", { style: "color:#777;font-size:10.5px" },
      "The weights are kept in the page address: copy it to share this view."));
    document.body.appendChild(box);
    var sources = document.querySelector("details.siting-sources"); // folded to its heading, under the panel
    if (sources) sources.removeAttribute("open");
  }

  // ---------------------------------------------------------------------------------- start

  function start(map, overlay, control, data) {
    S.map = map;
    S.overlay = overlay;
    S.control = control;
    S.n = data.n;
    S.k = data.criteria.length;
    S.method = data.aggregation;
    S.names = data.criteria.map(function (c) { return c.name; });
    S.defaults = data.criteria.map(function (c) { return c.weight; });
    S.weights = S.defaults.slice();
    S.provinces = data.provinces;
    S.palette = packColours(data.palette);
    var g = data.grid;
    S.width = g.width;
    S.height = g.height;
    var sw = g.bounds[0], ne = g.bounds[1];
    S.x0 = (R * sw[1] * Math.PI) / 180;
    S.y1 = R * Math.log(Math.tan(Math.PI / 4 + (ne[0] * Math.PI) / 360));
    S.pixelX = ((R * ne[1] * Math.PI) / 180 - S.x0) / g.width;
    S.pixelY = (S.y1 - R * Math.log(Math.tan(Math.PI / 4 + (sw[0] * Math.PI) / 360))) / g.height;
    panel(data);
    S.markers = L.layerGroup().addTo(map);
    control.addOverlay(S.markers, "Best cell per province (weights above)");
    var parts = [data.values, data.cells, data.province, g.index];
    if (data.top_share) parts.push(data.top_share);
    S.ready = Promise.all(parts.map(inflate)).then(function (buf) {
      var raw = data.bits === 16 ? new Uint16Array(buf[0]) : new Uint8Array(buf[0]);
      var steps = Math.pow(2, data.bits) - 1, n = S.n;
      S.values = [];
      S.vmin = [];
      S.vmax = [];
      for (var j = 0; j < S.k; j++) {
        var col = new Float64Array(n), lo = Infinity, hi = -Infinity;
        for (var i = 0; i < n; i++) {
          var x = raw[j * n + i] / steps;
          col[i] = x;
          if (x < lo) lo = x;
          if (x > hi) hi = x;
        }
        S.values.push(col);
        S.vmin.push(lo);
        S.vmax.push(hi);
      }
      var deltas = new BigUint64Array(buf[1]);
      S.ids = new BigUint64Array(n);
      var acc = BigInt(0);
      for (var c = 0; c < n; c++) { acc += deltas[c]; S.ids[c] = acc; }
      S.province = new Uint8Array(buf[2]);
      S.index = new Uint32Array(buf[3]);
      S.scores = new Float64Array(n);
      S.cellColour = new Uint32Array(n + 1);
      S.sumX = new Float64Array(n);
      S.sumY = new Float64Array(n);
      S.count = new Float64Array(n);
      for (var p = 0; p < S.index.length; p++) {
        var ci = S.index[p];
        if (ci === 0) continue;
        S.sumX[ci - 1] += p % S.width;
        S.sumY[ci - 1] += Math.floor(p / S.width);
        S.count[ci - 1] += 1;
      }
      if (data.top_share) shareLayer(data, new Uint8Array(buf[4]));
      var fromHash = hashWeights();
      if (fromHash) setWeights(fromHash, performance.now());
      else showBest(bestPerProvince(aggregate(effectiveWeights(S.weights))), S.scores);
      S.sliders.forEach(function (s, j) { S.shares[j].textContent = (100 * effectiveWeights(S.weights)[j]).toFixed(1) + " %"; });
      window.addEventListener("hashchange", function () {
        var w = hashWeights();
        setWeights(w || S.defaults, performance.now());
      });
      document.documentElement.setAttribute("data-siting-weights-ready", "1");
    }).catch(function (err) {
      S.note.textContent = "The weights could not be loaded in this browser: " + err;
      console.error(err);
    });
  }

  function shareLayer(data, share) {
    var colour = new Uint32Array(S.n + 1), pal = packColours(data.top_share_palette);
    for (var i = 0; i < S.n; i++) colour[i + 1] = share[i] > 0 ? pal[share[i]] : 0;
    var canvas = newCanvas();
    paint(canvas, new ImageData(S.width, S.height), colour);
    S.share = new L.ImageOverlay("", S.overlay.getBounds(), { opacity: 0.85, interactive: false });
    adopt(S.share, canvas, "siting-top-share");
    S.share.on("add", function () { setTimeout(restack, 0); });
    S.overlay.on("add", function () { setTimeout(restack, 0); });
    S.control.addOverlay(S.share, "How often a cell is in the national top 5 % (weight draws)");
  }

  return {
    start: start,
    state: function () { return { weights: S.weights.slice(), rescored: S.rescored, timings: S.timings.slice() }; },
    ready: function () { return S.ready; }
  };
})();
