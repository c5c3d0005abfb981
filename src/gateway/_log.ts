/**
 * The gateway's structured log: one JSON object per event on stderr (or a
 * readable line). Never given bodies, tokens or keys. The shape is pino's,
 * so `log.info({ event: "request", ms }, "GET /v1/models")` works with a
 * real pino logger or a test's recorder.
 */
export interface GatewayLog {
  debug(fields: object, msg?: string): void;
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
  /** A log whose every line carries `bindings` too. */
  child(bindings: object): GatewayLog;
}

/** Options of {@link createGatewayLog}. */
export interface GatewayLogOptions {
  /** "json": one JSON object a line; "pretty": a readable line. */
  format?: "json" | "pretty";
  level?: "debug" | "info" | "warn" | "error" | "silent";
  /** Where lines go (default stderr). */
  destination?: NodeJS.WritableStream;
}

/** A pino logger writing to stderr, loaded only when a gateway starts. */
export async function createGatewayLog(options: GatewayLogOptions = {}): Promise<GatewayLog> {
  const { pino } = await import("pino");
  const destination = options.destination ?? process.stderr;
  const level = options.level ?? "info";
  if (options.format === "pretty") {
    const stream = { write: (line: string) => destination.write(prettyLine(line)) };
    return pino({ level, base: null, timestamp: pino.stdTimeFunctions.isoTime }, stream) as unknown as GatewayLog;
  }
  return pino({ level, base: null, timestamp: pino.stdTimeFunctions.isoTime }, destination as unknown as NodeJS.WritableStream & { write(s: string): boolean }) as unknown as GatewayLog;
}

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

// Fields a readable line drops when its message already says them ("GET /v1/models 200").
const SAID = new Set(["method", "route", "path", "status", "reason"]);

/** `time level msg key=value …` for a human reading a terminal. */
function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, err, ...rest } = o;
  const text = String(msg ?? "");
  const fields = Object.entries(rest)
    .filter(([k, v]) => !(k === "event" && v === "request") && !(SAID.has(k) && text.includes(String(v))))
    .map(([k, v]) => `${k}=${typeof v === "string" ? (/[\s"=]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`)
    .join(" ");
  return `${String(time)} ${LEVELS[Number(level)] ?? String(level)} ${text}${fields === "" ? "" : ` ${fields}`}\n${stackLines(err)}`;
}

// An error's stack reads best as it is printed by Node: below its line, indented.
function stackLines(err: unknown): string {
  if (typeof err !== "object" || err === null) return "";
  const e = err as { stack?: unknown; message?: unknown; cause?: unknown };
  const text = typeof e.stack === "string" ? e.stack : typeof e.message === "string" ? e.message : "";
  const cause = typeof e.cause === "object" && e.cause !== null ? `caused by: ${stackLines(e.cause).trimStart()}` : "";
  return `${text === "" ? "" : `${text.replace(/^/gm, "    ")}\n`}${cause === "" ? "" : `    ${cause}`}`;
}
