import { readFile } from "node:fs/promises";
import autocannon from "autocannon";
import { startFakeUpstream } from "../test/helpers/fake-upstream.js";
import { startGatewayProcess } from "../test/helpers/gateway-process.js";
import { sig, type Row } from "./_util.js";

/** Sizes of the gateway scenario. */
export interface GatewaySizes {
  /** Concurrent connections (requests in flight). */
  sessions: number;
  /** Requests per measurement. */
  requests: number;
  /** Session keys the stateful requests go to, round robin; the connection count when absent. */
  keys?: number;
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
}

/** CPU seconds (user + system) a process has used, from /proc; undefined where there is no /proc. */
async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** `run`'s figures and the gateway's CPU per request during it (µs; NaN without /proc). */
export async function measured(pid: number | undefined, requests: number, run: () => Promise<Measured>): Promise<Measured & { cpuUs: number }> {
  const before = await cpuSeconds(pid);
  const m = await run();
  const after = await cpuSeconds(pid);
  return { ...m, cpuUs: before === undefined || after === undefined ? Number.NaN : ((after - before) * 1e6) / requests };
}

/** Sends `sizes.requests` chat requests over `sizes.sessions` connections; throws on any error or non-2xx answer. */
export async function load(url: string, headers: (i: number) => Record<string, string>, sizes: GatewaySizes, history: readonly object[] = []): Promise<Measured> {
  let n = 0;
  // Timed here, to the last answer: autocannon's own duration ends on a one-second tick.
  const started = performance.now();
  let finished = started;
  const r = await autocannon({
    url,
    connections: sizes.sessions,
    amount: sizes.requests,
    timeout: 60,
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const i = n++;
          return {
            ...req,
            headers: { "content-type": "application/json", ...headers(i) },
            body: JSON.stringify({ model: "fake-model", messages: [...history, { role: "user", content: `message ${i} about order ORD-${i}` }] }),
          };
        },
        onResponse: () => {
          finished = performance.now();
        },
      },
    ],
  });
  if (r.errors > 0 || r.non2xx > 0) throw new Error(`load run failed: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
  return { rps: sizes.requests / ((finished - started) / 1000), p50: r.latency.p50, p99: r.latency.p99 };
}

/**
 * Scenario 7: `POST /v1/chat/completions` through the gateway at 8 and at
 * `sizes.sessions` requests in flight, stateful requests going round robin
 * to `sizes.sessions` session keys (each records the user message and the
 * reply, durably, and sends the managed context), against the same fake
 * upstream called directly and the same gateway without session headers
 * (stateless: nothing read or stored), in the same run. Figures:
 * requests/s, the latency the gateway adds at p50 and p99, the gateway's
 * CPU per request. The stateless row sends one message; a second stateless
 * row resends a conversation as long as the context the stateful turns
 * just sent upstream, as a client keeping its own history would, so
 * statefulness is also compared like for like (report only).
 */
export async function gatewayThroughput(sizes: GatewaySizes, store?: { uri: string; name: string }): Promise<Row[]> {
  const upstream = await startFakeUpstream();
  const gw = await startGatewayProcess({
    sessions: { maxHistoryLength: 100 },
    gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
    ...(store === undefined ? {} : { storage: { uri: store.uri } }),
  });
  const keys = sizes.keys ?? sizes.sessions;
  try {
    // Warm-up: loads the tokenizer, the routes and the upstream client, and creates every session; then one
    // untimed round of each kind, so neither is timed while its code is still being compiled or the heap still
    // growing to its working size (a first round ran up to 1.5 times as slow as the rounds after it).
    const statefulHeaders = (i: number) => ({ authorization: `Bearer ${gw.token}`, "x-openclaw-session-key": `dm:bench:u${i % keys}` });
    await load(`${gw.url}/v1/chat/completions`, statefulHeaders, { ...sizes, requests: keys });
    await load(`${gw.url}/v1/chat/completions`, statefulHeaders, { sessions: 8, requests: sizes.requests });
    await load(`${gw.url}/v1/chat/completions`, () => ({ authorization: `Bearer ${gw.token}` }), { sessions: 8, requests: sizes.requests });
    upstream.requests.length = 0;
    const pid = gw.child.pid;
    const rows: Row[] = [];
    const inFlights = [...new Set([8, sizes.sessions])].sort((a, b) => a - b);
    for (const inFlight of inFlights) {
      const at = { sessions: inFlight, requests: sizes.requests };
      const direct = await load(`${upstream.baseUrl}/chat/completions`, () => ({}), at);
      const stateless = await measured(pid, sizes.requests, () => load(`${gw.url}/v1/chat/completions`, () => ({ authorization: `Bearer ${gw.token}` }), at));
      const through = await measured(pid, sizes.requests, () => load(`${gw.url}/v1/chat/completions`, statefulHeaders, at));
      // A stateless client resends its conversation: the context the stateful turns just sent upstream, as its history.
      const sent = upstream.requests.at(-1)?.body.messages ?? [];
      const history = sent.slice(0, -1);
      const resending = await measured(pid, sizes.requests, () => load(`${gw.url}/v1/chat/completions`, () => ({ authorization: `Bearer ${gw.token}` }), at, history));
      upstream.requests.length = 0;
      const base = { scenario: "7 gateway", unit: "", met: null, goal: "report" };
      const label = `${inFlight} in flight, ${keys} sessions${store === undefined ? "" : ` (${store.name})`}`;
      const ratio = through.rps / stateless.rps;
      const added = Math.max(0, through.p50 - direct.p50);
      rows.push(
        {
          ...base,
          case: `${label}: stateful throughput`,
          figure: through.rps,
          unit: "requests/s",
          baseline: direct.rps,
          baselineLabel: "fake upstream called directly",
          ratio: through.rps / direct.rps,
          extra: { gatewayP50Ms: through.p50, gatewayP99Ms: through.p99, directP50Ms: direct.p50, directP99Ms: direct.p99, gatewayCpuUsPerRequest: sig(through.cpuUs) },
        },
        {
          ...base,
          case: `${label}: stateless throughput`,
          figure: stateless.rps,
          unit: "requests/s",
          baseline: direct.rps,
          baselineLabel: "fake upstream called directly",
          ratio: stateless.rps / direct.rps,
          extra: { gatewayP50Ms: stateless.p50, gatewayP99Ms: stateless.p99, gatewayCpuUsPerRequest: sig(stateless.cpuUs) },
        },
        {
          ...base,
          case: `${label}: stateful vs stateless throughput`,
          figure: through.rps,
          unit: "requests/s",
          baseline: stateless.rps,
          baselineLabel: "same gateway, stateless",
          ratio,
          goal: "≥ 0.6× stateless",
          met: ratio >= 0.6,
          extra: { statefulCpuUs: sig(through.cpuUs), statelessCpuUs: sig(stateless.cpuUs) },
        },
        {
          ...base,
          case: `${label}: stateful vs stateless resending the conversation`,
          figure: through.rps,
          unit: "requests/s",
          baseline: resending.rps,
          baselineLabel: `stateless, ${history.length} earlier messages resent`,
          ratio: through.rps / resending.rps,
          extra: { statefulCpuUs: sig(through.cpuUs), resendingCpuUs: sig(resending.cpuUs), resentMessages: history.length, resendingP50Ms: resending.p50 },
        },
        {
          ...base,
          case: `${label}: gateway CPU per stateless request`,
          figure: sig(stateless.cpuUs),
          unit: "µs",
          baseline: sig(through.cpuUs),
          baselineLabel: "per stateful request",
          ratio: stateless.cpuUs / through.cpuUs,
        },
        {
          ...base,
          case: `${label}: added latency p50`,
          figure: sig(added),
          unit: "ms",
          baseline: direct.p50,
          baselineLabel: "fake upstream p50",
          ratio: through.p50 / Math.max(1, direct.p50),
          ...(inFlight === 8 ? { goal: "≤ 3 ms", met: added <= 3 } : {}),
        },
        {
          ...base,
          case: `${label}: added latency p99`,
          figure: sig(Math.max(0, through.p99 - direct.p99)),
          unit: "ms",
          baseline: direct.p99,
          baselineLabel: "fake upstream p99",
          ratio: through.p99 / Math.max(1, direct.p99),
        },
      );
    }
    return rows;
  } finally {
    await gw.stop();
    await upstream.close();
  }
}
