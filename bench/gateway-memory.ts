import { readFile } from "node:fs/promises";
import { startGatewayProcess } from "../test/helpers/gateway-process.js";
import { load } from "./gateway.js";
import { sig, type Row } from "./_util.js";

const MiB = 2 ** 20;

/** The process's resident set (bytes) from /proc; the lowest of a few looks 100 ms apart, so one look during a collection does not count. */
async function rssOf(pid: number): Promise<number> {
  let low = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    if (Number.isFinite(kb)) low = Math.min(low, kb * 1024);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!Number.isFinite(low)) throw new Error(`no VmRSS for process ${pid}`);
  return low;
}

/**
 * Scenario 7b: a gateway (file store, the built-in echo model, so nothing
 * but the gateway is measured) answering one chat request for each of
 * `sessions` distinct session keys, 8 in flight: its resident set after the
 * first 1,000 sessions and after all of them. A gateway keeps a bounded
 * cache of documents and of keys' live sessions, so what it holds should not
 * grow with the number of sessions it has served.
 */
export async function gatewayMemory(sessions: number): Promise<Row[]> {
  if (process.platform !== "linux") return [];
  const gw = await startGatewayProcess({ gateway: { model: { provider: "echo" } } });
  try {
    const pid = gw.child.pid as number;
    let offset = 0;
    const serve = async (n: number) => {
      const from = offset;
      await load(`${gw.url}/v1/chat/completions`, (i) => ({ authorization: `Bearer ${gw.token}`, "x-openclaw-session-key": `dm:bench:m${from + i}` }), { sessions: 8, requests: n });
      offset += n;
    };
    await serve(1_000);
    const first = await rssOf(pid);
    await serve(sessions - 1_000);
    const all = await rssOf(pid);
    const ratio = all / first;
    return [
      {
        scenario: "7 gateway",
        case: `resident set after serving ${sessions.toLocaleString("en")} distinct sessions`,
        figure: sig(all / MiB, 3),
        unit: "MiB RSS",
        baseline: sig(first / MiB, 3),
        baselineLabel: "after the first 1,000",
        ratio,
        goal: "≤ 1.2× after 1k",
        met: ratio <= 1.2,
      },
    ];
  } finally {
    await gw.stop();
  }
}
