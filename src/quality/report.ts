/**
 * `quiver doctor`'s report on a stored collection: reads the records (text from a payload field,
 * vectors from one named vector) through the public API and runs the quality checks on them; in an
 * image collection, exact duplicates are files with the same bytes and near-duplicates close vectors.
 */
import type { CollectionApi } from "../api/types.js";
import { denseOnly } from "../api/query.js";
import { QuiverError } from "../core/errors/errors.js";
import { analyzeQuality, type QualityFindings, type QualityOptions } from "./analyze.js";

export interface DoctorOptions extends QualityOptions {
  /** Named vector to check (default: the only one, else the first bound to an embedder, else the first). */
  vector?: string;
  /** Payload field holding the text (default: the vector's `source`, else "text"). */
  textField?: string;
  /** Records read at most (default 5,000: the near-duplicate and outlier checks compare all pairs). */
  maxRecords?: number;
}

export interface DoctorReport extends QualityFindings {
  collection: string;
  vector: string | null;
  textField: string;
  /** True when the collection holds more records than were checked. */
  sampled: boolean;
}

/**
 * @example
 * const report = await doctor(await db.collection("docs"), { nearDuplicateThreshold: 0.97 });
 * console.log(report.nearDuplicates.count, report.outliers.examples);
 */
export async function doctor(coll: CollectionApi, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const schema = coll.schema;
  const names = Object.keys(schema.vectors);
  const vector =
    opts.vector ??
    (names.length === 1 ? names[0] : (names.find((n) => schema.vectors[n].embedder !== undefined) ?? names[0] ?? null));
  if (vector !== null && !schema.vectors[vector])
    throw QuiverError.fromProblems("INVALID_ARGUMENT", [
      { path: "vector", message: `unknown vector; this collection has ${names.join(", ")}` },
    ]);
  // An image collection (src/embed/node/image-ingest.ts, marked by its imageHash index) has no text:
  // its files' content hashes stand in, so byte-identical images are exact duplicates.
  const images = schema.indexes?.imageHash !== undefined;
  const textField =
    opts.textField ??
    (images ? "imageHash" : undefined) ??
    (vector !== null ? schema.vectors[vector].source : undefined) ??
    "text";
  const max = opts.maxRecords ?? 5000;
  const items: { id: string; text?: string; vector?: number[] }[] = [];
  let cursor: string | undefined;
  do {
    const page = await coll.scroll({
      cursor,
      limit: Math.min(1000, max - items.length),
      withPayload: true,
      withVectors: vector !== null,
    });
    for (const r of page.records) {
      const t = textField
        .split(".")
        .reduce<unknown>(
          (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
          r.payload,
        );
      items.push({
        id: r.id,
        text: typeof t === "string" ? t : undefined,
        vector: vector !== null ? denseOnly(r.vectors?.[vector]) : undefined,
      });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && items.length < max);
  const total = await coll.count();
  const findings = analyzeQuality(items, {
    ...opts,
    normsMeaningful: vector === null || schema.vectors[vector].metric !== "cosine",
  });
  if (total > items.length)
    findings.notes.push(
      `checked the first ${items.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} records (raise maxRecords / --max to check more)`,
    );
  return { collection: coll.name, vector, textField, sampled: total > items.length, ...findings };
}
