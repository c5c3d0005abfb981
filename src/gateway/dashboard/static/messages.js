// A session's messages: the active ones in full, the folded ones (which can
// run to thousands) one page at a time behind "Show earlier messages", with
// a jump to any message number or the start. The first page shown is the
// newest of the folded messages, right above the active ones, so reading on
// upward ("100 earlier") goes back in time.
import { api } from "/assets/api.js";
import { fmt, h, relTime } from "/assets/dom.js";

/** Folded messages one page shows. */
export const FOLDED_PAGE = 100;

// Per session, for this page load: where the folded page shown starts (absent: folded messages hidden).
const shownFrom = new Map();

/** The folded page a render of `doc` shows, fetched (null when hidden); started alongside the session's own requests. */
export function foldedFetch(doc) {
  const from = shownFrom.get(doc.id);
  return from === undefined || doc.prunedCount === 0 ? Promise.resolve(null) : fetchFolded(doc, from);
}

async function fetchFolded(doc, from) {
  const offset = Math.max(0, Math.min(from, doc.prunedCount - 1));
  const limit = Math.min(FOLDED_PAGE, doc.prunedCount - offset);
  const page = await api(`/admin/sessions/${encodeURIComponent(doc.id)}/messages?offset=${offset}&limit=${limit}`);
  // Folding may have moved on since the session was read: an active message is shown below, not twice.
  const active = new Set(doc.messages.map((m) => m.id));
  return { from, offset: page.offset, messages: page.messages.filter((m) => !active.has(m.id)) };
}

/** The messages card; `folded` is what foldedFetch gave. */
export function messagesCard(doc, folded) {
  const results = toolResults(doc.messages);
  const activeList = h("ol", { class: "messages", id: "messages", start: doc.prunedCount + 1, "aria-label": "Active messages, oldest first" }, ...doc.messages.map((m) => message(m, results)));
  return h(
    "section",
    { class: "card", "aria-labelledby": "msg-h" },
    h("h2", { id: "msg-h" }, `Messages (${fmt(doc.messages.length)} active, ${fmt(doc.prunedCount)} folded)`),
    doc.prunedCount > 0 ? foldedBlock(doc, folded, results) : null,
    activeList,
  );
}

function foldedBlock(doc, first, activeResults) {
  const block = h("div", { class: "folded-block", id: "folded-block" });
  const total = doc.prunedCount;
  const go = async (from) => {
    shownFrom.set(doc.id, from);
    for (const b of block.querySelectorAll("button")) b.disabled = true;
    try {
      const page = await fetchFolded(doc, from);
      performance.mark("folded-data");
      draw(page);
      block.getBoundingClientRect();
      performance.mark("folded-ready");
      performance.measure("folded-render", "folded-data", "folded-ready");
    } catch (err) {
      block.append(h("p", { class: "error", role: "alert" }, err.message));
      for (const b of block.querySelectorAll("button")) b.disabled = false;
    }
  };
  const button = (label, onClick, attrs = {}) => {
    const b = h("button", { type: "button", ...attrs }, label);
    b.addEventListener("click", onClick);
    return b;
  };
  const draw = (page) => {
    if (page === null) {
      block.replaceChildren(button(`Show earlier messages (${fmt(total)})`, () => go(Math.max(0, total - FOLDED_PAGE)), { id: "earlier" }));
      delete block.dataset.offset;
      return;
    }
    const { offset, messages } = page;
    const last = offset + messages.length;
    const jump = h(
      "form",
      { class: "jump" },
      h("label", {}, "Jump to message ", h("input", { name: "at", type: "number", min: 1, max: total, required: true, inputmode: "numeric", size: 6 })),
      h("button", { type: "submit" }, "Go"),
    );
    jump.addEventListener("submit", (e) => {
      e.preventDefault();
      const at = Number(new FormData(jump).get("at"));
      go(at - 1).then(() => block.querySelector("#folded li")?.scrollIntoView({ block: "nearest" }));
    });
    const results = new Map([...toolResults(messages), ...activeResults]);
    block.replaceChildren(
      h(
        "nav",
        { class: "pager folded-pager", "aria-label": "Folded messages" },
        button("Hide earlier messages", () => {
          shownFrom.delete(doc.id);
          draw(null);
        }),
        button("Start", () => go(0), { disabled: offset === 0 }),
        button(`${FOLDED_PAGE} earlier`, () => go(Math.max(0, offset - FOLDED_PAGE)), { disabled: offset === 0 }),
        h("span", { id: "folded-range" }, messages.length === 0 ? `none of ${fmt(total)} folded` : `folded ${fmt(offset + 1)}–${fmt(last)} of ${fmt(total)}`),
        button(`${FOLDED_PAGE} later`, () => go(last), { disabled: last >= total }),
        jump,
      ),
      h("ol", { class: "messages", id: "folded", start: offset + 1, "aria-label": "Folded messages, oldest first" }, ...messages.map((m) => message({ ...m, pruned: true }, results))),
    );
    block.dataset.offset = String(offset);
  };
  draw(first);
  // Asked for on the page this render replaces while its data was on its way (a click just before an
  // update re-rendered the session): what was asked for since wins over what this render fetched.
  const wanted = shownFrom.get(doc.id);
  if (wanted !== (first === null ? undefined : first.from)) {
    if (wanted === undefined) draw(null);
    else void go(wanted);
  }
  return block;
}

function toolResults(messages) {
  return new Map(messages.filter((m) => m.role === "tool").map((m) => [m.toolCallId, m]));
}

function message(m, results) {
  const who = `${m.role}${m.sender ? ` · ${m.sender}` : ""} · ${m.tokens} tokens${m.pinned ? " · pinned" : ""}${m.pruned ? " · folded" : ""} · ${relTime(m.createdAt)}`;
  return h(
    "li",
    { class: `msg${m.pruned ? " pruned" : ""}`, "data-id": m.id },
    h("div", { class: "who" }, who),
    m.content ? h("div", { class: "text" }, m.content) : null,
    ...(m.toolCalls ?? []).map((c) => h("div", { class: "call" }, `→ ${c.name}(${c.arguments})`, results.has(c.id) ? `\n← ${results.get(c.id).content}` : "\n← (no result yet)")),
    m.role === "tool" ? h("div", { class: "call" }, `result of ${m.toolCallId}`) : null,
  );
}
