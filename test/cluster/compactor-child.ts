/**
 * A compactor in its own process, for the kill -9 checker: takes the shard's compactor lease and runs
 * one compaction, printing "step <name>" at each step (start, folded, uploaded, committed, done) and
 * pausing a little after each, so the parent can kill it inside a chosen window (or pause it).
 * argv: etcd endpoint, key prefix, log, S3 endpoint, bucket, and optionally the lease's ttl and
 * renewal period in ms (default 2000, a third of it) and the pause after each step of the compaction (default 150 ms).
 */
import { compactShard, compactorLease } from "../../src/cluster/compactor.js";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { SCHEMA } from "../support/shard-storage.js";

const [etcdEndpoint, prefix, log, s3Endpoint, bucket, ttl, every, hold] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string?,
  string?,
  string?,
];
const leases = { ttlMs: Number(ttl ?? 2000), renewEveryMs: every ? Number(every) : undefined };
const coordinator = new EtcdCoordinator({ endpoints: [etcdEndpoint], prefix });
const objects = new S3ObjectStore({
  endpoint: s3Endpoint,
  bucket,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
const step = async (name: string): Promise<void> => {
  process.stdout.write(`step ${name}\n`);
  // Not past 150 ms before the compaction: only compactShard renews the lease.
  await new Promise((resolve) => setTimeout(resolve, name === "start" ? 150 : Number(hold ?? 150)));
};
const lease = await coordinator.acquire(compactorLease(log), "compactor-child", leases.ttlMs);
if (!lease) throw new Error(`${log}'s compactor lease is held`);
await step("start");
const result = await compactShard({
  log,
  schema: SCHEMA,
  commitLog: coordinator,
  catalog: coordinator,
  objects,
  lease,
  leases,
  onStep: step,
});
await lease.release().catch(() => {});
await step(`done ${result.committed ? "committed" : result.reason.replace(" ", "-")}`);
coordinator.close();
objects.close();
