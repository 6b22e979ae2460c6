// `npm run bench -- scale --part ceiling [--dim 96] [--originals disk] [--build-threads N] [--n CAP_MIB]`:
// how much of one named vector's memory its records can use. The memory is capped (open's growHook)
// at a scale model of the 4 GiB ceiling (48 MiB unless --n gives MiB), and the scale bench's records
// are upserted in batches of 1,000 until a write is refused (RESOURCE_EXHAUSTED, before it is
// logged). Reported: the records held, the largest memory granted, bytes per record, and 4 GiB over
// those bytes (the records one named vector holds at full size). Growth by doubling, as before, left
// up to half of the cap unused; the graph is built with efConstruction 16 since only its size matters.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isQuiverError } from "../src/core/errors/errors.js";
import { open } from "../src/index.js";
import { generate } from "./scale-data.js";
import { M } from "./scale-engines.js";

export interface CeilingOptions {
  dim?: number;
  originals?: "memory" | "disk";
  buildThreads?: number;
  capMiB?: number;
  json?: boolean;
}

const BATCH = 1000;

export async function runCeilingBench(o: CeilingOptions): Promise<void> {
  const dim = o.dim ?? 96;
  const cap = (o.capMiB ?? 48) * 2 ** 20;
  const threads = o.buildThreads ?? 0;
  const originals = o.originals ?? "memory";
  // More rows than can fit: the node record alone is at least 64 bytes.
  const d = generate({ n: Math.ceil(cap / 128), dim, queries: 1 });
  const dir = mkdtempSync(join(tmpdir(), "quiver-ceiling-"));
  let granted = 0;
  const growHook = (to: number): boolean => {
    if (to > cap) return false;
    granted = Math.max(granted, to);
    return true;
  };
  const db = await open(dir, { growHook, ...(threads >= 2 ? { threads } : {}) });
  let held = 0;
  let refusal = "none (ran out of rows)";
  const t0 = performance.now();
  try {
    const index = { type: "hnsw" as const, m: M, efConstruction: 16, originals };
    const c = await db.createCollection("c", { vectors: { v: { dim, metric: "l2", index } } });
    for (let i = 0; i < d.n; i += BATCH) {
      const n = Math.min(BATCH, d.n - i);
      const records = Array.from({ length: n }, (_, j) => ({
        id: String(i + j),
        vector: d.base.subarray((i + j) * dim, (i + j + 1) * dim),
      }));
      try {
        await c.upsert(records);
        held += n;
      } catch (e) {
        if (!isQuiverError(e, "RESOURCE_EXHAUSTED")) throw e;
        refusal = e.message;
        break;
      }
    }
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const perRecord = cap / held;
  const r = {
    dim,
    originals,
    threads,
    capBytes: cap,
    records: held,
    grantedBytes: granted,
    usedShare: granted / cap,
    bytesPerRecordAtCap: perRecord,
    recordsPer4GiB: Math.floor(2 ** 32 / perRecord),
    seconds: (performance.now() - t0) / 1000,
    refusal,
  };
  if (o.json) console.log(JSON.stringify(r));
  console.log(
    `ceiling: dim ${dim}, originals ${originals}, ${threads} threads, memory capped at ${cap / 2 ** 20} MiB: ` +
      `${held.toLocaleString("en-US")} records held (${(r.usedShare * 100).toFixed(1)}% of the cap granted), ` +
      `${perRecord.toFixed(0)} bytes per record, so about ${(r.recordsPer4GiB / 1e6).toFixed(2)} M per 4 GiB ` +
      `(${r.seconds.toFixed(0)} s)\nthe write refused: ${refusal}`,
  );
}
