import { assertValidId } from "../../session/ids.js";
import { checkLeaseArgs, leaseToken, LeaseWakeups, WANT_MS, type TurnLease, type TurnLeases } from "../lease.js";

/** Runs one statement as a write of the store (errors mapped, credentials redacted); returns its rows. */
export type LeaseQuery = (action: string, name: string, text: string, values: unknown[]) => Promise<Record<string, unknown>[]>;

// One statement per attempt: take the lease when it is free (expired or
// released) and no other waiter is due first; otherwise record this holder
// as the next one, unless another live waiter already is. Times are the
// server's, so processes on machines whose clocks differ still agree.
const ACQUIRE = `WITH took AS (
    INSERT INTO turn_leases AS l (session_id, holder, token, expires_at)
    VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
    ON CONFLICT (session_id) DO UPDATE SET holder = excluded.holder, token = excluded.token, expires_at = excluded.expires_at, wanted_by = NULL, wanted_until = NULL
    WHERE l.expires_at <= clock_timestamp() AND (l.wanted_by IS NULL OR l.wanted_by = excluded.holder OR l.wanted_until <= clock_timestamp())
    RETURNING token
  ), wants AS (
    UPDATE turn_leases SET wanted_by = $2, wanted_until = clock_timestamp() + $5 * interval '1 millisecond'
    WHERE session_id = $1 AND NOT EXISTS (SELECT 1 FROM took) AND (wanted_by IS NULL OR wanted_by = $2 OR wanted_until <= clock_timestamp())
    RETURNING 1
  )
  SELECT (SELECT token FROM took) AS token, (SELECT count(*) FROM wants) AS wanted`;
const RENEW = `UPDATE turn_leases SET expires_at = clock_timestamp() + $3 * interval '1 millisecond' WHERE session_id = $1 AND token = $2 RETURNING 1 AS ok`;
// The row stays: it may carry the next waiter's claim.
const RELEASE = `UPDATE turn_leases SET expires_at = '-infinity' WHERE session_id = $1 AND token = $2 RETURNING 1 AS ok`;

/** Turn leases as rows of `turn_leases` (migration 4), each change one statement. */
export class PostgresLeases implements TurnLeases {
  private readonly wakeups = new LeaseWakeups();

  constructor(private readonly query: LeaseQuery) {}

  /** Polls the row until this holder takes it; see {@link TurnLeases.acquire}. */
  async acquire(sessionId: string, holder: string, ttlMs: number, signal: AbortSignal): Promise<TurnLease> {
    assertValidId(sessionId);
    checkLeaseArgs(holder, ttlMs);
    return this.wakeups.poll(sessionId, signal, async () => {
      const token = leaseToken();
      const [row] = await this.query("take a turn lease", "openclaw_lease_acquire", ACQUIRE, [sessionId, holder, token, ttlMs, WANT_MS]);
      return row?.token === token ? { sessionId, holder, token } : undefined;
    });
  }

  /** Extends the row's expiry while its token is this lease's. */
  async renew(lease: TurnLease, ttlMs: number): Promise<boolean> {
    checkLeaseArgs(lease.holder, ttlMs);
    return (await this.query("renew a turn lease", "openclaw_lease_renew", RENEW, [lease.sessionId, lease.token, ttlMs])).length > 0;
  }

  /** Expires the row now while its token is this lease's, and wakes this process's waiters. */
  async release(lease: TurnLease): Promise<void> {
    const rows = await this.query("release a turn lease", "openclaw_lease_release", RELEASE, [lease.sessionId, lease.token]);
    if (rows.length > 0) this.wakeups.wake(lease.sessionId);
  }
}
