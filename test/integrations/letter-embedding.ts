/**
 * A deterministic LlamaIndex embedding for the tests: offline, and similar spellings land near
 * each other, so a query's nearest node is predictable.
 */
import { BaseEmbedding } from "@llamaindex/core/embeddings";

/** Letter counts (a to z) plus a constant: similar spellings are near, and no text embeds to zero. */
export class LetterEmbedding extends BaseEmbedding {
  // biome-ignore lint/complexity/noUselessConstructor: BaseEmbedding's constructor is protected; this one makes the class constructible
  constructor() {
    super();
  }

  async getTextEmbedding(text: string): Promise<number[]> {
    const v = new Array<number>(27).fill(0);
    v[26] = 1;
    for (const ch of text.toLowerCase()) {
      const i = ch.charCodeAt(0) - 97;
      if (i >= 0 && i < 26) v[i] += 1;
    }
    return v;
  }
}
