/** The in-chat commands the session layer answers itself, without the model. */
export type ChatCommand =
  /** A fresh session for the key (carry-over applies), optionally on another model. */
  | { name: "new"; model: string | null }
  /** A fresh session for the key (carry-over applies). */
  | { name: "reset" }
  /** Folds the session's old turns into its summary now, with an optional focus for the summarizer. */
  | { name: "compact"; focus: string | null }
  /** The session's context use, model and age. */
  | { name: "status" };

/** `sessions.commands` as the rules below read it. */
export interface CommandSettings {
  enabled: boolean;
  new: boolean;
  reset: boolean;
  compact: boolean;
  status: boolean;
  groupSenders: "*" | readonly string[];
}

// A model name is one word; "/new" followed by a sentence is a message that happens to start with it.
const MODEL_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;

/**
 * The command a message is, or null: the whole message (surrounding
 * whitespace aside) must be `/new`, `/new <model>`, `/reset`,
 * `/compact [focus]` or `/status`. Anything else is an ordinary message.
 */
export function parseCommand(content: string): ChatCommand | null {
  const text = content.trim();
  const m = /^\/(new|reset|compact|status)(?:\s+([\s\S]+))?$/.exec(text);
  if (m === null) return null;
  const arg = m[2]?.trim() ?? "";
  switch (m[1]) {
    case "new":
      if (arg === "") return { name: "new", model: null };
      return MODEL_RE.test(arg) ? { name: "new", model: arg } : null;
    case "reset":
      return arg === "" ? { name: "reset" } : null;
    case "status":
      return arg === "" ? { name: "status" } : null;
    default:
      return { name: "compact", focus: arg === "" ? null : arg };
  }
}

/**
 * True when `settings` let this sender use `command` in a session of this
 * kind: commands on, that one on, and in a group, a sender the operator
 * allowed (`groupSenders`, by `userId` or `channel:userId`).
 */
export function commandAllowed(command: ChatCommand, settings: CommandSettings, where: { kind: string; channel: string; sender: string | null }): boolean {
  if (!settings.enabled || !settings[command.name]) return false;
  if (where.kind !== "group" || settings.groupSenders === "*") return true;
  const sender = where.sender;
  if (sender === null) return false;
  return settings.groupSenders.includes(sender) || settings.groupSenders.includes(`${where.channel.toLowerCase()}:${sender}`);
}
