import type { Context, Handler } from "hono";
import { OpenclawError } from "../errors.js";
import { badRequest, errorResponse } from "./_http.js";

/**
 * Wraps a handler so every failure becomes the gateway's error response:
 * an OpenclawError keeps its status, anything else is a 500 without details.
 */
export function guarded(fn: (c: Context) => Promise<Response>): Handler {
  return async (c) => {
    try {
      return await fn(c);
    } catch (err) {
      return errorResponse(c, err);
    }
  };
}

/**
 * The query parameters of a request, refused with a 400 naming the first
 * parameter not in `allowed` (a typo such as `?stauts=` must not silently
 * list everything) or given twice.
 */
export function queryOf(c: Context, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of new URL(c.req.url).searchParams) {
    if (!allowed.includes(name)) {
      throw badRequest(allowed.length === 0 ? `unknown query parameter ${JSON.stringify(name)}: this endpoint takes none` : `unknown query parameter ${JSON.stringify(name)}: expected ${allowed.join(", ")}`);
    }
    if (out.has(name)) throw badRequest(`query parameter ${name} is given twice`);
    out.set(name, value);
  }
  return out;
}

/** An optional integer parameter within [min, max]. */
export function intParam(query: Map<string, string>, name: string, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/** An optional flag: `1`, `true` or empty (`?all`) mean on; `0` and `false` off. */
export function flagParam(query: Map<string, string>, name: string): boolean {
  const raw = query.get(name);
  if (raw === undefined || raw === "0" || raw === "false") return false;
  if (raw === "" || raw === "1" || raw === "true") return true;
  throw badRequest(`${name} must be 1 or 0 (true or false), got ${JSON.stringify(raw)}`);
}

/** An optional parameter restricted to `choices`. */
export function choiceParam<T extends string>(query: Map<string, string>, name: string, choices: readonly T[]): T | undefined {
  const raw = query.get(name);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) throw badRequest(`${name} must be one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** An optional non-empty text parameter. */
export function textParam(query: Map<string, string>, name: string): string | undefined {
  const raw = query.get(name);
  if (raw === undefined) return undefined;
  if (raw === "") throw badRequest(`${name} must not be empty`);
  return raw;
}

/** The `:ref` path parameter (decoded; the manager refuses hostile ones). */
export function refParam(c: Context): string {
  const ref = c.req.param("ref") ?? "";
  // Longer than any id or key the engine makes: refused before it reaches the store.
  if (ref.length > 1024) throw new OpenclawError("INVALID_ID", "invalid session reference: longer than 1024 characters");
  return ref;
}

/** Refuses a JSON body with fields outside `allowed`, naming the first. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw badRequest(`unknown field ${JSON.stringify(k)}: expected ${allowed.join(", ")}`);
}

/** An optional array of strings field of a body. */
export function optStrings(body: Record<string, unknown>, name: string): string[] | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === "string")) throw badRequest(`${name} must be an array of strings`);
  return v;
}
