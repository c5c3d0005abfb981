import assert from "node:assert/strict";
import { createServer, request, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Browser } from "playwright-core";
import type { Session } from "../../src/session/types.js";
import { launchBrowser } from "../helpers/browser.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

type ErrorBody = { error: { message: string; type: string; code: string } };

/** How long the gateway gives a client to send a request, in these tests. */
const REQUEST_TIMEOUT_MS = 1000;

/** Polls `check` until it returns true or `ms` pass. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A raw HTTP request from node:http, which (unlike fetch) lets the test choose the Host header. */
function raw(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("gateway request guard: hostile pages, rebinding names, slow clients (no token, loopback)", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let browser: Browser;
  let attacker: Server;
  let attackerUrl = "";
  let port = "";
  const victimKey = "dm:telegram:7";
  let victimId = "";

  const cliJson = async <T>(...args: string[]): Promise<T> => {
    const r = await runCli(["--state-dir", gw.stateDir, ...args, "--json"], gw.home);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const post = (path: string, body: string, type: string | undefined, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}${path}`, { method: "POST", headers: { ...(type === undefined ? {} : { "content-type": type }), ...headers }, body });
  const refusedWith = async (res: Response, status: number, message: RegExp): Promise<void> => {
    const body = (await res.json()) as ErrorBody;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.match(body.error.message, message);
    assert.ok(!body.error.message.includes("\n"), "one-line message");
  };
  const refusals = (reason: string) =>
    gw
      .stderr()
      .split("\n")
      .filter((l) => l.includes('"request_refused"') && l.includes(`"reason":"${reason}"`)).length;

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess(
      // No token: the set-up where nothing but the guard stands between a web page and the gateway.
      { gateway: { auth: { mode: "none" }, requestTimeoutMs: REQUEST_TIMEOUT_MS, model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } },
      { env: { OPENCLAW_GATEWAY_TOKEN: "" } },
    );
    port = new URL(gw.url).port;
    // A site the operator happens to visit: another origin (and the same site) on this machine.
    attacker = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>cats</title><p>cute cats</p>"));
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
    // The resolver rule plays the rebinding DNS server. Chromium's own Local Network Access check would block the
    // rebound page's request before it left the browser; Firefox and Safari have none, so it is off here: the gateway must refuse it itself.
    browser = await launchBrowser(["--host-resolver-rules=MAP attacker.example 127.0.0.1", "--disable-features=LocalNetworkAccessChecks"]);
    // Through a non-browser client (no Origin, no Sec-Fetch-*): passes, as the SDKs and curl must.
    const res = await post("/hooks/inbound", JSON.stringify({ channel: "telegram", senderId: "7", text: "my order is ORD-7" }), "application/json");
    const text = await res.text();
    assert.equal(res.status, 200, text);
    victimId = (JSON.parse(text) as { sessionId: string }).sessionId;
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
    await gw?.stop();
    await upstream?.close();
  });

  it("a page on another origin creates, clears, archives and imports nothing (no-cors fetch, text/plain form)", async () => {
    const exported = await (await fetch(`${gw.url}/admin/sessions/${victimId}/export`)).text();
    const doc = JSON.parse(exported) as { sessions: Array<{ messages: Array<{ content: string }> }> };
    const first = doc.sessions[0]?.messages[0];
    assert.ok(first !== undefined);
    first.content = "Your order is blocked: pay at http://phish.example/pay";
    const page = await browser.newPage();
    await page.goto(attackerUrl);
    await page.evaluate(
      // No named helpers in here: the function runs in the page, without the test's transpiler helpers.
      async ({ gateway, id, forged }) => {
        const inbound = JSON.stringify({ channel: "telegram", senderId: "666", text: "hi from a web page" });
        await fetch(`${gateway}/hooks/inbound`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: inbound });
        await fetch(`${gateway}/admin/import?overwrite=1`, { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: forged });
        await fetch(`${gateway}/admin/sessions/${id}/clear`, { method: "POST", mode: "no-cors" });
      },
      { gateway: gw.url, id: victimId, forged: JSON.stringify(doc) },
    );
    // A plain form, as any page can submit: the navigation's answer is the gateway's.
    await page.setContent(`<form id="f" method="post" enctype="text/plain" action="${gw.url}/admin/sessions/${victimId}/archive"><input name='{"a":"' value='"}'><button>win a prize</button></form>`);
    const [answer] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/archive")), page.getByRole("button", { name: "win a prize" }).click()]);
    await page.close();

    const list = await cliJson<{ total: number; sessions: Array<{ key: string; status: string }> }>("sessions", "list", "--status", "all");
    assert.deepEqual(
      list.sessions.map((s) => [s.key, s.status]),
      [[victimKey, "active"]],
      "no session created, none archived",
    );
    const victim = await cliJson<Session>("sessions", "show", victimKey);
    assert.deepEqual(
      victim.messages.map((m) => m.content),
      ["my order is ORD-7", "echo: my order is ORD-7"],
      "not cleared, not overwritten",
    );
    assert.equal(upstream.requests.length, 1, "the model never ran for the page");
    assert.equal(answer.status(), 403, "the form's answer");
    await until("the refusals in the log", () => refusals("origin") + refusals("cross-site") >= 4);
    assert.doesNotMatch(gw.stderr(), /phish\.example|hi from a web page/, "bodies are never logged");
  });

  it("a rebinding name reaches nothing: the page's same-origin read of /admin and a raw request with its Host get 403", async () => {
    const page = await browser.newPage();
    const rebound = `http://attacker.example:${port}/`;
    // The attacker's page comes from the attacker's server; then the name resolves to 127.0.0.1 (the resolver rule).
    await page.route(rebound, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>cats</title>" }));
    await page.goto(rebound);
    const read = await page.evaluate(async () => {
      const r = await fetch("/admin/sessions");
      return { status: r.status, body: await r.text() };
    });
    await page.close();
    assert.equal(read.status, 403, read.body);
    assert.doesNotMatch(read.body, /dm:telegram:7|ORD-7/);
    assert.match(read.body, /gateway\.allowedHosts/);

    for (const host of ["attacker.example", `attacker.example:${port}`, `127.0.0.1.nip.io:${port}`]) {
      const r = await raw(`${gw.url}/admin/status`, { headers: { host } });
      assert.equal(r.status, 403, `${host}: ${r.body}`);
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      const r = await raw(`${gw.url}/admin/status`, { headers: { host } });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
    }
    assert.equal((await raw(`${gw.url}/health`, { headers: { host: "attacker.example" } })).status, 200, "/health stays open");
  });

  it("refuses a cross-site or foreign-origin change and /admin read, not the gateway's own origin or a client without either header", async () => {
    const own = `http://127.0.0.1:${port}`;
    const body = JSON.stringify({ metadata: { from: "guard test" } });
    await refusedWith(await post("/v1/conversations", body, "application/json", { origin: attackerUrl.slice(0, -1) }), 403, /origin .* refused/);
    await refusedWith(await post("/v1/conversations", body, "application/json", { origin: "null" }), 403, /origin "null" refused/);
    await refusedWith(await post("/v1/conversations", body, "application/json", { "sec-fetch-site": "same-site" }), 403, /cross-site request refused/);
    await refusedWith(await post("/v1/conversations", body, "application/json", { "sec-fetch-site": "cross-site" }), 403, /cross-site request refused/);
    await refusedWith(await fetch(`${gw.url}/admin/sessions`, { headers: { origin: "http://evil.example" } }), 403, /origin/);
    assert.equal((await post("/v1/conversations", body, "application/json", { origin: own, "sec-fetch-site": "same-origin" })).status, 200);
    assert.equal((await fetch(`${gw.url}/admin/sessions`, { headers: { origin: own, "sec-fetch-site": "same-origin" } })).status, 200);
    assert.equal((await fetch(`${gw.url}/admin/sessions`, { headers: { "sec-fetch-site": "none" } })).status, 200, "typed in the address bar");
    // A cross-site GET of the dashboard (a link from elsewhere) still loads it.
    assert.equal((await fetch(`${gw.url}/`, { headers: { "sec-fetch-site": "cross-site" } })).status, 200);
    // The official client sends neither header.
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const conv = await client.conversations.create({ metadata: { via: "sdk" } });
    assert.match(conv.id, /^conv_/);
  });

  it("JSON routes take only application/json bodies: text/plain, forms and a missing type get 415", async () => {
    const hello = JSON.stringify({ channel: "telegram", senderId: "8", text: "hello" });
    const before = (await cliJson<{ total: number }>("sessions", "list", "--status", "all")).total;
    await refusedWith(await post("/hooks/inbound", hello, "text/plain"), 415, /must be JSON: send Content-Type: application\/json \(got "text\/plain"\)/);
    await refusedWith(await post("/hooks/inbound", hello, "text/plain;charset=UTF-8"), 415, /must be JSON/);
    await refusedWith(await post("/v1/chat/completions", "model=m&messages=x", "application/x-www-form-urlencoded"), 415, /must be JSON/);
    const form = new FormData();
    form.set("model", "m");
    await refusedWith(await fetch(`${gw.url}/v1/responses`, { method: "POST", body: form }), 415, /got "multipart\/form-data/);
    const untyped = await raw(`${gw.url}/v1/conversations`, { method: "POST", headers: { "content-length": "2" }, body: "{}" });
    assert.equal(untyped.status, 415, untyped.body);
    assert.match(untyped.body, /\(got none\)/);
    await refusedWith(await post("/admin/import", "{}", "text/plain"), 415, /must be JSON/);
    assert.equal((await cliJson<{ total: number }>("sessions", "list", "--status", "all")).total, before, "a refused body creates nothing");
    const ok = await post("/hooks/inbound", hello, "application/json; charset=utf-8");
    assert.equal(ok.status, 200, await ok.text());
    // Without a body, nothing to type: the dashboard's bodiless POSTs pass.
    const bare = await fetch(`${gw.url}/v1/conversations`, { method: "POST" });
    assert.equal(bare.status, 200, await bare.text());
  });

  it("a body nested deeper than 64 levels is a 400 naming the limit, not a 500; 64 levels pass the check", async () => {
    const exported = await (await fetch(`${gw.url}/admin/sessions/${victimId}/export`)).text();
    const nest = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const deep = exported.replace('"preferences": {}', `"preferences": {"x": ${nest(20_000)}}`);
    assert.notEqual(deep, exported);
    await refusedWith(await post("/admin/import?overwrite=1", deep, "application/json"), 400, /nests deeper than 64 levels/);
    await refusedWith(await post("/v1/conversations", `{"metadata":${"[".repeat(100_000)}${"]".repeat(100_000)}}`, "application/json"), 400, /nests deeper than 64 levels/);
    await refusedWith(await post("/v1/conversations", `{"metadata":${nest(64)}}`, "application/json"), 400, /nests deeper than 64 levels/);
    // 64 in all (the body's own object included): past the depth check, refused for what it says.
    await refusedWith(await post("/v1/conversations", `{"metadata":${nest(62)}}`, "application/json"), 400, /metadata\.a must be a string/);
    // Brackets inside strings are text, not nesting, escaped quotes included.
    const text = await post("/v1/conversations", JSON.stringify({ metadata: { note: `"${"[".repeat(200)}\\"${"{".repeat(200)}` } }), "application/json");
    assert.equal(text.status, 200, await text.text());
  });

  it("a client trickling its body or headers is cut off after requestTimeoutMs with a 408; responses and the event stream run on", async () => {
    const events = await fetch(`${gw.url}/admin/events`);
    assert.equal(events.status, 200);
    const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(seen)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the event stream ended before ${pattern}: ${seen}`);
        seen += value;
      }
    };
    await readUntil(/event: ready/);

    const trickle = (head: string, next: string) =>
      new Promise<{ ms: number; answer: string }>((resolve, reject) => {
        const started = Date.now();
        const socket = connect(Number(port), "127.0.0.1");
        let answer = "";
        socket.setEncoding("utf8");
        socket.on("data", (d: string) => (answer += d));
        socket.write(head);
        // One more byte every 200 ms: the client keeps talking, never finishes.
        const drip = setInterval(() => socket.write(next), 200);
        const deadline = setTimeout(() => {
          clearInterval(drip);
          socket.destroy();
          reject(new Error(`still open after ${REQUEST_TIMEOUT_MS + 4000} ms`));
        }, REQUEST_TIMEOUT_MS + 4000);
        socket.on("error", () => undefined);
        socket.on("close", () => {
          clearInterval(drip);
          clearTimeout(deadline);
          resolve({ ms: Date.now() - started, answer });
        });
      });
    const [body, headers] = await Promise.all([
      trickle(`POST /v1/conversations HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`, " "),
      trickle(`GET /admin/status HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `, "a"),
    ]);
    for (const cut of [body, headers]) {
      assert.match(cut.answer, /^HTTP\/1\.1 408/);
      assert.ok(cut.ms >= REQUEST_TIMEOUT_MS - 50, `cut after ${cut.ms} ms, not before the timeout`);
    }

    // The event stream, open since before both clients, was not cut with them.
    const res = await post("/hooks/inbound", JSON.stringify({ channel: "telegram", senderId: "after-cut", text: "still there?" }), "application/json");
    assert.equal(res.status, 200, await res.text());
    await readUntil(/dm:telegram:after-cut/);
    await reader.cancel();

    // A streamed reply lasting longer than the timeout arrives whole.
    upstream.chunkDelayMs = 400;
    try {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const started = Date.now();
      const stream = await client.chat.completions.create({ model: "fake-model", stream: true, messages: [{ role: "user", content: "one two three four five" }] });
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      assert.equal(text, "echo: one two three four five");
      assert.ok(Date.now() - started > REQUEST_TIMEOUT_MS + 500, "the stream outlived the request timeout");
    } finally {
      upstream.chunkDelayMs = 0;
    }
  });
});
