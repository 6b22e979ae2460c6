/**
 * Declared payload indexes: per field, which slots hold which value, so a selective filter finds its
 * slots without reading every payload. Indexes only narrow; the planner re-checks every candidate.
 */

import { QuiverError, type Problem } from "../errors/errors.js";
import { pathExists, splitPath, valuesAt } from "./path.js";
import { type Key, type PackedField, decodePacked, encodePacked, findKey } from "./packed-index.js";

export type PayloadIndexType = "keyword" | "number" | "boolean";

/** One declared index: `field` is a dotted path (`authors.name`); arrays are indexed per element. */
export interface PayloadIndexDecl {
  field: string;
  type: PayloadIndexType;
}

/** Range bounds as in a filter's range node; all present bounds share one type. */
export interface RangeBounds {
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
}

const EMPTY: ReadonlySet<number> = new Set<number>();

const ACCEPTS: Record<PayloadIndexType, (v: unknown) => v is Key> = {
  keyword: (v): v is string => typeof v === "string",
  number: (v): v is number => typeof v === "number" && Number.isFinite(v),
  boolean: (v): v is boolean => typeof v === "boolean",
};

/** Checks declarations (e.g. from a collection schema), reporting every problem with its path. */
export function validateIndexDecls(decls: unknown, at = "indexes"): PayloadIndexDecl[] {
  const problems: Problem[] = [];
  if (!Array.isArray(decls)) {
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [{ path: at, message: "must be an array of { field, type }" }]);
  }
  const seen = new Set<string>();
  decls.forEach((d: unknown, i) => {
    const here = `${at}[${i}]`;
    const { field, type } = (typeof d === "object" && d !== null ? d : {}) as Record<string, unknown>;
    if (typeof field !== "string" || field === "" || field.split(".").some((s) => s === "" || s.startsWith("$"))) {
      problems.push({ path: `${here}.field`, message: "must be a dotted path of non-empty names not starting with $" });
    } else if (seen.has(field)) {
      problems.push({ path: `${here}.field`, message: `"${field}" is already indexed; a field has at most one index` });
    } else {
      seen.add(field);
    }
    if (type !== "keyword" && type !== "number" && type !== "boolean") {
      problems.push({
        path: `${here}.type`,
        message: `must be "keyword", "number" or "boolean", got ${JSON.stringify(type)}`,
      });
    }
  });
  if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
  return decls.map((d: PayloadIndexDecl) => ({ field: d.field, type: d.type }));
}

/**
 * The slots of one value: a lone slot is held as the number itself, since a Set costs about 250
 * bytes of heap and high-cardinality fields (timestamps, prices, scores) are mostly lone values.
 */
type Slots = number | Set<number>;

const sizeOf = (s: Slots): number => (typeof s === "number" ? 1 : s.size);
const asSet = (s: Slots | undefined): ReadonlySet<number> =>
  s === undefined ? EMPTY : typeof s === "number" ? new Set([s]) : s;

/** Adds `slot` to the slots of `v`. */
function addPair(map: Map<Key, Slots>, v: Key, slot: number): void {
  const had = map.get(v);
  if (had === undefined) map.set(v, slot);
  else if (typeof had !== "number") had.add(slot);
  else if (had !== slot) map.set(v, new Set([had, slot]));
}

/** Takes `slot` out of the slots of `v`; whether it was there. */
function removePair(map: Map<Key, Slots>, v: Key, slot: number): boolean {
  const had = map.get(v);
  if (had === slot) map.delete(v);
  else if (had === undefined || typeof had === "number" || !had.delete(slot)) return false;
  else if (had.size === 1) map.set(v, had.values().next().value!);
  return true;
}

/** Sorts values in place as an index orders them (numbers numerically, else UTF-16 order, as `<` does). */
function sortKeys(keys: Key[], type: PayloadIndexType): void {
  if (type === "number") (keys as number[]).sort((a, b) => a - b);
  else keys.sort();
}

/**
 * One field's index: value → slots, plus the slots where the field exists at all (for `$exists`).
 * Range lookups use the distinct values sorted with prefix sums of their slot counts, rebuilt lazily
 * after writes: writes stay O(1) and a query after a burst of writes pays one O(d log d) sort.
 * An index loaded from an index file stays packed (packed-index.ts), answering reads from its
 * arrays, until its first write unpacks it into the maps and sets that writes update.
 */
class FieldIndex {
  readonly path: string[];
  private readonly values = new Map<Key, Slots>();
  private presentSlots: Set<number> | null = new Set<number>();
  private packed: PackedField | null = null;
  /**
   * The index as of the last pack() or load, and the writes since: pairs added, slots whose pairs
   * there were removed (a slot's values always go together) and slots now present. The next pack()
   * merges them in one pass instead of sorting every value again: at a million distinct numbers a
   * full pack took 0.1 to 1 s, on the writer, inside a checkpoint's pause. Null until the first
   * pack of an index built by writes (nothing is logged until then).
   */
  private base: PackedField | null = null;
  private readonly added = new Map<Key, Slots>();
  private readonly gone = new Set<number>();
  private readonly presentAdded = new Set<number>();
  private sorted: (number | string)[] | null = null;
  private prefix: ArrayLike<number> = [];

  constructor(readonly decl: PayloadIndexDecl) {
    this.path = splitPath(decl.field);
  }

  /** Value → slots, for writes and whole-map reads (unpacks a loaded index). */
  get byValue(): Map<Key, Slots> {
    this.unpack();
    return this.values;
  }

  get present(): Set<number> {
    this.presentSlots ??= new Set(this.packed!.present);
    return this.presentSlots;
  }

  add(slot: number, payload: Record<string, unknown>): void {
    const values = valuesAt(payload, this.path);
    const byValue = this.byValue;
    const logged = this.base !== null;
    if (values.length > 0 || pathExists(payload, this.path)) {
      this.present.add(slot);
      if (logged) this.presentAdded.add(slot);
    }
    const accepts = ACCEPTS[this.decl.type];
    for (const v of values) {
      if (!accepts(v)) continue; // wrong type: not indexed, the planner's re-check still sees it
      addPair(byValue, v, slot);
      if (logged) addPair(this.added, v, slot);
      this.sorted = null;
    }
  }

  remove(slot: number, payload: Record<string, unknown>): void {
    const byValue = this.byValue;
    this.present.delete(slot);
    const logged = this.base !== null;
    if (logged) {
      this.gone.add(slot);
      this.presentAdded.delete(slot);
    }
    const accepts = ACCEPTS[this.decl.type];
    for (const v of valuesAt(payload, this.path)) {
      if (!accepts(v)) continue;
      if (logged) removePair(this.added, v, slot);
      if (removePair(byValue, v, slot)) this.sorted = null;
    }
  }

  clear(): void {
    this.base = null;
    this.added.clear();
    this.gone.clear();
    this.presentAdded.clear();
    this.packed = null;
    this.values.clear();
    this.presentSlots = new Set();
    this.sorted = null;
  }

  /** The slots holding `value` (read-only; the index's own set once unpacked and not a lone slot). */
  eq(value: Key): ReadonlySet<number> {
    if (this.packed === null) return asSet(this.values.get(value));
    const { keys, offsets, slots } = this.packed;
    const i = findKey(keys, value);
    return i < 0 ? EMPTY : new Set(slots.subarray(offsets[i], offsets[i + 1]));
  }

  /** Whether this index holds every value a range of this bound type can match. */
  coversRange(b: RangeBounds): boolean {
    const t = typeof (b.gt ?? b.gte ?? b.lt ?? b.lte);
    return (t === "number" && this.decl.type === "number") || (t === "string" && this.decl.type === "keyword");
  }

  /** The half-open span [lo, hi) of sorted distinct values inside the bounds. */
  span(b: RangeBounds): [number, number] {
    const keys = this.sortedKeys();
    let lo = 0;
    let hi = keys.length;
    if (b.gte !== undefined) lo = Math.max(lo, lowerBound(keys, b.gte, false));
    if (b.gt !== undefined) lo = Math.max(lo, lowerBound(keys, b.gt, true));
    if (b.lte !== undefined) hi = Math.min(hi, lowerBound(keys, b.lte, true));
    if (b.lt !== undefined) hi = Math.min(hi, lowerBound(keys, b.lt, false));
    return [lo, Math.max(lo, hi)];
  }

  slotsIn(lo: number, hi: number): Set<number> {
    const out = new Set<number>();
    this.forEachIn(lo, hi, (s) => out.add(s));
    return out;
  }

  forEachIn(lo: number, hi: number, visit: (slot: number) => void): void {
    if (this.packed !== null) {
      const { offsets, slots } = this.packed;
      for (let i = offsets[lo]; i < offsets[hi]; i++) visit(slots[i]);
      return;
    }
    const keys = this.sortedKeys();
    for (let i = lo; i < hi; i++) {
      const slots = this.values.get(keys[i])!;
      if (typeof slots === "number") visit(slots);
      else for (const s of slots) visit(s);
    }
  }

  /** Slot-value pairs in the span: an upper bound on the distinct slots there. */
  countIn(lo: number, hi: number): number {
    this.sortedKeys();
    return this.prefix[hi] - this.prefix[lo];
  }

  /**
   * The index packed (for an index file): its own arrays when loaded and not written since, else
   * the last pack merged with the writes since, else packed whole; it becomes the new base.
   */
  pack(): PackedField {
    if (this.packed !== null) return this.packed;
    const p = this.base ? this.merge(this.base) : this.packWhole();
    this.base = p;
    this.added.clear();
    this.gone.clear();
    this.presentAdded.clear();
    return p;
  }

  /** `base` with the writes since: one pass over its values in order, merged with the added ones (sorted). */
  private merge(base: PackedField): PackedField {
    const { added } = this;
    // The gone slots as a byte mask: a million lookups in it cost a fraction of a Set's.
    let maxGone = -1;
    for (const slot of this.gone) maxGone = Math.max(maxGone, slot);
    const gone = new Uint8Array(maxGone + 1);
    for (const slot of this.gone) gone[slot] = 1;
    const addedKeys = [...added.keys()];
    sortKeys(addedKeys, this.decl.type);
    let pairs = base.slots.length;
    for (const a of added.values()) pairs += sizeOf(a);
    const keys = new Array<Key>(base.keys.length + addedKeys.length);
    let d = 0;
    const offsets = new Uint32Array(base.keys.length + addedKeys.length + 1);
    const slots = new Uint32Array(pairs);
    let at = 0;
    for (let i = 0, j = 0; i < base.keys.length || j < addedKeys.length; ) {
      const fromBase = j === addedKeys.length || (i < base.keys.length && base.keys[i] <= addedKeys[j]);
      const key = fromBase ? base.keys[i] : addedKeys[j];
      const start = at;
      if (fromBase) {
        const [from, to] = [base.offsets[i], base.offsets[i + 1]];
        for (let k = from; k < to; k++) if (gone[base.slots[k]] !== 1) slots[at++] = base.slots[k];
        i++;
      }
      if (j < addedKeys.length && addedKeys[j] === key) {
        const a = added.get(key)!;
        if (typeof a === "number") slots[at++] = a;
        else for (const s of a) slots[at++] = s;
        j++;
      }
      if (at > start) {
        keys[d++] = key;
        offsets[d] = at;
      }
    }
    // Present: the base's (ascending) without the gone slots, merged with the added ones.
    const extra = Uint32Array.from(this.presentAdded).sort();
    const present = new Uint32Array(base.present.length + extra.length);
    let n = 0;
    let e = 0;
    for (const slot of base.present) {
      if (gone[slot] === 1) continue;
      while (e < extra.length && extra[e] < slot) present[n++] = extra[e++];
      present[n++] = slot;
    }
    while (e < extra.length) present[n++] = extra[e++];
    keys.length = d;
    return {
      type: this.decl.type,
      keys,
      offsets: offsets.slice(0, d + 1),
      slots: slots.slice(0, at),
      present: present.slice(0, n),
    };
  }

  /** The index packed from its maps: every value sorted. */
  private packWhole(): PackedField {
    const keys = this.sortedKeys();
    const offsets = Uint32Array.from(this.prefix);
    const slots = new Uint32Array(offsets[keys.length]);
    let at = 0;
    for (const k of keys) {
      const of = this.values.get(k)!;
      if (typeof of === "number") slots[at++] = of;
      else for (const s of of) slots[at++] = s;
    }
    const present = Uint32Array.from(this.present).sort();
    return { type: this.decl.type, keys, offsets, slots, present };
  }

  /** Takes a packed index (decoded and checked by decodePacked) in place of this one's contents. */
  load(packed: PackedField): void {
    this.clear();
    this.packed = packed;
    this.base = packed;
    this.presentSlots = null;
    this.sorted = packed.keys as (number | string)[];
    this.prefix = packed.offsets;
  }

  /** Whether every slot the index names passes `live` (checked after loading, before any read). */
  namesOnly(live: (slot: number) => boolean): boolean {
    const p = this.pack();
    return p.slots.every(live) && p.present.every(live);
  }

  /** Turns a loaded index into the maps and sets that writes update (once, at its first write). */
  private unpack(): void {
    const p = this.packed;
    if (p === null) return;
    for (let i = 0; i < p.keys.length; i++) {
      const [from, to] = [p.offsets[i], p.offsets[i + 1]];
      this.values.set(p.keys[i], to - from === 1 ? p.slots[from] : new Set(p.slots.subarray(from, to)));
    }
    this.presentSlots ??= new Set(p.present);
    this.prefix = Array.from(p.offsets);
    this.packed = null;
  }

  private sortedKeys(): (number | string)[] {
    if (this.sorted === null) {
      const keys = [...this.values.keys()] as (number | string)[];
      sortKeys(keys, this.decl.type);
      const prefix = new Array<number>(keys.length + 1);
      prefix[0] = 0;
      for (let i = 0; i < keys.length; i++) prefix[i + 1] = prefix[i] + sizeOf(this.values.get(keys[i])!);
      this.prefix = prefix;
      this.sorted = keys;
    }
    return this.sorted;
  }
}

/** First index whose key is >= x (or > x when `strict`); keys and x share one type. */
function lowerBound(keys: (number | string)[], x: number | string, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid] as number;
    if (strict ? k <= (x as number) : k < (x as number)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The payload indexes of one collection. The caller adds each live slot once with its payload and,
 * on update or delete, removes it passing the payload it was added with.
 *
 * @example
 * const ix = new PayloadIndexSet([{ field: "lang", type: "keyword" }]);
 * ix.add(0, { lang: "en" });
 * ix.lookupEq("lang", "en"); // Set {0}
 */
export class PayloadIndexSet {
  readonly declarations: readonly PayloadIndexDecl[];
  private readonly byField = new Map<string, FieldIndex>();

  constructor(decls: readonly PayloadIndexDecl[]) {
    this.declarations = validateIndexDecls(decls);
    for (const d of this.declarations) this.byField.set(d.field, new FieldIndex(d));
  }

  add(slot: number, payload: Record<string, unknown> | undefined): void {
    if (payload === undefined) return;
    for (const ix of this.byField.values()) ix.add(slot, payload);
  }

  remove(slot: number, payload: Record<string, unknown> | undefined): void {
    for (const ix of this.byField.values()) ix.remove(slot, payload ?? {});
  }

  clear(): void {
    for (const ix of this.byField.values()) ix.clear();
  }

  has(field: string): boolean {
    return this.byField.has(field);
  }

  typeOf(field: string): PayloadIndexType | undefined {
    return this.byField.get(field)?.decl.type;
  }

  /** A keyword index's value → slots, copied; undefined when `field` has none. */
  keyword(field: string): ReadonlyMap<string, ReadonlySet<number>> | undefined {
    const ix = this.byField.get(field);
    if (ix?.decl.type !== "keyword") return undefined;
    return new Map([...ix.byValue].map(([k, slots]) => [k as string, asSet(slots)]));
  }

  /**
   * Slots whose `field` holds `value`, or null when the index cannot answer: no index on `field`,
   * or a value of another type than the index (such values are not indexed) or `null`.
   * The set is the index's own: read it, never mutate it.
   */
  lookupEq(field: string, value: unknown): ReadonlySet<number> | null {
    const ix = this.byField.get(field);
    if (ix === undefined || !ACCEPTS[ix.decl.type](value)) return null;
    return ix.eq(value as Key);
  }

  /** A fresh set of the slots with some value inside `bounds`, or null when the index cannot answer. */
  lookupRange(field: string, bounds: RangeBounds): Set<number> | null {
    const ix = this.byField.get(field);
    if (ix === undefined || !ix.coversRange(bounds)) return null;
    const [lo, hi] = ix.span(bounds);
    return ix.slotsIn(lo, hi);
  }

  /**
   * Calls `visit` with each slot holding a value inside `bounds` (a slot once per such value: an
   * array can hold several), without building a set; false when `lookupRange` would be null.
   */
  forEachInRange(field: string, bounds: RangeBounds, visit: (slot: number) => void): boolean {
    const ix = this.byField.get(field);
    if (ix === undefined || !ix.coversRange(bounds)) return false;
    const [lo, hi] = ix.span(bounds);
    ix.forEachIn(lo, hi, visit);
    return true;
  }

  /** An upper bound on `lookupRange(field, bounds).size` in O(log d), or null when it would be null. */
  countRange(field: string, bounds: RangeBounds): number | null {
    const ix = this.byField.get(field);
    if (ix === undefined || !ix.coversRange(bounds)) return null;
    const [lo, hi] = ix.span(bounds);
    return ix.countIn(lo, hi);
  }

  /** Slots where `field` exists (even as null, `[]` or a value of another type); read-only. */
  present(field: string): ReadonlySet<number> | null {
    return this.byField.get(field)?.present ?? null;
  }

  /** Each field's index as bytes (packed-index.ts), for an index file. */
  toBytes(): Map<string, Uint8Array> {
    return new Map([...this.byField].map(([field, ix]) => [field, encodePacked(ix.pack())]));
  }

  /**
   * Loads indexes persisted by toBytes over slots below `slotLimit`, all or none: null when loaded,
   * else why not (other fields or types than declared, or bytes that do not describe an index).
   */
  restore(bytes: ReadonlyMap<string, Uint8Array>, slotLimit: number): string | null {
    const same = bytes.size === this.byField.size && [...bytes.keys()].every((f) => this.byField.has(f));
    if (!same)
      return `it indexes the fields [${[...bytes.keys()].join(", ")}], the schema declares [${[...this.byField.keys()].join(", ")}]`;
    const packed = new Map<string, PackedField>();
    try {
      for (const [field, ix] of this.byField)
        packed.set(field, decodePacked(bytes.get(field)!, ix.decl.type, slotLimit));
    } catch (e) {
      return `its payload indexes are damaged (${e instanceof Error ? e.message : String(e)})`;
    }
    for (const [field, ix] of this.byField) ix.load(packed.get(field)!);
    return null;
  }

  /** Whether every slot named by any index passes `live`. */
  namesOnly(live: (slot: number) => boolean): boolean {
    return [...this.byField.values()].every((ix) => ix.namesOnly(live));
  }
}
