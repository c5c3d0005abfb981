import type { Config } from "./schema.js";

// The defaults as a plain object, so a process with no config file never loads
// zod; a test checks this equals what the schema produces for `{}`.
const DEFAULTS: Config = {
  sessions: {
    maxHistoryLength: 100,
    expirationMs: 86_400_000,
    contextWindow: "auto",
    model: "gpt-4o",
    reserveTokens: 4096,
    lowWaterMark: 0.75,
    tokenSafetyFactor: 1.1,
    archiveAfterMs: 7 * 86_400_000,
    maintenance: { deleteArchivedAfter: null, deleteExpiredAfter: null, maxSessions: null, intervalMs: 3_600_000 },
    retainPrunedHistory: "all",
    maxMessageBytes: 1_048_576,
    maxMessageTokens: "auto",
    dmScope: "per-channel-peer",
    identityLinks: {},
    tools: {
      dm: { allow: ["*"], deny: [] },
      group: { allow: ["*"], deny: [] },
      isolated: { allow: ["*"], deny: [] },
    },
    carryOver: true,
    resetByKind: {},
    resetByChannel: {},
    commands: { enabled: true, new: true, reset: true, compact: true, status: true, groupSenders: "*" },
    cacheSize: 1000,
    compaction: { mode: "background", timeoutMs: 120_000 },
    summarizer: { type: "extractive", maxTokens: 1200, windowShare: 0.1, maxShareTokens: 16_000 },
  },
  gateway: {
    host: "127.0.0.1",
    port: 18789,
    auth: { mode: "token" },
    maxBodyBytes: 8 * 1_048_576,
    clientSystemPrompt: "apply",
    allowedHosts: [],
    rateLimits: {},
    requestTimeoutMs: 30_000,
    log: { level: "info" },
    metrics: { public: false },
    turnQueue: { maxWaitMs: 30_000, maxQueued: 16 },
    responses: { oneOffTtl: 86_400_000 },
  },
  context: { toolResults: { keepTurns: 3, softTrimChars: 4000, hardClear: false } },
  models: {},
  storage: { poolMax: 10, lockTimeoutMs: 10_000, staleLockMs: 30_000, turnLeaseMs: 30_000 },
};

/** A fresh copy of the default configuration. */
export function defaultConfig(): Config {
  return structuredClone(DEFAULTS);
}
