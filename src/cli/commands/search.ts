import type { Command } from "commander";
import { isOpenclawError } from "../../errors.js";
import type { SessionManager } from "../../manager/manager.js";
import type { Message, SessionKind, SessionStatus, SessionSummary } from "../../session/types.js";
import { namesOf } from "../../session/origin.js";
import { withManager } from "../_context.js";
import { colors, plural, print, printJson, relativeTime, table, visible } from "../_render.js";
import { UsageError } from "../_usage.js";

/** Flags of `sessions search`. */
export interface SearchFlags {
  regex?: boolean;
  kind?: SessionKind;
  channel?: string;
  status?: SessionStatus | "all";
  includePruned?: boolean;
  limit?: number;
  json?: boolean;
}

/** One matching message. */
export interface SearchHit {
  sessionId: string;
  key: string;
  messageId: string;
  role: Message["role"];
  sender: string | null;
  createdAt: string;
  /** True when the message is in the pruned-history log (folded into the summary). */
  pruned: boolean;
  /** The line holding the match, trimmed to a window around it. */
  line: string;
}

/** A session whose label, sender display name or group subject matches. */
export interface NameHit {
  sessionId: string;
  key: string;
  field: "label" | "displayName" | "subject";
  value: string;
  lastActivityAt: string;
}

/** Hits shown when --limit is not given. */
export const DEFAULT_SEARCH_LIMIT = 50;
/** Sessions read at the same time. */
export const SEARCH_CONCURRENCY = 16;
/** Characters kept on each side of the match in `line`. */
export const WINDOW = 40;
/** Sessions asked of the index per page: few pages (each may read the index), yet a huge store is never listed in one piece. */
const PAGE = 10_000;
/** Sessions searched between two checks of whether the rest can still add a hit. */
const BATCH = 64;

/** Builds the case-insensitive matcher; an invalid --regex is a usage error. */
export function matcher(text: string, regex: boolean): RegExp {
  if (text === "") throw new UsageError("search text is empty");
  if (!regex) return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i");
  try {
    return new RegExp(text, "i");
  } catch (err) {
    throw new UsageError(`invalid --regex: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The line of `content` holding the first match, trimmed to WINDOW characters either side; undefined when nothing matches. */
export function matchLine(content: string, re: RegExp): string | undefined {
  const m = re.exec(content);
  if (m === null) return undefined;
  const at = m.index;
  const lineStart = content.lastIndexOf("\n", at - 1) + 1;
  const nl = content.indexOf("\n", at + m[0].length);
  const lineEnd = nl === -1 ? content.length : nl;
  const start = Math.max(lineStart, at - WINDOW);
  const end = Math.min(lineEnd, at + Math.max(m[0].length, 1) + WINDOW);
  // A carriage return is kept for visible() to show escaped, as `show` does.
  const body = content.slice(start, end);
  return `${start > lineStart ? "…" : ""}${body}${end < lineEnd ? "…" : ""}`;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

const newestFirst = (a: SearchHit, b: SearchHit): number => (a.createdAt === b.createdAt ? (a.messageId < b.messageId ? 1 : a.messageId > b.messageId ? -1 : 0) : Date.parse(b.createdAt) - Date.parse(a.createdAt));

async function messagesOf(m: SessionManager, s: SessionSummary, includePruned: boolean): Promise<{ messages: readonly Message[]; activeIds: ReadonlySet<string> } | undefined> {
  try {
    const session = await m.get(s.id);
    const activeIds = new Set(session.messages.map((x) => x.id));
    if (!includePruned) return { messages: session.messages, activeIds };
    // What manager.history returns (pruned, then active, each message once) without loading the session twice.
    const pruned = (await m.prunedHistory(s.id)).filter((x) => !activeIds.has(x.id));
    return { messages: [...pruned, ...session.messages], activeIds };
  } catch (err) {
    // Deleted between the listing and the read: nothing to search.
    if (isOpenclawError(err, "NOT_FOUND")) return undefined;
    throw err;
  }
}

/** Searches the selected sessions; returns the newest `limit` hits, how many matched in all, and how many sessions were read. */
export async function search(
  m: SessionManager,
  re: RegExp,
  flags: SearchFlags,
  /** The text searched for when it is plain text (not --regex): lets the store rule sessions out cheaply. */
  plain?: string,
): Promise<{ hits: SearchHit[]; total: number; sessionsSearched: number; complete: boolean }> {
  const limit = flags.limit ?? DEFAULT_SEARCH_LIMIT;
  let hits: SearchHit[] = [];
  let total = 0;
  let sessionsSearched = 0;
  const searchOne = async (s: SessionSummary): Promise<SearchHit[] | undefined> => {
    // Plain text is first looked for in the stored bytes: most sessions are ruled out without being parsed.
    if (plain !== undefined && !(await m.mayContain(s.id, plain, { pruned: flags.includePruned === true }))) return [];
    const loaded = await messagesOf(m, s, flags.includePruned === true);
    if (loaded === undefined) return undefined;
    const own: SearchHit[] = [];
    for (const msg of loaded.messages) {
      const line = matchLine(msg.content, re);
      if (line === undefined) continue;
      own.push({ sessionId: s.id, key: s.key, messageId: msg.id, role: msg.role, sender: msg.sender, createdAt: msg.createdAt, pruned: !loaded.activeIds.has(msg.id), line });
    }
    return own;
  };
  for (let offset = 0; ; offset += PAGE) {
    const page = await m.list({
      ...(flags.status !== undefined ? { status: flags.status } : {}),
      ...(flags.kind !== undefined ? { kind: flags.kind } : {}),
      ...(flags.channel !== undefined ? { channel: flags.channel } : {}),
      limit: PAGE,
      offset,
    });
    for (let at = 0; at < page.items.length; at += BATCH) {
      const batch = page.items.slice(at, at + BATCH);
      // Sessions come newest activity first and hold no message newer than their last activity: once
      // `limit` hits are all newer than the next session's last activity, nothing further can be shown.
      const next = batch[0];
      const oldestShown = hits.length >= limit ? hits[hits.length - 1] : undefined;
      if (next !== undefined && oldestShown !== undefined && Date.parse(next.lastActivityAt) < Date.parse(oldestShown.createdAt)) {
        return { hits, total, sessionsSearched, complete: false };
      }
      for (const own of await mapBounded(batch, SEARCH_CONCURRENCY, searchOne)) {
        if (own === undefined) continue;
        sessionsSearched += 1;
        total += own.length;
        hits.push(...own);
      }
      // Keep only what can still be shown: memory follows --limit, not the store.
      hits = hits.sort(newestFirst).slice(0, limit);
    }
    if (page.items.length < PAGE) break;
  }
  return { hits, total, sessionsSearched, complete: true };
}

/**
 * Sessions whose label or origin (display name, group subject) matches,
 * newest activity first, at most `limit`. Read from the listing alone (the
 * index keeps both), so no document is parsed.
 */
export async function searchNames(m: SessionManager, re: RegExp, flags: SearchFlags): Promise<NameHit[]> {
  const limit = flags.limit ?? DEFAULT_SEARCH_LIMIT;
  const out: NameHit[] = [];
  for (let offset = 0; out.length < limit; offset += PAGE) {
    const page = await m.list({
      ...(flags.status !== undefined ? { status: flags.status } : {}),
      ...(flags.kind !== undefined ? { kind: flags.kind } : {}),
      ...(flags.channel !== undefined ? { channel: flags.channel } : {}),
      limit: PAGE,
      offset,
    });
    for (const s of page.items) {
      const hit = namesOf(s).find((n) => re.test(n.value));
      if (hit !== undefined && out.length < limit) out.push({ sessionId: s.id, key: s.key, ...hit, lastActivityAt: s.lastActivityAt });
    }
    if (page.items.length < PAGE) break;
  }
  return out;
}

/** `openclaw sessions search`. */
export async function runSearch(text: string, flags: SearchFlags, cmd: Command): Promise<void> {
  const re = matcher(text, flags.regex === true);
  const { hits, total, sessionsSearched, complete, named } = await withManager(cmd, async (m) => ({ ...(await search(m, re, flags, flags.regex === true ? undefined : text)), named: await searchNames(m, re, flags) }));
  if (flags.json) {
    printJson({ hits, count: hits.length, sessionsSearched, complete, sessions: named });
    return;
  }
  if (named.length > 0) {
    const label = { label: "label", displayName: "display name", subject: "subject" } as const;
    print(
      table(
        ["SESSION", "KEY", "MATCHED", "TEXT"],
        named.map((n) => [visible(n.sessionId), visible(n.key), label[n.field], visible(n.value)]),
      ),
    );
    print();
  }
  const searched = `${plural(sessionsSearched, "session")} searched${flags.includePruned ? " (with pruned history)" : ""}`;
  if (hits.length === 0) {
    print(named.length > 0 ? `no message matches; ${searched}` : `no matches; ${searched}`);
    return;
  }
  const now = new Date();
  const rows = hits.map((h) => [relativeTime(h.createdAt, now), visible(h.sessionId), visible(h.key), h.role + (h.pruned ? colors.dim(" (pruned)") : ""), visible(h.sender ?? "-"), visible(h.line)]);
  print(table(["TIME", "SESSION", "KEY", "ROLE", "SENDER", "LINE"], rows));
  const shown = !complete
    ? `the newest ${plural(hits.length, "hit")}; older sessions were not searched, as they cannot hold newer ones (--limit N shows more)`
    : hits.length < total
      ? `${hits.length} of ${plural(total, "hit")} (newest first; --limit N shows more)`
      : plural(total, "hit");
  print(colors.dim(`${shown}; ${searched}`));
}
