import { z } from "zod";
import { gatewayAuth } from "./_auth.js";
import { dmScope, identityLinks } from "./_routing.js";
import { envName, intAtLeast } from "./_fields.js";
import { chatCommands, resetPolicy } from "./_session-policies.js";

/** Every scope a gateway credential can hold. */
export { SCOPE_NAMES } from "./_auth.js";

const WINDOW = 'expected "auto" or an integer ≥ 1024';
const RETAIN = 'expected "all" or an integer ≥ 0';
const MSG_TOKENS = 'expected "auto" or an integer ≥ 16';

const toolPolicy = z.object({
  allow: z.array(z.string({ error: "expected a tool name pattern" }).min(1), { error: "expected an array of tool name patterns" }).default(["*"]),
  deny: z.array(z.string({ error: "expected a tool name pattern" }).min(1), { error: "expected an array of tool name patterns" }).default([]),
});

const SHARE = "expected a number from 0 to 0.5";

const AGE = 'expected a duration such as "30d", "12h" or "90m", milliseconds as an integer ≥ 0, or null (never)';
const AGE_UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A retention age: "30d"-style text or milliseconds, kept as milliseconds; null turns the rule off. */
const retentionAge = z.union(
  [
    z.null(),
    z.number({ error: AGE }).int({ error: AGE }).min(0, { error: AGE }),
    z
      .string({ error: AGE })
      .regex(/^\d{1,9}[smhdw]$/, { error: AGE })
      .transform((v) => Number(v.slice(0, -1)) * (AGE_UNIT_MS[v.slice(-1)] ?? 0)),
  ],
  { error: AGE },
);

const ONE_OFF = 'expected a duration of at least a minute such as "1h" or "24h", milliseconds as an integer ≥ 60000, or null (one-off sessions expire as any other)';

/** How big the rolling summary may grow: a floor, and a share of the window up to a cap. */
const summarySize = {
  /** The summary's size in tokens when the window is small; it is never budgeted below this. */
  maxTokens: intAtLeast(64).default(1200),
  /** Share of the model's window the summary may use when that is more than `maxTokens` (0 turns it off). */
  windowShare: z.number({ error: SHARE }).min(0, { error: SHARE }).max(0.5, { error: SHARE }).default(0.1),
  /** Cap on the window share, in tokens. */
  maxShareTokens: intAtLeast(64).default(16_000),
};

const extractiveSummarizer = z.object({
  type: z.literal("extractive"),
  ...summarySize,
});

/** Retries of a failed model call. */
const retries = () =>
  z
    .number({ error: "expected an integer from 0 to 10" })
    .int({ error: "expected an integer from 0 to 10" })
    .min(0, { error: "expected an integer from 0 to 10" })
    .max(10, { error: "expected an integer from 0 to 10" })
    .default(2);

const openaiSummarizer = z.object({
  type: z.literal("openai-compatible"),
  baseUrl: z.url({ error: "expected an http(s) URL such as http://127.0.0.1:11434/v1" }),
  model: z.string({ error: "expected a model name" }).min(1, { error: "expected a model name" }),
  /** Name of the environment variable that holds the API key (never the key itself). */
  apiKeyEnv: envName(),
  timeoutMs: intAtLeast(100).default(30_000),
  maxRetries: retries(),
  ...summarySize,
  /** "strict": identifiers of the folded messages the model's summary lost are added back with their sentence; "off": the reply is kept as written. */
  identifiers: z.enum(["strict", "off"], { error: 'expected "strict" or "off"' }).default("strict"),
});

/** The built-in offline model: replies with a summary of the last user message and the context; for trying the gateway, never for production. */
const echoModel = z.object({
  provider: z.literal("echo"),
  /** The name clients see in /v1/models. */
  model: z.string({ error: "expected a model name" }).min(1, { error: "expected a model name" }).default("echo"),
});

const upstreamModel = z.object({
  /** An OpenAI-compatible server (the default when absent). */
  provider: z.literal("openai-compatible").optional(),
  baseUrl: z.url({ error: "expected an http(s) URL such as http://127.0.0.1:11434/v1" }),
  model: z.string({ error: "expected a model name" }).min(1, { error: "expected a model name" }),
  /** Name of the environment variable that holds the API key (never the key itself). */
  apiKeyEnv: envName(),
  timeoutMs: intAtLeast(100).default(120_000),
  maxRetries: retries(),
  /** A streamed reply silent this long (no byte after the head, or between two chunks) is cut off with a 502, freeing its session. */
  streamIdleTimeoutMs: intAtLeast(100).default(30_000),
});

/** A token bucket: the sustained rate, and how many requests may come at once. */
const rateBucket = z.object(
  {
    requestsPerMinute: intAtLeast(1),
    /** Bucket size: requests accepted at once after a quiet spell (default: requestsPerMinute). */
    burst: intAtLeast(1).optional(),
  },
  { error: 'expected {"requestsPerMinute": n, "burst"?: n}' },
);

const PORT = "expected a port number from 0 to 65535";
const HOST_ENTRY = "expected a host name or host:port, such as gateway.example.com or gateway.example.com:8443 (no scheme, no path)";

const KEY_SOURCE = 'expected {"keyEnv": "VARIABLE"} or {"keyFile": "/absolute/path"} (one of them)';

/** Encryption at rest: where the store's 32-byte key (base64 or hex) comes from. */
const encryption = z
  .object(
    {
      /** Name of the environment variable holding the key. */
      keyEnv: envName(),
      /** Absolute path of a file (mode 0600) holding the key. */
      keyFile: z.string({ error: "expected an absolute path" }).startsWith("/", { error: "expected an absolute path" }).optional(),
    },
    { error: KEY_SOURCE },
  )
  .strict()
  .refine((e) => (e.keyEnv === undefined) !== (e.keyFile === undefined), { error: KEY_SOURCE });

/** Schema of `config.json`; every key has a default so a missing file means defaults. */
export const configSchema = z.object({
  sessions: z
    .object({
      /** Active messages kept before the oldest turns are folded into the summary. */
      maxHistoryLength: intAtLeast(1).default(100),
      /** Inactivity after which a session expires; 0 = never. */
      expirationMs: intAtLeast(0).default(86_400_000),
      /** Model window in tokens, or "auto" to take it from `model`. */
      contextWindow: z.union([z.literal("auto"), z.number().int({ error: WINDOW }).min(1024, { error: WINDOW })], { error: WINDOW }).default("auto"),
      /** The model the assistant talks to; "auto" resolves its window from this. */
      model: z.string({ error: "expected a model name" }).min(1, { error: "expected a model name" }).default("gpt-4o"),
      /** Tokens kept free for the model's reply. */
      reserveTokens: intAtLeast(0).default(4096),
      /** Fraction of the limits pruning folds down to, so it does not run on every message. */
      lowWaterMark: z.number({ error: "expected a number between 0.1 and 1" }).min(0.1, { error: "expected a number between 0.1 and 1" }).max(1, { error: "expected a number between 0.1 and 1" }).default(0.75),
      /** Multiplier on o200k token counts for models of other families. */
      tokenSafetyFactor: z.number({ error: "expected a number between 1 and 3" }).min(1, { error: "expected a number between 1 and 3" }).max(3, { error: "expected a number between 1 and 3" }).default(1.1),
      /** How long an expired session stays before `compact` archives it. */
      archiveAfterMs: intAtLeast(0).default(7 * 86_400_000),
      /** Retention: which sessions are deleted, oldest first, by the gateway on a schedule and by `sessions prune`; never a live one. Off by default. */
      maintenance: z
        .object(
          {
            /** An archived session is deleted this long after it was archived; null: never. */
            deleteArchivedAfter: retentionAge.default(null),
            /** An expired session is deleted this long after it expired; null: never. */
            deleteExpiredAfter: retentionAge.default(null),
            /** At most this many sessions are kept: the oldest archived and expired ones go first; null: no limit. */
            maxSessions: z.union([z.null(), intAtLeast(1)], { error: "expected an integer ≥ 1, or null (no limit)" }).default(null),
            /** How often the gateway applies it. */
            intervalMs: intAtLeast(1000).default(3_600_000),
          },
          { error: 'expected {"deleteArchivedAfter": "30d", "deleteExpiredAfter": "7d", "maxSessions": n}' },
        )
        .prefault({}),
      /** Folded messages kept in the pruned-history log: "all" or a maximum count. */
      retainPrunedHistory: z.union([z.literal("all"), z.number().int({ error: RETAIN }).min(0, { error: RETAIN })], { error: RETAIN }).default("all"),
      /** Largest message accepted, in bytes of UTF-8. */
      maxMessageBytes: intAtLeast(1).default(1_048_576),
      /** Largest message accepted, in tokens: "auto" = half the context budget, so the latest turn always fits beside the summary. */
      maxMessageTokens: z.union([z.literal("auto"), z.number().int({ error: MSG_TOKENS }).min(16, { error: MSG_TOKENS })], { error: MSG_TOKENS }).default("auto"),
      /** How DMs are grouped: "per-channel-peer" (one session per channel and person), "main" (all share one), "per-peer" (one per person across channels), "per-account-channel-peer" (per bot account too). */
      dmScope,
      /** Opt-in: canonical person id → channel identities ("telegram:123") that are that person: their DMs share a session across channels. */
      identityLinks,
      /** Default tool permissions per session kind. */
      tools: z
        .object({
          dm: toolPolicy.prefault({}),
          group: toolPolicy.prefault({}),
          isolated: toolPolicy.prefault({}),
        })
        .prefault({}),
      /** A key's new session (after expiry or archiving) takes over the previous one's preferences, tool policy and system prompts. */
      carryOver: z
        .union(
          [
            z.boolean(),
            z
              .object({
                /** Preferences, tool policy and system prompts. */
                settings: z.boolean({ error: "expected true or false" }).default(true),
                /** The previous session's summary, marked as such, seeds the new one. */
                summary: z.boolean({ error: "expected true or false" }).default(true),
              })
              .strict(),
          ],
          { error: "expected true, false or { settings, summary }" },
        )
        .default(true),
      /** When a key's session is replaced by a fresh one (absent: an idle reset after expirationMs). */
      reset: resetPolicy.optional(),
      /** Per-kind overrides of `reset` (a thread is its own kind here). */
      resetByKind: z
        .object({ dm: resetPolicy.optional(), group: resetPolicy.optional(), thread: resetPolicy.optional(), isolated: resetPolicy.optional() }, { error: "expected { dm, group, thread, isolated }" })
        .default({}),
      /** Per-channel overrides of `reset` (they beat resetByKind). */
      resetByChannel: z.record(z.string(), resetPolicy, { error: "expected an object of channel → reset policy" }).default({}),
      /** In-chat commands (/new, /reset, /compact, /status). */
      commands: chatCommands,
      /** Loaded sessions kept in memory, reused while their stored revision is unchanged; 0 disables the cache. */
      cacheSize: intAtLeast(0).default(1000),
      /** When folding runs after an append: "background" (a per-session queue; the append is acknowledged first) or "inline" (the append waits for it). */
      compaction: z
        .object({
          mode: z.enum(["inline", "background"], { error: 'expected "inline" or "background"' }).default("background"),
          /** A fold still running after this long is abandoned and the error recorded; nothing is lost. */
          timeoutMs: intAtLeast(100).default(120_000),
        })
        .prefault({}),
      summarizer: z.discriminatedUnion("type", [extractiveSummarizer, openaiSummarizer], { error: 'expected {"type": "extractive"} or {"type": "openai-compatible", ...}' }).prefault({ type: "extractive" }),
    })
    .prefault({}),
  gateway: z
    .object({
      /** Address `openclaw gateway` binds. */
      host: z.string({ error: "expected a host name or IP address" }).min(1, { error: "expected a host name or IP address" }).default("127.0.0.1"),
      /** Port it listens on (0: any free port). */
      port: z.number({ error: PORT }).int({ error: PORT }).min(0, { error: PORT }).max(65535, { error: PORT }).default(18789),
      /** Credentials and scopes (see _auth.ts). */
      auth: gatewayAuth,
      /** The upstream model the gateway asks, or the built-in echo model; without it, model endpoints answer 503. */
      model: z
        .discriminatedUnion("provider", [echoModel, upstreamModel], { error: 'expected "provider": "openai-compatible" (with baseUrl and model) or "echo" (the built-in offline model, not for production)' })
        .optional(),
      /** Largest request body accepted, in bytes. */
      maxBodyBytes: intAtLeast(1024).default(8 * 1_048_576),
      /** System/developer messages a chat-completions request carries: "apply" sends them for that turn only (after the session's own system prompts, counted in the budget), "store" makes them the session's system prompt, "ignore" drops them, "refuse" answers 400. */
      clientSystemPrompt: z.enum(["apply", "store", "ignore", "refuse"], { error: 'expected "apply", "store", "ignore" or "refuse"' }).default("apply"),
      /** Host values (`host` or `host:port`) answered besides the bound loopback names, e.g. a proxy's public name; their origins pass the cross-site check. */
      allowedHosts: z.array(z.string({ error: HOST_ENTRY }).regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, { error: HOST_ENTRY })).default([]),
      /** Token buckets on `/v1` and `/hooks` (off when absent): per credential name, and per sender (channel + sender id) of requests that name one. 429 with Retry-After when spent. */
      rateLimits: z
        .object({
          perCredential: rateBucket.optional(),
          perSender: rateBucket.optional(),
        })
        .prefault({}),
      /** How long a client may take to send a request's headers and body; a slower one is cut off (408). Responses and event streams are not bounded by it. */
      requestTimeoutMs: intAtLeast(1000).default(30_000),
      /** The gateway's log on stderr; `--log-format` and `--log-level` beat it. */
      log: z
        .object({
          /** "json": one JSON object a line; "pretty": a readable line. Absent: pretty on a terminal, JSON otherwise. */
          format: z.enum(["json", "pretty"], { error: 'expected "json" or "pretty"' }).optional(),
          /** Least severe level written. */
          level: z.enum(["debug", "info", "warn", "error", "silent"], { error: 'expected "debug", "info", "warn", "error" or "silent"' }).default("info"),
        })
        .prefault({}),
      /** The Responses API (`/v1/responses`). */
      responses: z
        .object({
          /** A one-off session (a request that continued nothing, not continued since) expires this long after its last activity, sooner if the normal policy says so, and retention then deletes it; null: it lives as any other session. */
          oneOffTtl: retentionAge.refine((v) => v === null || v >= 60_000, { error: ONE_OFF }).default(86_400_000),
        })
        .prefault({}),
      /** `GET /metrics` (Prometheus text): behind a credential with the admin:read scope unless `public` (for a scraper on a trusted network). */
      metrics: z
        .object({
          public: z.boolean({ error: "expected true or false" }).default(false),
        })
        .prefault({}),
      /** Bounds on the turns waiting for one session: past either, a request is answered 429 with Retry-After. */
      turnQueue: z
        .object({
          /** Longest a turn waits for the session's earlier turns (in this process and others). */
          maxWaitMs: intAtLeast(1).default(30_000),
          /** Most turns of one session waiting in this process at once. */
          maxQueued: intAtLeast(1).default(16),
        })
        .prefault({}),
    })
    .prefault({}),
  /** What the model is sent beyond the session's own rules. */
  context: z
    .object({
      /** Tool results older than the recent turns are sent cut (head and tail) or cleared; the stored history keeps them whole. */
      toolResults: z
        .object(
          {
            /** The tool results of this many most recent turns are sent whole. */
            keepTurns: intAtLeast(0).default(3),
            /** An older result longer than this many characters is sent as its head and tail, this long together (0: none is cut). */
            softTrimChars: intAtLeast(0).default(4000),
            /** Older results are replaced by a one-line placeholder instead of being cut. */
            hardClear: z.boolean({ error: "expected true or false" }).default(false),
          },
          { error: 'expected {"keepTurns": n, "softTrimChars": n, "hardClear": true|false}' },
        )
        .prefault({}),
    })
    .prefault({}),
  /** Windows of models the built-in table does not know, or corrections to it, by model name as sent upstream. */
  models: z
    .record(
      z.string().min(1, { error: "expected a non-empty model name" }),
      z
        .object({
          /** The model's context window in tokens. */
          contextWindow: intAtLeast(256),
          /** Most tokens the model writes in a reply; kept free as the reply reserve when set. */
          maxOutputTokens: intAtLeast(1).optional(),
        })
        .strict(),
    )
    .default({}),
  storage: z
    .object({
      /** Where sessions live: file:<dir>, postgres://…, memory:; the state dir's file store when absent. OPENCLAW_STORE and --store beat it. */
      uri: z.string({ error: "expected a store URI such as file:/var/lib/openclaw or postgres://host/db" }).min(1, { error: "expected a store URI such as file:/var/lib/openclaw or postgres://host/db" }).optional(),
      /** Most connections a server-backed store keeps open. */
      poolMax: intAtLeast(1).default(10),
      /** How long to wait for another process's session lock. */
      lockTimeoutMs: intAtLeast(100).default(10_000),
      /** A lock older than this whose holder cannot be confirmed alive is broken. */
      staleLockMs: intAtLeast(1000).default(30_000),
      /** Off when absent: message contents, summaries, preferences and system prompts sealed with AES-256-GCM under this key. */
      encryption: encryption.optional(),
      /** A turn's lease on its session lasts this long unless renewed (every third of it while the turn runs), so a process that dies mid-turn holds the session at most this long. */
      turnLeaseMs: intAtLeast(300).default(30_000),
    })
    .prefault({}),
});

/** The effective configuration, every default applied. */
export type Config = z.infer<typeof configSchema>;
/** Gateway settings. */
export type GatewayConfig = Config["gateway"];
/** Rate-limit settings of the gateway. */
export type RateLimitsConfig = GatewayConfig["rateLimits"];
/** Summarizer settings. */
export type SummarizerConfig = Config["sessions"]["summarizer"];
