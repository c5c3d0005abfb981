/** Stable machine-readable codes for every error the engine raises on purpose. */
export type ErrorCode =
  | "INVALID_ID"
  | "INVALID_KEY"
  | "INVALID_ARGUMENT"
  | "NOT_FOUND"
  | "AMBIGUOUS_REF"
  | "ALREADY_EXISTS"
  | "CONFLICT"
  | "LOCK_TIMEOUT"
  /** A session's turns queue past the gateway's bounds (gateway.turnQueue); retry after a moment. */
  | "SESSION_BUSY"
  | "SESSION_EXPIRED"
  | "SESSION_ARCHIVED"
  | "CONFIG_INVALID"
  | "CONFIG_PARSE"
  | "IMPORT_INVALID"
  | "MESSAGE_TOO_LARGE"
  | "SUMMARIZER_FAILED"
  | "STORAGE"
  /** The store's server cannot be reached or went away; retrying later may succeed. */
  | "STORE_UNAVAILABLE"
  | "ABORTED"
  | "CLOSED"
  | "UPSTREAM"
  /** A rate limit (gateway.rateLimits) is spent; `retryAfterSeconds` says when to come back. */
  | "RATE_LIMITED"
  | "UNAUTHORIZED"
  /** The gateway refused the request: for where it came from (Host, Origin), or a credential without the scope it needs. */
  | "FORBIDDEN"
  /** A request body in a type the route does not read (JSON routes take only application/json). */
  | "UNSUPPORTED_MEDIA_TYPE"
  /** The store is encrypted and the key it needs is not configured (or another key is). */
  | "ENCRYPTION_KEY";

/**
 * Base class of every error the engine raises deliberately. `message` is one
 * line meant for the operator and says what to do; `code` is stable.
 */
export class OpenclawError extends Error {
  /** Stable code that callers and tests may switch on. */
  readonly code: ErrorCode;
  /** True when the user's input or data caused it (bad id, bad config, corrupt file). */
  readonly userError: boolean;

  /** For UPSTREAM: the HTTP status the upstream model answered with, when it answered. */
  readonly status: number | undefined;

  /** When retrying may succeed, in whole seconds (sent as Retry-After by the gateway). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; userError?: boolean; status?: number; retryAfterSeconds?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OpenclawError";
    this.code = code;
    this.userError = options?.userError ?? true;
    this.status = options?.status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** True when `err` is an OpenclawError, optionally with the given code. */
export function isOpenclawError(err: unknown, code?: ErrorCode): err is OpenclawError {
  return err instanceof OpenclawError && (code === undefined || err.code === code);
}

/** Wraps an unexpected I/O failure in a one-line STORAGE error that names the path. */
export function storageError(action: string, path: string, cause: unknown): OpenclawError {
  const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
  const hint =
    reason === "ENOSPC"
      ? " (disk full: free space and retry; the previous state is intact)"
      : reason === "EACCES" || reason === "EPERM" || reason === "EROFS"
        ? " (permission denied or read-only: check the state directory; the previous state is intact)"
        : "";
  return new OpenclawError("STORAGE", `cannot ${action} ${path}: ${reason}${hint}`, { cause, userError: false });
}
