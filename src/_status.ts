import { budgetFor } from "./_compact.js";
import type { SessionManager } from "./manager.js";
import type { SessionKind, SessionStatus, SessionSummary } from "./session/types.js";

/** Store-wide figures for `openclaw status`. */
export interface StatusReport {
  stateDir: string;
  configPath: string;
  store: string;
  sizeOnDisk: number;
  total: number;
  byStatus: Record<SessionStatus, number>;
  byKind: Record<SessionKind, number>;
  model: string;
  window: number;
  budget: number;
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
    }>;
    largest: Array<Pick<SessionSummary, "id" | "key" | "sizeBytes" | "messageCount">>;
    memory: { rss: number; heapUsed: number; heapTotal: number };
  };
}

/** Counts sessions by status and kind from the index; with `verbose`, per-session usage and memory. */
export async function statusReport(manager: SessionManager, options: { verbose?: boolean; top?: number } = {}): Promise<StatusReport> {
  const page = await manager.store.list({ expiryCutoff: manager.cutoff() });
  const byStatus: Record<SessionStatus, number> = { created: 0, active: 0, expired: 0, archived: 0 };
  const byKind: Record<SessionKind, number> = { dm: 0, group: 0, isolated: 0 };
  for (const s of page.items) {
    byStatus[s.status]++;
    byKind[s.kind]++;
  }
  const { window, budget } = budgetFor(manager.config);
  const report: StatusReport = {
    stateDir: manager.location.stateDir,
    configPath: manager.location.configPath,
    store: manager.store.kind,
    sizeOnDisk: await manager.store.sizeOnDisk(),
    total: page.total,
    byStatus,
    byKind,
    model: manager.config.sessions.model,
    window,
    budget,
  };
  if (options.verbose) {
    const top = options.top ?? 10;
    const { contextUsage } = await import("./context/build.js");
    // Tokens by part need the documents; read a bounded number so status stays cheap on big stores.
    const sessions = [];
    for (const s of page.items.filter((x) => x.status !== "archived").slice(0, 20)) {
      const loaded = await manager.store.get(s.id);
      if (loaded === undefined) continue;
      const u = contextUsage(loaded.session, window, budget);
      sessions.push({
        id: s.id,
        key: s.key,
        status: s.status,
        tokens: u.tokens.total,
        parts: { system: u.tokens.system, summary: u.tokens.summary, pinned: u.tokens.pinned, recent: u.tokens.messages },
        window,
        percent: u.percentOfWindow,
        compactions: u.compactions,
        sizeBytes: s.sizeBytes,
      });
    }
    const largest = [...page.items]
      .sort((a, b) => b.sizeBytes - a.sizeBytes)
      .slice(0, top)
      .map((s) => ({ id: s.id, key: s.key, sizeBytes: s.sizeBytes, messageCount: s.messageCount }));
    const mem = process.memoryUsage();
    report.verbose = { sessions, largest, memory: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal } };
  }
  return report;
}
