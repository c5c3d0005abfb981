import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SessionManager } from "../../src/manager/manager.js";
import type { Message, Session } from "../../src/session/types.js";
import { runCli, snapshot } from "../helpers/cli-run.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

type Json = Record<string, unknown>;
type ErrorBody = { error: { message: string; type: string; code: string } };

describe("gateway: admin API answers like the CLI's --json", () => {
  let gw: GatewayProcess;
  const ids: Record<string, string> = {};

  const api = (path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> => {
    const { token, ...rest } = init;
    const headers: Record<string, string> = { ...(rest.headers as Record<string, string> | undefined) };
    if (token !== null) headers.authorization = `Bearer ${token ?? gw.token}`;
    if (rest.body !== undefined) headers["content-type"] = "application/json";
    return fetch(`${gw.url}${path}`, { ...rest, headers });
  };
  const call = async <T = Json>(path: string, init: RequestInit & { token?: string | null } = {}, status = 200): Promise<T> => {
    const r = await api(path, init);
    const text = await r.text();
    assert.equal(r.status, status, `${init.method ?? "GET"} ${path}: ${text}`);
    return JSON.parse(text) as T;
  };
  const refused = async (path: string, status: number, init: RequestInit & { token?: string | null } = {}): Promise<string> => {
    const body = await call<ErrorBody>(path, init, status);
    assert.equal(typeof body.error.message, "string");
    assert.ok(!body.error.message.includes("\n"), "one-line message");
    return body.error.message;
  };
  const cli = async (...args: string[]): Promise<string> => {
    const r = await runCli(["--state-dir", gw.stateDir, ...args], gw.home);
    assert.equal(r.code, 0, `openclaw ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const cliJson = async <T = Json>(...args: string[]): Promise<T> => JSON.parse(await cli(...args, "--json")) as T;
  const withoutHasMore = (body: Json): Json => {
    const { hasMore: _hasMore, ...rest } = body;
    return rest;
  };

  before(async () => {
    gw = await startGatewayProcess({ sessions: { maxHistoryLength: 4 } });
    // Seeded through the library on the same store, as another process would.
    const m = await SessionManager.open({ stateDir: gw.stateDir, warn: () => undefined });
    try {
      for (let i = 0; i < 4; i++) {
        const s = await m.receive({ channel: "telegram", senderId: "42" }, `question ${i}: the table for INV-${1000 + i}`);
        await m.record({ ref: s.id }, { role: "assistant", content: `answer ${i}: booked INV-${1000 + i}`, sender: null });
        ids.dm = s.id;
      }
      ids.group = (await m.receive({ channel: "slack", senderId: "alice", groupId: "C024BE91L" }, "standup at 10:00")).id;
      await m.receive({ channel: "slack", senderId: "bob", groupId: "C024BE91L" }, "room Aurora-2");
      ids.other = (await m.receive({ channel: "discord", senderId: "987" }, "hello from discord")).id;
      ids.archive = (await m.receive({ channel: "telegram", senderId: "archive-me" }, "to be archived")).id;
      ids.doomed = (await m.receive({ channel: "telegram", senderId: "doomed" }, "to be deleted")).id;
      ids.clear = (await m.receive({ channel: "telegram", senderId: "clear-me" }, "to be cleared")).id;
      ids.transfer = (await m.receive({ channel: "telegram", senderId: "transfer" }, "export me")).id;
    } finally {
      await m.close();
    }
  });
  after(async () => {
    assert.equal(await gw.stop(), 0, "SIGTERM exits 0");
  });

  it("GET /admin/sessions is `sessions list --json` plus hasMore, with its filters and paging", async () => {
    const all = await call("/admin/sessions");
    assert.equal(all.hasMore, false);
    assert.deepEqual(withoutHasMore(all), await cliJson("sessions", "list"));
    assert.equal(all.total, 7);
    for (const [query, flags] of [
      ["kind=dm", ["--kind", "dm"]],
      ["channel=slack", ["--channel", "slack"]],
      ["status=all", ["--status", "all"]],
      ["status=active&kind=group", ["--status", "active", "--kind", "group"]],
      ["active=60", ["--active", "60"]],
      ["limit=2", ["--limit", "2"]],
    ] as const) {
      assert.deepEqual(withoutHasMore(await call(`/admin/sessions?${query}`)), await cliJson("sessions", "list", ...flags), query);
    }
    // Like --limit, a page may be as large as asked.
    assert.deepEqual(withoutHasMore(await call("/admin/sessions?limit=100000")), await cliJson("sessions", "list", "--limit", "100000"));
    const byKey = await call<{ sessions: Array<{ id: string }>; total: number }>("/admin/sessions?key=dm:telegram:42");
    assert.deepEqual(
      byKey.sessions.map((s) => s.id),
      [ids.dm],
    );
    // Paging with offset walks the whole list exactly once.
    const full = (await cliJson<{ sessions: Array<{ id: string }> }>("sessions", "list")).sessions.map((s) => s.id);
    const seen: string[] = [];
    for (let offset = 0; ; offset += 3) {
      const page = await call<{ sessions: Array<{ id: string }>; count: number; total: number; hasMore: boolean }>(`/admin/sessions?limit=3&offset=${offset}`);
      assert.equal(page.count, page.sessions.length);
      assert.equal(page.total, 7);
      seen.push(...page.sessions.map((s) => s.id));
      if (!page.hasMore) break;
    }
    assert.deepEqual(seen, full);
    await refused("/admin/sessions?status=bogus", 400);
    await refused("/admin/sessions?limit=0", 400);
    await refused("/admin/sessions?limit=abc", 400);
    await refused("/admin/sessions?stauts=all", 400);
    await refused("/admin/sessions?key=..%2Fetc", 400);
  });

  it("GET /admin/sessions/{ref} is `sessions show --json`; ?all=1 adds the pruned history like --all", async () => {
    for (const ref of ["dm:telegram:42", ids.dm as string, (ids.dm as string).slice(0, 13)]) {
      assert.deepEqual(await call(`/admin/sessions/${ref}`), await cliJson("sessions", "show", ref));
    }
    const full = await call<Session & { prunedHistory: Message[] }>("/admin/sessions/dm:telegram:42?all=1");
    assert.deepEqual(full, await cliJson("sessions", "show", "dm:telegram:42", "--all"));
    assert.ok(full.prunedHistory.length > 0, "the seed folded old turns (maxHistoryLength 4)");
  });

  it("PATCH /admin/sessions/{ref} edits like `sessions set` and returns the document", async () => {
    const doc = await call<Session>("/admin/sessions/dm:telegram:42", {
      method: "PATCH",
      body: JSON.stringify({ set: { language: "fr", maxResults: 5, units: { distance: "km" } }, deny: ["shell.*"], system: "You are a concise assistant." }),
    });
    assert.deepEqual(doc, await cliJson("sessions", "show", "dm:telegram:42"));
    // The CLI making the same edit on another session gives the same settings.
    const viaCli = await cliJson<Pick<Session, "preferences" | "tools" | "systemPrompts">>(
      "sessions",
      "set",
      "dm:discord:987",
      "--pref",
      "language=fr",
      "--pref",
      "maxResults=5",
      "--pref",
      'units={"distance":"km"}',
      "--deny-tool",
      "shell.*",
      "--system",
      "You are a concise assistant.",
    );
    assert.deepEqual(doc.preferences, viaCli.preferences);
    assert.deepEqual(doc.tools, viaCli.tools);
    assert.deepEqual(
      doc.systemPrompts.map((p) => [p.content, p.tokens]),
      viaCli.systemPrompts.map((p) => [p.content, p.tokens]),
    );
    const next = await call<Session>("/admin/sessions/dm:telegram:42", { method: "PATCH", body: JSON.stringify({ unset: ["maxResults"], removeDeny: ["shell.*"], allow: ["web.*"] }) });
    assert.deepEqual(next.preferences, { language: "fr", units: { distance: "km" } });
    assert.deepEqual(next.tools.deny, []);
    assert.equal(next.systemPrompts[0]?.content, "You are a concise assistant.", "untouched");

    const before = await cli("sessions", "show", "dm:telegram:42", "--json");
    const patch = (body: string) => ({ method: "PATCH", body });
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch("{}")), /nothing to change/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"set":{"a":1},"unset":["a"]}')), /both set and unset/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"allow":["x"],"deny":["x"]}')), /both allowed and denied/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"prefs":{"a":1}}')), /unknown field "prefs"/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"set":[1]}')), /set must be an object/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"deny":"shell.*"}')), /deny must be an array/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"set":{"bad key":1}}')), /invalid preference key/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch('{"allow":["rm -rf"]}')), /invalid tool pattern/);
    assert.match(await refused("/admin/sessions/dm:telegram:42", 400, patch("{not json")), /not valid JSON/);
    assert.equal(await cli("sessions", "show", "dm:telegram:42", "--json"), before, "refused edits change nothing");
  });

  it("GET /admin/sessions/{ref}/messages pages through the whole history, folded messages included", async () => {
    const doc = await cliJson<Session & { prunedHistory: Message[] }>("sessions", "show", "dm:telegram:42", "--all");
    const active = new Set(doc.messages.map((m) => m.id));
    const history = [...doc.prunedHistory.filter((m) => !active.has(m.id)), ...doc.messages];
    assert.equal(history.length, 8);
    type Page = { sessionId: string; key: string; messages: Message[]; count: number; total: number; offset: number; hasMore: boolean };
    const first = await call<Page>("/admin/sessions/dm:telegram:42/messages?limit=3");
    assert.deepEqual(first, { sessionId: ids.dm, key: "dm:telegram:42", messages: history.slice(0, 3), count: 3, total: 8, offset: 0, hasMore: true });
    // Forward with the `after` cursor.
    const walked: Message[] = [...first.messages];
    for (let page = first; page.hasMore;) {
      page = await call<Page>(`/admin/sessions/dm:telegram:42/messages?limit=3&after=${page.messages.at(-1)?.id}`);
      walked.push(...page.messages);
    }
    assert.deepEqual(walked, history);
    // Backward with `before`, and by offset.
    const older = await call<Page>(`/admin/sessions/dm:telegram:42/messages?limit=2&before=${history[5]?.id}`);
    assert.deepEqual([older.messages, older.offset, older.hasMore], [history.slice(3, 5), 3, true]);
    const oldest = await call<Page>(`/admin/sessions/dm:telegram:42/messages?limit=5&before=${history[3]?.id}`);
    assert.deepEqual([oldest.messages, oldest.offset, oldest.hasMore], [history.slice(0, 3), 0, false]);
    const tail = await call<Page>("/admin/sessions/dm:telegram:42/messages?offset=6");
    assert.deepEqual([tail.messages, tail.offset, tail.hasMore], [history.slice(6), 6, false]);
    assert.equal((await call<Page>("/admin/sessions/dm:telegram:42/messages")).count, 8, "default limit 50");
    await refused("/admin/sessions/dm:telegram:42/messages?before=nope", 404);
    await refused(`/admin/sessions/dm:telegram:42/messages?before=${history[3]?.id}&after=${history[1]?.id}`, 400);
    await refused("/admin/sessions/dm:telegram:42/messages?limit=0", 400);
    await refused("/admin/sessions/dm:telegram:42/messages?offset=-1", 400);
    // A window by offset and limit, as the dashboard pages folded messages; past the end is an empty page.
    const window = await call<Page>("/admin/sessions/dm:telegram:42/messages?offset=2&limit=3");
    assert.deepEqual([window.messages, window.offset, window.count, window.total, window.hasMore], [history.slice(2, 5), 2, 3, 8, true]);
    const beyond = await call<Page>("/admin/sessions/dm:telegram:42/messages?offset=20&limit=3");
    assert.deepEqual([beyond.messages, beyond.offset, beyond.hasMore], [[], 8, false]);
    assert.match(await refused("/admin/sessions/dm:telegram:42/messages?limit=abc", 400), /^limit must be an integer from 1 to /);
    assert.match(await refused("/admin/sessions/dm:telegram:42/messages?offset=1.5", 400), /^offset must be an integer from 0 to .*, got "1.5"$/);
  });

  it("GET /admin/sessions/{ref}/context is the manager's context and usage", async () => {
    const body = await call<{ sessionId: string; sizeBytes: number; built: { messages: Array<{ role: string; content: string }>; tokens: number; parts: Record<string, number> }; usage: Json; problem: null }>(
      "/admin/sessions/dm:telegram:42/context",
    );
    const m = await SessionManager.open({ stateDir: gw.stateDir, warn: () => undefined });
    try {
      assert.deepEqual(body.built, await m.buildContext(ids.dm as string));
      assert.deepEqual(body.usage, await m.contextUsage(ids.dm as string));
      assert.equal(body.sizeBytes, (await m.getWithSize(ids.dm as string)).sizeBytes);
    } finally {
      await m.close();
    }
    assert.equal(body.problem, null);
    assert.deepEqual(body.built.messages[0], { role: "system", content: "You are a concise assistant." });
    assert.match(body.built.messages[1]?.content ?? "", /^Summary of (?:earlier conversation|\d+ earlier messages)/);
    const p = body.built.parts;
    assert.equal(body.built.tokens, (p.system ?? 0) + (p.summary ?? 0) + (p.pinned ?? 0) + (p.recent ?? 0));
  });

  it("clear, archive, unarchive and compact answer like the CLI", async () => {
    const shown = await cliJson<Session & { prunedHistory: Message[] }>("sessions", "show", "dm:telegram:clear-me", "--all");
    assert.deepEqual(await call("/admin/sessions/dm:telegram:clear-me/clear", { method: "POST" }), {
      id: ids.clear,
      key: "dm:telegram:clear-me",
      messages: shown.messages.length,
      pruned: shown.prunedHistory.length,
      summary: shown.summary !== null,
    });
    // Clearing again: both now report an empty history, in the same shape.
    assert.deepEqual(await call("/admin/sessions/dm:telegram:clear-me/clear", { method: "POST" }), await cliJson("sessions", "clear", "dm:telegram:clear-me"));

    const archived = await call(`/admin/sessions/${ids.archive}/archive`, { method: "POST" });
    assert.deepEqual(archived, { sessions: [{ id: ids.archive, key: "dm:telegram:archive-me", status: "archived" }], count: 1 });
    assert.match(await refused(`/admin/sessions/${ids.archive}/archive`, 400, { method: "POST" }), /already archived/);
    const unarchivedByCli = await cliJson("sessions", "unarchive", ids.archive as string);
    assert.deepEqual(await cliJson("sessions", "archive", ids.archive as string), archived);
    assert.deepEqual(await call(`/admin/sessions/${ids.archive}/unarchive`, { method: "POST" }), unarchivedByCli);

    const dry = await call("/admin/sessions/dm:telegram:42/compact?dryRun=1", { method: "POST" });
    assert.deepEqual(dry, await cliJson("sessions", "compact", "dm:telegram:42", "--dry-run"));
    const done = await call<{ dryRun: boolean; sessions: number }>("/admin/sessions/dm:telegram:42/compact", { method: "POST" });
    assert.deepEqual([done.dryRun, done.sessions], [false, 1]);
    assert.deepEqual(await call("/admin/sessions/dm:telegram:42/compact?dryRun=1", { method: "POST" }), await cliJson("sessions", "compact", "dm:telegram:42", "--dry-run"));
    await refused("/admin/sessions/dm:telegram:nobody/compact", 404, { method: "POST" });
  });

  it("DELETE /admin/sessions/{ref} answers like `sessions delete --json`", async () => {
    const plan = await cliJson<Json>("sessions", "delete", "dm:telegram:doomed", "--dry-run");
    assert.deepEqual(await call("/admin/sessions/dm:telegram:doomed?dryRun=1", { method: "DELETE" }), plan);
    assert.deepEqual(await call("/admin/sessions/dm:telegram:doomed", { method: "DELETE" }), { ...plan, dryRun: false });
    await refused(`/admin/sessions/${ids.doomed}`, 404);
    await refused(`/admin/sessions/${ids.doomed}`, 404, { method: "DELETE" });
  });

  it("export and import round-trip like the CLI; a refused import writes nothing", async () => {
    const r = await api(`/admin/sessions/${ids.transfer}/export`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-disposition") ?? "", /^attachment; filename="openclaw-session-[0-9a-f-]+\.json"$/);
    const text = await r.text();
    const viaCli = await cli("sessions", "export", ids.transfer as string);
    const strip = (t: string) => t.replace(/"exportedAt": "[^"]+"/, '"exportedAt": ""');
    assert.equal(strip(text), strip(viaCli), "the same document, byte for byte");

    const before = await snapshot(gw.stateDir);
    const exists = await refused("/admin/import", 409, { method: "POST", body: text });
    assert.match(exists, /already exist.*\?overwrite=1.*Nothing was written/);
    assert.match(await refused("/admin/import", 400, { method: "POST", body: text.slice(0, 200) }), /request body: cannot import: the file is truncated/);
    assert.match(await refused("/admin/import", 400, { method: "POST", body: text.replace('"version": 1', '"version": 9') }), /version 9 is not supported/);
    assert.match(await refused("/admin/import?overwrite=maybe", 400, { method: "POST", body: text }), /overwrite must be/);
    assert.deepEqual(await snapshot(gw.stateDir), before, "nothing written by refused imports");

    await cli("sessions", "delete", ids.transfer as string);
    const none = { skipped: [], importedArchived: [], archivedLive: [] };
    assert.deepEqual(await call("/admin/import", { method: "POST", body: text }), { imported: [ids.transfer], overwritten: [], ...none, count: 1 });
    assert.equal(strip(await cli("sessions", "export", ids.transfer as string)), strip(text), "export → delete → import → export is exact");
    const overwritten = await call("/admin/import?overwrite=1", { method: "POST", body: text });
    const file = join(gw.home, "backup.json");
    await writeFile(file, text);
    assert.deepEqual(overwritten, await cliJson("sessions", "import", file, "--overwrite"));
    assert.deepEqual(overwritten, { imported: [], overwritten: [ids.transfer], ...none, count: 1 });
    // A key has one live session: a backup of a session whose key started a new one since is refused, then imported archived.
    await cli("sessions", "delete", ids.transfer as string);
    const fresh = (await cli("sessions", "append", "--dm", "telegram:transfer", "hello again")).trim();
    const clash = await refused("/admin/import", 409, { method: "POST", body: text });
    assert.match(clash, new RegExp(`cannot import ${ids.transfer}: session ${fresh} is already live for dm:telegram:transfer.*\\?asArchived=1.*\\?replaceLive=1`));
    const archived = await call<{ importedArchived: unknown[] }>("/admin/import?asArchived=1", { method: "POST", body: text });
    assert.deepEqual(archived.importedArchived, [{ id: ids.transfer, key: "dm:telegram:transfer", live: fresh }]);
  });

  it("GET /admin/status is `status --json`; ?verbose=1 adds what --verbose adds", async () => {
    assert.deepEqual(await call("/admin/status"), await cliJson("status"));
    type Verbose = Json & { verbose: Json & { memory: Json } };
    const http = await call<Verbose>("/admin/status?verbose=1");
    const { gateway: _gateway, gatewayError: _gatewayError, ...viaCli } = await cliJson<Verbose & { gateway?: unknown; gatewayError?: unknown }>("status", "--verbose");
    // Memory is each process's own; the CLI also says what it found of a running gateway, which the gateway's own answer has no need to.
    assert.deepEqual(Object.keys(http.verbose.memory).sort(), Object.keys(viaCli.verbose.memory).sort());
    assert.deepEqual({ ...http, verbose: { ...http.verbose, memory: null } }, { ...viaCli, verbose: { ...viaCli.verbose, memory: null } });
  });

  it("refuses missing tokens, unknown and hostile refs, and malformed requests with the OpenAI error shape", async () => {
    for (const path of ["/admin/sessions", "/admin/status", "/admin/events", `/admin/sessions/${ids.dm}`]) {
      const body = await call<ErrorBody>(path, { token: null }, 401);
      assert.equal(body.error.type, "authentication_error");
      assert.match(body.error.message, /missing bearer token/);
    }
    await refused("/admin/sessions", 401, { token: "wrong-token-wrong-token" });
    await refused("/admin/sessions/dm:telegram:nobody", 404);
    await refused("/admin/sessions/nope", 404);
    await refused("/admin/sessions/01a20d86-8c0a-786a-a5ad-a26be32e27bd", 404);
    await refused("/admin/sessions/01a20d86-8c0a-786a-a5ad-a26be32e27bd/messages", 404);
    await refused("/admin/sessions/01a", 400);
    const hostile = "..%2F..%2Fetc%2Fpasswd";
    for (const [path, method] of [
      [`/admin/sessions/${hostile}`, "GET"],
      [`/admin/sessions/${hostile}`, "DELETE"],
      [`/admin/sessions/${hostile}/messages`, "GET"],
      [`/admin/sessions/${hostile}/context`, "GET"],
      [`/admin/sessions/${hostile}/clear`, "POST"],
      [`/admin/sessions/${hostile}/archive`, "POST"],
      [`/admin/sessions/${hostile}/export`, "GET"],
      [`/admin/sessions/dm:telegram:..%2Fx`, "GET"],
    ] as const) {
      const body = await call<ErrorBody>(path, { method }, 400);
      assert.match(body.error.code, /invalid_(id|key)/, `${method} ${path}`);
    }
    await refused(`/admin/sessions/${hostile}`, 400, { method: "PATCH", body: '{"system":"x"}' });
    const unknown = await call<ErrorBody>("/admin/nothing-here", {}, 404);
    assert.match(unknown.error.message, /no route for GET \/admin\/nothing-here/);
    await refused("/admin/status?verbose=2", 400);
  });
});
