// The replay map's time slider: plays the vessels' positions, one fix per vessel per step.
// Fed by the JSON in #mda-timeline-data: {t0_ms, step_min, map (the folium map's variable), data}.
// Each vessel's frames are [lat, lon], 1 ("where it was in the frame before") or 0 ("not heard").
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("mda-timeline-data").textContent);
  const T0 = cfg.t0_ms, STEP_MIN = cfg.step_min, DATA = cfg.data;
  for (const k in DATA) {
    let last = null;
    DATA[k].p = DATA[k].p.map(q => q === 0 ? null : q === 1 ? last : (last = q));
  }
  const layer = L.layerGroup(), dots = {};
  function at(p, m) { return p[Math.floor(m / STEP_MIN)] || null; }
  function draw(m) {
    document.getElementById("mda-clock").textContent = new Date(T0 + m * 60000).toISOString().slice(0, 16) + "Z";
    for (const k in DATA) {
      const q = at(DATA[k].p, m);
      if (!q) { if (dots[k]) { layer.removeLayer(dots[k]); delete dots[k]; } continue; }
      if (!dots[k]) {
        dots[k] = L.circleMarker(q, {radius: 3, color: DATA[k].c, weight: 1, fillOpacity: 0.9,
                                     className: "timeline-vessel"}).addTo(layer);
      } else dots[k].setLatLng(q);
    }
  }
  window.addEventListener("load", function () {
    const map = window[cfg.map]; layer.addTo(map);
    const s = document.getElementById("mda-slider");
    s.addEventListener("input", () => draw(+s.value));
    let timer = null;
    document.getElementById("mda-play").addEventListener("click", function () {
      if (timer) { clearInterval(timer); timer = null; this.textContent = "▶"; return; }
      if (+s.value >= +s.max) s.value = 0;
      this.textContent = "❚❚";
      timer = setInterval(() => {
        s.value = Math.min(+s.max, +s.value + 15); draw(+s.value);
        if (+s.value >= +s.max) { clearInterval(timer); timer = null; }
      }, 200);
    });
    draw(+s.value);
  });
})();
