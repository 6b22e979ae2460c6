/**
 * Crash images at every storage call (SQLite's crash-test method). The workload of
 * test/support/fault-workload.ts runs once while every storage call it makes is enumerated; at each
 * call i the test takes (a) the image a kill leaves (every write issued before call i on disk),
 * (b) the image a power loss leaves (unsynced data dropped, the last write torn), and (c) fails call
 * i (EIO, and ENOSPC for calls that can need space), lets the workload go on, and crashes at each
 * of the next few calls (while the failure is handled) and at its end. Every image must open, hold every acknowledged write and no rejected or in-flight one in part,
 * bring nothing deleted back, and answer exact search (dense and sparse) like brute force. A sample of images is then
 * recovered with crashes at recovery's own calls.
 *
 * Default: a small workload, every call. QUIVER_LONG=1: a larger one, and more recovery samples.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkImage,
  crashRecovery,
  imagesNow,
  type Image,
  type Point,
  runLabelled,
  runWithFault,
  SPACE_OPS,
} from "../support/fault-points.js";
import type { WorkloadSize } from "../support/fault-workload.js";

const LONG = Boolean(process.env.QUIVER_LONG);
const SIZE: WorkloadSize = LONG ? { rounds: 8, batch: 10 } : { rounds: 4, batch: 6 };
/** After a failed call, crash images are also taken at each of this many calls that follow it. */
const FOLLOW = LONG ? 12 : 4;
/** Every how many calls an image's recovery is itself crashed at each of its calls. */
const RECOVERY_SAMPLE_EVERY = LONG ? 5 : 25;

interface Failure {
  mode: string;
  point: Point;
  why: string;
}

/**
 * TEMPORARY: failures of defects being fixed on the `storage` branch. Remove each entry once that
 * fix is merged (the test then reports an entry that no longer matches anything).
 */

test(`crash images at every storage call (${LONG ? "long" : "small"} workload)`, { timeout: 20 * 60_000 }, async () => {
  const images: { point: Point; kill: Image; power: Image }[] = [];
  const counted = await runLabelled(SIZE, (point, dir, run) => {
    images.push({ point, ...imagesNow(dir, run, point.index + 1) });
    return undefined;
  });
  const points = counted.points;
  assert.deepEqual(counted.run.violations, [], "the fault-free run keeps the API's promises");
  assert.ok(
    counted.run.history.status.every((s) => s === "acked"),
    "the fault-free run acknowledges every write",
  );
  for (const op of ["create", "append", "sync", "rename", "syncDir", "remove", "scratchWrite", "openScratch"] as const)
    assert.ok(
      points.some((p) => p.op === op),
      `the workload makes ${op} calls`,
    );
  assert.ok(
    points.some((p) => /\.qidx$/.test(p.file)) && points.some((p) => /\.qseg$/.test(p.file)),
    "it writes segments and index files",
  );

  const failures: Failure[] = [];
  let trials = 0;
  const check = async (mode: string, point: Point, image: Image): Promise<void> => {
    trials++;
    const why = await checkImage(image, point.index);
    if (why) failures.push({ mode, point, why });
  };
  for (const { point, kill, power } of images) {
    await check("kill", point, kill);
    await check("power loss", point, power);
  }
  for (const point of points) {
    for (const error of SPACE_OPS.has(point.op) ? (["EIO", "ENOSPC"] as const) : (["EIO"] as const)) {
      const run = await runWithFault(SIZE, point, error, FOLLOW);
      assert.equal(run.mismatch, null, "the workload makes the same calls on every run");
      for (const v of run.violations) failures.push({ mode: `${error}, API`, point, why: v });
      for (const { when, image } of run.images) await check(`${error}, then ${when}`, point, image);
    }
  }
  let recoveryCalls = 0;
  let recoveryTrials = 0;
  for (let i = 0; i < images.length; i += RECOVERY_SAMPLE_EVERY) {
    for (const [how, image] of [
      ["kill", images[i].kill],
      ["power loss", images[i].power],
    ] as const) {
      const r = await crashRecovery(image, images[i].point.index);
      recoveryCalls += r.calls;
      recoveryTrials += r.trials;
      for (const why of r.failures)
        failures.push({ mode: `${how}, then a crash in recovery`, point: images[i].point, why });
    }
  }

  const signatures = new Set(points.map((p) => `${p.step}|${p.op}|${p.file}`));
  console.log(
    `# fault points: ${points.length} storage calls over ${new Set(points.map((p) => p.step)).size} workload steps ` +
      `(${signatures.size} distinct step/call/file kinds); ${trials} image trials, ` +
      `${recoveryTrials} recovery-crash trials over ${recoveryCalls} recovery calls; ` +
      `${failures.length} failures`,
  );
  const show = (f: Failure): string =>
    `${f.mode} at call ${f.point.index} (${f.point.op} ${f.point.file}, step ${f.point.step} "${f.point.stepName}"): ${f.why}`;
  assert.equal(failures.length, 0, `failures:\n${failures.slice(0, 60).map(show).join("\n")}`);
});
