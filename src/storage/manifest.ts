/**
 * The manifest: the one file that says which segments make up each collection and from which WAL
 * file replay starts. It is replaced atomically (write `MANIFEST.tmp`, fsync, rename, fsync the
 * directory), so a crash leaves either the old or the new one, never a mix.
 *
 * File `MANIFEST`: UTF-8 JSON of `Manifest` with a CRC32C trailer (checked-json.ts), so it stays
 * inspectable with a text editor and a damaged one is caught.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { decodeCheckedJson, encodeCheckedJson } from "./checked-json.js";

export const MANIFEST_FILE = "MANIFEST";

export interface ManifestCollection {
  name: string;
  uid: string;
  schema: CollectionSchema;
  /** Segment file names, oldest first; later ones override earlier ones. */
  segments: string[];
  /** The collection's graph file (index-file.ts) as of checkpointSeq, when it has HNSW vectors. */
  indexFile?: string;
}

export interface Manifest {
  format: 1;
  /** Every operation with a sequence number at or below this is contained in the segments. */
  checkpointSeq: number;
  /** Replay WAL files numbered from here upwards; older ones are obsolete. */
  walStart: number;
  /** Next number for a new WAL or segment file (never reused, so names never collide). */
  nextFileNumber: number;
  collections: ManifestCollection[];
}

export function emptyManifest(): Manifest {
  return { format: 1, checkpointSeq: 0, walStart: 1, nextFileNumber: 1, collections: [] };
}

export function encodeManifest(m: Manifest): Uint8Array {
  return encodeCheckedJson(m, 1);
}

export function decodeManifest(data: Uint8Array): Manifest {
  const parsed = decodeCheckedJson(data, MANIFEST_FILE) as Manifest;
  if (parsed.format !== 1) throw new QuiverError("CORRUPT", `MANIFEST: unsupported format ${String(parsed.format)}`);
  return parsed;
}
