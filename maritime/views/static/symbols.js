"use strict";
// Symbols and wording shared by the live and replay maps (one look for both): vessel arrows filled by type,
// alert diamonds (white, a letter for the type, the rim in the severity's colour), text helpers.
// Everything is built with DOM calls: names and notes from the feed are never parsed as HTML.
(function () {
  const P = window.MDA_PALETTE;
  const NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  }
  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function words(s) { return String(s || "").replace(/_/g, " "); }
  function place(lat, lon) {
    return Math.abs(lat).toFixed(2) + "°" + (lat >= 0 ? "N" : "S") + " " + Math.abs(lon).toFixed(2) + "°" + (lon >= 0 ? "E" : "W");
  }
  function arrow(colour, angle, size) {
    const s = svg("svg", {width: size, height: size, viewBox: "-8 -8 16 16"});
    s.appendChild(svg("path", {d: "M0,-7 L5,6 L0,3 L-5,6 Z", fill: colour, stroke: "#222", "stroke-width": 0.8,
                               transform: "rotate(" + Number(angle || 0) + ")"}));
    return s;
  }
  function diamond(type, severity) {
    const c = P.severity_colours[severity] || P.severity_colours.medium;
    const big = severity === "critical" || severity === "high";
    const n = big ? 26 : 22, h = n / 2;
    const s = svg("svg", {width: n, height: n, viewBox: "0 0 " + n + " " + n});
    if (severity === "critical") s.appendChild(svg("path", {d: `M${h},0 L${n},${h} L${h},${n} L0,${h} Z`, fill: c}));
    const i = severity === "critical" ? 3 : 1;
    s.appendChild(svg("path", {d: `M${h},${i} L${n - i},${h} L${h},${n - i} L${i},${h} Z`, fill: "#fff", stroke: c,
                               "stroke-width": 3}));
    const t = svg("text", {x: h, y: h + 3.5, "text-anchor": "middle", "font-size": 9, "font-weight": "bold",
                           "font-family": "sans-serif", fill: "#000"});
    t.textContent = P.alert_glyphs[type] || "!";
    s.appendChild(t);
    return {node: s, size: n};
  }
  function alertIcon(type, severity, extra) {
    const d = diamond(type, severity);
    const div = document.createElement("div");
    div.appendChild(d.node);
    return L.divIcon({html: div, className: "alert-icon alert-marker sev-" + severity + (extra ? " " + extra : ""),
                      iconSize: [d.size, d.size]});
  }
  function vesselIcon(category, angle, stale) {
    const div = document.createElement("div");
    div.appendChild(arrow(stale ? "#bdbdbd" : (P.categories[category] || P.categories.unknown), angle, 16));
    return L.divIcon({html: div, className: "vessel-icon", iconSize: [16, 16]});
  }
  window.MDA = {svg, el, words, place, arrow, diamond, alertIcon, vesselIcon,
                SEVERITIES: ["info", "low", "medium", "high", "critical"]};
})();
