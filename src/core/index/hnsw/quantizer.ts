// Trains the int8 scalar quantizer of an HNSW index: one (offset, scale) pair for all components,
// from clipped quantiles of a sample of the stored vectors, so that outliers do not waste code range.

/** Components farther out than these quantiles are clipped to ±127. */
const CLIP = 0.001;
const MAX_SAMPLE_VALUES = 200_000;

export interface Int8Params {
  offset: number;
  scale: number;
}

/**
 * Fits x ≈ offset + scale·c, c ∈ [-127, 127], to a sample of the vectors of `slots`; `row(slot)` gives
 * a slot's f32 vector (a view of the slab's memory, or a copy read from its row file).
 */
export function trainInt8(row: (slot: number) => Float32Array, dim: number, slots: ArrayLike<number>): Int8Params {
  const rows = Math.max(1, Math.min(slots.length, Math.floor(MAX_SAMPLE_VALUES / dim)));
  const step = slots.length / rows;
  const values = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) values.set(row(slots[Math.floor(r * step)]), r * dim);
  values.sort();
  const lo = values[Math.floor(CLIP * (values.length - 1))];
  const hi = values[Math.ceil((1 - CLIP) * (values.length - 1))];
  const offset = (lo + hi) / 2;
  const scale = hi > lo ? (hi - lo) / 254 : 1;
  return { offset, scale };
}
