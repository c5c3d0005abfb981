import { OpenclawError } from "../errors.js";
import type { Message, SessionSummary } from "../session/types.js";
import { throwIfAborted } from "../store/_mutex.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import { mergedHistory } from "./_list.js";

/** How `usage` groups its figures. */
export type UsageGrouping = "channel" | "day" | "session";
/** Every grouping `usage` knows. */
export const USAGE_GROUPINGS: readonly UsageGrouping[] = ["channel", "day", "session"];

/** Options of {@link usageReport}. */
export interface UsageOptions extends WriteOptions {
  /** Default "channel". */
  by?: UsageGrouping;
  /** Only model calls made in the last this many milliseconds. */
  sinceMs?: number;
}

/** Token figures of some model calls. */
export interface UsageFigures {
  /** Sessions the calls belong to. */
  sessions: number;
  /** Model calls counted. */
  turns: number;
  /** Of those, calls whose usage the upstream did not report (estimated). */
  estimatedTurns: number;
  input: number;
  output: number;
  total: number;
}

/** One line of the report: a channel, a day (UTC, YYYY-MM-DD) or a session. */
export interface UsageRow extends UsageFigures {
  group: string;
  /** With `by: "session"`: the session's key and channel. */
  key?: string;
  channel?: string;
}

/** What {@link usageReport} returns. */
export interface UsageReport {
  by: UsageGrouping;
  /** Start of the period (ISO), null for all time. */
  since: string | null;
  /**
   * "totals": from each session's running totals (every call ever recorded);
   * "messages": from the usage on each stored reply (needed for days and
   * periods; replies removed by clear or message deletion no longer count).
   */
  source: "totals" | "messages";
  rows: UsageRow[];
  totals: UsageFigures;
}

interface Acc extends UsageRow {
  ids: Set<string>;
}

const empty = (): UsageFigures => ({ sessions: 0, turns: 0, estimatedTurns: 0, input: 0, output: 0, total: 0 });

/**
 * Tokens the model calls of the store's sessions used, grouped by channel,
 * day or session. Without a period or days it reads only the sessions'
 * running totals (no document is opened); otherwise it reads the replies of
 * the sessions active in the period (their pruned history included).
 */
export async function usageReport(ctx: ManagerContext, writer: SessionWriter, options: UsageOptions = {}): Promise<UsageReport> {
  const by = options.by ?? "channel";
  if (!USAGE_GROUPINGS.includes(by)) throw new OpenclawError("INVALID_ARGUMENT", `usage can be grouped by ${USAGE_GROUPINGS.join(", ")}, not ${JSON.stringify(by)}`);
  if (options.sinceMs !== undefined && (!Number.isSafeInteger(options.sinceMs) || options.sinceMs <= 0)) {
    throw new OpenclawError("INVALID_ARGUMENT", `since must be a positive duration in milliseconds (got ${String(options.sinceMs)})`);
  }
  const since = options.sinceMs === undefined ? null : new Date(ctx.now().getTime() - options.sinceMs).toISOString();
  // A call made in the period left the session active at or after its start.
  const page = await ctx.store.list(since === null ? {} : { activeSince: since });
  const spent = page.items.filter((s) => (s.usage?.turns ?? 0) > 0);
  const groups = new Map<string, Acc>();
  const acc = (s: SessionSummary, group: string): Acc => {
    let a = groups.get(group);
    if (a === undefined) {
      a = { group, ...empty(), ids: new Set(), ...(by === "session" ? { key: s.key, channel: s.channel } : {}) };
      groups.set(group, a);
    }
    a.ids.add(s.id);
    return a;
  };
  const source = since === null && by !== "day" ? "totals" : "messages";
  for (const s of spent) {
    throwIfAborted(options.signal);
    if (source === "totals") {
      const u = s.usage;
      if (u === undefined) continue;
      add(acc(s, by === "session" ? s.id : s.channel), { turns: u.turns, estimatedTurns: u.estimatedTurns, input: u.input, output: u.output, total: u.total });
      continue;
    }
    const doc = await writer.load(s.id, options);
    if (doc === undefined) continue;
    const replies: Message[] = doc.prunedCount > 0 ? await mergedHistory(ctx.store, doc) : doc.messages;
    for (const m of replies) {
      const u = m.usage;
      if (u === undefined || (since !== null && m.createdAt < since)) continue;
      const group = by === "session" ? s.id : by === "channel" ? s.channel : m.createdAt.slice(0, 10);
      add(acc(s, group), { turns: 1, estimatedTurns: u.estimated === true ? 1 : 0, input: u.input, output: u.output, total: u.total });
    }
  }
  const rows: UsageRow[] = [...groups.values()].map(({ ids, ...row }) => ({ ...row, sessions: ids.size }));
  rows.sort(by === "day" ? (a, b) => (a.group < b.group ? -1 : 1) : (a, b) => b.total - a.total || (a.group < b.group ? -1 : 1));
  const totals = empty();
  const counted = new Set<string>();
  for (const g of groups.values()) {
    add(totals, g);
    for (const id of g.ids) counted.add(id);
  }
  totals.sessions = counted.size;
  return { by, since, source, rows, totals };
}

function add(to: UsageFigures, f: Omit<UsageFigures, "sessions">): void {
  to.turns += f.turns;
  to.estimatedTurns += f.estimatedTurns;
  to.input += f.input;
  to.output += f.output;
  to.total += f.total;
}
