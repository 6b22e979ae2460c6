// Measures what installing a package costs a user: each run installs it into a fresh temp folder
// with an empty npm cache (`npm install --omit=dev`, so every byte comes from the registry or the
// tarball, as on a clean machine), then reports the median wall time, installed size and package
// count. Used for the README's comparison of quiverdb's tarball with other vector database clients.
//   node scripts/measure-install.mjs <spec or tarball path> [--runs 3]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, lstatSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const args = process.argv.slice(2);
const runsAt = args.indexOf("--runs");
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 3;
const spec = args[0];
if (!spec) {
  console.error("usage: node scripts/measure-install.mjs <spec or tarball path> [--runs 3]");
  process.exit(2);
}
const target = spec.endsWith(".tgz") ? resolve(spec) : spec;

/** Bytes on disk (apparent sizes) and number of installed packages under node_modules. */
function measure(dir) {
  let bytes = 0;
  let packages = 0;
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        if (name !== ".bin" && /node_modules$/.test(d) && !name.startsWith("@") && !name.startsWith(".")) packages++;
        if (/node_modules\/@[^/]+$/.test(d)) packages++;
        walk(p);
      } else bytes += st.size;
    }
  };
  walk(join(dir, "node_modules"));
  return { bytes, packages };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(join(tmpdir(), "install-measure-"));
  try {
    writeFileSync(join(dir, "package.json"), '{ "name": "consumer", "private": true }\n');
    const started = performance.now();
    execFileSync(
      "npm",
      ["install", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error", "--cache", join(dir, ".cache"), target],
      { cwd: dir, stdio: ["ignore", "ignore", "inherit"] },
    );
    const seconds = (performance.now() - started) / 1000;
    results.push({ seconds, ...measure(dir) });
    console.error(`run ${i + 1}: ${seconds.toFixed(1)} s, ${(results.at(-1).bytes / 1e6).toFixed(1)} MB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const out = {
  spec,
  runs,
  medianSeconds: Number(median(results.map((r) => r.seconds)).toFixed(1)),
  medianMB: Number((median(results.map((r) => r.bytes)) / 1e6).toFixed(1)),
  packages: median(results.map((r) => r.packages)),
};
console.log(JSON.stringify(out));
