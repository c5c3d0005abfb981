// The LangChain JS adapter: `openclaw-sessions/langchain`.
export { OpenclawChatMessageHistory } from "./history.js";
export type { AdapterOptions, AdapterTarget } from "../_managed.js";
