import type { ToolCall } from "../../session/types.js";
import type { Usage } from "../_turn.js";
import { conversationIdOf, responseIdOf, statelessResponseId } from "./_ids.js";
import { assistantItem, callItem, type Item } from "./_items.js";
import type { ResponsesOptions } from "./_options.js";

/** What every Response object of one request shares: where it is stored, and the settings it echoes. */
export interface ResponseFrame {
  /** The session the exchange is recorded in; undefined when nothing is stored (`store: false`). */
  sessionId: string | undefined;
  /** Set when the request named a conversation. */
  conversation: boolean;
  previousResponseId: string | null;
  instructions: string | null;
  model: string;
  createdAt: number;
  store: boolean;
  echo: ResponsesOptions["echo"];
  /** The id of a response nothing is stored for, made once per request. */
  statelessId: string;
}

/** Builds the frame of a request (`statelessId` is made here). */
export function frameOf(fields: Omit<ResponseFrame, "statelessId" | "createdAt">): ResponseFrame {
  return { ...fields, createdAt: Math.floor(Date.now() / 1000), statelessId: statelessResponseId() };
}

/** The response id for a reply: it names the session (so it can be continued) and the reply; random when stateless. */
export function responseIdFor(frame: ResponseFrame, replyId: string): string {
  return frame.sessionId === undefined ? frame.statelessId : responseIdOf(frame.sessionId, replyId);
}

/** Lifecycle of a Response object. */
export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** The parts of a Response that change as it is produced. */
export interface ResponseState {
  status: ResponseStatus;
  output: Item[];
  usage: Usage | null;
  incomplete?: "max_output_tokens" | "content_filter" | undefined;
  error?: { code: string; message: string } | undefined;
}

/** The Response object, in the shape the openai SDK types and the Agents SDK read. */
export function responseBody(frame: ResponseFrame, id: string, state: ResponseState): Record<string, unknown> {
  const done = state.status === "completed" || state.status === "incomplete";
  return {
    id,
    object: "response",
    created_at: frame.createdAt,
    status: state.status,
    completed_at: done ? Math.floor(Date.now() / 1000) : null,
    background: false,
    error: state.error ?? null,
    incomplete_details: state.incomplete !== undefined ? { reason: state.incomplete } : null,
    instructions: frame.instructions,
    max_output_tokens: frame.echo.max_output_tokens,
    model: frame.model,
    output: state.output,
    parallel_tool_calls: frame.echo.parallel_tool_calls,
    previous_response_id: frame.previousResponseId,
    conversation: frame.conversation && frame.sessionId !== undefined ? { id: conversationIdOf(frame.sessionId) } : null,
    reasoning: { effort: null, summary: null },
    service_tier: "default",
    store: frame.store,
    temperature: frame.echo.temperature,
    text: frame.echo.text,
    tool_choice: frame.echo.tool_choice,
    tools: frame.echo.tools,
    top_p: frame.echo.top_p,
    truncation: "disabled",
    usage: state.usage === null ? (done ? usageOf({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }) : null) : usageOf(state.usage),
    metadata: frame.echo.metadata,
  };
}

function usageOf(u: Usage): Record<string, unknown> {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.total_tokens,
  };
}

/** How a reply ended, in Responses terms: a cut-off reply is `incomplete`, with the reason. */
export function endOf(finishReason: string): Pick<ResponseState, "status" | "incomplete"> {
  if (finishReason === "length") return { status: "incomplete", incomplete: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", incomplete: "content_filter" };
  return { status: "completed" };
}

/**
 * The output items of a reply: exactly the items the stored assistant
 * message shows as in its conversation (same ids), so a client can address
 * them there.
 */
export function outputOf(reply: { id: string; content: string; toolCalls: readonly ToolCall[] }, status: "completed" | "incomplete"): Item[] {
  const text: Item[] = reply.content !== "" || reply.toolCalls.length === 0 ? [assistantItem(reply.id, reply.content, status)] : [];
  return [...text, ...reply.toolCalls.map((c, i) => callItem(reply.id, i, c))];
}
