// The Worker that owns the database: Quiver kept in OPFS, notes embedded by hashing their words (a
// stand-in for a real embedding model, so the example runs offline with nothing to download) and
// searched by hybrid queries: BM25 on the text, HNSW on the vectors.
import { open } from "quiverdb";

const DIM = 64;

/** Feature hashing: each word adds to one of DIM buckets; good enough to find notes sharing words. */
function embed(text) {
  const v = new Array(DIM).fill(0);
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    let h = 2166136261;
    for (const ch of word) h = Math.imul(h ^ ch.codePointAt(0), 16777619);
    v[(h >>> 0) % DIM] += 1;
  }
  v[0] += 1e-3; // never the zero vector, which cosine cannot compare
  return v;
}

let notes;
const ops = {
  async open() {
    const db = await open("offline-notes");
    notes = await db.createCollection(
      "notes",
      {
        vectors: { v: { dim: DIM, metric: "cosine", index: { type: "hnsw" } } },
        text: { text: { analyzer: "english" } },
      },
      { ifNotExists: true },
    );
    return notes.count();
  },
  async add(text) {
    await notes.upsert([{ id: crypto.randomUUID(), vector: embed(text), payload: { text } }]);
    return notes.count();
  },
  async search(query) {
    const { hits } = await notes.query({ vector: embed(query), text: query, limit: 10 });
    return hits.map((h) => ({ text: h.payload.text, score: h.score }));
  },
};

self.onmessage = async (e) => {
  const { call, op, arg } = e.data;
  try {
    postMessage({ call, result: await ops[op](arg) });
  } catch (err) {
    postMessage({ call, error: String(err) });
  }
};
