// The OpenAI Agents SDK adapter: `openclaw-sessions/agents`.
// Node's types come with these declarations (they name Buffer and NodeJS.ProcessEnv) instead of only through a dependency's reference to them.
/// <reference types="node" preserve="true" />
export { OpenclawAgentsSession } from "./session.js";
export type { AdapterOptions, AdapterTarget } from "../_managed.js";
