/**
 * A shard follower in its own process, for the fault harness: opens (or recovers) an embedded
 * database on disk, follows the shard's log into its collection from seq 1 (batches are applied in
 * log order, so replaying what an earlier run already applied converges to the same state), and
 * prints `applied <seq>` as it goes. On the stdin line `close` it closes the follower and the
 * database cleanly, prints `closed` and exits. argv[2]: JSON of FollowerProcessConfig.
 */
import { createInterface } from "node:readline";
import { EtcdCoordinator } from "../../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../../src/cluster/s3/s3-object-store.js";
import { followShard } from "../../../src/cluster/shard-follower.js";
import { open } from "../../../src/index.js";
import { COLLECTION, SCHEMA } from "./workload.js";

export interface FollowerProcessConfig {
  etcd: string[];
  prefix: string;
  log: string;
  s3: { endpoint: string; bucket: string };
  path: string;
}

const config = JSON.parse(process.argv[2]) as FollowerProcessConfig;
const coordinator = new EtcdCoordinator({ endpoints: config.etcd, prefix: config.prefix, callTimeoutMs: 1000 });
const objects = new S3ObjectStore({ ...config.s3, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
const db = await open(config.path);
const collection = await db.createCollection(COLLECTION, SCHEMA, { ifNotExists: true });
const follower = await followShard(config.log, coordinator, objects, collection, (error) =>
  process.stdout.write(`error ${String(error).replaceAll("\n", " ")}\n`),
);
let reported = -1;
const progress = setInterval(() => {
  if (follower.applied === reported) return;
  reported = follower.applied;
  process.stdout.write(`applied ${reported}\n`);
}, 10);
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== "close") continue;
  clearInterval(progress);
  await follower.close();
  await db.close();
  coordinator.close();
  objects.close();
  process.stdout.write(`applied ${follower.applied}\nclosed\n`);
  process.exit(0);
}
