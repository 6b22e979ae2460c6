/**
 * A segment's payloads as the JSON text they were stored in, with where each record's object lies
 * in it, so that an open keeps the text and parses a record's payload when it is first read
 * (database/payload-store.ts) instead of parsing every payload of every segment up front.
 *
 * The bounds come from the segment's `payload-ends` block when it has one (written since format 2
 * segments got it; older readers ignore it), else from one scan of the text, which also checks its
 * shape: a JSON array of exactly `count` objects (the scan costs several times a JSON.parse of the
 * text, the ends nothing). Either way the block's checksum has already been verified, so the text is
 * what the checkpoint wrote with JSON.stringify; the checks guard against a writer bug, not damage.
 */
import { QuiverError } from "../core/errors/errors.js";

export interface PayloadTexts {
  /** The JSON texts; record i's object is text.slice(starts[i], ends[i]). */
  text: string;
  starts: Uint32Array;
  ends: Uint32Array;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The objects of the JSON array `text`, located; CORRUPT unless it holds exactly `count` objects. */
export function locatePayloads(text: string, count: number, what: string): PayloadTexts {
  const bad = (why: string): QuiverError =>
    new QuiverError("CORRUPT", `${what}: expected a JSON array of ${count} objects (${why})`);
  const starts = new Uint32Array(count);
  const ends = new Uint32Array(count);
  let found = 0;
  let depth = 0;
  let inString = false;
  let expectValue = true;
  let i = 0;
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i++) !== OPEN_BRACKET) throw bad("no opening bracket");
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (depth > 0) {
      // Inside an object: only strings and nesting matter for finding where it ends.
      if (c === QUOTE) inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--depth === 0) {
          if (c !== CLOSE_BRACE) throw bad(`unbalanced at ${i}`);
          ends[found++] = i + 1;
        }
      }
    } else if (c === OPEN_BRACE && expectValue) {
      if (found === count) throw bad("more objects");
      starts[found] = i;
      depth = 1;
      expectValue = false;
    } else if (c === COMMA && !expectValue && found > 0) {
      expectValue = true;
    } else if (c === CLOSE_BRACKET && (found === 0 || !expectValue)) {
      for (i++; i < text.length; i++) if (!isSpace(text.charCodeAt(i))) throw bad(`text after the array at ${i}`);
      if (found !== count) throw bad(`${found} objects`);
      return { text, starts, ends };
    } else if (!isSpace(c)) {
      throw bad(`unexpected character at ${i}`);
    }
  }
  throw bad("cut short");
}

/**
 * The objects of the JSON array `text` from where each ends (a segment's `payload-ends` block):
 * record i's object starts one character after record i-1's ends (after the comma; the first after
 * the bracket). Checks only the characters at those bounds, so it costs O(count), not O(text).
 */
export function payloadsByEnds(text: string, ends: Uint32Array, what: string): PayloadTexts {
  const count = ends.length;
  const starts = new Uint32Array(count);
  let at = 1;
  for (let i = 0; i < count; i++) {
    starts[i] = at;
    const end = ends[i];
    const ok =
      end > at &&
      end < text.length &&
      text.charCodeAt(at - 1) === (i === 0 ? OPEN_BRACKET : COMMA) &&
      text.charCodeAt(at) === OPEN_BRACE &&
      text.charCodeAt(end - 1) === CLOSE_BRACE;
    if (!ok) throw new QuiverError("CORRUPT", `${what}: payload ${i} does not lie where its end says`);
    at = end + 1;
  }
  const closed = count === 0 ? text === "[]" : at === text.length && text.charCodeAt(at - 1) === CLOSE_BRACKET;
  if (!closed) throw new QuiverError("CORRUPT", `${what}: the payload ends do not cover the array`);
  return { text, starts, ends };
}

/** Texts for payloads given one JSON text each (format-1 segments). */
export function payloadTextsOf(jsons: readonly string[]): PayloadTexts {
  const starts = new Uint32Array(jsons.length);
  const ends = new Uint32Array(jsons.length);
  let at = 1;
  jsons.forEach((json, i) => {
    starts[i] = at;
    ends[i] = at + json.length;
    at += json.length + 1;
  });
  return { text: `[${jsons.join(",")}]`, starts, ends };
}
