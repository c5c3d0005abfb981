// Public API of the library.
export { SessionManager, type ListOptions, type NewMessage, type OpenOptions, type ClearReport } from "./manager.js";
export { OpenclawError, isOpenclawError, type ErrorCode } from "./errors.js";
export type { Config, SummarizerConfig } from "./config/schema.js";
export { locateConfig, type ConfigLocation } from "./config/locate.js";
export type { Inbound } from "./routing/route.js";
export { isToolAllowed, decideTool, matchesPattern } from "./session/tools.js";
export { dmKey, groupKey, isolatedKey, threadKey, parseKey } from "./session/keys.js";
export type {
  ContextState,
  JsonValue,
  Message,
  MessageRole,
  Session,
  SessionKind,
  SessionStatus,
  SessionSummary,
  Summary,
  SystemPrompt,
  ToolCall,
  ToolPolicy,
} from "./session/types.js";
export type { SessionStore, ListQuery, ListPage } from "./store/store.js";
export { openStore } from "./store/open.js";
export type { ChatMessage, BuiltContext, ContextUsage } from "./context/build.js";
export type { Summarizer, SummarizeInput } from "./context/summarizer.js";
export type { ExportEnvelope, ExportedSession } from "./transfer.js";
