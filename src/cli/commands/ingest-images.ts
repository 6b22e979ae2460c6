/**
 * `quiver ingest` of folders of images (JPEG, PNG): one record per image in an image collection
 * (created when missing), embedded by the chosen image embedder, with a progress bar; unchanged
 * files are skipped, so an interrupted run resumes; files gone are listed, and deleted with --prune.
 */
import type { Command } from "commander";
import { isQuiverError, type Collection } from "../../index.js";
import { imageEmbeddersFromEnv } from "../../embed/node/config.js";
import { listFiles, skippedSummary } from "../../embed/node/files.js";
import {
  imageSchema,
  ingestImages,
  isImageCollection,
  isImageFile,
  storedImageEmbedder,
} from "../../embed/node/image-ingest.js";
import type { ImageEmbedder } from "../../embed/image.js";
import { badOption, progressBar, type CliContext } from "../output.js";
import { documentsOfRemovedFiles } from "./ingest.js";

export interface ImageIngestCliOptions {
  imageEmbedder: string;
  include: string[];
  exclude: string[];
  prune?: boolean;
  json?: boolean;
}

/** The configured image embedder of that name, or an INVALID_ARGUMENT naming the ones there are. */
export function imageEmbedderNamed(name: string, option = "--image-embedder"): ImageEmbedder {
  const all = imageEmbeddersFromEnv();
  const e = all[name];
  if (!e) throw badOption(option, `unknown image embedder "${name}" (have ${Object.keys(all).join(", ")})`);
  return e;
}

/** Ingests the images under `paths`; false (nothing done) when they hold no image files. */
export async function ingestImageFolders(
  ctx: CliContext,
  cmd: Command,
  name: string,
  paths: string[],
  opts: ImageIngestCliOptions,
): Promise<boolean> {
  const { files } = await listFiles(paths, { include: opts.include, exclude: opts.exclude, accept: isImageFile });
  if (files.length === 0) return false;
  const chosen = cmd.getOptionValueSource("imageEmbedder") === "cli";
  let embedder = imageEmbedderNamed(opts.imageEmbedder);
  await ctx.withDb(cmd, async (db, signal) => {
    let coll: Collection;
    try {
      coll = await db.collection(name);
      if (!isImageCollection(coll.schema))
        throw badOption("<paths...>", `"${name}" is a collection of texts, not images: ingest the images into another`);
    } catch (e) {
      if (!isQuiverError(e, "NOT_FOUND")) throw e;
      if (embedder.dim === undefined)
        throw badOption(
          "--image-embedder",
          `"${opts.imageEmbedder}" does not declare its dimension: set QUIVER_IMAGE_DIM`,
        );
      process.stderr.write(
        `creating image collection "${name}" (vector "image": dim ${embedder.dim}, cosine, ${embedder.id})\n`,
      );
      coll = await db.createCollection(name, imageSchema(embedder.dim));
    }
    // A collection keeps the model it was made with unless --image-embedder says otherwise (then refused).
    const stored = await storedImageEmbedder(coll);
    if (stored !== null && !chosen) embedder = embedderWithId(stored);
    const started = performance.now();
    let bar: ReturnType<typeof progressBar> | null = null;
    let shown = 0;
    const report = await ingestImages(coll, paths, {
      embedder,
      include: opts.include,
      exclude: opts.exclude,
      signal,
      onProgress: (done, total) => {
        bar ??= progressBar(`ingesting images into ${name}`, total);
        bar.increment(done - shown);
        shown = done;
      },
    }).finally(() => (bar as ReturnType<typeof progressBar> | null)?.stop());
    const gone = await documentsOfRemovedFiles(coll, paths, null);
    if (opts.prune && gone.length > 0) await coll.delete(gone.map((d) => d.id));
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ ...report, removedFiles: gone, pruned: opts.prune ? gone.length : 0 }, null, 2)}\n`,
      );
      return;
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `ingested ${report.images} images into "${name}" in ${seconds} s (${report.unchanged} unchanged, ${report.embedded} embedded, ${report.unreadable.length} unreadable); ${skippedSummary(report.skipped)}\n`,
    );
    for (const u of report.unreadable) process.stdout.write(`  unreadable: ${u.path}: ${u.reason}\n`);
    if (gone.length > 0)
      process.stdout.write(
        opts.prune
          ? `pruned ${gone.length} images whose files are gone: ${gone.map((d) => d.source).join(", ")}\n`
          : `${gone.length} stored images' files are gone (delete them with --prune): ${gone.map((d) => d.source).join(", ")}\n`,
      );
  });
  return true;
}

/** The configured embedder whose id a collection's vectors were made with (a collection keeps its model). */
export function embedderWithId(id: string): ImageEmbedder {
  const match = Object.values(imageEmbeddersFromEnv()).find((e) => e.id === id);
  if (!match)
    throw badOption(
      "--image-embedder",
      `this collection's vectors come from ${id}, which is not configured here (see docs/images.md)`,
    );
  return match;
}
