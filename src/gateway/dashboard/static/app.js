// The dashboard: a small module with no framework and no build step. Every
// piece of text from the server goes into the page through textContent, never
// as HTML, and no element gets an inline handler (the CSP forbids both).
import { nestThreads, originText } from "/assets/names.js";
import { visibleText } from "/assets/text.js";
const TOKEN_KEY = "openclaw.gateway.token";
const PAGE = 25;
const view = document.getElementById("view");
const live = document.getElementById("live");
const state = { filters: { status: "", kind: "", channel: "", q: "" }, offset: 0, window: 0, budget: 0, fresh: new Set(), stream: null, earlier: new Set() };

/** Creates an element; children are nodes or text (always text, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) throw new Error("no inline handlers");
    if (k === "class") el.className = v;
    // Through the CSSOM: the CSP refuses style attributes written as markup.
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : visibleText(String(c)));
  return el;
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

class Unauthorized extends Error {}

/** Calls the admin API with the token; a 401 sends the user back to the login form. */
async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method ?? "GET",
    headers: { authorization: `Bearer ${token()}`, ...(options.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("The token was refused.");
    throw new Unauthorized();
  }
  if (options.raw) return res;
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("login-error").textContent = message;
  view.replaceChildren();
  stopEvents();
}

document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const value = document.getElementById("token").value.trim();
  const res = await fetch("/admin/status", { headers: { authorization: `Bearer ${value}` } });
  if (!res.ok) {
    document.getElementById("login-error").textContent =
      res.status === 401 ? "That token was refused." : res.status === 403 ? "That token lacks the admin:read scope the dashboard needs." : `The gateway answered ${res.status}.`;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, value);
  document.getElementById("token").value = "";
  start();
});

document.getElementById("logout").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin();
});

function relTime(iso) {
  if (!iso) return "never";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 45) return "just now";
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const hours = Math.round(m / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} d ago`;
}

const fmt = (n) => Number(n ?? 0).toLocaleString("en-US");
const bytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);

/** A stacked bar; parts are [className, tokens, label]. */
function bar(parts, total, label) {
  const b = h("div", { class: "bar", role: "img", "aria-label": label });
  for (const [cls, n] of parts) if (n > 0) b.append(h("span", { class: cls, style: `width:${Math.min(100, (100 * n) / Math.max(1, total)).toFixed(2)}%` }));
  return b;
}

// ---- sessions page ------------------------------------------------------

async function renderList() {
  const [status, page] = await Promise.all([api("/admin/status"), fetchPage()]);
  state.window = status.window;
  state.budget = status.budget;
  const tiles = h(
    "div",
    { class: "tiles" },
    tile(fmt(status.total), "sessions"),
    ...["active", "created", "expired", "archived"].map((s) => tile(fmt(status.byStatus[s]), s)),
    ...["dm", "group", "isolated"].map((k) => tile(fmt(status.byKind[k]), k)),
    tile(status.sizeOnDisk === null ? "n/a" : bytes(status.sizeOnDisk), "store size"),
    tile(fmt(page.tokensInUse), "tokens in use (this page)"),
  );
  const filters = h("form", { class: "filters", id: "filters", role: "search", "aria-label": "Filter sessions" },
    select("status", "Status", ["", "created", "active", "expired", "archived", "all"], "not archived"),
    select("kind", "Kind", ["", "dm", "group", "isolated"], "any"),
    h("label", {}, "Channel", h("input", { name: "channel", value: state.filters.channel, placeholder: "any" })),
    h("label", {}, "Key or name contains", h("input", { name: "q", value: state.filters.q, placeholder: "e.g. telegram:42 or Alice", type: "search" })),
    h("button", { type: "submit" }, "Apply"),
  );
  // Kept in the state as they are edited, so a live re-render never undoes a choice not yet applied.
  const readFilters = () => {
    const data = new FormData(filters);
    state.filters = { status: data.get("status") ?? "", kind: data.get("kind") ?? "", channel: String(data.get("channel") ?? "").trim(), q: String(data.get("q") ?? "").trim() };
  };
  filters.addEventListener("change", readFilters);
  filters.addEventListener("input", readFilters);
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    readFilters();
    state.offset = 0;
    render();
  });
  const rows = nestThreads(page.sessions).map((s) => {
    const pct = state.window > 0 ? (100 * s.tokens) / state.window : 0;
    const share = pct > 0 && pct < 0.1 ? "< 0.1 %" : `${pct.toFixed(1)} %`;
    const keyCell = s.nested
      ? h("td", { class: "thread" }, "↳ ", h("a", { href: `#/s/${s.id}`, title: s.key }, s.key.slice(s.parentKey.length + 1)))
      : h("td", {}, h("a", { href: `#/s/${s.id}` }, s.key));
    return h("tr", { class: state.fresh.has(s.id) ? "fresh" : "" },
      keyCell,
      h("td", {}, s.kind), h("td", {}, s.channel),
      h("td", {}, h("span", { class: `status ${s.status}` }, s.status)),
      h("td", { class: "num" }, fmt(s.messageCount)),
      h("td", { class: "num", title: s.usage ? `${fmt(s.usage.input)} in · ${fmt(s.usage.output)} out over ${fmt(s.usage.turns)} model call(s)` : "no model call yet" }, usedText(s.usage)),
      h("td", {}, bar([["used", s.tokens]], state.window, `${share} of the context window`), h("span", { class: "sr-only" }, share)),
      h("td", { title: s.lastActivityAt }, relTime(s.lastActivityAt)),
      h("td", { class: "name" }, s.label ?? "", s.origin ? h("span", { class: "origin" }, `${s.label ? " · " : ""}${originText(s.origin)}`) : ""),
    );
  });
  state.fresh.clear();
  const table = h("table", {},
    h("caption", { class: "sr-only" }, "Sessions, newest activity first"),
    h("thead", {}, h("tr", {}, ...["Key", "Kind", "Channel", "Status"].map((t) => h("th", { scope: "col" }, t)), h("th", { scope: "col", class: "num" }, "Messages"), h("th", { scope: "col", class: "num" }, "Tokens used"), h("th", { scope: "col" }, "Context"), h("th", { scope: "col" }, "Last activity"), h("th", { scope: "col" }, "Label / origin"))),
    h("tbody", { id: "rows" }, rows.length > 0 ? rows : h("tr", {}, h("td", { colspan: 9 }, "No session matches."))),
  );
  const prev = h("button", { type: "button", disabled: state.offset === 0 }, "Previous");
  const next = h("button", { type: "button", disabled: !page.hasMore }, "Next");
  prev.addEventListener("click", () => { state.offset = Math.max(0, state.offset - PAGE); render(); });
  next.addEventListener("click", () => { state.offset += PAGE; render(); });
  const shown = page.sessions.length === 0 ? "0" : `${state.offset + 1}–${state.offset + page.sessions.length}`;
  view.replaceChildren(h("h1", {}, "Sessions"), tiles, filters, table, h("nav", { class: "pager", "aria-label": "Pages" }, prev, h("span", {}, `${shown} of ${fmt(page.total)}`), next));
}

function tile(n, label) {
  return h("div", { class: "tile" }, h("div", { class: "n" }, n), h("div", { class: "l" }, label));
}

function select(name, label, values, anyLabel) {
  return h("label", {}, label, h("select", { name }, ...values.map((v) => h("option", { value: v, selected: state.filters[name] === v }, v === "" ? anyLabel : v))));
}

/** One page of sessions; a key filter pages on the client over the matching sessions. */
async function fetchPage() {
  const f = state.filters;
  const q = new URLSearchParams();
  if (f.status) q.set("status", f.status);
  if (f.kind) q.set("kind", f.kind);
  if (f.channel) q.set("channel", f.channel);
  let page;
  if (f.q) {
    q.set("limit", "100000");
    const all = await api(`/admin/sessions?${q}`);
    const needle = f.q.toLowerCase();
    // The key, the label and the origin's names all find a session.
    const hits = all.sessions.filter((s) => [s.key, s.label, s.origin?.displayName, s.origin?.subject].some((t) => typeof t === "string" && t.toLowerCase().includes(needle)));
    page = { sessions: hits.slice(state.offset, state.offset + PAGE), total: hits.length, hasMore: state.offset + PAGE < hits.length };
  } else {
    q.set("limit", String(PAGE));
    q.set("offset", String(state.offset));
    page = await api(`/admin/sessions?${q}`);
  }
  page.tokensInUse = page.sessions.reduce((n, s) => n + s.tokens, 0);
  return page;
}

// Total tokens a session's model calls used; "~" when some were estimated.
function usedText(u) {
  return u && u.turns > 0 ? `${u.estimatedTurns > 0 ? "~" : ""}${fmt(u.total)}` : "–";
}

// ---- session page -------------------------------------------------------

async function renderSession(id) {
  // Remembered per session, so a live update does not fold the earlier messages away again.
  const showEarlier = state.earlier.has(id);
  const [doc, ctx] = await Promise.all([api(`/admin/sessions/${encodeURIComponent(id)}${showEarlier ? "?all=1" : ""}`), api(`/admin/sessions/${encodeURIComponent(id)}/context`)]);
  const usage = ctx.usage;
  const built = ctx.built;
  const reserve = usage.window - usage.budget;
  const t = usage.tokens;
  const actions = h("div", { class: "actions", role: "group", "aria-label": "Session actions" });
  const act = (label, fn, cls) => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await fn();
      } catch (err) {
        if (!(err instanceof Unauthorized)) alert(err.message);
      } finally {
        b.disabled = false;
      }
    });
    actions.append(b);
  };
  const post = (what) => api(`/admin/sessions/${doc.id}/${what}`, { method: "POST" }).then(() => renderSession(doc.id));
  act("Clear history", () => (confirm(`Clear the history of ${doc.key}? Preferences, tools and system prompts are kept.`) ? post("clear") : undefined));
  act("Compact now", () => post("compact"));
  if (doc.status === "archived") act("Unarchive", () => post("unarchive"));
  else act("Archive", () => post("archive"));
  act("Export", () => download(doc));
  act("Label…", async () => {
    const label = prompt(`Label for ${doc.key} (empty removes it)`, doc.label ?? "");
    if (label === null) return;
    await api(`/admin/sessions/${doc.id}`, { method: "PATCH", body: { label } });
    await renderSession(doc.id);
  });
  act("Delete", async () => {
    if (!confirm(`Delete ${doc.key} and all its history? This cannot be undone.`)) return;
    await api(`/admin/sessions/${doc.id}`, { method: "DELETE" });
    location.hash = "#/";
  }, "danger");

  const meta = h("dl", { class: "meta" },
    ...[...(doc.label ? [["Label", doc.label]] : []), ["Key", doc.key], ["Id", doc.id], ["Kind", doc.kind], ["Channel", doc.channel], ...(doc.origin ? [["Origin", originText(doc.origin)]] : []), ["Status", doc.status], ["Participants", doc.participants.join(", ") || "none"],
      ["Created", `${doc.createdAt} (${relTime(doc.createdAt)})`], ["Last activity", `${doc.lastActivityAt} (${relTime(doc.lastActivityAt)})`], ["Size", bytes(ctx.sizeBytes ?? 0)]]
      .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
  const stored = [["system", t.system], ["summary", t.summary], ["pinned", t.pinned], ["recent", t.messages]];
  const sent = built ? [["system", built.parts.system], ["summary", built.parts.summary], ["pinned", built.parts.pinned], ["recent", built.parts.recent]] : [];
  const context = h("section", { class: "card", "aria-labelledby": "ctx-h" },
    h("h2", { id: "ctx-h" }, "Context"),
    h("p", {}, `Window ${fmt(usage.window)} tokens · reply reserve ${fmt(reserve)} · budget ${fmt(usage.budget)}`),
    h("div", { class: "legend" }, ...["system", "summary", "pinned", "recent"].map((c) => h("span", {}, h("i", { style: `background:var(--${c})` }), c))),
    h("p", {}, `Stored: ${fmt(t.total)} tokens (${usage.percentOfWindow === 0 && t.total > 0 ? "< 0.1" : usage.percentOfWindow} % of the window)`),
    bar(stored, usage.window, `stored: system ${t.system}, summary ${t.summary}, pinned ${t.pinned}, recent ${t.messages} tokens`),
    built ? h("p", {}, `Sent to the model: ${fmt(built.tokens)} tokens · summary ${built.summary} · ${built.droppedTurns} turn(s) dropped${built.droppedPinned ? ` · ${built.droppedPinned} pinned dropped` : ""}${built.trimmed?.length ? ` · ${built.trimmed.length} old tool result(s) cut, ${fmt(built.trimmedTokensSaved)} tokens saved` : ""}`) : h("p", { class: "error" }, ctx.problem ?? "The context cannot be built."),
    built ? bar(sent, usage.window, `sent: system ${built.parts.system}, summary ${built.parts.summary}, pinned ${built.parts.pinned}, recent ${built.parts.recent} tokens`) : null,
    h("p", { id: "tokens-used" }, doc.context.usage ? `Tokens used: ${fmt(doc.context.usage.input)} in · ${fmt(doc.context.usage.output)} out · ${fmt(doc.context.usage.total)} total over ${fmt(doc.context.usage.turns)} model call(s)${doc.context.usage.estimatedTurns ? ` (${doc.context.usage.estimatedTurns} estimated)` : ""} · last context ${fmt(doc.context.usage.lastContextTokens)} tokens` : "Tokens used: no model call recorded yet"),
    h("p", {}, `Compactions: ${usage.compactions}${usage.lastCompactedAt ? `, last ${relTime(usage.lastCompactedAt)}` : ""}`),
    usage.lastSummarizerError ? h("p", { class: "error" }, `Last summarizer error${doc.context.lastSummarizerErrorAt ? ` (${relTime(doc.context.lastSummarizerErrorAt)})` : ""}: ${usage.lastSummarizerError}`) : null,
  );
  const summary = h("section", { class: "card", "aria-labelledby": "sum-h" }, h("h2", { id: "sum-h" }, "Summary"),
    doc.summary ? h("div", { class: "summary-text", id: "summary" }, doc.summary.text) : h("p", {}, "No summary yet."));
  const results = new Map(doc.messages.concat(doc.prunedHistory ?? []).filter((m) => m.role === "tool").map((m) => [m.toolCallId, m]));
  const earlier = h("button", { type: "button", id: "earlier" }, showEarlier ? "Hide earlier messages" : `Show earlier messages (${fmt(doc.prunedCount)})`);
  earlier.addEventListener("click", () => {
    if (showEarlier) state.earlier.delete(doc.id);
    else state.earlier.add(doc.id);
    renderSession(doc.id);
  });
  const list = [...(showEarlier ? (doc.prunedHistory ?? []).map((m) => ({ ...m, pruned: true })) : []), ...doc.messages];
  const messages = h("section", { class: "card", "aria-labelledby": "msg-h" }, h("h2", { id: "msg-h" }, `Messages (${doc.messages.length} active, ${doc.prunedCount} folded)`),
    doc.prunedCount > 0 ? earlier : null,
    h("ol", { class: "messages", id: "messages", "aria-label": "Messages, oldest first" }, ...list.map((m) => message(m, results))),
  );
  const settings = h("section", { class: "card", "aria-labelledby": "set-h" }, h("h2", { id: "set-h" }, "Preferences, tools and system prompts"),
    h("table", {}, h("caption", { class: "sr-only" }, "Preferences"), h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Preference"), h("th", { scope: "col" }, "Value"))),
      h("tbody", {}, ...(Object.keys(doc.preferences).length === 0 ? [h("tr", {}, h("td", { colspan: 2 }, "No preferences set."))] : Object.entries(doc.preferences).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, JSON.stringify(v))))))),
    h("p", {}, `Tools allowed: ${doc.tools.allow.join(", ") || "none"} · denied: ${doc.tools.deny.join(", ") || "none"}`),
    ...doc.systemPrompts.map((p) => h("div", { class: "msg" }, h("div", { class: "who" }, `system prompt · ${p.tokens} tokens`), h("div", { class: "text" }, p.content))),
  );
  view.replaceChildren(h("p", {}, h("a", { href: "#/" }, "← Sessions")), h("h1", {}, doc.key), meta, actions, context, summary, messages, settings);
}

function message(m, results) {
  const who = `${m.role}${m.sender ? ` · ${m.sender}` : ""} · ${m.tokens} tokens${m.pinned ? " · pinned" : ""}${m.pruned ? " · folded" : ""} · ${relTime(m.createdAt)}`;
  return h("li", { class: `msg${m.pruned ? " pruned" : ""}`, "data-id": m.id },
    h("div", { class: "who" }, who),
    m.content ? h("div", { class: "text" }, m.content) : null,
    ...(m.toolCalls ?? []).map((c) => h("div", { class: "call" }, `→ ${c.name}(${c.arguments})`, results.has(c.id) ? `\n← ${results.get(c.id).content}` : "\n← (no result yet)")),
    m.role === "tool" ? h("div", { class: "call" }, `result of ${m.toolCallId}`) : null,
  );
}

async function download(doc) {
  const res = await api(`/admin/sessions/${doc.id}/export`, { raw: true });
  if (!res.ok) throw new Error(`export failed: HTTP ${res.status}`);
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: `${doc.key.replace(/[^A-Za-z0-9_.-]+/g, "_")}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- live updates -------------------------------------------------------

let pending;
function stopEvents() {
  state.stream?.abort();
  state.stream = null;
}

/** Follows /admin/events with fetch (EventSource cannot send the token), re-rendering what changed. */
async function followEvents() {
  stopEvents();
  const controller = new AbortController();
  state.stream = controller;
  let last = "";
  while (!controller.signal.aborted) {
    try {
      const res = await fetch("/admin/events", { headers: { authorization: `Bearer ${token()}`, ...(last ? { "last-event-id": last } : {}) }, signal: controller.signal });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      live.textContent = "live";
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const id = /^id: ?(.*)$/m.exec(block)?.[1];
          const data = /^data: ?(.*)$/m.exec(block)?.[1];
          if (id) last = id;
          if (data) {
            try {
              onEvent(JSON.parse(data));
            } catch {
              // A keep-alive or an event this page does not know.
            }
          }
        }
      }
    } catch {
      if (controller.signal.aborted) return;
    }
    live.textContent = "reconnecting…";
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function onEvent(e) {
  if (!e || typeof e.id !== "string") return;
  state.fresh.add(e.id);
  const route = location.hash;
  const onSession = route.startsWith("#/s/") ? decodeURIComponent(route.slice(4)) : null;
  if (onSession !== null && onSession !== e.id) return;
  clearTimeout(pending);
  pending = setTimeout(() => {
    if (e.type === "deleted" && onSession === e.id) location.hash = "#/";
    // Not while someone is typing a filter: re-rendering would take the field from under them.
    else if (!document.activeElement?.closest?.("#filters")) render();
  }, 250);
}

// ---- routing ------------------------------------------------------------

async function render() {
  if (!token()) return showLogin();
  try {
    const route = location.hash;
    if (route.startsWith("#/s/")) await renderSession(decodeURIComponent(route.slice(4)));
    else await renderList();
  } catch (err) {
    if (err instanceof Unauthorized) return;
    view.replaceChildren(h("p", { class: "error", role: "alert" }, err.message), h("p", {}, h("a", { href: "#/" }, "← Sessions")));
  }
}

function start() {
  document.getElementById("login").hidden = true;
  document.getElementById("logout").hidden = false;
  render();
  followEvents();
}

// `openclaw gateway` prints a link with the generated token in the fragment, which never reaches
// a server or a Referer; it is taken once and dropped from the address bar and the history.
function takeLinkedToken() {
  const linked = /^#token=([^&]+)$/.exec(location.hash);
  if (!linked) return false;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(linked[1]));
  history.replaceState(null, "", `${location.pathname}${location.search}`);
  return true;
}

window.addEventListener("hashchange", () => (takeLinkedToken() ? start() : render()));
takeLinkedToken();
if (token()) start();
else showLogin();
