import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe } from "node:test";
import { Keyring } from "../../src/store/encryption.js";
import { keyIdOf } from "../../src/store/_crypto.js";
import { openFileStore } from "../../src/store/file/file-store.js";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import { storeConformance } from "../conformance/store.js";
import { postgresOpener, withPostgresDatabase } from "../helpers/postgres.js";
import { tempDir } from "../helpers/store-tmp.js";

// The whole store contract again with encryption at rest on: sealing content
// at the serialization boundaries must change nothing a caller can see.
const bytes = randomBytes(32);
const keyring = new Keyring({ id: keyIdOf(bytes), bytes });

storeConformance("file (encrypted)", async () => {
  const { dir, cleanup } = await tempDir();
  const open = () => openFileStore({ dir: join(dir, "state"), warn: () => {}, watchIntervalMs: 10, keyring });
  return { store: await open(), cleanup, reopen: open };
});

const db = await withPostgresDatabase();
if ("skip" in db) describe("postgres (encrypted) store conformance", { skip: db.skip }, () => {});
else
  storeConformance(
    "postgres (encrypted)",
    postgresOpener(db, (url) => openPostgresStore(url, { warn: () => {}, poolMax: 4, keyring })),
  );
