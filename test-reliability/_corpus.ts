import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SessionManager } from "../src/manager/manager.js";
import { checksums, ROOT } from "./_helpers.js";

/** The committed bad-input corpus; tests read it and never regenerate it. */
export const CORPUS = join(ROOT, "test", "fixtures", "bad");

/** Expectations for the corpus files (test/fixtures/bad/manifest.json). */
export interface Manifest {
  sessions: { file: string; reason: string }[];
  config: { file: string; expect: string }[];
  import: { file: string; expect: string }[];
}

/** Hostile references, routing keys and key segments (test/fixtures/bad/hostile.json). */
export interface Hostile {
  refs: string[];
  keys: string[];
  segments: string[];
}

/** The corpus manifest. */
export const manifest = JSON.parse(readFileSync(join(CORPUS, "manifest.json"), "utf8")) as Manifest;
/** The hostile values. */
export const hostile = JSON.parse(readFileSync(join(CORPUS, "hostile.json"), "utf8")) as Hostile;

/** The bytes of a corpus file. */
export function corpusFile(file: string): Buffer {
  return readFileSync(join(CORPUS, file));
}

/** A state dir holding three good sessions, one of them with a pruned-history log. */
export interface GoodStore {
  ids: string[];
  /** Checksums of the good sessions' own files (documents and logs), which nothing may change. */
  sessionFiles(): Promise<Map<string, string>>;
}

/** Fills `stateDir` with three good sessions through the library. */
export async function goodStore(stateDir: string): Promise<GoodStore> {
  const manager = await SessionManager.open({
    stateDir,
    config: {},
    warn: (m) => {
      throw new Error(`unexpected warning: ${m}`);
    },
  });
  const ids: string[] = [];
  for (const user of ["alice", "bob", "carol"]) {
    const s = await manager.receive({ channel: "good", senderId: user }, `hello from ${user}, order INV-${user.length}`);
    await manager.record({ ref: s.id }, { role: "assistant", content: `noted, ${user}` });
    ids.push(s.id);
  }
  const first = ids[0] ?? "";
  for (let i = 0; i < 4; i++) await manager.record({ ref: first }, { role: i % 2 === 0 ? "user" : "assistant", content: `turn ${i}`, sender: i % 2 === 0 ? "alice" : null });
  await manager.foldNow(first);
  await manager.close();
  return {
    ids,
    async sessionFiles() {
      const all = await checksums(join(stateDir, "sessions"));
      return new Map([...all].filter(([path]) => ids.some((id) => path === `${id}.json` || path === `${id}.pruned.jsonl`)));
    },
  };
}
