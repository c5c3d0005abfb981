import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { corpusFile, goodStore, manifest } from "./_corpus.js";
import { errorLine, runCli, tempDir } from "./_helpers.js";

/** The id the damaged files are installed under (never one of the good sessions). */
const BAD_ID = "01941e6a-0000-7000-8000-000000000bad";

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The warning lines of a run's stderr. */
function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("warning: "));
}

async function withGoodStore(fn: (stateDir: string, home: string, good: Awaited<ReturnType<typeof goodStore>>) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir("bad-sessions");
  try {
    const stateDir = join(dir, "state");
    await fn(stateDir, dir, await goodStore(stateDir));
  } finally {
    await cleanup();
  }
}

describe("bad-input corpus: damaged session files", () => {
  for (const entry of manifest.sessions) {
    it(`${entry.file} is named in one warning, moved to quarantine byte for byte, and no other session changes`, () =>
      withGoodStore(async (stateDir, home, good) => {
        const before = await good.sessionFiles();
        const bytes = corpusFile(entry.file);
        const sessions = join(stateDir, "sessions");
        const warning = new RegExp(`^warning: sessions/${BAD_ID}\\.json: corrupt session file \\(.*${escapeRe(entry.reason)}.*\\); moved to sessions/quarantine/(${BAD_ID}\\.json[^ ]*)$`);

        // Met by a direct read: the error says the session is corrupt and where the file went.
        await writeFile(join(sessions, `${BAD_ID}.json`), bytes);
        const show = await runCli(["--state-dir", stateDir, "sessions", "show", BAD_ID], home);
        assert.match(errorLine(show), new RegExp(`^error: session ${BAD_ID} is corrupt \\(.+\\) and was moved to sessions/quarantine/${BAD_ID}\\.json\\S* in the state directory`));
        const [shown, ...more] = warnings(show.stderr);
        assert.deepEqual(more, []);
        const moved = warning.exec(shown ?? "")?.[1] ?? assert.fail(`unexpected warning: ${shown}`);
        assert.deepEqual(await readFile(join(sessions, "quarantine", moved)), bytes);

        // Met by a listing: the good sessions are listed, the damaged file is moved aside again.
        await writeFile(join(sessions, `${BAD_ID}.json`), bytes);
        const list = await runCli(["--state-dir", stateDir, "sessions", "list", "--json"], home);
        assert.equal(list.code, 0, list.stderr);
        const listed = (JSON.parse(list.stdout) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
        assert.deepEqual(listed.sort(), [...good.ids].sort());
        const [listWarning, ...others] = warnings(list.stderr);
        assert.deepEqual(others, []);
        assert.match(listWarning ?? "", warning);
        assert.equal((await readdir(join(sessions, "quarantine"))).length, 2);
        assert.ok(!(await readdir(sessions)).includes(`${BAD_ID}.json`));

        assert.deepEqual(await good.sessionFiles(), before, "a good session's files changed");
        const exported = await runCli(["--state-dir", stateDir, "sessions", "export", "--all"], home);
        assert.equal(exported.code, 0, exported.stderr);
        assert.equal((JSON.parse(exported.stdout) as { sessions: unknown[] }).sessions.length, good.ids.length);
      }));
  }

  it("an index snapshot of binary garbage is rebuilt from the session files with one warning, losing no session", () =>
    withGoodStore(async (stateDir, home, good) => {
      const before = await good.sessionFiles();
      await writeFile(join(stateDir, "sessions", "index.json"), corpusFile("index/binary.json"));
      const list = await runCli(["--state-dir", stateDir, "sessions", "list", "--json"], home);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(warnings(list.stderr), ["warning: sessions/index.json: index snapshot is unreadable; rebuilding it from the session files"]);
      const listed = (JSON.parse(list.stdout) as { sessions: { id: string }[] }).sessions.map((s) => s.id);
      assert.deepEqual(listed.sort(), [...good.ids].sort());
      JSON.parse(await readFile(join(stateDir, "sessions", "index.json"), "utf8"));
      assert.deepEqual(await good.sessionFiles(), before);
    }));

  it("a pruned-history log with a torn last line keeps its whole lines and exports without a warning; a torn line an earlier version appended after is reported", () =>
    withGoodStore(async (stateDir, home, good) => {
      const target = good.ids[1] ?? "";
      const others = new Map([...(await good.sessionFiles())].filter(([path]) => !path.startsWith(target)));
      const log = join(stateDir, "sessions", `${target}.pruned.jsonl`);
      await writeFile(log, corpusFile("pruned/torn-last-line.jsonl"));
      // An unfinished last line is what an interrupted append leaves (its messages are still in the document): nothing to report.
      const exported = await runCli(["--state-dir", stateDir, "sessions", "export", target], home);
      assert.equal(exported.code, 0, exported.stderr);
      assert.deepEqual(warnings(exported.stderr), []);
      const [session] = (JSON.parse(exported.stdout) as { sessions: { prunedHistory: { content: string }[] }[] }).sessions;
      assert.deepEqual(
        session?.prunedHistory.map((m) => m.content),
        ["Book a table for 4 at 19:30, ref INV-2024-0042"],
      );
      // Earlier versions appended after such a line (a newline first): it is then a whole line that is not a message.
      await writeFile(log, `${corpusFile("pruned/torn-last-line.jsonl")}\n${corpusFile("pruned/torn-last-line.jsonl").toString("utf8").split("\n")[0] ?? ""}\n`);
      const again = await runCli(["--state-dir", stateDir, "sessions", "export", target], home);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(warnings(again.stderr), [`warning: sessions/${target}.pruned.jsonl: line 2 is not a valid message (interrupted write?); skipped`]);
      const [kept] = (JSON.parse(again.stdout) as { sessions: { prunedHistory: { content: string }[] }[] }).sessions;
      assert.deepEqual(
        kept?.prunedHistory.map((m) => m.content),
        ["Book a table for 4 at 19:30, ref INV-2024-0042"],
        "the same message twice is read once",
      );
      const after = new Map([...(await good.sessionFiles())].filter(([path]) => !path.startsWith(target)));
      assert.deepEqual(after, others);
    }));
});
