/**
 * The records the map draws: every record of a collection up to `limit` (at most MAP_LIMIT), or
 * beyond that a sample of about `limit` chosen by a hash of the id (the same records every time,
 * whatever the page order), read page by page through scroll with the one named vector and the payload.
 */
import type { CollectionApi } from "quiverdb/client";

export const MAP_LIMIT = 100_000;
const PAGE = 2_000;

export interface MapSample {
  ids: string[];
  payloads: Record<string, unknown>[];
  /** Row-major, `dim` floats per record. */
  vectors: Float32Array;
  dim: number;
  /** Records in the collection when it was read (the sample is `ids.length` of them). */
  total: number;
}

/** FNV-1a of the id, as a fraction in [0, 1): a record is kept when it falls under the sampling rate. */
function idFraction(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

export async function readSample(
  coll: CollectionApi,
  vectorName: string,
  onProgress: (read: number, total: number) => void,
  limit = MAP_LIMIT,
): Promise<MapSample> {
  const total = await coll.count();
  const rate = total > limit ? limit / total : 1;
  const spec = coll.schema.vectors[vectorName];
  // A map projects dense vectors; a sparse vector has no fixed dimension to project from.
  if (spec.kind === "sparse" || spec.dim === undefined)
    throw new Error(`"${vectorName}" is a sparse vector: pick a dense one`);
  const dim = spec.dim;
  const ids: string[] = [];
  const payloads: Record<string, unknown>[] = [];
  // Each page's vectors are copied out as it arrives, so its parsed JSON dies young (a cheap minor GC)
  // instead of piling up 100,000 arrays for a major GC on the page's main thread.
  // Records written after the count are left out: the sample is of the collection as counted.
  const capacity = Math.min(total, limit);
  const vectors = new Float32Array(capacity * dim);
  let cursor: string | undefined;
  let read = 0;
  do {
    const page = await coll.scroll({ limit: PAGE, cursor, withPayload: true, withVectors: true });
    for (const r of page.records) {
      const v = r.vectors?.[vectorName];
      if (!Array.isArray(v) || ids.length >= capacity || (rate < 1 && idFraction(r.id) >= rate)) continue;
      vectors.set(v, ids.length * dim);
      ids.push(r.id);
      payloads.push(r.payload ?? {});
    }
    read += page.records.length;
    onProgress(read, total);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { ids, payloads, vectors: vectors.subarray(0, ids.length * dim), dim, total };
}
