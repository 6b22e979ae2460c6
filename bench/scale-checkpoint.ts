// `npm run bench -- scale --part checkpoint [--n 200000] [--dim 128] [--repeats 3] [--baseline DIR]`:
// write latency with and without a concurrent checkpoint, and the checkpoint's own duration, on the
// scale bench's data and collection (scale-engines.ts: hnsw, m 16, efConstruction 200, int8, a number
// index). The collection is built once (not timed) in a temporary directory. Then, per round and per
// build of Quiver under test (this one; with --baseline, also the package built at DIR, e.g. main
// checked out and built elsewhere, alternating with it), a child process opens the directory and
// measures 300 single-record upserts one after another (alone), then single-record upserts one after
// another while an explicit `db.checkpoint()` runs, for two kinds of checkpoint: a delta (the changed
// records and the graph's whole index file) and a compaction (opened with maxSegments 1: every record
// rewritten too). Medians over the rounds are reported; every sample is in --json.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { median } from "./median.js";
import { generate, type ScaleSpec } from "./scale-data.js";
import { EF_CONSTRUCTION, M } from "./scale-engines.js";

export interface CheckpointBenchOptions extends ScaleSpec {
  repeats?: number;
  /** A folder holding another build of Quiver (its dist/src/index.js) to measure beside this one. */
  baseline?: string;
  json?: boolean;
  /** Set in a child: which build, which directory, which kind of checkpoint. */
  child?: { entry: string; dir: string; kind: CheckpointKind };
}

type CheckpointKind = "delta" | "compaction";
const KINDS: CheckpointKind[] = ["delta", "compaction"];
const MARK = "CHECKPOINT-RESULT ";
const ALONE = 300;
const BATCH = 1000;

interface Sample {
  build: string;
  kind: CheckpointKind;
  alone: number[];
  during: number[];
  checkpointMs: number;
}

interface QuiverModule {
  open(dir: string, options?: { maxSegments?: number }): Promise<QuiverDb>;
}
interface QuiverDb {
  createCollection(name: string, schema: unknown): Promise<QuiverCollection>;
  collection(name: string): Promise<QuiverCollection>;
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}
interface QuiverCollection {
  upsert(records: { id: string; vector: Float32Array; payload: Record<string, unknown> }[]): Promise<unknown>;
}

const thisBuild = fileURLToPath(new URL("../src/index.js", import.meta.url));
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))];

export async function runCheckpointBench(o: CheckpointBenchOptions): Promise<void> {
  if (o.child) return child(o, o.child);
  const d = generate({ n: o.n, dim: o.dim, queries: 1 });
  const dir = mkdtempSync(join(tmpdir(), "quiver-scale-checkpoint-"));
  try {
    const t0 = performance.now();
    const { open } = (await import(pathToFileURL(thisBuild).href)) as QuiverModule;
    const db = await open(dir);
    const c = await db.createCollection("scale", {
      vectors: { v: { dim: d.dim, metric: "l2", index: { type: "hnsw", m: M, efConstruction: EF_CONSTRUCTION } } },
      indexes: { w: "number" },
    });
    for (let i = 0; i < d.n; i += BATCH) {
      const recs = [];
      for (let j = i; j < Math.min(d.n, i + BATCH); j++)
        recs.push({
          id: String(j),
          vector: d.base.subarray(j * d.dim, (j + 1) * d.dim),
          payload: { u: d.u[j], w: d.u[j] },
        });
      await c.upsert(recs);
    }
    await db.close();
    console.error(`built ${d.n} × ${d.dim} in ${((performance.now() - t0) / 1000).toFixed(1)} s (not measured)`);
    const builds: [string, string][] = [["this", thisBuild]];
    if (o.baseline) builds.unshift(["baseline", resolve(o.baseline, "dist/src/index.js")]);
    const samples: Sample[] = [];
    for (let round = 0; round < (o.repeats ?? 3); round++) {
      for (const kind of KINDS) {
        for (const [build, entry] of round % 2 === 0 ? builds : [...builds].reverse()) {
          const args = ["scale", "--part", "checkpoint", "--n", String(o.n), "--dim", String(o.dim)];
          args.push("--child", JSON.stringify({ entry, dir, kind }));
          const r = spawnSync(process.execPath, [fileURLToPath(new URL("./main.js", import.meta.url)), ...args], {
            encoding: "utf8",
            maxBuffer: 64 << 20,
            stdio: ["ignore", "pipe", "inherit"],
          });
          const line = r.stdout.split("\n").find((l) => l.startsWith(MARK));
          if (r.status !== 0 || !line)
            throw new Error(`checkpoint bench child (${build}, ${kind}) failed: ${r.stdout}`);
          const s = { build, kind, ...JSON.parse(line.slice(MARK.length)) } as Sample;
          samples.push(s);
          console.error(`round ${round + 1} ${build} ${kind}: ${summary([s])}`);
        }
      }
    }
    if (o.json) console.log(JSON.stringify({ n: o.n, dim: o.dim, samples }));
    console.log(`\ncheckpoint bench: ${d.n} × ${d.dim}, ${o.repeats ?? 3} rounds (medians over rounds)`);
    for (const [build] of builds)
      for (const kind of KINDS) {
        const own = samples.filter((s) => s.build === build && s.kind === kind);
        console.log(`${build.padEnd(9)} ${kind.padEnd(11)} ${summary(own)}`);
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median over samples of each figure: write p50/p99 alone and during, writes during, checkpoint ms. */
function summary(samples: Sample[]): string {
  const m = (f: (s: Sample) => number) => median(samples.map(f)).toFixed(2);
  return (
    `alone p50/p99 ${m((s) => quantile(s.alone, 0.5))}/${m((s) => quantile(s.alone, 0.99))} ms; ` +
    `during p50/p99/max ${m((s) => quantile(s.during, 0.5))}/${m((s) => quantile(s.during, 0.99))}/${m((s) => Math.max(...s.during))} ms ` +
    `(${m((s) => s.during.length)} writes); checkpoint ${m((s) => s.checkpointMs)} ms`
  );
}

async function child(o: CheckpointBenchOptions, c: NonNullable<CheckpointBenchOptions["child"]>): Promise<void> {
  const d = generate({ n: o.n, dim: o.dim, queries: 1 });
  const { open } = (await import(pathToFileURL(c.entry).href)) as QuiverModule;
  const db = await open(c.dir, c.kind === "compaction" ? { maxSegments: 1 } : {});
  const col = await db.collection("scale");
  const rows = d.extra.length / d.dim;
  // Replacing existing records, as the scale bench's latency run does.
  const one = async (i: number): Promise<number> => {
    const t0 = performance.now();
    const r = i % rows;
    await col.upsert([
      {
        id: String((i * 7919) % d.n),
        vector: d.extra.subarray(r * d.dim, (r + 1) * d.dim),
        payload: { u: 0.5, w: 0.5 },
      },
    ]);
    return performance.now() - t0;
  };
  const alone: number[] = [];
  for (let i = 0; i < ALONE; i++) alone.push(await one(i));
  const during: number[] = [];
  let done = false;
  const t0 = performance.now();
  let checkpointMs = 0;
  const cp = db.checkpoint().then(() => {
    checkpointMs = performance.now() - t0;
    done = true;
  });
  for (let i = ALONE; !done; i++) during.push(await one(i));
  await cp;
  await db.close();
  console.log(MARK + JSON.stringify({ alone, during, checkpointMs }));
}
