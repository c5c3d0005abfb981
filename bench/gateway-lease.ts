import { fileURLToPath } from "node:url";
import { startFakeUpstream } from "../test/helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../test/helpers/gateway-process.js";
import { load, measured } from "./gateway.js";
import { median, sig, type Row } from "./_util.js";

/** Sizes of the gateway half of the turn-lease scenario. */
export interface GatewayLeaseSizes {
  /** Session keys the requests go to, round robin. */
  sessions: number;
  /** Requests in flight. */
  inFlight: number;
  /** Requests per measured run. */
  requests: number;
  /** Runs of each gateway, alternated; the figures are their medians. */
  rounds: number;
}

const NO_LEASE = fileURLToPath(new URL("./_no-lease.mjs", import.meta.url));

/**
 * Scenario 9, through the gateway: two gateways on their own stores, one as
 * shipped and one whose turns skip the lease (patched at start-up by
 * `_no-lease.mjs`), loaded alternately with the same stateful chat
 * requests. Figures: requests/s and the gateway's CPU per request.
 */
export async function gatewayLeaseCost(sizes: GatewayLeaseSizes, store: { name: string; uri: (variant: string) => string | undefined }): Promise<Row[]> {
  const upstream = await startFakeUpstream();
  const started: GatewayProcess[] = [];
  try {
    const start = async (variant: string, nodeArgs: string[]) => {
      const uri = store.uri(variant);
      const gw = await startGatewayProcess(
        { sessions: { maxHistoryLength: 100 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } }, ...(uri === undefined ? {} : { storage: { uri } }) },
        { nodeArgs },
      );
      started.push(gw);
      return gw;
    };
    const leased = await start("leased", []);
    const bare = await start("bare", ["--import", NO_LEASE]);
    const run = async (gw: GatewayProcess, requests: number) =>
      measured(gw.child.pid, requests, () =>
        load(`${gw.url}/v1/chat/completions`, (i) => ({ authorization: `Bearer ${gw.token}`, "x-openclaw-session-key": `dm:bench:u${i % sizes.sessions}` }), { sessions: sizes.inFlight, requests }),
      );
    // Warm-up: the tokenizer, the routes, the upstream client, every session created.
    for (const gw of [leased, bare]) await run(gw, sizes.sessions * 2);
    const withLease: Array<{ rps: number; cpuUs: number }> = [];
    const without: Array<{ rps: number; cpuUs: number }> = [];
    for (let r = 0; r < sizes.rounds; r++) {
      // Alternating which goes first keeps a drift in machine load from favouring one.
      const order = r % 2 === 0 ? ([bare, leased] as const) : ([leased, bare] as const);
      for (const gw of order) (gw === leased ? withLease : without).push(await run(gw, sizes.requests));
    }
    const rps = (xs: typeof withLease) => median(xs.map((x) => x.rps));
    const cpu = (xs: typeof withLease) => median(xs.map((x) => x.cpuUs));
    const ratio = rps(withLease) / rps(without);
    return [
      {
        scenario: "9 turn lease",
        case: `gateway, ${sizes.sessions} sessions, ${sizes.inFlight} in flight (${store.name}): stateful requests/s holding the lease`,
        figure: rps(withLease),
        unit: "requests/s",
        baseline: rps(without),
        baselineLabel: "same gateway build, turns without the lease",
        ratio,
        goal: "≥ 0.9× (the lease costs ≤ 10 %)",
        met: ratio >= 0.9,
        extra: {
          rounds: sizes.rounds,
          requestsPerRound: sizes.requests,
          cpuUsLeased: sig(cpu(withLease)),
          cpuUsBare: sig(cpu(without)),
          leasedMin: sig(Math.min(...withLease.map((x) => x.rps))),
          bareMin: sig(Math.min(...without.map((x) => x.rps))),
        },
      },
    ];
  } finally {
    for (const gw of started) await gw.stop();
    await upstream.close();
  }
}
