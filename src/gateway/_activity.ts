/** One minute of `/admin/activity`. */
export interface ActivityBucket {
  /** The minute's start (ISO). */
  start: string;
  turns: number;
  /** Turns that ended in an error (the upstream or the store failed, or the turn was refused); a client that went away is not one. */
  errors: number;
  /** Median and 95th percentile of the turns' durations in the minute, in milliseconds; null without turns. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  promptTokens: number;
  completionTokens: number;
}

/** The body of `GET /admin/activity`. */
export interface ActivityReport {
  bucketSeconds: 60;
  /** Sixty buckets, oldest first; the last is the minute under way. */
  buckets: ActivityBucket[];
  now: string;
}

/** One finished turn, as the activity log records it. */
export interface TurnActivity {
  ms: number;
  failed: boolean;
  promptTokens: number;
  completionTokens: number;
}

const MINUTE_MS = 60_000;
const BUCKETS = 60;
/** Durations kept per minute for its percentiles: exact up to this many turns a minute, a uniform sample beyond. */
const RESERVOIR = 128;

interface Slot {
  /** The minute this slot holds (epoch minutes); a slot of an older minute is empty. */
  minute: number;
  turns: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  /** Durations of the first RESERVOIR turns, then a uniform sample of all (reservoir sampling). */
  sample: number[];
}

/**
 * The last hour of turns in per-minute buckets, in memory: a ring of 60
 * slots, each reused when its minute comes round again, so recording a turn
 * costs the same however busy the gateway is.
 */
export class ActivityLog {
  private readonly slots: Slot[] = Array.from({ length: BUCKETS }, () => ({ minute: -1, turns: 0, errors: 0, promptTokens: 0, completionTokens: 0, sample: [] }));

  constructor(private readonly random: () => number = Math.random) {}

  /** Records a turn that ended at `nowMs`. */
  record(nowMs: number, turn: TurnActivity): void {
    const slot = this.slotFor(Math.floor(nowMs / MINUTE_MS));
    slot.turns++;
    if (turn.failed) slot.errors++;
    slot.promptTokens += turn.promptTokens;
    slot.completionTokens += turn.completionTokens;
    if (slot.sample.length < RESERVOIR) slot.sample.push(turn.ms);
    else {
      const at = Math.floor(this.random() * slot.turns);
      if (at < RESERVOIR) slot.sample[at] = turn.ms;
    }
  }

  /** The hour up to `nowMs`, oldest minute first. */
  report(nowMs: number): ActivityReport {
    const current = Math.floor(nowMs / MINUTE_MS);
    const buckets: ActivityBucket[] = [];
    for (let minute = current - BUCKETS + 1; minute <= current; minute++) {
      const slot = this.slots[minute % BUCKETS];
      const live = slot !== undefined && slot.minute === minute ? slot : undefined;
      const sorted = live === undefined ? [] : [...live.sample].sort((a, b) => a - b);
      buckets.push({
        start: new Date(minute * MINUTE_MS).toISOString(),
        turns: live?.turns ?? 0,
        errors: live?.errors ?? 0,
        latencyP50Ms: percentile(sorted, 0.5),
        latencyP95Ms: percentile(sorted, 0.95),
        promptTokens: live?.promptTokens ?? 0,
        completionTokens: live?.completionTokens ?? 0,
      });
    }
    return { bucketSeconds: 60, buckets, now: new Date(nowMs).toISOString() };
  }

  /**
   * Turns a minute: over the last 60 seconds (the minute under way and the
   * part of the one before that the window still covers) and over the hour.
   */
  rates(nowMs: number): { lastMinute: number; lastHour: number } {
    const current = Math.floor(nowMs / MINUTE_MS);
    const turnsOf = (minute: number): number => {
      const slot = this.slots[minute % BUCKETS];
      return slot !== undefined && slot.minute === minute ? slot.turns : 0;
    };
    const elapsed = (nowMs - current * MINUTE_MS) / MINUTE_MS;
    const lastMinute = turnsOf(current) + turnsOf(current - 1) * (1 - elapsed);
    let hour = 0;
    for (let minute = current - BUCKETS + 1; minute <= current; minute++) hour += turnsOf(minute);
    return { lastMinute: round2(lastMinute), lastHour: round2(hour / BUCKETS) };
  }

  private slotFor(minute: number): Slot {
    const slot = this.slots[minute % BUCKETS] as Slot;
    if (slot.minute !== minute) {
      slot.minute = minute;
      slot.turns = slot.errors = slot.promptTokens = slot.completionTokens = 0;
      slot.sample.length = 0;
    }
    return slot;
  }
}

/** The nearest-rank percentile of sorted durations, rounded to a tenth of a millisecond; null when there are none. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
  return Math.round(value * 10) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
