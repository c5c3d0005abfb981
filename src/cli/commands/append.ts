import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import type { NewMessage } from "../../manager/_message.js";
import type { ToolCall } from "../../session/types.js";
import { OpenclawError } from "../../errors.js";
import type { Inbound } from "../../routing/route.js";
import type { AppendResult } from "../../manager/append.js";
import { withManager } from "../_context.js";
import { readStdin } from "../_io.js";
import { print, printJson, visible, warn } from "../_render.js";
import { UsageError } from "../_usage.js";

/** Flags of `sessions append`. */
export interface AppendFlags {
  dm?: { channel: string; id: string };
  group?: { channel: string; id: string };
  from?: string;
  isolated?: string;
  /** A webhook's own session (hook:NAME). */
  hook?: string;
  /** A job run's session (job:NAME:RUN). */
  job?: string;
  /** With --job: the run id (default: a new one, so a new session). */
  run?: string;
  session?: string;
  role: "user" | "assistant" | "system" | "tool";
  /** With --role tool: the id of the call this result answers. */
  callId?: string;
  /** With --role assistant: NAME ARGS_JSON pairs, flattened (repeatable --tool-call). */
  toolCall?: string[];
  /** With --dm or --group: the thread inside it. */
  thread?: string;
  /** With --dm or --group: the bot account that received the message. */
  account?: string;
  /** With --dm or --group: the sender's display name, kept in the session's origin. */
  displayName?: string;
  /** With --group: the group's subject, kept in the session's origin. */
  subject?: string;
  pin?: boolean;
  clientId?: string;
  /** With --role assistant: the model call's usage, INPUT:OUTPUT tokens. */
  usage?: { input: number; output: number };
  /** False (--no-commands): a message such as "/new" is recorded as it is, not run as an in-chat command. */
  commands?: boolean;
  json?: boolean;
}

// The channel and sender recorded for isolated sessions started from a terminal.
const CLI_IDENTITY = "cli";

/** `openclaw sessions append`: records one message without calling any model. */
export async function runAppend(textArg: string, flags: AppendFlags, cmd: Command): Promise<void> {
  const inbound = target(flags);
  const content = textArg === "-" ? stripFinalNewline(await readStdin()) : textArg;
  if (content === "") throw new OpenclawError("INVALID_ARGUMENT", "the message text is empty; nothing was recorded");
  const extra = {
    ...(flags.pin ? { pinned: true } : {}),
    ...(flags.clientId !== undefined ? { clientMessageId: flags.clientId } : {}),
    ...toolFields(flags),
  };
  // The command ends right after recording: it waits for the fold the message makes due, so it can say how that went.
  const options = { waitForFold: true, ...(flags.usage === undefined ? {} : { usage: flags.usage }) };
  const result = await withManager(cmd, async (m) => {
    if (inbound === null) {
      const message: NewMessage = { role: flags.role, content, sender: flags.from ?? null, ...extra };
      return m.record({ ref: flags.session ?? "" }, message, { ...options, commands: flags.commands !== false });
    }
    // An implicit sender (the DM's user, "cli") only speaks for user messages; --from is always honoured.
    const sender = flags.from ?? (flags.role === "user" ? inbound.senderId : null);
    return m.record({ inbound }, { role: flags.role, content, sender, ...extra }, { ...options, commands: flags.commands !== false });
  });
  // The command's answer goes to stderr, so stdout stays the session id a script reads.
  if (result.command !== undefined) process.stderr.write(`${visible(result.command.reply, true)}\n`);
  if (result.compactionError !== null) warn(`${result.compactionError}; the message is stored`);
  const started = result.started;
  if (started !== null && started.previousId !== null) {
    // Said on stderr, so scripts reading the id on stdout are unaffected.
    const carried = started.carriedOver ? "; its preferences, tool policy and system prompts were carried over" : "";
    process.stderr.write(`note: started a new session for ${visible(result.session.key)}: the ${started.reason} (${started.previousId})${carried}\n`);
  }
  if (flags.json) {
    printJson(appendResult(result));
    return;
  }
  print(visible(result.session.id));
}

/** What `append --json` prints. */
export function appendResult(r: AppendResult): Record<string, unknown> {
  const s = r.session;
  const calls = r.message.toolCalls?.map((c) => ({ id: c.id, name: c.name }));
  return {
    id: s.id,
    key: s.key,
    status: s.status,
    messageCount: s.messages.length,
    messageId: r.message.id,
    duplicate: r.duplicate,
    // The ids a tool result must name with --call-id.
    ...(calls !== undefined ? { toolCalls: calls } : {}),
    ...(r.started !== null ? { started: r.started } : {}),
    ...(r.command !== undefined ? { command: r.command } : {}),
  };
}

function target(flags: AppendFlags): Inbound | null {
  const given = [
    flags.dm && "--dm",
    flags.group && "--group",
    flags.isolated !== undefined && "--isolated",
    flags.hook !== undefined && "--hook",
    flags.job !== undefined && "--job",
    flags.session !== undefined && "--session",
  ].filter((x): x is string => typeof x === "string");
  if (given.length !== 1) {
    const what = given.length === 0 ? "no target given" : `${given.join(" and ")} given together`;
    throw new UsageError(`${what}: use exactly one of --dm CHANNEL:USER, --group CHANNEL:GROUP --from USER, --isolated NAME, --hook NAME, --job NAME [--run ID], --session REF`);
  }
  if (flags.run !== undefined && flags.job === undefined) throw new UsageError("--run only applies with --job");
  if (flags.group !== undefined && flags.from === undefined) throw new UsageError("--group needs --from USER: the member who sent the message");
  if (flags.from !== undefined && (flags.dm !== undefined || flags.isolated !== undefined || flags.hook !== undefined || flags.job !== undefined)) {
    throw new UsageError("--from only applies with --group or --session");
  }
  for (const [flag, value] of [
    ["--thread", flags.thread],
    ["--account", flags.account],
    ["--display-name", flags.displayName],
    ["--subject", flags.subject],
  ] as const) {
    if (value !== undefined && flags.dm === undefined && flags.group === undefined) throw new UsageError(`${flag} only applies with --dm or --group`);
  }
  const thread = {
    ...(flags.thread !== undefined ? { threadId: flags.thread } : {}),
    ...(flags.account !== undefined ? { accountId: flags.account } : {}),
    ...(flags.displayName !== undefined ? { displayName: flags.displayName } : {}),
    ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
  };
  if (flags.dm !== undefined) return { channel: flags.dm.channel, senderId: flags.dm.id, ...thread };
  if (flags.group !== undefined) return { channel: flags.group.channel, senderId: flags.from ?? "", groupId: flags.group.id, ...thread };
  if (flags.isolated !== undefined) return { channel: CLI_IDENTITY, senderId: CLI_IDENTITY, isolated: flags.isolated };
  if (flags.hook !== undefined) return { channel: "hook", senderId: CLI_IDENTITY, hook: flags.hook };
  if (flags.job !== undefined) return { channel: "job", senderId: CLI_IDENTITY, job: { name: flags.job, ...(flags.run !== undefined ? { run: flags.run } : {}) } };
  return null;
}

/** The tool fields of the message: --call-id for --role tool, --tool-call pairs for --role assistant. */
function toolFields(flags: AppendFlags): Pick<NewMessage, "toolCalls" | "toolCallId"> {
  if (flags.role === "tool" && flags.callId === undefined) throw new UsageError("--role tool needs --call-id ID: the id of the tool call this result answers");
  if (flags.callId !== undefined && flags.role !== "tool") throw new UsageError("--call-id only applies with --role tool");
  const pairs = flags.toolCall ?? [];
  if (pairs.length > 0 && flags.role !== "assistant") throw new UsageError("--tool-call only applies with --role assistant");
  const toolCalls: ToolCall[] = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i] ?? "";
    const args = pairs[i + 1] ?? "";
    try {
      JSON.parse(args);
    } catch {
      throw new UsageError(`--tool-call ${name}: ARGS_JSON is not valid JSON: ${args}`);
    }
    toolCalls.push({ id: `call_${randomBytes(12).toString("hex")}`, name, arguments: args });
  }
  return { ...(flags.callId !== undefined ? { toolCallId: flags.callId } : {}), ...(toolCalls.length > 0 ? { toolCalls } : {}) };
}

// `echo text | openclaw sessions append … -` should record "text", not "text\n".
function stripFinalNewline(text: string): string {
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}
