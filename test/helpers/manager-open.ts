import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SessionManager } from "../../src/manager/manager.js";
import type { OpenOptions } from "../../src/manager/types.js";
import { testStoreUri } from "./test-store.js";

/** A manager over a fresh temporary state dir (file store unless `storeUri` says otherwise), plus a clock tests can move. */
export async function openTestManager(options: Partial<OpenOptions> & { config?: unknown; start?: string } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "oc-mgr-"));
  let now = new Date(options.start ?? "2026-03-01T10:00:00.000Z");
  const warnings: string[] = [];
  const storeUri = options.storeUri ?? testStoreUri();
  const manager = await SessionManager.open({
    stateDir: dir,
    config: options.config ?? {},
    warn: (m) => warnings.push(m),
    now: () => now,
    ...(storeUri !== undefined ? { storeUri } : {}),
    ...(options.summarizerDeps !== undefined ? { summarizerDeps: options.summarizerDeps } : {}),
  });
  return {
    manager,
    dir,
    /** The store URI in use when it is not the state dir's file store (the postgres run). */
    storeUri,
    warnings,
    /** Moves the clock forward. */
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
    async cleanup() {
      await manager.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
