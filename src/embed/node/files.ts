/**
 * Reads files for ingestion: text (.txt), Markdown (.md, .markdown, .mdx) and HTML (.html, .htm),
 * and folders recursively (hidden entries and node_modules skipped), as DocumentInput with the
 * path relative to where it was found as both id and source, so re-ingesting replaces.
 */
import type { Stats } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join, relative, sep } from "node:path";
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

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && ingestible(p)) out.push(p);
  }
}

/** The files a list of paths names: files as given (any extension is read as text), folders walked. */
export async function listFiles(paths: string[]): Promise<{ file: string; root: string }[]> {
  const out: { file: string; root: string }[] = [];
  for (const p of paths) {
    let s: Stats;
    try {
      s = await stat(p);
    } catch {
      throw new QuiverError("NOT_FOUND", `no such file or folder: ${p}`);
    }
    if (s.isDirectory()) {
      const files: string[] = [];
      await walk(p, files);
      for (const f of files) out.push({ file: f, root: p });
    } else out.push({ file: p, root: "" });
  }
  return out;
}

/** Reads files as documents. Ids are paths relative to the folder given (the file name for a file). */
export async function readDocuments(paths: string[], metadata?: Record<string, unknown>): Promise<DocumentInput[]> {
  const files = await listFiles(paths);
  const docs: DocumentInput[] = [];
  for (const { file, root } of files) {
    const text = await readFile(file, "utf8");
    const id = (root ? relative(root, file) : basename(file)).split(sep).join("/");
    docs.push({
      id,
      text,
      format: FORMATS[extname(file).toLowerCase()] ?? "text",
      source: file.split(sep).join("/"),
      metadata,
    });
  }
  return docs;
}
