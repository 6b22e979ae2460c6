/**
 * OS errors from node:fs become QuiverErrors here, once: ENOENT is NOT_FOUND, anything else IO
 * naming the operation, the file and the errno, with the original error kept as `cause`. Messages
 * name files relative to the database and never its absolute location, because they reach clients
 * (a server's error answers); the cause, which only the process sees, keeps the full path.
 */
import { QuiverError } from "../core/errors/errors.js";

export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Maps an OS error of `op` on `name` (a path relative to the database) to a QuiverError. */
export function fsError(op: string, name: string, e: unknown): QuiverError {
  if (e instanceof QuiverError) return e;
  const errno = errnoOf(e);
  if (errno === "ENOENT") {
    return new QuiverError("NOT_FOUND", `${op} of ${name} failed: file not found`, { cause: e });
  }
  const reason = errno ?? (e instanceof Error ? e.message : String(e));
  return new QuiverError("IO", `${op} of ${name} failed: ${reason}`, { cause: e });
}
