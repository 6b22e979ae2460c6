/**
 * Checkpoints off the write path: writes go on while a checkpoint writes its files in slices.
 * Each trial runs one explicit checkpoint (a compaction, then a delta) large enough to take several
 * chunks, with single writes one after another meanwhile (replacing and deleting records the
 * checkpoint has still to write, inserting new ones into freed slots), and checks that:
 * - writes are acknowledged while the segment is being written, and each is read back at once;
 * - the segment holds the records as they were at the checkpoint's WAL position (copy-on-write),
 *   not as later writes left them;
 * - at every storage call in that window, a kill image and a power-loss image both recover to the
 *   acknowledged writes, plus at most the one write in flight;
 * - after close and reopen, every acknowledged write is there.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import type { Collection } from "../../src/database/collection.js";
import { FaultyDirectory, type StorageCall } from "../support/faulty-directory.js";
import { seededRandom } from "../../src/core/util/prng.js";
import type { Directory } from "../../src/storage/directory.js";
import { decodeManifest, MANIFEST_FILE } from "../../src/storage/manifest.js";
import { decodeSegment } from "../../src/storage/segment.js";

const DIM = 16;
const RECORDS = 800;
// About 800 bytes a record: the segment spans several 256 KiB chunks.
const BODY = "x".repeat(700);
/** The delta trial changes this many records (from r0) and deletes the next DELETED. */
const CHANGED = 500;
const DELETED = 60;

interface Value {
  vector: number[];
  payload: { i: number; body: string };
}
type Model = Map<string, Value>;
type Upsert = { kind: "upsert"; id: string; value: Value };
type Op = Upsert | { kind: "delete"; id: string };
const toRecord = (op: Upsert) => ({ id: op.id, vector: op.value.vector, payload: op.value.payload });

function apply(model: Model, op: Op): void {
  if (op.kind === "upsert") model.set(op.id, op.value);
  else model.delete(op.id);
}

function modelAfter(ops: Op[], count: number): Model {
  const model: Model = new Map();
  for (let i = 0; i < count; i++) apply(model, ops[i]);
  return model;
}

async function readAll(c: Collection): Promise<Model> {
  const out: Model = new Map();
  let cursor: string | undefined;
  do {
    const page = await c.scroll({ cursor, limit: 500, withVectors: true });
    for (const r of page.records)
      out.set(r.id, { vector: r.vectors!.v as number[], payload: r.payload as Value["payload"] });
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** Null when equal, else the first difference. */
function difference(want: Model, got: Model): string | null {
  if (want.size !== got.size) return `${got.size} records, expected ${want.size}`;
  for (const [id, w] of want) {
    const g = got.get(id);
    if (!g) return `${id} missing`;
    if (g.payload.i !== w.payload.i) return `${id}: payload of write ${g.payload.i}, expected ${w.payload.i}`;
    if (g.vector.some((x, k) => x !== w.vector[k])) return `${id}: vector differs`;
  }
  return null;
}

async function recover(dir: Directory): Promise<Model> {
  const db = await Database.openDirectory(dir);
  try {
    return await readAll(await db.collection("c"));
  } finally {
    await db.close();
  }
}

for (const kind of ["compaction", "delta"] as const) {
  test(`writes during a ${kind} checkpoint: acknowledged at once, read back, kept at every crash point`, {
    timeout: 120_000,
  }, async () => {
    const random = seededRandom(kind === "delta" ? 7 : 3);
    const vector = (): number[] => Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1));
    const faulty = new FaultyDirectory({ seed: 11 });
    // maxSegments 1: every checkpoint compacts. Otherwise the second checkpoint writes a delta.
    const db = await Database.openDirectory(faulty, { walMaxBytes: 1 << 30, maxSegments: kind === "delta" ? 8 : 1 });
    const c = await db.createCollection("c", {
      vectors: { v: { dim: DIM, metric: "l2", index: { type: "hnsw", m: 8, efConstruction: 32 } } },
    });
    const ops: Op[] = [];
    let acked = 0;
    const write = async (op: Op): Promise<void> => {
      ops.push(op);
      if (op.kind === "upsert") await c.upsert([toRecord(op)]);
      else await c.delete([op.id]);
      acked++;
    };
    const upsert = (id: string): Upsert => ({
      kind: "upsert",
      id,
      value: { vector: vector(), payload: { i: ops.length, body: BODY } },
    });
    for (let i = 0; i < RECORDS; i += 200) {
      const batch = Array.from({ length: 200 }, (_, j) => upsert(`r${i + j}`));
      ops.push(...batch);
      await c.upsert(batch.map(toRecord));
      acked = ops.length;
    }
    if (kind === "delta") {
      await db.checkpoint();
      // Most records change since that checkpoint, but not all: the next one writes a delta.
      const batch = Array.from({ length: CHANGED }, (_, j) => upsert(`r${j}`));
      ops.push(...batch);
      await c.upsert(batch.map(toRecord));
      acked = ops.length;
      for (let j = CHANGED; j < CHANGED + DELETED; j++) await write({ kind: "delete", id: `r${j}` });
    }
    const atSnapshot = modelAfter(ops, ops.length);

    // Crash images at every storage call from the checkpoint's start to its end.
    const images: {
      call: StorageCall;
      kill: Map<string, Uint8Array>;
      power: Directory;
      acked: number;
      pending: number;
    }[] = [];
    let window = false;
    let segmentStarted!: () => void;
    const started = new Promise<void>((r) => (segmentStarted = r));
    const segmentCalls: number[] = [];
    faulty.onCall = (call) => {
      if (!window) return undefined;
      if (call.files.some((f) => f.endsWith(".qseg"))) {
        segmentCalls.push(call.index);
        if (call.op === "create") segmentStarted();
      }
      images.push({ call, kill: faulty.snapshot(), power: faulty.crash(random), acked, pending: ops.length });
      return undefined;
    };
    window = true;
    let done = false;
    const checkpoint = db.checkpoint().then(() => (done = true));
    // The snapshot is taken before the segment file is created: no write of this loop is in it.
    await started;
    const ackedAt: number[] = [];
    let next = RECORDS;
    for (let w = 0; !done; w++) {
      // A turn of the event loop per write, as a file system's I/O gives: this directory's calls
      // resolve as microtasks, and the checkpoint's slices run between macrotasks.
      await new Promise((resolve) => setTimeout(resolve, 0));
      // Replace or delete a record the checkpoint has likely not written yet (those of the second half
      // of its snapshot: slot order, or the delta's order), or insert a new one (into a freed slot).
      const half = (kind === "delta" ? CHANGED : RECORDS) / 2;
      const pick = `r${Math.floor(half + random() * half)}`;
      const op = w % 3 === 2 ? ({ kind: "delete", id: pick } as Op) : upsert(w % 3 === 1 ? `n${next++}` : pick);
      await write(op);
      ackedAt.push(images.length > 0 ? images[images.length - 1].call.index : -1);
      // Reads see every acknowledged write at once.
      const got = await c.get([op.id], { withVectors: true });
      if (op.kind === "delete") assert.equal(got.length, 0, `${op.id} was deleted`);
      else {
        assert.equal(got.length, 1);
        assert.deepEqual(got[0].payload, op.value.payload);
        const hit = (await c.query({ vector: op.value.vector, limit: 1, exact: true })).hits[0];
        assert.equal(hit.id, op.id, "an exact query finds the record just written");
      }
      if (w % 10 === 0) assert.equal(await c.count(), modelAfter(ops, ops.length).size);
    }
    await checkpoint;
    window = false;
    faulty.onCall = undefined;

    // Writes were acknowledged between the segment's creation and its sync: the writer did not wait.
    const during = ackedAt.filter((at) => at > segmentCalls[0] && at < segmentCalls[segmentCalls.length - 1]).length;
    assert.ok(during >= 2, `${during} writes acknowledged while the segment was being written`);

    // The new segment holds the records as of the checkpoint's WAL position.
    const manifest = decodeManifest(await faulty.read(MANIFEST_FILE));
    const segments = manifest.collections[0].segments;
    const newest = segments[segments.length - 1];
    const seg = decodeSegment(await faulty.read(newest), newest);
    const column = seg.dense.get("v")!;
    assert.deepEqual([...column.rows], [...seg.ids.keys()], "every record has vector v");
    const written: Model = new Map(
      seg.ids.map((id, row) => [
        id,
        {
          vector: [...column.data.subarray(row * column.dim, (row + 1) * column.dim)],
          payload: seg.payloads[row] as Value["payload"],
        },
      ]),
    );
    if (kind === "compaction") {
      assert.equal(segments.length, 1);
      assert.equal(difference(atSnapshot, written), null);
    } else {
      assert.equal(segments.length, 2);
      const changed = new Map([...atSnapshot].filter(([id]) => Number(id.slice(1)) < CHANGED));
      assert.equal(difference(changed, written), null);
      assert.deepEqual(seg.deleted.sort(), Array.from({ length: DELETED }, (_, j) => `r${CHANGED + j}`).sort());
    }

    // Every crash image recovers to the acknowledged writes, or those plus the one in flight.
    const files = new Set(images.map((im) => im.call.files.join(",")));
    assert.ok(
      [...files].some((f) => f.includes(".qidx")),
      "the window covers the index file",
    );
    assert.ok(
      [...files].some((f) => f.includes(MANIFEST_FILE)),
      "the window covers the manifest",
    );
    for (const im of images) {
      for (const [how, dir] of [
        ["kill", FaultyDirectory.fromFiles(im.kill)],
        ["power loss", im.power],
      ] as const) {
        const got = await recover(dir);
        const exact = difference(modelAfter(ops, im.acked), got);
        const withPending = im.pending > im.acked ? difference(modelAfter(ops, im.pending), got) : exact;
        assert.ok(
          exact === null || withPending === null,
          `${how} at call ${im.call.index} (${im.call.op} ${im.call.files.join(" ")}): ${exact}`,
        );
      }
    }
    console.log(
      `# ${kind}: ${ackedAt.length} writes during the checkpoint (${during} while its segment was written), ${images.length} crash points × 2 images recovered`,
    );

    await db.close();
    assert.equal(difference(modelAfter(ops, ops.length), await recover(faulty)), null);
  });
}
