/**
 * The single error type of Quiver and its catalog of codes.
 * Every failure a caller can see is a QuiverError whose `code` comes from ERROR_CATALOG, so hosts
 * (HTTP, MCP, CLI) map codes once instead of parsing messages.
 */

/** Each code says whether the caller caused it (`user`) or the system did (`system`), and its HTTP status. */
export const ERROR_CATALOG = {
  INVALID_ARGUMENT: { kind: "user", status: 400, summary: "A request field is malformed or out of range." },
  INVALID_FILTER: { kind: "user", status: 400, summary: "A filter expression is malformed." },
  DIMENSION_MISMATCH: { kind: "user", status: 400, summary: "A vector's length differs from its schema." },
  DUPLICATE_ID: { kind: "user", status: 400, summary: "The same id appears twice in one batch." },
  PAYLOAD_TOO_LARGE: { kind: "user", status: 413, summary: "A payload or batch exceeds a documented limit." },
  NOT_FOUND: { kind: "user", status: 404, summary: "The named collection (or file) does not exist." },
  ALREADY_EXISTS: { kind: "user", status: 409, summary: "A collection with that name already exists." },
  UNAUTHORIZED: { kind: "user", status: 401, summary: "No valid credentials were given." },
  QUOTA_EXCEEDED: { kind: "user", status: 429, summary: "A key's usage quota for this period is used up." },
  FORBIDDEN: { kind: "user", status: 403, summary: "The credentials lack the required scope." },
  METHOD_NOT_ALLOWED: { kind: "user", status: 405, summary: "The resource exists but does not accept that method." },
  LIMIT_EXCEEDED: {
    kind: "user",
    status: 422,
    summary: "A request asks for more work than a documented per-request limit allows.",
  },
  CLIENT_DISCONNECTED: {
    kind: "user",
    status: 499,
    summary: "The client went away before its request was complete; no answer was sent (logged as 499).",
  },
  LOCKED: { kind: "user", status: 423, summary: "Another process holds the database's writer lock." },
  CLOSED: { kind: "user", status: 409, summary: "The database or client has been closed." },
  RESOURCE_EXHAUSTED: {
    kind: "system",
    status: 507,
    summary: "Memory or storage ran out; the operation failed, and a write that met it was not acknowledged.",
  },
  UNSUPPORTED: {
    kind: "system",
    status: 501,
    summary:
      "This runtime or release lacks a feature the operation needs (such as a newer on-disk format), or Quiver lacks a foreign API's feature.",
  },
  UNAVAILABLE: {
    kind: "system",
    status: 503,
    summary: "The service could not be reached or is not ready; the operation may or may not have been applied.",
  },
  READ_ONLY: {
    kind: "user",
    status: 409,
    summary: "The database was opened read-only (or degraded) and refuses writes.",
  },
  TIMEOUT: { kind: "system", status: 504, summary: "The request did not finish within its time limit." },
  CORRUPT: { kind: "system", status: 500, summary: "Stored data failed a checksum or format check." },
  IO: { kind: "system", status: 503, summary: "The storage layer failed; the operation was not acknowledged." },
  EMBEDDING_FAILED: { kind: "system", status: 502, summary: "An embedding provider failed or refused the request." },
  INTERNAL: { kind: "system", status: 500, summary: "An invariant was violated: a bug in Quiver." },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** One problem in a validated input, located by a path such as `records[3].vectors.text[7]`. */
export interface Problem {
  path: string;
  message: string;
}

export class QuiverError extends Error {
  readonly code: ErrorCode;
  /** Every problem found, when validation found several; `problems[0]` mirrors `message`. */
  readonly problems: Problem[];

  constructor(code: ErrorCode, message: string, options: { problems?: Problem[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QuiverError";
    this.code = code;
    this.problems = options.problems ?? [];
  }

  /** Builds one error from a non-empty list of problems, naming each with its path. */
  static fromProblems(code: ErrorCode, problems: Problem[]): QuiverError {
    const shown = problems.slice(0, 20).map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
    const more = problems.length > 20 ? `; and ${problems.length - 20} more` : "";
    return new QuiverError(code, shown.join("; ") + more, { problems });
  }

  get kind(): "user" | "system" {
    return ERROR_CATALOG[this.code].kind;
  }

  get httpStatus(): number {
    return ERROR_CATALOG[this.code].status;
  }

  toJSON(): { code: ErrorCode; message: string; problems: Problem[] } {
    return { code: this.code, message: this.message, problems: this.problems };
  }
}

export function isQuiverError(e: unknown, code?: ErrorCode): e is QuiverError {
  return e instanceof QuiverError && (code === undefined || e.code === code);
}
