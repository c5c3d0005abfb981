import type { Session, SessionKind, ToolPolicy } from "./types.js";
import { SESSION_FORMAT_VERSION } from "./types.js";

/** What a new session needs; ids and time come from the caller so this stays pure. */
export interface NewSessionInput {
  id: string;
  key: string;
  kind: SessionKind;
  channel: string;
  participants?: string[];
  tools?: ToolPolicy;
  now: Date;
}

/** A fresh session document in status `created`, revision 0 (not yet saved). */
export function newSession(input: NewSessionInput): Session {
  const at = input.now.toISOString();
  return {
    version: SESSION_FORMAT_VERSION,
    id: input.id,
    revision: 0,
    key: input.key,
    kind: input.kind,
    channel: input.channel,
    participants: input.participants ?? [],
    status: "created",
    createdAt: at,
    updatedAt: at,
    lastActivityAt: at,
    expiredAt: null,
    archivedAt: null,
    preferences: {},
    tools: input.tools ?? { allow: [], deny: [] },
    systemPrompts: [],
    summary: null,
    messages: [],
    prunedCount: 0,
    context: { model: null, window: null, tokensInUse: 0, compactions: 0, lastCompactedAt: null, lastSummarizerError: null, lastSummarizerErrorAt: null },
  };
}
