/** `quiver doctor --json` on a generated collection (imported with `quiver import --jsonl`) with planted problems. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom as mulberry32 } from "../../src/core/util/prng.js";

const MAIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "main.js");

test("quiver doctor finds planted duplicates, near-duplicates and outliers", () => {
  const dir = mkdtempSync(join(tmpdir(), "quiver-doctor-"));
  try {
    const rand = mulberry32(11);
    const dim = 16;
    const centers = Array.from({ length: 3 }, () => Array.from({ length: dim }, () => rand() * 2 - 1));
    const lines: string[] = [];
    const rec = (id: string, vector: number[], text: string) =>
      lines.push(JSON.stringify({ id, vector, payload: { text } }));
    const base: number[][] = [];
    for (let i = 0; i < 120; i++) {
      base.push(centers[i % 3].map((x) => x + (rand() - 0.5) * 0.5));
      rec(`r${i}`, base[i], `ordinary record ${i} about its topic`);
    }
    rec(
      "copy",
      centers[0].map((x) => x + (rand() - 0.5) * 0.5),
      "Ordinary record 5 about its   topic",
    );
    rec(
      "twin",
      base[7].map((x) => x * 1.00001),
      "a second wording of record seven",
    );
    rec(
      "lost",
      Array.from({ length: dim }, (_, i) => (i === 3 ? -4 : 0)),
      "a vector from nowhere",
    );
    const file = join(dir, "gen.jsonl");
    writeFileSync(file, lines.join("\n"));
    const db = join(dir, "db");
    execFileSync(
      process.execPath,
      [MAIN, "--db", db, "import", "gen", "--jsonl", file, "--dim", String(dim), "--metric", "l2"],
      { stdio: "pipe" },
    );
    const report = JSON.parse(
      execFileSync(process.execPath, [MAIN, "--db", db, "doctor", "gen", "--json", "--threshold", "0.9999"], {
        encoding: "utf8",
      }),
    ) as Record<string, { count: number; examples: { id: string; of?: string }[] }>;
    assert.equal(report.exactDuplicates.count, 1);
    assert.deepEqual([report.exactDuplicates.examples[0].id, report.exactDuplicates.examples[0].of].sort(), [
      "copy",
      "r5",
    ]);
    assert.equal(report.nearDuplicates.count, 1);
    assert.deepEqual([report.nearDuplicates.examples[0].id, report.nearDuplicates.examples[0].of].sort(), [
      "r7",
      "twin",
    ]);
    assert.ok(
      report.outliers.examples.some((e) => e.id === "lost"),
      JSON.stringify(report.outliers),
    );
    const text = execFileSync(process.execPath, [MAIN, "--db", db, "doctor", "gen"], { encoding: "utf8" });
    assert.match(text, /exact duplicates\s+1/);
    assert.match(text, /outliers\s+[1-9]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
