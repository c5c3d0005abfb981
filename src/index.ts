// Public API of the library.
// Node's types come with these declarations (they name Buffer and NodeJS.ProcessEnv) instead of only through a dependency's reference to them.
/// <reference types="node" preserve="true" />
export { SessionManager, type AppendOptions, type FoldTiming, type ManagerObserver, type StoreOp } from "./manager/manager.js";
export type { ClearReport, ListOptions, OpenOptions, SessionEdit } from "./manager/types.js";
export type { NewMessage } from "./manager/_message.js";
export type { AppendResult, AppendTarget } from "./manager/append.js";
export type { SessionEvent, SessionListener } from "./manager/events.js";
export type { SessionRef } from "./manager/admin.js";
export type { CompactReport, CompactAction } from "./manager/compact-all.js";
export type { FoldOutcome } from "./manager/compact.js";
export type { StatusReport } from "./manager/status.js";
export type { UsageGrouping, UsageOptions, UsageReport, UsageRow, UsageFigures } from "./manager/usage.js";
export type { ReplyUsage } from "./session/usage.js";
export type { PruneOptions, PruneReport, PruneTarget, PruneReason, RetentionPolicy } from "./manager/retention.js";
export type { RecordOptions } from "./manager/append.js";
export type { ForkOptions, ForkResult } from "./manager/fork.js";
export type { ImportOptions, ImportReport } from "./manager/transfer.js";
export type { ClashPolicy } from "./session/live-keys.js";
export { OpenclawError, isOpenclawError, type ErrorCode } from "./errors.js";
export type { Config, SummarizerConfig } from "./config/schema.js";
export { locateConfig, type ConfigLocation } from "./config/locate.js";
export type { Inbound } from "./routing/route.js";
export { isToolAllowed, decideTool, matchesPattern } from "./session/tools.js";
export { dmKey, groupKey, isolatedKey, threadKey, parseKey } from "./session/keys.js";
export type { ContextState, JsonValue, Message, MessageRole, MessageUsage, Session, SessionKind, SessionStatus, SessionSummary, SessionUsage, Summary, SystemPrompt, ToolCall, ToolPolicy } from "./session/types.js";
export type {
  SessionStore,
  Commit,
  PrunedChange,
  ChangeReason,
  StoreChange,
  StoreStats,
  ListQuery,
  ListPage,
  Loaded,
  LockingStore,
  EncryptedStore,
  HeaderChange,
  Appended,
  HeldLock,
  MaintenanceReport,
  StoreDescription,
} from "./store/store.js";
export { canLock, canEncrypt, applyAppend } from "./store/store.js";
export { openStore } from "./store/open.js";
export type { OpenStoreOptions } from "./store/open.js";
export { Keyring, loadKey, loadKeyring } from "./store/encryption.js";
export type { Key, KeySource } from "./store/encryption.js";
export { rekeySessions } from "./store/rekey.js";
export type { RekeyReport } from "./store/rekey.js";
export { MemoryStore, MemoryData } from "./store/memory/memory-store.js";
export type { ChatMessage, BuiltContext, ContextUsage, ToolResultPolicy, TrimmedResult } from "./context/build.js";
export type { Summarizer, SummarizeInput } from "./context/summarizer.js";
export type { ExportEnvelope, ExportedSession } from "./session/export.js";
