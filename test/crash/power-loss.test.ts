/**
 * Simulated power loss: the database runs on a FaultyDirectory, and at a random moment the test
 * takes the state a machine would show after losing power (every write not covered by a completed
 * fsync dropped, the last one torn at a random byte, un-synced directory changes partly applied).
 * Reopening that state must give the workload applied up to some P with acked <= P <= submitted,
 * and exact search must equal brute force on it. Then the same image is crashed again mid-recovery
 * writes to check that recovery itself is crash-safe.
 *
 * Default: 200 trials. QUIVER_LONG=1: 2,000.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import { rng } from "../support/brute.js";
import { FaultyDirectory } from "../support/faulty-directory.js";
import { checkSearch, readState } from "../support/read-state.js";
import { COLLECTION, DIM, findPrefix, makeWorkload, type ModelRecord } from "../support/workload.js";
import type { Directory } from "../../src/storage/directory.js";

const TRIALS = process.env.QUIVER_LONG ? 2000 : 200;
const OPS = 300;
const CONCURRENCY = 6;

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function reopen(dir: Directory): Promise<Database> {
  return Database.openDirectory(dir, { walMaxBytes: 6 * 1024, maxSegments: 3 });
}

test(`power loss at random points (${TRIALS} trials)`, { timeout: 15 * 60_000 }, async () => {
  let acknowledged = 0;
  let lossFound = 0;
  let graphTrials = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const r = rng(5000 + trial);
    const faulty = new FaultyDirectory({ seed: trial });
    const ops = makeWorkload(trial, OPS);
    const db = await reopen(faulty);
    // Every other trial gives the vector an HNSW graph, so index files go through crashes too; every
    // other one of those keeps the f32 vectors in a scratch file (originals: "disk"), lost at the crash.
    const graph = { type: "hnsw" as const, m: 8, efConstruction: 32 };
    const index = trial % 2 === 1 ? undefined : trial % 4 === 0 ? graph : { ...graph, originals: "disk" as const };
    const c = await db.createCollection(COLLECTION, {
      vectors: { vector: { dim: DIM, metric: "l2", ...(index ? { index } : {}) } },
    });
    const crashAtAck = Math.floor(r() * OPS);
    const extraTicks = Math.floor(r() * 6);

    // Run with several operations in flight; stop submitting at the crash point.
    let acked = 0;
    let submitted = 0;
    let crashed = false;
    const ackedOrder: number[] = [];
    const inFlight = new Set<Promise<unknown>>();
    while (!crashed && (submitted < OPS || inFlight.size > 0)) {
      while (submitted < OPS && inFlight.size < CONCURRENCY) {
        const i = submitted++;
        const op = ops[i];
        const p: Promise<unknown> = (op.kind === "upsert" ? c.upsert(op.records) : c.delete(op.ids)).then(() => {
          if (!crashed) {
            ackedOrder.push(i);
            acked++;
          }
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (acked >= crashAtAck) {
        for (let t = 0; t < extraTicks; t++) await tick();
        crashed = true;
        break;
      }
      await Promise.race(inFlight);
    }
    const image = faulty.crash(r);
    assert.deepEqual(
      ackedOrder,
      ackedOrder.slice().sort((a, b) => a - b),
      "acknowledged in log order",
    );
    acknowledged += acked;

    // Recover once, crash again in the middle of recovery's own writes, recover again.
    const replay = new FaultyDirectory({ seed: trial + 1 });
    for (const [name, bytes] of image.snapshot()) {
      const f = await replay.create(name);
      await f.append(bytes);
      await f.sync();
      await f.close();
    }
    await replay.syncDir();
    const first = await reopen(replay);
    const firstState = await readState(await first.collection(COLLECTION));
    await first.close().catch(() => undefined);
    const second = await reopen(replay.crash(r));
    const sc = await second.collection(COLLECTION);
    const actual = await readState(sc);

    const found = findPrefix(new Map<string, ModelRecord>(), ops, acked, submitted, actual);
    assert.ok(
      found.p >= 0,
      `trial ${trial} (crash at ack ${crashAtAck}, acked ${acked}, submitted ${submitted}): ${found.why}`,
    );
    assert.equal(
      findPrefix(new Map(), ops, found.p, found.p, firstState).p,
      found.p,
      `trial ${trial}: the two recoveries disagree`,
    );
    await checkSearch(sc, actual, trial);
    if (found.p > acked) lossFound++;
    if (index) graphTrials++;
    await second.close();
  }
  console.log(
    `# power loss: ${TRIALS} trials, ${acknowledged} acknowledged operations, 0 lost; ${lossFound} trials recovered in-flight operations that were durable; ${graphTrials} trials with an HNSW graph`,
  );
});
