/**
 * Injected I/O errors (EIO, ENOSPC) on every kind of storage call, at random points of a workload
 * that also checkpoints and compacts. A write hit by an error must be rejected with code IO (never
 * acknowledged); writes the database acknowledged must all be there after a crash and reopen; and
 * a rejected write may be present only as a whole operation, in log order.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Database } from "../../src/database/database.js";
import { QuiverError } from "../../src/core/errors/errors.js";
import { rng } from "../support/brute.js";
import { FaultyDirectory, type FaultOp } from "../support/faulty-directory.js";
import { checkSearch, readState } from "../support/read-state.js";
import { applyWork, COLLECTION, DIM, makeWorkload, sameState, type ModelRecord } from "../support/workload.js";

const OPS_PER_TRIAL = 150;
// WAL appends and fsyncs fail the writes in flight; every other fault hits a checkpoint or a WAL
// rotation, which run in the background: writes must go on being acknowledged.
// `span`: how many matching calls this workload makes, at least (so the fault lands inside the run).
// `mayStopWrites`: a fault on or after the manifest rename leaves the published manifest unknown, so
// the database stops writing until reopened (checkpoint.ts): later writes fail with IO, reported.
const FAULT_OPS: { op: FaultOp; file?: RegExp; span: number; failsWrites?: true; mayStopWrites?: true }[] = [
  { op: "append", file: /^wal-/, span: 60, failsWrites: true },
  { op: "sync", file: /^wal-/, span: 60, failsWrites: true },
  { op: "append", file: /\.qseg$/, span: 5 },
  { op: "sync", file: /\.qseg$/, span: 5 },
  { op: "create", file: /^wal-/, span: 5 },
  { op: "create", span: 15 },
  { op: "rename", span: 5, mayStopWrites: true },
  { op: "syncDir", span: 10, mayStopWrites: true },
  { op: "remove", span: 8 },
];

test("injected EIO / ENOSPC: failed writes are not acknowledged, the database reopens consistent", {
  timeout: 5 * 60_000,
}, async () => {
  let trialsWithRejections = 0;
  let trialsFired = 0;
  let rejectedTotal = 0;
  const trials = FAULT_OPS.length * 8;
  for (let trial = 0; trial < trials; trial++) {
    const r = rng(9000 + trial);
    const fault = FAULT_OPS[trial % FAULT_OPS.length];
    const error = trial % 2 === 0 ? "EIO" : "ENOSPC";
    const faulty = new FaultyDirectory({ seed: trial });
    const warnings: string[] = [];
    const db = await Database.openDirectory(faulty, {
      walMaxBytes: 4096,
      maxSegments: 2,
      onWarning: (w) => warnings.push(w),
    });
    const c = await db.createCollection(COLLECTION, { vectors: { vector: { dim: DIM, metric: "l2" } } });
    faulty.injectFault({
      op: fault.op,
      ...(fault.file ? { file: fault.file } : {}),
      error,
      after: Math.floor(r() * fault.span),
      times: 1 + Math.floor(r() * 3),
    });

    const ops = makeWorkload(trial, OPS_PER_TRIAL);
    const outcome: ("acked" | "rejected")[] = [];
    // Four in flight at a time, so failures land inside group commits. Between batches a turn of the
    // event loop, as a file system's I/O gives: a checkpoint runs in slices between macrotasks, and
    // this in-memory directory's calls resolve as microtasks, which alone would never let it in.
    for (let i = 0; i < ops.length; i += 4) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const batch = ops.slice(i, i + 4).map((op) => (op.kind === "upsert" ? c.upsert(op.records) : c.delete(op.ids)));
      const settled = await Promise.allSettled(batch);
      for (const s of settled) {
        if (s.status === "fulfilled") outcome.push("acked");
        else {
          assert.ok(s.reason instanceof QuiverError, `a failure is a QuiverError: ${String(s.reason)}`);
          assert.equal(s.reason.code, "IO", s.reason.message);
          assert.ok(s.reason.message.length > 20, "the message explains");
          outcome.push("rejected");
        }
      }
    }
    const rejected = outcome.filter((o) => o === "rejected").length;
    rejectedTotal += rejected;
    if (rejected > 0) trialsWithRejections++;
    if (faulty.faultsFired > 0) trialsFired++;
    if (process.env.QUIVER_DEBUG)
      console.log(trial, fault.op, String(fault.file), faulty.faultsFired, rejected, warnings.length);
    if (fault.failsWrites) {
      // A fault on a commit rejects writes; one on the header of a new WAL (rotation) is reported instead.
      if (faulty.faultsFired > 0)
        assert.ok(
          rejected > 0 || warnings.length > 0,
          `trial ${trial}: a fired WAL fault must reject the writes it hit or be reported`,
        );
      else assert.equal(rejected, 0);
    } else if (fault.mayStopWrites && rejected > 0) {
      assert.ok(
        warnings.some((w) => w.includes("accepts no more writes until it is reopened")),
        `trial ${trial}: writes stopped after a failed manifest rename, and it is reported`,
      );
      const firstRejected = outcome.indexOf("rejected");
      assert.ok(
        outcome.slice(firstRejected).every((o) => o === "rejected"),
        `trial ${trial}: once stopped, every later write is refused`,
      );
    } else {
      assert.equal(rejected, 0, `trial ${trial}: a ${fault.op} fault in a background checkpoint must not fail writes`);
      if (faulty.faultsFired > 0 && fault.op !== "remove")
        assert.ok(warnings.length > 0, `trial ${trial}: a failed checkpoint is reported`);
    }
    faulty.clearFaults();
    await db.close().catch(() => undefined);

    // Reopen a power-loss image of what is on "disk".
    const db2 = await Database.openDirectory(faulty.crash(r));
    const c2 = await db2.collection(COLLECTION);
    const actual = await readState(c2);
    // Acked operations all apply; rejected ones may apply only as a prefix of the rejected ones
    // (a group whose fsync failed may still have reached the disk).
    const rejectedIdx = outcome.flatMap((o, i) => (o === "rejected" ? [i] : []));
    let ok = false;
    for (let j = 0; j <= rejectedIdx.length && !ok; j++) {
      const allowed = new Set(rejectedIdx.slice(0, j));
      const model = new Map<string, ModelRecord>();
      ops.forEach((op, i) => {
        if (outcome[i] === "acked" || allowed.has(i)) applyWork(model, op);
      });
      ok = sameState(model, actual) === null;
    }
    assert.ok(
      ok,
      `trial ${trial} (${fault.op} ${fault.file ?? ""} ${error}): recovered state matches no allowed history`,
    );
    await checkSearch(c2, actual, trial);
    // And it is writable again.
    await c2.upsert([{ id: "after-fault", vector: Array(DIM).fill(0.5) }]);
    assert.equal((await c2.get(["after-fault"])).length, 1);
    await db2.close();
  }
  assert.ok(
    trialsWithRejections >= 12,
    `WAL faults must reject writes in most of the 16 WAL trials (did in ${trialsWithRejections})`,
  );
  assert.ok(trialsFired >= trials * 0.8, `faults must actually fire (fired in ${trialsFired} of ${trials} trials)`);
  console.log(
    `# io errors: ${trials} trials, faults fired in ${trialsFired}, ${trialsWithRejections} with rejected writes (${rejectedTotal} rejected, all with code IO), 0 acknowledged writes lost`,
  );
});
