// The board: one EventSource on /events; each "answer" event redraws the table.
// No framework, nothing fetched from elsewhere. EventSource reconnects by itself
// (the server's "retry" hint) when the server restarts; the status says so meanwhile.
"use strict";

const OPS = {
  ">": (a, b) => a > b, ">=": (a, b) => a >= b, "<": (a, b) => a < b,
  "<=": (a, b) => a <= b, "==": (a, b) => a === b,
};
const LABELS = { queue: "Queue", channel: "Channel", routing_profile: "Routing profile" };
let config = { metrics: [], alerts: [], sort: null, instance: "" };
let last = null; // the last answer drawn

const $ = (id) => document.getElementById(id);

function setStatus(kind, text) {
  const status = $("status");
  status.className = "status " + kind;
  status.textContent = text;
}

function fires(alert, value) {
  return value !== null && value !== undefined && OPS[alert.op](value, alert.threshold);
}

function cell(value) {
  if (value === null || value === undefined) return "-";
  return Number.isInteger(value) ? value.toLocaleString("en") : value.toFixed(1);
}

function label(row, dimension) {
  if (dimension === "queue") return row.queue_name || row.queue_id || "";
  if (dimension === "channel") return row.channel || "";
  return row.routing_profile_name || row.routing_profile_id || "";
}

function dimensions(answer) {
  return answer.groupings.map((g) => g.toLowerCase());
}

function firing(row) {
  return config.alerts.filter((a) => fires(a, row[a.metric])).length;
}

// Rows that need attention first: those over a threshold (most first), then by the
// sort metric, largest first; rows without a value last.
function ordered(rows) {
  const key = config.sort;
  return rows
    .map((row) => ({ row, over: firing(row) }))
    .sort((a, b) => {
      if (a.over !== b.over) return b.over - a.over;
      if (!key) return 0;
      const x = a.row[key], y = b.row[key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return y - x;
    });
}

function draw(answer) {
  last = answer;
  const dims = dimensions(answer);
  const metrics = answer.metrics;
  const head = $("head");
  head.replaceChildren(
    ...dims.map((d) => th(LABELS[d] || d, "text")),
    ...metrics.map((m) => th(m.replaceAll("_", " ").toLowerCase())),
  );
  const rows = answer.groupings.length ? answer.rows : answer.summary ? [answer.summary] : [];
  let alerting = 0;
  const body = ordered(rows).map(({ row, over }) => {
    const tr = document.createElement("tr");
    if (over) { tr.className = "alerting"; alerting += 1; }
    tr.dataset.queue = row.queue_id || "";
    for (const d of dims) tr.append(td(label(row, d), "text"));
    if (!dims.length) tr.append(td("All queues", "text"));
    for (const m of metrics) {
      const classes = [];
      if (config.alerts.some((a) => a.metric === m && fires(a, row[m]))) classes.push("alert");
      if (row.approximate && m in row.approximate) classes.push("approx");
      const c = td(cell(row[m]), classes.join(" "));
      c.dataset.metric = m;
      tr.append(c);
    }
    return tr;
  });
  if (!dims.length) head.prepend(th("", "text"));
  $("rows").replaceChildren(...body);
  $("empty").hidden = rows.length > 0;
  const badge = $("alerting");
  badge.textContent = config.alerts.length ? `${alerting} over a threshold` : "";
  badge.className = alerting ? "firing" : "";
  if (answer.stale) {
    setStatus("stale", "stale");
    $("problem").hidden = false;
    $("problem").textContent = `The last poll failed (${answer.error}); showing the last answer.`;
  } else {
    setStatus("live", "live");
    $("problem").hidden = true;
  }
  tick();
}

function th(text, cls) {
  const e = document.createElement("th");
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function td(text, cls) {
  const e = document.createElement("td");
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// The snapshot's age, every second: how old the numbers on the screen are.
function tick() {
  if (!last) return;
  const moment = last.snapshot_time || last.end_time;
  if (!moment) { $("snapshot").textContent = "no snapshot"; return; }
  const at = new Date(moment);
  const age = Math.max(0, Math.round((Date.now() - at.getTime()) / 1000));
  const what = last.snapshot_time ? "snapshot" : "interval ending";
  $("snapshot").textContent =
    `${what} ${at.toISOString().slice(11, 19)} UTC, ${age} s ago`;
  $("snapshot").dataset.time = moment;
}
setInterval(tick, 1000);

function connect() {
  const events = new EventSource("events");
  events.addEventListener("open", () => {
    if (!last) setStatus("connecting", "connected, waiting for the first answer");
  });
  events.addEventListener("config", (e) => {
    config = JSON.parse(e.data);
    if (config.instance) $("title").textContent = `Amazon Connect queues: ${config.instance}`;
  });
  events.addEventListener("answer", (e) => draw(JSON.parse(e.data)));
  events.addEventListener("error", (e) => {
    if (e.data) { // the server's own error event: the question cannot be answered
      setStatus("failed", "failed");
      $("problem").hidden = false;
      $("problem").textContent = JSON.parse(e.data).error;
    } else {
      setStatus("reconnecting", "reconnecting");
    }
  });
}
connect();
