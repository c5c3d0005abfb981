import type { ChatCompletionChunk, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { OpenclawError } from "../errors.js";
import { randomUUID } from "node:crypto";
import type { NewMessage } from "../manager/_message.js";
import type { CommandOutcome } from "../manager/append.js";
import type { SessionManager } from "../manager/manager.js";
import type { ChatBody, ModelClient } from "../model/client.js";
import type { Message, Session, ToolCall } from "../session/types.js";
import { linkedSignal, throwIfAborted } from "../store/_mutex.js";
import type { GatewayLog } from "./_log.js";
import type { SessionTarget } from "./_target.js";
import type { Telemetry, TurnProbe } from "./_telemetry.js";
import { TurnQueue, type TurnQueueLimits } from "./_turn-queue.js";

/** Token usage as the upstream reported it. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** One exchange with the model on behalf of a session (or of nobody, when stateless). */
export interface TurnRequest {
  /** The session; undefined for a stateless request (nothing read or stored). */
  target: SessionTarget | undefined;
  /** Messages recorded before asking: the new user turn, tool results. For a stateless request, the whole conversation. */
  input: NewMessage[];
  /** Upstream options: tools, tool_choice, temperature, limits, stop … */
  options: Omit<ChatBody, "messages">;
  /** System text for this call only: sent first, never stored. */
  instructions?: string | undefined;
  signal: AbortSignal;
  /** The id the reply is stored under (a fresh UUID), for callers that name it before it exists (streamed Responses). */
  replyId?: string | undefined;
  /** Streaming: receives each upstream chunk as it arrives. */
  onChunk?: ((chunk: ChatCompletionChunk) => void | Promise<void>) | undefined;
  /** The route pattern the turn came through, for metrics and traces (e.g. "/v1/chat/completions"). */
  route?: string | undefined;
}

/** What a turn did. */
export interface TurnResult {
  /** The session after the reply was stored; undefined when stateless. */
  session: Session | undefined;
  /** The stored input messages (empty when stateless or all were retries already stored). */
  input: Message[];
  /** The assistant's reply (stored, with its id, unless stateless). */
  reply: { id: string; content: string; toolCalls: ToolCall[]; createdAt: string };
  finishReason: string;
  usage: Usage | null;
  /** Set when the input was an in-chat command: answered by the session layer, the model was not asked. */
  command?: CommandOutcome;
}

/** The error for a model endpoint with no upstream configured. */
export function noModel(): OpenclawError {
  return new OpenclawError("UPSTREAM", "no upstream model is configured: set gateway.model in config.json", { userError: false, status: 503 });
}

/**
 * Runs turns: record the new messages, build the session's context within
 * its window, ask the model, store the reply. A turn is one critical section
 * per session across every process on the store: it holds the session's
 * turn lease (see TurnQueue) from recording the question to recording the
 * reply, so two requests never interleave their messages and a turn's
 * context never holds another turn's half; different sessions run in
 * parallel.
 *
 * If the caller goes away (or the upstream fails) before the reply is
 * complete, the input stays recorded and no partial reply is stored: the
 * next turn sees the question unanswered rather than half an answer. A
 * caller that goes away while its turn waits still has its input recorded
 * when the turn comes, and the model is not asked.
 *
 * A retry (every input message already stored under its client message id)
 * waits for the first attempt's turn like any other; if that attempt stored
 * an answer, the answer is returned and the model is not asked again; if it
 * died before answering, the retry asks.
 */
export class TurnRunner {
  private readonly queue: TurnQueue;
  private readonly log: GatewayLog | undefined;
  /** Sessions' own models already looked up, so an unknown one is warned about once, not every turn. */
  private readonly checkedModels = new Set<string>();
  private readonly telemetry: Telemetry | undefined;

  constructor(
    private readonly manager: SessionManager,
    private readonly model: ModelClient | undefined,
    options: { queue?: TurnQueueLimits; shutdown?: AbortSignal; log?: GatewayLog; telemetry?: Telemetry } = {},
  ) {
    this.queue = new TurnQueue(manager, options.queue ?? manager.config.gateway.turnQueue, options.shutdown ?? new AbortController().signal, options.log);
    this.log = options.log;
    this.telemetry = options.telemetry;
  }

  /** Runs one turn (counted, timed and traced when the gateway observes itself). */
  async run(req: TurnRequest): Promise<TurnResult> {
    const model = this.model;
    if (model === undefined) throw noModel();
    const telemetry = this.telemetry;
    if (telemetry === undefined) return this.turn(model, req, undefined);
    return telemetry.turn(req.route ?? "other", (probe) => this.turn(model, req, probe));
  }

  private async turn(model: ModelClient, req: TurnRequest, probe: TurnProbe | undefined): Promise<TurnResult> {
    if (req.target === undefined) return this.stateless(model, req, probe);
    const id = await this.sessionOf(req.target, req.input, req.signal);
    probe?.session(id);
    return this.queue.run(id, async (lost) => {
      const stored: Message[] = [];
      let last: Message | undefined;
      // A turn whose only input is a user message may be an in-chat command, answered without the model.
      const commands = req.input.length === 1 && req.input[0]?.role === "user";
      // Recorded even when the caller has gone meanwhile (as on a disconnect mid-turn); only losing the lease stops it.
      // The address the request came from keeps the session's origin and participants current.
      const target = req.target;
      const from = target === undefined ? undefined : "inbound" in target ? target.inbound : "via" in target ? target.via : undefined;
      const via = from !== undefined ? { via: from } : {};
      for (const m of req.input) {
        const r = await this.manager.record({ ref: id, ...via }, m, { signal: lost, commands });
        if (r.command !== undefined) return commandTurn(r.session, r.command, req.replyId);
        if (!r.duplicate) stored.push(r.message);
        last = r.message;
      }
      throwIfAborted(req.signal);
      // A retry of a turn that completed (every input message already stored under
      // its client id, and answered): the stored answer is returned, nothing is asked again.
      if (req.input.length > 0 && stored.length === 0 && last !== undefined) {
        const replay = await this.answered(id, last.id);
        if (replay !== undefined) return replay;
      }
      const { signal, dispose } = linkedSignal([req.signal, lost]);
      let reply: Reply;
      let sentTokens: number;
      try {
        // Instructions go after the session's own system prompts, inside the budget.
        const context = await this.manager.buildContext(id, { signal, instructions: req.instructions });
        sentTokens = context.tokens;
        const messages = context.messages as ChatCompletionMessageParam[];
        // Asked of the model the context was sized for: the session's own (`/new <model>`) or the configured one.
        const own = context.model === model.model ? undefined : context.model;
        if (own !== undefined) await this.checkModel(own);
        reply = await this.ask(model, messages, { ...req, signal }, own, probe);
      } finally {
        dispose();
      }
      throwIfAborted(lost);
      // Counted with the reply, in its write: the upstream's figures, or the session's own count of what was sent when it gave none.
      const u = reply.usage;
      // A figure that is not a whole count (an odd upstream) is treated as missing, never as a reason to lose the reply.
      const usage = u === null ? { contextTokens: sentTokens } : { input: tokenCount(u.prompt_tokens), output: tokenCount(u.completion_tokens), total: tokenCount(u.total_tokens), contextTokens: sentTokens };
      const saved = await this.manager.record(
        { ref: id },
        { role: "assistant", content: reply.content, sender: null, ...(reply.toolCalls.length > 0 ? { toolCalls: reply.toolCalls } : {}) },
        req.replyId === undefined ? { signal: lost, usage } : { messageId: req.replyId, signal: lost, usage },
      );
      return {
        session: saved.session,
        input: stored,
        reply: { id: saved.message.id, content: reply.content, toolCalls: reply.toolCalls, createdAt: saved.message.createdAt },
        finishReason: reply.finishReason,
        usage: reply.usage,
      };
    });
  }

  /** Logs, once per model, the warnings met finding a session's own model's window (unknown: planned at 8k), as the start-up does for the configured one. */
  private async checkModel(name: string): Promise<void> {
    if (this.checkedModels.has(name)) return;
    // Names come from chat (`/new <model>`): bounded, at worst a warning is repeated.
    if (this.checkedModels.size >= 1000) this.checkedModels.clear();
    this.checkedModels.add(name);
    for (const message of (await this.manager.window(name)).warnings) this.log?.warn({ event: "warning" }, message);
  }

  private async answered(id: string, inputId: string): Promise<TurnResult | undefined> {
    const session = await this.manager.get(id);
    const at = session.messages.findIndex((m) => m.id === inputId);
    const reply = at < 0 ? undefined : session.messages.slice(at + 1).find((m) => m.role === "assistant");
    if (reply === undefined) return undefined;
    return {
      session,
      input: [],
      reply: { id: reply.id, content: reply.content, toolCalls: [...(reply.toolCalls ?? [])], createdAt: reply.createdAt },
      finishReason: (reply.toolCalls ?? []).length > 0 ? "tool_calls" : "stop",
      usage: null,
    };
  }

  /** Runs `fn` as a turn of the session (for other endpoints that change a session mid-conversation). */
  exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    return this.queue.run(id, () => fn());
  }

  /** The session id a request names, found or created as a key or an inbound address would be. Messages are checked first. */
  async sessionOf(target: SessionTarget, input: readonly NewMessage[], signal: AbortSignal): Promise<string> {
    for (const m of input) this.manager.checkMessage(m);
    if ("ref" in target) return this.manager.resolve(target.ref, { signal });
    if ("key" in target) {
      const sender = input.find((m) => m.sender !== undefined && m.sender !== null)?.sender;
      return (await this.manager.sessionForKey(target.key, { signal, ...(sender ? { participants: [sender] } : {}) })).id;
    }
    return (await this.manager.route(target.inbound, { signal })).id;
  }

  private async stateless(model: ModelClient, req: TurnRequest, probe: TurnProbe | undefined): Promise<TurnResult> {
    const history: ChatCompletionMessageParam[] = req.input.map(toChatParam);
    const reply = await this.ask(model, [...instructionsOf(req), ...history], req, undefined, probe);
    return {
      session: undefined,
      input: [],
      reply: { id: req.replyId ?? `stateless-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`, content: reply.content, toolCalls: reply.toolCalls, createdAt: new Date().toISOString() },
      finishReason: reply.finishReason,
      usage: reply.usage,
    };
  }

  private async ask(model: ModelClient, messages: ChatCompletionMessageParam[], req: TurnRequest, name: string | undefined, probe: TurnProbe | undefined): Promise<Reply> {
    const call = probe?.upstream(name ?? model.model);
    try {
      const reply = await this.exchange(model, messages, req, name);
      call?.done(reply.model, reply.usage);
      return reply;
    } catch (err) {
      call?.fail(err);
      throw err;
    }
  }

  private async exchange(model: ModelClient, messages: ChatCompletionMessageParam[], req: TurnRequest, name: string | undefined): Promise<Reply> {
    const body: ChatBody = { ...req.options, messages };
    if (req.onChunk === undefined) {
      const done = await model.complete(body, req.signal, name);
      const choice = done.choices[0];
      const toolCalls = (choice?.message.tool_calls ?? []).flatMap((c) => (c.type === "function" ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : []));
      return { content: choice?.message.content ?? "", toolCalls, finishReason: choice?.finish_reason ?? "stop", usage: usageOf(done.usage), model: done.model };
    }
    let answeredBy: string | undefined;
    let content = "";
    let finishReason = "stop";
    let usage: Usage | null = null;
    const calls: Array<{ id: string; name: string; arguments: string }> = [];
    for await (const chunk of await model.stream(body, req.signal, name)) {
      const choice = chunk.choices[0];
      if (choice !== undefined) {
        content += choice.delta.content ?? "";
        for (const d of choice.delta.tool_calls ?? []) {
          const call = (calls[d.index] ??= { id: "", name: "", arguments: "" });
          if (d.id) call.id = d.id;
          if (d.function?.name) call.name += d.function.name;
          if (d.function?.arguments) call.arguments += d.function.arguments;
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      if (chunk.usage) usage = usageOf(chunk.usage);
      answeredBy ??= chunk.model;
      await req.onChunk(chunk);
    }
    return { content, toolCalls: calls.filter((c) => c.id !== "" && c.name !== ""), finishReason, usage, model: answeredBy };
  }
}

/** A model's answer to one call. */
interface Reply {
  content: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: Usage | null;
  /** The model the upstream says answered, when it says. */
  model: string | undefined;
}

function tokenCount(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * The turn of an in-chat command: its answer as the reply, no usage (no
 * model was asked). The reply is not stored; its id is the session's latest
 * stored reply when it has one, so a Responses client continuing from this
 * response continues the session as it stands.
 */
function commandTurn(session: Session, command: CommandOutcome, replyId: string | undefined): TurnResult {
  const latest = session.messages.findLast((m) => m.role === "assistant");
  return {
    session,
    input: [],
    reply: { id: latest?.id ?? replyId ?? randomUUID(), content: command.reply, toolCalls: [], createdAt: new Date().toISOString() },
    finishReason: "stop",
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    command,
  };
}

function instructionsOf(req: TurnRequest): ChatCompletionMessageParam[] {
  return req.instructions === undefined || req.instructions === "" ? [] : [{ role: "system", content: req.instructions }];
}

function usageOf(u: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null | undefined): Usage | null {
  return u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens } : null;
}

/** A message to record, in the chat-completions shape the upstream takes. */
export function toChatParam(m: NewMessage): ChatCompletionMessageParam {
  if (m.role === "tool") return { role: "tool", content: m.content, tool_call_id: m.toolCallId ?? "" };
  if (m.role === "assistant") {
    const calls = m.toolCalls ?? [];
    return {
      role: "assistant",
      content: m.content,
      ...(calls.length > 0 ? { tool_calls: calls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } })) } : {}),
    };
  }
  return { role: m.role, content: m.content };
}
