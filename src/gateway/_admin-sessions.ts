import { Hono, type Context } from "hono";
import { DEFAULT_LIMIT, listItem } from "../cli/commands/list.js";
import { isOpenclawError, OpenclawError } from "../errors.js";
import type { SessionEdit } from "../manager/types.js";
import { assertSegment, parseKey } from "../session/keys.js";
import type { JsonValue, Session, SessionKind, SessionStatus } from "../session/types.js";
import type { GatewayDeps } from "./_deps.js";
import { badRequest, optString, readJson } from "./_http.js";
import { noteAudit } from "./_audit.js";
import { noteSessions } from "./_request-log.js";
import { choiceParam, flagParam, guarded, intParam, onlyFields, optStrings, queryOf, refParam, textParam } from "./_admin-params.js";

/** Bound on `limit` and `offset`, only so a number parses exactly: like `sessions list --limit`, a page may be as large as the caller asks. */
export const MAX_COUNT = 1e9;

const STATUSES: readonly (SessionStatus | "all")[] = ["created", "active", "expired", "archived", "all"];
const KINDS: readonly SessionKind[] = ["dm", "group", "isolated"];
const EDIT_FIELDS = ["set", "unset", "allow", "deny", "removeAllow", "removeDeny", "system", "label"] as const;

/**
 * `/sessions` and `/sessions/{ref}` (list, show, edit, delete) and the
 * session actions (clear, compact, archive, unarchive, export): the CLI's
 * commands over HTTP, with its rules and its `--json` shapes.
 */
export function sessionsRouter(deps: GatewayDeps): Hono {
  const { manager } = deps;
  const app = new Hono();

  app.get(
    "/sessions",
    guarded(async (c) => {
      const q = queryOf(c, ["status", "kind", "channel", "key", "active", "limit", "offset"]);
      const status = choiceParam(q, "status", STATUSES);
      const kind = choiceParam(q, "kind", KINDS);
      const channel = textParam(q, "channel");
      if (channel !== undefined) assertSegment("channel", channel);
      const key = textParam(q, "key");
      if (key !== undefined) parseKey(key);
      const active = intParam(q, "active", 1, MAX_COUNT);
      const limit = intParam(q, "limit", 1, MAX_COUNT) ?? DEFAULT_LIMIT;
      const offset = intParam(q, "offset", 0, MAX_COUNT) ?? 0;
      const page = await manager.list({
        ...(status !== undefined ? { status } : {}),
        ...(kind !== undefined ? { kind } : {}),
        ...(channel !== undefined ? { channel } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(active !== undefined ? { activeWithinMinutes: active } : {}),
        limit,
        offset,
        signal: deps.shutdown,
      });
      return c.json({ sessions: page.items.map(listItem), count: page.items.length, total: page.total, hasMore: offset + page.items.length < page.total });
    }),
  );

  app.get(
    "/sessions/:ref",
    guarded(async (c) => {
      const all = flagParam(queryOf(c, ["all"]), "all");
      const session = await manager.get(refParam(c), { signal: deps.shutdown });
      if (!all) return c.json(session);
      return c.json({ ...session, prunedHistory: await manager.prunedHistory(session.id) });
    }),
  );

  app.patch(
    "/sessions/:ref",
    guarded(async (c) => {
      queryOf(c, []);
      const ref = refParam(c);
      const changes = editOf(await readJson(c, deps.maxBodyBytes));
      noteAudit(c, { changes: changedFields(changes) });
      const edited = await manager.edit(ref, changes, { signal: deps.shutdown });
      noteSessions(c, [{ id: edited.id, key: edited.key }]);
      return c.json(edited);
    }),
  );

  app.delete(
    "/sessions/:ref",
    guarded(async (c) => {
      const dryRun = flagParam(queryOf(c, ["dryRun"]), "dryRun");
      let targets = await manager.planDelete({ refs: [refParam(c)] });
      noteSessions(c, targets);
      noteAudit(c, { dryRun });
      const id = targets[0]?.id;
      // Not in the middle of a turn: its reply would land in a session that no longer exists.
      if (!dryRun && id !== undefined) targets = await deps.turns.exclusive(id, () => manager.deleteSessions(targets, { signal: deps.shutdown }));
      return c.json({ dryRun, deleted: targets, count: targets.length });
    }),
  );

  app.post(
    "/sessions/:ref/clear",
    guarded(async (c) => {
      queryOf(c, []);
      const session = await manager.get(refParam(c), { signal: deps.shutdown });
      noteSessions(c, [session]);
      // After a running turn, so its reply is cleared too rather than left alone in an empty history.
      const report = await deps.turns.exclusive(session.id, () => manager.clear(session.id, { signal: deps.shutdown }));
      return c.json({ ...report, key: session.key });
    }),
  );

  app.post(
    "/sessions/:ref/compact",
    guarded(async (c) => {
      const dryRun = flagParam(queryOf(c, ["dryRun"]), "dryRun");
      // A well-formed id resolves without a lookup: check it exists, so a typo is a 404 and not an empty report.
      const session = await manager.get(refParam(c), { signal: deps.shutdown });
      noteSessions(c, [session]);
      noteAudit(c, { dryRun });
      return c.json(await manager.compact({ refs: [session.id], ...(dryRun ? { dryRun: true } : {}), signal: deps.shutdown }));
    }),
  );

  for (const action of ["archive", "unarchive"] as const) {
    app.post(
      `/sessions/:ref/${action}`,
      guarded(async (c) => {
        queryOf(c, []);
        const id = await manager.resolve(refParam(c), { signal: deps.shutdown });
        noteSessions(c, [{ id }]);
        // After a running turn: an archived session refuses the turn's reply.
        const done = await deps.turns.exclusive(id, () => manager.setArchived([id], action, { signal: deps.shutdown }));
        const sessions = done.map((s: Session) => ({ id: s.id, key: s.key, status: s.status }));
        noteSessions(c, sessions);
        return c.json({ sessions, count: sessions.length });
      }),
    );
  }

  app.get(
    "/sessions/:ref/export",
    guarded(async (c) => {
      queryOf(c, []);
      const envelope = await manager.exportSessions([refParam(c)], { signal: deps.shutdown });
      const id = envelope.sessions[0]?.id ?? "session";
      return attachment(c, `${JSON.stringify(envelope, null, 2)}\n`, `openclaw-session-${id}.json`);
    }),
  );

  return app;
}

/** A JSON download, byte for byte what `sessions export` prints. */
function attachment(c: Context, text: string, filename: string): Response {
  return c.body(text, 200, { "content-type": "application/json; charset=utf-8", "content-disposition": `attachment; filename="${filename}"` });
}

/**
 * The PATCH body as a manager edit, checked the way `sessions set` checks
 * its flags: something to change, no key both set and unset, no pattern
 * both allowed and denied. Keys and patterns are checked by the manager.
 */
export function editOf(body: Record<string, unknown>): SessionEdit {
  onlyFields(body, EDIT_FIELDS);
  const rawSet = body.set;
  if (rawSet !== undefined && rawSet !== null && (typeof rawSet !== "object" || Array.isArray(rawSet))) throw badRequest("set must be an object of preference names to JSON values");
  const set = (rawSet ?? {}) as Record<string, JsonValue>;
  const unset = optStrings(body, "unset") ?? [];
  const allow = optStrings(body, "allow") ?? [];
  const deny = optStrings(body, "deny") ?? [];
  const removeAllow = optStrings(body, "removeAllow") ?? [];
  const removeDeny = optStrings(body, "removeDeny") ?? [];
  const system = optString(body, "system");
  const label = optString(body, "label");
  if (Object.keys(set).length + unset.length + allow.length + deny.length + removeAllow.length + removeDeny.length === 0 && system === undefined && label === undefined) {
    throw badRequest(`nothing to change: give ${EDIT_FIELDS.join(", ")}`);
  }
  for (const key of unset) if (key in set) throw badRequest(`preference ${key} is both set and unset`);
  for (const p of allow) if (deny.includes(p)) throw badRequest(`tool pattern ${p} is both allowed and denied`);
  return { set, unset, allow, deny, removeAllow, removeDeny, ...(system !== undefined ? { system } : {}), ...(label !== undefined ? { label } : {}) };
}

/** Which parts of a session an edit touches, by name (preference names, never values), for the audit trail. */
function changedFields(e: SessionEdit): string[] {
  const out: string[] = [];
  for (const k of Object.keys(e.set ?? {})) out.push(`set:${k}`);
  for (const k of e.unset ?? []) out.push(`unset:${k}`);
  if ((e.allow?.length ?? 0) + (e.deny?.length ?? 0) + (e.removeAllow?.length ?? 0) + (e.removeDeny?.length ?? 0) > 0) out.push("tools");
  if (e.system !== undefined) out.push("system");
  if (e.label !== undefined) out.push("label");
  return out;
}

/** Rewords the CLI's flag hint in an import refusal for an HTTP caller. */
export function forHttp(err: unknown): unknown {
  if (!isOpenclawError(err) || (err.code !== "ALREADY_EXISTS" && err.code !== "INVALID_ARGUMENT")) return err;
  const message = err.message
    .replace("use --overwrite", "add ?overwrite=1")
    .replace("--skip-existing", "?skipExisting=1")
    .replace(/--as-archived/g, "?asArchived=1")
    .replace(/--replace-live/g, "?replaceLive=1")
    .replace("--overwrite and", "overwrite and");
  return new OpenclawError(err.code, message, { cause: err });
}
