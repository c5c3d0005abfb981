import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

const ALICE = "alice-chat-token-0123456789";
const BOB = "bob-chat-token-0123456789ab";

const sessionOf = (responseId: string) => {
  const h = responseId.slice("resp_".length, "resp_".length + 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};
const sent = (upstream: FakeUpstream) => upstream.requests.at(-1)?.body.messages.map((m) => [m.role, m.content]);

describe("gateway: retrieving and deleting stored responses through the official openai client", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let alice: OpenAI;
  let bob: OpenAI;
  const clientFor = (token: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: token, maxRetries: 0 });
  const raw = (path: string, token: string, method = "GET") => fetch(`${gw.url}/v1${path}`, { method, headers: { authorization: `Bearer ${token}` } });
  const exists = async (sessionId: string) => (await runCli(["--state-dir", gw.stateDir, "sessions", "show", sessionId, "--json"], gw.home)).code === 0;
  const show = async (sessionId: string) => JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "show", sessionId, "--json"], gw.home)).stdout) as Session;
  /** Asserts `p` fails as a 404 in OpenAI's error shape, and returns the message. */
  const notFound = async (p: Promise<unknown>): Promise<string> => {
    let message = "";
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError, String(err));
      assert.deepEqual(Object.keys(err.error as object).sort(), ["code", "message", "param", "type"]);
      message = (err.error as { message: string }).message;
      return true;
    });
    return message;
  };

  before(async () => {
    upstream = await startFakeUpstream();
    gw = await startGatewayProcess({
      gateway: {
        model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 },
        auth: {
          tokens: [
            { name: "alice", token: ALICE, scopes: ["chat"] },
            { name: "bob", token: BOB, scopes: ["chat"] },
          ],
        },
      },
    });
    alice = clientFor(ALICE);
    bob = clientFor(BOB);
  });
  after(async () => {
    await gw?.stop();
    await upstream?.close();
  });

  it("retrieve gives back the Response the create call returned", async () => {
    const created = await alice.responses.create({ model: "fake-model", input: "what is the capital of France?" });
    const got = await alice.responses.retrieve(created.id);
    assert.equal(got.id, created.id);
    assert.equal(got.object, "response");
    assert.equal(got.status, "completed");
    assert.equal(got.model, "fake-model");
    assert.equal(got.output_text, "echo: what is the capital of France?");
    assert.deepEqual(got.output, created.output);
    assert.deepEqual(got.usage, created.usage);
    assert.equal(got.previous_response_id, null);
    assert.equal(got.conversation, null);
    assert.equal(got.error, null);
    // Read back as the time its input was recorded: within the create call, to the second.
    const [from, to, done] = [created.created_at, created.completed_at ?? Infinity, got.completed_at ?? -1];
    assert.ok(from <= got.created_at && got.created_at <= done && done <= to, `created_at ${got.created_at}, completed_at ${done}; the create call ran ${from}-${to}`);
  });

  it("a streamed response is retrieved under the id the stream announced, with the same items", async () => {
    const stream = alice.responses.stream({ model: "fake-model", input: "streamed words here" });
    const final = await stream.finalResponse();
    const got = await alice.responses.retrieve(final.id);
    assert.equal(got.output_text, "echo: streamed words here");
    assert.deepEqual(
      got.output.map((i) => i.id),
      final.output.map((i) => i.id),
    );
  });

  it("a response further down a chain names the one before it; one in a conversation names its conversation", async () => {
    const first = await alice.responses.create({ model: "fake-model", input: "one" });
    const second = await alice.responses.create({ model: "fake-model", input: "two", previous_response_id: first.id });
    const got = await alice.responses.retrieve(second.id);
    assert.equal(got.previous_response_id, first.id);
    assert.equal(got.output_text, "echo: two");

    const conv = await alice.conversations.create({});
    const inConv = await alice.responses.create({ model: "fake-model", input: "hi there", conversation: conv.id });
    const again = await alice.responses.retrieve(inConv.id);
    assert.deepEqual(again.conversation, { id: conv.id });
    assert.equal(again.previous_response_id, null);
    assert.equal(again.output_text, "echo: hi there");
  });

  it("an unknown, malformed, unstored or someone else's response id is the same 404", async () => {
    const mine = await alice.responses.create({ model: "fake-model", input: "private" });
    const stateless = await alice.responses.create({ model: "fake-model", input: "nothing kept", store: false });
    const unknown = `resp_${"0".repeat(32)}_${"1".repeat(32)}`;
    // A real session, but a message id it does not hold.
    const wrongReply = `${mine.id.slice(0, "resp_".length + 33)}${"2".repeat(32)}`;
    for (const id of [unknown, "resp_nonsense", "not-a-response", stateless.id, wrongReply]) {
      assert.equal(await notFound(alice.responses.retrieve(id)), `Response with id '${id}' not found.`);
      assert.equal(await notFound(alice.responses.delete(id)), `Response with id '${id}' not found.`);
    }
    // Bob's token is told exactly what an unknown id gets: nothing says the response exists.
    assert.equal(await notFound(bob.responses.retrieve(mine.id)), `Response with id '${mine.id}' not found.`);
    assert.equal(await notFound(bob.responses.delete(mine.id)), `Response with id '${mine.id}' not found.`);
    const res = await raw(`/responses/${mine.id}`, BOB);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { message: `Response with id '${mine.id}' not found.`, type: "invalid_request_error", code: "not_found", param: null } });
    // Bob's attempt changed nothing.
    assert.equal((await alice.responses.retrieve(mine.id)).output_text, "echo: private");
  });

  it("deleting a one-off response deletes its session; retrieve and previous_response_id then refuse it", async () => {
    const r = await alice.responses.create({ model: "fake-model", input: "forget me" });
    assert.ok(await exists(sessionOf(r.id)));
    const res = await raw(`/responses/${r.id}`, ALICE, "DELETE");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: r.id, object: "response", deleted: true });
    assert.equal(await exists(sessionOf(r.id)), false, "the session that only held it is gone");
    await notFound(alice.responses.retrieve(r.id));
    await notFound(alice.responses.delete(r.id));
    await assert.rejects(alice.responses.create({ model: "fake-model", input: "and?", previous_response_id: r.id }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.match(err.message, /Previous response with id '.*' not found/);
      return true;
    });
  });

  it("the official client's delete works too", async () => {
    const r = await alice.responses.create({ model: "fake-model", input: "short-lived" });
    await alice.responses.delete(r.id);
    await notFound(alice.responses.retrieve(r.id));
  });

  it("deleting a response inside a chain keeps every turn: the model still sees them, only that response id is refused", async () => {
    const first = await alice.responses.create({ model: "fake-model", input: "alpha" });
    const second = await alice.responses.create({ model: "fake-model", input: "beta", previous_response_id: first.id });
    await alice.responses.delete(first.id);
    await notFound(alice.responses.retrieve(first.id));
    await assert.rejects(alice.responses.create({ model: "fake-model", input: "from the first", previous_response_id: first.id }), OpenAI.BadRequestError);
    assert.equal((await alice.responses.retrieve(second.id)).previous_response_id, first.id);
    const third = await alice.responses.create({ model: "fake-model", input: "gamma", previous_response_id: second.id });
    assert.equal(third.output_text, "echo: gamma");
    assert.deepEqual(sent(upstream), [
      ["user", "alpha"],
      ["assistant", "echo: alpha"],
      ["user", "beta"],
      ["assistant", "echo: beta"],
      ["user", "gamma"],
    ]);
    // Deleting the rest of the chain leaves nothing to reach: the session goes.
    await alice.responses.delete(second.id);
    assert.ok(await exists(sessionOf(third.id)));
    await alice.responses.delete(third.id);
    assert.equal(await exists(sessionOf(third.id)), false);
  });

  it("deleting a response in a conversation keeps the conversation and its items", async () => {
    const conv = await alice.conversations.create({});
    const r = await alice.responses.create({ model: "fake-model", input: "keep the talk", conversation: conv.id });
    await alice.responses.delete(r.id);
    await notFound(alice.responses.retrieve(r.id));
    const items = await alice.conversations.items.list(conv.id, { order: "asc" });
    assert.equal(items.data.length, 2);
    assert.equal((await show(sessionOf(r.id))).messages.length, 2);
    const next = await alice.responses.create({ model: "fake-model", input: "still here", conversation: conv.id });
    assert.equal(next.output_text, "echo: still here");
  });

  it("streaming retrieve is refused: this gateway makes no background responses", async () => {
    const r = await alice.responses.create({ model: "fake-model", input: "no stream" });
    const res = await raw(`/responses/${r.id}?stream=true`, ALICE);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /background/);
  });
});
