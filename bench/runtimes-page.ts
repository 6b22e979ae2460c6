// Chromium's share of `npm run bench -- runtimes`, bundled by runtimes.ts and run on a page's main
// thread: fetches the rows runtimes.ts serves (/base.f32, /query.f32, already cut to size) and runs
// runtimes-workload.ts on an in-memory database opened through the browser entry.

import { open } from "../src/web.js";
import { runWorkload, splitRows } from "./runtimes-workload.js";

async function rows(path: string, dim: number): Promise<Float32Array[]> {
  const res = await fetch(path);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return splitRows(await res.arrayBuffer(), dim, Number.MAX_SAFE_INTEGER);
}

Object.assign(globalThis, {
  async runRuntimesWorkload(dim: number, metric: "cosine" | "l2") {
    const [base, queries] = await Promise.all([rows("/base.f32", dim), rows("/query.f32", dim)]);
    return runWorkload(await open(), base, queries, metric);
  },
});
