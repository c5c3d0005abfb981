import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { storeError } from "../../src/store/postgres/_errors.js";

const LOCATION = "postgres://db.example:5432/app";
/** A driver error as pg raises it: a message and a code (SQLSTATE from the server, or Node's errno code). */
const driverError = (message: string, code?: string): Error => Object.assign(new Error(message), code === undefined ? {} : { code });

describe("postgres store errors", () => {
  it("a server going away is named in the server's own words with its SQLSTATE, not by a bare code", () => {
    for (const [message, code] of [
      ["terminating connection due to administrator command", "57P01"],
      ["the database system is starting up", "57P03"],
      ["the database system is shutting down", "57P03"],
    ] as const) {
      const err = storeError(driverError(message, code), "append messages", LOCATION, []);
      assert.equal(err.code, "STORE_UNAVAILABLE");
      assert.equal(err.message, `cannot append messages: the postgres server at ${LOCATION} is unavailable (${message}; SQLSTATE ${code}); retry once it is back`);
    }
  });

  it("a network failure keeps its short code, a dropped connection without one its message", () => {
    assert.equal(
      storeError(driverError("connect ECONNREFUSED 10.0.0.7:5432", "ECONNREFUSED"), "open the store", LOCATION, []).message,
      `cannot open the store: the postgres server at ${LOCATION} is unavailable (ECONNREFUSED); retry once it is back`,
    );
    assert.match(storeError(driverError("write EPIPE", "EPIPE"), "read a session", LOCATION, []).message, /unavailable \(EPIPE\); retry/);
    assert.match(storeError(driverError("Connection terminated unexpectedly"), "read a session", LOCATION, []).message, /unavailable \(Connection terminated unexpectedly\); retry/);
  });

  it("a server message quoting the user name does not carry it into the error", () => {
    const err = storeError(driverError('terminating connection for user "alice_ops"', "57P01"), "read a session", LOCATION, ["alice_ops"]);
    assert.ok(!err.message.includes("alice_ops"), err.message);
    assert.match(err.message, /user "\[redacted\]"; SQLSTATE 57P01/);
  });
});
