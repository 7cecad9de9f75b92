// folium builds popup content with jQuery's $(html)[0]; the offline page has no jQuery, so a template element parses it.
window.$ = window.$ || function (h) { const t = document.createElement("template"); t.innerHTML = String(h).trim(); return [t.content.firstChild]; };
