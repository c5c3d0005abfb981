import { InvalidArgumentError } from "commander";

/** Option parser: an integer ≥ `min`; anything else is a usage error. */
export function intAtLeast(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    const n = Number(value.trim());
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    return n;
  };
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration such as 45s, 30m, 12h, 7d or 2w into milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)([smhdw])$/.exec(value.trim());
  const amount = m?.[1];
  const unit = m?.[2];
  if (amount === undefined || unit === undefined) throw new InvalidArgumentError("expected a duration such as 30m, 12h or 7d");
  const ms = Number(amount) * (UNIT_MS[unit] ?? 0);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError("expected a positive duration such as 30m, 12h or 7d");
  return ms;
}

/** Option parser for repeatable options: each use adds one value. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Option parser for `CHANNEL:ID` pairs (--dm, --group). */
export function channelPair(what: string): (value: string) => { channel: string; id: string } {
  return (value) => {
    const at = value.indexOf(":");
    const channel = value.slice(0, at);
    const id = value.slice(at + 1);
    if (at <= 0 || id === "") throw new InvalidArgumentError(`expected CHANNEL:${what}, e.g. telegram:42`);
    return { channel, id };
  };
}

/** Flags of commands that only offer `--json`. */
export interface JsonFlag {
  json?: boolean;
}

/** Parses a TCP port (0 = any free port). */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected a port number from 0 to 65535");
  return n;
}

/** Option parser for `INPUT:OUTPUT` token counts (a model call's usage). */
export function tokenPair(value: string): { input: number; output: number } {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  const input = Number(m?.[1]);
  const output = Number(m?.[2]);
  if (m === null || !Number.isSafeInteger(input) || !Number.isSafeInteger(output)) throw new InvalidArgumentError("expected INPUT:OUTPUT token counts, e.g. 1200:300");
  return { input, output };
}
