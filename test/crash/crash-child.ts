/**
 * The writer process of the SIGKILL crash test. Usage:
 *   node crash-child.js <dir> <seed> <count> <concurrency> <walMaxBytes> [flat|hnsw|hnsw-disk]
 * Opens the database, creates the collection if needed, prints "ready", then runs the seeded
 * workload with up to <concurrency> operations in flight, printing "ack <i>" synchronously the
 * moment operation i is acknowledged, until the parent kills it.
 */
import { writeSync } from "node:fs";
import { open } from "../../src/index.js";
import { COLLECTION, DIM, makeWorkload } from "../support/workload.js";

const [dir, seedArg, countArg, concArg, walArg, indexArg] = process.argv.slice(2);
const ops = makeWorkload(Number(seedArg), Number(countArg));
const concurrency = Number(concArg);

const db = await open(dir, { walMaxBytes: Number(walArg), maxSegments: 3 });
// hnsw-disk: the f32 vectors live in a scratch file (originals: "disk"), only codes in memory.
const graph = { type: "hnsw" as const, m: 8, efConstruction: 32 };
const index =
  indexArg === "hnsw"
    ? { index: graph }
    : indexArg === "hnsw-disk"
      ? { index: { ...graph, originals: "disk" as const } }
      : {};
const c = await db.createCollection(
  COLLECTION,
  { vectors: { vector: { dim: DIM, metric: "l2", ...index } }, indexes: { g: "number" } },
  { ifNotExists: true },
);
writeSync(1, "ready\n");

let next = 0;
let inFlight = 0;
await new Promise<void>((resolve, reject) => {
  const pump = (): void => {
    while (inFlight < concurrency && next < ops.length) {
      const i = next++;
      const op = ops[i];
      inFlight++;
      const p = op.kind === "upsert" ? c.upsert(op.records) : c.delete(op.ids);
      p.then(() => {
        // Synchronous, so an acknowledgement the parent sees was really made before the kill.
        writeSync(1, `ack ${i}\n`);
        inFlight--;
        if (next >= ops.length && inFlight === 0) resolve();
        else pump();
      }, reject);
    }
  };
  pump();
});
writeSync(1, "done\n");
await db.close();
