/**
 * A compactor in its own process, for the kill -9 checker: takes the shard's compactor lease and runs
 * one compaction, printing "step <name>" at each step (start, folded, uploaded, committed, done) and
 * pausing a little after each, so the parent can kill it inside a chosen window.
 * argv: etcd endpoint, key prefix, log, S3 endpoint, bucket.
 */
import { compactShard, compactorLease } from "../../src/cluster/compactor.js";
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { SCHEMA } from "../support/shard-storage.js";

const [etcdEndpoint, prefix, log, s3Endpoint, bucket] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const coordinator = new EtcdCoordinator({ endpoints: [etcdEndpoint], prefix });
const objects = new S3ObjectStore({
  endpoint: s3Endpoint,
  bucket,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
const step = async (name: string): Promise<void> => {
  process.stdout.write(`step ${name}\n`);
  await new Promise((resolve) => setTimeout(resolve, 150));
};
const lease = await coordinator.acquire(compactorLease(log), "compactor-child", 2_000);
if (!lease) throw new Error(`${log}'s compactor lease is held`);
await step("start");
const result = await compactShard({
  log,
  schema: SCHEMA,
  commitLog: coordinator,
  catalog: coordinator,
  objects,
  lease,
  onStep: step,
});
await step(`done ${result.committed}`);
coordinator.close();
objects.close();
