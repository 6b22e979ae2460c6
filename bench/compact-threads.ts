// Compactor fold with and without search threads (issue 17, --compact-threads): one log of N clustered
// vectors in batches of 1,000 (a ShardWriter on a LocalCoordinator and a memory object store, so only
// the compaction's own work is timed), compacted alternately on the main thread alone and with T search
// threads, R rounds each; reports wall, process CPU (main + threads) and the main thread's own CPU (the
// critical path: what the threads cannot take off it; Linux /proc) per compaction, medians.
// `node dist/bench/compact-threads.js [n] [dim] [threads] [rounds]` (defaults 30000 128 2 2).
import { compactShard, compactorLease } from "../src/cluster/compactor.js";
import { LocalCoordinator } from "../src/cluster/local-coordinator.js";
import { DirectoryObjectStore } from "../src/cluster/object-store.js";
import { ShardWriter } from "../src/cluster/shard-writer.js";
import { clustered } from "../src/core/index/hnsw/test-support.js";
import { NodeSearchThreads } from "../src/node/search-threads.js";
import { readFileSync } from "node:fs";
import { MemoryDirectory } from "../src/storage/memory-directory.js";
import { median } from "./median.js";

const [n, dim, threadCount, rounds] = [30_000, 128, 2, 2].map((d, i) => Number(process.argv[2 + i] ?? d));
const schema = { vectors: { v: { dim, metric: "l2" as const, index: { type: "hnsw" as const } } } };
const vectors = clustered(n, dim, 5, 200);
const coordinator = new LocalCoordinator();
const objects = new DirectoryObjectStore(new MemoryDirectory());
const log = "shards/bench/0";
const writer = await ShardWriter.open(log, (await coordinator.acquire(log, "w", 3_600_000))!, coordinator, objects);
for (let from = 0; from < n; from += 1000)
  await writer.write([
    {
      op: "upsert",
      records: vectors.slice(from, from + 1000).map((v, j) => ({ id: `r${from + j}`, vector: Array.from(v) })),
    },
  ]);

/** The main thread's CPU seconds (utime + stime of its task, in clock ticks of 10 ms). */
function mainCpu(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function once(threads: number): Promise<{ wall: number; cpu: number; main: number }> {
  const lease = (await coordinator.acquire(compactorLease(log), "c", 3_600_000))!;
  const pool = threads >= 2 ? new NodeSearchThreads(threads) : undefined;
  const cpu0 = process.cpuUsage();
  const main0 = mainCpu();
  const t0 = performance.now();
  try {
    // Never committed (the manifest stays empty), so every round folds the same log range.
    const result = await compactShard({
      log,
      schema,
      commitLog: coordinator,
      catalog: coordinator,
      objects,
      lease,
      leases: { ttlMs: 3_600_000 },
      searchThreads: pool,
      onStep: (step) => {
        if (step === "uploaded") throw new Stop();
      },
    });
    throw new Error(`unexpected ${JSON.stringify(result.committed)}`);
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
  } finally {
    await pool?.close();
    await lease.release();
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6, main: mainCpu() - main0 };
}
class Stop extends Error {}

const results: Record<string, { wall: number; cpu: number; main: number }[]> = { one: [], threads: [] };
for (let r = 0; r < rounds; r++)
  for (const [name, t] of (r % 2 === 0
    ? [
        ["one", 1],
        ["threads", threadCount],
      ]
    : [
        ["threads", threadCount],
        ["one", 1],
      ]) as [string, number][]) {
    const m = await once(t);
    results[name]!.push(m);
    process.stderr.write(
      `round ${r} ${name}: ${m.wall.toFixed(1)} s wall, ${m.cpu.toFixed(1)} s CPU, main thread ${m.main.toFixed(1)} s\n`,
    );
  }
for (const [name, ms] of Object.entries(results))
  console.log(
    `${name === "one" ? "main thread alone" : `${threadCount} search threads`}: wall ${median(ms.map((m) => m.wall)).toFixed(1)} s, CPU ${median(ms.map((m) => m.cpu)).toFixed(1)} s, main thread CPU ${median(ms.map((m) => m.main)).toFixed(1)} s (median of ${ms.length})`,
  );
