import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import { chatText, Rng } from "./_populate.js";
import { scratch, sig, type Row } from "./_util.js";

/** A tool's JSON output of about `rows` records, as a search or database tool returns it. */
function toolOutput(rng: Rng, rows: number): string {
  const items = Array.from({ length: rows }, (_, i) => ({ id: `INV-${rng.int(1000, 9999)}`, row: i, status: rng.pick(["open", "paid", "late"]), note: chatText(rng, rng.int(8, 20)) }));
  return JSON.stringify({ total: rows, items });
}

/**
 * Scenario 12: a tool-heavy conversation (each turn a question, two tool
 * calls with large JSON results, an answer) built for the model with
 * `context.toolResults` at its defaults, against the same conversation sent
 * whole (softTrimChars 0): tokens sent, tokens saved, turns that fit.
 */
export async function toolResultSavings(turns: number): Promise<Row[]> {
  const { dir, cleanup } = await scratch("tool-results");
  // A window the whole conversation fits in, so nothing is folded or dropped and the two builds send the same turns.
  const config = { sessions: { contextWindow: 1_000_000, maxHistoryLength: 10_000 } };
  const trimmedManager = await SessionManager.open({ stateDir: join(dir, "state"), config, warn: () => undefined });
  let wholeManager: SessionManager | undefined;
  try {
    const rng = new Rng(12);
    let id = "";
    let stored = 0;
    for (let t = 0; t < turns; t++) {
      const s = await trimmedManager.receive({ channel: "bench", senderId: "u1" }, chatText(rng, rng.int(8, 30)));
      id = s.id;
      const calls = [0, 1].map((c) => ({ id: `call-${t}-${c}`, name: c === 0 ? "search_invoices" : "read_account", arguments: JSON.stringify({ q: chatText(rng, 3) }) }));
      await trimmedManager.record({ ref: id }, { role: "assistant", content: "", sender: null, toolCalls: calls });
      for (const c of calls) await trimmedManager.record({ ref: id }, { role: "tool", content: toolOutput(rng, rng.int(20, 120)), sender: null, toolCallId: c.id });
      await trimmedManager.record({ ref: id }, { role: "assistant", content: chatText(rng, rng.int(20, 60)), sender: null });
    }
    const session = await trimmedManager.get(id);
    stored = session.messages.reduce((n, m) => n + m.tokens, 0);
    const trimmed = await trimmedManager.buildContext(id);
    await trimmedManager.close();
    wholeManager = await SessionManager.open({ stateDir: join(dir, "state"), config: { ...config, context: { toolResults: { softTrimChars: 0 } } }, warn: () => undefined });
    const whole = await wholeManager.buildContext(id);
    const sentTurns = (ids: readonly string[]) => session.messages.filter((m) => m.role === "user" && ids.includes(m.id)).length;
    const userTurns = session.messages.filter((m) => m.role === "user").length;
    return [
      {
        scenario: "12 tool results",
        case: `${userTurns}-turn tool-heavy conversation, defaults (keepTurns 3, softTrimChars 4000)`,
        figure: trimmed.tokens,
        unit: "tokens sent",
        baseline: whole.tokens,
        baselineLabel: "results sent whole",
        ratio: trimmed.tokens / whole.tokens,
        goal: "fewer tokens, same turns",
        met: trimmed.trimmedTokensSaved > 0 && sentTurns(trimmed.included) === sentTurns(whole.included),
        extra: {
          storedHistoryTokens: stored,
          tokensSavedOnSentResults: trimmed.trimmedTokensSaved,
          resultsCut: trimmed.trimmed.length,
          turnsSentTrimmed: sentTurns(trimmed.included),
          turnsSentWhole: sentTurns(whole.included),
          userTurns,
          savedShare: sig(trimmed.trimmedTokensSaved / (trimmed.tokens + trimmed.trimmedTokensSaved)),
        },
      },
    ];
  } finally {
    await trimmedManager.close();
    await wholeManager?.close();
    await cleanup();
  }
}
