import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Session } from "../../src/session/types.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";
import { withPostgresDatabase } from "../helpers/postgres.js";

const db = await withPostgresDatabase();

/** How the two gateways share one store: the same PostgreSQL schema, or the same state directory. */
type Shared = { backend: "postgres"; uri: string } | { backend: "file" };

const backends: Array<{ name: string; skip: string | false; shared: () => Shared }> = [
  { name: "postgres", skip: "skip" in db ? db.skip : false, shared: () => ({ backend: "postgres", uri: "skip" in db ? "" : db.freshSchemaUrl() }) },
  { name: "file", skip: false, shared: () => ({ backend: "file" }) },
];

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

for (const { name, skip, shared } of backends) {
  describe(`two gateways on one ${name} store: a session's turns are one at a time across both`, { skip }, () => {
    let upstream: FakeUpstream;
    let a: GatewayProcess;
    let b: GatewayProcess;
    let clients: [OpenAI, OpenAI];

    before(async () => {
      upstream = await startFakeUpstream();
      const where = shared();
      const config = {
        sessions: { maxHistoryLength: 1000 },
        gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } },
        ...(where.backend === "postgres" ? { storage: { uri: where.uri } } : {}),
      };
      a = await startGatewayProcess(config);
      b = await startGatewayProcess(config, where.backend === "file" ? { stateDir: a.stateDir } : {});
      clients = [a, b].map((gw) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0, timeout: 60_000 })) as [OpenAI, OpenAI];
    });
    after(async () => {
      // b first: with the file store it shares a's state directory, which a's stop removes.
      await b?.stop();
      await a?.stop();
      await upstream?.close();
    });

    const session = async (key: string): Promise<Session> => {
      const res = await fetch(`${a.url}/admin/sessions/${encodeURIComponent(key)}`, { headers: { authorization: `Bearer ${a.token}` } });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as Session;
    };

    it("20 concurrent turns for one key, split over both: every reply answers its own question, the history alternates, nothing doubled", async () => {
      const key = `dm:two:${randomBytes(3).toString("hex")}`;
      upstream.replyDelayMs = 15;
      const asked = upstream.requests.length;
      try {
        const questions = Array.from({ length: 20 }, (_, i) => `question ${i} ${randomBytes(4).toString("hex")}`);
        const replies = await Promise.all(
          questions.map(async (q, i) => {
            const client = clients[i % 2] as OpenAI;
            if (i % 4 === 3) {
              // Some stream, so the lease is held across a streamed reply too.
              const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [{ role: "user", content: q }] }, { headers: { "x-openclaw-session-key": key } });
              let text = "";
              for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
              return text;
            }
            const r = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: q }] }, { headers: { "x-openclaw-session-key": key } });
            return r.choices[0]?.message.content ?? "";
          }),
        );
        replies.forEach((reply, i) => assert.equal(reply, `echo: ${questions[i]}`, `request ${i} got the answer to its own question`));
        assert.equal(upstream.requests.length - asked, 20, "the model was asked once per turn");
        const s = await session(key);
        assert.equal(s.messages.length, 40);
        for (let i = 0; i < 40; i += 2) {
          const [q, r] = [s.messages[i], s.messages[i + 1]];
          assert.equal(q?.role, "user", `message ${i} is a question`);
          assert.equal(r?.role, "assistant", `message ${i + 1} is its answer`);
          assert.equal(r?.content, `echo: ${q?.content}`, `the answer at ${i + 1} follows its own question`);
        }
        assert.deepEqual(
          s.messages
            .filter((m) => m.role === "user")
            .map((m) => m.content)
            .sort(),
          [...questions].sort(),
        );
      } finally {
        upstream.replyDelayMs = 0;
      }
    });

    it("a retry with the same Idempotency-Key on the other gateway during a slow first attempt waits for it: one reply stored, the model asked once", async () => {
      const key = `dm:retry:${randomBytes(3).toString("hex")}`;
      const idem = `idem-${randomBytes(6).toString("hex")}`;
      const body = { model: "m", messages: [{ role: "user" as const, content: "what is the order status?" }] };
      const options = { headers: { "x-openclaw-session-key": key, "idempotency-key": idem } };
      const asked = upstream.requests.length;
      upstream.replyDelayMs = 800;
      let first: Promise<OpenAI.Chat.Completions.ChatCompletion>;
      try {
        first = clients[0].chat.completions.create(body, options);
        // The first attempt is with the model now, holding the session's turn.
        await waitFor("the first attempt to reach the model", () => upstream.requests.length > asked);
      } finally {
        upstream.replyDelayMs = 0;
      }
      const [retried, streamed] = await Promise.all([
        clients[1].chat.completions.create(body, options),
        (async () => {
          const stream = await clients[1].chat.completions.create({ ...body, stream: true }, options);
          let text = "";
          for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
          return text;
        })(),
      ]);
      const original = await first;
      assert.equal(original.choices[0]?.message.content, "echo: what is the order status?");
      assert.equal(retried.choices[0]?.message.content, original.choices[0]?.message.content, "the retry returns the first attempt's reply");
      assert.equal(retried.id, original.id, "the same stored reply");
      assert.equal(streamed, original.choices[0]?.message.content, "a streaming retry replays the stored reply as a stream");
      assert.equal(upstream.requests.length - asked, 1, "the model was asked once");
      const s = await session(key);
      assert.deepEqual(
        s.messages.map((m) => [m.role, m.content]),
        [
          ["user", "what is the order status?"],
          ["assistant", "echo: what is the order status?"],
        ],
      );
    });

    it("a Responses request with no conversation, sent with one Idempotency-Key to both gateways at once: one session, one reply, the model asked once", async () => {
      const idem = `idem-${randomBytes(6).toString("hex")}`;
      const asked = upstream.requests.length;
      upstream.replyDelayMs = 300;
      let both: Array<{ id: string; text: string; session: string | null }>;
      try {
        both = await Promise.all(
          clients.map(async (client) => {
            const { data, response } = await client.responses.create({ model: "m", input: "book the room for friday" }, { headers: { "idempotency-key": idem } }).withResponse();
            return { id: data.id, text: data.output_text, session: response.headers.get("x-openclaw-session-id") };
          }),
        );
      } finally {
        upstream.replyDelayMs = 0;
      }
      const [x, y] = both as [(typeof both)[0], (typeof both)[0]];
      assert.ok(x.session !== null && x.session === y.session, `one session for both attempts (${String(x.session)}, ${String(y.session)})`);
      assert.equal(x.text, "echo: book the room for friday");
      assert.equal(y.id, x.id, "both attempts return the same stored reply");
      assert.equal(upstream.requests.length - asked, 1, "the model was asked once");
      const s = await session(x.session);
      assert.deepEqual(
        s.messages.map((m) => m.role),
        ["user", "assistant"],
      );
    });

    it("/hooks/inbound with one idempotencyKey sent to both gateways at once: the message stored once, one reply, the model asked once", async () => {
      const senderId = `s${randomBytes(3).toString("hex")}`;
      const payload = JSON.stringify({ channel: "telegram", senderId, text: "is the parcel out for delivery?", idempotencyKey: `hook-${randomBytes(6).toString("hex")}` });
      const asked = upstream.requests.length;
      upstream.replyDelayMs = 300;
      let replies: Array<{ sessionId: string; reply: { id: string; content: string } }>;
      try {
        replies = await Promise.all(
          [a, b].map(async (gw) => {
            const res = await fetch(`${gw.url}/hooks/inbound`, { method: "POST", headers: { authorization: `Bearer ${gw.token}`, "content-type": "application/json" }, body: payload });
            assert.equal(res.status, 200, await res.clone().text());
            return (await res.json()) as { sessionId: string; reply: { id: string; content: string } };
          }),
        );
      } finally {
        upstream.replyDelayMs = 0;
      }
      const [x, y] = replies as [(typeof replies)[0], (typeof replies)[0]];
      assert.equal(y.sessionId, x.sessionId);
      assert.equal(y.reply.id, x.reply.id, "both calls return the one stored reply");
      assert.equal(x.reply.content, "echo: is the parcel out for delivery?");
      assert.equal(upstream.requests.length - asked, 1, "the model was asked once");
      const s = await session(`dm:telegram:${senderId}`);
      assert.deepEqual(
        s.messages.map((m) => m.role),
        ["user", "assistant"],
      );
    });
  });
}
