// A session's page: metadata, actions, where its tokens go, the summary,
// the messages (messages.js), preferences, tools and system prompts.
import { api, Unauthorized } from "/assets/api.js";
import { bar, bytes, fmt, h, relTime, share } from "/assets/dom.js";
import { foldedFetch, messagesCard } from "/assets/messages.js";
import { originText } from "/assets/names.js";

/** A summary longer than this many lines starts collapsed. */
const LONG_SUMMARY = 20;
/** A summary shorter than this has nothing to collapse. */
const PREVIEW_LINES = 3;

// Per session, for this page load: whether its summary is expanded, once someone chose.
const summaryOpen = new Map();

/**
 * Renders a session's page into `view`; `again` renders it anew (after an
 * action), `current` says whether this render is still the latest. Marks
 * `session-data` when every answer is in and `session-ready` once the page
 * is laid out, measured as `session-render`.
 */
export async function renderSession(view, id, { again, current = () => true }) {
  const ref = encodeURIComponent(id);
  // The folded page needs the session's folded count; the context does not wait for either.
  const [[doc, folded], ctx] = await Promise.all([api(`/admin/sessions/${ref}`).then(async (d) => [d, await foldedFetch(d)]), api(`/admin/sessions/${ref}/context`)]);
  if (!current()) return;
  performance.mark("session-data");
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
  const post = (what) => api(`/admin/sessions/${doc.id}/${what}`, { method: "POST" }).then(() => again());
  act("Clear history", () => (confirm(`Clear the history of ${doc.key}? Preferences, tools and system prompts are kept.`) ? post("clear") : undefined));
  act("Compact now", () => post("compact"));
  if (doc.status === "archived") act("Unarchive", () => post("unarchive"));
  else act("Archive", () => post("archive"));
  act("Export", () => download(doc));
  act("Label…", async () => {
    const label = prompt(`Label for ${doc.key} (empty removes it)`, doc.label ?? "");
    if (label === null) return;
    await api(`/admin/sessions/${doc.id}`, { method: "PATCH", body: { label } });
    await again();
  });
  act(
    "Delete",
    async () => {
      if (!confirm(`Delete ${doc.key} and all its history? This cannot be undone.`)) return;
      await api(`/admin/sessions/${doc.id}`, { method: "DELETE" });
      location.hash = "#/";
    },
    "danger",
  );

  const meta = h(
    "dl",
    { class: "meta" },
    ...[
      ...(doc.label ? [["Label", doc.label]] : []),
      ["Key", doc.key],
      ["Id", doc.id],
      ["Kind", doc.kind],
      ["Channel", doc.channel],
      ...(doc.origin ? [["Origin", originText(doc.origin)]] : []),
      ["Status", doc.status],
      ["Participants", doc.participants.join(", ") || "none"],
      ["Created", `${doc.createdAt} (${relTime(doc.createdAt)})`],
      ["Last activity", `${doc.lastActivityAt} (${relTime(doc.lastActivityAt)})`],
      ["Size", bytes(ctx.sizeBytes ?? 0)],
    ].flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
  const stored = [
    ["system", t.system, "system"],
    ["summary", t.summary, "summary"],
    ["pinned", t.pinned, "pinned"],
    ["recent", t.messages, "recent"],
  ];
  const sent = built
    ? [
        ["system", built.parts.system, "system"],
        ["summary", built.parts.summary, "summary"],
        ["pinned", built.parts.pinned, "pinned"],
        ["recent", built.parts.recent, "recent"],
      ]
    : [];
  const context = h(
    "section",
    { class: "card", "aria-labelledby": "ctx-h" },
    h("h2", { id: "ctx-h" }, "Context"),
    h("p", {}, `Window ${fmt(usage.window)} tokens · reply reserve ${fmt(reserve)} · budget ${fmt(usage.budget)}`),
    h("div", { class: "legend" }, ...["system", "summary", "pinned", "recent"].map((c) => h("span", {}, h("i", { style: `background:var(--${c})` }), c))),
    h("p", {}, `Stored: ${fmt(t.total)} tokens (${share(t.total, usage.window)} of the window)`),
    bar(stored, usage.window, "stored"),
    built
      ? h(
          "p",
          {},
          `Sent to the model: ${fmt(built.tokens)} tokens · summary ${built.summary} · ${built.droppedTurns} turn(s) dropped${built.droppedPinned ? ` · ${built.droppedPinned} pinned dropped` : ""}${built.trimmed?.length ? ` · ${built.trimmed.length} old tool result(s) cut, ${fmt(built.trimmedTokensSaved)} tokens saved` : ""}`,
        )
      : h("p", { class: "error" }, ctx.problem ?? "The context cannot be built."),
    built ? bar(sent, usage.window, "sent") : null,
    h(
      "p",
      { id: "tokens-used" },
      doc.context.usage
        ? `Tokens used: ${fmt(doc.context.usage.input)} in · ${fmt(doc.context.usage.output)} out · ${fmt(doc.context.usage.total)} total over ${fmt(doc.context.usage.turns)} model call(s)${doc.context.usage.estimatedTurns ? ` (${doc.context.usage.estimatedTurns} estimated)` : ""} · last context ${fmt(doc.context.usage.lastContextTokens)} tokens`
        : "Tokens used: no model call recorded yet",
    ),
    h("p", {}, `Compactions: ${usage.compactions}${usage.lastCompactedAt ? `, last ${relTime(usage.lastCompactedAt)}` : ""}`),
    usage.lastSummarizerError ? h("p", { class: "error" }, `Last summarizer error${doc.context.lastSummarizerErrorAt ? ` (${relTime(doc.context.lastSummarizerErrorAt)})` : ""}: ${usage.lastSummarizerError}`) : null,
  );
  const settings = h(
    "section",
    { class: "card", "aria-labelledby": "set-h" },
    h("h2", { id: "set-h" }, "Preferences, tools and system prompts"),
    h(
      "table",
      {},
      h("caption", { class: "sr-only" }, "Preferences"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Preference"), h("th", { scope: "col" }, "Value"))),
      h(
        "tbody",
        {},
        ...(Object.keys(doc.preferences).length === 0
          ? [h("tr", {}, h("td", { colspan: 2 }, "No preferences set."))]
          : Object.entries(doc.preferences).map(([k, v]) => h("tr", {}, h("td", {}, k), h("td", {}, JSON.stringify(v))))),
      ),
    ),
    h("p", {}, `Tools allowed: ${doc.tools.allow.join(", ") || "none"} · denied: ${doc.tools.deny.join(", ") || "none"}`),
    ...doc.systemPrompts.map((p) => h("div", { class: "msg" }, h("div", { class: "who" }, `system prompt · ${p.tokens} tokens`), h("div", { class: "text" }, p.content))),
  );
  view.replaceChildren(h("p", {}, h("a", { href: "#/" }, "← Sessions")), h("h1", {}, doc.key), meta, actions, context, summaryCard(doc), messagesCard(doc, folded), settings);
  // Layout now, so the measure covers it and not only building the nodes.
  view.getBoundingClientRect();
  performance.mark("session-ready");
  performance.measure("session-render", "session-data", "session-ready");
}

/** The summary, collapsible when it runs past a few lines: collapsed at first when long, then as the user left it. */
function summaryCard(doc) {
  const head = h("h2", { id: "sum-h" }, "Summary");
  const card = h("section", { class: "card", "aria-labelledby": "sum-h" }, head);
  if (!doc.summary) return (card.append(h("p", {}, "No summary yet.")), card);
  const text = doc.summary.text;
  // Long lines wrap: about 120 characters make one more line on screen.
  const lines = text.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / 120)), 0);
  const body = h("div", { class: "summary-text", id: "summary" }, text);
  card.append(body);
  if (lines <= PREVIEW_LINES) return card;
  const toggle = h("button", { type: "button", class: "link", id: "summary-toggle", "aria-controls": "summary" });
  const show = (open) => {
    body.classList.toggle("collapsed", !open);
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Collapse summary" : `Expand summary (${fmt(lines)} lines)`;
  };
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    summaryOpen.set(doc.id, open);
    show(open);
  });
  show(summaryOpen.get(doc.id) ?? lines <= LONG_SUMMARY);
  head.after(toggle);
  return card;
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
