// The deterministic split of a benchmark's queries into a tuning part, where every engine's parameters
// (ef, ef_search, analyzer, tokenizer options) are chosen, and a scored part, where recall, quality and
// speed are reported: no engine is tuned on the queries it is scored on.
// Every fifth query (rows 0, 5, 10, …) tunes, the other four fifths are scored. Taking every fifth row
// rather than a prefix keeps both parts spread over the whole file, whatever order its queries are in.

export const TUNE_EVERY = 5;

export interface QuerySplit<T> {
  tune: T[];
  scored: T[];
}

/** Splits `items` (queries, or their row numbers) into the tuning and scored parts; order is kept. */
export function splitQueries<T>(items: readonly T[]): QuerySplit<T> {
  const tune: T[] = [];
  const scored: T[] = [];
  for (let i = 0; i < items.length; i++) (i % TUNE_EVERY === 0 ? tune : scored).push(items[i]);
  return { tune, scored };
}

/** A one-line statement of the split for a bench's log and RESULTS. */
export function describeSplit(split: QuerySplit<unknown>): string {
  return `${split.tune.length} tuning queries (rows 0, ${TUNE_EVERY}, ${2 * TUNE_EVERY}, …) and ${split.scored.length} scored queries (the others)`;
}
