// Child process for the storage-failure tests, run under a small file-size
// limit (ulimit -f) so a large write fails with EFBIG the way a full disk
// fails with ENOSPC. Prints one JSON line describing what it saw.
//   node --import tsx store-failing-writer.ts <stateDir> [save|fold|replace]
// save:    a 1 MB document save fails.
// fold:    a commit folding two messages into the pruned log (small, fits)
//          with a 1 MB document (does not) — a crash between the two writes.
// replace: a commit replacing the pruned log with a 1 MB one after a small
//          document write — a crash between the two writes the other way.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { isOpenclawError } from "../../src/errors.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { testMessage, testSession } from "./store-sessions.js";

const dir = process.argv[2] ?? "";
const mode = process.argv[3] ?? "save";
const store = await openFileStore({ dir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
const first = [testMessage("one"), testMessage("two"), testMessage("three")];
let saved = await store.commit({ session: testSession({ messages: first }), expectedRevision: null });
if (mode === "replace") {
  saved = await store.commit({ session: saved, expectedRevision: saved.revision, pruned: { append: [testMessage("old pruned")] } });
}
const big = testMessage("x".repeat(1_000_000));
let error: { code: string; message: string } | undefined;
try {
  if (mode === "fold") {
    const [a, b, ...rest] = saved.messages;
    if (a === undefined || b === undefined) throw new Error("seed messages missing");
    await store.commit({ session: { ...saved, messages: [...rest, big], prunedCount: 2 }, expectedRevision: saved.revision, pruned: { append: [a, b] }, reason: "compacted" });
  } else if (mode === "replace") {
    await store.commit({ session: { ...saved, messages: [] }, expectedRevision: saved.revision, pruned: { replace: [big] }, reason: "cleared" });
  } else {
    await store.commit({ session: { ...saved, messages: [...saved.messages, big] }, expectedRevision: saved.revision });
  }
} catch (err) {
  error = isOpenclawError(err) ? { code: err.code, message: err.message } : { code: "not an OpenclawError", message: String(err) };
}
const after = await store.get(saved.id);
const leftovers = (await readdir(join(dir, "sessions"))).filter((n) => n.endsWith(".tmp"));
process.stdout.write(`${JSON.stringify({ id: saved.id, error, revision: after?.session.revision, messages: after?.session.messages.length, leftovers })}\n`);
await store.close();
