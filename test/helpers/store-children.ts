import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const APPENDER = fileURLToPath(new URL("./store-appender.ts", import.meta.url));

/** A running appender child and the sequence numbers it has acknowledged. */
export interface Appender {
  child: ChildProcess;
  acked: number[];
  stderr: string[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves once at least `n` acks have arrived (or the child exits). */
  acks(n: number): Promise<void>;
}

/** Starts test/helpers/store-appender.ts for `tag` on session `id`. */
export function startAppender(dir: string, id: string, tag: string, count?: number, ballastBytes?: number): Appender {
  const args = ["--import", "tsx", APPENDER, dir, id, tag, count === undefined ? "-" : String(count), ...(ballastBytes === undefined ? [] : [String(ballastBytes)])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const acked: number[] = [];
  const stderr: string[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  let buffered = "";
  const wake = (): void => {
    for (const w of waiters.splice(0)) {
      if (acked.length >= w.n || child.exitCode !== null || child.signalCode !== null) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const m = /^ack (\d+)$/.exec(line);
      if (m !== null) acked.push(Number(m[1]));
    }
    wake();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      resolve(code);
      for (const w of waiters.splice(0)) w.resolve();
    });
  });
  return {
    child,
    acked,
    stderr,
    exited,
    acks: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        wake();
      }),
  };
}
