/**
 * A console test server: the HTTP server on loopback with the built console, the demo's 20,000-record
 * `sample` collection (the data `npm start` loads), a small `articles` collection with a text field
 * (for text and hybrid queries), a `photos` image collection ingested from generated pictures as
 * `quiver ingest` does (thumbnails in the payloads) and a read-only key.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { drawScene, SCENE_CLASSES } from "../../bench/image-scenes.js";
import { l2Normalize, resizeRgba } from "../../src/embed/image.js";
import { encodePng, toRgba } from "../../src/embed/node/image-codec.js";
import { imageSchema, ingestImages } from "../../src/embed/node/image-ingest.js";
import { loadConsoleAssets } from "../../src/node/console-assets.js";
import { generateSample, SAMPLE_SCHEMA } from "../../src/cli/commands/demo.js";
import type { Database } from "../../src/index.js";
import { startTestServer, type TestServer } from "../server/helpers.js";

export interface ConsoleServer extends TestServer {
  readKey: string;
}

const TOPICS = ["quantum physics", "jazz history", "bread baking", "mountain hiking"];
const WORDS: Record<string, string[]> = {
  "quantum physics": ["entanglement", "qubit", "photon", "superposition"],
  "jazz history": ["saxophone", "bebop", "swing", "improvisation"],
  "bread baking": ["sourdough", "yeast", "oven", "crust"],
  "mountain hiking": ["trail", "summit", "boots", "ridge"],
};

/** The demo sample under `sample` (its own generator, so the console sees what `npm start` shows). */
export async function loadSample(db: Database, count?: number): Promise<void> {
  const s = generateSample(count);
  const coll = await db.createCollection("sample", SAMPLE_SCHEMA);
  for (let start = 0; start < s.ids.length; start += 2000) {
    const batch = [];
    for (let i = start; i < Math.min(s.ids.length, start + 2000); i++)
      batch.push({ id: s.ids[i], vector: s.vectors[i], payload: { ...s.payloads[i] } });
    await coll.upsert(batch);
  }
}

async function loadArticles(db: Database): Promise<void> {
  const coll = await db.createCollection("articles", {
    vectors: { embedding: { dim: 4, metric: "cosine" } },
    indexes: { category: "keyword" },
    text: { body: {} },
  });
  const records = [];
  for (let i = 0; i < 80; i++) {
    const t = i % TOPICS.length;
    const words = WORDS[TOPICS[t]];
    const vector = [0.1, 0.1, 0.1, 0.1];
    vector[t] = 1 + (i % 7) / 10;
    records.push({
      id: `art-${i}`,
      vector,
      // Words vary within a topic: article i of topic t has words j and j + 1 (j = i / 4 mod 4).
      payload: {
        category: TOPICS[t],
        body: `${TOPICS[t]}: ${words[Math.floor(i / 4) % 4]} and ${words[(Math.floor(i / 4) + 1) % 4]} (${i})`,
      },
    });
  }
  await coll.upsert(records);
}

/** Pictures per class in `photos`. */
export const PHOTOS_PER_CLASS = 4;

/**
 * `photos`: PHOTOS_PER_CLASS drawn scenes of each class, ingested by ingestImages (the path of
 * `quiver ingest`) with a stand-in embedder (each picture's 4 x 4 colour grid; no model needed).
 */
async function loadPhotos(db: Database): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "quiver-console-photos-"));
  try {
    for (const [c, cls] of SCENE_CLASSES.entries())
      for (let i = 0; i < PHOTOS_PER_CLASS; i++)
        writeFileSync(join(dir, `${cls.name}-${i}.png`), encodePng(drawScene(cls, c * 10 + i, 96)));
    const grid = {
      id: "test:grid4",
      dim: 48,
      embedImages: (images: Parameters<typeof toRgba>[0][]) =>
        Promise.all(
          images.map(async (im) => {
            const px = resizeRgba(await toRgba(im), 4, 4).data;
            return l2Normalize(
              Float32Array.from({ length: 48 }, (_, i) => px[Math.floor(i / 3) * 4 + (i % 3)] / 255 - 0.4),
            );
          }),
        ),
    };
    await ingestImages(await db.createCollection("photos", imageSchema(48)), [dir], { embedder: grid });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startConsoleServer(): Promise<ConsoleServer> {
  const assets = loadConsoleAssets();
  if (!assets) throw new Error("dist/console is missing: npm run build (it runs build:console)");
  const server = await startTestServer({ console: assets });
  try {
    await loadSample(server.db);
    await loadArticles(server.db);
    await loadPhotos(server.db);
    const { key } = await server.server.keys.create({ name: "reader", scope: "read", prefix: "" });
    return { ...server, readKey: key };
  } catch (e) {
    await server.close();
    throw e;
  }
}
