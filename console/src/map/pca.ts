/**
 * The first two principal components of row vectors by power iteration on the centred data
 * (v <- Xᵀ(X v), then deflation): O(iterations · n · dim), with no dim × dim covariance, so it stays
 * cheap for wide vectors. Coordinates are scaled into [-1, 1], the scatterplot's space.
 */
const ITERATIONS = 24;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function pca2(vectors: Float32Array, n: number, dim: number): Float32Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += vectors[i * dim + j] / n;
  const random = seeded(42);
  const components: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: dim }, () => random() - 0.5);
    for (let it = 0; it < ITERATIONS; it++) {
      const next = new Float64Array(dim);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < dim; j++) s += (vectors[i * dim + j] - mean[j]) * v[j];
        for (let j = 0; j < dim; j++) next[j] += s * (vectors[i * dim + j] - mean[j]);
      }
      // Deflation: remove the directions already found.
      for (const u of components) {
        let d = 0;
        for (let j = 0; j < dim; j++) d += next[j] * u[j];
        for (let j = 0; j < dim; j++) next[j] -= d * u[j];
      }
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += next[j] * next[j];
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      v = next.map((x) => x / norm);
    }
    components.push(v);
  }
  const out = new Float32Array(n * 2);
  for (let c = 0; c < 2; c++) {
    const u = components[c];
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (vectors[i * dim + j] - mean[j]) * u[j];
      out[i * 2 + c] = s;
    }
  }
  return fitToUnitSquare(out, n);
}

/** Scales 2-D points (x, y interleaved) into [-0.95, 0.95] on both axes, keeping their shape. */
export function fitToUnitSquare(points: Float32Array, n: number): Float32Array {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[i * 2];
    const y = points[i * 2 + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const half = Math.max(maxX - minX, maxY - minY) / 2 || 1;
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  for (let i = 0; i < n; i++) {
    points[i * 2] = ((points[i * 2] - cx) / half) * 0.95;
    points[i * 2 + 1] = ((points[i * 2 + 1] - cy) / half) * 0.95;
  }
  return points;
}
