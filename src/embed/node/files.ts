/**
 * Reads files for ingestion: text (.txt), Markdown (.md, .markdown, .mdx) and HTML (.html, .htm),
 * folders recursively, as DocumentInput whose id is the path under the root given (prefixed with
 * the root's name when several roots are given, so ids stay unique), with every skipped file and
 * its reason reported. Two files that would share an id are an error before anything is read.
 */
import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import { QuiverError } from "../../core/errors/errors.js";
import type { DocumentInput } from "../documents.js";

const FORMATS: Record<string, DocumentInput["format"]> = {
  ".txt": "text",
  ".text": "text",
  ".md": "markdown",
  ".markdown": "markdown",
  ".mdx": "markdown",
  ".html": "html",
  ".htm": "html",
};

/** Whether a file has an extension ingest reads. */
export function ingestible(path: string): boolean {
  return FORMATS[extname(path).toLowerCase()] !== undefined;
}

export interface ScanOptions {
  /** Globs a file (its path under its root, `/`-separated) must match one of; a glob without `/` matches the file name. */
  include?: string[];
  /** Globs of files and folders to leave out (same matching). */
  exclude?: string[];
  /** Extra payload fields for every document. */
  metadata?: Record<string, unknown>;
  /** Which files a folder walk takes (default: the text formats ingest reads). */
  accept?: (path: string) => boolean;
}

export interface SkippedFile {
  path: string;
  reason: string;
}

/** `*` any characters but `/`, `**` any path, `?` one character; the rest literal. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function matcher(globs: string[] | undefined): ((rel: string) => boolean) | null {
  if (!globs || globs.length === 0) return null;
  const res = globs.map((g) => ({ re: globToRegExp(g), name: !g.includes("/") }));
  return (rel) => res.some(({ re, name }) => re.test(name ? (rel.split("/").pop() ?? rel) : rel));
}

interface Found {
  file: string;
  /** The id: the path under its root, `/`-separated, with the root's name first when several roots are given. */
  id: string;
}

async function walk(
  dir: string,
  rel: string,
  prefix: string,
  sel: {
    include: ((r: string) => boolean) | null;
    exclude: ((r: string) => boolean) | null;
    accept: (path: string) => boolean;
  },
  out: Found[],
  skipped: SkippedFile[],
): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const p = join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.name === "node_modules") skipped.push({ path: p, reason: "node_modules" });
    else if (e.name.startsWith(".")) skipped.push({ path: p, reason: "hidden (dot) entry" });
    else if (sel.exclude?.(r)) skipped.push({ path: p, reason: "matches --exclude" });
    else if (e.isDirectory()) await walk(p, r, prefix, sel, out, skipped);
    else if (!e.isFile()) skipped.push({ path: p, reason: "not a regular file" });
    else if (!sel.accept(p)) skipped.push({ path: p, reason: `unsupported type (${extname(p) || "no extension"})` });
    else if (sel.include && !sel.include(r)) skipped.push({ path: p, reason: "does not match --include" });
    else out.push({ file: p, id: prefix + r });
  }
}

/**
 * The files a list of paths names, with their document ids: folders walked (node_modules, hidden
 * entries, unsupported extensions and --include/--exclude misses skipped, with reasons), files
 * taken as given (read as text whatever their extension). A shared id is DUPLICATE_ID.
 */
export async function listFiles(
  paths: string[],
  opts: ScanOptions = {},
): Promise<{ files: Found[]; skipped: SkippedFile[] }> {
  const files: Found[] = [];
  const skipped: SkippedFile[] = [];
  const sel = { include: matcher(opts.include), exclude: matcher(opts.exclude), accept: opts.accept ?? ingestible };
  for (const p of paths) {
    let s: Stats;
    try {
      s = await stat(p);
    } catch {
      throw new QuiverError("NOT_FOUND", `no such file or folder: ${p}`);
    }
    const dir = s.isDirectory();
    // With several roots, ids start with the root's name (a file's: its folder's) so that two
    // README.md from two folders stay two documents.
    const rootName = basename(resolve(dir ? p : dirname(p)));
    const prefix = paths.length > 1 ? `${rootName}/` : "";
    if (dir) await walk(p, "", prefix, sel, files, skipped);
    else files.push({ file: p, id: prefix + basename(p) });
  }
  const byId = new Map<string, string>();
  const clashes = [];
  for (const f of files) {
    const other = byId.get(f.id);
    if (other !== undefined && resolve(other) !== resolve(f.file))
      clashes.push({ path: f.file, message: `would have the same document id "${f.id}" as ${other}` });
    byId.set(f.id, f.file);
  }
  if (clashes.length > 0) throw QuiverError.fromProblems("DUPLICATE_ID", clashes);
  // The same file named twice (a folder and a file in it) is read once.
  const seen = new Set<string>();
  return { files: files.filter((f) => !seen.has(f.id) && seen.add(f.id)), skipped };
}

/** Reads the files paths name as documents (ids as listFiles gives them), with what was skipped and why. */
export async function scanDocuments(
  paths: string[],
  opts: ScanOptions = {},
): Promise<{ documents: DocumentInput[]; skipped: SkippedFile[] }> {
  const { files, skipped } = await listFiles(paths, opts);
  const documents: DocumentInput[] = [];
  for (const { file, id } of files) {
    const bytes = await readFile(file);
    // A NUL byte in the first 8 KiB: binary (or UTF-16) content that would ingest as noise.
    if (bytes.subarray(0, 8192).includes(0)) {
      skipped.push({ path: file, reason: "binary content" });
      continue;
    }
    documents.push({
      id,
      text: bytes.toString("utf8"),
      format: FORMATS[extname(file).toLowerCase()] ?? "text",
      source: file.split(sep).join("/"),
      metadata: opts.metadata,
    });
  }
  return { documents, skipped };
}

/** Reads files as documents: scanDocuments without the list of skipped files. */
export async function readDocuments(paths: string[], metadata?: Record<string, unknown>): Promise<DocumentInput[]> {
  return (await scanDocuments(paths, { metadata })).documents;
}

/** What was skipped, counted by reason, e.g. "skipped 55 files: 40 node_modules, 15 hidden (dot) entry". */
export function skippedSummary(skipped: SkippedFile[]): string {
  if (skipped.length === 0) return "skipped nothing";
  const byReason = new Map<string, number>();
  for (const s of skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const parts = [...byReason].sort((a, b) => b[1] - a[1]).map(([r, n]) => `${n} ${r}`);
  return `skipped ${skipped.length} ${skipped.length === 1 ? "entry" : "entries"}: ${parts.join(", ")}`;
}
