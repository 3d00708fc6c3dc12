// The status page: polls the proxy's /api every few seconds and renders it. No framework, no CDN.
"use strict";

const POLL_MS = 2500;
const $ = (id) => document.getElementById(id);
let loginId = null;

async function api(path, options = {}) {
  const reply = await fetch(path, { credentials: "same-origin", ...options });
  if (reply.status === 401) { location.reload(); throw new Error("signed out"); }
  const data = await reply.json().catch(() => ({}));
  if (!reply.ok) throw new Error((data.error && data.error.message) || `the proxy answered ${reply.status}`);
  return data;
}

// Every change is a JSON POST: the proxy refuses other bodies, so no other web page can post to it.
const postJson = (path, data = {}) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function toast(text) {
  $("toast").textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { $("toast").textContent = ""; }, 4000);
}

function duration(seconds) {
  if (seconds < 90) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  const total = Math.round(seconds / 60), hours = Math.floor(total / 60), minutes = total % 60;
  return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
}

function until(iso) {
  if (!iso) return "";
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  const clock = new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return seconds <= 0 ? "reset" : `resets ${clock} (in ${duration(seconds)})`;
}

async function copy(text, what) {
  try { await navigator.clipboard.writeText(text); toast(`${what} copied`); }
  catch { toast(`Could not copy: select it and copy by hand`); }
}

// -- status --------------------------------------------------------------------------------------

function renderStatus(status) {
  document.body.dataset.authenticated = "true";
  $("state-dot").className = "dot " + (status.config_error || status.move_error ? "error" : "running");
  $("version").textContent = "v" + status.version;
  const counts = status.accounts;
  $("state-line").textContent =
    `Running on ${status.address}${status.serving_previous_config ? " (previous config)" : ""} · up ${duration(status.uptime_s)} · ` +
    `${counts.available}/${counts.total} account(s) ready · ${status.requests.last_hour} request(s) in the last hour`;
  $("config-error").hidden = !status.config_error;
  $("config-error").textContent = status.config_error ? `config.yaml: ${status.config_error} (the last good config keeps running)` : "";
  // The file names another address, which another program holds: this proxy serves on, with the config from before.
  $("move-error").hidden = !status.move_error;
  $("move-error").textContent = status.move_error
    ? `The proxy ${status.move_error}, so it keeps serving here with the previous config. Free that port, then save config.yaml again or restart the proxy to move.`
    : "";
  $("key-masked").textContent = status.api_key_masked;
  const urls = $("urls");
  if (!urls.dataset.filled) {
    const names = { openai: "OpenAI", anthropic: "Anthropic", gemini: "Gemini" };
    for (const [kind, url] of Object.entries(status.base_urls)) {
      urls.append(el("dt", {}, names[kind] || kind), el("dd", {}, el("code", {}, url)),
        el("dd", {}, el("button", { type: "button", className: "small-button", onclick: () => copy(url, `${names[kind]} base URL`) }, "Copy")));
    }
    urls.dataset.filled = "1";
  }
}

function accountStatus(account) {
  if (account.status === "needs_verification") return el("span", { class: "badge warn" }, "verify account");
  if (account.status === "disabled") return el("span", { class: "badge bad", title: account.disabled_reason || "" }, "disabled");
  if (account.cooldown) return el("span", { class: "badge warn", title: account.cooldown.message }, account.cooldown.kind.replace("_", " "));
  return el("span", { class: "badge ok" }, "ok");
}

function renderAccounts(data) {
  const list = $("accounts");
  list.replaceChildren();
  $("accounts-empty").hidden = data.accounts.length > 0;
  for (const account of data.accounts) {
    const head = el("div", { class: "account-head" },
      el("span", {}, el("b", {}, account.email), " ", el("span", { class: "muted small" }, account.tier_name || account.tier)),
      accountStatus(account));
    const item = el("li", {}, head);
    if (account.validation_url) {
      item.append(el("p", { class: "small" }, "Google asks you to verify this account: ",
        el("a", { href: account.validation_url, target: "_blank", rel: "noopener" }, "verify account"),
        ", then Refresh quota."));
    } else if (account.status === "disabled") {
      item.append(el("p", { class: "problem small" }, account.disabled_reason || "disabled"));
    }
    if (account.cooldown) item.append(el("p", { class: "muted small" }, account.cooldown.message));
    const quota = el("div", { class: "quota" });
    for (const entry of account.quota) {
      quota.append(el("span", {}, entry.model), el("meter", { min: 0, max: 1, low: 0.2, high: 0.5, optimum: 1, value: entry.remaining }),
        el("span", { class: "muted" }, `${Math.round(entry.remaining * 100)}% ${entry.remaining < 1 ? until(entry.reset_at) : ""}`));
    }
    if (account.quota.length) item.append(quota);
    if (account.quota_error) item.append(el("p", { class: "problem small" }, `Last quota check failed: ${account.quota_error}`));
    list.append(item);
  }
}

// Why a request failed, in words a user can act on: the account, the quota, or the client?
function explain(request) {
  const error = request.error || "";
  switch (true) {
    case request.status === 429: return `All accounts busy (quota or rate limit): ${error}`;
    case request.status === 503: return `No usable account: ${error}`;
    case request.status === 401: return "The client sent no key or the wrong key.";
    case request.status === 404: return `Unknown model or route: ${error}`;
    case request.status === 400 || request.status === 413: return `The client's request was refused: ${error}`;
    case request.status === 499: return "The client hung up before the reply was complete.";
    default: return error ? `Google failed part-way: ${error}` : `Status ${request.status}`;
  }
}

function renderRequests(data) {
  const list = $("requests");
  list.replaceChildren();
  $("requests-empty").hidden = data.requests.length > 0;
  for (const request of data.requests) {
    const failed = request.status >= 400 || request.status === 0 || Boolean(request.error);
    const time = new Date(request.time).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    const tokens = request.input_tokens || request.output_tokens ? ` · ${request.input_tokens}→${request.output_tokens} tok` : "";
    const latency = request.duration_ms != null ? `${Math.round(request.duration_ms)} ms` : "";
    const item = el("li", { class: failed ? "failed" : "" },
      el("span", { class: "status " + (failed ? "bad" : "ok") }, String(request.status)),
      el("span", {}, `${request.client_model}${request.upstream_model && request.upstream_model !== request.client_model ? " → " + request.upstream_model : ""}`,
        el("span", { class: "muted" }, ` · ${request.account || "no account"}${tokens}`)),
      el("span", { class: "muted" }, `${time} · ${latency}`));
    if (failed) item.append(el("span", { class: "why" }, explain(request)));
    list.append(item);
  }
}

function renderChart(stats) {
  const svg = $("chart");
  const rows = stats.rows.slice(-24);
  const totals = rows.map((row) => row.input_tokens + row.output_tokens);
  const top = Math.max(1, ...totals);
  const width = 384 / Math.max(24, rows.length);
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const base = document.createElementNS(ns, "line");
  for (const [key, value] of Object.entries({ x1: 0, y1: 89, x2: 384, y2: 89 })) base.setAttribute(key, value);
  svg.append(base);
  rows.forEach((row, i) => {
    const height = Math.round((totals[i] / top) * 84);
    if (!height) return;
    const bar = document.createElementNS(ns, "rect");
    for (const [key, value] of Object.entries({ x: i * width + 1, y: 89 - height, width: width - 2, height })) bar.setAttribute(key, value);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${new Date(row.key).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ${row.input_tokens} in, ${row.output_tokens} out, ${row.requests} request(s)`;
    bar.append(title);
    svg.append(bar);
  });
  const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
  $("chart-total").textContent = `${sum("requests")} request(s) · ${sum("input_tokens")} in · ${sum("output_tokens")} out · ${sum("thinking_tokens")} thinking`;
}

async function poll() {
  try {
    const [status, accounts, logs, stats] = await Promise.all([
      api("/api/status"), api("/api/accounts"), api("/api/logs?limit=15"), api("/api/stats?by=hour&hours=24"),
    ]);
    renderStatus(status);
    renderAccounts(accounts);
    renderRequests(logs);
    renderChart(stats);
  } catch (error) {
    if (error.message !== "signed out") {
      $("state-dot").className = "dot stopped";
      $("state-line").textContent = `The proxy does not answer (${error.message}). Start it from the tray icon.`;
    }
  }
}

// -- adding an account ---------------------------------------------------------------------------

async function startLogin() {
  $("google-login").disabled = true;
  try {
    const login = await postJson("/api/accounts/login");
    loginId = login.login_id;
    $("login-progress").hidden = false;
    $("login-url").value = login.url || "";
    showLogin(login);
    followLogin();
  } catch (error) {
    $("login-state").textContent = `Could not start the sign-in: ${error.message}`;
    $("login-progress").hidden = false;
    $("google-login").disabled = false;
  }
}

function showLogin(login) {
  const words = {
    waiting: login.browser_opened ? "Waiting for you to finish in the browser…" : "Open the link below in a browser, then come back…",
    done: `Added ${login.account ? login.account.email : "the account"}.`,
    failed: `Sign-in failed: ${login.message || "no reason given"}`,
    cancelled: "Sign-in cancelled.",
  };
  $("login-state").textContent = words[login.state] || login.message || login.state;
  const over = login.state !== "waiting";
  $("cancel-login").hidden = over;
  $("google-login").disabled = !over;
  if (login.state === "done") poll();
}

async function followLogin() {
  let dots = 0;
  while (loginId) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    if (!loginId) break;
    try {
      const login = await api(`/api/accounts/login/${encodeURIComponent(loginId)}`);
      showLogin(login);
      if (login.state !== "waiting") { loginId = null; break; }
      $("login-state").textContent += " " + ".".repeat((dots = (dots + 1) % 4));
    } catch (error) {
      $("login-state").textContent = `Lost track of the sign-in: ${error.message}`;
      loginId = null;
      $("google-login").disabled = false;
    }
  }
}

async function cancelLogin() {
  if (!loginId) return;
  const id = loginId;
  loginId = null;
  try { showLogin(await api(`/api/accounts/login/${encodeURIComponent(id)}`, { method: "DELETE" })); }
  catch (error) { $("login-state").textContent = error.message; }
}

async function addToken(event) {
  event.preventDefault();
  const result = $("token-result");
  const token = $("refresh-token").value.trim();
  result.className = "muted";
  result.textContent = "Checking the token with Google…";
  try {
    const added = await postJson("/api/accounts", { refresh_token: token });
    $("refresh-token").value = "";
    result.textContent = `Added ${added.account.email}${added.problem ? ` (but: ${added.problem})` : ""}.`;
    poll();
  } catch (error) {
    result.className = "problem";
    result.textContent = error.message;
  }
}

// -- wiring --------------------------------------------------------------------------------------

function route() {
  const adding = location.hash === "#add";
  $("view-add").hidden = !adding;
  $("view-status").hidden = adding;
  $("tab-add").classList.toggle("active", adding);
  $("tab-status").classList.toggle("active", !adding);
}

$("copy-key").addEventListener("click", async () => {
  try { await copy((await api("/api/key")).api_key, "API key"); } catch (error) { toast(error.message); }
});
$("refresh-accounts").addEventListener("click", async () => {
  toast("Asking Google for fresh quota…");
  try { renderAccounts(await postJson("/api/accounts/refresh")); toast("Quota refreshed"); }
  catch (error) { toast(error.message); }
});
$("google-login").addEventListener("click", startLogin);
$("cancel-login").addEventListener("click", cancelLogin);
$("copy-login-url").addEventListener("click", () => copy($("login-url").value, "Sign-in link"));
$("token-form").addEventListener("submit", addToken);
window.addEventListener("hashchange", route);
route();
poll();
setInterval(poll, POLL_MS);
