import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startGateway, type GatewayLog } from "../../src/gateway/server.js";
import { SessionManager } from "../../src/manager/manager.js";
import type { ListPage } from "../../src/store/store.js";
import { BareStore } from "../helpers/bare-store.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

type Line = Record<string, unknown> & { msg?: string; level?: number };

/** The JSON lines the gateway wrote to stderr so far. */
function linesOf(gw: GatewayProcess): Line[] {
  const out: Line[] = [];
  for (const text of gw.stderr().split("\n")) {
    if (text.trim() === "") continue;
    out.push(JSON.parse(text) as Line);
  }
  return out;
}

/** Waits (with a deadline) for a line `match` accepts: a line is written as its request ends, on another pipe than the response. */
async function lineOf(gw: GatewayProcess, match: (l: Line) => boolean, what: string): Promise<Line> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = linesOf(gw).find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) assert.fail(`no log line for ${what} in:\n${gw.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("gateway log: one JSON line per request, auth failures and admin changes on stderr", () => {
  let gw: GatewayProcess;
  let upstream: FakeUpstream;
  const auth = (token?: string) => ({ authorization: `Bearer ${token ?? gw.token}` });

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({ gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it("a request is logged once when it ends: route pattern, status, ms, session id, request id; never its body, token or query", async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json", "x-openclaw-session-key": "dm:telegram:4242" },
      body: JSON.stringify({ model: "fake-model", messages: [{ role: "user", content: "my card is BODY-MARKER-7731" }] }),
    });
    assert.equal(r.status, 200, await r.clone().text());
    await r.json();
    const requestId = r.headers.get("x-request-id");
    assert.ok(requestId !== null && requestId.length >= 8, "x-request-id header");
    const sessionId = r.headers.get("x-openclaw-session-id");
    const line = await lineOf(gw, (l) => l.event === "request" && l.requestId === requestId, "the chat request");
    assert.equal(line.method, "POST");
    assert.equal(line.route, "/v1/chat/completions");
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, "number");
    assert.equal(line.sessionId, sessionId);
    assert.equal(line.credential, "default", "the single token's credential");
    assert.equal(linesOf(gw).filter((l) => l.requestId === requestId && l.event === "request").length, 1, "logged once");

    const q = await fetch(`${gw.url}/admin/sessions/dm:telegram:4242?all=QUERY-MARKER-1`, { headers: auth() });
    await q.text();
    const shown = await lineOf(gw, (l) => l.requestId === q.headers.get("x-request-id"), "the show request");
    assert.equal(shown.route, "/admin/sessions/:ref", "the pattern, not the path with its key");
    const all = gw.stderr();
    for (const secret of ["BODY-MARKER-7731", "QUERY-MARKER-1", gw.token, "echo:"]) assert.ok(!all.includes(secret), `the log holds ${secret}`);
  });

  it("a conversation's requests are logged with its session id", async () => {
    const created = await fetch(`${gw.url}/v1/conversations`, { method: "POST", headers: { ...auth(), "content-type": "application/json" }, body: "{}" });
    const conv = (await created.json()) as { id: string };
    const made = await lineOf(gw, (l) => l.event === "request" && l.requestId === created.headers.get("x-request-id"), "the create");
    assert.equal(typeof made.sessionId, "string");
    const items = await fetch(`${gw.url}/v1/conversations/${conv.id}/items`, { headers: auth() });
    assert.equal(items.status, 200);
    await items.text();
    const line = await lineOf(gw, (l) => l.event === "request" && l.requestId === items.headers.get("x-request-id"), "the items read");
    assert.equal(line.route, "/v1/conversations/:id/items");
    assert.equal(line.sessionId, made.sessionId);
  });

  it("a streamed reply is logged when its stream ends", async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json", "x-openclaw-session-key": "dm:telegram:77" },
      body: JSON.stringify({ model: "fake-model", stream: true, messages: [{ role: "user", content: "stream me please" }] }),
    });
    assert.equal(r.status, 200);
    assert.ok((await r.text()).includes("[DONE]"));
    const line = await lineOf(gw, (l) => l.event === "request" && l.requestId === r.headers.get("x-request-id"), "the streamed request");
    assert.equal(line.stream, "ended");
    assert.equal(line.sessionId, r.headers.get("x-openclaw-session-id"));
  });

  it("a refused credential leaves an auth_failure line without the token it presented", async () => {
    const wrong = "wrong-token-ZZZ-9f8e7d6c5b4a3210";
    const r = await fetch(`${gw.url}/admin/sessions`, { headers: auth(wrong) });
    assert.equal(r.status, 401);
    const line = await lineOf(gw, (l) => l.event === "auth_failure" && l.requestId === r.headers.get("x-request-id"), "the refused request");
    assert.equal(line.status, 401);
    assert.equal(line.route, "/admin/sessions");
    assert.equal(typeof line.reason, "string");
    assert.ok(!gw.stderr().includes(wrong), "the presented token is not logged");
  });

  it("admin changes leave an audit trail: who, what, which session, the result — refused ones included", async () => {
    const created = await fetch(`${gw.url}/hooks/inbound`, {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ channel: "telegram", senderId: "audit-1", text: "hello" }),
    });
    const { sessionId } = (await created.json()) as { sessionId: string };
    const edit = await fetch(`${gw.url}/admin/sessions/${sessionId}`, {
      method: "PATCH",
      headers: { ...auth(), "content-type": "application/json" },
      body: JSON.stringify({ set: { language: "PREF-VALUE-MARKER" }, system: "be brief" }),
    });
    assert.equal(edit.status, 200, await edit.clone().text());
    const edited = await lineOf(gw, (l) => l.event === "audit" && l.requestId === edit.headers.get("x-request-id"), "the edit");
    assert.equal(edited.op, "edit");
    assert.deepEqual(edited.sessions, [{ id: sessionId, key: "dm:telegram:audit-1" }]);
    assert.deepEqual(edited.changes, ["set:language", "system"]);
    assert.equal(edited.result, "ok");
    assert.equal(edited.credential, "default", "who made the change");
    assert.ok(!gw.stderr().includes("PREF-VALUE-MARKER"), "values are not logged");

    for (const action of ["clear", "archive"]) {
      const r = await fetch(`${gw.url}/admin/sessions/${sessionId}/${action}`, { method: "POST", headers: auth() });
      assert.equal(r.status, 200, await r.clone().text());
      const line = await lineOf(gw, (l) => l.event === "audit" && l.requestId === r.headers.get("x-request-id"), action);
      assert.equal(line.op, action);
      assert.equal((line.sessions as Array<{ id: string }>)[0]?.id, sessionId);
    }
    const del = await fetch(`${gw.url}/admin/sessions/${sessionId}`, { method: "DELETE", headers: auth() });
    assert.equal(del.status, 200);
    const deleted = await lineOf(gw, (l) => l.event === "audit" && l.requestId === del.headers.get("x-request-id"), "the delete");
    assert.equal(deleted.op, "delete");
    assert.equal(deleted.dryRun, false);
    assert.equal((deleted.sessions as Array<{ id: string }>)[0]?.id, sessionId);

    const missing = await fetch(`${gw.url}/admin/sessions/dm:telegram:nobody/clear`, { method: "POST", headers: auth() });
    assert.equal(missing.status, 404);
    const refused = await lineOf(gw, (l) => l.event === "audit" && l.requestId === missing.headers.get("x-request-id"), "the refused clear");
    assert.equal(refused.result, "NOT_FOUND");
    assert.equal(refused.ref, "dm:telegram:nobody");
  });

  it("reads leave no audit line", async () => {
    const r = await fetch(`${gw.url}/admin/status`, { headers: auth() });
    await r.text();
    await lineOf(gw, (l) => l.event === "request" && l.requestId === r.headers.get("x-request-id"), "the status read");
    assert.equal(linesOf(gw).filter((l) => l.event === "audit" && l.requestId === r.headers.get("x-request-id")).length, 0);
  });
});

describe("gateway log: scoped credentials", () => {
  it("a credential refused for a missing scope is named in its auth_failure line", async () => {
    const reader = `rd_${"9f3a7c1e5b2d8046".repeat(3)}`;
    const gw = await startGatewayProcess({ gateway: { auth: { tokens: [{ name: "reader", token: reader, scopes: ["admin:read"] }] } } }, { env: { OPENCLAW_GATEWAY_TOKEN: "" } });
    try {
      const read = await fetch(`${gw.url}/admin/status`, { headers: { authorization: `Bearer ${reader}` } });
      assert.equal(read.status, 200, await read.clone().text());
      const readLine = await lineOf(gw, (l) => l.event === "request" && l.requestId === read.headers.get("x-request-id"), "the read");
      assert.equal(readLine.credential, "reader");
      const r = await fetch(`${gw.url}/admin/sessions/dm:telegram:1/clear`, { method: "POST", headers: { authorization: `Bearer ${reader}` } });
      assert.equal(r.status, 403);
      const line = await lineOf(gw, (l) => l.event === "auth_failure" && l.requestId === r.headers.get("x-request-id"), "the refused change");
      assert.equal(line.credential, "reader");
      assert.match(String(line.reason), /admin:write/);
      assert.ok(!gw.stderr().includes(reader), "the token is never logged");
    } finally {
      await gw.stop();
    }
  });
});

describe("gateway log: the store's warnings", () => {
  it("a corrupt session file met while serving is a JSON warning line, so the log stays JSON", async () => {
    const home = await mkdtemp(join(tmpdir(), "oc-gw-warn-"));
    const stateDir = join(home, "state");
    const m = await SessionManager.open({ stateDir, warn: () => undefined });
    const s = await m.receive({ channel: "telegram", senderId: "5" }, "hello");
    await m.close();
    await writeFile(join(stateDir, "sessions", `${s.id}.json`), "{broken");
    const gw = await startGatewayProcess({}, { stateDir });
    try {
      const r = await fetch(`${gw.url}/admin/sessions/${s.id}`, { headers: { authorization: `Bearer ${gw.token}` } });
      await r.text();
      const line = await lineOf(gw, (l) => l.event === "warning", "the store's warning");
      assert.match(String(line.msg), /corrupt session file .*moved to sessions\/quarantine\//);
      assert.ok(
        linesOf(gw).some((l) => l.event === "start"),
        "a start line",
      );
    } finally {
      await gw.stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("gateway log: format and level", () => {
  it("--log-format pretty writes readable lines; --log-level warn keeps only warnings and worse", async () => {
    const gw = await startGatewayProcess({}, { args: ["--log-format", "pretty", "--log-level", "warn"] });
    try {
      await (await fetch(`${gw.url}/admin/status`, { headers: { authorization: `Bearer ${gw.token}` } })).text();
      const refused = await fetch(`${gw.url}/admin/status`);
      assert.equal(refused.status, 401);
      const deadline = Date.now() + 10_000;
      while (!gw.stderr().includes("refused GET /admin/status") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const lines = gw.stderr().trim().split("\n");
      const request = lines.find((l) => l.includes("GET /admin/status 401"));
      assert.ok(request !== undefined, gw.stderr());
      assert.match(request, /^\S+ warn GET \/admin\/status 401 requestId=/);
      assert.ok(!lines.some((l) => l.includes("GET /admin/status 200")), "info lines are below the level");
      assert.ok(!lines.some((l) => l.startsWith("{")), "no JSON lines");
    } finally {
      await gw.stop();
    }
  });
});

type Recorded = { level: string; fields: Record<string, unknown>; msg: string | undefined };

/** A GatewayLog that keeps what it is given, for a gateway started in-process. */
function recorder(lines: Recorded[], bindings: object = {}): GatewayLog {
  const at = (level: string) => (fields: object, msg?: string) => void lines.push({ level, fields: { ...bindings, ...fields }, msg });
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"), child: (b) => recorder(lines, { ...bindings, ...b }) };
}

describe("gateway log: failures in-process", () => {
  /** A store whose listing fails the way a bug would: a plain Error, not a store error the gateway knows. */
  class BrokenListStore extends BareStore {
    override list(): Promise<ListPage> {
      return Promise.reject(new TypeError("cannot read properties of undefined (reading 'updatedAt')"));
    }
  }
  const TOKEN = "a-token-of-some-length-0123456789";

  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "oc-gw-500-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a 500's body names the request id, and the log line with that id has the stack", async () => {
    const lines: Recorded[] = [];
    const manager = await SessionManager.open({ stateDir: dir, config: {}, store: new BrokenListStore(), warn: () => undefined });
    const gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: TOKEN, log: recorder(lines) });
    try {
      const r = await fetch(`${gateway.url}/admin/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 500);
      const body = (await r.json()) as { error: { message: string } };
      const requestId = r.headers.get("x-request-id");
      assert.ok(requestId !== null);
      assert.ok(body.error.message.includes(requestId), body.error.message);
      assert.ok(!body.error.message.includes("updatedAt"), "the client is not shown the internals");
      const line = lines.find((l) => l.fields.requestId === requestId && l.fields.event === "request");
      assert.ok(line !== undefined, "a line for the request");
      assert.equal(line.level, "error");
      assert.equal(line.fields.status, 500);
      const err = line.fields.err as { stack?: string; message?: string };
      assert.match(err.stack ?? "", /TypeError: cannot read properties of undefined/);
      assert.match(err.stack ?? "", /\n\s+at /, "a stack with frames");
    } finally {
      await gateway.close();
      await manager.close();
    }
  });

  it("a body cut off by the request timeout is logged as the client's doing, not as a 500", async () => {
    const lines: Recorded[] = [];
    const manager = await SessionManager.open({ stateDir: dir, config: { gateway: { requestTimeoutMs: 1000 } }, warn: () => undefined });
    const gateway = await startGateway({ manager, host: "127.0.0.1", port: 0, token: TOKEN, log: recorder(lines) });
    try {
      const { hostname, port } = new URL(gateway.url);
      const status = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => {
          // Promises 100 bytes, sends one, then nothing: Node cuts it off with a 408.
          socket.write(`POST /admin/import HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
        });
        let got = "";
        socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
        socket.on("close", () => resolve(got.split("\r\n")[0] ?? ""));
        socket.on("error", reject);
      });
      assert.match(status, /^HTTP\/1\.1 408/);
      const deadline = Date.now() + 10_000;
      while (!lines.some((l) => l.fields.event === "request" && l.fields.route === "/admin/import") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const line = lines.find((l) => l.fields.event === "request" && l.fields.route === "/admin/import");
      assert.ok(line !== undefined, JSON.stringify(lines));
      assert.equal(line.fields.code, "ABORTED");
      assert.notEqual(line.level, "error");
      assert.equal(line.fields.err, undefined, "no stack for a client that went quiet");
    } finally {
      await gateway.close();
      await manager.close();
    }
  });
});
