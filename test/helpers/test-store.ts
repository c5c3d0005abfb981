import { withPostgresDatabase, type PostgresTestDatabase } from "./postgres.js";

/**
 * The backend the CLI and manager suites run against: the file store by
 * default, PostgreSQL with OPENCLAW_TEST_STORE=postgres (`npm test` runs
 * those suites both ways). The same tests, parameterised by store URI.
 */
export const TEST_BACKEND: "file" | "postgres" = process.env.OPENCLAW_TEST_STORE === "postgres" ? "postgres" : "file";

/** Skip reason for a test that reads the file store's own files (false on the file store). */
export const FILE_STORE_ONLY: string | false = TEST_BACKEND === "file" ? false : "inspects the file store's files";

// One database per test file, made while the file loads so it is dropped when the file's tests end.
let database: PostgresTestDatabase | undefined;
if (TEST_BACKEND === "postgres") {
  const db = await withPostgresDatabase();
  // Asking for the postgres run and having no server is a failure, never a silent pass on the file store.
  if ("skip" in db) throw new Error(`OPENCLAW_TEST_STORE=postgres: ${db.skip}`);
  database = db;
}

/** A store URI for a fresh, empty store of the backend under test; undefined means the state dir's file store. */
export function testStoreUri(): string | undefined {
  return database?.freshSchemaUrl();
}
