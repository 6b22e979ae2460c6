/**
 * The batch object format: every vector form an upsert accepts (number arrays, typed arrays, text,
 * sparse as parts or as { token: weight }) survives encode/decode exactly; bytes that are not a
 * quiver-batch/1 object are CORRUPT.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { decodeBatch, encodeBatch } from "../../src/cluster/batch.js";
import { isQuiverError } from "../../src/core/errors/errors.js";

it("round-trips every vector form and deletes, f32 values bit for bit", () => {
  const f32 = new Float32Array([0.1, -2.5e-8, 3.4e38, 1 / 3]);
  const bytes = encodeBatch([
    {
      op: "upsert",
      records: [
        { id: "a", vector: f32, payload: { n: 1, nested: { s: "é" } } },
        {
          id: "b",
          vectors: {
            dense: [1, 2],
            text: "hello",
            sparse: { indices: new Uint32Array([3, 9]), values: new Float32Array([0.5, 0.25]) },
            bag: { cat: 2, dog: 1 },
          },
        },
      ],
    },
    { op: "delete", ids: ["c"] },
  ]);
  assert.deepEqual(decodeBatch(bytes, "k"), [
    {
      op: "upsert",
      records: [
        { id: "a", vector: Array.from(f32), payload: { n: 1, nested: { s: "é" } } },
        {
          id: "b",
          vectors: {
            dense: [1, 2],
            text: "hello",
            sparse: { indices: [3, 9], values: [0.5, 0.25] },
            bag: { cat: 2, dog: 1 },
          },
        },
      ],
    },
    { op: "delete", ids: ["c"] },
  ]);
  const back = decodeBatch(bytes, "k")[0];
  assert.ok(back.op === "upsert");
  assert.deepEqual(new Float32Array(back.records[0].vector as number[]), f32);
});

it("rejects bytes that are not a quiver-batch/1 object as CORRUPT, naming the key", () => {
  for (const text of ["not json", '{"format":"quiver-batch/9","ops":[]}', '{"format":"quiver-batch/1"}', "\uFFFD"]) {
    const bytes = text === "\uFFFD" ? new Uint8Array([0xff, 0xfe]) : new TextEncoder().encode(text);
    assert.throws(
      () => decodeBatch(bytes, "shards/c/0/batches/x"),
      (e) => isQuiverError(e, "CORRUPT") && /shards\/c\/0\/batches\/x/.test(String(e)),
      text,
    );
  }
});
