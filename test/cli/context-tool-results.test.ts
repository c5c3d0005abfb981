import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import type { Session } from "../../src/session/types.js";
import { sandbox } from "../helpers/cli-run.js";

interface Report {
  toolResults: { trimmed: number; cleared: number; tokensSaved: number };
  messages: Array<{ role: string; messageId: string | null; tokens: number | null; trimmed: { mode: string; storedChars: number; sentChars: number } | null; message: { content: string } }>;
}

test("sessions context shows which old tool results are sent cut, and the stored history keeps them whole", async (t) => {
  const sb = await sandbox(t);
  await mkdir(sb.stateDir, { recursive: true });
  await writeFile(join(sb.stateDir, "config.json"), JSON.stringify({ context: { toolResults: { keepTurns: 1, softTrimChars: 300 } } }));
  const m = await SessionManager.open({ stateDir: sb.stateDir, storeUri: sb.storeUri, warn: () => undefined });
  const big = (n: number) => `RESULT-${n} ` + "row of tool output data; ".repeat(200) + ` TAIL-${n}`;
  try {
    for (let n = 0; n < 3; n++) {
      const s = await m.receive({ channel: "telegram", senderId: "42" }, `question ${n}`);
      const asked = (await m.record({ ref: s.id }, { role: "assistant", content: "", sender: null, toolCalls: [{ id: `call-${n}`, name: "query", arguments: "{}" }] })).session;
      await m.record({ ref: asked.id }, { role: "tool", content: big(n), sender: null, toolCallId: `call-${n}` });
      await m.record({ ref: asked.id }, { role: "assistant", content: `answer ${n}`, sender: null });
    }
  } finally {
    await m.close();
  }
  const report = await sb.json<Report>(["sessions", "context", "dm:telegram:42"]);
  assert.equal(report.toolResults.trimmed, 2);
  assert.ok(report.toolResults.tokensSaved > 500, `saved ${report.toolResults.tokensSaved}`);
  const tools = report.messages.filter((x) => x.role === "tool");
  assert.deepEqual(
    tools.map((x) => x.trimmed?.mode ?? "whole"),
    ["trimmed", "trimmed", "whole"],
  );
  assert.ok(tools[0]?.message.content.startsWith("RESULT-0") && tools[0].message.content.endsWith("TAIL-0"));
  assert.ok((tools[0]?.trimmed?.sentChars ?? 0) < (tools[0]?.trimmed?.storedChars ?? 0));

  const text = (await sb.ok(["sessions", "context", "dm:telegram:42"])).stdout;
  assert.match(text, /tool results\s+2 older results cut to head and tail: [\d,]+ tokens saved/);
  assert.match(text, /\[trimmed [\d,]+ → [\d,]+ chars/);

  const stored = await sb.json<Session>(["sessions", "show", "dm:telegram:42"]);
  assert.deepEqual(
    stored.messages.filter((x) => x.role === "tool").map((x) => x.content),
    [big(0), big(1), big(2)],
  );
});
