import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describePolicy, evaluateReset, hostTimeZone, longestIdleMs, nextHourAfter, policyFor, resetAt, type ResetConfig } from "../../src/session/reset.js";
import { newSession } from "../../src/session/new.js";

const iso = (ms: number) => new Date(ms).toISOString();
const at = (s: string) => Date.parse(s);

describe("daily reset instants", () => {
  it("is the first atHour after the session started, in the zone's wall time", () => {
    // 2026-06-10 is summer time in Berlin (UTC+2): 04:00 local is 02:00Z.
    assert.equal(iso(nextHourAfter(at("2026-06-10T10:00:00Z"), 4, "Europe/Berlin")), "2026-06-11T02:00:00.000Z");
    // Started before 04:00 local: the same day's 04:00.
    assert.equal(iso(nextHourAfter(at("2026-06-10T01:00:00Z"), 4, "Europe/Berlin")), "2026-06-10T02:00:00.000Z");
    // Exactly at the hour: the next day's, so a session never resets the instant it starts.
    assert.equal(iso(nextHourAfter(at("2026-06-10T02:00:00Z"), 4, "Europe/Berlin")), "2026-06-11T02:00:00.000Z");
  });

  it("follows the wall clock across a spring-forward night (New York, 2026-03-08)", () => {
    // Started on Saturday in EST (UTC-5); Sunday 04:00 is already EDT (UTC-4): 08:00Z, not 09:00Z.
    assert.equal(iso(nextHourAfter(at("2026-03-07T15:00:00Z"), 4, "America/New_York")), "2026-03-08T08:00:00.000Z");
    // 02:00 does not exist that night: the reset is at the first instant after the gap (03:00 EDT).
    assert.equal(iso(nextHourAfter(at("2026-03-07T15:00:00Z"), 2, "America/New_York")), "2026-03-08T07:00:00.000Z");
  });

  it("resets once on a fall-back night, at the first 01:00 (New York, 2026-11-01)", () => {
    // 01:00 happens at 05:00Z (EDT) and again at 06:00Z (EST): the first counts.
    assert.equal(iso(nextHourAfter(at("2026-10-31T15:00:00Z"), 1, "America/New_York")), "2026-11-01T05:00:00.000Z");
    // A session started between the two 01:00s waits for the next day, not the second showing.
    assert.equal(iso(nextHourAfter(at("2026-11-01T05:30:00Z"), 1, "America/New_York")), "2026-11-02T06:00:00.000Z");
    // Sunday 04:00 is EST after the change: 09:00Z.
    assert.equal(iso(nextHourAfter(at("2026-10-31T15:00:00Z"), 4, "America/New_York")), "2026-11-01T09:00:00.000Z");
  });

  it("handles southern-hemisphere and half-hour zones", () => {
    // Sydney leaves summer time on 2026-04-05 at 03:00 (UTC+11 → UTC+10): Sunday 04:00 is 18:00Z Saturday.
    assert.equal(iso(nextHourAfter(at("2026-04-04T00:00:00Z"), 4, "Australia/Sydney")), "2026-04-04T18:00:00.000Z");
    // Before the change, 04:00 on Friday was UTC+11: 17:00Z on Thursday.
    assert.equal(iso(nextHourAfter(at("2026-04-02T12:00:00Z"), 4, "Australia/Sydney")), "2026-04-02T17:00:00.000Z");
    assert.equal(iso(nextHourAfter(at("2026-01-15T00:00:00Z"), 4, "Asia/Kolkata")), "2026-01-15T22:30:00.000Z");
    assert.equal(iso(nextHourAfter(at("2026-01-15T00:00:00Z"), 0, "UTC")), "2026-01-16T00:00:00.000Z");
  });
});

describe("UTC without Intl", () => {
  it("gives the same instants as Intl's formatter for the same zone under another name", () => {
    // "UTC" is computed from the Date's own fields; "Etc/UTC" still goes through Intl.DateTimeFormat.
    let seed = 20261207;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 500; i++) {
      const ms = Math.floor(Date.UTC(1990, 0, 1) + next() * 60 * 365 * 86_400_000);
      const hour = Math.floor(next() * 24);
      assert.equal(nextHourAfter(ms, hour, "UTC"), nextHourAfter(ms, hour, "Etc/UTC"), `${iso(ms)} at ${hour}:00`);
    }
  });

  it("names a host on UTC as Intl does, whatever alias TZ uses, and other zones by Intl", () => {
    const saved = process.env.TZ;
    try {
      for (const tz of ["UTC", ":Etc/UTC", "Etc/UCT", "Zulu", "GMT", "Etc/Greenwich"]) {
        process.env.TZ = tz;
        assert.equal(hostTimeZone(), "UTC", tz);
      }
      process.env.TZ = "Europe/Berlin";
      assert.equal(hostTimeZone(), "Europe/Berlin");
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });
});

describe("reset policies", () => {
  const base: ResetConfig = { expirationMs: 86_400_000 };
  const dm = { key: "dm:telegram:42", channel: "telegram" };
  const group = { key: "group:slack:C1", channel: "slack" };
  const thread = { key: "group:slack:C1:thread:T9", channel: "slack" };

  it("without sessions.reset, sessions.expirationMs is an idle reset (0: never)", () => {
    assert.deepEqual(policyFor(base, dm, "UTC"), { mode: "idle", atHour: 4, timezone: "UTC", idleMinutes: 1440 });
    assert.equal(policyFor({ expirationMs: 0 }, dm, "UTC").mode, "never");
    assert.equal(longestIdleMs(base), 86_400_000);
    assert.equal(longestIdleMs({ expirationMs: 0 }), 0);
  });

  it("resetByChannel beats resetByKind, which beats sessions.reset; a thread is its own kind", () => {
    const config: ResetConfig = {
      expirationMs: 86_400_000,
      reset: { mode: "daily", atHour: 4, timezone: "Europe/Berlin" },
      resetByKind: { group: { mode: "idle", idleMinutes: 120 }, thread: { atHour: 6 } },
      resetByChannel: { telegram: { mode: "never" } },
    };
    assert.deepEqual(policyFor(config, dm, "UTC"), { mode: "never", atHour: 4, timezone: "Europe/Berlin", idleMinutes: null });
    assert.deepEqual(policyFor(config, { key: "dm:signal:7", channel: "signal" }, "UTC"), { mode: "daily", atHour: 4, timezone: "Europe/Berlin", idleMinutes: null });
    assert.deepEqual(policyFor(config, group, "UTC"), { mode: "idle", atHour: 4, timezone: "Europe/Berlin", idleMinutes: 120 });
    assert.deepEqual(policyFor(config, thread, "UTC"), { mode: "daily", atHour: 6, timezone: "Europe/Berlin", idleMinutes: null });
    // Some policy has no idle window: the store expires nothing by idleness, routing does it all.
    assert.equal(longestIdleMs(config), 0);
    assert.equal(describePolicy(policyFor(config, thread, "UTC")), "daily at 06:00 Europe/Berlin");
  });

  it("an idle policy without idleMinutes takes sessions.expirationMs; the host's zone is the default", () => {
    const config: ResetConfig = { expirationMs: 3_600_000, reset: { mode: "idle" }, resetByKind: { dm: { mode: "idle", idleMinutes: 30 } } };
    assert.equal(policyFor(config, group, "Asia/Tokyo").idleMinutes, 60);
    assert.equal(policyFor(config, group, "Asia/Tokyo").timezone, "Asia/Tokyo");
    assert.equal(policyFor(config, dm, "UTC").idleMinutes, 30);
    assert.equal(longestIdleMs(config), 3_600_000);
  });

  it("daily with idleMinutes resets at whichever comes first", () => {
    const policy = { mode: "daily" as const, atHour: 4, timezone: "UTC", idleMinutes: 60 };
    const s = { createdAt: "2026-03-01T10:00:00.000Z", lastActivityAt: "2026-03-01T10:30:00.000Z" };
    assert.equal(resetAt(s, policy)?.toISOString(), "2026-03-01T11:30:00.000Z");
    assert.equal(resetAt({ ...s, lastActivityAt: "2026-03-02T03:30:00.000Z" }, policy)?.toISOString(), "2026-03-02T04:00:00.000Z");
    assert.equal(resetAt(s, { ...policy, mode: "never" }), null);
  });

  it("a session past its reset reads as expired from the moment it became due", () => {
    const s = newSession({ id: "0190a0b0-0000-7000-8000-000000000001", key: "dm:telegram:42", kind: "dm", channel: "telegram", participants: [], now: new Date("2026-03-01T10:00:00Z") });
    const policy = { mode: "daily" as const, atHour: 4, timezone: "UTC", idleMinutes: null };
    assert.equal(evaluateReset(s, policy, new Date("2026-03-02T03:59:59Z")).status, "created");
    const due = evaluateReset(s, policy, new Date("2026-03-02T04:00:00Z"));
    assert.deepEqual([due.status, due.expiredAt], ["expired", "2026-03-02T04:00:00.000Z"]);
  });
});
