/**
 * The JS/WebAssembly boundary: the build's module checker (scripts/wasm-check.mjs) rejects hand-assembled
 * modules that break the shared-memory contract or the declared exports, accepts the shipped modules,
 * and no source re-declares by hand a constant that src/core/kernels/boundary.json declares.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { KERNELS_WASM_BASE64 } from "../src/core/kernels/kernels-wasm.generated.js";
import { HNSW_WASM_BASE64 } from "../src/core/index/hnsw/hnsw-wasm.generated.js";
import { KERNELS_SHARED_WASM_BASE64 } from "../src/core/kernels/kernels-shared-wasm.generated.js";
import { HNSW_SHARED_WASM_BASE64 } from "../src/core/index/hnsw/hnsw-shared-wasm.generated.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

interface Signature {
  params: Record<string, string>;
  result?: string;
}
interface BoundaryTable {
  codes: Record<string, { values: Record<string, number> }>;
  hnswHeader: { fields: { name: string }[] };
  modules: Record<string, { exports: Record<string, Signature> }>;
}

const { checkModule } = (await import(pathToFileURL(join(ROOT, "scripts", "wasm-check.mjs")).href)) as {
  checkModule(binary: Uint8Array, exports: Record<string, Signature>): string[];
};
const table = JSON.parse(readFileSync(join(ROOT, "src", "core", "kernels", "boundary.json"), "utf8")) as BoundaryTable;

// ---- a tiny assembler: one function (i32) -> i32 exported as "f" ------------------------------------

const leb = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...leb(n >>> 7)]);
const vec = (items: number[][]): number[] => [...leb(items.length), ...items.flat()];
const name = (s: string): number[] => [...leb(s.length), ...new TextEncoder().encode(s)];
const section = (id: number, payload: number[]): number[] => [id, ...leb(payload.length), ...payload];

const I32 = 0x7f;
const END = 0x0b;

/**
 * A body that holds 0x40 bytes which are not memory.grow: the empty block type, the immediate of
 * i32.const −64 and the offset 64 of a load. A byte scan would report memory.grow three times.
 */
const SAFE_BODY = [0x02, 0x40, 0x41, 0x40, 0x1a, END, 0x20, 0x00, 0x28, 0x02, 0x40, END];
/** local.get 0; memory.grow 0: grows the memory by the argument and returns the old size. */
const GROW_BODY = [0x20, 0x00, 0x40, 0x00, END];

function assemble(opts: { body?: number[]; ownMemory?: boolean; dataSegment?: boolean } = {}): Uint8Array<ArrayBuffer> {
  const body = opts.body ?? SAFE_BODY;
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, 1, I32, 1, I32]])),
    ...(opts.ownMemory ? [] : section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]]))),
    ...section(3, vec([[0]])),
    ...(opts.ownMemory ? section(5, vec([[0x00, 0x01]])) : []),
    ...section(7, vec([[...name("f"), 0x00, 0x00]])),
    ...section(10, vec([[...leb(body.length + 1), 0x00, ...body]])),
    // An active segment: bytes 1, 2, 3 copied to offset 0 at every instantiation.
    ...(opts.dataSegment ? section(11, vec([[0x00, 0x41, 0x00, END, ...vec([[1], [2], [3]])]])) : []),
  ];
  return new Uint8Array(bytes);
}

const F: Record<string, Signature> = { f: { params: { x: "i32" }, result: "i32" } };

test("the checker accepts a safe module even though its code holds 0x40 bytes", () => {
  const binary = assemble();
  assert.ok(WebAssembly.validate(binary), "the hand-assembled module is valid");
  assert.equal(SAFE_BODY.filter((b) => b === 0x40).length, 3, "the body holds the bait bytes");
  assert.deepEqual(checkModule(binary, F), []);
});

test("the checker rejects a module with a data segment", () => {
  assert.deepEqual(checkModule(assemble({ dataSegment: true }), F), ["has a data segment"]);
});

test("the checker rejects a module that contains memory.grow", () => {
  assert.deepEqual(checkModule(assemble({ body: GROW_BODY }), F), ["function 0 contains memory.grow"]);
});

test("the checker rejects a module that defines its own memory instead of importing it", () => {
  assert.deepEqual(checkModule(assemble({ ownMemory: true }), F), [
    "imports must be exactly env.memory:memory, found none",
    "defines a memory of its own",
  ]);
});

test("the checker rejects a missing export and an export whose signature differs from the table", () => {
  const problems = checkModule(assemble(), {
    f: { params: { x: "i32" }, result: "f32" },
    g: { params: {} },
  });
  assert.deepEqual(problems, [
    "export f is (i32) => i32, the boundary table says (i32) => f32",
    "lacks the function export g",
  ]);
});

test("the shipped modules pass the checker against the boundary table", () => {
  const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  assert.deepEqual(checkModule(decode(KERNELS_WASM_BASE64), table.modules.kernels.exports), []);
  assert.deepEqual(checkModule(decode(HNSW_WASM_BASE64), table.modules.hnsw.exports), []);
  // The builds over a shared memory (search threads) obey the same contract.
  assert.deepEqual(checkModule(decode(KERNELS_SHARED_WASM_BASE64), table.modules.kernels.exports), []);
  assert.deepEqual(checkModule(decode(HNSW_SHARED_WASM_BASE64), table.modules.hnsw.exports), []);
});

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith(".ts") && !p.endsWith(".generated.ts") ? [p] : [];
  });
}

test("no source declares by hand a constant of the boundary table (TypeScript or AssemblyScript)", () => {
  const declared = new Set([
    ...Object.entries(table.codes).flatMap(([prefix, g]) => Object.keys(g.values).map((n) => `${prefix}_${n}`)),
    ...table.hnswHeader.fields.map((f) => `H_${f.name}`),
  ]);
  assert.ok(declared.has("FLAG_LIVE") && declared.has("H_DIM"), "the table was read");
  const offenders: string[] = [];
  for (const file of sources(join(ROOT, "src"))) {
    for (const m of readFileSync(file, "utf8").matchAll(/\bconst\s+([A-Z][A-Z0-9_]*)\s*[:=]/g)) {
      if (declared.has(m[1])) offenders.push(`${relative(ROOT, file)} declares ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});
