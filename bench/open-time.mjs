// Cold open of a collection on disk, before/after a storage change: `node bench/open-time.mjs build DIST DIR N [EFC]`
// writes DIR with the build in DIST (one collection "scale" like the scale bench's: n × 128 uniform in
// [-1, 1], l2, hnsw m 16 with efConstruction EFC (default 40, to build quickly: open time does not depend
// on it), payload { u, w } with a number index on w, upserts of 1,000 through the embedded API, closed);
// `node bench/open-time.mjs time REPEATS LABEL=DIST@DIR ...` opens each DIR with its DIST in a fresh
// process, interleaved, REPEATS times, and prints the median wall and CPU seconds of open() and the
// first query's milliseconds. A DIST is a built `dist/` (copy one aside to compare two commits).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [mode, ...rest] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (mode === "build") {
  const [dist, dir, n, efc = "40"] = rest;
  const { open } = await import(resolve(dist, "src/index.js"));
  rmSync(dir, { recursive: true, force: true });
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const db = await open(dir);
  const c = await db.createCollection("scale", {
    vectors: { v: { dim: 128, metric: "l2", index: { type: "hnsw", m: 16, efConstruction: Number(efc) } } },
    indexes: { w: "number" },
  });
  for (let i = 0; i < Number(n); i += 1000) {
    const records = [];
    for (let j = i; j < Math.min(Number(n), i + 1000); j++) {
      const vector = Float32Array.from({ length: 128 }, () => random() * 2 - 1);
      const u = random();
      records.push({ id: String(j), vector, payload: { u, w: u } });
    }
    await c.upsert(records);
  }
  await db.close();
} else if (mode === "once") {
  const [dist, dir] = rest;
  const { open } = await import(resolve(dist, "src/index.js"));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const db = await open(dir);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  await (await db.collection("scale")).query({
    vector: new Float32Array(128).fill(0.1),
    limit: 10,
    withPayload: false,
  });
  const t2 = performance.now();
  console.log(
    JSON.stringify({
      wall: (t1 - t0) / 1000,
      cpu: (cpu.user + cpu.system) / 1e6,
      firstQueryMs: t2 - t1,
      warnings: db.recovery.warnings,
    }),
  );
  await db.close();
} else if (mode === "time") {
  const [repeats, ...targets] = rest;
  const runs = new Map(targets.map((t) => [t, []]));
  for (let r = 0; r < Number(repeats); r++) {
    for (const t of targets) {
      const [, dist, dir] = /^[^=]+=(.+)@(.+)$/.exec(t);
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "once", dist, dir], {
        encoding: "utf8",
      });
      runs.get(t).push(JSON.parse(out));
    }
  }
  for (const [t, xs] of runs) {
    const label = t.split("=")[0];
    const f = (k) => median(xs.map((x) => x[k]));
    console.log(
      `${label}: open ${f("wall").toFixed(3)} s wall, ${f("cpu").toFixed(3)} s CPU; first query ${f("firstQueryMs").toFixed(1)} ms (medians of ${xs.length}; walls ${xs.map((x) => x.wall.toFixed(2)).join(" ")})${xs[0].warnings.length ? ` warnings: ${xs[0].warnings.join("; ")}` : ""}`,
    );
  }
} else {
  console.error("usage: open-time.mjs build DIST DIR N [EFC] | time REPEATS LABEL=DIST@DIR ...");
  process.exitCode = 1;
}
