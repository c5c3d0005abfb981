import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { classify } from "../_http.js";
import type { SseWriter } from "../_sse.js";
import type { TurnResult } from "../_turn.js";
import { callItemId, messageItemId } from "./_ids.js";
import { assistantItem, callItem, outputText, type Item } from "./_items.js";
import { endOf, outputOf, responseBody, responseIdFor, type ResponseFrame, type ResponseState } from "./_response.js";

// An output item being streamed: the message (text) or one function call,
// at the output index it was announced with.
// A call's `position` among the reply's calls names its item; `chunk` is the
// upstream's index for it, which later argument deltas carry.
type Slot = { kind: "message"; index: number; text: string } | { kind: "call"; index: number; position: number; chunk: number; callId: string; name: string; arguments: string };
type CallSlot = Extract<Slot, { kind: "call" }>;

/**
 * Turns upstream chat-completions chunks into the Responses event stream
 * the openai SDK's ResponseStream accumulates: response.created and
 * response.in_progress, then per output item `output_item.added`, its
 * deltas, its `.done` events and `output_item.done`, then
 * response.completed (response.incomplete for a cut-off reply,
 * response.failed when the upstream fails mid-way). Every event has its
 * `type` and an increasing `sequence_number`.
 *
 * Nothing is sent before the upstream's first chunk, so an upstream that
 * refuses the call still yields an ordinary HTTP error a client can retry.
 */
export class ResponseEvents {
  private seq = 0;
  private id: string | undefined;
  private readonly slots: Slot[] = [];
  private message: Extract<Slot, { kind: "message" }> | undefined;
  /** Upstream tool-call deltas by their chunk index, until they have an id and a name. */
  private readonly pending = new Map<number, { id: string; name: string; arguments: string }>();

  constructor(
    private readonly sse: SseWriter,
    private readonly frame: ResponseFrame,
    private readonly replyId: string,
  ) {}

  /** True once the stream has begun (a failure is then a response.failed event, not an HTTP error). */
  get started(): boolean {
    return this.id !== undefined;
  }

  /** Translates one upstream chunk. */
  async chunk(chunk: ChatCompletionChunk): Promise<void> {
    const choice = chunk.choices[0];
    if (choice === undefined) return;
    await this.start(this.replyId);
    const text = choice.delta.content ?? "";
    if (text !== "") await this.text(text);
    for (const d of choice.delta.tool_calls ?? []) {
      const slot = this.slots.find((s): s is CallSlot => s.kind === "call" && s.chunk === d.index);
      if (slot !== undefined) {
        const delta = d.function?.arguments ?? "";
        slot.arguments += delta;
        if (delta !== "") await this.emit("response.function_call_arguments.delta", { item_id: callItemId(this.replyId, slot.position), output_index: slot.index, delta });
        continue;
      }
      const call = this.pending.get(d.index) ?? { id: "", name: "", arguments: "" };
      if (d.id) call.id = d.id;
      call.name += d.function?.name ?? "";
      call.arguments += d.function?.arguments ?? "";
      this.pending.set(d.index, call);
      // Announced once it has an id and a name, so the added item already says which function it calls.
      if (call.id !== "" && call.name !== "") {
        this.pending.delete(d.index);
        await this.openCall(d.index, call);
      }
    }
  }

  /** Closes the streamed items against the stored reply and sends response.completed. */
  async finish(r: TurnResult): Promise<void> {
    // A replayed answer (a retried request already answered) streamed nothing: it is sent whole now.
    await this.start(r.reply.id);
    const end = endOf(r.finishReason);
    const itemStatus = end.status === "completed" ? "completed" : "incomplete";
    const final = outputOf(r.reply, itemStatus);
    const output: Item[] = [];
    for (const slot of this.slots) {
      if (slot.kind === "message") {
        const item = final.find((i) => i.type === "message") ?? assistantItem(this.replyId, slot.text, "incomplete");
        const text = item.type === "message" ? (item.content[0]?.text ?? "") : slot.text;
        const where = { item_id: item.id, output_index: slot.index, content_index: 0 };
        await this.emit("response.output_text.done", { ...where, text, logprobs: [] });
        await this.emit("response.content_part.done", { ...where, part: outputText(text) });
        await this.emit("response.output_item.done", { output_index: slot.index, item });
        output.push(item);
      } else {
        const item = final.find((i) => i.type === "function_call" && i.call_id === slot.callId) ?? callItem(this.replyId, slot.position, { id: slot.callId, name: slot.name, arguments: slot.arguments }, "incomplete");
        const args = item.type === "function_call" ? item.arguments : slot.arguments;
        await this.emit("response.function_call_arguments.done", { item_id: item.id, output_index: slot.index, name: slot.name, arguments: args });
        await this.emit("response.output_item.done", { output_index: slot.index, item });
        output.push(item);
      }
    }
    for (const item of final) {
      if (output.some((o) => o.id === item.id)) continue;
      await this.whole(item, output.length);
      output.push(item);
    }
    // A reply cut short ends the stream as OpenAI ends it: response.incomplete, not response.completed.
    await this.emit(end.status === "incomplete" ? "response.incomplete" : "response.completed", { response: this.body({ ...end, output, usage: r.usage }) });
  }

  /** Ends a started stream with response.failed (the partial reply is not stored, so no output is shown). */
  async fail(err: unknown): Promise<void> {
    const { status, message } = classify(err);
    const code = status === 429 ? "rate_limit_exceeded" : "server_error";
    await this.emit("response.failed", { response: this.body({ status: "failed", output: [], usage: null, error: { code, message } }) });
  }

  private async start(replyId: string): Promise<void> {
    if (this.id !== undefined) return;
    this.id = responseIdFor(this.frame, replyId);
    const response = this.body({ status: "in_progress", output: [], usage: null });
    await this.emit("response.created", { response });
    await this.emit("response.in_progress", { response });
  }

  private async text(delta: string): Promise<void> {
    if (this.message === undefined) {
      this.message = { kind: "message", index: this.slots.length, text: "" };
      this.slots.push(this.message);
      const item = assistantItem(this.replyId, "", "in_progress");
      item.content = [];
      await this.emit("response.output_item.added", { output_index: this.message.index, item });
      await this.emit("response.content_part.added", { item_id: item.id, output_index: this.message.index, content_index: 0, part: outputText("") });
    }
    this.message.text += delta;
    await this.emit("response.output_text.delta", { item_id: messageItemId(this.replyId), output_index: this.message.index, content_index: 0, delta, logprobs: [] });
  }

  private async openCall(chunk: number, call: { id: string; name: string; arguments: string }): Promise<void> {
    const position = this.slots.filter((s) => s.kind === "call").length;
    const slot: CallSlot = { kind: "call", index: this.slots.length, position, chunk, callId: call.id, name: call.name, arguments: call.arguments };
    this.slots.push(slot);
    const item = callItem(this.replyId, position, { id: call.id, name: call.name, arguments: "" }, "in_progress");
    await this.emit("response.output_item.added", { output_index: slot.index, item });
    if (call.arguments !== "") await this.emit("response.function_call_arguments.delta", { item_id: item.id, output_index: slot.index, delta: call.arguments });
  }

  /** Sends a complete item that was never streamed: added, its content, done. */
  private async whole(item: Item, index: number): Promise<void> {
    if (item.type === "message") {
      const text = item.content[0]?.text ?? "";
      const where = { item_id: item.id, output_index: index, content_index: 0 };
      await this.emit("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", content: [] } });
      await this.emit("response.content_part.added", { ...where, part: outputText("") });
      if (text !== "") await this.emit("response.output_text.delta", { ...where, delta: text, logprobs: [] });
      await this.emit("response.output_text.done", { ...where, text, logprobs: [] });
      await this.emit("response.content_part.done", { ...where, part: outputText(text) });
    } else if (item.type === "function_call") {
      await this.emit("response.output_item.added", { output_index: index, item: { ...item, status: "in_progress", arguments: "" } });
      if (item.arguments !== "") await this.emit("response.function_call_arguments.delta", { item_id: item.id, output_index: index, delta: item.arguments });
      await this.emit("response.function_call_arguments.done", { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
    }
    await this.emit("response.output_item.done", { output_index: index, item });
  }

  private body(state: ResponseState): Record<string, unknown> {
    return responseBody(this.frame, this.id ?? responseIdFor(this.frame, this.replyId), state);
  }

  private async emit(type: string, fields: Record<string, unknown>): Promise<void> {
    await this.sse.send({ type, sequence_number: this.seq++, ...fields }, type);
  }
}
