/**
 * The manifest: the one file that says which segments make up each collection and from which WAL
 * file replay starts. It is replaced atomically (write `MANIFEST.tmp`, fsync, rename, fsync the
 * directory), so a crash leaves either the old or the new one, never a mix.
 *
 * File `MANIFEST`: UTF-8 JSON of `Manifest` with a CRC32C trailer (checked-json.ts), so it stays
 * inspectable with a text editor and a damaged one is caught. Its `format` is the database format
 * (see DATABASE_FORMAT), checked at every open before anything else is read.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { decodeCheckedJson, encodeCheckedJson } from "./checked-json.js";

export const MANIFEST_FILE = "MANIFEST";

/**
 * The on-disk format of a whole database directory: this manifest and the WAL, segment and index
 * file versions that go with it. It is raised whenever any of them changes so that an older
 * release could misread the directory. A release opens every format from 1 up to its own (reading
 * or migrating the older ones) and refuses a newer one with UNSUPPORTED, changing nothing. The
 * manifest's checksum is verified before its format is read, so a newer format cannot be damage.
 * History: 1 = quiverdb 0.1.0; 2 = columnar segments (segment.ts format 2; format 1 still read).
 */
export const DATABASE_FORMAT = 2;

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
  /** The database format that wrote this directory (DATABASE_FORMAT at the time). */
  format: number;
  /** Every operation with a sequence number at or below this is contained in the segments. */
  checkpointSeq: number;
  /** Replay WAL files numbered from here upwards; older ones are obsolete. */
  walStart: number;
  /** Next number for a new WAL or segment file (never reused, so names never collide). */
  nextFileNumber: number;
  collections: ManifestCollection[];
}

export function emptyManifest(): Manifest {
  return { format: DATABASE_FORMAT, checkpointSeq: 0, walStart: 1, nextFileNumber: 1, collections: [] };
}

export function encodeManifest(m: Manifest): Uint8Array {
  return encodeCheckedJson(m, 1);
}

export function decodeManifest(data: Uint8Array): Manifest {
  const parsed = decodeCheckedJson(data, MANIFEST_FILE) as Manifest;
  const format: unknown = parsed.format;
  if (typeof format !== "number" || !Number.isInteger(format) || format < 1) {
    throw new QuiverError("CORRUPT", `MANIFEST: invalid database format ${JSON.stringify(format)}`);
  }
  if (format > DATABASE_FORMAT) {
    throw new QuiverError(
      "UNSUPPORTED",
      `MANIFEST: this database has on-disk format ${format}, written by a newer release of quiverdb; this release reads formats 1 to ${DATABASE_FORMAT}. Open it with a release that supports format ${format} (nothing was changed).`,
    );
  }
  return parsed;
}
