// Values the schemas and the types both need, apart from either so neither imports the other.

/** Current version of the persisted session document. */
export const SESSION_FORMAT_VERSION = 2 as const;

/** Session kinds: one per user per channel, one shared per group, or isolated. */
export const SESSION_KINDS = ["dm", "group", "isolated"] as const;
/** Lifecycle states; see session/lifecycle.ts for the transitions. */
export const SESSION_STATUSES = ["created", "active", "expired", "archived"] as const;
/** Message roles, as a chat-completions API understands them. */
export const MESSAGE_ROLES = ["system", "user", "assistant", "tool"] as const;

/** A session kind. */
export type SessionKind = (typeof SESSION_KINDS)[number];
/** A lifecycle status. */
export type SessionStatus = (typeof SESSION_STATUSES)[number];
/** A message role. */
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Any JSON value (preferences hold these). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
