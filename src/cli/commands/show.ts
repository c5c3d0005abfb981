import type { Command } from "commander";
import { originText } from "../../session/origin.js";
import { unansweredToolCalls } from "../../session/tools.js";
import type { BuiltContext } from "../../context/build.js";
import { isOpenclawError } from "../../errors.js";
import type { SessionManager } from "../../manager/manager.js";
import type { Message, Session } from "../../session/types.js";
import { withManager } from "../_context.js";
import { describePolicy } from "../../session/reset.js";
import { usageLine } from "../_tokens-used.js";
import { colors, formatBytes, formatInt, formatPercent, heading, indent, keyValues, paintStatus, plural, preview, print, printJson, timestamp, visible, warn } from "../_render.js";

/** Flags of `sessions show`. */
export interface ShowFlags {
  messages: number;
  all?: boolean;
  json?: boolean;
}

// Long enough for a real message, short enough that 20 of them stay readable.
const CONTENT_PREVIEW = 2000;

/** `openclaw sessions show`. */
export async function runShow(ref: string, flags: ShowFlags, cmd: Command): Promise<void> {
  await withManager(cmd, async (m) => {
    const { session, sizeBytes } = await m.getWithSize(ref);
    const pruned = flags.all ? await m.prunedHistory(session.id) : undefined;
    if (flags.json) {
      // The stored document, as the admin API returns it; when it resets is in the text view.
      printJson(pruned === undefined ? session : { ...session, prunedHistory: pruned });
      return;
    }
    const reset = m.resetOf(session);
    const now = m.now();
    print(`${heading("session")} ${visible(session.id)}  ${colors.cyan(visible(session.key))}`);
    print(
      keyValues([
        ...(session.label !== undefined ? [["label", visible(session.label)] as [string, string]] : []),
        ["kind", visible(session.kind)],
        ["channel", visible(session.channel)],
        ...(session.origin !== undefined ? [["origin", visible(originText(session.origin))] as [string, string]] : []),
        ["status", paintStatus(session.status) + statusNote(session, now)],
        ["participants", session.participants.length > 0 ? visible(session.participants.join(", ")) : colors.dim("none")],
        ["created", timestamp(session.createdAt, now)],
        ["last activity", timestamp(session.lastActivityAt, now)],
        [
          "resets",
          reset.at === null
            ? colors.dim(session.status === "active" || session.status === "created" ? `never (${describePolicy(reset.policy)})` : "no (not live)")
            : `${timestamp(reset.at, now)} ${colors.dim(`(${describePolicy(reset.policy)})`)}`,
        ],
        ["updated", timestamp(session.updatedAt, now)],
        ["size on disk", formatBytes(sizeBytes)],
        ["tokens used", usageLine(session.context.usage)],
      ]),
    );
    print();
    printSettings(session);
    print();
    await printContext(m, session, now);
    print();
    printSummary(session, now);
    print();
    printMessages(session, flags.messages, now);
    if (pruned !== undefined) {
      print();
      print(`${heading("pruned history")} ${colors.dim(`(${plural(pruned.length, "message")} folded into the summary, oldest first)`)}`);
      for (const msg of pruned) print(renderMessage(msg, now));
    }
  });
}

function statusNote(s: Session, now: Date): string {
  if (s.status === "archived" && s.archivedAt !== null) return colors.dim(` since ${timestamp(s.archivedAt, now)}`);
  if (s.status === "expired" && s.expiredAt !== null) return colors.dim(` since ${timestamp(s.expiredAt, now)}`);
  return "";
}

function printSettings(s: Session): void {
  const prefs = Object.entries(s.preferences);
  print(`${heading("preferences")}${prefs.length === 0 ? colors.dim("  none") : ""}`);
  if (prefs.length > 0) print(keyValues(prefs.map(([k, v]) => [visible(k), visible(JSON.stringify(v))])));
  print();
  print(heading("tools") + colors.dim("  (deny wins; a tool matching neither list is denied)"));
  print(
    keyValues([
      ["allow", s.tools.allow.length > 0 ? visible(s.tools.allow.join(", ")) : colors.dim("nothing")],
      ["deny", s.tools.deny.length > 0 ? visible(s.tools.deny.join(", ")) : colors.dim("nothing")],
    ]),
  );
  print();
  print(`${heading("system prompts")}${s.systemPrompts.length === 0 ? colors.dim("  none") : ""}`);
  s.systemPrompts.forEach((p, i) => {
    print(`  #${i + 1} ${colors.dim(`${plural(p.tokens, "token")}`)}`);
    print(indent(preview(p.content, CONTENT_PREVIEW, true)));
  });
}

async function printContext(m: SessionManager, s: Session, now: Date): Promise<void> {
  const w = await m.window(s);
  for (const message of w.warnings) warn(message);
  const usage = await m.contextUsage(s);
  let built: BuiltContext | null = null;
  let problem: string | null = null;
  try {
    built = await m.buildContext(s.id);
  } catch (err) {
    // An over-budget system prompt makes the context unbuildable; show that instead of failing the whole page.
    if (!isOpenclawError(err)) throw err;
    problem = visible(err.message);
  }
  const t = usage.tokens;
  // From the raw counts: the report rounds to one decimal, which turns a little use into "0.0 %".
  const share = (of: number): string => formatPercent(of > 0 ? (100 * t.total) / of : 0);
  const rows: Array<[string, string]> = [
    ["model", visible(w.model)],
    ["window", `${formatInt(usage.window)} tokens (reserve ${formatInt(w.reserve)} for the reply, budget ${formatInt(usage.budget)})`],
    [
      "stored",
      `${formatInt(t.total)} tokens = ${share(usage.window)} of the window, ${share(usage.budget)} of the budget ` +
        colors.dim(`(system ${formatInt(t.system)} · summary ${formatInt(t.summary)} · pinned ${formatInt(t.pinned)} · messages ${formatInt(t.messages)})`),
    ],
  ];
  if (built !== null) {
    const p = built.parts;
    rows.push(["sent to model", `${formatInt(built.tokens)} tokens ` + colors.dim(`(system ${formatInt(p.system)} · summary ${formatInt(p.summary)} · pinned ${formatInt(p.pinned)} · recent ${formatInt(p.recent)})`)]);
    const left: string[] = [];
    if (built.latestTurnDropped) left.push("the whole latest turn");
    if (built.droppedTurns > 0) left.push(plural(built.droppedTurns, "older turn"));
    if (built.droppedPinned > 0) left.push(plural(built.droppedPinned, "pinned message"));
    if (built.summary === "dropped") left.push("the summary");
    if (built.summary === "truncated") left.push("part of the summary");
    if (built.latestTurnPartial && !built.latestTurnDropped) left.push("part of the latest turn");
    if (left.length > 0) rows.push(["left out", colors.yellow(`${left.join(", ")} (over budget)`)]);
  } else if (problem !== null) {
    rows.push(["sent to model", colors.red(problem)]);
  }
  rows.push(["compactions", `${usage.compactions}${usage.lastCompactedAt !== null ? colors.dim(`, last ${timestamp(usage.lastCompactedAt, now)}`) : ""}`]);
  if (usage.lastSummarizerError !== null) {
    const when = s.context.lastSummarizerErrorAt === null ? "" : ` (${timestamp(s.context.lastSummarizerErrorAt, now)})`;
    rows.push(["summarizer", colors.red(`last run failed${when}: ${visible(usage.lastSummarizerError)}`)]);
  }
  const waiting = unansweredToolCalls(s.messages);
  if (waiting.length > 0) {
    const calls =
      waiting
        .slice(0, 5)
        .map((c) => `${visible(c.id)} (${visible(c.name)})`)
        .join(", ") + (waiting.length > 5 ? ", ..." : "");
    rows.push(["tool calls", colors.yellow(`${plural(waiting.length, "call")} without a result: ${calls}; the model is sent a call only with its result`)]);
  }
  print(heading("context"));
  print(keyValues(rows));
}

function printSummary(s: Session, now: Date): void {
  if (s.summary === null) {
    print(`${heading("summary")}${colors.dim("  none")}`);
    return;
  }
  const sm = s.summary;
  print(`${heading("summary")} ${colors.dim(`(covers ${plural(sm.messageCount, "message")} · ${plural(sm.tokens, "token")} · ${visible(sm.summarizer)} · updated ${timestamp(sm.updatedAt, now)})`)}`);
  print(indent(preview(sm.text, CONTENT_PREVIEW * 2, true)));
}

function printMessages(s: Session, limit: number, now: Date): void {
  const shown = limit === 0 ? [] : s.messages.slice(-limit);
  const folded = s.prunedCount > 0 ? `; ${formatInt(s.prunedCount)} earlier folded into the summary` : "";
  const scope = shown.length < s.messages.length ? `last ${shown.length} of ${formatInt(s.messages.length)}` : plural(s.messages.length, "message");
  print(`${heading("messages")} ${colors.dim(`(${scope}${folded})`)}`);
  for (const msg of shown) print(renderMessage(msg, now));
}

function renderMessage(msg: Message, now: Date): string {
  const who = msg.sender !== null ? ` ${visible(msg.sender)}` : "";
  const tags = [plural(msg.tokens, "token"), ...(msg.pinned ? ["pinned"] : []), ...(msg.toolCallId !== undefined ? [`answers ${visible(msg.toolCallId)}`] : [])];
  const calls = (msg.toolCalls ?? []).map((c) => `\n    ${colors.dim(`→ calls ${visible(c.name)} (${visible(c.id)}) ${preview(c.arguments, 200)}`)}`).join("");
  const head = `  ${colors.dim(timestamp(msg.createdAt, now))} ${roleColour(msg.role)}${who} ${colors.dim(`· ${tags.join(" · ")}`)}`;
  return `${head}\n${indent(preview(msg.content, CONTENT_PREVIEW, true))}${calls}`;
}

function roleColour(role: string): string {
  if (role === "user") return colors.green(role);
  if (role === "assistant") return colors.blue(role);
  return colors.magenta(visible(role));
}
