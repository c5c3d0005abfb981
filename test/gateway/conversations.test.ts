import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { ConversationItem } from "openai/resources/conversations/items";
import type { Session } from "../../src/session/types.js";
import { runCli } from "../helpers/cli-run.js";
import { startFakeUpstream, type FakeUpstream } from "../helpers/fake-upstream.js";
import { startGatewayProcess, type GatewayProcess } from "../helpers/gateway-process.js";

/** An item as [type, role or call id, text] for compact comparisons. */
function brief(i: ConversationItem): string[] {
  if (i.type === "message") return ["message", i.role, i.content.map((p) => ("text" in p ? p.text : "")).join("")];
  if (i.type === "function_call") return ["function_call", i.call_id, i.name];
  if (i.type === "function_call_output") return ["function_call_output", i.call_id, typeof i.output === "string" ? i.output : ""];
  return [i.type];
}

const sessionIdOf = (conv: string) => {
  const h = conv.slice("conv_".length);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

describe("gateway: the Conversations API through the official openai client", () => {
  let upstream: FakeUpstream;
  let gw: GatewayProcess;
  let client: OpenAI;
  const show = async (conv: string) => JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "show", sessionIdOf(conv), "--json"], gw.home)).stdout) as Session;

  before(async () => {
    upstream = await startFakeUpstream();
    // A short history, so old turns are folded into the summary while the tests page through them.
    gw = await startGatewayProcess({ sessions: { maxHistoryLength: 4 }, gateway: { model: { baseUrl: upstream.baseUrl, model: "fake-model", maxRetries: 0 } } });
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.token, maxRetries: 0 });
  });
  after(async () => {
    assert.equal(await gw.stop(), 0, "SIGTERM exits 0");
    await upstream.close();
  });

  it("creates, retrieves, updates and deletes a conversation", async () => {
    const conv = await client.conversations.create({ metadata: { topic: "orders" }, items: [{ role: "user", content: "first words" }] });
    assert.match(conv.id, /^conv_[0-9a-f]{32}$/);
    assert.equal(conv.object, "conversation");
    assert.deepEqual(conv.metadata, { topic: "orders" });
    assert.ok(Math.abs(conv.created_at - Date.now() / 1000) < 60);
    const doc = await show(conv.id);
    assert.match(doc.key, /^isolated:conversation:/);
    assert.deepEqual(doc.preferences["openai.metadata"], { topic: "orders" });
    assert.deepEqual(
      doc.messages.map((m) => [m.role, m.content]),
      [["user", "first words"]],
    );

    assert.deepEqual(await client.conversations.retrieve(conv.id), conv);
    const updated = await client.conversations.update(conv.id, { metadata: { topic: "billing", lang: "en" } });
    assert.deepEqual(updated.metadata, { topic: "billing", lang: "en" });
    assert.deepEqual((await client.conversations.retrieve(conv.id)).metadata, { topic: "billing", lang: "en" });
    assert.deepEqual((await client.conversations.update(conv.id, { metadata: null })).metadata, {});

    assert.deepEqual(await client.conversations.delete(conv.id), { id: conv.id, object: "conversation.deleted", deleted: true });
    await assert.rejects(client.conversations.retrieve(conv.id), OpenAI.NotFoundError);
    await assert.rejects(client.conversations.delete(conv.id), OpenAI.NotFoundError);
  });

  it("refuses unknown and malformed ids and bad bodies with typed errors", async () => {
    const unknown = `conv_${"ab".repeat(16)}`;
    await assert.rejects(client.conversations.retrieve(unknown), OpenAI.NotFoundError);
    await assert.rejects(client.conversations.update(unknown, { metadata: {} }), OpenAI.NotFoundError);
    await assert.rejects(client.conversations.items.list(unknown), OpenAI.NotFoundError);
    await assert.rejects(client.conversations.items.create(unknown, { items: [{ role: "user", content: "x" }] }), OpenAI.NotFoundError);
    await assert.rejects(client.conversations.retrieve("conv_../../etc"), OpenAI.BadRequestError);
    await assert.rejects(client.conversations.retrieve("nonsense"), OpenAI.BadRequestError);
    await assert.rejects(client.conversations.create({ metadata: { k: 5 as unknown as string } }), OpenAI.BadRequestError);
    const big = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    await assert.rejects(client.conversations.create({ metadata: big }), OpenAI.BadRequestError);
    const before = (JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "list", "--json"], gw.home)).stdout) as { total: number }).total;
    await assert.rejects(client.conversations.create({ items: [{ type: "function_call_output", output: "no call id" } as unknown as OpenAI.Responses.ResponseInputItem] }), OpenAI.BadRequestError);
    const afterList = (JSON.parse((await runCli(["--state-dir", gw.stateDir, "sessions", "list", "--json"], gw.home)).stdout) as { total: number }).total;
    assert.equal(afterList, before, "a refused create leaves no session behind");
    const conv = await client.conversations.create();
    await assert.rejects(client.conversations.items.list(conv.id, { limit: 101 }), OpenAI.BadRequestError);
    await assert.rejects(client.conversations.items.list(conv.id, { order: "sideways" as "asc" }), OpenAI.BadRequestError);
    await assert.rejects(client.conversations.items.retrieve("msg_nope", { conversation_id: conv.id }), OpenAI.NotFoundError);
    await assert.rejects(client.conversations.items.delete(`msg_${"0".repeat(32)}`, { conversation_id: conv.id }), OpenAI.NotFoundError);
  });

  it("lists every item, folded history included, page by page in both orders", async () => {
    const conv = await client.conversations.create();
    const texts = Array.from({ length: 7 }, (_, i) => `message ${i}`);
    const created = await client.conversations.items.create(conv.id, {
      items: texts.map((t, i) =>
        i % 2 === 0
          ? { role: "user" as const, content: t }
          : { type: "message" as const, role: "assistant" as const, content: [{ type: "output_text" as const, text: t, annotations: [] }], id: "ignored", status: "completed" as const },
      ),
    });
    assert.equal(created.object, "list");
    assert.equal(created.has_more, false);
    assert.deepEqual(
      created.data.map((i) => brief(i)[2]),
      texts,
    );
    assert.equal(created.first_id, created.data[0]?.id);
    assert.equal(created.last_id, created.data.at(-1)?.id);
    const doc = await show(conv.id);
    assert.ok(doc.prunedCount > 0 && doc.messages.length < texts.length, "old turns were folded out of the active history");

    const asc: string[] = [];
    for await (const item of client.conversations.items.list(conv.id, { limit: 2, order: "asc" })) asc.push(brief(item)[2] ?? "");
    assert.deepEqual(asc, texts);
    const desc: string[] = [];
    for await (const item of client.conversations.items.list(conv.id, { limit: 2 })) desc.push(brief(item)[2] ?? "");
    assert.deepEqual(desc, [...texts].reverse(), "the default order is desc");

    const page = await client.conversations.items.list(conv.id, { limit: 3, order: "asc" });
    assert.equal(page.data.length, 3);
    assert.equal(page.has_more, true);
    const raw = (await (await fetch(`${gw.url}/v1/conversations/${conv.id}/items?order=asc&limit=3&after=${page.data[2]?.id}`, { headers: { authorization: `Bearer ${gw.token}` } })).json()) as {
      data: unknown[];
      first_id: string;
      has_more: boolean;
    };
    assert.equal(raw.data.length, 3);
    assert.equal(raw.has_more, true);
    const last = (await (await fetch(`${gw.url}/v1/conversations/${conv.id}/items?order=asc&limit=3&after=${created.data[5]?.id}`, { headers: { authorization: `Bearer ${gw.token}` } })).json()) as {
      data: unknown[];
      has_more: boolean;
    };
    assert.equal(last.data.length, 1);
    assert.equal(last.has_more, false);

    // Stable ids: the same item read twice (and through a folded message) is the same.
    const first = created.data[0];
    assert.ok(first?.id);
    assert.deepEqual(await client.conversations.items.retrieve(first.id, { conversation_id: conv.id }), first);
  });

  it("maps tool calls and results to function_call and function_call_output items", async () => {
    const conv = await client.conversations.create({
      items: [
        { role: "user", content: "check two orders" },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "checking", annotations: [] }], id: "x", status: "completed" },
        { type: "function_call", call_id: "call_1", name: "lookup", arguments: '{"o":1}' },
        { type: "function_call", call_id: "call_2", name: "lookup", arguments: '{"o":2}' },
        { type: "function_call_output", call_id: "call_1", output: "shipped" },
        { type: "function_call_output", call_id: "call_2", output: "pending" },
      ],
    });
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data;
    assert.deepEqual(items.map(brief), [
      ["message", "user", "check two orders"],
      ["message", "assistant", "checking"],
      ["function_call", "call_1", "lookup"],
      ["function_call", "call_2", "lookup"],
      ["function_call_output", "call_1", "shipped"],
      ["function_call_output", "call_2", "pending"],
    ]);
    const call = items[2];
    assert.ok(call?.type === "function_call");
    assert.equal(call.arguments, '{"o":1}');
    assert.equal(call.status, "completed");
    // The assistant's text and both calls are one stored message.
    const doc = await show(conv.id);
    assert.deepEqual(
      doc.messages[1]?.toolCalls?.map((c) => c.id),
      ["call_1", "call_2"],
    );

    // Deleting one call deletes its message: the text and the sibling call go with it (documented).
    const after = await client.conversations.items.delete(items[3]?.id ?? "", { conversation_id: conv.id });
    assert.equal(after.id, conv.id);
    assert.equal(after.object, "conversation");
    const left = (await client.conversations.items.list(conv.id, { order: "asc" })).data;
    assert.deepEqual(
      left.map((i) => brief(i)[0]),
      ["message", "function_call_output", "function_call_output"],
    );
    await assert.rejects(client.conversations.items.retrieve(items[2]?.id ?? "", { conversation_id: conv.id }), OpenAI.NotFoundError);

    // Deleting a plain item removes only that message.
    await client.conversations.items.delete(left[1]?.id ?? "", { conversation_id: conv.id });
    assert.deepEqual((await client.conversations.items.list(conv.id, { order: "asc" })).data.map(brief), [
      ["message", "user", "check two orders"],
      ["function_call_output", "call_2", "pending"],
    ]);
  });

  it("items added while a turn runs land after it, never inside it", async () => {
    const conv = await client.conversations.create();
    upstream.chunkDelayMs = 40;
    try {
      const stream = await client.responses.create({ model: "fake-model", input: "slow words come one by one", conversation: conv.id, stream: true });
      let added: Promise<unknown> | undefined;
      let deltasAfter = 0;
      for await (const event of stream) {
        if (event.type !== "response.output_text.delta") continue;
        // Sent as soon as the reply has begun, so it reaches the gateway while the turn runs.
        if (added === undefined) added = client.conversations.items.create(conv.id, { items: [{ role: "user", content: "meanwhile" }] });
        else deltasAfter++;
      }
      await added;
      assert.ok(deltasAfter > 0, "the reply was still streaming when the item was sent");
    } finally {
      upstream.chunkDelayMs = 0;
    }
    const items = (await client.conversations.items.list(conv.id, { order: "asc" })).data.map((i) => brief(i)[2]);
    assert.deepEqual(items, ["slow words come one by one", "echo: slow words come one by one", "meanwhile"]);
  });
});
