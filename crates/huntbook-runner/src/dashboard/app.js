// The huntbook dashboard: a page over the service's HTTP API, with nothing loaded from
// anywhere else. The API token is kept in this tab's sessionStorage and sent as a
// Bearer header; reports are shown in a sandboxed frame that cannot read it.
"use strict";

const TOKEN_KEY = "huntbook.token";
const STATES = ["queued", "running", "succeeded", "failed", "timed_out", "cancelled"];
const REFRESH_MS = 1500;
let timer = null;

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { Authorization: `Bearer ${token}` };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method: options.method || "GET", headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  if (response.status === 401) { signOut(); throw new ApiError(401, "the token was refused: sign in again"); }
  if (options.raw) {
    if (!response.ok) throw new ApiError(response.status, `${response.status} ${response.statusText}`);
    return response;
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, (body && body.error) || `${response.status} ${response.statusText}`);
  return body;
}

// Builds an element: el("td", {class: "x"}, "text", child...).
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const view = () => document.getElementById("view");
const when = (text) => text ? new Date(text).toLocaleString() : "";
const stateBadge = (state) => el("span", { class: `state ${state}`, "data-state": state }, state.replace("_", " "));

function took(start, end) {
  if (!start) return "";
  const seconds = Math.max(0, ((end ? new Date(end) : new Date()) - new Date(start)) / 1000);
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${(seconds / 60).toFixed(1)} min`;
}

function show(...nodes) {
  view().replaceChildren(...nodes);
}

function showError(error) {
  show(el("p", { class: "error", "data-testid": "error" }, error.message));
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  route();
}

function signIn() {
  const form = document.getElementById("sign-in").content.firstElementChild.cloneNode(true);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = form.elements.token.value.trim();
    // Tried before it is kept, so a refused token leaves this form in place.
    const answer = await fetch("/api/v1/notebooks", { headers: { Authorization: `Bearer ${token}` } });
    if (answer.ok) {
      sessionStorage.setItem(TOKEN_KEY, token);
      route();
    } else {
      const body = await answer.json().catch(() => null);
      form.querySelector("[data-role=error]").textContent =
        (body && body.error) || `${answer.status} ${answer.statusText}`;
    }
  });
  show(form);
}

// ---- runs -------------------------------------------------------------------------

async function runsView(query) {
  const notebooks = (await api("/api/v1/notebooks")).notebooks;
  const status = el("select", { name: "status", "data-testid": "filter-status" },
    el("option", { value: "" }, "any"), STATES.map((s) => el("option", { value: s, selected: query.get("status") === s }, s)));
  const notebook = el("select", { name: "notebook", "data-testid": "filter-notebook" },
    el("option", { value: "" }, "any"), notebooks.map((n) => el("option", { value: n.name, selected: query.get("notebook") === n.name }, n.name)));
  const filter = () => {
    const next = new URLSearchParams();
    if (status.value) next.set("status", status.value);
    if (notebook.value) next.set("notebook", notebook.value);
    location.hash = `#/?${next}`;
  };
  status.addEventListener("change", filter);
  notebook.addEventListener("change", filter);
  const body = el("tbody");
  show(el("h1", {}, "Runs"),
    el("div", { class: "filters" }, el("label", {}, "Status", status), el("label", {}, "Notebook", notebook)),
    el("table", { "data-testid": "runs" },
      el("thead", {}, el("tr", {}, ["State", "Notebook", "Parameters", "Trigger", "Created", "Took", "Attempts"].map((h) => el("th", {}, h)))),
      body));
  const refresh = async () => {
    const params = new URLSearchParams({ limit: "200" });
    if (query.get("status")) params.set("status", query.get("status"));
    if (query.get("notebook")) params.set("notebook", query.get("notebook"));
    const jobs = (await api(`/api/v1/runs?${params}`)).jobs;
    body.replaceChildren(...jobs.map((job) => el("tr", { class: "link", "data-job": job.id, onclick: () => { location.hash = `#/runs/${job.id}`; } },
      el("td", {}, stateBadge(job.state)),
      el("td", {}, job.notebook),
      el("td", { class: "muted" }, Object.entries(job.parameters || {}).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(", ")),
      el("td", {}, job.trigger),
      el("td", {}, when(job.created_at)),
      el("td", {}, took(job.started_at, job.finished_at)),
      el("td", {}, `${job.attempts}/${job.max_attempts}`))));
    if (!jobs.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No runs yet: start one.")));
  };
  await refresh();
  timer = setInterval(() => refresh().catch(showError), REFRESH_MS);
}

async function runView(id) {
  const state = el("span"), progress = el("div", { style: "width:0%" }), progressText = el("span", { "data-testid": "progress" });
  const facts = el("dl"), params = el("tbody"), attempts = el("tbody"), outputs = el("div", { class: "actions" });
  const log = el("pre", { class: "log", "data-testid": "log" });
  const report = el("div");
  const cancel = el("button", { class: "secondary", type: "button", "data-testid": "cancel" }, "Cancel");
  cancel.addEventListener("click", async () => {
    try { await api(`/api/v1/runs/${id}/cancel`, { method: "POST" }); await refresh(); } catch (error) { showError(error); }
  });
  show(el("h1", {}, "Run ", el("code", {}, id), " ", state),
    el("div", { class: "card" }, facts, el("div", { class: "progress" }, progress), progressText),
    el("div", { class: "actions" }, cancel), outputs,
    el("h2", {}, "Parameters"), el("table", {}, params),
    el("h2", {}, "Attempts"), el("table", {}, el("thead", {}, el("tr", {}, ["#", "State", "Worker", "Started", "Took", "Reason"].map((h) => el("th", {}, h)))), attempts),
    el("h2", {}, "Log"), log, report);
  let logAt = 0, reportShown = false;
  const refresh = async () => {
    const detail = await api(`/api/v1/runs/${id}`);
    const job = detail.job;
    state.replaceChildren(stateBadge(job.state));
    facts.replaceChildren(...[["Notebook", job.notebook], ["Trigger", job.trigger], ["Created", when(job.created_at)],
      ["Finished", when(job.finished_at)], ["Reason", job.reason || ""]].flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
    params.replaceChildren(...Object.entries(job.parameters || {}).map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, typeof v === "string" ? v : JSON.stringify(v)))));
    attempts.replaceChildren(...detail.runs.map((run) => el("tr", {}, el("td", {}, run.attempt), el("td", {}, stateBadge(run.state)),
      el("td", {}, run.worker), el("td", {}, when(run.started_at)), el("td", {}, took(run.started_at, run.finished_at)), el("td", {}, run.reason || ""))));
    const p = detail.progress;
    if (p && p.total) {
      progress.style.width = `${Math.round(100 * p.cell / p.total)}%`;
      progressText.textContent = `cell ${p.cell} of ${p.total}`;
    }
    const finished = !["queued", "running"].includes(job.state);
    cancel.hidden = finished;
    const latest = detail.runs[detail.runs.length - 1];
    if (latest) {
      const chunk = await api(`/api/v1/runs/${latest.id}/log?after=${logAt}`);
      if (chunk.text) log.append(chunk.text);
      logAt = chunk.next;
    }
    if (finished && latest && !reportShown) {
      reportShown = true;
      outputs.replaceChildren(
        el("button", { class: "secondary", type: "button", "data-testid": "download", onclick: () => download(latest.id) }, "Download notebook"),
        el("button", { class: "secondary", type: "button", "data-testid": "open-report", onclick: () => showReport(latest.id, report) }, "Open report"));
      clearInterval(timer);
    }
  };
  await refresh();
  timer = setInterval(() => refresh().catch(showError), REFRESH_MS);
}

async function download(runId) {
  const blob = await (await api(`/api/v1/runs/${runId}/output.ipynb`, { raw: true })).blob();
  const link = el("a", { href: URL.createObjectURL(blob), download: `${runId}.ipynb` });
  link.click();
  URL.revokeObjectURL(link.href);
}

// The report is the run's HTML copy. It may hold scripts (charts), so it runs in a
// sandbox without same-origin: it cannot read the token or call the API.
async function showReport(runId, where) {
  try {
    const html = await (await api(`/api/v1/runs/${runId}/output.html`, { raw: true })).text();
    where.replaceChildren(el("h2", {}, "Report"), el("iframe", { class: "report", sandbox: "allow-scripts", srcdoc: html, "data-testid": "report" }));
  } catch (error) {
    where.replaceChildren(el("p", { class: "error" }, error.status === 404 ? "This run has no HTML report." : error.message));
  }
}

// ---- start a run ------------------------------------------------------------------

async function newRunView(query) {
  const notebooks = (await api("/api/v1/notebooks")).notebooks;
  if (!notebooks.length) return show(el("p", {}, "The service's configuration lists no notebooks."));
  const chosen = notebooks.find((n) => n.name === query.get("notebook")) || notebooks[0];
  const picker = el("select", { name: "notebook", "data-testid": "notebook" }, notebooks.map((n) => el("option", { value: n.name, selected: n === chosen }, n.name)));
  picker.addEventListener("change", () => { location.hash = `#/new?notebook=${encodeURIComponent(picker.value)}`; });
  const fields = chosen.parameters.map((p) => {
    // A string default shows without its Python quotes, and what is typed stays text.
    const quoted = /^(['"])(.*)\1$/s.exec(p.default.trim());
    const shown = quoted ? quoted[2] : p.default;
    return el("label", {}, p.name, el("small", {}, [p.type !== "None" ? p.type : "", p.help].filter(Boolean).join(" — ")),
      el("input", { name: p.name, value: shown, "data-kind": quoted || p.type === "str" ? "text" : "literal", "data-default": shown }));
  });
  const error = el("p", { class: "error", "data-testid": "form-error" });
  const form = el("form", { class: "card", "data-testid": "new-run" }, el("label", {}, "Notebook", picker), fields,
    fields.length ? null : el("p", { class: "muted" }, "This notebook takes no parameters."), error, el("button", { type: "submit" }, "Start"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const parameters = {};
    for (const input of form.querySelectorAll("input[data-kind]")) {
      // Unchanged fields keep the notebook's own default.
      if (input.value === input.dataset.default) continue;
      parameters[input.name] = input.dataset.kind === "text" ? input.value : literal(input.value);
    }
    try {
      const created = await api("/api/v1/runs", { method: "POST", body: { notebook: chosen.name, parameters } });
      location.hash = `#/runs/${created.id}`;
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
  show(el("h1", {}, "Start a run"), form);
}

// A field whose default is not a string, read as `huntbook run -p` reads a value:
// a number, a boolean, None, a JSON list or mapping; anything else stays text.
function literal(text) {
  const trimmed = text.trim();
  if (trimmed !== "" && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  if (/^(true|false)$/i.test(trimmed)) return /^true$/i.test(trimmed);
  if (/^(none|null)$/i.test(trimmed)) return null;
  if (/^[[{]/.test(trimmed)) { try { return JSON.parse(trimmed); } catch { /* kept as text */ } }
  return text;
}

// ---- findings and incidents -------------------------------------------------------

async function tableView(title, path, key, columns) {
  const rows = (await api(path))[key];
  show(el("h1", {}, title), el("table", { "data-testid": key },
    el("thead", {}, el("tr", {}, columns.map(([h]) => el("th", {}, h)))),
    el("tbody", {}, rows.length ? rows.map((row) => el("tr", {}, columns.map(([, cell]) => el("td", {}, cell(row)))))
      : el("tr", {}, el("td", { colspan: columns.length, class: "muted" }, `No ${key} yet.`)))));
}

const severity = (s) => el("span", { class: `sev ${s}` }, s);
const runLink = (id) => el("a", { href: `#/runs/${id}` }, "run");

function findingsView() {
  return tableView("Findings", "/api/v1/findings", "findings", [
    ["Severity", (f) => severity(f.severity)], ["Notebook", (f) => f.notebook], ["Finding", (f) => f.description],
    ["When", (f) => when(f.created_at)], ["", (f) => runLink(f.job_id)]]);
}

function incidentsView() {
  return tableView("Incidents", "/api/v1/incidents", "incidents", [
    ["#", (i) => i.number], ["Severity", (i) => severity(i.severity)], ["Title", (i) => i.title],
    ["Status", (i) => i.status], ["When", (i) => when(i.created_at)]]);
}

// ---- routing ----------------------------------------------------------------------

async function route() {
  clearInterval(timer);
  const signedIn = Boolean(sessionStorage.getItem(TOKEN_KEY));
  document.getElementById("sign-out").hidden = !signedIn;
  if (!signedIn) return signIn();
  const [path, search] = location.hash.replace(/^#/, "").split("?");
  const query = new URLSearchParams(search || "");
  const parts = path.split("/").filter(Boolean);
  const section = parts[0] || "runs";
  for (const link of document.querySelectorAll("nav a")) link.classList.toggle("active", link.dataset.nav === section);
  try {
    if (section === "runs" && parts[1]) await runView(parts[1]);
    else if (section === "new") await newRunView(query);
    else if (section === "findings") await findingsView();
    else if (section === "incidents") await incidentsView();
    else await runsView(query);
  } catch (error) {
    if (error.status !== 401) showError(error);
  }
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", signOut);
  route();
});
