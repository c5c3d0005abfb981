import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { uuidv7 } from "../../src/session/ids.js";
import type { Message, SessionKind, SessionStatus } from "../../src/session/types.js";
import type { ExportEnvelope, ExportedSession } from "../../src/session/export.js";
import type { Sandbox } from "./cli-run.js";

/** What a prepared session should look like; everything else gets plausible defaults. */
export interface FixtureSpec {
  key: string;
  status?: SessionStatus;
  /** Minutes since the last activity (default 5). */
  idleMinutes?: number;
  messages?: number;
  pruned?: number;
  preferences?: ExportedSession["preferences"];
  tools?: ExportedSession["tools"];
  systemPrompt?: string;
  summary?: string;
}

let seq = 0;

// Ids must be unique within a run and time-ordered like real ones, yet
// distinct from each other in their first characters only when wanted.
function nextId(at: number): string {
  seq += 1;
  return uuidv7(at + seq, randomBytes(10));
}

function message(i: number, at: Date, sender: string | null): Message {
  const role = i % 2 === 0 ? "user" : "assistant";
  return {
    id: nextId(at.getTime()),
    role,
    content: role === "user" ? `question ${i}: what about order #${1000 + i}?` : `answer ${i}: order #${1000 + i} ships Friday`,
    sender: role === "user" ? sender : null,
    createdAt: at.toISOString(),
    tokens: 12,
    pinned: false,
  };
}

/** One exported session, as `sessions export` would write it. */
export function fixtureSession(spec: FixtureSpec, now = new Date()): ExportedSession {
  const [kindWord, channelWord, subject] = spec.key.split(":");
  const kind = kindWord as SessionKind;
  const channel = kind === "isolated" ? "isolated" : (channelWord ?? "cli");
  const last = new Date(now.getTime() - (spec.idleMinutes ?? 5) * 60_000);
  const created = new Date(last.getTime() - 3_600_000);
  const sender = kind === "dm" ? (subject ?? "u") : "alice";
  const messages = Array.from({ length: spec.messages ?? 2 }, (_, i) => message(i, new Date(created.getTime() + i * 1000), sender));
  const prunedHistory = Array.from({ length: spec.pruned ?? 0 }, (_, i) => message(i, new Date(created.getTime() - 60_000 + i), sender));
  const status = spec.status ?? "active";
  return {
    version: 2,
    id: nextId(created.getTime()),
    key: spec.key,
    kind,
    channel,
    participants: [sender],
    status,
    createdAt: created.toISOString(),
    updatedAt: last.toISOString(),
    lastActivityAt: last.toISOString(),
    expiredAt: status === "expired" ? last.toISOString() : null,
    archivedAt: status === "archived" ? last.toISOString() : null,
    preferences: spec.preferences ?? {},
    tools: spec.tools ?? { allow: ["*"], deny: [] },
    systemPrompts: spec.systemPrompt === undefined ? [] : [{ id: nextId(created.getTime()), content: spec.systemPrompt, tokens: 9, createdAt: created.toISOString() }],
    summary:
      spec.summary === undefined
        ? null
        : { text: spec.summary, tokens: 20, messageCount: spec.pruned ?? 0, throughMessageId: prunedHistory.at(-1)?.id ?? null, updatedAt: created.toISOString(), summarizer: "extractive" },
    messages,
    prunedCount: prunedHistory.length,
    // Derived fields as a save computes them under the default config, so an import stores the fixture unchanged.
    context: {
      model: "gpt-4o",
      window: 128_000,
      tokensInUse: messages.length * 12 + (spec.systemPrompt === undefined ? 0 : 9) + (spec.summary === undefined ? 0 : 20),
      compactions: spec.summary === undefined ? 0 : 1,
      lastCompactedAt: null,
      lastSummarizerError: null,
      lastSummarizerErrorAt: null,
    },
    prunedHistory,
  };
}

/** An export document holding the given sessions. */
export function fixtureExport(specs: readonly FixtureSpec[], now = new Date()): ExportEnvelope {
  return { format: "openclaw-sessions-export", version: 1, exportedAt: now.toISOString(), sessions: specs.map((s) => fixtureSession(s, now)) };
}

/** Fills a sandbox's store by importing a prepared export: far cheaper than appending message by message. */
export async function seed(sb: Sandbox, specs: readonly FixtureSpec[]): Promise<ExportEnvelope> {
  const envelope = fixtureExport(specs);
  const file = join(sb.home, `seed-${seq}.json`);
  await writeFile(file, JSON.stringify(envelope));
  await sb.ok(["sessions", "import", file]);
  return envelope;
}
