/**
 * A shard writer in its own process, for the kill -9 checker: takes the shard's lease on etcd, then
 * writes batch 0, 1, 2, ... of the shared workload to S3 + etcd, printing "try <i>" before each write
 * and "ack <i> <seq>" once it is acknowledged, until it is killed.
 * argv: etcd endpoint, key prefix, log, S3 endpoint, bucket.
 */
import { EtcdCoordinator } from "../../src/cluster/etcd/etcd-coordinator.js";
import { S3ObjectStore } from "../../src/cluster/s3/s3-object-store.js";
import { ShardWriter } from "../../src/cluster/shard-writer.js";
import { batchOps } from "../support/shard-workload.js";

const [etcdEndpoint, prefix, log, s3Endpoint, bucket] = process.argv.slice(2);
const coordinator = new EtcdCoordinator({ endpoints: [etcdEndpoint], prefix });
const objects = new S3ObjectStore({
  endpoint: s3Endpoint,
  bucket,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
const lease = await coordinator.acquire(log, "writer-child", 10_000);
if (!lease) throw new Error(`${log} is held by another writer`);
const writer = await ShardWriter.open(log, lease, coordinator, objects);
for (let i = 0; ; i++) {
  process.stdout.write(`try ${i}\n`);
  const seq = await writer.write(batchOps(log, i));
  process.stdout.write(`ack ${i} ${seq}\n`);
}
