import { z } from "zod";
import { intAtLeast } from "./_fields.js";

/** True when Intl knows `zone` as a time zone. */
function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const RESET_MODE = 'expected "daily", "idle" or "never"';
const HOUR = "expected an hour from 0 to 23";

/** A reset policy; an override's missing fields come from the policy below it. */
export const resetPolicy = z.object(
  {
    /** "daily": at `atHour` after the session started; "idle": after `idleMinutes` without a message; "never". */
    mode: z.enum(["daily", "idle", "never"], { error: RESET_MODE }).optional(),
    /** Hour of a daily reset, in `timezone`. */
    atHour: z.number({ error: HOUR }).int({ error: HOUR }).min(0, { error: HOUR }).max(23, { error: HOUR }).optional(),
    /** IANA zone of `atHour` (default: the host's). */
    timezone: z
      .string({ error: "expected an IANA time zone such as Europe/Berlin" })
      .refine(isTimeZone, { error: (issue) => `unknown time zone ${JSON.stringify(issue.input)}: expected an IANA time zone such as Europe/Berlin or America/New_York` })
      .optional(),
    /** Minutes without a message after which the session resets (idle; with daily, whichever comes first). */
    idleMinutes: intAtLeast(1).optional(),
  },
  { error: "expected { mode, atHour, timezone, idleMinutes }" },
);

const COMMAND_SWITCH = "expected true or false";

/** In-chat commands: a user message that is exactly one of them is answered by the session layer, not the model. */
export const chatCommands = z
  .object(
    {
      /** All of them at once; false turns every command off. */
      enabled: z.boolean({ error: COMMAND_SWITCH }).default(true),
      /** `/new [model]`: a fresh session for the key (carry-over applies), optionally on that model. */
      new: z.boolean({ error: COMMAND_SWITCH }).default(true),
      /** `/reset`: a fresh session for the key (carry-over applies). */
      reset: z.boolean({ error: COMMAND_SWITCH }).default(true),
      /** `/compact [focus]`: folds the session's old turns now. */
      compact: z.boolean({ error: COMMAND_SWITCH }).default(true),
      /** `/status`: the session's context use, model and age. */
      status: z.boolean({ error: COMMAND_SWITCH }).default(true),
      /** Who may use them in a group: "*" (anyone) or sender ids (`userId` or `channel:userId`); from anyone else they are plain messages. */
      groupSenders: z.union([z.literal("*"), z.array(z.string({ error: "expected a sender id" }).min(1, { error: "expected a sender id" }))], { error: 'expected "*" or an array of sender ids' }).default("*"),
    },
    { error: "expected { enabled, new, reset, compact, status, groupSenders }" },
  )
  .prefault({});
