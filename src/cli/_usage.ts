/**
 * A mistake in how a command was invoked (missing target, conflicting
 * options). Kept apart from OpenclawError because the CLI exits 2 for it,
 * as it does for commander's own parse errors.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
