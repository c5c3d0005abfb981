import type { Command } from "commander";
import { shortRef } from "../../session/ids.js";
import { nestThreads } from "../../session/threads.js";
import { originText } from "../../session/origin.js";
import { parentKey } from "../../session/keys.js";
import type { SessionKind, SessionStatus, SessionSummary } from "../../session/types.js";
import { withManager } from "../_context.js";
import { usedCell } from "../_tokens-used.js";
import { colors, paintStatus, plural, print, printJson, relativeTime, table, visible } from "../_render.js";

/** Flags of `sessions list`. */
export interface ListFlags {
  status?: SessionStatus | "all";
  kind?: SessionKind;
  channel?: string;
  active?: number;
  limit?: number;
  offset?: number;
  json?: boolean;
}

/** One session as `list --json` shows it: the index summary without storage internals. */
export function listItem(s: SessionSummary): Record<string, unknown> {
  return {
    id: s.id,
    ref: shortRef(s.id),
    key: s.key,
    // A thread names its parent conversation's key, so a client can list it under it.
    parentKey: parentOf(s.key),
    kind: s.kind,
    channel: s.channel,
    status: s.status,
    messageCount: s.messageCount,
    tokens: s.tokens,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    lastActivityAt: s.lastActivityAt,
    expiredAt: s.expiredAt,
    archivedAt: s.archivedAt,
    sizeBytes: s.sizeBytes,
    usage: s.usage ?? null,
    label: s.label ?? null,
    origin: s.origin ?? null,
  };
}

function parentOf(key: string): string | null {
  try {
    return parentKey(key);
  } catch {
    return null;
  }
}

// The operator's label first, then where the conversation takes place.
function nameCell(s: SessionSummary): string {
  const origin = originText(s.origin);
  if (s.label === undefined) return origin === "" ? "-" : colors.dim(visible(origin));
  return origin === "" ? visible(s.label) : `${visible(s.label)} ${colors.dim(visible(`(${origin})`))}`;
}

/** Sessions shown when --limit is not given. */
export const DEFAULT_LIMIT = 50;

/** `openclaw sessions list`. */
export async function runList(flags: ListFlags, cmd: Command): Promise<void> {
  const page = await withManager(cmd, (m) =>
    m.list({
      ...(flags.status !== undefined ? { status: flags.status } : {}),
      ...(flags.kind !== undefined ? { kind: flags.kind } : {}),
      ...(flags.channel !== undefined ? { channel: flags.channel } : {}),
      ...(flags.active !== undefined ? { activeWithinMinutes: flags.active } : {}),
      // A page by default: the cost of a list grows with what it shows, not with the store.
      limit: flags.limit ?? DEFAULT_LIMIT,
      ...(flags.offset !== undefined ? { offset: flags.offset } : {}),
    }),
  );
  if (flags.json) {
    printJson({ sessions: page.items.map(listItem), count: page.items.length, total: page.total });
    return;
  }
  const hint = flags.status === undefined ? colors.dim(" (archived sessions are hidden: --status all shows them)") : "";
  const offset = flags.offset ?? 0;
  if (page.items.length === 0) {
    print(offset > 0 && page.total > 0 ? `no sessions past offset ${offset} (${plural(page.total, "session")} in all)` : `no sessions${hint}`);
    return;
  }
  const now = new Date();
  // Threads are listed under their parent conversation when it is on the page.
  const rows = nestThreads(page.items).map((s) => [
    visible(shortRef(s.id)),
    s.nested ? `  └ ${visible(s.key.slice((s.parentKey ?? "").length + 1))}` : visible(s.key),
    visible(s.kind),
    paintStatus(s.status),
    s.messageCount,
    s.tokens,
    usedCell(s.usage),
    relativeTime(s.lastActivityAt, now),
    nameCell(s),
  ]);
  print(table(["REF", "KEY", "KIND", "STATUS", "MSGS", "TOKENS", "USED", "LAST ACTIVITY", "LABEL / ORIGIN"], rows, ["left", "left", "left", "left", "right", "right", "right", "left", "left"]));
  const shown =
    offset > 0
      ? `${offset + 1}–${offset + page.items.length} of ${plural(page.total, "session")} (newest activity first)`
      : page.items.length < page.total
        ? `${page.items.length} of ${plural(page.total, "session")} (newest activity first; --limit N shows more)`
        : plural(page.total, "session");
  print(colors.dim(shown) + hint);
}
