/**
 * Checkpoints write segments and index files in chunks (segmentChunks, indexFileChunks) with a
 * yield after each: the chunks must join into exactly the bytes of the one-piece encoders that
 * defined format 2 (kept below as the reference, as they were before chunking), across chunk
 * boundaries that fall inside blocks, and must re-encode the committed format-2 fixture byte for byte.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { QuiverError } from "../../src/index.js";
import { ByteReader, ByteWriter, CHUNK_BYTES, joinChunks } from "../../src/storage/codec.js";
import { crc32c } from "../../src/storage/crc32c.js";
import {
  SEGMENT_VERSION,
  decodeSegment,
  encodeSegment,
  segmentChunks,
  type SegmentContent,
} from "../../src/storage/segment.js";
import { decodeIndexFile, encodeIndexFile, indexFileChunks, type IndexSnapshot } from "../../src/storage/index-file.js";
import type { StoredRecord } from "../../src/storage/record-codec.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "fixtures", "format-2");

/**
 * Format 2's segment encoder in one piece, as it was written before checkpoints chunked it; with
 * `withEnds`, the `payload-ends` block that segments have since carried last.
 */
function referenceSegment(seg: SegmentContent, withEnds = true): Uint8Array {
  const w = new ByteWriter(1 << 16);
  w.u32(0x47455351).u32(SEGMENT_VERSION);
  const directory: { name: string; offset: number; length: number; crc: number }[] = [];
  const block = (name: string, fill: () => void): void => {
    while (w.length % 8 !== 0) w.u8(0);
    const offset = w.length;
    fill();
    directory.push({ name, offset, length: w.length - offset, crc: crc32c(w.finish(), offset) });
  };
  const records = seg.records;
  const namesOf = (kind: "vectors" | "sparse") => [...new Set(records.flatMap((r) => [...r[kind].keys()]))];
  const rowsHaving = (has: (r: StoredRecord) => unknown) =>
    records.flatMap((r, row) => (has(r) === undefined ? [] : [row]));
  block("meta", () => w.str(seg.uid).u32(records.length).u32(seg.deleted.length));
  block("deleted", () => referenceStrList(w, seg.deleted));
  block("ids", () =>
    referenceStrList(
      w,
      records.map((r) => r.id),
    ),
  );
  block("payloads", () => w.bytes(new TextEncoder().encode(`[${records.map((r) => r.payloadJson).join(",")}]`)));
  for (const name of namesOf("vectors")) {
    const rows = rowsHaving((r) => r.vectors.get(name));
    const dim = rows.length > 0 ? records[rows[0]].vectors.get(name)!.length : 0;
    block(`dense:${name}`, () => {
      w.u32(dim).u32(rows.length);
      for (const row of rows) w.u32(row);
      while (w.length % 8 !== 0) w.u8(0);
      for (const row of rows) w.f32s(records[row].vectors.get(name)!);
    });
  }
  for (const name of namesOf("sparse")) {
    const rows = rowsHaving((r) => r.sparse.get(name));
    const vectors = rows.map((row) => records[row].sparse.get(name)!);
    block(`sparse:${name}`, () => {
      w.u32(rows.length);
      for (const row of rows) w.u32(row);
      for (const v of vectors) w.u32(v.indices.length);
      for (const v of vectors) for (const index of v.indices) w.u32(index);
      for (const v of vectors) w.f32s(v.values);
    });
  }
  if (withEnds) {
    let end = 0;
    block("payload-ends", () => {
      for (const r of records) {
        end += r.payloadJson.length + 1;
        w.u32(end);
      }
    });
  }
  const directoryOffset = w.length;
  w.u32(directory.length);
  for (const b of directory) w.str(b.name).u64(b.offset).u64(b.length).u32(b.crc);
  const crc = crc32c(w.finish(), directoryOffset);
  w.u64(directoryOffset).u32(crc).u32(0x444e4551);
  return w.finish();
}

/** An index file in one piece, as it was written before checkpoints chunked it (version 3 adds the payload indexes). */
function referenceIndexFile(s: IndexSnapshot, version = 3): Uint8Array {
  const w = new ByteWriter(1 << 16);
  w.u32(0x58444951).u32(version).str(s.uid).u64(s.checkpointSeq);
  referenceStrList(
    w,
    s.slotIds.map((id) => id ?? ""),
  );
  w.u32(s.graphs.size);
  for (const [name, bytes] of s.graphs) w.str(name).u32(bytes.length).bytes(bytes);
  w.u32(s.analysisVersion).u32(s.text.size);
  for (const [field, bytes] of s.text) w.str(field).u32(bytes.length).bytes(bytes);
  if (version >= 3) {
    w.u32(s.payload.size);
    for (const [field, bytes] of s.payload) w.str(field).u32(bytes.length).bytes(bytes);
  }
  const crc = crc32c(w.finish());
  w.u32(crc).u32(0x444e4551);
  return w.finish();
}

/** Format 2's string list in one piece, as ByteWriter wrote it before lists were written in pieces. */
function referenceStrList(w: ByteWriter, list: readonly string[]): void {
  w.u32(list.length);
  for (const s of list) w.u32(s.length);
  w.str(list.join(""));
}

/** Record 0 has only "b", so the columns' order (first appearance) differs from a schema's. */
function record(i: number): StoredRecord {
  const vectors = new Map<string, Float32Array>();
  if (i > 0)
    vectors.set(
      "a",
      Float32Array.from({ length: 64 }, (_, j) => Math.sin(i * 64 + j)),
    );
  if (i % 3 === 0)
    vectors.set(
      "b",
      Float32Array.from({ length: 3 }, (_, j) => -i - j),
    );
  const sparse = new Map();
  if (i % 2 === 1) sparse.set("s", { indices: Uint32Array.from([i, i + 7]), values: Float32Array.from([1, i]) });
  const payload = { n: i, text: `héllo 世界 ${"x".repeat(i % 97)}` };
  return { id: `id-${i}-ü✓`, payloadJson: JSON.stringify(payload), vectors, sparse };
}

const large: SegmentContent = {
  uid: "c-uid",
  deleted: ["gone-1", "gone-ø"],
  records: Array.from({ length: 3000 }, (_, i) => record(i)),
};

test("segment chunks join into the one-piece format-2 bytes, with chunk boundaries inside blocks", () => {
  const source = {
    count: large.records.length,
    ids: () => large.records.map((r) => r.id),
    records: () => large.records,
  };
  const chunks = [...segmentChunks(large.uid, large.deleted, source)];
  const expected = referenceSegment(large);
  // The dense column "a" alone is 3000 × 64 × 4 bytes: several chunks, cut inside its block.
  assert.ok(expected.length > 3 * CHUNK_BYTES, `${expected.length} bytes`);
  assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
  assert.ok(chunks.every((c) => c.length < 2 * CHUNK_BYTES));
  assert.deepEqual(joinChunks(chunks), expected);
  assert.deepEqual(encodeSegment(large), expected);
  assert.deepEqual([...decodeSegment(expected, "seg").dense.keys()], ["b", "a"]);
});

test("empty segments (no records, or deletions only) encode as in one piece", () => {
  for (const seg of [
    { uid: "u", deleted: [], records: [] },
    { uid: "u", deleted: ["x", "y"], records: [] },
  ])
    assert.deepEqual(encodeSegment(seg), referenceSegment(seg));
});

test("a source whose passes disagree with its announced count is INTERNAL, not a wrong file", () => {
  const records = large.records.slice(0, 5);
  const source = { count: 6, ids: () => records.map((r) => r.id), records: () => records };
  assert.throws(
    () => [...segmentChunks("u", [], source)],
    (e: unknown) => e instanceof QuiverError && e.code === "INTERNAL" && /5 records, 6 announced/.test(e.message),
  );
});

test("the committed format-2 segment re-encodes byte for byte (plus payload-ends), located the same with or without it", () => {
  const file = readFileSync(join(FIXTURES, "seg-000003.qseg"));
  const seg = decodeSegment(file, "seg-000003.qseg");
  assert.equal(seg.version, SEGMENT_VERSION);
  const records: StoredRecord[] = seg.ids.map((id, row) => {
    const vectors = new Map<string, Float32Array>();
    for (const [name, c] of seg.dense) {
      const at = c.rows.indexOf(row);
      if (at >= 0) vectors.set(name, c.data.slice(at * c.dim, (at + 1) * c.dim));
    }
    const sparse = new Map();
    for (const [name, c] of seg.sparse) {
      const at = c.rows.indexOf(row);
      if (at >= 0) sparse.set(name, c.vectors[at]);
    }
    return { id, payloadJson: JSON.stringify(seg.payloads[row]), vectors, sparse };
  });
  assert.ok(records.length > 0 && seg.dense.size > 0);
  const content = { uid: seg.uid, deleted: seg.deleted, records };
  // The fixture predates the payload-ends block: the same bytes but for it, which is now written last.
  assert.deepEqual(referenceSegment(content, false), new Uint8Array(file));
  assert.deepEqual(encodeSegment(content), referenceSegment(content));
  const again = decodeSegment(encodeSegment(content), "again");
  assert.deepEqual(again.payloadTexts, seg.payloadTexts);
  assert.deepEqual(again.payloads, seg.payloads);
});

test("index file chunks (graphs given in pieces, postings after) join into the one-piece bytes", () => {
  const file = readFileSync(join(FIXTURES, "idx-000004.qidx"));
  const fixture = decodeIndexFile(file, "idx-000004.qidx");
  assert.ok(fixture.graphs.size > 0 && fixture.text.size > 0 && fixture.payload.size === 0);
  // The fixture is version 2: the reference writer gives its very bytes, and in version 3 those of encodeIndexFile.
  assert.deepEqual(referenceIndexFile(fixture, 2), new Uint8Array(file));
  assert.deepEqual(encodeIndexFile(fixture), referenceIndexFile(fixture));

  // Larger than a chunk: a slot table with free slots, a graph in several pieces, big postings.
  const big: IndexSnapshot = {
    uid: "u-✓",
    checkpointSeq: 123_456,
    slotIds: Array.from({ length: 40_000 }, (_, i) => (i % 7 === 3 ? undefined : `id-${i}-é`)),
    graphs: new Map([["v", Uint8Array.from({ length: 300_000 }, (_, i) => i * 31)]]),
    text: new Map([["title", Uint8Array.from({ length: 400_000 }, (_, i) => i * 7)]]),
    analysisVersion: fixture.analysisVersion,
    payload: new Map([
      ["lang", Uint8Array.from({ length: 300_000 }, (_, i) => i * 11)],
      ["year", Uint8Array.from({ length: 50 }, (_, i) => i)],
    ]),
  };
  const g = big.graphs.get("v")!;
  const pieces = [g.subarray(0, 1000), g.subarray(1000, 200_000), g.subarray(200_000)];
  const chunks = [...indexFileChunks({ ...big, graphs: new Map([["v", pieces]]) })];
  assert.ok(chunks.length >= 4, `${chunks.length} chunks`);
  const expected = referenceIndexFile(big);
  assert.deepEqual(joinChunks(chunks), expected);
  const decoded = decodeIndexFile(expected, "idx");
  assert.deepEqual(decoded.slotIds, big.slotIds);
  assert.deepEqual(decoded.payload, big.payload);
});

test("a long string list is written in pieces with the one-piece bytes, and reads back", () => {
  // 100,000 ids (three pieces and a part), beyond ASCII and beyond the BMP, free slots among them.
  const list = Array.from({ length: 100_000 }, (_, i) =>
    i % 7 === 3 ? undefined : `id-${i}-${[..."ü世🙂"].slice(0, i % 4).join("")}`,
  );
  const w = new ByteWriter();
  const chunks = [...w.strListInPieces(list, () => w.drain())];
  assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
  assert.equal(w.length, 0, "everything handed out");
  const reference = new ByteWriter();
  referenceStrList(
    reference,
    list.map((id) => id ?? ""),
  );
  const bytes = joinChunks(chunks);
  assert.deepEqual(bytes, reference.finish());
  assert.deepEqual(
    new ByteReader(bytes).strList(),
    list.map((id) => id ?? ""),
  );
});
