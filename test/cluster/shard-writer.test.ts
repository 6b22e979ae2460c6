/**
 * The single-shard writer under kill -9: a writer process (writer-child.ts) writes to S3 (s3rver) and
 * etcd and is killed at a random moment; then a fresh follower rebuilds the shard into an in-memory
 * database from the log alone, and its whole state must equal the replay of the acknowledged batches
 * (plus, at most, the one batch in flight at the kill): every acknowledged upsert present with its exact
 * payload and vector, no acknowledged delete undone. 20 trials here (about 15 s),
 * 100 under QUIVER_LONG=1.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { it } from "node:test";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { followShard } from "../../src/cluster/shard-follower.js";
import { open } from "../../src/index.js";
import { useEtcdAndS3 } from "../support/cluster-services.js";
import { DIM, replay, stateOf } from "../support/shard-workload.js";

const TRIALS = process.env.QUIVER_LONG === "1" ? 100 : 20;
const CHILD = fileURLToPath(new URL("./writer-child.js", import.meta.url));

const services = useEtcdAndS3();

/** Runs the writer child until it has acknowledged `minAcks` batches and `extraMs` more passed, then kill -9. */
async function killedWriter(prefix: string, log: string, minAcks: number, extraMs: number) {
  const child = spawn(
    process.execPath,
    [CHILD, services.etcd.endpoint, prefix, log, services.s3.endpoint, services.s3.bucket],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => {
    err += String(d);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += String(d);
      if ((out.match(/^ack /gm) ?? []).length >= minAcks) resolve();
    });
    child.once("exit", (code) => reject(new Error(`writer exited (${code}) before ${minAcks} acks: ${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, extraMs));
  child.kill("SIGKILL");
  await exited;
  const acked = [...out.matchAll(/^ack (\d+) (\d+)$/gm)].map((m) => Number(m[1]));
  const tried = [...out.matchAll(/^try (\d+)$/gm)].map((m) => Number(m[1]));
  return { acked, inFlight: tried.length > acked.length ? tried[tried.length - 1] : null };
}

it(`kill -9 of the shard writer at random points loses no acknowledged write (${TRIALS} trials)`, async () => {
  let acknowledged = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    const prefix = `writer-${randomUUID()}`;
    const log = "shards/docs/0";
    const { acked, inFlight } = await killedWriter(prefix, log, 1 + (trial % 3), Math.floor(Math.random() * 300));
    acknowledged += acked.length;

    const coordinator = new EtcdCoordinator({ endpoints: [services.etcd.endpoint], prefix });
    const objects = new S3ObjectStore({
      endpoint: services.s3.endpoint,
      bucket: services.s3.bucket,
      credentials: services.s3.credentials,
    });
    const db = await open();
    try {
      const collection = await db.createCollection("docs", { vectors: { v: { dim: DIM, metric: "l2" } } });
      const head = await coordinator.head(log);
      const follower = await followShard(log, coordinator, objects, collection);
      await follower.waitFor(head);
      await follower.close();
      assert.ok(head >= acked.length, `trial ${trial}: head ${head} behind ${acked.length} acknowledged batches`);
      assert.ok(
        head <= acked.length + 1,
        `trial ${trial}: head ${head} beyond the acked batches and the one in flight`,
      );
      const withInFlight = head === acked.length + 1 && inFlight !== null ? [...acked, inFlight] : acked;
      assert.deepEqual(await stateOf(collection), replay(log, withInFlight), `trial ${trial}`);
    } finally {
      await db.close();
      coordinator.close();
      objects.close();
    }
  }
  assert.ok(acknowledged >= TRIALS, `only ${acknowledged} batches acknowledged in ${TRIALS} trials`);
  console.log(`# shard writer kill -9: ${TRIALS} trials, ${acknowledged} batches acknowledged, 0 lost`);
});
