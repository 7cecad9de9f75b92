"use strict";
// The live operations map. Everything from the feed (names, call signs, destinations, notes) is inserted as
// text (textContent, createTextNode), never as HTML: AIS fields are free text anyone can transmit.
const PALETTE=window.MDA_PALETTE;
const COLORS=PALETTE.categories;
const ZONES=Object.fromEntries(Object.entries(PALETTE.zones).map(([k,v])=>[k,v.colour]));
const SEV=PALETTE.severity_colours;const SEVS=["info","low","medium","high","critical"];
const GLYPH=PALETTE.alert_glyphs;
const $=id=>document.getElementById(id);
const map=L.map("map",{zoomControl:true,preferCanvas:true}).setView([15,-70],5);
window.mdaMap=map;
const vessels=new Map();   // mmsi -> {marker, props, ll}
const alerts=new Map();    // id -> {a, node, marker}
let trackLine=null,highlight=null,selected=null,eventNow=null,lastMsg=0,streamUp=false,feedDown=false,cfg={};
let loaded=false;
const store={get:(k,d)=>{try{const v=localStorage.getItem("mda."+k);return v===null?d:v;}catch(e){return d;}},
 set:(k,v)=>{try{localStorage.setItem("mda."+k,v);}catch(e){}}};

// -- small helpers (the shared ones are in symbols.js) ---------------------------
const {el,words,place,svg}=window.MDA;
function secs(iso){const t=Date.parse(iso);return isNaN(t)?null:t/1000;}
function ago(iso){ // relative to the event clock (a replay's "now" is its event time)
 const t=secs(iso);if(t===null||eventNow===null)return iso||"";const d=Math.max(0,eventNow-t);
 if(d<60)return Math.round(d)+" s ago";if(d<3600)return Math.round(d/60)+" min ago";
 if(d<86400)return (d/3600).toFixed(1)+" h ago";return Math.round(d/86400)+" d ago";}
async function api(path,opts){const r=await fetch(path,Object.assign({credentials:"same-origin"},opts||{}));
 if(!r.ok){let t="";try{t=await r.text();}catch(e){}throw new Error(t||(path+": "+r.status));}return r.json();}
function say(text,bad){const m=$("message");m.textContent=text;m.className=bad?"bad":"";
 clearTimeout(say.t);say.t=setTimeout(()=>{m.textContent="";},6000);}

// -- vessels -------------------------------------------------------------------------
function vesselIcon(p){return window.MDA.vesselIcon(p.category,p.heading_deg??p.cog_deg??0,p.stale);}
function label(p){return p.name||("MMSI "+p.mmsi);}
function upsert(f){const p=f.properties;const ll=[f.geometry.coordinates[1],f.geometry.coordinates[0]];
 let v=vessels.get(p.mmsi);
 if(!v){const m=L.marker(ll,{icon:vesselIcon(p),title:label(p),keyboard:false});m.on("click",()=>showVessel(p.mmsi));
  m.addTo(map);v={marker:m};vessels.set(p.mmsi,v);}
 else{v.marker.setLatLng(ll);v.marker.setIcon(vesselIcon(p));}
 v.props=p;v.ll=ll;v.marker.options.title=label(p);
 if(highlight&&highlight.mmsi===p.mmsi)highlight.ring.setLatLng(ll);}
function highlightVessel(mmsi){if(highlight){map.removeLayer(highlight.ring);highlight=null;}
 const v=vessels.get(mmsi);if(!v)return;
 const ring=L.marker(v.ll,{icon:L.divIcon({className:"mda-highlight",iconSize:[34,34]}),interactive:false,keyboard:false,zIndexOffset:-100});
 ring.addTo(map);highlight={mmsi:mmsi,ring:ring};}
function row(box,k,v){if(v===null||v===undefined||v==="")return;const d=el("div");d.append(el("span",k+" ","k"),el("span",v));box.append(d);}
async function showVessel(mmsi){let v;try{v=await api("/api/vessels/"+mmsi);}catch(e){say("vessel "+mmsi+": "+e.message,true);return;}
 const box=$("vessel-body");highlightVessel(mmsi);
 const head=$("vessel-title");head.textContent=v.name||("MMSI "+v.mmsi);
 box.replaceChildren();
 row(box,"MMSI",v.mmsi);row(box,"IMO",v.imo);row(box,"call sign",v.callsign);
 row(box,"type",words(v.category||"unknown"));
 row(box,"speed / course",(v.sog_kn??"?")+" kn / "+(v.cog_deg??"?")+"°");
 row(box,"destination",v.destination);
 row(box,"last heard",ago(v.time)+" ("+(v.time||"?")+")");
 row(box,"position",place(v.lat,v.lon));
 if(v.alerts&&v.alerts.length){box.append(el("div","Alerts ("+v.alerts.length+")","h"));
  v.alerts.slice(-5).reverse().forEach(a=>{const d=el("div",words(a.type)+" · "+a.severity+" · "+ago(a.time),"sub link");
   d.addEventListener("click",()=>selectAlert(a.id,true));box.append(d);});}
 if(v.risk){box.append(el("div","Risk score "+v.risk.score,"h"));
  (v.risk.factors||[]).forEach(f=>box.append(el("div",words(f.factor)+": "+f.count+" × "+f.weight+" = "+f.points+" — "+f.why,"sub")));}
 if(v.profile){const p=v.profile;box.append(el("div","Profile","h"));
  const calls=p.port_calls||[];box.append(el("div",calls.length+" port call(s)"+(calls.length?": last "+(calls[calls.length-1].name||calls[calls.length-1].zone)+" "+ago(calls[calls.length-1].arrive):""),"sub"));
  const ids=p.identity_history||[];if(ids.length>1)box.append(el("div",ids.length+" identities reported; earlier: "+ids.slice(0,-1).map(i=>i.name||("MMSI "+i.mmsi)).join(", "),"sub"));
  if(p.mmsis&&p.mmsis.length>1)box.append(el("div","MMSIs linked: "+p.mmsis.join(", "),"sub"));}
 $("vessel").style.display="block";
 try{const t=await api("/api/vessels/"+mmsi+"/track");if(trackLine)map.removeLayer(trackLine);
  trackLine=L.polyline(t.geometry.coordinates.map(c=>[c[1],c[0]]),{color:"#000",weight:2,dashArray:"4 4",interactive:false}).addTo(map);
  const times=t.properties.times;if(times.length>1)row(box,"track drawn","since "+ago(times[0])+" ("+times.length+" fixes)");}catch(e){}}
function closeVessel(){$("vessel").style.display="none";if(trackLine){map.removeLayer(trackLine);trackLine=null;}
 if(highlight){map.removeLayer(highlight.ring);highlight=null;}}

// -- alerts --------------------------------------------------------------------------
function alertIcon(a){return window.MDA.alertIcon(a.type,a.severity,a.triage?"triaged":"");}
function vesselWords(a){return (a.vessels||[]).map(v=>v.name||("MMSI "+v.mmsi)).join(" & ");}
function passes(a){const f=filters();
 if(SEVS.indexOf(a.severity)<SEVS.indexOf(f.sev))return false;
 if(f.type&&a.type!==f.type)return false;
 if(f.open&&a.triage)return false;
 if(f.waters&&!(a.authorities||[]).includes(f.waters))return false;
 return true;}
function filters(){return {sev:$("f-sev").value,type:$("f-type").value,open:$("f-open").checked,waters:$("f-waters").value};}
function triageLine(t){if(!t)return "not yet triaged";
 return words(t.state)+(t.reason?" ("+words(t.reason)+")":"")+" by "+t.officer+", "+wallAgo(t.time_s)+(t.note?": "+t.note:"");}
function wallAgo(s){const d=Math.max(0,Date.now()/1000-s);if(d<60)return "just now";if(d<3600)return Math.round(d/60)+" min ago";
 return (d/3600).toFixed(1)+" h ago";}
function alertNode(a){const d=el("div",undefined,"alert sev-"+a.severity+(a.triage?" triaged":""));d.dataset.id=a.id;
 const top=el("div",undefined,"t");top.append(el("span",a.severity,"badge sev-"+a.severity),
  document.createTextNode(" "+words(a.type)+" · "+a.status));
 d.append(top,el("div",vesselWords(a)||"(no vessel)","v"),el("div",ago(a.time)+(a.position?" · "+place(a.position.lat,a.position.lon):""),"when"),
  el("div",triageLine(a.triage),"tri"));
 d.addEventListener("click",ev=>{if(ev.target.closest(".controls"))return;selectAlert(a.id,true);});
 if(selected===a.id)expand(d,a);
 return d;}
function expand(d,a){d.classList.add("selected");
 const c=el("div",undefined,"controls");c.append(el("div",a.summary,"summary"));
 const note=el("input");note.placeholder="note (optional)";note.className="note";
 const reason=el("select");reason.className="reason";reason.append(el("option","false alarm because…"));
 reason.options[0].value="";
 Object.entries(cfg.reasons||{}).forEach(([k,v])=>{const o=el("option",v);o.value=k;reason.append(o);});
 const bar=el("div",undefined,"buttons");
 [["acknowledge","Ack"],["false_alarm","False alarm"],["escalate","Escalate"],["close","Close"],["reopen","Reopen"]].forEach(([act,txt])=>{
  const b=el("button",txt);b.dataset.action=act;b.addEventListener("click",ev=>{ev.stopPropagation();triage(a.id,act,note.value,reason.value);});bar.append(b);});
 const trail=el("div",undefined,"trail");
 c.append(reason,note,bar,trail);d.append(c);
 api("/api/alerts/"+encodeURIComponent(a.id)+"/triage").then(h=>{trail.replaceChildren(...h.map(e=>el("div",e.time+" "+words(e.action)+(e.reason?" ("+words(e.reason)+")":"")+" — "+e.officer+(e.note?": "+e.note:""))));}).catch(()=>{});}
async function triage(id,action,note,reason){const officer=$("officer").value.trim();
 if(!officer){say("Type your name in the 'officer' box first: every action is kept with it.",true);$("officer").focus();return;}
 if(action==="false_alarm"&&!reason){say("Choose why it is a false alarm.",true);return;}
 try{await api("/api/alerts/"+encodeURIComponent(id)+"/triage",{method:"POST",headers:{"Content-Type":"application/json"},
  body:JSON.stringify({action:action,officer:officer,note:note,reason:action==="false_alarm"?reason:null})});
  say(words(action)+" recorded");}catch(e){say("not recorded: "+e.message,true);}}
function render(id){const x=alerts.get(id);if(!x)return;const a=x.a;const show=passes(a);
 const list=$("alerts");const node=alertNode(a);
 if(x.node&&x.node.parentNode)x.node.replaceWith(node);else list.prepend(node);x.node=node;node.style.display=show?"":"none";
 if(a.position){if(!x.marker){x.marker=L.marker([a.position.lat,a.position.lon],{icon:alertIcon(a),zIndexOffset:1000,
   title:words(a.type)+" ("+a.severity+")",keyboard:false});x.marker.on("click",()=>selectAlert(id,false));
   x.marker.bindPopup(()=>popup(alerts.get(id).a));}
  else{x.marker.setLatLng([a.position.lat,a.position.lon]);x.marker.setIcon(alertIcon(a));}
  if(show&&!map.hasLayer(x.marker))x.marker.addTo(map);if(!show&&map.hasLayer(x.marker))map.removeLayer(x.marker);}
 counts();}
function popup(a){const d=el("div");d.append(el("b",words(a.type)+" · "+a.severity+" · "+a.status),el("div",a.summary),
 el("div",ago(a.time),"sub"),el("div",triageLine(a.triage),"sub"));return d;}
function addWaters(list){const sel=$("f-waters");const have=new Set([...sel.options].map(o=>o.value));
 (list||[]).forEach(w=>{if(!have.has(w)){const o=el("option",w);o.value=w;sel.append(o);have.add(w);}});}
function addAlert(a,live){addWaters(a.authorities);const old=alerts.get(a.id);const x=old||{a:a};x.a=a;alerts.set(a.id,x);
 if(old&&old.node&&old.node.parentNode){old.node.remove();old.node=null;}
 render(a.id);if(live&&loaded&&(a.severity==="high"||a.severity==="critical")&&a.status==="open")alarm(a);}
function refilter(){for(const id of alerts.keys())render(id);}
function selectAlert(id,fly){const x=alerts.get(id);if(!x)return;const prev=selected;selected=id;
 if(prev&&prev!==id)render(prev);render(id);const a=x.a;
 if(a.position&&fly)map.flyTo([a.position.lat,a.position.lon],Math.max(map.getZoom(),10),{duration:0.5});
 if(x.marker&&map.hasLayer(x.marker))x.marker.openPopup();
 const m=(a.vessels||[])[0];if(m){if(vessels.has(m.mmsi))showVessel(m.mmsi);else highlightVessel(m.mmsi);}
 x.node.scrollIntoView({block:"nearest"});}
function counts(){let open=0,n=0;for(const x of alerts.values()){n++;if(!x.a.triage)open++;}
 $("count").textContent=n+" alerts, "+open+" not yet triaged · "+vessels.size+" vessels";}

// -- flash and sound -----------------------------------------------------------------
let audio=null;
function beep(times){window.mdaLastSound={times:times,at:Date.now()};
 if(store.get("sound","on")!=="on")return;
 try{audio=audio||new (window.AudioContext||window.webkitAudioContext)();
  for(let i=0;i<times;i++){const o=audio.createOscillator();const g=audio.createGain();o.frequency.value=880;
   o.connect(g);g.connect(audio.destination);const t=audio.currentTime+i*0.35;g.gain.setValueAtTime(0.2,t);
   g.gain.setValueAtTime(0,t+0.25);o.start(t);o.stop(t+0.3);}}catch(e){}}
function alarm(a){const f=$("flash");f.replaceChildren(el("b",a.severity.toUpperCase()+": "+words(a.type)),
 document.createTextNode(" "+(vesselWords(a)||"")+" — "+a.summary));f.className="on sev-"+a.severity;
 f.onclick=()=>{f.className="";selectAlert(a.id,true);};clearTimeout(alarm.t);alarm.t=setTimeout(()=>{f.className="";},8000);
 beep(a.severity==="critical"?3:1);}
function soundButton(){const b=$("sound");b.textContent=store.get("sound","on")==="on"?"sound: on":"sound: off";b.title="sound for high and critical alerts";}

// -- search --------------------------------------------------------------------------
function search(q){const out=$("results");out.replaceChildren();q=q.trim().toUpperCase();if(!q)return [];
 const hits=[];for(const v of vessels.values()){const p=v.props;
  if((p.name&&p.name.toUpperCase().includes(q))||String(p.mmsi).startsWith(q)||(p.imo&&String(p.imo).startsWith(q.replace(/^IMO\s*/,"")))||
   (p.callsign&&p.callsign.toUpperCase().startsWith(q)))hits.push(p);if(hits.length>=8)break;}
 hits.forEach(p=>{const d=el("div",label(p)+" · MMSI "+p.mmsi+(p.imo?" · IMO "+p.imo:"")+(p.callsign?" · "+p.callsign:""),"hit");
  d.addEventListener("click",()=>pick(p.mmsi));out.append(d);});
 if(!hits.length)out.append(el("div","no vessel matches","hit none"));return hits;}
function pick(mmsi){const v=vessels.get(mmsi);if(!v)return;$("results").replaceChildren();map.flyTo(v.ll,Math.max(map.getZoom(),11),{duration:0.5});showVessel(mmsi);}

// -- clock and status ----------------------------------------------------------------
function status(){const s=$("status");const since=lastMsg?Math.round((Date.now()-lastMsg)/1000):null;
 const clock=eventNow!==null?new Date(eventNow*1000).toISOString().replace("T"," ").slice(0,19)+"Z":"—";
 $("clock").textContent="event time "+clock;
 $("updated").textContent=since===null?"no update yet":"updated "+since+" s ago";
 let text,bad=false;
 if(!streamUp){text=lastMsg?"event stream down: reconnecting… (showing the last picture)":"connecting…";bad=!!lastMsg;}
 else if(feedDown){text="alert feed down (Redis): showing what came before, reconnecting…";bad=true;}
 else if(since!==null&&since>60){text="live, but nothing heard for "+since+" s (feed quiet or receiver down?)";bad=true;}
 else text="live";
 s.textContent=text;s.className=bad?"bad":"ok";}

// the run's own figures (the same as /metrics), every 10 s
function num(n){return n>=1e6?(n/1e6).toFixed(1)+"M":n>=1e4?Math.round(n/1e3)+"k":String(n);}
async function figures(){let f;try{f=await api("/api/status");}catch(e){return;}
 if(!f||f.uptime_s===undefined){return;}
 const parts=[];
 if(f.lines!==undefined){const rej=Object.values(f.rejected||{}).reduce((a,b)=>a+b,0);
  const lags=Object.values(f.lag_s||{});const lag=lags.length?Math.min(...lags):null;
  const backlog=(f.sinks||[]).reduce((a,k)=>a+k.backlog,0);const fails=(f.sinks||[]).reduce((a,k)=>a+k.failures,0);
  parts.push(num(f.lines)+" lines",num(rej)+" rejected",num(f.late_positions)+" late");
  if(lag!==null)parts.push("lag "+Math.round(lag)+" s");
  parts.push("backlog "+backlog+(fails?" ("+fails+" failed deliveries)":""));}
 if(f.skipped_entries)parts.push(f.skipped_entries+" stream entries skipped");
 parts.push(Math.round(f.memory_bytes/1048576)+" MB");
 if(f.ready===false)parts.push("NOT READY: "+f.reasons.join("; "));
 const box=$("figures");box.textContent=parts.join(" · ");box.className=f.ready===false?"sub bad":"sub";}

// -- legend --------------------------------------------------------------------------
function legend(){const box=$("legend-body");box.replaceChildren();
 box.append(el("div","Vessels (arrow, by type)","h"));
 Object.entries(COLORS).forEach(([k,c])=>{const d=el("div");d.append(window.MDA.arrow(c,0,12),document.createTextNode(" "+words(k)));box.append(d);});
 box.append(el("div","Alerts (diamond, letter = type, rim = severity)","h"));
 Object.entries(GLYPH).forEach(([k,g])=>{const d=el("div");d.append(el("b",g,"glyph"),document.createTextNode(" "+words(k)));box.append(d);});
 SEVS.slice().reverse().forEach(s=>{const d=el("div");d.append(el("span","◆","sw"),document.createTextNode(" "+s));d.firstChild.style.color=SEV[s];box.append(d);});
 box.append(el("div","Zones","h"));
 Object.entries(ZONES).forEach(([k,c])=>{const d=el("div");const sw=el("span","■","sw");sw.style.color=c;d.append(sw,document.createTextNode(" "+words(k)));box.append(d);});}

// -- arrivals ------------------------------------------------------------------------
let arrSort="risk",arrRows=[],arrGone=[];
async function loadPorts(){try{const ports=await api("/api/ports");const sel=$("arr-port");
 ports.forEach(p=>{const o=el("option",p.name+(p.locode?" ("+p.locode+")":"")+" · "+p.country);o.value=p.id;sel.append(o);});
 if(!ports.length)$("arr-status").textContent="no arrivals board: this map is not fed by a pipeline";}catch(e){}}
function eta(a){return a.eta_track||a.eta_declared||"~";}
function drawArrivals(){const box=$("arr-rows");box.replaceChildren();
 const rows=arrRows.slice().sort((x,y)=>arrSort==="risk"?(y.risk-x.risk)||eta(x).localeCompare(eta(y)):eta(x).localeCompare(eta(y)));
 rows.forEach(a=>{const d=el("div",undefined,"arr");d.dataset.mmsi=a.mmsi;
  d.append(el("span","risk "+a.risk+" ","risk"),document.createTextNode((a.name||("MMSI "+a.mmsi))+" · "+words(a.basis)),
   el("div","declared: "+(a.declared_text||"nothing")+" · ETA declared "+(a.eta_declared?ago2(a.eta_declared):"—")+
    " · by track "+(a.eta_track?ago2(a.eta_track):"—")+(a.distance_nm!=null?" · "+a.distance_nm+" nm":""),"sub"),
   el("div",a.reason||"","sub why"),
   el("div",a.factors.map(f=>words(f.factor)+" ×"+f.count).join("; ")||"no risk factor","sub"));
  d.addEventListener("click",()=>{if(vessels.has(a.mmsi))pick(a.mmsi);else showVessel(a.mmsi);});box.append(d);});
 if(arrGone.length){box.append(el("div","Declared, not coming ("+arrGone.length+")","arr-gone-head"));
  arrGone.forEach(a=>{const d=el("div",undefined,"arr gone");d.dataset.mmsi=a.mmsi;
   d.append(document.createTextNode(a.name||("MMSI "+a.mmsi)),el("div",a.reason||"","sub why"));
   d.addEventListener("click",()=>{if(vessels.has(a.mmsi))pick(a.mmsi);else showVessel(a.mmsi);});box.append(d);});}
 $("arr-sort-risk").classList.toggle("on",arrSort==="risk");$("arr-sort-eta").classList.toggle("on",arrSort==="eta");}
function ago2(iso){const t=secs(iso);if(t===null||eventNow===null)return iso;const d=t-eventNow;
 const h=Math.abs(d)/3600;const txt=h<1?Math.round(h*60)+" min":h.toFixed(1)+" h";return d>=0?"in "+txt:txt+" ago";}
async function loadArrivals(){const port=$("arr-port").value;if(!port){arrRows=[];drawArrivals();return;}
 $("arr-status").textContent="reckoning…";
 try{const b=await api("/api/arrivals?port="+encodeURIComponent(port)+"&hours="+$("arr-hours").value);arrRows=b.arrivals;arrGone=b.declared_not_coming||[];
  $("arr-status").textContent=b.arrivals.length+" expected at "+b.port.name+" in "+b.hours+" h (as of "+(b.as_of||"—")+")";}
 catch(e){arrRows=[];arrGone=[];$("arr-status").textContent="board unavailable: "+e.message;}
 drawArrivals();}

// -- start ---------------------------------------------------------------------------
function wire(){
 $("officer").value=store.get("officer","");$("officer").addEventListener("change",e=>store.set("officer",e.target.value.trim()));
 soundButton();$("sound").addEventListener("click",()=>{store.set("sound",store.get("sound","on")==="on"?"off":"on");soundButton();if(store.get("sound","on")==="on")beep(1);});
 ["f-sev","f-type","f-open","f-waters"].forEach(id=>$(id).addEventListener("change",refilter));
 Object.keys(GLYPH).forEach(t=>{const o=el("option",words(t));o.value=t;$("f-type").append(o);});
 $("search").addEventListener("input",e=>search(e.target.value));
 $("search").addEventListener("keydown",e=>{if(e.key==="Enter"){const h=search(e.target.value);if(h.length)pick(h[0].mmsi);}
  if(e.key==="Escape"){e.target.value="";$("results").replaceChildren();}});
 $("vessel-close").addEventListener("click",closeVessel);
 $("panel-close").addEventListener("click",()=>document.body.classList.add("panel-hidden"));
 $("panel-open").addEventListener("click",()=>document.body.classList.remove("panel-hidden"));
 $("legend-toggle").addEventListener("click",()=>$("legend").classList.toggle("open"));
 $("arrivals-open").addEventListener("click",()=>{$("arrivals").style.display="block";loadArrivals();});
 $("arrivals-close").addEventListener("click",()=>{$("arrivals").style.display="none";});
 $("arr-port").addEventListener("change",loadArrivals);$("arr-hours").addEventListener("change",loadArrivals);
 $("arr-sort-risk").addEventListener("click",()=>{arrSort="risk";drawArrivals();});
 $("arr-sort-eta").addEventListener("click",()=>{arrSort="eta";drawArrivals();});
 loadPorts();legend();setInterval(status,1000);status();setInterval(figures,10000);figures();}
function backdrop(){ // land and zones after the vessels: cached by the browser (they change only with a new version)
 api("/api/land").then(land=>{L.geoJSON(land,{interactive:false,style:{color:"#5d6d7e",weight:1,fillColor:"#e8e3d3",fillOpacity:1}}).addTo(map).bringToBack();
  window.mdaLandDrawn=performance.now();}).catch(()=>{});
 if(cfg.tile_url)L.tileLayer(cfg.tile_url,{maxZoom:14}).addTo(map);
 api("/api/zones").then(z=>{L.geoJSON(z,{style:f=>({color:ZONES[f.properties.kind]||"#fb8c00",weight:1,
  fillOpacity:f.properties.kind==="eez"?0:.15}),onEachFeature:(f,l)=>l.bindTooltip(document.createTextNode(f.properties.name+" ("+words(f.properties.kind)+")"))}).addTo(map);
  window.mdaZonesDrawn=performance.now();}).catch(()=>{});}
async function start(){wire();
 try{cfg=await api("/api/config");}catch(e){cfg={};}
 addWaters(cfg.authorities);
 const [vs,al]=await Promise.all([api("/api/vessels"),api("/api/alerts")]);
 if(vs.now)eventNow=secs(vs.now);vs.features.forEach(upsert);
 al.reverse().forEach(a=>addAlert(a,false));
 window.mdaFirstPaint=performance.now();
 backdrop();
 const es=new EventSource("/api/events");
 const seen=()=>{lastMsg=Date.now();streamUp=true;};
 es.addEventListener("hello",ev=>{seen();let d={};try{d=JSON.parse(ev.data);}catch(e){}feedDown=!!d.feed_down;if(d.now)eventNow=Math.max(eventNow||0,secs(d.now));status();});
 es.addEventListener("ping",seen);
 es.addEventListener("feed",ev=>{seen();feedDown=JSON.parse(ev.data).down;status();});
 es.addEventListener("positions",ev=>{seen();const d=JSON.parse(ev.data);if(d.now)eventNow=Math.max(eventNow||0,secs(d.now));d.features.forEach(upsert);counts();});
 es.addEventListener("alert",ev=>{seen();const a=JSON.parse(ev.data);if(a.time)eventNow=Math.max(eventNow||0,secs(a.time));addAlert(a,true);});
 es.addEventListener("triage",ev=>{seen();const t=JSON.parse(ev.data);const x=alerts.get(t.alert_id);
  if(x){x.a.triage=t.state?t:null;x.a.acknowledged=!!t.state;render(t.alert_id);}});
 es.onerror=()=>{streamUp=false;status();};
 loaded=true;counts();window.mdaReady=true;}
start();
