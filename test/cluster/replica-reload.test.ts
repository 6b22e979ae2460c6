/**
 * A replica that falls behind a compaction's trim (its log wake-ups held back, as when its watch or
 * the store was away) meets LogTrimmed: it must go on answering from the state it has, load again from
 * the newer manifest in the background, and serve the caught-up copy once it has it, with exactly the
 * acknowledged state (payloads, vectors, deletes). A fresh replica loads from the manifest through the
 * disk cache, whose folder then holds the manifest's segment and graph objects.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import type { CommitLog } from "../../src/cluster/commit-log.js";
import { DiskCacheFiles } from "../../src/cluster/node/disk-cache-files.js";
import { Replica } from "../../src/cluster/replica.js";
import { SegmentCache } from "../../src/cluster/segment-cache.js";
import { openShardReplica } from "../../src/cluster/shard-bootstrap.js";
import { referencedKeys } from "../../src/cluster/shard-manifest.js";
import { EtcdMember, S3Stand } from "../support/cluster-services.js";
import { Shard } from "../support/shard-storage.js";
import { replay, stateOf } from "../support/shard-workload.js";

let etcd: EtcdMember;
let s3: S3Stand;
let cacheDir: string;
before(async () => {
  [etcd, s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
  cacheDir = await mkdtemp(join(tmpdir(), "quiver-replica-cache-"));
});
after(async () => {
  await Promise.all([etcd.stop(), s3.stop(), rm(cacheDir, { recursive: true, force: true })]);
});

/** The shard's CommitLog with its wake-ups held back while `held` (a follower that hears nothing). */
class HeldWakeups implements CommitLog {
  held = false;
  private readonly listeners = new Set<() => void>();
  constructor(private readonly inner: CommitLog) {}
  head = (log: string) => this.inner.head(log);
  append: CommitLog["append"] = (log, expectedHead, entry) => this.inner.append(log, expectedHead, entry);
  read = (log: string, fromSeq: number, limit?: number) => this.inner.read(log, fromSeq, limit);
  trim: CommitLog["trim"] = (log, throughSeq, guard) => this.inner.trim(log, throughSeq, guard);
  async subscribe(log: string, onChange: () => void) {
    const wake = () => {
      if (!this.held) onChange();
    };
    this.listeners.add(onChange);
    const inner = await this.inner.subscribe(log, wake);
    return {
      close: async () => {
        this.listeners.delete(onChange);
        await inner.close();
      },
    };
  }
  release(): void {
    this.held = false;
    for (const wake of this.listeners) wake();
  }
}

it("a replica behind a trim keeps answering, reloads from the newer manifest through the disk cache, then serves it", async () => {
  const shard = new Shard(etcd, s3, `reload-${Date.now()}/`);
  const commitLog = new HeldWakeups(shard.coordinator);
  const cache = new SegmentCache(await DiskCacheFiles.open(cacheDir), shard.objects, 64 * 1024 * 1024);
  let replica: Replica | null = null;
  try {
    await shard.write(0, 12);
    const first = await shard.compact();
    assert.ok(first.committed, "a first manifest to load from");
    await shard.write(12, 16);
    replica = await Replica.start(
      shard.log,
      (onError) => openShardReplica({ ...shard.base(), commitLog, fetch: (k, sha) => cache.get(k, sha), onError }),
      commitLog,
    );
    const loaded = replica;
    await waitUntil(() => loaded.isReady, "the replica gets ready");
    assert.equal(replica.generation, 1, "loaded from the manifest, not from seq 1");
    assert.deepEqual(await stateOf(await replica.collection(16, 5000)), replay(shard.log, shard.acked));
    const cached = new Set(await readdir(cacheDir));
    assert.equal(cached.size, referencedKeys(first.manifest).length, "each segment and graph in the disk cache");

    commitLog.held = true;
    const before = replay(shard.log, shard.acked);
    await shard.write(16, 30);
    const second = await shard.compact();
    assert.ok(second.committed && second.trimmed, "the log is trimmed past what the replica applied");
    assert.equal((await shard.coordinator.read(shard.log, 1)).length, 0, "no pointer left");
    // Still the old state, answered without error while it is behind.
    assert.deepEqual(await stateOf(await replica.collection(0, 5000)), before);

    commitLog.release();
    const head = await shard.coordinator.head(shard.log);
    assert.deepEqual(
      await stateOf(await replica.collection(head, 10_000)),
      replay(shard.log, shard.acked),
      "after the reload: every acknowledged batch, deletes honoured",
    );
    assert.equal(replica.reloads, 1);
    assert.equal(replica.generation, 2);
    await shard.write(30, 34);
    const after = await shard.coordinator.head(shard.log);
    assert.deepEqual(
      await stateOf(await replica.collection(after, 10_000)),
      replay(shard.log, shard.acked),
      "the reloaded copy follows the log on",
    );
  } finally {
    await replica?.close();
    shard.close();
  }
});

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
