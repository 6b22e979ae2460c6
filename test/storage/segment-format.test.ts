/**
 * The columnar segment format (segment.ts, format 2): what a checkpoint writes is read back column
 * by column exactly (dense vectors of several names and dimensions, records lacking a vector, sparse
 * vectors, deletions, ids and payloads beyond ASCII); a flipped byte in any block, the directory or
 * the footer is CORRUPT naming the file (and the block it hit); format-1 files still decode.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { QuiverError } from "../../src/index.js";
import { ByteReader, ByteWriter, joinChunks } from "../../src/storage/codec.js";
import { SEGMENT_VERSION, decodeSegment, encodeSegment, type SegmentContent } from "../../src/storage/segment.js";
import type { StoredRecord } from "../../src/storage/record-codec.js";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test", "fixtures");

function record(i: number): StoredRecord {
  const vectors = new Map<string, Float32Array>();
  // "a" on every record, "b" (another dimension) on every third: columns of different lengths.
  vectors.set(
    "a",
    Float32Array.from({ length: 5 }, (_, j) => i + j / 10),
  );
  if (i % 3 === 0)
    vectors.set(
      "b",
      Float32Array.from({ length: 3 }, (_, j) => -i - j),
    );
  const sparse = new Map();
  if (i % 2 === 1)
    sparse.set("s", { indices: Uint32Array.from([i, i + 7, 4_000_000_000]), values: Float32Array.from([1, 0.5, i]) });
  return {
    id: `id-${i}-ü✓`,
    payloadJson: JSON.stringify({ n: i, tag: `t${i % 4}`, text: "héllo 世界" }),
    vectors,
    sparse,
  };
}

const content: SegmentContent = {
  uid: "c-uid",
  deleted: ["gone-1", "gone-ø"],
  records: Array.from({ length: 10 }, (_, i) => record(i)),
};

test("a format-2 segment reads back column by column exactly as written", () => {
  const bytes = encodeSegment(content);
  assert.equal(new ByteReader(bytes).u32(), 0x47455351);
  const seg = decodeSegment(bytes, "seg-000001.qseg");
  assert.equal(seg.version, SEGMENT_VERSION);
  assert.equal(seg.uid, "c-uid");
  assert.deepEqual(seg.deleted, content.deleted);
  assert.deepEqual(
    seg.ids,
    content.records.map((r) => r.id),
  );
  assert.deepEqual(
    seg.payloads,
    content.records.map((r) => JSON.parse(r.payloadJson)),
  );
  const a = seg.dense.get("a")!;
  assert.equal(a.dim, 5);
  assert.deepEqual([...a.rows], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  content.records.forEach((r, i) => {
    assert.deepEqual(a.data.subarray(i * 5, i * 5 + 5), r.vectors.get("a"));
  });
  const b = seg.dense.get("b")!;
  assert.deepEqual([...b.rows], [0, 3, 6, 9]);
  for (const [i, row] of [0, 3, 6, 9].entries()) {
    assert.deepEqual(b.data.subarray(i * 3, i * 3 + 3), content.records[row].vectors.get("b"));
  }
  const s = seg.sparse.get("s")!;
  assert.deepEqual([...s.rows], [1, 3, 5, 7, 9]);
  s.rows.forEach((row, i) => {
    assert.deepEqual(s.vectors[i], content.records[row].sparse.get("s"));
  });
  assert.deepEqual([...seg.sparse.keys(), ...seg.dense.keys()].sort(), ["a", "b", "s"]);
});

test("an empty segment (deletions only) reads back", () => {
  const seg = decodeSegment(encodeSegment({ uid: "u", deleted: ["x"], records: [] }), "seg-000002.qseg");
  assert.deepEqual([seg.ids, seg.deleted, seg.dense.size, seg.sparse.size], [[], ["x"], 0, 0]);
});

/** The byte ranges of every block, as the directory lists them. */
function blockRanges(bytes: Uint8Array): { name: string; offset: number; length: number }[] {
  const foot = new ByteReader(bytes, bytes.length - 16, bytes.length);
  const r = new ByteReader(bytes, foot.u64(), bytes.length - 16);
  const blocks = [];
  for (let i = r.u32(); i > 0; i--) {
    const name = r.str();
    blocks.push({ name, offset: r.u64(), length: r.u64() });
    r.u32();
  }
  return blocks;
}

test("a flipped byte anywhere in a block is CORRUPT naming the file and the block", () => {
  const bytes = encodeSegment(content);
  const blocks = blockRanges(bytes);
  assert.deepEqual(blocks.map((b) => b.name).sort(), [
    "deleted",
    "dense:a",
    "dense:b",
    "ids",
    "meta",
    "payload-ends",
    "payloads",
    "sparse:s",
  ]);
  for (const block of blocks) {
    // First, middle and last byte of each block.
    for (const at of [block.offset, block.offset + (block.length >> 1), block.offset + block.length - 1]) {
      const damaged = bytes.slice();
      damaged[at] ^= 0x40;
      assert.throws(
        () => decodeSegment(damaged, "seg-000009.qseg"),
        (e: unknown) =>
          e instanceof QuiverError &&
          e.code === "CORRUPT" &&
          e.message.includes("seg-000009.qseg") &&
          e.message.includes(`block ${block.name} checksum mismatch`),
        `${block.name} at ${at}`,
      );
    }
  }
});

test("a flipped byte in the header, the directory or the footer, or a cut file, is CORRUPT naming the file", () => {
  const bytes = encodeSegment(content);
  const blocks = blockRanges(bytes);
  const directoryStart = Math.max(...blocks.map((b) => b.offset + b.length));
  const spots = [0, 5, directoryStart + 2, bytes.length - 20, bytes.length - 14, bytes.length - 10, bytes.length - 1];
  for (const at of spots) {
    const damaged = bytes.slice();
    damaged[at] ^= 0x01;
    assert.throws(
      () => decodeSegment(damaged, "seg-000010.qseg"),
      (e: unknown) => e instanceof QuiverError && e.code === "CORRUPT" && e.message.includes("seg-000010.qseg"),
      `byte ${at}`,
    );
  }
  for (const length of [0, 20, bytes.length >> 1, bytes.length - 1]) {
    assert.throws(
      () => decodeSegment(bytes.subarray(0, length), "seg-000011.qseg"),
      (e: unknown) => e instanceof QuiverError && e.code === "CORRUPT" && e.message.includes("seg-000011.qseg"),
      `cut at ${length}`,
    );
  }
});

test("a format-1 segment (quiverdb 0.1.0's fixture) decodes into the same columns", () => {
  const seg = decodeSegment(readFileSync(join(FIXTURES, "format-1", "seg-000003.qseg")), "seg-000003.qseg");
  assert.equal(seg.version, 1);
  assert.deepEqual(seg.ids, ["b0", "b1", "b2", "b3", "b4", "b5"]);
  assert.deepEqual(seg.payloads[0], { title: "Storage engines", lang: "en", year: 2018 });
  const v = seg.dense.get("v")!;
  assert.equal(v.dim, 4);
  assert.equal(v.rows.length, 6);
  // Cosine: the stored vectors are the normalised ones.
  const norm = Math.hypot(...v.data.subarray(0, 4));
  assert.ok(Math.abs(norm - 1) < 1e-6, String(norm));
});

test("a string list reads back in one decode, beyond ASCII; lengths that do not add up are CORRUPT", () => {
  const list = ["a", "ü✓", "", "世界🙂", "\ud800x", "plain"];
  const w = new ByteWriter();
  const bytes = joinChunks([...w.strListInPieces(list, () => w.drain())]);
  // A lone surrogate cannot be UTF-8: it reads back as U+FFFD, one code unit too, so the rest keeps its place.
  assert.deepEqual(new ByteReader(bytes).strList(), ["a", "ü✓", "", "世界🙂", "\ufffdx", "plain"]);
  const damaged = bytes.slice();
  damaged[4] += 1; // the first length
  assert.throws(
    () => new ByteReader(damaged, 0, damaged.length, "ids").strList(),
    (e: unknown) => e instanceof QuiverError && e.code === "CORRUPT" && /ids: string list lengths/.test(e.message),
  );
});
