/**
 * The one step the inverted indexes (BM25's FieldIndex, SparseIndex) share when they drop dead
 * documents: a posting list's parallel arrays filtered in place, each document number mapped to
 * its new one (or -1 to drop the entry), order kept.
 */

/** Keeps the entries whose mapped document is >= 0, rewritten to it; returns the new length. */
export function keepPostings(
  docs: Uint32Array,
  data: Uint32Array | Float32Array,
  length: number,
  map: (doc: number) => number,
): number {
  let w = 0;
  for (let r = 0; r < length; r++) {
    const d = map(docs[r]);
    if (d < 0) continue;
    docs[w] = d;
    data[w++] = data[r];
  }
  return w;
}
