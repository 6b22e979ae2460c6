/**
 * `quiver query` on an image collection: `--image photo.jpg` finds the stored images nearest to a
 * file (image-to-image, any image embedder), `--text "a red circle"` the images nearest to words
 * (text-to-image, only when the collection's embedder has a text side). The query is embedded by the
 * embedder the collection's vectors were made with; hits carry `documentId`, the image's path under
 * its ingested folder.
 */
import { readFile } from "node:fs/promises";
import type { Collection, Filter } from "../../index.js";
import { QuiverError } from "../../index.js";
import { storedImageEmbedder } from "../../embed/node/image-ingest.js";
import { imageEmbeddingFailed } from "../../embed/image.js";
import { clip, prettyJson, table } from "../output.js";
import { embedderWithId } from "./ingest-images.js";

export interface ImageHit {
  id: string;
  score: number;
  documentId?: string;
  fileName?: string;
  width?: number;
  height?: number;
  bytes?: number;
}

export async function queryImages(
  coll: Collection,
  query: { image?: string; text?: string },
  opts: { limit: number; filter?: Filter; json?: boolean },
): Promise<void> {
  const id = await storedImageEmbedder(coll);
  if (id === null) throw new QuiverError("NOT_FOUND", `image collection "${coll.name}" holds no images yet`);
  const embedder = embedderWithId(id);
  let vector: Float32Array;
  if (query.image !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(query.image));
    } catch {
      throw new QuiverError("NOT_FOUND", `no such file: ${query.image}`);
    }
    [vector] = await embedder.embedImages([bytes]).catch((e: unknown) => {
      throw imageEmbeddingFailed(e, id);
    });
  } else {
    if (!embedder.embedTexts)
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path: "--text",
          message: `${id} embeds images only (image-to-image): query with --image, or ingest with a text-image embedder (docs/images.md)`,
        },
      ]);
    [vector] = await embedder.embedTexts([query.text ?? ""]).catch((e: unknown) => {
      throw imageEmbeddingFailed(e, id);
    });
  }
  const started = performance.now();
  const { hits } = await coll.query({ vector: { image: vector }, limit: opts.limit, filter: opts.filter });
  const ms = performance.now() - started;
  const rows: ImageHit[] = hits.map((h) => {
    const p = h.payload ?? {};
    return {
      id: h.id,
      score: h.score,
      documentId: p.documentId as string | undefined,
      fileName: p.fileName as string | undefined,
      width: p.width as number | undefined,
      height: p.height as number | undefined,
      bytes: p.bytes as number | undefined,
    };
  });
  if (opts.json) {
    process.stdout.write(
      `${prettyJson({ mode: query.image !== undefined ? "image" : "text", embedder: id, hits: rows, ms: Number(ms.toFixed(3)) })}\n`,
    );
    return;
  }
  if (rows.length === 0) process.stdout.write("(no hits)\n");
  else
    process.stdout.write(
      table(
        ["#", "image", "score", "size"],
        rows.map((r, i) => [
          String(i + 1),
          clip(r.documentId ?? r.id, 60),
          r.score.toFixed(4),
          `${r.width} x ${r.height}`,
        ]),
      ),
    );
  process.stdout.write(`\n${query.image !== undefined ? "image" : "text"} search with ${id}; ${ms.toFixed(2)} ms\n`);
}
