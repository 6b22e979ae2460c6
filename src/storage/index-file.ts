/**
 * Index files: a collection's HNSW graphs as of a checkpoint, so that opening does not rebuild
 * them. Graphs address records by slot, and slots are assigned at load time, so the file also
 * holds the slot of every id: recovery assigns those same slots while loading the segments,
 * then restores the graphs as they were.
 *
 * File `idx-NNNNNN.qidx`:
 *
 * | size | field                                                              |
 * |------|--------------------------------------------------------------------|
 * | 4    | magic "QIDX"                                                       |
 * | 4    | format version (u32 LE) = 3                                        |
 * | ...  | body: str collection uid, u64 checkpoint sequence number,          |
 * |      |       slot table (slot i holds id i; "" = free slot): version 1:   |
 * |      |       u32 n, n × str id; version 2: a string list (codec.ts strList) |
 * |      |       u32 g, g × (str vector name, u32 length, bytes of HnswIndex.serialize) |
 * |      |       (version 2:) u32 analysis version (ANALYSIS_VERSION),        |
 * |      |       u32 t, t × (str text field, u32 length, bytes of FieldIndex.toBytes) |
 * |      |       (version 3:) u32 p, p × (str payload field, u32 length, bytes of |
 * |      |       the packed payload index, core/payload/packed-index.ts)      |
 * | 4    | CRC32C of everything before it (u32 LE)                            |
 * | 4    | magic "QEND"                                                       |
 *
 * Version 1 (quiverdb 0.1.0) ends after the graphs, version 2 after the postings. An index file is
 * derived data: if it is missing or damaged, recovery rebuilds the graphs, the full-text postings
 * and the payload indexes from the records (slower, same result) and says so; postings written by
 * another analysis version are rebuilt too, and so are payload indexes of a version-1 or -2 file.
 */
import { QuiverError } from "../core/errors/errors.js";
import { ByteReader, ByteWriter, CHUNK_BYTES, joinChunks } from "./codec.js";
import { crc32c } from "./crc32c.js";

const MAGIC = 0x58444951; // "QIDX"
const END = 0x444e4551; // "QEND"
const VERSION = 3;

export function indexFileName(n: number): string {
  return `idx-${String(n).padStart(6, "0")}.qidx`;
}

export interface IndexSnapshot {
  uid: string;
  checkpointSeq: number;
  /** slotIds[slot] = the id stored there, or undefined for a free slot. */
  slotIds: (string | undefined)[];
  graphs: Map<string, Uint8Array>;
  /** The full-text index's postings per text field (TextIndex.toBytes); empty in version 1. */
  text: Map<string, Uint8Array>;
  /** The analysis version the postings were made with (0 in version 1). */
  analysisVersion: number;
  /** The payload indexes per field (PayloadIndexSet.toBytes); empty before version 3. */
  payload: Map<string, Uint8Array>;
}

export function encodeIndexFile(s: IndexSnapshot): Uint8Array {
  const graphs = new Map([...s.graphs].map(([name, bytes]) => [name, [bytes]]));
  return joinChunks(indexFileChunks({ ...s, graphs }));
}

/**
 * An index file's bytes as chunks of about CHUNK_BYTES, produced on demand; each graph is given as
 * the chunks of its bytes (HNSW's own serialization, itself produced in chunks by a checkpoint).
 */
export function* indexFileChunks(
  s: Omit<IndexSnapshot, "graphs"> & { graphs: Map<string, Uint8Array[]> },
): Generator<Uint8Array> {
  const w = new ByteWriter(1 << 16);
  let crc = 0;
  const drain = (): Uint8Array => {
    const bytes = w.drain();
    crc = crc32c(bytes, 0, bytes.length, crc);
    return bytes;
  };
  w.u32(MAGIC).u32(VERSION).str(s.uid).u64(s.checkpointSeq);
  yield* w.strListInPieces(s.slotIds, drain);
  w.u32(s.graphs.size);
  for (const [name, chunks] of s.graphs) {
    w.str(name).u32(chunks.reduce((sum, c) => sum + c.length, 0));
    yield drain();
    for (const c of chunks) {
      crc = crc32c(c, 0, c.length, crc);
      yield c;
    }
  }
  w.u32(s.analysisVersion).u32(s.text.size);
  for (const [field, bytes] of s.text) {
    w.str(field).u32(bytes.length).bytes(bytes);
    if (w.length >= CHUNK_BYTES) yield drain();
  }
  w.u32(s.payload.size);
  for (const [field, bytes] of s.payload) {
    w.str(field).u32(bytes.length).bytes(bytes);
    if (w.length >= CHUNK_BYTES) yield drain();
  }
  const last = drain();
  w.u32(crc).u32(END);
  yield joinChunks([last, w.drain()]);
}

export function decodeIndexFile(data: Uint8Array, name: string): IndexSnapshot {
  if (data.length < 16) throw new QuiverError("CORRUPT", `${name}: too short to be an index file`);
  const foot = new ByteReader(data, data.length - 8, data.length, name);
  const crc = foot.u32();
  if (foot.u32() !== END || crc32c(data, 0, data.length - 8) !== crc)
    throw new QuiverError("CORRUPT", `${name}: index file checksum mismatch`);
  const r = new ByteReader(data, 0, data.length - 8, name);
  if (r.u32() !== MAGIC) throw new QuiverError("CORRUPT", `${name}: not a Quiver index file (bad magic)`);
  const version = r.u32();
  if (version < 1 || version > VERSION)
    throw new QuiverError("CORRUPT", `${name}: unsupported index file version ${version}`);
  const uid = r.str();
  const checkpointSeq = r.u64();
  const table = version === 1 ? strsV1(r) : r.strList();
  const slotIds = table.map((id) => (id === "" ? undefined : id));
  const graphs = new Map<string, Uint8Array>();
  for (let i = r.u32(); i > 0; i--) {
    const vname = r.str();
    // A view, not a copy: the graph is read once at open and then the file's bytes are dropped.
    graphs.set(vname, r.bytes(r.u32()));
  }
  const text = new Map<string, Uint8Array>();
  const analysisVersion = version === 1 ? 0 : r.u32();
  for (let i = version === 1 ? 0 : r.u32(); i > 0; i--) {
    const field = r.str();
    text.set(field, r.bytes(r.u32()));
  }
  const payload = new Map<string, Uint8Array>();
  for (let i = version < 3 ? 0 : r.u32(); i > 0; i--) {
    const field = r.str();
    payload.set(field, r.bytes(r.u32()));
  }
  if (r.remaining !== 0) throw new QuiverError("CORRUPT", `${name}: ${r.remaining} unexpected bytes before footer`);
  return { uid, checkpointSeq, slotIds, graphs, text, analysisVersion, payload };
}

/** Version 1's slot table: u32 n, n × str. */
function strsV1(r: ByteReader): string[] {
  const out: string[] = [];
  for (let i = r.u32(); i > 0; i--) out.push(r.str());
  return out;
}
