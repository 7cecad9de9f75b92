// The replay map's own parts, fed by the JSON in #mda-replay-data: the alert diamonds (shared with the live
// map, symbols.js), their popups in words, a sortable alert list, and the time slider, which plays the
// vessels' positions and filters the alerts and tracks to the time shown. Text only, never HTML.
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("mda-replay-data").textContent);
  const M = window.MDA, el = M.el;
  const SEV_RANK = Object.fromEntries(M.SEVERITIES.map((s, i) => [s, i]));
  const items = cfg.alerts.map(a => ({a: a, marker: null, row: null, shown: true}));
  let map = null, sortKey = "time";
  const alertLayer = L.layerGroup();

  function popup(a) {
    const w = a.w, d = el("div", undefined, "alert-popup");
    d.append(el("b", w.title), el("div", w.summary, "summary"));
    if (w.explain) d.append(el("div", w.explain, "explain"));
    w.vessels.forEach(v => d.append(el("div", v, "vessel")));
    const t = el("table");
    w.rows.forEach(([k, v]) => { const tr = el("tr"); tr.append(el("td", k, "k"), el("td", v)); t.append(tr); });
    d.append(t);
    return d;
  }
  function build() {
    items.forEach(x => {
      const a = x.a;
      const g = L.layerGroup();
      x.marker = L.marker([a.lat, a.lon], {icon: M.alertIcon(a.type, a.severity, "alert-" + a.type), zIndexOffset: 1000,
                                            title: a.w.title, keyboard: false});
      x.marker.bindPopup(() => popup(a), {maxWidth: 420});
      x.marker.bindTooltip(document.createTextNode(a.w.summary.slice(0, 140)));
      g.addLayer(x.marker);
      (a.lines || []).forEach(l => g.addLayer(L.polyline(l.pts, {color: l.colour, weight: l.dash ? 2 : 5,
        opacity: 0.85, dashArray: l.dash ? "6 6" : null, interactive: false})));
      x.group = g;
      alertLayer.addLayer(g);
    });
    if (!cfg.many) alertLayer.addTo(map);
  }
  function when(a) { return new Date(a.t * 1000).toISOString().slice(5, 16).replace("T", " ") + "Z"; }
  function list() {
    const box = document.getElementById("mda-alert-rows");
    const sorted = items.slice().sort((x, y) => sortKey === "severity" ? (SEV_RANK[y.a.severity] - SEV_RANK[x.a.severity]) || (x.a.t - y.a.t)
      : sortKey === "type" ? x.a.type.localeCompare(y.a.type) || (x.a.t - y.a.t) : x.a.t - y.a.t);
    box.replaceChildren();
    sorted.forEach(x => {
      if (!x.row) {
        const a = x.a, r = el("div", undefined, "mda-row");
        r.dataset.id = a.id;
        r.append(el("span", a.severity, "badge sev-" + a.severity), document.createTextNode(" " + M.words(a.type) + " · " + when(a)),
                 el("div", a.w.vessels.map(v => v.split(" — ")[0]).join(" & ") || a.w.summary.slice(0, 60), "sub"));
        r.addEventListener("click", () => show(x));
        x.row = r;
      }
      x.row.style.display = x.shown ? "" : "none";
      box.append(x.row);
    });
    document.querySelectorAll("#mda-sort button").forEach(b => b.classList.toggle("on", b.dataset.key === sortKey));
  }
  function show(x) {
    if (!map.hasLayer(x.group)) x.group.addTo(map);
    map.flyTo([x.a.lat, x.a.lon], Math.max(map.getZoom(), 10), {duration: 0.4});
    map.once("moveend", () => x.marker.openPopup());
    document.querySelectorAll(".mda-row.sel").forEach(r => r.classList.remove("sel"));
    x.row.classList.add("sel");
  }
  // -- the time slider: positions, and what had happened by then --------------------------
  const tl = cfg.timeline;
  const dots = L.layerGroup(), trails = L.layerGroup(), dot = {}, trail = {};
  if (tl) for (const k in tl.data) {
    let last = null;
    tl.data[k].p = tl.data[k].p.map(q => q === 0 ? null : q === 1 ? last : (last = q));
  }
  function draw(minute, max) {
    const end = minute >= max;
    const t = (tl ? tl.t0_ms / 1000 : 0) + minute * 60;
    document.getElementById("mda-clock").textContent = new Date(t * 1000).toISOString().slice(0, 16) + "Z";
    // tracks: the whole day at the end of the slider, else each vessel's last two hours
    for (const name of [cfg.tracks, cfg.prominent]) {
      const layer = name && window[name];
      if (!layer) continue;
      if (end && !map.hasLayer(layer)) layer.addTo(map);
      if (!end && map.hasLayer(layer)) map.removeLayer(layer);
    }
    const f = Math.floor(minute / tl.step_min), back = Math.round(120 / tl.step_min);
    for (const k in tl.data) {
      const p = tl.data[k].p, q = p[f] || null;
      if (!q) { if (dot[k]) { dots.removeLayer(dot[k]); delete dot[k]; } } else if (!dot[k]) {
        dot[k] = L.circleMarker(q, {radius: 3, color: tl.data[k].c, weight: 1, fillOpacity: 0.9, className: "timeline-vessel"}).addTo(dots);
      } else dot[k].setLatLng(q);
      const pts = end ? [] : p.slice(Math.max(0, f - back), f + 1).filter(Boolean);
      if (pts.length < 2) { if (trail[k]) { trails.removeLayer(trail[k]); delete trail[k]; } }
      else if (!trail[k]) trail[k] = L.polyline(pts, {color: tl.data[k].c, weight: tl.data[k].a ? 3 : 1.5, opacity: 0.8, interactive: false}).addTo(trails);
      else trail[k].setLatLngs(pts);
    }
    // alerts: those begun by then (all at the end of the slider)
    items.forEach(x => {
      x.shown = end || x.a.start_t <= t;
      if (!cfg.many || map.hasLayer(alertLayer)) {
        if (x.shown && !alertLayer.hasLayer(x.group)) alertLayer.addLayer(x.group);
        if (!x.shown && alertLayer.hasLayer(x.group)) alertLayer.removeLayer(x.group);
      }
      if (x.row) x.row.style.display = x.shown ? "" : "none";
    });
    const n = items.filter(x => x.shown).length;
    document.getElementById("mda-alert-count").textContent = n + (n === items.length ? "" : " of " + items.length);
  }
  window.addEventListener("load", function () {
    map = window[cfg.map];
    build();
    document.querySelectorAll("#mda-sort button").forEach(b => b.addEventListener("click", () => { sortKey = b.dataset.key; list(); }));
    document.getElementById("mda-alerts-toggle").addEventListener("click", () =>
      document.getElementById("mda-alerts").classList.toggle("closed"));
    const each = document.getElementById("mda-each");
    each.checked = !cfg.many;
    each.addEventListener("change", () => { if (each.checked) alertLayer.addTo(map); else map.removeLayer(alertLayer); });
    list();
    document.getElementById("mda-alert-count").textContent = String(items.length);
    if (tl) {
      dots.addTo(map); trails.addTo(map);
      const s = document.getElementById("mda-slider");
      s.addEventListener("input", () => draw(+s.value, +s.max));
      let timer = null;
      document.getElementById("mda-play").addEventListener("click", function () {
        if (timer) { clearInterval(timer); timer = null; this.textContent = "▶"; return; }
        if (+s.value >= +s.max) s.value = 0;
        this.textContent = "❚❚";
        timer = setInterval(() => {
          s.value = Math.min(+s.max, +s.value + 15); draw(+s.value, +s.max);
          if (+s.value >= +s.max) { clearInterval(timer); timer = null; }
        }, 200);
      });
      draw(+s.value, +s.max);
    }
    window.mdaReady = true;
  });
})();
