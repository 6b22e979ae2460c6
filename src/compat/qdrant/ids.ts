/**
 * Qdrant point ids <-> Quiver ids. Qdrant ids are unsigned integers or UUIDs; Quiver ids are
 * strings. An integer is stored as its decimal digits ("42"), a UUID in its canonical form
 * (lowercase, hyphenated), so the two kinds never collide and each maps back to its own type:
 * an id of only digits (no leading zero) is read back as an integer, one in UUID form as a UUID.
 * Integers are limited to 2^53 - 1: JSON parsed by JavaScript (the server's and every JS client's)
 * cannot carry larger ones exactly, and a rounded id would name another point.
 */
import type { Checker } from "../shape.js";

const DIGITS = /^(0|[1-9][0-9]*)$/;
/** UUIDs as Qdrant accepts them: hyphenated, simple (32 hex digits), or in braces / as a urn. */
const UUID = /^(?:urn:uuid:)?\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

export type PointId = number | string;

/** The Quiver id of a point id, or undefined (with the problem recorded) when it is neither kind. */
export function quiverId(id: unknown, path: string, check: Checker): string | undefined {
  if (typeof id === "number") {
    if (Number.isSafeInteger(id) && id >= 0) return String(id);
    check.fail(path, `must be an unsigned integer up to 2^53 - 1 or a UUID, got ${id}`);
    return undefined;
  }
  if (typeof id === "string") {
    const m = UUID.exec(id);
    if (m) return m.slice(1).join("-").toLowerCase();
  }
  check.fail(path, `must be an unsigned integer or a UUID, got ${JSON.stringify(id)}`);
  return undefined;
}

/**
 * The point id of a Quiver id. Records written through Quiver's own API may have ids of neither
 * kind; they are returned as the string itself, which Qdrant clients carry through unchanged.
 */
export function pointId(id: string): PointId {
  if (DIGITS.test(id) && id.length <= 16) {
    const n = Number(id);
    if (Number.isSafeInteger(n)) return n;
  }
  return id;
}

/** Quiver ids of a list of point ids (every bad one recorded). */
export function quiverIds(ids: unknown, path: string, check: Checker): string[] {
  const list = check.array(ids, path) ?? [];
  const out: string[] = [];
  list.forEach((id, i) => {
    const q = quiverId(id, `${path}[${i}]`, check);
    if (q !== undefined) out.push(q);
  });
  return out;
}
