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
// the vocabulary in the page's language (/api/vocabulary): alert type names and explanations, words for statuses
let V={types:{},statuses:{},severities:{},nav_status:{},page:{}};
const _=s=>(V.page&&V.page[s])||s;
const tname=t=>(V.types[t]&&V.types[t].name)||String(t||"").replace(/_/g," ");
const texplain=t=>(V.types[t]&&V.types[t].explain)||"";
const sword=s=>V.statuses[s]||s;const sevword=s=>V.severities[s]||s;
const store={get:(k,d)=>{try{const v=localStorage.getItem("mda."+k);return v===null?d:v;}catch(e){return d;}},
 set:(k,v)=>{try{localStorage.setItem("mda."+k,v);}catch(e){}}};

// -- small helpers (the shared ones are in symbols.js) ---------------------------
const {el,words,place,svg}=window.MDA;
function secs(iso){const t=Date.parse(iso);return isNaN(t)?null:t/1000;}
function ago(iso){ // relative to the event clock (a replay's "now" is its event time)
 const t=secs(iso);if(t===null||eventNow===null)return iso||"";const d=Math.max(0,eventNow-t);
 if(d<60)return _("{n} s ago").replace("{n}",Math.round(d));if(d<3600)return _("{n} min ago").replace("{n}",Math.round(d/60));
 if(d<86400)return _("{n} h ago").replace("{n}",(d/3600).toFixed(1));return _("{n} d ago").replace("{n}",Math.round(d/86400));}
async function api(path,opts){const r=await fetch(path,Object.assign({credentials:"same-origin"},opts||{}));
 if(!r.ok){let t="";try{t=await r.text();}catch(e){}throw new Error(t||(path+": "+r.status));}return r.json();}
function say(text,bad){const m=$("message");m.textContent=text;m.className=bad?"bad":"";
 clearTimeout(say.t);say.t=setTimeout(()=>{m.textContent="";},6000);}

// -- vessels -------------------------------------------------------------------------
function vesselIcon(p){return window.MDA.vesselIcon(p.category,p.heading_deg??p.cog_deg??0,p.stale);}
function label(p){return p.name||("MMSI "+p.mmsi);}
function nameOf(v){if(v.name)return v.name;const k=vessels.get(v.mmsi);return (k&&k.props.name)||("MMSI "+v.mmsi);}
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
// a track is drawn solid; a silence longer than GAP_S is dashed, as dark gaps are in the replay map
const GAP_S=1800;
function drawTrack(t){if(trackLine)map.removeLayer(trackLine);trackLine=L.layerGroup().addTo(map);
 if(t.geometry.type!=="LineString")return;const c=t.geometry.coordinates,tt=t.properties.times.map(secs);let run=[[c[0][1],c[0][0]]];
 for(let i=1;i<c.length;i++){const ll=[c[i][1],c[i][0]];
  if(tt[i]-tt[i-1]>GAP_S){if(run.length>1)L.polyline(run,{color:"#000",weight:2,interactive:false}).addTo(trackLine);
   L.polyline([run[run.length-1],ll],{color:"#555",weight:2,dashArray:"6 6",interactive:false}).addTo(trackLine);run=[ll];}
  else run.push(ll);}
 if(run.length>1)L.polyline(run,{color:"#000",weight:2,interactive:false}).addTo(trackLine);}
async function showVessel(mmsi,since){let v;try{v=await api("/api/vessels/"+mmsi);}catch(e){say(_("vessel")+" "+mmsi+": "+e.message,true);return;}
 const box=$("vessel-body");highlightVessel(mmsi);
 const head=$("vessel-title");head.textContent=v.name||("MMSI "+v.mmsi);
 box.replaceChildren();
 row(box,"MMSI",v.mmsi);row(box,"IMO",v.imo);row(box,_("call sign"),v.callsign);
 row(box,_("type"),_(words(v.category||"unknown")));
 row(box,_("speed / course"),(v.sog_kn??"?")+" kn / "+(v.cog_deg??"?")+"°");
 row(box,_("destination"),v.destination);
 row(box,_("last heard"),ago(v.time)+" ("+(v.time||"?")+")");
 row(box,_("position"),place(v.lat,v.lon));
 if(v.alerts&&v.alerts.length){box.append(el("div",_("Alerts")+" ("+v.alerts.length+")","h"));
  v.alerts.slice(-5).reverse().forEach(a=>{const d=el("div",tname(a.type)+" · "+sevword(a.severity)+" · "+ago(a.time),"sub link");
   d.addEventListener("click",()=>selectAlert(a.id,true));box.append(d);});}
 if(v.risk){box.append(el("div","Risk score "+v.risk.score,"h"));
  (v.risk.factors||[]).forEach(f=>box.append(el("div",words(f.factor)+": "+f.count+" × "+f.weight+" = "+f.points+" — "+f.why,"sub")));}
 if(v.profile){const p=v.profile;box.append(el("div","Profile","h"));
  const calls=p.port_calls||[];box.append(el("div",calls.length+" port call(s)"+(calls.length?": last "+(calls[calls.length-1].name||calls[calls.length-1].zone)+" "+ago(calls[calls.length-1].arrive):""),"sub"));
  const ids=p.identity_history||[];if(ids.length>1)box.append(el("div",ids.length+" identities reported; earlier: "+ids.slice(0,-1).map(i=>i.name||("MMSI "+i.mmsi)).join(", "),"sub"));
  if(p.mmsis&&p.mmsis.length>1)box.append(el("div","MMSIs linked: "+p.mmsis.join(", "),"sub"));}
 $("vessel").style.display="block";
 // the track since the selected alert began (an hour before), else the last 3 h
 const from=since!==undefined&&secs(since)!==null?secs(since)-3600:(eventNow!==null?eventNow-3*3600:null);
 try{const t=await api("/api/vessels/"+mmsi+"/track"+(from!==null?"?since="+encodeURIComponent(new Date(from*1000).toISOString()):""));
  drawTrack(t);const times=t.properties.times;
  if(times.length>1)row(box,_("track drawn"),_("since")+" "+ago(times[0])+" ("+times.length+" "+_("fixes")+")");}catch(e){}
 targetsRef=mmsi;drawTargets();}
function closeVessel(){$("vessel").style.display="none";if(trackLine){map.removeLayer(trackLine);trackLine=null;}
 if(highlight){map.removeLayer(highlight.ring);highlight=null;}}

// -- alerts --------------------------------------------------------------------------
function alertIcon(a){return window.MDA.alertIcon(a.type,a.severity,a.triage?"triaged":"");}
function vesselWords(a){return (a.vessels||[]).map(nameOf).join(" & ");}
function passes(a){const f=filters();
 if(SEVS.indexOf(a.severity)<SEVS.indexOf(f.sev))return false;
 if(f.type&&a.type!==f.type)return false;
 if(f.open&&a.triage)return false;
 if(f.waters&&!(a.authorities||[]).includes(f.waters))return false;
 return true;}
function filters(){return {sev:$("f-sev").value,type:$("f-type").value,open:$("f-open").checked,waters:$("f-waters").value};}
function triageLine(t){if(!t)return _("not yet triaged");
 return _(words(t.state))+(t.reason?" ("+words(t.reason)+")":"")+" "+_("by")+" "+t.officer+", "+wallAgo(t.time_s)+(t.note?": "+t.note:"");}
function wallAgo(s){const d=Math.max(0,Date.now()/1000-s);if(d<60)return _("just now");if(d<3600)return _("{n} min ago").replace("{n}",Math.round(d/60));
 return _("{n} h ago").replace("{n}",(d/3600).toFixed(1));}
function alertNode(a){const d=el("div",undefined,"alert sev-"+a.severity+(a.triage?" triaged":""));d.dataset.id=a.id;
 const top=el("div",undefined,"t");top.append(el("span",sevword(a.severity),"badge sev-"+a.severity),
  document.createTextNode(" "+(GLYPH[a.type]?"["+GLYPH[a.type]+"] ":"")+tname(a.type)+" · "+sword(a.status)));
 d.append(top,el("div",vesselWords(a)||_("(no vessel)"),"v"),el("div",ago(a.time)+(a.position?" · "+place(a.position.lat,a.position.lon):""),"when"),
  el("div",triageLine(a.triage),"tri"));
 d.addEventListener("click",ev=>{if(ev.target.closest(".controls"))return;selectAlert(a.id,true);});
 if(selected===a.id)expand(d,a);
 return d;}
function expand(d,a){d.classList.add("selected");
 const c=el("div",undefined,"controls");c.append(el("div",a.summary,"summary"),el("div",texplain(a.type),"explain"));
 const note=el("input");note.placeholder=_("note (optional)");note.className="note";
 const reason=el("select");reason.className="reason";reason.append(el("option",_("false alarm because…")));
 reason.options[0].value="";
 Object.entries(cfg.reasons||{}).forEach(([k,v])=>{const o=el("option",v);o.value=k;reason.append(o);});
 const bar=el("div",undefined,"buttons");
 [["acknowledge",_("Ack")],["false_alarm",_("False alarm")],["escalate",_("Escalate")],["close",_("Close")],["reopen",_("Reopen")]].forEach(([act,txt])=>{
  const b=el("button",txt);b.dataset.action=act;b.addEventListener("click",ev=>{ev.stopPropagation();triage(a.id,act,note.value,reason.value);});bar.append(b);});
 const trail=el("div",undefined,"trail");
 c.append(reason,note,bar,trail);d.append(c);
 api("/api/alerts/"+encodeURIComponent(a.id)+"/triage").then(h=>{trail.replaceChildren(...h.map(e=>el("div",e.time+" "+words(e.action)+(e.reason?" ("+words(e.reason)+")":"")+" — "+e.officer+(e.note?": "+e.note:""))));}).catch(()=>{});}
async function triage(id,action,note,reason){const officer=$("officer").value.trim();
 if(!officer){say(_("Type your name in the 'officer' box first: every action is kept with it."),true);$("officer").focus();return;}
 if(action==="false_alarm"&&!reason){say(_("Choose why it is a false alarm."),true);return;}
 try{await api("/api/alerts/"+encodeURIComponent(id)+"/triage",{method:"POST",headers:{"Content-Type":"application/json"},
  body:JSON.stringify({action:action,officer:officer,note:note,reason:action==="false_alarm"?reason:null})});
  say(_(words(action))+": "+_("recorded"));}catch(e){say(_("not recorded")+": "+e.message,true);}}
function render(id){const x=alerts.get(id);if(!x)return;const a=x.a;const show=passes(a);
 const list=$("alerts");const node=alertNode(a);
 if(x.node&&x.node.parentNode)x.node.replaceWith(node);else list.prepend(node);x.node=node;node.style.display=show?"":"none";
 if(a.position){if(!x.marker){x.marker=L.marker([a.position.lat,a.position.lon],{icon:alertIcon(a),zIndexOffset:1000,
   title:tname(a.type)+" ("+sevword(a.severity)+")",keyboard:false});x.marker.on("click",()=>selectAlert(id,false));
   x.marker.bindPopup(()=>popup(alerts.get(id).a));}
  else{x.marker.setLatLng([a.position.lat,a.position.lon]);x.marker.setIcon(alertIcon(a));}
  if(show&&!map.hasLayer(x.marker))x.marker.addTo(map);if(!show&&map.hasLayer(x.marker))map.removeLayer(x.marker);}
 counts();}
function popup(a){const d=el("div",undefined,"alert-popup");d.append(el("b",tname(a.type)+" · "+sevword(a.severity)+" · "+sword(a.status)),
 el("div",vesselWords(a),"v"),el("div",a.summary),el("div",texplain(a.type),"explain"),el("div",ago(a.time),"sub"),el("div",triageLine(a.triage),"sub"));return d;}
function addWaters(list){const sel=$("f-waters");const have=new Set([...sel.options].map(o=>o.value));
 (list||[]).forEach(w=>{if(!have.has(w)){const o=el("option",w);o.value=w;sel.append(o);have.add(w);}});}
function addAlert(a,live){addWaters(a.authorities);const old=alerts.get(a.id);const x=old||{a:a};x.a=a;alerts.set(a.id,x);
 if(old&&old.node&&old.node.parentNode){old.node.remove();old.node=null;}
 render(a.id);if(live&&loaded&&(a.severity==="high"||a.severity==="critical")&&a.status==="open")alarm(a);}
function refilter(){for(const id of alerts.keys())render(id);counts();}
function selectAlert(id,fly){const x=alerts.get(id);if(!x)return;const prev=selected;selected=id;
 if(prev&&prev!==id)render(prev);render(id);const a=x.a;
 if(a.position&&fly)map.flyTo([a.position.lat,a.position.lon],Math.max(map.getZoom(),10),{duration:0.5});
 if(x.marker&&map.hasLayer(x.marker))x.marker.openPopup();
 const m=(a.vessels||[])[0];if(m)showVessel(m.mmsi,a.start||a.time);
 x.node.scrollIntoView({block:"nearest"});}
// the counts follow the filters: what the list shows, of how many
function counts(){let open=0,n=0,shown=0;for(const x of alerts.values()){n++;if(passes(x.a)){shown++;if(!x.a.triage)open++;}}
 const txt=(shown===n?_("{n} alerts").replace("{n}",n):_("{shown} of {n} alerts shown").replace("{shown}",shown).replace("{n}",n))+
  ", "+_("{n} not yet triaged").replace("{n}",open)+" · "+_("{n} vessels").replace("{n}",vessels.size);
 const c=$("count");c.textContent=txt;c.dataset.shown=shown;c.dataset.total=n;}

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
function soundButton(){const b=$("sound");b.textContent=store.get("sound","on")==="on"?_("sound: on"):_("sound: off");b.title=_("sound for high and critical alerts");}

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
 if(!streamUp){text=lastMsg?_("event stream down: reconnecting… (showing the last picture)"):_("connecting…");bad=!!lastMsg;}
 else if(feedDown){text=_("alert feed down (Redis): showing what came before, reconnecting…");bad=true;}
 else if(replay){text=_("recording")+" ×"+replay.rate+(replay.paused?" · "+_("paused"):"")+(replay.seeking_to?" · "+_("jumping to")+" "+replay.seeking_to:"");}
 else if(since!==null&&since>60){text=_("live, but nothing heard for {n} s (feed quiet or receiver down?)").replace("{n}",since);bad=true;}
 else if(feedQuiet!==null&&feedQuiet>60){text=_("live, but the feed has been quiet for {n} s").replace("{n}",Math.round(feedQuiet));bad=true;}
 else text=_("live");
 s.textContent=text;s.className=bad?"bad":"ok";}

// the run's own figures (the same as /metrics), every 10 s
let feedQuiet=null; // seconds since the quietest-heard feed last gave a line (/api/status), null: unknown
function num(n){return n>=1e6?(n/1e6).toFixed(1)+"M":n>=1e4?Math.round(n/1e3)+"k":String(n);}
async function figures(){let f;try{f=await api("/api/status");}catch(e){return;}
 if(!f||f.uptime_s===undefined){return;}
 const parts=[];
 const q=Object.values(f.feeds||{}).map(x=>x.quiet_s);feedQuiet=q.length?Math.min(...q):null;status();
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
function alertTypes(){return [...new Set([...Object.keys(V.types),...Object.keys(GLYPH)])];}
function legend(){const box=$("legend-body");box.replaceChildren();
 box.append(el("div",_("Vessels (arrow, by type)"),"h"));
 Object.entries(COLORS).forEach(([k,c])=>{const d=el("div");d.append(window.MDA.arrow(c,0,12),document.createTextNode(" "+_(words(k))));box.append(d);});
 box.append(el("div",_("Alerts (diamond, letter = type, rim = severity)"),"h"));
 alertTypes().forEach(k=>{const d=el("div",undefined,"legend-type");d.dataset.type=k;d.title=texplain(k);
  d.append(window.MDA.diamond(k,"info").node,document.createTextNode(" "+(GLYPH[k]||"!")+" · "+tname(k)),el("div",texplain(k),"explain"));box.append(d);});
 SEVS.slice().reverse().forEach(s=>{const d=el("div");d.append(el("span","◆","sw"),document.createTextNode(" "+sevword(s)));d.firstChild.style.color=SEV[s];box.append(d);});
 box.append(el("div",_("Track: solid; dashed across a silence of over 30 min"),"sub"));
 box.append(el("div",_("Zones"),"h"));
 Object.entries(ZONES).forEach(([k,c])=>{const d=el("div");const sw=el("span","■","sw");sw.style.color=c;d.append(sw,document.createTextNode(" "+_(words(k))));box.append(d);});}

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

// -- chart tools: scale in nautical miles, cursor position, range and bearing, target list with CPA/TCPA ----
const NM=1852;
function rad(d){return d*Math.PI/180;}
function rangeBearing(a,b){ // great-circle distance (m) and initial true bearing (°) from a to b
 const f1=rad(a.lat),f2=rad(b.lat),dl=rad(b.lng-a.lng);
 const h=Math.sin((f2-f1)/2)**2+Math.cos(f1)*Math.cos(f2)*Math.sin(dl/2)**2;
 const d=2*6371008.8*Math.asin(Math.min(1,Math.sqrt(h)));
 const y=Math.sin(dl)*Math.cos(f2),x=Math.cos(f1)*Math.sin(f2)-Math.sin(f1)*Math.cos(f2)*Math.cos(dl);
 return {m:d,deg:(Math.atan2(y,x)*180/Math.PI+360)%360};}
function dm(v,pos,neg,w){const a=Math.abs(v),d=Math.floor(a),m=(a-d)*60;
 return String(d).padStart(w,"0")+"°"+m.toFixed(3).padStart(6,"0")+"'"+(v>=0?pos:neg);}
function scaleControl(){const C=L.Control.extend({options:{position:"bottomleft"},
 onAdd:function(){const d=L.DomUtil.create("div","mda-scale");d.id="scale";this._d=d;map.on("zoomend moveend",()=>this.update());setTimeout(()=>this.update(),0);return d;},
 update:function(){const y=map.getSize().y/2,p1=map.containerPointToLatLng([0,y]),p2=map.containerPointToLatLng([100,y]);
  const nm=map.distance(p1,p2)/NM;const steps=[0.05,0.1,0.2,0.5,1,2,5,10,20,50,100,200,500,1000];let v=steps[0];
  for(const s of steps)if(s<=nm)v=s;this._d.style.width=Math.round(100*v/nm)+"px";this._d.textContent=v+" nm";}});
 new C().addTo(map);L.control.scale({position:"bottomleft",imperial:false}).addTo(map);}
function cursorControl(){const C=L.Control.extend({options:{position:"bottomleft"},onAdd:function(){
 const d=L.DomUtil.create("div","mda-tool");d.id="cursor";d.textContent="—";
 map.on("mousemove",e=>{d.textContent=dm(e.latlng.lat,"N","S",2)+" "+dm(L.Util.wrapNum(e.latlng.lng,[-180,180],true),"E","W",3);});return d;}});
 new C().addTo(map);}
let rb=null; // the range-and-bearing tool: {on, from, line, tip}
function rbText(a,b){const r=rangeBearing(a,b);return (r.m/NM).toFixed(2)+" nm · "+(r.m/1000).toFixed(2)+" km · "+String(Math.round(r.deg)%360).padStart(3,"0")+"°T";}
function rbClear(){if(rb&&rb.layer)map.removeLayer(rb.layer);rb={on:rb?rb.on:false,from:null,layer:null,fixed:false};$("rb-out").textContent="";}
function rangeControl(){const C=L.Control.extend({options:{position:"topleft"},onAdd:function(){
 const d=L.DomUtil.create("div","mda-tool");L.DomEvent.disableClickPropagation(d);
 const b=el("button",_("range & bearing"));b.id="rb-toggle";b.title=_("click two points on the chart; Esc clears");
 const out=el("div","","rb-out");out.id="rb-out";d.append(b,out);
 b.addEventListener("click",()=>{rbClear();rb.on=!rb.on;b.classList.toggle("on",rb.on);map.getContainer().style.cursor=rb.on?"crosshair":"";});return d;}});
 new C().addTo(map);rbClear();
 map.on("click",e=>{if(!rb.on)return;
  if(!rb.from||rb.fixed){rbClear();rb.from=e.latlng;rb.layer=L.layerGroup().addTo(map);L.circleMarker(e.latlng,{radius:3,color:"#000"}).addTo(rb.layer);return;}
  rb.fixed=true;rbDraw(e.latlng);});
 map.on("mousemove",e=>{if(rb.on&&rb.from&&!rb.fixed)rbDraw(e.latlng);});
 document.addEventListener("keydown",e=>{if(e.key==="Escape"&&rb)rbClear();});}
function rbDraw(to){rb.layer.eachLayer(l=>{if(l.options.rbLine||l.options.rbTip)rb.layer.removeLayer(l);});
 L.polyline([rb.from,to],{color:"#000",weight:2,rbLine:true,interactive:false}).addTo(rb.layer);
 const t=rbText(rb.from,to);$("rb-out").textContent=t;
 L.marker(to,{rbTip:true,interactive:false,icon:L.divIcon({className:"mda-range",html:el("span",t),iconSize:null,iconAnchor:[-8,-8]})}).addTo(rb.layer);}
// targets: every vessel with range and bearing from the selected one (or the chart's centre) and the closest
// point of approach (CPA, nm) and its time (TCPA, min) from both courses and speeds held (flat sea, nm)
let targetsRef=null,targetsSort="range",targetsOpen=false;
function cpa(r,t){const lat0=rad(r.ll[0]);
 const px=(t.ll[1]-r.ll[1])*60*Math.cos(lat0),py=(t.ll[0]-r.ll[0])*60;
 const vel=p=>{const s=p.sog_kn||0,c=rad(p.cog_deg||0);return [s*Math.sin(c),s*Math.cos(c)];};
 const [ax,ay]=vel(r.props),[bx,by]=vel(t.props);const vx=bx-ax,vy=by-ay,v2=vx*vx+vy*vy;
 if(v2<1e-9)return {cpa:Math.hypot(px,py),tcpa:null};
 const th=-(px*vx+py*vy)/v2;if(th<0)return {cpa:Math.hypot(px,py),tcpa:th*60};
 return {cpa:Math.hypot(px+vx*th,py+vy*th),tcpa:th*60};}
function targetRows(){const ref=targetsRef!==null?vessels.get(targetsRef):null;
 const c=map.getCenter();const origin=ref?L.latLng(ref.ll[0],ref.ll[1]):c;const rows=[];
 for(const [m,v] of vessels){if(ref&&m===targetsRef)continue;const rbv=rangeBearing(origin,L.latLng(v.ll[0],v.ll[1]));
  const k=ref&&!v.props.stale?cpa(ref,v):{cpa:null,tcpa:null};
  rows.push({mmsi:m,name:label(v.props),range:rbv.m/NM,bearing:rbv.deg,sog:v.props.sog_kn,cpa:k.cpa,tcpa:k.tcpa});}
 const key=targetsSort,val=r=>r[key]===null||r[key]===undefined?Infinity:(key==="tcpa"&&r[key]<0?Infinity:r[key]);
 rows.sort((a,b)=>key==="name"?String(a.name).localeCompare(String(b.name)):val(a)-val(b));return rows;}
function drawTargets(){if(!targetsOpen)return;const ref=targetsRef!==null?vessels.get(targetsRef):null;
 $("targets-ref").textContent=ref?_("from")+" "+label(ref.props)+" ("+(ref.props.sog_kn??"?")+" kn, "+(ref.props.cog_deg??"?")+"°)":_("from the chart's centre: select a vessel for CPA/TCPA");
 const body=$("targets-table").tBodies[0];body.replaceChildren();
 targetRows().slice(0,60).forEach(r=>{const tr=el("tr",undefined,"row");tr.dataset.mmsi=r.mmsi;
  if(r.cpa!==null&&r.cpa<1&&r.tcpa!==null&&r.tcpa>=0&&r.tcpa<60)tr.classList.add("close");
  [r.name,r.range.toFixed(1),String(Math.round(r.bearing)%360).padStart(3,"0")+"°",r.sog??"—",r.cpa===null?"—":r.cpa.toFixed(2),
   r.tcpa===null?"—":(r.tcpa<0?_("past"):Math.round(r.tcpa))].forEach(x=>tr.append(el("td",x)));
  tr.addEventListener("click",()=>pick(r.mmsi));body.append(tr);});
 [...$("targets-table").tHead.rows[0].cells].forEach(th=>th.classList.toggle("on",th.dataset.sort===targetsSort));}

// -- languages -------------------------------------------------------------------------
async function loadVocabulary(lang){try{V=await api("/api/vocabulary"+(lang?"?lang="+encodeURIComponent(lang):""));}catch(e){return;}
 document.documentElement.lang=V.lang;
 document.querySelectorAll("[data-i18n]").forEach(e=>{e.textContent=_(e.dataset.i18n);});
 document.querySelectorAll("[data-i18n-ph]").forEach(e=>{e.placeholder=_(e.dataset.i18nPh);});
 document.querySelectorAll("[data-i18n-title]").forEach(e=>{e.title=_(e.dataset.i18nTitle);});
 const sel=$("lang");sel.replaceChildren();Object.entries(V.languages||{}).forEach(([k,n])=>{const o=el("option",n);o.value=k;sel.append(o);});sel.value=V.lang;
 const ft=$("f-type"),keep=ft.value;while(ft.options.length>1)ft.remove(1);
 alertTypes().forEach(t=>{const o=el("option",tname(t));o.value=t;ft.append(o);});ft.value=keep;
 legend();soundButton();refilter();}

// -- a recording at a chosen pace (watch FILE --rate X): pause, rate, jump forward ---------------
let replay=null;
function drawReplay(st){replay=st;if(!st)return;$("replay").style.display="flex";
 $("rp-play").textContent=st.paused?"▶":"⏸";$("rp-play").title=st.paused?_("play"):_("pause");
 const sel=$("rp-rate");if(![...sel.options].some(o=>Number(o.value)===st.rate)){const o=el("option","×"+st.rate);o.value=st.rate;sel.append(o);}
 sel.value=String(st.rate);}
async function steer(body){try{drawReplay(await api("/api/replay",{method:"POST",headers:{"Content-Type":"application/json"},body:JSON.stringify(body)}));}
 catch(e){say(e.message,true);}}
function wireReplay(){$("rp-play").addEventListener("click",()=>steer({action:replay&&replay.paused?"play":"pause"}));
 $("rp-rate").addEventListener("change",e=>steer({action:"rate",rate:Number(e.target.value)}));
 $("rp-go").addEventListener("click",()=>{let t=$("rp-to").value.trim();if(!t)return;if(!/Z$|[+-]\d\d:?\d\d$/.test(t))t+="Z";steer({action:"seek",to:t});});
 drawReplay(cfg.replay);if(cfg.replay)setInterval(()=>api("/api/replay").then(drawReplay).catch(()=>{}),2000);}

// -- start ---------------------------------------------------------------------------
function wire(){
 $("officer").value=store.get("officer","");$("officer").addEventListener("change",e=>store.set("officer",e.target.value.trim()));
 soundButton();$("sound").addEventListener("click",()=>{store.set("sound",store.get("sound","on")==="on"?"off":"on");soundButton();if(store.get("sound","on")==="on")beep(1);});
 ["f-sev","f-type","f-open","f-waters"].forEach(id=>$(id).addEventListener("change",refilter));
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
 $("lang").addEventListener("change",e=>{store.set("lang",e.target.value);loadVocabulary(e.target.value);});
 $("targets-open").addEventListener("click",()=>{targetsOpen=true;$("targets").style.display="block";drawTargets();});
 $("targets-close").addEventListener("click",()=>{targetsOpen=false;$("targets").style.display="none";});
 [...$("targets-table").tHead.rows[0].cells].forEach(th=>th.addEventListener("click",()=>{targetsSort=th.dataset.sort;drawTargets();}));
 setInterval(drawTargets,5000);
 scaleControl();cursorControl();rangeControl();wireReplay();
 loadPorts();legend();setInterval(status,1000);status();setInterval(figures,5000);figures();}
function backdrop(){ // land and zones after the vessels: cached by the browser (they change only with a new version)
 api("/api/land").then(land=>{L.geoJSON(land,{interactive:false,style:{color:"#5d6d7e",weight:1,fillColor:"#e8e3d3",fillOpacity:1}}).addTo(map).bringToBack();
  window.mdaLandDrawn=performance.now();}).catch(()=>{});
 if(cfg.tile_url)L.tileLayer(cfg.tile_url,{maxZoom:14}).addTo(map);
 api("/api/zones").then(z=>{const kinds={};
  z.features.forEach(f=>{(kinds[f.properties.kind]=kinds[f.properties.kind]||[]).push(f);});
  const overlays={};Object.entries(kinds).forEach(([k,fs])=>{
   const layer=L.geoJSON({type:"FeatureCollection",features:fs},{style:f=>({color:ZONES[f.properties.kind]||"#fb8c00",weight:1,
    fillOpacity:f.properties.kind==="eez"?0:.15}),onEachFeature:(f,l)=>l.bindTooltip(document.createTextNode(f.properties.name+" ("+_(words(f.properties.kind))+")"))});
   if(store.get("zone."+k,"on")==="on")layer.addTo(map);overlays[_(words(k))+" ("+fs.length+")"]=layer;layer.kind=k;});
  L.control.layers(null,overlays,{collapsed:true,position:"topleft"}).addTo(map);
  map.on("overlayadd overlayremove",e=>{if(e.layer.kind)store.set("zone."+e.layer.kind,e.type==="overlayadd"?"on":"off");});
  window.mdaZonesDrawn=performance.now();}).catch(()=>{});}
async function start(){
 try{cfg=await api("/api/config");}catch(e){cfg={};}
 await loadVocabulary(store.get("lang",""));  // the officer's own choice, else the centre's, else the browser's
 wire();
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
