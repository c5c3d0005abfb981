import { Hono } from "hono";
import { parseExport } from "../session/export.js";
import { clashPolicy } from "../session/live-keys.js";
import type { GatewayDeps } from "./_deps.js";
import { auditTrail, noteAudit } from "./_audit.js";
import { noteSessions } from "./_request-log.js";
import { eventsHandler } from "./_admin-events.js";
import { messagesRouter } from "./_admin-messages.js";
import { choiceParam, flagParam, guarded, queryOf, textParam } from "./_admin-params.js";
import { badRequest } from "./_http.js";
import { USAGE_GROUPINGS } from "../manager/usage.js";
import { readJsonText } from "./_http.js";
import { forHttp, sessionsRouter } from "./_admin-sessions.js";

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `since` as the CLI takes it (30m, 12h, 7d, 2w), in milliseconds. */
function durationMs(raw: string): number {
  const m = /^(\d{1,9})([smhdw])$/.exec(raw);
  const ms = m === null ? 0 : Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  if (ms <= 0) throw badRequest(`since must be a duration such as 30m, 12h or 7d, got ${JSON.stringify(raw)}`);
  return ms;
}

/**
 * The admin API under `/admin` (behind the bearer token): the CLI's
 * operations over HTTP with its rules and its `--json` shapes — sessions
 * (list, show, edit, delete, messages, context, clear, compact, archive,
 * unarchive, export), import (with the CLI's flags as query parameters:
 * overwrite, skipExisting, asArchived, replaceLive), status, usage, prune — and the
 * change-event stream.
 */
export function adminRouter(deps: GatewayDeps): Hono {
  const { manager } = deps;
  const app = new Hono();
  // Before the routes: every change through /admin leaves an audit line, refused ones included.
  app.use("*", auditTrail(deps.log));
  app.route("/", sessionsRouter(deps));
  app.route("/", messagesRouter(deps));

  app.post(
    "/import",
    guarded(async (c) => {
      const q = queryOf(c, ["overwrite", "skipExisting", "asArchived", "replaceLive"]);
      const [overwrite, skipExisting, asArchived, replaceLive] = (["overwrite", "skipExisting", "asArchived", "replaceLive"] as const).map((name) => flagParam(q, name));
      // The whole document is read and checked before the store is touched: a refused import writes nothing.
      const envelope = parseExport(await readJsonText(c, deps.maxBodyBytes, "the export document"), "request body");
      noteSessions(
        c,
        envelope.sessions.map((s) => ({ id: s.id, key: s.key })),
      );
      noteAudit(c, { overwrite });
      try {
        const clashes = clashPolicy({ asArchived: asArchived === true, replaceLive: replaceLive === true });
        const report = await manager.importSessions(envelope, { overwrite: overwrite === true, skipExisting: skipExisting === true, clashes, source: "the request body", signal: deps.shutdown });
        return c.json({ ...report, count: report.imported.length + report.overwritten.length });
      } catch (err) {
        throw forHttp(err);
      }
    }),
  );

  app.get(
    "/status",
    guarded(async (c) => {
      const verbose = flagParam(queryOf(c, ["verbose"]), "verbose");
      const report = await manager.status({ verbose, signal: deps.shutdown });
      return c.json({ ...report, stateDirSource: manager.location.stateDirSource, configPathSource: manager.location.configPathSource });
    }),
  );

  app.post(
    "/prune",
    guarded(async (c) => {
      // `sessions prune --json` over HTTP, with the config's rules (no overrides: the rules are the operator's).
      const dryRun = flagParam(queryOf(c, ["dryRun"]), "dryRun");
      noteAudit(c, { dryRun });
      const report = await manager.prune({ dryRun, signal: deps.shutdown });
      noteSessions(
        c,
        report.deleted.map((t) => ({ id: t.id, key: t.key })),
      );
      return c.json({ ...report, count: report.deleted.length });
    }),
  );

  app.get(
    "/usage",
    guarded(async (c) => {
      const q = queryOf(c, ["by", "since"]);
      const by = choiceParam(q, "by", USAGE_GROUPINGS);
      const since = textParam(q, "since");
      const sinceMs = since === undefined ? undefined : durationMs(since);
      return c.json(await manager.usage({ ...(by !== undefined ? { by } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}), signal: deps.shutdown }));
    }),
  );

  const events = eventsHandler(deps);
  app.get(
    "/events",
    guarded(async (c) => events(c)),
  );
  return app;
}
