/**
 * `quiver ingest <collection> <path...>`: text, Markdown and HTML files (folders recursively) split
 * into chunks, embedded, and stored batch by batch with their document id, position and source, with
 * a progress bar (chunks, documents, ETA) and a data-quality summary. Re-ingesting embeds and writes
 * only what changed, so a run stopped by Ctrl-C continues where it stopped. An id that another
 * file's document holds is refused before anything is written. What was skipped is summarised;
 * stored documents whose files are gone are listed, and deleted with --prune. Folders of images
 * (and no text files) make an image collection instead (ingest-images.ts).
 */
import { Command } from "commander";
import { isQuiverError, QuiverError, type Collection, type Filter } from "../../index.js";
import { isImageCollection } from "../../embed/node/image-ingest.js";
import { ingestImageFolders } from "./ingest-images.js";
import { deleteDocument, documentSchema, ingestDocuments } from "../../embed/documents.js";
import { scanDocuments, skippedSummary } from "../../embed/node/files.js";
import type { DocumentInput } from "../../embed/documents.js";
import { existsSync } from "node:fs";
import { relative, resolve, isAbsolute } from "node:path";
import { formatFindings } from "../../quality/analyze.js";
import { badOption, intOption, progressBar, type CliContext } from "../output.js";

interface IngestCliOptions {
  embedder: string;
  dim?: number;
  chunkSize: number;
  overlap: number;
  minSize?: number;
  duplicates: string;
  threshold?: string;
  include: string[];
  exclude: string[];
  prune?: boolean;
  json?: boolean;
  imageEmbedder: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * A document id already stored for another file would silently replace that file's document:
 * refused before anything is written.
 */
async function refuseForeignIds(coll: Collection, docs: DocumentInput[]): Promise<void> {
  const stored = await coll.get(docs.map((d) => `${d.id}#0`));
  const sourceOf = new Map(stored.map((r) => [String(r.payload?.documentId), r.payload?.source]));
  const problems = [];
  for (const d of docs) {
    const had = sourceOf.get(d.id);
    if (typeof had === "string" && d.source !== undefined && resolve(had) !== resolve(d.source))
      problems.push({
        path: d.source,
        message: `document id "${d.id}" already holds ${had} (ingest from the same root, or ingest both folders in one run so ids carry their root's name)`,
      });
  }
  if (problems.length > 0) throw QuiverError.fromProblems("DUPLICATE_ID", problems);
}

/**
 * Stored documents whose source lies under one of `roots` and no longer exists: files removed
 * since they were ingested (a file merely left out by --include/--exclude still exists). `filter`
 * picks one record per document (a document's first chunk; every record of an image collection).
 */
export async function documentsOfRemovedFiles(
  coll: Collection,
  roots: string[],
  filter: Filter | null = { chunk: 0 },
): Promise<{ id: string; source: string }[]> {
  const under = roots.map((r) => resolve(r));
  const gone: { id: string; source: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await coll.scroll({ cursor, limit: 1000, filter: filter ?? undefined });
    for (const r of page.records) {
      const source = r.payload?.source;
      if (typeof source !== "string") continue;
      const path = resolve(source);
      const inRoot = under.some((root) => {
        const rel = relative(root, path);
        return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
      });
      if (inRoot && !existsSync(path)) gone.push({ id: String(r.payload?.documentId), source });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return gone;
}

export function ingestCommand(ctx: CliContext): Command {
  return new Command("ingest")
    .description(
      "split text, Markdown and HTML files (folders recursively) into chunks, embed and store them; re-ingesting a file replaces it",
    )
    .argument("<collection>", "collection to ingest into (created when missing)")
    .argument("<paths...>", "files or folders")
    .option(
      "--embedder <name>",
      "embedder for a new collection: local (offline model), openai or ollama (configured by environment variables)",
      "local",
    )
    .option("--dim <n>", "dimension of a new collection's vector (default: the embedder's)", intOption(1))
    .option("--chunk-size <n>", "characters per chunk", intOption(50), 1000)
    .option("--overlap <n>", "characters shared by consecutive chunks", intOption(0), 100)
    .option(
      "--min-size <n>",
      "shortest chunk in characters: a shorter section runs on into the next (default 200, at most a quarter of --chunk-size; 0 keeps every section apart)",
      intOption(0),
    )
    .option(
      "--duplicates <mode>",
      "chunks duplicating other documents: keep (report), skip, or reject (stop before writing one)",
      "keep",
    )
    .option("--threshold <cos>", "cosine similarity from which chunks are near-duplicates", "0.95")
    .option(
      "--include <glob>",
      "only files matching (repeatable; a glob without / matches the file name, ** any folders), e.g. '*.md'",
      collect,
      [],
    )
    .option("--exclude <glob>", "leave out matching files and folders (repeatable), e.g. 'docs/old/**'", collect, [])
    .option(
      "--image-embedder <name>",
      "for folders of images (JPEG, PNG): offline (MobileNetV2 from nsfwjs), clip (a local CLIP/SigLIP folder in QUIVER_CLIP_MODEL: text-to-image) or http (QUIVER_IMAGE_* variables)",
      "offline",
    )
    .option("--prune", "delete the stored documents whose files under the given paths are gone")
    .option("--json", "print the ingest report as JSON")
    .action(async (name: string, paths: string[], opts: IngestCliOptions, cmd: Command) => {
      if (!["keep", "skip", "reject"].includes(opts.duplicates))
        throw badOption("--duplicates", "must be keep, skip or reject");
      const threshold = Number(opts.threshold);
      if (!(threshold > 0 && threshold <= 1)) throw badOption("--threshold", "must be a number in (0, 1]");
      const { documents: docs, skipped } = await scanDocuments(paths, { include: opts.include, exclude: opts.exclude });
      // Paths with no text files but images make an image collection (docs/images.md).
      if (docs.length === 0) {
        const ingested = await ingestImageFolders(ctx, cmd, name, paths, opts);
        if (ingested) return;
      }
      process.stderr.write(`${docs.length} documents to ingest; ${skippedSummary(skipped)}\n`);
      if (docs.length === 0)
        throw new QuiverError("NOT_FOUND", `no .txt, .md or .html files under ${paths.join(", ")}`);
      await ctx.withDb(cmd, async (db, signal) => {
        let coll: Collection;
        try {
          coll = await db.collection(name);
          if (isImageCollection(coll.schema))
            throw badOption("<paths...>", `"${name}" is an image collection: give it folders of JPEG or PNG files`);
          await refuseForeignIds(coll, docs);
        } catch (e) {
          if (!isQuiverError(e, "NOT_FOUND")) throw e;
          const embedder = db.embedders.get(opts.embedder);
          if (!embedder)
            throw badOption(
              "--embedder",
              `unknown embedder "${opts.embedder}" (have ${db.embedders.names().join(", ")}); see docs/ai.md for QUIVER_OPENAI_* and QUIVER_OLLAMA_*`,
            );
          const dim = opts.dim ?? embedder.dim;
          if (dim === undefined)
            throw badOption("--dim", `embedder "${opts.embedder}" does not declare its dimension: pass --dim`);
          process.stderr.write(
            `creating collection "${name}" (vector "embedding": dim ${dim}, cosine, embedder ${opts.embedder})\n`,
          );
          coll = await db.createCollection(name, documentSchema(opts.embedder, dim));
        }
        const started = performance.now();
        let bar: ReturnType<typeof progressBar> | null = null;
        let shown = 0;
        const report = await ingestDocuments(db, coll, docs, {
          size: opts.chunkSize,
          overlap: opts.overlap,
          minSize: opts.minSize,
          duplicates: opts.duplicates as "keep" | "skip" | "reject",
          nearDuplicateThreshold: threshold,
          signal,
          onProgress: (done, total, docsDone, docsTotal) => {
            bar ??= progressBar(`ingesting into ${name} (chunks)`, total);
            bar.increment(done - shown, `${docsDone}/${docsTotal} documents`);
            shown = done;
          },
        }).finally(() => (bar as ReturnType<typeof progressBar> | null)?.stop());
        const gone = await documentsOfRemovedFiles(coll, paths);
        let pruned = 0;
        if (opts.prune) for (const d of gone) pruned += (await deleteDocument(coll, d.id)).deleted;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...report, removedFiles: gone, pruned }, null, 2)}\n`);
          return;
        }
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          `ingested ${report.documents} documents as ${report.chunks} chunks into "${name}" in ${seconds} s (${report.unchanged} unchanged, ${report.embedded} embedded, ${report.upserted} written, ${report.removed} stale removed, ${report.skipped.length} duplicates skipped)\n`,
        );
        if (gone.length > 0)
          process.stdout.write(
            opts.prune
              ? `pruned ${gone.length} documents whose files are gone (${pruned} chunks): ${gone.map((d) => d.source).join(", ")}\n`
              : `${gone.length} stored documents' files are gone (delete them with --prune): ${gone.map((d) => d.source).join(", ")}\n`,
          );
        process.stdout.write(`${formatFindings(report.quality, "quality")}\n`);
      });
    });
}
