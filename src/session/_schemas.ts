/** The zod schemas module, loaded on first use so listing never pays for zod. */
export type Schemas = typeof import("./schema.js");

let loaded: Promise<Schemas> | undefined;

/** Loads (once) and returns the persisted-format schemas. */
export function loadSchemas(): Promise<Schemas> {
  loaded ??= import("./schema.js");
  return loaded;
}
