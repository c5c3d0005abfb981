import { join } from "node:path";
import { describe } from "node:test";
import { openFileStore } from "../../src/store/file/file-store.js";
import { MemoryData, MemoryStore } from "../../src/store/memory/memory-store.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import { managerConformance } from "../conformance/manager.js";
import { openBare } from "../helpers/bare-store.js";
import { postgresOpener, withPostgresDatabase } from "../helpers/postgres.js";
import { tempDir } from "../helpers/store-tmp.js";

managerConformance("file", async () => {
  const { dir, cleanup } = await tempDir();
  const options = { dir: join(dir, "state"), warn: () => {}, watchIntervalMs: 20 };
  return { store: await openFileStore(options), reopen: () => openFileStore(options), cleanup };
});

managerConformance("memory", async () => {
  const data = new MemoryData();
  return { store: new MemoryStore(data), reopen: async () => new MemoryStore(data), cleanup: async () => {} };
});

// No optional capability: every fallback of the manager (optimistic retries, in-process routing, counting by listing).
managerConformance("bare", async () => ({ ...openBare(), cleanup: async () => {} }));

// The same rules on PostgreSQL, each open on a fresh schema of this file's database.
const pgDb = await withPostgresDatabase();
if ("skip" in pgDb) describe("manager on the postgres store", { skip: pgDb.skip }, () => {});
else
  managerConformance(
    "postgres",
    postgresOpener(pgDb, (url) => openPostgresStore(url, { warn: () => {}, poolMax: 4 })),
  );
