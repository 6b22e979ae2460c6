/**
 * The manifest: the one file that says which segments make up each collection and from which WAL
 * file replay starts. It is replaced atomically (write `MANIFEST.tmp`, fsync, rename, fsync the
 * directory), so a crash leaves either the old or the new one, never a mix.
 *
 * File `MANIFEST`: UTF-8 JSON of `Manifest`, then a newline and `crc32c:<8 hex digits>` of the JSON
 * bytes. JSON keeps it inspectable with a text editor; the checksum catches a damaged one.
 */
import { QuiverError } from "../core/errors/errors.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import { crc32c } from "./crc32c.js";

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
  const json = new TextEncoder().encode(JSON.stringify(m, null, 1));
  const trailer = new TextEncoder().encode(`\ncrc32c:${crc32c(json).toString(16).padStart(8, "0")}\n`);
  const out = new Uint8Array(json.length + trailer.length);
  out.set(json);
  out.set(trailer, json.length);
  return out;
}

export function decodeManifest(data: Uint8Array): Manifest {
  const text = new TextDecoder().decode(data);
  const m = /\ncrc32c:([0-9a-f]{8})\n$/.exec(text);
  if (!m) throw new QuiverError("CORRUPT", "MANIFEST: missing checksum trailer");
  const jsonBytes = data.subarray(0, data.length - m[0].length);
  if (crc32c(jsonBytes).toString(16).padStart(8, "0") !== m[1]) {
    throw new QuiverError("CORRUPT", "MANIFEST: checksum mismatch");
  }
  const parsed = JSON.parse(new TextDecoder().decode(jsonBytes)) as Manifest;
  if (parsed.format !== 1) throw new QuiverError("CORRUPT", `MANIFEST: unsupported format ${String(parsed.format)}`);
  return parsed;
}
