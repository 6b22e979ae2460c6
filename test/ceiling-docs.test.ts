/**
 * docs/vectors.md states how many records fit the 4 GiB memory of one named vector, from bytes per
 * record it derives from the HNSW node layout. This recomputes those figures from
 * src/core/index/hnsw/layout.ts, so a layout change that moves the ceiling cannot leave the page wrong.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { codeBytesFor, nodeStride } from "../src/core/index/hnsw/layout.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const GIB4 = 2 ** 32;
const M0 = 32; // level-0 links at m = 16
/** Per-slot arrays and upper-layer links, as the page states them (approximate, ~28 bytes). */
const PER_SLOT = 28;

const page = readFileSync(join(ROOT, "docs", "vectors.md"), "utf8");
const num = (cell: string): number => Number(cell.replace(/[~, M]/g, ""));
/** The rows of the markdown table whose header row starts with `header`, as trimmed cells. */
function table(header: string): string[][] {
  const lines = page.split("\n");
  const start = lines.findIndex((l) => l.startsWith(header));
  assert.ok(start >= 0, `docs/vectors.md has a table starting ${header}`);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i].startsWith("|"); i++) {
    rows.push(
      lines[i]
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows;
}

test("docs/vectors.md: bytes per record at m = 16 follow the node layout", () => {
  const rows = table("| dim | f32 row");
  assert.deepEqual(
    rows.map((r) => num(r[0])),
    [96, 128, 384, 768],
  );
  for (const [dim, f32, node, perSlot, inMemory, onDisk] of rows.map((r) => r.map(num))) {
    const stride = nodeStride(M0, codeBytesFor("int8", dim));
    assert.deepEqual([f32, node, perSlot], [4 * dim, stride, PER_SLOT], `dim ${dim}`);
    assert.equal(inMemory, 4 * dim + stride + PER_SLOT, `dim ${dim} in memory`);
    assert.equal(onDisk, stride + PER_SLOT, `dim ${dim} on disk`);
  }
});

test("docs/vectors.md: records per 4 GiB memory (int8 columns) are 4 GiB over those bytes", () => {
  const rows = table("| dim  | flat (f32 only)");
  assert.ok(rows.length >= 6);
  for (const r of rows) {
    const dim = num(r[0]);
    const stride = nodeStride(M0, codeBytesFor("int8", dim));
    const millions = (bytes: number) => GIB4 / bytes / 1e6;
    for (const [cell, bytes] of [
      [r[3], 4 * dim + stride + PER_SLOT],
      [r[5], stride + PER_SLOT],
    ] as const) {
      const want = millions(bytes);
      // The page rounds to the decimals it shows.
      const decimals = (cell.replace(/[^0-9.]/g, "").split(".")[1] ?? "").length;
      const off = Math.abs(num(cell) - want);
      assert.ok(off <= 0.5 * 10 ** -decimals + 1e-9, `dim ${dim}: page ${cell}, layout ${want.toFixed(3)} M`);
    }
  }
});
