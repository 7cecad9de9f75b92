"use strict";
// Triage outcomes, as text (rule keys carry zone ids and reasons officers typed).
function el(tag,text,cls){const e=document.createElement(tag);if(text!==undefined)e.textContent=String(text);if(cls)e.className=cls;return e;}
async function load(){const out=document.getElementById("out");
 let got;try{const r=await fetch("/api/triage/stats",{credentials:"same-origin"});if(!r.ok)throw new Error(await r.text());got=await r.json();}
 catch(e){out.textContent="cannot load the outcomes: "+e.message;return;}
 out.replaceChildren();
 for(const [group,title] of [["rule","By rule"],["type","By alert type"],["zone","By zone"]]){
  out.append(el("h2",title));const rows=got[group]||[];
  if(!rows.length){out.append(el("p","nothing triaged yet"));continue;}
  const t=el("table");const h=el("tr");["",
   "concluded","false alarms","false-alarm rate","acknowledged","escalated","closed","reasons given"].forEach((c,i)=>h.append(el("th",i?c:group)));t.append(h);
  rows.forEach(r=>{const tr=el("tr",undefined,r.false_alarm_rate>=0.5&&r.concluded>=3?"high":"");
   [r.key,r.concluded,r.false_alarm,Math.round(r.false_alarm_rate*100)+"%",r.acknowledged,r.escalated,r.closed,
    Object.entries(r.reasons).map(([k,v])=>k.replace(/_/g," ")+" "+v).join(", ")].forEach(c=>tr.append(el("td",c)));t.append(tr);});
  out.append(t);}
 window.mdaReady=true;}
load();
