import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildContext, type ToolResultPolicy } from "../../src/context/build.js";
import { clearedPlaceholder, softTrim } from "../../src/context/_tool-results.js";
import type { Message } from "../../src/session/types.js";
import { call, msg, prng, session } from "../helpers/context-fixtures.js";

/** `turns` turns of: a question, a tool call, its result of `size` characters, an answer. */
function toolHeavy(turns: number, size: (turn: number) => number, seed = 1): Message[] {
  const r = prng(seed);
  const out: Message[] = [];
  let i = 0;
  for (let t = 0; t < turns; t++) {
    out.push(msg(i++, { role: "user", content: `question ${t}` }));
    out.push(msg(i++, { role: "assistant", content: "", toolCalls: [call(`c${t}`)] }));
    const body = Array.from({ length: size(t) }, () => "abcdefghij klmnopqrstuvwxyz 0123456789\n"[r.int(0, 38)]).join("");
    out.push(msg(i++, { role: "tool", toolCallId: `c${t}`, content: `BEGIN-${t} ${body} END-${t}` }));
    out.push(msg(i++, { role: "assistant", content: `answer ${t}` }));
  }
  return out;
}

const policy = (p: Partial<ToolResultPolicy> = {}): ToolResultPolicy => ({ keepTurns: 2, softTrimChars: 400, hardClear: false, ...p });

describe("tool results in the context", () => {
  it("cuts results older than the last keepTurns turns to head and tail, and leaves the recent ones whole", () => {
    for (const seed of [1, 2, 3]) {
      const s = session();
      s.messages = toolHeavy(5, (t) => 2000 + t * 300, seed);
      const built = buildContext(s, 1_000_000, { toolResults: policy() });
      const tools = built.messages.filter((m) => m.role === "tool");
      assert.equal(tools.length, 5);
      for (const [t, m] of tools.entries()) {
        const stored = s.messages.find((x) => x.toolCallId === `c${t}`);
        assert.ok(m.content.startsWith(`BEGIN-${t}`) && m.content.endsWith(`END-${t}`), "head and tail are kept");
        if (t < 3) {
          assert.ok(m.content.length < (stored?.content.length ?? 0), `turn ${t} is cut`);
          assert.match(m.content, /characters of this tool result left out/);
        } else assert.equal(m.content, stored?.content, `turn ${t} is recent and sent whole`);
      }
      assert.deepEqual(
        built.trimmed.map((x) => x.mode),
        ["trimmed", "trimmed", "trimmed"],
      );
      assert.ok(built.trimmedTokensSaved > 0);
      assert.equal(
        built.trimmedTokensSaved,
        built.trimmed.reduce((n, x) => n + x.storedTokens - x.sentTokens, 0),
      );
      // The stored history is untouched.
      assert.ok(s.messages.every((m) => m.role !== "tool" || m.content.length > 2000));
    }
  });

  it("hardClear sends a placeholder instead, and short results stay whole when cutting", () => {
    const s = session();
    s.messages = toolHeavy(4, (t) => (t === 0 ? 50 : 3000));
    const cleared = buildContext(s, 1_000_000, { toolResults: policy({ hardClear: true }) });
    const tools = cleared.messages.filter((m) => m.role === "tool");
    assert.equal(tools[0]?.content, s.messages[2]?.content, "a result shorter than the placeholder stays");
    assert.equal(tools[1]?.content, clearedPlaceholder(s.messages[6]?.content.length ?? 0));
    assert.ok(tools[2]?.content.startsWith("BEGIN-2") && tools[3]?.content.startsWith("BEGIN-3"));
    assert.deepEqual(
      cleared.trimmed.map((x) => x.mode),
      ["cleared"],
    );
    const cut = buildContext(s, 1_000_000, { toolResults: policy() });
    assert.equal(cut.messages.filter((m) => m.role === "tool")[0]?.content, s.messages[2]?.content, "a short result is not cut");
    assert.equal(cut.trimmed.length, 1);
  });

  it("the room it saves lets more turns fit in the same budget", () => {
    const s = session();
    s.messages = toolHeavy(8, () => 4000);
    const budget = Math.floor(s.messages.reduce((n, m) => n + m.tokens, 0) / 2);
    const whole = buildContext(s, budget);
    const trimmed = buildContext(s, budget, { toolResults: policy() });
    assert.ok(trimmed.droppedTurns < whole.droppedTurns, `${trimmed.droppedTurns} < ${whole.droppedTurns}`);
    assert.ok(trimmed.tokens <= budget);
  });

  it("pinned results, keepTurns covering everything and softTrimChars 0 send everything whole", () => {
    const s = session();
    s.messages = toolHeavy(4, () => 3000);
    s.messages[2] = { ...(s.messages[2] as Message), pinned: true };
    const built = buildContext(s, 1_000_000, { toolResults: policy() });
    assert.deepEqual(
      built.trimmed.map((x) => x.messageId),
      [s.messages[6]?.id],
      "the pinned one is whole",
    );
    assert.equal(buildContext(s, 1_000_000, { toolResults: policy({ keepTurns: 4 }) }).trimmed.length, 0);
    assert.equal(buildContext(s, 1_000_000, { toolResults: policy({ softTrimChars: 0 }) }).trimmed.length, 0);
    assert.equal(buildContext(s, 1_000_000).trimmed.length, 0, "no policy, no cut");
  });

  it("softTrim never splits a character and keeps about the asked length", () => {
    for (const seed of [4, 5, 6]) {
      const r = prng(seed);
      const text = Array.from({ length: 3000 }, () => (r.chance(0.3) ? "😀" : "é a")).join("");
      for (const chars of [10, 101, 999]) {
        const out = softTrim(text, chars);
        assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(out), "no lone surrogate");
        const kept = out.replace(/\n\[… \d+ characters[^\]]*\]\n/, "");
        assert.ok(Math.abs(kept.length - chars) <= 2, `${kept.length} ≈ ${chars}`);
        const left = Number(/\[… (\d+) characters/.exec(out)?.[1]);
        assert.equal(kept.length + left, text.length, "the note counts exactly what was left out");
      }
    }
  });
});
