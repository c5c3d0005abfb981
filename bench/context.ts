import { join } from "node:path";
import { buildContext } from "../src/context/build.js";
import { SessionManager } from "../src/manager/manager.js";
import { chatText, Rng } from "./_populate.js";
import { median, scratch, sig, type Row } from "./_util.js";

/** Median milliseconds per call of `fn`, measured in batches so timer resolution does not matter. */
function perCall(fn: () => unknown, iterations: number): number {
  const batch = 100;
  for (let i = 0; i < Math.min(iterations, 500); i++) fn();
  const samples: number[] = [];
  for (let done = 0; done < iterations; done += batch) {
    const start = performance.now();
    for (let i = 0; i < batch; i++) fn();
    samples.push((performance.now() - start) / batch);
  }
  return median(samples);
}

/**
 * Scenario 4: building the model context of a 100-message session (one
 * system prompt, two pinned messages, replies with usage as the gateway
 * records them) held by the manager that wrote it, against the naive copy
 * of every message into chat shape.
 */
export async function contextBuild(iterations: number): Promise<Row[]> {
  const { dir, cleanup } = await scratch("context");
  const manager = await SessionManager.open({ stateDir: join(dir, "state"), config: {}, warn: () => undefined });
  try {
    const rng = new Rng(11);
    const created = await manager.create({ key: "dm:bench:context" });
    await manager.setSystemPrompt(created.id, "You are a helpful assistant. Keep order numbers and dates exact.");
    for (let i = 0; i < 100; i++) {
      const user = i % 2 === 0;
      // Replies carry the upstream's usage, as the gateway records them.
      const usage = user ? {} : { usage: { input: 100 + i * 40, output: rng.int(10, 80) } };
      await manager.record({ ref: created.id }, { role: user ? "user" : "assistant", content: chatText(rng, rng.int(6, 60)), sender: user ? "u1" : null, pinned: i === 10 || i === 40 }, usage);
    }
    const session = await manager.get(created.id);
    if (session.messages.length !== 100) throw new Error(`expected 100 messages, the session holds ${session.messages.length}`);
    const { budget } = await manager.window();
    const tokens = session.messages.reduce((n, m) => n + m.tokens, 0);
    const full = perCall(() => buildContext(session, budget), iterations);
    const tight = perCall(() => buildContext(session, Math.floor(tokens / 2)), iterations);
    const naive = perCall(() => session.messages.map((m) => ({ role: m.role, content: m.content })), iterations);
    const withLoad: number[] = [];
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      await manager.buildContext(created.id);
      withLoad.push(performance.now() - start);
    }
    return [
      {
        scenario: "4 context build",
        case: "100-message session, after load",
        figure: full,
        unit: "ms/call",
        baseline: naive,
        baselineLabel: "naive copy to chat shape",
        ratio: full / naive,
        goal: "≤ 1 ms",
        met: full <= 1,
        extra: {
          iterations,
          sessionTokens: tokens,
          budgetTokens: budget,
          halfBudgetMsPerCall: sig(tight),
          includingLoadFromDiskMsPerCall: sig(median(withLoad)),
        },
      },
    ];
  } finally {
    await manager.close();
    await cleanup();
  }
}
