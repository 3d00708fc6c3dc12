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

// 24-hour local times, as `trayagent accounts list` prints them: 21:11, or "Dec 03 21:11" a day or more away.
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n) => String(n).padStart(2, "0");

function clock(date, { seconds = false } = {}) {
  const time = `${two(date.getHours())}:${two(date.getMinutes())}`;
  return seconds ? `${time}:${two(date.getSeconds())}` : time;
}

function until(iso) {
  if (!iso) return "";
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  if (seconds <= 0) return "reset";
  const date = new Date(iso);
  const when = seconds < 20 * 3600 ? clock(date) : `${MONTHS[date.getMonth()]} ${two(date.getDate())} ${clock(date)}`;
  return `resets ${when} (in ${duration(seconds)})`;
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

// Who starts and stops this proxy: the tray (with or without a menu) or `trayagent serve` in a terminal.
let supervisedByTray = null;

function renderSupervisor(status) {
  const tray = status.tray;
  supervisedByTray = Boolean(tray);
  const note = $("supervisor-note");
  note.hidden = false;
  if (tray && tray.menu) note.textContent = "Start and stop the proxy from the tray icon's menu.";
  else if (tray) note.textContent = "The tray icon has no menu here (install trayagent[linux-gui] for one): a click on it opens this page, and the proxy runs as long as trayagent does.";
  else note.replaceChildren("Running as ", el("code", {}, "trayagent serve"), ", without a tray: stop it with Ctrl-C or SIGTERM where it runs.");
}

function accountStatus(account) {
  if (account.status === "needs_verification") return el("span", { class: "badge warn" }, "verify account");
  if (account.status === "disabled") return el("span", { class: "badge bad", title: account.disabled_reason || "" }, "disabled");
  if (account.cooldown) return el("span", { class: "badge warn", title: account.cooldown.message }, account.cooldown.kind.replace("_", " "));
  return el("span", { class: "badge ok" }, "ok");
}

// Emails are masked like everywhere else (al***@ex***); a click shows one whole, another masks it again.
const revealed = new Set();

function emailButton(account) {
  const shown = revealed.has(account.id);
  const button = el("button", {
    type: "button", class: "email", title: shown ? "Hide the address" : "Show the whole address",
    "aria-pressed": String(shown), "data-account": account.id,
  }, shown ? account.email : account.email_masked);
  button.addEventListener("click", () => {
    if (revealed.has(account.id)) revealed.delete(account.id); else revealed.add(account.id);
    button.replaceWith(emailButton(account));
  });
  return button;
}

function quotaRows(account) {
  const quota = el("div", { class: "quota" });
  for (const entry of account.quota) {
    const left = `${Math.round(entry.remaining * 100)}%${entry.remaining < 1 && entry.reset_at ? " · " + until(entry.reset_at) : ""}`;
    quota.append(
      el("div", { class: "quota-row" }, el("span", { class: "model", title: entry.model }, entry.model),
        el("span", { class: "remaining" }, left)),
      el("meter", { min: 0, max: 1, low: 0.2, high: 0.5, optimum: 1, value: entry.remaining, title: `${entry.model}: ${left}` }));
  }
  return quota;
}

function renderAccounts(data) {
  const list = $("accounts");
  list.replaceChildren();
  $("accounts-empty").hidden = data.accounts.length > 0;
  for (const account of data.accounts) {
    const head = el("div", { class: "account-head" },
      el("span", {}, emailButton(account), " ", el("span", { class: "muted small" }, account.tier_name || account.tier)),
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
    if (account.quota.length) item.append(quotaRows(account));
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
    const time = clock(new Date(request.time), { seconds: true });
    const tokens = request.input_tokens || request.output_tokens ? ` · ${request.input_tokens}→${request.output_tokens} tok` : "";
    const latency = request.duration_ms != null ? `${Math.round(request.duration_ms)} ms` : "";
    const item = el("li", { class: failed ? "failed" : "" },
      el("span", { class: "status " + (failed ? "bad" : "ok") }, String(request.status)),
      el("span", {}, el("span", { class: "model" }, request.client_model),
        request.upstream_model && request.upstream_model !== request.client_model ? " → " : "",
        request.upstream_model && request.upstream_model !== request.client_model ? el("span", { class: "model" }, request.upstream_model) : null,
        el("span", { class: "muted" }, ` · ${request.account || "no account"}${tokens}`)),
      el("span", { class: "muted" }, `${time} · ${latency}`));
    if (failed) item.append(el("span", { class: "why" }, explain(request)));
    list.append(item);
  }
}

function renderChart(stats) {
  const rows = stats.rows.slice(-24);
  const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
  const readout = $("chart-total");
  readout.dataset.summary = `${sum("requests")} request(s) · ${sum("input_tokens").toLocaleString("en-US")} in · ` +
    `${sum("output_tokens").toLocaleString("en-US")} out · ${sum("thinking_tokens").toLocaleString("en-US")} thinking` +
    " · point at an hour for its numbers";
  renderTokenChart($("chart"), rows);
}

async function poll() {
  try {
    const [status, accounts, logs, stats] = await Promise.all([
      api("/api/status"), api("/api/accounts"), api("/api/logs?limit=15"), api("/api/stats?by=hour&hours=24"),
    ]);
    renderStatus(status);
    renderSupervisor(status);
    renderAccounts(accounts);
    renderRequests(logs);
    renderChart(stats);
  } catch (error) {
    if (error.message !== "signed out") {
      $("state-dot").className = "dot stopped";
      const how = supervisedByTray === false ? "Start it again with `trayagent serve`." : "Start it from the tray icon.";
      $("state-line").textContent = `The proxy does not answer (${error.message}). ${how}`;
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

function loginWaiting(login) {
  if (login.browser_problem) {
    const problem = login.browser_problem[0].toUpperCase() + login.browser_problem.slice(1);
    return `${problem}. Open the link below in a browser on this computer.`;
  }
  if (login.browser_opened) return "Waiting for you to finish in the browser…";
  return "Open the link below in a browser on this computer, then come back…";
}

function showLogin(login) {
  const email = login.account ? login.account.email : "the account";
  const words = {
    waiting: loginWaiting(login),
    done: `${login.created === false ? "Updated" : "Added"} ${email}.`,  // the API says "added" or "updated" too
    failed: `Sign-in failed: ${login.message || "no reason given"}`,
    cancelled: "Sign-in cancelled.",
  };
  $("login-state").textContent = words[login.state] || login.message || login.state;
  $("login-state").className = login.browser_problem && login.state === "waiting" ? "problem" : "muted";
  $("login-tunnel").textContent = login.ssh_tunnel || "";
  $("login-elsewhere").hidden = !login.ssh_tunnel || login.state !== "waiting";
  $("login-link").hidden = login.state !== "waiting";
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
      if (login.browser_opened) $("login-state").textContent += " " + ".".repeat((dots = (dots + 1) % 4));
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
    const verb = added.created === false ? "Updated" : "Added";
    result.textContent = `${verb} ${added.account.email}${added.problem ? ` (but: ${added.problem})` : ""}.`;
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
$("copy-tunnel").addEventListener("click", () => copy($("login-tunnel").textContent, "SSH command"));
$("token-form").addEventListener("submit", addToken);
window.addEventListener("hashchange", route);
route();
poll();
setInterval(poll, POLL_MS);
