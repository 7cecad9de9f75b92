"use strict";
// the one palette, shared with the replay map (served from maritime/views/static/palette.json)
const PALETTE=window.MDA_PALETTE;
const COLORS=PALETTE.categories;
const ZONES=Object.fromEntries(Object.entries(PALETTE.zones).map(([k,v])=>[k,v.colour]));
const map=L.map("map",{zoomControl:true}).setView([15,-70],5);
window.mdaMap=map;
const markers=new Map();let trackLine=null;
function el(tag,text,cls){const e=document.createElement(tag);if(text!==undefined)e.textContent=text;if(cls)e.className=cls;return e;}
function icon(p){const c=p.stale?"#bdbdbd":(COLORS[p.category]||"#9e9e9e");const a=(p.heading_deg??p.cog_deg??0);
 const svg=document.createElementNS("http://www.w3.org/2000/svg","svg");svg.setAttribute("width","16");svg.setAttribute("height","16");
 svg.setAttribute("viewBox","-8 -8 16 16");const path=document.createElementNS("http://www.w3.org/2000/svg","path");
 path.setAttribute("d","M0,-7 L5,6 L0,3 L-5,6 Z");path.setAttribute("fill",c);path.setAttribute("stroke","#222");
 path.setAttribute("stroke-width","0.8");path.setAttribute("transform","rotate("+Number(a)+")");svg.appendChild(path);
 const div=document.createElement("div");div.appendChild(svg);
 return L.divIcon({html:div,className:"vessel-icon",iconSize:[16,16]});}
function upsert(f){const p=f.properties;const ll=[f.geometry.coordinates[1],f.geometry.coordinates[0]];
 let m=markers.get(p.mmsi);if(!m){m=L.marker(ll,{icon:icon(p),title:(p.name||("MMSI "+p.mmsi))});
 m.on("click",()=>showVessel(p.mmsi));m.addTo(map);markers.set(p.mmsi,m);}else{m.setLatLng(ll);m.setIcon(icon(p));}
 m.options.title=p.name||("MMSI "+p.mmsi);}
async function api(path,opts){const r=await fetch(path,Object.assign({credentials:"same-origin"},opts||{}));
 if(!r.ok)throw new Error(path+": "+r.status);return r.json();}
async function showVessel(mmsi){const v=await api("/api/vessels/"+mmsi);const box=document.getElementById("vessel");
 box.replaceChildren(el("b",v.name||("MMSI "+v.mmsi)),el("div","MMSI "+v.mmsi+(v.callsign?" · "+v.callsign:"")),
 el("div",(v.category||"unknown")+" · "+(v.sog_kn??"?")+" kn · "+(v.cog_deg??"?")+"°"),el("div","last heard "+v.time),
 el("div",v.alerts.length+" alert(s)"));
 if(v.risk){box.append(el("div","risk "+v.risk.score,"t"));
  v.risk.factors.slice(0,3).forEach(f=>box.append(el("div","· "+f.factor+" ×"+f.count+" = "+f.points+" ("+f.why+")")));}
 box.style.display="block";
 try{const t=await api("/api/vessels/"+mmsi+"/track");if(trackLine)map.removeLayer(trackLine);
 trackLine=L.polyline(t.geometry.coordinates.map(c=>[c[1],c[0]]),{color:"#000",weight:2,dashArray:"4 4"}).addTo(map);}catch(e){}}
function alertNode(a){const d=el("div",undefined,"alert sev-"+a.severity+(a.acknowledged?" acked":""));d.dataset.id=a.id;
 const b=el("button","ack");b.onclick=async(ev)=>{ev.stopPropagation();
 await api("/api/alerts/"+encodeURIComponent(a.id)+"/ack",{method:"POST"});d.classList.add("acked");};
 d.append(b,el("div",a.type.replace(/_/g," ")+" · "+a.status+" · "+a.severity,"t"),el("div",a.summary),el("small",a.time));
 d.onclick=()=>{if(a.position)map.flyTo([a.position.lat,a.position.lon],10);};return d;}
function addAlert(a){const list=document.getElementById("alerts");
 const old=list.querySelector('[data-id="'+CSS.escape(a.id)+'"]');if(old)old.remove();list.prepend(alertNode(a));}
async function start(){
 try{const land=await api("/api/land");L.geoJSON(land,{style:{color:"#5d6d7e",weight:1,fillColor:"#e8e3d3",fillOpacity:1}}).addTo(map);}catch(e){}
 try{const cfg=await api("/api/config");if(cfg.tile_url)L.tileLayer(cfg.tile_url,{maxZoom:14}).addTo(map);}catch(e){}
 try{const z=await api("/api/zones");L.geoJSON(z,{style:f=>({color:ZONES[f.properties.kind]||"#fb8c00",weight:1,
  fillOpacity:f.properties.kind==="eez"?0:.15}),onEachFeature:(f,l)=>l.bindTooltip(document.createTextNode(f.properties.name))}).addTo(map);}catch(e){}
 const vs=await api("/api/vessels");vs.features.forEach(upsert);
 const al=await api("/api/alerts");al.reverse().forEach(addAlert);
 const es=new EventSource("/api/events");
 const feed=down=>{document.getElementById("status").textContent=down?
  "alert feed down (Redis): showing what came before, reconnecting…":"live";};
 es.addEventListener("hello",ev=>{let d={};try{d=JSON.parse(ev.data);}catch(e){}feed(!!d.feed_down);});
 es.addEventListener("feed",ev=>feed(JSON.parse(ev.data).down));
 es.addEventListener("positions",ev=>{const d=JSON.parse(ev.data);d.features.forEach(upsert);});
 es.addEventListener("alert",ev=>addAlert(JSON.parse(ev.data)));
 es.addEventListener("ack",ev=>{const n=document.querySelector('[data-id="'+CSS.escape(JSON.parse(ev.data).id)+'"]');if(n)n.classList.add("acked");});
 es.onerror=()=>{document.getElementById("status").textContent="reconnecting…";};
 window.mdaReady=true;}
start();
