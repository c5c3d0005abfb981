import type { Command } from "commander";
import type { BuiltContext, ChatMessage, TrimmedResult } from "../../context/build.js";
import type { Session } from "../../session/types.js";
import { withManager } from "../_context.js";
import { colors, formatInt, formatPercent, heading, keyValues, plural, print, printJson, table, visible, warn } from "../_render.js";

/** Flags of `sessions context`. */
export interface ContextFlags {
  json?: boolean;
}

/** Which part of the context a sent message belongs to. */
export type ContextPart = "system" | "summary" | "pinned" | "recent";

/** One message of `sessions context --json`: the chat message as sent, with where it came from. */
export interface ContextMessage {
  index: number;
  part: ContextPart;
  role: string;
  /** Cached token count of the stored message (or system prompt / summary note). */
  tokens: number | null;
  /** Id of the stored history message (system prompts and the summary note have none). */
  messageId: string | null;
  message: ChatMessage;
  /** Set for a tool result sent shorter than stored (context.toolResults); `tokens` is then what is sent. */
  trimmed: TrimmedResult | null;
}

/** What `sessions context --json` prints. */
export interface ContextReport {
  id: string;
  key: string;
  model: string;
  window: number;
  reserve: number;
  budget: number;
  warnings: string[];
  tokens: number;
  parts: BuiltContext["parts"];
  summary: BuiltContext["summary"];
  droppedTurns: number;
  droppedPinned: number;
  latestTurnPartial: boolean;
  latestTurnDropped: boolean;
  /** Old tool results sent cut or cleared, and the tokens that saved. */
  toolResults: { trimmed: number; cleared: number; tokensSaved: number };
  messages: ContextMessage[];
}

// Long enough to recognise a message, short enough to keep the listing one line each.
const PREVIEW = 80;

/** `openclaw sessions context`: exactly what the model would be sent now. */
export async function runContext(ref: string, flags: ContextFlags, cmd: Command): Promise<void> {
  const report = await withManager(cmd, async (m) => {
    const session = await m.get(ref);
    const w = await m.window(session);
    const built = await m.buildContext(session.id);
    return contextReport(session, built, { model: w.model, window: w.window, reserve: w.reserve, budget: w.budget, warnings: w.warnings });
  });
  if (flags.json) {
    printJson(report);
    return;
  }
  for (const message of report.warnings) warn(message);
  printHuman(report);
}

/** Pairs each sent message with its part and cached token count. */
export function contextReport(session: Session, built: BuiltContext, window: { model: string; window: number; reserve: number; budget: number; warnings: string[] }): ContextReport {
  const byId = new Map(session.messages.map((msg) => [msg.id, msg]));
  const prompts = session.systemPrompts.length;
  const hasSummary = built.summary === "full" || built.summary === "truncated";
  const cut = new Map(built.trimmed.map((t) => [t.messageId, t]));
  const messages = built.messages.map((message, index): ContextMessage => {
    if (index < prompts) return { index, part: "system", role: message.role, tokens: session.systemPrompts[index]?.tokens ?? null, messageId: null, message, trimmed: null };
    if (hasSummary && index === prompts) return { index, part: "summary", role: message.role, tokens: built.parts.summary, messageId: null, message, trimmed: null };
    const h = index - prompts - (hasSummary ? 1 : 0);
    const id = built.included[h] ?? null;
    const stored = id === null ? undefined : byId.get(id);
    const trimmed = (id === null ? undefined : cut.get(id)) ?? null;
    return { index, part: h < built.pinnedIncluded ? "pinned" : "recent", role: message.role, tokens: trimmed?.sentTokens ?? stored?.tokens ?? null, messageId: id, message, trimmed };
  });
  return {
    id: session.id,
    key: session.key,
    ...window,
    tokens: built.tokens,
    parts: built.parts,
    summary: built.summary,
    droppedTurns: built.droppedTurns,
    droppedPinned: built.droppedPinned,
    latestTurnPartial: built.latestTurnPartial,
    latestTurnDropped: built.latestTurnDropped,
    toolResults: {
      trimmed: built.trimmed.filter((t) => t.mode === "trimmed").length,
      cleared: built.trimmed.filter((t) => t.mode === "cleared").length,
      tokensSaved: built.trimmedTokensSaved,
    },
    messages,
  };
}

function printHuman(r: ContextReport): void {
  const p = r.parts;
  const share = r.budget > 0 ? ` (${formatPercent((100 * r.tokens) / r.budget)} of the budget)` : "";
  print(`${heading("context")} ${visible(r.id)}  ${colors.cyan(visible(r.key))}`);
  print(
    keyValues([
      ["model", visible(r.model)],
      ["window", `${formatInt(r.window)} tokens; reserve ${formatInt(r.reserve)} for the reply; budget ${formatInt(r.budget)}`],
      ["sent", `${formatInt(r.tokens)} tokens${share} in ${plural(r.messages.length, "message")}`],
      ["parts", `system ${formatInt(p.system)} · summary ${formatInt(p.summary)} · pinned ${formatInt(p.pinned)} · recent ${formatInt(p.recent)}`],
      ["summary", r.summary === "none" ? "none" : r.summary === "full" ? "sent whole" : r.summary === "truncated" ? colors.yellow("truncated to fit") : colors.yellow("dropped (over budget)")],
      ["dropped", droppedText(r)],
      ["tool results", toolResultsText(r)],
    ]),
  );
  print();
  if (r.messages.length === 0) {
    print(colors.dim("nothing would be sent"));
    return;
  }
  const rows = r.messages.map((m) => [
    String(m.index + 1),
    m.part,
    visible(m.role),
    m.tokens === null ? "-" : formatInt(m.tokens),
    m.messageId === null ? "-" : visible(m.messageId),
    (m.trimmed === null ? "" : colors.yellow(trimmedMark(m.trimmed))) + describe(m.message),
  ]);
  print(table(["#", "PART", "ROLE", "TOKENS", "MESSAGE", "CONTENT"], rows, ["right", "left", "left", "right", "left", "left"]));
}

function toolResultsText(r: ContextReport): string {
  const t = r.toolResults;
  if (t.trimmed + t.cleared === 0) return "sent whole";
  const what = [t.trimmed > 0 ? `${plural(t.trimmed, "older result")} cut to head and tail` : "", t.cleared > 0 ? `${plural(t.cleared, "older result")} cleared` : ""].filter((x) => x !== "");
  return `${what.join(", ")}: ${formatInt(t.tokensSaved)} tokens saved (the stored history keeps them whole)`;
}

function trimmedMark(t: TrimmedResult): string {
  return `[${t.mode} ${formatInt(t.storedChars)} → ${formatInt(t.sentChars)} chars, ${formatInt(t.storedTokens)} → ${formatInt(t.sentTokens)} tokens] `;
}

function droppedText(r: ContextReport): string {
  const left: string[] = [];
  if (r.latestTurnDropped) left.push("the whole latest turn (over budget)");
  if (r.droppedTurns > 0) left.push(plural(r.droppedTurns, "older turn"));
  if (r.droppedPinned > 0) left.push(plural(r.droppedPinned, "pinned message"));
  if (r.latestTurnPartial && !r.latestTurnDropped) left.push("part of the latest turn");
  return left.length === 0 ? "nothing" : colors.yellow(left.join(", "));
}

// One line per message: stored text made visible (control characters escaped), cut to PREVIEW characters.
function describe(m: ChatMessage): string {
  const bits: string[] = [];
  if (m.name !== undefined) bits.push(`[name ${m.name}]`);
  if (m.tool_call_id !== undefined) bits.push(`[answers ${m.tool_call_id}]`);
  for (const c of m.tool_calls ?? []) bits.push(`[calls ${c.function.name} ${c.id}]`);
  const text = m.content.length > PREVIEW ? `${m.content.slice(0, PREVIEW)}…` : m.content;
  return visible([...bits, text].join(" "));
}
