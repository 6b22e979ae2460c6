/**
 * The writer process of the reader-lag test. Usage: node paced-writer-child.js <dir> <rate> <seconds>
 * Creates collection "paced", prints "ready", then upserts one record per write ("p<i>", in order)
 * at <rate> writes per second for <seconds>, without waiting for one before starting the next
 * (group commit batches them), printing "ack <i> <epoch ms>" when write i is acknowledged and
 * "done <count>" at the end. A small walMaxBytes makes it checkpoint every few seconds meanwhile.
 */
import { writeSync } from "node:fs";
import { open } from "../../src/index.js";

const [dir, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const db = await open(dir, { walMaxBytes: 256 * 1024, maxSegments: 4 });
// Exact search only: at 10,000 records an "auto" vector builds its graph, which every reader then
// also builds (seconds, once) until a checkpoint carries it; this test measures the following itself.
const c = await db.createCollection("paced", { vectors: { v: { dim: 8, metric: "l2", index: { type: "flat" } } } });
writeSync(1, "ready\n");

const start = Date.now();
let issued = 0;
let acked = 0;
const pending: Promise<void>[] = [];
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate));
    while (issued < due) {
      const i = issued++;
      pending.push(
        c.upsert([{ id: `p${i}`, vector: Array.from({ length: 8 }, (_, k) => Math.sin(i + k)) }]).then(() => {
          acked++;
          writeSync(1, `ack ${i} ${Date.now()}\n`);
        }),
      );
    }
    if (issued === total) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
await Promise.all(pending);
writeSync(1, `done ${acked}\n`);
await db.close();
