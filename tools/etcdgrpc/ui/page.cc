// The `ui` command's page (see page.h).
#include "ui/page.h"

namespace etcdgrpc::cli::ui {
namespace {

constexpr std::string_view kPage = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>etcdgrpc registry</title>
<style>
  :root { --fg: #1d2430; --muted: #667085; --line: #d8dde6; --bg: #f6f7f9; --card: #fff;
          --ok: #1a7f37; --bad: #c62828; --warn: #b26a00; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 16px; padding: 12px 20px;
           background: #1d2430; color: #fff; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header .meta { color: #b8c0cc; }
  #status { margin-left: auto; padding: 3px 10px; border-radius: 12px; font-weight: 600;
            text-transform: uppercase; letter-spacing: .05em; font-size: 12px; }
  #status.live { background: var(--ok); }
  #status.stale { background: var(--bad); }
  #banner { display: none; padding: 10px 20px; background: #fdecea; color: var(--bad);
            border-bottom: 1px solid #f5c2bd; }
  body.stale #banner { display: block; }
  body.stale main { opacity: .7; }
  main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(280px, 1.3fr); gap: 16px;
         padding: 16px 20px; }
  section.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
                 margin-bottom: 16px; overflow: hidden; }
  section.card h2 { margin: 0; padding: 10px 14px; font-size: 15px; border-bottom: 1px solid var(--line);
                    display: flex; gap: 10px; align-items: baseline; }
  section.card h2 .sub { color: var(--muted); font-weight: normal; font-size: 12px; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 6px 14px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
  th { color: var(--muted); font-weight: 500; font-size: 12px; }
  td.mono, span.mono { font-family: ui-monospace, monospace; font-size: 12px; }
  .empty { padding: 10px 14px; color: var(--muted); }
  .pill { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; background: #eef0f4; }
  .pill.serving { background: #dcf3e3; color: var(--ok); }
  .pill.unreachable, .pill.not-serving, .pill.service-unknown, .pill.ejected { background: #fdecea; color: var(--bad); }
  .kind-added { color: var(--ok); } .kind-removed { color: var(--bad); }
  .kind-updated, .kind-problem { color: var(--warn); } .kind-listed { color: var(--muted); }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; padding: 10px 14px; }
  dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12px; }
  #timeline { max-height: 70vh; overflow-y: auto; }
</style>
</head>
<body class="stale">
<header>
  <h1>etcdgrpc registry</h1>
  <span class="meta" id="meta">connecting&hellip;</span>
  <span id="status" class="stale">stale</span>
</header>
<div id="banner">Stale: <span id="reason">waiting for the first state</span>.
  Showing the last known state.</div>
<main>
  <div id="services"><div class="empty">Waiting for the registry&hellip;</div></div>
  <div>
    <section class="card"><h2>Timeline <span class="sub">changes with their etcd revisions, newest first</span></h2>
      <div id="timeline"></div></section>
    <section class="card"><h2>This process's client</h2><div id="client"></div></section>
  </div>
</main>
<script>
"use strict";
const state = { services: new Map(), timeline: [], status: {}, codec: "", prefix: "", connected: false };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
function time(iso) { return iso ? new Date(iso).toLocaleTimeString() : ""; }

function leaseCell(lease) {
  if (!lease) return "none";
  const ttl = (state.status.leases || {})[lease];
  if (!ttl) return lease;
  const left = ttl.ttl < 0 ? "expired" : `${ttl.ttl}s of ${ttl.granted_ttl}s left`;
  return `${lease} (${left}${state.status.stale ? ", as of " + time(ttl.as_of) : ""})`;
}

function healthCell(service, key) {
  if (!state.status.health_checks) return el("span", { class: "pill" }, "not checked");
  const h = ((state.status.health || {})[service] || {})[key];
  if (!h) return el("span", { class: "pill" }, "unknown");
  if (h.ejected) return el("span", { class: "pill ejected" }, "ejected");
  if (h.health === "unknown" && h.channel_failing) return el("span", { class: "pill unreachable" }, "channel failing");
  return el("span", { class: "pill " + h.health.replace(/ /g, "-") }, h.health);
}

function renderServices() {
  const box = document.getElementById("services");
  box.replaceChildren();
  if (state.services.size === 0) {
    box.append(el("div", { class: "empty" }, `No services under ${state.prefix || "the prefix"}.`));
    return;
  }
  for (const [name, svc] of [...state.services.entries()].sort()) {
    const card = el("section", { class: "card", "data-service": name },
      el("h2", {}, name, el("span", { class: "sub" },
        `${svc.instances.length} instance${svc.instances.length === 1 ? "" : "s"} · revision ${svc.revision}`)));
    if (svc.instances.length === 0) {
      card.append(el("div", { class: "empty" }, "no instances"));
    } else {
      const table = el("table", {}, el("tr", {}, ...["id", "address", "metadata", "lease, TTL left", "health", "revision"].map(h => el("th", {}, h))));
      for (const inst of svc.instances) {
        const meta = Object.entries(inst.metadata).map(([k, v]) => `${k}=${v}`).join(" ");
        table.append(el("tr", { "data-instance": `${name}/${inst.id}`, title: inst.key },
          el("td", { class: "mono" }, inst.id), el("td", { class: "mono" }, inst.address),
          el("td", { class: "mono" }, meta), el("td", { class: "mono" }, leaseCell(inst.lease)),
          el("td", {}, healthCell(name, inst.key)), el("td", { class: "mono" }, inst.mod_revision)));
      }
      card.append(table);
    }
    box.append(card);
  }
}

function renderTimeline() {
  const box = document.getElementById("timeline");
  box.replaceChildren();
  if (state.timeline.length === 0) { box.append(el("div", { class: "empty" }, "No changes yet.")); return; }
  const table = el("table", {}, el("tr", {}, ...["time", "rev", "change"].map(h => el("th", {}, h))));
  for (const c of [...state.timeline].reverse()) {
    table.append(el("tr", { "data-kind": c.kind },
      el("td", { class: "mono" }, time(c.at)), el("td", { class: "mono" }, c.revision || ""),
      el("td", {}, el("span", { class: "kind-" + c.kind }, c.kind), " ", c.service,
        c.id ? ` ${c.id}` : "", c.address ? ` ${c.address}` : "")));
  }
  box.append(table);
}

function renderClient() {
  const box = document.getElementById("client");
  box.replaceChildren();
  const c = state.status.client;
  if (!c) { box.append(el("div", { class: "empty" }, "no stats yet")); return; }
  const dl = el("dl");
  const row = (k, v) => dl.append(el("dt", {}, k), el("dd", {}, v));
  row("watch stream", `${c.watch.state} ${c.watch.endpoint} · ${c.watch.watches} watches · ${c.watch.opens} opens · ${c.watch.stalls} stalls`);
  row("keep-alive stream", `${c.keepalive.state} ${c.keepalive.endpoint} · ${c.keepalive.kept_leases} leases · ${c.keepalive.opens} opens`);
  for (const e of c.endpoints) {
    row(e.address, `${e.suspect ? "suspect" : "healthy"} · ${e.failures} failures${e.last_failure ? " · " + e.last_failure : ""}`);
  }
  row("page subscribers", `${state.status.subscribers} (${state.status.dropped_subscribers} dropped for falling behind)`);
  box.append(dl);
}

function render() {
  let reason = "";
  if (!state.connected) reason = "the page lost its connection to etcdgrpc ui (reconnecting)";
  else if (state.status.stale) reason = state.status.reason + (state.status.stale_since ? ` (since ${time(state.status.stale_since)})` : "");
  const stale = reason !== "" || state.status.stale === undefined;
  document.body.classList.toggle("stale", stale);
  const badge = document.getElementById("status");
  badge.className = stale ? "stale" : "live";
  badge.textContent = stale ? "stale" : "live";
  document.getElementById("reason").textContent = reason || "waiting for the first state";
  document.getElementById("meta").textContent = `codec ${state.codec} · prefix ${state.prefix}`;
  renderServices();
  renderTimeline();
  renderClient();
}

const events = new EventSource("events");
events.addEventListener("state", e => {
  const s = JSON.parse(e.data);
  state.connected = true;
  state.codec = s.codec; state.prefix = s.prefix; state.status = s.status; state.timeline = s.timeline;
  state.services = new Map(s.services.map(svc => [svc.service, svc]));
  render();
});
events.addEventListener("service", e => { const svc = JSON.parse(e.data); state.services.set(svc.service, svc); render(); });
events.addEventListener("change", e => {
  state.timeline.push(JSON.parse(e.data));
  if (state.timeline.length > 200) state.timeline.shift();
  render();
});
events.addEventListener("status", e => { state.status = JSON.parse(e.data); render(); });
events.onopen = () => { state.connected = true; };
events.onerror = () => { state.connected = false; render(); };
</script>
</body>
</html>
)PAGE";

}  // namespace

std::string_view RegistryPage() { return kPage; }

}  // namespace etcdgrpc::cli::ui
