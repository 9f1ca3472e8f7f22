// pbisync's estate UI: search, a node's page with its lineage graph, impact, refreshes.
// It reads only the JSON API under /api/ and never draws more than a neighbourhood.
"use strict";

const $ = (sel, el = document) => el.querySelector(sel);
const view = $("#view");
const keyStr = (k) => k.join("/");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const typeLabel = { semantic_model: "model", data_source: "data source", report: "report", dashboard: "dashboard", table: "table" };
const typeBadge = (t) => `<span class="type ${esc(t)}">${esc(typeLabel[t] || t)}</span>`;
const nodeHref = (k) => "#/node?key=" + encodeURIComponent(keyStr(k));

async function api(path) {
  const r = await fetch("/api/" + path);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function params() {
  const h = location.hash.replace(/^#/, "") || "/";
  const [route, qs] = h.split("?");
  return { route, q: new URLSearchParams(qs || "") };
}

// ---- search box with suggestions ----
const input = $("#search"), suggest = $("#suggest");
let searchSeq = 0;
input.addEventListener("input", async () => {
  const q = input.value.trim(), seq = ++searchSeq;
  if (!q) { suggest.hidden = true; return; }
  const res = await api("search?limit=12&q=" + encodeURIComponent(q));
  if (seq !== searchSeq) return;
  suggest.innerHTML = res.hits.map((h) => `<li><a href="${nodeHref(h.key)}" data-testid="hit">${typeBadge(h.type)} <span>${esc(h.name)}</span> <span class="muted">${esc(h.workspaceName || keyStr(h.key))}</span></a></li>`).join("") || `<li class="muted" style="padding:5px 12px">No match</li>`;
  suggest.hidden = false;
});
$("#search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  location.hash = "#/search?q=" + encodeURIComponent(input.value.trim());
  suggest.hidden = true;
});
document.addEventListener("click", (e) => { if (!suggest.contains(e.target) && e.target !== input) suggest.hidden = true; });
suggest.addEventListener("click", () => { suggest.hidden = true; });

// ---- views ----
async function home() {
  const [est, rf] = await Promise.all([api("estate"), api("refreshes?limit=10")]);
  const counts = Object.entries(est.counts).sort().map(([t, n]) => `<div class="card" data-testid="count-${esc(t)}"><b>${n}</b>${typeBadge(t)}</div>`).join("");
  view.innerHTML = `<h1>Estate</h1>
    <p class="muted">${est.syncedAt && !est.syncedAt.startsWith("0001") ? "Last completed sync " + new Date(est.syncedAt).toLocaleString() : "From a snapshot file"} · ${est.nodes} nodes</p>
    <div class="cards">${counts}</div>
    <h2>Recent refreshes</h2>${refreshTable(rf.refreshes)}`;
}

async function search(q) {
  const res = await api("search?limit=200&q=" + encodeURIComponent(q.get("q") || ""));
  input.value = q.get("q") || "";
  view.innerHTML = `<h1>Search: ${esc(q.get("q"))}</h1><p class="muted">${res.hits.length} result(s) in ${(res.micros / 1000).toFixed(1)} ms</p>
    <table data-testid="results"><tr><th>Type</th><th>Name</th><th>Workspace</th><th>Key</th></tr>${res.hits.map((h) => `<tr><td>${typeBadge(h.type)}</td><td><a href="${nodeHref(h.key)}">${esc(h.name)}</a> ${h.endorsement ? `<span class="badge">${esc(h.endorsement)}</span>` : ""}</td><td>${esc(h.workspaceName)}</td><td class="muted">${esc(keyStr(h.key))}</td></tr>`).join("")}</table>`;
}

async function node(q) {
  const key = q.get("key");
  const n = await api("node?key=" + encodeURIComponent(key));
  const meta = Object.entries(n.metadata || {}).sort();
  const tables = n.tables || [];
  const reads = tables.filter((t) => (t.upstream && t.upstream.length) || t.expression);
  const cols = tables.flatMap((t) => (t.columns || []).map((c) => [t.name, c]));
  view.innerHTML = `
    <div class="layout">
      <section>
        <div>${typeBadge(n.type)} ${n.endorsement ? `<span class="badge" data-testid="endorsement">${esc(n.endorsement)}</span>` : ""}</div>
        <h1 data-testid="node-name">${esc(n.name || key)}</h1>
        <p class="muted">${esc(key)}${n.workspaceName ? " · workspace " + esc(n.workspaceName) : ""}${n.url ? ` · <a href="${esc(n.url)}" target="_blank" rel="noopener">open in Power BI</a>` : ""}</p>
        ${n.fullDescription || n.description ? `<p>${esc(n.fullDescription || n.description)}</p>` : ""}
        <div class="controls">
          <label>Upstream <select id="up">${[0, 1, 2, 3, 4, 6].map((d) => `<option ${d === 2 ? "selected" : ""}>${d}</option>`).join("")}</select></label>
          <label>Downstream <select id="down">${[0, 1, 2, 3, 4, 6].map((d) => `<option ${d === 2 ? "selected" : ""}>${d}</option>`).join("")}</select></label>
          <label><input type="checkbox" id="cols" checked> column edges</label>
          <a class="button primary" data-testid="impact-link" href="#/impact?name=${encodeURIComponent(key)}">What breaks if this changes?</a>
          <span class="muted" id="graph-info" data-testid="graph-info"></span>
        </div>
        <div id="graph" data-testid="graph"></div>
        <p class="muted">Click a node to select it, double-click to expand its neighbours, or open its page from the panel.</p>
      </section>
      <aside>
        <h2>Owners</h2><p data-testid="owners">${(n.owners || []).map(esc).join(", ") || '<span class="muted">none</span>'}</p>
        <div id="selected" data-testid="selected"></div>
        <h2>Upstream (${n.upstream.length})</h2>${keyList(n.upstream)}
        <h2>Downstream (${n.downstream.length})</h2>${keyList(n.downstream)}
      </aside>
    </div>
    ${reads.length ? `<h2>What it reads</h2><table data-testid="sources"><tr><th>Table</th><th>Upstream</th><th>M / SQL</th></tr>${reads.map((t) => `<tr><td>${esc(t.name)}</td><td>${(t.upstream || []).map(esc).join("<br>")}</td><td>${t.expression ? `<pre>${esc(t.expression)}</pre>` : '<span class="muted">—</span>'}</td></tr>`).join("")}</table>` : ""}
    ${cols.length ? `<h2>Columns (${cols.length})</h2><table data-testid="columns"><tr><th>Table</th><th>Column</th><th>Type</th><th>Reads</th></tr>${cols.slice(0, 2000).map(([t, c]) => `<tr><td>${esc(t)}</td><td>${esc(c.n)}</td><td>${esc(c.t)}</td><td class="muted">${esc((c.r || []).join(", "))}</td></tr>`).join("")}</table>` : ""}
    ${n.measures && n.measures.length ? `<h2>Measures (${n.measures.length})</h2><table data-testid="measures"><tr><th>Table</th><th>Measure</th><th>DAX</th></tr>${n.measures.map((m) => `<tr><td>${esc(m.table)}</td><td>${esc(m.name)}</td><td><code>${esc(m.expression)}</code></td></tr>`).join("")}</table>` : ""}
    ${n.refreshes && n.refreshes.length ? `<h2>Last refreshes</h2>${refreshTable(n.refreshes)}` : ""}
    ${meta.length ? `<h2>Metadata</h2><table data-testid="metadata"><tr><th>Key</th><th>Value</th></tr>${meta.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${typeof v === "object" ? `<pre>${esc(JSON.stringify(v, null, 1))}</pre>` : esc(v)}</td></tr>`).join("")}</table>` : ""}`;
  const draw = () => drawGraph(key, +$("#up").value, +$("#down").value, $("#cols").checked);
  ["#up", "#down", "#cols"].forEach((s) => $(s).addEventListener("change", draw));
  await draw();
}

const keyList = (ks) => ks.length ? `<ul>${ks.slice(0, 100).map((k) => `<li><a href="${nodeHref(k)}">${esc(keyStr(k))}</a></li>`).join("")}${ks.length > 100 ? `<li class="muted">… ${ks.length - 100} more</li>` : ""}</ul>` : '<p class="muted">none</p>';

const colors = { semantic_model: "#5b9bff", report: "#f2a33a", dashboard: "#a371f7", table: "#37b26c", data_source: "#8b97a8", dataflow: "#16a3b8" };
let cy = null;

function elements(sg, withColumns) {
  const els = [];
  for (const n of sg.nodes) {
    const hidden = (n.hiddenUp || 0) + (n.hiddenDown || 0);
    els.push({ group: "nodes", data: { id: keyStr(n.key), name: n.name, label: n.name + (hidden ? ` (+${hidden})` : ""), type: n.type, center: n.center ? 1 : 0 } });
  }
  const seen = new Set();
  for (const e of sg.edges) {
    if (e.fromColumn && !withColumns) continue;
    const id = keyStr(e.from) + "→" + keyStr(e.to) + (e.fromColumn ? ":" + e.fromColumn + ">" + e.toColumn : "");
    if (seen.has(id)) continue;
    seen.add(id);
    els.push({ group: "edges", data: { id, source: keyStr(e.from), target: keyStr(e.to), column: e.fromColumn ? 1 : 0, label: e.fromColumn ? `${e.fromColumn} → ${e.toColumn}` : "" } });
  }
  return els;
}

// layoutFor lays a neighbourhood out left to right (upstream on the left), or top to bottom
// when one rank is wide (a table read by dozens of models), so it fills the wide pane.
function layoutFor(nodes) {
  const perType = {};
  for (const n of nodes) perType[n.type] = (perType[n.type] || 0) + 1;
  const widest = Math.max(0, ...Object.values(perType));
  return { name: "dagre", rankDir: widest > 12 ? "TB" : "LR", nodeSep: widest > 12 ? 8 : 18, rankSep: widest > 12 ? 120 : 90, animate: false };
}

// drawSeq numbers the draws: when the depth changes again before a neighbourhood arrives,
// only the newest answer is drawn (an older, slower one must not replace it).
let drawSeq = 0;

async function drawGraph(key, up, down, withColumns) {
  const seq = ++drawSeq;
  const sg = await api(`graph?limit=200&up=${up}&down=${down}&key=${encodeURIComponent(key)}`);
  window.__pbisyncGraphAnswers = (window.__pbisyncGraphAnswers || 0) + 1;
  if (seq !== drawSeq) return;
  const t0 = performance.now();
  if (cy) cy.destroy();
  cy = cytoscape({
    container: $("#graph"),
    elements: elements(sg, withColumns),
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { label: "data(label)", "background-color": (n) => colors[n.data("type")] || "#999", "font-size": 10, "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22, "text-wrap": "ellipsis", "text-max-width": 140 } },
      { selector: "node[center = 1]", style: { "border-width": 4, "border-color": "#1d2330", width: 30, height: 30 } },
      { selector: "node:selected", style: { "border-width": 3, "border-color": "#e4572e" } },
      { selector: "edge", style: { width: 1.5, "line-color": "#aab4c3", "target-arrow-color": "#aab4c3", "target-arrow-shape": "triangle", "curve-style": "bezier", "arrow-scale": 0.8 } },
      { selector: "edge[column = 1]", style: { "line-style": "dashed", "line-color": "#37b26c", "target-arrow-color": "#37b26c", "font-size": 9, "text-rotation": "autorotate", color: "#2c7a4b", "text-background-color": "#fff", "text-background-opacity": 0.85 } },
      { selector: "edge[column = 1].hover, edge[column = 1]:selected", style: { label: "data(label)", width: 2.5 } },
    ],
    layout: layoutFor(sg.nodes),
  });
  const ms = performance.now() - t0;
  window.__pbisync = { lastLayoutMs: ms, nodes: sg.nodes.length, edges: cy.edges().length };
  $("#graph-info").textContent = `${sg.nodes.length} nodes, ${cy.edges().length} edges${sg.truncated ? " (limit reached)" : ""} · laid out in ${ms.toFixed(0)} ms`;
  window.__cy = cy;
  cy.on("tap", "node", (e) => showSelected(e.target.id()));
  cy.on("mouseover", "edge", (e) => e.target.addClass("hover"));
  cy.on("mouseout", "edge", (e) => e.target.removeClass("hover"));
  cy.on("dbltap", "node", (e) => expand(e.target.id(), withColumns));
}

async function showSelected(id) {
  const n = await api("node?key=" + encodeURIComponent(id));
  $("#selected").innerHTML = `<h2>Selected</h2><p>${typeBadge(n.type)} <a data-testid="selected-link" href="${nodeHref(n.key)}">${esc(n.name || id)}</a></p>
    <p class="muted">${esc(n.workspaceName || "")}${(n.owners || []).length ? " · " + n.owners.map(esc).join(", ") : ""}</p>
    <button data-testid="expand" onclick="window.__expand('${esc(id).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}')">Expand neighbours</button>`;
}

async function expand(id, withColumns = true) {
  const sg = await api(`graph?limit=60&up=1&down=1&key=${encodeURIComponent(id)}`);
  const t0 = performance.now();
  const add = elements(sg, withColumns).filter((el) => !cy.getElementById(el.data.id).length);
  cy.add(add);
  // Every neighbour of the expanded node is drawn now.
  const expanded = cy.getElementById(id);
  expanded.data("label", expanded.data("name"));
  cy.layout(layoutFor(cy.nodes().map((n) => ({ type: n.data("type") })))).run();
  window.__pbisync = { lastLayoutMs: performance.now() - t0, nodes: cy.nodes().length, edges: cy.edges().length };
  $("#graph-info").textContent = `${cy.nodes().length} nodes, ${cy.edges().length} edges · expanded ${id}`;
}
window.__expand = (id) => expand(id);

async function impact(q) {
  const names = q.getAll("name");
  const upstream = q.get("upstream") === "1";
  view.innerHTML = `<h1>Impact</h1>
    <form id="impact-form" class="controls">
      <input id="impact-names" data-testid="impact-names" size="60" placeholder="table, column (db.schema.table.column), model, report… (comma-separated)" value="${esc(names.join(", "))}">
      <label><input type="checkbox" id="impact-up" ${upstream ? "checked" : ""}> upstream instead</label>
      <button class="primary" data-testid="impact-run">Run</button>
    </form><div id="impact-out" data-testid="impact-out"></div>`;
  $("#impact-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const ns = $("#impact-names").value.split(",").map((s) => s.trim()).filter(Boolean);
    location.hash = "#/impact?" + ns.map((n) => "name=" + encodeURIComponent(n)).join("&") + ($("#impact-up").checked ? "&upstream=1" : "");
  });
  if (!names.length) return;
  const qs = names.map((n) => "name=" + encodeURIComponent(n)).join("&") + (upstream ? "&upstream=1" : "");
  let res;
  try { res = await api("impact?" + qs); } catch (err) { $("#impact-out").innerHTML = `<p class="error">${esc(err.message)}</p>`; return; }
  const groups = new Map();
  for (const im of res.impacted) {
    const g = (im.workspaceName || "(outside the synced workspaces)") + " — " + ((im.owners || []).join(", ") || "no owner");
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(im);
  }
  $("#impact-out").innerHTML = `
    <p>${upstream ? "Upstream of" : "Downstream of"} ${res.starts.map((s) => `${typeBadge(s.type)} <a href="${nodeHref(s.key)}">${esc(s.name)}</a>`).join(", ")}: <b data-testid="impact-count">${res.impacted.length}</b> asset(s)
      ${res.unknown ? `<span class="error">no match for ${res.unknown.map(esc).join(", ")}</span>` : ""}
      <a class="button" data-testid="impact-csv" href="/api/impact?${qs}&format=csv" download="impact.csv">Export CSV</a></p>
    ${[...groups.entries()].sort().map(([g, items]) => `<div class="group"><h2>${esc(g)} (${items.length})</h2>
      <table><tr><th>Depth</th><th>Type</th><th>Asset</th><th>Endorsement</th><th>Path</th></tr>${items.map((im) => `<tr data-testid="impact-row"><td>${im.depth}</td><td>${typeBadge(im.type)}</td><td><a href="${nodeHref(im.key)}">${esc(im.name)}</a></td><td>${esc(im.endorsement || "")}</td><td class="muted">${im.path.map((k) => esc(keyStr(k))).join(" › ")}${im.via ? ` (columns ${im.via.map(esc).join(", ")})` : ""}</td></tr>`).join("")}</table></div>`).join("")}`;
}

function refreshTable(rs) {
  if (!rs.length) return '<p class="muted">No refreshes recorded.</p>';
  return `<table data-testid="refreshes"><tr><th>Model</th><th>State</th><th>Requested</th><th>Duration</th><th>Error</th></tr>${rs.map((r) => `<tr><td>${r.key ? `<a href="${nodeHref(r.key)}">${esc(r.model)}</a>` : esc(r.model)}</td><td class="state-${esc(r.state)}">${esc(r.state)}</td><td>${new Date(r.requestedAt).toLocaleString()}</td><td>${r.durationSeconds ? r.durationSeconds.toFixed(1) + " s" : ""}</td><td class="error">${esc(r.error || "")}</td></tr>`).join("")}</table>`;
}

async function refreshes() {
  const rf = await api("refreshes?limit=200");
  const running = rf.refreshes.filter((r) => r.state === "running");
  view.innerHTML = `<h1>Refreshes</h1><h2>Running (${running.length})</h2>${refreshTable(running)}<h2>Recent</h2>${refreshTable(rf.refreshes.filter((r) => r.state !== "running"))}`;
}

async function route() {
  const { route, q } = params();
  try {
    if (route === "/search") await search(q);
    else if (route === "/node") await node(q);
    else if (route === "/impact") await impact(q);
    else if (route === "/refreshes") await refreshes();
    else await home();
  } catch (err) {
    view.innerHTML = `<p class="error" data-testid="error">${esc(err.message)}</p>`;
  }
  document.body.dataset.ready = route;
}
window.addEventListener("hashchange", route);
route();
