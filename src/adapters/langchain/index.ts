// The LangChain JS adapter: `openclaw-sessions/langchain`.
// Node's types come with these declarations (they name Buffer and NodeJS.ProcessEnv) instead of only through a dependency's reference to them.
/// <reference types="node" preserve="true" />
export { OpenclawChatMessageHistory } from "./history.js";
export type { AdapterOptions, AdapterTarget } from "../_managed.js";
