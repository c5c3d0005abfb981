#!/usr/bin/env node
import { CommanderError } from "commander";
import { isOpenclawError } from "../errors.js";
import { buildProgram } from "./_program.js";
import { visible } from "./_render.js";
import { UsageError } from "./_usage.js";

/** Exit code of a usage error (unknown option, missing argument, bad choice, conflicting flags). */
export const EXIT_USAGE = 2;

/**
 * Runs one CLI invocation and returns its exit code. Never exits itself, so
 * the caller can let stdout drain first.
 */
export async function runCommand(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    // A command that reported its own failure (doctor with problems left, a copy that did not verify) set this.
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version also arrive here, as "errors" with exit code 0.
    if (err.exitCode === 0) return 0;
    // A command group run without a subcommand has already printed its help to stderr.
    if (err.code === "commander.help") return EXIT_USAGE;
    line(err.message);
    return EXIT_USAGE;
  }
  if (err instanceof UsageError) {
    line(err.message);
    return EXIT_USAGE;
  }
  const message = err instanceof Error ? err.message : String(err);
  const expected = isOpenclawError(err);
  line(expected ? message : `${message} (unexpected; run with OPENCLAW_DEBUG=1 for details)`);
  if (process.env.OPENCLAW_DEBUG === "1" && err instanceof Error) {
    process.stderr.write(`${err.stack ?? ""}\n`);
    if (err.cause !== undefined) process.stderr.write(`caused by: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}\n`);
  }
  return 1;
}

// Exactly one line per error, whatever the message holds.
function line(message: string): void {
  const text = visible(
    message
      .replace(/^error:\s*/i, "")
      .replace(/\s*\n\s*/g, " ")
      .trim(),
  );
  process.stderr.write(`error: ${text}\n`);
}

/** Owns the process: runs the command, waits for stdout to drain, exits with its code. */
async function runMain(): Promise<void> {
  // `openclaw sessions export --all | head` closes the pipe early; that is not a failure.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
  });
  const code = await runCommand(process.argv);
  await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
  process.exit(code);
}

await runMain();
