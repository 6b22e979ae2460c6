/**
 * The replica's disk cache of sealed objects: a restarted node (a new cache over the same folder) GETs
 * no segment or graph again; with the object store stopped, a replica opens from the cache and
 * answers; a damaged cached file is fetched again; the size bound evicts the least recently used.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { sha256Hex } from "../../src/cluster/batch.js";
import { DiskCacheFiles } from "../../src/cluster/node/disk-cache-files.js";
import { DirectoryObjectStore } from "../../src/cluster/object-store.js";
import { SegmentCache } from "../../src/cluster/segment-cache.js";
import { referencedKeys } from "../../src/cluster/shard-manifest.js";
import { MemoryDirectory } from "../../src/storage/memory-directory.js";
import { EtcdMember, S3Stand } from "../support/cluster-services.js";
import { replay } from "../support/shard-workload.js";
import { CountingStore, Shard } from "../support/shard-storage.js";

let etcd: EtcdMember;
let s3: S3Stand;
let folder: string;
before(async () => {
  [etcd, s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
  folder = await mkdtemp(join(tmpdir(), "quiver-segment-cache-"));
});
after(async () => {
  await Promise.all([etcd.stop(), s3.stop(), rm(folder, { recursive: true, force: true })]);
});

it("warm start from the disk cache GETs no sealed object again; with the object store stopped the replica still answers", async () => {
  const shard = new Shard(etcd, s3, `cache-${randomUUID()}`);
  const cacheFolder = join(folder, "warm");
  try {
    await shard.write(0, 8);
    assert.ok((await shard.compact()).committed);
    await shard.write(8, 12);
    const compacted = await shard.compact();
    assert.ok(compacted.committed);
    const sealed = referencedKeys(compacted.manifest);
    assert.equal(sealed.length, 3, "two segments and a graph");

    const cold = new SegmentCache(await DiskCacheFiles.open(cacheFolder), shard.objects, 64 << 20);
    shard.objects.gets = [];
    const first = await shard.freshReplica({ fetch: (k, s) => cold.get(k, s) });
    assert.deepEqual(first.state, replay(shard.log, shard.acked));
    assert.deepEqual(shard.objects.gets.filter((k) => sealed.includes(k)).sort(), [...sealed].sort());
    assert.deepEqual([cold.stats.fetches, cold.stats.hits], [3, 0]);

    // A restart: a new cache over the same folder.
    const warm = new SegmentCache(await DiskCacheFiles.open(cacheFolder), shard.objects, 64 << 20);
    shard.objects.gets = [];
    const second = await shard.freshReplica({ fetch: (k, s) => warm.get(k, s) });
    assert.deepEqual(second.state, replay(shard.log, shard.acked));
    assert.deepEqual(shard.objects.gets, [], "nothing is fetched from the object store");
    assert.deepEqual([warm.stats.fetches, warm.stats.hits], [0, 3]);

    await s3.halt();
    try {
      const offline = new SegmentCache(await DiskCacheFiles.open(cacheFolder), shard.objects, 64 << 20);
      const third = await shard.freshReplica({ fetch: (k, s) => offline.get(k, s) });
      assert.deepEqual(third.state, replay(shard.log, shard.acked), "answers from the cache alone");
    } finally {
      await s3.restart();
    }

    const [damagedName] = (await readdir(cacheFolder)).filter((n) => n.endsWith(".obj"));
    await writeFile(join(cacheFolder, damagedName!), "not the object");
    const healing = new SegmentCache(await DiskCacheFiles.open(cacheFolder), shard.objects, 64 << 20);
    assert.deepEqual(
      (await shard.freshReplica({ fetch: (k, s) => healing.get(k, s) })).state,
      replay(shard.log, shard.acked),
    );
    assert.deepEqual([healing.stats.damaged, healing.stats.fetches, healing.stats.hits], [1, 1, 2]);
  } finally {
    shard.close();
  }
});

it("the size bound evicts the least recently used objects, across a restart", async () => {
  const objects = new CountingStore(new DirectoryObjectStore(new MemoryDirectory()));
  const blobs = new Map<string, { bytes: Uint8Array; sha: string }>();
  for (const name of ["a", "b", "c"]) {
    const bytes = new Uint8Array(1000).fill(name.charCodeAt(0));
    await objects.put(`o/${name}`, bytes);
    blobs.set(name, { bytes, sha: await sha256Hex(bytes) });
  }
  const cacheFolder = join(folder, "lru");
  const pause = () => new Promise((resolve) => setTimeout(resolve, 30));
  const get = (cache: SegmentCache, name: string) => cache.get(`o/${name}`, blobs.get(name)!.sha);
  const first = new SegmentCache(await DiskCacheFiles.open(cacheFolder), objects, 2500);
  await get(first, "a");
  await pause();
  await get(first, "b");
  await pause();
  await get(first, "a"); // a is now more recent than b
  await pause();
  const restarted = new SegmentCache(await DiskCacheFiles.open(cacheFolder), objects, 2500);
  assert.deepEqual(await get(restarted, "c"), blobs.get("c")!.bytes);
  assert.equal(restarted.stats.evictions, 1);
  const cached = (await readdir(cacheFolder)).sort();
  assert.deepEqual(cached, [`${blobs.get("a")!.sha}.obj`, `${blobs.get("c")!.sha}.obj`].sort(), "b was evicted");
  objects.gets = [];
  await get(restarted, "a");
  assert.deepEqual(objects.gets, []);
});
