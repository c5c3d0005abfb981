import type { Pool, PoolClient } from "pg";
import { isConnectionFault } from "./_errors.js";

/** Runs `fn` in one transaction on a pooled connection: committed when it resolves, rolled back when it throws; a connection that failed is destroyed. */
export async function inTransaction<T>(pool: Pool, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    if (isConnectionFault(err)) broken = err;
    else await client.query("ROLLBACK").catch((e: unknown) => (broken = e));
    throw err;
  } finally {
    // A connection that failed is destroyed, not handed to the next caller.
    client.release(broken === undefined ? undefined : broken instanceof Error ? broken : true);
  }
}
