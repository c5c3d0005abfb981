import pc from "picocolors";

/** Colour functions; plain pass-through when stdout is not a TTY or NO_COLOR is set. */
export const colors = pc.createColors(colourWanted());

function colourWanted(): boolean {
  const noColor = process.env.NO_COLOR;
  // picocolors' own detection turns colour on under CI even into a pipe; a
  // pipe must always get plain text, so decide here.
  return process.stdout.isTTY === true && (noColor === undefined || noColor === "") && process.env.TERM !== "dumb";
}

// C0 controls, DEL and C1 controls: anything a terminal may act on rather than show.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };
// Invisible and reordering characters: bidi embeddings, overrides and isolates
// (U+202E shows "gnp.exe" as "exe.png"), zero-width spaces and joiners, the BOM.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/**
 * Makes control characters of stored text visible (`\x1b`, `\r`, `\x9b` …) so
 * text written by chat users cannot move the cursor, retitle the window or
 * clear an operator's terminal; bidi controls and zero-width characters become
 * `\u202e`-style escapes so text cannot hide or reorder itself. With
 * `multiline`, newlines and tabs are kept: for bodies that are meant to be
 * shown over several lines. Apply it to
 * stored text before colouring, never to `--json` output.
 */
export function visible(text: string, multiline = false): string {
  return text
    .replace(CONTROL, (c) => {
      if (multiline && (c === "\n" || c === "\t")) return c;
      return SHORT[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
    })
    .replace(INVISIBLE, (c: string, at: number, all: string) => {
      // A joiner between two pictographs builds one emoji (👨‍👩‍👧): it is shown, not hidden.
      if (c === "\u200d" && PICTOGRAPH.test(all.slice(Math.max(0, at - 2), at)) && PICTOGRAPH.test(all.slice(at + 1, at + 3))) return c;
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    });
}

/** Writes one line (or block) to stdout. */
export function print(text = ""): void {
  process.stdout.write(`${text}\n`);
}

/** Writes exactly one JSON document to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Writes a `warning: ` line to stderr. */
export function warn(message: string): void {
  process.stderr.write(`warning: ${visible(message)}\n`);
}

/** Column alignment of {@link table}. */
export type Align = "left" | "right";

// ANSI colour sequences take no room on screen.
const ANSI = /\u001b\[[0-9;]*m/g;

function visibleWidth(text: string): number {
  return text.replace(ANSI, "").length;
}

/**
 * Renders rows as borderless, aligned columns (the look of `ps`/`kubectl`,
 * easy to grep and cut). Hand-rolled rather than a table library: cells are
 * single-line and the widths are one pass, so 100k rows render in well under
 * a second where a general table library took seconds for 10k.
 */
export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>, align: readonly Align[] = []): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === "number" ? formatInt(cell) : cell.replace(/[\r\n\t]+/g, " "))));
  const widths = head.map((h) => visibleWidth(h));
  for (const row of cells) {
    row.forEach((cell, i) => {
      const w = visibleWidth(cell);
      if (w > (widths[i] ?? 0)) widths[i] = w;
    });
  }
  const line = (row: readonly string[], paint: (s: string) => string = (s) => s): string =>
    row
      .map((cell, i) => {
        const pad = " ".repeat(Math.max(0, (widths[i] ?? 0) - visibleWidth(cell)));
        return align[i] === "right" ? pad + paint(cell) : paint(cell) + pad;
      })
      .join("  ")
      .trimEnd();
  const out = [line(head, colors.bold)];
  for (const row of cells) out.push(line(row));
  return out.join("\n");
}

/** Aligned `label  value` lines for a detail block, indented by two spaces. */
export function keyValues(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${colors.dim(k.padEnd(width))}  ${v}`).join("\n");
}

/** A section heading. */
export function heading(text: string): string {
  return colors.bold(text);
}

/** "3 min ago", "2 h ago", "5 d ago"; an ISO date beyond 90 days. */
export function relativeTime(iso: string | null, now: Date = new Date()): string {
  if (iso === null) return "never";
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  const diff = now.getTime() - at;
  const abs = Math.abs(diff);
  const phrase = (n: number, unit: string): string => (diff >= 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`);
  if (abs < 45_000) return diff >= 0 ? "just now" : "in a moment";
  if (abs < 3_600_000) return phrase(Math.max(1, Math.round(abs / 60_000)), "min");
  if (abs < 86_400_000) return phrase(Math.round(abs / 3_600_000), "h");
  if (abs < 90 * 86_400_000) return phrase(Math.round(abs / 86_400_000), "d");
  return iso.slice(0, 10);
}

/** A timestamp with its relative form: "2025-11-24 12:03 (3 min ago)". */
export function timestamp(iso: string | null, now: Date = new Date()): string {
  if (iso === null) return "never";
  return `${iso.slice(0, 16).replace("T", " ")} (${relativeTime(iso, now)})`;
}

/** "512 B", "1.2 KiB", "3.4 MiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit] ?? "TiB"}`;
}

/** A duration in milliseconds as a person says it: `1 d`, `2 h 30 min`, `10 s`, `250 ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["min", 60_000],
    ["s", 1000],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${name}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest} ms`);
  return parts.join(" ");
}

/** Thousands separators, so token counts read at a glance. */
export function formatInt(n: number): string {
  // By hand for integers: the first toLocaleString call loads locale data, costing more than a whole list.
  if (!Number.isSafeInteger(n)) return n.toLocaleString("en-US");
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** "12.5 %"; "< 0.1 %" rather than a misleading "0.0 %" for a little use. */
export function formatPercent(p: number): string {
  if (p > 0 && p < 0.1) return "< 0.1 %";
  return `${p.toFixed(1)} %`;
}

/** "1 session", "3 sessions". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatInt(n)} ${n === 1 ? word : many}`;
}

/** A session status, coloured by how usable it is. */
export function paintStatus(status: string): string {
  switch (status) {
    case "active":
      return colors.green(status);
    case "created":
      return colors.cyan(status);
    case "expired":
      return colors.yellow(status);
    default:
      return colors.dim(status);
  }
}

/**
 * Shortens stored text to `max` characters, saying how much was left out; its
 * control characters are made {@link visible} (newlines and tabs kept with `multiline`).
 */
export function preview(text: string, max: number, multiline = false): string {
  if (text.length <= max) return visible(text, multiline);
  return `${visible(text.slice(0, max), multiline)}${colors.dim(`… (${formatInt(text.length - max)} more characters; --json shows all)`)}`;
}

/** Indents every line of a block. */
export function indent(text: string, by = "    "): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? line : `${by}${line}`))
    .join("\n");
}

/** Reports progress of long work on stderr, and only when stderr is a terminal. */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

/** A single overwritten progress line on stderr; a no-op off a TTY so logs and pipes stay clean. */
export function progress(label: string): Progress {
  if (process.stderr.isTTY !== true) return { update() {}, finish() {} };
  let shown = false;
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      // Redrawing on every item would cost more than the work on fast stores.
      if (done !== total && now - last < 80) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${label} ${done}/${total}`);
    },
    finish() {
      if (shown) process.stderr.write("\r\x1b[K");
    },
  };
}
