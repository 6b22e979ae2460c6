/**
 * The layer rules of ARCHITECTURE.md ("What each layer may touch") as data, and the checker that
 * holds every import of every source file to them. Pure: it takes file texts, so a test can feed
 * it a deliberately wrong file and see the violation reported.
 */
import { posix } from "node:path";

export interface LayerRule {
  /** Layers (keys of LAYERS) whose files this layer's files may import; its own files always. */
  imports: readonly string[];
  /** May import node:* modules. */
  node?: boolean;
  /** May import npm packages. */
  npm?: boolean;
}

/**
 * Each folder under src/ and what it may import. A file belongs to the longest key that is a
 * prefix of its folder ("." is the package entries, the files directly in src/); a file in no listed folder
 * is a violation, so a new folder must be placed here (and in ARCHITECTURE.md) before it is used.
 */
export const LAYERS: Readonly<Record<string, LayerRule>> = {
  core: { imports: [] },
  storage: { imports: ["core"] },
  api: { imports: ["core"] },
  database: { imports: ["core", "storage", "api"] },
  compat: { imports: ["core", "api"] },
  server: { imports: ["core", "storage", "api", "compat"] },
  client: { imports: ["core", "api"] },
  embed: { imports: ["core", "api", "database", "quality"] },
  memory: { imports: ["core", "api", "embed"] },
  quality: { imports: ["core", "api"] },
  analyzers: { imports: ["core"], npm: true },
  eval: { imports: [] },
  node: { imports: ["core", "storage", "server"], node: true },
  browser: { imports: ["core", "storage"] },
  "embed/portable": { imports: ["core", "api", "embed"], npm: true },
  "embed/node": { imports: ["core", "api", "embed", "embed/portable"], node: true, npm: true },
  mcp: { imports: ["core", "api", "embed", "memory"], node: true, npm: true },
  cli: {
    imports: [".", "core", "api", "embed", "embed/node", "eval", "mcp", "node", "quality", "server", "cluster/serve"],
    node: true,
    npm: true,
  },
  cluster: { imports: ["core", "storage", "api", "database"] },
  "cluster/etcd": { imports: ["core", "cluster"], npm: true },
  "cluster/s3": { imports: ["core", "cluster"], npm: true },
  "cluster/serve": {
    imports: [
      ".",
      "core",
      "api",
      "storage",
      "database",
      "analyzers",
      "server",
      "node",
      "cluster",
      "cluster/etcd",
      "cluster/s3",
      "cluster/node",
    ],
    node: true,
  },
  "cluster/node": { imports: ["core", "cluster"], node: true },
  integrations: { imports: ["core", "api"] },
  "integrations/langchain": { imports: ["core", "api", "integrations"], npm: true },
  "integrations/llamaindex": { imports: ["core", "api", "integrations"], npm: true },
  ".": {
    imports: [
      "core",
      "storage",
      "api",
      "database",
      "embed",
      "embed/portable",
      "embed/node",
      "memory",
      "quality",
      "node",
      "browser",
      "analyzers",
    ],
  },
};

/** Folders whose files must not import each other in a cycle (each file a step of a clear order). */
export const ACYCLIC = ["database"];

export interface SourceFile {
  /** Path relative to src/, with forward slashes, e.g. "database/reads.ts". */
  path: string;
  text: string;
}

/** The layer a path (relative to src/) belongs to, or null when no rule places it. */
export function layerOf(path: string, layers = LAYERS): string | null {
  const dir = posix.dirname(path);
  if (dir === ".") return "." in layers ? "." : null;
  let best: string | null = null;
  for (const key of Object.keys(layers)) {
    if (key !== "." && (dir === key || dir.startsWith(`${key}/`)) && (best === null || key.length > best.length))
      best = key;
  }
  return best;
}

/**
 * The module specifiers a file imports: static `import ... from`, side-effect `import "x"`,
 * `export ... from`, and `import("x")` with a literal. Comments are removed first, so examples in
 * JSDoc are not taken for imports.
 */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[1]);
  return specs;
}

/** A relative specifier resolved to a path relative to src/ (".js" read as the ".ts" source). */
function resolve(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, ".ts");
}

/** Every import that breaks the rules, as "file: message" lines; empty when all hold. */
export function checkLayers(files: readonly SourceFile[], layers = LAYERS, acyclic = ACYCLIC): string[] {
  const problems: string[] = [];
  const edges = new Map<string, string[]>();
  for (const file of files) {
    const layer = layerOf(file.path, layers);
    if (layer === null) {
      problems.push(`${file.path}: its folder is not in the layer table (test/support/layers.ts)`);
      continue;
    }
    const rule = layers[layer];
    for (const spec of importsOf(file.text)) {
      if (spec.startsWith("node:")) {
        if (!rule.node) problems.push(`${file.path}: imports ${spec}, but ${layer} may not import node:*`);
        continue;
      }
      if (!spec.startsWith(".")) {
        if (!rule.npm) problems.push(`${file.path}: imports the package ${spec}, but ${layer} may not import npm`);
        continue;
      }
      const target = resolve(file.path, spec);
      if (target.startsWith("../")) {
        problems.push(`${file.path}: imports ${spec}, outside src/`);
        continue;
      }
      const to = layerOf(target, layers);
      if (to === null) problems.push(`${file.path}: imports ${spec}, in a folder not in the layer table`);
      else if (to !== layer && !rule.imports.includes(to))
        problems.push(`${file.path}: imports ${spec}, but ${layer} may not import ${to}`);
      if (to === layer && acyclic.includes(layer)) edges.set(file.path, [...(edges.get(file.path) ?? []), target]);
    }
  }
  for (const cycle of cyclesOf(edges)) problems.push(`${cycle[0]}: import cycle ${cycle.join(" -> ")}`);
  return problems;
}

/** One cycle per strongly connected group of files (depth-first, reported from its first file). */
function cyclesOf(edges: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (node: string): void => {
    const at = onPath.indexOf(node);
    if (at >= 0) {
      cycles.push([...onPath.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    onPath.push(node);
    for (const next of edges.get(node) ?? []) visit(next);
    onPath.pop();
    done.add(node);
  };
  for (const node of [...edges.keys()].sort()) visit(node);
  return cycles;
}
