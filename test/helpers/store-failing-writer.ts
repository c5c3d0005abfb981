// Child process for the storage-failure test, run under a small file-size
// limit (ulimit -f) so a large save fails with EFBIG the way a full disk fails
// with ENOSPC. Prints one JSON line describing what it saw.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { isOpenclawError } from "../../src/errors.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { testMessage, testSession } from "./store-sessions.js";

const dir = process.argv[2] ?? "";
const store = await openFileStore({ dir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
const saved = await store.put(testSession({ messages: [testMessage("small")] }), null);
let error: { code: string; message: string } | undefined;
try {
  await store.put({ ...saved, messages: [...saved.messages, testMessage("x".repeat(1_000_000))] }, saved.revision);
} catch (err) {
  error = isOpenclawError(err) ? { code: err.code, message: err.message } : { code: "not an OpenclawError", message: String(err) };
}
const after = await store.get(saved.id);
const leftovers = (await readdir(join(dir, "sessions"))).filter((n) => n.endsWith(".tmp"));
process.stdout.write(`${JSON.stringify({ id: saved.id, error, revision: after?.session.revision, messages: after?.session.messages.length, leftovers })}\n`);
