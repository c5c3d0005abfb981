import { sessionModel } from "../context/budget.js";
import type { ContextUsage } from "../context/build.js";
import { routeTarget } from "../routing/route.js";
import { commandAllowed, parseCommand, type ChatCommand } from "../session/commands.js";
import { describePolicy, type ResetPolicy } from "../session/reset.js";
import type { Message, Session } from "../session/types.js";
import type { ManagerContext, SessionWriter, WriteOptions } from "./_context.js";
import type { NewMessage } from "./_message.js";
import type { AppendResult, AppendTarget, CommandOutcome } from "./append.js";
import type { FoldOutcome } from "./compact.js";
import { editSession } from "./edit.js";
import type { Routed, Router } from "./routing.js";

/** What the command service needs of the manager besides the context, as functions. */
export interface CommandDeps {
  resolve(ref: string, options: WriteOptions): Promise<string>;
  /** The session by id, its status evaluated now. */
  get(id: string, options: WriteOptions): Promise<Session>;
  foldNow(id: string, options: WriteOptions & { focus?: string }): Promise<FoldOutcome>;
  usage(session: Session): Promise<ContextUsage>;
  resetOf(session: Session): { policy: ResetPolicy; at: string | null };
}

/**
 * In-chat commands (`sessions.commands`): a user message that is exactly
 * `/new [model]`, `/reset`, `/compact [focus]` or `/status` is answered
 * here and not stored, so neither the model nor the history sees it. From
 * a sender a group does not allow, or when turned off, it is an ordinary
 * message.
 */
export class ChatCommands {
  constructor(
    private readonly ctx: ManagerContext,
    private readonly writer: SessionWriter,
    private readonly router: Router,
    private readonly deps: CommandDeps,
  ) {}

  /** The command `message` is for `target`, when commands apply to it; null: record it as a message. */
  async commandOf(target: AppendTarget, message: NewMessage, options: WriteOptions = {}): Promise<ChatCommand | null> {
    // The everyday message is not a command: told by its first characters, without copying it.
    if (message.role !== "user" || !/^\s*\//.test(message.content)) return null;
    const command = parseCommand(message.content);
    if (command === null) return null;
    const settings = this.ctx.config.sessions.commands;
    if (!settings.enabled) return null;
    let where: { kind: string; channel: string };
    if ("inbound" in target) {
      const t = routeTarget(target.inbound, this.ctx.config.sessions.identityLinks, () => this.ctx.newId(), this.ctx.config.sessions.dmScope);
      where = { kind: t.kind, channel: t.channel };
    } else {
      const s = await this.deps.get(await this.deps.resolve(target.ref, options), options);
      where = { kind: s.kind, channel: s.channel };
    }
    return commandAllowed(command, settings, { ...where, sender: message.sender ?? null }) ? command : null;
  }

  /** Runs a command `commandOf` returned and says what it did. */
  async run(target: AppendTarget, message: NewMessage, command: ChatCommand, options: WriteOptions = {}): Promise<AppendResult> {
    let routed: Routed;
    if ("inbound" in target) routed = await this.router.route(target.inbound, options);
    else routed = { session: await this.deps.get(await this.deps.resolve(target.ref, options), options), created: false };
    let session = routed.session;
    let started = routed.started ?? null;
    let created = routed.created;
    let outcome: CommandOutcome;
    switch (command.name) {
      case "new":
      case "reset": {
        if (session.key.startsWith("isolated:")) {
          // Found by its id (a one-off task, a conversation, a response chain), never by key: a fresh
          // session under the same key would be unreachable for the client, so nothing is ended.
          outcome = { name: command.name, reply: "Nothing was reset: this session is addressed by its id, not by a routing key. Start a new conversation instead.", previousId: null };
          break;
        }
        let previousId: string | null = null;
        // A key routed to a session just made for this message is fresh already.
        if (!routed.created) {
          const next = await this.router.reset(session, options);
          previousId = session.id;
          session = next.session;
          created = next.created;
          started = next.started ?? { reason: "reset by command", previousId, carriedOver: false };
        }
        const model = command.name === "new" ? command.model : null;
        if (model !== null) session = await editSession(this.ctx, this.writer, session.id, { set: { model } }, options);
        const carried = started?.carriedOver === true ? " Settings were carried over from the previous session." : "";
        outcome = {
          name: command.name,
          reply: `New session started.${carried}${model !== null ? ` Model: ${model}.` : ""}`,
          previousId,
          ...(model !== null ? { model } : {}),
        };
        break;
      }
      case "compact": {
        const r = await this.deps.foldNow(session.id, { ...options, ...(command.focus !== null ? { focus: command.focus } : {}) });
        session = r.session;
        const what = r.folded === 0 ? "Nothing to compact: the history is already short." : `Compacted: ${r.folded} message${r.folded === 1 ? "" : "s"} folded into the summary.`;
        outcome = { name: "compact", reply: r.error === null ? what : `${what} (${r.error})`, folded: r.folded };
        break;
      }
      case "status":
        outcome = { name: "status", reply: await this.status(session) };
        break;
    }
    const received: Message = { id: this.ctx.newId(), role: "user", content: message.content, sender: message.sender ?? null, createdAt: this.ctx.now().toISOString(), tokens: 0, pinned: false };
    return { session, message: received, duplicate: false, created, started: created ? started : null, compactionError: null, command: outcome };
  }

  private async status(session: Session): Promise<string> {
    const usage = await this.deps.usage(session);
    const model = sessionModel(this.ctx.config, session.preferences);
    const age = ago(this.ctx.now().getTime() - Date.parse(session.createdAt));
    const reset = this.deps.resetOf(session);
    const resets = reset.at === null ? `never resets (${describePolicy(reset.policy)})` : `resets ${reset.at} (${describePolicy(reset.policy)})`;
    return [
      `Session ${session.id} (${session.key})`,
      `Model: ${model}`,
      `Context: ${usage.tokens.total.toLocaleString("en-US")} of ${usage.window.toLocaleString("en-US")} tokens (${usage.percentOfWindow}%), ${usage.messageCount} messages, ${usage.compactions} compaction${usage.compactions === 1 ? "" : "s"}`,
      `Age: ${age} (started ${session.createdAt}); ${resets}`,
    ].join("\n");
  }
}

function ago(ms: number): string {
  const min = Math.max(0, Math.floor(ms / 60_000));
  if (min < 60) return `${min} min`;
  if (min < 1440) return `${Math.floor(min / 60)} h ${min % 60} min`;
  return `${Math.floor(min / 1440)} d ${Math.floor((min % 1440) / 60)} h`;
}
