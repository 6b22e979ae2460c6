/**
 * Random payloads and filters for randomized tests of filter evaluation and planning: payloads mix
 * types, arrays, nested objects, nulls and missing fields; filters nest `$and`/`$or`/`$not` over
 * every operator, on indexed and unindexed paths (see DECLS in candidates.property.test.ts).
 */

export type Rand = () => number;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
export const int = (r: Rand, n: number) => Math.floor(r() * n);

const WORDS = ["a", "b", "c", "d", "e"];
const DATES = ["2023-01-05", "2023-06-30T12:00:00Z", "2024-02-29", "2024-12-31", "2025-01-01"];
const SCALARS = [...WORDS, ...DATES, 0, 1, 2, 5, 7.5, 10, 19, "5", "10", true, false, null];

const word = (r: Rand) => pick(r, WORDS);
const num = (r: Rand) => (r() < 0.8 ? int(r, 20) : int(r, 200) / 10);

/** Chooses a generator by weight; the last entry is used when the draw falls through. */
function oneOf<T>(r: Rand, options: [number, () => T][]): T {
  let x = r();
  for (const [w, f] of options) {
    x -= w;
    if (x < 0) return f();
  }
  return options[options.length - 1][1]();
}

const MISSING = Symbol("missing");

export function randomPayload(r: Rand): Record<string, unknown> {
  const fields: Record<string, () => unknown> = {
    kw: () =>
      oneOf<unknown>(r, [
        [0.7, () => word(r)],
        [0.1, () => int(r, 3)],
        [0.1, () => MISSING],
        [0.05, () => null],
        [0.05, () => [word(r), word(r)]],
      ]),
    num: () =>
      oneOf<unknown>(r, [
        [0.65, () => num(r)],
        [0.1, () => String(int(r, 20))],
        [0.1, () => MISSING],
        [0.05, () => null],
        [0.1, () => [num(r), num(r), num(r)]],
      ]),
    flag: () =>
      oneOf<unknown>(r, [
        [0.7, () => r() < 0.5],
        [0.1, () => "true"],
        [0.15, () => MISSING],
        [0.05, () => 0],
      ]),
    tags: () =>
      oneOf<unknown>(r, [
        [0.6, () => Array.from({ length: int(r, 4) }, () => (r() < 0.9 ? word(r) : int(r, 3)))],
        [0.2, () => MISSING],
        [0.2, () => word(r)],
      ]),
    meta: () =>
      oneOf<unknown>(r, [
        [0.5, () => ({ color: r() < 0.8 ? word(r) : r() < 0.5 ? int(r, 3) : undefined, size: num(r) })],
        [0.2, () => MISSING],
        [0.1, () => "meta"],
        [0.2, () => [{ color: word(r) }, { size: num(r) }]],
      ]),
    authors: () =>
      oneOf<unknown>(r, [
        [
          0.7,
          () =>
            Array.from({ length: int(r, 4) }, () =>
              r() < 0.9 ? { name: r() < 0.9 ? word(r) : null, age: num(r) } : word(r),
            ),
        ],
        [0.3, () => MISSING],
      ]),
    date: () => (r() < 0.8 ? pick(r, DATES) : MISSING),
    u: () => (r() < 0.7 ? num(r) : MISSING),
  };
  const p: Record<string, unknown> = {};
  for (const [k, gen] of Object.entries(fields)) {
    const v = gen();
    if (v !== MISSING) p[k] = v;
  }
  return p;
}

const FIELDS = [
  "kw",
  "num",
  "flag",
  "tags",
  "meta.color",
  "meta.size",
  "authors.name",
  "authors.age",
  "date",
  "u",
  "nope",
];

function randomBounds(r: Rand): Record<string, unknown> {
  const strings = r() < 0.3;
  const b = () => (strings ? pick(r, [...WORDS, ...DATES, "10", "5"]) : num(r));
  const out: Record<string, unknown> = {};
  const ops = ["$gt", "$gte", "$lt", "$lte"];
  for (let i = 0, n = 1 + int(r, 2); i < n; i++) out[pick(r, ops)] = b();
  return out;
}

function randomCondition(r: Rand): unknown {
  return oneOf<unknown>(r, [
    [0.25, () => pick(r, SCALARS)],
    [0.1, () => ({ $ne: pick(r, SCALARS) })],
    [0.15, () => ({ $in: Array.from({ length: 1 + int(r, 4) }, () => pick(r, SCALARS)) })],
    [0.05, () => ({ $nin: Array.from({ length: 1 + int(r, 3) }, () => pick(r, SCALARS)) })],
    [0.25, () => randomBounds(r)],
    [0.1, () => ({ $exists: r() < 0.6 })],
    [0.1, () => ({ $not: randomBounds(r) })],
  ]);
}

export function randomFilter(r: Rand, depth: number): Record<string, unknown> {
  const f: Record<string, unknown> = {};
  for (let i = 0, n = 1 + int(r, 2); i < n; i++) {
    const x = r();
    if (depth > 0 && x < 0.15) f.$and = Array.from({ length: 1 + int(r, 3) }, () => randomFilter(r, depth - 1));
    else if (depth > 0 && x < 0.3) f.$or = Array.from({ length: 1 + int(r, 3) }, () => randomFilter(r, depth - 1));
    else if (depth > 0 && x < 0.36) f.$not = randomFilter(r, depth - 1);
    else f[pick(r, FIELDS)] = randomCondition(r);
  }
  return f;
}
