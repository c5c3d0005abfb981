import { describe } from "node:test";
import { openPostgresStore } from "../../src/store/postgres/postgres-store.js";
import { storeConformance } from "../conformance/store.js";
import { postgresOpener, withPostgresDatabase } from "../helpers/postgres.js";

const db = await withPostgresDatabase();
if ("skip" in db) describe("postgres store conformance", { skip: db.skip }, () => {});
// Each open is a fresh schema of this file's database; reopen is a second instance on it, like another process.
else
  storeConformance(
    "postgres",
    postgresOpener(db, (url) => openPostgresStore(url, { warn: () => {}, poolMax: 4 })),
  );
