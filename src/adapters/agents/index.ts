// The OpenAI Agents SDK adapter: `openclaw-sessions/agents`.
export { OpenclawAgentsSession } from "./session.js";
export type { AdapterOptions, AdapterTarget } from "../_managed.js";
