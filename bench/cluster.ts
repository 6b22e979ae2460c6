// Cluster benchmark (issue 17): `quiver serve --cluster` processes on one etcd member and s3rver, on
// loopback, against the single-node server on the same workload. Measured, in interleaved rounds
// (--repeats, default 3; medians):
// - writes: 8 concurrent clients upserting 10-record batches for a few seconds; acknowledged records/s
//   and per-request acknowledgement latency p50/p99 (cluster: 2 nodes, 2 shards; every ack is a batch
//   PUT to S3 plus an etcd transaction, group-committed per shard);
// - queries: one client, exact top 10 over 5,000 vectors (dim 64), latency p50/p99 and the CPU the
//   serving processes spent per query (utime + stime from /proc; etcd's own CPU is not counted),
//   for collections of 1, 2 and 4 shards on 2 nodes (replicas 1, so about half of the shards are a
//   hop to the other node) against the single-node server;
// - failover: the writer of shard 0 killed with SIGKILL, then the time until a write to shard 0
//   through another node is acknowledged (lease period 2 s).
// `npm run bench -- cluster [--repeats N] [--json] [--part writes] [--clients N]` (`--part writes`:
// only the writes of the single node and the 2-shard cluster, on an empty collection; `--clients`:
// concurrent writing clients, default 8).

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { EtcdCoordinator } from "../src/cluster/etcd/etcd-coordinator.js";
import { shardLog, shardOf } from "../src/cluster/shard-map.js";
import { EtcdMember, S3Stand, freePort } from "../test/support/cluster-services.js";
import { ADMIN_KEY, type NodeSettings, QuiverNode } from "../test/support/quiver-nodes.js";
import { median } from "./median.js";

export interface ClusterBenchOptions {
  repeats?: number;
  json?: boolean;
  /** ["writes"]: only the write measurement (single node and 2 shards); default: everything. */
  parts?: string[];
  /** Concurrent writing clients (default 8). */
  clients?: number;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DIM = 64;
const N = 5000;
const QUERIES = 200;
const WRITE_SECONDS = 4;
const WRITERS = 8;
const LEASE_MS = 2000;

interface Target {
  name: string;
  urls: string[];
  pids: number[];
}

const auth = { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" };

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method: "POST", headers: auth, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url}: ${r.status} ${text}`);
  return JSON.parse(text);
}

let seed = 12345;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const vector = (): number[] => Array.from({ length: DIM }, () => Math.fround(random() * 2 - 1));

/** CPU seconds (user + system) of the processes so far, from /proc/<pid>/stat. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function createAndLoad(t: Target, load: boolean): Promise<void> {
  const put = await fetch(`${t.urls[0]}/v1/collections/bench`, {
    method: "PUT",
    headers: auth,
    body: JSON.stringify({ schema: { vectors: { v: { dim: DIM, metric: "cosine" } } } }),
  });
  if (!put.ok) throw new Error(await put.text());
  for (let i = 0; load && i < N; i += 500)
    await post(`${t.urls[0]}/v1/collections/bench/upsert`, {
      records: Array.from({ length: 500 }, (_, j) => ({ id: `b${i + j}`, vector: vector() })),
    });
}

/** Exact top-10 queries from one client, round-robin over the target's nodes; ms per query and CPU. */
async function measureQueries(t: Target): Promise<{ p50: number; p99: number; cpuMs: number }> {
  const times: number[] = [];
  // Warm-up, and read-your-writes of the load: every replica has applied everything.
  for (let i = 0; i < 20; i++)
    await post(`${t.urls[i % t.urls.length]}/v1/collections/bench/query`, { vector: vector(), limit: 10, exact: true });
  const cpu0 = cpuSeconds(t.pids);
  for (let i = 0; i < QUERIES; i++) {
    const started = performance.now();
    await post(`${t.urls[i % t.urls.length]}/v1/collections/bench/query`, { vector: vector(), limit: 10, exact: true });
    times.push(performance.now() - started);
  }
  return { p50: pct(times, 50), p99: pct(times, 99), cpuMs: ((cpuSeconds(t.pids) - cpu0) * 1000) / QUERIES };
}

/** `clients` clients (default WRITERS) upserting 10-record batches for WRITE_SECONDS; records/s and ack latency. */
async function measureWrites(
  t: Target,
  clients: number,
): Promise<{ recordsPerSecond: number; p50: number; p99: number; failed: number; cpuMsPerRecord: number }> {
  const times: number[] = [];
  const cpu0 = cpuSeconds(t.pids);
  let records = 0;
  let failed = 0;
  const end = performance.now() + WRITE_SECONDS * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      while (performance.now() < end) {
        const batch = Array.from({ length: 10 }, () => ({ id: `w${next++}`, vector: vector(), payload: { w } }));
        const started = performance.now();
        try {
          await post(`${t.urls[w % t.urls.length]}/v1/collections/bench/upsert`, { records: batch });
        } catch (error) {
          // Reported, not fatal: s3rver shares this process with the load generator and can stall.
          failed++;
          process.stderr.write(`write failed: ${String(error).slice(0, 300)}\n`);
          continue;
        }
        times.push(performance.now() - started);
        records += batch.length;
      }
    }),
  );
  const cpuMsPerRecord = ((cpuSeconds(t.pids) - cpu0) * 1000) / Math.max(1, records);
  process.stderr.write(`${t.name}: ${records} records written, ${cpuMsPerRecord.toFixed(3)} ms CPU per record\n`);
  return {
    recordsPerSecond: records / WRITE_SECONDS,
    p50: pct(times, 50),
    p99: pct(times, 99),
    failed,
    cpuMsPerRecord,
  };
}

async function startSingle(): Promise<Target & { stop(): Promise<void> }> {
  const path = mkdtempSync(join(tmpdir(), "quiver-bench-"));
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, "dist/src/cli/main.js"), "serve", "--db", path, "--port", String(port), "--no-log"],
    { env: { ...process.env, QUIVER_ADMIN_KEY: ADMIN_KEY }, stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((ok) => child.stdout?.on("data", (c) => String(c).includes("serving") && ok()));
  return {
    name: "single node",
    urls: [`http://127.0.0.1:${port}`],
    pids: [child.pid as number],
    async stop() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(path, { recursive: true, force: true });
    },
  };
}

async function startCluster(
  etcd: EtcdMember,
  s3: S3Stand,
  shards: number,
  tag: string,
): Promise<Target & { nodes: QuiverNode[]; settings: NodeSettings; stop(): Promise<void> }> {
  const settings: NodeSettings = {
    etcd: etcd.endpoint,
    s3,
    etcdPrefix: `bench-${tag}-${Date.now()}/`,
    shards,
    replicas: 1,
    leaseMs: LEASE_MS,
  };
  const nodes = await Promise.all(["c1", "c2"].map((id) => QuiverNode.start(id, settings)));
  return {
    name: `cluster, ${shards} shard${shards > 1 ? "s" : ""}`,
    urls: nodes.map((n) => n.url),
    pids: nodes.map((n) => n.pid),
    nodes,
    settings,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop("SIGKILL")));
    },
  };
}

/** Kills shard 0's writer; ms until a write to shard 0 through the other node is acknowledged. */
async function measureFailover(c: Awaited<ReturnType<typeof startCluster>>): Promise<number> {
  const coordinator = new EtcdCoordinator({ endpoints: [c.settings.etcd], prefix: c.settings.etcdPrefix });
  try {
    const owner = await coordinator.owner(shardLog({ name: "bench", generation: 1 }, 0));
    if (!owner) throw new Error("shard 0 has no writer");
    const victim = c.nodes.find((n) => n.id === owner.holder) as QuiverNode;
    const survivor = c.nodes.find((n) => n !== victim) as QuiverNode;
    let id = 0;
    while (shardOf(`f${id}`, c.settings.shards) !== 0) id++;
    const killed = performance.now();
    await victim.stop("SIGKILL");
    await post(`${survivor.url}/v1/collections/bench/upsert`, { records: [{ id: `f${id}`, vector: vector() }] });
    return performance.now() - killed;
  } finally {
    coordinator.close();
  }
}

export async function runClusterBench(o: ClusterBenchOptions): Promise<void> {
  const repeats = o.repeats ?? 3;
  const writesOnly = o.parts?.includes("writes") === true;
  const [etcd, s3] = await Promise.all([EtcdMember.start(), S3Stand.start()]);
  const rows = new Map<
    string,
    { q50: number[]; q99: number[]; cpu: number[]; w: number[]; w50: number[]; w99: number[] }
  >();
  const failovers: number[] = [];
  let failedWrites = 0;
  const row = (name: string) => {
    if (!rows.has(name)) rows.set(name, { q50: [], q99: [], cpu: [], w: [], w50: [], w99: [] });
    return rows.get(name) as NonNullable<ReturnType<typeof rows.get>>;
  };
  try {
    for (let r = 0; r < repeats; r++) {
      for (const kind of writesOnly ? (["single", 2] as const) : (["single", 1, 2, 4] as const)) {
        const cluster = kind === "single" ? null : await startCluster(etcd, s3, kind, `${r}-${kind}`);
        const t = cluster ?? (await startSingle());
        try {
          await createAndLoad(t, !writesOnly);
          const into = row(t.name);
          if (!writesOnly) {
            const q = await measureQueries(t);
            into.q50.push(q.p50);
            into.q99.push(q.p99);
            into.cpu.push(q.cpuMs);
          }
          if (kind === "single" || kind === 2) {
            const w = await measureWrites(t, o.clients ?? WRITERS);
            into.w.push(w.recordsPerSecond);
            into.w50.push(w.p50);
            into.w99.push(w.p99);
            failedWrites += w.failed;
          }
          if (kind === 2 && cluster && !writesOnly) failovers.push(await measureFailover(cluster));
          process.stderr.write(`round ${r + 1}/${repeats}: ${t.name} done\n`);
        } finally {
          await t.stop();
        }
      }
    }
  } finally {
    await Promise.all([etcd.stop(), s3.stop()]);
  }
  const f = (xs: number[], digits = 1) => (xs.length ? median(xs).toFixed(digits) : "-");
  const table = [...rows].map(([name, x]) => ({
    name,
    queryP50: f(x.q50, 2),
    queryP99: f(x.q99, 2),
    cpuMsPerQuery: f(x.cpu, 2),
    writeRecordsPerSecond: f(x.w, 0),
    ackP50: f(x.w50),
    ackP99: f(x.w99),
  }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ table, failoverMs: failovers, failedWrites })}\n`);
    return;
  }
  process.stdout.write(
    `loadavg ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}; ${repeats} rounds, medians; ${o.clients ?? WRITERS} writing clients; ${failedWrites} writes failed\n`,
  );
  process.stdout.write(
    "| configuration | query p50 ms | query p99 ms | CPU ms/query | write records/s | ack p50 ms | ack p99 ms |\n|---|---|---|---|---|---|---|\n",
  );
  for (const t of table)
    process.stdout.write(
      `| ${t.name} | ${t.queryP50} | ${t.queryP99} | ${t.cpuMsPerQuery} | ${t.writeRecordsPerSecond} | ${t.ackP50} | ${t.ackP99} |\n`,
    );
  process.stdout.write(
    `failover (SIGKILL of shard 0's writer -> first acknowledged write to shard 0, lease ${LEASE_MS} ms): ${failovers.map((x) => x.toFixed(0)).join(", ")} ms; median ${f(failovers, 0)} ms\n`,
  );
}
