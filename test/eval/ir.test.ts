/**
 * `quiver eval ir` on the shared IR collections (../shared/data/ir): configured like the reference
 * (alnum tokens, k1 0.9, b 0.4) it reproduces the published BM25 rows within 0.001, and the
 * default hybrid scores at least the better of BM25 and dense on nDCG@10 on every collection.
 * Skips, saying so, when the data is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const DATA = join(ROOT, "..", "shared", "data", "ir");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
const present = existsSync(join(DATA, "scifact", "corpus.jsonl"));
const skip = present ? false : `IR data not found at ${DATA}`;

/** The BM25 k1=0.9 b=0.4 rows of ../shared/data/ir/README.md. */
const REFERENCE: Record<string, [number, number, number, number]> = {
  cranfield: [0.3276, 0.264, 0.6848, 0.212],
  cisi: [0.3179, 0.1735, 0.3927, 0.2789],
  scifact: [0.6611, 0.6243, 0.8852, 0.0857],
};

interface Row {
  collection: string;
  mode: string;
  ndcg10: number;
  map: number;
  recall100: number;
  p10: number;
}

function run(args: string[]): Row[] {
  const out = execFileSync(process.execPath, [CLI, "eval", "ir", "--data", DATA, "--json", ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 24,
  });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Row);
}

test("configured like the reference, eval reproduces the BM25 rows within 0.001", { skip }, () => {
  const rows = run(["--mode", "bm25", "--analyzer", "alnum", "--k1", "0.9", "--b", "0.4"]);
  assert.deepEqual(rows.map((r) => r.collection).sort(), Object.keys(REFERENCE).sort());
  for (const r of rows) {
    const [ndcg, map, recall, p10] = REFERENCE[r.collection];
    for (const [name, got, want] of [
      ["nDCG@10", r.ndcg10, ndcg],
      ["MAP", r.map, map],
      ["R@100", r.recall100, recall],
      ["P@10", r.p10, p10],
    ] as const) {
      assert.ok(Math.abs(got - want) <= 0.001, `${r.collection} ${name}: ${got} vs reference ${want}`);
    }
  }
});

test("the default hybrid is at least the better of BM25 and dense on every collection, and english BM25 reaches 0.679 on SciFact", {
  skip,
}, () => {
  const rows = run(["--mode", "all"]);
  for (const c of Object.keys(REFERENCE)) {
    const get = (mode: string) => rows.find((r) => r.collection === c && r.mode === mode)!;
    const best = Math.max(get("bm25").ndcg10, get("dense").ndcg10);
    assert.ok(get("hybrid").ndcg10 >= best, `${c}: hybrid ${get("hybrid").ndcg10} < best single source ${best}`);
  }
  const scifact = rows.find((r) => r.collection === "scifact" && r.mode === "bm25")!;
  assert.ok(scifact.ndcg10 >= 0.679, `SciFact english BM25 nDCG@10 ${scifact.ndcg10}`);
});
