// The one page `cpwd ui` serves: HTML with its CSS and JS inline, nothing fetched from anywhere
// (it works offline). It opens one server-sent-events stream (`stream`, with the page's token) and
// draws the worker table, each worker's runs on a timeline, and the latest events from what the
// stream sends: a snapshot, then deltas. Data is put in with textContent, never parsed as HTML.
// (A raw template: the script must not contain backquotes or dollar-brace.)
export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>cpwd</title>
<style>
  :root { color-scheme: light dark; --fg: #1d1f21; --muted: #6b7075; --bg: #fff; --line: #e3e5e8; --panel: #f6f7f8;
    --run: #2e9e5b; --exited: #5b7fa6; --failed: #d0453a; --timed_out: #e08a1e; --stopped: #8d949b; --mark: #e08a1e; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e6e6; --muted: #9aa0a6; --bg: #17191c; --line: #2c3035; --panel: #1f2226; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 13px/1.45 ui-sans-serif, system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 16px; align-items: baseline; padding: 10px 16px; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 15px; margin: 0; }
  .status { color: var(--muted); }
  .status .up { color: var(--run); } .status .down { color: var(--failed); }
  main { padding: 8px 16px 24px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 18px 0 6px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 500; }
  td.cmd, td.payload { white-space: normal; word-break: break-all; font-family: ui-monospace, monospace; font-size: 12px; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .state { font-weight: 600; }
  .s-running, .s-starting { color: var(--run); } .s-exited { color: var(--exited); } .s-failed, .s-fatal { color: var(--failed); }
  .s-timed_out, .s-backoff { color: var(--timed_out); } .s-stopped, .s-stopping, .s-queued { color: var(--stopped); }
  .empty { color: var(--muted); padding: 6px 8px; }
  .tl-head { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; margin-left: 160px; }
  .tl-row { display: flex; align-items: center; height: 22px; }
  .tl-label { width: 160px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; padding-right: 8px; }
  .track { position: relative; flex: 1; height: 14px; background: var(--panel); border-radius: 3px; }
  .bar { position: absolute; top: 2px; height: 10px; min-width: 2px; border-radius: 2px; background: var(--exited); }
  .bar.running { background: var(--run); } .bar.failed { background: var(--failed); } .bar.timed_out { background: var(--timed_out); } .bar.stopped { background: var(--stopped); }
  .mark { position: absolute; top: -1px; width: 2px; height: 16px; background: var(--mark); }
  .mark.stop { background: var(--fg); } .mark.queued { background: var(--exited); } .mark.fatal { background: var(--failed); }
  .tools { display: flex; gap: 8px; align-items: center; }
  input, select { font: inherit; }
  #events td { font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>cpwd</h1>
  <span class="status">daemon <b id="daemon" class="down">connecting…</b> · last seq <span id="seq">0</span> · <span id="conn">live</span></span>
</header>
<main>
  <h2>Workers</h2>
  <table id="workers">
    <thead><tr><th>id</th><th>name</th><th>state</th><th class="num">pid</th><th class="num">restarts</th><th class="num">run time</th><th>ended</th><th>command</th></tr></thead>
    <tbody></tbody>
  </table>
  <div id="no-workers" class="empty">no workers</div>

  <h2 class="tools">Runs and restarts
    <select id="window" title="time shown">
      <option value="0">all</option><option value="3600000">last hour</option><option value="600000">last 10 min</option><option value="60000">last minute</option>
    </select>
  </h2>
  <div class="tl-head"><span id="tl-from"></span><span>now</span></div>
  <div id="timeline"></div>

  <h2 class="tools">Events <input id="filter" placeholder="filter: type, worker or session" size="32"></h2>
  <table id="events">
    <thead><tr><th class="num">seq</th><th>time</th><th>type</th><th>worker</th><th>session</th><th>payload</th></tr></thead>
    <tbody></tbody>
  </table>
</main>
<script>
(function () {
  "use strict";
  var MAX_EVENTS = 300;
  var ACTIVE = { starting: 1, running: 1, stopping: 1 };
  var token = new URLSearchParams(location.search).get("token") || "";
  var state = { workers: new Map(), timelines: new Map(), events: [], lastSeq: 0 };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function duration(ms) {
    if (ms === null || ms === undefined || isNaN(ms)) return "";
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return (ms / 1000).toFixed(1) + " s";
    if (s < 3600) return Math.floor(s / 60) + " m " + (s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " m";
    return Math.floor(s / 86400) + " d " + Math.floor((s % 86400) / 3600) + " h";
  }
  function clock(ms) {
    var d = new Date(ms);
    function p(n, w) { return String(n).padStart(w || 2, "0"); }
    return p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds()) + "." + p(d.getMilliseconds(), 3);
  }
  function byId(a, b) { return Number(a.id.slice(1)) - Number(b.id.slice(1)); }
  function runTime(w, now) {
    if (!w.startedAt) return null;
    if (ACTIVE[w.state]) return now - Date.parse(w.startedAt);
    return w.runMs;
  }
  function ending(w) {
    if (ACTIVE[w.state] || w.state === "queued") return "";
    if (w.reason) return w.reason;
    if (w.signal) return "signal " + w.signal;
    if (w.exitCode !== null && w.exitCode !== undefined) return "exit " + w.exitCode;
    return "";
  }

  function renderWorkers() {
    var now = Date.now();
    var body = $("workers").tBodies[0];
    var rows = Array.from(state.workers.values()).sort(byId);
    body.replaceChildren.apply(body, rows.map(function (w) {
      var tr = el("tr");
      tr.dataset.worker = w.id;
      tr.dataset.state = w.state;
      tr.append(el("td", "id", w.id), el("td", "name", w.name || ""), el("td", "state s-" + w.state, w.state),
        el("td", "num pid", w.pid === null ? "" : w.pid), el("td", "num restarts", w.restarts),
        el("td", "num runtime", duration(runTime(w, now))), el("td", "ended", ending(w)),
        el("td", "cmd", (w.command || []).join(" ")));
      return tr;
    }));
    $("no-workers").hidden = rows.length > 0;
  }

  function renderTimeline() {
    var now = Date.now();
    var span = Number($("window").value);
    var list = Array.from(state.timelines.values()).filter(function (t) { return state.workers.has(t.id); }).sort(byId);
    var from = now - span;
    if (span === 0) {
      from = now;
      list.forEach(function (t) {
        if (t.runs.length) from = Math.min(from, t.runs[0].startedAtMs);
        if (t.marks.length) from = Math.min(from, t.marks[0].atMs);
      });
      from = Math.min(from, now - 10000);
    }
    var width = Math.max(1, now - from);
    function pct(ms) { return (Math.max(0, Math.min(1, (ms - from) / width)) * 100).toFixed(3) + "%"; }
    $("tl-from").textContent = clock(from);
    var box = $("timeline");
    box.replaceChildren.apply(box, list.map(function (t) {
      var row = el("div", "tl-row");
      row.dataset.worker = t.id;
      var track = el("div", "track");
      t.runs.forEach(function (r, i) {
        var end = r.endedAtMs === null ? now : r.endedAtMs;
        if (end < from) return;
        var bar = el("div", "bar " + r.state);
        bar.dataset.run = String(i + 1);
        bar.dataset.state = r.state;
        bar.style.left = pct(r.startedAtMs);
        bar.style.width = "calc(" + pct(end) + " - " + pct(r.startedAtMs) + ")";
        var how = r.endedAtMs === null ? "running" : r.state + (r.signal ? " (" + r.signal + ")" : r.exitCode !== null ? " (exit " + r.exitCode + ")" : "");
        bar.title = "run " + (i + 1) + ": " + clock(r.startedAtMs) + (r.endedAtMs === null ? "" : " → " + clock(r.endedAtMs)) + ", " + duration(end - r.startedAtMs) + ", " + how;
        track.append(bar);
      });
      t.marks.forEach(function (m) {
        if (m.atMs < from) return;
        var mk = el("div", "mark " + m.kind);
        mk.style.left = pct(m.atMs);
        mk.title = clock(m.atMs) + " " + m.text;
        track.append(mk);
      });
      row.append(el("div", "tl-label", t.id + (t.name ? " " + t.name : "")), track);
      return row;
    }));
  }

  function eventRow(e) {
    var tr = el("tr");
    tr.dataset.seq = String(e.seq);
    tr.dataset.type = e.type;
    var payload = JSON.stringify(e.payload);
    if (payload.length > 300) payload = payload.slice(0, 300) + "…";
    tr.append(el("td", "num", e.seq), el("td", "", clock(Date.parse(e.ts))), el("td", "type", e.type),
      el("td", "", e.worker || ""), el("td", "", e.session ? e.session.slice(0, 8) : ""), el("td", "payload", payload));
    return tr;
  }
  function shown(e) {
    var f = $("filter").value.trim();
    if (!f) return true;
    return e.type.indexOf(f) === 0 || e.worker === f || (e.session || "").indexOf(f) === 0;
  }
  function renderEvents() {
    var body = $("events").tBodies[0];
    var rows = state.events.filter(shown).slice(-MAX_EVENTS).reverse().map(eventRow);
    body.replaceChildren.apply(body, rows);
  }
  function addEvents(events) {
    if (!events.length) return;
    state.events = state.events.concat(events).slice(-MAX_EVENTS);
    var body = $("events").tBodies[0];
    events.filter(shown).forEach(function (e) { body.insertBefore(eventRow(e), body.firstChild); });
    while (body.rows.length > MAX_EVENTS) body.deleteRow(body.rows.length - 1);
  }

  function setDaemon(up) {
    var d = $("daemon");
    d.textContent = up ? "running" : "not running";
    d.className = up ? "up" : "down";
  }

  var es = new EventSource("stream?token=" + encodeURIComponent(token));
  es.addEventListener("snapshot", function (m) {
    var s = JSON.parse(m.data);
    state.workers = new Map(s.workers.map(function (w) { return [w.id, w]; }));
    state.timelines = new Map(s.timelines.map(function (t) { return [t.id, t]; }));
    state.events = s.events;
    state.lastSeq = s.lastSeq;
    $("seq").textContent = s.lastSeq;
    renderWorkers(); renderTimeline(); renderEvents();
  });
  es.addEventListener("delta", function (m) {
    var d = JSON.parse(m.data);
    d.workers.forEach(function (w) { state.workers.set(w.id, w); });
    d.timelines.forEach(function (t) { state.timelines.set(t.id, t); });
    d.removed.forEach(function (id) { state.workers.delete(id); state.timelines.delete(id); });
    state.lastSeq = d.lastSeq;
    $("seq").textContent = d.lastSeq;
    if (d.workers.length || d.removed.length) renderWorkers();
    if (d.timelines.length || d.removed.length) renderTimeline();
    addEvents(d.events);
  });
  es.addEventListener("daemon", function (m) { setDaemon(JSON.parse(m.data).up); });
  es.onopen = function () { $("conn").textContent = "live"; };
  es.onerror = function () { $("conn").textContent = "reconnecting…"; };
  $("window").addEventListener("change", renderTimeline);
  $("filter").addEventListener("input", renderEvents);
  // Run times and the timeline's right edge move with the clock; nothing is fetched for it.
  setInterval(function () { renderWorkers(); renderTimeline(); }, 1000);
})();
</script>
</body>
</html>
`;
