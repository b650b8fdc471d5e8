// Vigil's live dashboard. Everything shown is set with textContent: nothing from an event is ever parsed as HTML.
"use strict";

// Signed in with a session cookie (HttpOnly: this script never sees it); changes carry the session's CSRF token.
const state = { me: null, users: new Map(), selected: null };
const can = (role) => state.me && (state.me.roles.includes(role) || (role === "viewer" && state.me.roles.length > 0));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const band = (name) => el("span", { class: `band ${name}`, text: name });
const when = (ts) => new Date(typeof ts === "number" ? ts * 1000 : ts.replace(" ", "T") + "Z").toISOString().slice(0, 16).replace("T", " ");

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}), "Content-Type": "application/json" };
  if (options.method && options.method !== "GET") headers["X-CSRF-Token"] = state.me.csrf;
  const response = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (response.status === 401) { signIn(); throw new Error("signed out"); }
  if (!response.ok) throw new Error((await response.json()).error || response.statusText);
  return response.json();
}

function renderLeaderboard() {
  const rows = [...state.users.values()].sort((a, b) => b.risk - a.risk || a.user.localeCompare(b.user)).slice(0, 20);
  const body = document.querySelector("#leaderboard tbody");
  body.replaceChildren(...rows.map((r) => el("tr", { "data-user": r.user, onclick: () => showUser(r.user) },
    el("td", { text: r.user }), el("td", { text: r.risk.toFixed(1) }), el("td", {}, band(r.band)))));
}

function alertItem(alert, fresh) {
  const verdicts = el("div", { class: "verdicts" });
  if (alert.status && alert.status !== "open") verdicts.append(el("span", { class: "done", text: `verdict: ${alert.status}` }));
  else for (const verdict of ["benign", "malicious"]) {
    verdicts.append(el("button", { text: verdict, "data-verdict": verdict, onclick: async () => {
      try {
        await api("/api/feedback", { method: "POST", body: JSON.stringify({ alert_id: alert.alert_id, verdict }) });
        verdicts.replaceChildren(el("span", { class: "done", text: `verdict: ${verdict}` }));
      } catch (error) { verdicts.replaceChildren(el("span", { class: "error refused", text: error.message })); }
    } }));
  }
  if (alert.automation === "awaiting-approval") {
    verdicts.append(el("span", { class: "awaiting", text: "suspension awaits a second person's approval " }));
    if (can("responder")) verdicts.append(el("button", { text: "approve suspension", onclick: async () => {
      const reason = prompt("Why approve this suspension? (kept in the audit trail)");
      if (reason) await api("/api/approvals", { method: "POST", body: JSON.stringify({ alert_id: alert.alert_id, reason }) });
    } }));
  }
  return el("li", { class: `${alert.band}${fresh ? " fresh" : ""}`, "data-alert": alert.alert_id },
    el("div", { class: "alert-head" }, band(alert.band),
      el("span", { class: "alert-user", text: alert.user, onclick: () => showUser(alert.user) }),
      el("span", { text: `risk ${Number(alert.risk).toFixed(0)}` }), el("span", { class: "alert-time", text: when(alert.ts) })),
    el("ul", { class: "alert-reasons" }, ...(alert.reasons || []).map((r) => el("li", { text: r }))), verdicts);
}

async function showUser(user) {
  // An identity revealed stays shown while its profile refreshes (a live alert, a slow first load); another user's goes.
  if (state.selected !== user) document.getElementById("revealed").textContent = "";
  state.selected = user;
  const profile = await api(`/api/users/${encodeURIComponent(user)}`);
  if (state.selected !== user) return;  // someone else was chosen while this profile loaded
  document.getElementById("user-panel").hidden = false;
  document.getElementById("user-title").textContent = `${user} — risk over time`;
  document.getElementById("reveal").hidden = !can("investigator");
  const alerts = profile.alerts.map((a) => ({ x: a.ts, y: a.risk, text: a.band }));
  const history = profile.history.map((h) => ({ x: h.hour, y: h.risk }));
  if (profile.now) history.push({ x: when(profile.now.ts), y: profile.now.risk });  // live, ahead of the hourly rollup
  Plotly.react("chart", [
    { x: history.map((h) => h.x), y: history.map((h) => h.y), type: "scatter", mode: "lines",
      line: { shape: "hv", color: "#6fa8dc" }, name: "peak risk per hour" },
    { x: alerts.map((a) => a.x), y: alerts.map((a) => a.y), text: alerts.map((a) => a.text), type: "scatter",
      mode: "markers", marker: { size: 11, color: "#d6453d" }, name: "alerts" },
  ], { paper_bgcolor: "#16212c", plot_bgcolor: "#16212c", font: { color: "#e3e9ef" }, height: 280,
       margin: { l: 40, r: 10, t: 10, b: 40 }, yaxis: { title: "risk" }, legend: { orientation: "h" } }, { displayModeBar: false });
  document.getElementById("reasons").replaceChildren(...profile.reasons.map((r) =>
    el("li", {}, el("span", { text: `${r.reason} ` }), el("span", { class: "technique", text: r.technique ? `(${r.technique})` : "" }))));
  document.querySelector("#events tbody").replaceChildren(...profile.events.slice(0, 15).map((e) => el("tr", {},
    el("td", { text: when(e.ts) }), el("td", { text: e.action }), el("td", { text: e.record_id || `${e.records} records` }),
    el("td", { text: Number(e.score).toFixed(0) }), el("td", { text: Number(e.risk).toFixed(1) }))));
}

async function listen() {
  const status = document.getElementById("status");
  // EventSource cannot send the token as a header, and a token never goes in a URL: trade it for a one-use ticket.
  const { ticket } = await api("/api/stream-ticket", { method: "POST" });
  const stream = new EventSource(`/api/stream?ticket=${encodeURIComponent(ticket)}`);
  stream.onopen = () => { status.textContent = "live"; status.classList.add("live"); };
  stream.onerror = () => {
    status.textContent = "reconnecting…"; status.classList.remove("live");
    stream.close();  // a ticket opens the stream once: reconnect with a new one
    setTimeout(() => listen().catch(() => {}), 2000);
  };
  stream.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "risk") { state.users.set(data.user, data); renderLeaderboard(); }
    if (data.type === "alert") {
      document.getElementById("alerts").prepend(alertItem(data, true));
      if (data.user === state.selected) showUser(data.user);
    }
  };
}

async function revealSelected(event) {
  event.preventDefault();
  const reason = document.getElementById("reveal-reason").value;
  const pseudonym = state.selected;
  const { user } = await api("/api/reveal", { method: "POST", body: JSON.stringify({ pseudonym, reason }) });
  if (state.selected === pseudonym) document.getElementById("revealed").textContent = user;
}

async function showAudit() {
  document.getElementById("audit-panel").hidden = false;
  const rows = await api("/api/audit?limit=50");
  document.querySelector("#audit tbody").replaceChildren(...rows.map((r) => el("tr", {},
    el("td", { text: when(r.ts) }), el("td", { text: r.who }), el("td", { text: r.action }),
    el("td", { text: r.subject }), el("td", { text: r.reason }), el("td", { text: r.outcome }))));
}

async function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("main").hidden = false;
  document.getElementById("who").textContent = `${state.me.name} · ${state.me.roles.join(", ")}`;
  const signOut = document.getElementById("sign-out");
  signOut.hidden = false;
  signOut.onclick = async () => { await api("/api/session", { method: "DELETE" }); location.reload(); };
  document.getElementById("reveal").addEventListener("submit", (event) => revealSelected(event).catch((error) => {
    document.getElementById("revealed").textContent = error.message;
  }));
  for (const row of await api("/api/leaderboard?limit=200")) state.users.set(row.user, row);
  renderLeaderboard();
  const alerts = await api("/api/alerts?band=medium&limit=50");
  document.getElementById("alerts").replaceChildren(...alerts.map((a) => alertItem(a, false)));
  if (can("admin")) await showAudit();
  await listen();
}

function signIn() {
  document.getElementById("main").hidden = true;
  const form = document.getElementById("login");
  form.hidden = false;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const response = await fetch("/api/session", { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ key: document.getElementById("key").value }) });
    const body = await response.json();
    if (!response.ok) { document.getElementById("login-error").textContent = body.error; return; }
    document.getElementById("key").value = "";
    state.me = body;
    start();
  };
}

// Already signed in (the cookie is sent by the browser)? Otherwise show the form.
fetch("/api/session", { credentials: "same-origin" }).then(async (response) => {
  if (response.ok) { state.me = await response.json(); start(); } else signIn();
});
