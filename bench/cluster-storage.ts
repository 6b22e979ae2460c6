// Cluster storage benchmark (issue 17): how long a new query node takes to serve one shard of N
// vectors from the object store (cold: empty disk cache) and from its disk cache (warm: a restarted
// node), on a local etcd member (/usr/bin/etcd) and s3rver, both on loopback. The shard is written
// through a ShardWriter in batches of 1,000 and compacted once (timed too: the fold, the graph build
// and the PUTs); then cold and warm replica starts alternate, --repeats each, medians reported.
// "Serving" = manifest read, segments and graph fetched and loaded (graph restored, not rebuilt), log
// tail checked, and a first query answered.
// `npm run bench -- cluster-storage [--n N] [--dim D] [--repeats R] [--json]` (defaults 100000, 128, 3).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compactShard, compactorLease } from "../src/cluster/compactor.js";
import { EtcdCoordinator } from "../src/cluster/etcd/etcd-coordinator.js";
import { DiskCacheFiles } from "../src/cluster/node/disk-cache-files.js";
import { S3ObjectStore } from "../src/cluster/s3/s3-object-store.js";
import { SegmentCache } from "../src/cluster/segment-cache.js";
import { openShardReplica } from "../src/cluster/shard-bootstrap.js";
import { ShardWriter } from "../src/cluster/shard-writer.js";
import { EtcdMember, S3Stand } from "../test/support/cluster-services.js";
import { median } from "./median.js";

export interface ClusterStorageBenchOptions {
  n?: number;
  dim?: number;
  repeats?: number;
  json?: boolean;
}

const BATCH = 1000;
const LOG = "shards/bench/0";

export async function runClusterStorageBench(options: ClusterStorageBenchOptions): Promise<void> {
  const n = options.n ?? 100_000;
  const dim = options.dim ?? 128;
  const repeats = options.repeats ?? 3;
  const schema = { vectors: { v: { dim, metric: "l2" as const, index: { type: "hnsw" as const } } } };
  const progress = (what: string): void => void process.stderr.write(`cluster-storage: ${what}\n`);
  const [etcd, s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
  progress("etcd and s3rver up");
  const coordinator = new EtcdCoordinator({ endpoints: [etcd.endpoint], prefix: "bench" });
  const objects = new S3ObjectStore({ endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials });
  const cacheRoot = await mkdtemp(join(tmpdir(), "quiver-bench-cache-"));
  try {
    const writerLease = await coordinator.acquire(LOG, "bench-writer", 60_000);
    if (!writerLease) throw new Error("writer lease taken");
    const writer = await ShardWriter.open(LOG, writerLease, coordinator, objects);
    let seed = 1;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return Math.fround(seed / 2 ** 32 - 0.5);
    };
    const query = Array.from({ length: dim }, random);
    let started = performance.now();
    for (let from = 0; from < n; from += BATCH) {
      const records = Array.from({ length: Math.min(BATCH, n - from) }, (_, j) => ({
        id: `r${from + j}`,
        vector: Array.from({ length: dim }, random),
        payload: { i: from + j },
      }));
      await writer.write([{ op: "upsert", records }]);
    }
    const writeSeconds = (performance.now() - started) / 1000;
    progress(`${n} vectors written in ${writeSeconds.toFixed(1)} s`);

    const compactor = await coordinator.acquire(compactorLease(LOG), "bench-compactor", 600_000);
    if (!compactor) throw new Error("compactor lease taken");
    started = performance.now();
    // Renewed by the compactor while it folds: a 1M compaction outlasts any fixed lease.
    const compaction = await compactShard({
      log: LOG,
      schema,
      commitLog: coordinator,
      catalog: coordinator,
      objects,
      lease: compactor,
      leases: { ttlMs: 600_000, renewEveryMs: 60_000 },
      maxCommitDelayMs: 30 * 60_000,
    });
    const compactSeconds = (performance.now() - started) / 1000;
    progress(`compacted in ${compactSeconds.toFixed(1)} s`);
    await compactor.release();
    if (!compaction.committed) throw new Error(`compaction did not commit: ${compaction.reason}`);
    const segmentBytes = (await objects.list(`${LOG}/segments/`)).reduce((s, o) => s + o.size, 0);
    const graphBytes = (await objects.list(`${LOG}/graphs/`)).reduce((s, o) => s + o.size, 0);

    const serve = async (folder: string) => {
      const cache = new SegmentCache(await DiskCacheFiles.open(folder), objects, 4 * 2 ** 30);
      const t0 = performance.now();
      let fetched = t0;
      const replica = await openShardReplica({
        log: LOG,
        schema,
        commitLog: coordinator,
        catalog: coordinator,
        objects,
        fetch: async (key, sha256) => {
          const bytes = await cache.get(key, sha256);
          fetched = Math.max(fetched, performance.now());
          return bytes;
        },
      });
      const { hits } = await replica.collection.query({ vector: query, limit: 10 });
      const seconds = (performance.now() - t0) / 1000;
      if (hits.length !== 10 || replica.recovery.graphsRestored !== 1)
        throw new Error(`replica answered ${hits.length} hits, restored ${replica.recovery.graphsRestored} graphs`);
      await replica.close();
      return { seconds, fetchSeconds: (fetched - t0) / 1000, fetches: cache.stats.fetches };
    };
    const cold: number[] = [];
    const warm: number[] = [];
    const coldFetch: number[] = [];
    const warmFetch: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const folder = join(cacheRoot, `node-${r}`);
      const c = await serve(folder); // empty cache: everything from the object store
      const w = await serve(folder); // the same folder after a "restart": everything from the disk
      if (c.fetches === 0 || w.fetches !== 0) throw new Error(`cold fetched ${c.fetches}, warm fetched ${w.fetches}`);
      cold.push(c.seconds);
      warm.push(w.seconds);
      coldFetch.push(c.fetchSeconds);
      warmFetch.push(w.fetchSeconds);
      await rm(folder, { recursive: true, force: true });
    }
    const result = {
      n,
      dim,
      repeats,
      writeSeconds,
      compactSeconds,
      segmentMiB: segmentBytes / 2 ** 20,
      graphMiB: graphBytes / 2 ** 20,
      coldSeconds: median(cold),
      warmSeconds: median(warm),
      coldFetchSeconds: median(coldFetch),
      warmFetchSeconds: median(warmFetch),
      cold,
      warm,
    };
    if (options.json) console.log(JSON.stringify(result));
    else {
      console.log(`cluster storage: shard of ${n} vectors, dim ${dim} (etcd + s3rver on loopback)`);
      console.log(`  write through ShardWriter (${BATCH}/batch): ${writeSeconds.toFixed(1)} s`);
      console.log(`  one compaction (fold + graph + PUT):      ${compactSeconds.toFixed(1)} s`);
      console.log(`  objects: segment ${result.segmentMiB.toFixed(1)} MiB, graph ${result.graphMiB.toFixed(1)} MiB`);
      console.log(
        `  new replica serving, cold (object store): median ${result.coldSeconds.toFixed(2)} s of ${cold.map((s) => s.toFixed(2)).join(", ")}`,
      );
      console.log(
        `  new replica serving, warm (disk cache):   median ${result.warmSeconds.toFixed(2)} s of ${warm.map((s) => s.toFixed(2)).join(", ")}`,
      );
      console.log(
        `  of which fetching the objects (sha256 checked), median: cold ${result.coldFetchSeconds.toFixed(2)} s, warm ${result.warmFetchSeconds.toFixed(2)} s; the rest is opening them (segments decoded, graph restored)`,
      );
    }
  } finally {
    coordinator.close();
    objects.close();
    await Promise.all([etcd.stop(), s3.stop(), rm(cacheRoot, { recursive: true, force: true })]);
  }
}
