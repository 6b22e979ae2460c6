// Checks a compiled WebAssembly module against what makes it safe to share one memory between instances
// (the kernels and the HNSW graph are both instantiated over each vector slab's memory) and against the
// exports the JS side calls (src/core/kernels/boundary.json). Used by build-wasm.mjs; tested in
// test/wasm-boundary.test.ts.
//
// Why each rule: a data segment is copied into the memory at every instantiation (a second instance
// would overwrite bytes the first one, or the slab, owns); `memory.grow` inside a module would detach
// the slab's buffer views behind the host's back (only the host grows a slab); a module that defines
// its own memory would not see the slab at all; a missing export or a different signature would only
// fail at the first call.

const SECTION = { type: 1, import: 2, function: 3, memory: 5, export: 7, code: 10, data: 11, dataCount: 12 };
const VALTYPE = new Map([
  [0x7f, "i32"],
  [0x7e, "i64"],
  [0x7d, "f32"],
  [0x7c, "f64"],
  [0x7b, "v128"],
  [0x70, "funcref"],
  [0x6f, "externref"],
]);
const OP_MEMORY_GROW = 0x40;

/** A cursor over the module's bytes with the LEB128 readers the format uses. */
class Reader {
  constructor(bytes, at = 0, end = bytes.length) {
    this.bytes = bytes;
    this.at = at;
    this.end = end;
  }
  byte() {
    if (this.at >= this.end) throw new Error("unexpected end of section");
    return this.bytes[this.at++];
  }
  /** Unsigned or signed LEB128; only the value's size matters for skipping, so both read alike. */
  leb() {
    let result = 0;
    let shift = 0;
    let b;
    do {
      b = this.byte();
      if (shift < 32) result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    return result >>> 0;
  }
  /** Skips n LEB128 immediates. */
  lebs(n) {
    for (let i = 0; i < n; i++) this.leb();
  }
  skip(n) {
    this.at += n;
  }
  name() {
    const n = this.leb();
    const s = new TextDecoder().decode(this.bytes.subarray(this.at, this.at + n));
    this.at += n;
    return s;
  }
  limits() {
    const flags = this.byte();
    this.leb();
    if (flags & 1) this.leb();
  }
}

/** The sections of the module by id (custom sections, id 0, are skipped). */
function sections(bytes) {
  const out = new Map();
  const r = new Reader(bytes, 8);
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.leb();
    if (id !== 0) out.set(id, new Reader(bytes, r.at, r.at + size));
    r.skip(size);
  }
  return out;
}

/** Function signatures by function index (imported functions first, as the index space orders them). */
function functionTypes(s) {
  const types = [];
  const t = s.get(SECTION.type);
  if (t) {
    for (let n = t.leb(); n > 0; n--) {
      t.byte(); // 0x60: a function type
      const params = Array.from({ length: t.leb() }, () => VALTYPE.get(t.byte()));
      const results = Array.from({ length: t.leb() }, () => VALTYPE.get(t.byte()));
      types.push({ params, results });
    }
  }
  const funcs = [];
  const imp = s.get(SECTION.import);
  if (imp) {
    for (let n = imp.leb(); n > 0; n--) {
      imp.name();
      imp.name();
      const kind = imp.byte();
      if (kind === 0) funcs.push(types[imp.leb()]);
      else if (kind === 1) {
        imp.skip(1); // the table's reference type
        imp.limits();
      } else if (kind === 2) imp.limits();
      else if (kind === 3)
        imp.skip(2); // a global: value type, mutability
      else imp.leb(); // a tag (exception handling)
    }
  }
  const f = s.get(SECTION.function);
  if (f) for (let n = f.leb(); n > 0; n--) funcs.push(types[f.leb()]);
  return funcs;
}

/** Export name -> function index, for function exports. */
function functionExports(s) {
  const out = new Map();
  const e = s.get(SECTION.export);
  if (!e) return out;
  for (let n = e.leb(); n > 0; n--) {
    const name = e.name();
    const kind = e.byte();
    const index = e.leb();
    if (kind === 0) out.set(name, index);
  }
  return out;
}

/** Skips a memory access's immediate: alignment (bit 6 set: a memory index follows), then the offset. */
function memarg(r) {
  if (r.leb() & 0x40) r.leb();
  r.leb();
}

/** Immediates of the 0xfd (SIMD) instructions that have any; the others take none. */
function simdImmediates(r, op) {
  if (op <= 11 || op === 92 || op === 93)
    memarg(r); // loads, store, load32_zero, load64_zero
  else if (op === 12 || op === 13)
    r.skip(16); // v128.const, i8x16.shuffle
  else if (op >= 21 && op <= 34)
    r.skip(1); // extract_lane / replace_lane
  else if (op >= 84 && op <= 91) {
    memarg(r); // load*_lane / store*_lane
    r.skip(1);
  }
}

/** Immediates of the 0xfc (misc) instructions. */
function miscImmediates(r, op) {
  if (op <= 7) return; // saturating truncations
  if (op === 8 || op === 10 || op === 12 || op === 14)
    r.lebs(2); // memory.init/copy, table.init/copy
  else if (op <= 17)
    r.leb(); // data.drop, memory.fill, elem.drop, table.grow/size/fill
  else throw new Error(`unknown instruction 0xfc ${op}`);
}

/**
 * Decodes one function body instruction by instruction and returns the opcodes it contains that the
 * shared-memory contract forbids. Decoding (not a byte scan) matters: 0x40 is also the empty block type,
 * a LEB128 byte of a constant or an offset, a lane index.
 */
function forbiddenIn(r) {
  for (let groups = r.leb(); groups > 0; groups--) {
    r.leb(); // locals: a count, then their type
    r.skip(1);
  }
  const found = [];
  while (r.at < r.end) {
    const op = r.byte();
    if (op === OP_MEMORY_GROW) {
      found.push("memory.grow");
      r.leb();
    } else if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || op === 0xd1) {
      // no immediate
    } else if (op >= 0x02 && op <= 0x04) {
      const t = r.bytes[r.at];
      if (t === 0x40 || VALTYPE.has(t)) r.skip(1);
      else r.leb(); // a type index (s33)
    } else if (op === 0x0e) {
      for (let n = r.leb() + 1; n > 0; n--) r.leb();
    } else if (op === 0x11 || op === 0x13) r.lebs(2);
    else if (op === 0x1c) for (let n = r.leb(); n > 0; n--) r.byte();
    else if ((op >= 0x0c && op <= 0x13) || (op >= 0x20 && op <= 0x26) || op === 0x3f || op === 0xd2) r.leb();
    else if (op >= 0x28 && op <= 0x3e) memarg(r);
    else if (op === 0x41 || op === 0x42) r.leb();
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op >= 0x45 && op <= 0xc4) {
      // numeric: no immediate
    } else if (op === 0xd0) r.byte();
    else if (op === 0xfc) miscImmediates(r, r.leb());
    else if (op === 0xfd) simdImmediates(r, r.leb());
    else if (op === 0xfe) {
      const sub = r.leb();
      if (sub === 3)
        r.byte(); // atomic.fence
      else memarg(r);
    } else throw new Error(`unknown opcode 0x${op.toString(16)} at byte ${r.at - 1}`);
  }
  return found;
}

/**
 * Every way `binary` breaks the contract, as messages (empty when it is safe). `exports` maps each
 * export the JS side calls to its signature: { params: { name: "i32" | "f32" | ... }, result?: type }.
 */
export function checkModule(binary, exports) {
  const problems = [];
  const module = new WebAssembly.Module(binary); // validates, so the walk below may trust the encoding
  const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}:${i.kind}`);
  if (imports.join() !== "env.memory:memory")
    problems.push(`imports must be exactly env.memory:memory, found ${imports.join(", ") || "none"}`);
  for (const e of WebAssembly.Module.exports(module))
    if (e.kind === "memory") problems.push(`exports a memory (${e.name})`);

  const s = sections(binary);
  if (s.has(SECTION.memory)) problems.push("defines a memory of its own");
  const data = s.get(SECTION.data);
  if (data && data.leb() > 0) problems.push("has a data segment");
  const dataCount = s.get(SECTION.dataCount);
  if (dataCount && dataCount.leb() > 0) problems.push("declares data segments");

  const code = s.get(SECTION.code);
  if (code) {
    for (let i = 0, n = code.leb(); i < n; i++) {
      const size = code.leb();
      const body = new Reader(code.bytes, code.at, code.at + size);
      try {
        for (const op of forbiddenIn(body)) problems.push(`function ${i} contains ${op}`);
      } catch (e) {
        problems.push(`function ${i} cannot be decoded, so its safety is unknown: ${e.message}`);
      }
      code.skip(size);
    }
  }

  const types = functionTypes(s);
  const exported = functionExports(s);
  for (const [name, want] of Object.entries(exports)) {
    const index = exported.get(name);
    if (index === undefined) {
      problems.push(`lacks the function export ${name}`);
      continue;
    }
    const got = signature(types[index]);
    const expected = signature({ params: Object.values(want.params), results: want.result ? [want.result] : [] });
    if (got !== expected) problems.push(`export ${name} is ${got}, the boundary table says ${expected}`);
  }
  return problems;
}

const signature = (t) => `(${t.params.join(", ")}) => ${t.results.join(", ") || "void"}`;
