import { MESSAGE_ROLES, SESSION_FORMAT_VERSION, SESSION_KINDS, SESSION_STATUSES } from "./constants.js";
import type { Message, Session } from "./types.js";

// The read path's check of the persisted format, without zod: a process that
// only reads sessions (get, export, search) never loads the 12 MiB zod takes.
// It accepts exactly what session/schema.ts accepts and returns the same
// document (unknown keys left out); a test holds the two to each other on
// valid documents and on thousands of damaged ones. Writes still go through
// the zod schemas. A value with nothing to leave out is returned as parsed,
// not copied: JSON.parse's objects are the most compact a process can hold.

/** One reason a stored value is refused: where (keys and indexes) and what. */
export interface StoredIssue {
  path: readonly (string | number)[];
  message: string;
}

/** Outcome of a check: the value in the current format (unknown keys left out), or the issues found. */
export type StoredCheck<T> = { success: true; data: T } | { success: false; issues: StoredIssue[] };

/** Format versions this build reads. */
export const READABLE_VERSIONS: readonly number[] = [1, SESSION_FORMAT_VERSION];

const FAIL = Symbol("fail");
type Out = unknown;
type Rule = (c: Checker, v: unknown) => Out;

class Checker {
  readonly issues: StoredIssue[] = [];
  private readonly path: (string | number)[] = [];
  fail(message: string): typeof FAIL {
    this.issues.push({ path: [...this.path], message });
    return FAIL;
  }
  at(key: string | number, rule: Rule, v: unknown): Out {
    // Rules do not throw (a bug that did would end the check, so the path need not be restored then).
    this.path.push(key);
    const out = rule(this, v);
    this.path.pop();
    return out;
  }
}

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
const expected = (c: Checker, what: string, v: unknown) => c.fail(`expected ${what}, received ${kindOf(v)}`);

const str =
  (min = 0, max = Number.POSITIVE_INFINITY): Rule =>
  (c, v) => {
    if (typeof v !== "string") return expected(c, "string", v);
    if (v.length < min) return c.fail(`too short: expected at least ${min} characters`);
    if (v.length > max) return c.fail(`too long: expected at most ${max} characters`);
    return v;
  };
const anyStr = str();
const count: Rule = (c, v) => {
  if (typeof v !== "number" || !Number.isFinite(v)) return expected(c, "number", v);
  if (!Number.isInteger(v)) return c.fail("expected an integer");
  if (!Number.isSafeInteger(v)) return c.fail("too big: expected a safe integer");
  return v < 0 ? c.fail("too small: expected a number ≥ 0") : v;
};
const bool: Rule = (c, v) => (typeof v === "boolean" ? v : expected(c, "boolean", v));
const oneOf =
  (values: readonly (string | number)[]): Rule =>
  (c, v) =>
    values.includes(v as string) ? v : c.fail(`invalid option: expected one of ${values.map((x) => JSON.stringify(x)).join("|")}`);

const ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:Z|[+-](\d\d):(\d\d))$/;
/** An RFC 3339 date-time with seconds and a Z or ±hh:mm offset, on a real calendar day. */
export function isIsoDateTime(v: string): boolean {
  const m = ISO.exec(v);
  if (m === null) return false;
  const [y, mo, d, h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  if (d <= 28) return true;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return d <= (mo === 2 ? (leap ? 29 : 28) : (DAYS_IN_MONTH[mo - 1] ?? 0));
}
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;
const isoDate: Rule = (c, v) => (typeof v !== "string" ? expected(c, "string", v) : isIsoDateTime(v) ? v : c.fail("invalid ISO datetime"));
const nullable =
  (rule: Rule): Rule =>
  (c, v) =>
    v === null ? null : rule(c, v);
const arrayOf =
  (rule: Rule, max = Number.POSITIVE_INFINITY): Rule =>
  (c, v) => {
    if (!Array.isArray(v)) return expected(c, "array", v);
    const out: Out[] = new Array<Out>(v.length);
    let ok = true;
    let same = true;
    for (let i = 0; i < v.length; i++) {
      const item: unknown = v[i];
      const r = c.at(i, rule, item);
      if (r === FAIL) ok = false;
      else out[i] = r;
      same &&= r === item;
    }
    if (v.length > max) return c.fail(`too big: expected at most ${max} items`);
    // Nothing left out anywhere inside: the array as parsed, which is as compact as it gets.
    return !ok ? FAIL : same ? v : out;
  };

type Shape = Record<string, { rule: Rule; optional?: boolean }>;
const req = (rule: Rule) => ({ rule });
const opt = (rule: Rule) => ({ rule, optional: true });
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** An object with the shape's keys, in the shape's order; keys the shape does not name are left out. */
const required: Rule = (c) => c.fail("required");
const object = (shape: Shape): Rule => {
  const fields = Object.entries(shape).map(([key, { rule, optional }]) => ({ key, rule, optional: optional === true }));
  return (c, v) => {
    if (!isPlainObject(v)) return expected(c, "object", v);
    const out: Record<string, Out> = {};
    const keys = Object.keys(v);
    let ok = true;
    let same = true;
    // How many of the shape's keys the value holds; `same` stays true only while they come in the shape's order.
    let present = 0;
    for (const { key, rule, optional } of fields) {
      const value = v[key];
      if (value === undefined && optional) continue;
      if (keys[present++] !== key) same = false;
      const r = c.at(key, value === undefined ? required : rule, value);
      if (r === FAIL) ok = false;
      else out[key] = r;
      same &&= r === value;
    }
    // No unknown key, keys in the format's order, nothing changed inside: the object as parsed (compact, no copy to make).
    return !ok ? FAIL : same && keys.length === present ? v : out;
  };
};

const jsonValue: Rule = (c, v) => {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : expected(c, "a JSON value", v);
  if (Array.isArray(v)) return arrayOf(jsonValue)(c, v);
  if (isPlainObject(v)) return recordOf(jsonValue)(c, v);
  return expected(c, "a JSON value", v);
};
const recordOf =
  (rule: Rule): Rule =>
  (c, v) => {
    if (!isPlainObject(v)) return expected(c, "record", v);
    const out: Record<string, Out> = {};
    let ok = true;
    let same = true;
    for (const [key, value] of Object.entries(v)) {
      // A key named __proto__ is left out, as the write path's schema leaves it out of what it saves.
      if (key === "__proto__") {
        same = false;
        continue;
      }
      const r = c.at(key, rule, value);
      if (r === FAIL) ok = false;
      else out[key] = r;
      same &&= r === value;
    }
    return !ok ? FAIL : same ? v : out;
  };

const id64 = str(1, 64);
const name256 = str(1, 256);
const toolCall = object({ id: req(name256), name: req(name256), arguments: req(anyStr) });
const messageUsage = object({ input: req(count), output: req(count), total: req(count), estimated: opt(bool) });
const sessionUsage = object({
  input: req(count),
  output: req(count),
  total: req(count),
  turns: req(count),
  estimatedTurns: req(count),
  lastContextTokens: req(count),
  lastTurnAt: req(nullable(isoDate)),
});
const message = object({
  id: req(id64),
  role: req(oneOf(MESSAGE_ROLES)),
  content: req(anyStr),
  sender: req(nullable(anyStr)),
  createdAt: req(isoDate),
  tokens: req(count),
  pinned: req(bool),
  toolCalls: opt(arrayOf(toolCall)),
  toolCallId: opt(name256),
  clientId: opt(name256),
  usage: opt(messageUsage),
  channel: opt(str(1, 128)),
});
const systemPrompt = object({ id: req(id64), content: req(anyStr), tokens: req(count), createdAt: req(isoDate) });
const summary = object({ text: req(anyStr), tokens: req(count), messageCount: req(count), throughMessageId: req(nullable(anyStr)), updatedAt: req(isoDate), summarizer: req(anyStr) });
const toolPolicy = object({ allow: req(arrayOf(name256)), deny: req(arrayOf(name256)) });
const contextFields: Shape = {
  model: req(nullable(anyStr)),
  window: req(nullable(count)),
  tokensInUse: req(count),
  compactions: req(count),
  lastCompactedAt: req(nullable(isoDate)),
  lastSummarizerError: req(nullable(anyStr)),
  lastSummarizerErrorAt: req(nullable(isoDate)),
  foldedClientIds: opt(arrayOf(name256, 256)),
  usage: opt(sessionUsage),
};
/** The times an append moves, in the order documents hold them. */
const activityFields: Shape = {
  updatedAt: req(isoDate),
  lastActivityAt: req(isoDate),
  expiredAt: req(nullable(isoDate)),
  archivedAt: req(nullable(isoDate)),
};
const origin = object({ channel: req(str(1, 128)), account: opt(str(1, 128)), displayName: opt(name256), subject: opt(name256) });
const sessionFields = (version: number, context: Rule): Shape => ({
  version: req(oneOf([version])),
  id: req(anyStr),
  revision: req(count),
  key: req(str(1, 1024)),
  kind: req(oneOf(SESSION_KINDS)),
  channel: req(str(1, 128)),
  participants: req(arrayOf(anyStr)),
  status: req(oneOf(SESSION_STATUSES)),
  createdAt: req(isoDate),
  ...activityFields,
  preferences: req(recordOf(jsonValue)),
  tools: req(toolPolicy),
  systemPrompts: req(arrayOf(systemPrompt)),
  summary: req(nullable(summary)),
  messages: req(arrayOf(message)),
  prunedCount: req(count),
  context: req(context),
  origin: opt(origin),
  label: opt(name256),
});
const sessionV2 = object(sessionFields(SESSION_FORMAT_VERSION, object(contextFields)));
const { lastSummarizerErrorAt: _dropped, ...contextV1Fields } = contextFields;
const sessionV1 = object(sessionFields(1, object(contextV1Fields)));

function run<T>(rule: Rule, value: unknown): StoredCheck<T> {
  const c = new Checker();
  const out = rule(c, value);
  return out === FAIL || c.issues.length > 0 ? { success: false, issues: c.issues } : { success: true, data: out as T };
}

/** Checks a stored document of any readable format and returns it in the current one (a format-1 document is upgraded, as when it is next written). */
export function checkStoredSession(value: unknown): StoredCheck<Session> {
  if (isPlainObject(value) && value.version === 1) {
    const v1 = run<Session>(sessionV1, value);
    if (!v1.success) return v1;
    return { success: true, data: { ...v1.data, version: SESSION_FORMAT_VERSION, context: { ...v1.data.context, lastSummarizerErrorAt: null } } };
  }
  return run<Session>(sessionV2, value);
}

/** Checks one stored message (the active history's or the pruned-history log's). */
export function checkStoredMessage(value: unknown): StoredCheck<Message> {
  return run<Message>(message, value);
}

/** The header fields an append may change (the store contract's HeaderChange). */
export type HeaderFields = Pick<Session, "status" | "updatedAt" | "lastActivityAt" | "expiredAt" | "archivedAt" | "participants" | "context">;

const headerChange = object({
  status: req(oneOf(SESSION_STATUSES)),
  ...activityFields,
  participants: req(arrayOf(anyStr)),
  context: req(object(contextFields)),
});

/**
 * Checks an append's header change as the write path's schema would (the
 * same fields, rules and order as the document's); an append validates what
 * came in with this instead of loading zod for every message.
 */
export function checkHeaderChange(value: unknown): StoredCheck<HeaderFields> {
  return run<HeaderFields>(headerChange, value);
}

/** The first issue, where it is, and how many more there are, on one line. */
export function describeStoredIssues(issues: readonly StoredIssue[]): string {
  const issue = issues[0];
  if (issue === undefined) return "invalid document";
  const path = issue.path.length === 0 ? "document" : issue.path.map(String).join(".");
  const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : "";
  return `${path}: ${issue.message}${more}`;
}
