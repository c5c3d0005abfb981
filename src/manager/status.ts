import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileStoreDir } from "../store/open.js";
import { budgetFor, sessionBudget } from "../context/budget.js";
import { contextUsage } from "../context/build.js";
import type { SessionKind, SessionStatus, SessionSummary } from "../session/types.js";
import { canEncrypt } from "../store/store.js";
import type { StoreLocation } from "../config/locate.js";
import type { ManagerLocation } from "./_open.js";
import type { ManagerContext, SessionWriter } from "./_context.js";
import { mismatchedKeys } from "./rescope.js";

/** Store-wide figures for `openclaw status`. */
export interface StatusReport {
  stateDir: string;
  configPath: string;
  /** Backend name ("file", "postgres", "memory"). */
  store: string;
  /** Where the data lives, credentials removed. */
  storeLocation: string;
  /** Where the store choice came from. */
  storeSource: StoreLocation["source"];
  /** The database server's version, for a server-backed store. */
  serverVersion?: string;
  /** Corrupt files the file store moved to sessions/quarantine/; null for backends without a quarantine. */
  quarantined: number | null;
  /** Bytes the store occupies; null when the backend cannot tell. */
  sizeOnDisk: number | null;
  /** Ids of the keys the store's content is sealed with (two while a rekey runs); null when it holds no encrypted content. */
  encryptionKeys: string[] | null;
  total: number;
  byStatus: Record<SessionStatus, number>;
  byKind: Record<SessionKind, number>;
  model: string;
  window: number;
  budget: number;
  /** Tokens the sessions' model calls used, all time (the sessions' running totals). */
  usage: { input: number; output: number; total: number; turns: number; estimatedTurns: number };
  /** `sessions.dmScope`, and the live DM sessions whose key does not match it or the identity links (`sessions rescope` moves them). */
  dmScope: { scope: string; mismatched: Array<Pick<SessionSummary, "id" | "key">> };
  verbose?: {
    sessions: Array<{
      id: string;
      key: string;
      status: SessionStatus;
      tokens: number;
      parts: { system: number; summary: number; pinned: number; recent: number };
      window: number;
      percent: number;
      compactions: number;
      sizeBytes: number;
      /** Tokens the session's model calls used; null before the first. */
      used: number | null;
    }>;
    largest: Array<Pick<SessionSummary, "id" | "key" | "sizeBytes" | "messageCount">>;
    /** Documents that do not parse as sessions (read, not moved); empty where the store cannot check. */
    corrupt: string[];
    memory: { rss: number; heapUsed: number; heapTotal: number };
  };
}

/**
 * Counts sessions by status and kind (from the store's own counts where it
 * has them); `verbose` adds per-session usage of the 20 most recent
 * sessions, the largest sessions and this process's memory.
 */
export async function statusReport(ctx: ManagerContext, writer: SessionWriter, where: ManagerLocation, options: { verbose?: boolean; top?: number } = {}): Promise<StatusReport> {
  const store = ctx.store;
  const cutoff = ctx.cutoff();
  const stats = await store.stats(cutoff);
  const { model, window, budget } = budgetFor(ctx.config);
  const described = await store.describe();
  const report: StatusReport = {
    stateDir: where.stateDir,
    configPath: where.configPath,
    store: store.kind,
    storeLocation: described.location,
    storeSource: where.store.source,
    ...(described.serverVersion !== undefined ? { serverVersion: described.serverVersion } : {}),
    quarantined: await quarantineCount(where.store.uri),
    sizeOnDisk: await store.sizeOnDisk(),
    encryptionKeys: canEncrypt(store) ? await store.keyIds() : null,
    total: stats.total,
    byStatus: stats.byStatus,
    byKind: stats.byKind,
    model,
    window,
    budget,
    usage: await usageTotals(ctx),
    dmScope: { scope: ctx.config.sessions.dmScope, mismatched: (await mismatchedKeys(ctx)).map((s) => ({ id: s.id, key: s.key })) },
  };
  if (options.verbose) {
    const top = options.top ?? 10;
    // Reading every document is what verbose may afford; nothing is moved (doctor --fix does that),
    // so corrupt documents are found first and not loaded below.
    const corrupt = (await store.maintain({ dryRun: true })).quarantined;
    // Tokens by part need the documents; read a bounded number so status stays cheap on big stores.
    const recent = await store.list({ statuses: ["created", "active", "expired"], expiryCutoff: cutoff, limit: 20 });
    const sessions = [];
    for (const s of recent.items) {
      if (corrupt.includes(`${s.id}.json`)) continue;
      const doc = await writer.load(s.id);
      if (doc === undefined) continue;
      // A session with its own model preference is measured against that model's window.
      const own = sessionBudget(ctx.config, doc);
      const u = contextUsage(doc, own.window, own.budget);
      sessions.push({
        id: s.id,
        key: s.key,
        status: s.status,
        tokens: u.tokens.total,
        parts: { system: u.tokens.system, summary: u.tokens.summary, pinned: u.tokens.pinned, recent: u.tokens.messages },
        window: own.window,
        percent: u.percentOfWindow,
        compactions: u.compactions,
        sizeBytes: s.sizeBytes,
        used: doc.context.usage?.total ?? null,
      });
    }
    const all = await store.list({ expiryCutoff: cutoff });
    const largest = [...all.items]
      .sort((a, b) => b.sizeBytes - a.sizeBytes)
      .slice(0, top)
      .map((s) => ({ id: s.id, key: s.key, sizeBytes: s.sizeBytes, messageCount: s.messageCount }));
    const mem = process.memoryUsage();
    report.verbose = { sessions, largest, corrupt, memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal } };
  }
  return report;
}

// Read off the summaries, which carry each session's running totals: no document is opened.
async function usageTotals(ctx: ManagerContext): Promise<StatusReport["usage"]> {
  const out = { input: 0, output: 0, total: 0, turns: 0, estimatedTurns: 0 };
  for (const s of (await ctx.store.list({})).items) {
    const u = s.usage;
    if (u === undefined) continue;
    out.input += u.input;
    out.output += u.output;
    out.total += u.total;
    out.turns += u.turns;
    out.estimatedTurns += u.estimatedTurns;
  }
  return out;
}

// Session files the file store moved aside as corrupt (a message file moved with its header is not counted again); null for backends without a quarantine.
async function quarantineCount(uri: string): Promise<number | null> {
  const dir = fileStoreDir(uri);
  if (dir === undefined) return null;
  try {
    return (await readdir(join(dir, "sessions", "quarantine"))).filter((n) => !n.endsWith(".jsonl")).length;
  } catch {
    return 0;
  }
}
