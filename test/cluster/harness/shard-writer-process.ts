/**
 * A shard writer in its own process, for the fault harness: takes the shard's lease on etcd (retrying
 * until it gets it), renews it on a timer, then writes batch 0, 1, 2, ... of its workload through a
 * ShardWriter, reporting each attempt on stdout for the checker (`lease <epoch>`, `try <i>`,
 * `ack <i> <seq>`, `fail <i> <code> <reason>`). A failed batch is not retried: the next attempt is
 * the next batch, so each batch is tried once and the checker can tell every logged batch apart. It
 * writes until killed; it never stops by itself when its lease or renewals fail, which is what a
 * paused writer that missed its expiry would do, so only fencing can keep its late commits out.
 * argv[2]: JSON of WriterProcessConfig.
 */
import { EtcdCoordinator } from "../../../src/cluster/etcd/etcd-coordinator.js";
import type { HeldLease } from "../../../src/cluster/lease.js";
import { S3ObjectStore } from "../../../src/cluster/s3/s3-object-store.js";
import { ShardWriter } from "../../../src/cluster/shard-writer.js";
import { isQuiverError } from "../../../src/core/errors/errors.js";
import { writerBatch } from "./workload.js";

export interface WriterProcessConfig {
  etcd: string[];
  prefix: string;
  log: string;
  s3: { endpoint: string; bucket: string };
  tag: string;
  leaseTtlMs: number;
  /** etcd's call time limit, S3's per-attempt time limit (one attempt: a failure is reported at once). */
  timeoutMs: number;
  /** Pause between two batches. */
  intervalMs: number;
}

const config = JSON.parse(process.argv[2]) as WriterProcessConfig;
const coordinator = new EtcdCoordinator({
  endpoints: config.etcd,
  prefix: config.prefix,
  callTimeoutMs: config.timeoutMs,
});
const objects = new S3ObjectStore({
  ...config.s3,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  maxAttempts: 1,
  requestTimeoutMs: config.timeoutMs,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Retries a call through UNAVAILABLE (etcd electing, a member down) until it answers. */
async function untilAvailable<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isQuiverError(error, "UNAVAILABLE")) throw error;
      await sleep(100);
    }
  }
}

let lease: HeldLease | null = null;
while (!lease) {
  lease = await untilAvailable(() => coordinator.acquire(config.log, config.tag, config.leaseTtlMs));
  if (!lease) await sleep(100);
}
say(`lease ${lease.epoch}`);
const held = lease;
setInterval(() => held.renew().catch(() => say("renew-failed")), config.leaseTtlMs / 4);
const writer = await untilAvailable(() => ShardWriter.open(config.log, held, coordinator, objects));
for (let i = 0; ; i++) {
  say(`try ${i}`);
  try {
    say(`ack ${i} ${await writer.write(writerBatch(config.tag, i))}`);
  } catch (error) {
    const code = isQuiverError(error) ? error.code : "OTHER";
    say(`fail ${i} ${code} ${error instanceof Error ? error.message.replaceAll("\n", " ") : String(error)}`);
  }
  await sleep(config.intervalMs);
}
