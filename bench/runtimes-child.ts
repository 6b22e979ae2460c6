// One runtime's share of `npm run bench -- runtimes` (runtimes.ts runs it under Node, Bun and Deno):
// reads the data set's first rows and runs runtimes-workload.ts on an in-memory database.
// Usage: <runtime> runtimes-child.js <data dir> <records> <queries>. Prints the result as one JSON line.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "../src/index.js";
import { runWorkload, splitRows } from "./runtimes-workload.js";

function readRows(path: string, dim: number, n: number): Float32Array[] {
  const b = readFileSync(path);
  return splitRows(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength), dim, n);
}

{
  const [dir, recordsArg, queriesArg] = process.argv.slice(2);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { dim: number; metric: string };
  const metric = meta.metric === "l2" || meta.metric === "euclidean" ? "l2" : "cosine";
  const base = readRows(join(dir, "base.f32"), meta.dim, Number(recordsArg));
  const queries = readRows(join(dir, "query.f32"), meta.dim, Number(queriesArg));
  console.log(JSON.stringify(await runWorkload(await open(), base, queries, metric)));
}
