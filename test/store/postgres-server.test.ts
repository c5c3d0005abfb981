import assert from "node:assert/strict";
import { describe, it } from "node:test";
import pg from "pg";
import { acquirePostgres, withPostgresDatabase } from "../helpers/postgres.js";

const db = await withPostgresDatabase();

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

if ("skip" in db) describe("postgres test server", { skip: db.skip }, () => {});
else
  describe("postgres test server", () => {
    it("each test file gets a fresh, empty database of its own", async () => {
      const [row] = await query(db.url, "SELECT current_database() AS name, (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'public') AS tables");
      assert.match(String(row?.name), /^openclaw_test_\d+_[0-9a-f]{8}$/);
      assert.equal(row?.tables, 0);
      assert.notEqual(db.freshSchemaUrl(), db.freshSchemaUrl());
    });

    it("an OPENCLAW_TEST_POSTGRES_URL that does not answer is an error, not a silent fallback", async () => {
      await assert.rejects(acquirePostgres({ envUrl: "postgres://postgres@127.0.0.1:1/postgres" }), /OPENCLAW_TEST_POSTGRES_URL does not answer/);
    });

    it("without a local server, a throwaway cluster starts from the installed binaries and is removed when stopped", async () => {
      const server = await acquirePostgres({ localUrl: "postgres://postgres@127.0.0.1:1/postgres" });
      assert.equal(server.source, "initdb");
      try {
        const [row] = await query(server.adminUrl, "SELECT current_setting('fsync') AS fsync");
        assert.equal(row?.fsync, "off");
      } finally {
        await server.stop();
      }
      await assert.rejects(query(server.adminUrl, "SELECT 1"), /ECONNREFUSED|connect/);
    });
  });
