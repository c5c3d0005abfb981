// The sessions page: counts, filters and one page of the session table.
import { api } from "/assets/api.js";
import { bar, bytes, fmt, h, relTime, share } from "/assets/dom.js";
import { nestThreads, originText } from "/assets/names.js";

const PAGE = 25;
const state = { filters: { status: "", kind: "", channel: "", q: "" }, offset: 0, window: 0, fresh: new Set() };

/** Flashes the session's row at the next render (it changed live). */
export function markFresh(id) {
  state.fresh.add(id);
}

/** Renders the sessions page into `view`; `extra` (the live view) goes between the counts and the filters, `again` renders the page anew, `current` says whether this render is still the latest. */
export async function renderList(view, { extra = null, again, current = () => true }) {
  const [status, page] = await Promise.all([api("/admin/status"), fetchPage()]);
  if (!current()) return;
  state.window = status.window;
  const tiles = h(
    "div",
    { class: "tiles" },
    tile(fmt(status.total), "sessions"),
    ...["active", "created", "expired", "archived"].map((s) => tile(fmt(status.byStatus[s]), s)),
    ...["dm", "group", "isolated"].map((k) => tile(fmt(status.byKind[k]), k)),
    tile(status.sizeOnDisk === null ? "n/a" : bytes(status.sizeOnDisk), "store size"),
    tile(fmt(page.tokensInUse), "tokens in use (this page)"),
  );
  const filters = h(
    "form",
    { class: "filters", id: "filters", role: "search", "aria-label": "Filter sessions" },
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
    again();
  });
  const rows = nestThreads(page.sessions).map((s) => {
    const pct = share(s.tokens, state.window);
    const keyCell = s.nested ? h("td", { class: "thread" }, "↳ ", h("a", { href: `#/s/${s.id}`, title: s.key }, s.key.slice(s.parentKey.length + 1))) : h("td", {}, h("a", { href: `#/s/${s.id}` }, s.key));
    return h(
      "tr",
      { class: state.fresh.has(s.id) ? "fresh" : "" },
      keyCell,
      h("td", {}, s.kind),
      h("td", {}, s.channel),
      h("td", {}, h("span", { class: `status ${s.status}` }, s.status)),
      h("td", { class: "num" }, fmt(s.messageCount)),
      h("td", { class: "num", title: s.usage ? `${fmt(s.usage.input)} in · ${fmt(s.usage.output)} out over ${fmt(s.usage.turns)} model call(s)` : "no model call yet" }, usedText(s.usage)),
      h("td", {}, bar([["used", s.tokens, "in context"]], state.window, `${pct} of the context window`), h("span", { class: "sr-only" }, pct)),
      h("td", { title: s.lastActivityAt }, relTime(s.lastActivityAt)),
      h("td", { class: "name" }, s.label ?? "", s.origin ? h("span", { class: "origin" }, `${s.label ? " · " : ""}${originText(s.origin)}`) : ""),
    );
  });
  state.fresh.clear();
  const table = h(
    "table",
    {},
    h("caption", { class: "sr-only" }, "Sessions, newest activity first"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["Key", "Kind", "Channel", "Status"].map((t) => h("th", { scope: "col" }, t)),
        h("th", { scope: "col", class: "num" }, "Messages"),
        h("th", { scope: "col", class: "num" }, "Tokens used"),
        h("th", { scope: "col" }, "Context"),
        h("th", { scope: "col" }, "Last activity"),
        h("th", { scope: "col" }, "Label / origin"),
      ),
    ),
    h("tbody", { id: "rows" }, rows.length > 0 ? rows : h("tr", {}, h("td", { colspan: 9 }, "No session matches."))),
  );
  const prev = h("button", { type: "button", disabled: state.offset === 0 }, "Previous");
  const next = h("button", { type: "button", disabled: !page.hasMore }, "Next");
  prev.addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    again();
  });
  next.addEventListener("click", () => {
    state.offset += PAGE;
    again();
  });
  const shown = page.sessions.length === 0 ? "0" : `${state.offset + 1}–${state.offset + page.sessions.length}`;
  view.replaceChildren(h("h1", {}, "Sessions"), tiles, extra, filters, table, h("nav", { class: "pager", "aria-label": "Pages" }, prev, h("span", {}, `${shown} of ${fmt(page.total)}`), next));
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
